"""Compiled executors: results and gradients equal the imperative (nd + autograd) ones."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import MXNetError, ShapeError
from mxplug.ops import TensorSpec

RNG = np.random.default_rng(7)


def _imperative(fn: Callable, inputs: dict[str, np.ndarray], head_grads: list[np.ndarray]):
    arrays = {k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()}
    for a in arrays.values():
        a.attach_grad()
    with mx.autograd.record():
        outs = fn(mx.nd, **arrays)
    outs = outs if isinstance(outs, list) else [outs]
    mx.autograd.backward(outs, [mx.nd.array(g, dtype=g.dtype) for g in head_grads])
    return [o.asnumpy() for o in outs], {k: a.grad.asnumpy() for k, a in arrays.items()}


def _symbolic(fn: Callable, inputs: dict[str, np.ndarray], head_grads: list[np.ndarray], grad_req="write"):
    syms = {k: mx.sym.var(k) for k in inputs}
    net = fn(mx.sym, **syms)
    net = mx.sym.Group(net) if isinstance(net, list) else net
    exe = net.simple_bind(mx.cpu(), grad_req=grad_req, type_dict={k: v.dtype for k, v in inputs.items()},
                          **{k: v.shape for k, v in inputs.items()})
    outs = exe.forward(is_train=True, **{k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()})
    exe.backward([mx.nd.array(g, dtype=g.dtype) for g in head_grads])
    return exe, [o.asnumpy() for o in outs], {k: g.asnumpy() for k, g in exe.grad_dict.items()}


GRAPHS = {
    "elementwise chain": (lambda F, x: F.tanh(F.exp(x * 0.5) - 1) ** 2 / 3 + x, {"x": (3, 4)}),
    "broadcast + reuse": (lambda F, a, b: (a * b + a) * F.sigmoid(b) - b, {"a": (2, 3), "b": (1, 3)}),
    "reductions": (lambda F, x: F.sum(x, axis=1, keepdims=True) * F.mean(x) + F.max(x, axis=0), {"x": (4, 5)}),
    "dot + transpose": (lambda F, x, w: F.relu(F.dot(x, F.transpose(w))), {"x": (3, 4), "w": (5, 4)}),
    "split/concat": (lambda F, x: F.Concat(*F.split(x, num_outputs=2, axis=1)[::-1], dim=0) * 2, {"x": (2, 4)}),
    "multi-output group": (lambda F, x, y: [F.exp(x) + y, F.sum(x * y)], {"x": (3,), "y": (3,)}),
    "composite clip": (lambda F, x: F.clip(x, -0.5, 0.5) + F.square(x), {"x": (6,)}),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", GRAPHS)
def test_forward_and_gradients_equal_imperative(name, dtype):
    fn, shapes = GRAPHS[name]
    inputs = {k: RNG.uniform(-1, 1, s).astype(dtype) for k, s in shapes.items()}
    outs_i, _ = _imperative_outputs_only(fn, inputs)
    heads = [RNG.uniform(-1, 1, o.shape).astype(dtype) for o in outs_i]
    outs_i, grads_i = _imperative(fn, inputs, heads)
    exe, outs_s, grads_s = _symbolic(fn, inputs, heads)
    for a, b in zip(outs_s, outs_i, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for k in inputs:
        np.testing.assert_allclose(grads_s[k], grads_i[k], rtol=1e-6, atol=1e-7, err_msg=k)
    # a second run through the compiled code (the first was the checked one) gives the same
    outs2 = exe.forward(is_train=True)
    exe.backward([mx.nd.array(h, dtype=h.dtype) for h in heads])
    assert exe._plans[True].forward.checked
    for a, b in zip(outs2, outs_s, strict=True):
        np.testing.assert_array_equal(a.asnumpy(), b)
    for k in inputs:
        np.testing.assert_array_equal(exe.grad_dict[k].asnumpy(), grads_s[k])


def _imperative_outputs_only(fn, inputs):
    outs = fn(mx.nd, **{k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()})
    outs = outs if isinstance(outs, list) else [outs]
    return [o.asnumpy() for o in outs], None


def test_grad_req_add_null_and_default_head_gradient():
    x, y = mx.sym.var("x"), mx.sym.var("y")
    net = x * y
    xs, ys = np.array([1.0, 2.0], "float32"), np.array([3.0, 4.0], "float32")
    gx = mx.nd.array([10.0, 10.0])
    exe = net.bind(mx.cpu(), {"x": mx.nd.array(xs), "y": mx.nd.array(ys)}, args_grad={"x": gx},
                   grad_req={"x": "add", "y": "write"})
    assert exe.grad_arrays[1] is None  # no array given: no gradient, as MXNet
    exe.forward(is_train=True)
    exe.backward()  # ones
    exe.forward(is_train=True)
    exe.backward()
    assert exe.grad_dict["x"] is gx and gx.asnumpy().tolist() == [16.0, 18.0]
    with pytest.raises(MXNetError, match="forward\\(is_train=True\\) first"):
        exe.forward(is_train=False)
        exe.backward()


def test_bind_with_lists_outputs_dicts_copy_params_and_eval():
    x, w = mx.sym.var("x"), mx.sym.var("w")
    net = mx.sym.dot(x, w, name="mm")
    args = [mx.nd.ones((2, 3)), mx.nd.ones((3, 4))]
    exe = net.bind(mx.cpu(), args)
    assert list(exe.arg_dict) == ["x", "w"] and exe.aux_dict == {} and exe.grad_dict == {}
    exe.copy_params_from({"w": mx.nd.full((3, 4), 2.0)})
    out = exe.forward()
    assert out[0].asnumpy().tolist() == [[6.0] * 4] * 2
    assert list(exe.output_dict) == ["mm_output"]
    with pytest.raises(MXNetError, match="not an argument"):
        exe.copy_params_from({"nope": mx.nd.ones((1,))})
    exe.copy_params_from({"nope": mx.nd.ones((1,))}, allow_extra_params=True)
    with pytest.raises(ShapeError, match="bound shape"):
        exe.forward(x=mx.nd.ones((5, 3)))
    with pytest.raises(MXNetError, match="no array given"):
        net.bind(mx.cpu(), {"x": args[0]})
    assert net.eval(x=args[0], w=args[1])[0].shape == (2, 4)


def test_reshape_keeps_parameters():
    x, w = mx.sym.var("x"), mx.sym.var("w")
    exe = mx.sym.dot(x, w).simple_bind(mx.cpu(), x=(2, 3), w=(3, 4))
    exe.arg_dict["w"][:] = 1.0
    exe2 = exe.reshape(x=(5, 3))
    assert exe2.arg_dict["w"] is exe.arg_dict["w"] and exe2.arg_dict["x"].shape == (5, 3)
    assert exe2.forward(x=mx.nd.ones((5, 3)))[0].shape == (5, 4)
    with pytest.raises(ShapeError, match="contracted axis"):
        exe.reshape(x=(5, 4))  # w keeps (3, 4)


def test_planning_folds_constants_and_drops_dead_steps():
    x = mx.sym.var("x")
    const = mx.sym.exp(mx.sym.ones((3,)) * 2)  # no variable: computed once at bind time
    unused = mx.sym.sin(x)  # noqa: F841 — not reachable from the head: never planned
    net = x * const
    exe = net.simple_bind(mx.cpu(), x=(3,), grad_req="null")
    out = exe.forward(x=mx.nd.array([1.0, 2.0, 3.0]))[0].asnumpy()
    np.testing.assert_allclose(out, np.array([1, 2, 3]) * np.exp(2.0), rtol=1e-6)
    steps = exe._plans[False].forward.steps
    assert [st.op for st in steps] == ["broadcast_mul"]
    # gradients only for what grad_req asks: y's gradient steps are eliminated
    y = mx.sym.var("y")
    exe = (mx.sym.exp(x) * mx.sym.log(y)).simple_bind(mx.cpu(), grad_req={"x": "write", "y": "null"}, x=(2,), y=(2,))
    exe.forward(is_train=True, x=mx.nd.ones((2,)), y=mx.nd.ones((2,)) * 2)
    exe.backward()
    bwd_ops = [st.op for st in exe._plans[True].backward.steps]
    assert "broadcast_div" not in bwd_ops and "_rdiv_scalar" not in bwd_ops  # d/dy log(y) never computed
    np.testing.assert_allclose(exe.grad_dict["x"].asnumpy(), np.e * np.log(2.0), rtol=1e-6)


def test_numpy_pass_plans_buffers_and_keeps_results():
    x = mx.sym.var("x")
    y = x
    for i in range(10):
        y = y * 1.5 if i % 2 else y + 0.25
    exe = y.simple_bind(mx.cpu(), x=(1000,), grad_req="null")
    xs = RNG.uniform(size=1000).astype("float32")
    first = exe.forward(x=mx.nd.array(xs))[0].asnumpy()
    second = exe.forward()[0].asnumpy()
    z = mx.nd.array(xs)
    for i in range(10):
        z = z * 1.5 if i % 2 else z + 0.25
    np.testing.assert_array_equal(first, z.asnumpy())
    np.testing.assert_array_equal(second, first)
    plan = exe._plans[False]
    assert plan.planned_steps == 10
    buffers = {id(st.fn.__closure__) for st in plan.forward.steps}
    assert len(buffers) == 10  # each step its own closure; in-place chain after the first step
    assert exe.arg_dict["x"].asnumpy().tolist() == xs.tolist()  # the input is never written


def test_kernel_failure_names_the_node():
    x = mx.sym.var("x")
    net = mx.sym.exp(x, name="e")
    exe = net.simple_bind(mx.cpu(), x=(2,), grad_req="null")
    exe.forward()
    step = exe._plans[False].forward.steps[0]

    def broken(*a, **k):
        raise RuntimeError("device lost")

    step.fn = broken
    from mxplug.executor.plan import compile_program

    compile_program(exe._plans[False].forward, exe._plans[False], exe._assign, exe._add)
    with pytest.raises(MXNetError, match="node 'e' \\(operator 'exp'\\).*device lost"):
        exe.forward()


def test_simple_bind_reports_uninferable_arguments():
    x, w = mx.sym.var("x"), mx.sym.var("w")
    with pytest.raises(ShapeError, match="cannot infer the shape of 'w'"):
        mx.sym.dot(x, w).simple_bind(mx.cpu(), x=(2, 3))


# -- operators with parameters, auxiliary states and train-aware behaviour (run-time toy operators) -------
@pytest.fixture
def toy_ops():
    """A dense layer (input_names / infer_inputs) and a running-mean layer (aux state updated in place,
    train_aware), registered at run time as the NN families declare theirs."""
    from mxplug import dispatch
    from mxplug.custom import register_operator, unregister_operator
    from mxplug.ops import _RULES

    def dense(F, attrs, data, weight, bias=None):
        out = F.dot(data, weight, transpose_b=True)
        return out if bias is None else F.broadcast_add(out, F.expand_dims(bias, axis=0))

    register_operator({"name": "_ToyDense", "inputs": ["data", "weight", "bias?"],
                       "attrs": {"num_hidden": "int", "no_bias": "bool = False"}, "doc": "toy."}, composite=dense)
    r = _RULES["_ToyDense"]
    r.input_names = lambda attrs: ["data", "weight"] + ([] if attrs["no_bias"] else ["bias"])
    r.infer_inputs = lambda attrs, d, w, b=None: [
        d, None if d is None else TensorSpec((attrs["num_hidden"], d.shape[1]), d.dtype),
        None if d is None or attrs["no_bias"] else TensorSpec((attrs["num_hidden"],), d.dtype)]

    def running_infer(attrs, data, moving_mean):
        return [data]

    def running_kernel(data, moving_mean, *, momentum, is_train):
        if is_train:
            moving_mean[...] = momentum * moving_mean + (1 - momentum) * data.mean(axis=0)
            return data - data.mean(axis=0)
        return data - moving_mean

    def running_grad(F, attrs, inputs, outputs, ograds):
        g = ograds[0]
        return [g - F.mean(g, axis=0, keepdims=True) if attrs["is_train"] else g, None]

    register_operator({"name": "_ToyRunning", "inputs": ["data", "moving_mean"], "aux": ["moving_mean"],
                       "train_aware": True, "attrs": {"momentum": "float = 0.5"}, "doc": "toy."},
                      infer=running_infer, gradient=running_grad)
    _RULES["_ToyRunning"].infer_inputs = lambda attrs, d, m: [d, None if d is None else
                                                              TensorSpec((d.shape[1],), d.dtype)]
    dispatch.register_kernel("_ToyRunning", "numpy", running_kernel, plugin="test")
    yield
    unregister_operator("_ToyDense")
    unregister_operator("_ToyRunning")
    dispatch.forget_plugin("test")  # its kernels too: nothing may outlive the operators they serve


def test_parameter_variables_are_created_and_inferred(toy_ops):
    with mx.name.NameManager():
        data = mx.sym.var("data")
        fc = mx.sym._ToyDense(data, num_hidden=4, name="fc1")
        fc2 = mx.sym._ToyDense(fc, num_hidden=2, no_bias=True)
        net = mx.sym._ToyRunning(fc2)
    assert net.list_arguments() == ["data", "fc1_weight", "fc1_bias", "_toydense0_weight"]
    assert net.list_auxiliary_states() == ["_toyrunning0_moving_mean"]
    assert net.get_internals()["fc1_weight"].list_attr() == {"num_hidden": "4"}
    assert net.infer_shape(data=(3, 5)) == ([(3, 5), (4, 5), (4,), (2, 4)], [(3, 2)], [(2,)])
    with pytest.raises(ShapeError, match="fc1.*weight.*expected \\(4, 5\\)"):
        net.infer_shape(data=(3, 5), fc1_weight=(4, 6))


def test_aux_states_update_in_place_and_is_train(toy_ops):
    data = mx.sym.var("data")
    net = mx.sym._ToyRunning(mx.sym._ToyDense(data, num_hidden=3, name="fc"), name="run")
    exe = net.simple_bind(mx.cpu(), data=(4, 2))
    xs = RNG.uniform(size=(4, 2)).astype("float32")
    w = RNG.uniform(size=(3, 2)).astype("float32")
    exe.copy_params_from({"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.zeros((3,))})
    mean = exe.aux_dict["run_moving_mean"]
    train_out = exe.forward(is_train=True, data=mx.nd.array(xs))[0].asnumpy()
    h = xs @ w.T
    np.testing.assert_allclose(train_out, h - h.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mean.asnumpy(), 0.5 * h.mean(0), rtol=1e-5)
    assert exe.aux_dict["run_moving_mean"] is mean
    test_out = exe.forward(is_train=False)[0].asnumpy()
    np.testing.assert_allclose(test_out, h - 0.5 * h.mean(0), rtol=1e-5, atol=1e-6)
    # gradients equal autograd's
    exe.forward(is_train=True)
    og = RNG.uniform(size=(4, 3)).astype("float32")
    exe.backward(mx.nd.array(og))
    X, W, B = mx.nd.array(xs), mx.nd.array(w), mx.nd.zeros((3,))
    M = mx.nd.zeros((3,))
    for a in (X, W, B):
        a.attach_grad()
    with mx.autograd.record():
        y = mx.nd._ToyRunning(mx.nd._ToyDense(X, W, B, num_hidden=3), M)
    y.backward(mx.nd.array(og))
    for name, arr in (("data", X), ("fc_weight", W), ("fc_bias", B)):
        np.testing.assert_allclose(exe.grad_dict[name].asnumpy(), arr.grad.asnumpy(), rtol=1e-5, atol=1e-6)


def test_symbolic_checks_from_testing(toy_ops):
    from mxplug.testing import check_symbolic_backward, check_symbolic_forward

    x, y = mx.sym.var("x"), mx.sym.var("y")
    a, b = RNG.uniform(size=(2, 3)), RNG.uniform(size=(2, 3))
    check_symbolic_forward(x * y + x, {"x": a, "y": b}, [a * b + a])
    check_symbolic_backward(x * y, [a, b], [np.ones((2, 3))], {"x": b, "y": a})
    check_symbolic_backward(x * y, [a, b], [np.ones((2, 3))], [b, a], grad_req="add")
    with pytest.raises(AssertionError):
        check_symbolic_forward(x * y, {"x": a, "y": b}, [a + b])


def test_non_differentiable_operators_are_off_the_tape_as_in_autograd():
    fn = (lambda F, x: F.argmax(x, axis=0) + F.sum(x))
    xs = RNG.uniform(size=(3, 2)).astype("float32")
    heads = [np.array([1.0, 3.0], "float32")]
    _, grads_i = _imperative(fn, {"x": xs}, heads)
    _, _, grads_s = _symbolic(fn, {"x": xs}, heads)
    np.testing.assert_array_equal(grads_s["x"], grads_i["x"])
    assert grads_s["x"].tolist() == [[4.0, 4.0]] * 3
