"""Autograd semantics: recording flags, backward/grad, grad_req, higher order, Function, threads, deep graphs.

What MXNet defines is checked against recorded MXNet 1.9 results (tests/oracle/core_cases.py); gradient values
are checked against closed forms or central differences (`check_numeric_gradient`).
"""

import sys
import threading

import numpy as np
import pytest

import mxplug as mx
from mxplug import autograd as ag
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests import toy_backend
from tests.oracle.core_cases import check_case, names


@pytest.mark.parametrize("name", names("ag."))
def test_matches_mxnet(name):
    check_case(name, mx)


def var(values, dtype="float64"):
    x = mx.nd.array(values, dtype=dtype)
    x.attach_grad()
    return x


# -- grad_req ---------------------------------------------------------------------------------------------------
def test_grad_req_write_overwrites_and_keeps_the_buffer():
    x = var([1.0, 2.0])
    g = x.grad
    for scale in (3.0, 5.0):
        with ag.record():
            y = x * scale
        y.backward()
        assert x.grad is g  # the same NDArray: gradients are written into it
        np.testing.assert_array_equal(g.asnumpy(), [scale, scale])


def test_grad_req_add_accumulates_into_the_buffer():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad(grad_req="add")
    g = x.grad
    for _ in range(3):
        with ag.record():
            y = x * x
        y.backward()
    assert x.grad is g
    np.testing.assert_array_equal(g.asnumpy(), [6.0, 12.0])


def test_grad_req_null_has_no_grad_and_bad_req_is_rejected():
    x = mx.nd.array([1.0])
    x.attach_grad(grad_req="null")
    assert x.grad is None
    with pytest.raises(mx.base.MXNetError, match="grad_req"):
        x.attach_grad(grad_req="sometimes")


def test_attach_grad_again_resets_the_gradient():
    x = var([1.0, 2.0])
    with ag.record():
        y = x * 4
    y.backward()
    x.attach_grad()
    np.testing.assert_array_equal(x.grad.asnumpy(), [0.0, 0.0])


# -- flags ------------------------------------------------------------------------------------------------------
def test_pause_stops_recording():
    x = var([1.0])
    with ag.record():
        with ag.pause():
            y = x * 2
        z = x * 3
    assert y._ag is None and z._ag is not None
    with pytest.raises(mx.base.AutogradError, match="not in a recorded graph"):
        y.backward()


def test_set_recording_and_training_flags_round_trip():
    assert ag.set_recording(True) is False
    try:
        x = var([2.0])
        y = x * x  # recorded although no `with record()`
        assert ag.is_recording()
    finally:
        assert ag.set_recording(False) is True
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [4.0])
    assert ag.set_training(True) is False
    assert ag.is_training()
    assert ag.set_training(False) is True


def test_flags_restored_after_exception():
    with pytest.raises(KeyError), ag.record():
        raise KeyError
    assert not ag.is_recording() and not ag.is_training()


def test_backward_train_mode_flag_is_seen_by_gradients():
    seen = []

    class Probe(ag.Function):
        def forward(self, x):
            return x * 1

        def backward(self, dy):
            seen.append(ag.is_training())
            return dy

    for mode in (True, False):
        x = var([1.0])
        with ag.record():
            y = Probe()(x)
        y.backward(train_mode=mode)
    assert seen == [True, False]


# -- backward ---------------------------------------------------------------------------------------------------
def test_backward_with_out_grad_and_retain_graph():
    x = var([1.0, 2.0, 3.0])
    with ag.record():
        y = x * x * 2
    y.backward(mx.nd.array([1.0, 0.5, 2.0], dtype="float64"), retain_graph=True)
    np.testing.assert_array_equal(x.grad.asnumpy(), [4.0, 4.0, 24.0])
    y.backward()  # the graph was retained
    np.testing.assert_array_equal(x.grad.asnumpy(), [4.0, 8.0, 12.0])
    with pytest.raises(mx.base.AutogradError, match="retain_graph"):
        y.backward()


