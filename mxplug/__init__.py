"""mxplug: Apache MXNet 1.9's programming model on a plugin-based multi-backend operator core.

>>> import mxplug as mx
>>> a = mx.nd.ones((2, 3))
>>> (a * 2).sum().asscalar()
12.0
"""

from __future__ import annotations

# `operator` publishes mx.nd.Custom (free-form keyword arguments) over the function generated from the registry.
from . import (
    autograd,
    base,
    context,
    custom,
    dispatch,
    missing_kernels,
    ndarray,
    operator,
    plugins,
    random,
    registry,
    testing,
)
from . import ndarray as nd
from . import testing as test_utils  # MXNet's module name for the same helpers
from .base import MXNetError
from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus, opencl
from .hookspecs import hookimpl
from .missing_kernels import FallbackWarning, fallback, fallback_stats, reset_fallback_stats, set_fallback

__version__ = "0.1.0"

__all__ = [
    "__version__", "MXNetError", "Context", "cpu", "cpu_pinned", "gpu", "opencl", "current_context",
    "num_gpus", "nd", "ndarray", "autograd", "random", "base", "context", "dispatch", "plugins", "registry",
    "hookimpl", "explain", "testing", "test_utils", "sym", "symbol", "name", "AttrScope", "model", "viz",
    "executor", "attribute", "fallback", "set_fallback", "fallback_stats", "reset_fallback_stats",
    "FallbackWarning", "missing_kernels", "custom", "operator",
]

# Graph modules load on first use (`mx.sym`, `mx.model` …), keeping `import mxplug` fast.
_LAZY = {"sym": "symbol", "symbol": "symbol", "name": "name", "attribute": "attribute", "model": "model",
         "viz": "viz", "executor": "executor"}


def __getattr__(attr: str):
    import importlib

    if attr == "AttrScope":
        from .attribute import AttrScope

        return AttrScope
    module = _LAZY.get(attr)
    if module is None:
        raise AttributeError(f"module 'mxplug' has no attribute '{attr}'")
    value = importlib.import_module(f".{module}", __name__)
    globals()[attr] = value
    return value


def explain(op: str, ctx: Context | None = None, dtype: str = "float32") -> str:
    """Which kernel would run `op` on `ctx` (default: the current context) for `dtype`, and why."""
    return dispatch.explain(op, ctx or current_context(), dtype)
