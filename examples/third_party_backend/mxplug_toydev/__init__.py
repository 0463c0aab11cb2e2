"""mxplug-toydev: the template a hardware vendor copies to bring a device to mxplug.

The device type is 'toydev' (``mx.Context('toydev', 0)``). Its memory is a `ToyDevArray` (host memory here;
a real device keeps a device buffer): the core only reads ``.shape`` and ``.dtype`` from it. It has kernels
for a handful of operators; every other operator runs on the CPU through mxplug's fallback policy
(``MXPLUG_FALLBACK=warn``: warn once per operator; ``error``: refuse), so the device is usable from day one
and each kernel added removes a fallback. Check it with ``mxplug check-backend toydev``.
"""

from __future__ import annotations

import numpy as np

import mxplug
from mxplug.backend import Backend

MXPLUG_API_VERSION = "1.0"  # the plugin API this module was written against


class ToyDevArray:
    """A native array of the device: what kernels receive and return."""

    __slots__ = ("a",)

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    @property
    def shape(self) -> tuple[int, ...]:
        return self.a.shape

    @property
    def dtype(self) -> np.dtype:
        return self.a.dtype


class ToyDevBackend(Backend):
    name = "toydev"
    device_type = "toydev"
    dtypes = ("float32", "float64", "int32", "int64", "uint8", "int8", "float16", "bool")

    def from_numpy(self, array, device_id):
        return ToyDevArray(np.array(array, copy=True, order="C"))

    def to_numpy(self, data):
        return np.array(data.a, copy=True)

    def empty(self, shape, dtype, device_id):
        return ToyDevArray(np.empty(shape, dtype))

    def copy(self, data):
        return ToyDevArray(data.a.copy())

    def assign(self, dst, src):
        np.copyto(dst.a, src.a, casting="unsafe")


def _elementwise(fn):
    """Lift a NumPy function to ToyDevArrays (a real plugin calls its device library here)."""

    def kernel(*inputs, **attrs):
        out = fn(*(x.a for x in inputs), **attrs)
        return ToyDevArray(np.asarray(out, dtype=inputs[0].dtype))

    return kernel


def _sum(data, *, axis, keepdims, exclude):
    if exclude and axis is not None:  # the axes NOT listed
        axis = tuple(i for i in range(data.a.ndim) if i not in {a % data.a.ndim for a in axis})
    out = np.sum(data.a, axis=axis, keepdims=keepdims)
    return ToyDevArray(np.asarray(out, dtype=data.dtype).reshape(np.shape(out) or (1,)))


KERNELS = {
    "broadcast_add": _elementwise(np.add),
    "broadcast_sub": _elementwise(np.subtract),
    "broadcast_mul": _elementwise(np.multiply),
    "exp": _elementwise(np.exp),
    "tanh": _elementwise(np.tanh),
    "relu": _elementwise(lambda x: np.maximum(x, 0)),
    "_mul_scalar": _elementwise(lambda x, scalar, is_int=False: x * scalar),  # attributes as the registry lists
    "sum": _sum,
}


@mxplug.hookimpl
def mxplug_register_backends(register):
    register(ToyDevBackend())


@mxplug.hookimpl
def mxplug_register_kernels(register):
    for op, fn in KERNELS.items():
        register(op, "toydev", fn, dtypes=("float32", "float64"))
