"""FullyConnected, Convolution, Deconvolution, Pooling, UpSampling.

Forward passes are checked against float64 references written as direct loops over output positions and
kernel taps (Deconvolution as a scatter from every input position, the opposite direction of the kernel's
gather); every differentiable input's gradient numerically; MXNet 1.9's answers where the semantics are
subtle are recorded in tests/oracle/record_conv.py and checked here.
"""

from __future__ import annotations

from math import ceil

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, OperatorAttributeError, ShapeError
from mxplug.ops import TensorSpec, rules
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.oracle.record_conv import CASES, check_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


def _nd(x, dtype="float64"):
    return mx.nd.array(x, dtype=dtype)


# -- references -----------------------------------------------------------------------------------------------
def ref_conv(x, w, b, stride, pad, dilate, groups):
    """y[n, f, o] = b[f] + sum over the group's channels c and taps t of x[n, c, o*stride - pad + t*dilate]."""
    n, c = x.shape[:2]
    f = w.shape[0]
    kernel = w.shape[2:]
    out = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, p, d, k, st in zip(x.shape[2:], pad, dilate, kernel, stride, strict=True))
    y = np.zeros((n, f, *out))
    cg, fg = c // groups, f // groups
    for o in np.ndindex(*out):
        for t in np.ndindex(*kernel):
            pos = tuple(oi * st - p + ti * d for oi, st, p, ti, d in zip(o, stride, pad, t, dilate, strict=True))
            if all(0 <= q < s for q, s in zip(pos, x.shape[2:], strict=True)):
                for g in range(groups):
                    xs = x[(slice(None), slice(g * cg, (g + 1) * cg), *pos)]  # (n, cg)
                    ws = w[(slice(g * fg, (g + 1) * fg), slice(None), *t)]  # (fg, cg)
                    y[(slice(None), slice(g * fg, (g + 1) * fg), *o)] += xs @ ws.T
    if b is not None:
        y += b.reshape((f,) + (1,) * len(kernel))
    return y


def ref_deconv(x, w, b, stride, pad, dilate, groups, out):
    """Scatter: input position i, tap t add x[n, c, i] * w[c, f, t] to output i*stride - pad + t*dilate."""
    n, c = x.shape[:2]
    fg = w.shape[1]
    kernel = w.shape[2:]
    y = np.zeros((n, fg * groups, *out))
    cg = c // groups
    for i in np.ndindex(*x.shape[2:]):
        for t in np.ndindex(*kernel):
            pos = tuple(ii * st - p + ti * d for ii, st, p, ti, d in zip(i, stride, pad, t, dilate, strict=True))
            if all(0 <= q < s for q, s in zip(pos, out, strict=True)):
                for g in range(groups):
                    xs = x[(slice(None), slice(g * cg, (g + 1) * cg), *i)]  # (n, cg)
                    ws = w[(slice(g * cg, (g + 1) * cg), slice(None), *t)]  # (cg, fg)
                    y[(slice(None), slice(g * fg, (g + 1) * fg), *pos)] += xs @ ws
    if b is not None:
        y += b.reshape((-1,) + (1,) * len(kernel))
    return y


def pool_out(size, k, s, p, convention):
    if convention == "valid":
        return (size + 2 * p - k) // s + 1
    if convention == "full":
        return ceil((size + 2 * p - k) / s) + 1
    return ceil(size / s)


def ref_pool(x, kernel, stride, pad, kind, convention="valid", include_pad=True, p_value=2):
    """Each output position's window [o*s - p, o*s - p + k), clipped to the input for its values; avg divides
    by the window clipped to the padded input (include_pad) or to the input."""
    spatial = x.shape[2:]
    out = tuple(pool_out(*a, convention) for a in zip(spatial, kernel, stride, pad, strict=True))
    y = np.zeros(x.shape[:2] + out)
    for o in np.ndindex(*out):
        lo = [oi * s - p for oi, s, p in zip(o, stride, pad, strict=True)]
        hi = [min(a + k, n + p) for a, k, n, p in zip(lo, kernel, spatial, pad, strict=True)]
        region = tuple(slice(max(a, 0), min(b, n)) for a, b, n in zip(lo, hi, spatial, strict=True))
        win = x[(slice(None), slice(None), *region)].reshape(x.shape[:2] + (-1,))
        at = (slice(None), slice(None), *o)
        if kind == "max":
            y[at] = win.max(axis=-1) if win.shape[-1] else np.finfo(x.dtype).min
        elif kind == "sum":
            y[at] = win.sum(axis=-1)
        elif kind == "avg":
            count = np.prod([b - a for a, b in zip(lo, hi, strict=True)]) if include_pad else win.shape[-1]
            y[at] = win.sum(axis=-1) / count
        else:
            y[at] = np.sign(s := (win ** p_value).sum(axis=-1)) * np.abs(s) ** (1.0 / p_value)
    return y


