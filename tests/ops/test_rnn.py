"""The fused RNN operator (rnn_relu, rnn_tanh, lstm, gru; layers, bidirectional, state outputs, dropout,
sequence_length, LSTM state clipping) and its backward pass `_backward_RNN`.

MXNet 1.9's own outputs and gradients are recorded in tests/oracle/record_rnn.py (they pin the packed
parameter layout and the gate formulas). Here the operator is also checked against a float64 reference that
unpacks the parameter vector with its own cursor into per-gate matrices and runs explicit loops over batch
rows, time steps and gates, and every differentiable input's gradient is checked numerically.
"""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, OperatorAttributeError, ShapeError
from mxplug.ops import TensorSpec, rules
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.oracle.record_rnn import CASES, check_case

GATE_NAMES = {"rnn_relu": ["h"], "rnn_tanh": ["h"], "lstm": ["i", "f", "g", "o"], "gru": ["r", "z", "n"]}
MODES = list(GATE_NAMES)
SHAPES = [(1, 1), (1, 2), (2, 1), (2, 2)]  # (num_layers, directions)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- the float64 reference ------------------------------------------------------------------------------------
def n_params(mode: str, layers: int, dirs: int, i: int, h: int) -> int:
    g = len(GATE_NAMES[mode])
    total = 0
    for layer in range(layers):
        n_in = i if layer == 0 else dirs * h
        total += dirs * g * h * (n_in + h + 2)
    return total


def unpack(params: np.ndarray, mode: str, layers: int, dirs: int, i: int, h: int) -> dict:
    """{(layer, direction): {"wi"|"wh"|"bi"|"bh": {gate: array}}}, read with a cursor: every weight (i2h,
    h2h per layer and direction), then every bias in the same order."""
    names = GATE_NAMES[mode]
    cursor = [0]

    def read(*shape):
        n = int(np.prod(shape))
        out = params[cursor[0]:cursor[0] + n].reshape(shape)
        cursor[0] += n
        return out

    cells = {}
    for layer in range(layers):
        for d in range(dirs):
            n_in = i if layer == 0 else dirs * h
            wi, wh = read(len(names), h, n_in), read(len(names), h, h)
            cells[layer, d] = {"wi": dict(zip(names, wi, strict=True)), "wh": dict(zip(names, wh, strict=True))}
    for layer in range(layers):
        for d in range(dirs):
            bi, bh = read(len(names), h), read(len(names), h)
            cells[layer, d]["bi"] = dict(zip(names, bi, strict=True))
            cells[layer, d]["bh"] = dict(zip(names, bh, strict=True))
    assert cursor[0] == params.size
    return cells


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def ref_step(mode: str, w: dict, x: np.ndarray, h: np.ndarray, c, clip):
    """One time step of one batch row, gate by gate; returns (h, c)."""
    def lin(g):
        return w["wi"][g] @ x + w["bi"][g], w["wh"][g] @ h + w["bh"][g]

    if mode == "lstm":
        act = {}
        for g in "ifgo":
            a, b = lin(g)
            act[g] = np.tanh(a + b) if g == "g" else sigmoid(a + b)
        c = act["f"] * c + act["i"] * act["g"]
        if clip is not None:
            c = np.minimum(np.maximum(c, clip[0]), clip[1])
        return act["o"] * np.tanh(c), c
    if mode == "gru":
        (xr, hr), (xz, hz), (xn, hn) = lin("r"), lin("z"), lin("n")
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1.0 - z) * n + z * h, c
    a, b = lin("h")
    return (np.tanh(a + b) if mode == "rnn_tanh" else np.maximum(a + b, 0.0)), c


