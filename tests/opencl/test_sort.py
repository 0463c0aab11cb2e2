"""sort, argsort and topk on OpenCL (mxplug_opencl.kernels.sort) against a float64 truth from Python's stable
`sorted`, with ties and NaN, every axis and both orders; their gradients numerically, on the device."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import check_numeric_gradient

RNG = np.random.default_rng(21)


def _order(row, ascend: bool) -> list[int]:
    """Stable order of a row's positions: NaN last ascending, first descending; ties in original order."""
    if ascend:
        return sorted(range(len(row)), key=lambda i: (math.isnan(row[i]), 0.0 if math.isnan(row[i]) else row[i]))
    return sorted(range(len(row)), key=lambda i: (not math.isnan(row[i]), 0.0 if math.isnan(row[i]) else -row[i]))


def _truth(x, axis, ascend):
    """(sorted values, stable order) along `axis` (the flattened array for None), by rows in Python."""
    a = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
    rows = a.reshape(-1, a.shape[-1])
    order = np.array([_order(list(r), ascend) for r in rows], dtype=np.int64).reshape(a.shape)
    values = np.take_along_axis(a, order, axis=-1)
    back = (lambda v: v) if axis is None else (lambda v: np.moveaxis(v, -1, axis))
    return back(values), back(order)


def _with_ties_and_nan(shape, dtype):
    x = RNG.integers(0, 6, shape).astype(dtype)  # few distinct values: many ties
    if np.dtype(dtype).kind == "f":
        flat = x.reshape(-1)
        flat[RNG.choice(flat.size, size=max(1, flat.size // 9), replace=False)] = np.nan
    return x


@pytest.mark.parametrize("shape, axis", [((4, 7, 3), None), ((4, 7, 3), 0), ((4, 7, 3), 1), ((4, 7, 3), -1),
                                         ((3, 1000), -1), ((1, 2049), None), ((5,), 0)])
@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_sort_and_argsort(ctx, shape, axis, ascend, dtype):
    x = _with_ties_and_nan(shape, dtype)
    values, order = _truth(x, axis, ascend)
    with mx.fallback("error"):
        a = mx.nd.array(x, ctx=ctx, dtype=dtype)
        got_v = mx.nd.sort(a, axis=axis, is_ascend=ascend).asnumpy()
        got_i = mx.nd.argsort(a, axis=axis, is_ascend=ascend).asnumpy()
        got_i32 = mx.nd.argsort(a, axis=axis, is_ascend=ascend, dtype="int32")
    np.testing.assert_array_equal(got_v, values)
    assert got_i.dtype == np.float32 and got_i32.dtype == np.int32
    np.testing.assert_array_equal(got_i, order)
    np.testing.assert_array_equal(got_i32.asnumpy(), order)


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("ascend", [True, False])
@pytest.mark.parametrize("k", [1, 3, 0])
def test_topk_every_return_type(ctx, axis, ascend, k):
    x = _with_ties_and_nan((5, 6), "float32")
    values, order = _truth(x, axis, ascend)
    n = x.size if axis is None else x.shape[axis]
    kk = n if k < 1 else k
    sel = (slice(None),) * (0 if axis is None else axis % 2) + (slice(0, kk),)
    with mx.fallback("error"):
        a = mx.nd.array(x, ctx=ctx)
        got = {rt: mx.nd.topk(a, axis=axis, k=k, ret_typ=rt, is_ascend=ascend) for rt in
               ("value", "indices", "mask", "both")}
    np.testing.assert_array_equal(got["value"].asnumpy(), values[sel])
    np.testing.assert_array_equal(got["indices"].asnumpy(), order[sel])
    v, i = got["both"]
    np.testing.assert_array_equal(v.asnumpy(), values[sel])
    np.testing.assert_array_equal(i.asnumpy(), order[sel])
    mask = np.zeros(x.size if axis is None else x.shape, np.float32)
    if axis is None:
        mask[order[:kk]] = 1
        mask = mask.reshape(x.shape)
    else:
        np.put_along_axis(mask, order[sel], 1, axis=axis)
    np.testing.assert_array_equal(got["mask"].asnumpy(), mask)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_sort_and_topk_gradients_on_the_device(ctx, axis):
    x = RNG.permutation(24).reshape(4, 6) + RNG.uniform(0, 0.5, (4, 6))  # distinct values: no tie at the step
    with mx.fallback("error"):
        check_numeric_gradient(lambda a: mx.nd.sort(a, axis=axis, is_ascend=False), [x], ctx=ctx)
        check_numeric_gradient(lambda a: mx.nd.topk(a, axis=axis, k=2, ret_typ="value"), [x], ctx=ctx)
