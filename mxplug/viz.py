"""`mx.viz`: MXNet's network summary table and a Graphviz drawing of a symbol.

`print_summary` prints MXNet 1.9's table (layer, output shape, parameter count, previous layer), line for
line. `plot_network` returns a `graphviz.Digraph` when the optional `graphviz` package is installed;
`to_dot` returns the same drawing as DOT text and always works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

__all__ = ["print_summary", "plot_network", "to_dot"]


def _str2tuple(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def _param_count(node: dict, pre_filter: int, shape_dict: dict | None) -> int:
    """Parameters of a layer, counted as MXNet's print_summary counts them."""
    op, attrs = node["op"], node.get("attrs", {})
    if op in ("Convolution", "FullyConnected"):
        no_bias = attrs.get("no_bias") == "True"
        if op == "FullyConnected":
            hidden = int(attrs["num_hidden"])
            return pre_filter * hidden if no_bias else (pre_filter + 1) * hidden
        count = pre_filter * int(attrs["num_filter"]) // int(attrs.get("num_group", "1"))
        for k in _str2tuple(attrs["kernel"]):
            count *= int(k)
        return count if no_bias else count + int(attrs["num_filter"])
    if op == "BatchNorm" and shape_dict is not None:
        return int(shape_dict[node["name"] + "_output"][1]) * 2
    if op == "Embedding":
        return int(attrs["input_dim"]) * int(attrs["output_dim"])
    return 0


def summary_lines(symbol, shape: Mapping[str, Sequence[int]] | None = None, line_length: int = 120,
                  positions: Sequence[float] = (.44, .64, .74, 1.)) -> list[str]:
    """The lines `print_summary` prints."""
    from .symbol import Symbol

    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be Symbol")
    shape_dict = None
    if shape is not None:
        internals = symbol.get_internals()
        _, out_shapes, _ = internals.infer_shape(**shape)
        if out_shapes is None:
            raise ValueError("Input shape is incomplete")
        shape_dict = dict(zip(internals.list_outputs(), out_shapes, strict=True))
    conf = json.loads(symbol.tojson())
    nodes = conf["nodes"]
    heads = set(conf["heads"][0])  # sic: MXNet reads the numbers of the first head entry
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    lines: list[str] = []

    def row(fields) -> None:
        line = ""
        for field, pos in zip(fields, positions, strict=True):
            line += str(field)
            line = line[:pos]
            line += " " * (pos - len(line))
        lines.append(line)

    def shape_of(node: dict) -> list:
        key = node["name"] + "_output" if node["op"] != "null" else node["name"]
        return list(shape_dict[key][1:]) if shape_dict is not None and key in shape_dict else []

    lines.append("_" * line_length)
    row(["Layer (type)", "Output Shape", "Param #", "Previous Layer"])
    lines.append("=" * line_length)
    total = 0
    for i, node in enumerate(nodes):
        op = node["op"]
        if op == "null" and i > 0:
            continue
        out_shape = shape_of(node) if op != "null" or i in heads else []
        pre_node, pre_filter = [], 0
        if op != "null":
            for item in node["inputs"]:
                src = nodes[item[0]]
                if src["op"] != "null" or item[0] in heads:
                    pre_node.append(src["name"])
                    s = shape_of(src)
                    if s:
                        pre_filter += int(s[0])
        params = _param_count(node, pre_filter, shape_dict)
        row([f"{node['name']}({op})", "x".join(str(x) for x in out_shape), params, pre_node[0] if pre_node else ""])
        for extra in pre_node[1:]:
            row(["", "", "", extra])
        total += params
        lines.append(("=" if i == len(nodes) - 1 else "_") * line_length)
    lines.append(f"Total params: {total}")
    lines.append("_" * line_length)
    return lines


def print_summary(symbol, shape: Mapping[str, Sequence[int]] | None = None, line_length: int = 120,
                  positions: Sequence[float] = (.44, .64, .74, 1.)) -> None:
    """Print MXNet's layer table of `symbol` (output shapes and parameter counts when `shape` is given)."""
    print("\n".join(summary_lines(symbol, shape, line_length, positions)))


