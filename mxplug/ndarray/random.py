"""`mx.nd.random`: sampling functions with MXNet 1.9's signatures.

Each sampler takes its distribution's parameters either as numbers — then it runs `_random_<d>` and
draws `shape` samples on `ctx` — or all as NDArrays — then it runs `_sample_<d>`, drawing `shape` samples
per parameter element (output shape = parameter shape + shape) on the parameters' context.

>>> import mxplug as mx
>>> mx.random.seed(42)
>>> a = mx.nd.random.uniform(0, 1, shape=(2, 3))
>>> mx.random.seed(42)
>>> bool((mx.nd.random.uniform(0, 1, shape=(2, 3)) == a).asnumpy().all())
True
"""

from __future__ import annotations

import numbers
from typing import Any

from ..base import OperatorAttributeError
from ..context import Context, current_context
from . import _internal  # built by mx.nd's __init__ before it imports this module
from .ndarray import NDArray

__all__ = [
    "uniform", "normal", "randn", "randint", "exponential", "gamma", "poisson", "negative_binomial",
    "generalized_negative_binomial", "multinomial", "shuffle", "uniform_like", "normal_like", "gamma_like",
    "exponential_like", "poisson_like", "negative_binomial_like", "generalized_negative_binomial_like",
]


def _helper(dist: str, params: list, shape: Any, dtype: Any, ctx: Context | str | None, out: NDArray | None,
            kwargs: dict, array_form: bool = True) -> NDArray:  # noqa: FBT001
    """MXNet's `_random_helper`: numbers → `_random_<dist>`, NDArrays → `_sample_<dist>`."""
    if isinstance(params[0], NDArray):
        if not array_form:
            raise OperatorAttributeError(f"{dist}: parameters must be numbers, got an NDArray")
        _same_kind(params, NDArray)
        if shape is None:
            shape = ()
        if dtype is None and out is not None:
            dtype = out.dtype
        return getattr(_internal, f"_sample_{dist}")(*params, shape=shape, dtype=dtype, out=out, **kwargs)
    if isinstance(params[0], numbers.Number):
        _same_kind(params, numbers.Number)
        if shape is None:
            # MXNet: one sample by default, or the shape (and dtype) of `out`.
            shape = 1 if out is None else out.shape
        if dtype is None and out is not None:
            dtype = out.dtype
        return getattr(_internal, f"_random_{dist}")(*params, shape=shape, dtype=dtype, ctx=ctx or current_context(),
                                                out=out, **kwargs)
    raise OperatorAttributeError(
        f"{dist}: distribution parameters must be numbers or NDArrays, got {type(params[0]).__name__}"
    )


def _same_kind(params: list, kind: type) -> None:
    for p in params[1:]:
        if not isinstance(p, kind):
            raise OperatorAttributeError(
                "distribution parameters must all have the same type, got both "
                f"{type(params[0]).__name__} and {type(p).__name__}"
            )


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Samples from U[low, high) (numbers), or `shape` samples per element of NDArrays low and high.

    >>> import mxplug as mx
    >>> mx.nd.random.uniform(-1, 1, shape=(2, 2)).shape
    (2, 2)
    """
    return _helper("uniform", [low, high], shape, dtype, ctx, out, kwargs)


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Samples from N(loc, scale²)."""
    return _helper("normal", [loc, scale], shape, dtype, ctx, out, kwargs)


def randn(*shape, loc=0, scale=1, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Normal samples of the shape given positionally: ``randn(2, 3, loc=1)``."""
    for name, value in (("loc", loc), ("scale", scale)):
        if not isinstance(value, numbers.Real):
            raise OperatorAttributeError(f"randn: {name} must be a number, got {type(value).__name__}")
    return _helper("normal", [loc, scale], shape, dtype, ctx, out, kwargs)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Integers drawn uniformly from [low, high) (int32 unless dtype='int64')."""
    return _helper("randint", [low, high], shape, dtype, ctx, out, kwargs, array_form=False)


def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Exponential samples of mean `scale` (the operators take the rate, lam = 1/scale)."""
    return _helper("exponential", [1.0 / scale], shape, dtype, ctx, out, kwargs)


def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Gamma samples of shape `alpha` and scale `beta`."""
    return _helper("gamma", [alpha, beta], shape, dtype, ctx, out, kwargs)


def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Poisson samples of rate `lam`, as floating-point numbers."""
    return _helper("poisson", [lam], shape, dtype, ctx, out, kwargs)


def negative_binomial(k=1, p=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Negative binomial samples: failures before the k-th success, each trial succeeding with `p`."""
    return _helper("negative_binomial", [k, p], shape, dtype, ctx, out, kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=None, dtype=None, ctx=None, out=None, **kwargs) -> NDArray:
    """Generalized negative binomial samples of mean `mu` and dispersion `alpha`."""
    return _helper("generalized_negative_binomial", [mu, alpha], shape, dtype, ctx, out, kwargs)


def multinomial(data: NDArray, shape=None, get_prob: bool = False, out=None, dtype="int32",  # noqa: FBT001
                **kwargs):
    """Category indices drawn from the distributions along the last axis of `data`; with get_prob=True also
    their log-probabilities (differentiable with respect to `data`, for REINFORCE-style estimators).

    >>> import mxplug as mx
    >>> mx.nd.random.multinomial(mx.nd.array([[0.0, 1.0]]), shape=3).asnumpy().tolist()
    [[1, 1, 1]]
    """
    return _internal._sample_multinomial(data, shape=() if shape is None else shape, get_prob=get_prob, out=out,
                                      dtype=dtype, **kwargs)


def shuffle(data: NDArray, **kwargs) -> NDArray:
    """A copy of `data` with its first axis randomly permuted."""
    return _internal._shuffle(data, **kwargs)


# The `_like` samplers are the operators themselves, as in MXNet (`mx.nd.random.uniform_like(data, low, high)`).
uniform_like = _internal._random_uniform_like
normal_like = _internal._random_normal_like
gamma_like = _internal._random_gamma_like
exponential_like = _internal._random_exponential_like
poisson_like = _internal._random_poisson_like
negative_binomial_like = _internal._random_negative_binomial_like
generalized_negative_binomial_like = _internal._random_generalized_negative_binomial_like
