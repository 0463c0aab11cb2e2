"""Shape operators: inference and gradients (MXNet 1.9 semantics).

The target-shape functions (`reshape_target`, `squeeze_shape`, …) are shared with the kernels, which must
produce exactly what inference promises. Gradients are written with F's operators only: the reshaping
family sends the gradient back with `reshape_like`, joins and splits undo one another, repetition sums
over a reshaped gradient, and Pad and diag have small internal backward operators of their own.
"""

from __future__ import annotations

from itertools import accumulate
from math import prod

import numpy as np

from ..base import OperatorAttributeError, ShapeError
from . import gradient, infer, num_outputs
from ._util import norm_axes, norm_axis, same_dtype, spec

__all__ = [
    "reshape_target", "reshape_like_shape", "flatten_shape", "expand_dims_shape", "squeeze_shape",
    "transpose_axes", "diag_axes", "diag_shape", "split_bounds", "tile_aligned", "pad_pairs",
    "broadcast_to_shape", "broadcast_axis_shape",
]

Shape = tuple[int, ...]


def _error(op: str, message: str) -> ShapeError:
    return ShapeError(f"operator '{op}': {message}")


# == reshaping =====================================================================================================
def reshape_target(src: Shape, codes: Shape, reverse: bool = False) -> Shape:  # noqa: FBT001
    """MXNet's Reshape codes applied to `src` (0 copy, -1 infer, -2 rest, -3 merge two, -4 split one).

    With reverse=True MXNet reverses both the input shape and the code list, applies the codes, and reverses
    the result; a split is then written `d1, d2, -4` (it reads `-4, d2, d1` once reversed).
    """
    if not codes:
        raise _error("Reshape", f"shape=() gives no dimensions for an array of shape {src}")
    return _apply_codes(src, codes, reverse)


def _apply_codes(shown_src: Shape, shown_codes: Shape, reverse: bool) -> Shape:  # noqa: FBT001
    """The codes applied left to right (to the reversed shapes when `reverse`); messages quote the user's."""
    flip = (lambda t: tuple(t)[::-1]) if reverse else tuple
    src, codes = flip(shown_src), flip(shown_codes)

    def fail(why: str) -> ShapeError:
        return _error("Reshape", f"cannot reshape array of shape {shown_src} with shape={shown_codes}: {why}")

    out: list[int] = []
    infer_at = None
    i = j = 0  # i: position in src, j: position in codes
    while j < len(codes):
        c = codes[j]
        if c > 0:
            out.append(c)
            i += 1
        elif c == 0:
            if i >= len(src):
                raise fail("code 0 has no input dimension left to copy")
            out.append(src[i])
            i += 1
        elif c == -1:
            if infer_at is not None:
                raise fail("only one dimension can be inferred (-1)")
            infer_at = len(out)
            out.append(1)
            i += 1
        elif c == -2:
            out.extend(src[i:])
            i = len(src)
        elif c == -3:
            if i + 1 >= len(src):
                raise fail("code -3 needs two input dimensions to merge")
            out.append(src[i] * src[i + 1])
            i += 2
        elif c == -4:
            if j + 2 >= len(codes) or i >= len(src):
                raise fail("code -4 needs an input dimension and two values to split it into")
            out.extend(_split_dim(src[i], codes[j + 1], codes[j + 2], fail))
            i += 1
            j += 2
        else:
            raise fail(f"{c} is not a valid code")
        j += 1
    total = prod(src)
    if infer_at is not None:
        known = prod(d for k, d in enumerate(out) if k != infer_at)
        if known == 0 or total % known:
            raise fail(f"the {total} elements do not divide into the known dimensions (product {known})")
        out[infer_at] = total // known
    if prod(out) != total:
        raise _error("Reshape", f"cannot reshape array of shape {shown_src} (size {total}) into {flip(out)} "
                                f"(size {prod(out)}), from shape={shown_codes}")
    return flip(out)


