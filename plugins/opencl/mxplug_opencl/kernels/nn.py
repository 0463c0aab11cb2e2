"""Neural-network operators on OpenCL: dense and convolution layers (im2col + the dot strategy's GEMM), pooling,
activations, softmax and SoftmaxOutput, BatchNorm, Dropout and Embedding, with the internal backward operators
their gradients call (`_backward_Convolution`, `_backward_Pooling`, `_backward_SoftmaxOutput`,
`_backward_BatchNorm`, `_backward_Embedding`), so a training step stays on the device.

Semantics are the NumPy reference kernels' (plugins/numpy/mxplug_numpy/kernels/{conv,nn,norm}.py): shapes and
geometry come from the same helpers of `mxplug.ops` (conv_geometry, pool_geometry, norm_view, ...). Elementwise
activations are rows of a table of OpenCL C expressions run by the `map_flat` template; the rest are the
templates of `mxplug_opencl.nn_codegen`.

GEMMs go through `kernels.linalg.matmul`: mapped host BLAS on a CPU device with host-unified memory, the tiled
OpenCL `gemm` kernel elsewhere (MXPLUG_OPENCL_DOT chooses). Convolution is im2col into a pooled (C*K, N*P)
buffer, one GEMM per group, and one strided pass that transposes to (N, F, P) and adds the bias.

Random masks (Dropout, LeakyReLU's rrelu) are drawn on the HOST from a per-device NumPy generator seeded by
`mx.random.seed` — the same PCG64 stream the CPU backend uses (seed, device 0), so under one seed opencl(0) and
cpu draw the same masks — and uploaded.
"""

from __future__ import annotations

import math

import numpy as np

from mxplug.ops.conv import bilinear_deconv_attrs, conv_geometry, deconv_geometry, pool_geometry, upsampling_scales
from mxplug.ops.nn import SELU_ALPHA, SELU_LAMBDA, dropout_mask_shape, prelu_gamma_shape, softmax_output_rows
from mxplug.ops.norm import norm_view

from .. import nn_codegen as nc
from ..codegen import Reduction, View, broadcast_view, copy_view, map_flat, map_strided, reduce_axk, whole
from ..runtime import CLArray
from .linalg import matmul

DEFAULT_SEED = 0  # as the CPU backend: draws repeat from one process to the next until mx.random.seed
_seed = DEFAULT_SEED
_generators: dict[int, np.random.Generator] = {}  # device index -> generator


def _generator_for(seed: int) -> np.random.Generator:
    # The CPU backend's construction (mxplug_numpy._generator(seed, 0)): the same seed draws the same masks.
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0,))))


def reseed(seed: int, device_id: int | None = None) -> None:
    """Reseed the mask generator of one device, or of every device when device_id is None."""
    global _seed
    if device_id is None:
        _seed = seed
        _generators.clear()
    else:
        _generators[device_id] = _generator_for(seed)


def generator(dev) -> np.random.Generator:
    gen = _generators.get(dev.index)
    if gen is None:
        gen = _generators[dev.index] = _generator_for(_seed)
    return gen


