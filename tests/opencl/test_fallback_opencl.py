"""Operators the OpenCL backend has no kernel for run on the CPU under the fallback policy, results back on
the device, gradients included; the `error` policy refuses instead."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx

CTX = mx.opencl(0)


def _probe_cpu(data):
    return np.cbrt(data).astype(data.dtype)


@pytest.fixture(autouse=True)
def probe():
    """An operator with a CPU kernel only (nearly every registry operator has an OpenCL kernel): on opencl it can
    only run through the missing-kernel policy. Registered for each test, then removed."""

    @mx.custom.operator("opencl_fallback_probe", inputs=["data"])
    class FallbackProbe:
        """cbrt, with a CPU kernel and no other."""

        def infer(attrs, data):
            return data

        def backward(F, attrs, inputs, outputs, ograds):
            return [ograds[0] / (3 * F.square(outputs[0]))]

        kernels = {"cpu": _probe_cpu}

    yield
    FallbackProbe.unregister()


def test_fallback_runs_on_the_cpu_and_returns_to_the_device():
    data = np.array([-8.0, 1.0, 27.0, 0.125], np.float32)
    x = mx.nd.array(data, ctx=CTX)
    mx.reset_fallback_stats()
    with mx.fallback("silent"):
        y = mx.nd.opencl_fallback_probe(x)
    assert y.context == CTX
    np.testing.assert_allclose(y.asnumpy(), [-2.0, 1.0, 3.0, 0.5], rtol=1e-6)
    stat = mx.fallback_stats()[("opencl_fallback_probe", "opencl")]
    assert (stat.calls, stat.bytes_to_host, stat.bytes_back) == (1, data.nbytes, data.nbytes)


def test_gradient_through_a_fallback_matches_the_cpu():
    data = np.array([-8.0, 1.0, 27.0], np.float32)
    weights = np.array([1.0, 2.0, 3.0], np.float32)
    grads = []
    for ctx in (mx.cpu(), CTX):
        x = mx.nd.array(data, ctx=ctx)
        x.attach_grad()
        with mx.fallback("silent"), mx.autograd.record():
            z = (mx.nd.opencl_fallback_probe(x) * mx.nd.array(weights, ctx=ctx)).sum()
        z.backward()
        assert x.grad.context == ctx
        grads.append(x.grad.asnumpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
    np.testing.assert_allclose(grads[1], weights / (3 * np.cbrt(data) ** 2), rtol=1e-6)  # d cbrt


def test_error_policy_names_the_operator_and_context():
    x = mx.nd.ones((2,), ctx=CTX)
    with mx.fallback("error"), pytest.raises(mx.base.KernelNotFoundError,
                                             match=r"'opencl_fallback_probe' on opencl\(0\)"):
        mx.nd.opencl_fallback_probe(x)
