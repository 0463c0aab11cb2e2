"""Automatic names of symbols (MXNet's `mx.name`): `NameManager` counts per hint, `Prefix` prepends.

An operator created without ``name=`` is named after the function that made it, lower-cased, plus a
counter: ``fullyconnected0``, ``convolution1``, ``_plus0``. The current manager is per thread (and per
asyncio task); ``with mx.name.NameManager():`` starts counting afresh, ``with mx.name.Prefix('p_'):``
prefixes every name made inside, explicit ones included, as MXNet does.

>>> import mxplug as mx
>>> with mx.name.Prefix('enc_'):
...     mx.sym.exp(mx.sym.var('x')).name
'enc_exp0'
"""

from __future__ import annotations

import contextvars

__all__ = ["NameManager", "Prefix", "current"]


class NameManager:
    """Names symbols: an explicit name is kept, else ``hint`` plus a per-hint counter."""

    def __init__(self) -> None:
        self._counter: dict[str, int] = {}
        self._token: contextvars.Token | None = None

    def get(self, name: str | None, hint: str) -> str:
        """The name to use: `name` when given, else ``<hint><n>`` with n counting per hint from 0."""
        if name:
            return name
        n = self._counter.get(hint, 0)
        self._counter[hint] = n + 1
        return f"{hint}{n}"

    def __enter__(self) -> NameManager:
        if self._token is not None:
            raise RuntimeError("a NameManager can be entered only once at a time")
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc) -> None:
        _CURRENT.reset(self._token)
        self._token = None

    # MXNet 1.9 exposes the active manager as NameManager.current
    current = property(lambda self: current())


class Prefix(NameManager):
    """A NameManager that puts `prefix` in front of every name it gives (explicit names too)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def get(self, name: str | None, hint: str) -> str:
        return self._prefix + super().get(name, hint)


_DEFAULT = NameManager()
_CURRENT: contextvars.ContextVar[NameManager] = contextvars.ContextVar("mxplug_name_manager", default=_DEFAULT)


def current() -> NameManager:
    """The active NameManager (the process-wide default outside any ``with``)."""
    return _CURRENT.get()
