"""Array creation in MXNet's form: `mx.nd.array`, `zeros`, `ones`, `full`, `empty`, `arange`, `eye`, …"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..base import DTypeError, MXNetError
from ..context import Context, current_context
from ..plugins import backend_for, manager
from ..registry import DTYPES
from .ndarray import NDArray, _wrap

__all__ = ["array", "empty", "zeros", "ones", "full", "arange", "eye", "linspace", "concatenate",
           "moveaxis", "waitall"]

_DEFAULT_DTYPE = np.dtype("float32")  # MXNet's mx_real_t


def _dtype(dtype: Any, default: np.dtype = _DEFAULT_DTYPE) -> np.dtype:
    if dtype is None:
        return default
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"unknown dtype {dtype!r}; mxplug supports {', '.join(DTYPES)}") from None
    if dt.name not in DTYPES:
        raise DTypeError(f"dtype {dt.name} is not supported; mxplug supports {', '.join(DTYPES)}")
    return dt


def _shape(shape: Any) -> tuple[int, ...]:
    def integral(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if integral(shape):
        return (int(shape),)
    if isinstance(shape, (tuple, list)) and all(integral(s) for s in shape):
        return tuple(int(s) for s in shape)
    raise MXNetError(f"shape must be an int or a tuple of ints, got {shape!r}")


def _ctx(ctx: Context | str | None) -> Context:
    if ctx is None:
        return current_context()
    if isinstance(ctx, Context):
        return ctx
    from ._op import _parse_ctx

    return Context(*_parse_ctx(ctx))


def array(source_array: Any, ctx: Context | None = None, dtype: Any = None) -> NDArray:
    """An NDArray copied from any array-like (MXNet's rule: float32 unless `dtype` is given or the source
    is an NDArray, whose dtype is kept).

    >>> import mxplug as mx
    >>> mx.nd.array([[1, 2], [3, 4]]).dtype
    <class 'numpy.float32'>
    """
    ctx = _ctx(ctx)
    if isinstance(source_array, NDArray):
        dt = _dtype(dtype, source_array._data.dtype)
        host = source_array.asnumpy()
    else:
        dt = _dtype(dtype)
        try:
            host = np.asarray(source_array)
        except (TypeError, ValueError) as e:  # ragged nesting
            kind = type(source_array).__name__
            raise DTypeError(f"array: source_array must be an array-like object, got {kind}: {e}") from None
        if host.dtype.kind not in "biufc":  # a TypeError, as MXNet's: strings, ragged or mixed objects
            raise DTypeError(
                f"array: source_array must be an array-like object of numbers, got {type(source_array).__name__} "
                f"holding {host.dtype.name} elements"
            )
    host = host.astype(dt, copy=False)
    backend = backend_for(ctx)
    backend.check_device(ctx.device_id)
    return _wrap(backend.from_numpy(host, ctx.device_id), ctx)


def _check_stype(stype: str | None) -> None:
    if stype not in (None, "default"):
        raise MXNetError(f"storage type {stype!r} is not supported: mxplug arrays are dense ('default')")


def empty(shape: Any, ctx: Context | None = None, dtype: Any = None, stype: str | None = None) -> NDArray:
    """An uninitialised array (float32 by default).

    >>> import mxplug as mx
    >>> mx.nd.empty((2, 3), dtype='int32').shape
    (2, 3)
    """
    _check_stype(stype)
    ctx = _ctx(ctx)
    backend = backend_for(ctx)
    backend.check_device(ctx.device_id)
    return _wrap(backend.empty(_shape(shape), _dtype(dtype), ctx.device_id), ctx)


def _filled(op: str, shape, ctx, dtype, **attrs) -> NDArray:
    from . import _internal

    return getattr(_internal, op)(shape=_shape(shape), ctx=_ctx(ctx), dtype=_dtype(dtype), **attrs)


def zeros(shape: Any, ctx: Context | None = None, dtype: Any = None, stype: str | None = None, **kwargs
          ) -> NDArray:
    """An array of zeros (float32 by default).

    >>> import mxplug as mx
    >>> mx.nd.zeros((2,), dtype='int64').asnumpy().tolist()
    [0, 0]
    """
    _check_stype(stype)
    return _filled("_zeros", shape, ctx, dtype)


def ones(shape: Any, ctx: Context | None = None, dtype: Any = None, **kwargs) -> NDArray:
    """An array of ones (float32 by default).

    >>> import mxplug as mx
    >>> mx.nd.ones(3).asnumpy().tolist()
    [1.0, 1.0, 1.0]
    """
    return _filled("_ones", shape, ctx, dtype)


def full(shape: Any, val: float, ctx: Context | None = None, dtype: Any = np.float32, out: NDArray | None = None
         ) -> NDArray:
    """An array filled with `val`, converted to `dtype` as C casts it (2.7 → 2 for int32); with `out`, `out`
    is filled (keeping its dtype) and returned.

    >>> import mxplug as mx
    >>> mx.nd.full((2,), 2.7, dtype='int32').asnumpy().tolist()
    [2, 2]
    """
    res = _filled("_full", shape, ctx, dtype, value=float(val))
    if out is not None:
        out[:] = res
        return out
    return res


def arange(start: float, stop: float | None = None, step: float = 1.0, repeat: int = 1,
           infer_range: bool | None = None, ctx: Context | None = None, dtype: Any = np.float32  # noqa: FBT001
           ) -> NDArray:
    """Values start, start + step, … below stop, each repeated `repeat` times; one argument means [0, start).

    As in MXNet the values are computed in `dtype` (start and step are cast to it first), and an empty range
    or a zero step is an error. `infer_range` only matters to symbolic graphs and is ignored here.

    >>> import mxplug as mx
    >>> mx.nd.arange(0, 3, repeat=2).asnumpy().tolist()
    [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    """
    from . import _internal

    return _internal._arange(start=start, stop=stop, step=step, repeat=repeat, ctx=_ctx(ctx),
                             dtype=_dtype(dtype))


def eye(N: int, M: int = 0, k: int = 0, ctx: Context | None = None, dtype: Any = None, **kwargs) -> NDArray:
    """An N×M array (M=0 means N) with ones on the k-th diagonal (k > 0 above the main one).

    >>> import mxplug as mx
    >>> mx.nd.eye(2, 3, 1).asnumpy().tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    from . import _internal

    return _internal._eye(N=N, M=M, k=k, ctx=_ctx(ctx), dtype=_dtype(dtype))


def linspace(start: float, stop: float, num: int, endpoint: bool = True, ctx: Context | None = None,  # noqa: FBT001
             dtype: Any = np.float32) -> NDArray:
    """`num` evenly spaced values from start to stop (stop excluded when endpoint=False), computed in
    double precision as start + i * step and then converted to `dtype`.

    >>> import mxplug as mx
    >>> mx.nd.linspace(0, 1, 5).asnumpy().tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    from . import _internal

    return _internal._linspace(start=start, stop=stop, num=num, endpoint=endpoint, ctx=_ctx(ctx),
                               dtype=_dtype(dtype))


def concatenate(arrays, axis: int = 0, always_copy: bool = True) -> NDArray:  # noqa: FBT001
    """Join arrays along an existing axis (MXNet's Python-level concatenate)."""
    from . import concat

    if not arrays:
        raise MXNetError("concatenate: no arrays given")
    if len(arrays) == 1 and not always_copy:
        return arrays[0]
    return concat(*arrays, dim=axis)


def moveaxis(tensor: NDArray, source: int, destination: int) -> NDArray:
    """Move one axis to a new position."""
    from ..ops._util import norm_axis
    from . import transpose

    nd_ = tensor.ndim
    s, d = norm_axis("moveaxis", source, nd_, "source"), norm_axis("moveaxis", destination, nd_, "destination")
    order = [i for i in range(nd_) if i != s]
    order.insert(d, s)
    return transpose(tensor, axes=tuple(order))


def waitall() -> None:
    """Wait for all queued work on every backend."""
    for backend in manager().backends.values():
        if backend.available:
            for i in range(backend.num_devices()):
                backend.synchronize(i)
