"""nn operators: forward against float64 references computed element by element or row by row with `math`
(independent of the vectorised kernels), numeric gradients for every differentiable input and code path,
the *Output layers' gradients against MXNet's formulas (they are not derivatives of the forward), Dropout's
modes, masks, seeding and statistics, Embedding's accumulation, errors — and MXNet's own answers recorded by
tests/oracle/record_nn.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, OperatorAttributeError, ShapeError
from mxplug.ops import rules
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.oracle.family_oracle import check
from tests.oracle.record_nn import CASES, check_case

nd = mx.nd
SELU_L, SELU_A = 1.0507009873554805, 1.6732632423543772
ACTIVATIONS = ("relu", "sigmoid", "tanh", "softrelu", "softsign")
LEAKY = ("leaky", "elu", "selu", "gelu")


def away_from_zero(rng, shape, low=0.2, high=2.0) -> np.ndarray:
    """Values with |x| in [low, high): numeric differences never straddle a kink at 0."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def per_element(fn, x) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = fn(float(x[idx]))
    return out


def record(fn, *arrays, head=None):
    """Run fn under autograd.record on arrays with gradients attached; backward with `head`."""
    for a in arrays:
        a.attach_grad()
    with mx.autograd.record():
        y = fn(*arrays)
    y.backward(head)
    return y


# -- MXNet's recorded answers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    if ".float16" in name and name.split(".")[0] in ("softmax", "log_softmax", "softmin"):
        # MXNet accumulates float16 softmax sums in float16; mxplug in float32 (more accurate): a few ulps apart
        check("nn", CASES, name, mx, rtol=5e-2)
    else:
        check_case(name, mx)