def ref_rnn(x, params, h0, c0, mode, layers, dirs, seq_len=None, clip=None):
    """(output, hy, cy) in float64; a sequence stops at its length (zero outputs after, states of its last step)."""
    t_len, n, i = x.shape
    h_size = h0.shape[-1]
    cells = unpack(params.astype("float64"), mode, layers, dirs, i, h_size)
    hy, cy = np.zeros(h0.shape), np.zeros(h0.shape)
    inp = x.astype("float64")
    for layer in range(layers):
        out = np.zeros((t_len, n, dirs * h_size))
        for d in range(dirs):
            k = layer * dirs + d
            for b in range(n):
                length = t_len if seq_len is None else int(seq_len[b])
                h = h0[k, b].astype("float64")
                c = None if c0 is None else c0[k, b].astype("float64")
                for t in (range(length) if d == 0 else range(length - 1, -1, -1)):
                    h, c = ref_step(mode, cells[layer, d], inp[t, b], h, c, clip)
                    out[t, b, d * h_size:(d + 1) * h_size] = h
                hy[k, b] = h
                if c is not None:
                    cy[k, b] = c
        inp = out
    return inp, hy, cy


def make_inputs(rng, mode, layers, dirs, t=4, n=3, i=5, h=3, dtype="float64"):
    x = rng.uniform(-1, 1, (t, n, i))
    w = rng.uniform(-0.7, 0.7, n_params(mode, layers, dirs, i, h))
    s = rng.uniform(-1, 1, (layers * dirs, n, h))
    c = rng.uniform(-1, 1, (layers * dirs, n, h)) if mode == "lstm" else None
    return [a if a is None else a.astype(dtype) for a in (x, w, s, c)]


def call(mode, layers, dirs, h, *arrays, **kw):
    return mx.nd.RNN(*arrays, state_size=h, num_layers=layers, bidirectional=dirs == 2, mode=mode, **kw)


def nd_all(arrays, dtype):
    return [mx.nd.array(a, dtype=dtype) for a in arrays if a is not None]