# -- FullyConnected -------------------------------------------------------------------------------------------
FC_CASES = [  # data shape, flatten
    ((3, 4), True), ((2, 3, 2), True), ((2, 3, 2), False), ((2, 2, 3, 2), False), ((4,), False), ((5,), True),
]


@pytest.mark.parametrize("no_bias", [False, True])
@pytest.mark.parametrize(("shape", "flatten"), FC_CASES)
def test_fully_connected(shape, flatten, no_bias, rng):
    x = rng.normal(size=shape)
    k = int(np.prod(shape[1:])) if flatten else shape[-1]
    w, b = rng.normal(size=(3, k)), rng.normal(size=(3,))
    lead = shape[:1] if flatten else shape[:-1]
    want = np.einsum("rk,hk->rh", x.reshape(int(np.prod(lead)), k), w).reshape((*lead, 3)) + (0 if no_bias else b)
    args = [x, w] if no_bias else [x, w, b]
    got = mx.nd.FullyConnected(*(_nd(a) for a in args), num_hidden=3, no_bias=no_bias, flatten=flatten)
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(lambda *a: mx.nd.FullyConnected(*a, num_hidden=3, no_bias=no_bias, flatten=flatten), args)


def test_fully_connected_float32_is_sgemm(rng):
    x, w, b = rng.normal(size=(8, 6)), rng.normal(size=(5, 6)), rng.normal(size=(5,))
    got = mx.nd.FullyConnected(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), num_hidden=5)
    assert got.dtype is np.float32
    assert_almost_equal(got, x @ w.T + b, rtol=1e-5, atol=1e-5)


def test_fully_connected_second_order(rng):
    from tests.ops.test_reduce import check_second_order

    w = mx.nd.array(rng.normal(size=(3, 4)), dtype="float64")
    check_second_order(lambda x: mx.nd.FullyConnected(x, w, num_hidden=3, no_bias=True) ** 2, rng.normal(size=(2, 4)))


