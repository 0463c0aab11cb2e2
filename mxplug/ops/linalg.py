"""Matrix products: inference and gradients.

Every gradient here is again a product of the same operator (`product_grads`), so higher orders work and
the backward pass runs on BLAS like the forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod

import numpy as np

from ..base import DTypeError, ShapeError
from . import gradient, infer
from ._util import same_dtype, spec

# dtype objects, not names: `dtype.name` costs microseconds on the hot path of a small dot.
_DOT_DTYPES = (np.dtype("float16"), np.dtype("float32"), np.dtype("float64"))
_LINALG_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def _float_dtype(op: str, allowed: tuple[np.dtype, ...], *specs) -> np.dtype:
    dt = same_dtype(op, *specs)
    if dt not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise DTypeError(f"operator '{op}' supports {names} only, got {dt.name}")
    return dt


def _flags(attrs: dict) -> str:
    on = [name for name in ("transpose_a", "transpose_b") if attrs[name]]
    return f" ({', '.join(f'{n}=True' for n in on)})" if on else ""


def _mismatch(op: str, attrs: dict, lhs, rhs, k1: int, k2: int, names=("lhs", "rhs")) -> ShapeError:
    return ShapeError(
        f"operator '{op}': {names[0]} {tuple(lhs)} and {names[1]} {tuple(rhs)} do not match on the contracted "
        f"axis ({k1} vs {k2}){_flags(attrs)}"
    )


# -- dot ------------------------------------------------------------------------------------------------------
def dot_split(attrs: dict, lhs: tuple[int, ...], rhs: tuple[int, ...]):
    """MXNet's dot as one matrix product: ((lhs kept axes, k), (k, rhs kept axes)), checked.

    lhs contracts its last axis (first with transpose_a), rhs its first (last with transpose_b); a 1-D
    operand keeps no axes and ignores its transpose flag (two 1-D operands admit none).
    """
    if not lhs or not rhs:
        raise ShapeError(f"operator 'dot': inputs must have at least one dimension, got {lhs} and {rhs}")
    if len(lhs) == 1 and len(rhs) == 1 and (attrs["transpose_a"] or attrs["transpose_b"]):
        raise ShapeError(f"operator 'dot': cannot transpose 1-D inputs {lhs} and {rhs}{_flags(attrs)}")
    if len(lhs) == 1:
        lk, lkeep = lhs[0], ()
    elif attrs["transpose_a"]:
        lk, lkeep = lhs[0], lhs[1:]
    else:
        lk, lkeep = lhs[-1], lhs[:-1]
    if len(rhs) == 1:
        rk, rkeep = rhs[0], ()
    elif attrs["transpose_b"]:
        rk, rkeep = rhs[-1], rhs[:-1]
    else:
        rk, rkeep = rhs[0], rhs[1:]
    if lk != rk:
        raise _mismatch("dot", attrs, lhs, rhs, lk, rk)
    return tuple(lkeep), tuple(rkeep), lk


@infer("dot")
def _dot(attrs, lhs, rhs):
    dt = _float_dtype("dot", _DOT_DTYPES, lhs, rhs)
    lkeep, rkeep, _ = dot_split(attrs, lhs.shape, rhs.shape)
    return spec(lkeep + rkeep or (1,), dt)


# -- batch_dot ------------------------------------------------------------------------------------------------
def _matrix_dims(shape: tuple[int, ...], transposed: bool) -> tuple[int, int]:  # noqa: FBT001
    return (shape[-1], shape[-2]) if transposed else (shape[-2], shape[-1])


@infer("batch_dot")
def _batch_dot(attrs, lhs, rhs):
    dt = _float_dtype("batch_dot", _DOT_DTYPES, lhs, rhs)
    a, b = lhs.shape, rhs.shape
    if len(a) < 3 or len(a) != len(b):
        raise ShapeError(f"operator 'batch_dot': lhs {a} and rhs {b} must both be N-D with the same N >= 3")
    if a[:-2] != b[:-2]:
        raise ShapeError(f"operator 'batch_dot': lhs {a} and rhs {b} differ in their batch axes {a[:-2]} vs {b[:-2]}")
    m, k = _matrix_dims(a, attrs["transpose_a"])
    k2, n = _matrix_dims(b, attrs["transpose_b"])
    if k != k2:
        raise _mismatch("batch_dot", attrs, a, b, k, k2)
    return spec(a[:-2] + (m, n), dt)


# -- linalg_gemm2 / linalg_gemm -------------------------------------------------------------------------------
def gemm_shape(op: str, attrs: dict, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The result's shape: A's, with op(A)'s rows at `axis` and op(B)'s columns last."""
    nd = len(a)
    if nd < 2 or len(b) != nd:
        raise ShapeError(f"operator '{op}': A {a} and B {b} must have the same number of dimensions, at least 2")
    axis = attrs["axis"] + nd if attrs["axis"] < 0 else attrs["axis"]
    if not 0 <= axis < nd - 1:
        raise ShapeError(
            f"operator '{op}': axis={attrs['axis']} must be a row axis before the last axis of {nd}-D inputs"
        )
    batch = [i for i in range(nd - 1) if i != axis]
    if any(a[i] != b[i] for i in batch):
        raise ShapeError(f"operator '{op}': A {a} and B {b} must agree on every axis but the row/column axes")
    rows_a, cols_a = (a[-1], a[axis]) if attrs["transpose_a"] else (a[axis], a[-1])
    rows_b, cols_b = (b[-1], b[axis]) if attrs["transpose_b"] else (b[axis], b[-1])
    if cols_a != rows_b:
        raise _mismatch(op, attrs, a, b, cols_a, rows_b, names=("A", "B"))
    out = list(a)
    out[axis], out[-1] = rows_a, cols_b
    return tuple(out)


