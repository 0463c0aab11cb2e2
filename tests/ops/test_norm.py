"""BatchNorm, LayerNorm, InstanceNorm, GroupNorm, L2Normalization, LRN, SequenceMask/Last/Reverse.

Forward passes are checked against float64 references written as explicit loops over channels, groups,
instances or sequences on tiny shapes (statistics with math.fsum); every differentiable input's gradient
numerically in every mode that changes the formula; BatchNorm's moving statistics against the update rule
written out here; MXNet 1.9's own answers (outputs, hidden mean/var, when the moving statistics change,
gradients in every train/predict combination) are recorded in tests/oracle/record_norm.py and checked here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, OperatorAttributeError, ShapeError
from mxplug.ops import TensorSpec, rules
from mxplug.testing import assert_almost_equal, check_numeric_gradient, numeric_grad
from tests.oracle.record_norm import CASES, check_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


def _nd(x, dtype="float64"):
    return mx.nd.array(x, dtype=dtype)


def _stats(values) -> tuple[float, float]:
    """Mean and biased variance of a list of floats (exactly rounded sums)."""
    values = [float(v) for v in values]
    m = math.fsum(values) / len(values)
    return m, math.fsum((v - m) ** 2 for v in values) / len(values)


def _index(ndim: int, axis: int, i) -> tuple:
    idx = [slice(None)] * ndim
    idx[axis] = i
    return tuple(idx)


# -- references -----------------------------------------------------------------------------------------------
def ref_batch_norm(x, gamma, beta, mm, mv, eps, axis=1, fix_gamma=False, batch=True):
    """Per channel of `axis`: (x - m) / sqrt(v + eps) * gamma + beta; returns (y, mean, inverse std)."""
    ax = axis % x.ndim
    y = np.empty(x.shape)
    means, invstds = [], []
    for c in range(x.shape[ax]):
        sl = x[_index(x.ndim, ax, c)].astype("float64")
        m, v = _stats(sl.ravel()) if batch else (float(mm[c]), float(mv[c]))
        inv = 1 / math.sqrt(v + eps)
        y[_index(x.ndim, ax, c)] = (sl - m) * inv * (1.0 if fix_gamma else float(gamma[c])) + float(beta[c])
        means.append(m)
        invstds.append(inv)
    return y, np.array(means), np.array(invstds)


def ref_layer_norm(x, gamma, beta, axis, eps):
    """Every vector along `axis` normalised on its own; mean and std with `axis` kept as 1."""
    ax = axis % x.ndim
    moved = np.moveaxis(x.astype("float64"), ax, -1)
    y = np.empty(moved.shape)
    mean, std = np.empty(moved.shape[:-1]), np.empty(moved.shape[:-1])
    for i in np.ndindex(*moved.shape[:-1]):
        m, v = _stats(moved[i])
        mean[i], std[i] = m, math.sqrt(v + eps)
        y[i] = (moved[i] - m) / std[i] * gamma + beta
    return np.moveaxis(y, -1, ax), np.expand_dims(mean, ax), np.expand_dims(std, ax)


def ref_group_norm(x, gamma, beta, groups, eps):
    """Each example's group of channels normalised together, then gamma/beta of that group."""
    n, c = x.shape[:2]
    per = c // groups
    y = np.empty(x.shape)
    mean, std = np.empty((n, groups)), np.empty((n, groups))
    for i in range(n):
        for g in range(groups):
            block = x[i, g * per:(g + 1) * per].astype("float64")
            m, v = _stats(block.ravel())
            mean[i, g], std[i, g] = m, math.sqrt(v + eps)
            y[i, g * per:(g + 1) * per] = (block - m) / std[i, g] * gamma[g] + beta[g]
    return y, mean, std


def ref_instance_norm(x, gamma, beta, eps):
    y = np.empty(x.shape)
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            m, v = _stats(x[i, c].ravel())
            y[i, c] = (x[i, c] - m) / math.sqrt(v + eps) * gamma[c] + beta[c]
    return y


