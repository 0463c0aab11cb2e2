"""`mx.sym.Custom`: MXNet's legacy custom operators (mx.operator.CustomOp/CustomOpProp) inside Symbol graphs.

Names and shapes are compared with MXNet 1.9 (tests/oracle/record_custom_symbol.py and its JSON); results and
gradients with `mx.nd.Custom` under autograd and with a NumPy reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import assert_almost_equal

from ..oracle.custom_symbol_ops import define

ORACLE = json.loads((Path(__file__).parents[1] / "oracle" / "custom_symbol_mxnet_1_9_1.json").read_text())


SEEN: list = []
define(mx, SEEN)


def _softmax_net():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc")
    return mx.sym.Custom(data=fc, op_type="rec_softmax", name="softmax")


def _shapes(triple):
    return [[list(s) for s in part] for part in triple]


def test_names_and_shapes_as_mxnet():
    sm = _softmax_net()
    want = ORACLE["softmax"]
    assert sm.list_arguments() == want["arguments"]
    assert sm.list_outputs() == want["outputs"]
    assert sm.list_auxiliary_states() == want["aux"]
    assert _shapes(sm.infer_shape(data=(4, 5))) == want["infer_shape"]
    anon = mx.sym.Custom(mx.sym.var("data"), op_type="rec_softmax")
    assert anon.name == ORACLE["anonymous"]["name"]
    assert anon.list_arguments() == ORACLE["anonymous"]["arguments"]
    assert anon.list_outputs() == ORACLE["anonymous"]["outputs"]
    st = mx.sym.Custom(mx.sym.var("data"), op_type="rec_stats", scale=2.5, name="st")
    want = ORACLE["stats"]
    assert (st.list_arguments(), st.list_outputs(), st.list_auxiliary_states()) == \
        (want["arguments"], want["outputs"], want["aux"])
    assert _shapes(st.infer_shape(data=(2, 3))) == want["infer_shape"]
    assert st.infer_type(data=np.float64)[1] == [np.float64, np.float64]


def test_json_attributes_are_mxnets_strings_and_round_trip():
    for sym, want in ((_softmax_net(), ORACLE["softmax"]["attrs"]),
                      (mx.sym.Custom(mx.sym.var("data"), op_type="rec_stats", scale=2.5, name="st"),
                       ORACLE["stats"]["attrs"])):
        nodes = json.loads(sym.tojson())["nodes"]
        assert [n.get("attrs", {}) for n in nodes if n["op"] == "Custom"] == want
        back = mx.sym.load_json(sym.tojson())
        assert back.tojson() == sym.tojson()
        assert back.list_arguments() == sym.list_arguments()
        assert back.list_auxiliary_states() == sym.list_auxiliary_states()


def test_softmax_graph_matches_nd_custom_with_autograd():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    label = np.array([0, 2, 1, 2])
    exe = _softmax_net().simple_bind(mx.cpu(), data=(4, 5))
    assert exe.arg_dict["softmax_label"].shape == (4,)
    exe.copy_params_from({"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.array(b)})
    out = exe.forward(is_train=True, data=mx.nd.array(x), softmax_label=mx.nd.array(label))[0]
    exe.backward()  # a loss layer (need_top_grad=False): no head gradient needed
    nx, nw, nb = mx.nd.array(x), mx.nd.array(w), mx.nd.array(b)
    for a in (nx, nw, nb):
        a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Custom(mx.nd.FullyConnected(nx, nw, nb, num_hidden=3), mx.nd.array(label),
                         op_type="rec_softmax")
    y.backward()
    assert_almost_equal(out, y)
    for name, arr in (("data", nx), ("fc_weight", nw), ("fc_bias", nb)):
        assert_almost_equal(exe.grad_dict[name], arr.grad, rtol=1e-5, atol=1e-6)
    # the reference: softmax, and (softmax - onehot) through the FullyConnected layer
    z = x @ w.T + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert_almost_equal(out, p, rtol=1e-5, atol=1e-6)
    d = p - np.eye(3)[label]
    assert_almost_equal(exe.grad_dict["fc_weight"], d.T @ x, rtol=1e-4, atol=1e-5)
    assert_almost_equal(exe.grad_dict["softmax_label"], np.zeros(4))  # req 'write', the op writes nothing


def test_kwargs_reach_the_prop_as_strings_and_aux_states_update():
    SEEN.clear()
    data = mx.sym.var("data")
    st = mx.sym.Custom(data, op_type="rec_stats", scale=2.5, name="st")
    assert SEEN and all(v == "2.5" for v in SEEN)
    head = st[0] + st[1] * 2
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    exe = head.simple_bind(mx.cpu(), data=(2, 3))
    exe.aux_dict["st_offset"][:] = 10
    out = exe.forward(is_train=True, data=mx.nd.array(x))[0]
    assert_almost_equal(out, 2.5 * x + 2 * (x + 10))
    assert_almost_equal(exe.aux_dict["st_offset"], np.full((2, 3), 11.0))  # forward wrote it in place
    exe.backward(mx.nd.ones((2, 3)))
    assert_almost_equal(exe.grad_dict["data"], np.full((2, 3), 2.5 + 2))
    exe.forward(is_train=False, data=mx.nd.array(x))
    assert_almost_equal(exe.aux_dict["st_offset"], np.full((2, 3), 11.0))
    SEEN.clear()
    back = mx.sym.load_json(head.tojson())
    assert SEEN and all(v == "2.5" for v in SEEN)
    exe = back.bind(mx.cpu(), {"data": mx.nd.array(x)}, aux_states={"st_offset": mx.nd.zeros((2, 3))})
    got = exe.forward()[0]
    assert_almost_equal(got, 2.5 * x + 2 * x)


def test_unregistered_op_type_in_a_file_is_named():
    text = mx.sym.Custom(mx.sym.var("data"), op_type="rec_stats", name="st").tojson()
    with pytest.raises(mx.MXNetError, match=r"Cannot find custom operator 'no_such_custom_op'"):
        mx.sym.load_json(text.replace("rec_stats", "no_such_custom_op"))
    with pytest.raises(mx.MXNetError, match=r"Cannot find custom operator 'no_such_custom_op'"):
        mx.sym.Custom(mx.sym.var("data"), op_type="no_such_custom_op")
    with pytest.raises(mx.MXNetError, match="'op_type' is required"):
        mx.sym.Custom(mx.sym.var("data"))
    with pytest.raises(mx.MXNetError, match=r"has no input \['bogus'\]"):
        mx.sym.Custom(mx.sym.var("data"), op_type="rec_softmax", bogus=mx.sym.var("y"))
