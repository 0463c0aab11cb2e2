"""mxplug's CPU reference backend: NumPy arrays as native arrays, one kernel per operator.

Kernels are written once over an array module ``xp`` (``make_kernels(xp)`` in each family module under
`mxplug_numpy.kernels`), so the CuPy plugin builds the same tables over ``cupy`` instead of copying them.
"""

from __future__ import annotations

import warnings

import numpy as np

from mxplug import hookimpl
from mxplug.backend import Backend

from .kernels import make_all_kernels, register_table

__version__ = "0.1.0"
MXPLUG_API_VERSION = "1.0"


# MXNet lets NaN and Inf propagate silently (log(0), 0/0); NumPy would warn from inside our kernels and the
# core's call sites. Scoped to those modules, so the user's own NumPy code still warns as usual.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"mxplug(_numpy)?\.")

DEFAULT_SEED = 0  # like MXNet, draws repeat from one process to the next until mx.random.seed is called


def _generator(seed: int, device_id: int) -> np.random.Generator:
    # The device index joins the seed, so devices seeded alike still draw different streams.
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(device_id,))))


class NumpyBackend(Backend):
    """Host memory, NumPy arrays; any cpu(i) index maps to the same host."""

    name = "numpy"
    device_type = "cpu"

    def __init__(self) -> None:
        # The host is this backend's only device: every cpu(i) draws from and reseeds this one generator,
        # as all CPU contexts share MXNet's CPU generator.
        self._rng = _generator(DEFAULT_SEED, 0)

    def num_devices(self) -> int:
        return 1

    def check_device(self, device_id: int) -> None:
        pass  # MXNet accepts any cpu(i): they are all the host

    def from_numpy(self, array: np.ndarray, device_id: int) -> np.ndarray:
        return np.array(array, copy=True, order="C")

    def to_numpy(self, data: np.ndarray) -> np.ndarray:
        return np.array(data, copy=True)

    def empty(self, shape, dtype, device_id: int) -> np.ndarray:
        return np.empty(shape, dtype=dtype)

    def copy(self, data: np.ndarray) -> np.ndarray:
        return data.copy()

    def assign(self, dst: np.ndarray, src: np.ndarray) -> None:
        np.copyto(dst, src, casting="unsafe")

    def from_dlpack(self, producer, device_id: int) -> np.ndarray:
        return np.from_dlpack(producer)  # a view: shares the producer's memory

    def generator(self, device_id: int = 0) -> np.random.Generator:
        """The generator of a device (every cpu(i) is the host)."""
        return self._rng

    def seed(self, seed: int, device_id: int | None = None) -> None:
        self._rng = _generator(seed, 0)

    def rng_source(self, ctx: str | None) -> np.random.Generator:
        """What random kernels call to get their generator: ``ctx`` names a device ('cpu(1)') or is None
        (the device the kernel runs on); all of them are the host here."""
        return self._rng


BACKEND = NumpyBackend()


@hookimpl
def mxplug_register_backends(register):
    register(BACKEND)


@hookimpl
def mxplug_register_graph_passes(register):
    from .graph_pass import numpy_buffer_pass  # imports the executor: only when a graph is planned

    register("numpy", numpy_buffer_pass)


@hookimpl
def mxplug_register_kernels(register):
    register_table(register, "numpy", make_all_kernels(np, BACKEND.rng_source))
