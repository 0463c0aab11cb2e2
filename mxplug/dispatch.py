"""(operator, backend, dtype) → kernel: registration, resolution once, and a cache the hot path hits.

The cache key is (operator name, device type, dtype); a hit is one dictionary lookup. A miss resolves
through the plugin registrations (highest priority first) and, where no kernel exists, through the
missing-kernel hook (`set_fallback_handler`; `mxplug.missing_kernels` installs the policy: a custom
operator's composition, else the CPU fallback per ``MXPLUG_FALLBACK``), else raises KernelNotFoundError saying
what is installed. What the hook returns is cached like a kernel, so a fallback costs one dictionary hit to find.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import KernelNotFoundError
from .plugins import backend_for, manager
from .registry import get as get_schema

__all__ = ["KernelEntry", "register_kernel", "kernel_for", "explain", "kernels_of", "set_fallback_handler"]


@dataclass(frozen=True)
class KernelEntry:
    op: str
    backend: str
    fn: Callable[..., Any]
    dtypes: frozenset[str] | None
    priority: int
    plugin: str

    def handles(self, dtype: np.dtype) -> bool:
        return self.dtypes is None or dtype.name in self.dtypes


_KERNELS: dict[tuple[str, str], list[KernelEntry]] = {}
_CACHE: dict[tuple[str, str, np.dtype], Callable[..., Any]] = {}
_FALLBACK: Callable[..., Callable[..., Any] | None] | None = None


def register_kernel(
    op: str, backend: str, fn: Callable[..., Any], dtypes=None, priority: int = 0, plugin: str = ""
) -> None:
    """Add a kernel (the plugin hooks call this through their `register` callback)."""
    name = get_schema(op).name  # resolves aliases, rejects unknown operators
    if not callable(fn):
        raise TypeError(f"kernel for '{op}' on '{backend}' is not callable: {fn!r}")
    entry = KernelEntry(name, backend, fn, frozenset(dtypes) if dtypes else None, int(priority), plugin)
    entries = _KERNELS.setdefault((name, backend), [])
    entries.append(entry)
    entries.sort(key=lambda e: -e.priority)  # stable: equal priorities keep registration order
    _CACHE.clear()


def forget_plugin(plugin: str) -> None:
    """Drop every kernel a plugin registered (when one of its hooks failed half-way)."""
    for key, entries in list(_KERNELS.items()):
        _KERNELS[key] = [e for e in entries if e.plugin != plugin]
    _CACHE.clear()


# Kernels registered with these plugin-name prefixes outlive `clear()` (plugins.reset()): they belong to
# operators declared in-process (mxplug.custom), which a reload of the entry points does not forget.
PERSISTENT_PREFIXES = ("custom:",)


def clear() -> None:
    for key, entries in list(_KERNELS.items()):
        kept = [e for e in entries if e.plugin.startswith(PERSISTENT_PREFIXES)]
        if kept:
            _KERNELS[key] = kept
        else:
            del _KERNELS[key]
    _CACHE.clear()


def set_fallback_handler(handler: Callable[..., Callable[..., Any] | None] | None) -> None:
    """Install the missing-kernel policy: ``handler(op, ctx, dtype) -> kernel or None``."""
    global _FALLBACK
    _FALLBACK = handler
    _CACHE.clear()


def _select(op: str, backend_name: str, dtype: np.dtype) -> KernelEntry | None:
    for entry in _KERNELS.get((op, backend_name), ()):
        if entry.handles(dtype):
            return entry
    return None


def kernel_for(op: str, ctx, dtype: np.dtype) -> Callable[..., Any]:
    """The kernel that runs `op` on `ctx` for inputs of `dtype` (cached)."""
    key = (op, ctx.device_type, dtype)
    fn = _CACHE.get(key)
    if fn is not None:
        return fn
    backend = backend_for(ctx)
    entry = _select(op, backend.name, dtype)
    if entry is not None:
        fn = entry.fn
    elif _FALLBACK is not None and (fn := _FALLBACK(op, ctx, dtype)) is not None:
        pass
    else:
        raise KernelNotFoundError(_missing_message(op, ctx, dtype))
    _CACHE[key] = fn
    return fn


def _missing_message(op: str, ctx, dtype: np.dtype) -> str:
    installed = ", ".join(f"{b.name}({d})" for d, b in manager().backends.items()) or "none"
    have = [
        b for (o, b), entries in _KERNELS.items() if o == op and entries
    ]
    where = f"; kernels for it exist on: {', '.join(sorted(have))}" if have else ""
    return (
        f"no kernel for '{op}' on {ctx!r} ({np.dtype(dtype).name}); installed backends: {installed}{where}"
    )


def kernels_of(op: str) -> dict[str, list[KernelEntry]]:
    """Every registered kernel of an operator, by backend name."""
    name = get_schema(op).name
    manager()
    return {b: list(entries) for (o, b), entries in _KERNELS.items() if o == name and entries}


def backends_with_kernel(op: str) -> set[str]:
    manager()
    return {b for (o, b), entries in _KERNELS.items() if o == op and entries}


def explain(op: str, ctx, dtype="float32") -> str:
    """Say which kernel would run `op` on `ctx` for `dtype`, and why: the plugin, its priority and dtypes,
    the kernels it outranks, or what the missing-kernel policy does (a fallback to the CPU, an error).

    >>> import mxplug as mx
    >>> print(mx.dispatch.explain('broadcast_add', mx.cpu(), 'float32'))  # doctest: +ELLIPSIS
    broadcast_add on cpu(0) (float32): kernel from plugin 'numpy' on backend 'numpy' (priority 0), dtypes all...
    """
    from .missing_kernels import describe
    from .ops import rules

    schema = get_schema(op)
    dtype = np.dtype(dtype)
    head = f"{schema.name} on {ctx!r} ({dtype.name})"
    if rules(schema.name).composite is not None:
        return f"{head}: composite operator, runs as other operators (no kernel of its own)"
    backend = backend_for(ctx)
    candidates = _KERNELS.get((schema.name, backend.name), [])
    entry = _select(schema.name, backend.name, dtype)
    if entry is None:
        instead = describe(schema.name, ctx, dtype)
        if instead is not None:
            return f"{head}: no kernel on backend '{backend.name}'; {instead}"
        return f"{head}: no kernel; " + _missing_message(schema.name, ctx, dtype)
    others = [e for e in candidates if e is not entry]
    tail = "".join(f"\n  also: plugin '{e.plugin}' (priority {e.priority}), dtypes {_dtypes(e)}" for e in others)
    # A kernel that chooses among strategies (host BLAS or a device GEMM, tiny inputs on the host...) says how.
    describe_strategy = getattr(entry.fn, "mxplug_explain", None)
    try:
        note = describe_strategy(ctx, dtype) if callable(describe_strategy) else None
    except Exception as e:  # a plugin's note must not break explain: say what it raised instead
        note = f"(plugin '{entry.plugin}' could not say: {type(e).__name__}: {e})"
    how = f"\n  how: {note}" if note else ""
    return (f"{head}: kernel from plugin '{entry.plugin}' on backend '{backend.name}' "
            f"(priority {entry.priority}), dtypes {_dtypes(entry)}{how}{tail}")


def _dtypes(entry: KernelEntry) -> str:
    return "all" if entry.dtypes is None else ", ".join(sorted(entry.dtypes))
