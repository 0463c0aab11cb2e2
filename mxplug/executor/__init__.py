"""`Executor`: a symbol bound to arrays and compiled (MXNet's `sym.bind` / `sym.simple_bind`).

Binding infers every shape and dtype once, traces the graph (forward, and the backward graph from the
operators' gradient formulas), eliminates dead steps, folds constants, lets the context's backend rewrite
the step list (graph passes: fusion, buffer reuse) and generates straight-line code. `forward` and
`backward` then run that code: one kernel call per step, nothing else per node.

>>> import mxplug as mx
>>> x = mx.sym.var('x')
>>> exe = (x * x).simple_bind(mx.cpu(), x=(3,))
>>> _ = exe.forward(is_train=True, x=mx.nd.array([1, 2, 3]))
>>> exe.backward(mx.nd.ones((3,)))
>>> exe.grad_dict['x'].asnumpy().tolist()
[2.0, 4.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..base import MXNetError, ShapeError
from ..context import Context, current_context
from ..ops import TensorSpec
from .plan import Plan, build_plan, compile_program, register_graph_pass, run

__all__ = ["Executor", "simple_bind", "register_graph_pass"]


_REQS = ("write", "add", "null")


def _as_dict(names: Sequence[str], values, what: str, allow_missing: bool) -> dict[str, Any]:
    if values is None:
        return {}
    if isinstance(values, Mapping):
        unknown = set(values) - set(names)
        if unknown:
            raise MXNetError(f"{what}: unknown names {sorted(unknown)} (expected some of {list(names)})")
        return dict(values)
    values = list(values)
    if len(values) != len(names) and not (allow_missing and len(values) < len(names)):
        raise MXNetError(f"{what}: {len(values)} arrays for {len(names)} names {list(names)}")
    return dict(zip(names, values, strict=False))


def _grad_reqs(names: Sequence[str], grad_req) -> dict[str, str]:
    if isinstance(grad_req, str):
        reqs = dict.fromkeys(names, grad_req)
    elif isinstance(grad_req, Mapping):
        reqs = {n: grad_req.get(n, "null") for n in names}
    else:
        reqs = dict(zip(names, grad_req, strict=True))
    for n, r in reqs.items():
        if r not in _REQS:
            raise MXNetError(f"grad_req for '{n}' must be 'write', 'add' or 'null', got {r!r}")
    return reqs


class Executor:
    """A bound, compiled symbol. Prefer `sym.bind` / `sym.simple_bind` to constructing one directly."""

    def __init__(self, sym, ctx: Context | None, args, args_grad=None, grad_req="write", aux_states=None) -> None:
        from ..ndarray.ndarray import NDArray

        self._symbol = sym
        self._ctx = ctx or current_context()
        self._arg_names = sym.list_arguments()
        self._aux_names = sym.list_auxiliary_states()
        args = _as_dict(self._arg_names, args, "bind args", allow_missing=False)
        missing = [n for n in self._arg_names if n not in args]
        if missing:
            raise MXNetError(f"bind: no array given for arguments {missing}")
        aux = _as_dict(self._aux_names, aux_states, "bind aux_states", allow_missing=False)
        missing = [n for n in self._aux_names if n not in aux]
        if missing:
            raise MXNetError(f"bind: no array given for auxiliary states {missing}")
        for n, a in {**args, **aux}.items():
            if not isinstance(a, NDArray):
                raise TypeError(f"bind: '{n}' must be an NDArray, got {type(a).__name__}")
        self.arg_arrays = [args[n] for n in self._arg_names]
        self.aux_arrays = [aux[n] for n in self._aux_names]
        grads = _as_dict(self._arg_names, args_grad, "bind args_grad", allow_missing=True)
        reqs = _grad_reqs(self._arg_names, grad_req)
        # MXNet: an argument without a gradient array gets no gradient, whatever grad_req says
        self._reqs = {n: r if grads.get(n) is not None else "null" for n, r in reqs.items()}
        self.grad_arrays = [grads.get(n) if self._reqs[n] != "null" else None for n in self._arg_names]
        self._specs = self._check_shapes()
        self._plans: dict[bool, Plan] = {}
        self._last_plan: Plan | None = None
        self.outputs: list = []

    # -- binding ------------------------------------------------------------------------------------------
    def _check_shapes(self) -> dict[str, TensorSpec]:
        from ..symbol.infer import infer_graph
        from ..symbol.symbol import topo_order

        shapes = {n: a.shape for n, a in zip(self._arg_names + self._aux_names, self.arg_arrays + self.aux_arrays,
                                             strict=True)}
        dtypes = {n: np.dtype(a.dtype) for n, a in zip(self._arg_names + self._aux_names,
                                                      self.arg_arrays + self.aux_arrays, strict=True)}
        g = infer_graph(self._symbol, shapes, dtypes)
        for node in topo_order(self._symbol._outputs):
            if node.schema is None:
                continue
            for k in range(node.num_outputs):
                if g.spec(node, k) is None:
                    raise ShapeError(f"bind: cannot infer the shape of node '{node.name}' (operator '{node.op}')")
        return {n: TensorSpec(tuple(shapes[n]), dtypes[n]) for n in shapes}

    def _plan(self, is_train: bool) -> Plan:  # noqa: FBT001
        plan = self._plans.get(is_train)
        if plan is None:
            reqs = self._reqs if is_train else None
            plan = build_plan(self._symbol, self._ctx, self._specs, self._arg_names, self._aux_names, reqs, is_train)
            plan.values = [None] * len(plan.specs)
            self._compile(plan)
            self._plans[is_train] = plan
        return plan

    def _compile(self, plan: Plan) -> None:
        from ..dispatch import kernel_for
        from ..plugins import backend_for

        backend = backend_for(self._ctx)
        self._backend = backend
        add_kernels: dict = {}

        def add(a, b):
            fn = add_kernels.get(a.dtype)
            if fn is None:
                fn = add_kernels[a.dtype] = kernel_for("elemwise_add", self._ctx, np.dtype(a.dtype))
            return fn(a, b)

        self._assign, self._add = backend.assign, add
        compile_program(plan.forward, plan, backend.assign, add)
        if plan.backward is not None:
            compile_program(plan.backward, plan, backend.assign, add)

    # -- running ------------------------------------------------------------------------------------------
    def forward(self, is_train: bool = False, **kwargs) -> list:  # noqa: FBT001
        """Run the graph; keyword arrays are first copied into the arguments of those names."""
        from ..ndarray.ndarray import _wrap

        for name, value in kwargs.items():
            if name not in self.arg_dict:
                raise MXNetError(f"forward: unknown argument '{name}' (arguments: {self._arg_names})")
            dst = self.arg_dict[name]
            if hasattr(value, "shape") and tuple(value.shape) != dst.shape:
                raise ShapeError(f"forward: '{name}' has shape {tuple(value.shape)}, bound shape is {dst.shape} "
                                 "(use reshape() to change shapes)")
            dst[:] = value
        plan = self._plan(bool(is_train))
        v = plan.values
        for slot, a in zip(plan.arg_slots.values(), self.arg_arrays, strict=True):
            v[slot] = a._data
        for slot, a in zip(plan.aux_slots.values(), self.aux_arrays, strict=True):
            v[slot] = a._data
        run(plan.forward, plan, v, self._assign, self._add)
        ctx = self._ctx
        self.outputs = [_wrap(v[s] if s not in plan.consts else plan.consts[s], ctx) for s in plan.head_slots]
        self._last_plan = plan
        return self.outputs

    def backward(self, out_grads=None, is_train: bool = True) -> None:  # noqa: FBT001
        """Gradients of the outputs (times `out_grads`, default ones) into the gradient arrays per grad_req."""
        from ..ndarray.ndarray import NDArray

        plan = self._last_plan
        if plan is None or not plan.is_train:
            raise MXNetError("backward: call forward(is_train=True) first")
        if plan.backward is None:
            return
        if out_grads is None:
            out_grads = [None] * len(plan.head_slots)
        elif isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        if len(out_grads) != len(plan.head_slots):
            raise MXNetError(f"backward: {len(out_grads)} out_grads for {len(plan.head_slots)} outputs")
        v = plan.values
        for slot, h, g in zip(plan.head_grad_slots, plan.head_slots, out_grads, strict=True):
            spec = plan.specs[h]
            if g is None:
                v[slot] = self._ones(spec)
            else:
                if tuple(g.shape) != spec.shape:
                    raise ShapeError(f"backward: out_grad shape {tuple(g.shape)} does not match output shape "
                                     f"{spec.shape}")
                data = g._data if g.dtype == spec.dtype.type else g.astype(spec.dtype)._data
                v[slot] = data
        for n, slot in plan.grad_slots.items():
            v[slot] = self.grad_dict[n]._data
        run(plan.backward, plan, v, self._assign, self._add)

    def _ones(self, spec: TensorSpec):
        from ..ndarray import ones

        return ones(spec.shape, ctx=self._ctx, dtype=spec.dtype)._data

    # -- dictionaries -------------------------------------------------------------------------------------
    @property
    def arg_dict(self) -> dict:
        return dict(zip(self._arg_names, self.arg_arrays, strict=True))

    @property
    def grad_dict(self) -> dict:
        return {n: g for n, g in zip(self._arg_names, self.grad_arrays, strict=True) if g is not None}

    @property
    def aux_dict(self) -> dict:
        return dict(zip(self._aux_names, self.aux_arrays, strict=True))

    @property
    def output_dict(self) -> dict:
        return dict(zip(self._symbol.list_outputs(), self.outputs, strict=False))

    def copy_params_from(self, arg_params: Mapping, aux_params: Mapping | None = None,
                         allow_extra_params: bool = False) -> None:  # noqa: FBT001
        """Copy arrays into the bound arguments and auxiliary states of the same names."""
        for table, target, what in ((arg_params, self.arg_dict, "argument"), (aux_params or {}, self.aux_dict, "aux")):
            for name, value in table.items():
                if name in target:
                    target[name][:] = value.as_in_context(self._ctx) if hasattr(value, "as_in_context") else value
                elif not allow_extra_params:
                    raise MXNetError(f"copy_params_from: '{name}' is not an {what} of the symbol")

    def reshape(self, partial_shaping: bool = False, allow_up_sizing: bool = False, **kwargs) -> Executor:  # noqa: FBT001
        """A new executor for new input shapes, sharing the arrays whose shapes do not change."""
        from ..ndarray import zeros

        known = {n: a.shape for n, a in self.arg_dict.items() if n not in kwargs}
        arg_shapes, _, aux_shapes = self._symbol.infer_shape(**{**known, **kwargs})
        if arg_shapes is None:
            raise ShapeError(f"reshape: cannot infer every shape from {kwargs}")

        def same_or_new(arr, shape, name):
            if arr is None:
                return None
            if tuple(arr.shape) == tuple(shape):
                return arr
            if name not in kwargs and not partial_shaping:
                raise MXNetError(f"reshape: the shape of '{name}' changes {arr.shape} -> {tuple(shape)}; "
                                 "pass partial_shaping=True to allow it")
            return zeros(shape, ctx=self._ctx, dtype=arr.dtype)

        args = [same_or_new(a, s, n) for n, a, s in zip(self._arg_names, self.arg_arrays, arg_shapes, strict=True)]
        grads = [same_or_new(g, s, n) for n, g, s in zip(self._arg_names, self.grad_arrays, arg_shapes, strict=True)]
        aux = [same_or_new(a, s, n) for n, a, s in zip(self._aux_names, self.aux_arrays, aux_shapes, strict=True)]
        grads_dict = {n: g for n, g in zip(self._arg_names, grads, strict=True) if g is not None}
        return Executor(self._symbol, self._ctx, args, grads_dict or None, self._reqs, aux)

    def debug_str(self) -> str:
        plan = self._plan(False)
        return "\n".join(f"{st.node}: {st.op}{tuple(st.inputs)} -> {tuple(st.outputs)}" for st in plan.forward.steps)


def simple_bind(sym, ctx, grad_req="write", type_dict=None, shapes=None) -> Executor:
    """Infer every argument and auxiliary state from the given shapes (and dtypes), allocate them (zeros),
    allocate gradient arrays where grad_req asks, and bind."""
    from ..ndarray import zeros
    from ..symbol.infer import infer_graph

    ctx = ctx or current_context()
    shapes = dict(shapes or {})
    g = infer_graph(sym, shapes, dict(type_dict or {}))
    nodes = {n.name: n for n in g.nodes if n.schema is None}
    arg_names, aux_names = sym.list_arguments(), sym.list_auxiliary_states()

    def alloc(name):
        s = g.spec(nodes[name])
        if s is None:
            raise ShapeError(f"simple_bind: cannot infer the shape of '{name}' from {shapes}; give it as "
                             f"simple_bind({name}=shape)")
        return zeros(s.shape, ctx=ctx, dtype=s.dtype)

    args = [alloc(n) for n in arg_names]
    aux = [alloc(n) for n in aux_names]
    reqs = _grad_reqs(arg_names, grad_req)
    grads = {n: zeros(a.shape, ctx=ctx, dtype=a.dtype) for n, a in zip(arg_names, args, strict=True)
             if reqs[n] != "null"}
    return Executor(sym, ctx, args, grads, reqs, aux)
