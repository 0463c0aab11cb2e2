"""Gathers driven by index arrays (take, pick, one_hot, gather_nd, batch_take): one small template each; and the
gradients of take, pick and gather_nd, which scatter back (`_backward_take`, `_backward_pick`,
`_backward_gather_nd`).

Indices arrive in any dtype and are truncated toward zero (MXNet casts them). `take`'s clip and wrap modes
are applied in the kernel; the checks that raise (take's mode='raise', gather_nd's range) read the indices on
the host first, as the reference does, so they report the first bad index by value.
"""

from __future__ import annotations

import math

import numpy as np
from mako.template import Template

from mxplug.base import IndexingError
from mxplug.ops.index import reduced_shape

from ..runtime import CTYPES, UTYPES, CLArray

_I64 = np.int64

def _bounding(mode: str):
    """The C expression that brings an index expression into [0, N): wrapped (take's 'wrap') or clipped."""
    if mode == "wrap":
        return lambda k: f"(({k} % N) + N) % N"
    return lambda k: f"({k} < 0 ? 0 : ({k} >= N ? N - 1 : {k}))"


# out[(p, j, q)] = a[p, k, q] with k from the index array: take (index by j), pick (index by p, q),
# batch_take (index by p, Q == 1).
_GATHER = Template("""
__kernel void gather(__global ${u}* out, __global const ${u}* a, __global const ${it}* ind, long J, long N, long Q)
{
    long pj = get_global_id(0);
    long q = get_global_id(1);
    long p = pj / J, j = pj % J;
    long k = (long)ind[${index_at}];
    k = ${bounded("k")};
    out[pj * Q + q] = a[(p * N + k) * Q + q];
}
""")

# The gradients: out = zeros((P, N, Q)), then g's values sent back to the positions the gather read. Work-item
# (p, q) owns column (p, :, q) of out, so repeated indices add up without atomics, in index order (the order the
# reference adds them in), accumulated in the compute type.
_SCATTER_BACK = Template("""
__kernel void scatter_back(__global ${t}* out, __global const ${t}* g, __global const ${it}* ind, long J, long N,
                           long Q)
{
    long p = get_global_id(0);
    long q = get_global_id(1);
    __global ${t}* col = out + p * N * Q + q;
% if zero:
    for (long n = 0; n < N; n++)
        col[n * Q] = 0;
% endif
    for (long j = 0; j < J; j++) {
        long k = (long)ind[${index_at}];
        k = ${bounded("k")};
% if assign:
        col[k * Q] = g[(p * J + j) * Q + q];  // in index order: the last write wins, as the reference's
% else:
        col[k * Q] = (${t})((${w})col[k * Q] + (${w})g[(p * J + j) * Q + q]);
% endif
    }
}
""")

_ONE_HOT = Template("""
__kernel void one_hot(__global ${t}* out, __global const ${it}* ind, long depth, ${w} on, ${w} off)
{
    long i = get_global_id(0);
    long d = get_global_id(1);
    out[i * depth + d] = ((long)ind[i] == d) ? (${t})on : (${t})off;
}
""")

_GATHER_ND = Template("""
__kernel void gather_nd(__global ${u}* out, __global const ${u}* data, __global const ${it}* ind, long Y, long T
% for m in range(M):
    , long n${m}, long s${m}
% endfor
)
{
    long y = get_global_id(0);
    long t = get_global_id(1);
    long off = 0;
% for m in range(M):
    { long k = (long)ind[${m} * Y + y]; off += (k < 0 ? k + n${m} : k) * s${m}; }
% endfor
    out[y * T + t] = data[off + t];
}
""")


def _gather(dev, out: CLArray, a: CLArray, ind: CLArray, P: int, J: int, N: int, Q: int, mode: str, index_at: str):
    u, it = UTYPES[a.dtype.itemsize], CTYPES[ind.dtype.name]
    key = ("gather", u, it, mode, index_at)

    def render():
        src = _GATHER.render(u=u, it=it, bounded=_bounding(mode), index_at=index_at)
        return src, "gather", [None] * 3 + [_I64] * 3

    dev.launch(dev.kernel(key, render), (P * J, Q), None, out.buf, a.buf, ind.buf, J, N, Q)
    return out


