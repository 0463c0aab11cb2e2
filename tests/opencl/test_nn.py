"""The OpenCL NN kernels (kernels/nn.py, nn_codegen.py): outputs and gradients against the CPU backend run in
float64 (check_consistency over cpu/opencl, float32/float64), against independent float64 references written
with loops, Dropout's masks under mx.random.seed, and a LeNet training step that stays on the device."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mxplug as mx
from mxplug.dispatch import backends_with_kernel
from mxplug.testing import assert_almost_equal, check_consistency

from .conftest import REASON

NATIVE = ("FullyConnected", "Convolution", "_backward_Convolution", "Pooling", "_backward_Pooling", "Activation",
          "LeakyReLU", "softmax", "log_softmax", "softmin", "SoftmaxOutput", "_backward_SoftmaxOutput", "BatchNorm",
          "_backward_BatchNorm", "Dropout", "Embedding", "_backward_Embedding", "LayerNorm", "_backward_LayerNorm",
          "InstanceNorm", "_backward_InstanceNorm", "GroupNorm", "_backward_GroupNorm", "L2Normalization",
          "LinearRegressionOutput", "MAERegressionOutput", "LogisticRegressionOutput", "smooth_l1",
          "softmax_cross_entropy", "Deconvolution", "_backward_Deconvolution", "UpSampling", "SequenceMask",
          "SequenceLast", "_backward_SequenceLast", "SequenceReverse", "LRN", "_backward_LRN")
RNG = np.random.default_rng(11)


def contexts(dtypes=("float32", "float64")):
    """cpu float64 (the truth) and opencl in each dtype, with every input in that dtype."""
    if REASON:
        return []
    return [(mx.cpu(), "float64")] + [(mx.opencl(0), d) for d in dtypes]


def consistent(fn, arrays: dict, tol=None, grad=True):
    """check_consistency of fn over cpu(float64) and opencl(float32/float64), inputs given by value, every
    operator required to run natively (fallback 'error')."""
    entries = [{"ctx": c, "type_dict": dict.fromkeys(arrays, d)} for c, d in contexts()]
    with mx.fallback("error"):
        return check_consistency(fn, entries, arg_params=arrays, grad_req="write" if grad else "null",
                                 tol=tol or {np.dtype("float32"): 2e-3, np.dtype("float64"): 1e-7})


def test_listed_ops_are_native():
    assert all("opencl" in backends_with_kernel(op) for op in NATIVE)


# -- dense and convolution ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("no_bias", [False, True])
def test_fully_connected(flatten, no_bias):
    x, w, b = RNG.normal(size=(3, 4, 5)), RNG.normal(size=(6, 20 if flatten else 5)), RNG.normal(size=6)
    if no_bias:
        consistent(lambda data, weight: mx.nd.FullyConnected(data, weight, num_hidden=6, no_bias=True,
                                                             flatten=flatten), {"data": x, "weight": w})
    else:
        consistent(lambda data, weight, bias: mx.nd.FullyConnected(data, weight, bias, num_hidden=6, flatten=flatten),
                   {"data": x, "weight": w, "bias": b})


CONV_CASES = [  # (data shape, kernel, attrs)
    ((2, 3, 7, 6), (3, 3), {}),
    ((2, 4, 9, 8), (3, 2), {"stride": (2, 1), "pad": (1, 0), "dilate": (1, 2)}),
    ((1, 4, 6, 6), (3, 3), {"num_group": 2, "pad": (1, 1)}),
    ((2, 3, 10), (3,), {"stride": (2,), "pad": (2,)}),
    ((1, 2, 4, 5, 5), (2, 3, 3), {"pad": (1, 1, 0), "stride": (1, 2, 1)}),
    ((2, 3, 5, 5), (1, 1), {}),
]


@pytest.mark.parametrize("shape, kernel, attrs", CONV_CASES)
@pytest.mark.parametrize("no_bias", [False, True])
def test_convolution_forward_and_backward(shape, kernel, attrs, no_bias):
    f, g = 4, attrs.get("num_group", 1)
    args = {"data": RNG.normal(size=shape), "weight": RNG.normal(size=(f, shape[1] // g, *kernel))}
    kw = dict(kernel=kernel, num_filter=f, no_bias=no_bias, **attrs)
    if no_bias:
        consistent(lambda data, weight: mx.nd.Convolution(data, weight, **kw), args)
    else:
        args["bias"] = RNG.normal(size=f)
        consistent(lambda data, weight, bias: mx.nd.Convolution(data, weight, bias, **kw), args)


def _conv_reference(x, w, b, stride, pad):
    """Direct loops, float64, 2-D."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * pad[0], wd + 2 * pad[1]))
    xp[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + wd] = x
    oh, ow = (xp.shape[2] - kh) // stride[0] + 1, (xp.shape[3] - kw) // stride[1] + 1
    out = np.zeros((n, f, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        patch = xp[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
        out[:, :, i, j] = np.einsum("nckl,fckl->nf", patch, w) + b
    return out


def test_convolution_against_loops(ctx):
    x, w, b = RNG.normal(size=(2, 3, 8, 7)), RNG.normal(size=(5, 3, 3, 3)), RNG.normal(size=5)
    with mx.fallback("error"):
        got = mx.nd.Convolution(mx.nd.array(x, ctx=ctx, dtype="float64"), mx.nd.array(w, ctx=ctx, dtype="float64"),
                                mx.nd.array(b, ctx=ctx, dtype="float64"), kernel=(3, 3), num_filter=5, stride=(2, 1),
                                pad=(1, 2))
    assert got.context == ctx
    assert_almost_equal(got.asnumpy(), _conv_reference(x, w, b, (2, 1), (1, 2)), rtol=1e-12, atol=1e-12)


# -- pooling --------------------------------------------------------------------------------------------------------
POOL_CASES = [
    ((2, 3, 8, 8), {"kernel": (2, 2), "stride": (2, 2)}),
    ((2, 2, 7, 9), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1)}),
    ((1, 2, 7, 7), {"kernel": (3, 2), "stride": (2, 3), "pooling_convention": "full"}),
    ((2, 2, 6, 5), {"kernel": (3, 3), "pad": (1, 1), "count_include_pad": False}),
    ((2, 3, 11), {"kernel": (3,), "stride": (2,), "pad": (1,)}),
    ((1, 2, 4, 5, 6), {"kernel": (2, 2, 3), "stride": (2, 1, 2)}),
    ((2, 3, 5, 4), {"global_pool": True}),
]


@pytest.mark.parametrize("shape, attrs", POOL_CASES)
@pytest.mark.parametrize("pool_type", ["max", "avg", "sum", "lp"])
def test_pooling_forward_and_backward(shape, attrs, pool_type):
    extra = {"p_value": 2} if pool_type == "lp" else {}
    # distinct values: max's gradient is routed to one element, ties would make the check depend on rounding
    x = RNG.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) + 0.1
    consistent(lambda data: mx.nd.Pooling(data, pool_type=pool_type, **attrs, **extra), {"data": x})


