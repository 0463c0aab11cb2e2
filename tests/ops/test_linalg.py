"""dot, batch_dot, linalg_gemm2, linalg_gemm.

MXNet 1.9's answers (N-D dot with transposes, 1-D rules, gemm2's `axis`, gradients) are recorded in
tests/oracle/record_linalg.py; here the operators are also checked against float64 references written as
explicit loops over the output and contracted indices, and every input's gradient numerically.
"""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, ShapeError
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.ops.test_reduce import check_second_order
from tests.oracle.record_linalg import CASES, check_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- dot ------------------------------------------------------------------------------------------------------
def ref_dot(a: np.ndarray, b: np.ndarray, ta: bool, tb: bool) -> np.ndarray:  # noqa: FBT001
    """MXNet's dot by loops: lhs contracts its last axis (first if transposed), rhs its first (last if
    transposed); a 1-D operand ignores its flag; two vectors give shape (1,)."""
    la = 0 if (ta and a.ndim > 1) else a.ndim - 1
    rb = b.ndim - 1 if (tb and b.ndim > 1) else 0
    a_rest = [s for i, s in enumerate(a.shape) if i != la]
    b_rest = [s for i, s in enumerate(b.shape) if i != rb]
    out = np.zeros(a_rest + b_rest)
    for i in np.ndindex(*a_rest):
        for j in np.ndindex(*b_rest):
            total = 0.0
            for k in range(a.shape[la]):
                ai, bj = list(i), list(j)
                ai.insert(la, k)
                bj.insert(rb, k)
                total += float(a[tuple(ai)]) * float(b[tuple(bj)])
            out[i + j] = total
    return out.reshape(out.shape or (1,))


DOT_CASES = [  # (lhs shape, rhs shape, transpose_a, transpose_b)
    ((4,), (4,), False, False),
    ((4,), (4, 3), False, False),
    ((4,), (4, 3), True, False),  # a vector ignores its transpose flag
    ((4,), (3, 4), False, True),
    ((3, 4), (4,), False, False),
    ((4, 3), (4,), True, False),
    ((3, 4), (4,), False, True),
    ((3, 4), (4, 5), False, False),
    ((4, 3), (4, 5), True, False),
    ((3, 4), (5, 4), False, True),
    ((4, 3), (5, 4), True, True),
    ((2, 3, 4), (4, 5), False, False),
    ((4, 2, 3), (4, 5), True, False),
    ((3, 4), (4, 2, 5), False, False),
    ((3, 4), (2, 5, 4), False, True),
    ((2, 3, 4), (4, 2, 2), False, False),
    ((4, 3, 2), (2, 5, 4), True, True),
    ((4,), (2, 3, 4), False, True),
]
DOT_IDS = ["x".join(map(str, a)) + ("T" if ta else "") + "." + "x".join(map(str, b)) + ("T" if tb else "")
           for a, b, ta, tb in DOT_CASES]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize(("ls", "rs", "ta", "tb"), DOT_CASES, ids=DOT_IDS)
def test_dot_forward(ls, rs, ta, tb, dtype, rng):
    a, b = rng.normal(size=ls), rng.normal(size=rs)
    got = mx.nd.dot(mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype), transpose_a=ta, transpose_b=tb)
    assert got.dtype is np.dtype(dtype).type
    # the reference multiplies the values the operator saw (rounded to dtype), in float64
    want = ref_dot(a.astype(dtype), b.astype(dtype), ta, tb)
    assert_almost_equal(got.asnumpy().astype("float64"), want, rtol={"float16": 1e-2}.get(dtype, 1e-5),
                        atol={"float16": 1e-2}.get(dtype, 1e-5))


@pytest.mark.parametrize(("ls", "rs", "ta", "tb"), DOT_CASES, ids=DOT_IDS)
def test_dot_gradient(ls, rs, ta, tb, rng):
    check_numeric_gradient(lambda a, b: mx.nd.dot(a, b, transpose_a=ta, transpose_b=tb),
                           [rng.normal(size=ls), rng.normal(size=rs)])


