"""Elementwise fusion on OpenCL executors: results equal the unfused (CPU executor) and imperative (nd +
autograd) ones, forward and backward, and the plan has fewer kernel launches."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import mxplug as mx
from mxplug.executor.fusion import OpExpr, substitute

RNG = np.random.default_rng(11)


def _graphs() -> dict[str, tuple[Callable, dict]]:
    def chain(F, x):
        for i in range(10):
            x = x * 1.0001 if i % 2 else x + 0.5
        return x

    def diamond(F, x):
        a = F.exp(x * 0.3)
        return a * 2 + F.sin(a) - F.sqrt(a)

    def scalars(F, x):
        return (2.0 - x) / 3.0 + 1.5 / (x + 4.0) + (x * x) ** 2 + 2.0 ** F.tanh(x)

    def two_inputs(F, x, y):
        return F.maximum(x, y) * F.sigmoid(x - y) + F.relu(y) * x

    def breakers(F, x, w):  # dot and sum split the elementwise work into regions
        h = F.tanh(F.dot(x, w) * 0.5 + 1.0)
        s = F.sum(h * h, axis=1)
        return F.exp(s * -0.1) + 1.0

    def value_read_mid_region(F, x):  # exp(x) is read by sum between the elementwise steps that follow
        a = F.exp(x)
        s = F.sum(a, axis=1, keepdims=True)
        return F.log1p(a * 2 + 1) + F.broadcast_like(s, a)

    def head_inside(F, x, y):  # a region's intermediate is also an output of the graph
        a = F.tanh(x) * y
        return [a, F.square(a + 1) - x]

    return {"chain": (chain, {"x": (7, 5)}), "diamond": (diamond, {"x": (4, 6)}),
            "scalars": (scalars, {"x": (33,)}), "two inputs": (two_inputs, {"x": (3, 4), "y": (3, 4)}),
            "dot and sum": (breakers, {"x": (3, 4), "w": (4, 5)}),
            "read mid-region": (value_read_mid_region, {"x": (2, 3)}),
            "head inside a region": (head_inside, {"x": (5,), "y": (5,)})}


GRAPHS = _graphs()


def _inputs(shapes: dict) -> dict[str, np.ndarray]:
    return {k: RNG.uniform(0.1, 1.0, size=s).astype("float32") for k, s in shapes.items()}


def _executor(fn, values, heads, ctx, grad_req="write", backward_runs=1):
    syms = {k: mx.sym.var(k) for k in values}
    net = fn(mx.sym, **syms)
    net = mx.sym.Group(net) if isinstance(net, list) else net
    exe = net.simple_bind(ctx, grad_req=grad_req, **{k: v.shape for k, v in values.items()})
    outs = exe.forward(is_train=True, **{k: mx.nd.array(v, ctx=ctx) for k, v in values.items()})
    outs = [o.asnumpy() for o in outs]
    for _ in range(backward_runs):
        exe.backward([mx.nd.array(h, ctx=ctx) for h in heads])
    return exe, outs, {k: g.asnumpy() for k, g in exe.grad_dict.items()}


def _imperative(fn, values, heads):
    arrays = {k: mx.nd.array(v) for k, v in values.items()}
    for a in arrays.values():
        a.attach_grad()
    with mx.autograd.record():
        outs = fn(mx.nd, **arrays)
    outs = outs if isinstance(outs, list) else [outs]
    mx.autograd.backward(outs, [mx.nd.array(h) for h in heads])
    return [o.asnumpy() for o in outs], {k: a.grad.asnumpy() for k, a in arrays.items()}


def _heads(fn, values) -> list[np.ndarray]:
    outs = fn(mx.nd, **{k: mx.nd.array(v) for k, v in values.items()})
    outs = outs if isinstance(outs, list) else [outs]
    return [RNG.normal(size=o.shape).astype("float32") for o in outs]


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", list(GRAPHS))
def test_fused_equals_unfused_and_imperative(name, ctx):
    fn, shapes = GRAPHS[name]
    values = _inputs(shapes)
    heads = _heads(fn, values)
    exe, outs, grads = _executor(fn, values, heads, ctx)
    ref_exe, ref_outs, ref_grads = _executor(fn, values, heads, mx.cpu())
    imp_outs, imp_grads = _imperative(fn, values, heads)
    for got, want, imp in zip(outs, ref_outs, imp_outs, strict=True):
        _close(got, want)
        _close(got, imp)
    for k in values:
        _close(grads[k], ref_grads[k])
        _close(grads[k], imp_grads[k])
    plan, ref = exe._plans[True], ref_exe._plans[True]
    assert plan.fused_steps > 0
    for prog, ref_prog in ((plan.forward, ref.forward), (plan.backward, ref.backward)):
        fused = [st for st in prog.steps if "fused" in st.meta]
        # every fused step replaces its region's steps: launches drop by exactly the fused-away steps
        assert len(prog.steps) == len(ref_prog.steps) - sum(len(st.meta["fused"]) - 1 for st in fused)
    assert len(plan.forward.steps) + len(plan.backward.steps) < len(ref.forward.steps) + len(ref.backward.steps)


def test_chain_is_one_launch(ctx):
    fn, shapes = GRAPHS["chain"]
    exe = fn(mx.sym, mx.sym.var("x")).simple_bind(ctx, grad_req="null", x=shapes["x"])
    x = _inputs(shapes)["x"]
    out = exe.forward(x=mx.nd.array(x, ctx=ctx))[0].asnumpy()
    assert [st.op.startswith("fused[") for st in exe._plans[False].forward.steps] == [True]
    _close(out, fn(np, x.astype(np.float64)).astype(np.float32))


def test_grad_req_add_accumulates(ctx):
    fn, shapes = GRAPHS["two inputs"]
    values = _inputs(shapes)
    heads = _heads(fn, values)
    _, _, once = _executor(fn, values, heads, ctx)
    _, _, twice = _executor(fn, values, heads, ctx, grad_req="add", backward_runs=2)
    for k in values:
        _close(twice[k], 2 * once[k])


def test_region_breaks_at_dot_and_sum(ctx):
    fn, shapes = GRAPHS["dot and sum"]
    exe = fn(mx.sym, mx.sym.var("x"), mx.sym.var("w")).simple_bind(ctx, grad_req="null", **shapes)
    exe.forward(**{k: mx.nd.array(v, ctx=ctx) for k, v in _inputs(shapes).items()})
    ops = [st.op for st in exe._plans[False].forward.steps]
    assert ops[0] == "dot" and ops[2] == "sum", ops
    assert ops[1].startswith("fused[") and ops[3].startswith("fused["), ops


def test_compiled_once_per_expression(ctx):
    fn, shapes = GRAPHS["chain"]
    dev = mx.plugins.manager().backends["opencl"].device(0)
    dev._kernels.clear()  # forget what earlier tests compiled (their launchers keep their own kernel objects)
    for _ in range(2):  # a second executor with the same graph reuses the kernel, scalars are arguments
        exe = fn(mx.sym, mx.sym.var("x")).simple_bind(ctx, grad_req="null", x=(3,))
        exe.forward(x=mx.nd.ones((3,), ctx=ctx))
        n = len(dev._kernels)
    exe = (fn(mx.sym, mx.sym.var("x")) * 1.0).simple_bind(ctx, grad_req="null", x=(3,))
    assert len(dev._kernels) == n  # binding compiles nothing before the first run
    exe.forward(x=mx.nd.ones((3,), ctx=ctx))
    assert len(dev._kernels) == n + 1


def test_substitute_replaces_whole_variables_only():
    assert substitute("fabs(x) + exp(-x) * 1e-5 + xx", {"x": "t3"}) == "fabs(t3) + exp(-t3) * 1e-5 + xx"
    assert OpExpr("a + b", ("a", "b")).scalar is None
