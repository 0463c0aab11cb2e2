"""Elementwise operators from tables: one OpenCL C expression per operator, one template per class
(unary, binary with or without broadcasting, array ⊕ scalar, selection), compiled per dtype on first use.

Semantics follow the NumPy reference plugin (MXNet 1.9): every operator keeps the input dtype; integer math
runs in double (float without cl_khr_fp64) and is truncated back; integer power and hypot are rounded through
float32; comparisons and logical operators give 1/0 in the input dtype; integer division truncates toward
zero and gives 0 for a zero divisor (and never traps on INT_MIN / -1); mod takes the divisor's sign and gives
0 for a zero divisor; maximum/minimum propagate NaN.
"""

from __future__ import annotations

import math

import numpy as np

from mxplug.ops.elemwise import BINARY_FAMILIES

from ..codegen import broadcast_view, flat_kernel, map_flat, map_strided, whole
from ..runtime import CTYPES, CLArray
from . import host_ops
from .host_ops import HOST_MAX_ELEMENTS

# name: (float expression in x, integer expression in x or None = the float one through the compute type,
#        valid on 8-lane vectors)
UNARY: dict[str, tuple[str, str | None, bool]] = {
    "abs": ("fabs(x)", "(x < 0 ? -x : x)", True),
    "negative": ("-x", "-x", True),
    "sign": ("(x > 0) - (x < 0)", "(x > 0) - (x < 0)", False),  # NaN gives 0, as MXNet's sign
    "relu": ("(isnan(x) || x > 0) ? x : 0", "(x > 0 ? x : 0)", False),
    "logical_not": ("(x == 0)", "(x == 0)", False),
    "round": ("round(x)", "x", True),  # C's round: halves away from zero
    "rint": ("(x - floor(x) <= ceil(x) - x) ? floor(x) : ceil(x)", "x", False),  # MXNet: ties toward -inf
    "ceil": ("ceil(x)", "x", True),
    "floor": ("floor(x)", "x", True),
    "trunc": ("trunc(x)", "x", True),
    "fix": ("trunc(x)", "x", True),
    "square": ("x * x", None, True),
    "sqrt": ("sqrt(x)", None, True),
    "rsqrt": ("1 / sqrt(x)", None, True),
    "cbrt": ("cbrt(x)", None, True),
    "rcbrt": ("1 / cbrt(x)", None, True),
    "exp": ("exp(x)", None, True),
    "expm1": ("expm1(x)", None, True),
    "log": ("log(x)", None, True),
    "log10": ("log10(x)", None, True),
    "log2": ("log2(x)", None, True),
    "log1p": ("log1p(x)", None, True),
    "sin": ("sin(x)", None, True),
    "cos": ("cos(x)", None, True),
    "tan": ("tan(x)", None, True),
    "arcsin": ("asin(x)", None, True),
    "arccos": ("acos(x)", None, True),
    "arctan": ("atan(x)", None, True),
    "sinh": ("sinh(x)", None, True),
    "cosh": ("cosh(x)", None, True),
    "tanh": ("tanh(x)", None, True),
    "arcsinh": ("asinh(x)", None, True),
    "arccosh": ("acosh(x)", None, True),
    "arctanh": ("atanh(x)", None, True),
    "degrees": ("degrees(x)", None, True),
    "radians": ("radians(x)", None, True),
    "reciprocal": ("1 / x", None, True),
    "sigmoid": ("1 / (1 + exp(-x))", None, True),
    "softsign": ("x / (1 + fabs(x))", None, True),
    "erf": ("erf(x)", None, True),
    "erfinv": ("mx_erfinv(x)", None, False),  # a helper function (codegen._HELPERS): scalar loops only
    "gamma": ("tgamma(x)", None, False),
    "gammaln": ("lgamma(x)", None, False),
}

_PYMOD_F = "(b == 0 ? 0 : ((fmod(a, b) != 0 && ((fmod(a, b) < 0) != (b < 0))) ? fmod(a, b) + b : fmod(a, b)))"
_PYMOD_I = "((b == 0 || b == -1) ? 0 : ((a % b != 0 && ((a % b < 0) != (b < 0))) ? a % b + b : a % b))"

# base name: (float expression in a, b; integer expression or None = through float32 like MXNet's; vectorisable)
BINARY: dict[str, tuple[str, str | None, bool]] = {
    "add": ("a + b", "a + b", True),
    "sub": ("a - b", "a - b", True),
    "mul": ("a * b", "a * b", True),
    "div": ("a / b", "(b == 0 ? 0 : (b == -1 ? -a : a / b))", True),
    "mod": (_PYMOD_F, _PYMOD_I, False),
    "power": ("pow(a, b)", None, True),
    "maximum": ("(a > b || isnan(a)) ? a : b", "(a > b ? a : b)", False),
    "minimum": ("(a < b || isnan(a)) ? a : b", "(a < b ? a : b)", False),
    "hypot": ("hypot(a, b)", None, True),
    "equal": ("(a == b)", "(a == b)", False),
    "not_equal": ("(a != b)", "(a != b)", False),
    "greater": ("(a > b)", "(a > b)", False),
    "greater_equal": ("(a >= b)", "(a >= b)", False),
    "lesser": ("(a < b)", "(a < b)", False),
    "lesser_equal": ("(a <= b)", "(a <= b)", False),
    "logical_and": ("(a != 0 && b != 0)", "(a != 0 && b != 0)", False),
    "logical_or": ("(a != 0 || b != 0)", "(a != 0 || b != 0)", False),
    "logical_xor": ("((a != 0) != (b != 0))", "((a != 0) != (b != 0))", False),
}