def test_max_pool_ties_go_to_the_first_maximum(ctx):
    x = np.ones((1, 1, 4, 4))
    with mx.fallback("error"):
        data = mx.nd.array(x, ctx=ctx)
        data.attach_grad()
        with mx.autograd.record():
            y = mx.nd.Pooling(data, kernel=(2, 2), stride=(2, 2), pool_type="max")
        y.backward()
    want = np.zeros((4, 4))
    want[::2, ::2] = 1
    assert_almost_equal(data.grad.asnumpy()[0, 0], want)


def test_avg_pool_against_loops(ctx):
    x = RNG.normal(size=(1, 1, 5, 5))
    with mx.fallback("error"):
        got = mx.nd.Pooling(mx.nd.array(x, ctx=ctx, dtype="float64"), kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                            pool_type="avg", count_include_pad=False).asnumpy()
    want = np.zeros((3, 3))
    for i, j in itertools.product(range(3), range(3)):
        r0, c0 = max(2 * i - 1, 0), max(2 * j - 1, 0)
        want[i, j] = x[0, 0, r0:2 * i + 2, c0:2 * j + 2].mean()
    assert_almost_equal(got[0, 0], want, rtol=1e-12, atol=1e-12)


# -- activations and softmax -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("act_type", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
def test_activation(act_type):
    x = RNG.normal(size=(3, 4, 5)) * 3
    x[0, 0, :2] = [25.0, -25.0]  # softrelu's linear branch
    consistent(lambda data: mx.nd.Activation(data, act_type=act_type), {"data": x})


