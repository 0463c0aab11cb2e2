"""Kernels of the nn operators over an array module ``xp`` (NumPy, or CuPy through the same bodies).

Random kernels (Dropout, LeakyReLU's rrelu) draw from ``rng(None)``, the generator the backend keeps for the
device the kernel runs on (see `kernels.random`), so `mx.random.seed` makes their masks reproducible.
Kernels receive the operator's attributes as keywords (``is_train`` too, for the train-aware operators) and
always return new arrays. Float inputs keep their dtype: Python floats are "weak" next to arrays, so
``x * slope`` stays float32; float16 math that needs more range or a special function goes through float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from mxplug.ops.nn import SELU_ALPHA, SELU_LAMBDA, dropout_mask_shape, prelu_gamma_shape, softmax_output_rows

from .elemwise import _quiet, _special

SOFTRELU_LINEAR_ABOVE = 20.0  # MXNet's softrelu returns x itself above 20 (log1p(e^x) == x in float32 there)


def make_kernels(xp, rng: Callable | None = None) -> dict:
    if rng is None:
        private = xp.random.default_rng()

        def rng(ctx):
            return private

    quiet = _quiet(xp)
    erf = _special(xp, "erf")
    table: dict = {}
    table.update(_activation_kernels(xp, erf, rng))
    table.update(_softmax_kernels(xp))
    table.update(_output_kernels(xp, quiet))
    table.update(_dropout_kernels(xp, quiet, rng))
    table.update(_embedding_kernels(xp))
    return table


def _float_work(xp, x):
    """x in a dtype with enough range for exp/erf: float16 is lifted to float32, others stay."""
    return x.astype(xp.float32) if x.dtype == xp.float16 else x


def _uniform(xp, gen, shape, dtype):
    """U[0, 1) samples of `shape` in `dtype` (drawn in float32 for float16)."""
    work = "float64" if dtype == xp.float64 else "float32"
    return gen.random(shape, dtype=work).astype(dtype, copy=False)


# -- activations ---------------------------------------------------------------------------------------------
def _activation_kernels(xp, erf, rng) -> dict:
    def sigmoid(x):
        e = xp.exp(-x)
        e += 1
        return xp.reciprocal(e, out=e)

    def softrelu(x):
        # MXNet: x above 20, else log1p(e^x); the min keeps exp from overflowing in the branch not taken
        soft = xp.log1p(xp.exp(xp.minimum(x, SOFTRELU_LINEAR_ABOVE)))
        return xp.where(x > SOFTRELU_LINEAR_ABOVE, x, soft)

    def softsign(x):
        d = xp.abs(x)
        d += 1
        return xp.divide(x, d, out=d)

    def xelu(x, slope):
        """MXNet's xelu: x where x > 0, else slope * x (slope a number or a broadcastable array)."""
        return xp.where(x > 0, x, x * slope)

    def elu(x, slope):
        return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)) * slope)

    def selu(x):
        return xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0)) * SELU_ALPHA) * SELU_LAMBDA

    def gelu(x):
        w = _float_work(xp, x)
        return (0.5 * w * (1 + erf(w * (1 / math.sqrt(2))))).astype(x.dtype, copy=False)

    activation = {
        "relu": lambda x: xp.maximum(x, 0),
        "sigmoid": sigmoid,
        "tanh": xp.tanh,
        "softrelu": softrelu,
        "softsign": softsign,
    }

    def activation_kernel(data, *, act_type):
        # float16 through float32: each result then rounds once, as MXNet's (float-promoting) kernels do
        return activation[act_type](_float_work(xp, data)).astype(data.dtype, copy=False)

    def leaky_relu(data, gamma=None, *, act_type, slope, lower_bound, upper_bound, is_train=False):
        if act_type == "leaky":
            return xelu(data, slope)
        if act_type == "prelu":
            return xelu(data, gamma.reshape(prelu_gamma_shape(gamma.shape, data.shape)))
        if act_type == "elu":
            return elu(data, slope)
        if act_type == "selu":
            return selu(data)
        if act_type == "gelu":
            return gelu(data)
        # rrelu: the slopes are the second output (the gradient reads them)
        if is_train:
            mask = _uniform(xp, rng(None), data.shape, data.dtype)
            mask *= upper_bound - lower_bound
            mask += lower_bound
        else:
            mask = xp.full(data.shape, (lower_bound + upper_bound) / 2, dtype=data.dtype)
        return xelu(data, mask), mask

    return {"Activation": activation_kernel, "LeakyReLU": leaky_relu}


