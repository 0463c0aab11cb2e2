"""Reductions: inference and gradients."""

from __future__ import annotations

from . import gradient, infer
from ._util import norm_axes, spec


def reduced_axes(op: str, attrs: dict, ndim: int) -> tuple[int, ...]:
    """The axes a reduction removes, honouring MXNet's `exclude`."""
    axes = norm_axes(op, attrs["axis"], ndim)
    if attrs.get("exclude"):
        axes = tuple(i for i in range(ndim) if i not in axes)
    return axes


def reduced_shape(op: str, attrs: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    axes = reduced_axes(op, attrs, len(shape))
    if attrs["keepdims"]:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    out = tuple(s for i, s in enumerate(shape) if i not in axes)
    return out or (1,)  # MXNet 1.x has no 0-d results: a full reduction gives shape (1,)


@infer("sum")
def _sum(attrs, data):
    return spec(reduced_shape("sum", attrs, data.shape), data.dtype)


def keepdims_shape(op: str, attrs: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    axes = reduced_axes(op, attrs, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


@gradient("sum")
def _sum_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    g = ograds[0].reshape(keepdims_shape("sum", attrs, x.shape))
    return [F.broadcast_like(g, x)]
