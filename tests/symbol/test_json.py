"""MXNet 1.9 symbol JSON: round trips, MXNet's own files, hand-built files, hostile files, atomic saves."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mxplug as mx
from mxplug.base import FileFormatError

ORACLE = Path(__file__).resolve().parents[1] / "oracle" / "symbol"
sys.path.insert(0, str(ORACLE))
from nets import ELEMWISE_NETS, SHAPES, build  # noqa: E402


def _graph(text: str) -> list:
    """A graph as comparable data: per node (op, name, attrs, inputs), plus heads."""
    doc = json.loads(text)
    return [(n["op"], n["name"], n.get("attrs", {}), [e[:2] for e in n["inputs"]]) for n in doc["nodes"]] + [
        [h[:2] for h in doc["heads"]]]


# MXNet's Symbol ⊕ Symbol operators are its same-shape ones; ours broadcast (NDArray's semantics) under the
# same node names. Everything else must match MXNet's file exactly.
_SAME_SHAPE = {"elemwise_add": "broadcast_add", "elemwise_sub": "broadcast_sub", "elemwise_mul": "broadcast_mul",
               "elemwise_div": "broadcast_div", "_power": "broadcast_power"}


@pytest.mark.parametrize("name", ELEMWISE_NETS)
def test_our_json_is_mxnets_graph(name):
    with mx.name.NameManager():
        ours = build(mx, name).tojson()
    theirs = _graph((ORACLE / f"mxnet_{name}.json").read_text())
    theirs = [(_SAME_SHAPE.get(n[0], n[0]), *n[1:]) if isinstance(n, tuple) else n for n in theirs]
    assert _graph(ours) == theirs
    doc = json.loads(ours)
    assert doc["attrs"] == {"mxnet_version": ["int", 10901]}
    mx_doc = json.loads((ORACLE / f"mxnet_{name}.json").read_text())
    assert doc["arg_nodes"] == mx_doc["arg_nodes"] and doc["node_row_ptr"] == mx_doc["node_row_ptr"]


@pytest.mark.parametrize("name", ELEMWISE_NETS)
def test_mxnet_files_load_and_run(name):
    sym = mx.sym.load(ORACLE / f"mxnet_{name}.json")
    with mx.name.NameManager():
        ref = build(mx, name)
    assert sym.list_arguments() == ref.list_arguments()
    assert sym.list_outputs() == ref.list_outputs()
    assert sym.infer_shape(**SHAPES[name]) == ref.infer_shape(**SHAPES[name])
    assert sym.attr_dict() == ref.attr_dict()


@pytest.mark.parametrize("name", ELEMWISE_NETS)
def test_mxnet_loads_our_files(name):
    """record_symbol.py had MXNet 1.9.1 load ours_<net>.json; those files are still what we write."""
    with mx.name.NameManager():
        net = build(mx, name)
    assert (ORACLE / f"ours_{name}.json").read_text() == net.tojson()
    seen = json.loads((ORACLE / "mxnet_loads_ours.json").read_text())[name]
    _, out_shapes, _ = net.infer_shape(**SHAPES[name])
    assert seen == {"arguments": net.list_arguments(), "outputs": net.list_outputs(),
                    "aux": net.list_auxiliary_states(), "out_shapes": [list(s) for s in out_shapes]}


def test_round_trip_through_a_file(tmp_path):
    x = mx.sym.var("x", shape=(2, 2), lr_mult=3.0)
    with mx.AttrScope(group="a"):
        net = mx.sym.Group([mx.sym.split(x, num_outputs=2, axis=1)[1] * 2, mx.sym.sum(x, axis=(0,), keepdims=True)])
    path = tmp_path / "net-symbol.json"
    net.save(str(path))
    back = mx.sym.load(str(path))
    assert back.tojson() == net.tojson()
    assert back.list_attr() == {} and back.attr_dict() == net.attr_dict()
    assert mx.sym.load_json(net.tojson()).tojson() == net.tojson()


def test_hand_built_file_with_optional_inputs_and_legacy_keys():
    doc = {
        "nodes": [
            {"op": "null", "name": "a", "inputs": []},
            {"op": "null", "name": "b", "attr": {"__shape__": "(3,)"}, "inputs": []},
            {"op": "broadcast_add", "name": "s", "param": {}, "inputs": [[0, 0], [1, 0]]},
            {"op": "clip", "name": "c", "attrs": {"a_min": "0", "a_max": "1.5", "note": "kept"},
             "inputs": [[2, 0, 0]]},
        ],
        "arg_nodes": [0, 1], "heads": [[3, 0, 0]],
    }
    sym = mx.sym.load_json(json.dumps(doc))
    assert sym.list_arguments() == ["a", "b"] and sym.attr("note") == "kept"
    assert sym.infer_shape(a=(2, 3)) == ([(2, 3), (3,)], [(2, 3)], [])
    out = sym.eval(a=mx.nd.array([[0, 1, 2], [3, 4, 5]]), b=mx.nd.array([0.5, 0, -9]))[0]
    assert out.asnumpy().tolist() == [[0.5, 1.0, 0.0], [1.5, 1.5, 0.0]]


@pytest.mark.parametrize("doc, match", [
    ("not json", "invalid JSON"),
    ("[]", "top level"),
    ('{"nodes": [], "heads": []}', "heads"),
    ('{"nodes": [{"op": "null"}], "heads": [[0, 0, 0]]}', "string 'op' and 'name'"),
    ('{"nodes": [{"op": "FancyOp", "name": "f", "inputs": []}], "heads": [[0, 0, 0]]}',
     "operator 'FancyOp', which mxplug does not have"),
    ('{"nodes": [{"op": "exp", "name": "e", "inputs": [[0, 0, 0]]}], "heads": [[0, 0, 0]]}',
     "not an earlier node"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": []}, {"op": "exp", "name": "e", "inputs": [[0, 1, 0]]}],'
     ' "heads": [[1, 0, 0]]}', "output 1 of node 'x'"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": []}, {"op": "sum", "name": "s", "attrs": {"axis": "(("},'
     ' "inputs": [[0, 0, 0]]}], "heads": [[1, 0, 0]]}', "node #1 \\('s', operator 'sum'\\)"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": []}, {"op": "broadcast_add", "name": "a",'
     ' "inputs": [[0, 0, 0]]}], "heads": [[1, 0, 0]]}', "has 1 inputs"),
    ('{"nodes": [{"op": "null", "name": "x", "attrs": {"k": 1}, "inputs": []}], "heads": [[0, 0, 0]]}',
     "object of strings"),
    ('{"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": [[0, true, 0]]}', "integers"),
    ("[" * 100000 + "]" * 100000, "nested too deeply|invalid JSON|top level"),
])
def test_malformed_files_raise_clear_errors(doc, match):
    with pytest.raises(FileFormatError, match=match):
        mx.sym.load_json(doc)


def test_binary_garbage_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FileFormatError, match="not UTF-8"):
        mx.sym.load(path)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["op", "name", "inputs", "attrs", "nodes", "heads", "param"]) | st.text(max_size=4), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_fuzz_structured_json_never_escapes_as_another_error(doc):
    try:
        mx.sym.load_json(json.dumps(doc))
    except FileFormatError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_real_files(data):
    text = (ORACLE / "mxnet_split_concat.json").read_text()
    doc = json.loads(text)
    node = data.draw(st.integers(0, len(doc["nodes"]) - 1))
    key = data.draw(st.sampled_from(["op", "name", "inputs", "attrs"]))
    doc["nodes"][node][key] = data.draw(_json_values)
    try:
        sym = mx.sym.load_json(json.dumps(doc))
    except FileFormatError:
        return
    sym.list_arguments()  # a file that loads gives a usable symbol


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_bytes(raw):
    with pytest.raises(FileFormatError):
        mx.sym.load_json(raw)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "n-symbol.json"
    mx.sym.var("old").save(str(path))
    before = path.read_text()
    from mxplug.symbol import json as sym_json

    class Text(str):  # writing its bytes fails after the temporary file exists
        def encode(self, *args):
            return object()

    monkeypatch.setattr(sym_json, "to_json", lambda sym: Text("{}"))
    with pytest.raises(TypeError):
        mx.sym.var("new").save(str(path))
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["n-symbol.json"]
