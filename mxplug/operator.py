"""MXNet's legacy custom-operator API (`mx.operator`), so existing code runs unchanged on any context.

A custom operator is a `CustomOpProp` subclass (its signature: arguments, outputs, auxiliary states, shape
and type inference) registered under a name with `@mx.operator.register(name)`, whose `create_operator`
returns a `CustomOp` (the computation: `forward` and `backward` over NDArrays, writing results with
`assign`). It is called as ``mx.nd.Custom(*inputs, op_type=name, **kwargs)``: the keyword arguments reach
the Prop's ``__init__`` as strings, exactly as in MXNet.

As in MXNet: ``forward`` and ``backward`` run with autograd paused and inside ``with ctx:`` (the inputs'
context), ``req`` is 'write' for each output (and 'null' for inputs that need no gradient in backward),
``create_operator`` receives the context, the input shapes as lists and MXNet's integer dtype codes, and
``infer_shape`` / ``infer_type`` may return two or three lists. Unlike MXNet, freshly allocated outputs and
input gradients are zero-filled rather than uninitialised, and the code runs in the calling thread.

A graph executor (mx.sym.Custom) reuses `CustomCall`: the prepared operator with `infer`, `forward` and
`backward` over lists of NDArrays.

>>> import mxplug as mx
>>> class Square(mx.operator.CustomOp):
...     def forward(self, is_train, req, in_data, out_data, aux):
...         self.assign(out_data[0], req[0], in_data[0] * in_data[0])
...     def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
...         self.assign(in_grad[0], req[0], 2 * in_data[0] * out_grad[0])
>>> @mx.operator.register("doctest_square")
... class SquareProp(mx.operator.CustomOpProp):
...     def create_operator(self, ctx, shapes, dtypes):
...         return Square()
>>> x = mx.nd.array([1.0, 3.0]); x.attach_grad()
>>> with mx.autograd.record():
...     y = mx.nd.Custom(x, op_type="doctest_square")
>>> y.backward(); x.grad.asnumpy().tolist()
[2.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd as _ag
from .base import MXNetError, OperatorAttributeError, ShapeError

__all__ = ["CustomOp", "CustomOpProp", "register", "get_registered", "Custom", "invoke_custom", "CustomCall",
           "DTYPE_CODES"]

# MXNet's integer type codes, what create_operator receives as in_dtypes.
DTYPE_CODES = {np.dtype(n): c for n, c in (("float32", 0), ("float64", 1), ("float16", 2), ("uint8", 3),
                                          ("int32", 4), ("int8", 5), ("int64", 6), ("bool", 7))}


class CustomOp:
    """Base class of a custom operator's computation; override `forward` and `backward`."""

    def __init__(self) -> None:
        pass

    def forward(self, is_train, req, in_data, out_data, aux) -> None:
        """Compute ``out_data`` from ``in_data`` (lists of NDArrays); write with ``self.assign(dst, req[i], src)``."""

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux) -> None:
        """Compute ``in_grad`` from ``out_grad``; write with ``self.assign(in_grad[i], req[i], src)``."""

    def assign(self, dst, req: str, src) -> None:
        """Write `src` into `dst` as `req` says: 'null' skips, 'write'/'inplace' overwrite, 'add' accumulates."""
        if req == "null":
            return
        if req in ("write", "inplace"):
            dst[:] = src
        elif req == "add":
            dst[:] += src
        else:
            raise MXNetError(f"CustomOp.assign: req must be 'null', 'write', 'inplace' or 'add', got {req!r}")


class CustomOpProp:
    """Base class of a custom operator's properties: its signature and inference.

    ``need_top_grad``: whether backward reads the output gradient (the default `declare_backward_dependency`
    uses it; a loss layer such as a softmax output sets it False).
    """

    def __init__(self, need_top_grad: bool = True) -> None:  # noqa: FBT001 — MXNet's signature
        self.need_top_grad_ = need_top_grad

    def infer_shape(self, in_shape):
        """(input shapes, output shapes[, aux shapes]) from the input shapes (default: all like input 0)."""
        return in_shape, (in_shape[0],) * len(self.list_outputs()), ()

    def infer_type(self, in_type):
        """(input types, output types[, aux types]) from the input types (default: all like input 0)."""
        return in_type, [in_type[0]] * len(self.list_outputs()), [in_type[0]] * len(self.list_auxiliary_states())

    def infer_storage_type(self, in_stype):
        """Only dense ('default') storage exists in mxplug."""
        return in_stype, ["default"] * len(self.list_outputs()), ["default"] * len(self.list_auxiliary_states())

    def infer_storage_type_backward(self, ograd_stype, in_stype, out_stype, igrad_stype, aux_stype):
        lists = [ograd_stype, in_stype, out_stype, igrad_stype, aux_stype]
        return tuple(["default"] * len(x) for x in lists)

    def list_outputs(self) -> list[str]:
        return ["output"]

    def list_arguments(self) -> list[str]:
        return ["data"]

    def list_auxiliary_states(self) -> list[str]:
        return []

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        """Which of out_grad, in_data, out_data backward reads (graph executors may free the others)."""
        deps = []
        if self.need_top_grad_:
            deps.extend(out_grad)
        deps.extend(in_data)
        deps.extend(out_data)
        return deps

    def create_operator(self, ctx, in_shapes, in_dtypes) -> CustomOp:
        """The `CustomOp` that computes, for this context, input shapes and dtype codes."""
        return CustomOp()


