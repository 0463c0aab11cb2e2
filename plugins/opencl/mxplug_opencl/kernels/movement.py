"""Data movement as strided views: every operator here is one or a few `copy_view` launches (a bit copy per
element size) between a view of the input and a view of the output — transposes permute strides, flips negate
them, broadcasts and tiles zero them, slices offset and scale them, concatenation writes into regions of the
output. Output shapes come from the operators' own inference rules, so they cannot drift from the core's.
"""

from __future__ import annotations

import numpy as np

from mxplug.ops import TensorSpec, rules
from mxplug.ops import shape as shape_rules
from mxplug.ops.index import slice_axis_key, slice_key, slice_like_key

from ..codegen import View, broadcast_view, c_strides, copy_view, fill_view, map_strided, sliced_view, whole
from ..runtime import CTYPES, CLArray


def _specs(op: str, attrs: dict, *inputs: CLArray) -> list[TensorSpec]:
    out = rules(op).infer(attrs, *[TensorSpec(x.shape, x.dtype) for x in inputs])
    return [out] if isinstance(out, TensorSpec) else list(out)


def _moved(data: CLArray, shape: tuple[int, ...], view: View) -> CLArray:
    """A new array of `shape` filled from `view` (read in `shape`'s index order)."""
    dev = data.device
    out = dev.alloc(tuple(shape), data.dtype)
    copy_view(dev, whole(out), view, out.shape)
    return out


# -- same data, new shape: one buffer copy -------------------------------------------------------------------
def reshaping(op: str):
    def kernel(data: CLArray, *rest: CLArray, **attrs) -> CLArray:
        return data.device.duplicate(data, _specs(op, attrs, data, *rest)[0].shape)

    kernel.__name__ = op
    return kernel


# -- permutations and flips ----------------------------------------------------------------------------------
def _permuted(data: CLArray, order) -> CLArray:
    st = c_strides(data.shape)
    return _moved(data, tuple(data.shape[i] for i in order), View(data, 0, tuple(st[i] for i in order)))


def transpose(data: CLArray, *, axes) -> CLArray:
    order = [a % data.ndim for a in axes] if axes else list(reversed(range(data.ndim)))
    return _permuted(data, order)


def swapaxis(data: CLArray, *, dim1, dim2) -> CLArray:
    order = list(range(data.ndim))
    a, b = dim1 % data.ndim, dim2 % data.ndim
    order[a], order[b] = order[b], order[a]
    return _permuted(data, order)


def reverse(data: CLArray, *, axis) -> CLArray:
    st = list(c_strides(data.shape))
    offset = 0
    for a in axis:  # an axis named twice is flipped twice, as in MXNet
        a %= data.ndim
        if data.shape[a]:
            offset += (data.shape[a] - 1) * st[a]
        st[a] = -st[a]
    return _moved(data, data.shape, View(data, offset, tuple(st)))


