"""Sorting and top-k kernels, and the gather/scatter pair behind their gradients."""

from __future__ import annotations


def make_kernels(xp) -> dict:
    def along(data, axis):
        """(array, axis) to sort along: axis None means the flattened array."""
        return (data.reshape(-1), 0) if axis is None else (data, axis % data.ndim)

    def stable_argsort(x, axis: int, ascend: bool):  # noqa: FBT001
        if ascend:
            return xp.argsort(x, axis=axis, kind="stable")
        # Descending with ties kept in their original order (as MXNet): an ascending stable sort of the
        # reversed array lists ties in reversed order; reversing that result and mapping the positions
        # back (j → n-1-j) gives descending keys with ties in original order.
        n = x.shape[axis]
        return (n - 1) - xp.flip(xp.argsort(xp.flip(x, axis), axis=axis, kind="stable"), axis)

    def scatter_add(data, indices, axis: int, size: int):
        """zeros(shape with `size` on axis); out[..., indices[..., j], ...] += data[..., j, ...]."""
        d = xp.moveaxis(data, axis, -1)
        lead = d.shape[:-1]
        rows = 1
        for s in lead:
            rows *= s
        idx = xp.moveaxis(indices, axis, -1).astype(xp.int64).reshape(rows, -1)
        flat = (xp.arange(rows, dtype=xp.int64).reshape(-1, 1) * size + idx).reshape(-1)
        # bincount sums repeated targets (a true scatter-add) and exists in NumPy and CuPy alike.
        out = xp.bincount(flat, weights=d.reshape(-1).astype(xp.float64), minlength=rows * size)
        return xp.moveaxis(out.reshape(*lead, size), -1, axis).astype(data.dtype, order="C")

    def gather(data, indices, *, axis):
        return xp.take_along_axis(data, indices.astype(xp.int64), axis=axis)

    def sort(data, *, axis, is_ascend):
        x, ax = along(data, axis)
        out = xp.sort(x, axis=ax)
        return out if is_ascend else xp.ascontiguousarray(xp.flip(out, ax))

    def argsort(data, *, axis, is_ascend, dtype):
        x, ax = along(data, axis)
        return stable_argsort(x, ax, is_ascend).astype(dtype)

    def topk(data, *, axis, k, ret_typ, is_ascend, dtype):
        x, ax = along(data, axis)
        n = x.shape[ax]
        first_k = (slice(None),) * ax + (slice(0, n if k < 1 else k),)
        idx = stable_argsort(x, ax, is_ascend)[first_k]
        if ret_typ == "mask":
            ones = xp.ones(idx.shape, dtype=data.dtype)
            return scatter_add(ones, idx, ax, n).reshape(data.shape)
        indices = idx.astype(dtype)
        if ret_typ == "indices":
            return indices
        values = xp.take_along_axis(x, idx, axis=ax)
        return values if ret_typ == "value" else (values, indices)

    return {
        "sort": sort,
        "argsort": argsort,
        "topk": topk,
        "_gather_along_axis": gather,
        "_scatter_add_along_axis": lambda data, indices, *, axis, size: scatter_add(
            data, indices, axis % data.ndim, size
        ),
    }
