"""Tiny elementwise operators on the host, for CPU devices whose small arrays the host reaches directly.

On PoCL, enqueueing one kernel costs 2-4 µs of driver work before anything runs, and the runtime's worker
threads then compete with Python for the same cores; NumPy adds two 4-element arrays in 0.4 µs. So on a device
whose small arrays live in host-mapped memory (`Device.host_memory`, see runtime.py), an elementwise operator
(unary, binary with broadcasting, array ⊕ scalar) whose inputs and output have at most `HOST_MAX_ELEMENTS`
elements runs the NumPy plugin's body — MXNet's semantics, the reference every backend is tested against — on
the host views of its inputs, after waiting for the queue. Its result stays on the host until a kernel needs
it (`CLArray.buf` then copies it into a mapped buffer). It is the same processor either way: nothing leaves
the device, and larger arrays, other operators and other devices always run the generated kernels.

`MXPLUG_OPENCL_SMALL_OPS=host|kernel` (default host where the device allows it) or `set_small_ops_strategy()`
chooses; `benchmarks/opencl_speed.py` prints both, and docs/opencl.md has the figures behind the threshold.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..runtime import CLArray, Device

STRATEGIES = ("host", "kernel")
# Up to here NumPy on one core beats a launch (enqueue + worker wake-up); measured in docs/opencl.md.
HOST_MAX_ELEMENTS = 4096

_strategy = os.environ.get("MXPLUG_OPENCL_SMALL_OPS", "host").strip().lower() or "host"
if _strategy not in STRATEGIES:
    _strategy = "host"

_numpy_table: dict[str, Any] | None = None
_resolved: dict[tuple[str, np.dtype], Callable[..., Any]] = {}


def strategy() -> str:
    return _strategy


def set_small_ops_strategy(name: str) -> str:
    """Run tiny elementwise operators on the host ('host') or always as kernels ('kernel'); returns the
    previous choice. Applies to every OpenCL device at once (a device without host memory always launches)."""
    global _strategy
    if name not in STRATEGIES:
        raise ValueError(f"small-ops strategy must be one of {STRATEGIES}, got {name!r}")
    previous, _strategy = _strategy, name
    from .. import BACKEND

    for dev in BACKEND.devices:
        dev.host_ops = dev.host_memory and name == "host"
    return previous


def numpy_kernel(op: str, dtype: np.dtype) -> Callable[..., Any]:
    """The NumPy plugin's kernel of `op` for inputs of `dtype` (its table, some entries split by dtype, is
    built on first use)."""
    fn = _resolved.get((op, dtype))
    if fn is None:
        global _numpy_table
        if _numpy_table is None:
            from mxplug_numpy.kernels import elemwise

            _numpy_table = elemwise.make_kernels(np)
        entry = _numpy_table[op]
        if isinstance(entry, dict):  # {dtype names: specialised kernel, None: the general one}
            entry = next(k for names, k in entry.items() if names is None or dtype.name in names)
        fn = _resolved[(op, dtype)] = entry
    return fn


def run(dev: Device, op: str, inputs: Sequence[CLArray], **attrs: Any) -> CLArray | None:
    """`op` computed on the host over the inputs' memory, as a host-only array; None where an input is not
    reachable from the host (a large buffer), so the caller launches its kernel instead."""
    views = []
    for x in inputs:
        h = x.host if x.host is not None else dev.host_view(x)
        if h is None:
            return None
        views.append(h)
    dev.sync_host()
    res = numpy_kernel(op, views[0].dtype)(*views, **attrs)
    if type(res) is not np.ndarray:  # a 0-d input can give a NumPy scalar
        res = np.asarray(res)
    if res.base is not None or not res.flags.c_contiguous or any(res is v for v in views):
        res = np.array(res, order="C", copy=True)  # the result owns its memory: never an input's
    return CLArray.on_host(res, dev)


def explain(ctx: Any, dtype: np.dtype) -> str | None:
    """`mx.explain`'s note for an elementwise kernel on `ctx`: whether tiny inputs run on the host there."""
    from .. import BACKEND

    dev = BACKEND.device_named(str(ctx)).open()
    if dev.host_ops:
        return (f"inputs and outputs of up to {HOST_MAX_ELEMENTS} elements run on the host (the NumPy plugin's "
                "body over the device's host-mapped memory; MXPLUG_OPENCL_SMALL_OPS=kernel turns this off), "
                "larger ones as a generated kernel")
    why = ("MXPLUG_OPENCL_SMALL_OPS=kernel" if dev.host_memory
           else "the device's memory is not host-mapped")
    return f"a generated kernel at every size ({why})"
