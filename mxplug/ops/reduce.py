"""Reductions: inference and gradients.

Axis rules (MXNet 1.x): ``axis=None`` or an empty tuple reduces every axis (and then `exclude` changes
nothing); otherwise `exclude=True` reduces the axes *not* listed. A result with no axes left has shape
(1,) — MXNet 1.x has no 0-d arrays.
"""

from __future__ import annotations

from math import prod

from ..base import OperatorAttributeError
from . import gradient, infer
from ._util import norm_axes, norm_axis, spec

# Reductions sharing the (axis, keepdims, exclude) signature.
AXES_REDUCTIONS = ("sum", "mean", "max", "min", "prod", "nansum", "nanprod")


def reduced_axes(op: str, attrs: dict, ndim: int) -> tuple[int, ...]:
    """The axes a reduction removes (sorted, non-negative), honouring MXNet's `exclude`."""
    axis = attrs["axis"]
    if axis is None or len(axis) == 0:
        return tuple(range(ndim))
    axes = norm_axes(op, axis, ndim)
    if attrs.get("exclude"):
        axes = tuple(i for i in range(ndim) if i not in axes)
    return axes


def keepdims_shape(op: str, attrs: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The result's shape as if keepdims were True: reduced axes become 1."""
    axes = reduced_axes(op, attrs, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def reduced_shape(op: str, attrs: dict, shape: tuple[int, ...]) -> tuple[int, ...]:
    axes = reduced_axes(op, attrs, len(shape))
    if attrs["keepdims"]:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    out = tuple(s for i, s in enumerate(shape) if i not in axes)
    return out or (1,)  # MXNet 1.x has no 0-d results: a full reduction gives shape (1,)


# -- inference ------------------------------------------------------------------------------------------------
def _axes_reduction(op: str):
    @infer(op)
    def rule(attrs, data):
        return spec(reduced_shape(op, attrs, data.shape), data.dtype)

    return rule


for _op in AXES_REDUCTIONS:
    _axes_reduction(_op)


def _arg_shape(op: str, axis: int | None, keepdims: bool, shape: tuple[int, ...]) -> tuple[int, ...]:  # noqa: FBT001
    if axis is None:  # an index into the flattened array
        return (1,) * len(shape) if keepdims else (1,)
    axis = norm_axis(op, axis, len(shape))
    if keepdims:
        return tuple(1 if i == axis else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i != axis) or (1,)


def _arg_reduction(op: str):
    @infer(op)
    def rule(attrs, data):
        # MXNet returns the indices in the input's dtype (float32 for float32 data, int32 for int32 …).
        return spec(_arg_shape(op, attrs["axis"], attrs["keepdims"], data.shape), data.dtype)

    return rule


for _op in ("argmax", "argmin"):
    _arg_reduction(_op)


@infer("argmax_channel")
def _argmax_channel(attrs, data):
    return spec(_arg_shape("argmax_channel", 1, False, data.shape), data.dtype)


def _check_ord(attrs: dict) -> int:
    if attrs["ord"] not in (1, 2):
        raise OperatorAttributeError(f"operator 'norm': attribute 'ord' must be 1 or 2, got {attrs['ord']}")
    return attrs["ord"]


@infer("norm")
def _norm(attrs, data):
    _check_ord(attrs)
    return spec(reduced_shape("norm", attrs, data.shape), attrs["out_dtype"] or data.dtype)


# -- gradients ------------------------------------------------------------------------------------------------
# `g_k` below is the output gradient reshaped to keepdims form, so it broadcasts against the input.
def _kept(op: str, attrs: dict, x, y):
    """`y` (an output or its gradient) reshaped so that it broadcasts against the input `x`."""
    return y.reshape(keepdims_shape(op, attrs, x.shape))


def _reduce_kept(fn, t, axes: tuple[int, ...]):
    """`fn(t)` over `axes` with keepdims; no axes means no reduction (MXNet would reduce all for axis=())."""
    return fn(t, axis=axes, keepdims=True) if axes else t


@gradient("sum")
def _sum_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    return [F.broadcast_like(_kept("sum", attrs, x, ograds[0]), x)]


@gradient("mean")
def _mean_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    count = prod(x.shape[a] for a in reduced_axes("mean", attrs, x.ndim))
    return [F.broadcast_like(_kept("mean", attrs, x, ograds[0]), x) * (1.0 / max(count, 1))]


@gradient("max", "min")
def _extremum_grad(F, attrs, inputs, outputs, ograds):
    # MXNet: every element equal to the extremum receives the whole gradient (ties are not split).
    x = inputs[0]
    hit = F.broadcast_equal(x, _kept("max", attrs, x, outputs[0]))
    return [F.broadcast_mul(_kept("max", attrs, x, ograds[0]), hit)]


@gradient("nansum")
def _nansum_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    return [F.broadcast_mul(_kept("nansum", attrs, x, ograds[0]), x == x)]  # x == x is 0 exactly at NaN


def _prod_partials(F, x, axes: tuple[int, ...]):
    """d prod(x) / dx over `axes`: the product of the *other* elements, without dividing by zero.

    MXNet computes out / x, which is 0/0 = NaN wherever x is 0; here a slice with one zero gives that zero
    the product of the rest, and a slice with two or more zeros gives zeros everywhere.
    """
    is_zero = x == 0
    safe = F.where(is_zero, F.ones_like(x), x)
    nonzero_prod = _reduce_kept(F.prod, safe, axes)
    zeros = _reduce_kept(F.sum, is_zero, axes)
    at_nonzero = F.broadcast_div(nonzero_prod * (zeros == 0), safe)
    at_zero = F.broadcast_like(nonzero_prod * (zeros == 1), x)
    return F.where(is_zero, at_zero, at_nonzero)


@gradient("prod")
def _prod_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    partials = _prod_partials(F, x, reduced_axes("prod", attrs, x.ndim))
    return [F.broadcast_mul(_kept("prod", attrs, x, ograds[0]), partials)]


@gradient("nanprod")
def _nanprod_grad(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    valid = x == x  # 0 at NaN: those elements count as 1 in the product and get no gradient
    partials = _prod_partials(F, F.where(valid, x, F.ones_like(x)), reduced_axes("nanprod", attrs, x.ndim))
    return [F.broadcast_mul(_kept("nanprod", attrs, x, ograds[0]), partials * valid)]


@gradient("argmax", "argmin", "argmax_channel")
def _index_grad(F, attrs, inputs, outputs, ograds):
    return [F.zeros_like(inputs[0])]  # MXNet: indices are piecewise constant, their gradient is zero


@gradient("norm")
def _norm_grad(F, attrs, inputs, outputs, ograds):
    x, out, g = inputs[0], outputs[0], ograds[0]
    if out.dtype != x.dtype:  # out_dtype: bring the gradient back to the input's dtype
        out, g = F.cast(out, dtype=x.dtype), F.cast(g, dtype=x.dtype)
    g_k = _kept("norm", attrs, x, g)
    if _check_ord(attrs) == 1:
        return [F.broadcast_mul(g_k, F.sign(x))]
    # As MXNet: x / |x|, which is NaN where the norm is 0.
    return [F.broadcast_mul(F.broadcast_div(g_k, _kept("norm", attrs, x, out)), x)]
