"""Random sampling on OpenCL devices: every sampler of the registry's random family, drawn on the HOST from the
device's generator (the one Dropout's masks come from, `nn.generator`) and uploaded.

The bodies are the NumPy plugin's (`mxplug_numpy.kernels.random`: MXNet's distributions, parameter rules and
dtypes), run over host copies of the array inputs with `rng` bound to the device the operator runs on. The
generator is the CPU backend's PCG64 construction, so under one `mx.random.seed` a sampler on opencl(0) draws
the numbers the same sampler draws on the CPU. Drawing on the host is what a CPU OpenCL device would do anyway
(same cores, and small results land in host-mapped memory); on a GPU it costs one upload per call, which is
the price of streams that match the CPU's. Unlike the missing-kernel fallback, nothing is counted or warned:
these are the backend's own kernels, with their own per-device state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..runtime import CLArray, Device
from . import nn

_local = threading.local()  # the device whose generator the running kernel draws from


def _rng(ctx: str | None) -> np.random.Generator:
    # Input-less samplers name their device in `ctx`; the others run where their inputs live (set by `_host`).
    return nn.generator(_local.device_of(ctx) if ctx is not None else _local.device)


def _host(fn: Callable[..., Any], device_of: Callable[[str], Device]) -> Callable[..., Any]:
    """The NumPy body `fn` as an OpenCL kernel: array inputs read to the host, outputs uploaded to the device."""

    def kernel(*inputs: CLArray, **attrs: Any):
        dev = inputs[0].device if inputs else device_of(attrs["ctx"])
        _local.device, _local.device_of = dev, device_of
        result = fn(*(dev.download(x) for x in inputs), **attrs)
        if isinstance(result, tuple):
            return tuple(dev.upload(np.asarray(r)) for r in result)
        return dev.upload(np.asarray(result))

    kernel.__name__ = getattr(fn, "__name__", "random")
    return kernel


def make_kernels(device_of: Callable[[str], Device]) -> dict:
    """{operator: kernel} for the random family; `device_of(ctx)` resolves the samplers' ctx strings."""
    from mxplug_numpy.kernels.random import make_kernels as host_kernels

    return {op: _host(fn, device_of) for op, fn in host_kernels(np, _rng).items()}
