"""Finding and loading plugins through the ``mxplug`` entry-point group, in isolation.

Environment:
  MXPLUG_LOAD_PLUGINS=a,b     load only these entry points (an allow-list)
  MXPLUG_DISABLE_PLUGINS=c    never load these
  MXPLUG_TRACE_PLUGINS=1      log every hook call and registration (logger ``mxplug.plugins``)

Plugins load on first need (the first array or `mxplug plugins`), not at ``import mxplug``.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .backend import Backend
from .base import BackendUnavailableError, PluginError

__all__ = ["API_VERSION", "PluginInfo", "PluginManager", "manager", "backend_for", "register_plugin"]

API_VERSION = "1.0"
log = logging.getLogger("mxplug.plugins")

# Which distribution provides each well-known device type, for "install X" hints.
PROVIDERS = {"cpu": "mxplug-numpy", "gpu": "mxplug-cupy", "opencl": "mxplug-opencl"}


@dataclass
class PluginInfo:
    """What `mxplug plugins` shows for one plugin."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    status: str = "loaded"  # loaded | failed | refused | disabled
    error: str = ""  # one line
    traceback: str = ""
    backends: list[str] = field(default_factory=list)
    kernels: int = 0
    operators: int = 0


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {x.strip() for x in raw.split(",") if x.strip()}


def _check_api(name: str, module: Any) -> str:
    """'' when compatible, else the reason to refuse."""
    wanted = getattr(module, "MXPLUG_API_VERSION", None)
    if wanted is None:
        return f"declares no MXPLUG_API_VERSION (this mxplug provides API {API_VERSION})"
    try:
        w_major, w_minor = (int(x) for x in str(wanted).split(".")[:2])
        c_major, c_minor = (int(x) for x in API_VERSION.split("."))
    except ValueError:
        return f"MXPLUG_API_VERSION={wanted!r} is not of the form 'MAJOR.MINOR'"
    if w_major != c_major or w_minor > c_minor:
        return f"needs mxplug plugin API {wanted}, this mxplug provides {API_VERSION}"
    return ""


