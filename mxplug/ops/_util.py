"""Helpers shared by the inference rules of several families."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import DTypeError, ShapeError
from . import TensorSpec

__all__ = ["broadcast_shapes", "norm_axis", "norm_axes", "same_dtype", "spec", "unbroadcast"]


def spec(shape: Sequence[int], dtype) -> TensorSpec:
    return TensorSpec(tuple(int(s) for s in shape), np.dtype(dtype))


def broadcast_shapes(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy/MXNet broadcasting of two shapes, or a ShapeError naming the operator and both shapes."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb, strict=True):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ShapeError(f"operator '{op}': shapes {tuple(a)} and {tuple(b)} cannot be broadcast together")
    return tuple(out)


def norm_axis(op: str, axis: int, ndim: int, name: str = "axis") -> int:
    """A single axis in [-ndim, ndim) → [0, ndim), or ShapeError."""
    if not -ndim <= axis < ndim:
        raise ShapeError(f"operator '{op}': {name}={axis} is out of range for an array of {ndim} dimensions")
    return axis % ndim


def norm_axes(op: str, axes, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """Axes (int, tuple or None = all) → sorted unique non-negative axes, or ShapeError."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, int):
        axes = (axes,)
    out = sorted({norm_axis(op, a, ndim, name) for a in axes})
    if len(out) != len(axes):
        raise ShapeError(f"operator '{op}': {name}={tuple(axes)} repeats an axis")
    return tuple(out)


def same_dtype(op: str, *specs: TensorSpec) -> np.dtype:
    """MXNet's elementwise type rule: all inputs share one dtype."""
    dt = specs[0].dtype
    for s in specs[1:]:
        if s is not None and s.dtype != dt:
            raise DTypeError(
                f"operator '{op}': inputs must share one dtype, got {dt.name} and {s.dtype.name} "
                f"(cast one with .astype())"
            )
    return dt


def unbroadcast(F, grad, like):
    """Sum `grad` over the axes along which `like` was broadcast, giving `like`'s shape."""
    if getattr(grad, "shape", None) is not None and grad.shape == getattr(like, "shape", None):
        return grad  # imperative fast path: nothing was broadcast
    return F._sum_to_like(grad, like)
