"""Missing kernels: one explicit policy, and the CPU fallback it governs.

When the backend of an array's context has no kernel for (operator, dtype), mxplug does one of three things,
chosen by the **fallback policy**:

=========  ==================================================================================================
``warn``   (default) run the operator on the CPU backend: copy the inputs to the host, run the CPU kernel,
           copy the results back to the original context; warn once per (operator, backend).
``silent`` the same, without the warning.
``error``  raise `KernelNotFoundError` naming the operator, context, dtype and the installed backends.
=========  ==================================================================================================

Set it for a program with ``MXPLUG_FALLBACK=warn|error|silent`` (read at import), change the process default
with ``mx.set_fallback(mode)`` (returns the previous one), or for a block of code with
``with mx.fallback('error'):`` (a context variable: per thread and per task). Every fallback is counted with
the bytes it moved: ``mx.fallback_stats()``, ``mx.reset_fallback_stats()``.

The fallback is a kernel like any other: dispatch resolves it once per (operator, device type, dtype) and
caches it, so the hot path (a cache hit) costs nothing more. The policy is re-read on each fallback call, so a
``fallback('error')`` scope also stops a fallback that was resolved earlier. Gradients need nothing special:
they are operators, dispatched (and falling back) on the forward pass's context like any other.

Custom operators declared with a forward composition (`mxplug.custom.operator`) run that composition on the
context instead of falling back: it is an implementation, not a copy to the host (see `describe`).
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .base import KernelNotFoundError, MXNetError

__all__ = [
    "POLICIES", "FallbackWarning", "FallbackStat", "policy", "set_fallback", "fallback", "fallback_stats",
    "reset_fallback_stats", "describe", "HOST_DEVICE_TYPE",
]

POLICIES = ("warn", "error", "silent")
ENV_VAR = "MXPLUG_FALLBACK"
HOST_DEVICE_TYPE = "cpu"  # where operators fall back to


class FallbackWarning(UserWarning):
    """An operator ran on the CPU because its context's backend has no kernel for it."""


def _check(mode: str) -> str:
    if mode not in POLICIES:
        raise MXNetError(f"fallback policy must be one of {', '.join(map(repr, POLICIES))}, got {mode!r}")
    return mode


def _from_env() -> str:
    raw = os.environ.get(ENV_VAR, "").strip().lower()
    if raw in POLICIES:
        return raw
    if raw:  # a typo must not break `import mxplug`; say so once and use the default
        warnings.warn(f"{ENV_VAR}={raw!r} is not one of {', '.join(POLICIES)}; using 'warn'", stacklevel=2)
    return "warn"


_DEFAULT = _from_env()
_SCOPED: contextvars.ContextVar[str | None] = contextvars.ContextVar("mxplug_fallback", default=None)


def policy() -> str:
    """The fallback policy in force here: the innermost ``fallback(...)`` scope, else the process default."""
    return _SCOPED.get() or _DEFAULT


def set_fallback(mode: str) -> str:
    """Set the process-wide fallback policy ('warn', 'error' or 'silent'); returns the previous one.

    ``fallback(...)`` scopes still override it inside them.

    >>> import mxplug as mx
    >>> previous = mx.set_fallback('error')
    >>> mx.set_fallback(previous)
    'error'
    """
    global _DEFAULT
    previous, _DEFAULT = _DEFAULT, _check(mode)
    return previous


class fallback:  # noqa: N801 — used as `with mx.fallback('error'):`, like autograd.record()
    """Scope with its own fallback policy (per thread and per asyncio task).

    >>> import mxplug as mx
    >>> with mx.fallback('silent'):
    ...     mx.missing_kernels.policy()
    'silent'
    """

    __slots__ = ("mode", "_token")

    def __init__(self, mode: str) -> None:
        self.mode = _check(mode)
        self._token: contextvars.Token | None = None

    def __enter__(self) -> fallback:
        self._token = _SCOPED.set(self.mode)
        return self

    def __exit__(self, *exc) -> None:
        _SCOPED.reset(self._token)