@pytest.mark.parametrize("act_type", ["leaky", "elu", "selu", "gelu"])
def test_leaky_relu(act_type):
    consistent(lambda data: mx.nd.LeakyReLU(data, act_type=act_type, slope=0.3), {"data": RNG.normal(size=(4, 6))})


def test_prelu():
    consistent(lambda data, gamma: mx.nd.LeakyReLU(data, gamma, act_type="prelu"),
               {"data": RNG.normal(size=(2, 3, 4)), "gamma": RNG.uniform(0.1, 0.5, size=3)})


def test_rrelu_eval_mode(ctx):
    x = RNG.normal(size=(3, 4))
    with mx.fallback("error"):
        out, mask = mx.nd.LeakyReLU(mx.nd.array(x, ctx=ctx), act_type="rrelu", lower_bound=0.1, upper_bound=0.3)
    assert_almost_equal(mask.asnumpy(), np.full((3, 4), 0.2, np.float32))
    assert_almost_equal(out.asnumpy(), np.where(x > 0, x, 0.2 * x).astype(np.float32), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("axis, temperature", [(-1, None), (1, 2.0), (0, 0.5)])
def test_softmax_family(op, axis, temperature):
    consistent(lambda data: getattr(mx.nd, op)(data, axis=axis, temperature=temperature),
               {"data": RNG.normal(size=(3, 4, 5)) * 3})


def test_softmax_against_float64_reference(ctx):
    x = RNG.normal(size=(4, 7)) * 10
    with mx.fallback("error"):
        got = mx.nd.softmax(mx.nd.array(x, ctx=ctx, dtype="float64"), temperature=3.0).asnumpy()
        logp = mx.nd.log_softmax(mx.nd.array(x, ctx=ctx, dtype="float64"), axis=0).asnumpy()
    e = np.exp(x / 3.0)
    assert_almost_equal(got, e / e.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-12)
    assert_almost_equal(logp, x - np.log(np.exp(x).sum(axis=0, keepdims=True)), rtol=1e-12, atol=1e-12)


def test_softmax_with_length_and_output_dtype(ctx):
    x = RNG.normal(size=(3, 5))
    length = np.array([5, 2, 0], np.int32)
    with mx.fallback("error"):
        got = mx.nd.softmax(mx.nd.array(x, ctx=ctx), mx.nd.array(length, ctx=ctx, dtype="int32"), axis=1,
                            use_length=True).asnumpy()
        wide = mx.nd.softmax(mx.nd.array(x, ctx=ctx), dtype="float64")
    want = mx.nd.softmax(mx.nd.array(x), mx.nd.array(length, dtype="int32"), axis=1, use_length=True).asnumpy()
    assert_almost_equal(got, want, rtol=1e-6, atol=1e-7)
    assert wide.dtype == np.float64


SOFTMAX_OUTPUT_CASES = [
    ((4, 5), {}),
    ((4, 5), {"normalization": "batch", "grad_scale": 2.0}),
    ((4, 5), {"use_ignore": True, "ignore_label": 1, "normalization": "valid"}),
    ((4, 5), {"smooth_alpha": 0.1}),
    ((2, 3, 4), {"multi_output": True}),
    ((2, 3, 4), {"multi_output": True, "use_ignore": True, "ignore_label": 2, "normalization": "valid"}),
    ((2, 3, 4), {"preserve_shape": True}),
]


@pytest.mark.parametrize("shape, attrs", SOFTMAX_OUTPUT_CASES)
def test_softmax_output(shape, attrs):
    if attrs.get("multi_output"):
        label = RNG.integers(0, shape[1], size=(shape[0], *shape[2:])).astype(float)
    else:
        label = RNG.integers(0, shape[-1], size=shape[:-1]).astype(float)
    consistent(lambda data, label: mx.nd.SoftmaxOutput(data, label, **attrs),
               {"data": RNG.normal(size=shape), "label": label})


# -- BatchNorm ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fix_gamma", [True, False])
@pytest.mark.parametrize("use_global_stats", [False, True])
@pytest.mark.parametrize("shape, axis", [((4, 3, 5, 2), 1), ((6, 4), 1), ((2, 5, 3), -1)])
def test_batch_norm(fix_gamma, use_global_stats, shape, axis):
    c = shape[axis]
    args = {"data": RNG.normal(size=shape) * 2 + 1, "gamma": RNG.normal(size=c), "beta": RNG.normal(size=c),
            "moving_mean": RNG.normal(size=c), "moving_var": RNG.uniform(0.5, 2, size=c)}
    consistent(lambda data, gamma, beta, moving_mean, moving_var: mx.nd.BatchNorm(
        data, gamma, beta, moving_mean, moving_var, fix_gamma=fix_gamma, use_global_stats=use_global_stats,
        axis=axis, output_mean_var=True), args)


# -- LayerNorm, InstanceNorm, GroupNorm ---------------------------------------------------------------------------
AFFINE_NORM_CASES = [  # (operator, data shape, attributes, parameter length)
    ("LayerNorm", (4, 5, 6), {"axis": -1}, 6), ("LayerNorm", (4, 5, 6), {"axis": 1}, 5),
    ("LayerNorm", (3, 700), {"axis": -1, "eps": 1e-3}, 700),  # long rows: the column fold of the statistics
    ("InstanceNorm", (2, 3, 4, 5), {}, 3), ("GroupNorm", (2, 6, 4, 5), {"num_groups": 3}, 3),
    ("GroupNorm", (2, 4, 300), {"num_groups": 2, "eps": 1e-2}, 2),
]


@pytest.mark.parametrize("op, shape, attrs, n", AFFINE_NORM_CASES)
def test_affine_norms(op, shape, attrs, n):
    args = {"data": RNG.normal(size=shape) * 2 + 1, "gamma": RNG.normal(size=n), "beta": RNG.normal(size=n)}
    extra = {} if op == "InstanceNorm" else {"output_mean_var": True}
    consistent(lambda data, gamma, beta: getattr(mx.nd, op)(data, gamma, beta, **attrs, **extra), args)


@pytest.mark.parametrize("op, shape, attrs, n", AFFINE_NORM_CASES[::2])
def test_affine_norm_gradients_are_numeric_on_the_device(ctx, op, shape, attrs, n):
    from mxplug.testing import check_numeric_gradient

    x, g, b = RNG.normal(size=shape), RNG.normal(size=n), RNG.normal(size=n)
    with mx.fallback("error"):
        check_numeric_gradient(lambda *a: getattr(mx.nd, op)(*a, **attrs), [x, g, b], ctx=ctx, rtol=1e-4,
                               atol=1e-6)


@pytest.mark.parametrize("mode, shape", [("instance", (3, 4, 5)), ("channel", (3, 4, 5)), ("spatial", (2, 3, 4, 5)),
                                         ("instance", (6,)), ("instance", (2, 700))])
def test_l2_normalization(mode, shape):
    consistent(lambda data: mx.nd.L2Normalization(data, mode=mode, eps=1e-6), {"data": RNG.normal(size=shape)})


# -- losses and regression outputs ------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["LinearRegressionOutput", "MAERegressionOutput", "LogisticRegressionOutput"])
def test_regression_outputs(op):
    # Their gradients ignore the incoming one (MXNet): check_consistency compares them on every context.
    args = {"data": RNG.normal(size=(4, 3)), "label": RNG.normal(size=(4, 3))}
    consistent(lambda data, label: getattr(mx.nd, op)(data, label, grad_scale=0.5), args)


@pytest.mark.parametrize("scalar", [1.0, 2.0, 0.0])
def test_smooth_l1(scalar):
    x = RNG.normal(size=(5, 6)) * 2
    consistent(lambda data: mx.nd.smooth_l1(data, scalar=scalar), {"data": x})


def test_softmax_cross_entropy_clips_labels(ctx):
    x = RNG.normal(size=(5, 7)) * 3
    label = np.array([0, 6, 9, -2, 3], np.float64)  # 9 and -2 clip to the last and first class
    consistent(lambda data, label: mx.nd.softmax_cross_entropy(data, label), {"data": x, "label": label})
    with mx.fallback("error"):
        got = mx.nd.softmax_cross_entropy(mx.nd.array(x, ctx=ctx, dtype="float64"),
                                          mx.nd.array(label, ctx=ctx, dtype="float64")).asnumpy()
    z = x - x.max(1, keepdims=True)
    idx = np.clip(label.astype(int), 0, 6)
    want = (np.log(np.exp(z).sum(1)) - z[np.arange(5), idx]).sum()  # the float64 truth
    assert_almost_equal(got, [want], rtol=1e-12)


@pytest.mark.parametrize("train", [True, False])
def test_batch_norm_moving_statistics_as_cpu(ctx, train):
    """The backward in training mode updates moving_mean/var in place (MXNet); predict mode leaves them."""
    x, g = RNG.normal(size=(5, 3, 4)), RNG.normal(size=(5, 3, 4))
    params = [RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3), RNG.uniform(0.5, 2, size=3)]
    results = []
    for c in (mx.cpu(), ctx):
        data = mx.nd.array(x, ctx=c)
        gamma, beta, mm, mv = (mx.nd.array(p, ctx=c) for p in params)
        data.attach_grad()
        with mx.fallback("error"), mx.autograd.record(train_mode=train):
            y = mx.nd.BatchNorm(data, gamma, beta, mm, mv, momentum=0.8, fix_gamma=False)
        y.backward(mx.nd.array(g, ctx=c))
        results.append([mm.asnumpy(), mv.asnumpy(), data.grad.asnumpy(), y.asnumpy()])
    for a, b in zip(*results, strict=True):
        assert_almost_equal(a, b, rtol=1e-5, atol=1e-5)
    if not train:
        assert_almost_equal(results[1][0], params[2].astype(np.float32))
    else:
        assert not np.allclose(results[1][0], params[2].astype(np.float32))