@infer("linalg_gemm2")
def _gemm2(attrs, A, B):
    dt = _float_dtype("linalg_gemm2", _LINALG_DTYPES, A, B)
    return spec(gemm_shape("linalg_gemm2", attrs, A.shape, B.shape), dt)


@infer("linalg_gemm")
def _gemm(attrs, A, B, C):
    dt = _float_dtype("linalg_gemm", _LINALG_DTYPES, A, B, C)
    shape = gemm_shape("linalg_gemm", attrs, A.shape, B.shape)
    if C.shape != shape:
        raise ShapeError(f"operator 'linalg_gemm': C {C.shape} must have the shape of op(A) @ op(B), {shape}")
    return spec(shape, dt)


# -- gradients ------------------------------------------------------------------------------------------------
MatMul = Callable[..., object]  # mm(x, y, transpose_x, transpose_y) -> op(x) @ op(y)


def product_grads(mm: MatMul, a, b, g, ta: bool, tb: bool):  # noqa: FBT001
    """(dL/da, dL/db) for out = op(a) @ op(b) given dL/dout = g, each as one more product by `mm`."""
    if not ta and not tb:  # out = a b
        return mm(g, b, False, True), mm(a, g, True, False)
    if ta and not tb:  # out = aᵀ b
        return mm(b, g, False, True), mm(a, g, False, False)
    if not ta and tb:  # out = a bᵀ
        return mm(g, b, False, False), mm(g, a, True, False)
    return mm(b, g, True, True), mm(g, a, True, True)  # out = aᵀ bᵀ


def _reshaped(x, shape):
    return x if tuple(x.shape) == tuple(shape) else x.reshape(shape)


@gradient("dot")
def _dot_grad(F, attrs, inputs, outputs, ograds):
    # Seen as one 2-D product (what MXNet computes): lhs → (rows, k) or (k, rows) when transposed, rhs →
    # (k, cols) or (cols, k); a 1-D operand is a single row (lhs) or column (rhs) and is never transposed.
    lhs, rhs = inputs
    lkeep, rkeep, k = dot_split(attrs, lhs.shape, rhs.shape)
    ta = attrs["transpose_a"] and lhs.ndim > 1
    tb = attrs["transpose_b"] and rhs.ndim > 1
    rows, cols = prod(lkeep), prod(rkeep)
    a2 = _reshaped(lhs, (k, rows) if ta else (rows, k))
    b2 = _reshaped(rhs, (cols, k) if tb else (k, cols))
    g2 = _reshaped(ograds[0], (rows, cols))

    def mm(x, y, tx, ty):
        return F.dot(x, y, transpose_a=tx, transpose_b=ty)

    da, db = product_grads(mm, a2, b2, g2, ta, tb)
    return [_reshaped(da, lhs.shape), _reshaped(db, rhs.shape)]


@gradient("batch_dot")
def _batch_dot_grad(F, attrs, inputs, outputs, ograds):
    def mm(x, y, tx, ty):
        return F.batch_dot(x, y, transpose_a=tx, transpose_b=ty)

    return list(product_grads(mm, *inputs, ograds[0], attrs["transpose_a"], attrs["transpose_b"]))


def _gemm_product(F, attrs: dict):
    def mm(x, y, tx, ty):
        return F.linalg_gemm2(x, y, transpose_a=tx, transpose_b=ty, alpha=attrs["alpha"], axis=attrs["axis"])

    return mm


@gradient("linalg_gemm2")
def _gemm2_grad(F, attrs, inputs, outputs, ograds):
    a, b = inputs
    return list(product_grads(_gemm_product(F, attrs), a, b, ograds[0], attrs["transpose_a"], attrs["transpose_b"]))


@gradient("linalg_gemm")
def _gemm_grad(F, attrs, inputs, outputs, ograds):
    a, b, _ = inputs
    g = ograds[0]
    da, db = product_grads(_gemm_product(F, attrs), a, b, g, attrs["transpose_a"], attrs["transpose_b"])
    return [da, db, g * attrs["beta"]]
