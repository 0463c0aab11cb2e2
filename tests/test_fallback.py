"""Missing kernels: the fallback policy (warn | error | silent), the CPU fallback, its statistics and explain."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import mxplug as mx
from mxplug import dispatch, missing_kernels
from mxplug.base import KernelNotFoundError
from mxplug.cli import main as cli_main
from mxplug.custom import register_operator, unregister_operator
from mxplug.ops._util import spec
from mxplug.testing import assert_almost_equal, check_numeric_gradient

from . import toy_backend

# The toy backend keeps only these NumPy kernels: everything else must fall back.
TOY_KEEPS = {"broadcast_add", "_copyto", "_zeros", "zeros_like", "ones_like"}


@pytest.fixture
def toy():
    previous = mx.set_fallback("warn")
    mx.reset_fallback_stats()
    with toy_backend.installed(keep=lambda op: op in TOY_KEEPS) as ctx:
        yield ctx
    mx.set_fallback(previous)
    mx.reset_fallback_stats()


def _fallback_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, mx.FallbackWarning)]


def test_default_policy_runs_on_cpu_warns_once_and_counts(toy):
    x = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    a = mx.nd.array(x, ctx=toy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = mx.nd.exp(a)
        mx.nd.exp(a)
    assert y.context == toy and type(y._data) is np.ndarray
    assert_almost_equal(y, np.exp(x))
    messages = _fallback_warnings(caught)
    assert len(messages) == 1, messages  # once per (operator, backend)
    assert "'exp'" in messages[0] and "toy(0)" in messages[0] and "float32" in messages[0]
    assert "MXPLUG_FALLBACK=error" in messages[0] and "mx.set_fallback('error')" in messages[0]
    assert caught[0].filename == __file__  # the warning points at the user's line, not at mxplug
    stats = mx.fallback_stats()
    assert stats == {("exp", "toy"): mx.missing_kernels.FallbackStat(calls=2, bytes_to_host=24, bytes_back=24)}
    assert mx.fallback_stats(reset=True) == stats and mx.fallback_stats() == {}


def test_native_kernels_do_not_fall_back(toy):
    a = mx.nd.array([1.0, 2.0], ctx=toy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", mx.FallbackWarning)
        assert_almost_equal(a + a, [2.0, 4.0])
    assert mx.fallback_stats() == {}


def test_error_policy_names_operator_context_dtype_and_backends(toy):
    a = mx.nd.array([1.0, 2.0], ctx=toy, dtype="float64")
    assert mx.set_fallback("error") == "warn"
    try:
        with pytest.raises(KernelNotFoundError) as err:
            mx.nd.exp(a)
    finally:
        assert mx.set_fallback("warn") == "error"
    msg = str(err.value)
    assert msg.startswith("no kernel for 'exp' on toy(0) (float64); installed backends: ")
    assert "numpy(cpu)" in msg and "toy(toy)" in msg and "policy is 'error'" in msg
    assert "MXPLUG_FALLBACK=warn" in msg
    assert mx.fallback_stats() == {}


def test_scope_overrides_the_default_even_for_a_cached_fallback(toy):
    a = mx.nd.array([1.0, 4.0], ctx=toy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", mx.FallbackWarning)
        mx.nd.sqrt(a)  # resolved and cached under 'warn'
    cached = dispatch._CACHE[("sqrt", "toy", np.dtype("float32"))]
    assert getattr(cached, "mxplug_fallback", False)
    with mx.fallback("error"), pytest.raises(KernelNotFoundError, match=r"'sqrt' on toy\(0\) \(float32\)"):
        mx.nd.sqrt(a)
    assert missing_kernels.policy() == "warn"
    assert_almost_equal(mx.nd.sqrt(a), [1.0, 2.0])


def test_silent_policy_does_not_warn_but_counts(toy):
    a = mx.nd.array([1.0, 2.0], ctx=toy)
    with warnings.catch_warnings(), mx.fallback("silent"):
        warnings.simplefilter("error", mx.FallbackWarning)
        assert_almost_equal(mx.nd.square(a), [1.0, 4.0])
    assert mx.fallback_stats()[("square", "toy")].calls == 1


def test_scope_is_per_thread(toy):
    seen = []
    with mx.fallback("error"):
        t = threading.Thread(target=lambda: seen.append(missing_kernels.policy()))
        t.start()
        t.join()
        assert missing_kernels.policy() == "error"
    assert seen == ["warn"]


def test_bad_policy_is_refused():
    with pytest.raises(mx.MXNetError, match="'warn', 'error', 'silent'"):
        mx.set_fallback("loud")
    with pytest.raises(mx.MXNetError, match="got 'sometimes'"):
        mx.fallback("sometimes")


@pytest.mark.parametrize(("value", "policy", "warns"), [("error", "error", False), ("SILENT", "silent", False),
                                                        ("", "warn", False), ("bogus", "warn", True)])
def test_environment_variable_is_read_at_import(value, policy, warns):
    env = dict(os.environ, MXPLUG_FALLBACK=value)
    proc = subprocess.run([sys.executable, "-c", "import mxplug; print(mxplug.missing_kernels.policy())"],
                          capture_output=True, text=True, env=env, check=True)
    assert proc.stdout.strip() == policy
    assert ("MXPLUG_FALLBACK='bogus' is not one of" in proc.stderr) == warns


def test_autograd_through_fallbacks(toy):
    x = np.array([[0.3, -0.7], [1.2, 0.1]])
    with mx.fallback("silent"):
        check_numeric_gradient(lambda a: mx.nd.tanh(a) * mx.nd.exp(a), [x], ctx=toy)
        a = mx.nd.array(x, ctx=toy, dtype="float64")
        a.attach_grad()
        with mx.autograd.record():
            y = mx.nd.sum(mx.nd.sin(a))
        y.backward()
    assert a.grad.context == toy  # the gradient ops ran on toy (falling back themselves)
    assert_almost_equal(a.grad, np.cos(x))
    stats = mx.fallback_stats()
    assert {("sin", "toy"), ("cos", "toy"), ("sum", "toy")} <= set(stats)


def test_multi_output_and_input_less_operators(toy):
    ctx1 = mx.Context("toy", 1)
    a = mx.nd.array(np.arange(6, dtype=np.float32).reshape(2, 3), ctx=ctx1)
    with mx.fallback("silent"):
        parts = mx.nd.split(a, num_outputs=3, axis=1)
        ramp = mx.nd.arange(0, 4, ctx=ctx1)
    assert [p.context for p in parts] == [ctx1] * 3
    assert_almost_equal(parts[2], [[2.0], [5.0]])
    assert ramp.context == ctx1 and ramp.asnumpy().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert mx.fallback_stats()[("_arange", "toy")] == (1, 0, 16)  # no inputs to copy, 16 bytes back


def test_auxiliary_states_are_copied_back(toy):
    # An operator whose kernel updates an auxiliary state in place (as BatchNorm's moving mean).
    def running_mean(data, state, *, momentum):
        state *= momentum
        state += (1 - momentum) * data.mean(axis=0)
        return data - state

    register_operator({"name": "test_running_mean", "inputs": ["data", "state"], "aux": ["state"],
                       "attrs": {"momentum": "float = 0.5"}, "differentiable": False, "doc": "x"},
                      infer=lambda attrs, x, s: spec(x.shape, x.dtype), plugin="tests")
    dispatch.register_kernel("test_running_mean", "numpy", running_mean, plugin="tests")
    try:
        data = mx.nd.array([[1.0, 2.0], [3.0, 6.0]], ctx=toy)
        state = mx.nd.array([10.0, 20.0], ctx=toy)
        with mx.fallback("silent"):
            out = mx.nd.test_running_mean(data, state)
        assert state.context == toy and state.asnumpy().tolist() == [6.0, 12.0]
        assert out.asnumpy().tolist() == [[-5.0, -10.0], [-3.0, -6.0]]
        assert mx.fallback_stats()[("test_running_mean", "toy")] == (1, 24, 24)  # data+state there, out+state back
    finally:
        unregister_operator("test_running_mean")
        dispatch.forget_plugin("tests")


def test_no_cpu_kernel_means_no_fallback(toy):
    register_operator({"name": "test_kernel_less", "inputs": ["data"], "differentiable": False, "doc": "x"},
                      infer=lambda attrs, x: spec(x.shape, x.dtype), plugin="tests")
    try:
        with pytest.raises(KernelNotFoundError, match=r"'test_kernel_less' on toy\(0\)"):
            mx.nd.test_kernel_less(mx.nd.array([1.0], ctx=toy))
        with pytest.raises(KernelNotFoundError, match=r"'test_kernel_less' on cpu\(0\)"):
            mx.nd.test_kernel_less(mx.nd.array([1.0]))
    finally:
        unregister_operator("test_kernel_less")


def test_explain_says_what_happens(toy, capsys):
    text = mx.explain("exp", toy)
    assert text.startswith("exp on toy(0) (float32): no kernel on backend 'toy'; fallback to cpu (policy warn): "
                           "kernel from plugin 'numpy' on backend 'numpy' (priority 0)")
    assert "copied to the host" in text
    with mx.fallback("error"):
        assert "policy is 'error': raises KernelNotFoundError" in mx.explain("exp", toy)
    assert "kernel from plugin 'toy' on backend 'toy' (priority 0), dtypes all" in mx.explain("broadcast_add", toy)
    assert cli_main(["explain", "exp", "--ctx", "toy:0"]) == 0
    assert capsys.readouterr().out == text + "\n"


def test_ops_missing_lists_what_the_backend_lacks(toy, capsys):
    assert cli_main(["ops", "--backend", "toy", "--missing"]) == 0
    rows = {line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert {"exp", "sum", "dot"} <= rows
    assert not rows & (TOY_KEEPS - {"_copyto"}) and "_copyto" not in rows


def test_explain_prints_a_kernels_strategy_note_and_survives_a_broken_one():
    from mxplug import dispatch

    entry = dispatch._select("exp", "numpy", np.dtype("float32"))
    try:
        entry.fn.mxplug_explain = lambda ctx, dtype: f"a note for {ctx!r} ({np.dtype(dtype).name})"
        assert "\n  how: a note for cpu(0) (float32)" in mx.explain("exp", mx.cpu())
        entry.fn.mxplug_explain = lambda ctx, dtype: 1 / 0
        assert "how: (plugin 'numpy' could not say: ZeroDivisionError" in mx.explain("exp", mx.cpu())
    finally:
        del entry.fn.mxplug_explain
