"""Inference and gradients of the norm operators (registry/norm.toml).

BatchNorm, LayerNorm, InstanceNorm and GroupNorm share one computation: the data seen as (A, B, D), statistics
over some of those axes, gamma/beta along B (`norm_view` gives each operator's view; the kernels use it too,
so inference and computation agree). Their gradients are single internal operators (`_backward_BatchNorm` …)
computing the data, gamma and beta gradients in one call, as MXNet does.

BatchNorm follows MXNet 1.9.1's CPU operator exactly (tests/oracle/record_norm.py): its `var` output is the
inverse std; the moving statistics are updated by `_backward_BatchNorm` (train-aware: it sees the BACKWARD
pass's training flag, as MXNet's backward sees its own `ctx.is_train`), not by the forward; a backward in
predict mode uses the moving statistics; a backward in training mode after a predict-mode forward uses the
forward's outputs (the moving mean and inverse std) in the batch formula, which is what MXNet computes.

L2Normalization's and the sequence operators' gradients are compositions of forward operators; SequenceLast's
and LRN's are internal operators.
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np

from ..base import DTypeError, OperatorAttributeError, ShapeError
from . import TensorSpec, gradient, infer, infer_inputs, input_names, num_outputs, visible_outputs
from ._util import norm_axis, spec

_FLOATS = (np.dtype("float16"), np.dtype("float32"), np.dtype("float64"))
_F32 = np.dtype("float32")


def _float_dtype(op: str, data: TensorSpec) -> np.dtype:
    if data.dtype not in _FLOATS:
        raise DTypeError(f"operator '{op}' supports float16, float32 and float64 data only, got {data.dtype.name}")
    return data.dtype


def _check_params(op: str, data: TensorSpec, params: dict[str, TensorSpec | None], shape: tuple[int, ...],
                  dtype: np.dtype, why: str) -> None:
    """Every parameter must have `shape` and `dtype` (`why` says where the shape comes from)."""
    for name, p in params.items():
        if p is None:
            continue
        if tuple(p.shape) != shape:
            raise ShapeError(
                f"operator '{op}': {name} {tuple(p.shape)} must have shape {shape} ({why}) for data {data.shape}"
            )
        if p.dtype != dtype:
            raise DTypeError(f"operator '{op}': {name} is {p.dtype.name}, it must be {dtype.name} for "
                             f"{data.dtype.name} data")


def _strip(attrs) -> dict:
    """The attributes as the internal backward operators take them (without the core's `is_train`)."""
    return {k: v for k, v in attrs.items() if k != "is_train"}


# -- the shared (A, B, D) view ---------------------------------------------------------------------------------
class NormView(NamedTuple):
    """How a normalisation sees its data: reshaped to `shape` (A, B, D), statistics over `stat_axes` of it
    (kept as size-1 axes), gamma/beta of length B along axis 1; `stats_shape` is the shape of the mean/std
    outputs."""

    shape: tuple[int, int, int]
    stat_axes: tuple[int, ...]
    stats_shape: tuple[int, ...]


def _split(shape: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    return prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])


