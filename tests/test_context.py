"""Contexts: construction, identity, `with ctx:` scoping (nesting, exceptions, threads), the default context from
MXPLUG_DEFAULT_CONTEXT, and contexts whose backend is missing or provided by an in-process plugin."""

import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

import mxplug as mx
from tests import toy_backend
from tests.oracle.core_cases import check_case, names


@pytest.fixture
def toy():
    with toy_backend.installed() as ctx:
        yield ctx


@pytest.mark.parametrize("name", names("ctx."))
def test_matches_mxnet(name):
    check_case(name, mx)


def test_constructors_agree():
    assert mx.cpu(1) == mx.Context("cpu", 1) == mx.Context(mx.cpu(1))
    assert mx.gpu() == mx.Context("gpu", 0)
    assert (mx.cpu(2).device_type, mx.cpu(2).device_id) == ("cpu", 2)
    assert mx.Context(1, 0) == mx.cpu(0) and mx.Context(2, 3) == mx.gpu(3)  # MXNet's device type ids


def test_contexts_are_hashable_and_immutable():
    d = {mx.cpu(0): "a", mx.cpu(1): "b"}
    assert d[mx.Context("cpu", 1)] == "b"
    with pytest.raises(AttributeError):
        mx.cpu().device_id = 3


def test_context_pickles():
    assert pickle.loads(pickle.dumps(mx.gpu(2))) == mx.gpu(2)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_device_id_is_an_error(bad):
    with pytest.raises(mx.base.MXNetError, match="device_id"):
        mx.Context("cpu", bad)


def test_with_nesting_and_exceptions_restore():
    outer = mx.current_context()
    c1 = mx.cpu(1)
    with c1:
        with c1:  # re-entering the same context object nests correctly
            assert mx.current_context() == c1
            with pytest.raises(ValueError), mx.cpu(2):
                assert mx.current_context() == mx.cpu(2)
                raise ValueError
            assert mx.current_context() == c1
        assert mx.current_context() == c1
        assert mx.nd.zeros((1,)).context == c1
        assert mx.nd.array([1]).context == c1
        assert mx.nd.ones((1,), ctx=mx.cpu(3)).context == mx.cpu(3)  # an explicit ctx wins
    assert mx.current_context() == outer


def test_scopes_are_per_thread():
    seen = {}
    ready, release = threading.Barrier(2), threading.Event()

    def worker():
        seen["start"] = mx.current_context()
        with mx.cpu(7):
            ready.wait()
            release.wait()
            seen["inside"] = mx.current_context()
        seen["after"] = mx.current_context()

    t = threading.Thread(target=worker)
    with mx.cpu(3):
        t.start()
        ready.wait()  # the worker is inside cpu(7) now
        assert mx.current_context() == mx.cpu(3)
        release.set()
        t.join()
        assert mx.current_context() == mx.cpu(3)
    assert seen == {"start": mx.cpu(0), "inside": mx.cpu(7), "after": mx.cpu(0)}


def _usable(ctx) -> bool:
    try:
        mx.nd.zeros((1,), ctx=ctx)
    except mx.base.BackendUnavailableError:
        return False
    return True


def test_num_gpus_without_gpu_plugin():
    if _usable(mx.gpu(0)):
        pytest.skip("a GPU backend is usable on this machine")
    assert mx.context.num_gpus() == 0
    assert mx.num_gpus() == 0


@pytest.mark.parametrize(("ctx", "plugin"), [(mx.gpu(0), "mxplug-cupy"), (mx.opencl(0), "mxplug-opencl")])
def test_context_without_backend_names_the_plugin(ctx, plugin):
    if _usable(ctx):
        pytest.skip(f"{ctx} is usable on this machine")
    with pytest.raises(mx.base.BackendUnavailableError, match=plugin):
        mx.nd.zeros((2,), ctx=ctx)
    with pytest.raises(mx.base.BackendUnavailableError, match=plugin):
        mx.nd.array([1, 2]).copyto(ctx)
    with pytest.raises(mx.base.BackendUnavailableError, match=plugin):
        mx.nd.array([1, 2], ctx=ctx)


def test_unknown_device_type_names_installed_backends():
    with pytest.raises(mx.base.BackendUnavailableError, match=r"numpy\(cpu\)"):
        mx.nd.zeros((1,), ctx=mx.Context("tpu", 0))


def _run(code: str, env_value: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("MXPLUG_DEFAULT_CONTEXT", None)
    if env_value is not None:
        env["MXPLUG_DEFAULT_CONTEXT"] = env_value
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("value, expected", [("cpu:0", "cpu(0)"), ("cpu:2", "cpu(2)"), ("cpu", "cpu(0)"),
                                             (None, "cpu(0)")])
def test_default_context_from_environment(value, expected):
    proc = _run("import mxplug as mx; print(mx.current_context(), mx.nd.zeros((1,)).context)", value)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [expected, expected]


def test_default_gpu_context_without_plugin_fails_at_first_array():
    if _usable(mx.gpu(0)):
        pytest.skip("a GPU backend is usable on this machine")
    code = (
        "import mxplug as mx\n"
        "print(mx.current_context())\n"  # importing and asking work: the failure comes with the first array
        "try:\n    mx.nd.ones((2,))\n"
        "except mx.base.BackendUnavailableError as e:\n    print('ERR', e)\n"
    )
    proc = _run(code, "gpu:0")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()[:2]
    assert first == "gpu(0)"
    assert second.startswith("ERR") and "mxplug-cupy" in second and "gpu(0)" in second


def test_malformed_default_context_is_reported():
    proc = _run("import mxplug", "cpu:first")
    assert proc.returncode != 0
    assert "MXPLUG_DEFAULT_CONTEXT" in proc.stderr and "BackendUnavailableError" in proc.stderr


# -- a second device type from an in-process plugin -----------------------------------------------------------
def test_arrays_on_a_plugin_context(toy):
    a = np.arange(6, dtype="float32").reshape(2, 3)
    x = mx.nd.array(a, ctx=toy)
    assert x.context == toy and repr(x).endswith("<NDArray 2x3 @toy(0)>")
    y = (x * 2 + 1).sum()
    assert y.context == toy
    np.testing.assert_allclose(y.asnumpy(), [a.sum() * 2 + 6])
    with toy:
        assert mx.nd.zeros((1,)).context == toy


def test_copies_between_contexts(toy):
    x = mx.nd.array([1.0, 2.0])
    t = x.copyto(toy)
    assert t.context == toy and x.as_in_context(toy).context == toy
    t += 1
    np.testing.assert_array_equal(x.asnumpy(), [1.0, 2.0])  # a real copy
    back = mx.nd.zeros((2,))
    t.copyto(back)  # into an existing array on another context
    np.testing.assert_array_equal(back.asnumpy(), [2.0, 3.0])
    assert back.context == mx.cpu()
    t1 = t.copyto(mx.Context("toy", 1))
    assert t1.context == mx.Context("toy", 1)
    with pytest.raises(mx.base.BackendUnavailableError, match="toy"):
        t.copyto(mx.Context("toy", 5))  # the toy backend has two devices


def test_inplace_with_operand_on_another_context_is_rejected(toy):
    x = mx.nd.array([1.0, 2.0])
    with pytest.raises(mx.base.ContextMismatchError):
        x += mx.nd.array([1.0, 1.0], ctx=toy)