_REGISTRY: dict[str, type] = {}


def register(reg_name: str) -> Callable[[type], type]:
    """Register a `CustomOpProp` subclass under `reg_name` (the ``op_type`` of ``mx.nd.Custom``)."""

    def do_register(prop_cls: type) -> type:
        if not (isinstance(prop_cls, type) and issubclass(prop_cls, CustomOpProp)):
            raise MXNetError(f"mx.operator.register('{reg_name}'): expected a CustomOpProp subclass, got {prop_cls!r}")
        _REGISTRY[reg_name] = prop_cls
        return prop_cls

    return do_register


def get_registered() -> dict[str, type]:
    """The registered CustomOpProp classes by op_type."""
    return dict(_REGISTRY)


def _split(ret, what: str, op_type: str, counts: tuple[int, int, int]) -> tuple[list, list, list]:
    """infer_shape/infer_type return 2 or 3 lists; check their lengths as MXNet does."""
    if len(ret) == 2:
        ins, outs, auxs = ret[0], ret[1], []
    elif len(ret) == 3:
        ins, outs, auxs = ret
    else:
        raise MXNetError(f"custom operator '{op_type}': {what} must return 2 or 3 lists, got {len(ret)}")
    for name, got, want in (("input", ins, counts[0]), ("output", outs, counts[1]), ("aux state", auxs, counts[2])):
        if len(got) != want:
            raise MXNetError(f"custom operator '{op_type}': {what} returned {len(got)} {name} entries, "
                             f"expected {want}")
    return list(ins), list(outs), list(auxs)


class CustomCall:
    """One custom operator prepared for a call: its Prop (built from the string kwargs) and signature.

    `invoke_custom` uses it imperatively; a graph executor can use the same steps: `infer` for shapes and
    dtypes, `create` for the CustomOp, then `forward` and `backward` over NDArrays.
    """

    def __init__(self, op_type: str, kwargs: dict[str, Any]) -> None:
        prop_cls = _REGISTRY.get(op_type)
        if prop_cls is None:
            known = ", ".join(sorted(_REGISTRY)) or "none"
            raise MXNetError(f"Cannot find custom operator '{op_type}' (registered with mx.operator.register: "
                             f"{known})")
        self.op_type = op_type
        self.prop = prop_cls(**{k: str(v) for k, v in kwargs.items()})  # MXNet hands strings over
        self.arguments = list(self.prop.list_arguments())
        self.outputs = list(self.prop.list_outputs())
        self.aux = list(self.prop.list_auxiliary_states())

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.arguments), len(self.outputs), len(self.aux)

    def infer(self, in_shapes: Sequence[tuple[int, ...]], in_dtypes: Sequence[Any]):
        """Output (shapes, dtypes) from the arguments' shapes and dtypes (NumPy types, as MXNet passes them)."""
        _, out_shapes, _ = _split(self.prop.infer_shape([list(s) for s in in_shapes]), "infer_shape",
                                  self.op_type, self.counts)
        _, out_types, _ = _split(self.prop.infer_type([np.dtype(t).type for t in in_dtypes]), "infer_type",
                                 self.op_type, self.counts)
        return [tuple(int(d) for d in s) for s in out_shapes], [np.dtype(t) for t in out_types]

    def infer_shapes(self, in_shapes: Sequence[Sequence[int]]) -> tuple[list, list, list]:
        """(argument, output, aux) shapes as the Prop's infer_shape gives them: a graph also deduces arguments
        (a label's shape from the data's) and auxiliary states from it."""
        ret = _split(self.prop.infer_shape([list(s) for s in in_shapes]), "infer_shape", self.op_type, self.counts)
        return tuple([tuple(int(d) for d in s) for s in part] for part in ret)

    def create(self, ctx, in_shapes, in_dtypes) -> CustomOp:
        codes = [DTYPE_CODES.get(np.dtype(t), -1) for t in in_dtypes]
        return self.prop.create_operator(ctx, [list(s) for s in in_shapes], codes)

    def forward(self, op: CustomOp, ctx, is_train: bool, in_data: list, aux: list, out_shapes, out_types) -> list:  # noqa: FBT001
        from . import ndarray as nd

        out_data = [nd.zeros(s, ctx=ctx, dtype=t) for s, t in zip(out_shapes, out_types, strict=True)]
        with _ag.pause(is_train), ctx:
            op.forward(is_train=is_train, req=["write"] * len(out_data), in_data=in_data, out_data=out_data,
                       aux=aux)
        return out_data

    def backward(self, op: CustomOp, ctx, req: list[str], out_grad: list, in_data: list, out_data: list,
                 aux: list) -> list:
        """The input gradients (None where req is 'null')."""
        from . import ndarray as nd

        in_grad = [nd.zeros_like(x) for x in in_data]
        with _ag.pause(_ag.is_training()), ctx:
            op.backward(req=req, out_grad=out_grad, in_data=in_data, out_data=out_data, in_grad=in_grad, aux=aux)
        return [None if r == "null" else g for r, g in zip(req, in_grad, strict=True)]


