"""`mx.sym` / `mx.symbol`: symbolic graphs over the same operator registry as `mx.nd`.

Every registry operator is `mx.sym.<op>` with `mx.nd.<op>`'s signature (inputs are Symbols; plus ``name=``
and ``attr=``). The functions are made on first use from the schema, so operators registered at run time
(custom operators, plugin operators) appear here as soon as they appear in `mx.nd`, and disappear with them.

>>> import mxplug as mx
>>> data = mx.sym.var('data')
>>> fc = mx.sym.FullyConnected(data, num_hidden=10, name='fc1')  # doctest: +SKIP
>>> fc.list_arguments()                                          # doctest: +SKIP
['data', 'fc1_weight', 'fc1_bias']
"""

from __future__ import annotations

import inspect
import numbers
import types
from collections.abc import Callable
from typing import Any

from .. import registry as _registry
from ..base import OperatorAttributeError
from ..ndarray._op import _signature as _nd_signature
from ..ndarray._op import docstring
from .json import load, load_json
from .symbol import Group, Node, Symbol, Variable, var

__all__ = [
    "Symbol", "Node", "Variable", "var", "Group", "load", "load_json", "zeros", "ones", "full", "arange",
    "pow", "power", "maximum", "minimum", "hypot", "linalg", "contrib", "op",
]

_CACHE: dict[str, tuple[_registry.OpSchema, Callable[..., Symbol]]] = {}


def _signature(schema: _registry.OpSchema) -> inspect.Signature:
    return _nd_signature(schema, trailing=("name", "attr"))


def make_function(schema: _registry.OpSchema, called: str) -> Callable[..., Symbol]:
    """`mx.sym.<called>`: binds arguments as `mx.nd.<op>` does, then makes a node (see symbol.create)."""
    from .symbol import create

    fixed = tuple(i for i in schema.inputs if i != schema.variadic)
    attr_names = tuple(schema.attrs)
    hint = called.lower()

    def op(*args, name=None, attr=None, out=None, **kwargs):
        if out is not None:
            raise OperatorAttributeError(f"operator '{schema.name}': out= has no meaning for symbols")
        inputs: dict[str, Any] = {}
        variadic: list[Any] = []
        if schema.variadic is not None:
            variadic = list(args)
            more = kwargs.pop(schema.variadic, None)
            if more is not None:
                variadic.extend([more] if isinstance(more, Symbol) else more)
        else:
            for inp, value in zip(fixed, args, strict=False):
                if value is not None:
                    inputs[inp] = value
            extra = args[len(fixed):]
            if len(extra) > len(attr_names):
                raise OperatorAttributeError(
                    f"operator '{schema.name}' takes at most {len(fixed) + len(attr_names)} positional "
                    f"arguments, got {len(args)}"
                )
            for key, value in zip(attr_names, extra, strict=False):
                if key in kwargs:
                    raise OperatorAttributeError(f"operator '{schema.name}' got '{key}' twice")
                kwargs[key] = value
        for inp in fixed:
            if inp in kwargs:
                value = kwargs.pop(inp)
                if value is not None:
                    if inp in inputs:
                        raise OperatorAttributeError(f"operator '{schema.name}' got input '{inp}' twice")
                    inputs[inp] = value
        return create(schema, hint, inputs, variadic, kwargs, name, attr)

    op.__name__ = op.__qualname__ = called
    op.__signature__ = _signature(schema)
    op.__doc__ = docstring(schema).replace("NDArray", "Symbol")
    op.__module__ = "mxplug.symbol"
    op._schema = schema
    return op


def make_custom(schema: _registry.OpSchema, called: str) -> Callable[..., Symbol]:
    """`mx.sym.Custom(*data, op_type=..., **kwargs)`: MXNet's legacy custom operator in a graph. Like
    `mx.nd.Custom` it takes free keyword arguments: Symbols are inputs by name, the rest the Prop's
    parameters (stored as strings)."""
    from .symbol import create_custom

    def Custom(*data, op_type=None, name=None, attr=None, out=None, **kwargs):  # noqa: N802
        if out is not None:
            raise OperatorAttributeError("operator 'Custom': out= has no meaning for symbols")
        return create_custom(schema, data, {"op_type": op_type, **kwargs}, name, attr)

    Custom.__name__ = Custom.__qualname__ = called
    P = inspect.Parameter
    Custom.__signature__ = inspect.Signature([
        P("data", P.VAR_POSITIONAL), P("op_type", P.KEYWORD_ONLY, default=None),
        P("name", P.KEYWORD_ONLY, default=None), P("attr", P.KEYWORD_ONLY, default=None),
        P("kwargs", P.VAR_KEYWORD)])
    Custom.__doc__ = docstring(schema).replace("NDArray", "Symbol")
    Custom.__module__ = "mxplug.symbol"
    Custom._schema = schema
    return Custom


