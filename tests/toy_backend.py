"""A toy in-process backend plugin for tests that need a second device type ('toy', two devices).

Its native arrays are NumPy arrays and its kernels the NumPy plugin's (optionally a subset, or extra ones),
so arrays on `mx.Context('toy', i)` behave like CPU arrays while being a distinct context: what cross-context
copies, context-mismatch errors and missing-kernel errors are tested with.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator

import numpy as np
from mxplug_numpy import NumpyBackend
from mxplug_numpy.kernels import make_all_kernels, register_table

import mxplug
from mxplug.backend import Backend


class ToyBackend(NumpyBackend):
    """NumPy memory under another device type, with two devices."""

    name = "toy"
    device_type = "toy"

    def num_devices(self) -> int:
        return 2

    check_device = Backend.check_device  # unlike the host, toy(2) does not exist


def make_plugin(keep: Callable[[str], bool] = lambda op: True, extra: dict | None = None):
    """A plugin object registering the toy backend with the NumPy kernels whose names pass `keep`, plus `extra`."""
    kernels = {op: fn for op, fn in make_all_kernels(np).items() if keep(op)}
    kernels.update(extra or {})

    @mxplug.hookimpl
    def mxplug_register_backends(register):
        register(ToyBackend())

    @mxplug.hookimpl
    def mxplug_register_kernels(register):
        register_table(register, "toy", kernels)

    return types.SimpleNamespace(
        MXPLUG_API_VERSION="1.0",
        mxplug_register_backends=mxplug_register_backends,
        mxplug_register_kernels=mxplug_register_kernels,
    )


@contextlib.contextmanager
def installed(**kwargs) -> Iterator[mxplug.Context]:
    """Register the toy plugin for the duration of a `with` block; yields toy(0). Plugins are reset after."""
    mxplug.plugins.register_plugin(make_plugin(**kwargs), "toy")
    try:
        yield mxplug.Context("toy", 0)
    finally:
        mxplug.plugins.reset()