_FILL = {"Convolution": "#fb8072", "FullyConnected": "#fb8072", "BatchNorm": "#bebada", "Activation": "#ffffb3",
         "LeakyReLU": "#ffffb3", "Pooling": "#80b1d3", "Concat": "#fdb462", "Flatten": "#fdb462",
         "Reshape": "#fdb462", "SoftmaxOutput": "#b3de69"}


def _label(node: dict) -> str:
    op, attrs = node["op"], node.get("attrs", {})
    if op == "Convolution":
        kernel = "x".join(_str2tuple(attrs["kernel"]))
        stride = "x".join(_str2tuple(attrs.get("stride", "1")))
        return f"Convolution\\n{kernel}/{stride}, {attrs['num_filter']}"
    if op == "FullyConnected":
        return f"FullyConnected\\n{attrs['num_hidden']}"
    if op in ("Activation", "LeakyReLU"):
        return f"{op}\\n{attrs.get('act_type', '')}"
    return f"{op}\\n{node['name']}" if op != "null" else node["name"]


def _graph(symbol, hide_weights: bool) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:  # noqa: FBT001
    conf = json.loads(symbol.tojson())
    nodes = conf["nodes"]
    heads = {h[0] for h in conf["heads"]}
    hidden = set()
    out_nodes, edges = [], []
    for i, node in enumerate(nodes):
        if node["op"] == "null" and hide_weights and i not in heads and (
                node["name"].endswith(("_weight", "_bias", "_gamma", "_beta", "_moving_mean", "_moving_var",
                                       "_label"))):
            hidden.add(i)
            continue
        color = _FILL.get(node["op"], "#8dd3c7")
        shape = "oval" if node["op"] == "null" else "box"
        out_nodes.append((node["name"], _label(node), f'shape={shape}, style=filled, fillcolor="{color}"'))
        for item in node.get("inputs", []):
            if item[0] not in hidden:
                edges.append((node["name"], nodes[item[0]]["name"], 'dir=back, arrowtail=open'))
    return out_nodes, edges


def to_dot(symbol, title: str = "plot", hide_weights: bool = True) -> str:  # noqa: FBT001
    """The network as Graphviz DOT text (no dependency needed)."""
    nodes, edges = _graph(symbol, hide_weights)
    lines = [f"digraph {json.dumps(title)} {{", "  rankdir=BT;"]
    lines += [f"  {json.dumps(n)} [label={json.dumps(lbl).replace(chr(92) * 2, chr(92))}, {style}];"
              for n, lbl, style in nodes]
    lines += [f"  {json.dumps(a)} -> {json.dumps(b)} [{style}];" for a, b, style in edges]
    lines.append("}")
    return "\n".join(lines)


def plot_network(symbol, title: str = "plot", save_format: str = "pdf", shape=None, dtype=None,  # noqa: ARG001
                 node_attrs=None, hide_weights: bool = True):  # noqa: FBT001
    """The network as a `graphviz.Digraph` (needs the optional `graphviz` package; see `to_dot`)."""
    from .symbol import Symbol

    if not isinstance(symbol, Symbol):
        raise TypeError("symbol must be a Symbol")
    try:
        from graphviz import Digraph
    except ImportError:
        raise ImportError("mx.viz.plot_network needs the optional 'graphviz' package (pip install graphviz); "
                          "mx.viz.to_dot(symbol) gives the same drawing as DOT text without it") from None
    dot = Digraph(name=title, format=save_format)
    dot.attr(rankdir="BT")
    nodes, edges = _graph(symbol, hide_weights)
    for name, label, style in nodes:
        attrs = dict(p.split("=", 1) for p in style.replace('"', "").split(", "))
        attrs.update(node_attrs or {})
        dot.node(name=name, label=label.replace("\\n", "\n"), **attrs)
    for a, b, _ in edges:
        dot.edge(tail_name=a, head_name=b, dir="back", arrowtail="open")
    return dot