def ref_l2(x, mode, eps):
    """Divide each instance / each position's channel vector / each channel's spatial map by its L2 norm."""
    y = np.empty(x.shape)
    if mode == "instance":
        groups = [(i,) for i in range(x.shape[0])]
    elif mode == "channel":
        groups = [(i, slice(None), *j) for i in range(x.shape[0]) for j in np.ndindex(*x.shape[2:])]
    else:
        groups = [(i, c) for i in range(x.shape[0]) for c in range(x.shape[1])]
    for idx in groups:
        y[idx] = x[idx] / math.sqrt(math.fsum(float(v) ** 2 for v in np.ravel(x[idx])) + eps)
    return y


def ref_lrn(x, alpha, beta, knorm, nsize):
    y = np.empty(x.shape)
    half = nsize // 2
    for c in range(x.shape[1]):
        lo, hi = max(0, c - half), min(x.shape[1], c + half + 1)
        s = knorm + alpha / nsize * (x[:, lo:hi].astype("float64") ** 2).sum(axis=1)
        y[:, c] = x[:, c] / s ** beta
    return y


def _seq_len(length, t, low):
    return min(max(int(length), low), t)


def ref_sequence(op, x, lengths, axis, value=0.0):
    """Explicit loops over the batch and the steps; `lengths` None means every sequence is full."""
    xs = np.moveaxis(x, axis, 0) if axis else x  # (T, batch, ...)
    t, batch = xs.shape[:2]
    full = [t] * batch if lengths is None else list(lengths)
    if op == "SequenceLast":
        return np.stack([xs[_seq_len(full[b], t, 1) - 1, b] for b in range(batch)])
    y = xs.copy()
    for b in range(batch):
        n = _seq_len(full[b], t, 0)
        for s in range(t):
            if op == "SequenceMask" and s >= n:
                y[s, b] = value
            if op == "SequenceReverse" and s < n:
                y[s, b] = xs[n - 1 - s, b]
    return np.moveaxis(y, 0, axis) if axis else y


# -- BatchNorm: forward ---------------------------------------------------------------------------------------
BN_SHAPES = {1: (3, 4, 2, 2), -1: (2, 3, 4), 0: (4, 2, 3), 2: (2, 2, 3, 2)}


def _bn_inputs(rng, axis=1, dtype="float64"):
    shape = BN_SHAPES[axis]
    c = shape[axis]
    x = rng.uniform(-1, 2, shape)
    return (x, rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c), rng.uniform(-0.5, 0.5, c),
            rng.uniform(0.5, 1.5, c))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fix_gamma", [False, True])
@pytest.mark.parametrize("axis", sorted(BN_SHAPES))
@pytest.mark.parametrize("mode", ["train", "global", "predict"])
def test_batch_norm_forward(mode, axis, fix_gamma, dtype, rng):
    x, g, b, mm, mv = _bn_inputs(rng, axis)
    args = [_nd(a, dtype) for a in (x, g, b, mm, mv)]
    kw = {"axis": axis, "fix_gamma": fix_gamma, "use_global_stats": mode == "global", "eps": 0.01}
    with mx.autograd.train_mode() if mode != "predict" else mx.autograd.predict_mode():
        y, mean, inv = mx.nd.BatchNorm(*args, output_mean_var=True, **kw)
    want, wmean, winv = ref_batch_norm(x, g, b, mm, mv, 0.01, axis, fix_gamma, batch=mode == "train")
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert y.dtype == mean.dtype == inv.dtype == np.dtype(dtype)
    assert_almost_equal(y.asnumpy(), want, rtol=tol, atol=tol)
    assert_almost_equal(mean.asnumpy(), wmean, rtol=tol, atol=tol)
    assert_almost_equal(inv.asnumpy(), winv, rtol=tol, atol=tol)
    assert_almost_equal(args[3].asnumpy(), mm.astype(dtype), rtol=0, atol=0)  # the forward never moves them
    assert_almost_equal(args[4].asnumpy(), mv.astype(dtype), rtol=0, atol=0)


@pytest.mark.parametrize("train", [False, True])
def test_batch_norm_float16_data_float32_params(train, rng):
    x, g, b, mm, mv = _bn_inputs(rng)
    params = [_nd(a, "float32") for a in (g, b, mm, mv)]
    with mx.autograd.train_mode() if train else mx.autograd.predict_mode():
        y, mean, inv = mx.nd.BatchNorm(_nd(x, "float16"), *params, output_mean_var=True, fix_gamma=False)
    want, wmean, winv = ref_batch_norm(x.astype("float16"), g, b, mm, mv, 1e-3, batch=train)
    assert (y.dtype, mean.dtype, inv.dtype) == (np.float16, np.float32, np.float32)
    assert_almost_equal(y.asnumpy(), want, rtol=5e-3, atol=5e-3)
    assert_almost_equal(inv.asnumpy(), winv, rtol=1e-5, atol=1e-5)


