"""Creation kernels: arrays built from attributes alone (no inputs)."""

from __future__ import annotations

import math


def make_kernels(xp) -> dict:
    def arange(*, start, stop, step, repeat, infer_range, ctx, dtype):
        if stop is None:
            start, stop = 0.0, start
        n = max(0, math.ceil((stop - start) / step))
        # MXNet computes start + (i // repeat) * step in the output dtype, with start and step cast to it
        # first (so an int32 arange with step 0.5 repeats its start). float16 is computed in float32: MXNet
        # 1.9's float16 arange returns zeros.
        work = "float32" if str(dtype) == "float16" else dtype
        index = (xp.arange(n * repeat) // repeat).astype(work)
        first, stride = xp.asarray(start).astype(work), xp.asarray(step).astype(work)
        return (first + index * stride).astype(dtype)

    def linspace(*, start, stop, num, endpoint, ctx, dtype):
        # MXNet: start + i * step in double, then cast (the last value need not be exactly `stop`).
        step = (stop - start) / (num - 1 if endpoint else num) if num > 1 else 0.0
        return (start + xp.arange(num, dtype="float64") * step).astype(dtype)

    def full(*, shape, ctx, dtype, value):
        # Through float64 with an unsafe cast, as MXNet's static_cast: -1 → 255 for uint8, 2.7 → 2 for int32.
        return xp.full(shape, value, dtype="float64").astype(dtype)

    return {
        "_zeros": lambda *, shape, ctx, dtype: xp.zeros(shape, dtype=dtype),
        "_ones": lambda *, shape, ctx, dtype: xp.ones(shape, dtype=dtype),
        "_full": full,
        "_arange": arange,
        "_eye": lambda *, N, M, k, ctx, dtype: xp.eye(N, M or N, k, dtype=dtype),
        "_linspace": linspace,
    }
