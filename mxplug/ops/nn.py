"""Inference and gradients of the nn operators (registry/nn.toml), MXNet 1.9 semantics.

Gradients are written with F's operators (differentiable again), except where MXNet's semantics are not a
derivative of the forward or a composition would be slow: SoftmaxOutput's gradient is MXNet's cross-entropy
formula (`_backward_SoftmaxOutput`) and Embedding's weight gradient is a scatter-add (`_backward_Embedding`).
Activation and LeakyReLU derivatives come from tables keyed by act_type; like MXNet they are computed from the
OUTPUT where MXNet does (xelu_grad(out, slope) and friends), which is what makes MXNet's selu gradient
λ(y + α) below 0 rather than the exact y + λα — copied, not corrected.

The shape rules here (`prelu_gamma_shape`, `softmax_output_rows`, `dropout_mask_shape`) are shared with the
kernels, so inference and kernels cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..base import DTypeError, OperatorAttributeError, ShapeError
from . import TensorSpec, gradient, infer, infer_inputs, input_names, num_outputs, visible_outputs
from ._util import norm_axis, same_dtype, spec, unbroadcast

__all__ = ["prelu_gamma_shape", "softmax_output_rows", "dropout_mask_shape", "SELU_LAMBDA", "SELU_ALPHA"]

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_FLOATS = ("float16", "float32", "float64")


def _floats_only(op: str, s: TensorSpec, name: str = "data") -> None:
    if s.dtype.name not in _FLOATS:
        raise DTypeError(f"operator '{op}': {name} must be float16, float32 or float64, got {s.dtype.name}")


# -- shared shape rules ----------------------------------------------------------------------------------------
def prelu_gamma_shape(gamma: tuple[int, ...], data: tuple[int, ...]) -> tuple[int, ...]:
    """MXNet's expand_shape for prelu: gamma's axes, right to left, land on data's axes 1 then 0 where the
    sizes agree (or gamma's is 1); every other axis is 1. (3,) on (2, 3, 4) → (1, 3, 1); (1,) → (1, 1, 1)."""
    out = [1] * len(data)
    s = len(gamma) - 1
    for i in range(len(data) - 1, -1, -1):
        if s >= 0 and i <= 1 and (data[i] == gamma[s] or gamma[s] == 1):
            out[i] = gamma[s]
            s -= 1
    if s != -1:
        raise ShapeError(
            f"operator 'LeakyReLU': gamma {tuple(gamma)} cannot be broadcast to data {tuple(data)} "
            "(prelu's gamma has data's channel size (axis 1) or 1)"
        )
    return tuple(out)


def softmax_output_rows(shape: tuple[int, ...], multi_output: bool, preserve_shape: bool) -> tuple[int, ...]:  # noqa: FBT001
    """The view SoftmaxOutput normalises along axis 1: (n, k, rest) with multi_output, (rest, last) with
    preserve_shape, else (n, everything else): each batch item flattened, as MXNet does."""
    size = math.prod(shape)
    n = shape[0]
    if multi_output:
        return (n, shape[1], size // (n * shape[1]) if n * shape[1] else 0)
    if preserve_shape:
        return (size // shape[-1] if shape[-1] else 0, shape[-1])
    return (n, size // n if n else 0)


def dropout_mask_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """Dropout's mask: data's shape with the `axes` (which share one draw) set to 1."""
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


# -- Activation ------------------------------------------------------------------------------------------------
# dy/dx of each act_type from input x and output y, as MXNet's backward computes it.
_ACTIVATION_DERIVATIVES: dict[str, Callable] = {
    "relu": lambda F, x, y: y > 0,
    "sigmoid": lambda F, x, y: y * (1 - y),
    "tanh": lambda F, x, y: 1 - F.square(y),
    "softrelu": lambda F, x, y: 1 - F.exp(-y),  # MXNet: -expm1(-y)
    "softsign": lambda F, x, y: 1 / F.square(F.abs(x) + 1),
}


@infer("Activation")
def _activation_infer(attrs, data):
    _floats_only("Activation", data)
    return data


@gradient("Activation")
def _activation_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0] * _ACTIVATION_DERIVATIVES[attrs["act_type"]](F, inputs[0], outputs[0])]


# -- LeakyReLU ---------------------------------------------------------------------------------------------------
_SQRT_HALF = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)

# dy/dx from input x, output y, the attributes and the extra operand (prelu's broadcast gamma, rrelu's mask).
# MXNet's xelu_grad(y, s) is 1 where y > 0 else s: written as s + (1 - s)(y > 0) for a number s.
_LEAKY_DERIVATIVES: dict[str, Callable] = {
    "leaky": lambda F, x, y, a, extra: a["slope"] + (1 - a["slope"]) * (y > 0),
    "elu": lambda F, x, y, a, extra: (y > 0) + (y <= 0) * (y + a["slope"]),
    "selu": lambda F, x, y, a, extra: SELU_LAMBDA * ((y > 0) + (y <= 0) * (y + SELU_ALPHA)),
    "gelu": lambda F, x, y, a, extra: (
        0.5 * (1 + F.erf(x * _SQRT_HALF)) + x * F.exp(-0.5 * F.square(x)) * _INV_SQRT_2PI
    ),
    "prelu": lambda F, x, y, a, extra: (x > 0) + (x <= 0) * extra,
    "rrelu": lambda F, x, y, a, extra: (y > 0) + (y <= 0) * extra,
}


@num_outputs("LeakyReLU")
def _leaky_num_outputs(attrs) -> int:
    return 2 if attrs["act_type"] == "rrelu" else 1  # rrelu also returns its slopes, as MXNet 1.9


@input_names("LeakyReLU")
def _leaky_inputs(attrs) -> list[str]:
    return ["data", "gamma"] if attrs["act_type"] == "prelu" else ["data"]


@infer("LeakyReLU")
def _leaky_infer(attrs, data, gamma=None):
    _floats_only("LeakyReLU", data)
    act = attrs["act_type"]
    if act == "prelu":
        if gamma is None:
            raise OperatorAttributeError("operator 'LeakyReLU': act_type='prelu' needs the input gamma")
        same_dtype("LeakyReLU", data, gamma)
        prelu_gamma_shape(gamma.shape, data.shape)
    return [data, data] if act == "rrelu" else data


@infer_inputs("LeakyReLU")
def _leaky_infer_inputs(attrs, data, gamma=None):
    if attrs["act_type"] == "prelu" and gamma is None and data is not None and data.shape:
        channels = data.shape[1] if len(data.shape) > 1 else data.shape[0]
        gamma = spec((channels,), data.dtype)
    return [data, gamma]


@gradient("LeakyReLU")
def _leaky_grad(F, attrs, inputs, outputs, ograds):
    x, gamma = inputs
    act, g = attrs["act_type"], ograds[0]
    extra = None
    if act == "prelu":
        extra = F.reshape(gamma, shape=prelu_gamma_shape(gamma.shape, x.shape))
    elif act == "rrelu":
        extra = outputs[1]
    d_data = g * _LEAKY_DERIVATIVES[act](F, x, outputs[0], attrs, extra)
    if act != "prelu":
        return [d_data, None]
    d_gamma = unbroadcast(F, g * (x <= 0) * x, extra)  # MXNet's prelu_grad: x where x <= 0, else 0
    return [d_data, F.reshape(d_gamma, shape=gamma.shape)]


# -- softmax, log_softmax, softmin ---------------------------------------------------------------------------------
_SOFTMAX_OPS = ("softmax", "log_softmax", "softmin")


def _softmax_infer(op: str) -> Callable:
    def infer_fn(attrs, data, length=None):
        _floats_only(op, data)
        axis = norm_axis(op, attrs["axis"], len(data.shape))
        dtype = attrs["dtype"]
        if dtype is not None and dtype.name not in _FLOATS:
            raise OperatorAttributeError(
                f"operator '{op}': dtype must be None, float16, float32 or float64, got {dtype.name}"
            )
        if attrs["use_length"]:
            if op != "softmax":
                raise OperatorAttributeError(
                    f"operator '{op}': use_length=True needs a length input, which only softmax takes in MXNet 1.9"
                )
            _check_length(data.shape, axis, length)
        elif length is not None:
            raise OperatorAttributeError(f"operator '{op}': a length input needs use_length=True")
        return spec(data.shape, dtype or data.dtype)

    return infer_fn


def _check_length(shape: tuple[int, ...], axis: int, length: TensorSpec | None) -> None:
    if length is None:
        raise OperatorAttributeError("operator 'softmax': use_length=True needs the input length")
    if length.dtype.kind not in "iu":
        raise DTypeError(f"operator 'softmax': length must have an integer dtype, got {length.dtype.name}")
    want = shape[:axis] + shape[axis + 1:]
    if length.shape != want:
        raise ShapeError(
            f"operator 'softmax': length {length.shape} must be data {shape} without axis {axis}, i.e. {want}"
        )


for _op in _SOFTMAX_OPS:
    infer(_op)(_softmax_infer(_op))


@input_names("softmax")
def _softmax_inputs(attrs) -> list[str]:
    return ["data", "length"] if attrs["use_length"] else ["data"]


@infer_inputs("softmax")
def _softmax_infer_inputs(attrs, data, length=None):
    if attrs["use_length"] and length is None and data is not None:
        axis = attrs["axis"] % len(data.shape)
        length = spec(data.shape[:axis] + data.shape[axis + 1:], np.int32)
    return [data, length]


def _temperature(attrs) -> float:
    t = attrs["temperature"]
    return 1.0 if t is None else t


def _back_to(F, grad, x):
    """The gradient in the input's dtype (the output may be in another one, through `dtype`)."""
    return grad if grad.dtype == x.dtype else F.cast(grad, dtype=np.dtype(x.dtype).name)


def _softmax_grad(sign: float) -> Callable:
    def grad(F, attrs, inputs, outputs, ograds):
        y, g = outputs[0], ograds[0]
        # dy/dx = ±y (g - Σ g y) / T; positions masked by length have y = 0, so they take no part
        d = y * (g - F.sum(g * y, axis=attrs["axis"], keepdims=True))
        scale = sign / _temperature(attrs)
        return [_back_to(F, d * scale if scale != 1.0 else d, inputs[0]), None][: len(inputs)]

    return grad


gradient("softmax")(_softmax_grad(1.0))
gradient("softmin")(_softmax_grad(-1.0))  # softmin(x) = softmax(-x)


@gradient("log_softmax")
def _log_softmax_grad(F, attrs, inputs, outputs, ograds):
    y, g = outputs[0], ograds[0]
    d = g - F.exp(y) * F.sum(g, axis=attrs["axis"], keepdims=True)
    t = _temperature(attrs)
    return [_back_to(F, d / t if t != 1.0 else d, inputs[0])]


# -- SoftmaxOutput -----------------------------------------------------------------------------------------------
def _softmax_output_label_shapes(data: tuple[int, ...], multi_output: bool) -> list[tuple[int, ...]]:  # noqa: FBT001
    """The label shapes MXNet accepts besides data's own shape (probabilities)."""
    if multi_output:
        n, k = data[0], data[1]
        flat = (n, math.prod(data) // (n * k) if n * k else 0)
        return [flat, (n, *data[2:]), (n, 1, *data[2:])]
    return [data[:-1]]


@infer("SoftmaxOutput", "_backward_SoftmaxOutput")
def _softmax_output_infer(attrs, data, label):
    op = "SoftmaxOutput"
    _floats_only(op, data)
    same_dtype(op, data, label)
    if attrs["multi_output"] and len(data.shape) < 2:
        raise ShapeError(f"operator '{op}': multi_output needs data of at least 2 dimensions, got {data.shape}")
    accepted = _softmax_output_label_shapes(data.shape, attrs["multi_output"])
    if label.shape != data.shape and label.shape not in accepted:
        raise ShapeError(
            f"operator '{op}': label {label.shape} does not fit data {data.shape}: expected "
            + " or ".join(str(s) for s in accepted) + f" (class indices), or {data.shape} (probabilities)"
        )
    return data


@infer_inputs("SoftmaxOutput")
def _softmax_output_infer_inputs(attrs, data, label):
    if label is None and data is not None and data.shape:
        label = spec(_softmax_output_label_shapes(data.shape, attrs["multi_output"])[0], data.dtype)
    return [data, label]


@gradient("SoftmaxOutput")
def _softmax_output_grad(F, attrs, inputs, outputs, ograds):
    # MXNet's gradient is the cross-entropy one and ignores the incoming gradient. With out_grad=True,
    # MXNet 1.9.1 multiplies it by the layer's OUTPUT, not by the head gradient its documentation names
    # (imperative and symbolic alike; tests/oracle/record_nn.py records it): copied for compatibility.
    y = outputs[0]
    d = F._internal._backward_SoftmaxOutput(y, inputs[1], **attrs)
    return [d * y if attrs["out_grad"] else d, None]


# -- regression outputs ------------------------------------------------------------------------------------------
_REGRESSION = {
    "LinearRegressionOutput": lambda F, diff: diff,
    "LogisticRegressionOutput": lambda F, diff: diff,  # the output is already sigmoid(data)
    "MAERegressionOutput": lambda F, diff: F.sign(diff),
}


def _regression_infer(op: str) -> Callable:
    def infer_fn(attrs, data, label):
        _floats_only(op, data)
        same_dtype(op, data, label)
        d, lab = data.shape, label.shape
        if lab != d and (not lab or not d or lab[0] != d[0] or math.prod(lab) != math.prod(d)):
            raise ShapeError(
                f"operator '{op}': label {lab} does not fit data {d}: it needs data's shape, or data's first "
                f"dimension ({d[0] if d else '-'}) and size ({math.prod(d)})"
            )
        return data

    return infer_fn


def _regression_infer_inputs(attrs, data, label):
    if label is None and data is not None and data.shape:
        d = data.shape
        label = spec((d[0],) if len(d) == 2 and d[1] == 1 else d, data.dtype)  # MXNet's 1-D label default
    return [data, label]


def _regression_grad(op: str) -> Callable:
    form = _REGRESSION[op]

    def grad(F, attrs, inputs, outputs, ograds):
        y, label = outputs[0], inputs[1]
        if label.shape != y.shape:
            label = F.reshape(label, shape=y.shape)
        per_item = math.prod(inputs[1].shape) // inputs[1].shape[0]
        return [form(F, y - label) * (attrs["grad_scale"] / per_item), None]

    return grad


for _op in _REGRESSION:
    infer(_op)(_regression_infer(_op))
    infer_inputs(_op)(_regression_infer_inputs)
    gradient(_op)(_regression_grad(_op))


# -- losses ------------------------------------------------------------------------------------------------------
@infer("softmax_cross_entropy")
def _sce_infer(attrs, data, label):
    op = "softmax_cross_entropy"
    _floats_only(op, data)
    same_dtype(op, data, label)
    if len(data.shape) != 2:
        raise ShapeError(f"operator '{op}': data must be 2-D (batch, classes), got {data.shape}")
    if label.shape != data.shape[:1]:
        raise ShapeError(f"operator '{op}': label {label.shape} must be ({data.shape[0]},) for data {data.shape}")
    return spec((1,), data.dtype)


@gradient("softmax_cross_entropy")
def _sce_grad(F, attrs, inputs, outputs, ograds):
    data, label = inputs
    k = data.shape[1]
    onehot = F.one_hot(F.clip(label, 0, k - 1), depth=k, dtype=np.dtype(data.dtype).name)
    return [(F.softmax(data) - onehot) * ograds[0], None]


@infer("smooth_l1")
def _smooth_l1_infer(attrs, data):
    _floats_only("smooth_l1", data)
    return data


@gradient("smooth_l1")
def _smooth_l1_grad(F, attrs, inputs, outputs, ograds):
    x, s2 = inputs[0], attrs["scalar"] ** 2
    inside = F.abs(x) <= (math.inf if s2 == 0 else 1.0 / s2)  # σ = 0: all quadratic, gradient 0
    return [ograds[0] * (inside * (s2 * x) + (1 - inside) * F.sign(x))]


# -- Dropout -----------------------------------------------------------------------------------------------------
def _dropout_active(attrs) -> bool:
    return attrs["p"] > 0 and (attrs.get("is_train", False) or attrs["mode"] == "always")


@visible_outputs("Dropout")
def _dropout_visible(attrs) -> int:
    return 1


@infer("Dropout")
def _dropout_infer(attrs, data):
    op = "Dropout"
    _floats_only(op, data)
    if not 0.0 <= attrs["p"] <= 1.0:
        raise OperatorAttributeError(f"operator '{op}': p must be in [0, 1], got {attrs['p']}")
    ndim = len(data.shape)
    for axis in attrs["axes"]:
        if not 0 <= axis < ndim:  # MXNet rejects negative axes too
            raise ShapeError(f"operator '{op}': axes {attrs['axes']} must be in [0, {ndim}) for data {data.shape}")
    return [data, spec(dropout_mask_shape(data.shape, attrs["axes"]), data.dtype)]


@gradient("Dropout")
def _dropout_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    return [g * outputs[1] if _dropout_active(attrs) else g]


# -- Embedding ---------------------------------------------------------------------------------------------------
@infer("Embedding")
def _embedding_infer(attrs, data, weight):
    op = "Embedding"
    want = (attrs["input_dim"], attrs["output_dim"])
    if weight.shape != want:
        raise ShapeError(f"operator '{op}': weight {weight.shape} must be (input_dim, output_dim) = {want}")
    return spec(data.shape + (attrs["output_dim"],), weight.dtype)


@infer_inputs("Embedding")
def _embedding_infer_inputs(attrs, data, weight):
    if weight is None:
        weight = spec((attrs["input_dim"], attrs["output_dim"]), attrs["dtype"])
    return [data, weight]


@gradient("Embedding")
def _embedding_grad(F, attrs, inputs, outputs, ograds):
    d = F._internal._backward_Embedding(ograds[0], inputs[0], input_dim=attrs["input_dim"],
                                        output_dim=attrs["output_dim"])
    return [None, d]


@infer("_backward_Embedding")
def _backward_embedding_infer(attrs, ograd, data):
    want = data.shape + (attrs["output_dim"],)
    if ograd.shape != want:
        raise ShapeError(
            f"operator '_backward_Embedding': ograd {ograd.shape} must be data's shape + (output_dim,), {want}"
        )
    return spec((attrs["input_dim"], attrs["output_dim"]), ograd.dtype)
