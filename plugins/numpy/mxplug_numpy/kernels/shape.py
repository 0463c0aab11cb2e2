"""Shape kernels over an array module `xp` (NumPy; CuPy reuses them).

Every result is a fresh array: where NumPy answers with a view of the input (reshape, transpose, flip,
broadcast_to, diagonal, split), the kernel copies it, because the core may write into outputs in place.
A view of an intermediate the kernel made itself is fine. Target shapes come from the same functions
inference uses (mxplug.ops.shape), so kernel and inference cannot disagree.
"""

from __future__ import annotations

from mxplug.ops import shape as rules


def make_kernels(xp) -> dict:
    def reshaped(data, shape):
        return data.reshape(shape).copy()

    def transpose(data, *, axes):
        return xp.transpose(data, rules.transpose_axes({"axes": axes}, data.ndim)).copy()

    def reverse(data, *, axis):
        out = data
        for a in axis:  # one flip per listed axis: an axis given twice is restored, as in MXNet
            out = xp.flip(out, axis=a)
        return out.copy()

    def depth_to_space(data, *, block_size):
        b, (n, c, h, w) = block_size, data.shape
        blocks = data.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2).copy()
        return blocks.reshape(n, c // (b * b), h * b, w * b)

    def space_to_depth(data, *, block_size):
        b, (n, c, h, w) = block_size, data.shape
        blocks = data.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4).copy()
        return blocks.reshape(n, c * b * b, h // b, w // b)

    def diag(data, *, k, axis1, axis2):
        if data.ndim == 1:
            return xp.diag(data, k)
        return xp.diagonal(data, k, axis1, axis2).copy()

    def diag_backward(data, like, *, k, axis1, axis2):
        a1, a2, length = rules.diag_axes({"k": k, "axis1": axis1, "axis2": axis2}, like.shape)
        # Work with the two diagonal axes last, write the diagonal there, then move them back.
        moved = [s for i, s in enumerate(like.shape) if i not in (a1, a2)] + [like.shape[a1], like.shape[a2]]
        out = xp.zeros(tuple(moved), dtype=data.dtype)
        steps = xp.arange(length)
        out[..., steps + max(0, -k), steps + max(0, k)] = data
        return xp.ascontiguousarray(xp.moveaxis(out, (-2, -1), (a1, a2)))

    def split(op: str):
        def kernel(data, **attrs):
            axis, bounds = rules.split_bounds(op, attrs, data.shape)
            parts = []
            for a, b in bounds:
                index = (slice(None),) * axis + (slice(a, b),)
                part = data[index]
                if attrs["squeeze_axis"]:
                    part = part.reshape(part.shape[:axis] + part.shape[axis + 1:])
                parts.append(part.copy())
            return tuple(parts)

        return kernel

    def tile(data, *, reps):
        return xp.tile(data, reps)

    def repeat(data, *, repeats, axis):
        return xp.repeat(data, repeats, axis=axis)

    def pad(data, *, mode, pad_width, constant_value):
        pairs = rules.pad_pairs("Pad", pad_width, data.shape)
        if mode == "constant":
            return xp.pad(data, pairs, mode="constant", constant_values=constant_value)
        return xp.pad(data, pairs, mode=mode)

    def pad_backward(data, *, mode, pad_width):
        out = data
        for axis, (before, after) in enumerate(rules.pad_pairs("_pad_backward", pad_width, data.shape)):
            if before or after:
                out = _unpad_axis(xp, out, axis, before, after, mode)
        return out.copy() if out is data else out

    def broadcast_to(data, *, shape):
        return xp.broadcast_to(data, rules.broadcast_to_shape(shape, data.shape)).copy()

    def broadcast_axis(data, *, axis, size):
        return xp.broadcast_to(data, rules.broadcast_axis_shape(axis, size, data.shape)).copy()

    def broadcast_like(lhs, rhs, *, lhs_axes, rhs_axes):
        if lhs_axes is None:
            return xp.broadcast_to(lhs, rhs.shape).copy()
        shape = list(lhs.shape)
        for a, b in zip(lhs_axes, rhs_axes, strict=True):
            shape[a % lhs.ndim] = rhs.shape[b % rhs.ndim]
        return xp.broadcast_to(lhs, tuple(shape)).copy()

    return {
        "Reshape": lambda data, *, shape, reverse: reshaped(data, rules.reshape_target(data.shape, shape, reverse)),
        "reshape_like": lambda lhs, rhs, **attrs: reshaped(lhs, rules.reshape_like_shape(attrs, lhs.shape,
                                                                                          rhs.shape)),
        "Flatten": lambda data: reshaped(data, rules.flatten_shape(data.shape)),
        "expand_dims": lambda data, *, axis: reshaped(data, rules.expand_dims_shape(axis, data.shape)),
        "squeeze": lambda data, *, axis: reshaped(data, rules.squeeze_shape(axis, data.shape)),
        "transpose": transpose,
        "SwapAxis": lambda data, *, dim1, dim2: xp.swapaxes(data, dim1, dim2).copy(),
        "reverse": reverse,
        "depth_to_space": depth_to_space,
        "space_to_depth": space_to_depth,
        "diag": diag,
        "_diag_backward": diag_backward,
        "Concat": lambda *data, num_args, dim: xp.concatenate(data, axis=dim),
        "stack": lambda *data, axis, num_args: xp.stack(data, axis=axis),
        "SliceChannel": split("SliceChannel"),
        "_split_v2": split("_split_v2"),
        "tile": tile,
        "repeat": repeat,
        "Pad": pad,
        "_pad_backward": pad_backward,
        "broadcast_to": broadcast_to,
        "broadcast_axis": broadcast_axis,
        "broadcast_like": broadcast_like,
        "shape_array": lambda data: xp.asarray(data.shape, dtype=xp.int64).reshape(-1),
        "size_array": lambda data: xp.asarray([data.size], dtype=xp.int64),
    }


def _unpad_axis(xp, g, axis: int, before: int, after: int, mode: str):
    """The adjoint of padding one axis: the core of `g`, plus (edge, reflect) what the padding copied."""

    def part(start: int, stop: int):
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, stop)
        return tuple(index)

    n = g.shape[axis] - before - after
    core = g[part(before, before + n)].copy()
    if mode == "edge":  # every padded element copied the first or the last element
        core[part(0, 1)] += g[part(0, before)].sum(axis=axis, keepdims=True)
        core[part(n - 1, n)] += g[part(before + n, before + n + after)].sum(axis=axis, keepdims=True)
    elif mode == "reflect":  # padded element before-1-j copied element j+1; after-pad element n+j copied n-2-j
        core[part(1, before + 1)] += xp.flip(g[part(0, before)], axis=axis)
        core[part(n - 1 - after, n - 1)] += xp.flip(g[part(before + n, before + n + after)], axis=axis)
    return core