def test_batch_norm_visible_outputs(rng):
    args = [_nd(a) for a in _bn_inputs(rng)]
    assert isinstance(mx.nd.BatchNorm(*args), mx.nd.NDArray)
    assert len(mx.nd.BatchNorm(*args, output_mean_var=True)) == 3


def test_fix_gamma_leaves_gamma_untouched(rng):
    # MXNet writes ones into gamma; mxplug uses 1 without mutating a non-auxiliary input (a known deviation).
    x, g, b, mm, mv = _bn_inputs(rng)
    gamma = _nd(g)
    with mx.autograd.train_mode():
        mx.nd.BatchNorm(_nd(x), gamma, _nd(b), _nd(mm), _nd(mv), fix_gamma=True)
    assert_almost_equal(gamma.asnumpy(), g, rtol=0, atol=0)


# -- BatchNorm: gradients ----------------------------------------------------------------------------------------
def _bn_fn(mm, mv, train: bool, **kw):
    def fn(x, g, b):
        with mx.autograd.train_mode() if train else mx.autograd.predict_mode():
            return mx.nd.BatchNorm(x, g, b, _nd(mm), _nd(mv), **kw)

    return fn


@pytest.mark.parametrize("fix_gamma", [False, True])
@pytest.mark.parametrize("axis", sorted(BN_SHAPES))
@pytest.mark.parametrize("global_stats", [False, True])
def test_batch_norm_gradient_training(global_stats, axis, fix_gamma, rng):
    x, g, b, mm, mv = _bn_inputs(rng, axis)
    fn = _bn_fn(mm, mv, True, axis=axis, fix_gamma=fix_gamma, use_global_stats=global_stats, eps=0.01)
    check_numeric_gradient(fn, [x, g, b], rtol=1e-5, atol=1e-8)


def test_batch_norm_fix_gamma_gives_zero_gamma_gradient(rng):
    x, g, b, mm, mv = (_nd(a) for a in _bn_inputs(rng))
    g.attach_grad()
    with mx.autograd.record():
        y = mx.nd.BatchNorm(x, g, b, mm, mv, fix_gamma=True)
    y.backward(_nd(rng.uniform(-1, 1, y.shape)))
    assert not g.grad.asnumpy().any()


@pytest.mark.parametrize("fix_gamma", [False, True])
def test_batch_norm_gradient_predict(fix_gamma, rng):
    """Forward and backward in predict mode: the moving statistics are constants (checked numerically with a
    predict-mode backward, which check_numeric_gradient does not do)."""
    x, g, b, mm, mv = _bn_inputs(rng)
    fn = _bn_fn(mm, mv, False, fix_gamma=fix_gamma)
    arrays = [_nd(a) for a in (x, g, b)]
    for a in arrays:
        a.attach_grad()
    with mx.autograd.record(train_mode=False):
        y = fn(*arrays)
    proj = rng.uniform(-1, 1, y.shape)
    mx.autograd.backward([y], [_nd(proj)], train_mode=False)

    def scalar(xs):
        return float((fn(*[_nd(a) for a in xs]).asnumpy() * proj).sum())

    numeric = numeric_grad(scalar, [x, g, b], 1e-6)
    for a, want in zip(arrays, numeric, strict=True):
        assert_almost_equal(a.grad.asnumpy(), want, rtol=1e-6, atol=1e-9)


