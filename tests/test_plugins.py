"""Plugin loading through real entry points: isolation of broken plugins, API versions, allow/deny lists,
kernel priorities, new device types, and the errors a user sees when a kernel or backend is missing."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import BackendUnavailableError, KernelNotFoundError

from .plugin_factory import PluginFactory, backend_source


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    factory = PluginFactory(tmp_path, monkeypatch)
    yield factory
    factory.close()


def _cpu_still_works() -> None:
    x = mx.nd.array([1.0, 2.0])
    np.testing.assert_allclose((x + x).asnumpy(), [2.0, 4.0])


# The numpy `exp` kernel overridden with a higher priority; records its calls.
OVERRIDE_EXP = """
    import numpy as np
    import mxplug

    MXPLUG_API_VERSION = "1.0"
    CALLS = []


    def fast_exp(data):
        CALLS.append(data.dtype.name)
        return np.exp(data)


    @mxplug.hookimpl
    def mxplug_register_kernels(register):
        register("exp", "numpy", fast_exp, dtypes={dtypes}, priority=10)
"""

TOY_KERNELS = """
    @mxplug.hookimpl
    def mxplug_register_kernels(register):
        register("broadcast_add", "toy", lambda a, b: ToyArray(a.a + b.a))
        register("exp", "toy", lambda data: ToyArray(np.exp(data.a)), dtypes=("float32",))