def test_head_grad_shape_mismatch_raises():
    # Deviation: MXNet 1.9 silently accepts a head gradient of the wrong shape (reading garbage).
    x = var([1.0, 2.0, 3.0])
    with ag.record():
        y = x * 2
    with pytest.raises(mx.base.MXNetError, match=r"\(2,\).*\(3,\)"):
        y.backward(mx.nd.ones((2,), dtype="float64"))


def test_head_grad_count_mismatch_raises():
    x = var([1.0])
    with ag.record():
        a, b = x * 2, x * 3
    with pytest.raises(mx.base.AutogradError):
        ag.backward([a, b], [mx.nd.ones((1,), dtype="float64")])


def test_unrecorded_head_error_is_clear():
    with pytest.raises(mx.base.AutogradError, match="attach_grad"):
        mx.nd.array([1.0]).backward()


def test_reused_input_accumulates():
    x = var([0.5, -2.0])
    with ag.record():
        y = x
        for _ in range(99):
            y = y + x  # x used 100 times
        z = y * x  # 100 x^2
    z.backward()
    assert_almost_equal(x.grad, 200 * np.array([0.5, -2.0]))


def test_diamond_graph_accumulates():
    x = var([1.5])
    with ag.record():
        a = x * x
        b = a * 3
        c = a * x
        d = b + c  # 3x^2 + x^3
    d.backward()
    assert_almost_equal(x.grad, [6 * 1.5 + 3 * 1.5**2])


def test_deep_chain_backward_does_not_recurse():
    depth = 20000
    assert depth > sys.getrecursionlimit()
    x = var([1.0])
    with ag.record():
        y = x
        for _ in range(depth):
            y = y * 1.0001
    y.backward()
    assert_almost_equal(x.grad, [1.0001**depth], rtol=1e-9)


def test_variable_head_gets_ones():
    x = var([[1.0, 2.0]])
    x.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [[1.0, 1.0]])