# -- softmax family ------------------------------------------------------------------------------------------
def _length_mask(xp, shape: tuple[int, ...], axis: int, length):
    """True at the first length[...] positions along `axis` (length has `shape` without `axis`)."""
    n = shape[axis]
    pos = xp.arange(n).reshape((n,) + (1,) * (len(shape) - axis - 1))
    return pos < xp.expand_dims(length, axis)


def _softmax_kernels(xp) -> dict:
    def normalised(data, axis, temperature, dtype, *, log, negate, length=None):
        out_dtype = dtype or data.dtype
        # Compute in the wider of the input and output dtypes (float16 in float32), then cast once.
        work = xp.result_type(data.dtype, out_dtype, xp.float32 if data.dtype == xp.float16 else data.dtype)
        z = xp.negative(data, dtype=work) if negate else data.astype(work, copy=True)
        mask = None
        if length is not None:
            mask = _length_mask(xp, data.shape, axis, length)
            z = xp.where(mask, z, -xp.inf)
        m = xp.max(z, axis=axis, keepdims=True)
        if mask is not None:
            m = xp.where(xp.isfinite(m), m, 0)  # an empty slice (length 0): nothing to subtract
        z -= m
        if temperature is not None and temperature != 1.0:
            z /= temperature  # (x - max) / T, MXNet's order
        if log:
            z -= xp.log(xp.sum(xp.exp(z), axis=axis, keepdims=True))
            return z.astype(out_dtype, copy=False)
        e = xp.exp(z, out=z)
        s = xp.sum(e, axis=axis, keepdims=True)
        if mask is not None:
            s = xp.where(s == 0, 1, s)  # an empty slice gives zeros, as MXNet
        e /= s
        return e.astype(out_dtype, copy=False)

    def softmax(data, length=None, *, axis, temperature, dtype, use_length):
        axis %= data.ndim
        return normalised(data, axis, temperature, dtype, log=False, negate=False,
                          length=length if use_length else None)

    def log_softmax(data, *, axis, temperature, dtype, use_length):
        return normalised(data, axis % data.ndim, temperature, dtype, log=True, negate=False)

    def softmin(data, *, axis, temperature, dtype, use_length):
        return normalised(data, axis % data.ndim, temperature, dtype, log=False, negate=True)

    return {"softmax": softmax, "log_softmax": log_softmax, "softmin": softmin}


# -- output layers and losses ----------------------------------------------------------------------------------
def _output_kernels(xp, quiet) -> dict:
    def stable_softmax_axis1(x):
        w = _float_work(xp, x)
        z = w - xp.max(w, axis=1, keepdims=True)
        e = xp.exp(z, out=z)
        e /= xp.sum(e, axis=1, keepdims=True)
        return e.astype(x.dtype, copy=False)

    def softmax_output(data, label, *, multi_output, preserve_shape, **_):
        view = softmax_output_rows(data.shape, multi_output, preserve_shape)
        return stable_softmax_axis1(data.reshape(view)).reshape(data.shape)

    def backward_softmax_output(out, label, *, grad_scale, ignore_label, multi_output, use_ignore,
                                preserve_shape, normalization, out_grad, smooth_alpha):
        if label.shape == out.shape:  # probabilities as labels: no smoothing, no normalisation
            return (out - label) * grad_scale
        view = softmax_output_rows(out.shape, multi_output, preserve_shape)
        o = out.reshape(view)
        k = view[1]
        if multi_output:
            labels = label.reshape(view[0], view[2])
            classes = xp.arange(k).reshape(1, k, 1)
            hit = labels.astype(xp.int64)[:, None, :] == classes
        else:
            # MXNet reads the label as a flat vector, one entry per row of the view
            labels = label.reshape(-1)[: view[0]]
            hit = labels.astype(xp.int64)[:, None] == xp.arange(k)[None, :]
        if smooth_alpha and not multi_output:  # MXNet smooths only the 2-D (non multi_output) gradient
            target = xp.where(hit, 1.0 - smooth_alpha, smooth_alpha / (k - 1)).astype(out.dtype)
        else:
            target = hit.astype(out.dtype)
        grad = o - target
        ignored = int(ignore_label)
        if use_ignore:
            keep = labels.astype(xp.int64) != ignored
            grad *= (keep[:, None, :] if multi_output else keep[:, None]).astype(out.dtype)
        scale = grad_scale / _normalizer(xp, label, view, multi_output, normalization, ignored)
        if multi_output and normalization != "valid":
            scale /= view[2]
        grad *= scale
        return grad.reshape(out.shape)

    def regression(forward):
        def kernel(data, label, *, grad_scale):
            return forward(data)

        return kernel

    def sigmoid(x):
        e = xp.exp(-x)
        e += 1
        return xp.reciprocal(e, out=e)

    def softmax_cross_entropy(data, label):
        w = _float_work(xp, data)
        z = w - xp.max(w, axis=1, keepdims=True)
        lse = xp.log(xp.sum(xp.exp(z), axis=1))
        index = xp.clip(label, 0, data.shape[1] - 1).astype(xp.int64)
        picked = xp.take_along_axis(z, index[:, None], axis=1)[:, 0]
        return xp.sum(lse - picked).reshape(1).astype(data.dtype)

    def smooth_l1(data, *, scalar):
        s2 = scalar * scalar
        inv = math.inf if s2 == 0 else 1.0 / s2  # σ = 0: every element takes the quadratic branch (0), as MXNet
        a = xp.abs(data)
        with quiet():
            return xp.where(a > inv, a - 0.5 * inv, (0.5 * s2) * data * data)

    return {
        "SoftmaxOutput": softmax_output,
        "_backward_SoftmaxOutput": backward_softmax_output,
        "LinearRegressionOutput": regression(lambda x: x.copy()),
        "MAERegressionOutput": regression(lambda x: x.copy()),
        "LogisticRegressionOutput": regression(sigmoid),
        "softmax_cross_entropy": softmax_cross_entropy,
        "smooth_l1": smooth_l1,
    }