@pytest.mark.parametrize(("ta", "tb"), [(False, False), (True, False), (False, True), (True, True)])
def test_dot_2d_is_plain_blas(ta, tb, rng):
    # The 2-D path is one sgemm call on the operands as stored: bit-identical to NumPy's own product.
    a = rng.normal(size=(64, 48)).astype("float32")
    b = rng.normal(size=(48, 64)).astype("float32")
    a_, b_ = (a.T.copy() if ta else a), (b.T.copy() if tb else b)
    got = mx.nd.dot(mx.nd.array(a_), mx.nd.array(b_), transpose_a=ta, transpose_b=tb).asnumpy()
    np.testing.assert_array_equal(got, np.dot(a_.T if ta else a_, b_.T if tb else b_))


@pytest.mark.parametrize(("op", "shape"), [("dot", (3, 3)), ("dot", (3,)), ("batch_dot", (1, 3, 3)),
                                           ("linalg_gemm2", (3, 3))])
def test_result_is_not_an_input_view(op, shape):
    # The core may write into a kernel's output in place; it must never alias an input.
    a = mx.nd.array(np.ones(shape))
    out = getattr(mx.nd, op)(a, a)
    assert not np.shares_memory(out._data, a._data)


# -- batch_dot ------------------------------------------------------------------------------------------------
def ref_batch_dot(a: np.ndarray, b: np.ndarray, ta: bool, tb: bool) -> np.ndarray:  # noqa: FBT001
    a = np.swapaxes(a, -1, -2) if ta else a
    b = np.swapaxes(b, -1, -2) if tb else b
    return np.einsum("...ik,...kj->...ij", a, b)


BATCH_CASES = [((2, 3, 4), (2, 4, 5), False, False), ((2, 4, 3), (2, 4, 5), True, False),
               ((2, 3, 4), (2, 5, 4), False, True), ((2, 4, 3), (2, 5, 4), True, True),
               ((2, 3, 2, 4), (2, 3, 4, 1), False, False)]


@pytest.mark.parametrize(("ls", "rs", "ta", "tb"), BATCH_CASES)
def test_batch_dot(ls, rs, ta, tb, rng):
    a, b = rng.normal(size=ls), rng.normal(size=rs)
    got = mx.nd.batch_dot(mx.nd.array(a, dtype="float64"), mx.nd.array(b, dtype="float64"),
                          transpose_a=ta, transpose_b=tb)
    assert_almost_equal(got, ref_batch_dot(a, b, ta, tb), rtol=1e-12, atol=1e-12)
    check_numeric_gradient(lambda x, y: mx.nd.batch_dot(x, y, transpose_a=ta, transpose_b=tb), [a, b])


def test_batch_dot_float16_and_float32(rng):
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 2))
    for dtype, tol in (("float32", 1e-5), ("float16", 1e-2)):
        got = mx.nd.batch_dot(mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype))
        assert got.dtype is np.dtype(dtype).type
        assert_almost_equal(got.asnumpy().astype("float64"), ref_batch_dot(a, b, False, False), rtol=tol, atol=tol)


# -- linalg_gemm2 / linalg_gemm -------------------------------------------------------------------------------
def ref_gemm2(a: np.ndarray, b: np.ndarray, ta: bool, tb: bool, alpha: float, axis: int) -> np.ndarray:  # noqa: FBT001
    """Rows along `axis`, columns along the last axis, every other axis a batch axis (loops over batches)."""
    axis %= a.ndim
    out_rows = a.shape[-1] if ta else a.shape[axis]
    out_cols = b.shape[axis] if tb else b.shape[-1]
    out_shape = list(a.shape)
    out_shape[axis], out_shape[-1] = out_rows, out_cols
    out = np.zeros(out_shape)
    batch_axes = [i for i in range(a.ndim - 1) if i != axis]
    for batch in np.ndindex(*[a.shape[i] for i in batch_axes]):
        def matrix(x, batch=batch):
            index = [slice(None)] * x.ndim
            for i, v in zip(batch_axes, batch, strict=True):
                index[i] = v
            return x[tuple(index)]  # the remaining axes are (axis, last): a 2-D matrix

        ma, mb = matrix(a), matrix(b)
        ma, mb = (ma.T if ta else ma), (mb.T if tb else mb)
        index = [slice(None)] * out.ndim
        for i, v in zip(batch_axes, batch, strict=True):
            index[i] = v
        out[tuple(index)] = alpha * np.einsum("ik,kj->ij", ma, mb)
    return out


