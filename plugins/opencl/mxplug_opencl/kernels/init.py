"""Creation, copies and casts: fills run as OpenCL fill commands, casts as a generated elementwise kernel.

`_arange`, `_eye` and `_linspace` run the NumPy plugin's host kernels and upload the result: they build
constants, never sit in a hot loop, and their float64 arithmetic must match the reference's exactly.
"""

from __future__ import annotations

import numpy as np

from ..codegen import map_flat
from ..runtime import CTYPES, CLArray


def cast(data: CLArray, *, dtype) -> CLArray:
    dev = data.device
    dtype = np.dtype(dtype)
    out = dev.alloc(data.shape, dtype)
    if dtype == data.dtype:
        dev.copy_buffer(out, data)
        return out
    if "float16" in (dtype.name, data.dtype.name) and not dev.fp16:
        # Without cl_khr_fp16 no kernel may name `half`: convert on the host (rare: float16 is storage-only here)
        return dev.upload(dev.download(data).astype(dtype))
    t_in = CTYPES[data.dtype.name]
    expr = "(x != 0)" if dtype == np.bool_ else "x"  # C's conversions: float → int truncates toward zero
    return map_flat(dev, out, [("x", data, t_in)], expr)


def copy(data: CLArray) -> CLArray:
    return data.device.duplicate(data)


def make_kernels(device_of) -> dict:
    """`device_of(ctx)` → the Device a creation operator's ctx string ('opencl(1)') names."""

    def filled(shape, ctx, dtype, value) -> CLArray:
        dev = device_of(ctx)
        return dev.fill(dev.alloc(tuple(shape), np.dtype(dtype)), value)

    def like(value):
        def kernel(data: CLArray) -> CLArray:
            return data.device.fill(data.device.alloc(data.shape, data.dtype), value)

        return kernel

    def on_host(op: str):
        # The reference plugin's host kernel (the same float64 arithmetic), uploaded once.
        from mxplug_numpy.kernels.init import make_kernels as host_kernels

        fn = host_kernels(np)[op]

        def kernel(**attrs) -> CLArray:
            return device_of(attrs["ctx"]).upload(np.asarray(fn(**attrs)))

        return kernel

    return {
        "_zeros": lambda *, shape, ctx, dtype: filled(shape, ctx, dtype, 0),
        "_ones": lambda *, shape, ctx, dtype: filled(shape, ctx, dtype, 1),
        "_full": lambda *, shape, ctx, dtype, value: filled(shape, ctx, dtype, value),
        "zeros_like": like(0),
        "ones_like": like(1),
        "_arange": on_host("_arange"),
        "_eye": on_host("_eye"),
        "_linspace": on_host("_linspace"),
        "Cast": cast,
        "_copy": copy,
        "_copyto": copy,
        "BlockGrad": copy,
    }