def _split_dim(whole: int, d1: int, d2: int, fail) -> tuple[int, int]:
    if d1 == -1 and d2 == -1:
        raise fail("a -4 split may infer only one of its two parts")
    if d1 < -1 or d2 < -1 or d1 == 0 or d2 == 0:
        raise fail(f"the parts ({d1}, {d2}) of a -4 split must be positive or -1")
    if d1 == -1:
        d1 = whole // d2
    elif d2 == -1:
        d2 = whole // d1
    if d1 * d2 != whole:
        raise fail(f"dimension {whole} does not split into ({d1}, {d2})")
    return d1, d2


def _dim_range(op: str, side: str, begin: int | None, end: int | None, ndim: int) -> tuple[int, int]:
    b = 0 if begin is None else begin + ndim if begin < 0 else begin
    e = ndim if end is None else end + ndim if end < 0 else end
    if not 0 <= b < e <= ndim:
        raise _error(op, f"{side}_begin={begin}, {side}_end={end} select no axes of a {side} with {ndim} dimensions")
    return b, e


def reshape_like_shape(attrs: dict, lhs: Shape, rhs: Shape) -> Shape:
    """lhs's shape with its axes [lhs_begin, lhs_end) replaced by rhs's axes [rhs_begin, rhs_end)."""
    lb, le = _dim_range("reshape_like", "lhs", attrs["lhs_begin"], attrs["lhs_end"], len(lhs))
    rb, re = _dim_range("reshape_like", "rhs", attrs["rhs_begin"], attrs["rhs_end"], len(rhs))
    out = lhs[:lb] + rhs[rb:re] + lhs[le:]
    if prod(out) != prod(lhs):
        raise _error("reshape_like", f"cannot reshape lhs {lhs} (size {prod(lhs)}) to {out} (size {prod(out)}), "
                                     f"taken from rhs {rhs}")
    return out


def flatten_shape(shape: Shape) -> Shape:
    if not shape:
        raise _error("Flatten", "the input has no dimensions")
    return (shape[0], prod(shape[1:]))


def expand_dims_shape(axis: int, shape: Shape) -> Shape:
    n = len(shape)
    if not -n - 1 <= axis <= n:
        raise _error("expand_dims", f"axis={axis} is out of range [{-n - 1}, {n}] for an array of shape {shape}")
    a = axis + n + 1 if axis < 0 else axis
    return shape[:a] + (1,) + shape[a:]


def squeeze_shape(axis: Shape | None, shape: Shape) -> Shape:
    if axis is None:
        out = tuple(s for s in shape if s != 1)
    else:
        axes = norm_axes("squeeze", axis, len(shape))
        for a in axes:
            if shape[a] != 1:
                raise _error("squeeze", f"axis={a} of an array of shape {shape} has size {shape[a]}, not 1")
        out = tuple(s for i, s in enumerate(shape) if i not in axes)
    return out or (1,)  # MXNet 1.x has no 0-d arrays


@infer("Reshape")
def _reshape(attrs, data):
    return spec(reshape_target(data.shape, attrs["shape"], attrs["reverse"]), data.dtype)


@infer("reshape_like")
def _reshape_like(attrs, lhs, rhs):
    return spec(reshape_like_shape(attrs, lhs.shape, rhs.shape), lhs.dtype)


@infer("Flatten")
def _flatten(attrs, data):
    return spec(flatten_shape(data.shape), data.dtype)


@infer("expand_dims")
def _expand_dims(attrs, data):
    return spec(expand_dims_shape(attrs["axis"], data.shape), data.dtype)


@infer("squeeze")
def _squeeze(attrs, data):
    return spec(squeeze_shape(attrs["axis"], data.shape), data.dtype)


@gradient("Reshape", "Flatten", "expand_dims", "squeeze")
def _reshape_back(F, attrs, inputs, outputs, ograds):
    return [F.reshape_like(ograds[0], inputs[0])]


@gradient("reshape_like")
def _reshape_like_grad(F, attrs, inputs, outputs, ograds):
    return [F.reshape_like(ograds[0], inputs[0]), None]


