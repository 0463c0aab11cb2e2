"""mxplug's OpenCL backend: `mx.opencl(i)` arrays live in OpenCL buffers (`CLArray`), operators run as kernels
generated from templates per operator class and dtype (`mxplug_opencl.codegen`), compiled once per device.

Devices are enumerated across every OpenCL platform; MXPLUG_OPENCL_DEVICE=<substring> keeps those whose
"platform: device" name contains it. Where PyOpenCL, a platform or a device is missing the plugin still loads:
its backend is registered as unavailable with the reason, which `mxplug plugins` shows and using
`mx.opencl()` raises (BackendUnavailableError).
"""

from __future__ import annotations

import numpy as np

from mxplug import hookimpl
from mxplug.backend import Backend

from . import runtime
from .runtime import CLArray, Device, device_unavailable

__version__ = "0.1.0"
MXPLUG_API_VERSION = "1.0"


class OpenCLBackend(Backend):
    """OpenCL buffers as native arrays, one in-order queue and one buffer pool per device."""

    name = "opencl"
    device_type = "opencl"

    def __init__(self, devices: list[Device], reason: str = "") -> None:
        self.devices = devices
        self.available = bool(devices)
        self.reason = reason
        self.dtypes = self._common_dtypes()

    def _common_dtypes(self) -> tuple[str, ...]:
        # Kernels are registered per dtype for the whole backend: offer what every device computes in.
        if not self.devices:
            return ()
        common = set(self.devices[0].dtypes())
        for d in self.devices[1:]:
            common &= set(d.dtypes())
        return tuple(t for t in self.devices[0].dtypes() if t in common)

    # -- devices -----------------------------------------------------------------------------------------
    def num_devices(self) -> int:
        return len(self.devices)

    def device_names(self) -> list[str]:
        return [f"opencl({d.index}) {d.name}" for d in self.devices]

    def check_device(self, device_id: int) -> None:
        if not self.available:
            raise device_unavailable(f"opencl({device_id})", self.reason)
        if not 0 <= device_id < len(self.devices):
            have = "; ".join(self.device_names())
            raise device_unavailable(
                f"opencl({device_id})", f"no such device: {len(self.devices)} OpenCL device(s) found: {have}"
            )

    def device(self, device_id: int) -> Device:
        self.check_device(device_id)
        return self.devices[device_id]

    def device_named(self, ctx: str) -> Device:
        """The device a creation operator's ctx string names ('opencl(1)')."""
        return self.device(int(ctx[ctx.index("(") + 1:-1]) if "(" in ctx else 0)

    def device_of(self, data: CLArray) -> int:
        """The index of the device a native array lives on (the CPU fallback copies results back there)."""
        return data.device.index

    # -- memory ------------------------------------------------------------------------------------------
    def from_numpy(self, array: np.ndarray, device_id: int) -> CLArray:
        return self.device(device_id).upload(array)

    def to_numpy(self, data: CLArray) -> np.ndarray:
        return data.device.download(data)

    def empty(self, shape, dtype, device_id: int) -> CLArray:
        return self.device(device_id).alloc(tuple(shape), np.dtype(dtype))

    def copy(self, data: CLArray) -> CLArray:
        return data.device.duplicate(data)

    def assign(self, dst: CLArray, src: CLArray) -> None:
        if src.device is not dst.device:  # the core moves arrays first; a direct call may not have
            src = dst.device.upload(src.device.download(src))
        dev = dst.device
        if dev.host_ops and dst.nbytes <= runtime.SMALL_BYTES and src.dtype == dst.dtype:
            # A tiny write (an optimizer's `w[:] = w - lr * g`) is a host copy into the mapped memory.
            d, s = dev.host_view(dst), dev.host_view(src)
            if d is not None and s is not None and s.size == d.size:
                dev.sync_host()
                d.reshape(-1)[...] = s.reshape(-1)
                return
        dev.copy_buffer(dst, src, dst.nbytes)

    def synchronize(self, device_id: int) -> None:
        if self.available and 0 <= device_id < len(self.devices):
            self.devices[device_id].synchronize()

    def empty_cache(self, device_id: int) -> None:
        if self.available and 0 <= device_id < len(self.devices):
            self.devices[device_id].release_pool()

    def seed(self, seed: int, device_id: int | None = None) -> None:
        # Dropout/rrelu masks (kernels.nn) draw from a host generator per device; samplers fall back.
        from .kernels import nn

        nn.reseed(seed, device_id)

    def pool_stats(self, device_id: int = 0) -> dict[str, int]:
        """{'held': idle pooled buffers, 'active': buffers in use} of a device."""
        return self.device(device_id).pool_stats()


def _make_backend() -> OpenCLBackend:
    try:
        devices, reason = runtime.probe()
    except Exception as e:  # whatever the driver does, `import mxplug` and the other plugins must not notice
        devices, reason = [], f"probing OpenCL failed: {type(e).__name__}: {e}"
    return OpenCLBackend(devices, reason)


BACKEND = _make_backend()


@hookimpl
def mxplug_register_backends(register):
    register(BACKEND)


@hookimpl
def mxplug_register_kernels(register):
    if not BACKEND.available:  # nothing could run them; the backend's reason says why
        return
    from .kernels import DTYPE_FREE, make_all_kernels

    numeric = BACKEND.dtypes
    with_bool = (*numeric, "bool")
    for op, fn in make_all_kernels(BACKEND.device_named).items():
        register(op, "opencl", fn, dtypes=with_bool if op in DTYPE_FREE else numeric)


@hookimpl
def mxplug_register_graph_passes(register):
    # Executors on OpenCL run each region of elementwise steps as one generated kernel (graph_pass.py).
    if BACKEND.available:
        from .graph_pass import opencl_fusion_pass

        register("opencl", opencl_fusion_pass)


__all__ = ["BACKEND", "CLArray", "Device", "OpenCLBackend", "MXPLUG_API_VERSION"]
