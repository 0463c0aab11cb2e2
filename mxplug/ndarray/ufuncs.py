"""MXNet's Python-level binary functions that take arrays or numbers (`mx.nd.add(x, 2)`, `nd.maximum`).

Array ⊕ array runs the broadcasting operator, array ⊕ number the scalar operator (its reflected form when
the number comes first), number ⊕ number the Python operation — MXNet's `_ufunc_helper` rule.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable

from .ndarray import NDArray, _binary, _scalar


def _ufunc(name: str, array_op: str, scalar_op: str, rscalar_op: str, py: Callable) -> Callable:
    def fn(lhs, rhs):
        if isinstance(lhs, NDArray):
            if isinstance(rhs, NDArray):
                return _binary(array_op, lhs, rhs)
            if isinstance(rhs, numbers.Number):
                return _scalar(scalar_op, lhs, rhs)
        elif isinstance(lhs, numbers.Number):
            if isinstance(rhs, NDArray):
                return _scalar(rscalar_op, rhs, lhs)
            if isinstance(rhs, numbers.Number):
                return py(lhs, rhs)
        raise TypeError(f"{name}: expected NDArrays or numbers, got {type(lhs).__name__} and {type(rhs).__name__}")

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{name}(lhs, rhs): `{array_op}` for two NDArrays (with broadcasting), `{scalar_op}` when one "
                  "side is a number.")
    return fn


def _cmp(op: Callable) -> Callable:
    return lambda a, b: float(op(a, b))  # MXNet returns 1.0/0.0 for two numbers too


def _logic(op: Callable) -> Callable:
    return lambda a, b: float(op(bool(a), bool(b)))


# (name, broadcasting op, scalar op, reflected scalar op, number ⊕ number)
_TABLE = [
    ("add", "broadcast_add", "_plus_scalar", "_plus_scalar", operator.add),
    ("subtract", "broadcast_sub", "_minus_scalar", "_rminus_scalar", operator.sub),
    ("multiply", "broadcast_mul", "_mul_scalar", "_mul_scalar", operator.mul),
    ("divide", "broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv),
    ("modulo", "broadcast_mod", "_mod_scalar", "_rmod_scalar", operator.mod),
    ("power", "broadcast_power", "_power_scalar", "_rpower_scalar", operator.pow),
    ("maximum", "broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max),
    ("minimum", "broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min),
    ("hypot", "broadcast_hypot", "_hypot_scalar", "_hypot_scalar", math.hypot),
    ("equal", "broadcast_equal", "_equal_scalar", "_equal_scalar", _cmp(operator.eq)),
    ("not_equal", "broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar", _cmp(operator.ne)),
    ("greater", "broadcast_greater", "_greater_scalar", "_lesser_scalar", _cmp(operator.gt)),
    ("greater_equal", "broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar",
     _cmp(operator.ge)),
    ("lesser", "broadcast_lesser", "_lesser_scalar", "_greater_scalar", _cmp(operator.lt)),
    ("lesser_equal", "broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar", _cmp(operator.le)),
    ("logical_and", "broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar", _logic(operator.and_)),
    ("logical_or", "broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar", _logic(operator.or_)),
    ("logical_xor", "broadcast_logical_xor", "_logical_xor_scalar", "_logical_xor_scalar", _logic(operator.xor)),
]

_FUNCS = {row[0]: _ufunc(*row) for row in _TABLE}
_FUNCS["true_divide"] = _FUNCS["divide"]
globals().update(_FUNCS)
__all__ = sorted(_FUNCS)
