"""Record what MXNet 1.9 gives for a legacy custom operator inside a Symbol graph (tests/symbol/test_custom_symbol.py).

Run with the oracle interpreter from /tmp:
    /work/oracle/mxnet/bin/python /work/main/tests/oracle/record_custom_symbol.py
It writes custom_symbol_mxnet_1_9_1.json beside itself: argument/output/aux names, inferred shapes and the
JSON attributes of the Custom node.
"""

from __future__ import annotations

import json
from pathlib import Path

import mxnet as mx
from custom_symbol_ops import define  # beside this script: the operators the test defines too

define(mx, [])


def _node_attrs(sym, op_name):
    nodes = json.loads(sym.tojson())["nodes"]
    return [n.get("attrs", {}) for n in nodes if n["op"] == op_name]


def main() -> None:
    out = {}
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    sm = mx.sym.Custom(data=fc, op_type="rec_softmax", name="softmax")
    out["softmax"] = {
        "arguments": sm.list_arguments(), "outputs": sm.list_outputs(), "aux": sm.list_auxiliary_states(),
        "infer_shape": [list(map(list, x)) for x in sm.infer_shape(data=(4, 5))],
        "attrs": _node_attrs(sm, "Custom"),
    }
    anon = mx.sym.Custom(data, op_type="rec_softmax")
    out["anonymous"] = {"arguments": anon.list_arguments(), "outputs": anon.list_outputs(), "name": anon.name}
    st = mx.sym.Custom(data, op_type="rec_stats", scale=2.5, name="st")
    out["stats"] = {
        "arguments": st.list_arguments(), "outputs": st.list_outputs(), "aux": st.list_auxiliary_states(),
        "infer_shape": [list(map(list, x)) for x in st.infer_shape(data=(2, 3))],
        "attrs": _node_attrs(st, "Custom"),
    }
    path = Path(__file__).with_name("custom_symbol_mxnet_1_9_1.json")
    path.write_text(json.dumps({"mxnet": mx.__version__, **out}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