# -- BatchNorm: moving statistics ----------------------------------------------------------------------------------
def _run_bn(rng, record: bool, backward: bool, record_train=True, backward_train=True, **kw):
    x, g, b, mm0, mv0 = _bn_inputs(rng)
    mm, mv = _nd(mm0), _nd(mv0)
    xa = _nd(x)
    xa.attach_grad()
    if record:
        with mx.autograd.record(train_mode=record_train):
            y = mx.nd.BatchNorm(xa, _nd(g), _nd(b), mm, mv, **kw)
    else:
        with mx.autograd.train_mode():
            y = mx.nd.BatchNorm(xa, _nd(g), _nd(b), mm, mv, **kw)
    forward_moved = not (np.array_equal(mm.asnumpy(), mm0) and np.array_equal(mv.asnumpy(), mv0))
    if backward:
        y.backward(train_mode=backward_train)
    return x, mm0, mv0, mm.asnumpy(), mv.asnumpy(), forward_moved


@pytest.mark.parametrize("momentum", [0.9, 0.25])
def test_moving_statistics_follow_the_training_backward(momentum, rng):
    x, mm0, mv0, mm, mv, forward_moved = _run_bn(rng, record=True, backward=True, momentum=momentum)
    assert not forward_moved
    batch = [_stats(x[:, c].ravel()) for c in range(x.shape[1])]
    want_mean = [m0 * momentum + m * (1 - momentum) for m0, (m, _) in zip(mm0, batch, strict=True)]
    want_var = [v0 * momentum + v * (1 - momentum) for v0, (_, v) in zip(mv0, batch, strict=True)]  # biased
    assert_almost_equal(mm, np.array(want_mean), rtol=1e-6, atol=1e-9)
    assert_almost_equal(mv, np.array(want_var), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("case", "kw"), [
    ("predict_mode", {"record_train": False, "backward_train": False}),
    ("predict_backward", {"backward_train": False}),
    ("global_stats", {"use_global_stats": True}),
    ("no_backward", {"backward": False}),
    ("train_mode_unrecorded", {"record": False, "backward": False}),
])
def test_moving_statistics_stay(case, kw, rng):
    kw = {"record": True, "backward": True, **kw}
    _, mm0, mv0, mm, mv, _ = _run_bn(rng, **kw)
    assert np.array_equal(mm, mm0) and np.array_equal(mv, mv0)


def test_moving_statistics_float16_data(rng):
    x, g, b, mm0, mv0 = _bn_inputs(rng)
    xa = _nd(x, "float16")
    xa.attach_grad()
    mm, mv = _nd(mm0, "float32"), _nd(mv0, "float32")
    with mx.autograd.record():
        y = mx.nd.BatchNorm(xa, _nd(g, "float32"), _nd(b, "float32"), mm, mv, momentum=0.5)
    y.backward()
    x16 = x.astype("float16").astype("float64")
    want = [0.5 * m0 + 0.5 * _stats(x16[:, c].ravel())[0] for c, m0 in enumerate(mm0)]
    assert xa.grad.dtype == np.float16 and mm.dtype == np.float32
    assert_almost_equal(mm.asnumpy(), np.array(want), rtol=1e-5, atol=1e-6)


def test_batch_norm_in_a_graph_updates_aux_states_in_backward(rng):
    x, g, b, mm, mv = _bn_inputs(rng)
    sym = mx.sym.BatchNorm(mx.sym.var("data"), name="bn", fix_gamma=False, momentum=0.5)
    exe = sym.simple_bind(mx.cpu(), data=x.shape, type_dict={"data": "float64"})
    for name, value in (("data", x), ("bn_gamma", g), ("bn_beta", b)):
        exe.arg_dict[name][:] = _nd(value)
    exe.aux_dict["bn_moving_mean"][:] = _nd(mm)
    exe.aux_dict["bn_moving_var"][:] = _nd(mv)
    exe.forward(is_train=True)
    assert_almost_equal(exe.aux_dict["bn_moving_mean"].asnumpy(), mm, rtol=0, atol=0)
    exe.backward(_nd(np.ones(x.shape)))
    want = [0.5 * m0 + 0.5 * _stats(x[:, c].ravel())[0] for c, m0 in enumerate(mm)]
    assert_almost_equal(exe.aux_dict["bn_moving_mean"].asnumpy(), np.array(want), rtol=1e-6, atol=1e-9)


