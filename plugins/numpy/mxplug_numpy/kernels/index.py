"""Indexing kernels: slices, gathers, scatters and one-hot (the slice rules come from mxplug.ops.index).

Indices arrive in any dtype and are truncated to int64 (MXNet casts them). Scatter-adds go through
`bincount` over flat positions, which NumPy and CuPy share (CuPy lacks `add.at`/`put_along_axis`).
"""

from __future__ import annotations

from math import prod

from mxplug.base import IndexingError
from mxplug.ops.index import reduced_shape, slice_axis_key, slice_key, slice_like_key


def make_kernels(xp) -> dict:
    def as_index(indices):
        return indices.astype(xp.int64)  # truncates toward zero, as MXNet's cast does

    def checked(op: str, idx, n: int, axis: int, low: int, note: str = ""):
        bad = (idx < low) | (idx >= n)
        if bad.any():
            first = int(idx[bad][0])
            raise IndexingError(f"operator '{op}': index {first} is out of bounds for axis {axis} with size {n}{note}")
        return idx

    def along_axis(op: str, indices, n: int, axis: int, mode: str):
        """Indices into an axis of size n after MXNet's mode: clip, wrap, or raise (negatives rejected)."""
        idx = as_index(indices)
        if mode == "raise" or n == 0:
            return checked(op, idx, n, axis, 0, f" (mode='{mode}')")
        return xp.clip(idx, 0, n - 1) if mode == "clip" else idx % n

    def points(op: str, indices, shape: tuple[int, ...]) -> tuple:
        """indices (M, Y...) → M arrays of shape Y addressing the leading axes of `shape`, negatives wrapped."""
        idx = as_index(indices)
        out = []
        for k in range(idx.shape[0]):
            i = checked(op, idx[k], shape[k], k, -shape[k])
            out.append(xp.where(i < 0, i + shape[k], i))
        return tuple(out)

    def scatter_add(positions, values, shape: tuple[int, ...], dtype):
        """zeros(shape) with values added at flat positions (repeats add up); positions match values' order."""
        total = xp.bincount(positions.reshape(-1), weights=values.reshape(-1).astype(xp.float64),
                            minlength=prod(shape))
        return total.astype(dtype).reshape(shape)

    def axis_positions(idx, shape: tuple[int, ...], ax: int):
        """Flat positions in `shape` of (p, idx[k], q): p over the axes before `ax`, q over those after."""
        pre, n, post = prod(shape[:ax]), shape[ax], prod(shape[ax + 1:])
        rows = xp.arange(pre, dtype=xp.int64).reshape(-1, 1, 1) * n + idx.reshape(1, -1, 1)
        return rows * post + xp.arange(post, dtype=xp.int64).reshape(1, 1, -1)

    def scalar_of(value: float, dtype):
        # Integer dtypes: truncate, then wrap like MXNet's casts (-1 → 255 in uint8).
        if dtype.kind in "iub":
            return xp.asarray(int(value)).astype(dtype)
        return xp.asarray(value, dtype=dtype)

    # -- slices ----------------------------------------------------------------------------------------------
    def slice_(data, *, begin, end, step):
        return data[slice_key("slice", data.shape, begin, end, step)].copy()

    def slice_view(data, *, begin, end, step, shape):
        # A view (MXNet's indexing views); reshaping a contiguous region keeps it one.
        region = data[slice_key("_slice_view", data.shape, begin, end, step)]
        return region if shape is None else region.reshape(shape)

    def slice_assign(lhs, rhs, *, begin, end, step):
        out = lhs.copy()
        out[slice_key("_slice_assign", lhs.shape, begin, end, step)] = rhs
        return out

    def slice_assign_scalar(data, *, scalar, begin, end, step):
        out = data.copy()
        out[slice_key("_slice_assign_scalar", data.shape, begin, end, step)] = scalar_of(scalar, data.dtype)
        return out

    # -- gathers ---------------------------------------------------------------------------------------------
    def take(a, indices, *, axis, mode):
        ax = axis % a.ndim
        return xp.take(a, along_axis("take", indices, a.shape[ax], ax, mode), axis=ax)

    def backward_take(ograd, indices, *, axis, mode, shape):
        ax = axis % len(shape)
        idx = along_axis("take", indices, shape[ax], ax, mode)
        return scatter_add(axis_positions(idx, shape, ax), ograd, shape, ograd.dtype)

    def batch_take(a, indices):
        rows = a.reshape(-1, a.shape[-1])
        idx = xp.clip(as_index(indices).reshape(-1), 0, a.shape[-1] - 1)
        return rows[xp.arange(rows.shape[0]), idx].reshape(indices.shape)

    def pick(data, index, *, axis, keepdims, mode):
        ax = axis % data.ndim
        idx = along_axis("pick", index, data.shape[ax], ax, mode)
        out = xp.take_along_axis(data, idx.reshape(reduced_shape(data.shape, ax, True)), axis=ax)
        return out.reshape(reduced_shape(data.shape, ax, keepdims))

    def backward_pick(ograd, index, *, axis, mode, shape):
        ax = axis % len(shape)
        idx = along_axis("pick", index, shape[ax], ax, mode)
        # One index per (p, q) pair: position (p, idx[p, q], q).
        pre, n, post = prod(shape[:ax]), shape[ax], prod(shape[ax + 1:])
        rows = xp.arange(pre, dtype=xp.int64).reshape(-1, 1) * n + idx.reshape(pre, post)
        positions = rows * post + xp.arange(post, dtype=xp.int64).reshape(1, -1)
        return scatter_add(positions, ograd, shape, ograd.dtype)

    def one_hot(indices, *, depth, on_value, off_value, dtype):
        hit = as_index(indices)[..., None] == xp.arange(depth, dtype=xp.int64)
        return xp.where(hit, scalar_of(on_value, dtype), scalar_of(off_value, dtype))

    def gather_nd(data, indices):
        return data[points("gather_nd", indices, data.shape)]

    # -- scatters --------------------------------------------------------------------------------------------
    def scatter_nd(data, indices, *, shape):
        out = xp.zeros(shape, dtype=data.dtype)
        out[points("scatter_nd", indices, shape)] = data
        return out

    def scatter_set_nd(lhs, rhs, indices, *, shape):
        out = lhs.copy()
        out[points("_scatter_set_nd", indices, shape)] = rhs
        return out

    def backward_gather_nd(data, indices, *, shape):
        pts = points("_backward_gather_nd", indices, shape)
        m = len(pts)
        flat = xp.ravel_multi_index(pts, shape[:m]).reshape(-1)
        return scatter_add(axis_positions(flat, (prod(shape[:m]), *shape[m:]), 0), data, shape, data.dtype)

    return {
        "slice": slice_,
        "_slice_view": slice_view,
        "slice_axis": lambda data, *, axis, begin, end: data[
            slice_axis_key({"axis": axis, "begin": begin, "end": end}, data.shape)].copy(),
        "slice_like": lambda data, shape_like, *, axes: data[
            slice_like_key({"axes": axes}, data.shape, shape_like.shape)].copy(),
        "_slice_assign": slice_assign,
        "_slice_assign_scalar": slice_assign_scalar,
        "take": take,
        "_backward_take": backward_take,
        "batch_take": batch_take,
        "pick": pick,
        "_backward_pick": backward_pick,
        "one_hot": one_hot,
        "gather_nd": gather_nd,
        "scatter_nd": scatter_nd,
        "_scatter_set_nd": scatter_set_nd,
        "_backward_gather_nd": backward_gather_nd,
    }
