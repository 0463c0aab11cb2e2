"""Tracing: run operator rules over static shapes and record the kernel calls they would make.

A `Tracer` is an `F` namespace (every registry operator as a function, Python operators on its values), so
gradient formulas and composite bodies — written with F's operators for `mx.nd` — run unchanged over
`Value`s whose shapes and dtypes are known at bind time. Each primitive operator becomes a `Step` (the
kernel for the context and dtype, resolved now, with the dispatch fallback policy), composites expand into
their parts, and operators whose inputs are all constants are computed once at plan time (constant
folding; random operators and auxiliary-state updates never fold).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import registry
from ..base import MXNetError, OperatorAttributeError
from ..ops import OpRules, TensorSpec, rules

__all__ = ["Step", "Value", "Tracer", "TapeEntry"]

# Outputs that depend on the input's shape and dtype only: foldable once shapes are static.
_SHAPE_ONLY = frozenset({"zeros_like", "ones_like", "shape_array", "size_array"})


@dataclass
class Step:
    """One kernel call: ``outputs = fn(*inputs, **kwargs)`` over value slots (None: absent input)."""

    op: str
    fn: Callable[..., Any]
    inputs: list[int | None]
    outputs: list[int]
    kwargs: Mapping[str, Any]
    node: str = ""  # the graph node it came from, for error messages
    side_effect: bool = False  # writes into an input (auxiliary states): never eliminated
    meta: dict = field(default_factory=dict)  # free room for graph passes


@dataclass
class TapeEntry:
    """A primitive operator application, as autograd records one (for the backward trace)."""

    schema: registry.OpSchema
    rules: OpRules
    attrs: Mapping[str, Any]
    inputs: list[Value | None]
    outputs: list[Value]


class Value:
    """A traced tensor: a slot of the plan, with its static shape and dtype."""

    __slots__ = ("tracer", "slot", "spec")
    __array_priority__ = 1000.0

    def __init__(self, tracer: Tracer, slot: int, spec: TensorSpec) -> None:
        self.tracer, self.slot, self.spec = tracer, slot, spec

    shape = property(lambda self: self.spec.shape)
    dtype = property(lambda self: self.spec.dtype)
    ndim = property(lambda self: len(self.spec.shape))
    size = property(lambda self: int(np.prod(self.spec.shape, dtype=np.int64)))
    context = ctx = property(lambda self: self.tracer.ctx)

    def as_in_context(self, ctx) -> Value:
        return self

    def reshape(self, *shape, **kwargs) -> Value:
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        if shape:
            kwargs["shape"] = shape
        return self.tracer.Reshape(self, **kwargs)

    def astype(self, dtype, copy: bool = True) -> Value:  # noqa: FBT001
        if not copy and np.dtype(dtype) == self.spec.dtype:
            return self
        return self.tracer.Cast(self, dtype=dtype)

    @property
    def T(self) -> Value:
        return self if self.ndim < 2 else self.tracer.transpose(self)

    def __getattr__(self, name: str):
        from ..ndarray import _FLUENT

        if name in _FLUENT:
            fn = getattr(self.tracer, name)
            return lambda *args, **kwargs: fn(self, *args, **kwargs)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<Value %{self.slot} {self.spec.shape} {self.spec.dtype.name}>"

    def __neg__(self) -> Value:
        return self.tracer._scalar("_mul_scalar", self, -1.0)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return self.tracer.abs(self)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise MXNetError("the truth value of a traced array is unknown at plan time")


def _binary(array_op: str, scalar_op: str | None, rscalar_op: str | None = None):
    def method(self, other):
        if isinstance(other, Value):
            return self.tracer.op(array_op, [self, other], {})[0]
        if isinstance(other, numbers.Number) and scalar_op is not None:
            return self.tracer._scalar(scalar_op, self, other)
        return NotImplemented

    def rmethod(self, other):
        if isinstance(other, numbers.Number) and rscalar_op is not None:
            return self.tracer._scalar(rscalar_op, self, other)
        return NotImplemented

    return method, rmethod


Value.__add__, Value.__radd__ = _binary("broadcast_add", "_plus_scalar", "_plus_scalar")
Value.__sub__, Value.__rsub__ = _binary("broadcast_sub", "_minus_scalar", "_rminus_scalar")
Value.__mul__, Value.__rmul__ = _binary("broadcast_mul", "_mul_scalar", "_mul_scalar")
Value.__truediv__, Value.__rtruediv__ = _binary("broadcast_div", "_div_scalar", "_rdiv_scalar")
Value.__mod__, Value.__rmod__ = _binary("broadcast_mod", "_mod_scalar", "_rmod_scalar")
Value.__pow__, Value.__rpow__ = _binary("broadcast_power", "_power_scalar", "_rpower_scalar")
Value.__eq__, _ = _binary("broadcast_equal", "_equal_scalar")
Value.__ne__, _ = _binary("broadcast_not_equal", "_not_equal_scalar")
Value.__gt__, _ = _binary("broadcast_greater", "_greater_scalar")
Value.__ge__, _ = _binary("broadcast_greater_equal", "_greater_equal_scalar")
Value.__lt__, _ = _binary("broadcast_lesser", "_lesser_scalar")
Value.__le__, _ = _binary("broadcast_lesser_equal", "_lesser_equal_scalar")
del _


class _Sub:
    """`F._internal`, `F.linalg`, `F.contrib` of a tracer."""

    def __init__(self, tracer: Tracer, prefix: str) -> None:
        self._tracer, self._prefix = tracer, prefix

    def __getattr__(self, name: str):
        return getattr(self._tracer, self._prefix + name)


class Tracer:
    """An `F` namespace that records steps. With ``ctx=None`` it only infers (no kernels, no folding)."""

    def __init__(self, ctx, is_train: bool = False, fold: bool = True) -> None:  # noqa: FBT001
        self.ctx = ctx
        self.is_train = is_train
        self.fold = fold and ctx is not None
        self.specs: list[TensorSpec] = []
        self.steps: list[Step] = []
        self.consts: dict[int, Any] = {}  # slot -> native array computed at plan time
        self.tape: list[TapeEntry] = []
        self.node = ""  # the graph node being traced (error messages, Step.node)
        self.grad_needed: set[int] | None = None  # slots whose gradient backward wants (set while tracing it)
        self._funcs: dict[str, Callable] = {}
        self._internal = _Sub(self, "")
        self.linalg = _Sub(self, "linalg_")
        self.contrib = _Sub(self, "_contrib_")
        self.op_ns = _Sub(self, "")

    # -- values -----------------------------------------------------------------------------------------
    def placeholder(self, spec: TensorSpec) -> Value:
        self.specs.append(TensorSpec(tuple(spec.shape), np.dtype(spec.dtype)))
        return Value(self, len(self.specs) - 1, self.specs[-1])

    def constant(self, data: Any) -> Value:
        v = self.placeholder(TensorSpec(tuple(data.shape), data.dtype))
        self.consts[v.slot] = data
        return v

    # -- operators ----------------------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Callable:
        if name.startswith("__"):
            raise AttributeError(name)
        fn = self._funcs.get(name)
        if fn is None:
            fn = self._funcs[name] = self._function(name)
        return fn

    def _function(self, name: str) -> Callable:
        helper = {"zeros": "_zeros", "ones": "_ones", "full": "_full"}.get(name)
        schema = registry.get(helper or name)
        fixed = [i for i in schema.inputs if i != schema.variadic]
        attr_names = tuple(schema.attrs)

        def fn(*args, out=None, name=None, **kwargs):
            if out is not None:
                raise MXNetError(f"operator '{schema.name}': out= cannot be used inside a graph")
            kwargs.pop("ctx", None)
            if helper == "_full" and "val" in kwargs:
                kwargs["value"] = kwargs.pop("val")
            if schema.variadic is not None:
                inputs = list(args)
                more = kwargs.pop(schema.variadic, None)
                if more is not None:
                    inputs.extend([more] if isinstance(more, Value) else more)
            else:
                inputs = list(args[:len(fixed)])
                for key, value in zip(attr_names, args[len(fixed):], strict=False):
                    kwargs[key] = value
                inputs += [kwargs.pop(i, None) for i in fixed[len(inputs):]]
            for x in inputs:
                if x is not None and not isinstance(x, Value):
                    raise OperatorAttributeError(
                        f"operator '{schema.name}' inside a graph got {type(x).__name__}, not a traced array"
                    )
            outs = self.op(schema.name, inputs, kwargs)
            return outs[0] if len(outs) == 1 else outs

        return fn

    def _scalar(self, op: str, x: Value, scalar) -> Value:
        return self.op(op, [x], {"scalar": float(scalar)})[0]

    def op(self, name: str, inputs: Sequence[Value | None], params: Mapping[str, Any],
           visible: bool = True) -> list[Value]:  # noqa: FBT001
        """Apply an operator by name to schema-ordered inputs; the visible outputs (all with visible=False)."""
        schema = registry.get(name)
        attrs = schema.parse_attrs(dict(params))
        return self.apply(schema, inputs, attrs, visible)

    def apply(self, schema: registry.OpSchema, inputs: Sequence[Value | None], attrs: Mapping[str, Any],
              visible: bool = True) -> list[Value]:  # noqa: FBT001
        if schema.name == "Custom":
            return self._custom(schema, inputs, attrs)
        r = rules(schema.name)
        if schema.train_aware:
            attrs = {**attrs, "is_train": self.is_train}
        if r.composite is not None:
            out = r.composite(self, attrs, *inputs)
            return [out] if isinstance(out, Value) else list(out)
        if r.infer is None:
            raise MXNetError(f"operator '{schema.name}' has no shape/dtype inference rule registered")
        in_specs = [None if x is None else x.spec for x in inputs]
        specs = r.infer(attrs, *in_specs)
        specs = [specs] if isinstance(specs, TensorSpec) else list(specs)
        outputs = self._emit(schema, r, inputs, attrs, specs)
        if schema.differentiable:
            self.tape.append(TapeEntry(schema, r, attrs, list(inputs), outputs))
        if visible and r.visible_outputs is not None:
            return outputs[:r.visible_outputs(attrs)]
        return outputs

    def _emit(self, schema, r: OpRules, inputs, attrs, specs: list[TensorSpec]) -> list[Value]:
        present = [x for x in inputs if x is not None]
        if self.ctx is None:
            return [self.placeholder(s) for s in specs]
        dtype = present[0].spec.dtype if present else specs[0].dtype
        from ..dispatch import kernel_for

        fn = kernel_for(schema.name, self.ctx, dtype)
        kwargs = attrs
        if not present and "ctx" in schema.attrs:
            kwargs = dict(attrs, ctx=repr(self.ctx))
        foldable = (self.fold and not schema.aux_inputs and schema.family != "random"
                    and (all(x.slot in self.consts for x in present) or schema.name in _SHAPE_ONLY))
        if foldable:
            return self._fold(schema, fn, inputs, kwargs, specs)
        outputs = [self.placeholder(s) for s in specs]
        self.steps.append(Step(schema.name, fn, [None if x is None else x.slot for x in inputs],
                               [o.slot for o in outputs], kwargs, self.node, bool(schema.aux_inputs)))
        return outputs

    def _fold(self, schema, fn, inputs, kwargs, specs) -> list[Value]:
        from ..plugins import backend_for

        backend = backend_for(self.ctx)
        args = []
        for x in inputs:
            if x is None:
                args.append(None)
            elif x.slot in self.consts:
                args.append(self.consts[x.slot])
            else:  # shape-only operators: any array of the right shape and dtype will do
                args.append(backend.empty(x.spec.shape, x.spec.dtype, self.ctx.device_id))
        raw = fn(*args, **kwargs)
        raw = raw if isinstance(raw, (tuple, list)) else (raw,)
        for data, s in zip(raw, specs, strict=True):
            if tuple(data.shape) != s.shape or data.dtype != s.dtype:
                raise MXNetError(f"kernel for '{schema.name}' returned {tuple(data.shape)} {data.dtype}, "
                                 f"inference says {s.shape} {s.dtype}")
        return [self.constant(data) for data in raw]

    # -- MXNet's legacy custom operators (mx.operator.CustomOp) ------------------------------------------------
    def _custom(self, schema: registry.OpSchema, inputs: Sequence[Value | None],
                attrs: Mapping[str, Any]) -> list[Value]:
        """A Custom node: the CustomOp is created once, now; its forward runs as one step over NDArrays
        wrapping the native arrays, and its backward as one step of the backward program."""
        from ..operator import CustomCall

        call = CustomCall(str(attrs["op_type"]), {k: v for k, v in attrs.items() if k != "op_type"})
        n_args, _, n_aux = call.counts
        if len(inputs) != n_args + n_aux or any(x is None for x in inputs):
            raise OperatorAttributeError(f"operator 'Custom' ({call.op_type}) expects {n_args + n_aux} inputs "
                                         f"{call.arguments + call.aux}, got {len(inputs)}")
        in_shapes = [x.spec.shape for x in inputs[:n_args]]
        in_dtypes = [x.spec.dtype for x in inputs[:n_args]]
        out_shapes, out_types = call.infer(in_shapes, in_dtypes)
        outputs = [self.placeholder(TensorSpec(s, t)) for s, t in zip(out_shapes, out_types, strict=True)]
        op = None
        if self.ctx is not None:
            op = call.create(self.ctx, in_shapes, in_dtypes)
            run = _custom_forward(call, op, self.ctx, self.is_train, n_args, out_shapes, out_types)
            self.steps.append(Step("Custom", run, [x.slot for x in inputs], [o.slot for o in outputs], {},
                                   self.node, side_effect=n_aux > 0))
        grad_rules = OpRules(gradient=lambda F, a, ins, outs, og: _custom_backward(F, call, op, n_args, ins, outs, og))
        self.tape.append(TapeEntry(schema, grad_rules, attrs, list(inputs), outputs))
        return outputs


def _unpack(arrays: Sequence[Any]):
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


def _custom_forward(call, op, ctx, is_train: bool, n_args: int, out_shapes, out_types) -> Callable:  # noqa: FBT001
    from ..ndarray.ndarray import _wrap

    def run(*arrays):
        nds = [_wrap(a, ctx) for a in arrays]
        outs = call.forward(op, ctx, is_train, nds[:n_args], nds[n_args:], out_shapes, out_types)
        return _unpack([o._data for o in outs])

    run.__name__ = f"custom_{call.op_type}_forward"
    return run


def _custom_backward(F: Tracer, call, op, n_args: int, inputs: list[Value], outputs: list[Value],
                     ograds: list[Value]) -> list[Value | None]:
    """One backward step. Only what the Prop's declare_backward_dependency names (by default: the output
    gradients unless need_top_grad is False, the inputs, the outputs) is kept for it; its backward sees
    zeros in place of the rest. Inputs whose gradient nobody wants get req 'null', as in MXNet."""
    args, aux = inputs[:n_args], inputs[n_args:]
    n_out = len(outputs)
    groups = [list(ograds), list(args), list(outputs)]
    ids = [list(range(n_out)), list(range(n_out, n_out + n_args)), list(range(n_out + n_args, 2 * n_out + n_args))]
    deps = {int(d) for d in call.prop.declare_backward_dependency(*ids)}
    flat = [v for g in groups for v in g]
    kept = [k for k in range(len(flat)) if k in deps]
    needed = F.grad_needed
    req = ["write" if needed is None or x.slot in needed else "null" for x in args]
    grads = [F.placeholder(x.spec) for x, r in zip(args, req, strict=True) if r == "write"]
    if F.ctx is not None and grads:
        specs = [v.spec for v in flat]
        run = _custom_backward_step(call, op, F.ctx, req, kept, specs, (n_out, n_args))
        F.steps.append(Step("Custom_backward", run, [flat[k].slot for k in kept] + [x.slot for x in aux],
                            [g.slot for g in grads], {}, F.node))
    it = iter(grads)
    return [next(it) if r == "write" else None for r in req] + [None] * len(aux)


def _custom_backward_step(call, op, ctx, req: list[str], kept: list[int], specs: list, counts) -> Callable:
    from ..ndarray import zeros
    from ..ndarray.ndarray import _wrap

    n_out, n_args = counts

    def run(*arrays):
        full = [zeros(s.shape, ctx=ctx, dtype=s.dtype) for s in specs]
        for k, a in zip(kept, arrays, strict=False):
            full[k] = _wrap(a, ctx)
        aux = [_wrap(a, ctx) for a in arrays[len(kept):]]
        out_grad, in_data, out_data = full[:n_out], full[n_out:n_out + n_args], full[n_out + n_args:]
        in_grads = call.backward(op, ctx, req, out_grad, in_data, out_data, aux)
        return _unpack([g._data for g in in_grads if g is not None])

    run.__name__ = f"custom_{call.op_type}_backward"
    return run
