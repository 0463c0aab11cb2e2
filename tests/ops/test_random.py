"""Random sampling: `_random_*`, `_sample_*`, `_random_*_like`, multinomial, shuffle, and seeding.

What MXNet 1.9 makes deterministic (shapes, dtypes, contexts, degenerate distributions, the multinomial
log-probability gradient on one-hot rows, seeding guarantees) is recorded in tests/oracle/record_random.py.
Here: distribution moments against closed-form references (n = 100000, means within 5 standard errors),
ranges and frequencies, reproducibility of every sampler under `mx.random.seed`, per-backend seeding, the
multinomial gradient (explicit loops and central differences) and the error cases.
"""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

import mxplug as mx
from mxplug.backend import Backend
from mxplug.base import DTypeError, OperatorAttributeError, ShapeError
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.oracle.record_random import CASES, check_case

N = 100_000


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- moments ----------------------------------------------------------------------------------------------
def assert_moments(x: np.ndarray, mean: float, var: float, what: str) -> None:
    """Sample mean within 5 standard errors of `mean`; sample variance within 5 of its own standard errors."""
    x = np.asarray(x, dtype="float64").ravel()
    n = x.size
    m, v = x.mean(), x.var()
    assert abs(m - mean) < 5 * math.sqrt(var / n), f"{what}: mean {m} vs {mean} (n={n})"
    se_var = np.std((x - m) ** 2) / math.sqrt(n)
    assert abs(v - var) < 5 * se_var + 1e-12, f"{what}: variance {v} vs {var} (n={n}, se {se_var})"


# sampler call → (mean, variance), from the distributions' definitions.
SCALAR_DISTRIBUTIONS = {
    "uniform(-2, 3)": (lambda **kw: mx.nd.random.uniform(-2, 3, **kw), 0.5, 25 / 12),
    "normal(1.5, 2)": (lambda **kw: mx.nd.random.normal(1.5, 2, **kw), 1.5, 4.0),
    "gamma(2.5, 0.5)": (lambda **kw: mx.nd.random.gamma(2.5, 0.5, **kw), 1.25, 2.5 * 0.25),
    "exponential(scale=2)": (lambda **kw: mx.nd.random.exponential(2, **kw), 2.0, 4.0),
    "poisson(3.5)": (lambda **kw: mx.nd.random.poisson(3.5, **kw), 3.5, 3.5),
    # failures before k=3 successes of probability 0.4: k(1-p)/p and k(1-p)/p²
    "negative_binomial(3, 0.4)": (lambda **kw: mx.nd.random.negative_binomial(3, 0.4, **kw), 4.5, 11.25),
    # mean mu, variance mu + alpha mu²
    "generalized_negative_binomial(2, 0.5)": (
        lambda **kw: mx.nd.random.generalized_negative_binomial(2, 0.5, **kw), 2.0, 4.0),
    "generalized_negative_binomial(2, 0)": (
        lambda **kw: mx.nd.random.generalized_negative_binomial(2, 0, **kw), 2.0, 2.0),
    "randint(-3, 7)": (lambda **kw: mx.nd.random.randint(-3, 7, **kw), 1.5, (10**2 - 1) / 12),
    "randn(loc=1, scale=3)": (lambda **kw: mx.nd.random.randn(N, loc=1, scale=3), 1.0, 9.0),
}


@pytest.mark.parametrize("name", sorted(SCALAR_DISTRIBUTIONS))
def test_scalar_sampler_moments(name):
    sample, mean, var = SCALAR_DISTRIBUTIONS[name]
    mx.random.seed(11)
    x = sample(shape=(N,)) if not name.startswith("randn") else sample()
    assert x.shape == (N,)
    assert_moments(x.asnumpy(), mean, var, name)


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_scalar_sampler_moments_other_dtypes(dtype):
    mx.random.seed(3)
    x = mx.nd.random.normal(-1, 0.5, shape=(N,), dtype=dtype)
    assert x.dtype == np.dtype(dtype).type
    assert_moments(x.asnumpy(), -1.0, 0.25, f"normal {dtype}")


