"""Shape and dtype inference over a symbol graph, from each operator's `@infer` and `@infer_inputs` rules.

Forward: a node whose inputs are all known gets its outputs from `@infer` (the rule `mx.nd` runs). Backward:
a node with unknown inputs asks `@infer_inputs` (FullyConnected's weight from data and num_hidden). Both
repeat until nothing changes, so a parameter deduced late still lets the nodes after it be inferred. Dtypes
first spread from what is known (parameters take their data's dtype; an output takes its input's, or its
`dtype` attribute) so that shape inference can call the exact rules; the exact rules then win.
Errors keep their class (ShapeError, DTypeError…) and name the node and its operator.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..base import MXNetError, ShapeError
from ..ndarray.format_mxnet import TYPE_FLAGS
from ..ops import TensorSpec
from .symbol import Node, Symbol, topo_order

__all__ = ["infer_shape", "infer_type", "infer_graph", "GraphSpecs"]

Key = tuple[int, int]  # (id(node), output index)


class GraphSpecs:
    """The result of inference: shape and dtype per node output (None where unknown)."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.shape: dict[Key, tuple[int, ...] | None] = {}
        self.dtype: dict[Key, np.dtype | None] = {}

    def spec(self, node: Node, index: int = 0) -> TensorSpec | None:
        key = (id(node), index)
        shape, dtype = self.shape.get(key), self.dtype.get(key)
        return None if shape is None or dtype is None else TensorSpec(shape, dtype)


def _node_error(node: Node, err: Exception, in_specs: Sequence[Any]) -> MXNetError:
    shapes = ", ".join(f"{n}={src.output_name(i)} {None if s is None else s.shape}"
                       for n, (src, i), s in zip(node.input_names, node.inputs, in_specs, strict=False))
    msg = f"shape inference failed at node '{node.name}' (operator '{node.op}', inputs {shapes}): {err}"
    cls = type(err) if isinstance(err, MXNetError) else ShapeError
    try:
        return cls(msg)
    except TypeError:  # an error class with another constructor
        return ShapeError(msg)


def _var_shape(node: Node) -> tuple[int, ...] | None:
    text = node.user.get("__shape__")
    if text is None:
        return None
    try:
        shape = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(not isinstance(d, int) or d <= 0 for d in shape):  # MXNet's 0 marks an unknown dimension
        return None
    return shape


def _var_dtype(node: Node) -> np.dtype | None:
    flag = node.user.get("__dtype__")
    if flag is None:
        return None
    try:
        return np.dtype(TYPE_FLAGS[int(flag)])
    except (ValueError, KeyError):
        return None


def _given(sym: Symbol, args: Sequence[Any], kwargs: Mapping[str, Any], what: str) -> dict[str, Any]:
    if args:
        if kwargs:
            raise MXNetError(f"{what}: give the values positionally or by name, not both")
        names = sym.list_arguments()
        if len(args) > len(names):
            raise MXNetError(f"{what}: {len(args)} values for {len(names)} arguments {names}")
        kwargs = {n: a for n, a in zip(names, args, strict=False) if a is not None}
    inputs = set(sym.list_inputs())
    for key in kwargs:
        if key not in inputs:
            raise MXNetError(f"{what}: the symbol has no input named '{key}' (inputs: {sorted(inputs)})")
    return dict(kwargs)


def infer_graph(sym: Symbol, shapes: Mapping[str, Sequence[int]], dtypes: Mapping[str, Any],
                default_dtype: Any = "float32") -> GraphSpecs:
    """Infer every node output's shape and dtype from the given variable shapes and dtypes; variables whose
    dtype nothing determines get `default_dtype` (None: they stay unknown)."""
    nodes = topo_order(sym._outputs)
    g = GraphSpecs(nodes)
    for n in nodes:
        if n.schema is None:
            key = (id(n), 0)
            shape = shapes.get(n.name)
            g.shape[key] = tuple(int(d) for d in shape) if shape is not None else _var_shape(n)
            dt = dtypes.get(n.name)
            g.dtype[key] = np.dtype(dt) if dt is not None else _var_dtype(n)
    _spread_dtypes(g)
    if default_dtype is not None:
        for n in nodes:
            if n.schema is None and g.dtype[(id(n), 0)] is None:
                g.dtype[(id(n), 0)] = np.dtype(default_dtype)
        _spread_dtypes(g)
    _fixed_point(g)
    return g