# -- LayerNorm, GroupNorm, InstanceNorm ------------------------------------------------------------------------
LN_CASES = [((3, 5), -1), ((2, 3, 4), 1), ((3, 2, 2), 0), ((2, 3, 4), -1)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("shape", "axis"), LN_CASES)
def test_layer_norm_forward(shape, axis, dtype, rng):
    x = rng.uniform(-1, 2, shape)
    k = shape[axis]
    g, b = rng.uniform(0.5, 1.5, k), rng.uniform(-0.5, 0.5, k)
    y, mean, std = mx.nd.LayerNorm(_nd(x, dtype), _nd(g, dtype), _nd(b, dtype), axis=axis, eps=0.01,
                                   output_mean_var=True)
    want = ref_layer_norm(x, g, b, axis, 0.01)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for got, w in zip((y, mean, std), want, strict=True):
        assert got.dtype == np.dtype(dtype)
        assert_almost_equal(got.asnumpy(), w, rtol=tol, atol=tol)


@pytest.mark.parametrize(("shape", "axis"), LN_CASES)
def test_layer_norm_gradient(shape, axis, rng):
    k = shape[axis]
    check_numeric_gradient(lambda x, g, b: mx.nd.LayerNorm(x, g, b, axis=axis, eps=0.01),
                           [rng.uniform(-1, 2, shape), rng.uniform(0.5, 1.5, k), rng.uniform(-0.5, 0.5, k)])


GN_CASES = [((2, 4, 3), 1), ((2, 4, 3), 2), ((2, 6, 2, 2), 3), ((2, 3, 2, 2), 3), ((1, 4, 2, 1, 2), 2)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("shape", "groups"), GN_CASES)
def test_group_norm_forward(shape, groups, dtype, rng):
    x = rng.uniform(-1, 2, shape)
    g, b = rng.uniform(0.5, 1.5, groups), rng.uniform(-0.5, 0.5, groups)
    y, mean, std = mx.nd.GroupNorm(_nd(x, dtype), _nd(g, dtype), _nd(b, dtype), num_groups=groups, eps=0.01,
                                   output_mean_var=True)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for got, w in zip((y, mean, std), ref_group_norm(x, g, b, groups, 0.01), strict=True):
        assert got.dtype == np.dtype(dtype)
        assert_almost_equal(got.asnumpy(), w, rtol=tol, atol=tol)


@pytest.mark.parametrize(("shape", "groups"), GN_CASES)
def test_group_norm_gradient(shape, groups, rng):
    check_numeric_gradient(lambda x, g, b: mx.nd.GroupNorm(x, g, b, num_groups=groups),
                           [rng.uniform(-1, 2, shape), rng.uniform(0.5, 1.5, groups), rng.uniform(-0.5, 0.5, groups)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 2, 3), (1, 2, 2, 2, 2)])
def test_instance_norm(shape, dtype, rng):
    x = rng.uniform(-1, 2, shape)
    c = shape[1]
    g, b = rng.uniform(0.5, 1.5, c), rng.uniform(-0.5, 0.5, c)
    y = mx.nd.InstanceNorm(_nd(x, dtype), _nd(g, dtype), _nd(b, dtype), eps=0.01)
    assert isinstance(y, mx.nd.NDArray) and y.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_almost_equal(y.asnumpy(), ref_instance_norm(x, g, b, 0.01), rtol=tol, atol=tol)
    if dtype == "float64":
        check_numeric_gradient(lambda x, g, b: mx.nd.InstanceNorm(x, g, b, eps=0.01), [x, g, b])


@pytest.mark.parametrize("op", ["LayerNorm", "GroupNorm", "InstanceNorm"])
def test_affine_norms_float16(op, rng):
    x = rng.uniform(-1, 2, (2, 4, 3))
    plen = {"LayerNorm": 3, "GroupNorm": 2, "InstanceNorm": 4}[op]
    g, b = rng.uniform(0.5, 1.5, plen), rng.uniform(-0.5, 0.5, plen)
    kw = {"num_groups": 2} if op == "GroupNorm" else {}
    y = getattr(mx.nd, op)(_nd(x, "float16"), _nd(g, "float16"), _nd(b, "float16"), **kw)
    x16 = x.astype("float16").astype("float64")
    want = {"LayerNorm": lambda: ref_layer_norm(x16, g, b, -1, 1e-5)[0],
            "GroupNorm": lambda: ref_group_norm(x16, g, b, 2, 1e-5)[0],
            "InstanceNorm": lambda: ref_instance_norm(x16, g, b, 1e-3)}[op]()
    assert y.dtype == np.float16
    assert_almost_equal(y.asnumpy(), want, rtol=1e-2, atol=1e-2)