# -- statistics ----------------------------------------------------------------------------------------
class FallbackStat(NamedTuple):
    """What falling back cost for one (operator, backend): calls and bytes copied each way."""

    calls: int
    bytes_to_host: int
    bytes_back: int


_STATS: dict[tuple[str, str], list[int]] = {}
_STATS_LOCK = threading.Lock()
_WARNED: set[tuple[str, str]] = set()


def _count(key: tuple[str, str], to_host: int, back: int) -> None:
    with _STATS_LOCK:
        s = _STATS.setdefault(key, [0, 0, 0])
        s[0] += 1
        s[1] += to_host
        s[2] += back


def fallback_stats(reset: bool = False) -> dict[tuple[str, str], FallbackStat]:  # noqa: FBT001
    """Fallbacks so far, per (operator, backend name): calls, bytes copied to the host and back.

    >>> import mxplug as mx
    >>> mx.reset_fallback_stats(); mx.fallback_stats()
    {}
    """
    with _STATS_LOCK:
        snapshot = {k: FallbackStat(*v) for k, v in sorted(_STATS.items())}
        if reset:
            _STATS.clear()
    return snapshot


def reset_fallback_stats() -> None:
    """Forget the counts (and warn again for operators that already warned)."""
    with _STATS_LOCK:
        _STATS.clear()
        _WARNED.clear()