def _scatter_back(dev, out: CLArray, g: CLArray, ind: CLArray, P: int, J: int, N: int, Q: int, mode: str,
                  index_at: str, *, assign: bool = False, zero: bool = True) -> CLArray:
    """out's columns (p, :, q) zeroed (unless not `zero`), then g's values added (or, `assign`, written) at the
    indexed positions in index order."""
    t, it = CTYPES[g.dtype.name], CTYPES[ind.dtype.name]
    w = dev.compute_type(g.dtype) if g.dtype.kind == "f" else t
    key = ("scatter_back", t, it, w, mode, index_at, assign, zero)

    def render():
        src = _SCATTER_BACK.render(t=t, it=it, w=w, bounded=_bounding(mode), index_at=index_at, assign=assign,
                                   zero=zero)
        return src, "scatter_back", [None] * 3 + [_I64] * 3

    if out.size:
        dev.launch(dev.kernel(key, render), (P, Q), None, out.buf, g.buf, ind.buf, J, N, Q)
    return out


def backward_take(ograd: CLArray, indices: CLArray, *, axis, mode, shape) -> CLArray:
    dev = ograd.device
    shape = tuple(shape)
    ax = axis % len(shape)
    N = shape[ax]
    if mode == "raise" or N == 0:
        _check_range("_backward_take", indices, N, ax, 0, f" (mode='{mode}')")
    P, Q = math.prod(shape[:ax]), math.prod(shape[ax + 1:])
    out = dev.alloc(shape, ograd.dtype)
    return _scatter_back(dev, out, ograd, indices, P, indices.size, N, Q, "wrap" if mode == "wrap" else "clip", "j")


def backward_pick(ograd: CLArray, index: CLArray, *, axis, mode, shape) -> CLArray:
    dev = ograd.device
    shape = tuple(shape)
    ax = axis % len(shape)
    P, N, Q = math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1:])
    out = dev.alloc(shape, ograd.dtype)
    # One index per (p, q): the "loop" over j has one step, reading index and gradient at (p, q).
    return _scatter_back(dev, out, ograd, index, P, 1, N, Q, mode, "p * Q + q")


def _checked_points(op: str, indices: CLArray, shape: tuple[int, ...]) -> np.ndarray:
    """gather_nd-style points (M, Y...) read on the host as (M, Y) int64, each in range of its axis after wrapping
    negatives once (else IndexingError naming the first bad index, as the reference)."""
    M = indices.shape[0]
    idx = indices.device.download(indices).astype(np.int64).reshape(M, -1)
    for k in range(M):
        bad = (idx[k] < -shape[k]) | (idx[k] >= shape[k])
        if bad.any():
            raise IndexingError(f"operator '{op}': index {int(idx[k][bad][0])} is out of bounds for axis {k} with "
                                f"size {shape[k]}")
    return idx


def _point_rows(op: str, indices: CLArray, shape: tuple[int, ...]) -> CLArray:
    """The rows of (prod(shape[:M]), prod(shape[M:])) that the points address, negatives wrapped."""
    M = indices.shape[0]
    idx = _checked_points(op, indices, shape)
    idx = np.where(idx < 0, idx + np.array(shape[:M]).reshape(-1, 1), idx)
    rows = np.ravel_multi_index(tuple(idx), shape[:M]) if M else np.zeros(idx.shape[1], np.int64)
    return indices.device.upload(rows)


def _scatter_points(op: str, out: CLArray, values: CLArray, indices: CLArray, **how) -> CLArray:
    shape = out.shape
    M = indices.shape[0]
    rows = _point_rows(op, indices, shape)
    return _scatter_back(out.device, out, values, rows, 1, rows.size, math.prod(shape[:M]), math.prod(shape[M:]),
                         "clip", "j", **how)


def backward_gather_nd(data: CLArray, indices: CLArray, *, shape) -> CLArray:
    """The gradient of gather_nd: zeros of `shape` with each gathered row of `data` added back where it came
    from (repeats add up)."""
    out = data.device.alloc(tuple(shape), data.dtype)
    return _scatter_points("_backward_gather_nd", out, data, indices)


def scatter_nd(data: CLArray, indices: CLArray, *, shape) -> CLArray:
    """Zeros of `shape` with data's rows written at the points (a repeated point takes the last)."""
    out = data.device.alloc(tuple(shape), data.dtype)
    return _scatter_points("scatter_nd", out, data, indices, assign=True)