BINARY_NAMES = BINARY_FAMILIES  # MXNet's operator names per binary family, from the core


def _is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def _form(dev, dtype: np.dtype, float_expr: str, int_expr: str | None, vec: bool, round_f32: bool = False):
    """(expression, compute C type, vectorisable) of a table entry for `dtype`."""
    if _is_float(dtype):
        return float_expr, dev.compute_type(dtype), vec
    if int_expr is not None:
        return int_expr, CTYPES[dtype.name], False
    expr = f"(float)({float_expr})" if round_f32 else float_expr  # MXNet's integer power/hypot go through float32
    return expr, dev.compute_type(dtype), False


def unary_kernel(name: str):
    float_expr, int_expr, vec = UNARY[name]

    prepared: dict = {}  # (device, dtype) -> FlatKernel

    def kernel(data: CLArray) -> CLArray:
        dev = data.device
        if dev.host_ops and data.size <= HOST_MAX_ELEMENTS:  # see host_ops: a launch costs more than the work
            out = host_ops.run(dev, name, (data,))
            if out is not None:
                return out
        dt = data.dtype
        k = prepared.get((dev, dt))
        if k is None:
            expr, w, v = _form(dev, dt, float_expr, int_expr, vec)
            k = prepared[(dev, dt)] = flat_kernel(dev, dt, [("x", dt, w)], expr, vec=v)
        return k(dev.alloc(data.shape, dt), data.buf)

    kernel.__name__ = name
    return kernel


def binary_kernel(base: str):
    float_expr, int_expr, vec = BINARY[base]
    round_f32 = base in ("power", "hypot")
    host_name = BINARY_NAMES[base][0]  # the broadcasting name: one NumPy body serves both forms

    prepared: dict = {}  # (device, dtype) -> FlatKernel

    def kernel(lhs: CLArray, rhs: CLArray) -> CLArray:
        dev = lhs.device
        if dev.host_ops and lhs.size <= HOST_MAX_ELEMENTS and rhs.size <= HOST_MAX_ELEMENTS and (
                lhs.shape == rhs.shape or math.prod(np.broadcast_shapes(lhs.shape, rhs.shape)) <= HOST_MAX_ELEMENTS):
            out = host_ops.run(dev, host_name, (lhs, rhs))
            if out is not None:
                return out
        dt = lhs.dtype
        if lhs.shape == rhs.shape:  # the hot path: contiguous, one index, a prepared launch
            k = prepared.get((dev, dt))
            if k is None:
                expr, w, v = _form(dev, dt, float_expr, int_expr, vec, round_f32)
                k = prepared[(dev, dt)] = flat_kernel(dev, dt, [("a", dt, w), ("b", dt, w)], expr, vec=v)
            return k(dev.alloc(lhs.shape, dt), lhs.buf, rhs.buf)
        expr, w, v = _form(dev, dt, float_expr, int_expr, vec, round_f32)
        shape = np.broadcast_shapes(lhs.shape, rhs.shape)  # raises ValueError → the core's ShapeError
        out = dev.alloc(shape, lhs.dtype)
        operands = [("a", broadcast_view(lhs, shape), w), ("b", broadcast_view(rhs, shape), w)]
        map_strided(dev, whole(out), shape, operands, expr)
        return out

    kernel.__name__ = base
    return kernel


def scalar_kernel(base: str, *, reflected: bool):
    float_expr, int_expr, vec = BINARY[base]
    round_f32 = base in ("power", "hypot")
    host_name = BINARY_NAMES[base][3 if reflected else 2]
    # The scalar is the variable of one side: `b` for data ⊕ s, `a` for s ⊕ data.
    data_var, scalar_var = ("b", "a") if reflected else ("a", "b")

    prepared: dict = {}  # (device, dtype) -> (FlatKernel, whether the scalar is an integer)

    def prepare(dev, dtype):
        expr, w, v = _form(dev, dtype, float_expr, int_expr, vec, round_f32)
        integral = not _is_float(dtype)
        if integral and int_expr is not None:
            w = CTYPES[dtype.name]
        k = flat_kernel(dev, dtype, [(data_var, dtype, w)], _bind(expr, scalar_var, "s"), scalars=[("s", w)], vec=v)
        return k, integral

    def kernel(data: CLArray, *, scalar: float, is_int: bool = True) -> CLArray:
        dev = data.device
        if dev.host_ops and data.size <= HOST_MAX_ELEMENTS:
            out = host_ops.run(dev, host_name, (data,), scalar=scalar, is_int=is_int)
            if out is not None:
                return out
        dtype = data.dtype
        entry = prepared.get((dev, dtype))
        if entry is None:
            entry = prepared[(dev, dtype)] = prepare(dev, dtype)
        k, integral = entry
        if integral:
            if not is_int:  # MXNet: integer array ⊕ non-integer scalar computes (and answers) in float64
                from .init import cast

                return kernel(cast(data, dtype=np.dtype("float64")), scalar=scalar)
            with np.errstate(all="ignore"):
                scalar = int(np.float64(scalar).astype(dtype))  # C's cast: truncates and wraps
        elif dtype.itemsize == 2:
            scalar = float(np.float16(scalar))  # DType(scalar): a float16 array's scalar is rounded to half
        return k(dev.alloc(data.shape, dtype), data.buf, scalar)

    kernel.__name__ = f"{base}_scalar"
    return kernel


