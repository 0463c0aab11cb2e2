"""`Symbol`: a declared computation graph, MXNet 1.9's `mx.sym.Symbol`.

A symbol is a list of output entries ``(node, index)``. A `Node` is an operator application (its registry
schema, its name, its attributes as MXNet writes them — strings — and its inputs as entries) or, with no
schema, a variable. Nodes are immutable once made; composition (`net(data=other)`) copies the graph.
Operators are the registry's, the same as `mx.nd`'s: one schema, one inference rule, one semantics.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import attribute as _attribute
from .. import name as _name
from ..base import MXNetError, OperatorAttributeError
from ..ndarray.format_mxnet import TYPE_FLAGS
from ..ops import OpRules, rules
from ..registry import OpSchema

__all__ = ["Symbol", "Node", "Variable", "var", "Group", "topo_order", "HIDDEN_KEYS"]

# MXNet stores these user attributes as `__key__` (and lists them under both spellings).
HIDDEN_KEYS = frozenset({"ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope"})
DTYPE_FLAG = {name: str(flag) for flag, name in TYPE_FLAGS.items()}  # numpy name -> mshadow flag (as a string)
STORAGE_TYPE_ID = {"default": 0, "row_sparse": 1, "csr": 2}
# The initialisers MXNet gives auxiliary states it creates (BatchNorm's FSetInputVarAttrOnCompose).
_AUX_INIT = {"moving_mean": '["zero", {}]', "moving_var": '["one", {}]', "moving_inv_var": '["one", {}]'}


def _hidden(key: str) -> str:
    return f"__{key}__" if key in HIDDEN_KEYS else key


def attr_string(schema: OpSchema, key: str, value: Any) -> str:
    """An attribute value as MXNet's Python front end writes it into the graph (`str(value)`, dtypes by
    name)."""
    spec = schema.attrs.get(key)
    if isinstance(value, str):
        return value
    if spec is not None and spec.kind == "dtype" and value is not None:
        return np.dtype(value).name
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


class Node:
    """One operator application, or a variable when `schema` is None."""

    __slots__ = ("schema", "name", "params", "user", "inputs", "input_names", "attrs", "num_outputs",
                 "num_visible", "custom", "__weakref__")

    def __init__(self, schema: OpSchema | None, name: str, params: dict[str, str] | None = None,
                 user: dict[str, str] | None = None, inputs: Sequence[tuple[Node, int]] = (),
                 input_names: Sequence[str] = ()) -> None:
        self.schema = schema
        self.name = name
        self.params = dict(params or {})  # operator attributes as given (strings), what JSON stores
        self.user = dict(user or {})  # other attributes: __shape__, __lr_mult__, ctx_group, user keys
        self.inputs = list(inputs)
        self.input_names = tuple(input_names)  # the schema input each entry of `inputs` feeds
        self.custom = None  # mx.operator.CustomCall of a Custom node: its signature comes from the Prop
        if schema is not None and schema.name == "Custom":
            self._init_custom()
        elif schema is None:
            self.attrs: Mapping[str, Any] = {}
            self.num_outputs = self.num_visible = 1
        else:
            self.attrs = schema.parse_attrs(self.params)
            r = self.rules
            self.num_outputs = r.num_outputs(self.attrs) if r.num_outputs else len(schema.outputs)
            self.num_visible = r.visible_outputs(self.attrs) if r.visible_outputs else self.num_outputs

    def _init_custom(self) -> None:
        """MXNet's legacy custom operator: every parameter but op_type is a string for the Prop's __init__;
        the Prop lists the arguments, outputs and auxiliary states (and raises for an unregistered op_type)."""
        from ..operator import CustomCall

        op_type = self.params.get("op_type")
        if op_type is None:
            raise OperatorAttributeError("operator 'Custom': attribute 'op_type' is required (the registered name)")
        self.custom = CustomCall(op_type, {k: v for k, v in self.params.items() if k != "op_type"})
        self.attrs = dict(self.params)
        self.num_outputs = self.num_visible = len(self.custom.outputs)

    @property
    def signature(self) -> list[str]:
        """A Custom node's inputs: the Prop's arguments, then its auxiliary states."""
        return self.custom.arguments + self.custom.aux

    @property
    def is_variable(self) -> bool:
        return self.schema is None

    @property
    def op(self) -> str:
        return "null" if self.schema is None else self.schema.name

    @property
    def rules(self) -> OpRules:
        return rules(self.schema.name)

    def output_name(self, index: int) -> str:
        if self.schema is None:
            return self.name
        if self.custom is not None:
            return f"{self.name}_{self.custom.outputs[index]}"
        names = self.schema.outputs
        if len(names) == self.num_outputs:
            return f"{self.name}_{names[index]}"
        return f"{self.name}_output{index}" if self.num_outputs > 1 else f"{self.name}_output"

    def all_attrs(self) -> dict[str, str]:
        """Parameters and user attributes together, as one JSON `attrs` object (sorted, as MXNet)."""
        return dict(sorted({**self.params, **self.user}.items()))

    def arrange(self, values: Sequence[Any]) -> list[Any]:
        """Values given per entry of `inputs` → the schema's input order (None for an absent optional
        input; the variadic ones last), as inference, kernels and gradients take them."""
        schema = self.schema
        if self.custom is not None:  # inputs are already in the Prop's order
            return list(values)
        by_name = dict(zip(self.input_names, values, strict=False))
        out = [by_name.get(n) for n in schema.inputs if n != schema.variadic]
        if schema.variadic is not None:
            out += [v for n, v in zip(self.input_names, values, strict=True) if n == schema.variadic]
        return out

    def unarrange(self, values: Sequence[Any]) -> list[Any]:
        """The inverse of `arrange`: schema-ordered values → one per entry of `inputs`."""
        schema = self.schema
        if self.custom is not None:
            return list(values)
        fixed = [n for n in schema.inputs if n != schema.variadic]
        by_name = dict(zip(fixed, values, strict=False))
        rest = iter(values[len(fixed):])
        return [next(rest) if n == schema.variadic else by_name.get(n) for n in self.input_names]

    @property
    def aux_names(self) -> frozenset[str]:
        if self.custom is not None:
            return frozenset(self.custom.aux)
        return frozenset(self.schema.aux_inputs) if self.schema is not None else frozenset()

    def __repr__(self) -> str:
        return f"<Node {self.op} {self.name}>"


Entry = tuple[Node, int]


def topo_order(heads: Sequence[Entry]) -> list[Node]:
    """Every node reachable from `heads`, inputs first: a depth-first post-order visiting inputs in order
    (MXNet's order: it fixes list_arguments and the JSON's node order). Iterative (no recursion limit)."""
    order: list[Node] = []
    seen: set[int] = set()
    for head, _ in heads:
        if id(head) in seen:
            continue
        seen.add(id(head))
        stack: list[tuple[Node, int]] = [(head, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                child = node.inputs[i][0]
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, 0))
            else:
                stack.pop()
                order.append(node)
    return order


def _aux_variable_ids(nodes: Sequence[Node]) -> set[int]:
    ids = set()
    for node in nodes:
        aux = node.aux_names
        if aux:
            for (src, _), name in zip(node.inputs, node.input_names, strict=True):
                if name in aux and src.schema is None:
                    ids.add(id(src))
    return ids


class Symbol:
    """A symbolic graph with one or more outputs (MXNet's `mx.sym.Symbol`).

    >>> import mxplug as mx
    >>> x = mx.sym.var('x')
    >>> y = mx.sym.exp(x) * 2 + x
    >>> y.list_arguments()
    ['x']
    >>> y.eval(x=mx.nd.array([0.0]))[0].asnumpy().tolist()
    [2.0]
    """

    __slots__ = ("_outputs", "__weakref__")

    def __init__(self, outputs: Sequence[Entry]) -> None:
        self._outputs = list(outputs)

    # -- structure --------------------------------------------------------------------------------------
    def _nodes(self) -> list[Node]:
        return topo_order(self._outputs)

    @property
    def name(self) -> str | None:
        """The node's name for a single-output symbol; None for a group."""
        return self._outputs[0][0].name if len(self._outputs) == 1 else None

    def __len__(self) -> int:
        return len(self._outputs)

    def __iter__(self) -> Iterator[Symbol]:
        return (Symbol([e]) for e in self._outputs)

    def __getitem__(self, index: int | str) -> Symbol:
        if isinstance(index, str):
            names = self.list_outputs()
            matches = [i for i, n in enumerate(names) if n == index]
            if not matches:
                raise ValueError(f"symbol has no output named {index!r} (outputs: {names})")
            if len(matches) > 1:
                raise ValueError(f"more than one output is named {index!r}")
            index = matches[0]
        if isinstance(index, slice):
            return Symbol(self._outputs[index])
        if not isinstance(index, numbers.Integral):
            raise TypeError(f"symbol index must be an int, a slice or an output name, got {type(index).__name__}")
        if not -len(self._outputs) <= index < len(self._outputs):
            raise IndexError(f"symbol output index {index} out of range ({len(self._outputs)} outputs)")
        return Symbol([self._outputs[index]])

    def list_outputs(self) -> list[str]:
        return [node.output_name(i) for node, i in self._outputs]

    def list_arguments(self) -> list[str]:
        """Names of the variables that are not auxiliary states, in graph order."""
        nodes = self._nodes()
        aux = _aux_variable_ids(nodes)
        return [n.name for n in nodes if n.schema is None and id(n) not in aux]

    def list_auxiliary_states(self) -> list[str]:
        """Names of the variables fed to operators' auxiliary inputs (BatchNorm's moving mean/var)."""
        nodes = self._nodes()
        aux = _aux_variable_ids(nodes)
        return [n.name for n in nodes if n.schema is None and id(n) in aux]

    def list_inputs(self) -> list[str]:
        """Every variable, arguments and auxiliary states, in graph order."""
        return [n.name for n in self._nodes() if n.schema is None]

    def get_internals(self) -> Symbol:
        """A group of every output of every node of the graph, in graph order."""
        return Symbol([(n, i) for n in self._nodes() for i in range(n.num_outputs)])

    def get_children(self) -> Symbol | None:
        """The inputs of this symbol's output nodes as a group; None for a variable."""
        entries = [e for node, _ in self._outputs for e in node.inputs]
        return Symbol(entries) if entries else None

    # -- attributes -------------------------------------------------------------------------------------
    def attr(self, key: str) -> str | None:
        """An attribute of the single output node (`ctx_group` finds `__ctx_group__`); None if absent."""
        if len(self._outputs) != 1:
            return None
        node = self._outputs[0][0]
        stored = node.all_attrs()
        return stored.get(key, stored.get(_hidden(key)))

    def list_attr(self, recursive: bool = False) -> dict[str, str]:  # noqa: FBT001
        """The attributes of the output node (hidden keys under both spellings, as MXNet lists them)."""
        if recursive:
            raise MXNetError("Symbol.list_attr(recursive=True) is deprecated in MXNet; use attr_dict()")
        if len(self._outputs) != 1:
            return {}
        return _listed(self._outputs[0][0])

    def attr_dict(self) -> dict[str, dict[str, str]]:
        """{node name: attributes} for every node of the graph that has any."""
        return {n.name: _listed(n) for n in self._nodes() if n.params or n.user}

    def _set_attr(self, **kwargs: str) -> None:
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError(f"attribute '{key}' must be a string, got {type(value).__name__}")
            for node, _ in self._outputs:
                node.user[_hidden(key)] = value

    # -- composition ------------------------------------------------------------------------------------
    def __call__(self, *args: Symbol, **kwargs: Any) -> Symbol:
        """Compose: a copy of this graph with variables replaced by symbols (positionally in
        list_arguments() order, or by name)."""
        name = kwargs.pop("name", None)
        subst: dict[str, Entry] = {}
        if args:
            if kwargs:
                raise MXNetError("compose: give the replacements positionally or by name, not both")
            arguments = self.list_arguments()
            if len(args) > len(arguments):
                raise MXNetError(f"compose: {len(args)} symbols for {len(arguments)} arguments {arguments}")
            kwargs = dict(zip(arguments, args, strict=False))
        inputs = set(self.list_inputs())
        for key, value in kwargs.items():
            if not isinstance(value, Symbol) or len(value) != 1:
                raise TypeError(f"compose: '{key}' must be a single-output Symbol, got {type(value).__name__}")
            if key not in inputs:
                raise MXNetError(f"compose: the symbol has no variable named '{key}' (variables: {sorted(inputs)})")
            subst[key] = value._outputs[0]
        out = Symbol(copy_graph(self._outputs, subst))
        if name is not None and len(out) == 1:
            out._outputs[0][0].name = name
        return out

    def __copy__(self) -> Symbol:
        return Symbol(copy_graph(self._outputs, {}))

    def __deepcopy__(self, memo) -> Symbol:
        return self.__copy__()

    copy = __copy__

    # -- inference ----------------------------------------------------------------------------------------
    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) from known argument shapes; (None, None, None) when some
        shape stays unknown. Raises ShapeError naming the node when shapes contradict."""
        from .infer import infer_shape

        return infer_shape(self, args, kwargs, partial=False)

    def infer_shape_partial(self, *args, **kwargs):
        """As infer_shape, with () for the shapes that stay unknown."""
        from .infer import infer_shape

        return infer_shape(self, args, kwargs, partial=True)

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as NumPy scalar types; None entries when unknown."""
        from .infer import infer_type

        return infer_type(self, args, kwargs)

    # -- files --------------------------------------------------------------------------------------------
    def tojson(self) -> str:
        """The graph in MXNet 1.9's JSON format."""
        from .json import to_json

        return to_json(self)

    def save(self, fname: str, remove_amp_cast: bool = True) -> None:  # noqa: FBT001
        """Write `tojson()` to a file, atomically."""
        from .json import save

        save(self, fname)

    def debug_str(self) -> str:
        lines = []
        for n in self._nodes():
            if n.schema is None:
                lines.append(f"Variable:{n.name}")
            else:
                ins = ", ".join(src.output_name(i) for src, i in n.inputs)
                lines.append(f"Op:{n.op}, Name={n.name}\nInputs:\n\t{ins}")
        return "\n".join(lines)

    # -- execution ----------------------------------------------------------------------------------------
    def simple_bind(self, ctx=None, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, **kwargs):
        """Allocate every argument, gradient and auxiliary array from the given input shapes and bind."""
        from ..executor import simple_bind

        return simple_bind(self, ctx, grad_req=grad_req, type_dict=type_dict, shapes=kwargs)

    def bind(self, ctx=None, args=None, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
             shared_exec=None):
        """Bind arrays to the arguments (a list in list_arguments() order, or a dict) and compile."""
        from ..executor import Executor

        return Executor(self, ctx, args, args_grad, grad_req, aux_states)

    def eval(self, ctx=None, **kwargs):
        """Bind the given arrays, run forward once and return the outputs (a list of NDArrays)."""
        from ..executor import Executor

        exe = Executor(self, ctx, kwargs, None, "null", None)
        return exe.forward(is_train=False)

    # -- Python operators ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        if len(self._outputs) == 1:
            return f"<Symbol {self._outputs[0][0].name}>"
        return "<Symbol group [" + ", ".join(n.name for n, _ in self._outputs) + "]>"

    __str__ = __repr__

    def __bool__(self) -> bool:
        raise MXNetError("the truth value of a Symbol is undefined (it is a graph, not a value)")

    __hash__ = object.__hash__

    def __neg__(self) -> Symbol:
        return _apply("_mul_scalar", "_mulscalar", [self], {"scalar": -1.0})

    def __pos__(self) -> Symbol:
        return self

    def __abs__(self) -> Symbol:
        return _apply("abs", "abs", [self], {})

    def __getstate__(self):
        return {"json": self.tojson()}

    def __setstate__(self, state) -> None:
        from .json import load_json

        self._outputs = load_json(state["json"])._outputs

    def __reduce__(self):
        return (_from_json, (self.tojson(),))

    # Fluent methods (x.sum(), x.reshape(...)) are bound from the operator functions in __init__.


