"""`mx.nd`: NDArray and every registry operator as a function (built from the schemas, not from text)."""

from __future__ import annotations

import types

from .. import registry as _registry
from ..ops import rules as _rules
from ._op import docstring, invoke, make_function
from .creation import (
    arange,
    array,
    concatenate,
    empty,
    eye,
    full,
    linspace,
    moveaxis,
    ones,
    waitall,
    zeros,
)
from .ndarray import NDArray

# Operators living under a sub-namespace in MXNet (`mx.nd.linalg.gemm2`, `mx.nd.contrib.foo`).
_SUBSPACES = {"linalg_": "linalg", "_contrib_": "contrib", "_image_": "image"}
_internal = types.ModuleType("mxplug.ndarray._internal", "MXNet's internal operators (mx.nd._internal).")
linalg = types.ModuleType("mxplug.ndarray.linalg", "Linear algebra operators (mx.nd.linalg).")
contrib = types.ModuleType("mxplug.ndarray.contrib", "Contributed operators (mx.nd.contrib).")
image = types.ModuleType("mxplug.ndarray.image", "Image operators (mx.nd.image).")
op = types.ModuleType("mxplug.ndarray.op", "Every operator, public and internal (mx.nd.op).")

_FLUENT = (
    "abs", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "argmax", "argmax_channel",
    "argmin", "argsort", "broadcast_axes", "broadcast_like", "broadcast_to", "cbrt", "ceil", "clip", "cos",
    "cosh", "degrees", "depth_to_space", "diag", "exp", "expand_dims", "expm1", "fix", "flatten", "flip",
    "floor", "gamma", "gammaln", "log", "log10", "log1p", "log2", "log_softmax", "max", "mean", "min",
    "nanprod", "nansum", "norm", "one_hot", "pad", "pick", "prod", "radians", "rcbrt", "reciprocal", "relu",
    "repeat", "reshape_like", "rint", "round", "rsqrt", "shape_array", "sigmoid", "sign", "sin", "sinh",
    "size_array", "slice", "slice_axis", "slice_like", "softmax", "softmin", "sort", "space_to_depth",
    "split", "sqrt", "square", "squeeze", "sum", "swapaxes", "take", "tan", "tanh", "tile", "topk",
    "transpose", "trunc", "zeros_like", "ones_like",
)


_FUNCS: dict[str, object] = {}  # public operator functions by name and alias


def publish(schema: _registry.OpSchema) -> None:
    """Make `mx.nd.<name>` (and its aliases, sub-namespace and `_internal` entries) for one schema.

    Called for every registry entry at import, and for operators registered later (plugins, custom ops).
    """
    fn = make_function(schema, _rules)
    for n in (schema.name, *schema.aliases):
        setattr(op, n, fn)
        for prefix, space in _SUBSPACES.items():
            if n.startswith(prefix):
                setattr(globals()[space], n[len(prefix):], fn)
        if n.startswith("_"):
            setattr(_internal, n, fn)  # also mx.nd._name: gradient formulas reach internal ops through F
        else:
            _FUNCS[n] = fn
        if n not in _RESERVED:
            globals()[n] = fn


def unpublish(schema: _registry.OpSchema) -> None:
    """Remove what `publish` made for a schema (an operator whose plugin was unloaded)."""
    for n in (schema.name, *schema.aliases):
        for space in (op, _internal, *(globals()[sp] for sp in _SUBSPACES.values())):
            space.__dict__.pop(n, None)
        for prefix, space in _SUBSPACES.items():
            if n.startswith(prefix):
                globals()[space].__dict__.pop(n[len(prefix):], None)
        _FUNCS.pop(n, None)
        if n not in _RESERVED:
            globals().pop(n, None)


_RESERVED = frozenset(globals())  # module names an operator must not shadow (array, zeros, random …)
for _schema in _registry.all_ops().values():
    publish(_schema)


def _bind_fluent() -> None:
    for n in _FLUENT:
        fn = _FUNCS.get(n)
        if fn is None or hasattr(NDArray, n):
            continue

        def method(self, *args, _fn=fn, **kwargs):
            return _fn(self, *args, **kwargs)

        method.__name__ = n
        method.__doc__ = fn.__doc__
        setattr(NDArray, n, method)


_bind_fluent()

from . import random  # noqa: E402  (needs the operator functions above)
from . import ufuncs as _ufuncs  # noqa: E402
from .dlpack import from_dlpack, to_dlpack_for_read, to_dlpack_for_write  # noqa: E402
from .io import load, load_frombuffer, save  # noqa: E402

# MXNet's Python helpers that take arrays or numbers (mx.nd.add(x, 2), mx.nd.maximum(x, 0)).
_UFUNCS = _ufuncs.__all__
globals().update({name: getattr(_ufuncs, name) for name in _UFUNCS})

__all__ = [
    "NDArray", "array", "empty", "zeros", "ones", "full", "arange", "eye", "linspace", "concatenate",
    "moveaxis", "waitall", "save", "load", "load_frombuffer", "from_dlpack", "to_dlpack_for_read",
    "to_dlpack_for_write", "random", "linalg", "contrib", "image", "op", "invoke",
    "docstring", *_UFUNCS, *sorted(_FUNCS),
]