def _normalizer(xp, label, view, multi_output: bool, normalization: str, ignored: int) -> float:  # noqa: FBT001
    """MXNet's valid_cnt: 1 (null), the batch (multi_output: n; else the label's size) or the labels not
    equal to ignore_label (valid; at least 1)."""
    if normalization == "null":
        return 1.0
    if normalization == "batch":
        return float(view[0] if multi_output else label.size)
    valid = int(label.size - int((label.astype(xp.int64) == ignored).sum()))
    return float(max(valid, 1))


# -- Dropout ---------------------------------------------------------------------------------------------------
def _dropout_kernels(xp, quiet, rng) -> dict:
    def dropout(data, *, p, mode, axes, cudnn_off, is_train=False):
        mask_shape = dropout_mask_shape(data.shape, axes)
        if p <= 0 or not (is_train or mode == "always"):
            return data.copy(), xp.ones(mask_shape, dtype=data.dtype)
        keep = 1.0 - p
        u = _uniform(xp, rng(None), mask_shape, data.dtype)
        with quiet():
            # 1/keep is inf at p = 1, and 0 * inf gives NaN: MXNet's (documented-by-behaviour) answer
            scale = 1.0 / keep if keep > 0 else math.inf
            mask = (u < keep).astype(data.dtype)
            mask *= scale
            return data * mask, mask

    return {"Dropout": dropout}


# -- Embedding -------------------------------------------------------------------------------------------------
def _embedding_index(xp, data, input_dim: int):
    """MXNet's row index: clipped to [0, input_dim - 1], then truncated to an integer."""
    return xp.clip(data, 0, input_dim - 1).astype(xp.int64)


def _embedding_kernels(xp) -> dict:
    def embedding(data, weight, *, input_dim, output_dim, dtype, sparse_grad):
        return weight[_embedding_index(xp, data, input_dim)]  # advanced indexing: a new array

    def backward_embedding(ograd, data, *, input_dim, output_dim):
        # Scatter-add of the rows of ograd by index, as ONE bincount over (row, column) keys: repeated
        # indices accumulate, it is vectorised, it exists in NumPy and CuPy alike (ufunc.at does not in
        # older CuPy, cupyx.scatter_add is CuPy-only and lacks float16/float64 atomics everywhere), it needs
        # no (batch × vocabulary) one-hot matrix, and it accumulates in float64.
        rows = _embedding_index(xp, data, input_dim).reshape(-1)
        cols = xp.arange(output_dim, dtype=xp.int64)
        keys = (rows[:, None] * output_dim + cols[None, :]).reshape(-1)
        weights = ograd.reshape(-1, output_dim).reshape(-1).astype(xp.float64)
        total = xp.bincount(keys, weights=weights, minlength=input_dim * output_dim)
        return total.reshape(input_dim, output_dim).astype(ograd.dtype)

    return {"Embedding": embedding, "_backward_Embedding": backward_embedding}
