"""Indexing operators: inference and gradients, and the slice rules the kernels share.

Every slicing operator (slice, slice_axis, slice_like, _slice_view, _slice_assign, _slice_assign_scalar) is
reduced to one Python `slice` per axis by the `*_key` functions below, which both inference and the kernels
call, so the two cannot disagree. Their gradients write the output gradient back into zeros with
`_slice_assign`; the gathers (take, pick, gather_nd) have the scatter-adds `_backward_*` as gradients, and each
of those has its gather as gradient, so gradients of any order stay within the family.
"""

from __future__ import annotations

from math import prod

from ..base import DTypeError, OperatorAttributeError, ShapeError
from . import gradient, infer
from ._util import norm_axis, same_dtype, spec

__all__ = ["slice_key", "slice_axis_key", "slice_like_key", "sliced_shape", "key_attrs", "reduced_shape", "view_shape"]

Key = tuple[slice, ...]


# -- slice rules -------------------------------------------------------------------------------------------------
def slice_key(op: str, shape: tuple[int, ...], begin, end, step) -> Key:
    """`slice`'s begin/end/step (None elements allowed) → one Python slice per axis of `shape`.

    >>> slice_key('slice', (4, 5), (1, None), (3, None), (None, -1))
    (slice(1, 3, None), slice(None, None, -1))
    """
    if len(begin) != len(end):
        raise ShapeError(f"operator '{op}': begin {begin} and end {end} must have the same length")
    if step and len(step) != len(begin):
        raise ShapeError(f"operator '{op}': step {step} must be empty or as long as begin {begin}")
    if len(begin) > len(shape):
        raise ShapeError(f"operator '{op}': begin {begin} slices {len(begin)} axes of an array of shape {shape}")
    steps = step or (None,) * len(begin)
    if 0 in steps:
        raise ShapeError(f"operator '{op}': step {step} contains a zero")
    return tuple(map(slice, begin, end, steps)) + (slice(None),) * (len(shape) - len(begin))


def slice_axis_key(attrs: dict, shape: tuple[int, ...]) -> Key:
    """slice_axis's (axis, begin, end) → a key, with MXNet's checks (begin < end <= size, no clamping)."""
    op = "slice_axis"
    axis = norm_axis(op, attrs["axis"], len(shape))
    n = shape[axis]
    begin, end = attrs["begin"], attrs["end"]
    b = begin + n if begin < 0 else begin
    e = n if end is None else (end + n if end < 0 else end)
    if n == 0:
        b = e = 0
    elif e > n or not 0 <= b < e:
        raise ShapeError(
            f"operator '{op}': begin={begin}, end={end} do not select a non-empty range of axis {axis} "
            f"(size {n}); MXNet requires -size <= begin < end <= size"
        )
    return tuple(slice(b, e) if i == axis else slice(None) for i in range(len(shape)))


def slice_like_key(attrs: dict, shape: tuple[int, ...], like: tuple[int, ...]) -> Key:
    """slice_like's axes → a key taking the leading `like[a]` entries of each axis a."""
    op = "slice_like"
    axes = attrs["axes"]
    if not axes:
        if len(like) != len(shape):
            raise ShapeError(
                f"operator '{op}': data {shape} and shape_like {like} differ in ndim; give `axes` to slice some axes"
            )
        axes = range(len(shape))
    key = [slice(None)] * len(shape)
    for a in axes:
        ax = norm_axis(op, a, len(shape), "axes")
        if ax >= len(like):
            raise ShapeError(f"operator '{op}': axis {a} is out of range for shape_like {like}")
        if like[ax] > shape[ax]:
            raise ShapeError(f"operator '{op}': shape_like {like} is larger than data {shape} on axis {ax}")
        key[ax] = slice(0, like[ax])
    return tuple(key)


def sliced_shape(shape: tuple[int, ...], key: Key) -> tuple[int, ...]:
    return tuple(len(range(*k.indices(n))) for k, n in zip(key, shape, strict=True))