# == permuting =====================================================================================================
def transpose_axes(attrs: dict, ndim: int) -> tuple[int, ...]:
    axes = attrs["axes"]
    if not axes:
        return tuple(range(ndim))[::-1]
    if len(axes) != ndim:
        raise _error("transpose", f"axes {axes} do not match an array of {ndim} dimensions")
    norm = tuple(norm_axis("transpose", a, ndim, "axes") for a in axes)
    if sorted(norm) != list(range(ndim)):
        raise _error("transpose", f"axes {axes} are not a permutation of {ndim} dimensions")
    return norm


@infer("transpose")
def _transpose(attrs, data):
    axes = transpose_axes(attrs, len(data.shape))
    return spec(tuple(data.shape[a] for a in axes), data.dtype)


@gradient("transpose")
def _transpose_grad(F, attrs, inputs, outputs, ograds):
    axes = transpose_axes(attrs, inputs[0].ndim)
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return [F.transpose(ograds[0], axes=tuple(inverse))]


@infer("SwapAxis")
def _swapaxis(attrs, data):
    n = len(data.shape)
    a, b = norm_axis("SwapAxis", attrs["dim1"], n, "dim1"), norm_axis("SwapAxis", attrs["dim2"], n, "dim2")
    out = list(data.shape)
    out[a], out[b] = out[b], out[a]
    return spec(out, data.dtype)


@gradient("SwapAxis")
def _swapaxis_grad(F, attrs, inputs, outputs, ograds):
    return [F.SwapAxis(ograds[0], dim1=attrs["dim1"], dim2=attrs["dim2"])]


@infer("reverse")
def _reverse(attrs, data):
    for a in attrs["axis"]:
        norm_axis("reverse", a, len(data.shape))
    return data


@gradient("reverse")
def _reverse_grad(F, attrs, inputs, outputs, ograds):
    return [F.reverse(ograds[0], axis=attrs["axis"])]


def _check_block(op: str, block: int, shape: Shape) -> None:
    if len(shape) != 4:
        raise _error(op, f"data must be 4-D (N, C, H, W), got shape {shape}")
    if block <= 0:
        raise _error(op, f"block_size={block} must be a positive integer")


