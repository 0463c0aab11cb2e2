"""sort, argsort and topk on the device, and the gather/scatter pair behind their gradients.

Each row along the axis (the flattened array for axis=None) is sorted by one work-item: a bottom-up merge sort of
(key, position) pairs through two scratch rows. Merging takes the right run's head only when it comes strictly
before the left one's, so the sort is stable: ties keep their original order, ascending and descending alike
(MXNet's CPU kernels, the NumPy plugin's `stable_argsort`). NaN sorts last ascending and first descending (as
NumPy's sort and the reference's reversal give). Rows sort in parallel; a single long row is one serial
O(K log K) work-item, which a GPU would rather split into a merge network (not done: noted in docs/opencl.md).
"""

from __future__ import annotations

import math

import numpy as np
from mako.template import Template

from mxplug.ops import TensorSpec, rules

from ..runtime import CTYPES, CLArray
from .index import _gather, _scatter_back

_I64 = np.int64

_SORT = Template("""
// BEFORE(a, b): a comes strictly before b in the order.
% if is_float:
#define BEFORE(a, b) (${"(a < b) || (b != b && a == a)" if ascend else "(a > b) || (a != a && b == b)"})
% else:
#define BEFORE(a, b) (${"a < b" if ascend else "a > b"})
% endif
__kernel void sort_rows(__global const ${t}* in, __global ${t}* k0, __global ${t}* k1, __global long* i0,
                        __global long* i1,
% if values:
                        __global ${t}* vals,
% endif
% if indices:
                        __global ${it}* idxs,
% endif
% if mask:
                        __global ${t}* msk,
% endif
                        long K, long Q, long kout)
{
    long r = get_global_id(0);
    long o = r / Q, q = r % Q;
    __global ${t}* ka = k0 + r * K;
    __global ${t}* kb = k1 + r * K;
    __global long* ia = i0 + r * K;
    __global long* ib = i1 + r * K;
    for (long j = 0; j < K; j++) {
        ka[j] = in[(o * K + j) * Q + q];
        ia[j] = j;
    }
    for (long width = 1; width < K; width *= 2) {
        for (long lo = 0; lo < K; lo += 2 * width) {
            long mid = lo + width < K ? lo + width : K;
            long hi = lo + 2 * width < K ? lo + 2 * width : K;
            long a = lo, b = mid, t = lo;
            while (a < mid && b < hi) {
                if (BEFORE(ka[b], ka[a])) { kb[t] = ka[b]; ib[t++] = ia[b++]; }
                else { kb[t] = ka[a]; ib[t++] = ia[a++]; }
            }
            while (a < mid) { kb[t] = ka[a]; ib[t++] = ia[a++]; }
            while (b < hi) { kb[t] = ka[b]; ib[t++] = ia[b++]; }
        }
        __global ${t}* ks = ka; ka = kb; kb = ks;
        __global long* is = ia; ia = ib; ib = is;
    }
% if mask:
    for (long j = 0; j < K; j++)
        msk[(o * K + j) * Q + q] = 0;
% endif
    for (long j = 0; j < kout; j++) {
% if values:
        vals[(o * kout + j) * Q + q] = ka[j];
% endif
% if indices:
        idxs[(o * kout + j) * Q + q] = (${it})ia[j];
% endif
% if mask:
        msk[(o * K + ia[j]) * Q + q] = 1;
% endif
    }
}
""")


def _rows(data: CLArray, axis) -> tuple[CLArray, int, int, int]:
    """(array, P, K, Q): `data` seen as (P, K, Q) with K along the sorted axis (flattened for axis=None)."""
    if axis is None:
        return CLArray(data.buf, (data.size,), data.dtype, data.device), 1, data.size, 1
    ax = axis % data.ndim
    return data, math.prod(data.shape[:ax]), data.shape[ax], math.prod(data.shape[ax + 1:])


