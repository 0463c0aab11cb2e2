"""Operators the OpenCL backend has no kernel for run on the CPU under the fallback policy, results back on
the device, gradients included; the `error` policy refuses instead."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx

CTX = mx.opencl(0)


# erfinv has no OpenCL kernel (`mxplug ops --backend opencl --missing`): the operator these tests use.
def test_fallback_runs_on_the_cpu_and_returns_to_the_device():
    data = np.array([-0.5, 0.0, 0.25, 0.9], np.float32)
    x = mx.nd.array(data, ctx=CTX)
    mx.reset_fallback_stats()
    with mx.fallback("silent"):
        y = mx.nd.erfinv(x)
    assert y.context == CTX
    np.testing.assert_array_equal(y.asnumpy(), mx.nd.erfinv(mx.nd.array(data)).asnumpy())
    stat = mx.fallback_stats()[("erfinv", "opencl")]
    assert (stat.calls, stat.bytes_to_host, stat.bytes_back) == (1, data.nbytes, data.nbytes)


def test_gradient_through_a_fallback_matches_the_cpu():
    data = np.array([-0.5, 0.1, 0.7], np.float32)
    weights = np.array([1.0, 2.0, 3.0], np.float32)
    grads = []
    for ctx in (mx.cpu(), CTX):
        x = mx.nd.array(data, ctx=ctx)
        x.attach_grad()
        with mx.fallback("silent"), mx.autograd.record():
            z = (mx.nd.erfinv(x) * mx.nd.array(weights, ctx=ctx)).sum()
        with mx.fallback("silent"):
            z.backward()
        assert x.grad.context == ctx
        grads.append(x.grad.asnumpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
    y = mx.nd.erfinv(mx.nd.array(data, dtype="float64")).asnumpy()
    np.testing.assert_allclose(grads[1], weights * np.sqrt(np.pi) / 2 * np.exp(y ** 2), rtol=1e-5)  # d erfinv


def test_error_policy_names_the_operator_and_context():
    x = mx.nd.ones((2,), ctx=CTX) * 0.5
    with mx.fallback("error"), pytest.raises(mx.base.KernelNotFoundError, match=r"'erfinv' on opencl\(0\)"):
        mx.nd.erfinv(x)