def invoke_custom(op_type: str, data: Sequence, kwargs: dict[str, Any]):
    """Run the custom operator `op_type` on NDArrays `data` (arguments, then auxiliary states), recording it
    for autograd; returns one NDArray or a list (several outputs)."""
    from .ndarray.ndarray import NDArray, _ctx_error, _host_pair

    call = CustomCall(op_type, kwargs)
    n_args, _, n_aux = call.counts
    if len(data) != n_args + n_aux:
        raise OperatorAttributeError(
            f"operator 'Custom' ({op_type}) expects {n_args + n_aux} inputs ({', '.join(call.arguments + call.aux)}), "
            f"got {len(data)}"
        )
    for i, x in enumerate(data):
        if not isinstance(x, NDArray):
            raise OperatorAttributeError(f"operator 'Custom' ({op_type}): input {i} expects an NDArray, got "
                                         f"{type(x).__name__}")
    ctx = data[0]._ctx if data else _current()
    if any(x._ctx != ctx and not _host_pair(ctx, x._ctx) for x in data):
        raise _ctx_error(f"Custom ({op_type})", data)
    in_data, aux = list(data[:n_args]), list(data[n_args:])
    in_shapes, in_dtypes = [x.shape for x in in_data], [x.dtype for x in in_data]
    out_shapes, out_types = call.infer(in_shapes, in_dtypes)
    op = call.create(ctx, in_shapes, in_dtypes)
    outputs = call.forward(op, ctx, _ag.is_training(), in_data, aux, out_shapes, out_types)
    if _ag.is_recording() and any(x._ag is not None for x in data):
        _ag.record_node("Custom", _gradient(call, op, ctx, n_args), {"op_type": op_type}, list(data), outputs)
    return outputs[0] if len(outputs) == 1 else outputs


def _current():
    from .context import current_context

    return current_context()


def _gradient(call: CustomCall, op: CustomOp, ctx, n_args: int) -> Callable:
    def gradient(F, attrs, inputs, outputs, ograds):
        in_data, aux = list(inputs[:n_args]), list(inputs[n_args:])
        req = ["null" if x._ag is None else "write" for x in in_data]
        grads = call.backward(op, ctx, req, list(ograds), in_data, list(outputs), aux)
        for x, g in zip(in_data, grads, strict=True):
            if g is not None and g.shape != x.shape:
                raise ShapeError(f"custom operator '{call.op_type}': backward wrote a gradient of shape {g.shape} "
                                 f"for an input of shape {x.shape}")
        return grads + [None] * len(aux)  # auxiliary states take no gradient

    return gradient


def Custom(*data, op_type: str | None = None, out=None, name: str | None = None, **kwargs):  # noqa: N802
    """Apply a custom operator registered with `mx.operator.register(op_type)` (MXNet's ``mx.nd.Custom``).

    ``data``: its arguments followed by its auxiliary states. Other keyword arguments are passed, as strings,
    to the CustomOpProp's ``__init__``. ``out``: write the result into this array (or list of arrays).
    """
    if op_type is None:
        raise OperatorAttributeError("operator 'Custom': attribute 'op_type' is required (the registered name)")
    result = invoke_custom(str(op_type), list(data), kwargs)
    if out is None:
        return result
    from .ndarray._op import _write_out
    from .registry import get

    return _write_out(get("Custom"), result, out)


def _publish() -> None:
    """mx.nd.Custom takes free-form keyword arguments, which the generated function would refuse."""
    from . import ndarray as nd

    nd.Custom = nd.op.Custom = Custom


_publish()