# -- Activation ----------------------------------------------------------------------------------------------------
ACT_REF = {
    "relu": lambda v: max(v, 0.0),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
    "softrelu": lambda v: v if v > 20 else math.log1p(math.exp(v)),
    "softsign": lambda v: v / (1 + abs(v)),
}


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_activation_forward(act, dtype):
    x = np.random.default_rng(0).uniform(-4, 4, (3, 5))
    x[0, :3] = (0.0, 25.0, -30.0)
    y = nd.Activation(nd.array(x, dtype=dtype), act_type=act)
    assert y.dtype == np.dtype(dtype).type
    rtol = {"float16": 2e-3, "float32": 1e-6, "float64": 1e-12}[dtype]
    ref = per_element(ACT_REF[act], x.astype(dtype))
    assert_almost_equal(y.asnumpy().astype("float64"), ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_activation_gradient(act):
    x = away_from_zero(np.random.default_rng(1), (3, 4))
    check_numeric_gradient(lambda a: nd.Activation(a, act_type=act), [x])


def test_activation_second_order_gradient_runs_through_F_operators():
    x = nd.array([0.5, -1.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = nd.Activation(x, act_type="tanh")
        (g,) = mx.autograd.grad(y, [x], create_graph=True)
    g.backward()
    t = np.tanh([0.5, -1.0])
    assert_almost_equal(x.grad.asnumpy(), -2 * t * (1 - t**2), rtol=1e-10)


# -- LeakyReLU ------------------------------------------------------------------------------------------------------
def _gelu(v: float) -> float:
    return 0.5 * v * (1 + math.erf(v / math.sqrt(2)))


LEAKY_REF = {
    "leaky": lambda v, s: v if v > 0 else s * v,
    "elu": lambda v, s: v if v > 0 else s * math.expm1(v),
    "selu": lambda v, s: SELU_L * (v if v > 0 else SELU_A * math.expm1(v)),
    "gelu": lambda v, s: _gelu(v),
}


@pytest.mark.parametrize("act", LEAKY)
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_leaky_forward(act, dtype):
    x = np.random.default_rng(2).uniform(-3, 3, (4, 3))
    y = nd.LeakyReLU(nd.array(x, dtype=dtype), act_type=act, slope=0.3)
    assert y.dtype == np.dtype(dtype).type
    rtol = {"float16": 3e-3, "float32": 1e-6, "float64": 1e-12}[dtype]
    ref = per_element(lambda v: LEAKY_REF[act](v, 0.3), x.astype(dtype))
    assert_almost_equal(y.asnumpy().astype("float64"), ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("act", ["leaky", "elu", "gelu"])
@pytest.mark.parametrize("slope", [0.3, 1.7])
def test_leaky_gradient(act, slope):
    x = away_from_zero(np.random.default_rng(3), (3, 4))
    check_numeric_gradient(lambda a: nd.LeakyReLU(a, act_type=act, slope=slope), [x])


def test_selu_gradient_is_mxnets_formula_not_the_derivative():
    # MXNet 1.9's selu_grad reads the output: λ where y > 0, else λ(y + α) — not the exact λα e^x = y + λα.
    x = nd.array([-2.0, -0.5, 0.5, 2.0], dtype="float64")
    y = record(lambda a: nd.LeakyReLU(a, act_type="selu"), x).asnumpy()
    want = np.where(y > 0, SELU_L, SELU_L * (y + SELU_A))
    assert_almost_equal(x.grad.asnumpy(), want, rtol=1e-12)


def _prelu_ref(x: np.ndarray, gamma: np.ndarray, gshape: tuple[int, ...]) -> np.ndarray:
    g = gamma.reshape(gshape)
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        gi = tuple(i if s > 1 else 0 for i, s in zip(idx, gshape, strict=True))
        out[idx] = x[idx] if x[idx] > 0 else g[gi] * x[idx]
    return out


@pytest.mark.parametrize(("dshape", "gshape", "expanded"), [
    ((2, 3, 4), (3,), (1, 3, 1)),
    ((2, 3, 4), (1,), (1, 1, 1)),
    ((4, 3), (3,), (1, 3)),
    ((5,), (5,), (5,)),
    ((2, 3, 2, 2), (2,), (2, 1, 1, 1)),  # MXNet: a gamma that fits axis 0 (not the channels) lands there
])
def test_prelu_forward_and_gradients(dshape, gshape, expanded):
    rng = np.random.default_rng(4)
    x, g = away_from_zero(rng, dshape), rng.uniform(0.1, 0.5, gshape)
    y = nd.LeakyReLU(nd.array(x, dtype="float64"), nd.array(g, dtype="float64"), act_type="prelu")
    assert_almost_equal(y.asnumpy(), _prelu_ref(x, g, expanded), rtol=1e-12)
    check_numeric_gradient(lambda a, b: nd.LeakyReLU(a, b, act_type="prelu"), [x, g])


def test_rrelu_predict_uses_the_mean_slope_and_returns_it_as_mask():
    x = np.array([[-2.0, 1.0], [3.0, -0.5]])
    y, mask = nd.LeakyReLU(nd.array(x), act_type="rrelu", lower_bound=0.2, upper_bound=0.6)
    assert_almost_equal(y.asnumpy(), np.where(x > 0, x, 0.4 * x), rtol=1e-6)
    assert_almost_equal(mask.asnumpy(), np.full(x.shape, 0.4), rtol=1e-6)


def test_rrelu_training_draws_slopes_in_bounds_and_differentiates_through_them():
    x = nd.array(away_from_zero(np.random.default_rng(5), (40, 30)), dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y, mask = nd.LeakyReLU(x, act_type="rrelu", lower_bound=0.1, upper_bound=0.5)
    y.backward(nd.ones_like(y) * 2)
    xs, ys, ms = x.asnumpy(), y.asnumpy(), mask.asnumpy()
    assert ((ms >= 0.1) & (ms < 0.5)).all() and ms.std() > 0.05  # random, not the constant mean
    assert_almost_equal(ys, np.where(xs > 0, xs, ms * xs), rtol=1e-12)
    assert_almost_equal(x.grad.asnumpy(), 2 * np.where(xs > 0, 1.0, ms), rtol=1e-12)


def test_rrelu_is_reproducible_under_seed():
    x = nd.array(-np.ones((5, 6)))
    draws = []
    for _ in range(2):
        mx.random.seed(11)
        with mx.autograd.record():
            draws.append(nd.LeakyReLU(x, act_type="rrelu")[1].asnumpy())
    assert (draws[0] == draws[1]).all()


# -- softmax family --------------------------------------------------------------------------------------------------
def _softmax_rows(x: np.ndarray, axis: int, t: float, kind: str, length=None) -> np.ndarray:
    """Reference: move `axis` last, then one explicit loop per slice with math.exp."""
    xm = np.moveaxis(np.asarray(x, dtype="float64"), axis, -1)
    out = np.zeros(xm.shape)
    for idx in np.ndindex(xm.shape[:-1]):
        row = [(-v if kind == "softmin" else v) / t for v in xm[idx]]
        n = len(row) if length is None else min(int(length[idx]), len(row))
        if n == 0:
            continue
        m = max(row[:n])
        total = sum(math.exp(v - m) for v in row[:n])
        for j in range(n):
            out[idx + (j,)] = (row[j] - m - math.log(total)) if kind == "log_softmax" else math.exp(row[j] - m) / total
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize(("shape", "axis"), [((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1)])
@pytest.mark.parametrize("temperature", [None, 0.7])
def test_softmax_family_forward_and_gradient(op, shape, axis, temperature):
    x = np.random.default_rng(6).uniform(-3, 3, shape)
    y = getattr(nd, op)(nd.array(x, dtype="float64"), axis=axis, temperature=temperature)
    assert_almost_equal(y.asnumpy(), _softmax_rows(x, axis, temperature or 1.0, op), rtol=1e-12, atol=1e-14)
    check_numeric_gradient(lambda a: getattr(nd, op)(a, axis=axis, temperature=temperature), [x])


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_softmax_float32_stays_float32_and_is_stable(op):
    x = nd.array([[1000.0, 0.0, -1000.0], [3.0, 2.0, 1.0]])
    y = getattr(nd, op)(x)
    assert y.dtype == np.float32
    assert np.isfinite(y.asnumpy()).all()
    assert_almost_equal(y.asnumpy(), _softmax_rows(x.asnumpy(), -1, 1.0, op), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_softmax_dtype_attribute_sets_the_output_dtype_and_the_gradient_keeps_the_input_dtype(op):
    x = nd.array([[0.5, 1.5, -1.0]], dtype="float16")
    y = record(lambda a: getattr(nd, op)(a, dtype="float64"), x)
    assert y.dtype == np.float64 and x.grad.dtype == np.float16
    assert_almost_equal(y.asnumpy(), _softmax_rows(x.asnumpy(), -1, 1.0, op), rtol=1e-3)


@pytest.mark.parametrize(("shape", "axis", "lengths"), [
    ((3, 5), -1, [2, 5, 0]),
    ((4, 3), 0, [3, 1, 4]),
    ((2, 4, 3), 1, [[1, 4, 2], [3, 0, 4]]),
])
@pytest.mark.parametrize("temperature", [None, 2.0])
def test_softmax_use_length(shape, axis, lengths, temperature):
    x = np.random.default_rng(7).uniform(-2, 2, shape)
    length = np.array(lengths, dtype="int32")
    y = nd.softmax(nd.array(x, dtype="float64"), nd.array(length, dtype="int32"), axis=axis,
                   temperature=temperature, use_length=True)
    assert_almost_equal(y.asnumpy(), _softmax_rows(x, axis, temperature or 1.0, "softmax", length), rtol=1e-12,
                        atol=1e-15)
    n = nd.array(length, dtype="int32")  # a constant: numeric differences perturb (and float) every input
    check_numeric_gradient(lambda a: nd.softmax(a, n, axis=axis, temperature=temperature, use_length=True), [x])


def test_softmax_lengths_beyond_the_axis_are_clipped():
    y = nd.softmax(nd.array([[1.0, 2.0]]), nd.array([5], dtype="int32"), use_length=True)
    assert_almost_equal(y.asnumpy(), _softmax_rows(np.array([[1.0, 2.0]]), -1, 1.0, "softmax"), rtol=1e-6)


# -- SoftmaxOutput ----------------------------------------------------------------------------------------------------
def _softmax_output_grad_ref(out, label, *, grad_scale=1.0, ignore_label=-1.0, multi_output=False,
                             use_ignore=False, normalization="null", smooth_alpha=0.0):
    """MXNet's formula, written per row (2-D data; multi_output: per (batch, position) column)."""
    out = np.asarray(out, dtype="float64")
    grad = np.zeros_like(out)
    if multi_output:
        n, k = out.shape[:2]
        cols = out.reshape(n, k, -1)
        labels = np.asarray(label).reshape(n, -1)
        g = grad.reshape(n, k, -1)
        for i in range(n):
            for s in range(cols.shape[2]):
                c = int(labels[i, s])
                if use_ignore and c == int(ignore_label):
                    continue
                for j in range(k):
                    g[i, j, s] = cols[i, j, s] - (1.0 if j == c else 0.0)
        count = {"null": 1, "batch": n}.get(normalization)
        if count is None:
            count = max(1, sum(int(v) != int(ignore_label) for v in labels.ravel()))
        spatial = 1 if normalization == "valid" else cols.shape[2]
        return grad * (grad_scale / spatial / count)
    n, k = out.shape
    for i in range(n):
        c = int(label[i])
        if use_ignore and c == int(ignore_label):
            continue
        for j in range(k):
            target = (1 - smooth_alpha if j == c else smooth_alpha / (k - 1)) if smooth_alpha else float(j == c)
            grad[i, j] = out[i, j] - target
    count = {"null": 1, "batch": n}.get(normalization)
    if count is None:
        count = max(1, sum(int(v) != int(ignore_label) for v in label))
    return grad * (grad_scale / count)


def _softmax_forward_rows(x: np.ndarray) -> np.ndarray:
    return _softmax_rows(x, -1, 1.0, "softmax")


@pytest.mark.parametrize("kw", [
    {},
    {"grad_scale": 2.5},
    {"use_ignore": True, "normalization": "valid"},
    {"use_ignore": True, "ignore_label": 2.0},
    {"normalization": "batch", "grad_scale": 0.5},
    {"normalization": "valid"},
    {"smooth_alpha": 0.2},
    {"smooth_alpha": 0.2, "use_ignore": True},
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_output_gradient_is_mxnets_formula_and_ignores_the_head_gradient(kw, dtype):
    rng = np.random.default_rng(8)
    x = rng.uniform(-2, 2, (4, 5))
    label = np.array([1, -1, 4, 2], dtype="float64")
    data = nd.array(x, dtype=dtype)
    y = record(lambda a: nd.SoftmaxOutput(a, nd.array(label, dtype=dtype), **kw), data,
               head=nd.array(rng.uniform(5, 9, (4, 5)), dtype=dtype))
    assert y.dtype == np.dtype(dtype).type
    rtol = 1e-5 if dtype == "float32" else 1e-12
    assert_almost_equal(y.asnumpy(), _softmax_forward_rows(x), rtol=rtol, atol=rtol)
    want = _softmax_output_grad_ref(_softmax_forward_rows(x), label, **kw)
    assert_almost_equal(data.grad.asnumpy(), want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("kw", [{}, {"normalization": "batch"}, {"use_ignore": True, "ignore_label": 0.0,
                                                                   "normalization": "valid"}])
def test_softmax_output_multi_output(kw):
    rng = np.random.default_rng(9)
    x = rng.uniform(-2, 2, (2, 3, 2, 2))
    label = rng.integers(0, 3, (2, 2, 2)).astype("float64")
    data = nd.array(x, dtype="float64")
    y = record(lambda a: nd.SoftmaxOutput(a, nd.array(label, dtype="float64"), multi_output=True, **kw), data)
    probs = _softmax_rows(x, 1, 1.0, "softmax")
    assert_almost_equal(y.asnumpy(), probs, rtol=1e-12)
    want = _softmax_output_grad_ref(probs, label, multi_output=True, **kw)
    assert_almost_equal(data.grad.asnumpy(), want, rtol=1e-12, atol=1e-15)


def test_softmax_output_preserve_shape_normalises_the_last_axis():
    x = np.random.default_rng(10).uniform(-2, 2, (2, 3, 4))
    label = np.array([[0, 1, 3], [2, 2, 1]], dtype="float64")
    data = nd.array(x, dtype="float64")
    y = record(lambda a: nd.SoftmaxOutput(a, nd.array(label, dtype="float64"), preserve_shape=True), data)
    probs = _softmax_rows(x, -1, 1.0, "softmax")
    assert_almost_equal(y.asnumpy(), probs, rtol=1e-12)
    want = _softmax_output_grad_ref(probs.reshape(6, 4), label.reshape(6)).reshape(2, 3, 4)
    assert_almost_equal(data.grad.asnumpy(), want, rtol=1e-12, atol=1e-15)


def test_softmax_output_probability_labels():
    rng = np.random.default_rng(11)
    x, p = rng.uniform(-2, 2, (3, 4)), rng.dirichlet(np.ones(4), 3)
    data = nd.array(x, dtype="float64")
    record(lambda a: nd.SoftmaxOutput(a, nd.array(p, dtype="float64"), grad_scale=3.0), data)
    assert_almost_equal(data.grad.asnumpy(), 3.0 * (_softmax_forward_rows(x) - p), rtol=1e-12, atol=1e-15)


def test_softmax_output_out_grad_multiplies_by_the_output_as_mxnet_1_9_1():
    x = np.random.default_rng(12).uniform(-2, 2, (2, 3))
    label = np.array([2.0, 0.0])
    data = nd.array(x, dtype="float64")
    y = record(lambda a: nd.SoftmaxOutput(a, nd.array(label, dtype="float64"), out_grad=True), data,
               head=nd.array(np.full((2, 3), 7.0), dtype="float64"))
    want = _softmax_output_grad_ref(y.asnumpy(), label) * y.asnumpy()
    assert_almost_equal(data.grad.asnumpy(), want, rtol=1e-12)


def test_softmax_output_label_takes_no_gradient_and_alias():
    data, label = nd.array([[1.0, 2.0]]), nd.array([1.0])
    label.attach_grad()
    record(lambda a: nd.Softmax(a, label), data)
    assert not label.grad.asnumpy().any()


# -- regression outputs ------------------------------------------------------------------------------------------------
REGRESSION = {
    "LinearRegressionOutput": (lambda v: v, lambda y, t: y - t),
    "LogisticRegressionOutput": (lambda v: 1 / (1 + math.exp(-v)), lambda y, t: y - t),
    "MAERegressionOutput": (lambda v: v, lambda y, t: float(np.sign(y - t))),
}


@pytest.mark.parametrize("op", sorted(REGRESSION))
@pytest.mark.parametrize(("shape", "lshape"), [
    ((3, 2), (3, 2)), ((3, 2), (3, 1, 2)), ((3, 1), (3,)), ((2, 4), (2, 2, 2)),
])
@pytest.mark.parametrize("grad_scale", [1.0, 2.5])
def test_regression_outputs(op, shape, lshape, grad_scale):
    forward, diff = REGRESSION[op]
    rng = np.random.default_rng(13)
    x, t = rng.uniform(-2, 2, shape), rng.uniform(-1, 1, lshape)
    data = nd.array(x, dtype="float64")
    y = record(lambda a: getattr(nd, op)(a, nd.array(t, dtype="float64"), grad_scale=grad_scale), data,
               head=nd.array(rng.uniform(3, 5, shape), dtype="float64"))
    ref = per_element(forward, x)
    assert_almost_equal(y.asnumpy(), ref, rtol=1e-12)
    per_item = t.size / t.shape[0]
    tt = t.reshape(shape)
    want = np.array([[diff(ref[i, j], tt[i, j]) for j in range(shape[1])] for i in range(shape[0])])
    assert_almost_equal(data.grad.asnumpy(), want * grad_scale / per_item, rtol=1e-12)


# -- losses ------------------------------------------------------------------------------------------------------------
def test_softmax_cross_entropy_forward_and_gradient():
    rng = np.random.default_rng(14)
    x, label = rng.uniform(-2, 2, (4, 5)), np.array([0, 4, 2, 2], dtype="float64")
    y = nd.softmax_cross_entropy(nd.array(x, dtype="float64"), nd.array(label, dtype="float64"))
    want = -sum(math.log(math.exp(x[i, int(c)]) / sum(math.exp(v) for v in x[i])) for i, c in enumerate(label))
    assert y.shape == (1,)
    assert_almost_equal(y.asnumpy(), np.array([want]), rtol=1e-12)
    check_numeric_gradient(lambda a, lab: nd.softmax_cross_entropy(a, lab), [x, label], grad_nodes=[0])


@pytest.mark.parametrize("scalar", [1.0, 2.0, 0.5])
def test_smooth_l1(scalar):
    s2 = scalar**2
    x = away_from_zero(np.random.default_rng(15), (4, 6), 0.05, 4.0)
    x = x[np.abs(np.abs(x) - 1 / s2) > 1e-3].reshape(-1)  # numeric differences must not straddle the joint
    y = nd.smooth_l1(nd.array(x, dtype="float64"), scalar=scalar)
    ref = per_element(lambda v: abs(v) - 0.5 / s2 if abs(v) > 1 / s2 else 0.5 * s2 * v * v, x)
    assert_almost_equal(y.asnumpy(), ref, rtol=1e-12)
    check_numeric_gradient(lambda a: nd.smooth_l1(a, scalar=scalar), [x])


def test_smooth_l1_with_sigma_zero_is_zero():
    # 1/σ² is infinite: every element takes the quadratic branch, 0.5·0·x² (MXNet 1.9.1 gives zeros too).
    x = nd.array([-2.0, -0.5, 0.0, 0.3, 3.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = nd.smooth_l1(x, scalar=0.0)
    y.backward()
    assert y.asnumpy().tolist() == [0.0] * 5 and x.grad.asnumpy().tolist() == [0.0] * 5


# -- Dropout -----------------------------------------------------------------------------------------------------------
def test_dropout_is_identity_in_predict_mode():
    x = nd.array(np.random.default_rng(16).uniform(-1, 1, (5, 6)))
    assert (nd.Dropout(x, p=0.7).asnumpy() == x.asnumpy()).all()
    with mx.autograd.record(train_mode=False):
        y = nd.Dropout(x, p=0.7)
    assert (y.asnumpy() == x.asnumpy()).all()


def _dropped(y: np.ndarray, x: np.ndarray, p: float) -> np.ndarray:
    """Asserts y is x scaled by 1/(1-p) or 0 elementwise; returns the kept mask."""
    kept = y != 0
    assert_almost_equal(y[kept], x[kept] / (1 - p), rtol=1e-6)
    return kept


@pytest.mark.parametrize("how", ["record", "train_mode", "always"])
def test_dropout_drops_when_training_or_always(how):
    x = np.random.default_rng(17).uniform(0.5, 1.5, (200, 50)).astype("float32")
    if how == "record":
        with mx.autograd.record():
            y = nd.Dropout(nd.array(x), p=0.4)
    elif how == "train_mode":
        with mx.autograd.train_mode():
            y = nd.Dropout(nd.array(x), p=0.4)
    else:
        y = nd.Dropout(nd.array(x), p=0.4, mode="always")
    assert y.dtype == np.float32
    kept = _dropped(y.asnumpy(), x, 0.4)
    n = kept.size  # the kept fraction is Binomial(n, 0.6)/n: within 5 standard deviations
    assert abs(kept.mean() - 0.6) < 5 * math.sqrt(0.6 * 0.4 / n)


def test_dropout_preserves_the_mean():
    n, p = 400_000, 0.3
    with mx.autograd.record():
        y = nd.Dropout(nd.ones((n,)), p=p).asnumpy().astype("float64")
    # Each element is Bernoulli(1-p)/(1-p): mean 1, variance p/(1-p); the sample mean's sd is sqrt(p/((1-p)n)).
    assert abs(y.mean() - 1.0) < 5 * math.sqrt(p / ((1 - p) * n))


def test_dropout_gradient_is_the_mask():
    x = nd.array(np.random.default_rng(18).uniform(0.5, 1.5, (30, 20)), dtype="float64")
    head = np.random.default_rng(19).uniform(1, 2, (30, 20))
    y = record(lambda a: nd.Dropout(a, p=0.5), x, head=nd.array(head, dtype="float64"))
    mask = y.asnumpy() / x.asnumpy()
    assert set(np.unique(mask)) <= {0.0, 2.0}
    assert_almost_equal(x.grad.asnumpy(), head * mask, rtol=1e-12)


def test_dropout_gradient_passes_through_in_predict_mode():
    x = nd.array([[1.0, -2.0]])
    x.attach_grad()
    with mx.autograd.record(train_mode=False):
        y = nd.Dropout(x, p=0.5)
    y.backward(nd.array([[3.0, 4.0]]))
    assert (x.grad.asnumpy() == [[3.0, 4.0]]).all()


@pytest.mark.parametrize("axes", [(1,), (0, 2)])
def test_dropout_axes_share_one_draw(axes):
    with mx.autograd.record():
        y = nd.Dropout(nd.ones((6, 5, 7)), p=0.5, axes=axes).asnumpy()
    ref = y[tuple(slice(0, 1) if a in axes else slice(None) for a in range(3))]
    assert (y == np.broadcast_to(ref, y.shape)).all()
    assert set(np.unique(y)) == {0.0, 2.0}


def test_dropout_masks_are_reproducible_under_seed():
    def draw(seed):
        mx.random.seed(seed)
        with mx.autograd.record():
            return nd.Dropout(nd.ones((10, 10)), p=0.5).asnumpy()

    assert (draw(3) == draw(3)).all()
    assert (draw(3) != draw(4)).any()


def test_dropout_edge_probabilities_and_hidden_mask():
    with mx.autograd.record():
        same = nd.Dropout(nd.array([1.0, 2.0]), p=0.0)
        nan = nd.Dropout(nd.ones((3,)), p=1.0)
    assert isinstance(same, mx.nd.NDArray) and (same.asnumpy() == [1, 2]).all()
    assert np.isnan(nan.asnumpy()).all()  # MXNet: mask 0 * (1/0)


# -- Embedding ---------------------------------------------------------------------------------------------------------
def test_embedding_forward_clips_and_truncates_indices():
    w = np.random.default_rng(20).normal(size=(5, 3))
    data = np.array([[0, 4.7], [-1, 7], [2.2, 2]])
    y = nd.Embedding(nd.array(data), nd.array(w, dtype="float64"), input_dim=5, output_dim=3)
    ref = np.empty((3, 2, 3))
    for i in range(3):
        for j in range(2):
            ref[i, j] = w[min(max(int(data[i, j]), 0), 4)]
    assert y.dtype == np.float64 and y.shape == (3, 2, 3)
    assert_almost_equal(y.asnumpy(), ref, rtol=0)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_embedding_gradient_accumulates_repeated_indices(dtype):
    rng = np.random.default_rng(21)
    idx = np.array([[1, 1, 3], [1, 0, 3]], dtype="float32")
    head = rng.uniform(-1, 1, (2, 3, 4))
    w = nd.zeros((5, 4), dtype=dtype)
    record(lambda a: nd.Embedding(nd.array(idx), a, input_dim=5, output_dim=4), w, head=nd.array(head, dtype=dtype))
    want = np.zeros((5, 4))
    for i in range(2):
        for j in range(3):
            want[int(idx[i, j])] += head[i, j].astype(dtype)
    assert w.grad.dtype == np.dtype(dtype).type
    assert_almost_equal(w.grad.asnumpy().astype("float64"), want, rtol=1e-3 if dtype == "float16" else 1e-6)


def test_embedding_numeric_gradient():
    idx = np.array([0.0, 2.0, 2.0, 1.0])
    w = np.random.default_rng(22).normal(size=(3, 2))
    check_numeric_gradient(lambda d, a: nd.Embedding(d, a, input_dim=3, output_dim=2), [idx, w], grad_nodes=[1])


# -- rules graphs use --------------------------------------------------------------------------------------------------
def test_input_names_and_infer_inputs():
    from mxplug.ops import TensorSpec

    f32 = np.dtype("float32")
    data = TensorSpec((2, 3, 4), f32)
    r = rules("LeakyReLU")
    assert r.input_names({"act_type": "prelu"}) == ["data", "gamma"]
    assert r.input_names({"act_type": "leaky"}) == ["data"]
    assert r.infer_inputs({"act_type": "prelu"}, data, None)[1] == TensorSpec((3,), f32)
    assert rules("softmax").input_names({"use_length": True}) == ["data", "length"]
    assert rules("SoftmaxOutput").infer_inputs({"multi_output": False}, data, None)[1].shape == (2, 3)
    assert rules("SoftmaxOutput").infer_inputs({"multi_output": True}, data, None)[1].shape == (2, 4)
    emb = rules("Embedding").infer_inputs({"input_dim": 7, "output_dim": 5, "dtype": np.dtype("float64")}, data, None)
    assert emb[1] == TensorSpec((7, 5), np.dtype("float64"))
    lin = rules("LinearRegressionOutput").infer_inputs({}, TensorSpec((4, 1), f32), None)
    assert lin[1].shape == (4,)


# -- errors ------------------------------------------------------------------------------------------------------------
def test_errors():
    x = nd.ones((3, 4))
    with pytest.raises(OperatorAttributeError, match="act_type.*'relu'.*got 'mish'"):
        nd.Activation(x, act_type="mish")
    with pytest.raises(OperatorAttributeError, match="act_type.*got 'gelu'"):
        nd.Activation(x, act_type="gelu")
    with pytest.raises(OperatorAttributeError, match="required attribute 'act_type'"):
        nd.Activation(x)
    with pytest.raises(DTypeError, match="'Activation': data must be float16, float32 or float64, got int32"):
        nd.Activation(nd.ones((2,), dtype="int32"), act_type="relu")
    with pytest.raises(OperatorAttributeError, match="'LeakyReLU': input 'gamma' is required"):
        nd.LeakyReLU(x, act_type="prelu")
    with pytest.raises(ShapeError, match=r"gamma \(2,\) cannot be broadcast to data \(3, 4\)"):
        nd.LeakyReLU(x, nd.ones((2,)), act_type="prelu")
    with pytest.raises(ShapeError, match=r"'SoftmaxOutput': label \(4,\) does not fit data \(3, 4\)"):
        nd.SoftmaxOutput(x, nd.ones((4,)))
    with pytest.raises(DTypeError, match="'SoftmaxOutput'.*float32 and float64"):
        nd.SoftmaxOutput(x, nd.ones((3,), dtype="float64"))
    with pytest.raises(ShapeError, match=r"'LinearRegressionOutput': label \(2, 6\) does not fit data \(3, 4\)"):
        nd.LinearRegressionOutput(x, nd.ones((2, 6)))
    with pytest.raises(ShapeError, match=r"'MAERegressionOutput': label \(3, 1\)"):
        nd.MAERegressionOutput(x, nd.ones((3, 1)))
    with pytest.raises(ShapeError, match=r"'softmax_cross_entropy': data must be 2-D"):
        nd.softmax_cross_entropy(nd.ones((2, 3, 4)), nd.ones((2,)))
    with pytest.raises(ShapeError, match=r"'softmax_cross_entropy': label \(4,\) must be \(3,\)"):
        nd.softmax_cross_entropy(x, nd.ones((4,)))
    with pytest.raises(DTypeError, match="'softmax_cross_entropy'.*float32 and float64"):
        nd.softmax_cross_entropy(x, nd.ones((3,), dtype="float64"))
    with pytest.raises(DTypeError, match="'smooth_l1': data must be float16, float32 or float64, got int32"):
        nd.smooth_l1(nd.ones((2,), dtype="int32"))
    with pytest.raises(DTypeError, match="'LinearRegressionOutput'.*float32 and float64"):
        nd.LinearRegressionOutput(x, nd.ones((3, 4), dtype="float64"))
    with pytest.raises(DTypeError, match="length must have an integer dtype, got float32"):
        nd.softmax(x, nd.ones((3,)), use_length=True)
    with pytest.raises(ShapeError, match=r"length \(4,\) must be data \(3, 4\) without axis 1"):
        nd.softmax(x, nd.ones((4,), dtype="int32"), use_length=True)
    with pytest.raises(OperatorAttributeError, match="'softmax': input 'length' is required"):
        nd.softmax(x, use_length=True)
    with pytest.raises(OperatorAttributeError, match="a length input needs use_length=True"):
        nd.softmax(x, nd.ones((3,), dtype="int32"))
    with pytest.raises(OperatorAttributeError, match="'log_softmax': use_length=True.*only softmax"):
        nd.log_softmax(x, use_length=True)
    with pytest.raises(ShapeError, match="axis=2 is out of range"):
        nd.softmax(x, axis=2)
    with pytest.raises(OperatorAttributeError, match=r"'Dropout': p must be in \[0, 1\], got 1.5"):
        nd.Dropout(x, p=1.5)
    with pytest.raises(ShapeError, match=r"'Dropout': axes \(-1,\) must be in \[0, 2\)"):
        nd.Dropout(x, axes=(-1,))
    with pytest.raises(ShapeError, match=r"'Embedding': weight \(4, 3\) must be \(input_dim, output_dim\) = \(5, 3\)"):
        nd.Embedding(nd.ones((2,)), nd.ones((4, 3)), input_dim=5, output_dim=3)
