"""Elementwise operators: inference and gradients (MXNet 1.9 semantics).

Gradients are written with F's operators, so they are differentiable again; formulas may reuse the forward
output `y` (autograd attaches it to the graph when the backward pass is itself recorded).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..base import OperatorAttributeError, ShapeError
from . import gradient, infer
from ._util import broadcast_shapes, same_dtype, spec, unbroadcast

# -- unary -----------------------------------------------------------------------------------------------------
# dy/dx of each differentiable unary operator, from the input x and the output y (a number where constant).
_UNARY_DERIVATIVES: dict[str, Callable] = {
    "abs": lambda F, x, y: F.sign(x),
    "square": lambda F, x, y: 2 * x,
    "sqrt": lambda F, x, y: 0.5 / y,
    "rsqrt": lambda F, x, y: -0.5 * y / x,  # -½ x^(-3/2)
    "cbrt": lambda F, x, y: 1 / (3 * F.square(y)),
    "rcbrt": lambda F, x, y: -y / (3 * x),  # -⅓ x^(-4/3)
    "exp": lambda F, x, y: y,
    "expm1": lambda F, x, y: y + 1,
    "log": lambda F, x, y: 1 / x,
    "log10": lambda F, x, y: 1 / (x * math.log(10)),
    "log2": lambda F, x, y: 1 / (x * math.log(2)),
    "log1p": lambda F, x, y: 1 / (x + 1),
    "sin": lambda F, x, y: F.cos(x),
    "cos": lambda F, x, y: -F.sin(x),
    "tan": lambda F, x, y: F.square(y) + 1,
    "arcsin": lambda F, x, y: F.rsqrt(1 - F.square(x)),
    "arccos": lambda F, x, y: -F.rsqrt(1 - F.square(x)),
    "arctan": lambda F, x, y: 1 / (F.square(x) + 1),
    "sinh": lambda F, x, y: F.cosh(x),
    "cosh": lambda F, x, y: F.sinh(x),
    "tanh": lambda F, x, y: 1 - F.square(y),
    "arcsinh": lambda F, x, y: F.rsqrt(F.square(x) + 1),
    "arccosh": lambda F, x, y: F.rsqrt(F.square(x) - 1),
    "arctanh": lambda F, x, y: 1 / (1 - F.square(x)),
    "degrees": lambda F, x, y: 180 / math.pi,
    "radians": lambda F, x, y: math.pi / 180,
    "reciprocal": lambda F, x, y: -F.square(y),
    "negative": lambda F, x, y: -1.0,
    "relu": lambda F, x, y: x > 0,
    "sigmoid": lambda F, x, y: y * (1 - y),
    "softsign": lambda F, x, y: 1 / F.square(F.abs(x) + 1),
    "erf": lambda F, x, y: (2 / math.sqrt(math.pi)) * F.exp(-F.square(x)),
    "erfinv": lambda F, x, y: (math.sqrt(math.pi) / 2) * F.exp(F.square(y)),
    "gamma": lambda F, x, y: y * F._polygamma(x, n=0),
    "gammaln": lambda F, x, y: F._polygamma(x, n=0),
}

# Piecewise constant: MXNet defines their gradient as zero, so chains through them still work.
_ZERO_GRADIENT_UNARY = ("sign", "round", "rint", "ceil", "floor", "trunc", "fix", "logical_not")


def _unary_gradient(derivative: Callable) -> Callable:
    def grad(F, attrs, inputs, outputs, ograds):
        return [ograds[0] * derivative(F, inputs[0], outputs[0])]

    return grad


def _zero_gradients(F, attrs, inputs, outputs, ograds):
    return [F.zeros_like(x) for x in inputs]


@infer(*_UNARY_DERIVATIVES, *_ZERO_GRADIENT_UNARY, "clip")
def _same(attrs, data):
    return data


for _op, _d in _UNARY_DERIVATIVES.items():
    gradient(_op)(_unary_gradient(_d))
gradient(*_ZERO_GRADIENT_UNARY)(_zero_gradients)


@infer("_polygamma")
def _polygamma_infer(attrs, data):
    if attrs["n"] < 0:
        raise OperatorAttributeError(f"operator '_polygamma': n must be >= 0, got {attrs['n']}")
    return data


@gradient("_polygamma")
def _polygamma_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0] * F._polygamma(inputs[0], n=attrs["n"] + 1)]


# -- binary ------------------------------------------------------------------------------------------------------
# (lhs gradient, rhs gradient) of each differentiable binary family, from the output gradient g, lhs a,
# rhs b and the output y, before summing over broadcast axes.
_BINARY_GRADIENTS: dict[str, tuple[Callable, Callable]] = {
    "mul": (lambda F, g, a, b, y: g * b, lambda F, g, a, b, y: g * a),
    "div": (lambda F, g, a, b, y: g / b, lambda F, g, a, b, y: -(g * y) / b),
    "mod": (lambda F, g, a, b, y: g, lambda F, g, a, b, y: -(g * F.floor(a / b))),
    "power": (
        lambda F, g, a, b, y: g * b * F.broadcast_power(a, b - 1),
        lambda F, g, a, b, y: g * y * F.log(a),
    ),
    # ties send the gradient to lhs (MXNet masks lhs with >= / <=, rhs with < / >)
    "maximum": (lambda F, g, a, b, y: g * (a >= b), lambda F, g, a, b, y: g * (a < b)),
    "minimum": (lambda F, g, a, b, y: g * (a <= b), lambda F, g, a, b, y: g * (a > b)),
    "hypot": (lambda F, g, a, b, y: g * a / y, lambda F, g, a, b, y: g * b / y),
}
_ZERO_GRADIENT_BINARY = (
    "equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal", "logical_and", "logical_or",
    "logical_xor",
)
# MXNet's names of each binary family: broadcasting, same-shape, array-scalar, reflected scalar (None where
# the operation commutes). The one table every backend's kernels and graph passes are named from.
BINARY_FAMILIES: dict[str, tuple[str, str, str, str | None]] = {
    "add": ("broadcast_add", "elemwise_add", "_plus_scalar", None),
    "sub": ("broadcast_sub", "elemwise_sub", "_minus_scalar", "_rminus_scalar"),
    "mul": ("broadcast_mul", "elemwise_mul", "_mul_scalar", None),
    "div": ("broadcast_div", "elemwise_div", "_div_scalar", "_rdiv_scalar"),
    "mod": ("broadcast_mod", "_mod", "_mod_scalar", "_rmod_scalar"),
    "power": ("broadcast_power", "_power", "_power_scalar", "_rpower_scalar"),
    "maximum": ("broadcast_maximum", "_maximum", "_maximum_scalar", None),
    "minimum": ("broadcast_minimum", "_minimum", "_minimum_scalar", None),
    "hypot": ("broadcast_hypot", "_hypot", "_hypot_scalar", None),
    "equal": ("broadcast_equal", "_equal", "_equal_scalar", None),
    "not_equal": ("broadcast_not_equal", "_not_equal", "_not_equal_scalar", None),
    "greater": ("broadcast_greater", "_greater", "_greater_scalar", None),
    "greater_equal": ("broadcast_greater_equal", "_greater_equal", "_greater_equal_scalar", None),
    "lesser": ("broadcast_lesser", "_lesser", "_lesser_scalar", None),
    "lesser_equal": ("broadcast_lesser_equal", "_lesser_equal", "_lesser_equal_scalar", None),
    "logical_and": ("broadcast_logical_and", "_logical_and", "_logical_and_scalar", None),
    "logical_or": ("broadcast_logical_or", "_logical_or", "_logical_or_scalar", None),
    "logical_xor": ("broadcast_logical_xor", "_logical_xor", "_logical_xor_scalar", None),
}
_BINARY_NAMES = {base: names[:2] for base, names in BINARY_FAMILIES.items()}  # (broadcasting, same-shape)


def _broadcast_infer(op: str) -> Callable:
    def infer_fn(attrs, lhs, rhs):
        if lhs.shape == rhs.shape and lhs.dtype == rhs.dtype:
            return lhs  # the common case, kept cheap: nothing to broadcast
        return spec(broadcast_shapes(op, lhs.shape, rhs.shape), same_dtype(op, lhs, rhs))

    return infer_fn


def _same_shape(op: str, names, specs) -> None:
    first = specs[0]
    for name, s in zip(names[1:], specs[1:], strict=True):
        if s.shape != first.shape:
            raise ShapeError(
                f"operator '{op}': {names[0]} {first.shape} and {name} {s.shape} must have the same shape "
                "(it does not broadcast)"
            )


def _elemwise_infer(op: str) -> Callable:
    def infer_fn(attrs, lhs, rhs):
        _same_shape(op, ("lhs", "rhs"), (lhs, rhs))
        same_dtype(op, lhs, rhs)
        return lhs

    return infer_fn


def _binary_gradient(g_lhs: Callable, g_rhs: Callable) -> Callable:
    def grad(F, attrs, inputs, outputs, ograds):
        g, (a, b), y = ograds[0], inputs, outputs[0]
        return [unbroadcast(F, g_lhs(F, g, a, b, y), a), unbroadcast(F, g_rhs(F, g, a, b, y), b)]

    return grad


@gradient(*_BINARY_NAMES["add"])
def _add_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    return [unbroadcast(F, g, inputs[0]), unbroadcast(F, g, inputs[1])]


@gradient(*_BINARY_NAMES["sub"])
def _sub_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    return [unbroadcast(F, g, inputs[0]), unbroadcast(F, -g, inputs[1])]


for _base, (_bname, _ename) in _BINARY_NAMES.items():
    infer(_bname)(_broadcast_infer(_bname))
    infer(_ename)(_elemwise_infer(_ename))
    if _base in _BINARY_GRADIENTS:
        gradient(_bname, _ename)(_binary_gradient(*_BINARY_GRADIENTS[_base]))
    elif _base in _ZERO_GRADIENT_BINARY:
        gradient(_bname, _ename)(_zero_gradients)


@infer("add_n")
def _add_n_infer(attrs, *args):
    if not args:
        raise OperatorAttributeError("operator 'add_n' needs at least one input array")
    _same_shape("add_n", [f"args[{i}]" for i in range(len(args))], args)
    return spec(args[0].shape, same_dtype("add_n", *args))


@gradient("add_n")
def _add_n_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0]] * len(inputs)


# -- array ⊕ scalar ------------------------------------------------------------------------------------------------
# d/d(data) of each differentiable scalar operator, from data x, the scalar s and the output y.
_SCALAR_DERIVATIVES: dict[str, Callable] = {
    "_plus_scalar": lambda F, x, s, y: 1.0,
    "_minus_scalar": lambda F, x, s, y: 1.0,
    "_rminus_scalar": lambda F, x, s, y: -1.0,
    "_mul_scalar": lambda F, x, s, y: s,
    "_div_scalar": lambda F, x, s, y: 1.0 / s,
    "_rdiv_scalar": lambda F, x, s, y: -s / F.square(x),
    "_mod_scalar": lambda F, x, s, y: 1.0,
    "_rmod_scalar": lambda F, x, s, y: -F.floor(s / x),
    "_power_scalar": lambda F, x, s, y: s * x ** (s - 1),
    "_rpower_scalar": lambda F, x, s, y: y * _log(s),
    "_maximum_scalar": lambda F, x, s, y: x >= s,  # ties send the gradient to data
    "_minimum_scalar": lambda F, x, s, y: x <= s,
    "_hypot_scalar": lambda F, x, s, y: x / y,
}


def _log(s: float) -> float:
    """log of a scalar as C's log gives it (-inf at 0, NaN below) rather than raising."""
    return math.log(s) if s > 0 else (-math.inf if s == 0 else math.nan)