def _bind(expr: str, var: str, replacement: str) -> str:
    """Replace the single-letter variable `var` (a or b) by `replacement` in an expression."""
    import re

    return re.sub(rf"(?<![A-Za-z0-9_]){var}(?![A-Za-z0-9_])", replacement, expr)


def clip(data: CLArray, *, a_min: float, a_max: float) -> CLArray:
    dev = data.device
    lo, hi = float(np.float32(a_min)), float(np.float32(a_max))  # MXNet's ClipParam holds float32 bounds
    t = CTYPES[data.dtype.name]
    w = dev.compute_type(data.dtype)
    with np.errstate(all="ignore"):
        lo_c, hi_c = (np.array(np.float64(v)).astype(data.dtype).item() for v in (lo, hi))
    # MXNet tests the upper bound first, which decides the result when a_min > a_max; NaN passes through.
    # Integers are compared in floating point and take the bounds cast to their type.
    xt = w if data.dtype.kind == "f" else t
    expr = f"((({w})x > hi) ? hi_c : ((({w})x < lo) ? lo_c : x))"
    scalars = [("lo", w, lo), ("hi", w, hi), ("lo_c", xt, lo_c), ("hi_c", xt, hi_c)]
    return map_flat(dev, dev.alloc(data.shape, data.dtype), [("x", data, xt)], expr, scalars=scalars)


def where(condition: CLArray, x: CLArray, y: CLArray) -> CLArray:
    dev = x.device
    out = dev.alloc(x.shape, x.dtype)
    t = CTYPES[x.dtype.name]
    ct = CTYPES[condition.dtype.name]
    if condition.shape == x.shape:
        return map_flat(dev, out, [("c", condition, ct), ("x", x, t), ("y", y, t)], "(c != 0 ? x : y)")
    # A 1-D condition picks whole rows: read it broadcast along every axis after the first.
    cond = broadcast_view(condition.__class__(condition.buf, condition.shape + (1,) * (x.ndim - 1), condition.dtype,
                                              dev), x.shape)
    map_strided(dev, whole(out), x.shape, [("c", cond, ct), ("x", whole(x), t), ("y", whole(y), t)], "(c != 0 ? x : y)")
    return out


def add_n(*args: CLArray) -> CLArray:
    dev = args[0].device
    t = CTYPES[args[0].dtype.name]
    w = dev.compute_type(args[0].dtype) if args[0].dtype.kind == "f" else t
    out = dev.alloc(args[0].shape, args[0].dtype)
    if len(args) == 1:
        dev.copy_buffer(out, args[0])
        return out
    map_flat(dev, out, [("a", args[0], w), ("b", args[1], w)], "a + b", vec=True)
    for a in args[2:]:  # accumulate in place: each launch reads out and writes it, in queue order
        map_flat(dev, out, [("a", out, w), ("b", a, w)], "a + b", vec=True)
    return out


def polygamma(data: CLArray, *, n) -> CLArray:
    """ψ⁽ⁿ⁾ elementwise through the `mx_polygamma` helper (codegen._HELPERS); integers compute in the compute
    type and truncate back, as the reference's cast does."""
    dev = data.device
    w = dev.compute_type(data.dtype)
    return map_flat(dev, dev.alloc(data.shape, data.dtype), [("x", data, w)], "mx_polygamma(x, nn)",
                    scalars=[("nn", "int", int(n))])


def make_kernels() -> dict:
    table: dict = {name: unary_kernel(name) for name in UNARY}
    for base, (bcast, same, scal, rscal) in BINARY_NAMES.items():
        table[bcast] = table[same] = binary_kernel(base)
        table[scal] = scalar_kernel(base, reflected=False)
        if rscal is not None:
            table[rscal] = scalar_kernel(base, reflected=True)
    for fn in table.values():  # every one of these may run tiny inputs on the host: `mx.explain` says so
        fn.mxplug_explain = host_ops.explain
    table.update({"clip": clip, "where": where, "add_n": add_n, "_polygamma": polygamma})
    return table