def _from_json(text: str) -> Symbol:
    from .json import load_json

    return load_json(text)


def _listed(node: Node) -> dict[str, str]:
    out = {}
    for key, value in node.all_attrs().items():
        out[key] = value
        if key.startswith("__") and key.endswith("__") and key[2:-2] in HIDDEN_KEYS:
            out[key[2:-2]] = value
    return out


def copy_graph(outputs: Sequence[Entry], subst: Mapping[str, Entry]) -> list[Entry]:
    """Copy the graph behind `outputs`, replacing variables named in `subst` by the given entries."""
    new: dict[int, Node] = {}
    replaced: dict[int, Entry] = {}
    for node in topo_order(outputs):
        if node.schema is None and node.name in subst:
            replaced[id(node)] = subst[node.name]
            continue
        inputs = [replaced.get(id(src)) or (new[id(src)], i) for src, i in node.inputs]
        copy = object.__new__(Node)
        for slot in Node.__slots__[:-1]:
            setattr(copy, slot, getattr(node, slot))
        copy.params, copy.user, copy.inputs = dict(node.params), dict(node.user), inputs
        new[id(node)] = copy
    return [replaced.get(id(n)) or (new[id(n)], i) for n, i in outputs]


# -- construction ---------------------------------------------------------------------------------------------
def Variable(name: str, attr: dict[str, str] | None = None, shape=None, lr_mult=None, wd_mult=None,  # noqa: N802
             dtype=None, init=None, stype=None, **kwargs) -> Symbol:
    """A placeholder (MXNet's `mx.sym.Variable`): an input, a parameter or an auxiliary state.

    >>> import mxplug as mx
    >>> w = mx.sym.var('w', shape=(3, 4), lr_mult=2.0, dtype='float16')
    >>> sorted(w.list_attr().items())
    [('__dtype__', '2'), ('__lr_mult__', '2.0'), ('__shape__', '(3, 4)'), ('lr_mult', '2.0')]
    """
    if not isinstance(name, str):
        raise TypeError(f"Variable name must be a string, got {type(name).__name__}")
    user = {_hidden(k): v for k, v in _attribute.current().get(attr).items()}
    for key, value in user.items():
        if not isinstance(value, str):
            raise ValueError(f"Variable '{name}': attribute '{key}' must be a string, got {value!r}")
    if shape is not None:
        user["__shape__"] = str(tuple(shape) if isinstance(shape, list) else shape)
    if lr_mult is not None:
        user["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        user["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        dt = np.dtype(dtype).name
        if dt not in DTYPE_FLAG:
            raise TypeError(f"Variable '{name}': dtype {dt} is not one MXNet supports ({', '.join(DTYPE_FLAG)})")
        user["__dtype__"] = DTYPE_FLAG[dt]
    if init is not None:
        user["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        if stype not in STORAGE_TYPE_ID:
            raise ValueError(f"Variable '{name}': unknown stype {stype!r} (one of {', '.join(STORAGE_TYPE_ID)})")
        user["__storage_type__"] = str(STORAGE_TYPE_ID[stype])
    for key, value in kwargs.items():
        if not (key.startswith("__") and key.endswith("__")):
            raise ValueError(f"Variable '{name}': unknown argument '{key}' (extra attributes must be __dunder__)")
        user[key] = str(value)
    return Symbol([(Node(None, name, None, user), 0)])


var = Variable


def Group(symbols: Sequence[Symbol]) -> Symbol:  # noqa: N802
    """One symbol whose outputs are the outputs of `symbols`, in order."""
    if not symbols or any(not isinstance(s, Symbol) for s in symbols):
        raise TypeError("Group expects a non-empty list of Symbols")
    return Symbol([e for s in symbols for e in s._outputs])


def _entry(op: str, label: str, value: Any) -> Entry:
    if not isinstance(value, Symbol):
        raise TypeError(f"operator '{op}': input '{label}' expects a Symbol, got {type(value).__name__}")
    if len(value) != 1:
        raise MXNetError(
            f"operator '{op}': input '{label}' got a symbol with {len(value)} outputs {value.list_outputs()}; "
            "pick one with sym[i]"
        )
    return value._outputs[0]


def create(schema: OpSchema, hint: str, inputs: dict[str, Any], variadic: list[Any], params: dict[str, Any],
           name: str | None, attr: dict[str, str] | None) -> Symbol:
    """Make a node applying `schema` and return its visible outputs as a Symbol.

    `inputs` maps fixed input names to Symbols (absent: not given), `variadic` holds the variadic inputs,
    `params` the attribute values as given. Inputs the operator takes (rules.input_names, else its
    non-optional inputs) that were not given become variables named ``<name>_<input>``.
    """
    op = schema.name
    if schema.variadic is not None and "num_args" in schema.attrs and "num_args" not in params:
        params = {**params, "num_args": len(variadic)}
    str_params = {k: attr_string(schema, k, v) for k, v in params.items()}
    attrs = schema.parse_attrs(str_params)  # validates early, naming the operator
    r = rules(op)
    node_name = _name.current().get(name, hint)
    user = {_hidden(k): v for k, v in _attribute.current().get(attr).items()}
    fixed = [i for i in schema.inputs if i != schema.variadic]
    if r.input_names is not None:
        active = [i for i in r.input_names(attrs) if i != schema.variadic]
        for given in inputs:
            if given not in active:
                raise OperatorAttributeError(
                    f"operator '{op}': input '{given}' is not used with these attributes (it takes {active})"
                )
    else:
        active = [i for i in fixed if i not in schema.optional_inputs or i in inputs]
    entries: list[Entry] = []
    names: list[str] = []
    for inp in active:
        if inp in inputs:
            entries.append(_entry(op, inp, inputs[inp]))
        else:
            var_user = dict(str_params)
            if inp in schema.aux_inputs and inp in _AUX_INIT:
                var_user["__init__"] = _AUX_INIT[inp]
            entries.append((Node(None, f"{node_name}_{inp}", None, var_user), 0))
        names.append(inp)
    for v in variadic:
        entries.append(_entry(op, schema.variadic, v))
        names.append(schema.variadic)
    node = Node(schema, node_name, str_params, user, entries, names)
    return Symbol([(node, i) for i in range(node.num_visible)])


def create_custom(schema: OpSchema, data: Sequence[Any], kwargs: dict[str, Any], name: str | None,
                  attr: dict[str, str] | None) -> Symbol:
    """`mx.sym.Custom`: inputs positionally (the Prop's arguments, then auxiliary states) or by their names;
    every other keyword argument is stored as a string (MXNet's JSON) and reaches the Prop's __init__.
    Missing inputs become variables named ``<name>_<input>``, as MXNet makes them."""
    given = {k: v for k, v in kwargs.items() if isinstance(v, Symbol)}
    params = {k: attr_string(schema, k, v) for k, v in kwargs.items() if k not in given and v is not None}
    node_name = _name.current().get(name, "custom")
    user = {_hidden(k): v for k, v in _attribute.current().get(attr).items()}
    node = Node(schema, node_name, params, user)  # validates op_type, builds the Prop
    wanted = node.signature
    if len(data) > len(wanted):
        raise OperatorAttributeError(f"operator 'Custom' ({params['op_type']}) takes {len(wanted)} inputs "
                                     f"{wanted}, got {len(data)}")
    for key, value in zip(wanted, data, strict=False):
        if key in given:
            raise OperatorAttributeError(f"operator 'Custom' got input '{key}' twice")
        given[key] = value
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        raise OperatorAttributeError(f"operator 'Custom' ({params['op_type']}) has no input {unknown} "
                                     f"(its inputs: {wanted})")
    entries: list[Entry] = []
    for inp in wanted:
        if inp in given:
            entries.append(_entry("Custom", inp, given[inp]))
        else:
            entries.append((Node(None, f"{node_name}_{inp}", None, dict(params)), 0))
    node.inputs, node.input_names = entries, tuple(wanted)
    return Symbol([(node, i) for i in range(node.num_visible)])


def _apply(op: str, hint: str, inputs: list[Symbol], params: dict[str, Any]) -> Symbol:
    from ..registry import get

    schema = get(op)
    named = dict(zip([i for i in schema.inputs if i != schema.variadic], inputs, strict=False))
    return create(schema, hint, named, [], params, None, None)


def _binary(array_op: str, array_hint: str, scalar_op: str | None, scalar_hint: str | None,
            rscalar_op: str | None = None, rscalar_hint: str | None = None):
    def method(self, other):
        if isinstance(other, Symbol):
            return _apply(array_op, array_hint, [self, other], {})
        if isinstance(other, numbers.Number) and scalar_op is not None:
            return _apply(scalar_op, scalar_hint, [self], {"scalar": other})
        return NotImplemented

    def rmethod(self, other):
        if isinstance(other, numbers.Number) and rscalar_op is not None:
            return _apply(rscalar_op, rscalar_hint, [self], {"scalar": other})
        return NotImplemented

    return method, rmethod


# Symbol ⊕ Symbol uses the broadcasting operators (NDArray's semantics: one semantics for both front ends)
# under MXNet's node names (_plus0, _minus0, ...); Symbol ⊕ number uses the scalar operators, named as MXNet.
Symbol.__add__, Symbol.__radd__ = _binary("broadcast_add", "_plus", "_plus_scalar", "_plusscalar",
                                          "_plus_scalar", "_plusscalar")
Symbol.__sub__, Symbol.__rsub__ = _binary("broadcast_sub", "_minus", "_minus_scalar", "_minusscalar",
                                          "_rminus_scalar", "_rminusscalar")
Symbol.__mul__, Symbol.__rmul__ = _binary("broadcast_mul", "_mul", "_mul_scalar", "_mulscalar",
                                          "_mul_scalar", "_mulscalar")
Symbol.__truediv__, Symbol.__rtruediv__ = _binary("broadcast_div", "_div", "_div_scalar", "_divscalar",
                                                  "_rdiv_scalar", "_rdivscalar")
Symbol.__mod__, Symbol.__rmod__ = _binary("broadcast_mod", "_mod", "_mod_scalar", "_modscalar",
                                          "_rmod_scalar", "_rmodscalar")
Symbol.__pow__, Symbol.__rpow__ = _binary("broadcast_power", "_power", "_power_scalar", "_powerscalar",
                                          "_rpower_scalar", "_rpower_scalar")
Symbol.__eq__, _ = _binary("broadcast_equal", "_equal", "_equal_scalar", "_equal_scalar")
Symbol.__ne__, _ = _binary("broadcast_not_equal", "_not_equal", "_not_equal_scalar", "_not_equal_scalar")
Symbol.__gt__, _ = _binary("broadcast_greater", "_greater", "_greater_scalar", "_greater_scalar")
Symbol.__ge__, _ = _binary("broadcast_greater_equal", "_greater_equal", "_greater_equal_scalar",
                           "_greater_equal_scalar")
Symbol.__lt__, _ = _binary("broadcast_lesser", "_lesser", "_lesser_scalar", "_lesser_scalar")
Symbol.__le__, _ = _binary("broadcast_lesser_equal", "_lesser_equal", "_lesser_equal_scalar",
                           "_lesser_equal_scalar")
Symbol.__div__, Symbol.__rdiv__ = Symbol.__truediv__, Symbol.__rtruediv__
del _
