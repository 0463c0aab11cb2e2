"""DLPack (zero-copy exchange with NumPy and any producer) and moves between contexts.

Memory sharing is asserted by writing through one side and reading the other, never by identity alone.
Moves between backends are checked with the toy backend (tests/toy_backend.py: a second device type with two
devices, NumPy memory): copies are real copies, in any direction, through the host.
"""

from __future__ import annotations

import datetime
import gc
import sys

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import BackendUnavailableError, ContextMismatchError, DTypeError, MXNetError
from mxplug.ndarray import dlpack
from mxplug.ndarray.dlpack import DLPackError
from tests import toy_backend

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool"]


@pytest.fixture
def toy():
    with toy_backend.installed() as ctx:
        yield ctx


def _values(dtype: str, n: int = 6) -> np.ndarray:
    return (np.arange(n) % 2 == 0) if dtype == "bool" else np.arange(n).astype(dtype)


def _other(value) -> object:
    return not value if isinstance(value, (bool, np.bool_)) else value + 5


class _Producer:
    """A minimal DLPack producer claiming the device it is given (memory from a NumPy array)."""

    def __init__(self, array: np.ndarray, device: tuple[int, int]) -> None:
        self.array, self.device = array, device

    def __dlpack__(self, stream=None, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.device


# -- export: NumPy views an NDArray ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_views_an_ndarray(dtype):
    x = mx.nd.array(_values(dtype), dtype=dtype)
    view = np.from_dlpack(x)
    assert view.dtype == np.dtype(dtype) and view.shape == (6,)
    view[1] = _other(view[1])  # through NumPy → seen by mxplug
    assert x.asnumpy()[1] == view[1]
    x[2] = float(_other(x.asnumpy()[2]))  # through mxplug → seen by NumPy
    assert view[2] == x.asnumpy()[2]
    np.testing.assert_array_equal(view, x.asnumpy())


def test_dlpack_device_and_protocol_keywords():
    x = mx.nd.ones((2, 3))
    assert x.__dlpack_device__() == (1, 0)
    assert type(x.__dlpack__(stream=None)).__name__ == "PyCapsule"
    copied = np.from_dlpack(x, copy=True)  # the consumer's keywords reach the native array
    copied[0, 0] = 9
    assert x.asnumpy()[0, 0] == 1.0


def test_export_of_a_native_array_without_dlpack_is_refused():
    class Opaque:
        shape, dtype = (2,), np.dtype("float32")

    x = mx.nd.NDArray(Opaque(), mx.cpu())
    for call in (x.__dlpack__, x.__dlpack_device__, x.to_dlpack_for_read):
        with pytest.raises(DLPackError, match=r"cpu\(0\) cannot be exported through DLPack.*Opaque"):
            call()
    assert issubclass(DLPackError, MXNetError) and issubclass(DLPackError, BufferError)


# -- import: an NDArray over a producer's memory -------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_ndarray_views_a_numpy_array(dtype):
    a = _values(dtype).reshape(2, 3)
    x = mx.nd.from_dlpack(a)
    assert x.context == mx.cpu(0) and x.shape == (2, 3) and x.dtype == np.dtype(dtype).type
    a[0, 1] = _other(a[0, 1])
    assert x.asnumpy()[0, 1] == a[0, 1]
    x[1, 2] = float(_other(a[1, 2]))
    assert a[1, 2] == x.asnumpy()[1, 2]


def test_strided_producer_is_shared_and_computes():
    base = np.arange(12, dtype="float32").reshape(3, 4)
    x = mx.nd.from_dlpack(base[:, ::2].T)  # a non-contiguous view: (2, 3) with strides
    np.testing.assert_array_equal(x.asnumpy(), base[:, ::2].T)
    np.testing.assert_array_equal((x * 2).sum(axis=1).asnumpy(), (base[:, ::2].T * 2).sum(axis=1))
    x[0, 1] = -1
    assert base[1, 0] == -1


def test_imported_array_outlives_its_producer_and_differentiates():
    x = mx.nd.from_dlpack(np.array([1.0, -2.0, 3.0]))  # the only reference to the NumPy array
    gc.collect()
    x.attach_grad()
    with mx.autograd.record():
        y = (x * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, -4.0, 6.0])