GEMM_CASES = [  # (A shape, B shape, transpose_a, transpose_b, axis)
    ((3, 4), (4, 5), False, False, -2),
    ((4, 3), (4, 5), True, False, -2),
    ((3, 4), (5, 4), False, True, 0),
    ((4, 3), (5, 4), True, True, -2),
    ((2, 3, 4), (2, 4, 5), False, False, -2),
    ((3, 2, 4), (4, 2, 5), False, False, 0),
    ((3, 2, 4), (4, 2, 5), False, False, -3),
    ((2, 4, 3, 2), (2, 5, 3, 4), True, True, 1),
    ((2, 3, 2, 4), (2, 4, 2, 5), False, False, 1),
]


@pytest.mark.parametrize("alpha", [1.0, -0.5])
@pytest.mark.parametrize(("sa", "sb", "ta", "tb", "axis"), GEMM_CASES)
def test_gemm2(sa, sb, ta, tb, axis, alpha, rng):
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    got = mx.nd.linalg.gemm2(mx.nd.array(a, dtype="float64"), mx.nd.array(b, dtype="float64"),
                             transpose_a=ta, transpose_b=tb, alpha=alpha, axis=axis)
    assert_almost_equal(got, ref_gemm2(a, b, ta, tb, alpha, axis), rtol=1e-12, atol=1e-12)
    check_numeric_gradient(
        lambda x, y: mx.nd.linalg.gemm2(x, y, transpose_a=ta, transpose_b=tb, alpha=alpha, axis=axis), [a, b])


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 1.0), (2.0, -0.5), (0.5, 0.0)])
@pytest.mark.parametrize(("sa", "sb", "ta", "tb", "axis"), GEMM_CASES[::2])
def test_gemm(sa, sb, ta, tb, axis, alpha, beta, rng):
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    want = ref_gemm2(a, b, ta, tb, alpha, axis)
    c = rng.normal(size=want.shape)
    got = mx.nd.linalg.gemm(*(mx.nd.array(v, dtype="float64") for v in (a, b, c)), transpose_a=ta, transpose_b=tb,
                            alpha=alpha, beta=beta, axis=axis)
    assert_almost_equal(got, want + beta * c, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(
        lambda x, y, z: mx.nd.linalg.gemm(x, y, z, transpose_a=ta, transpose_b=tb, alpha=alpha, beta=beta, axis=axis),
        [a, b, c])


def test_linalg_namespace():
    assert mx.nd.linalg.gemm2 is mx.nd.linalg_gemm2 and mx.nd.linalg.gemm is mx.nd.linalg_gemm


def test_gemm2_float32(rng):
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    got = mx.nd.linalg.gemm2(mx.nd.array(a), mx.nd.array(b), alpha=3.0)
    assert got.dtype is np.float32
    assert_almost_equal(got, ref_gemm2(a.astype("float32"), b.astype("float32"), False, False, 3.0, -2), rtol=1e-5)


# -- higher order ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("product", [
    lambda x: mx.nd.dot(x, x, transpose_a=True),
    lambda x: mx.nd.dot(x.reshape((4, 3, 1)), x, transpose_a=True),
    lambda x: mx.nd.batch_dot(x.reshape((1, 4, 3)), x.reshape((1, 4, 3)), transpose_b=True),
    lambda x: mx.nd.linalg.gemm2(x, x, transpose_a=True, alpha=0.5),
    lambda x: mx.nd.linalg.gemm(x, x, mx.nd.ones((4, 4), dtype="float64"), transpose_b=True, beta=2.0),
], ids=["dot", "dot_nd", "batch_dot", "gemm2", "gemm"])
def test_second_order(product, rng):
    check_second_order(lambda x: product(x) ** 2, rng.normal(size=(4, 3)))