# _sample_<d>: one distribution per parameter element, `shape` samples each. (params, mean fn, var fn)
ARRAY_DISTRIBUTIONS = {
    "uniform": ([[-1.0, 10.0], [0.0, 12.0]], lambda a, b: (a + b) / 2, lambda a, b: (b - a) ** 2 / 12),
    "normal": ([[0.0, 5.0], [1.0, 0.5]], lambda mu, s: mu, lambda mu, s: s**2),
    "gamma": ([[0.5, 4.0], [2.0, 0.25]], lambda a, b: a * b, lambda a, b: a * b * b),
    "exponential": ([[0.5, 4.0]], lambda lam: 1 / lam, lambda lam: 1 / lam**2),
    "poisson": ([[0.7, 20.0]], lambda lam: lam, lambda lam: lam),
    "negative_binomial": ([[3.0, 10.0], [0.4, 0.8]], lambda k, p: k * (1 - p) / p, lambda k, p: k * (1 - p) / p**2),
    "generalized_negative_binomial": ([[2.0, 5.0], [0.5, 0.0]], lambda mu, a: mu, lambda mu, a: mu + a * mu**2),
}


@pytest.mark.parametrize("dist", sorted(ARRAY_DISTRIBUTIONS))
def test_array_sampler_moments_per_distribution(dist):
    params, mean_fn, var_fn = ARRAY_DISTRIBUTIONS[dist]
    mx.random.seed(5)
    arrays = [mx.nd.array(p) for p in params]
    n = N // 2
    x = getattr(mx.nd._internal, f"_sample_{dist}")(*arrays, shape=(n,))
    assert x.shape == (2, n) and x.dtype == np.float32
    for i in range(2):  # each row follows its own parameters
        ps = [p[i] for p in params]
        assert_moments(x.asnumpy()[i], mean_fn(*ps), var_fn(*ps), f"_sample_{dist} row {i} {ps}")