_ZERO_GRADIENT_SCALAR = tuple(f"_{base}_scalar" for base in _ZERO_GRADIENT_BINARY)
_INTEGER_KINDS = "iub"


@infer(*_SCALAR_DERIVATIVES, *_ZERO_GRADIENT_SCALAR)
def _scalar_infer(attrs, data):
    # MXNet: an integer array with is_int=False (a non-integer scalar) computes and answers in float64.
    if not attrs.get("is_int", True) and data.dtype.kind in _INTEGER_KINDS:
        return spec(data.shape, np.float64)
    return data


def _scalar_gradient(derivative: Callable) -> Callable:
    def grad(F, attrs, inputs, outputs, ograds):
        # attrs["scalar"] only: the Python operators record {"scalar": s}, without is_int
        d = derivative(F, inputs[0], attrs["scalar"], outputs[0])
        return [ograds[0] if isinstance(d, float) and d == 1.0 else ograds[0] * d]

    return grad


for _op, _d in _SCALAR_DERIVATIVES.items():
    gradient(_op)(_scalar_gradient(_d))
gradient(*_ZERO_GRADIENT_SCALAR)(_zero_gradients)


# -- clip, where ------------------------------------------------------------------------------------------------
def _float32_bounds(attrs) -> tuple[float, float]:
    """MXNet's ClipParam stores the bounds as float32; the gradient mask uses the same rounded bounds."""
    return float(np.float32(attrs["a_min"])), float(np.float32(attrs["a_max"]))


@gradient("clip")
def _clip_grad(F, attrs, inputs, outputs, ograds):
    lo, hi = _float32_bounds(attrs)
    x = inputs[0]
    return [ograds[0] * ((x >= lo) * (x <= hi))]


@infer("where")
def _where_infer(attrs, condition, x, y):
    if x.shape != y.shape:
        raise ShapeError(f"operator 'where': x {x.shape} and y {y.shape} must have the same shape")
    dtype = same_dtype("where", x, y)
    rows = len(condition.shape) == 1 and len(x.shape) >= 1 and condition.shape[0] == x.shape[0]
    if condition.shape != x.shape and not rows:
        raise ShapeError(
            f"operator 'where': condition {condition.shape} must have x's shape {x.shape} or be 1-D of "
            f"length x.shape[0]"
        )
    return spec(x.shape, dtype)


@gradient("where")
def _where_grad(F, attrs, inputs, outputs, ograds):
    condition, g = inputs[0], ograds[0]
    zeros = F.zeros_like(g)
    return [None, F.where(condition, g, zeros), F.where(condition, zeros, g)]
