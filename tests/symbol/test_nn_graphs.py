"""The acceptance graphs: an MLP and a LeNet with the NN families' operators (FullyConnected, Convolution,
BatchNorm, Activation, Pooling, Flatten, SoftmaxOutput) — names, shapes, MXNet's files and summaries, and
executor results and gradients equal to nd + autograd."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx

ORACLE = Path(__file__).resolve().parents[1] / "oracle" / "symbol"
sys.path.insert(0, str(ORACLE))
from nets import NN_NETS, SHAPES, build  # noqa: E402


@pytest.mark.parametrize("name", NN_NETS)
def test_mxnet_file_loads_with_mxnet_names(name):
    sym = mx.sym.load(ORACLE / f"mxnet_{name}.json")
    with mx.name.NameManager():
        ours = build(mx, name)
    assert json.loads(ours.tojson())["nodes"] == json.loads((ORACLE / f"mxnet_{name}.json").read_text())["nodes"]
    assert sym.list_arguments() == ours.list_arguments()
    assert sym.list_auxiliary_states() == ours.list_auxiliary_states()
    assert sym.infer_shape(**SHAPES[name]) == ours.infer_shape(**SHAPES[name])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(ours, SHAPES[name])
    assert buf.getvalue() == (ORACLE / f"summary_{name}.txt").read_text()


@pytest.mark.parametrize("name", NN_NETS)
def test_executor_equals_imperative(name):
    rng = np.random.default_rng(3)
    with mx.name.NameManager():
        net = build(mx, name)
    exe = net.simple_bind(mx.cpu(), **SHAPES[name])
    for k, a in {**exe.arg_dict, **exe.aux_dict}.items():
        if k.endswith("moving_var"):
            a[:] = 1.0
        elif not k.endswith(("label", "moving_mean")):
            a[:] = mx.nd.array(rng.normal(0, 0.3, a.shape))
    exe.arg_dict["softmax_label"][:] = mx.nd.array(rng.integers(0, 4, exe.arg_dict["softmax_label"].shape))
    values = {k: a.copy() for k, a in {**exe.arg_dict, **exe.aux_dict}.items()}
    out = exe.forward(is_train=True)[0].asnumpy()
    exe.backward()
    # the same graph imperatively: evaluate node by node with nd, under autograd
    arrays = {k: v.copy() for k, v in values.items()}
    for k in exe.arg_dict:
        arrays[k].attach_grad()
    with mx.autograd.record():
        ref = _run_imperatively(net, arrays)
    ref.backward()
    np.testing.assert_allclose(out, ref.asnumpy(), rtol=1e-5, atol=1e-6)
    for k, g in exe.grad_dict.items():
        if not k.endswith("label"):
            np.testing.assert_allclose(g.asnumpy(), arrays[k].grad.asnumpy(), rtol=1e-4, atol=1e-5, err_msg=k)


def _run_imperatively(net, arrays):
    from mxplug.symbol.symbol import topo_order

    vals = {}
    for node in topo_order(net._outputs):
        if node.schema is None:
            vals[(id(node), 0)] = arrays[node.name]
            continue
        fn = getattr(mx.nd.op, node.op)
        ins = node.arrange([vals[(id(s), i)] for s, i in node.inputs])
        out = fn(*ins, **node.params) if node.schema.variadic else fn(
            **{n: x for n, x in zip([i for i in node.schema.inputs], ins, strict=False) if x is not None},
            **node.params)
        outs = out if isinstance(out, list) else [out]
        for k, o in enumerate(outs):
            vals[(id(node), k)] = o
    head, idx = net._outputs[0]
    return vals[(id(head), idx)]