# -- L2Normalization, LRN ----------------------------------------------------------------------------------------
L2_CASES = [("instance", (3, 4)), ("instance", (5,)), ("instance", (2, 3, 2)), ("channel", (2, 3, 4)),
            ("channel", (2, 3, 2, 2)), ("spatial", (2, 3, 4)), ("spatial", (2, 3, 2, 2))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("mode", "shape"), L2_CASES)
def test_l2_normalization(mode, shape, dtype, rng):
    x = rng.uniform(-1, 2, shape)
    y = mx.nd.L2Normalization(_nd(x, dtype), mode=mode, eps=0.1)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert y.dtype == np.dtype(dtype)
    assert_almost_equal(y.asnumpy(), ref_l2(x, mode, 0.1), rtol=tol, atol=tol)
    if dtype == "float64":
        check_numeric_gradient(lambda x: mx.nd.L2Normalization(x, mode=mode, eps=0.1), [x])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("nsize", "shape"), [(1, (2, 3, 2, 2)), (3, (2, 5, 2, 2)), (5, (1, 6, 3, 2)),
                                              (7, (2, 3, 2, 1)), (3, (3, 4))])
def test_lrn(nsize, shape, dtype, rng):
    x = rng.uniform(-2, 2, shape)
    kw = {"nsize": nsize, "alpha": 0.3, "beta": 0.75, "knorm": 1.5}
    y = mx.nd.LRN(_nd(x, dtype), **kw)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert y.dtype == np.dtype(dtype)
    assert_almost_equal(y.asnumpy(), ref_lrn(x, 0.3, 0.75, 1.5, nsize), rtol=tol, atol=tol)
    if dtype == "float64":
        check_numeric_gradient(lambda x: mx.nd.LRN(x, **kw), [x])


@pytest.mark.parametrize("op", ["L2Normalization", "LRN"])
def test_float16_forward(op, rng):
    x = rng.uniform(-1, 2, (2, 3, 2, 2))
    kw = {"nsize": 3} if op == "LRN" else {}
    y = getattr(mx.nd, op)(_nd(x, "float16"), **kw)
    x16 = x.astype("float16").astype("float64")
    want = ref_lrn(x16, 1e-4, 0.75, 2.0, 3) if op == "LRN" else ref_l2(x16, "instance", 1e-10)
    assert y.dtype == np.float16
    assert_almost_equal(y.asnumpy(), want, rtol=2e-3, atol=2e-3)


# -- sequences --------------------------------------------------------------------------------------------------
SEQ_OPS = ["SequenceMask", "SequenceLast", "SequenceReverse"]
SEQ_CASES = [(0, None), (0, [1, 4, 2]), (0, [2.6, 0.5, 3.0]), (1, None), (1, [1, 2, 4, 3])]


# SequenceReverse takes axis 0 only, as in MXNet (the error is tested below)
@pytest.mark.parametrize(("op", "axis", "lengths"),
                         [(op, a, n) for op in SEQ_OPS for a, n in SEQ_CASES if a == 0 or op != "SequenceReverse"])
def test_sequence_forward_and_gradient(op, axis, lengths, rng):
    x = rng.uniform(-1, 2, (4, 3, 2))
    kw = {"axis": axis}
    args = [x]
    if lengths is not None:
        kw["use_sequence_length"] = True
        args.append(np.array(lengths, dtype="float64"))
    if op == "SequenceMask":
        kw["value"] = -2.5
    y = getattr(mx.nd, op)(*[_nd(a) for a in args], **kw)
    assert_almost_equal(y.asnumpy(), ref_sequence(op, x, lengths, axis, -2.5), rtol=0, atol=0)
    check_numeric_gradient(lambda *a: getattr(mx.nd, op)(*a, **kw), args, grad_nodes=[0])


