"""Symbol construction, naming, attributes, structure queries and shape/dtype inference."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, MXNetError, OperatorAttributeError, ShapeError


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def test_automatic_names_count_per_hint_as_mxnet():
    x = mx.sym.var("x")
    assert mx.sym.exp(x).name == "exp0"
    assert mx.sym.exp(x).name == "exp1"
    assert mx.sym.cast(x, dtype="float16").name == "cast0"  # the alias called, lower-cased
    assert (x + x).name == "_plus0"
    assert (x + 1).name == "_plusscalar0"
    assert (1 - x).name == "_rminusscalar0"
    assert (-x).name == "_mulscalar0"
    assert (2 ** x).name == "_rpower_scalar0"
    assert (x > 1).name == "_greater_scalar0"
    assert (x == x).name == "_equal0"
    assert mx.sym.exp(x, name="mine").name == "mine"


def test_prefix_and_name_manager_scopes():
    x = mx.sym.var("x")
    with mx.name.Prefix("p_"):
        a = mx.sym.exp(x)
        b = mx.sym.exp(x, name="named")
    assert (a.name, b.name) == ("p_exp0", "p_named")
    with mx.name.NameManager():
        assert mx.sym.exp(x).name == "exp0"
    assert mx.sym.exp(x).name == "exp0"  # the outer (fixture's) manager had not counted exp yet


def test_variable_attributes_as_mxnet_stores_them():
    v = mx.sym.var("w", shape=(2, 3), lr_mult=0.5, wd_mult=2, dtype="float16", init="[\"zero\", {}]",
                   stype="csr", attr={"mood": "angry"}, __extra__="1")
    assert v.list_attr() == {
        "__shape__": "(2, 3)", "__lr_mult__": "0.5", "lr_mult": "0.5", "__wd_mult__": "2", "wd_mult": "2",
        "__dtype__": "2", "__init__": "[\"zero\", {}]", "__storage_type__": "2", "mood": "angry", "__extra__": "1",
    }
    assert v.attr("lr_mult") == "0.5" and v.attr("mood") == "angry" and v.attr("nothing") is None
    with pytest.raises(ValueError, match="dunder"):
        mx.sym.var("w", foo=1)
    with pytest.raises(ValueError, match="stype"):
        mx.sym.var("w", stype="bogus")


def test_attr_scope_and_explicit_attr():
    x = mx.sym.var("x")
    with mx.AttrScope(ctx_group="dev1", mood="x"):
        with mx.AttrScope(mood="y"):
            a = mx.sym.exp(x, attr={"foo": "bar"})
    assert a.list_attr() == {"__ctx_group__": "dev1", "ctx_group": "dev1", "mood": "y", "foo": "bar"}
    assert a.attr_dict() == {"exp0": a.list_attr()}
    with pytest.raises(ValueError, match="string"):
        mx.AttrScope(x=1)


def test_structure_queries():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    r = mx.sym.relu(x * 2, name="r")
    net = r + y
    assert net.list_arguments() == ["x", "y"]
    assert net.list_inputs() == ["x", "y"]
    assert net.list_outputs() == ["_plus0_output"]
    assert net.list_auxiliary_states() == []
    assert net.get_internals().list_outputs() == ["x", "_mulscalar0_output", "r_output", "y", "_plus0_output"]
    assert net.get_children().list_outputs() == ["r_output", "y"]
    assert x.get_children() is None
    assert repr(net) == "<Symbol _plus0>" and str(net) == "<Symbol _plus0>"
    g = mx.sym.Group([net, r])
    assert repr(g) == "<Symbol group [_plus0, r]>" and g.name is None and len(g) == 2
    assert g[1].name == "r" and g["r_output"].name == "r" and [s.name for s in g] == ["_plus0", "r"]
    with pytest.raises(IndexError):
        g[2]
    with pytest.raises(ValueError, match="no output named"):
        g["nope"]


def test_multi_output_operator_names_and_indexing():
    x = mx.sym.var("x")
    sp = mx.sym.split(x, num_outputs=3, axis=1)
    assert sp.list_outputs() == ["split0_output0", "split0_output1", "split0_output2"]
    assert sp[1].name == "split0" and repr(sp[1]) == "<Symbol split0>"
    with pytest.raises(MXNetError, match="pick one"):
        mx.sym.exp(sp)


def test_composition_replaces_variables():
    x = mx.sym.var("x")
    net = mx.sym.exp(x) + x
    z = mx.sym.var("z")
    composed = net(x=mx.sym.sin(z))
    assert composed.list_arguments() == ["z"]
    assert net.list_arguments() == ["x"]  # the original is untouched
    assert net(z).list_arguments() == ["z"]
    with pytest.raises(MXNetError, match="no variable named"):
        net(q=z)
    out = composed.eval(z=mx.nd.array([0.5]))[0].asnumpy()
    np.testing.assert_allclose(out, np.exp(np.sin(0.5)) + np.sin(0.5), rtol=1e-6)


def test_every_registry_operator_is_in_mx_sym_with_the_nd_signature():
    import inspect

    for name in mx.registry.all_ops():
        fn = getattr(mx.sym, name)
        nd_params = [p for p in inspect.signature(getattr(mx.nd.op, name)).parameters if p not in ("out", "name")]
        sym_params = [p for p in inspect.signature(fn).parameters if p not in ("name", "attr")]
        assert nd_params == sym_params, name
    assert mx.sym.linalg.gemm2 is mx.sym.linalg_gemm2
    assert mx.sym._internal._plus_scalar is mx.sym._plus_scalar
    with pytest.raises(AttributeError):
        mx.sym.no_such_operator_here


def test_runtime_registered_operator_appears_and_disappears():
    from mxplug.custom import register_operator, unregister_operator

    register_operator({"name": "_sym_triple", "inputs": ["data"], "doc": "3x."},
                      composite=lambda F, attrs, x: x * 3)
    try:
        y = mx.sym._sym_triple(mx.sym.var("x"))
        assert y.eval(x=mx.nd.array([1.0, 2.0]))[0].asnumpy().tolist() == [3.0, 6.0]
        assert y.infer_shape(x=(4,))[1] == [(4,)]
    finally:
        unregister_operator("_sym_triple")
    with pytest.raises(AttributeError):
        mx.sym._sym_triple


def test_operator_attribute_errors_at_creation():
    x = mx.sym.var("x")
    with pytest.raises(OperatorAttributeError, match="no attribute 'bogus'"):
        mx.sym.sum(x, bogus=1)
    with pytest.raises(OperatorAttributeError, match="num_outputs"):
        mx.sym.split(x)
    with pytest.raises(TypeError, match="expects a Symbol"):
        mx.sym.exp(mx.nd.ones((1,)))
    with pytest.raises(MXNetError, match="truth value"):
        bool(x)


def test_infer_shape_and_partial():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    net = mx.sym.dot(x, y) + 1
    assert net.infer_shape(x=(2, 3), y=(3, 4)) == ([(2, 3), (3, 4)], [(2, 4)], [])
    assert net.infer_shape((2, 3), (3, 4)) == ([(2, 3), (3, 4)], [(2, 4)], [])
    assert net.infer_shape(x=(2, 3)) == (None, None, None)
    assert net.infer_shape_partial(x=(2, 3)) == ([(2, 3), ()], [()], [])
    declared = mx.sym.var("v", shape=(5, 2))
    assert mx.sym.sum(declared, axis=1).infer_shape() == ([(5, 2)], [(5,)], [])


def test_infer_shape_error_names_node_and_operator():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    net = mx.sym.relu(mx.sym.dot(x, y, name="mm"))
    with pytest.raises(ShapeError, match=r"node 'mm' \(operator 'dot', inputs lhs=x \(2, 3\), rhs=y \(4, 5\)"):
        net.infer_shape(x=(2, 3), y=(4, 5))
    with pytest.raises(MXNetError, match="no input named 'z'"):
        net.infer_shape(z=(1,))


def test_infer_type():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    net = mx.sym.Cast(x + y, dtype="float16")
    assert net.infer_type(x="float32") == ([np.float32, np.float32], [np.float16], [])
    assert net.infer_type() == (None, None, None)
    with pytest.raises(DTypeError, match="share one dtype"):
        (x + y).simple_bind(mx.cpu(), type_dict={"x": "float32", "y": "float64"}, x=(2,), y=(2,))


def test_fluent_methods_and_python_operators_broadcast_like_ndarray():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    net = (a * b - a / b + a ** 2 - 2 ** b + abs(a) + (a % 3)).sum(axis=1).reshape((-1, 1)).astype("float64")
    an = np.random.default_rng(1).uniform(1, 2, (2, 3)).astype("float32")
    bn = np.random.default_rng(2).uniform(1, 2, (1, 3)).astype("float32")
    A, B = mx.nd.array(an), mx.nd.array(bn)
    want = (A * B - A / B + A ** 2 - 2 ** B + abs(A) + (A % 3)).sum(axis=1).reshape((-1, 1)).astype("float64")
    got = net.eval(a=A, b=B)[0]
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.asnumpy(), want.asnumpy())


def test_pickle_and_copy():
    import copy
    import pickle

    net = mx.sym.exp(mx.sym.var("x")) * 2
    assert pickle.loads(pickle.dumps(net)).tojson() == net.tojson()
    assert copy.deepcopy(net).tojson() == net.tojson()
