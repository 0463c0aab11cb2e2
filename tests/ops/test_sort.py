"""sort, argsort, topk, and the internal gather/scatter pair behind their gradients.

MXNet 1.9's answers (tie order, dtypes, k < 1, mask, axis=None, topk gradients) are recorded in
tests/oracle/record_sort.py; here the operators are also checked against references built from Python's
stable `sorted` over explicit loops, and every value gradient numerically.
"""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import OperatorAttributeError, ShapeError
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.ops.test_reduce import check_second_order
from tests.oracle.record_sort import CASES, check_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- references -----------------------------------------------------------------------------------------------
def ref_order(x: np.ndarray, axis: int | None, ascend: bool) -> tuple[np.ndarray, int]:  # noqa: FBT001
    """Sorting positions along `axis` (flattened for None), ties in original order; returns (order, axis)."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis %= x.ndim
    moved = np.moveaxis(x, axis, -1)
    order = np.empty(moved.shape, dtype=np.int64)
    for idx in np.ndindex(*moved.shape[:-1]):
        row = [float(e) for e in moved[idx]]
        order[idx] = sorted(range(len(row)), key=lambda i: row[i] if ascend else -row[i])  # sorted() is stable
    return np.moveaxis(order, -1, axis), axis


def ref_take(x: np.ndarray, order: np.ndarray, axis: int) -> np.ndarray:
    out = np.empty(order.shape, dtype=x.dtype)
    for idx in np.ndindex(*order.shape):
        src = list(idx)
        src[axis] = order[idx]
        out[idx] = x[tuple(src)]
    return out


def ref_first(a: np.ndarray, k: int, axis: int) -> np.ndarray:
    return np.take(a, range(k), axis=axis)


TIES = np.array([[[3, 1, 2, 1], [0, 5, 5, -1], [2, 2, 2, 7]],
                 [[4, 4, 0, 1], [9, 8, 7, 6], [1, 1, 1, 1]]], dtype="float64")
AXES = [-1, 0, 1, None]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8"])
@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("axis", AXES)
def test_sort_forward(axis, ascend, dtype):
    x = TIES + 1  # non-negative, for uint8
    order, ax = ref_order(x, axis, ascend)
    src = x.reshape(-1) if axis is None else x
    got = mx.nd.sort(mx.nd.array(x, dtype=dtype), axis=axis, is_ascend=ascend)
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), ref_take(src, order, ax))


@pytest.mark.parametrize("dtype", ["float32", "int32", "float64", "int64"])
@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("axis", AXES)
def test_argsort_forward(axis, ascend, dtype):
    got = mx.nd.argsort(mx.nd.array(TIES), axis=axis, is_ascend=ascend, dtype=dtype)
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), ref_order(TIES, axis, ascend)[0])


def test_argsort_default_dtype_is_float32_for_any_input():
    for dtype in ("int32", "float64", "uint8"):
        assert mx.nd.argsort(mx.nd.array([[2, 1]], dtype=dtype)).dtype is np.float32


@pytest.mark.parametrize("k", [1, 2, 0, -1, "whole axis"])
@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("ret_typ", ["value", "indices", "mask", "both"])
def test_topk_forward(ret_typ, axis, ascend, k):
    order, ax = ref_order(TIES, axis, ascend)
    if k == "whole axis":
        k = order.shape[ax]
    got = mx.nd.topk(mx.nd.array(TIES), axis=axis, k=k, ret_typ=ret_typ, is_ascend=ascend)
    kk = order.shape[ax] if k < 1 else k  # MXNet: k < 1 selects the whole axis
    indices = ref_first(order, kk, ax)
    values = ref_take(TIES.reshape(-1) if axis is None else TIES, indices, ax)
    if ret_typ == "mask":
        mask = np.zeros(TIES.size if axis is None else TIES.shape)
        for idx in np.ndindex(*indices.shape):
            pos = list(idx)
            pos[ax] = indices[idx]
            mask[tuple(pos)] = 1
        np.testing.assert_array_equal(got.asnumpy(), mask.reshape(TIES.shape))
        assert got.dtype is np.float32
    elif ret_typ == "both":
        assert isinstance(got, list) and len(got) == 2
        np.testing.assert_array_equal(got[0].asnumpy(), values)
        np.testing.assert_array_equal(got[1].asnumpy(), indices)
    else:
        np.testing.assert_array_equal(got.asnumpy(), values if ret_typ == "value" else indices)


@pytest.mark.parametrize("data_dtype", ["int32", "float64", "float16"])
def test_topk_dtypes(data_dtype):
    # float16 topk: MXNet's CPU kernel refuses it ("does not support float16"); mxplug sorts it like the rest.
    x = mx.nd.array([[3, 1, 2]], dtype=data_dtype)
    value, idx = mx.nd.topk(x, k=2, ret_typ="both", dtype="int32")
    assert (value.dtype, idx.dtype) == (np.dtype(data_dtype).type, np.int32)
    np.testing.assert_array_equal(value.asnumpy(), [[3, 2]])
    np.testing.assert_array_equal(idx.asnumpy(), [[0, 2]])
    assert mx.nd.topk(x, ret_typ="mask", dtype="int32").dtype is np.dtype(data_dtype).type  # mask: data dtype
    assert mx.nd.topk(x).dtype is np.float32  # indices default to float32


def test_topk_output_count():
    from mxplug.ops import rules

    count = rules("topk").num_outputs
    assert [count({"ret_typ": r}) for r in ("value", "indices", "mask", "both")] == [1, 1, 1, 2]


def test_topk_large_axis_indices_exact_in_int():
    x = np.random.default_rng(3).permutation(5000).astype("float32")
    idx = mx.nd.topk(mx.nd.array(x), k=3, dtype="int64").asnumpy()
    np.testing.assert_array_equal(idx, np.argsort(-x)[:3])


# -- gradients ------------------------------------------------------------------------------------------------
def _distinct(rng, shape):
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.25 + rng.uniform(0, 0.1, size=shape)


@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("axis", AXES)
def test_sort_gradient(axis, ascend, rng):
    check_numeric_gradient(lambda a: mx.nd.sort(a, axis=axis, is_ascend=ascend), [_distinct(rng, (2, 3, 4))])


@pytest.mark.parametrize("k", [1, 2, 0])
@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("ret_typ", ["value", "both"])
def test_topk_gradient(ret_typ, axis, ascend, k, rng):
    def fn(a):
        return mx.nd.topk(a, axis=axis, k=k, ret_typ=ret_typ, is_ascend=ascend, dtype="float64")

    check_numeric_gradient(fn, [_distinct(rng, (2, 3, 4))])


def test_sort_gradient_with_ties_goes_to_the_stable_positions():
    x = mx.nd.array([[2.0, 1.0, 2.0, 1.0]])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.sort(x, is_ascend=False)  # [2 (pos 0), 2 (pos 2), 1 (pos 1), 1 (pos 3)]
    y.backward(mx.nd.array([[10.0, 20.0, 30.0, 40.0]]))
    assert_almost_equal(x.grad, [[10.0, 30.0, 20.0, 40.0]])


@pytest.mark.parametrize("make", [
    lambda a: mx.nd.argsort(a),
    lambda a: mx.nd.topk(a, k=2),
    lambda a: mx.nd.topk(a, k=2, ret_typ="mask"),
], ids=["argsort", "topk_indices", "topk_mask"])
def test_index_outputs_have_zero_gradient(make, rng):
    x = mx.nd.array(rng.normal(size=(3, 4)))
    x.attach_grad()
    with mx.autograd.record():
        y = make(x) * 3
    y.backward()
    assert x.grad.shape == (3, 4) and not x.grad.asnumpy().any()


@pytest.mark.parametrize("op", ["sort", "topk"])
def test_second_order(op, rng):
    # f = sum(w * sort(x)²): its gradient scatters 2 w sort(x), so the second order goes through the scatter's
    # own gradient (a gather) and the sort again.
    w = mx.nd.array(rng.normal(size=(3, 2 if op == "topk" else 4)), dtype="float64")

    def fn(x):
        s = mx.nd.topk(x, k=2, ret_typ="value") if op == "topk" else mx.nd.sort(x)
        return (s * s * w).sum()

    check_second_order(fn, _distinct(rng, (3, 4)))


# -- the internal gather / scatter pair -----------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gather_and_scatter_forward(axis, rng):
    data = rng.normal(size=(3, 4, 5))
    ax = axis % 3
    idx_shape = tuple(2 if i == ax else s for i, s in enumerate(data.shape))
    idx = rng.integers(0, data.shape[ax], size=idx_shape)  # repeats on purpose: the scatter must add them
    gathered = mx.nd._internal._gather_along_axis(mx.nd.array(data, dtype="float64"), mx.nd.array(idx), axis=axis)
    src = rng.normal(size=idx_shape)
    scattered = mx.nd._internal._scatter_add_along_axis(
        mx.nd.array(src, dtype="float64"), mx.nd.array(idx), axis=axis, size=data.shape[ax])
    want_gather, want_scatter = np.empty(idx_shape), np.zeros(data.shape)
    for pos in np.ndindex(*idx_shape):
        at = list(pos)
        at[ax] = idx[pos]
        want_gather[pos] = data[tuple(at)]
        want_scatter[tuple(at)] += src[pos]
    assert_almost_equal(gathered, want_gather)
    assert_almost_equal(scattered, want_scatter)


@pytest.mark.parametrize("axis", [0, -1])
def test_gather_and_scatter_gradients(axis, rng):
    idx = mx.nd.array(rng.integers(0, 3, size=(3, 3)))
    check_numeric_gradient(lambda d: mx.nd._internal._gather_along_axis(d, idx, axis=axis), [rng.normal(size=(3, 3))])
    check_numeric_gradient(lambda d: mx.nd._internal._scatter_add_along_axis(d, idx, axis=axis, size=3),
                           [rng.normal(size=(3, 3))])


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sort", "argsort", "topk"])
def test_axis_out_of_range(op):
    with pytest.raises(ShapeError, match=rf"'{op}'.*axis=2.*2 dimensions"):
        getattr(mx.nd, op)(mx.nd.zeros((2, 3)), axis=2)
    with pytest.raises(ShapeError, match=rf"'{op}'.*axis=-3.*2 dimensions"):
        getattr(mx.nd, op)(mx.nd.zeros((2, 3)), axis=-3)


def test_topk_k_too_large():
    with pytest.raises(ShapeError, match=r"'topk'.*k=4.*3 elements along axis 1"):
        mx.nd.topk(mx.nd.zeros((2, 3)), k=4)
    with pytest.raises(ShapeError, match=r"'topk'.*k=7.*6 elements along the flattened"):
        mx.nd.topk(mx.nd.zeros((2, 3)), k=7, axis=None)


def test_topk_bad_ret_typ():
    with pytest.raises(OperatorAttributeError, match="ret_typ"):
        mx.nd.topk(mx.nd.zeros((3,)), ret_typ="bad")


def test_scatter_shape_errors():
    with pytest.raises(ShapeError, match=r"'_gather_along_axis'.*\(2, 3\).*\(3, 3\)"):
        mx.nd._internal._gather_along_axis(mx.nd.zeros((2, 3)), mx.nd.zeros((3, 3)), axis=1)
    with pytest.raises(ShapeError, match=r"'_scatter_add_along_axis'.*one shape"):
        mx.nd._internal._scatter_add_along_axis(mx.nd.zeros((2, 3)), mx.nd.zeros((2, 2)), axis=1, size=4)