# -- Dropout and Embedding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("axes", [(), (1,)])
def test_dropout_reproducible_and_equal_to_cpu(ctx, axes):
    x = RNG.normal(size=(6, 7))
    runs = []
    for c in (ctx, ctx, mx.cpu()):
        mx.random.seed(42)
        data = mx.nd.array(x, ctx=c)
        data.attach_grad()
        with mx.fallback("error"), mx.autograd.record():
            y = mx.nd.Dropout(data, p=0.4, axes=axes)
        y.backward(mx.nd.ones_like(y))
        runs.append((y.asnumpy(), data.grad.asnumpy()))
    for y, grad in runs[1:]:
        assert_almost_equal(y, runs[0][0])
        assert_almost_equal(grad, runs[0][1])
    y, grad = runs[0]
    kept = grad != 0
    assert 0 < kept.mean() < 1
    assert_almost_equal(y[kept], (x[kept] / 0.6).astype(np.float32), rtol=1e-6, atol=1e-6)
    if axes:
        assert (kept == kept[:, :1]).all()


def test_dropout_outside_training_is_identity(ctx):
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    with mx.fallback("error"):
        assert_almost_equal(mx.nd.Dropout(mx.nd.array(x, ctx=ctx), p=0.5).asnumpy(), x)


def test_embedding(ctx):
    idx = np.array([[0, 4, 2.7], [9, -1, 2]])  # clipped to [0, 4] and truncated
    w = RNG.normal(size=(5, 3))
    consistent(lambda weight: mx.nd.Embedding(mx.nd.array(idx, ctx=weight.context), weight, input_dim=5,
                                              output_dim=3), {"weight": w})
    with mx.fallback("error"):
        weight = mx.nd.array(w, ctx=ctx, dtype="float64")
        weight.attach_grad()
        with mx.autograd.record():
            y = mx.nd.Embedding(mx.nd.array(idx, ctx=ctx), weight, input_dim=5, output_dim=3)
        y.backward(mx.nd.ones_like(y))
    rows = np.clip(idx, 0, 4).astype(int).ravel()
    assert_almost_equal(y.asnumpy(), w[rows].reshape(2, 3, 3))
    assert_almost_equal(weight.grad.asnumpy(), np.bincount(rows, minlength=5)[:, None] * np.ones((5, 3)))