def depth_to_space(data: CLArray, *, block_size) -> CLArray:
    b, (n, c, h, w) = block_size, data.shape
    blocks = (n, b, b, c // (b * b), h, w)
    st = c_strides(blocks)
    order = (0, 3, 4, 1, 5, 2)
    out = _moved(data, tuple(blocks[i] for i in order), View(data, 0, tuple(st[i] for i in order)))
    out.shape = (n, c // (b * b), h * b, w * b)
    return out


def space_to_depth(data: CLArray, *, block_size) -> CLArray:
    b, (n, c, h, w) = block_size, data.shape
    blocks = (n, c, h // b, b, w // b, b)
    st = c_strides(blocks)
    order = (0, 3, 5, 1, 2, 4)
    out = _moved(data, tuple(blocks[i] for i in order), View(data, 0, tuple(st[i] for i in order)))
    out.shape = (n, c * b * b, h // b, w // b)
    return out


# -- broadcasts, tiles, repeats ------------------------------------------------------------------------------
def broadcasting(op: str):
    def kernel(data: CLArray, *rest: CLArray, **attrs) -> CLArray:
        shape = _specs(op, attrs, data, *rest)[0].shape
        return _moved(data, shape, broadcast_view(data, shape))

    kernel.__name__ = op
    return kernel


def tile(data: CLArray, *, reps) -> CLArray:
    nd = max(data.ndim, len(reps))
    shape = (1,) * (nd - data.ndim) + data.shape
    reps = (1,) * (nd - len(reps)) + tuple(reps)
    st = c_strides(shape)
    # (r0, d0, r1, d1, …) with the repetition axes of stride 0, read in order, is the tiled array.
    view_shape = tuple(x for r, d in zip(reps, shape, strict=True) for x in (r, d))
    view_st = tuple(x for s in st for x in (0, s))
    out = _moved(data, view_shape, View(data, 0, view_st))
    out.shape = tuple(r * d for r, d in zip(reps, shape, strict=True))
    return out


def repeat(data: CLArray, *, repeats, axis) -> CLArray:
    if axis is None:
        shape, ax = (data.size,), 0
    else:
        shape, ax = data.shape, axis % data.ndim
    st = c_strides(shape)
    view_shape = (*shape[:ax + 1], repeats, *shape[ax + 1:])
    view_st = (*st[:ax + 1], 0, *st[ax + 1:])
    out = _moved(data, view_shape, View(data, 0, view_st))
    out.shape = (*shape[:ax], shape[ax] * repeats, *shape[ax + 1:])
    return out


# -- slices ----------------------------------------------------------------------------------------------------
def _sliced(data: CLArray, key) -> CLArray:
    view, shape = sliced_view(whole(data), data.shape, key)
    return _moved(data, shape, view)


def slice_(data: CLArray, *, begin, end, step) -> CLArray:
    return _sliced(data, slice_key("slice", data.shape, begin, end, step))


def slice_view(data: CLArray, *, begin, end, step, shape) -> CLArray:
    out = _sliced(data, slice_key("_slice_view", data.shape, begin, end, step))
    if shape is not None:
        out.shape = tuple(shape)
    return out


def slice_axis(data: CLArray, *, axis, begin, end) -> CLArray:
    return _sliced(data, slice_axis_key({"axis": axis, "begin": begin, "end": end}, data.shape))


def slice_like(data: CLArray, shape_like: CLArray, *, axes) -> CLArray:
    return _sliced(data, slice_like_key({"axes": axes}, data.shape, shape_like.shape))


def slice_assign(lhs: CLArray, rhs: CLArray, *, begin, end, step) -> CLArray:
    dev = lhs.device
    out = dev.duplicate(lhs)
    region, shape = sliced_view(whole(out), out.shape, slice_key("_slice_assign", lhs.shape, begin, end, step))
    copy_view(dev, region, broadcast_view(rhs, shape), shape)
    return out


def slice_assign_scalar(data: CLArray, *, scalar, begin, end, step) -> CLArray:
    dev = data.device
    out = dev.duplicate(data)
    region, shape = sliced_view(whole(out), out.shape, slice_key("_slice_assign_scalar", data.shape, begin, end, step))
    fill_view(dev, region, shape, scalar)
    return out


# -- joins and splits ----------------------------------------------------------------------------------------
def _write_along(out: CLArray, axis: int, start: int, part: CLArray, part_shape: tuple[int, ...]) -> None:
    """Copy `part` (seen as `part_shape`, which has out's ndim) into out[..., start:start+n, ...] on `axis`."""
    st = c_strides(out.shape)
    copy_view(out.device, View(out, start * st[axis], st), whole(part.__class__(part.buf, part_shape, part.dtype,
                                                                                  part.device)), part_shape)


def concat(*data: CLArray, num_args, dim) -> CLArray:
    dev = data[0].device
    out = dev.alloc(_specs("Concat", {"num_args": num_args, "dim": dim}, *data)[0].shape, data[0].dtype)
    ax = dim % out.ndim
    start = 0
    for part in data:
        _write_along(out, ax, start, part, part.shape)
        start += part.shape[ax]
    return out


def stack(*data: CLArray, axis, num_args) -> CLArray:
    dev = data[0].device
    out = dev.alloc(_specs("stack", {"axis": axis, "num_args": num_args}, *data)[0].shape, data[0].dtype)
    ax = axis % out.ndim
    for i, part in enumerate(data):
        _write_along(out, ax, i, part, part.shape[:ax] + (1,) + part.shape[ax:])
    return out


def splitting(op: str):
    def kernel(data: CLArray, **attrs):
        specs = _specs(op, attrs, data)
        ax = attrs["axis"] % data.ndim
        squeezed = attrs.get("squeeze_axis") and len(specs[0].shape) < data.ndim
        outs, start = [], 0
        for s in specs:
            n = 1 if squeezed else s.shape[ax]
            key = [slice(None)] * ax + [slice(start, start + n)]
            part = _sliced(data, key)
            part.shape = s.shape
            outs.append(part)
            start += n
        return tuple(outs)

    kernel.__name__ = op
    return kernel


# -- padding -------------------------------------------------------------------------------------------------
def pad(data: CLArray, *, mode, pad_width, constant_value) -> CLArray:
    dev = data.device
    pairs = shape_rules.pad_pairs("Pad", pad_width, data.shape)
    shape = tuple(n + b + a for n, (b, a) in zip(data.shape, pairs, strict=True))
    out = dev.alloc(shape, data.dtype)
    if mode == "constant":
        dev.fill(out, constant_value)
    st = c_strides(shape)
    interior = View(out, sum(b * s for (b, _), s in zip(pairs, st, strict=True)), st)
    copy_view(dev, interior, whole(data), data.shape)
    if mode == "constant":
        return out
    # Edge and reflect pad one axis at a time, over the full extent of the axes padded before (NumPy's order),
    # each side a copy from inside the array: the edge slice with stride 0, or the mirrored run with stride -1.
    full = whole(out)
    for ax, (before, after) in enumerate(pairs):
        n = data.shape[ax]
        for side, count in (("before", before), ("after", after)):
            if not count:
                continue
            if side == "before":
                dst = slice(0, before)
                src = slice(before, before + 1) if mode == "edge" else slice(2 * before, before, -1)
            else:
                end = before + n
                dst = slice(end, end + after)
                stop = end - 2 - after
                src = slice(end - 1, end) if mode == "edge" else slice(end - 2, stop if stop >= 0 else None, -1)
            rest = [slice(pairs[i][0], pairs[i][0] + data.shape[i]) for i in range(ax + 1, len(shape))]
            d_view, d_shape = sliced_view(full, shape, [*_all(ax), dst, *rest])
            s_view, _ = sliced_view(full, shape, [*_all(ax), src, *rest])
            if mode == "edge":
                s_view = View(out, s_view.offset, tuple(0 if i == ax else x for i, x in enumerate(s_view.strides)))
            copy_view(dev, d_view, s_view, d_shape)
    return out


def _all(n: int) -> list[slice]:
    return [slice(None)] * n


def _diagonal_view(arr: CLArray, k: int, a1: int, a2: int) -> View:
    """The k-th diagonal over (a1, a2) of `arr`, read as its other axes followed by the diagonal's index."""
    st = c_strides(arr.shape)
    rest = tuple(s for i, s in enumerate(st) if i not in (a1, a2))
    return View(arr, max(0, -k) * st[a1] + max(0, k) * st[a2], (*rest, st[a1] + st[a2]))


def diag(data: CLArray, *, k, axis1, axis2) -> CLArray:
    dev = data.device
    (spec,) = _specs("diag", {"k": k, "axis1": axis1, "axis2": axis2}, data)
    out = dev.alloc(spec.shape, data.dtype)
    if data.ndim == 1:  # the input laid on the k-th diagonal of a square of zeros
        dev.fill(out, 0)
        if data.size:
            copy_view(dev, _diagonal_view(out, k, 0, 1), whole(data), data.shape)
        return out
    a1, a2, _ = shape_rules.diag_axes({"k": k, "axis1": axis1, "axis2": axis2}, data.shape)
    copy_view(dev, whole(out), _diagonal_view(data, k, a1, a2), out.shape)
    return out


def diag_backward(data: CLArray, like: CLArray, *, k, axis1, axis2) -> CLArray:
    """Zeros of like's shape with `data` written on the k-th diagonal over (axis1, axis2)."""
    dev = data.device
    a1, a2, _ = shape_rules.diag_axes({"k": k, "axis1": axis1, "axis2": axis2}, like.shape)
    out = dev.fill(dev.alloc(like.shape, data.dtype), 0)
    copy_view(dev, _diagonal_view(out, k, a1, a2), whole(data), data.shape)
    return out


def shape_array(data: CLArray) -> CLArray:
    return data.device.upload(np.asarray(data.shape, dtype=np.int64).reshape(-1))


def size_array(data: CLArray) -> CLArray:
    return data.device.upload(np.asarray([data.size], dtype=np.int64))


def pad_backward(data: CLArray, *, mode, pad_width) -> CLArray:
    """The gradient of Pad, one padded axis at a time (as the reference): the core of the gradient, plus for
    edge and reflect what each padded element copied, added back onto its source."""
    out = data
    for ax, (before, after) in enumerate(shape_rules.pad_pairs("_pad_backward", pad_width, data.shape)):
        if before or after:
            out = _unpad_axis(out, ax, before, after, mode)
    return data.device.duplicate(data) if out is data else out


def _unpad_axis(g: CLArray, ax: int, before: int, after: int, mode: str) -> CLArray:
    dev = g.device
    n = g.shape[ax] - before - after
    shape = g.shape[:ax] + (n,) + g.shape[ax + 1:]
    core = dev.alloc(shape, g.dtype)
    full = whole(g)
    src, _ = sliced_view(full, g.shape, [*_all(ax), slice(before, before + n)])
    copy_view(dev, whole(core), src, shape)
    if mode == "constant" or not core.size:
        return core
    if mode == "edge":  # every padded element copied the first or the last element
        adds = [(slice(0, 1), slice(j, j + 1)) for j in range(before)]
        adds += [(slice(n - 1, n), slice(before + n + j, before + n + j + 1)) for j in range(after)]
    else:  # reflect: padded element before-1-j copied element j+1; after-pad element n+j copied n-2-j
        adds = [(slice(1, before + 1), slice(before - 1, None, -1))] if before else []
        if after:
            adds.append((slice(n - 1 - after, n - 1), slice(before + n + after - 1, before + n - 1, -1)))
    w = dev.compute_type(g.dtype) if g.dtype.kind == "f" else CTYPES[g.dtype.name]
    for dst, src in adds:  # in place: each element of the destination reads itself and its source, then writes
        d_view, d_shape = sliced_view(whole(core), shape, [*_all(ax), dst])
        s_view, _ = sliced_view(full, g.shape, [*_all(ax), src])
        map_strided(dev, d_view, d_shape, [("a", d_view, w), ("b", s_view, w)], "a + b")
    return core


def make_kernels() -> dict:
    table: dict = {op: reshaping(op) for op in ("Reshape", "reshape_like", "Flatten", "expand_dims", "squeeze")}
    table.update({op: broadcasting(op) for op in ("broadcast_to", "broadcast_axis", "broadcast_like")})
    table.update({op: splitting(op) for op in ("SliceChannel", "_split_v2")})
    table.update({
        "transpose": transpose, "SwapAxis": swapaxis, "reverse": reverse,
        "depth_to_space": depth_to_space, "space_to_depth": space_to_depth,
        "tile": tile, "repeat": repeat, "Pad": pad, "_pad_backward": pad_backward, "diag": diag,
        "_diag_backward": diag_backward, "shape_array": shape_array, "size_array": size_array,
        "slice": slice_, "_slice_view": slice_view, "slice_axis": slice_axis, "slice_like": slice_like,
        "_slice_assign": slice_assign, "_slice_assign_scalar": slice_assign_scalar,
        "Concat": concat, "stack": stack,
    })
    return table

