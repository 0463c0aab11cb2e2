"""Registering operators at run time: what the `mxplug_register_operators` hook calls.

An operator declared here is a full registry citizen: it appears in `mx.nd`, `mxplug ops` and the docs
tables, dispatches to kernels registered for it, and differentiates through its gradient formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import registry
from .base import RegistryError
from .ops import _RULES, OpRules

__all__ = ["register_operator", "unregister_operator"]

_OWNERS: dict[str, str] = {}  # operator name -> plugin that declared it


def register_operator(schema: registry.OpSchema | dict[str, Any], *, infer: Callable | None = None,
                      gradient: Callable | None = None, composite: Callable | None = None,
                      num_outputs: Callable | None = None, plugin: str = "") -> registry.OpSchema:
    """Declare an operator: a schema (an `OpSchema`, or a dict in the registry's TOML form plus ``name``)
    and its rules (see `mxplug.ops` for their signatures).

    Re-registration by the same plugin (after `mxplug.plugins.reset()`) replaces the earlier declaration;
    a name taken by the built-in registry or by another plugin is refused.

    >>> import mxplug as mx
    >>> from mxplug.ops._util import spec
    >>> _ = register_operator({"name": "double_it", "inputs": ["data"], "doc": "2x."},
    ...                       composite=lambda F, attrs, x: x * 2)
    >>> mx.nd.double_it(mx.nd.ones((2,))).asnumpy().tolist()
    [2.0, 2.0]
    """
    if isinstance(schema, dict):
        entry = dict(schema)
        name = entry.pop("name", None)
        if not isinstance(name, str) or not name:
            raise RegistryError("register_operator: a dict schema needs a 'name'")
        schema = registry._schema_from_entry(name, entry.pop("family", "plugin"), entry)
    if infer is None and composite is None:
        raise RegistryError(f"operator '{schema.name}': give an inference rule (infer=) or a composite body")
    if schema.differentiable and gradient is None and composite is None:
        raise RegistryError(
            f"operator '{schema.name}': give a gradient, a composite body, or declare differentiable = false"
        )
    if schema.name in _OWNERS and _OWNERS[schema.name] == plugin:
        unregister_operator(schema.name)  # the same owner declaring it again
    registry.add_schema(schema)
    _OWNERS[schema.name] = plugin
    _RULES[schema.name] = OpRules(infer=infer, gradient=gradient, composite=composite, num_outputs=num_outputs)
    from . import ndarray

    ndarray.publish(schema)
    return schema


def unregister_operator(name: str) -> None:
    """Forget an operator declared at run time (built-in registry operators cannot be removed)."""
    if name not in _OWNERS:
        raise RegistryError(f"operator '{name}' was not declared at run time; it cannot be removed")
    from . import ndarray

    schema = registry.get(name)
    ndarray.unpublish(schema)
    registry.remove_schema(name)
    _RULES.pop(name, None)
    del _OWNERS[name]


def forget_plugin_operators() -> None:
    """Drop the operators plugins declared (plugins.reset() calls this before loading plugins again)."""
    for name, owner in list(_OWNERS.items()):
        if owner:
            unregister_operator(name)