# -- Convolution ----------------------------------------------------------------------------------------------
CONV_CASES = [  # data shape, filters, kernel, stride, pad, dilate, groups
    ((2, 3, 6, 5), 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((2, 3, 6, 5), 4, (3, 2), (2, 1), (1, 1), (1, 1), 1),
    ((1, 2, 7, 7), 3, (3, 3), (1, 1), (2, 1), (2, 2), 1),
    ((1, 2, 7, 8), 2, (2, 3), (2, 3), (1, 0), (2, 1), 1),
    ((2, 4, 5, 5), 6, (3, 3), (1, 1), (1, 1), (1, 1), 2),
    ((2, 4, 5, 5), 2, (3, 3), (1, 1), (1, 1), (1, 1), 2),  # fewer filters than channels per group
    ((2, 3, 5, 4), 3, (3, 3), (2, 2), (1, 1), (1, 1), 3),  # depthwise, strided
    ((2, 4, 3, 3), 5, (1, 1), (1, 1), (0, 0), (1, 1), 1),  # 1x1: the data is its own im2col
    ((2, 3, 4, 4), 8, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # many filters: data gradient by col2im
    ((2, 3, 9), 4, (3,), (2,), (1,), (1,), 1),
    ((2, 2, 9), 3, (2,), (1,), (0,), (3,), 1),
    ((1, 2, 4, 5, 4), 3, (2, 3, 2), (1, 2, 1), (1, 0, 1), (1, 1, 1), 1),
    ((1, 4, 4, 4, 3), 2, (2, 2, 2), (1, 1, 1), (0, 1, 0), (2, 1, 1), 2),
    ((1, 2, 1, 4), 3, (3, 3), (1, 1), (2, 1), (2, 1), 1),  # rows 0 and 2 of the kernel meet only padding
    ((2, 3, 4, 4), 2, (1, 1), (2, 1), (1, 1), (1, 1), 1),  # 1x1 with padding: zero border columns
    ((2, 3, 4, 4), 2, (1, 1), (1, 1), (1, 1), (1, 1), 1),  # padding beyond the kernel: dY is cropped for dX
    # 2-D, stride 1, one group, more than twice as many filters as channels, small images: dX by the flat
    # col2im (dY's rows padded to the padded input's width)
    ((2, 2, 7, 9), 5, (3, 2), (1, 1), (1, 2), (2, 1), 1),  # dilated taps spill across padded rows
    ((3, 1, 6, 5), 3, (2, 3), (1, 1), (0, 0), (1, 2), 1),
]
CONV_IDS = [f"{len(c[2])}d-k{c[2]}-s{c[3]}-p{c[4]}-d{c[5]}-g{c[6]}-f{c[1]}".replace(" ", "") for c in CONV_CASES]


def _conv_args(case, rng):
    shape, f, kernel, stride, pad, dilate, groups = case
    x = rng.normal(size=shape)
    w = rng.normal(size=(f, shape[1] // groups, *kernel))
    b = rng.normal(size=(f,))
    attrs = {"kernel": kernel, "stride": stride, "pad": pad, "dilate": dilate, "num_filter": f, "num_group": groups}
    return x, w, b, attrs


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_convolution_forward(case, rng):
    x, w, b, attrs = _conv_args(case, rng)
    want = ref_conv(x, w, b, attrs["stride"], attrs["pad"], attrs["dilate"], attrs["num_group"])
    assert_almost_equal(mx.nd.Convolution(_nd(x), _nd(w), _nd(b), **attrs), want, rtol=1e-12, atol=1e-12)
    got = mx.nd.Convolution(_nd(x), _nd(w), no_bias=True, **attrs)
    assert_almost_equal(got, want - b.reshape((-1,) + (1,) * len(attrs["kernel"])), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_convolution_gradient(case, rng):
    x, w, b, attrs = _conv_args(case, rng)
    check_numeric_gradient(lambda *a: mx.nd.Convolution(*a, **attrs), [x, w, b])


def test_convolution_gradient_no_bias(rng):
    x, w, _, attrs = _conv_args(CONV_CASES[1], rng)
    check_numeric_gradient(lambda *a: mx.nd.Convolution(*a, no_bias=True, **attrs), [x, w])


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_convolution_low_precision(dtype, rng):
    x, w, b, attrs = _conv_args(CONV_CASES[4], rng)
    got = mx.nd.Convolution(*(mx.nd.array(a, dtype=dtype) for a in (x, w, b)), **attrs)
    assert got.dtype is np.dtype(dtype).type
    want = ref_conv(*(a.astype(dtype).astype("float64") for a in (x, w, b)), attrs["stride"], attrs["pad"],
                    attrs["dilate"], attrs["num_group"])
    tol = 2e-2 if dtype == "float16" else 1e-5
    assert_almost_equal(got.asnumpy().astype("float64"), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", [1, 4])  # strided (separate dX and dW passes), grouped stride 1 (one pass)
def test_convolution_workspace_chunks_the_batch(case, rng):
    # A workspace too small for one batch's columns processes the batch in chunks: same result.
    x, w, b, attrs = _conv_args(CONV_CASES[case], rng)
    x = np.concatenate([x] * 3)
    args = [_nd(a) for a in (x, w, b)]
    whole = mx.nd.Convolution(*args, **attrs)
    assert_almost_equal(mx.nd.Convolution(*args, workspace=0, **attrs), whole, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(lambda *a: mx.nd.Convolution(*a, workspace=0, **attrs), [x[:2], w, b])


def test_convolution_columns_scratch_is_fully_rewritten(rng):
    # im2col reuses one scratch buffer and writes each kernel tap's data and zeroes: after an unpadded layer
    # filled the buffer with data, a padded layer of the same column size must see zeros, not stale values.
    x = rng.normal(size=(1, 2, 6, 6)) + 10.0
    w = rng.normal(size=(3, 2, 3, 3))
    mx.nd.Convolution(_nd(x), _nd(w), kernel=(3, 3), num_filter=3, no_bias=True).wait_to_read()
    small = x[:, :, :4, :4]
    got = mx.nd.Convolution(_nd(small), _nd(w), kernel=(3, 3), pad=(1, 1), num_filter=3, no_bias=True)
    want = ref_conv(small, w, np.zeros(3), (1, 1), (1, 1), (1, 1), 1)
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)


def test_convolution_ignores_cudnn_attributes(rng):
    x, w, b, attrs = _conv_args(CONV_CASES[0], rng)
    args = [_nd(a) for a in (x, w, b)]
    got = mx.nd.Convolution(*args, cudnn_tune="fastest", cudnn_off=True, layout="NCHW", **attrs)
    assert_almost_equal(got, mx.nd.Convolution(*args, **attrs), rtol=0, atol=0)


def test_backward_op_is_one_call(rng):
    x, w, _, attrs = _conv_args(CONV_CASES[4], rng)
    g = rng.normal(size=mx.nd.Convolution(_nd(x), _nd(w), no_bias=True, **attrs).shape)
    dx, dw, db = mx.nd._internal._backward_Convolution(_nd(g), _nd(x), _nd(w), no_bias=True, **attrs)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, (w.shape[0],))
    assert not db.asnumpy().any()  # no_bias: a zero bias gradient
    dx2, dw2, db2 = mx.nd._internal._backward_Convolution(_nd(g), _nd(x), _nd(w), **attrs)
    assert_almost_equal(db2, g.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)
    assert_almost_equal(dx2, dx, rtol=0, atol=0)


# -- Deconvolution --------------------------------------------------------------------------------------------
DECONV_CASES = [  # data shape, filters, kernel, stride, pad, adj, dilate, groups
    ((2, 3, 3, 4), 4, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1),
    ((2, 3, 3, 4), 2, (3, 3), (2, 2), (1, 1), (1, 0), (1, 1), 1),
    ((1, 2, 3, 3), 3, (3, 2), (1, 2), (1, 0), (0, 1), (2, 2), 1),
    ((2, 4, 3, 3), 6, (3, 3), (2, 1), (0, 1), (1, 0), (1, 1), 2),
    ((2, 4, 3, 3), 2, (2, 2), (1, 1), (0, 0), (0, 0), (1, 1), 2),
    ((2, 4, 5), 3, (3,), (3,), (1,), (2,), (1,), 1),
    ((1, 2, 2, 3, 2), 3, (2, 3, 2), (2, 1, 2), (0, 1, 0), (1, 0, 0), (1, 1, 1), 1),
    ((1, 2, 2, 2, 2), 2, (2, 2, 2), (1, 1, 1), (0, 0, 0), (0, 0, 0), (1, 2, 1), 2),
]
DECONV_IDS = [f"{len(c[2])}d-s{c[3]}-p{c[4]}-a{c[5]}-d{c[6]}-g{c[7]}-f{c[1]}".replace(" ", "") for c in DECONV_CASES]


def _deconv_args(case, rng):
    shape, f, kernel, stride, pad, adj, dilate, groups = case
    x = rng.normal(size=shape)
    w = rng.normal(size=(shape[1], f // groups, *kernel))
    b = rng.normal(size=(f,))
    attrs = {"kernel": kernel, "stride": stride, "pad": pad, "adj": adj, "dilate": dilate, "num_filter": f,
             "num_group": groups}
    out = tuple(s * (i - 1) + d * (k - 1) + 1 - 2 * p + a
                for i, s, d, k, p, a in zip(shape[2:], stride, dilate, kernel, pad, adj, strict=True))
    return x, w, b, attrs, out


@pytest.mark.parametrize("case", DECONV_CASES, ids=DECONV_IDS)
def test_deconvolution_forward(case, rng):
    x, w, b, attrs, out = _deconv_args(case, rng)
    want = ref_deconv(x, w, None, attrs["stride"], attrs["pad"], attrs["dilate"], attrs["num_group"], out)
    got = mx.nd.Deconvolution(_nd(x), _nd(w), **attrs)  # no_bias defaults to True, as in MXNet
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)
    got = mx.nd.Deconvolution(_nd(x), _nd(w), _nd(b), no_bias=False, **attrs)
    assert_almost_equal(got, want + b.reshape((-1,) + (1,) * len(out)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", DECONV_CASES, ids=DECONV_IDS)
def test_deconvolution_gradient(case, rng):
    x, w, b, attrs, _ = _deconv_args(case, rng)
    check_numeric_gradient(lambda *a: mx.nd.Deconvolution(*a, no_bias=False, **attrs), [x, w, b])


@pytest.mark.parametrize(("shape", "stride", "pad", "target"), [
    ((1, 2, 4, 4), (2, 2), (0, 0), (8, 9)),
    ((1, 2, 4, 4), (3, 3), (4, 4), (10, 11)),  # target_shape overrides pad
    ((1, 2, 3, 3), (2, 2), (0, 0), (5, 6)),
])
def test_deconvolution_target_shape(shape, stride, pad, target, rng):
    # pad and adj follow from the target: total = stride*(in-1) + kernel - target, pad = ceil(total/2), adj = total%2
    x, w = rng.normal(size=shape), rng.normal(size=(shape[1], 3, 3, 3))
    got = mx.nd.Deconvolution(_nd(x), _nd(w), kernel=(3, 3), num_filter=3, stride=stride, pad=pad, target_shape=target)
    assert got.shape == (1, 3, *target)
    total = [s * (i - 1) + 3 - t for s, i, t in zip(stride, shape[2:], target, strict=True)]
    want = ref_deconv(x, w, None, stride, [(t + 1) // 2 for t in total], (1, 1), 1, target)
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)


def test_deconvolution_is_convolution_adjoint(rng):
    # <conv(x, w), y> == <x, deconv(y, w)>: the defining property, checked on a strided grouped case.
    x, y, w = rng.normal(size=(2, 4, 8, 6)), rng.normal(size=(2, 6, 4, 3)), rng.normal(size=(6, 2, 3, 2))
    attrs = {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 0), "num_group": 2}
    cx = mx.nd.Convolution(_nd(x), _nd(w), num_filter=6, no_bias=True, **attrs).asnumpy()
    dy = mx.nd.Deconvolution(_nd(y), _nd(w), num_filter=4, adj=(1, 0), **attrs).asnumpy()
    assert dy.shape == x.shape
    assert np.isclose((cx * y).sum(), (x * dy).sum(), rtol=1e-12)


# -- Pooling --------------------------------------------------------------------------------------------------
POOL_CASES = [  # data shape, kernel, stride, pad, convention
    ((2, 2, 6, 7), (2, 2), (2, 2), (0, 0), "valid"),
    ((2, 2, 7, 7), (3, 3), (2, 2), (1, 1), "valid"),
    ((2, 2, 7, 7), (3, 3), (2, 2), (1, 1), "full"),
    ((1, 2, 7, 8), (2, 3), (3, 2), (0, 1), "full"),
    ((1, 2, 6, 6), (3, 3), (1, 1), (1, 1), "valid"),
    ((2, 3, 9), (3,), (2,), (1,), "valid"),
    ((2, 3, 9), (4,), (3,), (1,), "full"),
    ((2, 2, 7), (3,), (2,), (0,), "same"),
    ((1, 2, 4, 5, 4), (2, 2, 2), (2, 1, 2), (1, 0, 0), "full"),
]
POOL_IDS = [f"{len(c[1])}d-k{c[1]}-s{c[2]}-p{c[3]}-{c[4]}".replace(" ", "") for c in POOL_CASES]
POOL_KINDS = [("max", None, None), ("sum", None, None), ("avg", True, None), ("avg", False, None),
              ("lp", None, 1), ("lp", None, 2), ("lp", None, 3)]
KIND_IDS = ["max", "sum", "avg-incl", "avg-excl", "lp1", "lp2", "lp3"]


def _pool_attrs(kernel, stride, pad, convention, kind, include, p):
    attrs = {"kernel": kernel, "stride": stride, "pooling_convention": convention, "pool_type": kind}
    if convention != "same":
        attrs["pad"] = pad
    if include is not None:
        attrs["count_include_pad"] = include
    if p is not None:
        attrs["p_value"] = p
    return attrs


def _positive_distinct(rng, shape):
    # Distinct values (no max ties, so the gradient is differentiable) away from 0 (Lp's roots)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) + 1.0) / 4 + rng.uniform(0, 0.1, size=shape)


@pytest.mark.parametrize(("kind", "include", "p"), POOL_KINDS, ids=KIND_IDS)
@pytest.mark.parametrize(("shape", "kernel", "stride", "pad", "convention"), POOL_CASES, ids=POOL_IDS)
def test_pooling(shape, kernel, stride, pad, convention, kind, include, p, rng):
    x = _positive_distinct(rng, shape) * (rng.choice([-1, 1], size=shape) if kind != "lp" else 1)
    attrs = _pool_attrs(kernel, stride, pad, convention, kind, include, p)
    want = ref_pool(x, kernel, stride, (0,) * len(kernel) if convention == "same" else pad, kind, convention,
                    include is not False, p)
    assert_almost_equal(mx.nd.Pooling(_nd(x), **attrs), want, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(lambda a: mx.nd.Pooling(a, **attrs), [x])


@pytest.mark.parametrize(("kind", "p"), [("max", None), ("avg", None), ("sum", None), ("lp", 2), ("lp", 3)])
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 4, 2)])
def test_global_pooling(shape, kind, p, rng):
    x = _positive_distinct(rng, shape)
    attrs = {"global_pool": True, "pool_type": kind, "kernel": (9,) * (len(shape) - 2), "p_value": p}
    flat = x.reshape(shape[:2] + (-1,))
    want = {"max": flat.max(-1), "avg": flat.mean(-1), "sum": flat.sum(-1),
            "lp": (flat ** (p or 1)).sum(-1) ** (1 / (p or 1))}[kind]
    got = mx.nd.Pooling(_nd(x), **attrs)
    assert got.shape == shape[:2] + (1,) * (len(shape) - 2)
    assert_almost_equal(got.asnumpy().reshape(shape[:2]), want, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(lambda a: mx.nd.Pooling(a, **attrs), [x])


def test_max_pooling_gradient_goes_to_the_first_maximum():
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]]]])
    x_nd = _nd(x)
    x_nd.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Pooling(x_nd, kernel=(2, 2), stride=(1, 1))
    y.backward(_nd(np.array([[[[1.0, 10.0]]]])))
    assert_almost_equal(x_nd.grad, np.array([[[[0.0, 11.0, 0.0], [0.0, 0.0, 0.0]]]]), rtol=0, atol=0)


def _first_max_grad(x, og, kernel, stride, pad):
    """Max pooling's data gradient by explicit loops: each window clipped to the input, its first maximum in
    row-major order (np.argmax on the window) takes the output gradient."""
    dx = np.zeros_like(x)
    for n, c, *pos in np.ndindex(*og.shape):
        lo = [max(o * s - p, 0) for o, s, p in zip(pos, stride, pad, strict=True)]
        hi = [min(o * s - p + k, size) for o, s, p, k, size in zip(pos, stride, pad, kernel, x.shape[2:], strict=True)]
        window = x[(n, c, *(slice(a, b) for a, b in zip(lo, hi, strict=True)))]
        first = np.unravel_index(np.argmax(window), window.shape)
        dx[(n, c, *(a + f for a, f in zip(lo, first, strict=True)))] += og[(n, c, *pos)]
    return dx


@pytest.mark.parametrize(("shape", "kernel", "stride", "pad"), [
    ((2, 3, 6, 8), (2, 2), (2, 2), (0, 0)),  # disjoint windows tiling the input
    ((2, 3, 7, 7), (2, 2), (2, 2), (0, 0)),  # disjoint, last row/column uncovered
    ((2, 3, 7, 7), (3, 3), (2, 2), (1, 1)),  # overlapping, padded
    ((1, 2, 4, 5, 4), (2, 3, 2), (2, 1, 2), (1, 1, 0)),
    ((2, 2, 9), (3,), (2,), (1,)),
])
def test_max_pooling_ties_follow_the_first_maximum(shape, kernel, stride, pad, rng):
    x = rng.integers(0, 3, size=shape).astype("float64")  # many ties within and across windows
    x_nd = _nd(x)
    x_nd.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Pooling(x_nd, kernel=kernel, stride=stride, pad=pad, pool_type="max")
    og = rng.uniform(1, 2, size=y.shape)
    y.backward(_nd(og))
    assert_almost_equal(y, ref_pool(x, kernel, stride, pad, "max"), rtol=0, atol=0)
    assert_almost_equal(x_nd.grad, _first_max_grad(x, og, kernel, stride, pad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_low_precision(dtype, kind, rng):
    x = _positive_distinct(rng, (2, 2, 6, 6)).astype(dtype)
    got = mx.nd.Pooling(mx.nd.array(x, dtype=dtype), kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type=kind)
    assert got.dtype is np.dtype(dtype).type
    want = ref_pool(x.astype("float64"), (3, 3), (2, 2), (1, 1), kind)
    assert_almost_equal(got.asnumpy().astype("float64"), want, rtol=1e-2 if dtype == "float16" else 1e-6)


# -- UpSampling -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["concat", "sum"])
def test_upsampling_nearest(mode, rng):
    shapes = [(2, 2, 3, 2), (2, 2, 6, 4)] + ([(2, 1, 3, 2)] if mode == "concat" else [])
    xs = [rng.normal(size=s) for s in shapes]
    oh, ow = 6, 4  # scale 2 of the first input (3, 2)
    parts = [np.repeat(np.repeat(x, oh // x.shape[2], axis=2), ow // x.shape[3], axis=3) for x in xs]
    want = np.concatenate(parts, axis=1) if mode == "concat" else sum(parts)
    got = mx.nd.UpSampling(*(_nd(x) for x in xs), scale=2, sample_type="nearest", multi_input_mode=mode)
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(lambda *a: mx.nd.UpSampling(*a, scale=2, sample_type="nearest", multi_input_mode=mode),
                           xs)


def test_upsampling_concat_of_three(rng):
    xs = [rng.normal(size=s) for s in [(1, 1, 2, 2), (1, 2, 4, 4), (1, 1, 1, 1)]]
    got = mx.nd.UpSampling(*(_nd(x) for x in xs), scale=2, sample_type="nearest", num_args=3)
    assert got.shape == (1, 4, 4, 4)
    assert_almost_equal(got.asnumpy()[0, 3], np.full((4, 4), xs[2][0, 0, 0, 0]), rtol=0, atol=0)
    check_numeric_gradient(lambda *a: mx.nd.UpSampling(*a, scale=2, sample_type="nearest"), xs)


@pytest.mark.parametrize("scale", [2, 3])
def test_upsampling_bilinear_is_a_depthwise_deconvolution(scale, rng):
    k = 2 * scale - scale % 2
    x, w = rng.normal(size=(2, 3, 3, 4)), rng.normal(size=(3, 1, k, k))
    got = mx.nd.UpSampling(_nd(x), _nd(w), scale=scale, sample_type="bilinear", num_filter=3)
    p = ceil((scale - 1) / 2)
    want = ref_deconv(x, w, None, (scale, scale), (p, p), (1, 1), 3, (3 * scale, 4 * scale))
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)
    check_numeric_gradient(
        lambda a, b: mx.nd.UpSampling(a, b, scale=scale, sample_type="bilinear", num_filter=3), [x, w])


# -- inference rules ------------------------------------------------------------------------------------------
F32 = np.dtype("float32")


@pytest.mark.parametrize(("op", "attrs", "data", "weight", "bias"), [
    ("FullyConnected", {"num_hidden": 5, "no_bias": False, "flatten": True}, (2, 3, 4), (5, 12), (5,)),
    ("FullyConnected", {"num_hidden": 5, "no_bias": True, "flatten": False}, (2, 3, 4), (5, 4), None),
    ("Convolution", {"kernel": (3, 3), "num_filter": 8, "num_group": 2, "no_bias": False}, (2, 4, 9, 9),
     (8, 2, 3, 3), (8,)),
    ("Deconvolution", {"kernel": (2, 3), "num_filter": 6, "num_group": 3, "no_bias": True}, (2, 3, 5, 5),
     (3, 2, 2, 3), None),
    ("Deconvolution", {"kernel": (3,), "num_filter": 4, "num_group": 1, "no_bias": False}, (2, 3, 5),
     (3, 4, 3), (4,)),
])
def test_infer_inputs(op, attrs, data, weight, bias):
    full = mx.registry.get(op).parse_attrs(attrs)
    got = rules(op).infer_inputs(full, TensorSpec(data, F32), None, None)
    want = [TensorSpec(data, F32), TensorSpec(weight, F32), None if bias is None else TensorSpec(bias, F32)]
    assert got == want
    assert rules(op).input_names(full) == ["data", "weight"] + ([] if bias is None else ["bias"])
    assert rules(op).infer_inputs(full, None, None, None) == [None, None, None]


def test_infer_inputs_bilinear_upsampling():
    full = mx.registry.get("UpSampling").parse_attrs({"scale": 3, "sample_type": "bilinear", "num_filter": 2})
    got = rules("UpSampling").infer_inputs(full, TensorSpec((1, 2, 4, 4), F32), None)
    assert got == [TensorSpec((1, 2, 4, 4), F32), TensorSpec((2, 1, 5, 5), F32)]


def test_pooling_output_sizes_follow_the_convention():
    x = mx.nd.zeros((1, 1, 7, 7))
    assert mx.nd.Pooling(x, kernel=(2, 2), stride=(3, 3)).shape == (1, 1, 2, 2)
    assert mx.nd.Pooling(x, kernel=(2, 2), stride=(3, 3), pooling_convention="full").shape == (1, 1, 3, 3)
    assert mx.nd.Pooling(mx.nd.zeros((1, 1, 7)), kernel=(2,), stride=(3,), pooling_convention="same").shape == (1, 1, 3)
    assert mx.nd.Pooling(x, kernel=(3, 3)).shape == (1, 1, 5, 5)  # stride defaults to 1


# -- errors ---------------------------------------------------------------------------------------------------
def _conv(data, weight, bias=None, **kw):
    args = [mx.nd.zeros(data), mx.nd.zeros(weight)] + ([] if bias is None else [mx.nd.zeros(bias)])
    return mx.nd.Convolution(*args, no_bias=bias is None, **kw)


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda: mx.nd.FullyConnected(mx.nd.zeros((2, 3, 4)), mx.nd.zeros((3, 12)), mx.nd.zeros(3), num_hidden=2),
     ShapeError, r"'FullyConnected'.*weight \(3, 12\).*\(2, 12\).*data \(2, 3, 4\)"),
    (lambda: mx.nd.FullyConnected(mx.nd.zeros((2, 4)), mx.nd.zeros((2, 4)), mx.nd.zeros(3), num_hidden=2),
     ShapeError, r"'FullyConnected'.*bias \(3,\).*\(2,\)"),
    (lambda: mx.nd.FullyConnected(mx.nd.zeros((2, 4)), mx.nd.zeros((2, 4)), num_hidden=2),
     OperatorAttributeError, r"'FullyConnected'.*input 'bias' is required"),
    (lambda: mx.nd.FullyConnected(mx.nd.zeros((2, 4)), mx.nd.zeros((2, 4)), mx.nd.zeros(2), num_hidden=2,
                                  no_bias=True), OperatorAttributeError, r"bias was given with no_bias=True"),
    (lambda: _conv((2, 3, 4, 4), (2, 3, 5, 5), kernel=(5, 5), num_filter=2),
     ShapeError, r"'Convolution'.*kernel \(5, 5\).*exceeds the padded input \(4, 4\).*\(2, 3, 4, 4\)"),
    (lambda: _conv((2, 3, 4, 4), (2, 3, 3, 3), kernel=(3, 3), num_filter=2, dilate=(2, 2)),
     ShapeError, r"dilated extent \(5, 5\)\) exceeds the padded input \(4, 4\)"),
    (lambda: _conv((2, 3, 6, 6), (4, 1, 3, 3), kernel=(3, 3), num_filter=4, num_group=2),
     ShapeError, r"'Convolution'.*data channels \(3\) must be divisible by num_group \(2\).*\(2, 3, 6, 6\)"),
    (lambda: _conv((2, 4, 6, 6), (3, 2, 3, 3), kernel=(3, 3), num_filter=3, num_group=2),
     ShapeError, r"num_filter \(3\) must be divisible by num_group \(2\)"),
    (lambda: _conv((2, 3, 6, 6), (4, 2, 3, 3), (4,), kernel=(3, 3), num_filter=4),
     ShapeError, r"'Convolution'.*weight \(4, 2, 3, 3\) must have shape \(4, 3, 3, 3\)"),
    (lambda: _conv((2, 3, 6, 6), (4, 3, 3, 3), (5,), kernel=(3, 3), num_filter=4),
     ShapeError, r"bias \(5,\) must have shape \(4,\)"),
    (lambda: _conv((2, 3, 6, 6), (4, 3, 3, 3, 3), kernel=(3, 3, 3), num_filter=4),
     ShapeError, r"3-D kernel needs 5-D data.*\(2, 3, 6, 6\)"),
    (lambda: _conv((2, 3, 6, 6), (4, 3, 3, 3), kernel=(3, 3), num_filter=4, stride=(2,)),
     OperatorAttributeError, r"stride=\(2,\) must have one value per spatial axis"),
    (lambda: _conv((2, 3, 6, 6), (4, 3, 3, 3), kernel=(3, 3), num_filter=4, stride=(0, 1)),
     OperatorAttributeError, r"stride=\(0, 1\) must be >= 1"),
    (lambda: _conv((2, 6, 6, 3), (4, 3, 3, 3), kernel=(3, 3), num_filter=4, layout="NHWC"),
     OperatorAttributeError, r"layout 'NHWC' is not supported"),
    (lambda: _conv((2, 3, 6, 6), (4, 3, 3, 3), kernel=(3, 3), num_filter=4, layout="NCW"),
     ShapeError, r"layout 'NCW' does not fit data \(2, 3, 6, 6\)"),
    (lambda: mx.nd.Convolution(mx.nd.zeros((2, 3, 6, 6), dtype="int32"), mx.nd.zeros((4, 3, 3, 3), dtype="int32"),
                               kernel=(3, 3), num_filter=4, no_bias=True), DTypeError, r"'Convolution'.*int32"),
    (lambda: mx.nd.Deconvolution(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((3, 4, 3, 3)), kernel=(3, 3), num_filter=4,
                                 stride=(2, 2), target_shape=(20, 15)),
     ShapeError, r"'Deconvolution'.*target_shape \(20, 15\) is larger than the largest output \(9, 9\)"),
    (lambda: mx.nd.Deconvolution(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((3, 4, 3, 3)), kernel=(3, 3), num_filter=4,
                                 stride=(2, 2), adj=(2, 2)), OperatorAttributeError, r"adj \(2, 2\) must be smaller"),
    (lambda: mx.nd.Deconvolution(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((3, 4, 3, 3)), mx.nd.zeros(4), kernel=(3, 3),
                                 num_filter=4), OperatorAttributeError, r"bias was given with no_bias=True"),
    (lambda: mx.nd.Deconvolution(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((4, 3, 3, 3)), kernel=(3, 3), num_filter=4),
     ShapeError, r"'Deconvolution'.*weight \(4, 3, 3, 3\) must have shape \(3, 4, 3, 3\)"),
    (lambda: mx.nd.Pooling(mx.nd.zeros((2, 3, 4, 4)), kernel=(5, 5)),
     ShapeError, r"'Pooling'.*kernel \(5, 5\) exceeds the padded input \(4, 4\)"),
    (lambda: mx.nd.Pooling(mx.nd.zeros((2, 3, 4, 4))), OperatorAttributeError, r"kernel is required"),
    (lambda: mx.nd.Pooling(mx.nd.zeros((2, 8)), kernel=(2,)), ShapeError, r"3-D, 4-D or 5-D.*\(2, 8\)"),
    (lambda: mx.nd.Pooling(mx.nd.zeros((2, 3, 4, 4)), kernel=(2, 2), pool_type="lp"),
     OperatorAttributeError, r"p_value 1, 2 or 3, got None"),
    (lambda: mx.nd.Pooling(mx.nd.zeros((2, 3, 4, 4)), kernel=(2, 2), pooling_convention="same"),
     ShapeError, r"'same' supports 1-D pooling only"),
    (lambda: mx.nd.UpSampling(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((2, 3, 3, 3)), scale=2, sample_type="nearest"),
     ShapeError, r"'UpSampling'.*\(2, 3, 3, 3\) cannot be upsampled.*\(8, 8\)"),
    (lambda: mx.nd.UpSampling(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((2, 5, 4, 4)), scale=2, sample_type="nearest",
                              multi_input_mode="sum"), ShapeError, r"'sum' needs equal channels"),
    (lambda: mx.nd.UpSampling(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((3, 1, 3, 3)), scale=2, sample_type="bilinear"),
     ShapeError, r"weight \(3, 1, 3, 3\) must have shape \(3, 1, 4, 4\)"),
    (lambda: mx.nd.UpSampling(mx.nd.zeros((2, 3, 4)), scale=2, sample_type="nearest"),
     ShapeError, r"4-D \(N, C, H, W\), got \(2, 3, 4\)"),
    (lambda: mx.nd.UpSampling(mx.nd.zeros((2, 3, 4, 4)), scale=2, sample_type="nearest", num_args=2),
     OperatorAttributeError, r"num_args=2 but 1 arrays"),
])
def test_errors_name_the_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_results_are_not_input_views():
    # The core may write into a kernel's output in place: a 1x1 convolution must not hand back its data.
    x = mx.nd.ones((1, 2, 3, 3))
    y = mx.nd.Convolution(x, mx.nd.ones((2, 2, 1, 1)), kernel=(1, 1), num_filter=2, no_bias=True)
    assert not np.shares_memory(y._data, x._data)
    p = mx.nd.Pooling(x, kernel=(1, 1))
    assert not np.shares_memory(p._data, x._data)