# -- a training step ---------------------------------------------------------------------------------------------
def test_lenet_step_runs_on_the_device_and_matches_cpu(ctx):
    from mxplug.bench import lenet_step

    cpu_step = lenet_step(mx.cpu(), batch=8)
    cl_step = lenet_step(ctx, batch=8)
    with mx.fallback("error"):  # every operator of the step, forward and backward, has an OpenCL kernel
        cl_losses = [float(cl_step().asscalar()) for _ in range(3)]
    cpu_losses = [float(cpu_step().asscalar()) for _ in range(3)]
    assert_almost_equal(np.array(cl_losses), np.array(cpu_losses), rtol=1e-4, atol=1e-5)
    assert cl_losses[2] < cl_losses[0]


# -- Sequence operators ------------------------------------------------------------------------------------------
def _steps(lengths, T, low):
    return [min(max(int(v), low), T) for v in lengths]  # truncated toward zero, clipped (MXNet's index cast)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("use_len", [True, False])
def test_sequence_mask_and_last(ctx, axis, use_len):
    T, N = 5, 3
    x = RNG.normal(size=(T, N, 2) if axis == 0 else (N, T, 2))
    lengths = np.array([2.7, 0.0, 9.0])
    seq = mx.nd.array(lengths, ctx=ctx, dtype="float64") if use_len else None
    kw = {"use_sequence_length": use_len, "axis": axis}
    with mx.fallback("error"):
        a = mx.nd.array(x, ctx=ctx, dtype="float64")
        masked = mx.nd.SequenceMask(a, seq, value=-1.5, **kw).asnumpy()
        last = mx.nd.SequenceLast(a, seq, **kw).asnumpy()
        check_args = [x, lengths] if use_len else [x]
        fn = (lambda d, s: mx.nd.SequenceLast(d, s, **kw)) if use_len else (lambda d: mx.nd.SequenceLast(d, **kw))
        from mxplug.testing import check_numeric_gradient

        check_numeric_gradient(fn, check_args, ctx=ctx, grad_nodes=[0])
    steps = np.moveaxis(x, axis, 0)  # (T, N, 2) in loop order
    want_mask = steps.copy()
    n_keep = _steps(lengths, T, 0) if use_len else [T] * N
    n_last = _steps(lengths, T, 1) if use_len else [T] * N
    for n in range(N):
        want_mask[n_keep[n]:, n] = -1.5
    np.testing.assert_array_equal(masked, np.moveaxis(want_mask, 0, axis))
    np.testing.assert_array_equal(last, np.stack([steps[n_last[n] - 1, n] for n in range(N)]))