# -- forward --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize(("layers", "dirs"), SHAPES)
@pytest.mark.parametrize("mode", MODES)
def test_forward(mode, layers, dirs, dtype, rng):
    x, w, s, c = make_inputs(rng, mode, layers, dirs, dtype=dtype)
    out = call(mode, layers, dirs, 3, *nd_all([x, w, s, c], dtype), state_outputs=True)
    assert len(out) == (3 if mode == "lstm" else 2)
    assert all(o.dtype is np.dtype(dtype).type for o in out)
    want = ref_rnn(x, w, s, c, mode, layers, dirs)
    tol = {"float16": 2e-2, "float32": 1e-5}.get(dtype, 1e-10)
    for got, ref in zip(out, want, strict=False):
        assert_almost_equal(got.asnumpy().astype("float64"), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", MODES)
def test_outputs_visible(mode, rng):
    x, w, s, c = make_inputs(rng, mode, 2, 2, dtype="float32")
    args = nd_all([x, w, s, c], "float32")
    only = call(mode, 2, 2, 3, *args)
    assert isinstance(only, mx.nd.NDArray) and only.shape == (4, 3, 6)
    full = call(mode, 2, 2, 3, *args, state_outputs=True)
    assert [o.shape for o in full] == [(4, 3, 6)] + [(4, 3, 3)] * (2 if mode == "lstm" else 1)
    assert_almost_equal(only.asnumpy(), full[0].asnumpy())


def test_long_sequence_float32_stays_float32(rng):
    x, w, s, c = make_inputs(rng, "lstm", 1, 1, t=50, n=4, i=8, h=6, dtype="float32")
    out = call("lstm", 1, 1, 6, *nd_all([x, w, s, c], "float32"))
    assert out.dtype is np.float32
    assert_almost_equal(out.asnumpy().astype("float64"), ref_rnn(x, w, s, c, "lstm", 1, 1)[0], rtol=1e-4, atol=1e-5)


# -- gradients ------------------------------------------------------------------------------------------------
def grad_fn(mode, layers, dirs, h, **kw):
    def fn(*arrays):
        return call(mode, layers, dirs, h, *arrays, state_outputs=True, **kw)

    return fn


@pytest.mark.parametrize(("layers", "dirs"), SHAPES)
@pytest.mark.parametrize("mode", MODES)
def test_numeric_gradient(mode, layers, dirs, rng):
    # data, parameters, state and state_cell, through output, hy and cy (each projected by check_numeric_gradient)
    arrays = [a for a in make_inputs(rng, mode, layers, dirs, t=3, n=2, i=3, h=2) if a is not None]
    check_numeric_gradient(grad_fn(mode, layers, dirs, 2), arrays, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_outside_training_recomputes(mode, rng):
    """Recorded in predict mode the forward keeps no reserve; _backward_RNN recomputes it: same gradients."""
    arrays = nd_all(make_inputs(rng, mode, 2, 2, t=3, n=2, i=3, h=2), "float64")
    head = mx.nd.array(rng.normal(size=(3, 2, 4)), dtype="float64")
    grads = []
    for train in (True, False):
        xs = [a.copy() for a in arrays]
        for a in xs:
            a.attach_grad()
        with mx.autograd.record(train_mode=train):
            y = call(mode, 2, 2, 2, *xs, p=0.3)
        y.backward(head)
        grads.append([a.grad.asnumpy() for a in xs])
    # p=0.3 drops nothing in predict mode; in training it does, so compare predict mode with p=0 training
    xs = [a.copy() for a in arrays]
    for a in xs:
        a.attach_grad()
    with mx.autograd.record():
        y = call(mode, 2, 2, 2, *xs)
    y.backward(head)
    for got, want in zip(grads[1], [a.grad.asnumpy() for a in xs], strict=True):
        assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)


# -- sequence_length (cuDNN's semantics; MXNet's CPU build refuses use_sequence_length) ------------------------
@pytest.mark.parametrize(("layers", "dirs"), [(1, 1), (2, 2)])
@pytest.mark.parametrize("mode", MODES)
def test_sequence_length_forward(mode, layers, dirs, rng):
    x, w, s, c = make_inputs(rng, mode, layers, dirs, t=4, n=3)
    lengths = np.array([4, 1, 2])
    out = call(mode, layers, dirs, 3, *nd_all([x, w, s, c], "float64"), mx.nd.array(lengths, dtype="int32"),
               state_outputs=True, use_sequence_length=True)
    want = ref_rnn(x, w, s, c, mode, layers, dirs, seq_len=lengths)
    for got, ref in zip(out, want, strict=False):
        assert_almost_equal(got.asnumpy(), ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_sequence_length_gradient(mode, rng):
    arrays = [a for a in make_inputs(rng, mode, 2, 2, t=3, n=3, i=3, h=2) if a is not None]
    lengths = np.array([3.0, 1.0, 2.0])
    check_numeric_gradient(grad_fn(mode, 2, 2, 2, use_sequence_length=True), arrays + [lengths],
                           grad_nodes=list(range(len(arrays))))


# -- LSTM state clipping (cuDNN's semantics) -------------------------------------------------------------------
def test_lstm_clip_forward_and_gradient(rng):
    x, w, s, c = make_inputs(rng, "lstm", 2, 2, t=3, n=2, i=3, h=2)
    clip = {"lstm_state_clip_min": -0.4, "lstm_state_clip_max": 0.3}
    out = call("lstm", 2, 2, 2, *nd_all([x, w, s, c], "float64"), state_outputs=True, **clip)
    want = ref_rnn(x, w, s, c, "lstm", 2, 2, clip=(-0.4, 0.3))
    for got, ref in zip(out, want, strict=True):
        assert_almost_equal(got.asnumpy(), ref, rtol=1e-10, atol=1e-10)
    assert np.isclose(want[2], 0.3).any() and np.isclose(want[2], -0.4).any()  # the clip did bind
    check_numeric_gradient(grad_fn("lstm", 2, 2, 2, **clip), [x, w, s, c])


@pytest.mark.parametrize("clip_nan", [False, True])
def test_lstm_clip_nan(clip_nan, rng):
    x, w, s, c = make_inputs(rng, "lstm", 1, 1, t=2, n=2, i=3, h=2)
    c[0, 0, 0] = np.nan
    out, _, cy = call("lstm", 1, 1, 2, *nd_all([x, w, s, c], "float64"), state_outputs=True,
                      lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0, lstm_state_clip_nan=clip_nan)
    assert np.isfinite(out.asnumpy()).all() == clip_nan
    assert np.isnan(cy.asnumpy()[0, 0, 0]) != clip_nan
    assert np.isfinite(out.asnumpy()[:, 1]).all()  # the other batch row never saw the NaN


# -- dropout between layers -----------------------------------------------------------------------------------
def test_dropout_inference_is_identity(rng):
    arrays = nd_all(make_inputs(rng, "lstm", 2, 2), "float64")
    plain = call("lstm", 2, 2, 3, *arrays)
    with mx.autograd.predict_mode():
        dropped = call("lstm", 2, 2, 3, *arrays, p=0.5)
    assert_almost_equal(dropped.asnumpy(), plain.asnumpy(), rtol=0, atol=0)


def test_dropout_training(rng):
    arrays = nd_all(make_inputs(rng, "gru", 2, 1), "float64")
    plain = call("gru", 2, 1, 3, *arrays).asnumpy()
    outs = []
    for seed in (3, 3, 4):
        mx.random.seed(seed)
        with mx.autograd.train_mode():
            outs.append(call("gru", 2, 1, 3, *arrays, p=0.5).asnumpy())
    assert not np.allclose(outs[0], plain)
    assert_almost_equal(outs[0], outs[1], rtol=0, atol=0)  # the generator mx.random.seed sets
    assert not np.allclose(outs[0], outs[2])
    # one layer: nothing between layers, so no dropout
    one = nd_all(make_inputs(rng, "gru", 1, 1), "float64")
    with mx.autograd.train_mode():
        assert_almost_equal(call("gru", 1, 1, 3, *one, p=0.5).asnumpy(), call("gru", 1, 1, 3, *one).asnumpy())


def test_dropout_gradient_uses_the_forward_mask(rng):
    """Under a fixed seed the forward is a deterministic function: central differences of it (re-seeded at
    each evaluation) must match the backward pass, which reads the mask from the reserve."""
    x, w, s, c = make_inputs(rng, "lstm", 2, 1, t=3, n=2, i=3, h=2)
    head = rng.normal(size=(3, 2, 2))

    def f(xv):
        mx.random.seed(11)
        with mx.autograd.train_mode():
            y = call("lstm", 2, 1, 2, *nd_all([xv, w, s, c], "float64"), p=0.5)
        return float((y.asnumpy() * head).sum())

    xs = nd_all([x, w, s, c], "float64")
    xs[0].attach_grad()
    mx.random.seed(11)
    with mx.autograd.record():
        y = call("lstm", 2, 1, 2, *xs, p=0.5)
    y.backward(mx.nd.array(head, dtype="float64"))
    eps = 1e-6
    numeric = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (f(up) - f(down)) / (2 * eps)
    assert_almost_equal(xs[0].grad.asnumpy(), numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(numeric).max() > 0


# -- shape inference and errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "layers", "dirs"), [("lstm", 2, 2), ("gru", 1, 2), ("rnn_tanh", 3, 1)])
def test_infer_inputs(mode, layers, dirs):
    attrs = mx.registry.get("RNN").parse_attrs(
        {"state_size": 4, "num_layers": layers, "bidirectional": dirs == 2, "mode": mode})
    data = TensorSpec((7, 5, 6), np.dtype("float32"))
    got = rules("RNN").infer_inputs(attrs, data, None, None, None, None)
    assert got[1] == TensorSpec((n_params(mode, layers, dirs, 6, 4),), np.dtype("float32"))
    assert got[2] == TensorSpec((layers * dirs, 5, 4), np.dtype("float32"))
    assert got[3] == (got[2] if mode == "lstm" else None)


def test_error_parameter_size(rng):
    x, w, s, c = make_inputs(rng, "lstm", 1, 1)
    want = n_params("lstm", 1, 1, 5, 3)
    with pytest.raises(ShapeError, match=rf"parameters has shape \({want + 1},\), expected \({want},\)"):
        call("lstm", 1, 1, 3, *nd_all([x, np.append(w, 0.0), s, c], "float32"))


def test_error_state_shape(rng):
    x, w, s, c = make_inputs(rng, "gru", 1, 2)
    with pytest.raises(ShapeError, match=r"state has shape \(1, 3, 3\), expected .* = \(2, 3, 3\)"):
        call("gru", 1, 2, 3, *nd_all([x, w, s[:1]], "float32"))
    x, w, s, c = make_inputs(rng, "lstm", 1, 1)
    with pytest.raises(ShapeError, match=r"state_cell has shape \(1, 2, 3\), expected \(1, 3, 3\)"):
        call("lstm", 1, 1, 3, *nd_all([x, w, s, c[:, :2]], "float32"))


def test_error_inputs_and_attributes(rng):
    x, w, s, c = make_inputs(rng, "lstm", 1, 1)
    args = nd_all([x, w, s, c], "float32")
    with pytest.raises(OperatorAttributeError, match="state_cell"):
        call("lstm", 1, 1, 3, *args[:3])
    with pytest.raises(OperatorAttributeError, match="projection_size"):
        call("lstm", 1, 1, 3, *args, projection_size=2)
    with pytest.raises(OperatorAttributeError, match=r"p=1.0"):
        call("lstm", 1, 1, 3, *args, p=1.0)
    with pytest.raises(OperatorAttributeError, match="together"):
        call("lstm", 1, 1, 3, *args, lstm_state_clip_min=-1.0)
    with pytest.raises(DTypeError, match="state is float64"):
        call("lstm", 1, 1, 3, args[0], args[1], args[2].astype("float64"), args[3])
    with pytest.raises(ShapeError, match="3-D"):
        call("lstm", 1, 1, 3, args[0][0], *args[1:])
    xg, wg, sg, _ = make_inputs(rng, "gru", 1, 1)
    with pytest.raises(OperatorAttributeError, match="only supported for mode='lstm'"):
        call("gru", 1, 1, 3, *nd_all([xg, wg, sg], "float32"), lstm_state_clip_min=-1.0, lstm_state_clip_max=1.0)
    with pytest.raises(ShapeError, match=r"sequence_length of shape \(3,\)"):
        call("gru", 1, 1, 3, *nd_all([xg, wg, sg], "float32"), mx.nd.array([1, 2]), use_sequence_length=True)


def test_symbol_names():
    sym = mx.sym.RNN(state_size=2, num_layers=1, mode="lstm", state_outputs=True, name="rnn")
    assert sym.list_arguments() == ["rnn_data", "rnn_parameters", "rnn_state", "rnn_state_cell"]
    assert sym.list_outputs() == ["rnn_output", "rnn_state_output", "rnn_statecell_output"]
    gru = mx.sym.RNN(state_size=2, num_layers=1, mode="gru", use_sequence_length=True, name="rnn")
    assert gru.list_arguments() == ["rnn_data", "rnn_parameters", "rnn_state", "rnn_sequence_length"]
    assert gru.list_outputs() == ["rnn_output"]


def test_symbol_graph_matches_imperative(rng):
    """Bound as a graph: parameter/state shapes come from infer_inputs, forward and backward equal mx.nd's."""
    attrs = {"state_size": 3, "num_layers": 2, "mode": "gru", "bidirectional": True}
    sym = mx.sym.RNN(mx.sym.var("data"), name="rnn", **attrs)
    arg_shapes, out_shapes, _ = sym.infer_shape(data=(4, 2, 5))
    assert arg_shapes == [(4, 2, 5), (n_params("gru", 2, 2, 5, 3),), (4, 2, 3)] and out_shapes == [(4, 2, 6)]
    exe = sym.simple_bind(mx.cpu(), data=(4, 2, 5))
    for v in exe.arg_dict.values():
        v[:] = rng.uniform(-0.5, 0.5, v.shape)
    out = exe.forward(is_train=True)[0]
    head = mx.nd.array(rng.normal(size=out.shape))
    exe.backward(head)
    xs = [exe.arg_dict[n].copy() for n in sym.list_arguments()]
    for v in xs:
        v.attach_grad()
    with mx.autograd.record():
        y = mx.nd.RNN(*xs, **attrs)
    y.backward(head)
    assert_almost_equal(out.asnumpy(), y.asnumpy(), rtol=1e-6, atol=1e-6)
    for name, v in zip(sym.list_arguments(), xs, strict=True):
        assert_almost_equal(exe.grad_dict[name].asnumpy(), v.grad.asnumpy(), rtol=1e-5, atol=1e-6)