# -- autograd.grad and higher order -----------------------------------------------------------------------------
def test_grad_does_not_touch_dot_grad_and_returns_a_list():
    x = var([1.0, 2.0])
    with ag.record():
        y = x * x
    out = ag.grad(y, x)
    assert isinstance(out, list) and len(out) == 1
    assert_almost_equal(out[0], [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.asnumpy(), [0.0, 0.0])


def test_grad_of_several_variables_and_heads():
    x, w = var([1.0, 2.0]), var([3.0, -1.0])
    with ag.record():
        a = x * w
        b = w * w
    gx, gw = ag.grad([a, b], [x, w], head_grads=[mx.nd.ones((2,), dtype="float64"),
                                                mx.nd.array([2.0, 2.0], dtype="float64")])
    assert_almost_equal(gx, [3.0, -1.0])
    assert_almost_equal(gw, [1.0 + 2 * 2 * 3.0, 2.0 + 2 * 2 * -1.0])


def test_grad_unreachable_variable_raises():
    x, w = var([1.0]), var([2.0])
    with ag.record():
        y = x * 2
    with pytest.raises(mx.base.AutogradError, match="variable 1.*unreachable"):
        ag.grad(y, [x, w])


def test_grad_of_intermediate_array():
    # Extension: MXNet only differentiates with respect to variables; mxplug also accepts recorded arrays.
    x = var([2.0])
    with ag.record():
        h = x * 3
        y = h * h
    (gh,) = ag.grad(y, [h])
    assert_almost_equal(gh, [12.0])


def test_powers_up_to_third_order():
    xs = np.array([0.5, 1.0, -2.0])
    x = var(xs)
    with ag.record():
        y = x ** 3
        (d1,) = ag.grad(y, [x], create_graph=True)
        (d2,) = ag.grad(d1, [x], create_graph=True)
    assert_almost_equal(d1, 3 * xs**2)
    assert_almost_equal(d2, 6 * xs)
    d2.backward()
    assert_almost_equal(x.grad, np.full(3, 6.0))


def test_sin_chain_second_order():
    xs = np.array([0.3, 1.0, 2.5])
    x = var(xs)
    with ag.record():
        y = mx.nd.sin(mx.nd.sin(x))
        (d1,) = ag.grad(y, [x], create_graph=True)
    assert_almost_equal(d1, np.cos(np.sin(xs)) * np.cos(xs))
    d1.backward()
    d2 = -np.sin(np.sin(xs)) * np.cos(xs) ** 2 - np.cos(np.sin(xs)) * np.sin(xs)
    assert_almost_equal(x.grad, d2)


def test_exp_product_higher_order():
    # f = x * exp(x): f' = (1 + x) e^x, f'' = (2 + x) e^x, f''' = (3 + x) e^x
    xs = np.array([-1.0, 0.0, 0.7])
    x = var(xs)
    with ag.record():
        y = x * mx.nd.exp(x)
        (d1,) = ag.grad(y, [x], create_graph=True)
        (d2,) = ag.grad(d1, [x], create_graph=True)
    d2.backward()
    assert_almost_equal(d1, (1 + xs) * np.exp(xs))
    assert_almost_equal(d2, (2 + xs) * np.exp(xs))
    assert_almost_equal(x.grad, (3 + xs) * np.exp(xs))


def test_grad_without_create_graph_is_not_recorded():
    x = var([1.0])
    with ag.record():
        y = x * x
        (d,) = ag.grad(y, [x])
    assert d._ag is None


# -- numeric gradient checks of composed expressions ------------------------------------------------------------
def test_numeric_gradient_broadcasting_arithmetic(rng):
    a = rng.uniform(0.5, 2.0, size=(2, 3))
    b = rng.uniform(0.5, 2.0, size=(3,))
    c = rng.uniform(0.5, 2.0, size=(2, 1))
    check_numeric_gradient(lambda x, y, z: (x * y - z) / (y + z) + mx.nd.exp(x * 0.5), [a, b, c])


def test_numeric_gradient_through_reshape_and_transpose(rng):
    a = rng.normal(size=(2, 3, 4))
    check_numeric_gradient(lambda x: mx.nd.transpose(x.reshape((0, -1)) * 2.0).reshape((-1,)) * x.reshape(-1), [a])


def test_numeric_gradient_of_scalar_operators(rng):
    a = rng.uniform(0.5, 2.0, size=(4,))
    check_numeric_gradient(lambda x: 3.0 - (2.0 / x) ** 2.0 + 1.5 ** x - (x % 0.7) + abs(-x), [a])


# -- mark_variables, detach, BlockGrad ---------------------------------------------------------------------------
def test_mark_variables_add_and_write():
    x, w = mx.nd.array([1.0, 2.0]), mx.nd.array([3.0])
    gx, gw = mx.nd.full((2,), 10.0), mx.nd.zeros((1,))
    ag.mark_variables([x, w], [gx, gw], grad_reqs=["add", "write"])
    with ag.record():
        y = x * w
    y.backward()
    np.testing.assert_array_equal(gx.asnumpy(), [13.0, 13.0])
    np.testing.assert_array_equal(gw.asnumpy(), [3.0])
    with pytest.raises(mx.base.MXNetError):
        ag.mark_variables([x], [gx, gw])


def test_detach_shares_data_and_cuts_the_graph():
    x = var([1.0, 2.0])
    with ag.record():
        y = x * 2
        d = y.detach()
    assert d._ag is None
    np.testing.assert_array_equal(d.asnumpy(), [2.0, 4.0])


def test_stop_gradient_alias():
    x = var([3.0])
    with ag.record():
        y = mx.nd.stop_gradient(x * x) * x + x * x
    y.backward()
    assert_almost_equal(x.grad, [9.0 + 6.0])


# -- writes into arrays while recording -------------------------------------------------------------------------
def test_inplace_on_graph_arrays_while_recording_is_refused():
    x = var([1.0, 2.0])
    with ag.record():
        y = x * 3
        with pytest.raises(mx.base.AutogradError, match="computational graph"):
            y += 1
        with pytest.raises(mx.base.AutogradError, match="computational graph"):
            x *= 2
        with pytest.raises(mx.base.AutogradError, match="computational graph"):
            mx.nd.exp(x, out=y)
        acc = mx.nd.zeros((2,), dtype="float64")
        with pytest.raises(mx.base.AutogradError, match="in-place"):
            acc += x  # recorded with acc as both input and output
    np.testing.assert_array_equal(x.asnumpy(), [1.0, 2.0])  # nothing was written
    np.testing.assert_array_equal(acc.asnumpy(), [0.0, 0.0])


def test_out_argument_joins_the_graph():
    xs = np.array([0.5, -1.0])
    x = var(xs)
    w = mx.nd.zeros((2,), dtype="float64")
    with ag.record():
        mx.nd.exp(x, out=w)
        z = w * w
    z.backward()
    assert_almost_equal(x.grad, 2 * np.exp(2 * xs))


def test_inplace_outside_record_keeps_the_graph():
    x = var([1.0, 2.0])
    with ag.record():
        y = x * 3
    y *= 2  # not recorded: y still differentiates as x * 3
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [3.0, 3.0])
    np.testing.assert_array_equal(y.asnumpy(), [6.0, 12.0])


