"""DLPack: zero-copy exchange of arrays with NumPy, CuPy, PyTorch, JAX … (MXNet 1.9's names and the protocol).

Exporting needs nothing from a backend: an NDArray exports through its native array's own ``__dlpack__``
(NumPy and CuPy arrays have one), so ``np.from_dlpack(x)`` and ``cupy.from_dlpack(x)`` view ``x``'s memory.
Importing (`from_dlpack`) reads the producer's device, maps the DLPack device type to an mxplug device type
(CPU memory → 'cpu', CUDA → 'gpu', …) and hands the producer to that backend's `Backend.from_dlpack`.

MXNet's own capsules (`to_dlpack_for_read` / `to_dlpack_for_write`) are legacy ``"dltensor"`` capsules, the
form any DLPack consumer accepts. NumPy imports such a capsule only read-only, which would break
``from_dlpack(x.to_dlpack_for_write())``; a legacy capsule in host memory is therefore consumed here (a
writeable NumPy view over its buffer that calls the producer's deleter when the last view is gone), then
imported like any producer.

>>> import mxplug as mx, numpy as np
>>> x = mx.nd.array([1, 2, 3])
>>> v = np.from_dlpack(x)     # shares x's memory
>>> v[0] = 7
>>> x.asnumpy().tolist()
[7.0, 2.0, 3.0]
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ..base import DTypeError, MXNetError
from ..context import Context
from ..plugins import backend_for
from ..registry import DTYPES
from .ndarray import NDArray, _wrap

__all__ = ["DLPackError", "from_dlpack", "to_dlpack_for_read", "to_dlpack_for_write", "export", "device_of"]


class DLPackError(MXNetError, BufferError):
    """An object that is not a DLPack producer, a consumed capsule, or an array that cannot be exported.

    A BufferError as the DLPack protocol specifies for export failures, and an MXNetError as everything
    mxplug raises."""


# DLPack device type → the mxplug device type whose backend imports it (host-visible memory is 'cpu').
DLPACK_DEVICES = {1: "cpu", 2: "gpu", 3: "cpu", 4: "opencl", 10: "gpu", 11: "cpu", 13: "gpu"}
_DLPACK_NAMES = {
    1: "CPU", 2: "CUDA", 3: "CUDAHost", 4: "OpenCL", 7: "Vulkan", 8: "Metal", 9: "VPI", 10: "ROCm",
    11: "ROCmHost", 12: "ExtDev", 13: "CUDAManaged", 14: "OneAPI", 15: "WebGPU", 16: "Hexagon", 17: "MAIA",
}
_HOST_MEMORY = frozenset({1, 3, 11})


# -- the C structures of dlpack.h (only what is read here) ------------------------------------------------------
class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32), ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class _DLManagedTensor(ctypes.Structure):  # the legacy capsule "dltensor"
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class _DLManagedTensorVersioned(ctypes.Structure):  # DLPack >= 1.0, capsule "dltensor_versioned"
    _fields_ = [
        ("version", ctypes.c_uint32 * 2), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
        ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensor),
    ]


_LEGACY, _VERSIONED = b"dltensor", b"dltensor_versioned"
_USED = b"used_dltensor"  # module-level: the capsule keeps pointing at these bytes
_capi = ctypes.pythonapi
_capi.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capi.PyCapsule_IsValid.restype = ctypes.c_int
_capi.PyCapsule_GetName.argtypes = [ctypes.py_object]
_capi.PyCapsule_GetName.restype = ctypes.c_char_p
_capi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capi.PyCapsule_GetPointer.restype = ctypes.c_void_p
_capi.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capi.PyCapsule_SetName.restype = ctypes.c_int
# Deleters may call into Python (NumPy's does): call them holding the GIL.
_DELETER = ctypes.PYFUNCTYPE(None, ctypes.c_void_p)
_CapsuleType = type(np.empty(0).__dlpack__())


def _is_capsule(obj: Any) -> bool:
    return type(obj) is _CapsuleType


def _capsule_tensor(capsule) -> tuple[bytes, int, _DLTensor]:
    """(name, pointer to the managed tensor, its DLTensor) of an unconsumed DLPack capsule."""
    for name, struct in ((_LEGACY, _DLManagedTensor), (_VERSIONED, _DLManagedTensorVersioned)):
        if _capi.PyCapsule_IsValid(capsule, name):
            ptr = _capi.PyCapsule_GetPointer(capsule, name)
            return name, ptr, struct.from_address(ptr).dl_tensor
    got = _capi.PyCapsule_GetName(capsule)
    if got == _USED:
        raise DLPackError("from_dlpack: this DLPack capsule was already consumed (a capsule can be imported once; "
                          "export the array again)")
    raise DLPackError(f"from_dlpack: a capsule named {got!r} is not a DLPack tensor ('dltensor')")


def _numpy_dtype(t: _DLTensor) -> np.dtype:
    kinds = {0: "i", 1: "u", 2: "f", 5: "c", 6: "b"}  # int, uint, float, complex, bool
    kind = kinds.get(t.dtype.code)
    if kind is None or t.dtype.lanes != 1 or t.dtype.bits % 8:
        raise DTypeError(f"from_dlpack: DLPack dtype (code {t.dtype.code}, {t.dtype.bits} bits, "
                         f"{t.dtype.lanes} lanes) has no NumPy equivalent; mxplug supports {', '.join(DTYPES)}")
    return np.dtype(f"{kind}{t.dtype.bits // 8}")


class _HostTensor:
    """Owns a consumed legacy capsule in host memory: NumPy views its buffer through ``__array_interface__``
    (keeping this object as the view's base), and the producer's deleter runs when the last view is gone."""

    _deleter = None  # set once the capsule is ours

    def __init__(self, capsule) -> None:
        _, ptr, t = _capsule_tensor(capsule)
        dtype = _numpy_dtype(t)
        shape = tuple(t.shape[i] for i in range(t.ndim))
        strides = None if not t.strides else tuple(t.strides[i] * dtype.itemsize for i in range(t.ndim))
        self.__array_interface__ = {
            "data": ((t.data or 0) + t.byte_offset, False), "shape": shape, "typestr": dtype.str,
            "strides": strides, "version": 3,
        }
        if _capi.PyCapsule_SetName(capsule, _USED) != 0:  # now ours: the capsule's destructor leaves it alone
            raise DLPackError("from_dlpack: could not mark the capsule consumed")
        self._ptr, self._deleter = ptr, _DLManagedTensor.from_address(ptr).deleter

    def __del__(self) -> None:
        if self._deleter:
            _DELETER(self._deleter)(self._ptr)


class _CapsuleProducer:
    """A bare capsule dressed as a DLPack producer, for consumers that take only producers (NumPy, CuPy)."""

    def __init__(self, capsule, device: tuple[int, int]) -> None:
        self._capsule, self._device = capsule, device

    def __dlpack__(self, stream=None, **kwargs):  # the consumer's version/copy requests cannot be honoured
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._device


def _producer(obj: Any) -> tuple[Any, tuple[int, int]]:
    """(a producer the backends can import, its DLPack device) for a capsule or a producer."""
    if _is_capsule(obj):
        name, _, t = _capsule_tensor(obj)
        device = (int(t.device.device_type), int(t.device.device_id))
        if name == _LEGACY and device[0] in _HOST_MEMORY:
            return np.asarray(_HostTensor(obj)), device  # writeable, unlike NumPy's import of a legacy capsule
        return _CapsuleProducer(obj, device), device
    if hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__"):
        dev_type, dev_id = obj.__dlpack_device__()
        return obj, (int(dev_type), int(dev_id))
    raise DLPackError(
        f"from_dlpack: expected a DLPack capsule or an object with __dlpack__ and __dlpack_device__ (a NumPy, "
        f"CuPy, PyTorch … array), got {type(obj).__name__}"
    )


def from_dlpack(dlpack: Any) -> NDArray:
    """An NDArray sharing memory with a DLPack producer or capsule (MXNet's `mx.nd.from_dlpack`).

    Host memory lands on cpu(0), CUDA memory on gpu(i) (with the mxplug-cupy plugin). Writing through either
    side is seen by the other; the producer's memory stays alive while the NDArray does.

    >>> import mxplug as mx, numpy as np
    >>> a = np.zeros(3, dtype=np.float32)
    >>> x = mx.nd.from_dlpack(a)
    >>> x[:] = 5
    >>> a.tolist()
    [5.0, 5.0, 5.0]
    """
    producer, (dev_type, dev_id) = _producer(dlpack)
    device_type = DLPACK_DEVICES.get(dev_type)
    if device_type is None:
        name = _DLPACK_NAMES.get(dev_type, f"type {dev_type}")
        raise DLPackError(f"from_dlpack: no mxplug device type holds DLPack {name} memory "
                          f"(supported: {', '.join(sorted({_DLPACK_NAMES[k] for k in DLPACK_DEVICES}))})")
    ctx = Context(device_type, 0 if dev_type in _HOST_MEMORY else dev_id)
    backend = backend_for(ctx)
    backend.check_device(ctx.device_id)
    try:
        native = backend.from_dlpack(producer, ctx.device_id)
    except NotImplementedError as e:
        raise DLPackError(f"from_dlpack: {e} (DLPack {_DLPACK_NAMES.get(dev_type)} memory, {ctx!r})") from None
    except (BufferError, TypeError, ValueError, RuntimeError) as e:
        if isinstance(e, MXNetError):
            raise
        raise DLPackError(f"from_dlpack: backend '{backend.name}' could not import the tensor: "
                          f"{type(e).__name__}: {e}") from e
    if native.dtype.name not in DTYPES:
        raise DTypeError(f"from_dlpack: dtype {native.dtype.name} is not supported; mxplug supports "
                         f"{', '.join(DTYPES)} (cast the source first)")
    return _wrap(native, ctx)


def _native_exporter(array: NDArray):
    fn = getattr(array._data, "__dlpack__", None)
    if fn is None:
        raise DLPackError(f"arrays on {array._ctx!r} cannot be exported through DLPack: the backend's native "
                          f"arrays ({type(array._data).__name__}) have no __dlpack__; copy to mx.cpu() first")
    return fn


def export(array: NDArray, stream: Any = None, **kwargs: Any):
    """`NDArray.__dlpack__`: a capsule from the native array (the consumer's keywords, such as
    ``max_version``, ``dl_device`` and ``copy``, are passed on)."""
    fn = _native_exporter(array)
    return fn(**kwargs) if stream is None else fn(stream=stream, **kwargs)


def device_of(array: NDArray) -> tuple[int, int]:
    """`NDArray.__dlpack_device__`: (DLPack device type, device index) of the array's memory."""
    fn = getattr(array._data, "__dlpack_device__", None)
    if fn is None:
        _native_exporter(array)  # raises the explanatory error
    dev_type, dev_id = fn()
    return int(dev_type), int(dev_id)


def _legacy_capsule(array: NDArray):
    if not isinstance(array, NDArray):
        raise DLPackError(f"to_dlpack: expected an NDArray, got {type(array).__name__}")
    return _native_exporter(array)()  # no keywords: a legacy "dltensor" capsule, as MXNet 1.9 made


def to_dlpack_for_read(data: NDArray):
    """A DLPack capsule viewing `data` once its pending writes are done (MXNet's name). The consumer shares
    the memory; it should only read it."""
    data.wait_to_read()
    return _legacy_capsule(data)


def to_dlpack_for_write(data: NDArray):
    """A DLPack capsule viewing `data` once its pending reads and writes are done (MXNet's name); what the
    consumer writes through it is seen by `data`."""
    data.wait_to_write()
    return _legacy_capsule(data)
