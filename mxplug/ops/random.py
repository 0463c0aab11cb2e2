"""Random sampling operators: inference, parameter checks and (zero) gradients.

Three forms per distribution, as in MXNet 1.9: `_random_<d>` (scalar parameters as attributes, a shape, a
ctx), `_sample_<d>` (parameter arrays, `shape` samples per element) and `_random_<d>_like` (one sample per
element of `data`). The checks on scalar parameters are MXNet's; they run here, at call time, where
MXNet raised them asynchronously from the kernel.
"""

from __future__ import annotations

import numpy as np

from ..base import DTypeError, OperatorAttributeError, ShapeError
from . import TensorSpec, gradient, infer, num_outputs
from ._util import same_dtype, spec

FLOATS = ("float16", "float32", "float64")

# distribution → its parameter names, in the order of the operators' attributes/inputs.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "normal": ("loc", "scale"),
    "gamma": ("alpha", "beta"),
    "exponential": ("lam",),
    "poisson": ("lam",),
    "negative_binomial": ("k", "p"),
    "generalized_negative_binomial": ("mu", "alpha"),
}

# distribution → [(condition on the scalar parameters, what it requires)]; MXNet's checks, plus p in (0, 1]
# for the negative binomial, where MXNet returned garbage (p=0) or zeros (p>1) instead of an error.
_CHECKS = {
    "uniform": [(lambda a: a["low"] <= a["high"], "low must be less or equal to high")],
    "normal": [(lambda a: a["scale"] > 0, "scale must be > 0")],
    "gamma": [(lambda a: a["alpha"] > 0, "alpha must be > 0"), (lambda a: a["beta"] > 0, "beta must be > 0")],
    "exponential": [(lambda a: a["lam"] > 0, "lam must be > 0")],
    "poisson": [(lambda a: a["lam"] >= 0, "lam must be >= 0")],
    "negative_binomial": [
        (lambda a: a["k"] >= 0, "k must be >= 0"), (lambda a: 0 < a["p"] <= 1, "p must be in (0, 1]"),
    ],
    "generalized_negative_binomial": [
        (lambda a: a["mu"] >= 0, "mu must be >= 0"), (lambda a: a["alpha"] >= 0, "alpha must be >= 0"),
    ],
    "randint": [(lambda a: a["low"] < a["high"], "low must be less than high")],
}

# The `_sample_<d>` inputs where MXNet names them differently from the scalar attributes.
SAMPLE_INPUTS = {"normal": ("mu", "sigma")}

_INT_RANGES = {name: (int(np.iinfo(name).min), int(np.iinfo(name).max)) for name in ("int32", "int64")}


def check_params(op: str, dist: str, attrs: dict) -> None:
    """Raise OperatorAttributeError naming the operator and the values when a parameter is out of range."""
    for ok, rule in _CHECKS[dist]:
        if not ok(attrs):
            names = DISTRIBUTIONS.get(dist, ("low", "high"))
            got = ", ".join(f"{n}={attrs[n]!r}" for n in names)
            raise OperatorAttributeError(f"operator '{op}': {rule}, got {got}")


def out_dtype(op: str, dtype: np.dtype | None, allowed: tuple[str, ...] = FLOATS,
              default: str = "float32") -> np.dtype:
    """The output dtype from a `dtype` attribute (None → `default`), restricted to what MXNet accepts."""
    if dtype is None:
        return np.dtype(default)
    if dtype.name not in allowed:
        raise DTypeError(f"operator '{op}': dtype must be one of {', '.join(allowed)}, got {dtype.name}")
    return dtype