def _attrs(node: Node) -> Mapping[str, Any]:
    if node.schema.train_aware:
        return {**node.attrs, "is_train": False}
    return node.attrs


def _spread_dtypes(g: GraphSpecs) -> None:
    """Dtypes where shapes are not needed (MXNet's elementwise type rule): an operator's inputs and outputs
    share one dtype — the first known among its inputs, else its outputs' — unless a `dtype` attribute sets
    the outputs'. Parameters thus take their data's dtype. The exact rules later override outputs."""
    changed = True
    while changed:
        changed = False
        for n in g.nodes:
            if n.schema is None:
                continue
            own = n.attrs.get("dtype") if "dtype" in n.schema.attrs else None
            if not n.inputs and own is None and "dtype" in n.schema.attrs:
                own = "float32"
            outs = [(id(n), k) for k in range(n.num_outputs)]
            ins = [(id(s), i) for s, i in n.inputs]
            known = next((g.dtype[k] for k in ins if g.dtype.get(k) is not None), None)
            if known is None and own is None:
                known = next((g.dtype[k] for k in outs if g.dtype.get(k) is not None), None)
            if known is not None:
                for k in ins:
                    if g.dtype.get(k) is None:
                        g.dtype[k] = known
                        changed = True
            out_dtype = np.dtype(own) if own is not None else known
            if out_dtype is not None:
                for k in outs:
                    if g.dtype.get(k) is None:
                        g.dtype[k] = out_dtype
                        changed = True


def _fixed_point(g: GraphSpecs) -> None:
    done: set[int] = set()
    changed = True
    while changed:
        changed = False
        for n in g.nodes:
            if n.schema is None or id(n) in done:
                continue
            if n.custom is not None:
                state = _custom(g, n)
                changed |= state is not None
                if state:
                    done.add(id(n))
                continue
            in_specs = n.arrange([g.spec(s, i) for s, i in n.inputs])
            attrs = _attrs(n)
            present = [x for x, src in zip(in_specs, n.arrange(n.inputs), strict=True) if src is not None]
            if all(x is not None for x in present):
                r = n.rules
                if r.infer is None and r.composite is not None:
                    out = _infer_composite(n, attrs, in_specs)
                elif r.infer is None:
                    raise MXNetError(f"operator '{n.op}' (node '{n.name}') has no shape inference rule")
                else:
                    try:
                        out = r.infer(attrs, *in_specs)
                    except Exception as e:
                        raise _node_error(n, e, n.unarrange(in_specs)) from None
                out = [out] if isinstance(out, TensorSpec) else list(out)
                for k, s in enumerate(out[:n.num_outputs]):
                    g.shape[(id(n), k)], g.dtype[(id(n), k)] = tuple(s.shape), np.dtype(s.dtype)
                done.add(id(n))
                changed = True
            elif n.rules.infer_inputs is not None:
                changed |= _backward(g, n, attrs, in_specs)