# -- errors ---------------------------------------------------------------------------------------------------
def test_dot_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"'dot'.*\(2, 3\).*\(4, 5\).*3 vs 4"):
        mx.nd.dot(mx.nd.zeros((2, 3)), mx.nd.zeros((4, 5)))
    with pytest.raises(ShapeError, match=r"'dot'.*\(2, 3\).*\(4, 3\).*2 vs 4.*transpose_a=True"):
        mx.nd.dot(mx.nd.zeros((2, 3)), mx.nd.zeros((4, 3)), transpose_a=True)


def test_dot_cannot_transpose_two_vectors():
    with pytest.raises(ShapeError, match=r"'dot'.*1-D"):
        mx.nd.dot(mx.nd.zeros((3,)), mx.nd.zeros((3,)), transpose_a=True)


@pytest.mark.parametrize("op", ["dot", "batch_dot", "linalg_gemm2"])
def test_integer_inputs_are_refused(op):
    # MXNet: dot and batch_dot take floats only, linalg_* float32/float64 only.
    a = mx.nd.ones((2, 2, 2), dtype="int32")
    with pytest.raises(DTypeError, match=rf"'{op}'.*int32"):
        getattr(mx.nd, op)(a, a)


def test_linalg_refuses_float16():
    a = mx.nd.ones((2, 2), dtype="float16")
    with pytest.raises(DTypeError, match=r"'linalg_gemm2'.*float32, float64.*float16"):
        mx.nd.linalg.gemm2(a, a)


def test_mixed_dtypes_are_refused():
    with pytest.raises(DTypeError, match=r"'dot'.*float32.*float64"):
        mx.nd.dot(mx.nd.ones((2, 2)), mx.nd.ones((2, 2), dtype="float64"))


@pytest.mark.parametrize(("ls", "rs", "pattern"), [
    ((3, 4), (4, 5), r"N-D with the same N >= 3"),
    ((2, 3, 4), (2, 2, 4, 5), r"N-D with the same N >= 3"),
    ((2, 3, 4), (3, 4, 5), r"batch axes \(2,\) vs \(3,\)"),
    ((2, 3, 4), (2, 3, 5), r"\(2, 3, 4\).*\(2, 3, 5\).*4 vs 3"),
])
def test_batch_dot_shape_errors(ls, rs, pattern):
    with pytest.raises(ShapeError, match=rf"'batch_dot'.*{pattern}"):
        mx.nd.batch_dot(mx.nd.zeros(ls), mx.nd.zeros(rs))


@pytest.mark.parametrize(("sa", "sb", "kw", "pattern"), [
    ((3, 4), (5, 5), {}, r"A \(3, 4\) and B \(5, 5\).*4 vs 5"),
    ((2, 3, 4), (2, 4, 5), {"axis": -1}, r"axis=-1"),
    ((2, 3, 4), (2, 4, 5), {"axis": 2}, r"axis=2"),
    ((2, 3, 4), (3, 4, 5), {}, r"agree on every axis"),
    ((2, 3, 4), (4, 5), {}, r"same number of dimensions"),
    ((3,), (3,), {}, r"at least 2"),
])
def test_gemm2_shape_errors(sa, sb, kw, pattern):
    with pytest.raises(ShapeError, match=rf"'linalg_gemm2'.*{pattern}"):
        mx.nd.linalg.gemm2(mx.nd.zeros(sa), mx.nd.zeros(sb), **kw)


def test_gemm_c_shape_error():
    with pytest.raises(ShapeError, match=r"'linalg_gemm'.*C \(1, 5\).*\(3, 5\)"):
        mx.nd.linalg.gemm(mx.nd.zeros((3, 4)), mx.nd.zeros((4, 5)), mx.nd.zeros((1, 5)))