def key_attrs(key: Key) -> dict:
    """A key back as begin/end/step attributes (what _slice_assign takes)."""
    return {"begin": tuple(k.start for k in key), "end": tuple(k.stop for k in key),
            "step": tuple(k.step for k in key)}


def _slice_op_key(op: str, attrs: dict, shape: tuple[int, ...]) -> Key:
    return slice_key(op, shape, attrs["begin"], attrs["end"], attrs["step"])


# -- slicing -----------------------------------------------------------------------------------------------------
@infer("slice")
def _slice(attrs, data):
    return spec(sliced_shape(data.shape, _slice_op_key("slice", attrs, data.shape)), data.dtype)


@gradient("slice")
def _slice_grad(F, attrs, inputs, outputs, ograds):
    return [_unslice(F, inputs[0], ograds[0], _slice_op_key("slice", attrs, inputs[0].shape))]


def view_shape(attrs: dict, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """_slice_view's (region shape, result shape): `shape` reshapes the region (same size) when given."""
    region = sliced_shape(shape, _slice_op_key("_slice_view", attrs, shape))
    target = attrs["shape"]
    if target is None:
        return region, region
    if prod(target) != prod(region):
        raise ShapeError(f"operator '_slice_view': shape={target} does not hold the {prod(region)} elements of the "
                         f"region {region}")
    return region, target


@infer("_slice_view")
def _slice_view(attrs, data):
    return spec(view_shape(attrs, data.shape)[1], data.dtype)


@gradient("_slice_view")
def _slice_view_grad(F, attrs, inputs, outputs, ograds):
    x, g = inputs[0], ograds[0]
    region, target = view_shape(attrs, x.shape)
    g = g if region == target else F.reshape(g, shape=region)
    return [_unslice(F, x, g, _slice_op_key("_slice_view", attrs, x.shape))]


def _unslice(F, x, g, key: Key):
    """The gradient of a slice: g written into zeros shaped like x."""
    return F._slice_assign(F.zeros_like(x), g, **key_attrs(key))


@infer("slice_axis")
def _slice_axis(attrs, data):
    return spec(sliced_shape(data.shape, slice_axis_key(attrs, data.shape)), data.dtype)


@gradient("slice_axis")
def _slice_axis_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    return [_unslice(F, x, ograds[0], slice_axis_key(attrs, x.shape))]


@infer("slice_like")
def _slice_like(attrs, data, like):
    return spec(sliced_shape(data.shape, slice_like_key(attrs, data.shape, like.shape)), data.dtype)


@gradient("slice_like")
def _slice_like_grad(F, attrs, inputs, outputs, ograds):
    x, like = inputs
    return [_unslice(F, x, ograds[0], slice_like_key(attrs, x.shape, like.shape)), None]


@infer("_slice_assign")
def _slice_assign(attrs, lhs, rhs):
    same_dtype("_slice_assign", lhs, rhs)
    region = sliced_shape(lhs.shape, _slice_op_key("_slice_assign", attrs, lhs.shape))
    if rhs.shape != region:
        raise ShapeError(
            f"operator '_slice_assign': rhs {rhs.shape} does not match the region {region} of lhs {lhs.shape} "
            f"selected by begin={attrs['begin']}, end={attrs['end']}, step={attrs['step']}"
        )
    return lhs


@gradient("_slice_assign")
def _slice_assign_grad(F, attrs, inputs, outputs, ograds):
    g, region = ograds[0], {k: attrs[k] for k in ("begin", "end", "step")}
    return [F._slice_assign_scalar(g, scalar=0.0, **region), F.slice(g, **region)]


@infer("_slice_assign_scalar")
def _slice_assign_scalar(attrs, data):
    _slice_op_key("_slice_assign_scalar", attrs, data.shape)
    return data


@gradient("_slice_assign_scalar")
def _slice_assign_scalar_grad(F, attrs, inputs, outputs, ograds):
    return [F._slice_assign_scalar(ograds[0], **dict(attrs, scalar=0.0))]


# -- take, batch_take, pick, one_hot ----------------------------------------------------------------------------
def _data_axis(op: str, axis: int, shape: tuple[int, ...]) -> int:
    if not shape:
        raise ShapeError(f"operator '{op}': data must have at least one dimension")
    return norm_axis(op, axis, len(shape))


@infer("take")
def _take(attrs, a, indices):
    ax = _data_axis("take", attrs["axis"], a.shape)
    return spec(a.shape[:ax] + indices.shape + a.shape[ax + 1:], a.dtype)


@gradient("take")
def _take_grad(F, attrs, inputs, outputs, ograds):
    a, indices = inputs
    return [F._backward_take(ograds[0], indices, axis=attrs["axis"], mode=attrs["mode"], shape=a.shape), None]


@infer("_backward_take")
def _backward_take(attrs, ograd, indices):
    shape = attrs["shape"]
    ax = _data_axis("_backward_take", attrs["axis"], shape)
    want = shape[:ax] + indices.shape + shape[ax + 1:]
    if ograd.shape != want:
        raise ShapeError(f"operator '_backward_take': ograd {ograd.shape} should be {want} for data {shape}")
    return spec(shape, ograd.dtype)


@gradient("_backward_take")
def _backward_take_grad(F, attrs, inputs, outputs, ograds):
    return [F.take(ograds[0], inputs[1], axis=attrs["axis"], mode=attrs["mode"]), None]


@infer("batch_take")
def _batch_take(attrs, a, indices):
    if len(a.shape) < 2:
        raise ShapeError(f"operator 'batch_take': a must have at least 2 dimensions, got {a.shape}")
    if indices.dtype.name != "int32":
        raise DTypeError(f"operator 'batch_take': indices must be int32 (as in MXNet), got {indices.dtype.name}")
    rows = prod(a.shape[:-1])
    if prod(indices.shape) != rows:
        raise ShapeError(f"operator 'batch_take': indices {indices.shape} must hold one index per row of a "
                         f"{a.shape} ({rows} rows of {a.shape[-1]})")
    return spec(indices.shape, a.dtype)


def reduced_shape(shape: tuple[int, ...], axis: int, keepdims: bool) -> tuple[int, ...]:  # noqa: FBT001
    """`shape` without `axis` (set to 1 with keepdims); MXNet 1.x gives (1,) for no axes left."""
    if keepdims:
        return shape[:axis] + (1,) + shape[axis + 1:]
    return (shape[:axis] + shape[axis + 1:]) or (1,)


def _pick_axis(op: str, attrs: dict, shape: tuple[int, ...]) -> int:
    if attrs["axis"] is None:
        raise OperatorAttributeError(f"operator '{op}': axis=None is not supported (as in MXNet 1.9); give an axis")
    return _data_axis(op, attrs["axis"], shape)


def _check_pick_index(op: str, index: tuple[int, ...], shape: tuple[int, ...], ax: int) -> None:
    forms = (reduced_shape(shape, ax, False), reduced_shape(shape, ax, True))
    if index not in forms:
        raise ShapeError(f"operator '{op}': index {index} must have data {shape}'s shape without axis {ax}: "
                         f"{forms[0]} or {forms[1]}")


@infer("pick")
def _pick(attrs, data, index):
    ax = _pick_axis("pick", attrs, data.shape)
    _check_pick_index("pick", index.shape, data.shape, ax)
    return spec(reduced_shape(data.shape, ax, attrs["keepdims"]), data.dtype)


@gradient("pick")
def _pick_grad(F, attrs, inputs, outputs, ograds):
    data, index = inputs
    ax = _pick_axis("pick", attrs, data.shape)
    return [F._backward_pick(ograds[0], index, axis=ax, mode=attrs["mode"], shape=data.shape), None]


@infer("_backward_pick")
def _backward_pick(attrs, ograd, index):
    shape = attrs["shape"]
    ax = _data_axis("_backward_pick", attrs["axis"], shape)
    _check_pick_index("_backward_pick", index.shape, shape, ax)
    _check_pick_index("_backward_pick", ograd.shape, shape, ax)
    return spec(shape, ograd.dtype)


@gradient("_backward_pick")
def _backward_pick_grad(F, attrs, inputs, outputs, ograds):
    ograd, index = inputs
    picked = F.pick(ograds[0], index, axis=attrs["axis"], keepdims=True, mode=attrs["mode"])
    return [picked if picked.shape == ograd.shape else picked.reshape(ograd.shape), None]


@infer("one_hot")
def _one_hot(attrs, indices):
    if attrs["depth"] < 0:
        raise ShapeError(f"operator 'one_hot': depth must be non-negative, got {attrs['depth']}")
    if attrs["dtype"].name == "bool":
        raise DTypeError("operator 'one_hot': dtype bool is not supported (as in MXNet); use uint8")
    return spec(indices.shape + (attrs["depth"],), attrs["dtype"])


@gradient("one_hot")
def _one_hot_grad(F, attrs, inputs, outputs, ograds):
    return [F.zeros_like(inputs[0])]  # piecewise constant in the indices


# -- gather_nd and the scatters ----------------------------------------------------------------------------------
def _points(op: str, indices: tuple[int, ...], shape: tuple[int, ...], what: str = "data") -> int:
    """M, the number of leading axes of `shape` that indices (M, Y...) address."""
    if len(indices) < 2:
        raise ShapeError(f"operator '{op}': indices must have at least 2 dimensions (M, ...), got {indices}")
    m = indices[0]
    if not 1 <= m <= len(shape):
        raise ShapeError(f"operator '{op}': indices {indices} address {m} axes, but {what} {shape} has {len(shape)}")
    return m


def _scattered(op: str, data: tuple[int, ...], indices: tuple[int, ...], shape: tuple[int, ...]) -> None:
    m = _points(op, indices, shape, "the output")
    want = indices[1:] + shape[m:]
    if data != want:
        raise ShapeError(f"operator '{op}': data {data} does not fit indices {indices} and shape {shape} "
                         f"(it should be {want})")


@infer("gather_nd")
def _gather_nd(attrs, data, indices):
    m = _points("gather_nd", indices.shape, data.shape)
    return spec(indices.shape[1:] + data.shape[m:], data.dtype)


@gradient("gather_nd")
def _gather_nd_grad(F, attrs, inputs, outputs, ograds):
    data, indices = inputs
    return [F._backward_gather_nd(ograds[0], indices, shape=data.shape), None]


def _scatter(op: str):
    @infer(op)
    def rule(attrs, data, indices):
        _scattered(op, data.shape, indices.shape, attrs["shape"])
        return spec(attrs["shape"], data.dtype)


for _op in ("scatter_nd", "_backward_gather_nd"):
    _scatter(_op)


@gradient("scatter_nd", "_backward_gather_nd")
def _scatter_nd_grad(F, attrs, inputs, outputs, ograds):
    return [F.gather_nd(ograds[0], inputs[1]), None]


@infer("_scatter_set_nd")
def _scatter_set_nd(attrs, lhs, rhs, indices):
    same_dtype("_scatter_set_nd", lhs, rhs)
    if lhs.shape != attrs["shape"]:
        raise ShapeError(f"operator '_scatter_set_nd': lhs {lhs.shape} does not have shape {attrs['shape']}")
    _scattered("_scatter_set_nd", rhs.shape, indices.shape, lhs.shape)
    return lhs


@gradient("_scatter_set_nd")
def _scatter_set_nd_grad(F, attrs, inputs, outputs, ograds):
    _, rhs, indices = inputs
    g = ograds[0]
    return [F._scatter_set_nd(g, F.zeros_like(rhs), indices, shape=attrs["shape"]), F.gather_nd(g, indices), None]
