"""Operators the OpenCL backend has no kernel for run on the CPU under the fallback policy, results back on
the device, gradients included; the `error` policy refuses instead."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx

CTX = mx.opencl(0)


# SequenceReverse has no OpenCL kernel (`mxplug ops --backend opencl --missing`): the operator these tests use.
def test_fallback_runs_on_the_cpu_and_returns_to_the_device():
    data = np.arange(6, dtype=np.float32).reshape(3, 2)
    x = mx.nd.array(data, ctx=CTX)
    mx.reset_fallback_stats()
    with mx.fallback("silent"):
        y = mx.nd.SequenceReverse(x)
    assert y.context == CTX
    np.testing.assert_array_equal(y.asnumpy(), data[::-1])
    stat = mx.fallback_stats()[("SequenceReverse", "opencl")]
    assert (stat.calls, stat.bytes_to_host, stat.bytes_back) == (1, data.nbytes, data.nbytes)


def test_gradient_through_a_fallback_matches_the_cpu():
    data = np.array([[3.0], [1.0], [2.0]], np.float32)
    weights = np.array([[1.0], [2.0], [3.0]], np.float32)
    grads = []
    for ctx in (mx.cpu(), CTX):
        x = mx.nd.array(data, ctx=ctx)
        x.attach_grad()
        with mx.fallback("silent"), mx.autograd.record():
            z = (mx.nd.SequenceReverse(x) * mx.nd.array(weights, ctx=ctx)).sum()
        z.backward()
        assert x.grad.context == ctx
        grads.append(x.grad.asnumpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    np.testing.assert_array_equal(grads[1], weights[::-1])  # step t of the input met weight T-1-t


def test_error_policy_names_the_operator_and_context():
    x = mx.nd.ones((2, 1), ctx=CTX)
    with mx.fallback("error"), pytest.raises(mx.base.KernelNotFoundError,
                                             match=r"'SequenceReverse' on opencl\(0\)"):
        mx.nd.SequenceReverse(x)