# -- the fallback kernel -------------------------------------------------------------------------------
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def _user_stacklevel() -> int:
    """The stacklevel pointing at the first frame outside mxplug (the user's line that ran the operator)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _how_to_choose() -> str:
    return (f"set {ENV_VAR}=error or call mx.set_fallback('error') to make this an error "
            f"('silent' hides this warning)")


def _warn_once(op: str, backend_name: str, where: str, dtype: np.dtype) -> None:
    key = (op, backend_name)
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(
        f"operator '{op}' has no kernel on backend '{backend_name}' for {where} ({dtype.name}): running it on "
        f"the CPU, with inputs copied to the host and results back; {_how_to_choose()}. "
        "mx.fallback_stats() counts the calls and bytes moved.",
        FallbackWarning, stacklevel=_user_stacklevel(),
    )


def _device_id(backend, inputs: tuple, attrs: dict) -> int:
    """The device the inputs live on (results go back there); input-less operators name it in ``ctx``."""
    for x in inputs:
        if x is not None:
            return backend.device_of(x)
    ctx = attrs.get("ctx")
    if isinstance(ctx, str) and "(" in ctx:
        return int(ctx[ctx.index("(") + 1:].rstrip(")") or 0)
    return 0


def _error_message(op: str, ctx, dtype: np.dtype) -> str:
    from .dispatch import _missing_message

    return (f"{_missing_message(op, ctx, dtype)}; the fallback policy is 'error' (running it on the CPU "
            f"instead: set {ENV_VAR}=warn or call mx.set_fallback('warn'))")


def _make_fallback(op: str, backend, host, host_fn: Callable[..., Any], dtype: np.dtype) -> Callable[..., Any]:
    """A kernel for `backend` that runs `host_fn` on the host backend, copying both ways."""
    from .context import Context
    from .registry import get as get_schema

    schema = get_schema(op)
    # Auxiliary states (BatchNorm's moving mean) are updated in place by the kernel: copy them back too.
    aux_positions = tuple(i for i, name in enumerate(schema.inputs) if name in schema.aux_inputs)
    key = (op, backend.name)
    host_ctx = f"{HOST_DEVICE_TYPE}(0)"

    def run_on_host(*inputs, **attrs):
        device = _device_id(backend, inputs, attrs)
        mode = policy()
        if mode == "error":  # a scope changed the policy after this fallback was resolved
            raise KernelNotFoundError(_error_message(op, Context(backend.device_type, device), dtype))
        if mode == "warn":
            _warn_once(op, backend.name, f"{backend.device_type}({device})", dtype)
        to_host = back = 0
        host_inputs = []
        for x in inputs:
            if x is None:
                host_inputs.append(None)
                continue
            h = backend.to_numpy(x)
            to_host += h.nbytes
            host_inputs.append(host.from_numpy(h, 0))
        if "ctx" in attrs:  # input-less operators (creation, sampling) draw on the host
            attrs = {**attrs, "ctx": host_ctx}
        raw = host_fn(*host_inputs, **attrs)
        multi = isinstance(raw, (tuple, list))
        results = []
        for r in raw if multi else (raw,):
            h = host.to_numpy(r)
            back += h.nbytes
            results.append(backend.from_numpy(h, device))
        for i in aux_positions:
            if i < len(inputs) and inputs[i] is not None:
                h = host.to_numpy(host_inputs[i])
                back += h.nbytes
                backend.assign(inputs[i], backend.from_numpy(h, device))
        _count(key, to_host, back)
        return tuple(results) if multi else results[0]

    run_on_host.__name__ = f"fallback_{op}"
    run_on_host.__qualname__ = f"fallback[{op} on {backend.name} via {host.name}]"
    run_on_host.mxplug_fallback = True  # explain() and tests recognise it
    return run_on_host


def _host_backend():
    from .plugins import manager

    host = manager().backends.get(HOST_DEVICE_TYPE)
    return host if host is not None and host.available else None


def _host_entry(op: str, ctx, dtype: np.dtype):
    """(the host backend, its kernel entry for `op` and `dtype`), entry None where there is nothing to fall back
    to (no host kernel, or `ctx` is the host itself)."""
    from .dispatch import _select

    if ctx.device_type == HOST_DEVICE_TYPE:
        return None, None
    host = _host_backend()
    return host, (_select(op, host.name, np.dtype(dtype)) if host is not None else None)


def handler(op: str, ctx, dtype: np.dtype) -> Callable[..., Any] | None:
    """dispatch's missing-kernel hook: a kernel that implements `op` on `ctx` anyway, or None.

    A custom operator's forward composition comes first (it runs on `ctx` itself); then the CPU fallback,
    per the policy. None (no CPU kernel either, or `ctx` is the CPU) lets dispatch raise its own error.
    """
    from . import custom
    from .plugins import backend_for

    composed = custom.composition_kernel(op, ctx)
    if composed is not None:
        return composed
    host, entry = _host_entry(op, ctx, dtype)
    if entry is None:
        return None
    if policy() == "error":
        raise KernelNotFoundError(_error_message(op, ctx, np.dtype(dtype)))
    return _make_fallback(op, backend_for(ctx), host, entry.fn, np.dtype(dtype))


def describe(op: str, ctx, dtype: np.dtype) -> str | None:
    """What `handler` would do for a missing kernel, in words (for `explain`); None when nothing helps."""
    from . import custom
    from .dispatch import _dtypes

    if custom.composition_kernel(op, ctx) is not None:
        return f"custom operator without a kernel here: runs its forward composition on {ctx!r}"
    host, entry = _host_entry(op, ctx, dtype)
    if entry is None:
        return None
    mode = policy()
    head = (f"fallback to cpu (policy {mode}): kernel from plugin '{entry.plugin}' on backend '{host.name}' "
            f"(priority {entry.priority}), dtypes {_dtypes(entry)}; inputs copied to the host and results back")
    if mode == "error":
        return (f"the CPU has one (plugin '{entry.plugin}') but the fallback policy is 'error': raises "
                f"KernelNotFoundError (set {ENV_VAR}=warn or mx.set_fallback('warn') to fall back)")
    return head


def install() -> None:
    """Make this module dispatch's missing-kernel policy (done at `import mxplug`)."""
    from .dispatch import set_fallback_handler

    set_fallback_handler(handler)


install()