def function(name: str) -> Callable[..., Symbol]:
    """The `mx.sym` function of an operator (by name or alias), made once per registered schema."""
    schema = _registry.get(name)  # UnknownOperatorError is an AttributeError: getattr() semantics
    cached = _CACHE.get(name)
    if cached is not None and cached[0] is schema:
        return cached[1]
    fn = make_custom(schema, name) if schema.name == "Custom" else make_function(schema, name)
    _CACHE[name] = (schema, fn)
    return fn


def __getattr__(name: str) -> Callable[..., Symbol]:
    if name.startswith("__"):
        raise AttributeError(name)
    return function(name)


def __dir__() -> list[str]:
    ops = set(_registry.all_ops()) | set(_registry.aliases())
    return sorted(set(globals()) | ops)


class _Namespace(types.ModuleType):
    """`mx.sym._internal`, `mx.sym.linalg`, `mx.sym.contrib`, `mx.sym.op`: operators under a prefix."""

    def __init__(self, name: str, prefix: str, doc: str) -> None:
        super().__init__(name, doc)
        self._prefix = prefix

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return function(self._prefix + name)

    def __dir__(self) -> list[str]:
        names = set(_registry.all_ops()) | set(_registry.aliases())
        return sorted(n[len(self._prefix):] for n in names if n.startswith(self._prefix))


_internal = _Namespace("mxplug.symbol._internal", "", "MXNet's internal operators (mx.sym._internal).")
op = _Namespace("mxplug.symbol.op", "", "Every operator (mx.sym.op).")
linalg = _Namespace("mxplug.symbol.linalg", "linalg_", "Linear algebra operators (mx.sym.linalg).")
contrib = _Namespace("mxplug.symbol.contrib", "_contrib_", "Contributed operators (mx.sym.contrib).")


# -- MXNet's Python helpers of mx.sym ------------------------------------------------------------------------
def zeros(shape, dtype=None, **kwargs) -> Symbol:
    """A symbol of zeros (MXNet writes the dtype, float32 by default, into the graph)."""
    return function("_zeros")(shape=shape, dtype=dtype or "float32", **kwargs)


def ones(shape, dtype=None, **kwargs) -> Symbol:
    return function("_ones")(shape=shape, dtype=dtype or "float32", **kwargs)


def full(shape, val, dtype=None, **kwargs) -> Symbol:
    return function("_full")(shape=shape, value=val, dtype=dtype or "float32", **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None) -> Symbol:  # noqa: FBT002
    return function("_arange")(start=start, stop=stop, step=step, repeat=repeat, infer_range=infer_range,
                               name=name, dtype=dtype or "float32")


def _either(array_op: str, scalar_op: str, rscalar_op: str, fn: Callable[[Any, Any], Any]):
    def helper(left, right):
        if isinstance(left, Symbol) and isinstance(right, Symbol):
            return function(array_op)(left, right)
        if isinstance(left, Symbol) and isinstance(right, numbers.Number):
            return function(scalar_op)(left, scalar=right)
        if isinstance(left, numbers.Number) and isinstance(right, Symbol):
            return function(rscalar_op)(right, scalar=left)
        if isinstance(left, numbers.Number) and isinstance(right, numbers.Number):
            return fn(left, right)
        raise TypeError(f"types ({type(left).__name__}, {type(right).__name__}) not supported")

    return helper


pow = power = _either("broadcast_power", "_power_scalar", "_rpower_scalar", lambda a, b: a ** b)  # noqa: A001
maximum = _either("broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max)
minimum = _either("broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min)
hypot = _either("broadcast_hypot", "_hypot_scalar", "_hypot_scalar", lambda a, b: (a * a + b * b) ** 0.5)


def _bind_fluent() -> None:
    """x.sum(), x.exp(), x.reshape(...): the operator functions as methods, as NDArray has them."""
    from ..ndarray import _FLUENT

    for n in _FLUENT:
        if hasattr(Symbol, n):
            continue

        def method(self, *args, _n=n, **kwargs):
            return function(_n)(self, *args, **kwargs)

        method.__name__ = n
        setattr(Symbol, n, method)

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        if shape:
            kwargs["shape"] = shape
        return function("Reshape")(self, **kwargs)

    def astype(self, dtype):
        return function("Cast")(self, dtype=dtype)

    Symbol.reshape, Symbol.astype = reshape, astype


_bind_fluent()


def _install_consistency() -> None:
    """Give `mxplug.testing.check_consistency` its Symbol form (the hook it leaves for this package)."""
    from .consistency import install

    install()


_install_consistency()
