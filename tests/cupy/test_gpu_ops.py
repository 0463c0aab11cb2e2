"""Every operator on mx.gpu(0) against float64 truth, and its gradient against the CPU's (needs a GPU).

The cases come from `mxplug.testing.cases` (a small and a large case per operator): the forward result is
checked against the float64 NumPy reference (or the CPU backend in float64) at the dtype's tolerance, random
operators by shape and finiteness; then the same case in float64 on the GPU must agree with the CPU closely
(same kernel bodies, so a difference beyond rounding is a CuPy/NumPy semantic difference); then autograd's
gradients on the GPU must equal the CPU's.
"""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug import registry
from mxplug.testing.cases import cases_for, check_case, run_case, why_uncovered

from ._gpu import REASON, requires_gpu

pytestmark = requires_gpu

# Listing the covered operators builds their small cases: only worth it where the tests will run.
OPS = sorted(registry.all_ops()) if REASON else [n for n in sorted(registry.all_ops())
                                                 if why_uncovered(registry.get(n)) is None]


@pytest.mark.parametrize("op", OPS)
def test_forward_matches_float64_truth(op):
    for case in cases_for(registry.get(op)):
        check_case(case, mx.gpu(0))


@pytest.mark.parametrize("op", OPS)
def test_float64_agrees_with_the_cpu(op):
    case = cases_for(registry.get(op))[0]
    if case.random:
        return  # different generators: compared by distribution in test_gpu.py
    gpu, cpu = run_case(case, mx.gpu(0), "float64"), run_case(case, mx.cpu(), "float64")
    assert len(gpu) == len(cpu)
    for g, c in zip(gpu, cpu, strict=True):
        assert g.dtype == c.dtype and g.shape == c.shape
        np.testing.assert_allclose(g, c, rtol=1e-7, atol=1e-10 * max(1.0, float(np.abs(c).max(initial=0))))


def _gradients(case, ctx) -> list[np.ndarray]:
    arrays = case.arrays(ctx, "float64")
    for i in case.grad_inputs:
        arrays[i].attach_grad()
    with mx.autograd.record():
        outs = case.call(arrays, ctx)
    rng = np.random.default_rng(0)
    heads = [mx.nd.array(rng.uniform(0.5, 1.5, o.shape), ctx=ctx, dtype=o.dtype) for o in outs]
    mx.autograd.backward(outs, heads)
    return [arrays[i].grad.asnumpy() for i in case.grad_inputs]


@pytest.mark.parametrize("op", [op for op in OPS if REASON or cases_for(registry.get(op))[0].grad_inputs])
def test_gradients_agree_with_the_cpu(op):
    case = cases_for(registry.get(op))[0]
    for g, c in zip(_gradients(case, mx.gpu(0)), _gradients(case, mx.cpu()), strict=True):
        np.testing.assert_allclose(g, c, rtol=1e-7, atol=1e-10)
