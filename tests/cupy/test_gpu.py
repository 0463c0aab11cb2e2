"""mx.gpu() behaviour with the CuPy plugin (needs a GPU): arrays and moves, context errors, autograd, the fused
kernels, integer semantics, random seeding and distributions, and DLPack with CuPy."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import assert_almost_equal, check_numeric_gradient

from ._gpu import requires_gpu

pytestmark = requires_gpu


@pytest.fixture
def cupy():
    import cupy

    return cupy


@pytest.fixture
def backend():
    return mx.plugins.backend_for(mx.gpu(0))


# -- arrays and moves --------------------------------------------------------------------------------------------
def test_arrays_live_on_the_gpu(cupy):
    x = mx.nd.array([[1, 2], [3, 4]], ctx=mx.gpu(0))
    assert x.context == mx.gpu(0) and isinstance(x._data, cupy.ndarray) and x._data.device.id == 0
    assert repr(x).endswith("<NDArray 2x2 @gpu(0)>")
    y = (x * 2 + 1).sum(axis=1)
    assert y.context == mx.gpu(0) and isinstance(y._data, cupy.ndarray)
    np.testing.assert_array_equal(y.asnumpy(), [8.0, 16.0])
    with mx.gpu(0):
        z = mx.nd.zeros((3,), dtype="int32")
    assert z.context == mx.gpu(0) and z.dtype == np.int32
    assert mx.context.num_gpus() == cupy.cuda.runtime.getDeviceCount()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool"])
def test_moves_cpu_gpu_cpu(dtype):
    values = (np.arange(12) % 3 == 0) if dtype == "bool" else np.arange(12).astype(dtype)
    x = mx.nd.array(values.reshape(3, 4), dtype=dtype)
    g = x.copyto(mx.gpu(0))
    assert g.context == mx.gpu(0) and g.dtype == np.dtype(dtype).type
    assert x.as_in_context(mx.gpu(0)).context == mx.gpu(0) and g.as_in_context(mx.gpu(0)) is g
    back = g.as_in_context(mx.cpu())
    np.testing.assert_array_equal(back.asnumpy(), values.reshape(3, 4))
    np.testing.assert_array_equal(mx.nd.array(g, ctx=mx.cpu()).asnumpy(), values.reshape(3, 4))
    target = mx.nd.zeros((3, 4), ctx=mx.gpu(0), dtype=dtype)
    x.copyto(target)  # into an existing gpu array
    np.testing.assert_array_equal(target.asnumpy(), values.reshape(3, 4))
    g[0, 0] = 1  # copies are independent
    assert x.asnumpy()[0, 0] == values[0]


def test_setitem_and_inplace_on_the_gpu():
    x = mx.nd.zeros((2, 3), ctx=mx.gpu(0))
    x[0] = mx.nd.array([1, 2, 3])  # a cpu value is moved
    x[1, 1:] = 7
    x += 1
    np.testing.assert_array_equal(x.asnumpy(), [[2, 3, 4], [1, 8, 8]])


@pytest.mark.parametrize("call", [
    lambda a, b: a + b, lambda a, b: mx.nd.dot(a, b), lambda a, b: mx.nd.concat(a, b, dim=0),
    lambda a, b: mx.nd.where(a, b, a),
])
def test_mixed_contexts_are_refused(call):
    a, b = mx.nd.ones((2, 2)), mx.nd.ones((2, 2), ctx=mx.gpu(0))
    for x, y in ((a, b), (b, a)):
        with pytest.raises(mx.base.ContextMismatchError, match=r"(?=.*cpu\(0\))(?=.*gpu\(0\)).*as_in_context"):
            call(x, y)


def test_missing_device_is_refused(cupy):
    n = cupy.cuda.runtime.getDeviceCount()
    with pytest.raises(mx.base.BackendUnavailableError, match=rf"gpu\({n}\) does not exist"):
        mx.nd.zeros((1,), ctx=mx.gpu(n))


@pytest.mark.skipif(mx.context.num_gpus() < 2, reason="needs two GPUs")
def test_kernels_run_on_their_inputs_device(cupy):
    x = mx.nd.array([1.0, 2.0], ctx=mx.gpu(1))
    for y in (x * 2, mx.nd.exp(x), mx.nd.sigmoid(x), mx.nd.zeros((2,), ctx=mx.gpu(1)),
              mx.nd.random.uniform(shape=(2,), ctx=mx.gpu(1))):
        assert y.context == mx.gpu(1) and y._data.device.id == 1
    assert x.copyto(mx.gpu(0))._data.device.id == 0
    assert cupy.cuda.runtime.getDevice() == 0  # the current device is restored


# -- autograd ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, shapes", [
    (lambda x, y: mx.nd.dot(x, y), [(3, 4), (4, 2)]),
    (lambda x: mx.nd.sigmoid(x) * mx.nd.softsign(x), [(3, 4)]),
    (lambda x, y: mx.nd.broadcast_div(x, y + 3).sum(axis=0), [(3, 4), (1, 4)]),
    (lambda x: mx.nd.softmax(x, axis=1), [(2, 5)]),
    (lambda x: mx.nd.norm(x * x, axis=1), [(3, 4)]),
    (lambda x: mx.nd.take(x, mx.nd.array([2, 0, 2], ctx=x.context), axis=0), [(3, 4)]),
])
def test_numeric_gradients_on_the_gpu(fn, shapes):
    rng = np.random.default_rng(1)
    check_numeric_gradient(fn, [rng.uniform(-1, 1, s) for s in shapes], ctx=mx.gpu(0))


def test_gradient_flows_between_cpu_and_gpu():
    xs = np.array([1.0, -3.0, 0.5])
    x = mx.nd.array(xs)
    x.attach_grad()
    with mx.autograd.record():
        g = x.as_in_context(mx.gpu(0))
        z = (mx.nd.exp(g) * g).as_in_context(mx.cpu()).sum()
    z.backward()
    assert x.grad.context == mx.cpu()
    assert_almost_equal(x.grad, np.exp(xs) * (1 + xs), rtol=1e-5)


# -- CuPy-specific kernels and integer semantics -------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sigmoid", "softsign", "rsqrt", "rcbrt", "sign", "rint", "round"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_kernels_match_the_shared_bodies(op, dtype):
    from mxplug import dispatch

    entry = dispatch._select(op, "cupy", np.dtype(dtype))
    assert entry.priority == 1  # the fused kernel is the one that runs
    special = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, 80.0, -80.0]
    values = np.concatenate([special, np.random.default_rng(0).uniform(-5, 5, 200)]).astype(dtype)
    if op in ("rsqrt", "rcbrt"):
        values = np.abs(values) + 0.1
    got = getattr(mx.nd, op)(mx.nd.array(values, ctx=mx.gpu(0), dtype=dtype)).asnumpy()
    want = getattr(mx.nd, op)(mx.nd.array(values, dtype=dtype)).asnumpy()
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == "float32" else 1e-12, equal_nan=True)


@pytest.mark.parametrize("expr", [
    # results stay in range: out-of-range float → int casts differ between CUDA and the CPU (as in MXNet)
    lambda a, b: a / b, lambda a, b: a % b, lambda a, b: a ** 2, lambda a, b: a / 3, lambda a, b: 7 / b,
    lambda a, b: a % 0, lambda a, b: a + 1.5, lambda a, b: a == b, lambda a, b: mx.nd.exp(mx.nd.clip(a, -2, 2)),
    lambda a, b: mx.nd.sqrt(mx.nd.abs(a)), lambda a, b: mx.nd.clip(a, -2, 3), lambda a, b: mx.nd.mean(a, axis=0),
    lambda a, b: mx.nd.hypot(a, b), lambda a, b: mx.nd.argmax(a, axis=1), lambda a, b: mx.nd.sort(a, axis=1),
])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8"])
def test_integer_semantics_match_the_cpu(expr, dtype):
    rng = np.random.default_rng(2)
    lo = 0 if dtype == "uint8" else -9
    a, b = rng.integers(lo, 10, (4, 5)), rng.integers(1, 6, (4, 5))
    got = expr(mx.nd.array(a, ctx=mx.gpu(0), dtype=dtype), mx.nd.array(b, ctx=mx.gpu(0), dtype=dtype))
    want = expr(mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.asnumpy(), want.asnumpy())


def test_dot_reaches_cublas_at_float32_accuracy():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((256, 128)).astype("float32"), rng.standard_normal((128, 64)).astype("float32")
    got = mx.nd.dot(mx.nd.array(a, ctx=mx.gpu(0)), mx.nd.array(b, ctx=mx.gpu(0)), transpose_b=False).asnumpy()
    np.testing.assert_allclose(got, a.astype("float64") @ b.astype("float64"), rtol=1e-4, atol=1e-4)


# -- random --------------------------------------------------------------------------------------------------------
_SAMPLERS = [
    lambda ctx: mx.nd.random.uniform(-1, 2, shape=(1000,), ctx=ctx),
    lambda ctx: mx.nd.random.normal(1, 2, shape=(1000,), ctx=ctx, dtype="float64"),
    lambda ctx: mx.nd.random.gamma(2, 3, shape=(1000,), ctx=ctx),
    lambda ctx: mx.nd.random.poisson(4, shape=(1000,), ctx=ctx),
    lambda ctx: mx.nd.random.randint(0, 100, shape=(1000,), ctx=ctx),
    lambda ctx: mx.nd.random.negative_binomial(3, 0.4, shape=(1000,), ctx=ctx),
    lambda ctx: mx.nd.random.generalized_negative_binomial(2, 0.5, shape=(1000,), ctx=ctx),
    lambda ctx: mx.nd.random.shuffle(mx.nd.arange(1000, ctx=ctx)),
]


@pytest.mark.parametrize("sample", _SAMPLERS)
def test_seeding_reproduces_draws(sample):
    gpu = mx.gpu(0)
    mx.random.seed(42)
    first = sample(gpu).asnumpy()
    mx.random.seed(42)
    np.testing.assert_array_equal(sample(gpu).asnumpy(), first)
    mx.random.seed(42, ctx=gpu)  # seeding only this device
    np.testing.assert_array_equal(sample(gpu).asnumpy(), first)
    mx.random.seed(43)
    assert not np.array_equal(sample(gpu).asnumpy(), first)
    assert sample(gpu).context == gpu


def test_seeding_the_cpu_leaves_the_gpu_stream_alone():
    mx.random.seed(5)
    mx.nd.random.uniform(shape=(3,), ctx=mx.gpu(0))
    expected = mx.nd.random.uniform(shape=(3,), ctx=mx.gpu(0)).asnumpy()
    mx.random.seed(5)
    mx.nd.random.uniform(shape=(3,), ctx=mx.gpu(0))
    mx.random.seed(9, ctx=mx.cpu())
    np.testing.assert_array_equal(mx.nd.random.uniform(shape=(3,), ctx=mx.gpu(0)).asnumpy(), expected)


def test_sample_operators_broadcast_their_parameters_per_row():
    gpu, n = mx.gpu(0), 20000
    mu = mx.nd.array([0.0, 10.0], ctx=gpu)
    normal = mx.nd.random.normal(mu, mx.nd.array([1.0, 0.5], ctx=gpu), shape=n).asnumpy()
    np.testing.assert_allclose(normal.mean(axis=1), [0.0, 10.0], atol=0.05)
    np.testing.assert_allclose(normal.std(axis=1), [1.0, 0.5], rtol=0.05)
    alpha = mx.nd.array([1.0, 5.0], ctx=gpu)
    gamma = mx.nd.random.gamma(alpha, mx.nd.array([2.0, 1.0], ctx=gpu), shape=n).asnumpy()
    np.testing.assert_allclose(gamma.mean(axis=1), [2.0, 5.0], rtol=0.05)
    lam = mx.nd.random.poisson(mx.nd.array([1.0, 30.0], ctx=gpu), shape=n).asnumpy()
    np.testing.assert_allclose(lam.mean(axis=1), [1.0, 30.0], rtol=0.05)


def test_distributions_have_the_right_moments():
    gpu = mx.gpu(0)
    mx.random.seed(0)
    u = mx.nd.random.uniform(2, 4, shape=(100000,), ctx=gpu).asnumpy()
    assert u.min() >= 2 and u.max() < 4 and abs(u.mean() - 3) < 0.02
    e = mx.nd.random.exponential(0.5, shape=(100000,), ctx=gpu).asnumpy()  # MXNet's scale: the mean
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01
    r = mx.nd.random.randint(-3, 3, shape=(100000,), ctx=gpu, dtype="int32").asnumpy()
    assert r.dtype == np.int32 and set(np.unique(r)) == set(range(-3, 3))
    s = mx.nd.random.shuffle(mx.nd.arange(100, ctx=gpu)).asnumpy()
    assert sorted(s.tolist()) == list(range(100))


# -- DLPack with CuPy ----------------------------------------------------------------------------------------------
def test_cupy_views_a_gpu_ndarray(cupy):
    x = mx.nd.array([1.0, 2.0, 3.0], ctx=mx.gpu(0))
    assert x.__dlpack_device__() == (2, 0)
    view = cupy.from_dlpack(x)
    view[0] = 7
    assert x.asnumpy()[0] == 7
    x[1] = 8
    assert float(view[1]) == 8


def test_gpu_ndarray_views_a_cupy_array(cupy):
    a = cupy.zeros((2, 3), dtype=cupy.float32)
    x = mx.nd.from_dlpack(a)
    assert x.context == mx.gpu(0) and x.shape == (2, 3)
    x[:] = 4
    assert float(a.sum()) == 24.0
    a[0, 0] = -1
    assert x.asnumpy()[0, 0] == -1
    assert (x * 2).context == mx.gpu(0)


def test_gpu_capsule_round_trip(cupy):
    x = mx.nd.arange(6, ctx=mx.gpu(0)).reshape((2, 3))
    y = mx.nd.from_dlpack(x.to_dlpack_for_write())
    assert y.context == mx.gpu(0)
    y[0, 0] = 50
    assert x.asnumpy()[0, 0] == 50
    z = cupy.from_dlpack(x.to_dlpack_for_read())  # an MXNet-style capsule, consumed by CuPy
    assert float(z[0, 0]) == 50