def test_readonly_producer_stays_readonly():
    a = np.arange(3.0)
    a.flags.writeable = False
    x = mx.nd.from_dlpack(a)
    np.testing.assert_array_equal((x + 1).asnumpy(), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="read-only"):
        x[:] = 0


def test_from_an_ndarray_and_from_the_toy_backend(toy):
    x = mx.nd.array([1.0, 2.0])
    y = mx.nd.from_dlpack(x)
    y[0] = 5
    assert x.asnumpy()[0] == 5
    t = mx.nd.array([3.0, 4.0], ctx=toy)
    assert t.__dlpack_device__() == (1, 0)  # toy memory is host memory: it lands on cpu(0), shared
    h = mx.nd.from_dlpack(t)
    assert h.context == mx.cpu(0)
    h[1] = 7
    assert t.asnumpy()[1] == 7


# -- MXNet's capsules -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("export", [
    lambda x: x.to_dlpack_for_write(), lambda x: mx.nd.to_dlpack_for_write(x),
    lambda x: x.to_dlpack_for_read(), lambda x: mx.nd.to_dlpack_for_read(x),
])
def test_capsule_round_trip_shares_memory(export):
    x = mx.nd.array([[1, 2], [3, 4]], dtype="int32")
    capsule = export(x)
    assert repr(capsule).startswith('<capsule object "dltensor"')  # the legacy form MXNet 1.9 made
    y = mx.nd.from_dlpack(capsule)
    assert y.dtype == np.int32 and y.shape == (2, 2) and y.context == mx.cpu(0)
    y[0, 0] = 10  # write-view semantics: writes through the consumer are seen by the producer
    x[1, 1] = 40
    np.testing.assert_array_equal(x.asnumpy(), [[10, 2], [3, 40]])
    np.testing.assert_array_equal(y.asnumpy(), x.asnumpy())


def test_capsule_is_consumed_once():
    capsule = mx.nd.ones((2,)).to_dlpack_for_read()
    mx.nd.from_dlpack(capsule)
    with pytest.raises(DLPackError, match="already consumed"):
        mx.nd.from_dlpack(capsule)


def test_consumed_capsule_releases_its_producer():
    a = np.arange(4.0)
    before = sys.getrefcount(a)
    y = mx.nd.from_dlpack(a.__dlpack__())  # a legacy capsule from another producer (NumPy)
    assert sys.getrefcount(a) > before  # the capsule's tensor holds the array
    y[0] = 9
    assert a[0] == 9
    del y
    gc.collect()
    assert sys.getrefcount(a) == before  # the producer's deleter ran


def test_versioned_capsule_is_accepted():
    a = np.arange(3.0)
    y = mx.nd.from_dlpack(a.__dlpack__(max_version=(1, 0)))
    y[2] = 8
    assert a[2] == 8


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("obj, message", [
    ([1, 2], "expected a DLPack capsule or an object with __dlpack__.*got list"),
    (datetime.datetime_CAPI, "a capsule named b'datetime.datetime_CAPI' is not a DLPack tensor"),
    (_Producer(np.zeros(2), (7, 0)), "no mxplug device type holds DLPack Vulkan memory"),
    (_Producer(np.zeros(2), (99, 0)), "no mxplug device type holds DLPack type 99 memory"),
])
def test_unsupported_producers(obj, message):
    with pytest.raises(DLPackError, match=message):
        mx.nd.from_dlpack(obj)


def test_producer_on_a_device_without_a_backend(monkeypatch):
    monkeypatch.setitem(dlpack.DLPACK_DEVICES, 12, "warpdrive")  # ExtDev memory, served by nobody
    with pytest.raises(BackendUnavailableError, match=r"no backend serves context warpdrive\(3\)"):
        mx.nd.from_dlpack(_Producer(np.zeros(2), (12, 3)))


