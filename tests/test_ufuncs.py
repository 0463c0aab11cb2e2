"""mx.nd.add, maximum, equal, …: MXNet's helpers taking arrays or numbers, against NumPy float64."""

import math
import operator

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import assert_almost_equal, check_numeric_gradient

A = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.5]])
B = np.array([1.5, -1.0, 0.5])

CASES = [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply), ("divide", np.divide),
    ("true_divide", np.divide), ("modulo", np.mod), ("maximum", np.maximum), ("minimum", np.minimum),
    ("hypot", np.hypot), ("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
    ("greater_equal", np.greater_equal), ("lesser", np.less), ("lesser_equal", np.less_equal),
    ("logical_and", np.logical_and), ("logical_or", np.logical_or), ("logical_xor", np.logical_xor),
]


@pytest.mark.parametrize("name,ref", CASES)
def test_array_array_array_scalar_scalar_array(name, ref):
    fn = getattr(mx.nd, name)
    x, y = mx.nd.array(A), mx.nd.array(B)
    assert_almost_equal(fn(x, y), ref(A, B).astype("float32"))
    assert_almost_equal(fn(x, 2.0), ref(A, 2.0).astype("float32"))
    assert_almost_equal(fn(2.0, x), ref(2.0, A).astype("float32"))
    assert fn(x, y).dtype == np.float32


def test_power_both_ways():
    x = mx.nd.array(np.abs(A) + 0.5)
    assert_almost_equal(mx.nd.power(x, 2.0), (np.abs(A) + 0.5) ** 2)
    assert_almost_equal(mx.nd.power(2.0, x), 2.0 ** (np.abs(A) + 0.5))


@pytest.mark.parametrize("name,py", [("add", operator.add), ("maximum", max), ("hypot", math.hypot),
                                     ("greater", lambda a, b: float(a > b))])
def test_two_numbers_follow_python(name, py):
    assert getattr(mx.nd, name)(3.0, 4.0) == py(3.0, 4.0)


def test_gradient_through_helpers():
    check_numeric_gradient(lambda x, y: mx.nd.maximum(x, y) * mx.nd.subtract(3.0, x), [A + 0.1, B])


def test_bad_operand_type():
    with pytest.raises(TypeError, match="add: expected NDArrays or numbers"):
        mx.nd.add(mx.nd.array(A), "2")
