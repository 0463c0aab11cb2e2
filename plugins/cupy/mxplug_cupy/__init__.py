"""mxplug's CUDA backend: `mx.gpu(i)` arrays are CuPy arrays on device i.

The kernels are the NumPy plugin's bodies built over ``cupy`` (`mxplug_numpy.kernels.make_all_kernels`), plus
a few fused CuPy kernels where one launch replaces several (`mxplug_cupy.kernels`). Where CuPy, the driver or
a GPU is missing the plugin still loads: its backend is registered as unavailable with the reason, which
`mxplug plugins` shows and using `mx.gpu()` raises (BackendUnavailableError).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from mxplug import hookimpl
from mxplug.backend import Backend
from mxplug.base import BackendUnavailableError

__version__ = "0.1.0"
MXPLUG_API_VERSION = "1.0"

DEFAULT_SEED = 0  # as the NumPy plugin: unseeded draws repeat from one process to the next


def probe() -> tuple[Any, int, str]:
    """(the cupy module or None, the CUDA device count, why the backend is unavailable or '')."""
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as e:
        return None, 0, f"CuPy is not installed ({e}); install it with `pip install 'mxplug-cupy[cuda12]'`"
    except Exception as e:  # a broken CuPy install (missing CUDA libraries) must not break mxplug
        return None, 0, f"CuPy failed to import: {type(e).__name__}: {e}"
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:  # no driver, driver too old, no device node
        return cupy, 0, f"CuPy cannot use CUDA (mxplug-cupy needs an NVIDIA GPU and driver): {e}"
    if count == 0:
        return cupy, 0, "CuPy found no CUDA device (mxplug-cupy needs an NVIDIA GPU)"
    return cupy, count, ""


def _device_index(ctx: str) -> int:
    """'gpu(1)' → 1 (creation and sampling kernels receive their context as this string)."""
    return int(ctx[ctx.index("(") + 1:-1])


class CupyBackend(Backend):
    """CUDA device memory as CuPy arrays; every operation runs with the array's device current."""

    name = "cupy"
    device_type = "gpu"

    def __init__(self, cupy: Any = None, count: int = 0, reason: str = "") -> None:
        self.cp = cupy
        self._count = count
        self.available = count > 0
        self.reason = reason
        self._seeds: dict[int, int] = {}  # per-device seeds set by mx.random.seed(ctx=gpu(i))
        self._seed = DEFAULT_SEED
        self._generators: dict[int, Any] = {}

    # -- devices -----------------------------------------------------------------------------------------
    def num_devices(self) -> int:
        return self._count

    def device_names(self) -> list[str]:
        names = []
        for i in range(self._count):
            props = self.cp.cuda.runtime.getDeviceProperties(i)
            name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            names.append(f"gpu({i}) {name}")
        return names

    def check_device(self, device_id: int) -> None:
        if not self.available:
            raise BackendUnavailableError(f"backend 'cupy' for gpu({device_id}) is unavailable: {self.reason}")
        super().check_device(device_id)

    def _on(self, device_id: int):
        return self.cp.cuda.Device(device_id)

    # -- memory ------------------------------------------------------------------------------------------
    def from_numpy(self, array: np.ndarray, device_id: int) -> Any:
        with self._on(device_id):
            return self.cp.asarray(array, order="C")

    def to_numpy(self, data: Any) -> np.ndarray:
        return data.get()  # synchronises with the array's stream, on the array's device

    def empty(self, shape, dtype, device_id: int) -> Any:
        with self._on(device_id):
            return self.cp.empty(shape, dtype=dtype)

    def copy(self, data: Any) -> Any:
        with data.device:
            return data.copy()

    def assign(self, dst: Any, src: Any) -> None:
        with dst.device:
            self.cp.copyto(dst, src, casting="unsafe")

    def synchronize(self, device_id: int) -> None:
        self._on(device_id).synchronize()

    def empty_cache(self, device_id: int) -> None:
        with self._on(device_id):
            self.cp.get_default_memory_pool().free_all_blocks()

    def activate(self, device_id: int) -> None:
        self._on(device_id).use()

    def from_dlpack(self, producer: Any, device_id: int) -> Any:
        with self._on(device_id):
            return self.cp.from_dlpack(producer)  # shares device memory

    # -- randomness --------------------------------------------------------------------------------------
    def generator(self, device_id: int) -> Any:
        """The device's cupy Generator, made on first use (on that device: cuRAND states live there)."""
        gen = self._generators.get(device_id)
        if gen is None:
            seed = self._seeds.get(device_id, self._seed)
            # The device index joins the seed, so devices seeded alike still draw different streams.
            seq = np.random.SeedSequence(seed, spawn_key=(device_id,))
            with self._on(device_id):
                gen = self.cp.random.Generator(self.cp.random.XORWOW(seq))
            self._generators[device_id] = gen
        return gen

    def seed(self, seed: int, device_id: int | None = None) -> None:
        if device_id is None:
            self._seed = seed
            self._seeds.clear()
            self._generators.clear()
        else:
            self._seeds[device_id] = seed
            self._generators.pop(device_id, None)

    def rng_source(self, ctx: str | None) -> Any:
        """What random kernels call: the generator of the device `ctx` names ('gpu(1)'), or of the current
        device (the one the kernel runs on) when ctx is None."""
        device_id = self.cp.cuda.runtime.getDevice() if ctx is None else _device_index(ctx)
        return self.generator(device_id)


BACKEND = CupyBackend(*probe())


@hookimpl
def mxplug_register_backends(register):
    register(BACKEND)


@hookimpl
def mxplug_register_kernels(register):
    if not BACKEND.available:  # nothing could run them; the backend's reason says why
        return
    from .kernels import register_kernels

    register_kernels(register, BACKEND)


@hookimpl
def mxplug_register_graph_passes(register):
    # Executors on GPUs run each region of elementwise steps as one generated ElementwiseKernel (graph_pass.py).
    if BACKEND.available:
        from .graph_pass import cupy_fusion_pass

        register("cupy", cupy_fusion_pass(BACKEND.cp))