# -- autograd.Function -----------------------------------------------------------------------------------------
class ScaledProduct(ag.Function):
    """out1 = a * b * k, out2 = a / b (k is a plain Python attribute)."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b * self.k, a / b

    def backward(self, g1, g2):
        a, b = self.saved_tensors
        return g1 * b * self.k + g2 / b, g1 * a * self.k - g2 * a / (b * b)


def test_function_multiple_inputs_and_outputs():
    av, bv = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    a, b = var(av), var(bv)
    with ag.record():
        p, q = ScaledProduct(3.0)(a, b)
        z = p * 2 + q * 5
    assert not ag.is_recording() and p._ag is not None
    z.backward()
    assert_almost_equal(a.grad, 2 * 3.0 * bv + 5 / bv)
    assert_almost_equal(b.grad, 2 * 3.0 * av - 5 * av / bv**2)


def test_function_forward_is_not_recorded_inside():
    inner = []

    class Rec(ag.Function):
        def forward(self, x):
            inner.append(ag.is_recording())
            return x * 2

        def backward(self, dy):
            return dy * 2

    x = var([1.0])
    with ag.record():
        Rec()(x)
    assert inner == [False]


# -- threads ----------------------------------------------------------------------------------------------------
def test_recording_is_per_thread():
    x = var([2.0])
    started, done = threading.Event(), threading.Event()
    other = {}

    def worker():
        started.wait()
        y = x * x  # the main thread is recording now; this thread is not
        other["ag"] = y._ag
        other["flag"] = ag.is_recording()
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with ag.record():
        started.set()
        done.wait()
        z = x * 3
    t.join()
    assert other == {"ag": None, "flag": False}
    z.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [3.0])


def test_threads_record_independent_graphs():
    results = {}

    def worker(k):
        x = var([float(k)])
        with ag.record():
            y = x * x * k
        y.backward()
        results[k] = x.grad.asscalar()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: 2.0 * k * k for k in range(1, 5)}


# -- across contexts --------------------------------------------------------------------------------------------
def test_gradient_flows_across_contexts():
    with toy_backend.installed() as toy:
        xs = np.array([1.0, -3.0])
        x = var(xs)
        with ag.record():
            y = x.as_in_context(toy)
            z = (y * y).as_in_context(mx.cpu()) * 2
        assert y.context == toy and z.context == mx.cpu()
        z.backward()
        assert x.grad.context == mx.cpu()
        assert_almost_equal(x.grad, 4 * xs)


def test_numeric_gradient_of_non_contiguous_inputs(rng):
    # A transposed or sliced input: the central differences must still perturb every element.
    x = rng.normal(size=(4, 3)).T
    w = rng.normal(size=(8, 5))[::2, 1:3]
    from mxplug.testing import numeric_grad

    num = numeric_grad(lambda xs: float((xs[0] @ xs[1] * 2).sum()), [x, w])
    np.testing.assert_allclose(num[0], np.tile(w.sum(1) * 2, (3, 1)), rtol=1e-6)
    check_numeric_gradient(lambda a, b: mx.nd.dot(a, b) * 2, [x, w])