def _sort(data: CLArray, axis, ascend: bool, kout: int, *, values: bool, indices: bool, mask: bool,
          index_dtype: np.dtype = np.dtype("float32"), out_shape: tuple[int, ...] | None = None) -> list[CLArray]:
    dev = data.device
    arr, P, K, Q = _rows(data, axis)
    t, it = CTYPES[data.dtype.name], CTYPES[np.dtype(index_dtype).name]
    shape = out_shape if out_shape is not None else data.shape
    outs = []
    if values:
        outs.append(dev.alloc(shape, data.dtype))
    if indices:
        outs.append(dev.alloc(shape, np.dtype(index_dtype)))
    if mask:
        outs.append(dev.alloc(data.shape, data.dtype))
    if data.size == 0:
        return outs
    key = ("sort_rows", t, it, ascend, values, indices, mask)

    def render():
        src = _SORT.render(t=t, it=it, ascend=ascend, is_float=data.dtype.kind == "f", values=values,
                           indices=indices, mask=mask)
        return src, "sort_rows", [None] * (5 + len(outs)) + [_I64] * 3

    rows = P * Q
    k0, k1 = dev.alloc((rows * K,), data.dtype), dev.alloc((rows * K,), data.dtype)
    i0, i1 = dev.alloc((rows * K,), np.dtype("int64")), dev.alloc((rows * K,), np.dtype("int64"))
    dev.launch(dev.kernel(key, render), (rows,), None, arr.buf, k0.buf, k1.buf, i0.buf, i1.buf,
               *(o.buf for o in outs), K, Q, kout)
    return outs


def sort(data: CLArray, *, axis, is_ascend) -> CLArray:
    n = data.size if axis is None else data.shape[axis % data.ndim]
    shape = (data.size,) if axis is None else data.shape
    return _sort(data, axis, bool(is_ascend), n, values=True, indices=False, mask=False, out_shape=shape)[0]


def argsort(data: CLArray, *, axis, is_ascend, dtype) -> CLArray:
    n = data.size if axis is None else data.shape[axis % data.ndim]
    shape = (data.size,) if axis is None else data.shape
    return _sort(data, axis, bool(is_ascend), n, values=False, indices=True, mask=False, index_dtype=dtype,
                 out_shape=shape)[0]


def topk(data: CLArray, *, axis, k, ret_typ, is_ascend, dtype):
    specs = rules("topk").infer({"axis": axis, "k": k, "ret_typ": ret_typ, "is_ascend": is_ascend, "dtype": dtype},
                                TensorSpec(data.shape, data.dtype))
    spec = specs if isinstance(specs, TensorSpec) else specs[0]  # the values' (or indices') shape
    n = data.size if axis is None else data.shape[axis % data.ndim]
    kout = n if k < 1 else min(k, n)
    ascend = bool(is_ascend)
    if ret_typ == "mask":
        return _sort(data, axis, ascend, kout, values=False, indices=False, mask=True)[0]
    outs = _sort(data, axis, ascend, kout, values=ret_typ in ("value", "both"), indices=ret_typ in ("indices", "both"),
                 mask=False, index_dtype=dtype, out_shape=spec.shape)
    return tuple(outs) if ret_typ == "both" else outs[0]


def gather_along_axis(data: CLArray, indices: CLArray, *, axis) -> CLArray:
    ax = axis % data.ndim
    P, N, Q = math.prod(data.shape[:ax]), data.shape[ax], math.prod(data.shape[ax + 1:])
    out = data.device.alloc(indices.shape, data.dtype)
    return _gather(data.device, out, data, indices, P, indices.shape[ax], N, Q, "clip", "pj * Q + q")


def scatter_add_along_axis(data: CLArray, indices: CLArray, *, axis, size) -> CLArray:
    ax = axis % data.ndim
    P, J, Q = math.prod(data.shape[:ax]), data.shape[ax], math.prod(data.shape[ax + 1:])
    out = data.device.alloc(data.shape[:ax] + (size,) + data.shape[ax + 1:], data.dtype)
    return _scatter_back(data.device, out, data, indices, P, J, size, Q, "clip", "(p * J + j) * Q + q")


def make_kernels() -> dict:
    return {"sort": sort, "argsort": argsort, "topk": topk, "_gather_along_axis": gather_along_axis,
            "_scatter_add_along_axis": scatter_add_along_axis}