"""


# -- the real plugin ------------------------------------------------------------------------------------
def test_numpy_plugin_is_loaded_through_its_entry_point():
    info = mx.plugins.manager().plugins["numpy"]
    assert info.status == "loaded", info.error
    assert info.distribution == "mxplug-numpy" and info.version
    assert info.backends == ["numpy"]
    assert info.kernels > 0
    assert mx.plugins.backend_for(mx.cpu()).name == "numpy"


# -- broken plugins never break mxplug -----------------------------------------------------------------
def test_plugin_whose_import_raises_is_reported_and_skipped(plugins):
    plugins.make("broken", "raise ImportError('needs libtoy.so')")
    info = plugins.info("broken")
    assert info.status == "failed"
    assert info.error == "import failed: ImportError: needs libtoy.so"
    assert "\n" not in info.error
    assert info.traceback.startswith("Traceback") and "needs libtoy.so" in info.traceback
    assert plugins.info("numpy").status == "loaded"
    _cpu_still_works()


def test_import_mxplug_survives_a_broken_plugin_in_a_fresh_process(plugins):
    plugins.make("broken", "raise RuntimeError('boom at import')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MXPLUG_")}
    env["PYTHONPATH"] = os.pathsep.join([plugins.paths[-1], *filter(None, [env.get("PYTHONPATH")])])
    code = (
        "import mxplug as mx\n"
        "print((mx.nd.ones((2,)) * 2).asnumpy().tolist())\n"
        "info = mx.plugins.manager().plugins['broken']\n"
        "print(info.status, '|', info.error)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[2.0, 2.0]", "failed | import failed: RuntimeError: boom at import"]
    assert "boom at import" in proc.stderr  # the one-line warning through logging, not a traceback
    assert "Traceback" not in proc.stderr


def test_plugin_whose_hook_raises_is_reported_and_its_registrations_forgotten(plugins):
    plugins.make(
        "halfway",
        backend_source(backend="halfdev", device="halfdev"),
        """
        @mxplug.hookimpl
        def mxplug_register_kernels(register):
            register("exp", "numpy", lambda data: data * 0, priority=10)
            register("broadcast_add", "halfdev", lambda a, b: ToyArray(a.a + b.a))
            raise RuntimeError("half-way failure")
        """,
    )
    info = plugins.info("halfway")
    assert info.status == "failed"
    assert info.error == "mxplug_register_kernels raised RuntimeError: half-way failure"
    assert "half-way failure" in info.traceback
    # Its backend and both kernels are gone: exp is numpy's again, and halfdev has no backend.
    assert info.backends == [] and info.kernels == 0
    serving = {e.plugin for entries in mx.dispatch.kernels_of("exp").values() for e in entries}
    assert "halfway" not in serving and "numpy" in serving
    np.testing.assert_allclose(mx.nd.exp(mx.nd.zeros((2,))).asnumpy(), [1.0, 1.0])
    assert "plugin 'numpy'" in mx.explain("exp", mx.cpu())
    with pytest.raises(BackendUnavailableError, match=r"no backend serves context halfdev\(0\)"):
        mx.nd.array([1.0], ctx=mx.Context("halfdev", 0))


# -- API versions ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("2.0", "needs mxplug plugin API 2.0, this mxplug provides 1.0"),
        ("0.9", "needs mxplug plugin API 0.9, this mxplug provides 1.0"),
        ("1.7", "needs mxplug plugin API 1.7, this mxplug provides 1.0"),
        ("one", "MXPLUG_API_VERSION='one' is not of the form 'MAJOR.MINOR'"),
    ],
)
def test_incompatible_api_version_is_refused_with_one_line(plugins, version, reason):
    source = OVERRIDE_EXP.format(dtypes=None).replace('"1.0"', repr(version))
    module = plugins.make("future", source)
    info = plugins.info("future")
    assert info.status == "refused"
    assert info.error == reason
    assert sys.modules[module].CALLS == []
    mx.nd.exp(mx.nd.zeros((1,)))
    assert sys.modules[module].CALLS == []  # its hooks never ran
    assert "plugin 'numpy'" in mx.explain("exp", mx.cpu())


def test_plugin_without_api_version_is_refused(plugins):
    plugins.make("noversion", OVERRIDE_EXP.format(dtypes=None).replace('MXPLUG_API_VERSION = "1.0"', ""))
    info = plugins.info("noversion")
    assert info.status == "refused"
    assert info.error == "declares no MXPLUG_API_VERSION (this mxplug provides API 1.0)"


def test_plugin_written_for_an_older_minor_api_is_accepted(plugins):
    plugins.monkeypatch.setattr(mx.plugins, "API_VERSION", "1.3")
    plugins.make("older", OVERRIDE_EXP.format(dtypes=None).replace('"1.0"', '"1.1"'))
    assert plugins.info("older").status == "loaded"


# -- allow and deny lists -------------------------------------------------------------------------------
def test_load_plugins_allow_list(plugins):
    plugins.monkeypatch.setenv("MXPLUG_LOAD_PLUGINS", "toy")
    plugins.make("toy", backend_source(), TOY_KERNELS)
    assert plugins.info("toy").status == "loaded"
    numpy_info = plugins.info("numpy")
    assert numpy_info.status == "disabled" and "MXPLUG_LOAD_PLUGINS" in numpy_info.error
    a = mx.nd.array([1.0], ctx=mx.Context("toy", 0))
    np.testing.assert_allclose((a + a).asnumpy(), [2.0])
    # With numpy disabled, cpu has no backend: the error says which plugin would serve it.
    with pytest.raises(BackendUnavailableError, match="no backend serves context cpu\\(0\\): install the "
                                                      "'mxplug-numpy' plugin \\(installed backends: toy\\(toy\\)"):
        mx.nd.ones((2,))


def test_load_plugins_allow_list_with_several_names(plugins):
    plugins.monkeypatch.setenv("MXPLUG_LOAD_PLUGINS", " toy , numpy")
    plugins.make("toy", backend_source(), TOY_KERNELS)
    assert plugins.info("toy").status == plugins.info("numpy").status == "loaded"


def test_disable_plugins_deny_list(plugins):
    plugins.monkeypatch.setenv("MXPLUG_DISABLE_PLUGINS", "toy")
    module = plugins.make("toy", backend_source(), TOY_KERNELS)
    info = plugins.info("toy")
    assert info.status == "disabled" and "MXPLUG_DISABLE_PLUGINS" in info.error
    assert module not in sys.modules  # a disabled plugin is never imported
    assert plugins.info("numpy").status == "loaded"
    with pytest.raises(BackendUnavailableError, match="no backend serves context toy"):
        mx.nd.array([1.0], ctx=mx.Context("toy", 0))


# -- priorities -----------------------------------------------------------------------------------------
def test_higher_priority_kernel_overrides_numpy(plugins):
    module = plugins.make("fastexp", OVERRIDE_EXP.format(dtypes=None))
    x = np.array([0.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(mx.nd.exp(mx.nd.array(x)).asnumpy(), np.exp(x), rtol=1e-6)
    assert sys.modules[module].CALLS == ["float32"]
    text = mx.explain("exp", mx.cpu())
    assert text.startswith("exp on cpu(0) (float32): kernel from plugin 'fastexp' on backend 'numpy' (priority 10)")
    assert "also: plugin 'numpy' (priority 0)" in text


def test_override_restricted_to_a_dtype(plugins):
    module = plugins.make("fastexp", OVERRIDE_EXP.format(dtypes=("float64",)))
    mx.nd.exp(mx.nd.zeros((2,), dtype="float32"))
    assert sys.modules[module].CALLS == []
    mx.nd.exp(mx.nd.zeros((2,), dtype="float64"))
    assert sys.modules[module].CALLS == ["float64"]
    assert "plugin 'numpy'" in mx.explain("exp", mx.cpu(), "float32")
    assert "plugin 'fastexp'" in mx.explain("exp", mx.cpu(), "float64")


def test_second_backend_for_a_served_device_type_is_ignored(plugins, caplog):
    with caplog.at_level(logging.WARNING, logger="mxplug.plugins"):
        plugins.make("othercpu", backend_source(backend="othercpu", device="cpu"))  # loads after 'numpy'
    assert plugins.info("othercpu").backends == []
    assert mx.plugins.backend_for(mx.cpu()).name == "numpy"
    assert "device type 'cpu' is already served by backend 'numpy'" in caplog.text


def test_trace_plugins_logs_hook_calls(plugins, caplog):
    plugins.monkeypatch.setenv("MXPLUG_TRACE_PLUGINS", "1")
    with caplog.at_level(logging.INFO, logger="mxplug.plugins"):
        plugins.make("toy", backend_source(), TOY_KERNELS)
    assert "calling toy.mxplug_register_backends" in caplog.text
    assert "plugin toy: backend toy for toy" in caplog.text


# -- a new device type ----------------------------------------------------------------------------------
def test_backend_for_a_new_device_type_runs_ops(plugins):
    plugins.make("toy", backend_source(), TOY_KERNELS)
    info = plugins.info("toy")
    assert (info.status, info.backends, info.kernels) == ("loaded", ["toy"], 2)
    ctx = mx.Context("toy", 1)
    x = np.array([[0.0, 0.5], [1.0, -1.0]], dtype=np.float32)
    a = mx.nd.array(x, ctx=ctx)
    assert type(a._data).__name__ == "ToyArray"
    y = mx.nd.exp(a + a)
    assert y.context == ctx and type(y._data).__name__ == "ToyArray"
    np.testing.assert_allclose(y.asnumpy(), np.exp(2 * x), rtol=1e-6)
    assert "kernel from plugin 'toy' on backend 'toy'" in mx.explain("exp", ctx)
    with ctx:
        assert mx.nd.array([1.0]).context == ctx


def test_missing_kernel_names_op_context_dtype_and_backends(plugins):
    plugins.make("toy", backend_source(), TOY_KERNELS)
    a = mx.nd.array([1.0, 2.0], ctx=mx.Context("toy", 0))
    with pytest.raises(KernelNotFoundError) as err, mx.fallback("error"):  # (the default policy falls back)
        mx.nd.sum(a)
    msg = str(err.value)
    assert msg.startswith("no kernel for 'sum' on toy(0) (float32); installed backends: ")
    assert "numpy(cpu)" in msg and "toy(toy)" in msg
    assert re.search(r"; kernels for it exist on: .*numpy", msg)
    # The toy exp handles float32 only: a float64 input finds no kernel, and the message says float64.
    with pytest.raises(KernelNotFoundError, match=r"no kernel for 'exp' on toy\(0\) \(float64\)"), \
            mx.fallback("error"):
        mx.nd.exp(mx.nd.array([1.0], ctx=mx.Context("toy", 0), dtype="float64"))
    assert "no kernel" in mx.explain("sum", mx.Context("toy", 0))


def test_device_index_beyond_the_backend_is_refused(plugins):
    plugins.make("toy", backend_source(), TOY_KERNELS)
    with pytest.raises(BackendUnavailableError, match=r"toy\(5\) does not exist: backend 'toy' has 2 device"):
        mx.nd.array([1.0], ctx=mx.Context("toy", 5))


def test_unavailable_backend_raises_with_its_reason(plugins):
    plugins.make("toyoff", backend_source("toyoff", "toyoff", available=False, reason="no toy card found"))
    assert plugins.info("toyoff").status == "loaded"
    with pytest.raises(BackendUnavailableError,
                       match=r"backend 'toyoff' for toyoff\(0\) is unavailable: no toy card found"):
        mx.nd.array([1.0], ctx=mx.Context("toyoff", 0))
    _cpu_still_works()


def test_context_without_backend_says_which_plugin_to_install(plugins):
    plugins.monkeypatch.setitem(mx.plugins.PROVIDERS, "warpdrive", "mxplug-warpdrive")
    for make in (lambda ctx: mx.nd.zeros((2,), ctx=ctx), lambda ctx: mx.nd.array([1.0], ctx=ctx)):
        with pytest.raises(BackendUnavailableError) as err:
            make(mx.Context("warpdrive", 0))
        msg = str(err.value)
        assert msg.startswith("no backend serves context warpdrive(0): install the 'mxplug-warpdrive' plugin")
        assert "numpy(cpu)" in msg


def test_well_known_device_types_name_their_plugin():
    served = set(mx.plugins.manager().backends)
    for device_type, dist in mx.plugins.PROVIDERS.items():
        if device_type not in served:  # gpu and opencl here, unless their plugins are installed
            with pytest.raises(BackendUnavailableError, match=f"install the '{dist}' plugin"):
                mx.nd.zeros((2,), ctx=mx.Context(device_type, 0))


def test_unknown_device_type_lists_installed_backends():
    with pytest.raises(BackendUnavailableError,
                       match=r"^no backend serves context nosuchdev\(0\) \(installed backends: .*numpy\(cpu\)"):
        mx.nd.zeros((2,), ctx=mx.Context("nosuchdev", 0))


# -- in-process plugins ---------------------------------------------------------------------------------
class InProcessPlugin:
    MXPLUG_API_VERSION = "1.0"

    def __init__(self) -> None:
        self.calls = 0

    def exp(self, data):
        self.calls += 1
        return np.exp(data)

    @mx.hookimpl
    def mxplug_register_kernels(self, register):
        register("exp", "numpy", self.exp, priority=5)


def test_register_plugin_in_process(plugins):
    plugin = InProcessPlugin()
    info = mx.plugins.register_plugin(plugin, "inproc")
    assert (info.status, info.distribution, info.kernels) == ("loaded", "(in-process)", 1)
    assert mx.plugins.manager().plugins["inproc"] is info
    mx.nd.exp(mx.nd.zeros((3,)))
    assert plugin.calls == 1
    assert "kernel from plugin 'inproc' on backend 'numpy' (priority 5)" in mx.explain("exp")


def test_register_plugin_in_process_checks_the_api_version(plugins):
    plugin = InProcessPlugin()
    plugin.MXPLUG_API_VERSION = "3.0"
    info = mx.plugins.register_plugin(plugin, "inproc")
    assert info.status == "refused" and "needs mxplug plugin API 3.0" in info.error
    mx.nd.exp(mx.nd.zeros((3,)))
    assert plugin.calls == 0