def norm_view(op: str, attrs, shape: tuple[int, ...], name: str | None = None) -> NormView:
    """The (A, B, D) view of data of `shape` for BatchNorm, LayerNorm, InstanceNorm or GroupNorm (`name`: the
    operator to name in errors, the layer's backward operator for instance)."""
    shape, name = tuple(shape), name or op
    if op == "BatchNorm":  # statistics per channel: over the axes before and after it
        ax = _channel_axis(name, attrs["axis"], shape)
        return NormView(_split(shape, ax), (0, 2), (shape[ax],))
    if op == "LayerNorm":  # statistics over the axis, per position of the others; gamma along the axis
        ax = norm_axis(name, attrs["axis"], len(shape))
        kept = tuple(1 if i == ax else s for i, s in enumerate(shape))
        return NormView(_split(shape, ax), (1,), kept)
    if len(shape) < 3:
        raise ShapeError(f"operator '{name}': data must be (N, C, spatial...) with 3 or more dimensions, got {shape}")
    n, c = shape[:2]
    groups = c if op == "InstanceNorm" else attrs["num_groups"]
    if groups < 1 or c % groups:
        raise ShapeError(
            f"operator '{name}': the channels of data {shape} ({c}) must be divisible by num_groups ({groups})"
        )
    return NormView((n, groups, prod(shape[1:]) // groups), (2,), (n, groups))


def _channel_axis(op: str, axis: int, shape: tuple[int, ...]) -> int:
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(f"operator '{op}': channel axis {axis} is out of range for data {shape}")
    return axis % len(shape)


def _param_len(op: str, attrs, shape: tuple[int, ...]) -> int:
    return norm_view(op, attrs, shape).shape[1]


# -- BatchNorm ---------------------------------------------------------------------------------------------------
def bn_param_dtype(data_dtype: np.dtype) -> np.dtype:
    """MXNet keeps BatchNorm's parameters and statistics in float32 for float16 data."""
    return _F32 if data_dtype == np.dtype("float16") else data_dtype


def _bn_check(op: str, attrs, data: TensorSpec, **params: TensorSpec | None) -> tuple[int, np.dtype]:
    dt = _float_dtype(op, data)
    ax = _channel_axis(op, attrs["axis"], data.shape)
    c = data.shape[ax]
    pdt = bn_param_dtype(dt)
    _check_params(op, data, params, (c,), pdt, f"the channels on axis {ax}")
    return c, pdt


@infer("BatchNorm")
def _batch_norm(attrs, data, gamma, beta, moving_mean, moving_var):
    c, pdt = _bn_check("BatchNorm", attrs, data, gamma=gamma, beta=beta, moving_mean=moving_mean,
                       moving_var=moving_var)
    return [data, spec((c,), pdt), spec((c,), pdt)]


@infer("_backward_BatchNorm")
def _batch_norm_backward(attrs, ograd, data, gamma, mean, var, moving_mean, moving_var):
    op = "_backward_BatchNorm"
    if tuple(ograd.shape) != tuple(data.shape) or ograd.dtype != data.dtype:
        raise ShapeError(f"operator '{op}': ograd {ograd.shape} {ograd.dtype.name} must match data "
                         f"{data.shape} {data.dtype.name}")
    c, pdt = _bn_check(op, attrs, data, gamma=gamma, mean=mean, var=var, moving_mean=moving_mean,
                       moving_var=moving_var)
    return [data, spec((c,), pdt), spec((c,), pdt)]


@gradient("BatchNorm")
def _batch_norm_grad(F, attrs, inputs, outputs, ograds):
    # The mean/var outputs take no gradient (MXNet blocks them); the moving statistics are updated here.
    data, gamma, _, moving_mean, moving_var = inputs
    dx, dgamma, dbeta = F._internal._backward_BatchNorm(
        ograds[0], data, gamma, outputs[1], outputs[2], moving_mean, moving_var, **_strip(attrs))
    return [dx, dgamma, dbeta, None, None]


@infer_inputs("BatchNorm")
def _batch_norm_inputs(attrs, data, *params):
    if data is None:
        return [data, *params]
    ax = _channel_axis("BatchNorm", attrs["axis"], data.shape)
    p = spec((data.shape[ax],), bn_param_dtype(data.dtype))
    return [data, p, p, p, p]


# -- LayerNorm, InstanceNorm, GroupNorm ----------------------------------------------------------------------------
_AFFINE = ("LayerNorm", "InstanceNorm", "GroupNorm")
_WHY = {"LayerNorm": "the length of the normalised axis", "InstanceNorm": "the channels",
        "GroupNorm": "one per group"}


def _affine_rules(op: str):
    @infer(op)
    def rule(attrs, data, gamma, beta):
        dt = _float_dtype(op, data)
        view = norm_view(op, attrs, data.shape)
        _check_params(op, data, {"gamma": gamma, "beta": beta}, (view.shape[1],), dt, _WHY[op])
        return [data, spec(view.stats_shape, dt), spec(view.stats_shape, dt)]

    @infer(f"_backward_{op}")
    def backward_rule(attrs, ograd, data, gamma, mean, std):
        bop = f"_backward_{op}"
        if tuple(ograd.shape) != tuple(data.shape) or ograd.dtype != data.dtype:
            raise ShapeError(f"operator '{bop}': ograd {ograd.shape} {ograd.dtype.name} must match data "
                             f"{data.shape} {data.dtype.name}")
        dt = _float_dtype(bop, data)
        view = norm_view(op, attrs, data.shape, bop)
        _check_params(bop, data, {"gamma": gamma}, (view.shape[1],), dt, _WHY[op])
        _check_params(bop, data, {"mean": mean, "std": std}, view.stats_shape, dt, "the statistics")
        return [data, gamma, gamma]

    @gradient(op)
    def grad(F, attrs, inputs, outputs, ograds):
        data, gamma, _ = inputs
        backward = getattr(F._internal, f"_backward_{op}")
        return list(backward(ograds[0], data, gamma, outputs[1], outputs[2], **attrs))

    @infer_inputs(op)
    def inputs_rule(attrs, data, gamma=None, beta=None):
        if data is None:
            return [data, gamma, beta]
        p = spec((_param_len(op, attrs, data.shape),), data.dtype)
        return [data, p, p]

    return rule


for _op in _AFFINE:
    _affine_rules(_op)


@visible_outputs("BatchNorm", "LayerNorm", "GroupNorm")
def _mean_var_visible(attrs) -> int:
    return 3 if attrs["output_mean_var"] else 1


@visible_outputs("InstanceNorm", "L2Normalization")
def _one_visible(attrs) -> int:
    return 1


@num_outputs("_backward_BatchNorm", "_backward_LayerNorm", "_backward_InstanceNorm", "_backward_GroupNorm")
def _three(attrs) -> int:
    return 3


# -- L2Normalization -----------------------------------------------------------------------------------------------
def l2_axes(mode: str, ndim: int) -> tuple[int, ...]:
    """The axes L2Normalization sums over (MXNet: a 1-D input is N instances of one element each)."""
    if mode == "instance":
        return tuple(range(1, ndim))
    if mode == "channel":
        return (1,)
    return tuple(range(2, ndim))


@infer("L2Normalization")
def _l2_normalization(attrs, data):
    op = "L2Normalization"
    dt = _float_dtype(op, data)
    mode, shape = attrs["mode"], tuple(data.shape)
    if mode != "instance" and len(shape) < 3:
        raise ShapeError(f"operator '{op}': mode='{mode}' needs data with 3 or more dimensions, got {shape}")
    if not shape:
        raise ShapeError(f"operator '{op}': data must have at least one dimension")
    axes = l2_axes(mode, len(shape))
    norm = tuple(s for i, s in enumerate(shape) if i not in axes)
    return [data, spec(norm, dt)]


@gradient("L2Normalization")
def _l2_normalization_grad(F, attrs, inputs, outputs, ograds):
    # y = x / n: dx = (g - y * Σ(g * y)) / n, the sum over the normalised axes.
    x, (y, norm), g = inputs[0], outputs, ograds[0]
    axes = l2_axes(attrs["mode"], x.ndim)
    kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    n = F.reshape(norm, shape=kept)
    proj = F.sum(g * y, axis=axes, keepdims=True) if axes else g * y
    return [F.broadcast_div(g - F.broadcast_mul(y, proj), n)]


# -- LRN -----------------------------------------------------------------------------------------------------------
def _lrn_check(op: str, attrs, data: TensorSpec) -> np.dtype:
    dt = _float_dtype(op, data)
    if len(data.shape) < 2:
        raise ShapeError(f"operator '{op}': data must be (N, C, ...) with 2 or more dimensions, got {data.shape}")
    n = attrs["nsize"]
    if n < 1 or n % 2 == 0:
        raise OperatorAttributeError(f"operator '{op}': nsize must be a positive odd number, got {n}")
    return dt


@infer("LRN")
def _lrn(attrs, data):
    _lrn_check("LRN", attrs, data)
    return data


@infer("_backward_LRN")
def _lrn_backward(attrs, ograd, data):
    _lrn_check("_backward_LRN", attrs, data)
    if tuple(ograd.shape) != tuple(data.shape) or ograd.dtype != data.dtype:
        raise ShapeError(f"operator '_backward_LRN': ograd {ograd.shape} must match data {data.shape}")
    return data


@gradient("LRN")
def _lrn_grad(F, attrs, inputs, outputs, ograds):
    return [F._internal._backward_LRN(ograds[0], inputs[0], **attrs)]


# -- SequenceMask, SequenceLast, SequenceReverse ----------------------------------------------------------------
_SEQUENCE = ("SequenceMask", "SequenceLast", "SequenceReverse")


def _sequence_check(op: str, attrs, data: TensorSpec, lengths: TensorSpec | None) -> int:
    """The sequence axis, after checking the axis, the data's rank and the lengths."""
    axis = attrs["axis"]
    allowed = (0,) if op == "SequenceReverse" else (0, 1)
    if axis not in allowed:
        raise OperatorAttributeError(
            f"operator '{op}': axis must be {' or '.join(map(str, allowed))} (the sequence axis), got {axis}"
        )
    shape = tuple(data.shape)
    if len(shape) < 2:
        raise ShapeError(f"operator '{op}': data must have a sequence and a batch axis, got {shape}")
    batch = shape[1 - axis]
    if attrs["use_sequence_length"]:
        if lengths is not None and tuple(lengths.shape) != (batch,):
            raise ShapeError(f"operator '{op}': sequence_length {tuple(lengths.shape)} must be (batch,) = "
                             f"({batch},) for data {shape} with axis={axis}")
    elif lengths is not None:
        raise OperatorAttributeError(
            f"operator '{op}': sequence_length was given but use_sequence_length is False"
        )
    return axis


def _sequence_same_shape(op: str):
    @infer(op)
    def rule(attrs, data, sequence_length=None):
        _sequence_check(op, attrs, data, sequence_length)
        return data

    return rule


_sequence_same_shape("SequenceMask")
_sequence_same_shape("SequenceReverse")


def _last_shape(op: str, attrs, data: TensorSpec, lengths: TensorSpec | None) -> tuple[int, ...]:
    axis = _sequence_check(op, attrs, data, lengths)
    return tuple(s for i, s in enumerate(data.shape) if i != axis)


@infer("SequenceLast")
def _sequence_last(attrs, data, sequence_length=None):
    return spec(_last_shape("SequenceLast", attrs, data, sequence_length), data.dtype)


@infer("_backward_SequenceLast")
def _sequence_last_backward(attrs, ograd, data, sequence_length=None):
    op = "_backward_SequenceLast"
    want = _last_shape(op, attrs, data, sequence_length)
    if tuple(ograd.shape) != want or ograd.dtype != data.dtype:
        raise ShapeError(f"operator '{op}': ograd {ograd.shape} must be {want} for data {data.shape}")
    return data


@input_names(*_SEQUENCE)
def _sequence_inputs(attrs) -> list[str]:
    return ["data", "sequence_length"] if attrs["use_sequence_length"] else ["data"]


def _lengths_attrs(attrs) -> dict:
    return {"use_sequence_length": attrs["use_sequence_length"], "axis": attrs["axis"]}


@gradient("SequenceMask")
def _sequence_mask_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    if not attrs["use_sequence_length"]:
        return [g, None]
    return [F.SequenceMask(g, inputs[1], value=0.0, **_lengths_attrs(attrs)), None]


@gradient("SequenceReverse")
def _sequence_reverse_grad(F, attrs, inputs, outputs, ograds):
    # A (partial) reversal is its own inverse, hence its own adjoint.
    return [F.SequenceReverse(ograds[0], inputs[1], **_lengths_attrs(attrs)), None]


@gradient("SequenceLast")
def _sequence_last_grad(F, attrs, inputs, outputs, ograds):
    data, lengths = inputs
    return [F._internal._backward_SequenceLast(ograds[0], data, lengths, **attrs), None]


@infer_inputs(*_SEQUENCE)
def _sequence_infer_inputs(attrs, data, sequence_length=None):
    if data is None or not attrs["use_sequence_length"] or sequence_length is not None:
        return [data, sequence_length]
    return [data, spec((data.shape[1 - attrs["axis"]],), data.dtype)]
