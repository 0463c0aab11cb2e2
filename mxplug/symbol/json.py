"""MXNet 1.9's symbol JSON: `Symbol.tojson`, `Symbol.save`, `mx.sym.load`, `mx.sym.load_json`.

The layout MXNet writes (nnvm's graph JSON)::

    {"nodes": [{"op": "null" | <operator>, "name": str, "attrs": {str: str}, "inputs": [[node, index, 0]]}],
     "arg_nodes": [indices of the "null" nodes], "node_row_ptr": [cumulative output counts],
     "heads": [[node, index, 0]], "attrs": {"mxnet_version": ["int", 10901]}}

Nodes come inputs first; attribute values are strings exactly as the Python front end wrote them
(``"num_hidden": "10"``, ``"no_bias": "False"``, ``"kernel": "(3, 3)"``). Files from MXNet before 0.9
(per-node ``param``/``attr`` objects instead of ``attrs``) are read too.

Reading validates everything before building anything: the structure, that inputs refer to earlier nodes
(so a file cannot describe a cycle), output indices, operator names (an unknown operator is refused with
its name and node) and attribute values. A bad file raises `FileFormatError`; nothing in a file is ever
executed or imported.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..base import FileFormatError, MXNetError
from ..ndarray.io import atomic_write
from ..registry import get as get_schema
from .symbol import Node, Symbol, topo_order

__all__ = ["to_json", "load_json", "load", "save", "MXNET_VERSION"]

MXNET_VERSION = 10901
_MAX_BYTES = 1 << 30  # a symbol file larger than this is not a graph anyone wrote


def graph_dict(sym: Symbol) -> dict[str, Any]:
    """The JSON object of a symbol (before serialisation)."""
    nodes = topo_order(sym._outputs)
    index = {id(n): i for i, n in enumerate(nodes)}
    out_nodes, row_ptr = [], [0]
    mutations: dict[int, int] = {}  # variable node -> how many operators so far mutate it (nnvm's version)
    for n in nodes:
        entry: dict[str, Any] = {"op": n.op, "name": n.name}
        attrs = n.all_attrs()
        if attrs:
            entry["attrs"] = attrs
        inputs = []
        for (src, i), name in zip(n.inputs, n.input_names, strict=True):
            version = 0
            if name in n.aux_names and src.schema is None:  # an auxiliary state this operator updates
                version = mutations[id(src)] = mutations.get(id(src), 0) + 1
            inputs.append([index[id(src)], i, version])
        entry["inputs"] = inputs
        out_nodes.append(entry)
        row_ptr.append(row_ptr[-1] + n.num_outputs)
    return {
        "nodes": out_nodes,
        "arg_nodes": [i for i, n in enumerate(nodes) if n.schema is None],
        "node_row_ptr": row_ptr,
        "heads": [[index[id(n)], i, 0] for n, i in sym._outputs],
        "attrs": {"mxnet_version": ["int", MXNET_VERSION]},
    }


def to_json(sym: Symbol) -> str:
    """MXNet's layout: one object per node, short lists (inputs, heads, row pointers) on one line."""
    doc = graph_dict(sym)
    dump = json.dumps
    nodes = []
    for n in doc["nodes"]:
        fields = [f'      "op": {dump(n["op"])}', f'      "name": {dump(n["name"])}']
        if "attrs" in n:
            fields.append(f'      "attrs": {dump(n["attrs"])}')
        fields.append(f'      "inputs": {dump(n["inputs"])}')
        nodes.append("    {\n" + ",\n".join(fields) + "\n    }")
    parts = ['  "nodes": [\n' + ",\n".join(nodes) + ("\n  ]" if nodes else "]")]
    parts += [f'  "{key}": {dump(doc[key])}' for key in ("arg_nodes", "node_row_ptr", "heads", "attrs")]
    return "{\n" + ",\n".join(parts) + "\n}"


def save(sym: Symbol, fname: str | os.PathLike) -> None:
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a string or a path, got {type(fname).__name__}")
    data = to_json(sym).encode("utf-8")
    atomic_write(os.fspath(fname), lambda f: f.write(data))