def scatter_set_nd(lhs: CLArray, rhs: CLArray, indices: CLArray, *, shape) -> CLArray:
    """A copy of lhs with rhs's rows written at the points (indexing assignment `x[points] = v`)."""
    out = lhs.device.alloc(lhs.shape, lhs.dtype)
    lhs.device.copy_buffer(out, lhs)
    return _scatter_points("_scatter_set_nd", out, rhs, indices, assign=True, zero=False)


def _check_range(op: str, ind: CLArray, n: int, axis: int, low: int, note: str = "") -> None:
    idx = ind.device.download(ind).astype(np.int64)
    bad = (idx < low) | (idx >= n)
    if bad.any():
        raise IndexingError(f"operator '{op}': index {int(idx[bad][0])} is out of bounds for axis {axis} with size "
                            f"{n}{note}")


def take(a: CLArray, indices: CLArray, *, axis, mode) -> CLArray:
    dev = a.device
    ax = axis % a.ndim
    N = a.shape[ax]
    if mode == "raise" or N == 0:
        _check_range("take", indices, N, ax, 0, f" (mode='{mode}')")
    out = dev.alloc(a.shape[:ax] + indices.shape + a.shape[ax + 1:], a.dtype)
    P, Q = math.prod(a.shape[:ax]), math.prod(a.shape[ax + 1:])
    return _gather(dev, out, a, indices, P, indices.size, N, Q, "wrap" if mode == "wrap" else "clip", "j")


def pick(data: CLArray, index: CLArray, *, axis, keepdims, mode) -> CLArray:
    dev = data.device
    ax = axis % data.ndim
    N = data.shape[ax]
    out = dev.alloc(reduced_shape(data.shape, ax, keepdims), data.dtype)
    P, Q = math.prod(data.shape[:ax]), math.prod(data.shape[ax + 1:])
    return _gather(dev, out, data, index, P, 1, N, Q, mode, "p * Q + q")


def batch_take(a: CLArray, indices: CLArray) -> CLArray:
    dev = a.device
    N = a.shape[-1]
    out = dev.alloc(indices.shape, a.dtype)
    return _gather(dev, out, a, indices, a.size // max(N, 1), 1, N, 1, "clip", "p")


def one_hot(indices: CLArray, *, depth, on_value, off_value, dtype) -> CLArray:
    dev = indices.device
    dtype = np.dtype(dtype)
    out = dev.alloc(indices.shape + (depth,), dtype)
    t, it = CTYPES[dtype.name], CTYPES[indices.dtype.name]
    w = "double" if dev.fp64 else "float"
    # Integer outputs truncate the values first (MXNet's cast); floats take them as given.
    on, off = (float(int(v)) if dtype.kind in "iub" else float(v) for v in (on_value, off_value))
    key = ("one_hot", t, it, w)

    wd = np.dtype("float64" if w == "double" else "float32")

    def render():
        return _ONE_HOT.render(t=t, it=it, w=w), "one_hot", [None, None, _I64, wd, wd]

    dev.launch(dev.kernel(key, render), (indices.size, depth), None, out.buf, indices.buf, depth, on, off)
    return out


def gather_nd(data: CLArray, indices: CLArray) -> CLArray:
    dev = data.device
    M = indices.shape[0]
    _checked_points("gather_nd", indices, data.shape)  # the kernel wraps negatives itself
    Y = indices.size // M if M else 0
    T = math.prod(data.shape[M:])
    out = dev.alloc(indices.shape[1:] + data.shape[M:], data.dtype)
    u, it = UTYPES[data.dtype.itemsize], CTYPES[indices.dtype.name]
    key = ("gather_nd", u, it, M)

    def render():
        return _GATHER_ND.render(u=u, it=it, M=M), "gather_nd", [None] * 3 + [_I64] * (2 + 2 * M)

    strides = [math.prod(data.shape[k + 1:]) for k in range(M)]
    args = [x for k in range(M) for x in (data.shape[k], strides[k])]
    dev.launch(dev.kernel(key, render), (Y, T), None, out.buf, data.buf, indices.buf, Y, T, *args)
    return out


def make_kernels() -> dict:
    return {"take": take, "pick": pick, "batch_take": batch_take, "one_hot": one_hot, "gather_nd": gather_nd,
            "_backward_take": backward_take, "_backward_pick": backward_pick,
            "_backward_gather_nd": backward_gather_nd, "scatter_nd": scatter_nd, "_scatter_set_nd": scatter_set_nd}
