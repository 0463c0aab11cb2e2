"""Throwaway plugin distributions for tests: a module plus a ``*.dist-info`` on a temporary sys.path entry.

importlib.metadata finds a directory holding ``<name>.dist-info/{METADATA,entry_points.txt}`` exactly as it
finds an installed wheel, so the plugin manager loads these through the real entry-point machinery.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import mxplug

# The start of most test plugins: a numpy-backed Backend for a device type of the test's choosing.
BACKEND_SOURCE = '''
import numpy as np
import mxplug
from mxplug.backend import Backend

MXPLUG_API_VERSION = "1.0"


class ToyArray:
    """A native array that is not a numpy array: the core may only read .shape and .dtype."""

    def __init__(self, a):
        self.a = np.array(a, copy=True)
        self.shape = self.a.shape
        self.dtype = self.a.dtype


class ToyBackend(Backend):
    name = "{backend}"
    device_type = "{device}"
    available = {available}
    reason = "{reason}"

    def num_devices(self):
        return 2

    def from_numpy(self, array, device_id):
        return ToyArray(array)

    def to_numpy(self, data):
        return np.array(data.a, copy=True)

    def empty(self, shape, dtype, device_id):
        return ToyArray(np.empty(shape, dtype))

    def copy(self, data):
        return ToyArray(data.a)

    def assign(self, dst, src):
        np.copyto(dst.a, src.a)


@mxplug.hookimpl
def mxplug_register_backends(register):
    register(ToyBackend())
'''


def backend_source(backend: str = "toy", device: str = "toy", available: bool = True, reason: str = "") -> str:
    return BACKEND_SOURCE.format(backend=backend, device=device, available=available, reason=reason)


class PluginFactory:
    """Writes fake plugin distributions under `root` and reloads the global plugin manager to see them."""

    def __init__(self, root: Path, monkeypatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.paths: list[str] = []
        self.modules: list[str] = []

    def make(self, name: str, *sources: str, version: str = "0.1.0", dist: str | None = None,
             reload: bool = True) -> str:
        """Create distribution `dist` (default mxplug-<name>) whose entry point `name` is a new module made of
        `sources` (each dedented on its own, then joined).

        Returns the module's name (unique per test, so sys.modules never serves an older one).
        """
        dist = dist or f"mxplug-{name}"
        module = f"_mxplug_test_{name}_{len(self.paths)}_{id(self)}"
        site = self.root / f"site_{len(self.paths)}"
        site.mkdir()
        (site / f"{module}.py").write_text("\n".join(textwrap.dedent(s) for s in sources))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[mxplug]\n{name} = {module}\n")
        sys.path.insert(0, str(site))
        self.paths.append(str(site))
        self.modules.append(module)
        if reload:
            self.reload()
        return module

    def reload(self):
        """Forget every plugin and load the entry points again (what a fresh process would see)."""
        importlib.invalidate_caches()
        return mxplug.plugins.reset()

    def info(self, name: str):
        return mxplug.plugins.manager().plugins[name]

    def close(self) -> None:
        """Restore the global state: environment, sys.path, sys.modules, then the real plugins."""
        self.monkeypatch.undo()
        for path in self.paths:
            sys.path.remove(path)
        for module in self.modules:
            sys.modules.pop(module, None)
        self.reload()