@pytest.mark.parametrize("op", SEQ_OPS)
@pytest.mark.parametrize("dtype", ["int32", "float16", "float32"])
def test_sequence_dtypes_and_int_lengths(op, dtype, rng):
    x = rng.integers(-5, 5, (3, 2, 2)).astype(dtype)
    lengths = np.array([2, 1], dtype="int32")
    y = getattr(mx.nd, op)(_nd(x, dtype), _nd(lengths, "int32"), use_sequence_length=True)
    assert y.dtype == np.dtype(dtype)
    assert_almost_equal(y.asnumpy(), ref_sequence(op, x, lengths, 0).astype(dtype), rtol=0, atol=0)


def test_sequence_lengths_outside_the_sequence_are_clipped():
    # MXNet reads out of bounds for SequenceLast/SequenceReverse lengths outside [1, T]; mxplug clips.
    x = np.arange(24.0).reshape(4, 3, 2)
    lengths = [0, 9, -1]
    for op in SEQ_OPS:
        got = getattr(mx.nd, op)(_nd(x), _nd(lengths), use_sequence_length=True).asnumpy()
        assert_almost_equal(got, ref_sequence(op, x, lengths, 0), rtol=0, atol=0)
    assert_almost_equal(mx.nd.SequenceLast(_nd(x), _nd(lengths), use_sequence_length=True).asnumpy(),
                        np.stack([x[0, 0], x[3, 1], x[0, 2]]), rtol=0, atol=0)


# -- errors --------------------------------------------------------------------------------------------------------
def _bn_args(shape=(2, 3, 4), c=3, gamma=None, dtype="float32", pdtype=None):
    p = pdtype or dtype
    return [mx.nd.ones(shape, dtype=dtype), mx.nd.ones(gamma or (c,), dtype=p), mx.nd.zeros((c,), dtype=p),
            mx.nd.zeros((c,), dtype=p), mx.nd.ones((c,), dtype=p)]


def test_batch_norm_errors():
    with pytest.raises(ShapeError, match=r"'BatchNorm': gamma \(4,\) must have shape \(3,\).*data \(2, 3, 4\)"):
        mx.nd.BatchNorm(*_bn_args(gamma=(4,)))
    args = _bn_args()
    args[4] = mx.nd.ones((2,))
    with pytest.raises(ShapeError, match=r"moving_var \(2,\) must have shape \(3,\)"):
        mx.nd.BatchNorm(*args)
    with pytest.raises(ShapeError, match=r"gamma \(3,\) must have shape \(4,\).*axis 2"):
        mx.nd.BatchNorm(*_bn_args(), axis=-1)
    with pytest.raises(ShapeError, match=r"channel axis 1 is out of range for data \(3,\)"):
        mx.nd.BatchNorm(*_bn_args(shape=(3,)))
    with pytest.raises(DTypeError, match="gamma is float16, it must be float32 for float16 data"):
        mx.nd.BatchNorm(*_bn_args(dtype="float16"))
    with pytest.raises(DTypeError, match="gamma is float64, it must be float32"):
        mx.nd.BatchNorm(*_bn_args(pdtype="float64"))
    with pytest.raises(DTypeError, match="float16, float32 and float64 data only, got int32"):
        mx.nd.BatchNorm(*_bn_args(dtype="int32"))


def test_affine_norm_errors():
    x = mx.nd.ones((2, 6, 3))
    with pytest.raises(ShapeError, match=r"'GroupNorm': the channels of data \(2, 6, 3\) \(6\) must be divisible "
                                         r"by num_groups \(4\)"):
        mx.nd.GroupNorm(x, mx.nd.ones(4), mx.nd.zeros(4), num_groups=4)
    with pytest.raises(ShapeError, match=r"'GroupNorm': gamma \(6,\) must have shape \(2,\) \(one per group\)"):
        mx.nd.GroupNorm(x, mx.nd.ones(6), mx.nd.zeros(6), num_groups=2)
    with pytest.raises(ShapeError, match=r"'GroupNorm': data must be .* 3 or more dimensions, got \(2, 6\)"):
        mx.nd.GroupNorm(mx.nd.ones((2, 6)), mx.nd.ones(1), mx.nd.zeros(1))
    with pytest.raises(ShapeError, match=r"'InstanceNorm': beta \(2,\) must have shape \(6,\)"):
        mx.nd.InstanceNorm(x, mx.nd.ones(6), mx.nd.zeros(2))
    with pytest.raises(ShapeError, match=r"'LayerNorm': gamma \(6,\) must have shape \(3,\).*data \(2, 6, 3\)"):
        mx.nd.LayerNorm(x, mx.nd.ones(6), mx.nd.zeros(3))
    with pytest.raises(ShapeError, match=r"'LayerNorm': axis=3 is out of range"):
        mx.nd.LayerNorm(x, mx.nd.ones(3), mx.nd.zeros(3), axis=3)
    with pytest.raises(DTypeError, match="int32"):
        mx.nd.LayerNorm(mx.nd.ones((2, 3), dtype="int32"), mx.nd.ones(3, dtype="int32"),
                        mx.nd.ones(3, dtype="int32"))