def test_array_sampler_exponential_wrapper_takes_scale():
    mx.random.seed(2)
    x = mx.nd.random.exponential(mx.nd.array([2.0, 0.5]), shape=N // 2).asnumpy()
    assert_moments(x[0], 2.0, 4.0, "scale 2")
    assert_moments(x[1], 0.5, 0.25, "scale 0.5")


@pytest.mark.parametrize("dist", ["uniform", "normal", "gamma", "exponential", "poisson"])
def test_like_sampler_moments(dist):
    mx.random.seed(8)
    data = mx.nd.zeros((N // 100, 100), dtype="float64")
    x = getattr(mx.nd.random, f"{dist}_like")(data)
    assert x.shape == data.shape and x.dtype == np.float64
    mean, var = {"uniform": (0.5, 1 / 12), "normal": (0.0, 1.0), "gamma": (1.0, 1.0), "exponential": (1.0, 1.0),
                 "poisson": (1.0, 1.0)}[dist]  # the operators' default parameters
    assert_moments(x.asnumpy(), mean, var, f"{dist}_like")


# -- ranges and frequencies -------------------------------------------------------------------------------
def test_uniform_stays_in_half_open_interval():
    mx.random.seed(1)
    x = mx.nd.random.uniform(-2, 3, shape=(N,)).asnumpy()
    assert x.min() >= -2 and x.max() < 3


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_randint_range_and_frequencies(dtype):
    mx.random.seed(4)
    x = mx.nd.random.randint(-3, 7, shape=(N,), dtype=dtype)
    assert x.dtype == np.dtype(dtype).type
    values = x.asnumpy()
    assert values.min() == -3 and values.max() == 6  # every value of [low, high) occurs, high never
    counts = np.array([(values == v).sum() for v in range(-3, 7)])
    expected, sd = N / 10, math.sqrt(N * 0.1 * 0.9)
    assert np.all(np.abs(counts - expected) < 5 * sd), counts


def test_randint_int64_range_beyond_int32():
    x = mx.nd.random.randint(2**40, 2**40 + 3, shape=(1000,), dtype="int64").asnumpy()
    assert set(np.unique(x).tolist()) <= {2**40, 2**40 + 1, 2**40 + 2}


@pytest.mark.parametrize("shape", [(), (N // 4,)])
def test_multinomial_frequencies(shape):
    probs = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.0, 0.0, 0.3]])
    mx.random.seed(9)
    draws = N // 4 if shape else 1
    reps = 1 if shape else N // 4
    samples = np.concatenate([mx.nd.random.multinomial(mx.nd.array(probs), shape=shape).asnumpy().reshape(2, -1)
                              for _ in range(reps)], axis=1)
    assert samples.shape == (2, draws * reps) and samples.dtype == np.int32
    for row, p in zip(samples, probs, strict=True):
        n = row.size
        for k, pk in enumerate(p):
            count = (row == k).sum()
            assert abs(count - n * pk) <= 5 * math.sqrt(n * pk * (1 - pk)), (p, k, count)


def test_multinomial_log_probabilities_are_those_of_the_samples():
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype="float64")
    s, lp = mx.nd.random.multinomial(mx.nd.array(probs, dtype="float64"), shape=(5, 2), get_prob=True)
    s, lp = s.asnumpy(), lp.asnumpy()
    assert lp.dtype == np.float64 and lp.shape == s.shape == (2, 5, 2)
    for idx in np.ndindex(*s.shape):
        assert lp[idx] == pytest.approx(math.log(probs[idx[0], s[idx]]))


def test_multinomial_rows_summing_below_one_stay_in_range():
    # MXNet returns the out-of-range index K here; mxplug gives the leftover mass to the last category.
    x = mx.nd.random.multinomial(mx.nd.array([0.1, 0.1]), shape=1000).asnumpy()
    assert x.min() >= 0 and x.max() <= 1 and (x == 1).mean() > 0.8


def test_shuffle_is_a_permutation_of_rows():
    data = np.arange(60, dtype="float32").reshape(10, 3, 2)
    mx.random.seed(6)
    out = mx.nd.random.shuffle(mx.nd.array(data)).asnumpy()
    rows = {tuple(r.ravel()) for r in out}
    assert rows == {tuple(r.ravel()) for r in data} and len(rows) == 10  # same rows, none duplicated
    orders = {tuple(mx.nd.random.shuffle(mx.nd.array(data)).asnumpy()[:, 0, 0]) for _ in range(20)}
    assert len(orders) > 1  # it does shuffle


def test_shuffle_returns_a_new_array():
    x = mx.nd.arange(5)
    y = mx.nd.random.shuffle(x)
    y[:] = 0
    assert x.asnumpy().tolist() == [0, 1, 2, 3, 4]


def test_shuffle_order_frequencies():
    mx.random.seed(12)
    firsts = np.array([mx.nd.random.shuffle(mx.nd.arange(3)).asnumpy()[0] for _ in range(3000)])
    for v in range(3):  # every element leads about a third of the time
        assert abs((firsts == v).sum() - 1000) < 5 * math.sqrt(3000 * 2 / 9)


# -- seeding ----------------------------------------------------------------------------------------------
SAMPLERS = {
    "uniform": lambda: mx.nd.random.uniform(shape=(5,)),
    "normal": lambda: mx.nd.random.normal(shape=(5,), dtype="float64"),
    "gamma": lambda: mx.nd.random.gamma(2, 1, shape=(5,)),
    "exponential": lambda: mx.nd.random.exponential(shape=(5,)),
    "poisson": lambda: mx.nd.random.poisson(4, shape=(5,)),
    "negative_binomial": lambda: mx.nd.random.negative_binomial(4, 0.3, shape=(5,)),
    "generalized_negative_binomial": lambda: mx.nd.random.generalized_negative_binomial(4, 0.3, shape=(5,)),
    "randint": lambda: mx.nd.random.randint(0, 1000, shape=(5,)),
    "sample_uniform": lambda: mx.nd.random.uniform(mx.nd.zeros((2,)), mx.nd.ones((2,)), shape=3),
    "sample_normal": lambda: mx.nd.random.normal(mx.nd.zeros((2,)), mx.nd.ones((2,)), shape=3),
    "like": lambda: mx.nd.random.normal_like(mx.nd.zeros((2, 3))),
    "multinomial": lambda: mx.nd.random.multinomial(mx.nd.ones((2, 10)) / 10, shape=4),
    "shuffle": lambda: mx.nd.random.shuffle(mx.nd.arange(20)),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_draws(name):
    draw = SAMPLERS[name]
    mx.random.seed(1234)
    a, b = draw().asnumpy(), draw().asnumpy()
    mx.random.seed(1234)
    c, d = draw().asnumpy(), draw().asnumpy()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    mx.random.seed(4321)
    assert not all(np.array_equal(x, y) for x, y in zip((a, b), (draw().asnumpy(), draw().asnumpy()), strict=True))


def test_seed_is_taken_modulo_2_32():
    mx.random.seed(2**32 + 7)
    a = mx.nd.random.uniform(shape=4).asnumpy()
    mx.random.seed(7)
    np.testing.assert_array_equal(a, mx.nd.random.uniform(shape=4).asnumpy())


def test_seed_accepts_context_strings_and_numpy_ints():
    mx.random.seed(np.int64(3), ctx="cpu(0)")
    a = mx.nd.random.uniform(shape=4).asnumpy()
    mx.random.seed(3, ctx=mx.cpu())
    np.testing.assert_array_equal(a, mx.nd.random.uniform(shape=4).asnumpy())


@pytest.mark.parametrize("bad", [1.5, "3", None, True])
def test_seed_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="seed_state must be an int"):
        mx.random.seed(bad)


class _SeedRecorder(Backend):
    """A backend that only records the seeds it is given."""

    name = "seedrec"
    device_type = "seedrec"

    def __init__(self):
        self.calls = []

    def num_devices(self) -> int:
        return 2

    def seed(self, seed, device_id=None):
        self.calls.append((seed, device_id))


@pytest.fixture
def recorder():
    backend = _SeedRecorder()

    @mx.hookimpl
    def mxplug_register_backends(register):
        register(backend)

    plugin = types.SimpleNamespace(MXPLUG_API_VERSION="1.0", mxplug_register_backends=mxplug_register_backends)
    mx.plugins.register_plugin(plugin, "seedrec")
    try:
        yield backend
    finally:
        mx.plugins.reset()


def test_seed_all_seeds_every_backend(recorder):
    mx.random.seed(17)
    assert recorder.calls == [(17, None)]
    mx.random.seed(18)  # and the CPU backend too: its draws repeat
    a = mx.nd.random.uniform(shape=3).asnumpy()
    mx.random.seed(18)
    np.testing.assert_array_equal(a, mx.nd.random.uniform(shape=3).asnumpy())


def test_seed_one_context_seeds_only_that_device(recorder):
    mx.random.seed(99)
    before = mx.nd.random.uniform(shape=3).asnumpy()
    recorder.calls.clear()
    mx.random.seed(5, ctx=mx.Context("seedrec", 1))
    assert recorder.calls == [(5, 1)]
    mx.random.seed(99)  # reseeding seedrec(1) left the CPU generator where 'all' put it
    np.testing.assert_array_equal(before, mx.nd.random.uniform(shape=3).asnumpy())


def test_seed_unknown_device_raises(recorder):
    with pytest.raises(mx.base.BackendUnavailableError):
        mx.random.seed(1, ctx=mx.Context("seedrec", 5))


def test_default_backend_seed_is_a_no_op():
    Backend().seed(3, None)  # a backend without random kernels has no state to seed


# -- gradients --------------------------------------------------------------------------------------------
def test_multinomial_log_prob_gradient_matches_loops():
    probs = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]], dtype="float64")
    head = np.arange(1, 9, dtype="float64").reshape(2, 4)
    x = mx.nd.array(probs, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        s, lp = mx.nd.random.multinomial(x, shape=(4,), get_prob=True)
    lp.backward(mx.nd.array(head, dtype="float64"))
    expected = np.zeros_like(probs)
    samples = s.asnumpy()
    for i in range(2):
        for j in range(4):
            expected[i, samples[i, j]] += head[i, j] / probs[i, samples[i, j]]
    assert_almost_equal(x.grad, expected)


def test_multinomial_log_prob_gradient_numeric():
    def fn(p):
        mx.random.seed(21)  # the same draws at every evaluation
        return mx.nd.random.multinomial(p, shape=(3,), get_prob=True)[1]

    check_numeric_gradient(fn, [np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])])


