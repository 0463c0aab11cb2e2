"""Reductions: sum, mean, max, min, prod, nansum, nanprod, argmax, argmin, argmax_channel, norm.

MXNet 1.9's own answers (forward values, dtypes, shapes, tie rules, gradients) are recorded in
tests/oracle/record_reduce.py; here every operator is also checked against float64 references written with
explicit Python loops over the reduced slices, and every gradient numerically.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import OperatorAttributeError, ShapeError
from mxplug.testing import assert_almost_equal, check_numeric_gradient, numeric_grad
from tests.oracle.record_reduce import CASES, check_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- float64 references: a Python fold over each reduced slice ------------------------------------------------
def _nan_free(v):
    return [e for e in v if not math.isnan(e)]


FOLDS = {
    "sum": math.fsum,
    "mean": lambda v: math.fsum(v) / len(v),
    "max": max,
    "min": min,
    "prod": math.prod,
    "nansum": lambda v: math.fsum(_nan_free(v)),
    "nanprod": lambda v: math.prod(_nan_free(v)),
}


def ref_reduce(x: np.ndarray, axes: tuple[int, ...], keepdims: bool, fold) -> np.ndarray:
    """Apply `fold` to the list of elements of every slice along `axes` (explicit loops, float64)."""
    kept_shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    out = np.empty(kept_shape)
    for idx in itertools.product(*(range(s) for s in kept_shape)):
        ranges = [range(x.shape[i]) if i in axes else (idx[i],) for i in range(x.ndim)]
        out[idx] = fold([float(x[j]) for j in itertools.product(*ranges)])
    if keepdims:
        return out
    return out.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes) or (1,))


# (attributes, the axes MXNet reduces for a 3-D input): written out by hand, not derived by the code under test.
AXIS_CASES = [
    ({}, (0, 1, 2)),
    ({"axis": 1}, (1,)),
    ({"axis": -1}, (2,)),
    ({"axis": (0, 2)}, (0, 2)),
    ({"axis": (-1, 0)}, (0, 2)),
    ({"axis": (1,), "exclude": True}, (0, 2)),
    ({"axis": (0, -1), "exclude": True}, (1,)),
    ({"axis": ()}, (0, 1, 2)),
    ({"axis": (), "exclude": True}, (0, 1, 2)),
    ({"exclude": True}, (0, 1, 2)),
    ({"axis": (0, 1, 2), "exclude": True}, ()),
]
AXIS_IDS = ["none", "ax1", "neg", "tuple", "neg_tuple", "excl", "excl_neg", "empty", "empty_excl", "none_excl",
            "excl_all"]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(("attrs", "axes"), AXIS_CASES, ids=AXIS_IDS)
@pytest.mark.parametrize("op", sorted(FOLDS))
def test_forward_float(op, attrs, axes, keepdims, rng):
    x = rng.uniform(0.5, 1.5, size=(2, 3, 4)) * rng.choice([-1, 1], size=(2, 3, 4))
    if op.startswith("nan"):
        x[0, 1, 2] = x[1, 2, 0] = np.nan
    got = getattr(mx.nd, op)(mx.nd.array(x, dtype="float64"), keepdims=keepdims, **attrs)
    assert got.dtype is np.float64
    assert_almost_equal(got, ref_reduce(x, axes, keepdims, FOLDS[op]), rtol=1e-12, atol=1e-12)


INT_FOLDS = {
    **FOLDS,
    "mean": lambda v: int(math.fsum(v) / len(v)),  # MXNet divides integers truncating toward zero
}


@pytest.mark.parametrize(("attrs", "axes"), AXIS_CASES[:6], ids=AXIS_IDS[:6])
@pytest.mark.parametrize("op", sorted(INT_FOLDS))
def test_forward_int32(op, attrs, axes, rng):
    x = rng.integers(-9, 10, size=(2, 3, 4))
    got = getattr(mx.nd, op)(mx.nd.array(x, dtype="int32"), **attrs)
    assert got.dtype is np.int32
    want = ref_reduce(x, axes, False, INT_FOLDS[op])
    np.testing.assert_array_equal(got.asnumpy(), want.astype(np.int64).astype(np.int32))  # prod wraps like int32


def test_mean_int_truncates_toward_zero():
    x = mx.nd.array([[-7, -4, 0], [7, 8, 8], [-1, -1, 1]], dtype="int32")
    np.testing.assert_array_equal(mx.nd.mean(x, axis=1).asnumpy(), [-3, 7, 0])


@pytest.mark.parametrize("dtype", ["float16", "float32", "uint8", "int8", "int64"])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod"])
def test_result_keeps_input_dtype(op, dtype):
    x = mx.nd.array([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    out = getattr(mx.nd, op)(x, axis=0)
    assert out.dtype is np.dtype(dtype).type
    assert_almost_equal(out.asnumpy().astype("float64"), ref_reduce(np.array([[1, 2, 3], [4, 5, 6.0]]), (0,), False,
                                                                    INT_FOLDS[op] if dtype[0] in "ui" else FOLDS[op]),
                        rtol=1e-3)


@pytest.mark.parametrize("op", ["max", "min", "sum", "prod"])
def test_nan_propagates(op):
    out = getattr(mx.nd, op)(mx.nd.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]]), axis=1).asnumpy()
    assert np.isnan(out[0]) and not np.isnan(out[1])


def test_aliases_and_fluent_methods():
    x = mx.nd.array(np.arange(6.0).reshape(2, 3))
    assert mx.nd.sum_axis is mx.nd.sum and mx.nd.max_axis is mx.nd.max and mx.nd.min_axis is mx.nd.min
    assert_almost_equal(x.sum(axis=1), [3.0, 12.0])
    assert_almost_equal(x.max(1), [2.0, 5.0])  # positional arguments after the inputs are attributes in order
    assert_almost_equal(x.norm(), [math.sqrt(55.0)])


# -- argmax / argmin / argmax_channel -------------------------------------------------------------------------
def ref_arg(x: np.ndarray, axis: int | None, keepdims: bool, largest: bool) -> np.ndarray:  # noqa: FBT001
    """First index of the extremum, by explicit loops (float64 out, cast by the caller)."""
    def first(v):
        best = 0
        for i, e in enumerate(v):
            if (e > v[best]) if largest else (e < v[best]):
                best = i
        return best

    if axis is None:
        out = np.array([first(list(x.reshape(-1)))], dtype="float64")
        return out.reshape((1,) * x.ndim) if keepdims else out
    return ref_reduce(x, (axis % x.ndim,), keepdims, first)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_forward(op, axis, keepdims, rng):
    x = rng.integers(-3, 4, size=(3, 4, 5)).astype("float32")  # plenty of ties: the first index wins
    got = getattr(mx.nd, op)(mx.nd.array(x), axis=axis, keepdims=keepdims)
    assert got.dtype is np.float32
    np.testing.assert_array_equal(got.asnumpy(), ref_arg(x, axis, keepdims, op == "argmax"))


@pytest.mark.parametrize("dtype", ["int32", "float64", "float16"])
def test_arg_indices_have_input_dtype(dtype):
    x = mx.nd.array([[1, 5, 5], [7, 0, 2]], dtype=dtype)
    got = mx.nd.argmax(x, axis=1)
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), [1, 0])


def test_argmax_channel_is_argmax_over_axis_1(rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    got = mx.nd.argmax_channel(mx.nd.array(x))
    np.testing.assert_array_equal(got.asnumpy(), ref_arg(x, 1, False, True))
    assert got.shape == (2, 4)


@pytest.mark.parametrize("op", ["argmax", "argmin", "argmax_channel"])
def test_index_ops_have_zero_gradient(op, rng):
    x = mx.nd.array(rng.normal(size=(3, 4)))
    x.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, op)(x) * 2
    y.backward()
    assert x.grad.shape == (3, 4) and not x.grad.asnumpy().any()


# -- norm -----------------------------------------------------------------------------------------------------
NORM_FOLDS = {1: lambda v: math.fsum(abs(e) for e in v), 2: lambda v: math.sqrt(math.fsum(e * e for e in v))}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(("axis", "axes"), [(None, (0, 1, 2)), (1, (1,)), (-1, (2,)), ((0, 2), (0, 2)),
                                            ((), (0, 1, 2))])
@pytest.mark.parametrize("ord_", [1, 2])
def test_norm_forward(ord_, axis, axes, keepdims, rng):
    x = rng.normal(size=(2, 3, 4))
    got = mx.nd.norm(mx.nd.array(x, dtype="float64"), ord=ord_, axis=axis, keepdims=keepdims)
    assert_almost_equal(got, ref_reduce(x, axes, keepdims, NORM_FOLDS[ord_]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("dtype", "out_dtype"), [("float64", "float32"), ("float32", "float64"),
                                                  ("float32", "float16"), ("int32", "float32")])
def test_norm_out_dtype(dtype, out_dtype):
    # MXNet's CPU kernel fails for out_dtype != dtype; mxplug computes the norm and casts.
    x = mx.nd.array([[3, -4], [1, 1]], dtype=dtype)
    got = mx.nd.norm(x, axis=1, out_dtype=out_dtype)
    assert got.dtype is np.dtype(out_dtype).type
    assert_almost_equal(got.asnumpy().astype("float64"), [5.0, math.sqrt(2.0)], rtol=1e-3)


def test_norm_integer_input_is_exact():
    # MXNet gives 4 for norm([3, 4]) on int32 (a float32 sqrt truncated); mxplug truncates the exact value.
    got = mx.nd.norm(mx.nd.array([[3, 4], [1, 1]], dtype="int32"), axis=1)
    assert got.dtype is np.int32
    np.testing.assert_array_equal(got.asnumpy(), [5, 1])


def test_norm_float16_accumulates_safely():
    x = mx.nd.array(np.full(4, 300.0), dtype="float16")  # 300² overflows float16
    assert_almost_equal(mx.nd.norm(x).asnumpy().astype("float64"), [600.0], rtol=1e-3)


# -- gradients ------------------------------------------------------------------------------------------------
GRAD_AXES = [({}, "none"), ({"axis": 1}, "ax1"), ({"axis": (0, 2), "keepdims": True}, "tuple_keep"),
             ({"axis": (1,), "exclude": True}, "excl"), ({"axis": (0, 1, 2), "exclude": True}, "excl_all")]


@pytest.mark.parametrize("attrs", [a for a, _ in GRAD_AXES], ids=[i for _, i in GRAD_AXES])
@pytest.mark.parametrize("op", sorted(FOLDS))
def test_gradient(op, attrs, rng):
    # Continuous random values: no ties for max/min, no zeros for prod (zeros have their own test).
    x = rng.uniform(0.5, 1.5, size=(2, 3, 4)) * rng.choice([-1, 1], size=(2, 3, 4))
    if op.startswith("nan"):
        x[0, 1, 2] = x[1, 0, 3] = np.nan  # their gradient is zero, and so is the numeric one
    check_numeric_gradient(lambda a: getattr(mx.nd, op)(a, **attrs), [x])


@pytest.mark.parametrize("axis", [None, 1, (0, 1)])
def test_prod_gradient_at_zeros(axis):
    # Rows with no zero, one zero and two zeros. MXNet computes prod/x, NaN at the zeros; mxplug gives the
    # product of the other elements, which is the true (and the numeric) derivative.
    x = np.array([[1.5, -2.0, 0.5], [0.0, 3.0, -1.0], [0.0, 2.0, 0.0]])
    check_numeric_gradient(lambda a: mx.nd.prod(a, axis=axis), [x])


def test_nanprod_gradient_with_zeros_and_nan():
    x = np.array([[1.5, np.nan, 0.0], [np.nan, np.nan, np.nan], [2.0, -1.0, 0.5]])
    check_numeric_gradient(lambda a: mx.nd.nanprod(a, axis=1), [x])


@pytest.mark.parametrize("op", ["max", "min"])
def test_extremum_gradient_goes_to_every_tie(op):
    x = mx.nd.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, op)(x, axis=1)
    y.backward(mx.nd.array([1.0, 2.0]))
    hit = x.asnumpy() == (x.asnumpy().max(axis=1) if op == "max" else x.asnumpy().min(axis=1))[:, None]
    assert_almost_equal(x.grad, hit * np.array([[1.0], [2.0]]))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, (1, 2)])
@pytest.mark.parametrize("ord_", [1, 2])
def test_norm_gradient(ord_, axis, keepdims, rng):
    x = rng.uniform(0.5, 1.5, size=(2, 3, 4)) * rng.choice([-1, 1], size=(2, 3, 4))
    check_numeric_gradient(lambda a: mx.nd.norm(a, ord=ord_, axis=axis, keepdims=keepdims), [x])


def test_norm_gradient_with_out_dtype():
    x = mx.nd.array([[3.0, -4.0]], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.norm(x, axis=1, out_dtype="float32")
    y.backward()
    assert x.grad.dtype is np.float64
    assert_almost_equal(x.grad, [[0.6, -0.8]])


def check_second_order(fn, x0: np.ndarray, seed: int = 1) -> None:
    """d/dx <grad f(x), v> through the recorded gradient (create_graph) vs central differences of grad f."""
    v = np.random.default_rng(seed).normal(size=x0.shape)

    def grad_dot_v(x_np: np.ndarray, create_graph: bool):  # noqa: FBT001
        x = mx.nd.array(x_np, dtype="float64")
        x.attach_grad()
        with mx.autograd.record():
            (g,) = mx.autograd.grad(fn(x), [x], create_graph=create_graph)
            s = (g * mx.nd.array(v, dtype="float64")).sum()
        return x, s

    x, s = grad_dot_v(x0, True)
    s.backward()
    numeric = numeric_grad(lambda xs: float(grad_dot_v(xs[0], False)[1].asscalar()), [x0])[0]
    assert_almost_equal(x.grad, numeric, rtol=1e-5, atol=1e-7, names=("autograd", "numeric"))


@pytest.mark.parametrize("op", ["prod", "norm", "max", "mean"])
def test_second_order(op, rng):
    x0 = rng.uniform(0.5, 1.5, size=(3, 4))
    check_second_order(lambda x: getattr(mx.nd, op)(x, axis=1) ** 2, x0)


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", sorted(FOLDS) + ["norm"])
def test_axis_out_of_range(op):
    with pytest.raises(ShapeError, match=rf"'{op}'.*axis=2.*2 dimensions"):
        getattr(mx.nd, op)(mx.nd.zeros((2, 3)), axis=2)
    with pytest.raises(ShapeError, match=r"axis=-3.*2 dimensions"):
        getattr(mx.nd, op)(mx.nd.zeros((2, 3)), axis=(0, -3))


def test_repeated_axis():
    with pytest.raises(ShapeError, match=r"'sum'.*repeats"):
        mx.nd.sum(mx.nd.zeros((2, 3)), axis=(1, -1))


@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_errors(op):
    with pytest.raises(ShapeError, match=rf"'{op}'.*axis=2.*2 dimensions"):
        getattr(mx.nd, op)(mx.nd.zeros((2, 3)), axis=2)
    with pytest.raises(OperatorAttributeError, match="axis"):
        getattr(mx.nd, op)(mx.nd.zeros((2, 3)), axis=(0, 1))


def test_argmax_channel_needs_two_dimensions():
    with pytest.raises(ShapeError, match=r"'argmax_channel'.*axis=1.*1 dimensions"):
        mx.nd.argmax_channel(mx.nd.zeros((3,)))


def test_norm_ord_must_be_1_or_2():
    with pytest.raises(OperatorAttributeError, match=r"'norm'.*'ord'.*3"):
        mx.nd.norm(mx.nd.ones((2, 2)), ord=3)
