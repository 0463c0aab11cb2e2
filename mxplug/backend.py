"""`Backend`: what a plugin implements to bring a device type to mxplug.

A backend owns one device type ('cpu', 'gpu', 'opencl', …). Its native arrays are whatever it likes
(NumPy arrays, CuPy arrays, an OpenCL buffer wrapper) as long as they expose ``.shape`` (a tuple of ints)
and ``.dtype`` (a NumPy dtype): the core reads nothing else from them. Kernels are registered separately,
per operator (see `mxplug.hookspecs`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Backend"]


class Backend:
    """Base class of a device backend. Subclass it and override what your device needs.

    Attributes:
        name: the backend's name, shown by `mxplug plugins` and used when registering kernels ('numpy').
        device_type: the context type it serves ('cpu' → `mx.cpu()`).
        dtypes: the dtypes its kernels may be asked for.
        available: False when the library, driver or device is missing; `reason` then says why.
    """

    name: str = ""
    device_type: str = ""
    dtypes: tuple[str, ...] = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")
    available: bool = True
    reason: str = ""

    def num_devices(self) -> int:
        """How many devices of this type exist."""
        return 1

    def device_names(self) -> list[str]:
        """A human-readable name per device, for `mxplug plugins`."""
        return [f"{self.device_type}({i})" for i in range(self.num_devices())]

    def check_device(self, device_id: int) -> None:
        """Raise BackendUnavailableError when `device_id` does not exist."""
        from .base import BackendUnavailableError

        n = self.num_devices()
        if not 0 <= device_id < n:
            raise BackendUnavailableError(
                f"{self.device_type}({device_id}) does not exist: backend '{self.name}' has {n} device(s)"
            )

    # -- memory ------------------------------------------------------------------------------------------
    def from_numpy(self, array: np.ndarray, device_id: int) -> Any:
        """Copy a host array to the device; returns a native array of the same shape and dtype."""
        raise NotImplementedError

    def to_numpy(self, data: Any) -> np.ndarray:
        """Copy a native array to a new host array (synchronising first)."""
        raise NotImplementedError

    def empty(self, shape: tuple[int, ...], dtype: np.dtype, device_id: int) -> Any:
        """Allocate an uninitialised native array."""
        raise NotImplementedError

    def copy(self, data: Any) -> Any:
        """A new native array with the same contents on the same device."""
        raise NotImplementedError

    def assign(self, dst: Any, src: Any) -> None:
        """Write `src` (native, same shape and dtype, same device) into `dst` in place."""
        raise NotImplementedError

    def device_of(self, data: Any) -> int:
        """The device index a native array lives on (the CPU fallback copies results back there).

        The default reads ``data.device.id`` (CuPy's convention) and else answers 0; a multi-device backend
        whose arrays say it otherwise overrides this.
        """
        return int(getattr(getattr(data, "device", None), "id", 0) or 0)

    def synchronize(self, device_id: int) -> None:
        """Block until queued work on the device is done."""

    def empty_cache(self, device_id: int) -> None:
        """Release pooled memory."""

    def activate(self, device_id: int) -> None:
        """Make `device_id` current before kernels run (multi-device backends such as CUDA)."""

    def from_dlpack(self, producer: Any, device_id: int) -> Any:
        """Import a DLPack producer (an object with ``__dlpack__`` and ``__dlpack_device__``) living on
        `device_id` as a native array, sharing its memory where the device allows (`mx.nd.from_dlpack`).
        Exporting needs nothing here: an NDArray exports through its native array's own ``__dlpack__``."""
        raise NotImplementedError(f"backend '{self.name}' cannot import DLPack tensors")

    # -- randomness --------------------------------------------------------------------------------------
    def seed(self, seed: int, device_id: int | None = None) -> None:
        """Reseed the random generator of `device_id` (None: of every device) so later draws repeat.

        A backend with random kernels owns one generator per device and hands it to them (see the NumPy
        plugin); `mx.random.seed` calls this. The default does nothing: a backend without random kernels
        has no random state.
        """
