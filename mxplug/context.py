"""`Context`: where arrays live and operators run (MXNet's `mx.cpu()`, `mx.gpu(1)`, `with ctx:`).

The current context is a `contextvars` scope, so it is per thread and per asyncio task. Set
`MXPLUG_DEFAULT_CONTEXT=opencl:0` (or `gpu:1`, `cpu`) to move a whole program without editing it.
"""

from __future__ import annotations

import contextvars
import os

from .base import BackendUnavailableError

__all__ = ["Context", "cpu", "gpu", "opencl", "cpu_pinned", "current_context", "num_gpus"]

_DEVTYPE_IDS = {"cpu": 1, "gpu": 2, "cpu_pinned": 3, "cpu_shared": 5, "opencl": 8}


class Context:
    """A device: a type served by a backend plugin ('cpu', 'gpu', 'opencl', …) and an index.

    >>> import mxplug as mx
    >>> mx.Context('cpu', 0)
    cpu(0)
    >>> with mx.cpu(0):
    ...     mx.current_context()
    cpu(0)
    """

    __slots__ = ("device_type", "device_id", "_hash")
    _interned: dict[tuple[str, int], Context] = {}
    devtype2str = {v: k for k, v in _DEVTYPE_IDS.items()}
    devstr2type = dict(_DEVTYPE_IDS)

    def __new__(cls, device_type: str | Context, device_id: int = 0) -> Context:
        if isinstance(device_type, Context):
            return device_type
        if isinstance(device_type, int):
            device_type = cls.devtype2str.get(device_type, str(device_type))
        if not isinstance(device_type, str) or not device_type:
            raise BackendUnavailableError(f"Context: device_type must be a string such as 'cpu', got {device_type!r}")
        if isinstance(device_id, bool) or not isinstance(device_id, int) or device_id < 0:
            raise BackendUnavailableError(f"Context: device_id must be an int >= 0, got {device_id!r}")
        key = (device_type, device_id)
        ctx = cls._interned.get(key)
        if ctx is None:
            ctx = object.__new__(cls)
            object.__setattr__(ctx, "device_type", device_type)
            object.__setattr__(ctx, "device_id", device_id)
            object.__setattr__(ctx, "_hash", hash(key))
            ctx = cls._interned.setdefault(key, ctx)
        return ctx

    def __setattr__(self, name, value):
        raise AttributeError("Context is immutable")

    @property
    def device_typeid(self) -> int:
        return _DEVTYPE_IDS.get(self.device_type, 0)

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, Context)
            and self.device_type == other.device_type
            and self.device_id == other.device_id
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"{self.device_type}({self.device_id})"

    __str__ = __repr__

    def __reduce__(self):
        return (Context, (self.device_type, self.device_id))

    def __enter__(self) -> Context:
        token = _CURRENT.set(self)
        _TOKENS.set(_TOKENS.get() + (token,))
        return self

    def __exit__(self, *exc) -> None:
        tokens = _TOKENS.get()
        _TOKENS.set(tokens[:-1])
        _CURRENT.reset(tokens[-1])

    def empty_cache(self) -> None:
        """Release the backend's pooled memory for this device (no-op where the backend has no pool)."""
        from .plugins import backend_for

        backend_for(self).empty_cache(self.device_id)


def _parse_default(text: str | None) -> Context:
    if not text:
        return Context("cpu", 0)
    dev, _, idx = text.strip().partition(":")
    try:
        return Context(dev.strip(), int(idx) if idx else 0)
    except ValueError:
        raise BackendUnavailableError(
            f"MXPLUG_DEFAULT_CONTEXT={text!r} is not of the form TYPE[:INDEX], e.g. 'opencl:0'"
        ) from None


_CURRENT: contextvars.ContextVar[Context] = contextvars.ContextVar(  # Context is immutable: a safe default
    "mxplug_context", default=_parse_default(os.environ.get("MXPLUG_DEFAULT_CONTEXT"))  # noqa: B039
)
_TOKENS: contextvars.ContextVar[tuple] = contextvars.ContextVar("mxplug_context_tokens", default=())


def current_context() -> Context:
    """The context of the innermost `with ctx:` scope, else the default (cpu(0) or MXPLUG_DEFAULT_CONTEXT)."""
    return _CURRENT.get()


def cpu(device_id: int = 0) -> Context:
    """The CPU context (served by the NumPy backend unless another plugin claims 'cpu')."""
    return Context("cpu", device_id)


def cpu_pinned(device_id: int = 0) -> Context:
    return Context("cpu_pinned", device_id)


def gpu(device_id: int = 0) -> Context:
    """A CUDA GPU context (served by the mxplug-cupy plugin)."""
    return Context("gpu", device_id)


def opencl(device_id: int = 0) -> Context:
    """An OpenCL device context (served by the mxplug-opencl plugin)."""
    return Context("opencl", device_id)


def num_gpus() -> int:
    """How many GPUs the 'gpu' backend sees (0 when no GPU plugin is installed or it is unavailable)."""
    from .plugins import manager

    backend = manager().backends.get("gpu")
    if backend is None or not backend.available:
        return 0
    return backend.num_devices()