@pytest.mark.parametrize("use_len", [True, False])
def test_sequence_reverse(ctx, use_len):
    T, N = 5, 3
    x = RNG.normal(size=(T, N, 2, 2))
    lengths = np.array([2.2, 5.0, 0.0])
    with mx.fallback("error"):
        a = mx.nd.array(x, ctx=ctx, dtype="float64")
        got = (mx.nd.SequenceReverse(a, mx.nd.array(lengths, ctx=ctx, dtype="float64"), use_sequence_length=True)
               if use_len else mx.nd.SequenceReverse(a)).asnumpy()
    want = x.copy()
    for n, L in enumerate(_steps(lengths, T, 0) if use_len else [T] * N):
        want[:L, n] = x[:L, n][::-1]
    np.testing.assert_array_equal(got, want)


# -- Deconvolution and UpSampling ----------------------------------------------------------------------------------
DECONV_CASES = [  # (data shape, num_filter, kernel, attributes, groups)
    ((2, 4, 5, 6), 3, (3, 3), {"stride": (2, 2), "pad": (1, 1), "adj": (1, 0)}, 1),
    ((2, 4, 5), 6, (4,), {"stride": (3,), "pad": (1,), "dilate": (2,)}, 2),
    ((2, 4, 3, 4), 4, (3, 2), {"stride": (1, 2), "target_shape": (5, 8)}, 4),
    ((1, 2, 2, 2, 3), 2, (2, 2, 2), {"stride": (2, 1, 2)}, 1),
]