def _custom(g: GraphSpecs, n: Node) -> bool | None:
    """A legacy custom operator: its Prop's infer_shape deduces outputs, and missing arguments and auxiliary
    states (a label's shape from the data's), as MXNet asks it. Unknown shapes reach it as [] (MXNet's
    unknown shape); a Prop that cannot cope with them is asked again once they are known.
    True: outputs inferred; False: inputs deduced; None: nothing yet."""
    call = n.custom
    keys = [(id(src), i) for src, i in n.inputs]
    n_args = len(call.arguments)
    shapes = [g.shape.get(k) for k in keys]
    complete = all(s is not None for s in shapes[:n_args])
    try:
        ins, outs, auxs = call.infer_shapes([s if s is not None else () for s in shapes[:n_args]])
    except Exception as e:
        if not complete:
            return None
        raise _node_error(n, e, [g.spec(src, i) for src, i in n.inputs]) from None
    deduced = False
    for key, old, new in zip(keys, shapes, list(ins) + list(auxs), strict=True):
        if old is None and new and all(d > 0 for d in new):
            g.shape[key] = new
            deduced = True
    if not complete or any(g.dtype.get(k) is None for k in keys[:n_args]):
        return False if deduced else None
    try:
        _, out_types = call.infer([g.shape[k] for k in keys[:n_args]], [g.dtype[k] for k in keys[:n_args]])
    except Exception as e:
        raise _node_error(n, e, [g.spec(src, i) for src, i in n.inputs]) from None
    for k, (shape, dtype) in enumerate(zip(outs, out_types, strict=True)):
        g.shape[(id(n), k)], g.dtype[(id(n), k)] = tuple(shape), np.dtype(dtype)
    return True


def _backward(g: GraphSpecs, n: Node, attrs, in_specs: list) -> bool:
    try:
        deduced = n.rules.infer_inputs(attrs, *in_specs)
    except Exception as e:
        raise _node_error(n, e, n.unarrange(in_specs)) from None
    changed = False
    for (src, i), name, old, new in zip(n.inputs, n.input_names, n.unarrange(in_specs), n.unarrange(list(deduced)),
                                        strict=True):
        if new is None:
            continue
        if old is not None:
            if tuple(old.shape) != tuple(new.shape):
                raise ShapeError(f"shape inference failed at node '{n.name}' (operator '{n.op}'): input "
                                 f"'{name}' ({src.output_name(i)}) has shape {old.shape}, expected {tuple(new.shape)}")
            continue
        key = (id(src), i)
        g.shape[key] = tuple(new.shape)
        if g.dtype.get(key) is None:
            g.dtype[key] = np.dtype(new.dtype)
        changed = True
    return changed


def _infer_composite(n: Node, attrs, in_specs):
    """Composite operators have no rule of their own: trace their body over shapes."""
    from ..executor.trace import Tracer

    tracer = Tracer(None)
    values = [None if s is None else tracer.placeholder(s) for s in in_specs]
    try:
        out = n.rules.composite(tracer, attrs, *values)
    except Exception as e:
        raise _node_error(n, e, n.unarrange(in_specs)) from None
    outs = [out] if not isinstance(out, (list, tuple)) else list(out)
    return [o.spec for o in outs]


# -- the Symbol methods -----------------------------------------------------------------------------------
def _collect(sym: Symbol, g: GraphSpecs, table: str):
    nodes = g.nodes
    by_name = {n.name: n for n in nodes if n.schema is None}
    store = getattr(g, table)
    args = [store.get((id(by_name[a]), 0)) for a in sym.list_arguments()]
    aux = [store.get((id(by_name[a]), 0)) for a in sym.list_auxiliary_states()]
    outs = [store.get((id(n), i)) for n, i in sym._outputs]
    return args, outs, aux


def infer_shape(sym: Symbol, args: Sequence[Any], kwargs: Mapping[str, Any], partial: bool):
    given = _given(sym, args, kwargs, "infer_shape")
    g = infer_graph(sym, given, {})
    arg_s, out_s, aux_s = _collect(sym, g, "shape")
    if not partial and any(s is None for s in (*arg_s, *out_s, *aux_s)):
        return None, None, None
    fill = (lambda xs: [() if s is None else s for s in xs])
    return fill(arg_s), fill(out_s), fill(aux_s)


def infer_type(sym: Symbol, args: Sequence[Any], kwargs: Mapping[str, Any]):
    given = _given(sym, args, kwargs, "infer_type")
    g = infer_graph(sym, {}, given, default_dtype=None)
    arg_t, out_t, aux_t = _collect(sym, g, "dtype")
    if any(t is None for t in (*arg_t, *out_t, *aux_t)):
        return None, None, None
    as_type = (lambda xs: [t.type for t in xs])
    return as_type(arg_t), as_type(out_t), as_type(aux_t)