def sample_shape(op: str, shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """The `shape` attribute of the scalar-parameter samplers: required (as in MXNet), non-negative."""
    if not shape:
        raise ShapeError(f"operator '{op}': give the output shape, e.g. shape=(2, 3) (got {shape!r})")
    return _extra_shape(op, shape)


def _extra_shape(op: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    if any(d < 0 for d in shape):
        raise ShapeError(f"operator '{op}': shape {shape} has a negative dimension")
    return shape


def _float_input(op: str, name: str, s: TensorSpec) -> None:
    if s.dtype.name not in FLOATS:
        raise DTypeError(f"operator '{op}': {name} must be a floating-point array, got {s.dtype.name}")


# -- _random_<d>: scalar parameters ---------------------------------------------------------------------
def _scalar_rule(op: str, dist: str):
    def rule(attrs):
        check_params(op, dist, attrs)
        return spec(sample_shape(op, attrs["shape"]), out_dtype(op, attrs["dtype"]))

    return rule


@infer("_random_randint")
def _randint(attrs):
    op = "_random_randint"
    check_params(op, "randint", attrs)
    dtype = out_dtype(op, attrs["dtype"], ("int32", "int64"), "int32")
    lo, hi = _INT_RANGES[dtype.name]
    if attrs["low"] < lo or attrs["high"] - 1 > hi:
        raise OperatorAttributeError(
            f"operator '{op}': [low, high) = [{attrs['low']}, {attrs['high']}) does not fit {dtype.name}; "
            "use dtype='int64'"
        )
    return spec(sample_shape(op, attrs["shape"]), dtype)


# -- _sample_<d>: parameter arrays ----------------------------------------------------------------------
def _multi_rule(op: str, names: tuple[str, ...]):
    def rule(attrs, *params):
        same_dtype(op, *params)
        first = params[0]
        for name, p in zip(names[1:], params[1:], strict=True):
            if p.shape != first.shape:
                raise ShapeError(
                    f"operator '{op}': {names[0]} {first.shape} and {name} {p.shape} must have the same shape"
                )
        return spec(first.shape + _extra_shape(op, attrs["shape"]), out_dtype(op, attrs["dtype"]))

    return rule


def _zero_grads(F, attrs, inputs, outputs, ograds):
    """MXNet's MakeZeroGradNodes: samplers pass a zero gradient to their parameters."""
    return [F.zeros_like(x) for x in inputs]


# -- _random_<d>_like: the shape and dtype of data ------------------------------------------------------
def _like_rule(op: str, dist: str):
    def rule(attrs, data):
        check_params(op, dist, attrs)
        _float_input(op, "data", data)
        return data

    return rule


for _dist, _names in DISTRIBUTIONS.items():
    infer(f"_random_{_dist}")(_scalar_rule(f"_random_{_dist}", _dist))
    infer(f"_sample_{_dist}")(_multi_rule(f"_sample_{_dist}", SAMPLE_INPUTS.get(_dist, _names)))
    infer(f"_random_{_dist}_like")(_like_rule(f"_random_{_dist}_like", _dist))
    gradient(f"_sample_{_dist}", f"_random_{_dist}_like")(_zero_grads)


# -- multinomial ----------------------------------------------------------------------------------------
@num_outputs("_sample_multinomial")
def _multinomial_outputs(attrs) -> int:
    return 2 if attrs["get_prob"] else 1


@infer("_sample_multinomial")
def _multinomial(attrs, data):
    op = "_sample_multinomial"
    _float_input(op, "data", data)
    if len(data.shape) < 1 or data.shape[-1] < 1:
        raise ShapeError(f"operator '{op}': data must have a non-empty last axis of probabilities, got {data.shape}")
    extra = _extra_shape(op, attrs["shape"])
    dtype = out_dtype(op, attrs["dtype"], ("uint8", "int32", *FLOATS), "int32")
    # MXNet: a single distribution with no shape draws one sample, shape (1,).
    out_shape = data.shape[:-1] + extra if len(data.shape) > 1 or extra else (1,)
    samples = spec(out_shape, dtype)
    return [samples, spec(out_shape, data.dtype)] if attrs["get_prob"] else samples


@gradient("_sample_multinomial")
def _multinomial_grad(F, attrs, inputs, outputs, ograds):
    if not attrs["get_prob"]:
        return [F.zeros_like(inputs[0])]
    return [F._backward_sample_multinomial(ograds[1], inputs[0], outputs[0])]


@infer("_backward_sample_multinomial")
def _multinomial_backward(attrs, ograd, data, samples):
    return spec(data.shape, data.dtype)


@infer("_shuffle")
def _shuffle(attrs, data):
    if len(data.shape) < 1:
        raise ShapeError("operator '_shuffle': data must have at least one axis, got a 0-d array")
    return data
