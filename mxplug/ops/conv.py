"""Inference and gradients of the conv operators (registry/conv.toml).

FullyConnected, Convolution, Deconvolution, Pooling and UpSampling, channel-first (NCW/NCHW/NCDHW) as MXNet's
CPU build computes them. The geometry helpers here (`conv_geometry`, `deconv_geometry`, `pool_geometry`,
`upsampling_scales`, `bilinear_deconv_attrs`) are shared with the kernels, so inference and computation agree
on every output size.

Gradients: FullyConnected's are matrix products (`dot`, so higher orders work); Convolution, Deconvolution and
Pooling call internal backward operators (`_backward_Convolution` …) that compute every input gradient in one
kernel call, as MXNet does; nearest UpSampling's gradient is a sum-pooling of the output gradient.
"""

from __future__ import annotations

from math import ceil, prod
from typing import NamedTuple

import numpy as np

from ..base import DTypeError, OperatorAttributeError, ShapeError
from . import TensorSpec, gradient, infer, infer_inputs, input_names, num_outputs
from ._util import same_dtype, spec

_FLOATS = (np.dtype("float16"), np.dtype("float32"), np.dtype("float64"))
_SPATIAL_NAMES = {1: "(N, C, W)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_CHANNEL_FIRST = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _float_dtype(op: str, *specs: TensorSpec | None) -> np.dtype:
    dt = same_dtype(op, *[s for s in specs if s is not None])
    if dt not in _FLOATS:
        raise DTypeError(f"operator '{op}' supports float16, float32 and float64 only, got {dt.name}")
    return dt


def _per_axis(op: str, attrs, name: str, ndim: int, default: int, minimum: int) -> tuple[int, ...]:
    """An attribute given per spatial axis: () means `default` on every axis, else one value per axis."""
    value = attrs.get(name) or ()
    if not value:
        return (default,) * ndim
    if len(value) != ndim:
        raise OperatorAttributeError(
            f"operator '{op}': {name}={tuple(value)} must have one value per spatial axis of kernel "
            f"{tuple(attrs['kernel'])} ({ndim})"
        )
    if any(v < minimum for v in value):
        raise OperatorAttributeError(f"operator '{op}': {name}={tuple(value)} must be >= {minimum} on every axis")
    return tuple(value)


def _check_layout(op: str, layout: str | None, data: tuple[int, ...], ndim: int) -> None:
    if layout is None or layout == _CHANNEL_FIRST.get(ndim):
        return
    if layout in _CHANNEL_FIRST.values():
        raise ShapeError(f"operator '{op}': layout {layout!r} does not fit data {data} with a {ndim}-D kernel")
    raise OperatorAttributeError(
        f"operator '{op}': layout {layout!r} is not supported; mxplug computes channel-first layouts "
        f"(NCW, NCHW, NCDHW) as MXNet's CPU build does without oneDNN"
    )


def _spatial_data(op: str, data: tuple[int, ...], ndim: int, what: str = "kernel") -> None:
    if ndim not in (1, 2, 3):
        raise OperatorAttributeError(f"operator '{op}': {what} must be 1-D, 2-D or 3-D, got {ndim}-D")
    if len(data) != ndim + 2:
        raise ShapeError(
            f"operator '{op}': a {ndim}-D {what} needs {ndim + 2}-D data {_SPATIAL_NAMES[ndim]}, got {data}"
        )


class Geometry(NamedTuple):
    """Per spatial axis: kernel, stride, dilation, padding before and after; groups; output spatial sizes."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilate: tuple[int, ...]
    pad_lo: tuple[int, ...]
    pad_hi: tuple[int, ...]
    groups: int
    out: tuple[int, ...]


def _conv_common(op: str, attrs, data: tuple[int, ...]):
    kernel = tuple(attrs["kernel"])
    nd = len(kernel)
    _spatial_data(op, data, nd)
    _check_layout(op, attrs.get("layout"), data, nd)
    if any(k < 1 for k in kernel):
        raise OperatorAttributeError(f"operator '{op}': kernel={kernel} must be >= 1 on every axis")
    stride = _per_axis(op, attrs, "stride", nd, 1, 1)
    dilate = _per_axis(op, attrs, "dilate", nd, 1, 1)
    pad = _per_axis(op, attrs, "pad", nd, 0, 0)
    groups, filters = attrs["num_group"], attrs["num_filter"]
    if filters < 1 or groups < 1:
        raise OperatorAttributeError(
            f"operator '{op}': num_filter={filters} and num_group={groups} must be positive"
        )
    for what, count in (("data channels", data[1]), ("num_filter", filters)):
        if count % groups:
            raise ShapeError(
                f"operator '{op}': {what} ({count}) must be divisible by num_group ({groups}); data {data}"
            )
    return kernel, stride, dilate, pad


def conv_geometry(attrs, data: tuple[int, ...], op: str = "Convolution") -> Geometry:
    """Convolution's geometry for data of this shape, or ShapeError/OperatorAttributeError."""
    kernel, stride, dilate, pad = _conv_common(op, attrs, data)
    spatial = data[2:]
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilate, strict=True))
    padded = tuple(x + 2 * p for x, p in zip(spatial, pad, strict=True))
    if any(e > x for e, x in zip(extent, padded, strict=True)):
        raise ShapeError(
            f"operator '{op}': kernel {kernel} (dilated extent {extent}) exceeds the padded input {padded} "
            f"of data {data} (pad {pad})"
        )
    out = tuple((x - e) // s + 1 for x, e, s in zip(padded, extent, stride, strict=True))
    return Geometry(kernel, stride, dilate, pad, pad, attrs["num_group"], out)


def deconv_geometry(attrs, data: tuple[int, ...]) -> Geometry:
    """Deconvolution seen as the adjoint of a convolution: `out` is the deconvolution's output (the adjoint
    convolution's input) size, pad_hi = pad + adj. `target_shape` (any non-zero entry) overrides pad and adj
    as MXNet does: total = stride*(in-1) + dilated kernel - target, pad = ceil(total/2), adj = total % 2."""
    op = "Deconvolution"
    kernel, stride, dilate, pad = _conv_common(op, attrs, data)
    nd = len(kernel)
    adj = _per_axis(op, attrs, "adj", nd, 0, 0)
    spatial = data[2:]
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilate, strict=True))
    full = tuple(s * (x - 1) + e for x, s, e in zip(spatial, stride, extent, strict=True))
    target = tuple(attrs.get("target_shape") or ())
    if any(target):
        if len(target) != nd:
            raise OperatorAttributeError(
                f"operator '{op}': target_shape={target} must have one value per spatial axis of kernel {kernel}"
            )
        total = tuple(f - t for f, t in zip(full, target, strict=True))
        if any(t < 0 for t in total):
            raise ShapeError(
                f"operator '{op}': target_shape {target} is larger than the largest output {full} for data {data}"
            )
        pad = tuple((t + 1) // 2 for t in total)
        adj = tuple(t % 2 for t in total)
    if any(a >= s for a, s in zip(adj, stride, strict=True)):
        raise OperatorAttributeError(f"operator '{op}': adj {adj} must be smaller than stride {stride} on every axis")
    out = tuple(f - 2 * p + a for f, p, a in zip(full, pad, adj, strict=True))
    if any(o < 1 for o in out):
        raise ShapeError(f"operator '{op}': data {data} with pad {pad} gives an empty output {out}")
    hi = tuple(p + a for p, a in zip(pad, adj, strict=True))
    return Geometry(kernel, stride, dilate, pad, hi, attrs["num_group"], out)


def _check_params(op: str, attrs, weight: TensorSpec | None, bias: TensorSpec | None, w_shape, b_len: int) -> None:
    if weight is not None and tuple(weight.shape) != tuple(w_shape):
        raise ShapeError(f"operator '{op}': weight {tuple(weight.shape)} must have shape {tuple(w_shape)}")
    if attrs["no_bias"] and bias is not None:
        raise OperatorAttributeError(f"operator '{op}': a bias was given with no_bias=True")
    if bias is not None and tuple(bias.shape) != (b_len,):
        raise ShapeError(f"operator '{op}': bias {tuple(bias.shape)} must have shape ({b_len},)")


def _conv_weight_shape(attrs, data: tuple[int, ...]) -> tuple[int, ...]:
    return (attrs["num_filter"], data[1] // attrs["num_group"], *attrs["kernel"])


def _deconv_weight_shape(attrs, data: tuple[int, ...]) -> tuple[int, ...]:
    return (data[1], attrs["num_filter"] // attrs["num_group"], *attrs["kernel"])


# -- FullyConnected -------------------------------------------------------------------------------------------
def _fc_split(attrs, data: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """(leading output axes, input features): flatten folds every axis after the first into the features."""
    if not data:
        raise ShapeError("operator 'FullyConnected': data must have at least one dimension")
    if attrs["flatten"]:
        return data[:1], prod(data[1:])
    return data[:-1], data[-1]


@infer("FullyConnected")
def _fc(attrs, data, weight, bias=None):
    dt = _float_dtype("FullyConnected", data, weight, bias)
    lead, k = _fc_split(attrs, data.shape)
    hidden = attrs["num_hidden"]
    if hidden < 1:
        raise OperatorAttributeError(f"operator 'FullyConnected': num_hidden={hidden} must be positive")
    if tuple(weight.shape) != (hidden, k):
        raise ShapeError(
            f"operator 'FullyConnected': weight {tuple(weight.shape)} does not match (num_hidden, input features) "
            f"= ({hidden}, {k}) for data {tuple(data.shape)} (flatten={attrs['flatten']})"
        )
    _check_params("FullyConnected", attrs, None, bias, (), hidden)
    return spec((*lead, hidden), dt)


@gradient("FullyConnected")
def _fc_grad(F, attrs, inputs, outputs, ograds):
    # y = x2 @ W.T + b with x2 = data as (rows, features): dx2 = g @ W, dW = g.T @ x2, db = sum over rows.
    data, weight, bias = inputs
    g = ograds[0]
    two_d = getattr(data, "ndim", None) == 2
    if two_d:
        x2, g2 = data, g
    elif attrs["flatten"]:
        x2, g2 = F.reshape(data, shape=(0, -1)), g
    else:
        x2, g2 = F.reshape(data, shape=(-1, 0), reverse=True), F.reshape(g, shape=(-1, 0), reverse=True)
    dx = F.dot(g2, weight)
    dx = dx if two_d else F.reshape_like(dx, data)
    dw = F.dot(g2, x2, transpose_a=True)
    db = None if bias is None else F.sum(g2, axis=0)
    return [dx, dw, db]


# -- Convolution / Deconvolution ------------------------------------------------------------------------------
@infer("Convolution")
def _conv(attrs, data, weight, bias=None):
    dt = _float_dtype("Convolution", data, weight, bias)
    geo = conv_geometry(attrs, data.shape)
    _check_params("Convolution", attrs, weight, bias, _conv_weight_shape(attrs, data.shape), attrs["num_filter"])
    return spec((data.shape[0], attrs["num_filter"], *geo.out), dt)


@infer("Deconvolution")
def _deconv(attrs, data, weight, bias=None):
    dt = _float_dtype("Deconvolution", data, weight, bias)
    geo = deconv_geometry(attrs, data.shape)
    _check_params("Deconvolution", attrs, weight, bias, _deconv_weight_shape(attrs, data.shape), attrs["num_filter"])
    return spec((data.shape[0], attrs["num_filter"], *geo.out), dt)


@infer("_backward_Convolution", "_backward_Deconvolution")
def _conv_backward(attrs, ograd, data, weight):
    dt = _float_dtype("_backward_Convolution", ograd, data, weight)
    return [spec(data.shape, dt), spec(weight.shape, dt), spec((attrs["num_filter"],), dt)]


@num_outputs("_backward_Convolution", "_backward_Deconvolution")
def _three(attrs) -> int:
    return 3


def _conv_like_grad(backward: str):
    def grad(F, attrs, inputs, outputs, ograds):
        data, weight, bias = inputs
        dx, dw, db = getattr(F._internal, backward)(ograds[0], data, weight, **attrs)
        return [dx, dw, None if bias is None else db]

    return grad


gradient("Convolution")(_conv_like_grad("_backward_Convolution"))
gradient("Deconvolution")(_conv_like_grad("_backward_Deconvolution"))


@input_names("FullyConnected", "Convolution", "Deconvolution")
def _param_inputs(attrs) -> list[str]:
    return ["data", "weight"] if attrs["no_bias"] else ["data", "weight", "bias"]


def _param_specs(attrs, data, weight_shape, bias_len: int, given) -> list:
    """[data, weight, bias] specs for backward inference: deduced ones where data is known, else as given."""
    if data is None:
        return list(given)
    bias = None if attrs["no_bias"] else spec((bias_len,), data.dtype)
    return [data, spec(weight_shape, data.dtype), bias]


@infer_inputs("FullyConnected")
def _fc_inputs(attrs, data, weight=None, bias=None):
    if data is None:
        return [data, weight, bias]
    _, k = _fc_split(attrs, data.shape)
    return _param_specs(attrs, data, (attrs["num_hidden"], k), attrs["num_hidden"], (data, weight, bias))


@infer_inputs("Convolution")
def _conv_inputs(attrs, data, weight=None, bias=None):
    shape = None if data is None else _conv_weight_shape(attrs, data.shape)
    return _param_specs(attrs, data, shape, attrs["num_filter"], (data, weight, bias))


@infer_inputs("Deconvolution")
def _deconv_inputs(attrs, data, weight=None, bias=None):
    shape = None if data is None else _deconv_weight_shape(attrs, data.shape)
    return _param_specs(attrs, data, shape, attrs["num_filter"], (data, weight, bias))


# -- Pooling --------------------------------------------------------------------------------------------------
class PoolGeometry(NamedTuple):
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    pad_lo: tuple[int, ...]
    pad_hi: tuple[int, ...]  # pad_lo plus what the last window reaches beyond it ('full'/'same')
    out: tuple[int, ...]
    bound: tuple[int, ...]  # per axis, where windows are clipped for avg's count: input + pad ('same': input)


def pool_geometry(attrs, data: tuple[int, ...]) -> PoolGeometry:
    """Pooling's windows: output o covers [o*stride - pad, o*stride - pad + kernel) on each axis."""
    op = "Pooling"
    if len(data) < 3 or len(data) > 5:
        raise ShapeError(f"operator '{op}': data must be 3-D, 4-D or 5-D (N, C, spatial...), got {data}")
    nd = len(data) - 2
    _check_layout(op, attrs.get("layout"), data, nd)
    spatial = data[2:]
    if attrs["pool_type"] == "lp" and attrs["p_value"] not in (1, 2, 3):
        raise OperatorAttributeError(f"operator '{op}': pool_type='lp' needs p_value 1, 2 or 3, got {attrs['p_value']}")
    if attrs["global_pool"]:
        zeros = (0,) * nd
        return PoolGeometry(spatial, (1,) * nd, zeros, zeros, (1,) * nd, spatial)
    kernel = tuple(attrs["kernel"])
    if not kernel:
        raise OperatorAttributeError(f"operator '{op}': kernel is required unless global_pool=True")
    _spatial_data(op, data, len(kernel))
    if any(k < 1 for k in kernel):
        raise OperatorAttributeError(f"operator '{op}': kernel={kernel} must be >= 1 on every axis")
    stride = _per_axis(op, attrs, "stride", nd, 1, 1)
    convention = attrs["pooling_convention"]
    if convention == "same":
        if nd != 1:
            raise ShapeError(f"operator '{op}': pooling_convention='same' supports 1-D pooling only, data {data}")
        if any(attrs["pad"] or ()):
            raise OperatorAttributeError(f"operator '{op}': pooling_convention='same' does not take a pad")
        pad = (0,)
    else:
        pad = _per_axis(op, attrs, "pad", nd, 0, 0)
    padded = tuple(x + 2 * p for x, p in zip(spatial, pad, strict=True))
    if any(k > x for k, x in zip(kernel, padded, strict=True)):
        raise ShapeError(f"operator '{op}': kernel {kernel} exceeds the padded input {padded} of data {data}")
    if convention == "valid":
        out = tuple((x - k) // s + 1 for x, k, s in zip(padded, kernel, stride, strict=True))
    elif convention == "full":
        out = tuple(ceil((x - k) / s) + 1 for x, k, s in zip(padded, kernel, stride, strict=True))
    else:
        out = tuple(ceil(x / s) for x, s in zip(padded, stride, strict=True))
    hi = tuple(max(p, (o - 1) * s + k - x - p)
               for o, s, k, x, p in zip(out, stride, kernel, spatial, pad, strict=True))
    bound = tuple(x + p for x, p in zip(spatial, pad, strict=True))
    return PoolGeometry(kernel, stride, pad, hi, out, bound)


@infer("Pooling")
def _pooling(attrs, data):
    dt = _float_dtype("Pooling", data)
    geo = pool_geometry(attrs, data.shape)
    return spec(data.shape[:2] + geo.out, dt)


@infer("_backward_Pooling")
def _pooling_backward(attrs, ograd, data, output):
    return spec(data.shape, _float_dtype("_backward_Pooling", ograd, data, output))


@gradient("Pooling")
def _pooling_grad(F, attrs, inputs, outputs, ograds):
    return [F._internal._backward_Pooling(ograds[0], inputs[0], outputs[0], **attrs)]


# -- UpSampling -----------------------------------------------------------------------------------------------
def upsampling_scales(attrs, shapes: list[tuple[int, ...]]) -> tuple[tuple[int, int], list[int]]:
    """Nearest UpSampling: the output's (height, width) — the first input's times `scale` — and each input's
    own integer scale to reach it."""
    op = "UpSampling"
    scale = attrs["scale"]
    if scale < 1:
        raise OperatorAttributeError(f"operator '{op}': scale={scale} must be positive")
    for s in shapes:
        if len(s) != 4:
            raise ShapeError(f"operator '{op}': inputs must be 4-D (N, C, H, W), got {s}")
    oh, ow = shapes[0][2] * scale, shapes[0][3] * scale
    scales = []
    for s in shapes:
        if oh % s[2] or ow % s[3] or oh // s[2] != ow // s[3]:
            raise ShapeError(
                f"operator '{op}': input {s} cannot be upsampled by one integer scale to the output size ({oh}, {ow})"
            )
        scales.append(oh // s[2])
    return (oh, ow), scales


def bilinear_deconv_attrs(attrs, channels: int) -> dict:
    """Bilinear UpSampling is a depthwise Deconvolution (MXNet's GetDeconvolutionParam)."""
    s = attrs["scale"]
    k = 2 * s - s % 2
    p = ceil((s - 1) / 2)
    return {"kernel": (k, k), "stride": (s, s), "pad": (p, p), "num_filter": channels, "num_group": channels,
            "no_bias": True}


def _check_num_args(attrs, count: int) -> None:
    if attrs["num_args"] is not None and attrs["num_args"] != count:
        raise OperatorAttributeError(
            f"operator 'UpSampling': num_args={attrs['num_args']} but {count} arrays were given"
        )


@infer("UpSampling")
def _upsampling(attrs, *data):
    op = "UpSampling"
    _check_num_args(attrs, len(data))
    dt = _float_dtype(op, *data)
    if attrs["sample_type"] == "bilinear":
        if len(data) != 2:
            raise OperatorAttributeError(f"operator '{op}': sample_type='bilinear' takes 2 inputs (data, weight)")
        x, w = data
        if len(x.shape) != 4:
            raise ShapeError(f"operator '{op}': data must be 4-D (N, C, H, W), got {x.shape}")
        dattrs = bilinear_deconv_attrs(attrs, x.shape[1])
        want = (x.shape[1], 1, *dattrs["kernel"])
        if tuple(w.shape) != want:
            raise ShapeError(f"operator '{op}': weight {tuple(w.shape)} must have shape {want} for data {x.shape}")
        n, c, h, wd = x.shape
        return spec((n, c, h * attrs["scale"], wd * attrs["scale"]), dt)
    shapes = [tuple(d.shape) for d in data]
    (oh, ow), _ = upsampling_scales(attrs, shapes)
    if any(s[0] != shapes[0][0] for s in shapes):
        raise ShapeError(f"operator '{op}': inputs {shapes} differ in batch size")
    if attrs["multi_input_mode"] == "sum":
        if any(s[1] != shapes[0][1] for s in shapes):
            raise ShapeError(f"operator '{op}': multi_input_mode='sum' needs equal channels, got {shapes}")
        channels = shapes[0][1]
    else:
        channels = sum(s[1] for s in shapes)
    return spec((shapes[0][0], channels, oh, ow), dt)


@gradient("UpSampling")
def _upsampling_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    if attrs["sample_type"] == "bilinear":
        data, weight = inputs
        dattrs = bilinear_deconv_attrs(attrs, data.shape[1])
        dx, dw, _ = F._internal._backward_Deconvolution(g, data, weight, **dattrs)
        return [dx, dw]
    # Nearest: each input pixel was copied into a scale x scale block, so its gradient is that block's sum.
    _, scales = upsampling_scales(attrs, [tuple(x.shape) for x in inputs])
    grads, begin = [], 0
    for x, s in zip(inputs, scales, strict=True):
        part = g
        if attrs["multi_input_mode"] == "concat" and len(inputs) > 1:
            part = F.slice_axis(g, axis=1, begin=begin, end=begin + x.shape[1])
            begin += x.shape[1]
        grads.append(part if s == 1 else F.Pooling(part, kernel=(s, s), stride=(s, s), pool_type="sum"))
    return grads


@infer_inputs("UpSampling")
def _upsampling_inputs(attrs, *specs):
    if attrs["sample_type"] != "bilinear" or not specs or specs[0] is None:
        return list(specs)
    data = specs[0]
    k = bilinear_deconv_attrs(attrs, data.shape[1])["kernel"]
    return [data, spec((data.shape[1], 1, *k), data.dtype)]