def _uniform(dev, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    work = "float64" if dtype == np.float64 else "float32"
    return generator(dev).random(shape, dtype=work).astype(dtype, copy=False)


def _reshaped(a: CLArray, shape) -> CLArray:
    return CLArray(a.buf, tuple(shape), a.dtype, a.device)


def _w(dev, dtype) -> str:
    return dev.compute_type(np.dtype(dtype))


# -- elementwise activations -----------------------------------------------------------------------------------
# act_type: OpenCL C expression in x (compute type W) and the scalar s (LeakyReLU's slope), as the NumPy kernels.
ACTIVATIONS: dict[str, str] = {
    "relu": "(isnan(x) || x > 0) ? x : (W)0",
    "sigmoid": "1 / (1 + exp(-x))",
    "tanh": "tanh(x)",
    "softrelu": "x > (W)20 ? x : log1p(exp(fmin(x, (W)20)))",  # MXNet: x itself above 20
    "softsign": "x / (1 + fabs(x))",
}
LEAKY: dict[str, str] = {
    "leaky": "x > 0 ? x : x * s",
    "elu": "x > 0 ? x : expm1(fmin(x, (W)0)) * s",
    "selu": "(x > 0 ? x : expm1(fmin(x, (W)0)) * sa) * sl",
    "gelu": "(W)0.5 * x * (1 + erf(x * (W)M_SQRT1_2))",
}


def _map(x: CLArray, expr: str, scalars=()) -> CLArray:
    dev = x.device
    w = _w(dev, x.dtype)
    return map_flat(dev, dev.alloc(x.shape, x.dtype), [("x", x, w)], expr.replace("(W)", f"({w})"),
                    scalars=[(n, w, v) for n, v in scalars])


def activation(data: CLArray, *, act_type) -> CLArray:
    return _map(data, ACTIVATIONS[act_type])


def leaky_relu(data: CLArray, gamma: CLArray | None = None, *, act_type, slope, lower_bound, upper_bound,
               is_train=False):
    dev = data.device
    if act_type in LEAKY:
        return _map(data, LEAKY[act_type], [("s", slope), ("sa", SELU_ALPHA), ("sl", SELU_LAMBDA)])
    w = _w(dev, data.dtype)
    out = dev.alloc(data.shape, data.dtype)
    if act_type == "prelu":
        g = broadcast_view(_reshaped(gamma, prelu_gamma_shape(gamma.shape, data.shape)), data.shape)
        map_strided(dev, whole(out), data.shape, [("x", whole(data), w), ("s", g, w)], "x > 0 ? x : x * s")
        return out
    # rrelu: the slopes are the second output (the gradient reads them)
    if is_train:
        host = _uniform(dev, data.shape, data.dtype)
        host *= upper_bound - lower_bound
        host += lower_bound
        mask = dev.upload(host)
    else:
        mask = dev.fill(dev.alloc(data.shape, data.dtype), (lower_bound + upper_bound) / 2)
    map_flat(dev, out, [("x", data, w), ("s", mask, w)], "x > 0 ? x : x * s")
    return out, mask


# -- softmax family --------------------------------------------------------------------------------------------
def _axk(shape: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    return math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])


def _softmax(negate: bool, log: bool):
    def kernel(data: CLArray, length: CLArray | None = None, *, axis, temperature, dtype, use_length) -> CLArray:
        dev = data.device
        out_dtype = np.dtype(dtype) if dtype is not None else data.dtype
        work = np.result_type(data.dtype, out_dtype, np.float32 if data.dtype == np.float16 else data.dtype)
        ax = axis % data.ndim
        out = dev.alloc(data.shape, out_dtype)
        return nc.softmax_axk(dev, out, data, *_axk(data.shape, ax), np.dtype(work), log=log, negate=negate,
                              temperature=temperature, length=length if use_length else None)

    return kernel


def softmax_output(data: CLArray, label: CLArray, *, multi_output, preserve_shape, **_) -> CLArray:
    dev = data.device
    view = softmax_output_rows(data.shape, multi_output, preserve_shape)
    A, K, B = view[0], view[1], (view[2] if len(view) > 2 else 1)
    out = dev.alloc(data.shape, data.dtype)
    return nc.softmax_axk(dev, out, data, A, K, B, np.dtype(_np_of(_w(dev, data.dtype))))


def _np_of(ctype: str) -> str:
    return {"float": "float32", "double": "float64"}[ctype]


def backward_softmax_output(out: CLArray, label: CLArray, *, grad_scale, ignore_label, multi_output, use_ignore,
                            preserve_shape, normalization, out_grad, smooth_alpha) -> CLArray:
    dev = out.device
    w = _w(dev, out.dtype)
    grad = dev.alloc(out.shape, out.dtype)
    if label.shape == out.shape:  # probabilities as labels: no smoothing, no normalisation
        return map_flat(dev, grad, [("o", out, w), ("l", label, w)], "(o - l) * s", scalars=[("s", w, grad_scale)])
    view = softmax_output_rows(out.shape, multi_output, preserve_shape)
    A, K, B = view[0], view[1], (view[2] if multi_output else 1)
    if smooth_alpha and not multi_output:  # MXNet smooths only the 2-D (non multi_output) gradient
        on, off = 1.0 - smooth_alpha, smooth_alpha / (K - 1)
    else:
        on, off = 1.0, 0.0
    ignored = int(ignore_label)
    scale = float(grad_scale)
    count = None
    if normalization == "batch":
        scale /= float(view[0] if multi_output else label.size)
    elif normalization == "valid":  # labels not equal to ignore_label, counted on the device
        count = dev.alloc((1,), np.dtype(_np_of(w)))
        red = Reduction("0", "acc + v", f"((long)v == {ignored}L ? 0 : 1)")
        reduce_axk(dev, count, label, 1, label.size, 1, red, w)
    if multi_output and normalization != "valid":
        scale /= view[2]
    # the rows of a flat label: one per row of the view (MXNet reads label.reshape(-1)[:rows])
    return nc.softmax_output_grad(dev, grad, out, label, count, A, K, B, ignored=ignored, scale=scale, on=on,
                                  off=off, use_ignore=use_ignore)