def load(fname: str | os.PathLike) -> Symbol:
    """Read a symbol file written by `Symbol.save` or by MXNet."""
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a string or a path, got {type(fname).__name__}")
    path = os.fspath(fname)
    with open(path, "rb") as f:
        raw = f.read(_MAX_BYTES + 1)
    if len(raw) > _MAX_BYTES:
        raise FileFormatError(f"{path}: not a symbol file: larger than {_MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileFormatError(f"{path}: not a symbol file: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return load_json(text, source=path)


def load_json(json_str: str, source: str = "<json>") -> Symbol:
    """Build a symbol from MXNet's JSON text."""
    if isinstance(json_str, (bytes, bytearray)):
        try:
            json_str = bytes(json_str).decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileFormatError(f"{source}: not a symbol file: not UTF-8 text ({e.reason})") from None
    if not isinstance(json_str, str):
        raise TypeError(f"load_json expects a string, got {type(json_str).__name__}")
    try:
        doc = json.loads(json_str)
    except RecursionError:
        raise FileFormatError(f"{source}: not a symbol file: JSON nested too deeply") from None
    except ValueError as e:
        raise FileFormatError(f"{source}: not a symbol file: invalid JSON ({e})") from None
    return _Reader(source).graph(doc)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, what: str) -> FileFormatError:
        return FileFormatError(f"{self.source}: not a valid MXNet symbol file: {what}")

    def _entry(self, raw: Any, where: str, nodes: list[Node], limit: int) -> tuple[Node, int]:
        if (not isinstance(raw, list) or not 2 <= len(raw) <= 3
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw)):
            raise self.fail(f"{where}: an input entry must be [node, index, version] integers, got {_short(raw)}")
        node_id, index = raw[0], raw[1]
        if not 0 <= node_id < limit:
            raise self.fail(f"{where}: refers to node {node_id}, which is not an earlier node (0..{limit - 1})")
        node = nodes[node_id]
        if not 0 <= index < node.num_outputs:
            raise self.fail(f"{where}: output {index} of node '{node.name}', which has {node.num_outputs} outputs")
        return node, index

    def _attrs(self, raw: dict, i: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        for key in ("attrs", "attr", "param"):  # "attr"/"param": files from MXNet before 0.9
            value = raw.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in value.items()):
                raise self.fail(f"node #{i}: '{key}' must be an object of strings")
            attrs.update(value)
        return attrs

    def _node(self, raw: Any, i: int, nodes: list[Node]) -> Node:
        if not isinstance(raw, dict):
            raise self.fail(f"node #{i} is not an object")
        op, name = raw.get("op"), raw.get("name")
        if not isinstance(op, str) or not isinstance(name, str):
            raise self.fail(f"node #{i} needs string 'op' and 'name'")
        attrs = self._attrs(raw, i)
        raw_inputs = raw.get("inputs", [])
        if not isinstance(raw_inputs, list):
            raise self.fail(f"node #{i} ('{name}'): 'inputs' must be a list")
        inputs = [self._entry(e, f"node #{i} ('{name}')", nodes, i) for e in raw_inputs]
        if op == "null":
            if inputs:
                raise self.fail(f"variable node #{i} ('{name}') has inputs")
            return Node(None, name, None, attrs)
        try:
            schema = get_schema(op)
        except MXNetError:
            raise self.fail(f"node #{i} ('{name}') uses operator '{op}', which mxplug does not have "
                            "(no registry entry and no plugin declares it)") from None
        if schema.name == "Custom":  # every plain attribute is a parameter of the Prop (MXNet's custom op)
            is_param = (lambda k: not (k.startswith("__") and k.endswith("__")))
        else:
            is_param = schema.attrs.__contains__
        params = {k: v for k, v in attrs.items() if is_param(k)}
        user = {k: v for k, v in attrs.items() if not is_param(k)}
        try:
            node = Node(schema, name, params, user)
        except MXNetError as e:
            raise self.fail(f"node #{i} ('{name}', operator '{op}'): {e}") from None
        node.inputs = inputs
        node.input_names = self._input_names(node, len(inputs), i)
        return node

    def _input_names(self, node: Node, count: int, i: int) -> tuple[str, ...]:
        """Which schema input each listed input feeds: the inputs these attributes make the operator take
        (rules.input_names), else its declared inputs with optional ones taken in declared order."""
        schema = node.schema
        if node.custom is not None:
            if count != len(node.signature):
                raise self.fail(f"node #{i} ('{node.name}', custom operator '{node.custom.op_type}') has {count} "
                                f"inputs; the operator takes {node.signature}")
            return tuple(node.signature)
        fixed = [n for n in schema.inputs if n != schema.variadic]
        rule = node.rules.input_names
        names = [n for n in rule(node.attrs) if n != schema.variadic] if rule else fixed
        if schema.variadic is not None and count >= len(names):
            return (*names, *[schema.variadic] * (count - len(names)))
        if count == len(names):
            return tuple(names)
        required = [n for n in names if n not in schema.optional_inputs]
        if rule is None and len(required) <= count <= len(fixed):
            return tuple(fixed[:count])
        raise self.fail(f"node #{i} ('{node.name}', operator '{schema.name}') has {count} inputs; "
                        f"with its attributes the operator takes {names}")

    def graph(self, doc: Any) -> Symbol:
        if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
            raise self.fail("the top level must be an object with a 'nodes' list")
        nodes: list[Node] = []
        for i, raw in enumerate(doc["nodes"]):
            nodes.append(self._node(raw, i, nodes))
        heads = doc.get("heads")
        if not isinstance(heads, list) or not heads:
            raise self.fail("'heads' must be a non-empty list of [node, index, version] entries")
        outputs = [self._entry(h, "heads", nodes, len(nodes)) for h in heads]
        return Symbol(outputs)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
