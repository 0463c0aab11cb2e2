"""The CuPy fusion pass: the CUDA code it generates from the shared region finder (runs anywhere), and fused
executors on a GPU equal to the CPU ones (skipped without a usable CuPy device, with the reason)."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.executor.fusion import fuse_plan

graph_pass = pytest.importorskip("mxplug_cupy.graph_pass", reason="the mxplug-cupy plugin is not installed")


def _gpu_reason() -> str:
    backend = mx.plugins.manager().backends.get("cupy")
    if backend is None:
        return "no 'cupy' backend registered"
    return "" if backend.available else f"no usable CuPy GPU: {backend.reason}"


def _net():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    a = mx.sym.exp(x * 0.5) - y
    return mx.sym.Group([a, mx.sym.tanh(a) * 2.0 + mx.sym.relu(x)])


def test_generated_cuda_code_from_a_cpu_plan(monkeypatch):
    from mxplug.executor import plan as plan_module

    monkeypatch.setattr(plan_module, "_passes_for", lambda backend: [])  # the CPU plan as traced, unrewritten
    exe = _net().simple_bind(mx.cpu(), grad_req="null", x=(4,), y=(4,))
    exe.forward(x=mx.nd.ones((4,)), y=mx.nd.ones((4,)))
    plan = exe._plans[False]
    seen = []
    fuse_plan(plan, graph_pass.TABLE, lambda expr: seen.append(graph_pass.operation(expr)) or (lambda *a: None))
    assert len(plan.forward.steps) == 1 and plan.fused_steps == 6
    ins, outs, body = seen[0]
    assert ins == "T i0, T i1, float s0, float s1"  # x, y, then the scalars 0.5 and 2.0 as arguments
    assert outs == "T o0, T o1"  # a is a head: written out although the region reads it too
    assert "float t1 = (exp(t0));" in body and body.endswith("o1 = (T)(t6);")


@pytest.mark.skipif(bool(_gpu_reason()), reason=_gpu_reason() or "GPU present")
def test_fused_gpu_executor_equals_cpu():
    xs, ys = np.linspace(-1, 1, 6).astype("float32"), np.linspace(0, 2, 6).astype("float32")
    results = []
    for ctx in (mx.cpu(), mx.gpu(0)):
        exe = _net().simple_bind(ctx, x=(6,), y=(6,))
        outs = exe.forward(is_train=True, x=mx.nd.array(xs, ctx=ctx), y=mx.nd.array(ys, ctx=ctx))
        exe.backward([mx.nd.ones((6,), ctx=ctx)] * 2)
        results.append([o.asnumpy() for o in outs] + [g.asnumpy() for g in exe.grad_dict.values()])
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
