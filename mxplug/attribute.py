"""`mx.AttrScope`: attributes given to every symbol created inside a ``with`` block.

>>> import mxplug as mx
>>> with mx.AttrScope(ctx_group='dev1'):
...     y = mx.sym.exp(mx.sym.var('x'))
>>> y.attr('ctx_group')
'dev1'
"""

from __future__ import annotations

import contextvars

__all__ = ["AttrScope", "current"]


class AttrScope:
    """A scope of string attributes; nested scopes add to (and override) the enclosing one's."""

    def __init__(self, **kwargs: str) -> None:
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError(f"AttrScope: attribute '{key}' must be a string, got {type(value).__name__}")
        self._attr = dict(kwargs)
        self._token: contextvars.Token | None = None

    def get(self, attr: dict[str, str] | None) -> dict[str, str]:
        """This scope's attributes updated with `attr` (the explicit ones win)."""
        if not self._attr:
            return dict(attr) if attr else {}
        merged = dict(self._attr)
        if attr:
            merged.update(attr)
        return merged

    def __enter__(self) -> AttrScope:
        outer = current()
        self._attr = outer.get(self._attr)
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc) -> None:
        _CURRENT.reset(self._token)
        self._token = None

    current = property(lambda self: current())


_EMPTY = AttrScope()
_CURRENT: contextvars.ContextVar[AttrScope | None] = contextvars.ContextVar("mxplug_attr_scope", default=None)


def current() -> AttrScope:
    """The active AttrScope (an empty one outside any ``with``)."""
    return _CURRENT.get() or _EMPTY
