"""Elementwise operators: forward against float64 references computed per element with `math` (independent of
the NumPy kernels), numeric gradients, broadcasting, errors, NaN/Inf against NumPy, and MXNet's own answers
where it departs from NumPy (integer dtypes, scalar casting, rounding ties, mod by zero …), recorded by
tests/oracle/record_elemwise.py.
"""

from __future__ import annotations

import math
import warnings
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.oracle.record_elemwise import CASES, check_case

nd = mx.nd
DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64")
ANY, POSITIVE, UNIT, ABOVE_ONE, TAN = (-2.0, 2.0), (0.5, 3.0), (-0.9, 0.9), (1.1, 3.0), (-1.2, 1.2)
BROADCAST_PAIRS = (((2, 3), (3,)), ((2, 1), (1, 3)), ((1,), (2, 3)))


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN/inf cases are intended
        yield


def elementwise(fn, *arrays) -> np.ndarray:
    """Apply a Python scalar function to every element (after broadcasting), in float64."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype="float64") for a in arrays])
    out = np.empty(arrays[0].shape)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(*(float(a[idx]) for a in arrays))
    return out


def draw(rng, domain, shape=(2, 3)) -> np.ndarray:
    return rng.uniform(*domain, size=shape)


# -- MXNet's recorded answers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- unary -------------------------------------------------------------------------------------------------------
def _round_half_away(v: float) -> float:
    return float(Decimal(v).to_integral_value(rounding=ROUND_HALF_UP))


def _rint_ties_down(v: float) -> float:
    f = math.floor(v)
    return float(f if v - f <= 0.5 else f + 1)


def _cbrt(v: float) -> float:
    return math.copysign(abs(v) ** (1 / 3), v)


# name -> (reference on one float, input domain)
UNARY = {
    "abs": (abs, ANY),
    "sign": (lambda v: float((v > 0) - (v < 0)), ANY),
    "round": (_round_half_away, ANY),
    "rint": (_rint_ties_down, ANY),
    "ceil": (math.ceil, ANY),
    "floor": (math.floor, ANY),
    "trunc": (math.trunc, ANY),
    "fix": (math.trunc, ANY),
    "square": (lambda v: v * v, ANY),
    "sqrt": (math.sqrt, POSITIVE),
    "rsqrt": (lambda v: 1 / math.sqrt(v), POSITIVE),
    "cbrt": (_cbrt, ANY),
    "rcbrt": (lambda v: 1 / _cbrt(v), POSITIVE),
    "exp": (math.exp, ANY),
    "expm1": (math.expm1, ANY),
    "log": (math.log, POSITIVE),
    "log10": (math.log10, POSITIVE),
    "log2": (math.log2, POSITIVE),
    "log1p": (math.log1p, POSITIVE),
    "sin": (math.sin, ANY),
    "cos": (math.cos, ANY),
    "tan": (math.tan, TAN),
    "arcsin": (math.asin, UNIT),
    "arccos": (math.acos, UNIT),
    "arctan": (math.atan, ANY),
    "sinh": (math.sinh, ANY),
    "cosh": (math.cosh, ANY),
    "tanh": (math.tanh, ANY),
    "arcsinh": (math.asinh, ANY),
    "arccosh": (math.acosh, ABOVE_ONE),
    "arctanh": (math.atanh, UNIT),
    "degrees": (math.degrees, ANY),
    "radians": (math.radians, ANY),
    "reciprocal": (lambda v: 1 / v, POSITIVE),
    "negative": (lambda v: -v, ANY),
    "relu": (lambda v: max(v, 0.0), ANY),
    "sigmoid": (lambda v: 1 / (1 + math.exp(-v)), ANY),
    "softsign": (lambda v: v / (1 + abs(v)), ANY),
    "erf": (math.erf, ANY),
    "gamma": (math.gamma, POSITIVE),
    "gammaln": (math.lgamma, POSITIVE),
    "logical_not": (lambda v: float(v == 0), ANY),
}
ZERO_GRADIENT = ("sign", "round", "rint", "ceil", "floor", "trunc", "fix", "logical_not")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_forward(op, dtype, rng):
    ref, domain = UNARY[op]
    x = draw(rng, domain).astype(dtype)
    if op == "logical_not":
        x[0, :2] = 0
    out = getattr(nd, op)(nd.array(x, dtype=dtype))
    assert out.dtype is np.dtype(dtype).type and out.shape == x.shape
    assert_almost_equal(out, elementwise(ref, x).astype(dtype))


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_float16_goes_through_float32(op, rng):
    ref, domain = UNARY[op]
    x = draw(rng, domain).astype("float16")
    out = getattr(nd, op)(nd.array(x, dtype="float16"))
    assert out.dtype is np.float16
    assert_almost_equal(out, elementwise(ref, x).astype("float16"), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", [*sorted(UNARY), "erfinv"])
def test_unary_keeps_every_dtype(op, dtype):
    # MXNet keeps the input dtype, integers included (computed in float64 and truncated back).
    out = getattr(nd, op)(nd.array([[0, 1], [2, 3]], dtype=dtype))
    assert out.dtype is np.dtype(dtype).type and out.shape == (2, 2)


@pytest.mark.parametrize("op", sorted(set(UNARY) - set(ZERO_GRADIENT)))
def test_unary_gradient(op, rng):
    _, domain = UNARY[op]
    check_numeric_gradient(getattr(nd, op), [draw(rng, domain)])


@pytest.mark.parametrize("op", ZERO_GRADIENT)
def test_unary_zero_gradient(op):
    # MXNet gives the piecewise-constant operators a zero gradient; away from the jumps that is exact
    x = np.array([[-1.7, -0.6, 0.3], [0.8, 1.2, 2.4]])
    check_numeric_gradient(getattr(nd, op), [x])


def test_erfinv_inverts_erf(rng):
    x = draw(rng, UNIT, (3, 4))
    y = nd.erfinv(nd.array(x, dtype="float64")).asnumpy()
    assert_almost_equal(elementwise(math.erf, y), x, rtol=1e-12, atol=1e-14)
    back = nd.erfinv(nd.array(elementwise(math.erf, x), dtype="float64"))
    assert_almost_equal(back, x, rtol=1e-9, atol=1e-12)


def test_erfinv_gradient(rng):
    check_numeric_gradient(nd.erfinv, [draw(rng, UNIT)])


def test_gamma_at_negative_non_integers():
    x = np.array([-0.5, -1.5, -2.5, 0.25])
    assert_almost_equal(nd.gamma(nd.array(x, dtype="float64")), elementwise(math.gamma, x), rtol=1e-12)
    assert_almost_equal(nd.gammaln(nd.array(x, dtype="float64")), elementwise(math.lgamma, x), rtol=1e-12)
    check_numeric_gradient(lambda v: nd.gamma(v) + nd.gammaln(v), [x])


def test_polygamma_orders():
    # ψ(1) = -γ, ψ'(1) = π²/6, ψ''(1) = -2ζ(3): the chain under gamma's higher derivatives
    x = nd.array([1.0], dtype="float64")
    expected = (-0.5772156649015329, math.pi**2 / 6, -2 * 1.2020569031595942)
    for n, want in enumerate(expected):
        assert_almost_equal(nd._internal._polygamma(x, n=n), np.array([want]), rtol=1e-12)
    check_numeric_gradient(lambda v: nd._internal._polygamma(v, n=1), [np.array([0.7, 1.3, 2.9])])
    with pytest.raises(mx.base.OperatorAttributeError, match="n must be >= 0"):
        nd._internal._polygamma(x, n=-1)


# NumPy functions with MXNet's NaN/Inf behaviour (sign and rint are MXNet's own: see the oracle cases).
NUMPY_SAME = {
    "abs": np.abs, "ceil": np.ceil, "floor": np.floor, "trunc": np.trunc, "fix": np.trunc, "square": np.square,
    "sqrt": np.sqrt, "cbrt": np.cbrt, "exp": np.exp, "expm1": np.expm1, "log": np.log, "log10": np.log10,
    "log2": np.log2, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan, "arcsin": np.arcsin,
    "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "arcsinh": np.arcsinh, "arccosh": np.arccosh, "arctanh": np.arctanh, "degrees": np.degrees,
    "radians": np.radians, "reciprocal": np.reciprocal, "negative": np.negative,
    "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "rsqrt": lambda v: 1 / np.sqrt(v), "rcbrt": lambda v: 1 / np.cbrt(v), "round": np.trunc,  # on ±inf, NaN
    "logical_not": lambda v: np.logical_not(v).astype(v.dtype),
}
SPECIAL_VALUES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0])


@pytest.mark.parametrize("op", sorted(NUMPY_SAME))
def test_unary_nan_inf_like_numpy(op):
    x = SPECIAL_VALUES if op != "round" else SPECIAL_VALUES[:3]
    out = getattr(nd, op)(nd.array(x, dtype="float64")).asnumpy()
    np.testing.assert_array_equal(out, NUMPY_SAME[op](x))


def test_sign_of_nan_is_zero_as_in_mxnet():
    out = nd.sign(nd.array([np.nan, -np.inf, np.inf, -0.0], dtype="float64")).asnumpy()
    np.testing.assert_array_equal(out, [0.0, -1.0, 1.0, 0.0])


# (op, second derivative) — autograd.grad(create_graph=True) differentiates the gradient formulas again
SECOND_DERIVATIVES = {
    "sin": lambda v: -math.sin(v),
    "exp": math.exp,
    "log": lambda v: -1 / v**2,
    "sqrt": lambda v: -0.25 * v**-1.5,
    "tanh": lambda v: -2 * math.tanh(v) * (1 - math.tanh(v) ** 2),
    "sigmoid": lambda v: (s := 1 / (1 + math.exp(-v))) * (1 - s) * (1 - 2 * s),
    "reciprocal": lambda v: 2 / v**3,
}


@pytest.mark.parametrize("op", sorted(SECOND_DERIVATIVES))
def test_unary_second_derivative(op):
    v = np.array([0.4, 1.3, 2.2])
    x = nd.array(v, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        (dy,) = mx.autograd.grad(getattr(nd, op)(x), [x], create_graph=True)
    dy.backward()
    assert_almost_equal(x.grad, elementwise(SECOND_DERIVATIVES[op], v), rtol=1e-10)


def test_gammaln_second_derivative_is_trigamma():
    x = nd.array([1.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        (dy,) = mx.autograd.grad(nd.gammaln(x), [x], create_graph=True)
    dy.backward()
    assert_almost_equal(x.grad, np.array([math.pi**2 / 6]), rtol=1e-12)


# Second derivatives of binary and scalar operators, in x (c is a constant input); the gradient formulas that
# reuse the forward output recompute it when the backward pass is recorded.
SECOND_DERIVATIVES_2 = {
    "broadcast_div(c, x)": (lambda x, c: nd.broadcast_div(c, x), lambda v, c: 2 * c / v**3),
    "broadcast_power(x, c)": (nd.broadcast_power, lambda v, c: c * (c - 1) * v ** (c - 2)),
    "broadcast_power(c, x)": (lambda x, c: nd.broadcast_power(c, x), lambda v, c: math.log(c) ** 2 * c**v),
    "broadcast_hypot(x, c)": (nd.broadcast_hypot, lambda v, c: c**2 / (v**2 + c**2) ** 1.5),
    "2.5 ** x": (lambda x, c: 2.5**x, lambda v, c: math.log(2.5) ** 2 * 2.5**v),
    "hypot_scalar(x, 2)": (lambda x, c: nd._internal._hypot_scalar(x, scalar=2.0), lambda v, c: 4 / (v**2 + 4) ** 1.5),
    "x ** 3": (lambda x, c: x**3, lambda v, c: 6 * v),
}


@pytest.mark.parametrize("case", sorted(SECOND_DERIVATIVES_2))
def test_binary_second_derivative(case):
    f, second = SECOND_DERIVATIVES_2[case]
    v, c = np.array([0.6, 1.4, 2.3]), np.array([1.7, 0.8, 2.5])
    x, const = nd.array(v, dtype="float64"), nd.array(c, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        (dy,) = mx.autograd.grad(f(x, const), [x], create_graph=True)
    dy.backward()
    assert_almost_equal(x.grad, elementwise(second, v, c), rtol=1e-10)


# -- binary ------------------------------------------------------------------------------------------------------
def _logical(fn):
    return lambda a, b: float(fn(a != 0, b != 0))


BINARY = {  # base -> (reference, lhs domain, rhs domain); None: small integer values (ties and zeros)
    "add": (lambda a, b: a + b, ANY, ANY),
    "sub": (lambda a, b: a - b, ANY, ANY),
    "mul": (lambda a, b: a * b, ANY, ANY),
    "div": (lambda a, b: a / b, ANY, POSITIVE),
    "mod": (lambda a, b: a % b, (-4.0, 4.0), POSITIVE),
    "power": (lambda a, b: a**b, POSITIVE, ANY),
    "maximum": (max, ANY, ANY),
    "minimum": (min, ANY, ANY),
    "hypot": (math.hypot, ANY, ANY),
    "equal": (lambda a, b: float(a == b), None, None),
    "not_equal": (lambda a, b: float(a != b), None, None),
    "greater": (lambda a, b: float(a > b), None, None),
    "greater_equal": (lambda a, b: float(a >= b), None, None),
    "lesser": (lambda a, b: float(a < b), None, None),
    "lesser_equal": (lambda a, b: float(a <= b), None, None),
    "logical_and": (_logical(lambda p, q: p and q), None, None),
    "logical_or": (_logical(lambda p, q: p or q), None, None),
    "logical_xor": (_logical(lambda p, q: p != q), None, None),
}
DIFFERENTIABLE = ("add", "sub", "mul", "div", "mod", "power", "maximum", "minimum", "hypot")
ELEMWISE_NAMES = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul", "div": "elemwise_div"}


def elemwise_name(base: str) -> str:
    return ELEMWISE_NAMES.get(base, f"_{base}")


def draw_operand(rng, domain, shape) -> np.ndarray:
    if domain is None:
        return rng.integers(-1, 3, size=shape).astype("float64")
    return rng.uniform(*domain, size=shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("base", sorted(BINARY))
def test_broadcast_forward(base, shapes, dtype, rng):
    ref, da, db = BINARY[base]
    a, b = draw_operand(rng, da, shapes[0]).astype(dtype), draw_operand(rng, db, shapes[1]).astype(dtype)
    out = getattr(nd, f"broadcast_{base}")(nd.array(a, dtype=dtype), nd.array(b, dtype=dtype))
    assert out.dtype is np.dtype(dtype).type
    assert_almost_equal(out, elementwise(ref, a, b).astype(dtype))


INT_REFERENCE = {  # integer semantics (C division truncates; mod follows Python) for the exact families
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: math.copysign(abs(a) // abs(b), a * b) if a else 0.0, "mod": lambda a, b: a % b,
    "maximum": max, "minimum": min,
    **{base: BINARY[base][0] for base in BINARY if BINARY[base][1] is None},
}


@pytest.mark.parametrize("base", sorted(INT_REFERENCE))
def test_broadcast_forward_int32(base, rng):
    a = rng.integers(-9, 10, size=(2, 3)).astype("int32")
    b = rng.choice([-4, -3, -1, 1, 2, 5], size=(3,)).astype("int32")
    out = getattr(nd, f"broadcast_{base}")(nd.array(a, dtype="int32"), nd.array(b, dtype="int32"))
    assert out.dtype is np.int32
    np.testing.assert_array_equal(out.asnumpy(), elementwise(INT_REFERENCE[base], a, b))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("base", sorted(BINARY))
def test_binary_keeps_every_dtype(base, dtype):
    a, b = nd.array([[1, 2], [3, 4]], dtype=dtype), nd.array([2, 1], dtype=dtype)
    for out in (getattr(nd, f"broadcast_{base}")(a, b), getattr(nd, elemwise_name(base))(a, a)):
        assert out.dtype is np.dtype(dtype).type


def _grad_operands(base, rng, shapes):
    if base == "mod":  # keep a/b away from integers, where -floor(a/b) jumps: a/b in ±(2.08, 2.73)
        a = rng.uniform(2.5, 3.0, size=shapes[0]) * rng.choice([-1.0, 1.0], size=shapes[0])
        return a, rng.uniform(1.1, 1.2, size=shapes[1])
    _, da, db = BINARY[base]
    return draw_operand(rng, da, shapes[0]), draw_operand(rng, db, shapes[1])


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("base", DIFFERENTIABLE)
def test_broadcast_gradient(base, shapes, rng):
    check_numeric_gradient(getattr(nd, f"broadcast_{base}"), list(_grad_operands(base, rng, shapes)))


@pytest.mark.parametrize("base", DIFFERENTIABLE)
def test_elemwise_gradient(base, rng):
    check_numeric_gradient(getattr(nd, elemwise_name(base)), list(_grad_operands(base, rng, ((2, 3), (2, 3)))))


@pytest.mark.parametrize("base", sorted(set(BINARY) - set(DIFFERENTIABLE)))
def test_comparison_gradient_is_zero(base, rng):
    a, b = rng.uniform(-1, 1, size=(2, 3)), rng.uniform(-1, 1, size=(3,))
    check_numeric_gradient(getattr(nd, f"broadcast_{base}"), [a, b])
    check_numeric_gradient(getattr(nd, elemwise_name(base)), [a, a[::-1]])


@pytest.mark.parametrize("base", sorted(BINARY))
def test_elemwise_same_shape_matches_reference(base, rng):
    ref, da, db = BINARY[base]
    a, b = draw_operand(rng, da, (2, 3)), draw_operand(rng, db, (2, 3))
    out = getattr(nd, elemwise_name(base))(nd.array(a, dtype="float64"), nd.array(b, dtype="float64"))
    assert_almost_equal(out, elementwise(ref, a, b))


@pytest.mark.parametrize("base", sorted(BINARY))
def test_elemwise_rejects_different_shapes(base):
    op = elemwise_name(base)
    with pytest.raises(mx.base.ShapeError, match=rf"'{op}': lhs \(2, 3\) and rhs \(3,\)"):
        getattr(nd, op)(nd.ones((2, 3)), nd.ones((3,)))


@pytest.mark.parametrize("base", sorted(BINARY))
def test_broadcast_errors_name_both_operands(base):
    op = f"broadcast_{base}"
    with pytest.raises(mx.base.ShapeError, match=rf"'{op}': shapes \(2, 3\) and \(2,\) cannot be broadcast"):
        getattr(nd, op)(nd.ones((2, 3)), nd.ones((2,)))
    with pytest.raises(mx.base.DTypeError, match="float32 and float64"):
        getattr(nd, op)(nd.ones((2, 3)), nd.ones((3,), dtype="float64"))
    with pytest.raises(mx.base.DTypeError, match="int32 and float32"):
        getattr(nd, elemwise_name(base))(nd.ones((3,), dtype="int32"), nd.ones((3,)))


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0])
NUMPY_BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "power": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "hypot": np.hypot,
    "mod": lambda a, b: np.where(b == 0, 0.0, np.mod(a, b)),  # MXNet: 0 where the divisor is 0
    **{base: (lambda f: lambda a, b: f(a, b).astype(a.dtype))(getattr(np, name)) for base, name in (
        ("equal", "equal"), ("not_equal", "not_equal"), ("greater", "greater"), ("lesser", "less"),
        ("logical_and", "logical_and"), ("logical_xor", "logical_xor"))},
}


@pytest.mark.parametrize("base", sorted(NUMPY_BINARY))
def test_binary_nan_inf_like_numpy(base):
    a, b = SPECIALS[:, None], SPECIALS[None, :]
    out = getattr(nd, f"broadcast_{base}")(nd.array(a, dtype="float64"), nd.array(b, dtype="float64"))
    np.testing.assert_array_equal(out.asnumpy(), NUMPY_BINARY[base](a, b))


# -- add_n -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 4])
def test_add_n(n, rng):
    xs = [rng.uniform(-1, 1, size=(2, 3)) for _ in range(n)]
    out = nd.add_n(*[nd.array(x, dtype="float64") for x in xs])
    assert_almost_equal(out, elementwise(lambda *v: math.fsum(v), *xs))
    check_numeric_gradient(lambda *a: nd.add_n(*a), xs)
    assert nd.ElementWiseSum is nd.add_n


def test_add_n_returns_a_new_array():
    x = nd.array([1.0, 2.0])
    y = nd.add_n(x)
    y += 1
    np.testing.assert_array_equal(x.asnumpy(), [1.0, 2.0])


def test_add_n_errors():
    with pytest.raises(mx.base.ShapeError, match=r"args\[0\] \(2, 3\) and args\[1\] \(3,\)"):
        nd.add_n(nd.ones((2, 3)), nd.ones((3,)))
    with pytest.raises(mx.base.DTypeError, match="float32 and float64"):
        nd.add_n(nd.ones((2,)), nd.ones((2,), dtype="float64"))
    with pytest.raises(mx.base.OperatorAttributeError, match="at least one"):
        nd.add_n()


# -- array ⊕ scalar ----------------------------------------------------------------------------------------------
SCALAR = {  # op -> (reference(x, s), data domain, scalars)
    "_plus_scalar": (lambda x, s: x + s, ANY, (2.5, -1.5)),
    "_minus_scalar": (lambda x, s: x - s, ANY, (2.5, -1.5)),
    "_rminus_scalar": (lambda x, s: s - x, ANY, (2.5, -1.5)),
    "_mul_scalar": (lambda x, s: x * s, ANY, (2.5, -1.5)),
    "_div_scalar": (lambda x, s: x / s, ANY, (2.5, -1.5)),
    "_rdiv_scalar": (lambda x, s: s / x, POSITIVE, (2.5, -1.5)),
    "_mod_scalar": (lambda x, s: x % s, (-4.0, 4.0), (2.5, -1.5)),
    "_rmod_scalar": (lambda x, s: s % x, POSITIVE, (2.5, -1.5)),
    "_power_scalar": (lambda x, s: x**s, POSITIVE, (2.5, -1.5)),
    "_rpower_scalar": (lambda x, s: s**x, ANY, (2.5, 0.5)),
    "_maximum_scalar": (max, ANY, (0.5, -1.5)),
    "_minimum_scalar": (min, ANY, (0.5, -1.5)),
    "_hypot_scalar": (math.hypot, ANY, (2.5, -1.5)),
    "_equal_scalar": (lambda x, s: float(x == s), None, (1.0, 0.0)),
    "_not_equal_scalar": (lambda x, s: float(x != s), None, (1.0, 0.0)),
    "_greater_scalar": (lambda x, s: float(x > s), None, (1.0, -0.5)),
    "_greater_equal_scalar": (lambda x, s: float(x >= s), None, (1.0, -0.5)),
    "_lesser_scalar": (lambda x, s: float(x < s), None, (1.0, -0.5)),
    "_lesser_equal_scalar": (lambda x, s: float(x <= s), None, (1.0, -0.5)),
    "_logical_and_scalar": (_logical(lambda p, q: p and q), None, (1.0, 0.0)),
    "_logical_or_scalar": (_logical(lambda p, q: p or q), None, (1.0, 0.0)),
    "_logical_xor_scalar": (_logical(lambda p, q: p != q), None, (1.0, 0.0)),
}
SCALAR_ZERO_GRADIENT = tuple(op for op, (_, dom, _) in SCALAR.items() if dom is None)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", sorted(SCALAR))
def test_scalar_forward(op, dtype, rng):
    ref, domain, scalars = SCALAR[op]
    x = draw_operand(rng, domain, (2, 3)).astype(dtype)
    for s in scalars:
        for is_int in (True, False):  # is_int only matters for integer arrays
            out = getattr(nd._internal, op)(nd.array(x, dtype=dtype), scalar=s, is_int=is_int)
            assert out.dtype is np.dtype(dtype).type
            assert_almost_equal(out, elementwise(lambda v, s=s: ref(v, s), x).astype(dtype))


@pytest.mark.parametrize("op", sorted(set(SCALAR) - set(SCALAR_ZERO_GRADIENT)))
def test_scalar_gradient(op, rng):
    _, domain, scalars = SCALAR[op]
    for s in scalars:
        check_numeric_gradient(lambda x, s=s: getattr(nd._internal, op)(x, scalar=s), [draw(rng, domain)])


@pytest.mark.parametrize("op", SCALAR_ZERO_GRADIENT)
def test_scalar_comparison_gradient_is_zero(op, rng):
    check_numeric_gradient(lambda x: getattr(nd._internal, op)(x, scalar=0.25), [draw(rng, ANY)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", sorted(SCALAR))
def test_scalar_dtype_rule(op, dtype):
    x = nd.array([[1, 2], [3, 4]], dtype=dtype)
    f = getattr(nd._internal, op)
    assert f(x, scalar=2.0).dtype is np.dtype(dtype).type
    # is_int=False: an integer array computes in float64; a float array is unaffected
    widened = np.float64 if np.dtype(dtype).kind in "iu" else np.dtype(dtype).type
    assert f(x, scalar=2.5, is_int=False).dtype is widened


PYTHON_OPERATORS = {  # Python syntax -> (scalar operator it runs, reference)
    "x + s": lambda x, s: x + s, "s + x": lambda x, s: s + x, "x - s": lambda x, s: x - s,
    "s - x": lambda x, s: s - x, "x * s": lambda x, s: x * s, "s * x": lambda x, s: s * x,
    "x / s": lambda x, s: x / s, "s / x": lambda x, s: s / x, "x % s": lambda x, s: x % s,
    "s % x": lambda x, s: s % x, "x ** s": lambda x, s: x**s, "s ** x": lambda x, s: s**x,
    "x > s": lambda x, s: float(x > s), "x <= s": lambda x, s: float(x <= s), "x == s": lambda x, s: float(x == s),
    "-x": lambda x, s: -x,
}


@pytest.mark.parametrize("expr", sorted(PYTHON_OPERATORS))
def test_python_operators_with_numbers(expr, rng):
    v = rng.uniform(0.5, 3.0, size=(2, 3)).astype("float32")
    out = eval(expr, {"x": nd.array(v), "s": 1.5})  # noqa: S307
    assert out.dtype is np.float32
    assert_almost_equal(out, elementwise(lambda a: PYTHON_OPERATORS[expr](a, 1.5), v).astype("float32"))


def test_gradient_through_python_operators(rng):
    f = lambda x: (2 / x + x**3 - 1.5 % x) * 0.5 - (3 - x) + (x > 1.0)  # noqa: E731
    check_numeric_gradient(f, [draw(rng, POSITIVE)])


# -- clip and where ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_forward_and_gradient(dtype, rng):
    x = draw(rng, (-3.0, 3.0), (3, 4))
    out = nd.clip(nd.array(x, dtype=dtype), -1.0, 1.5)
    assert_almost_equal(out, elementwise(lambda v: min(max(v, -1.0), 1.5), x.astype(dtype)).astype(dtype))
    check_numeric_gradient(lambda v: nd.clip(v, -1.0, 1.5), [x])


def test_clip_gradient_includes_the_bounds():
    x = nd.array([-1.0, 0.0, 1.5, 2.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = nd.clip(x, -1.0, 1.5)
    y.backward()
    np.testing.assert_array_equal(x.grad.asnumpy(), [1.0, 1.0, 1.0, 0.0])


def test_clip_requires_both_bounds():
    with pytest.raises(mx.base.OperatorAttributeError, match="a_max"):
        nd.clip(nd.ones((2,)), a_min=0.0)


def test_where_forward_and_gradient(rng):
    cond = np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 0.0]])
    x, y = rng.uniform(-1, 1, size=(2, 3)), rng.uniform(-1, 1, size=(2, 3))
    out = nd.where(*(nd.array(a, dtype="float64") for a in (cond, x, y)))
    assert_almost_equal(out, elementwise(lambda c, a, b: a if c != 0 else b, cond, x, y))
    check_numeric_gradient(nd.where, [cond, x, y], grad_nodes=[1, 2])


def test_where_with_a_row_condition(rng):
    cond = np.array([0.0, 3.0])
    x, y = rng.uniform(-1, 1, size=(2, 3, 2)), rng.uniform(-1, 1, size=(2, 3, 2))
    out = nd.where(*(nd.array(a, dtype="float64") for a in (cond, x, y)))
    assert_almost_equal(out, np.stack([y[0], x[1]]))
    check_numeric_gradient(nd.where, [cond, x, y], grad_nodes=[1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_where_add_n_keep_every_dtype(dtype):
    x = nd.array([[0, 1], [2, 3]], dtype=dtype)
    for out in (nd.clip(x, 0.5, 2.5), nd.clip(x, 2.5, 0.5), nd.where(x, x, x), nd.add_n(x, x, x)):
        assert out.dtype is np.dtype(dtype).type and out.shape == (2, 2)


def test_where_errors():
    x = nd.ones((2, 3))
    with pytest.raises(mx.base.ShapeError, match=r"x \(2, 3\) and y \(3,\)"):
        nd.where(x, x, nd.ones((3,)))
    with pytest.raises(mx.base.ShapeError, match=r"condition \(3,\) must have x's shape \(2, 3\)"):
        nd.where(nd.ones((3,)), x, x)
    with pytest.raises(mx.base.ShapeError, match=r"condition \(1, 3\) must have x's shape"):
        nd.where(nd.ones((1, 3)), x, x)
    with pytest.raises(mx.base.DTypeError, match="float32 and float64"):
        nd.where(x, x, nd.ones((2, 3), dtype="float64"))


# -- names and the hot path ----------------------------------------------------------------------------------
ALIASES = {
    "broadcast_add": ["broadcast_plus"], "broadcast_sub": ["broadcast_minus"],
    "elemwise_add": ["_add", "_plus", "_Plus", "_grad_add"], "elemwise_sub": ["_sub", "_minus", "_Minus"],
    "elemwise_mul": ["_mul", "_Mul"], "elemwise_div": ["_div", "_Div"], "_power": ["_Power"],
    "_greater_equal": ["_Greater_Equal"], "_plus_scalar": ["_PlusScalar"], "_rpower_scalar": ["_RPowerScalar"],
    "_logical_xor_scalar": ["_LogicalXorScalar"], "add_n": ["ElementWiseSum"],
}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_mxnet_aliases(name):
    space = nd._internal if name.startswith("_") else nd
    for alias in ALIASES[name]:
        assert getattr(nd._internal if alias.startswith("_") else nd, alias) is getattr(space, name)


@pytest.mark.parametrize("op, ufunc", [
    ("broadcast_add", np.add), ("broadcast_sub", np.subtract), ("broadcast_mul", np.multiply),
    ("broadcast_div", np.divide), ("broadcast_maximum", np.maximum), ("elemwise_add", np.add),
    ("exp", np.exp), ("tanh", np.tanh), ("sqrt", np.sqrt), ("abs", np.abs),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hot_kernels_are_bare_ufuncs(op, ufunc, dtype):
    # no Python wrapper between dispatch and NumPy where the ufunc already has MXNet's semantics
    entries = mx.dispatch.kernels_of(op)["numpy"]
    assert next(e.fn for e in entries if e.handles(np.dtype(dtype))) is ufunc


def test_kernels_return_new_arrays():
    # the core may write into outputs in place, so no kernel may hand back its input
    x = nd.array([1, 2], dtype="int32")
    for op in ("round", "rint", "ceil", "floor", "trunc", "fix", "relu", "abs"):
        y = getattr(nd, op)(x)
        y += 5
        np.testing.assert_array_equal(x.asnumpy(), [1, 2])