@pytest.mark.parametrize("shape, f, kernel, extra, groups", DECONV_CASES)
def test_deconvolution(shape, f, kernel, extra, groups):
    args = {"data": RNG.normal(size=shape), "weight": RNG.normal(size=(shape[1], f // groups, *kernel)),
            "bias": RNG.normal(size=(f,))}
    consistent(lambda data, weight, bias: mx.nd.Deconvolution(
        data, weight, bias, kernel=kernel, num_filter=f, num_group=groups, no_bias=False, **extra), args)


def test_deconvolution_numeric_gradient_on_the_device(ctx):
    from mxplug.testing import check_numeric_gradient

    x, w = RNG.normal(size=(1, 2, 3, 3)), RNG.normal(size=(2, 3, 2, 2))
    with mx.fallback("error"):
        check_numeric_gradient(lambda a, b: mx.nd.Deconvolution(a, b, kernel=(2, 2), stride=(2, 1), num_filter=3),
                               [x, w], ctx=ctx, rtol=1e-4)


@pytest.mark.parametrize("mode", ["concat", "sum"])
def test_upsampling_nearest(mode):
    second = (2, 2 if mode == "concat" else 3, 2, 2)
    args = {"a": RNG.normal(size=(2, 3, 4, 4)), "b": RNG.normal(size=second)}
    consistent(lambda a, b: mx.nd.UpSampling(a, b, scale=2, sample_type="nearest", num_args=2,
                                             multi_input_mode=mode), args)


def test_upsampling_bilinear():
    args = {"data": RNG.normal(size=(1, 2, 3, 3)), "weight": RNG.normal(size=(2, 1, 4, 4))}
    consistent(lambda data, weight: mx.nd.UpSampling(data, weight, scale=2, sample_type="bilinear", num_filter=2,
                                                     num_args=2), args)


@pytest.mark.parametrize("shape, nsize", [((2, 7, 3, 4), 5), ((2, 3, 5), 3), ((1, 2, 2, 2), 7)])
def test_lrn(shape, nsize):
    consistent(lambda data: mx.nd.LRN(data, nsize=nsize, alpha=0.01, beta=0.75, knorm=2.0),
               {"data": RNG.normal(size=shape)})


def test_lrn_against_a_loop(ctx):
    x = RNG.normal(size=(1, 4, 2))
    with mx.fallback("error"):
        got = mx.nd.LRN(mx.nd.array(x, ctx=ctx, dtype="float64"), nsize=3, alpha=0.3, beta=0.5, knorm=1.5).asnumpy()
    want = np.empty_like(x)
    for c in range(4):
        window = x[:, max(0, c - 1):c + 2]  # the 3 channels centred on c, clipped at the edges
        want[:, c] = x[:, c] * (1.5 + 0.3 / 3 * (window ** 2).sum(axis=1)) ** -0.5
    assert_almost_equal(got, want, rtol=1e-12)