@pytest.mark.parametrize("op", ["uniform", "normal", "gamma"])
def test_sample_gradients_are_zero(op):
    a, b = mx.nd.array([1.0, 2.0]), mx.nd.array([3.0, 4.0])
    a.attach_grad()
    b.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd.random, op)(a, b, shape=3) * 2
    y.backward()
    assert a.grad.asnumpy().tolist() == [0, 0] and b.grad.asnumpy().tolist() == [0, 0]


def test_shuffle_is_not_differentiable():
    x = mx.nd.arange(6).reshape((3, 2))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.random.shuffle(x).sum()
    with pytest.raises(mx.base.MXNetError):
        y.backward()


# -- errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.random.uniform(2, 1, shape=3), "low must be less or equal to high"),
    (lambda: mx.nd.random.normal(0, 0, shape=3), "scale must be > 0"),
    (lambda: mx.nd.random.normal(0, -1, shape=3), "scale must be > 0"),
    (lambda: mx.nd.random.gamma(0, 1, shape=3), "alpha must be > 0"),
    (lambda: mx.nd.random.gamma(1, -1, shape=3), "beta must be > 0"),
    (lambda: mx.nd.random.exponential(-2, shape=3), "lam must be > 0"),
    (lambda: mx.nd.random.poisson(-1, shape=3), "lam must be >= 0"),
    (lambda: mx.nd.random.negative_binomial(-1, 0.5, shape=3), "k must be >= 0"),
    (lambda: mx.nd.random.negative_binomial(1, 0, shape=3), r"p must be in \(0, 1\]"),
    (lambda: mx.nd.random.generalized_negative_binomial(-1, 1, shape=3), "mu must be >= 0"),
    (lambda: mx.nd.random.generalized_negative_binomial(1, -1, shape=3), "alpha must be >= 0"),
    (lambda: mx.nd.random.randint(5, 5, shape=3), "low must be less than high"),
    (lambda: mx.nd.random.randint(6, 5, shape=3), "low must be less than high"),
    (lambda: mx.nd.random.randint(0, 2**40, shape=3), "does not fit int32"),
    (lambda: mx.nd.random.randint(0.5, 3, shape=3), "expects an int"),
    (lambda: mx.nd.random.uniform_like(mx.nd.zeros((2,)), low=2, high=1), "low must be less or equal"),
    (lambda: mx.nd.random.uniform(0, mx.nd.ones((2,))), "same type"),
    (lambda: mx.nd.random.uniform(mx.nd.ones((2,)), 3.0), "same type"),
    (lambda: mx.nd.random.uniform("a", "b"), "numbers or NDArrays"),
    (lambda: mx.nd.random.randint(mx.nd.zeros((2,)), mx.nd.ones((2,))), "must be numbers"),
    (lambda: mx.nd.random.randn(2, loc=mx.nd.zeros((1,))), "loc must be a number"),
])
def test_bad_parameters(call, match):
    with pytest.raises(OperatorAttributeError, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: mx.nd.random.uniform(shape=(2,), dtype="int32"), DTypeError, "dtype must be one of float16"),
    (lambda: mx.nd.random.randint(0, 3, shape=(2,), dtype="float32"), DTypeError, "int32, int64"),
    (lambda: mx.nd.random.multinomial(mx.nd.ones((2,)), dtype="int64"), DTypeError, "uint8, int32"),
    (lambda: mx.nd.random.multinomial(mx.nd.ones((2,), dtype="int32")), DTypeError, "floating-point"),
    (lambda: mx.nd.random.uniform_like(mx.nd.ones((2,), dtype="int32")), DTypeError, "floating-point"),
    (lambda: mx.nd.random.uniform(mx.nd.ones((2,), dtype="float64"), mx.nd.ones((2,))), DTypeError,
     "share one dtype"),
    (lambda: mx.nd.random.uniform(mx.nd.ones((2,)), mx.nd.ones((3,))), ShapeError, r"low \(2,\) and high \(3,\)"),
    (lambda: mx.nd.random.randn(), ShapeError, "give the output shape"),
    (lambda: mx.nd._internal._random_uniform(), ShapeError, "give the output shape"),
    (lambda: mx.nd.random.uniform(shape=(2, -1)), ShapeError, "negative dimension"),
    (lambda: mx.nd.random.shuffle(mx.nd.array(np.float32(1))), ShapeError, "at least one axis"),
    (lambda: mx.nd.random.multinomial(mx.nd.zeros((2, 0))), ShapeError, "non-empty last axis"),
    (lambda: mx.nd.random.uniform(shape=(3,), out=mx.nd.zeros((2,))), mx.base.MXNetError, "out= has shape"),
])
def test_bad_calls(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_exponential_scale_zero_divides_by_zero():
    with pytest.raises(ZeroDivisionError):  # as in MXNet: the wrapper computes lam = 1 / scale
        mx.nd.random.exponential(0, shape=2)


# -- the kernels' generator source ------------------------------------------------------------------------
def test_kernels_draw_from_the_source_they_are_given():
    from mxplug_numpy.kernels.random import make_kernels

    asked = []

    def source(ctx):
        asked.append(ctx)
        return np.random.default_rng(0)

    kernels = make_kernels(np, source)
    a = kernels["_random_normal"](loc=0.0, scale=1.0, shape=(3,), ctx="cpu(1)", dtype=None)
    b = kernels["_sample_uniform"](np.zeros(2), np.ones(2), shape=(2,), dtype=np.dtype("float64"))
    assert asked == ["cpu(1)", None]
    np.testing.assert_array_equal(a, np.random.default_rng(0).standard_normal(3, dtype="float32"))
    assert b.dtype == np.float64 and b.shape == (2, 2)


def test_kernels_without_a_source_use_a_private_generator():
    from mxplug_numpy.kernels.random import make_kernels

    x = make_kernels(np)["_random_uniform"](low=0.0, high=1.0, shape=(4,), ctx="cpu(0)", dtype=None)
    assert x.shape == (4,) and x.dtype == np.float32
