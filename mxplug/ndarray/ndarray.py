"""The `NDArray` class: a backend-native array, its context, and its place in the autograd graph.

Operators called through Python syntax (`a + b`, `a * 2`) take a short path: one cached-kernel lookup and a
call. Everything else goes through `mxplug.ndarray.invoke`, which validates and infers first.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import autograd as _ag
from ..autograd import _RECORDING, AGInfo
from ..base import AutogradError, ContextMismatchError, DTypeError, MXNetError, ShapeError
from ..context import Context, current_context
from ..dispatch import _CACHE, kernel_for
from ..plugins import backend_for

__all__ = ["NDArray"]


def _wrap(data: Any, ctx: Context) -> NDArray:
    """Make an NDArray around a native array without any checks (the internal fast constructor)."""
    out = object.__new__(NDArray)
    out._data = data
    out._ctx = ctx
    out._ag = None
    return out


def _host_pair(a: Context, b: Context) -> bool:
    """cpu(i) and cpu(j) are the same host memory: MXNet lets them mix (the result takes the first's)."""
    return a.device_type == "cpu" and b.device_type == "cpu"


def _ctx_error(op: str, arrays) -> ContextMismatchError:
    where = ", ".join(f"{a.shape}@{a._ctx!r}" for a in arrays if a is not None)
    return ContextMismatchError(
        f"operator '{op}': all inputs must be on one context, got {where}; move them with .as_in_context(ctx)"
    )


def _kernel_failure(op: str, err: Exception, arrays) -> MXNetError:
    """Turn a kernel's exception into an MXNetError naming the operator and the inputs."""
    if isinstance(err, MXNetError):
        return err
    shapes = ", ".join(f"{tuple(a.shape)} {a.dtype.__name__}" for a in arrays if a is not None)
    cls = ShapeError if isinstance(err, (ValueError, IndexError)) else MXNetError
    return cls(f"operator '{op}' failed on inputs [{shapes}]: {type(err).__name__}: {err}")


def _grad_of(op: str):
    """The gradient formula of an operator (looked up once per operator, then cached)."""
    fn = _GRADS.get(op)
    if fn is None:
        from ..ops import rules

        fn = _GRADS[op] = rules(op).gradient or _ag._no_gradient(op)
    return fn


_GRADS: dict = {}


def _binary(op: str, a: NDArray, b: NDArray) -> NDArray:
    """The hot path of `a <op> b` between two NDArrays (broadcasting binary operators)."""
    ctx = a._ctx
    if b._ctx is not ctx and not _host_pair(ctx, b._ctx):
        raise _ctx_error(op, (a, b))
    da, db = a._data, b._data
    dt = da.dtype
    if db.dtype != dt:
        raise DTypeError(
            f"operator '{op}': inputs must share one dtype, got {dt.name} and {db.dtype.name} "
            "(cast one with .astype())"
        )
    fn = _CACHE.get((op, ctx.device_type, dt)) or kernel_for(op, ctx, dt)
    try:
        data = fn(da, db)
    except Exception as e:
        raise _kernel_failure(op, e, (a, b)) from e
    out = object.__new__(NDArray)
    out._data = data
    out._ctx = ctx
    out._ag = None
    if (a._ag is not None or b._ag is not None) and _RECORDING.get():
        _ag.record_node(op, _grad_of(op), {}, (a, b), (out,))
    return out


def _scalar(op: str, a: NDArray, scalar) -> NDArray:
    """The hot path of `a <op> scalar` (MXNet's `_plus_scalar` family; the result keeps a's dtype)."""
    ctx = a._ctx
    da = a._data
    dt = da.dtype
    scalar = float(scalar)
    fn = _CACHE.get((op, ctx.device_type, dt)) or kernel_for(op, ctx, dt)
    try:
        data = fn(da, scalar=scalar)
    except Exception as e:
        raise _kernel_failure(op, e, (a,)) from e
    out = object.__new__(NDArray)
    out._data = data
    out._ctx = ctx
    out._ag = None
    if a._ag is not None and _RECORDING.get():
        _ag.record_node(op, _grad_of(op), {"scalar": scalar}, (a,), (out,))
    return out


def _ufunc(array_op: str, scalar_op: str | None, rscalar_op: str | None = None):
    """Build `__add__`-style methods: NDArray ⊕ NDArray → array_op, NDArray ⊕ number → scalar_op.

    The NDArray ⊕ NDArray case is inlined here: it is the hottest path in the framework.
    """
    cache_get = _CACHE.get

    def method(self, other):
        if type(other) is NDArray:
            ctx = self._ctx
            da, db = self._data, other._data
            dt = da.dtype
            if other._ctx is not ctx or db.dtype != dt:
                return _binary(array_op, self, other)  # raises the right error
            fn = cache_get((array_op, ctx.device_type, dt)) or kernel_for(array_op, ctx, dt)
            try:
                data = fn(da, db)
            except Exception as e:
                raise _kernel_failure(array_op, e, (self, other)) from e
            out = object.__new__(NDArray)
            out._data = data
            out._ctx = ctx
            out._ag = None
            if (self._ag is not None or other._ag is not None) and _RECORDING.get():
                _ag.record_node(array_op, _grad_of(array_op), {}, (self, other), (out,))
            return out
        if isinstance(other, NDArray):
            return _binary(array_op, self, other)
        if isinstance(other, numbers.Number) and scalar_op is not None:
            return _scalar(scalar_op, self, other)
        return NotImplemented

    def rmethod(self, other):
        if isinstance(other, numbers.Number) and rscalar_op is not None:
            return _scalar(rscalar_op, self, other)
        return NotImplemented

    return method, rmethod


def _inplace(method):
    def imethod(self, other):
        _check_graph_write(self)
        result = method(self, other)
        if result is NotImplemented:
            return NotImplemented
        if result.shape != self.shape:
            raise ShapeError(
                f"in-place operation: result shape {result.shape} does not match the array's shape {self.shape}"
            )
        _take_result(self, result)
        return self

    return imethod


def _check_graph_write(dst: NDArray) -> None:
    """MXNet refuses, while recording, to overwrite an array that is in the graph (its gradients would be wrong)."""
    if dst._ag is not None and _RECORDING.get():
        raise AutogradError(
            f"cannot assign to an NDArray {dst.shape} that is already in a computational graph while recording: "
            "in-place operations (+=, *=, out=x, x[:] = ...) on it would make gradients wrong; call backward "
            "first or write outside `autograd.record()`"
        )


def _take_result(dst: NDArray, src: NDArray) -> None:
    """Write an operator's result into `dst` (out=, in-place operators). While recording, `dst` takes the
    result's place in the graph, as MXNet records an `out=` array as the operator's output."""
    _check_graph_write(dst)
    info = src._ag
    if info is not None and info.node is not None and any(x is dst for x in info.node.inputs):
        raise AutogradError(
            f"in-place operations (+=, -=, x[:] = ..., out= one of the inputs) are not supported when recording "
            f"with autograd (operator '{info.node.op}' writing into its input {dst.shape}); write `y = y + x` instead"
        )
    _assign(dst, src)
    if info is not None:
        dst._ag = info


def _assign(dst: NDArray, src: NDArray) -> None:
    """Write `src` into `dst`'s memory (same shape; cast to dst's dtype; moved to dst's context)."""
    if src._ctx != dst._ctx:
        src = src.as_in_context(dst._ctx)
    if src._data.dtype != dst._data.dtype:
        src = src.astype(dst._data.dtype)
    backend_for(dst._ctx).assign(dst._data, src._data)


class NDArray:
    """An n-dimensional array on a context, with MXNet 1.9's NDArray API.

    >>> import mxplug as mx
    >>> a = mx.nd.array([[1, 2], [3, 4]])
    >>> (a * 2 + 1).asnumpy().tolist()
    [[3.0, 5.0], [7.0, 9.0]]
    """

    __slots__ = ("_data", "_ctx", "_ag", "__weakref__")
    __array_priority__ = 1000.0  # NumPy defers `np_scalar + nd` to our reflected operators

    # -- construction ---------------------------------------------------------------------------------
    def __init__(self, data: Any = None, ctx: Context | None = None) -> None:
        """Wrap a backend-native array (prefer `mx.nd.array` to build from Python data)."""
        if data is None:
            raise MXNetError("NDArray(): use mx.nd.array / mx.nd.empty to create arrays")
        self._data = data
        self._ctx = ctx or current_context()
        self._ag = None

    # -- attributes -----------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> type:
        """The element type as a NumPy scalar type (`numpy.float32`), as MXNet returns it."""
        return self._data.dtype.type

    @property
    def size(self) -> int:
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    @property
    def ndim(self) -> int:
        return len(self._data.shape)

    @property
    def context(self) -> Context:
        return self._ctx

    ctx = context

    @property
    def stype(self) -> str:
        return "default"

    @property
    def T(self) -> NDArray:
        if self.ndim < 2:  # MXNet returns the array itself; higher ranks reverse all axes
            return self
        from . import transpose

        return transpose(self)

    @property
    def grad(self) -> NDArray | None:
        """The gradient buffer attached by `attach_grad` (None when there is none)."""
        info = self._ag
        return info.grad if info is not None and info.node is None and info.grad_req != "null" else None

    @property
    def handle(self):
        raise MXNetError("mxplug arrays have no C handle; use asnumpy() or the DLPack interface")

    @property
    def writable(self) -> bool:
        return True

    # -- conversion -----------------------------------------------------------------------------------
    def asnumpy(self) -> np.ndarray:
        """A NumPy copy of the array (synchronising the device)."""
        return backend_for(self._ctx).to_numpy(self._data)

    def asscalar(self):
        """The single element as a NumPy scalar; raises when the array has more than one element."""
        if self.size != 1:
            raise ShapeError(f"asscalar: the array has shape {self.shape}, not a single element")
        return self.asnumpy().reshape(-1)[0]

    def item(self):
        return self.asscalar().item()

    def __array__(self, dtype=None, copy=None):
        a = self.asnumpy()
        return a if dtype is None else a.astype(dtype)

    def astype(self, dtype, copy: bool = True) -> NDArray:  # noqa: FBT001
        """A copy converted to `dtype` (the same array when copy=False and the dtype already matches)."""
        if not copy and np.dtype(dtype) == self._data.dtype:
            return self
        from . import cast

        return cast(self, dtype=dtype)

    def copy(self) -> NDArray:
        return self.copyto(self._ctx)

    def copyto(self, other: Context | NDArray) -> NDArray:
        """Copy to a context (a new array) or into an existing array (returned)."""
        if isinstance(other, Context):
            if other == self._ctx:
                from . import _copy

                return _copy(self)
            backend = backend_for(other)
            backend.check_device(other.device_id)
            out = _wrap(backend.from_numpy(self.asnumpy(), other.device_id), other)
            if self._ag is not None and _RECORDING.get():
                _ag.record_node("_copyto", _grad_of("_copyto"), {}, (self,), (out,))
            return out
        if isinstance(other, NDArray):
            if other is self:
                return other
            if other.shape != self.shape:
                raise ShapeError(f"copyto: shape {self.shape} does not match the target's {other.shape}")
            recorded = self._ag is not None and _RECORDING.get()  # then `other` joins the graph, as in MXNet
            _take_result(other, self.copyto(other._ctx) if recorded else self)
            return other
        raise TypeError(f"copyto: expected a Context or an NDArray, got {type(other).__name__}")

    def as_in_context(self, context: Context) -> NDArray:
        """This array if it is already on `context`, else a copy there (differentiable)."""
        return self if context == self._ctx else self.copyto(context)

    as_in_ctx = as_in_context

    def wait_to_read(self) -> None:
        backend_for(self._ctx).synchronize(self._ctx.device_id)

    def wait_to_write(self) -> None:
        self.wait_to_read()

    # -- DLPack (the logic lives in mxplug.ndarray.dlpack) ---------------------------------------------
    def __dlpack__(self, stream: Any = None, **kwargs: Any):
        """A DLPack capsule viewing this array's memory (``np.from_dlpack(x)`` shares it)."""
        from .dlpack import export

        return export(self, stream, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        from .dlpack import device_of

        return device_of(self)

    def to_dlpack_for_read(self):
        """A DLPack capsule viewing this array, once pending writes are done (MXNet's name)."""
        from .dlpack import to_dlpack_for_read

        return to_dlpack_for_read(self)

    def to_dlpack_for_write(self):
        """A DLPack capsule viewing this array for writing, once pending reads and writes are done."""
        from .dlpack import to_dlpack_for_write

        return to_dlpack_for_write(self)

    def tostype(self, stype: str) -> NDArray:
        if stype != "default":
            raise MXNetError(f"tostype: sparse storage '{stype}' is not supported by mxplug")
        return self

    # -- autograd -------------------------------------------------------------------------------------
    def attach_grad(self, grad_req: str = "write", stype: str | None = None) -> None:
        """Make this array a variable: gradients computed by `backward` land in `.grad`."""
        if grad_req not in ("write", "add", "null"):
            raise MXNetError(f"attach_grad: grad_req must be 'write', 'add' or 'null', got {grad_req!r}")
        from . import zeros_like

        with _ag.pause():
            g = zeros_like(self)
        self._ag = AGInfo(None, 0, g, grad_req)

    def detach(self) -> NDArray:
        """The same data, cut from the graph."""
        return _wrap(self._data, self._ctx)

    def backward(self, out_grad: NDArray | None = None, retain_graph: bool = False,  # noqa: FBT001
                 train_mode: bool = True) -> None:  # noqa: FBT001
        """Differentiate this array; gradients land in the variables' `.grad`."""
        _ag.backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)

    # -- shape methods (MXNet's fluent API) -----------------------------------------------------------
    def reshape(self, *shape, **kwargs) -> NDArray:
        """Reshape with MXNet's codes: 0 copy, -1 infer, -2 copy rest, -3 merge two, -4 split (reverse=)."""
        from . import Reshape

        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        if "shape" in kwargs:
            if shape:
                raise MXNetError("reshape: give the shape positionally or as shape=, not both")
            shape = kwargs.pop("shape")
        return Reshape(self, shape=shape, **kwargs)

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d NDArray")
        return self._data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key) -> NDArray:
        from .indexing import getitem

        return getitem(self, key)

    def __setitem__(self, key, value) -> None:
        from .indexing import setitem

        setitem(self, key, value)

    def __repr__(self) -> str:
        shape_info = "x".join(str(s) for s in self.shape)
        return f"\n{self.asnumpy()!s}\n<{type(self).__name__} {shape_info} @{self._ctx!r}>"

    def __bool__(self) -> bool:
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asnumpy().reshape(-1)[0])
        raise ShapeError("The truth value of an NDArray with multiple elements is ambiguous.")

    __hash__ = object.__hash__

    def __reduce__(self):  # pickling copies through NumPy, like MXNet's __getstate__
        return (_unpickle, (self.asnumpy(),))

    # -- arithmetic -----------------------------------------------------------------------------------
    __add__, __radd__ = _ufunc("broadcast_add", "_plus_scalar", "_plus_scalar")
    __sub__, __rsub__ = _ufunc("broadcast_sub", "_minus_scalar", "_rminus_scalar")
    __mul__, __rmul__ = _ufunc("broadcast_mul", "_mul_scalar", "_mul_scalar")
    __truediv__, __rtruediv__ = _ufunc("broadcast_div", "_div_scalar", "_rdiv_scalar")
    __mod__, __rmod__ = _ufunc("broadcast_mod", "_mod_scalar", "_rmod_scalar")
    __pow__, __rpow__ = _ufunc("broadcast_power", "_power_scalar", "_rpower_scalar")
    __eq__, _ = _ufunc("broadcast_equal", "_equal_scalar")
    __ne__, _ = _ufunc("broadcast_not_equal", "_not_equal_scalar")
    __gt__, _ = _ufunc("broadcast_greater", "_greater_scalar")
    __ge__, _ = _ufunc("broadcast_greater_equal", "_greater_equal_scalar")
    __lt__, _ = _ufunc("broadcast_lesser", "_lesser_scalar")
    __le__, _ = _ufunc("broadcast_lesser_equal", "_lesser_equal_scalar")
    del _
    __div__, __rdiv__ = __truediv__, __rtruediv__
    __iadd__ = _inplace(__add__)
    __isub__ = _inplace(__sub__)
    __imul__ = _inplace(__mul__)
    __itruediv__ = _inplace(__truediv__)
    __idiv__ = __itruediv__
    __imod__ = _inplace(__mod__)

    def __neg__(self) -> NDArray:
        return _scalar("_mul_scalar", self, -1.0)

    def __pos__(self) -> NDArray:
        return self

    def __abs__(self) -> NDArray:
        from . import abs as nd_abs

        return nd_abs(self)

    # The generated operator functions are bound as methods (`x.sum(axis=1)`, `x.exp()`), see __init__.


def _unpickle(array: np.ndarray) -> NDArray:
    """Unpickled arrays land on cpu(0) whatever context they were pickled from, as in MXNet (so a pickle
    made on a GPU loads where no GPU plugin is installed)."""
    from . import array as nd_array

    return nd_array(array, ctx=Context("cpu", 0), dtype=array.dtype)
