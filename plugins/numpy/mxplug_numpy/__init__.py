"""mxplug's CPU reference backend: NumPy arrays as native arrays, one kernel per operator.

Kernels are written once over an array module ``xp`` (``make_kernels(xp)`` in each family module under
`mxplug_numpy.kernels`), so the CuPy plugin builds the same tables over ``cupy`` instead of copying them.
"""

from __future__ import annotations

import numpy as np

from mxplug import hookimpl
from mxplug.backend import Backend

from .kernels import make_all_kernels

__version__ = "0.1.0"
MXPLUG_API_VERSION = "1.0"


class NumpyBackend(Backend):
    """Host memory, NumPy arrays; any cpu(i) index maps to the same host."""

    name = "numpy"
    device_type = "cpu"

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


@hookimpl
def mxplug_register_backends(register):
    register(NumpyBackend())


@hookimpl
def mxplug_register_kernels(register):
    for op, fn in make_all_kernels(np).items():
        register(op, "numpy", fn)