# -- dense and convolution layers --------------------------------------------------------------------------------
def _add_bias(out: CLArray, bias: CLArray, shape: tuple[int, ...], channel_axis: int) -> None:
    """out (seen as `shape`) += bias along `channel_axis`, in place."""
    dev = out.device
    w = _w(dev, out.dtype)
    strides = [0] * len(shape)
    strides[channel_axis] = 1
    view = whole(_reshaped(out, shape))
    map_strided(dev, view, shape, [("a", view, w), ("b", View(bias, 0, tuple(strides)), w)], "a + b")


def fully_connected(data: CLArray, weight: CLArray, bias: CLArray | None = None, *, num_hidden, no_bias, flatten):
    dev = data.device
    lead = data.shape[:1] if flatten else data.shape[:-1]
    M = math.prod(lead)
    K = data.size // M if M else weight.shape[1]
    out = dev.alloc((*lead, num_hidden), data.dtype)
    matmul(out, data, weight, 1, M, num_hidden, K, False, True)
    if bias is not None and out.size:
        _add_bias(out, bias, (M, num_hidden), 1)
    return out


def _geometry3(geo, spatial):
    return nc.geometry3(spatial, geo.out, geo.kernel, geo.stride, geo.pad_lo, geo.dilate)


def _channels_first(x: CLArray) -> CLArray:
    """(N, C, spatial...) → (C, N, P) contiguous: the GEMM operand layout of a convolution's output gradient."""
    N, C = x.shape[:2]
    P = x.size // max(N * C, 1)
    out = x.device.alloc((C, N, P), x.dtype)
    map_strided(x.device, whole(out), (C, N, P), [("a", View(x, 0, (P, C * P, 1)), _w(x.device, x.dtype))], "a")
    return out


def _batch_first(y: CLArray, shape: tuple[int, ...], bias: CLArray | None = None) -> CLArray:
    """A GEMM result (C, N, P) (groups stacked along C) as a new (N, C, spatial...) array of `shape`, plus the
    bias along C."""
    dev = y.device
    N, C = shape[:2]
    P = math.prod(shape[2:])
    out = dev.alloc(shape, y.dtype)
    w = _w(dev, y.dtype)
    ins = [("a", View(y, 0, (P, N * P, 1)), w)]  # y as (C, N, P) read in (N, C, P) order
    if bias is not None:
        ins.append(("b", View(bias, 0, (0, 1, 0)), w))
    map_strided(dev, whole(_reshaped(out, (N, C, P))), (N, C, P), ins, "a + b" if bias is not None else "a")
    return out


def _bias_grad(g_cnp: CLArray) -> CLArray:
    """The bias gradient: the row sums of a (C, N, P) output gradient."""
    dev = g_cnp.device
    C = g_cnp.shape[0]
    db = dev.alloc((C,), g_cnp.dtype)
    K = g_cnp.size // max(C, 1)
    return reduce_axk(dev, db, g_cnp, C, K, 1, Reduction("0", "acc + v", vcombine="acc + v"), _w(dev, db.dtype),
                      count=K)


