"""Random sampling on OpenCL (mxplug_opencl.kernels.random): every sampler runs as the backend's own kernel
(no fallback), and under one seed it draws exactly what the CPU backend draws — whose distributions
tests/ops/test_random.py checks against MXNet and by their moments."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx

SAMPLERS = [
    ("uniform", dict(low=-1.0, high=2.0)), ("normal", dict(loc=1.0, scale=2.0)), ("gamma", dict(alpha=2.0, beta=0.5)),
    ("exponential", dict(lam=3.0)), ("poisson", dict(lam=4.0)), ("negative_binomial", dict(k=3, p=0.4)),
    ("generalized_negative_binomial", dict(mu=2.0, alpha=0.5)),
]


def _on(ctx, seed: int, fn):
    mx.random.seed(seed)
    with mx.fallback("error"):
        out = fn(ctx)
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert all(o.context == ctx for o in outs)
    return [o.asnumpy() for o in outs]


def _same_as_cpu(ctx, fn, seed: int = 11):
    got, want = _on(ctx, seed, fn), _on(mx.cpu(), seed, fn)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dist,params", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_scalar_samplers_draw_the_cpu_stream(ctx, dist, params, dtype):
    _same_as_cpu(ctx, lambda c: getattr(mx.nd, f"_random_{dist}")(shape=(3, 50), ctx=c, dtype=dtype, **params))


@pytest.mark.parametrize("dist,params", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_array_and_like_samplers_draw_the_cpu_stream(ctx, dist, params):
    arrays = [np.array([v, v * 1.5], np.float32) for v in params.values()]
    _same_as_cpu(ctx, lambda c: getattr(mx.nd, f"_sample_{dist}")(*(mx.nd.array(a, ctx=c) for a in arrays),
                                                                  shape=(4,)))
    _same_as_cpu(ctx, lambda c: getattr(mx.nd, f"_random_{dist}_like")(mx.nd.zeros((2, 7), ctx=c), **params))


def test_randint_multinomial_shuffle_draw_the_cpu_stream(ctx):
    _same_as_cpu(ctx, lambda c: mx.nd.random.randint(-5, 9, shape=(40,), ctx=c))
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]], np.float32)
    _same_as_cpu(ctx, lambda c: mx.nd.random.multinomial(mx.nd.array(probs, ctx=c), shape=5, get_prob=True))
    _same_as_cpu(ctx, lambda c: mx.nd.random.shuffle(mx.nd.arange(24, ctx=c).reshape((6, 4))))


def test_multinomial_gradient_runs_on_the_device(ctx):
    probs = mx.nd.array([[0.2, 0.8], [0.6, 0.4]], ctx=ctx)
    probs.attach_grad()
    mx.random.seed(2)
    with mx.fallback("error"), mx.autograd.record():
        samples, logp = mx.nd.random.multinomial(probs, shape=3, get_prob=True)
        loss = logp.sum()
    loss.backward()
    s = samples.asnumpy().astype(int)
    want = np.zeros((2, 2))
    for row in range(2):  # d sum(log p[s]) / d p[c] = (number of draws of c) / p[c]
        for c in range(2):
            want[row, c] = (s[row] == c).sum() / probs.asnumpy()[row, c]
    np.testing.assert_allclose(probs.grad.asnumpy(), want, rtol=1e-6)


def test_seeding_one_device_leaves_the_others(ctx):
    mx.random.seed(5)
    first = mx.nd.random.uniform(shape=(6,), ctx=ctx).asnumpy()
    cpu_next = mx.nd.random.uniform(shape=(6,)).asnumpy()
    mx.random.seed(5)
    mx.nd.random.uniform(shape=(6,))  # the CPU stream moves on
    mx.random.seed(5, ctx=ctx)  # only opencl(0) starts again
    np.testing.assert_array_equal(mx.nd.random.uniform(shape=(6,), ctx=ctx).asnumpy(), first)
    assert not np.array_equal(mx.nd.random.uniform(shape=(6,)).asnumpy(), cpu_next)