def test_unsupported_dtype():
    with pytest.raises(DTypeError, match="dtype complex64 is not supported"):
        mx.nd.from_dlpack(np.zeros(2, dtype="complex64"))


def test_a_backend_maps_dlpack_devices_to_its_contexts(toy, monkeypatch):
    monkeypatch.setitem(dlpack.DLPACK_DEVICES, 12, "toy")
    a = np.zeros(2, dtype="float32")
    x = mx.nd.from_dlpack(_Producer(a, (12, 1)))
    assert x.context == mx.Context("toy", 1)
    x[:] = 3
    np.testing.assert_array_equal(a, [3, 3])
    with pytest.raises(BackendUnavailableError, match=r"toy\(4\) does not exist"):
        mx.nd.from_dlpack(_Producer(a, (12, 4)))
    backend = mx.plugins.backend_for(toy)
    monkeypatch.setattr(type(backend), "from_dlpack", mx.backend.Backend.from_dlpack)
    with pytest.raises(DLPackError, match="backend 'toy' cannot import DLPack tensors"):
        mx.nd.from_dlpack(_Producer(a, (12, 0)))


# -- moves between contexts (through the host where there is no direct path) ------------------------------------
_PLACES = [("cpu", 0), ("toy", 0), ("toy", 1)]


@pytest.mark.parametrize("src", _PLACES)
@pytest.mark.parametrize("dst", _PLACES)
@pytest.mark.parametrize("move", ["copyto", "as_in_context", "array"])
def test_moves_between_any_two_contexts(toy, src, dst, move):
    src, dst = mx.Context(*src), mx.Context(*dst)
    values = np.arange(6, dtype="int32").reshape(2, 3)
    x = mx.nd.array(values, ctx=src, dtype="int32")
    y = {"copyto": lambda: x.copyto(dst), "as_in_context": lambda: x.as_in_context(dst),
         "array": lambda: mx.nd.array(x, ctx=dst)}[move]()
    assert y.context == dst and y.dtype == np.int32
    np.testing.assert_array_equal(y.asnumpy(), values)
    if move == "as_in_context" and src == dst:
        assert y is x  # MXNet: the array itself
        return
    y[0, 0] = 100  # a real copy: the source does not change
    assert x.asnumpy()[0, 0] == 0


@pytest.mark.parametrize("src, dst", [(("toy", 1), ("cpu", 0)), (("cpu", 0), ("toy", 0)), (("toy", 0), ("toy", 1))])
def test_copyto_into_an_array_on_another_context(toy, src, dst):
    x = mx.nd.array([1.5, 2.5], ctx=mx.Context(*src))
    target = mx.nd.zeros((2,), ctx=mx.Context(*dst), dtype="float64")
    assert x.copyto(target) is target
    assert target.context == mx.Context(*dst) and target.dtype == np.float64  # keeps its place and dtype
    np.testing.assert_array_equal(target.asnumpy(), [1.5, 2.5])


@pytest.mark.parametrize("call", [
    lambda a, b: mx.nd.concat(a, b, dim=0),
    lambda a, b: mx.nd.stack(a, b),
    lambda a, b: mx.nd.add_n(a, a, b),
    lambda a, b: mx.nd.where(a, a, b),
    lambda a, b: mx.nd.dot(a, b),
    lambda a, b: mx.nd.elemwise_mul(b, a),
])
@pytest.mark.parametrize("other", [("toy", 0), ("toy", 1)])
def test_operators_refuse_inputs_on_different_contexts(toy, call, other):
    a = mx.nd.ones((2, 2))
    b = mx.nd.ones((2, 2), ctx=mx.Context(*other))
    where = rf"(?=.*cpu\(0\))(?=.*toy\({other[1]}\)).*as_in_context"
    with pytest.raises(ContextMismatchError, match=where):
        call(a, b)
    call(a, b.as_in_context(a.context))  # the fix the message suggests works
