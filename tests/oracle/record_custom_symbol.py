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
import numpy as np


class _Softmax(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        x = in_data[0].asnumpy()
        y = np.exp(x - x.max(axis=1).reshape((x.shape[0], 1)))
        y /= y.sum(axis=1).reshape((x.shape[0], 1))
        self.assign(out_data[0], req[0], mx.nd.array(y))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        label = in_data[1].asnumpy().ravel().astype(int)
        y = out_data[0].asnumpy()
        y[np.arange(label.shape[0]), label] -= 1.0
        self.assign(in_grad[0], req[0], mx.nd.array(y))


@mx.operator.register("rec_softmax")
class _SoftmaxProp(mx.operator.CustomOpProp):
    def __init__(self):
        super().__init__(need_top_grad=False)

    def list_arguments(self):
        return ["data", "label"]

    def infer_shape(self, in_shape):
        return [in_shape[0], (in_shape[0][0],)], [in_shape[0]], []

    def create_operator(self, ctx, shapes, dtypes):
        return _Softmax()


class _Stats(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] * self.scale)
        self.assign(out_data[1], req[1], in_data[0] + aux[0])


@mx.operator.register("rec_stats")
class _StatsProp(mx.operator.CustomOpProp):
    def __init__(self, scale="1"):
        super().__init__()
        self.scale = float(scale)

    def list_outputs(self):
        return ["scaled", "shifted"]

    def list_auxiliary_states(self):
        return ["offset"]

    def infer_shape(self, in_shape):
        return in_shape, [in_shape[0], in_shape[0]], [in_shape[0]]

    def create_operator(self, ctx, shapes, dtypes):
        op = _Stats()
        op.scale = self.scale
        return op


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