@infer("depth_to_space")
def _depth_to_space(attrs, data):
    _check_block("depth_to_space", attrs["block_size"], data.shape)
    b, (n, c, h, w) = attrs["block_size"], data.shape
    if c % (b * b):
        raise _error("depth_to_space", f"the {c} channels of data {data.shape} are not a multiple of "
                                       f"block_size²={b * b}")
    return spec((n, c // (b * b), h * b, w * b), data.dtype)


@infer("space_to_depth")
def _space_to_depth(attrs, data):
    _check_block("space_to_depth", attrs["block_size"], data.shape)
    b, (n, c, h, w) = attrs["block_size"], data.shape
    if h % b or w % b:
        raise _error("space_to_depth", f"the height and width of data {data.shape} must be multiples of "
                                       f"block_size={b}")
    return spec((n, c * b * b, h // b, w // b), data.dtype)


@gradient("depth_to_space")
def _depth_to_space_grad(F, attrs, inputs, outputs, ograds):
    return [F.space_to_depth(ograds[0], block_size=attrs["block_size"])]


@gradient("space_to_depth")
def _space_to_depth_grad(F, attrs, inputs, outputs, ograds):
    return [F.depth_to_space(ograds[0], block_size=attrs["block_size"])]


def diag_axes(attrs: dict, shape: Shape) -> tuple[int, int, int]:
    """(axis1, axis2, length of the k-th diagonal) of an N-D (N >= 2) input, or ShapeError."""
    n, k = len(shape), attrs["k"]
    a1, a2 = norm_axis("diag", attrs["axis1"], n, "axis1"), norm_axis("diag", attrs["axis2"], n, "axis2")
    if a1 == a2:
        raise _error("diag", f"axis1={attrs['axis1']} and axis2={attrs['axis2']} refer to the same axis {a1}")
    rows, cols = shape[a1], shape[a2]
    if k > cols or -k > rows:
        raise _error("diag", f"diagonal k={k} does not exist in a {rows}×{cols} matrix (data {shape})")
    return a1, a2, max(0, min(rows - max(0, -k), cols - max(0, k)))


def diag_shape(attrs: dict, shape: Shape) -> Shape:
    if len(shape) == 0:
        raise _error("diag", "data has no dimensions")
    if len(shape) == 1:
        side = shape[0] + abs(attrs["k"])
        return (side, side)
    a1, a2, length = diag_axes(attrs, shape)
    return tuple(s for i, s in enumerate(shape) if i not in (a1, a2)) + (length,)


@infer("diag")
def _diag(attrs, data):
    return spec(diag_shape(attrs, data.shape), data.dtype)


@gradient("diag")
def _diag_grad(F, attrs, inputs, outputs, ograds):
    x, g = inputs[0], ograds[0]
    if x.ndim == 1:  # the input was laid on a diagonal: read it back
        return [F.diag(g, k=attrs["k"])]
    return [F._diag_backward(g, x, k=attrs["k"], axis1=attrs["axis1"], axis2=attrs["axis2"])]


@infer("_diag_backward")
def _diag_backward(attrs, data, like):
    if len(like.shape) < 2:
        raise _error("_diag_backward", f"like {like.shape} must have at least 2 dimensions")
    want = diag_shape(attrs, like.shape)
    if data.shape != want:
        raise _error("_diag_backward", f"data {data.shape} is not the shape {want} of the diagonal of like "
                                       f"{like.shape}")
    return spec(like.shape, data.dtype)


@gradient("_diag_backward")
def _diag_backward_grad(F, attrs, inputs, outputs, ograds):
    return [F.diag(ograds[0], k=attrs["k"], axis1=attrs["axis1"], axis2=attrs["axis2"]), None]


# == joining and splitting =========================================================================================
def _check_num_args(op: str, num_args: int | None, count: int) -> None:
    if count == 0:
        raise OperatorAttributeError(f"operator '{op}' needs at least one input array")
    if num_args is not None and num_args != count:
        raise OperatorAttributeError(f"operator '{op}': num_args={num_args} but {count} arrays were given")


@infer("Concat")
def _concat(attrs, *data):
    _check_num_args("Concat", attrs["num_args"], len(data))
    dtype = same_dtype("Concat", *data)
    first = data[0].shape
    dim = attrs["dim"]
    if not -len(first) <= dim < len(first):
        raise _error("Concat", f"dim={dim} is out of range for data[0] {first} ({len(first)} dimensions)")
    dim %= len(first)
    for i, d in enumerate(data[1:], 1):
        same_rest = len(d.shape) == len(first) and all(
            a == b for k, (a, b) in enumerate(zip(d.shape, first, strict=True)) if k != dim)
        if not same_rest:
            raise _error("Concat", f"data[0] {first} and data[{i}] {d.shape} differ on axes other than "
                                   f"dim={attrs['dim']}")
    out = list(first)
    out[dim] = sum(d.shape[dim] for d in data)
    return spec(out, dtype)


@gradient("Concat")
def _concat_grad(F, attrs, inputs, outputs, ograds):
    dim = attrs["dim"] % inputs[0].ndim
    starts = (0, *accumulate(x.shape[dim] for x in inputs[:-1]))
    parts = F._split_v2(ograds[0], indices=starts, axis=dim)
    return [parts] if len(inputs) == 1 else list(parts)


@infer("stack")
def _stack(attrs, *data):
    _check_num_args("stack", attrs["num_args"], len(data))
    dtype = same_dtype("stack", *data)
    first = data[0].shape
    for i, d in enumerate(data[1:], 1):
        if d.shape != first:
            raise _error("stack", f"data[{i}] {d.shape} differs from data[0] {first}: stacked arrays share a shape")
    axis = norm_axis("stack", attrs["axis"], len(first) + 1)
    return spec(first[:axis] + (len(data),) + first[axis:], dtype)


@gradient("stack")
def _stack_grad(F, attrs, inputs, outputs, ograds):
    axis = attrs["axis"] % outputs[0].ndim
    parts = F.split(ograds[0], num_outputs=len(inputs), axis=axis, squeeze_axis=True)
    return [parts] if len(inputs) == 1 else list(parts)


def split_bounds(op: str, attrs: dict, shape: Shape) -> tuple[int, list[tuple[int, int]]]:
    """(normalised axis, [(start, stop), …]) of the parts SliceChannel or _split_v2 cut `shape` into."""
    axis = norm_axis(op, attrs["axis"], len(shape))
    size = shape[axis]
    sections = attrs["num_outputs"] if op == "SliceChannel" else attrs["sections"]
    if op == "SliceChannel" and sections < 1:
        raise OperatorAttributeError(f"operator '{op}': num_outputs={sections} must be at least 1")
    if sections > 0:
        if size % sections:
            raise _error(op, f"axis {axis} of data {shape} (size {size}) does not split evenly into "
                             f"{sections} parts")
        step = size // sections
        bounds = [(i * step, (i + 1) * step) for i in range(sections)]
    else:
        starts = attrs["indices"]
        rising = all(a <= b for a, b in zip(starts, starts[1:], strict=False))
        if not starts or starts[0] != 0 or not rising or starts[-1] > size:
            raise _error(op, f"indices={starts} must start at 0 and rise to at most {size}, the size of axis "
                             f"{axis} of data {shape}")
        bounds = list(zip(starts, (*starts[1:], size), strict=True))
    if attrs["squeeze_axis"] and any(b - a != 1 for a, b in bounds):
        raise _error(op, f"squeeze_axis=True needs parts of size 1, but axis {axis} of data {shape} splits into "
                         f"{len(bounds)} parts of sizes {[b - a for a, b in bounds]}")
    return axis, bounds


def _split_infer(op: str):
    def rule(attrs, data):
        axis, bounds = split_bounds(op, attrs, data.shape)
        outs = []
        for a, b in bounds:
            if attrs["squeeze_axis"]:
                # a 1-D input gives 0-d parts here: MXNet 1.9 does the same (unlike its reductions)
                outs.append(spec(data.shape[:axis] + data.shape[axis + 1:], data.dtype))
            else:
                outs.append(spec(data.shape[:axis] + (b - a,) + data.shape[axis + 1:], data.dtype))
        return outs

    return rule


infer("SliceChannel")(_split_infer("SliceChannel"))
infer("_split_v2")(_split_infer("_split_v2"))


@num_outputs("SliceChannel")
def _slice_channel_outputs(attrs) -> int:
    return attrs["num_outputs"]


@num_outputs("_split_v2")
def _split_v2_outputs(attrs) -> int:
    return attrs["sections"] if attrs["sections"] > 0 else len(attrs["indices"])


@gradient("SliceChannel", "_split_v2")
def _split_grad(F, attrs, inputs, outputs, ograds):
    axis = attrs["axis"] % inputs[0].ndim
    if attrs["squeeze_axis"]:
        return [F.stack(*ograds, axis=axis)]
    return [F.concat(*ograds, dim=axis)]


# == repeating and padding =========================================================================================
def tile_aligned(shape: Shape, reps: Shape) -> tuple[Shape, Shape]:
    """The shape and reps, the shorter padded with leading 1s (NumPy's and MXNet's tile rule)."""
    n = max(len(shape), len(reps))
    return (1,) * (n - len(shape)) + tuple(shape), (1,) * (n - len(reps)) + tuple(reps)


@infer("tile")
def _tile(attrs, data):
    if any(r < 1 for r in attrs["reps"]):
        raise _error("tile", f"reps={attrs['reps']} must be positive (data {data.shape})")
    shape, reps = tile_aligned(data.shape, attrs["reps"])
    return spec(tuple(s * r for s, r in zip(shape, reps, strict=True)), data.dtype)


@gradient("tile")
def _tile_grad(F, attrs, inputs, outputs, ograds):
    # Output axis i is reps[i] copies of input axis i: split it into (reps[i], size) and sum the copies.
    x = inputs[0]
    _, reps = tile_aligned(x.shape, attrs["reps"])
    codes = tuple(c for r in reps for c in (-4, r, -1))
    copies = F.reshape(ograds[0], shape=codes)
    return [F.reshape_like(F.sum(copies, axis=tuple(range(0, 2 * len(reps), 2))), x)]


@infer("repeat")
def _repeat(attrs, data):
    r, axis = attrs["repeats"], attrs["axis"]
    if r < 0:
        raise _error("repeat", f"repeats={r} must not be negative (data {data.shape})")
    if axis is None:
        return spec((prod(data.shape) * r,), data.dtype)
    a = norm_axis("repeat", axis, len(data.shape))
    return spec(data.shape[:a] + (data.shape[a] * r,) + data.shape[a + 1:], data.dtype)


@gradient("repeat")
def _repeat_grad(F, attrs, inputs, outputs, ograds):
    # Each element became `repeats` neighbours along the axis: split that axis into (size, repeats) and sum.
    x, g, r, axis = inputs[0], ograds[0], attrs["repeats"], attrs["axis"]
    if r == 0:
        return [F.zeros_like(x)]
    if axis is None:
        return [F.reshape_like(F.sum(F.reshape(g, shape=(-1, r)), axis=1), x)]
    a = axis % x.ndim
    split = F.reshape(g, shape=(0,) * a + (-4, -1, r, -2))
    return [F.sum(split, axis=a + 1)]


def pad_pairs(op: str, pad_width: Shape, shape: Shape) -> list[tuple[int, int]]:
    """(before, after) per axis, after MXNet's checks (4-D/5-D, nothing on the first two axes)."""
    if len(shape) not in (4, 5):
        raise _error(op, f"only 4-D and 5-D data can be padded, got shape {shape}")
    if len(pad_width) != 2 * len(shape):
        raise _error(op, f"pad_width {pad_width} must hold 2 values per axis of data {shape} "
                         f"({2 * len(shape)} values)")
    if any(pad_width[:4]):
        raise _error(op, f"pad_width {pad_width} pads the first two axes of data {shape}; they must be 0")
    if any(p < 0 for p in pad_width):
        raise _error(op, f"pad_width {pad_width} must not be negative")
    return list(zip(pad_width[::2], pad_width[1::2], strict=True))


def _check_reflect(op: str, pairs: list[tuple[int, int]], pad_width: Shape, shape: Shape) -> None:
    if any(max(p) >= s for p, s in zip(pairs, shape, strict=True) if max(p) > 0):
        raise _error(op, f"reflect padding {pad_width} must be smaller than each padded axis of data {shape}")


@infer("Pad")
def _pad(attrs, data):
    pairs = pad_pairs("Pad", attrs["pad_width"], data.shape)
    if attrs["mode"] == "reflect":
        _check_reflect("Pad", pairs, attrs["pad_width"], data.shape)
    return spec(tuple(s + b + a for s, (b, a) in zip(data.shape, pairs, strict=True)), data.dtype)


@gradient("Pad")
def _pad_grad(F, attrs, inputs, outputs, ograds):
    return [F._pad_backward(ograds[0], mode=attrs["mode"], pad_width=attrs["pad_width"])]


@infer("_pad_backward")
def _pad_backward(attrs, data):
    pairs = pad_pairs("_pad_backward", attrs["pad_width"], data.shape)
    out = tuple(s - b - a for s, (b, a) in zip(data.shape, pairs, strict=True))
    if any(s < 1 for s in out):
        raise _error("_pad_backward", f"pad_width {attrs['pad_width']} removes all of data {data.shape}")
    if attrs["mode"] == "reflect":
        _check_reflect("_pad_backward", pairs, attrs["pad_width"], out)
    return spec(out, data.dtype)


@gradient("_pad_backward")
def _pad_backward_grad(F, attrs, inputs, outputs, ograds):
    # Pad is linear and _pad_backward is its adjoint, so the adjoint of _pad_backward is Pad (of 0s).
    return [F.Pad(ograds[0], mode=attrs["mode"], pad_width=attrs["pad_width"], constant_value=0.0)]


# == broadcasting ==================================================================================================
def broadcast_to_shape(target: Shape, shape: Shape) -> Shape:
    if len(target) != len(shape):
        raise _error("broadcast_to", f"data {shape} cannot be broadcast to shape={target}: the number of "
                                     "dimensions differs")
    out = tuple(s if t == 0 else t for s, t in zip(shape, target, strict=True))
    for s, t in zip(shape, out, strict=True):
        if t < 0 or (s != t and s != 1):
            raise _error("broadcast_to", f"data {shape} cannot be broadcast to shape={target}")
    return out


def broadcast_axis_shape(axis: Shape, size: Shape, shape: Shape) -> Shape:
    if len(axis) != len(size):
        raise _error("broadcast_axis", f"axis={axis} and size={size} must have the same length")
    out = list(shape)
    for a, s in zip(axis, size, strict=True):
        a = norm_axis("broadcast_axis", a, len(shape))
        if out[a] != 1:
            raise _error("broadcast_axis", f"axis {a} of data {shape} has size {out[a]}; only axes of size 1 "
                                           "can be broadcast")
        if s < 0:
            raise _error("broadcast_axis", f"size={size} must not be negative")
        out[a] = s
    return tuple(out)


@infer("broadcast_to")
def _broadcast_to(attrs, data):
    return spec(broadcast_to_shape(attrs["shape"], data.shape), data.dtype)


@infer("broadcast_axis")
def _broadcast_axis(attrs, data):
    return spec(broadcast_axis_shape(attrs["axis"], attrs["size"], data.shape), data.dtype)


@infer("broadcast_like")
def _broadcast_like(attrs, lhs, rhs):
    la, ra = attrs["lhs_axes"], attrs["rhs_axes"]
    if la is None and ra is None:
        if len(lhs.shape) != len(rhs.shape):
            raise _error("broadcast_like", f"lhs {lhs.shape} and rhs {rhs.shape} differ in ndim")
        out = []
        for a, b in zip(lhs.shape, rhs.shape, strict=True):
            if a != b and a != 1:
                raise _error("broadcast_like", f"cannot broadcast {lhs.shape} to {rhs.shape}")
            out.append(b)
        return spec(out, lhs.dtype)
    if la is None or ra is None or len(la) != len(ra):
        raise _error("broadcast_like", "lhs_axes and rhs_axes must be given together, equally long")
    out = list(lhs.shape)
    for a, b in zip(la, ra, strict=True):
        a = norm_axis("broadcast_like", a, len(lhs.shape), "lhs_axes")
        b = norm_axis("broadcast_like", b, len(rhs.shape), "rhs_axes")
        if out[a] != 1 and out[a] != rhs.shape[b]:
            raise _error("broadcast_like", f"cannot broadcast axis {a} of {lhs.shape} to {rhs.shape[b]}")
        out[a] = rhs.shape[b]
    return spec(out, lhs.dtype)


@gradient("broadcast_to", "broadcast_axis")
def _broadcast_grad(F, attrs, inputs, outputs, ograds):
    return [F._sum_to_like(ograds[0], inputs[0])]


@gradient("broadcast_like")
def _broadcast_like_grad(F, attrs, inputs, outputs, ograds):
    return [F._sum_to_like(ograds[0], inputs[0]), None]


# == shape queries =================================================================================================
@infer("shape_array")
def _shape_array(attrs, data):
    return spec((len(data.shape),), np.int64)


@infer("size_array")
def _size_array(attrs, data):
    return spec((1,), np.int64)

