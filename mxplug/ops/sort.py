"""Sorting and top-k: inference and gradients.

The values' gradients go back to the positions the values came from: the sorting indices are recomputed
in the backward pass and the output gradient is scattered with `_scatter_add_along_axis`, an internal
operator whose own gradient is `_gather_along_axis` (and vice versa), so higher orders work too.
"""

from __future__ import annotations

from math import prod

from ..base import ShapeError
from . import gradient, infer, num_outputs
from ._util import norm_axis, spec


def sort_axis(op: str, axis: int | None, shape: tuple[int, ...]) -> int | None:
    """The normalized axis, or None for the flattened array."""
    return None if axis is None else norm_axis(op, axis, len(shape))


def _sorted_shape(op: str, axis: int | None, shape: tuple[int, ...]) -> tuple[int, ...]:
    return (prod(shape),) if sort_axis(op, axis, shape) is None else tuple(shape)


@infer("sort")
def _sort(attrs, data):
    return spec(_sorted_shape("sort", attrs["axis"], data.shape), data.dtype)


@infer("argsort")
def _argsort(attrs, data):
    return spec(_sorted_shape("argsort", attrs["axis"], data.shape), attrs["dtype"])


def topk_k(attrs: dict, shape: tuple[int, ...]) -> int:
    """How many elements topk selects: k, or the whole axis when k < 1 (MXNet's rule)."""
    axis = sort_axis("topk", attrs["axis"], shape)
    n = prod(shape) if axis is None else shape[axis]
    k = attrs["k"]
    if k > n:
        where = "the flattened array" if axis is None else f"axis {axis} of shape {tuple(shape)}"
        raise ShapeError(f"operator 'topk': k={k} is larger than the {n} elements along {where}")
    return n if k < 1 else k


@infer("topk")
def _topk(attrs, data):
    k = topk_k(attrs, data.shape)
    if attrs["ret_typ"] == "mask":
        return spec(data.shape, data.dtype)
    axis = sort_axis("topk", attrs["axis"], data.shape)
    shape = (k,) if axis is None else tuple(k if i == axis else s for i, s in enumerate(data.shape))
    values, indices = spec(shape, data.dtype), spec(shape, attrs["dtype"])
    return {"value": values, "indices": indices, "both": [values, indices]}[attrs["ret_typ"]]


@num_outputs("topk")
def _topk_outputs(attrs) -> int:
    return 2 if attrs["ret_typ"] == "both" else 1


def _check_along_axis(op: str, axis: int, data: tuple[int, ...], indices: tuple[int, ...]) -> int:
    axis = norm_axis(op, axis, len(data))
    other_axes = [i for i in range(len(data)) if i != axis]
    if len(indices) != len(data) or any(data[i] != indices[i] for i in other_axes):
        raise ShapeError(
            f"operator '{op}': data {tuple(data)} and indices {tuple(indices)} must agree except on axis {axis}"
        )
    return axis


@infer("_gather_along_axis")
def _gather(attrs, data, indices):
    _check_along_axis("_gather_along_axis", attrs["axis"], data.shape, indices.shape)
    return spec(indices.shape, data.dtype)


@infer("_scatter_add_along_axis")
def _scatter(attrs, data, indices):
    axis = _check_along_axis("_scatter_add_along_axis", attrs["axis"], data.shape, indices.shape)
    if data.shape != indices.shape:
        raise ShapeError(
            f"operator '_scatter_add_along_axis': data {data.shape} and indices {indices.shape} must have one shape"
        )
    return spec(tuple(attrs["size"] if i == axis else s for i, s in enumerate(data.shape)), data.dtype)


# -- gradients ------------------------------------------------------------------------------------------------
def _scatter_back(F, g, indices, x, axis: int | None):
    """Send `g` (gradient of values picked from `x` at `indices` along `axis`) back to x's positions."""
    if axis is None:  # the values came from the flattened array
        return F._scatter_add_along_axis(g, indices, axis=0, size=x.size).reshape(x.shape)
    return F._scatter_add_along_axis(g, indices, axis=axis, size=x.shape[axis])


@gradient("sort")
def _sort_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    idx = F.argsort(x, axis=attrs["axis"], is_ascend=attrs["is_ascend"], dtype="int64")
    return [_scatter_back(F, ograds[0], idx, x, attrs["axis"])]


@gradient("topk")
def _topk_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    if attrs["ret_typ"] in ("indices", "mask"):
        return [F.zeros_like(x)]  # MXNet: piecewise constant, zero gradient
    # Recomputed rather than read from outputs[1]: a float16 `dtype` cannot hold large indices exactly.
    idx = F.topk(x, axis=attrs["axis"], k=attrs["k"], ret_typ="indices", is_ascend=attrs["is_ascend"],
                 dtype="int64")
    return [_scatter_back(F, ograds[0], idx, x, attrs["axis"])]


@gradient("argsort")
def _argsort_grad(F, attrs, inputs, outputs, ograds):
    return [F.zeros_like(inputs[0])]


@gradient("_gather_along_axis")
def _gather_grad(F, attrs, inputs, outputs, ograds):
    data, indices = inputs
    axis = norm_axis("_gather_along_axis", attrs["axis"], data.ndim)
    return [F._scatter_add_along_axis(ograds[0], indices, axis=axis, size=data.shape[axis]), None]


@gradient("_scatter_add_along_axis")
def _scatter_grad(F, attrs, inputs, outputs, ograds):
    return [F._gather_along_axis(ograds[0], inputs[1], axis=attrs["axis"]), None]