class PluginManager:
    """Loads plugins, runs their registration hooks one by one, and keeps what they registered."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("mxplug")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.backends: dict[str, Backend] = {}  # by device type
        self.backend_plugin: dict[str, str] = {}  # backend name -> plugin name
        self._trace = os.environ.get("MXPLUG_TRACE_PLUGINS", "") not in ("", "0")

    # -- loading ---------------------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        allow, deny = _env_list("MXPLUG_LOAD_PLUGINS"), _env_list("MXPLUG_DISABLE_PLUGINS") or set()
        for ep in sorted(metadata.entry_points(group="mxplug"), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                ep.name, ep.value, dist.metadata["Name"] if dist else "", dist.version if dist else ""
            )
            if ep.name in self.plugins:
                continue
            self.plugins[ep.name] = info
            if (allow is not None and ep.name not in allow) or ep.name in deny:
                info.status = "disabled"
                info.error = "disabled by MXPLUG_LOAD_PLUGINS / MXPLUG_DISABLE_PLUGINS"
                continue
            try:
                module = ep.load()
            except Exception as e:  # a broken plugin is reported, never breaks mxplug
                self._fail(info, f"import failed: {type(e).__name__}: {e}")
                continue
            self.register(module, info)

    def register(self, module: Any, info: PluginInfo) -> None:
        """Check the plugin's API version, then run its hooks (also used for in-process plugins)."""
        self.plugins[info.name] = info
        reason = _check_api(info.name, module)
        if reason:
            info.status, info.error = "refused", reason
            log.warning("mxplug plugin '%s' refused: %s", info.name, reason)
            return
        try:
            self.pm.register(module, name=info.name)
        except Exception as e:
            self._fail(info, f"registration failed: {type(e).__name__}: {e}")
            return
        self._run_hooks(module, info)

    def _fail(self, info: PluginInfo, error: str) -> None:
        info.status, info.error, info.traceback = "failed", error, traceback.format_exc()
        log.warning("mxplug plugin '%s' %s (see `mxplug plugins`)", info.name, error)

    def _run_hooks(self, module: Any, info: PluginInfo) -> None:
        from . import dispatch

        def reg_backend(backend: Backend) -> None:
            if not isinstance(backend, Backend):
                raise PluginError(f"plugin '{info.name}' registered {backend!r}, not a mxplug.backend.Backend")
            current = self.backends.get(backend.device_type)
            if current is not None and current.available:
                log.warning(
                    "device type '%s' is already served by backend '%s'; '%s' from plugin '%s' ignored",
                    backend.device_type, current.name, backend.name, info.name,
                )
                return
            self.backends[backend.device_type] = backend
            self.backend_plugin[backend.name] = info.name
            info.backends.append(backend.name)
            if self._trace:
                log.info("plugin %s: backend %s for %s", info.name, backend.name, backend.device_type)

        def reg_kernel(op, backend, fn, dtypes=None, priority=0):
            dispatch.register_kernel(op, backend, fn, dtypes=dtypes, priority=priority, plugin=info.name)
            info.kernels += 1

        def reg_operator(schema, **rules):
            from .custom import register_operator  # arrives with custom operators

            register_operator(schema, plugin=info.name, **rules)
            info.operators += 1

        for hook, callback in (
            ("mxplug_register_backends", reg_backend),
            ("mxplug_register_operators", reg_operator),
            ("mxplug_register_kernels", reg_kernel),
        ):
            # Call this plugin's own implementations one by one, so one plugin's failure stays its own.
            impls = [i for i in getattr(self.pm.hook, hook).get_hookimpls() if i.plugin is module]
            if self._trace and impls:
                log.info("calling %s.%s", info.name, hook)
            try:
                for impl in impls:
                    impl.function(register=callback)
            except Exception as e:
                self._fail(info, f"{hook} raised {type(e).__name__}: {e}")
                dispatch.forget_plugin(info.name)
                for dev, b in list(self.backends.items()):
                    if self.backend_plugin.get(b.name) == info.name:
                        del self.backends[dev]
                info.backends.clear()
                info.kernels = 0  # its kernels were forgotten above
                return

    def backend_named(self, name: str) -> Backend | None:
        for b in self.backends.values():
            if b.name == name:
                return b
        return None


_MANAGER: PluginManager | None = None
_LOCK = threading.Lock()


def manager() -> PluginManager:
    """The process-wide plugin manager, loading entry points on first call."""
    global _MANAGER
    if _MANAGER is None:
        with _LOCK:
            if _MANAGER is None:
                m = PluginManager()
                m.load_entry_points()
                _MANAGER = m
    return _MANAGER


def reset() -> PluginManager:
    """Forget every plugin and load the entry points again (tests; after installing a plugin)."""
    global _MANAGER
    from . import dispatch
    from .custom import forget_plugin_operators

    with _LOCK:
        _MANAGER = None
        dispatch.clear()
        forget_plugin_operators()
    return manager()


def register_plugin(module: Any, name: str | None = None) -> PluginInfo:
    """Register an in-process plugin (a module or object with hook functions), as an entry point would be.

    >>> import mxplug, types
    >>> plugin = types.SimpleNamespace(MXPLUG_API_VERSION="1.0")
    >>> mxplug.plugins.register_plugin(plugin, "empty").status
    'loaded'
    """
    name = name or getattr(module, "__name__", None) or repr(module)
    info = PluginInfo(name, getattr(module, "__name__", type(module).__name__), "(in-process)", "")
    manager().register(module, info)
    return info


def backend_for(ctx) -> Backend:
    """The available backend serving `ctx`'s device type, or a BackendUnavailableError saying what to install."""
    backend = manager().backends.get(ctx.device_type)
    if backend is None:
        hint = PROVIDERS.get(ctx.device_type)
        installed = ", ".join(f"{b.name}({d})" for d, b in manager().backends.items()) or "none"
        raise BackendUnavailableError(
            f"no backend serves context {ctx!r}"
            + (f": install the '{hint}' plugin" if hint else "")
            + f" (installed backends: {installed}; see `mxplug plugins`)"
        )
    if not backend.available:
        raise BackendUnavailableError(f"backend '{backend.name}' for {ctx!r} is unavailable: {backend.reason}")
    return backend