def test_l2_lrn_errors():
    with pytest.raises(ShapeError, match=r"mode='channel' needs data with 3 or more dimensions, got \(3, 4\)"):
        mx.nd.L2Normalization(mx.nd.ones((3, 4)), mode="channel")
    with pytest.raises(OperatorAttributeError, match="nsize must be a positive odd number, got 4"):
        mx.nd.LRN(mx.nd.ones((1, 5, 2, 2)), nsize=4)
    with pytest.raises(OperatorAttributeError, match="nsize"):
        mx.nd.LRN(mx.nd.ones((1, 5, 2, 2)))


def test_sequence_errors():
    x = mx.nd.ones((4, 3, 2))
    with pytest.raises(ShapeError, match=r"sequence_length \(2,\) must be \(batch,\) = \(3,\) for data \(4, 3, 2\)"):
        mx.nd.SequenceMask(x, mx.nd.array([1, 2]), use_sequence_length=True)
    with pytest.raises(ShapeError, match=r"sequence_length \(3,\) must be \(batch,\) = \(4,\).*axis=1"):
        mx.nd.SequenceLast(x, mx.nd.array([1, 2, 3]), use_sequence_length=True, axis=1)
    with pytest.raises(OperatorAttributeError, match="axis must be 0 or 1"):
        mx.nd.SequenceMask(x, axis=2)
    with pytest.raises(OperatorAttributeError, match="'SequenceReverse': axis must be 0"):
        mx.nd.SequenceReverse(x, axis=1)
    with pytest.raises(OperatorAttributeError, match="sequence_length was given but use_sequence_length is False"):
        mx.nd.SequenceLast(x, mx.nd.array([1, 2, 3]))
    with pytest.raises(OperatorAttributeError, match="input 'sequence_length' is required"):
        mx.nd.SequenceReverse(x, use_sequence_length=True)
    with pytest.raises(ShapeError, match=r"sequence and a batch axis, got \(4,\)"):
        mx.nd.SequenceMask(mx.nd.ones((4,)))


# -- rules for graphs ------------------------------------------------------------------------------------------
def _attrs(op, **kw):
    return mx.registry.get(op).parse_attrs(kw)


@pytest.mark.parametrize(("op", "kw", "data", "want"), [
    ("BatchNorm", {}, ((2, 3, 4), "float16"), ((3,), "float32")),
    ("BatchNorm", {"axis": -1}, ((2, 3, 4), "float64"), ((4,), "float64")),
    ("LayerNorm", {"axis": 1}, ((2, 3, 4), "float32"), ((3,), "float32")),
    ("GroupNorm", {"num_groups": 2}, ((2, 6, 4), "float32"), ((2,), "float32")),
    ("InstanceNorm", {}, ((2, 6, 4), "float32"), ((6,), "float32")),
    ("SequenceMask", {"use_sequence_length": True, "axis": 1}, ((2, 5, 4), "float32"), ((2,), "float32")),
])
def test_infer_inputs(op, kw, data, want):
    schema = mx.registry.get(op)
    specs = [TensorSpec(data[0], np.dtype(data[1]))] + [None] * (len(schema.inputs) - 1)
    got = rules(op).infer_inputs(_attrs(op, **kw), *specs)
    assert all(s == TensorSpec(want[0], np.dtype(want[1])) for s in got[1:])


@pytest.mark.parametrize("op", SEQ_OPS)
def test_sequence_input_names(op):
    assert rules(op).input_names(_attrs(op)) == ["data"]
    assert rules(op).input_names(_attrs(op, use_sequence_length=True)) == ["data", "sequence_length"]
