"""The CuPy plugin without a GPU: it loads, reports why it is unavailable, and its kernel tables and device
logic are right (checked with CuPy's objects where CuPy is installed, with small fakes otherwise).
These run everywhere; the GPU tests beside them skip with the reason when there is no GPU."""

from __future__ import annotations

import re
import sys
import types

import mxplug_cupy
import numpy as np
import pytest
from mxplug_cupy import CupyBackend, probe
from mxplug_cupy.kernels import FUSED, FUSED_DTYPES, _map, build_tables, on_input_device
from mxplug_numpy.kernels import make_all_kernels

import mxplug as mx
from mxplug.cli import main


@pytest.fixture
def cupy_plugin():
    """The cupy plugin's state in the plugin manager (registered in-process if its entry point is absent)."""
    info = mx.plugins.manager().plugins.get("cupy")
    if info is None:
        info = mx.plugins.register_plugin(mxplug_cupy, "cupy")
        yield info
        mx.plugins.reset()
    else:
        yield info


def test_plugin_loads_and_reports_its_state(cupy_plugin, capsys):
    assert cupy_plugin.status == "loaded", cupy_plugin.error
    backend = mx.plugins.manager().backends["gpu"]
    assert backend.name == "cupy" and cupy_plugin.backends == ["cupy"]
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    if backend.available:
        import cupy

        assert mx.context.num_gpus() == cupy.cuda.runtime.getDeviceCount() > 0
        assert cupy_plugin.kernels > 0 and "gpu(0)" in out
        return
    assert backend.reason and mx.context.num_gpus() == 0
    assert cupy_plugin.kernels == 0  # nothing could run them
    assert f"backend 'cupy' for device type 'gpu': unavailable ({backend.reason})" in out
    reason = re.escape(backend.reason)
    with pytest.raises(mx.base.BackendUnavailableError, match=rf"gpu\(0\) is unavailable: {reason}"):
        mx.nd.zeros((2,), ctx=mx.gpu(0))
    with pytest.raises(mx.base.BackendUnavailableError, match=reason):
        mx.nd.array([1.0, 2.0]).copyto(mx.gpu(0))
    with pytest.raises(mx.base.BackendUnavailableError, match=reason):
        backend.check_device(0)


# -- probing ------------------------------------------------------------------------------------------------
def _fake_cupy(count=None, error=None) -> types.ModuleType:
    def get_device_count():
        if error is not None:
            raise error
        return count

    cp = types.ModuleType("cupy")
    cp.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    return cp


def test_probe_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    cp, count, reason = probe()
    assert cp is None and count == 0
    assert reason.startswith("CuPy is not installed") and "mxplug-cupy[cuda12]" in reason


@pytest.mark.parametrize("fake, expected", [
    (_fake_cupy(error=RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")),
     "CuPy cannot use CUDA (mxplug-cupy needs an NVIDIA GPU and driver): cudaErrorNoDevice"),
    (_fake_cupy(count=0), "CuPy found no CUDA device"),
    (_fake_cupy(count=2), ""),
])
def test_probe_reasons(monkeypatch, fake, expected):
    monkeypatch.setitem(sys.modules, "cupy", fake)
    cp, count, reason = probe()
    assert cp is fake
    assert reason.startswith(expected) if expected else reason == ""
    assert (count > 0) == (expected == "")


def test_unavailable_backend_refuses_devices_with_its_reason():
    backend = CupyBackend(None, 0, "CuPy is not installed")
    assert not backend.available and backend.num_devices() == 0
    with pytest.raises(mx.base.BackendUnavailableError, match=r"gpu\(1\) is unavailable: CuPy is not installed"):
        backend.check_device(1)


# -- the kernel tables --------------------------------------------------------------------------------------
def test_shared_tables_build_over_cupy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed: the tables cannot be built over it")
    shared, fused = build_tables(cupy, lambda ctx: None, multi_device=False)
    assert shared.keys() == make_all_kernels(np).keys()  # every NumPy operator, from the same bodies
    assert fused.keys() == FUSED.keys() and FUSED.keys() <= shared.keys()  # fused ones override shared ones
    assert all(isinstance(k, cupy.ElementwiseKernel) for k in fused.values())
    assert FUSED_DTYPES == ("float32", "float64")


class _FakeDevice:
    """Records which device kernels run on (a stand-in for cupy.cuda.Device)."""

    current = 0

    def __init__(self, device_id=None):
        self.id = _FakeDevice.current if device_id is None else device_id

    def __enter__(self):
        self._prev, _FakeDevice.current = _FakeDevice.current, self.id
        return self

    def __exit__(self, *exc):
        _FakeDevice.current = self._prev


_FAKE_CP = types.SimpleNamespace(cuda=types.SimpleNamespace(Device=_FakeDevice))


def _ran_on(*args, **attrs):
    return _FakeDevice.current


def test_kernels_run_on_their_first_inputs_device():
    kernel = on_input_device(_FAKE_CP, _ran_on)
    on3 = types.SimpleNamespace(device=_FakeDevice(3))
    on1 = types.SimpleNamespace(device=_FakeDevice(1))
    assert kernel(on3, on1) == 3
    assert kernel(None, on1, axis=0) == 1  # an absent optional input is skipped
    assert kernel(shape=(2,), ctx="gpu(2)", dtype="float32") == 2  # creation: the ctx attribute
    assert kernel(shape=(2,), dtype="float32") == 0  # no ctx: the current device
    assert _FakeDevice.current == 0  # restored


def test_device_guard_wraps_dtype_split_entries_too():
    table = {"a": _ran_on, "b": {("float32",): _ran_on, None: _ran_on}}
    wrapped = _map(table, lambda fn: on_input_device(_FAKE_CP, fn))
    assert wrapped["a"].__wrapped__ is _ran_on
    assert set(wrapped["b"]) == {("float32",), None}
    assert wrapped["b"][None](types.SimpleNamespace(device=_FakeDevice(5))) == 5


# -- random state -------------------------------------------------------------------------------------------
def _seeded_backend(count=2):
    """A CupyBackend over a fake cupy whose generators remember their seed sequence and device."""

    class Generator:
        def __init__(self, bitgen):
            self.seq, self.device = bitgen.seq, _FakeDevice.current

    cp = types.SimpleNamespace(
        cuda=types.SimpleNamespace(Device=_FakeDevice, runtime=types.SimpleNamespace(getDevice=lambda: 1)),
        random=types.SimpleNamespace(Generator=Generator, XORWOW=lambda seq: types.SimpleNamespace(seq=seq)),
    )
    return CupyBackend(cp, count, "")


def test_generators_are_per_device_and_reseeded():
    backend = _seeded_backend()
    g0, g1 = backend.rng_source("gpu(0)"), backend.rng_source(None)  # None: the current device (1 here)
    assert (g0.device, g1.device) == (0, 1)  # made on their own device
    assert backend.generator(0) is g0 and backend.generator(1) is g1
    assert g0.seq.entropy == g1.seq.entropy == mxplug_cupy.DEFAULT_SEED
    assert g0.seq.spawn_key != g1.seq.spawn_key  # devices seeded alike draw different streams
    backend.seed(7, 1)  # mx.random.seed(7, ctx=mx.gpu(1))
    assert backend.generator(0) is g0 and backend.generator(1).seq.entropy == 7
    backend.seed(9)  # mx.random.seed(9): every device
    assert backend.generator(0).seq.entropy == backend.generator(1).seq.entropy == 9
    assert backend.generator(0) is not g0