def convolution(data: CLArray, weight: CLArray, bias: CLArray | None = None, **attrs) -> CLArray:
    dev = data.device
    geo = conv_geometry(attrs, data.shape)
    g3 = _geometry3(geo, data.shape[2:])
    N, C = data.shape[:2]
    F, G = weight.shape[0], geo.groups
    P, KK = math.prod(geo.out), math.prod(geo.kernel)
    cols = nc.im2col(dev, data, g3)  # (G, C/G * KK, N * P)
    y = dev.alloc((G, F // G, N * P), data.dtype)
    matmul(y, weight, cols, G, F // G, N * P, C // G * KK, False, False)
    del cols  # back to the pool for the next layer
    return _batch_first(y, (N, F, *geo.out), bias)


def backward_convolution(ograd: CLArray, data: CLArray, weight: CLArray, **attrs):
    dev = data.device
    geo = conv_geometry(attrs, data.shape)
    g3 = _geometry3(geo, data.shape[2:])
    N, C = data.shape[:2]
    F, G = weight.shape[0], geo.groups
    P, KK = math.prod(geo.out), math.prod(geo.kernel)
    dy = _channels_first(ograd)  # (F, N, P): the GEMMs' operand, and its row sums are the bias gradient
    cols = nc.im2col(dev, data, g3)
    dw = dev.alloc(weight.shape, weight.dtype)
    matmul(dw, dy, cols, G, F // G, C // G * KK, N * P, False, True)
    # dcols reuses the columns' buffer: the in-order queue (or the synchronous host GEMM) has read it by then
    dcols = cols
    matmul(dcols, weight, dy, G, C // G * KK, N * P, F // G, True, False)
    dx = nc.col2im(dev, dcols, data.shape, g3)
    db = dev.fill(dev.alloc((F,), data.dtype), 0) if attrs["no_bias"] else _bias_grad(dy)
    return dx, dw, db


# -- Deconvolution: the adjoint of a convolution -------------------------------------------------------------------
def _adjoint(attrs, data: CLArray):
    """(geometry of the convolution whose data gradient the Deconvolution is, the Deconvolution's output shape)."""
    geo = deconv_geometry(attrs, data.shape)
    return geo._replace(out=tuple(data.shape[2:])), (data.shape[0], attrs["num_filter"], *geo.out)


def deconvolution(data: CLArray, weight: CLArray, bias: CLArray | None = None, **attrs) -> CLArray:
    """The convolution data gradient: cols = Wᵀ·x per group (x as the output gradient), then col2im."""
    dev = data.device
    geo, out_shape = _adjoint(attrs, data)
    g3 = _geometry3(geo, out_shape[2:])
    N, C = data.shape[:2]
    F, G = out_shape[1], geo.groups
    P, KK = math.prod(data.shape[2:]), math.prod(geo.kernel)
    cols = dev.alloc((G, F // G * KK, N * P), data.dtype)
    matmul(cols, weight, _channels_first(data), G, F // G * KK, N * P, C // G, True, False)
    y = nc.col2im(dev, cols, out_shape, g3)
    if bias is not None and y.size:
        _add_bias(y, bias, (N, F, math.prod(out_shape[2:])), 1)
    return y


def backward_deconvolution(ograd: CLArray, data: CLArray, weight: CLArray, **attrs):
    """The convolution forward and weight gradient with data and output gradient swapped: one im2col of dY
    serves dX = W·cols (per group) and dW = x·colsᵀ."""
    dev = data.device
    geo, _ = _adjoint(attrs, data)
    g3 = _geometry3(geo, ograd.shape[2:])
    N, C = data.shape[:2]
    F, G = ograd.shape[1], geo.groups
    P, KK = math.prod(data.shape[2:]), math.prod(geo.kernel)
    cols = nc.im2col(dev, ograd, g3)  # (G, F/G * KK, N * P)
    xd = _channels_first(data)
    dw = dev.alloc(weight.shape, weight.dtype)
    matmul(dw, xd, cols, G, C // G, F // G * KK, N * P, False, True)
    dxc = dev.alloc((G, C // G, N * P), data.dtype)
    matmul(dxc, weight, cols, G, C // G, N * P, F // G * KK, False, False)
    db = dev.fill(dev.alloc((F,), data.dtype), 0) if attrs["no_bias"] else _bias_grad(_channels_first(ograd))
    return _batch_first(dxc, data.shape), dw, db


# -- UpSampling ---------------------------------------------------------------------------------------------------
def upsampling(*data: CLArray, **attrs) -> CLArray:
    """Bilinear: a depthwise Deconvolution. Nearest: each input read through a view that repeats every pixel
    over its s×s block, copied (concat, or the first input) or added (sum) into the output's channels."""
    if attrs["sample_type"] == "bilinear":
        x, w = data
        return deconvolution(x, w, None, workspace=attrs["workspace"], **bilinear_deconv_attrs(attrs, x.shape[1]))
    dev = data[0].device
    (oh, ow), scales = upsampling_scales(attrs, [tuple(d.shape) for d in data])
    concat = attrs["multi_input_mode"] == "concat"
    channels = sum(d.shape[1] for d in data) if concat else data[0].shape[1]
    n = data[0].shape[0]
    out = dev.alloc((n, channels, oh, ow), data[0].dtype)
    wt = _w(dev, out.dtype)
    begin = 0
    for i, (x, s) in enumerate(zip(data, scales, strict=True)):
        _, c, h, w = x.shape
        blocks = (n, c, h, s, w, s)
        dst = View(out, begin * oh * ow, (channels * oh * ow, oh * ow, s * ow, ow, s, 1))
        src = View(x, 0, (c * h * w, h * w, w, 0, 1, 0))
        if concat or i == 0:
            copy_view(dev, dst, src, blocks)
        else:
            map_strided(dev, dst, blocks, [("a", dst, wt), ("b", src, wt)], "a + b")
        begin += c if concat else 0
    return out


# -- pooling ------------------------------------------------------------------------------------------------------
def _pool_setup(attrs, shape):
    geo = pool_geometry(attrs, shape)
    g3 = nc.geometry3(shape[2:], geo.out, geo.kernel, geo.stride, geo.pad_lo, bound=geo.bound)
    include_pad = attrs["count_include_pad"] is not False
    return geo, g3, attrs["pool_type"], attrs["p_value"], include_pad


def pooling(data: CLArray, **attrs) -> CLArray:
    geo, g3, kind, p, inc = _pool_setup(attrs, data.shape)
    return nc.pool(data.device, data, data.shape[:2] + tuple(geo.out), g3, kind, p, inc)


def backward_pooling(ograd: CLArray, data: CLArray, output: CLArray, **attrs) -> CLArray:
    _, g3, kind, p, inc = _pool_setup(attrs, data.shape)
    return nc.pool_grad(data.device, ograd, data, output, g3, kind, p, inc)


# -- BatchNorm ----------------------------------------------------------------------------------------------------
def _bn_view(data: CLArray, axis) -> tuple[int, int, int]:
    return tuple(norm_view("BatchNorm", {"axis": axis}, data.shape).shape)


def _channel(arr: CLArray, row: int, C: int) -> View:
    """Row `row` of a (k, C) coefficient array read along the channels of an (A, C, D) view."""
    return View(arr, row * C, (0, 1, 0))


def batch_norm(data, gamma, beta, moving_mean, moving_var, *, eps, momentum, fix_gamma, use_global_stats,
               output_mean_var, axis, cudnn_off, min_calib_range, max_calib_range, is_train=False):
    dev = data.device
    view = _bn_view(data, axis)
    C = view[1]
    batch = bool(is_train and not use_global_stats)
    mean, invstd, coef = nc.bn_forward(dev, data, gamma, moving_mean, moving_var, view, eps=eps, batch=batch,
                                       fix_gamma=fix_gamma)
    out = dev.alloc(data.shape, data.dtype)
    w = _w(dev, gamma.dtype)
    ins = [("x", whole(_reshaped(data, view)), w), ("m", _channel(coef, 0, C), w), ("s", _channel(coef, 1, C), w),
           ("b", View(beta, 0, (0, 1, 0)), w)]
    map_strided(dev, whole(_reshaped(out, view)), view, ins, "(x - m) * s + b")
    return out, mean, invstd


def batch_norm_backward(ograd, data, gamma, mean, var, moving_mean, moving_var, *, eps, momentum, fix_gamma,
                        use_global_stats, output_mean_var, axis, cudnn_off, min_calib_range, max_calib_range,
                        is_train=False):
    # `var` is the forward's inverse std; a training-mode backward updates the moving statistics (MXNet).
    dev = data.device
    view = _bn_view(data, axis)
    C = view[1]
    batch = bool(is_train and not use_global_stats)
    dgamma, dbeta, coef = nc.bn_backward(dev, ograd, data, gamma, mean, var, moving_mean, moving_var, view,
                                         eps=eps, momentum=momentum, batch=batch, fix_gamma=fix_gamma)
    dx = dev.alloc(data.shape, data.dtype)
    w = _w(dev, gamma.dtype)
    ins = [("g", whole(_reshaped(ograd, view)), w), ("x", whole(_reshaped(data, view)), w)]
    ins += [(f"k{i}", _channel(coef, i, C), w) for i in range(4)]
    map_strided(dev, whole(_reshaped(dx, view)), view, ins, "k0 * g - k1 * (x - k3) - k2")
    return dx, dgamma, dbeta


# -- regression outputs and losses -------------------------------------------------------------------------------
def _regression(expr: str | None):
    """The regression outputs' forward (identity or sigmoid); their gradients are formulas over operators."""

    def kernel(data: CLArray, label: CLArray, *, grad_scale) -> CLArray:
        return data.device.duplicate(data) if expr is None else _map(data, expr)

    return kernel


def smooth_l1(data: CLArray, *, scalar) -> CLArray:
    s2 = float(scalar) * float(scalar)
    inv = math.inf if s2 == 0 else 1.0 / s2  # σ = 0: every element takes the quadratic branch, which is 0
    return _map(data, "(fabs(x) > inv ? fabs(x) - hinv : hs2 * x * x)",
                [("inv", inv), ("hinv", 0.5 * inv), ("hs2", 0.5 * s2)])


def softmax_cross_entropy(data: CLArray, label: CLArray) -> CLArray:
    """Σ_i (logsumexp(data[i]) - data[i, label_i]) with the row maximum subtracted first, labels clipped."""
    from .index import pick
    from .reduce import reduce_to

    dev = data.device
    n, c = data.shape
    w = _w(dev, data.dtype)
    top = reduce_to(data, (1,), (n, 1), "max")
    z = dev.alloc(data.shape, data.dtype)
    map_strided(dev, whole(z), data.shape, [("x", whole(data), w), ("m", broadcast_view(top, data.shape), w)],
                "x - m")
    lse = dev.alloc((n,), data.dtype)
    reduce_axk(dev, lse, z, n, c, 1, Reduction("0", "acc + v", "exp(v)", final="log(acc)", vcombine="acc + v"),
               w, count=c)
    picked = pick(z, label, axis=1, keepdims=False, mode="clip")
    terms = dev.alloc((n,), data.dtype)
    map_flat(dev, terms, [("l", lse, w), ("p", picked, w)], "l - p")
    return reduce_to(terms, (0,), (1,), "sum")


# -- Dropout ------------------------------------------------------------------------------------------------------
def dropout(data: CLArray, *, p, mode, axes, cudnn_off, is_train=False):
    dev = data.device
    mask_shape = dropout_mask_shape(data.shape, axes)
    if p <= 0 or not (is_train or mode == "always"):
        return dev.duplicate(data), dev.fill(dev.alloc(mask_shape, data.dtype), 1)
    keep = 1.0 - p
    u = _uniform(dev, mask_shape, data.dtype)
    with np.errstate(all="ignore"):  # p = 1: 1/keep is inf and 0 * inf NaN, as MXNet (and the CPU kernel)
        host = (u < keep).astype(data.dtype)
        host *= 1.0 / keep if keep > 0 else math.inf
    mask = dev.upload(host)
    w = _w(dev, data.dtype)
    out = dev.alloc(data.shape, data.dtype)
    map_strided(dev, whole(out), data.shape, [("x", whole(data), w), ("m", broadcast_view(mask, data.shape), w)],
                "x * m")
    return out, mask


# -- Embedding ----------------------------------------------------------------------------------------------------
def embedding(data: CLArray, weight: CLArray, *, input_dim, output_dim, dtype, sparse_grad) -> CLArray:
    from .index import take

    # Clip-then-truncate (MXNet) equals truncate-then-clip for integer bounds: take's 'clip' gather.
    return take(weight, data, axis=0, mode="clip")


def backward_embedding(ograd: CLArray, data: CLArray, *, input_dim, output_dim) -> CLArray:
    return nc.embedding_grad(ograd.device, ograd, data, input_dim, output_dim)


def make_kernels() -> dict:
    return {
        "Activation": activation,
        "LeakyReLU": leaky_relu,
        "softmax": _softmax(negate=False, log=False),
        "log_softmax": _softmax(negate=False, log=True),
        "softmin": _softmax(negate=True, log=False),
        "SoftmaxOutput": softmax_output,
        "_backward_SoftmaxOutput": backward_softmax_output,
        "FullyConnected": fully_connected,
        "Convolution": convolution,
        "_backward_Convolution": backward_convolution,
        "Deconvolution": deconvolution,
        "_backward_Deconvolution": backward_deconvolution,
        "UpSampling": upsampling,
        "Pooling": pooling,
        "_backward_Pooling": backward_pooling,
        "BatchNorm": batch_norm,
        "_backward_BatchNorm": batch_norm_backward,
        "Dropout": dropout,
        "Embedding": embedding,
        "_backward_Embedding": backward_embedding,
        "LinearRegressionOutput": _regression(None),
        "MAERegressionOutput": _regression(None),
        "LogisticRegressionOutput": _regression(ACTIVATIONS["sigmoid"]),
        "smooth_l1": smooth_l1,
        "softmax_cross_entropy": softmax_cross_entropy,
    }
