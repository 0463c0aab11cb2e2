"""Testing helpers with MXNet's names: compare against references, check gradients numerically.

These are what mxplug's own tests use and what a backend author runs against a new plugin:
`check_consistency` (one computation on several contexts and dtypes) and the conformance kit
(`mxplug.testing.conformance`, `mxplug check-backend`, `pytest --mxplug-backend`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import autograd
from ..context import Context, current_context

__all__ = ["assert_almost_equal", "almost_equal", "numeric_grad", "check_numeric_gradient", "default_context",
           "default_rtols", "same", "check_consistency", "check_symbolic_forward", "check_symbolic_backward"]

# Tolerances per dtype, as MXNet's test_utils uses them.
default_rtols = {np.dtype("float16"): 1e-2, np.dtype("float32"): 1e-4, np.dtype("float64"): 1e-5}
_default_atols = {np.dtype("float16"): 1e-3, np.dtype("float32"): 1e-5, np.dtype("float64"): 1e-8}


def default_context() -> Context:
    return current_context()


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "asnumpy"):
        return x.asnumpy()
    return np.asarray(x)


def same(a: Any, b: Any) -> bool:
    """Exactly equal contents and shapes."""
    return np.array_equal(_np(a), _np(b))


def almost_equal(a: Any, b: Any, rtol: float | None = None, atol: float | None = None,
                 equal_nan: bool = False) -> bool:  # noqa: FBT001
    a, b = _np(a), _np(b)
    dt = a.dtype if a.dtype in default_rtols else np.dtype("float64")
    rtol = default_rtols[dt] if rtol is None else rtol
    atol = _default_atols[dt] if atol is None else atol
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def assert_almost_equal(a: Any, b: Any, rtol: float | None = None, atol: float | None = None,
                        names: tuple[str, str] = ("a", "b"), equal_nan: bool = False) -> None:  # noqa: FBT001
    """Assert |a - b| <= atol + rtol * |b| elementwise (and equal shapes), with a readable report."""
    a_, b_ = _np(a), _np(b)
    if a_.shape != b_.shape:
        raise AssertionError(f"shape mismatch: {names[0]} {a_.shape} vs {names[1]} {b_.shape}")
    if almost_equal(a_, b_, rtol, atol, equal_nan):
        return
    dt = a_.dtype if a_.dtype in default_rtols else np.dtype("float64")
    rtol = default_rtols[dt] if rtol is None else rtol
    atol = _default_atols[dt] if atol is None else atol
    a64, b64 = a_.astype("float64"), b_.astype("float64")
    err = np.abs(a64 - b64) - (atol + rtol * np.abs(b64))
    idx = np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)), err.shape) if err.size else ()
    raise AssertionError(
        f"{names[0]} and {names[1]} differ (rtol={rtol}, atol={atol}); worst at {idx}: "
        f"{names[0]}={a_[idx]!r}, {names[1]}={b_[idx]!r}\n{names[0]}={a_}\n{names[1]}={b_}"
    )


def numeric_grad(f: Callable[[Sequence[np.ndarray]], float], inputs: Sequence[np.ndarray],
                 eps: float = 1e-6) -> list[np.ndarray]:
    """Central-difference gradient of a scalar function of float64 arrays."""
    # C order: the perturbations go through flat views, which a transposed or sliced input would not give.
    inputs = [np.array(x, dtype="float64", order="C") for x in inputs]
    grads = []
    for x in inputs:
        g = np.zeros_like(x)
        flat, gflat = x.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = f(inputs)
            flat[i] = old - eps
            fm = f(inputs)
            flat[i] = old
            gflat[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def check_numeric_gradient(fn: Callable[..., Any], inputs: Sequence[np.ndarray], ctx: Context | None = None,
                           grad_nodes: Sequence[int] | None = None, eps: float = 1e-6,
                           rtol: float = 1e-5, atol: float = 1e-7, seed: int = 0) -> None:
    """Check autograd's gradient of `fn(*NDArrays) -> NDArray` against central differences in float64.

    The output is reduced with a fixed random projection, so every output element's gradient is checked.
    `grad_nodes` selects which inputs to check (default: all floating ones).

    >>> import numpy as np, mxplug as mx
    >>> check_numeric_gradient(lambda x: mx.nd.exp(x) * x, [np.array([0.5, -1.0])])
    """
    from .. import ndarray as nd

    ctx = ctx or current_context()
    inputs = [np.asarray(x) for x in inputs]
    if grad_nodes is None:
        grad_nodes = [i for i, x in enumerate(inputs) if np.issubdtype(x.dtype, np.floating)]
    arrays = [nd.array(x, ctx=ctx, dtype="float64" if np.issubdtype(x.dtype, np.floating) else x.dtype)
              for x in inputs]
    for i in grad_nodes:
        arrays[i].attach_grad()
    with autograd.record():
        out = fn(*arrays)
    outs = [out] if not isinstance(out, (list, tuple)) else list(out)
    rng = np.random.default_rng(seed)
    projs = [rng.uniform(0.5, 1.5, size=o.shape) * rng.choice([-1.0, 1.0], size=o.shape) for o in outs]
    autograd.backward(outs, [nd.array(p, ctx=ctx, dtype="float64") for p in projs])
    analytic = [arrays[i].grad.asnumpy() for i in grad_nodes]

    def scalar(xs):
        args = [nd.array(x, ctx=ctx, dtype="float64" if np.issubdtype(x.dtype, np.floating) else x.dtype)
                for x in xs]
        with autograd.pause():
            res = fn(*args)
        res = [res] if not isinstance(res, (list, tuple)) else list(res)
        return float(sum((r.asnumpy().astype("float64") * p).sum() for r, p in zip(res, projs, strict=True)))

    numeric = numeric_grad(scalar, inputs, eps)
    for k, i in enumerate(grad_nodes):
        assert_almost_equal(analytic[k], numeric[i], rtol=rtol, atol=atol,
                            names=(f"autograd d/d(input {i})", f"numeric d/d(input {i})"))
from .consistency import check_consistency  # noqa: E402,F401  (MXNet's name)
from .symbolic import check_symbolic_backward, check_symbolic_forward  # noqa: E402,F401  (Symbol executors)
