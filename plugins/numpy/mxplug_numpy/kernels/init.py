"""Creation kernels."""

from __future__ import annotations

import math


def make_kernels(xp) -> dict:
    def arange(*, start, stop, step, repeat, infer_range, ctx, dtype):
        if stop is None:
            start, stop = 0.0, start
        n = max(0, int(math.ceil((stop - start) / step)))
        # MXNet computes start + i*step in the output dtype's precision
        out = (start + xp.arange(n, dtype="float64") * step).astype(dtype)
        return xp.repeat(out, repeat) if repeat > 1 else out

    def linspace(*, start, stop, num, endpoint, ctx, dtype):
        return xp.linspace(start, stop, num, endpoint=endpoint, dtype="float64").astype(dtype)

    return {
        "_zeros": lambda *, shape, ctx, dtype: xp.zeros(shape, dtype=dtype),
        "_ones": lambda *, shape, ctx, dtype: xp.ones(shape, dtype=dtype),
        "_full": lambda *, shape, ctx, dtype, value: xp.full(shape, value, dtype=dtype),
        "_arange": arange,
        "_eye": lambda *, N, M, k, ctx, dtype: xp.eye(N, M or N, k, dtype=dtype),
        "_linspace": linspace,
    }
