"""`mx.custom.operator`: a custom operator written once (forward composition, optional backward and kernels)
that runs on every context and differentiates."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import AutogradError, KernelNotFoundError, RegistryError
from mxplug.cli import main as cli_main
from mxplug.testing import assert_almost_equal, check_numeric_gradient

from . import toy_backend

X = np.array([[-1.0, 0.5, 2.0], [0.25, -0.3, 1.5]])


def softplus_ref(x, beta):
    return np.logaddexp(0.0, beta * x) / beta


@pytest.fixture
def toy():
    with toy_backend.installed(keep=lambda op: op in {"broadcast_add", "_copyto"}) as ctx, mx.fallback("silent"):
        yield ctx


def _declare(name="t_softplus", *, forward=True, backward=False, kernel=True, infer=True):
    calls = []

    def np_softplus(x, *, beta):
        calls.append(x.dtype.name)
        return (np.logaddexp(0, beta * x) / beta).astype(x.dtype)

    parts = {"__doc__": "log(1 + exp(beta * x)) / beta."}
    if infer:
        parts["infer"] = staticmethod(lambda attrs, data: data)
    if forward:
        parts["forward"] = staticmethod(
            lambda F, attrs, data: F.Activation(data * attrs["beta"], act_type="softrelu") / attrs["beta"])
    if backward:
        parts["backward"] = staticmethod(
            lambda F, attrs, ins, outs, og: [og[0] * F.sigmoid(ins[0] * attrs["beta"])])
    if kernel:
        parts["kernels"] = {"cpu": np_softplus}
    impl = type("Softplus", (), parts)
    handle = mx.custom.operator(name, inputs=["data"], attrs={"beta": "float = 1.0"})(impl)
    return handle, calls


@pytest.fixture
def softplus():
    handle, calls = _declare()
    yield handle, calls
    handle.unregister()


def test_appears_in_nd_registry_docs_and_ops(softplus, capsys):
    handle, calls = softplus
    assert mx.nd.t_softplus.__doc__.startswith("log(1 + exp(beta * x)) / beta.")
    schema = mx.registry.get("t_softplus")
    assert schema.family == "custom" and list(schema.attrs) == ["beta"] and handle.schema is schema
    assert cli_main(["ops", "--backend", "numpy", "--json"]) == 0
    entry = next(op for op in json.loads(capsys.readouterr().out) if op["name"] == "t_softplus")
    assert entry["kernels"] == {"numpy": "native"} and entry["attrs"]["beta"]["default"] == 1.0


def test_kernel_runs_where_registered_and_composition_elsewhere(softplus, toy):
    handle, calls = softplus
    assert_almost_equal(handle(mx.nd.array(X), beta=2.0), softplus_ref(X, 2.0))
    assert calls == ["float32"]
    assert "kernel from plugin 'custom:t_softplus'" in mx.explain("t_softplus", mx.cpu())
    y = mx.nd.t_softplus(mx.nd.array(X, ctx=toy), beta=2.0)
    assert y.context == toy and calls == ["float32"]  # the toy ran the composition, not the CPU kernel
    assert_almost_equal(y, softplus_ref(X, 2.0))
    assert "runs its forward composition on toy(0)" in mx.explain("t_softplus", toy)
    assert ("t_softplus", "toy") not in mx.fallback_stats()


@pytest.mark.parametrize("on_toy", [False, True])
def test_gradient_of_the_composition_when_no_backward(softplus, toy, on_toy):
    ctx = toy if on_toy else mx.cpu()
    check_numeric_gradient(lambda a: mx.nd.t_softplus(a, beta=2.0), [X], ctx=ctx)


def test_second_order_through_the_composition_gradient(softplus):
    a = mx.nd.array([0.3, -0.8], dtype="float64")
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.t_softplus(a, beta=2.0)
        (g,) = mx.autograd.grad(y, [a], create_graph=True)
    g.backward()
    s = 1 / (1 + np.exp(-2.0 * np.array([0.3, -0.8])))
    assert_almost_equal(g, s)
    assert_almost_equal(a.grad, 2.0 * s * (1 - s))


def test_explicit_backward_is_used():
    handle, _ = _declare("t_softplus_bw", backward=True)
    try:
        check_numeric_gradient(lambda a: mx.nd.t_softplus_bw(a, beta=0.5), [X])
    finally:
        handle.unregister()


def test_forward_only_is_a_composite():
    handle, _ = _declare("t_softplus_comp", kernel=False, infer=False)
    try:
        assert "composite operator" in mx.explain("t_softplus_comp")
        assert_almost_equal(mx.nd.t_softplus_comp(mx.nd.array(X)), softplus_ref(X, 1.0))
        check_numeric_gradient(lambda a: mx.nd.t_softplus_comp(a, beta=3.0), [X])
    finally:
        handle.unregister()


def test_kernels_only_fall_back_per_policy(toy):
    handle, calls = _declare("t_softplus_k", forward=False, backward=True)
    try:
        y = mx.nd.t_softplus_k(mx.nd.array(X, ctx=toy))
        assert y.context == toy and calls == ["float32"]  # the CPU kernel, through the fallback
        assert mx.fallback_stats()[("t_softplus_k", "toy")].calls == 1
        check_numeric_gradient(lambda a: mx.nd.t_softplus_k(a), [X], ctx=toy)
        with mx.fallback("error"), pytest.raises(KernelNotFoundError, match="t_softplus_k"):
            mx.nd.t_softplus_k(mx.nd.array(X, ctx=toy))
    finally:
        handle.unregister()


def test_kernels_without_gradient_are_not_differentiable():
    handle, _ = _declare("t_softplus_nd", forward=False)
    try:
        assert not mx.registry.get("t_softplus_nd").differentiable
        a = mx.nd.array(X)
        a.attach_grad()
        with mx.autograd.record():
            y = mx.nd.t_softplus_nd(a)
        with pytest.raises(AutogradError, match="not in a recorded graph"):  # as for argmax: not recorded
            y.backward()
    finally:
        handle.unregister()


def test_multi_output_operator():
    @mx.custom.operator("t_minmax", inputs=["data"], outputs=["low", "high"], attrs={"axis": "int = 1"})
    class MinMax:
        def forward(F, attrs, data):
            return F.min(data, axis=attrs["axis"]), F.max(data, axis=attrs["axis"])

    try:
        low, high = mx.nd.t_minmax(mx.nd.array(X))
        assert_almost_equal(low, X.min(axis=1))
        assert_almost_equal(high, X.max(axis=1))
        check_numeric_gradient(lambda a: mx.nd.t_minmax(a, axis=0), [X])
    finally:
        MinMax.unregister()


def test_declaration_errors():
    with pytest.raises(RegistryError, match="give a forward composition or kernels"):
        mx.custom.operator("t_nothing")(type("Nothing", (), {}))
    with pytest.raises(RegistryError, match="give infer"):
        _declare("t_no_infer", infer=False)
    with pytest.raises(RegistryError, match="already registered"):
        mx.custom.operator("exp")(type("Exp", (), {"forward": staticmethod(lambda F, attrs, x: x)}))
    assert "t_no_infer" not in mx.registry.all_ops()


def test_declaring_again_replaces_and_survives_plugin_reset(softplus):
    handle, calls = softplus
    mx.plugins.reset()  # kernels of custom operators are kept
    mx.nd.t_softplus(mx.nd.array(X))
    assert calls == ["float32"]
    again, calls2 = _declare()
    mx.nd.t_softplus(mx.nd.array(X))
    assert calls == ["float32"] and calls2 == ["float32"]
    again.unregister()
    assert not hasattr(mx.nd, "t_softplus")
    _declare()  # for the fixture's unregister


def test_the_documentation_examples_run():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "custom-operators.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    try:
        for block in blocks:  # one namespace: later blocks use earlier ones, as a reader would
            exec(compile(block, "docs/custom-operators.md", "exec"), namespace)
    finally:
        for name in ("scaled_softplus", "clipped_square"):
            if name in mx.registry.all_ops():
                mx.custom.unregister_operator(name)
