"""Reduction kernels."""

from __future__ import annotations


def make_kernels(xp) -> dict:
    def axes_of(ndim: int, axis, exclude: bool) -> tuple[int, ...]:  # noqa: FBT001
        # MXNet 1.x: None or () reduces everything, whatever `exclude` says.
        if not axis:
            return tuple(range(ndim))
        axes = {a % ndim for a in axis}
        return tuple(i for i in range(ndim) if (i in axes) != exclude)

    def no_0d(out):
        return out.reshape(1) if out.ndim == 0 else out  # MXNet 1.x gives (1,), never 0-d

    def mean(x, axis, keepdims):
        if x.dtype.kind not in "iub":
            return xp.mean(x, axis=axis, keepdims=keepdims).astype(x.dtype, copy=False)
        # Integers: MXNet divides in the integer type, truncating toward zero (-7 / 3 → -2).
        n = 1
        for a in axis:
            n *= x.shape[a]
        s = xp.sum(x, axis=axis, keepdims=keepdims, dtype=xp.int64)
        return xp.where(s < 0, -((-s) // n), s // n).astype(x.dtype)

    def in_dtype(fn):
        return lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduction(fn):
        def kernel(data, *, axis, keepdims, exclude):
            return no_0d(fn(data, axis=axes_of(data.ndim, axis, exclude), keepdims=keepdims))

        return kernel

    def arg_reduction(fn):
        def kernel(data, *, axis, keepdims):
            return no_0d(fn(data, axis=axis, keepdims=keepdims)).astype(data.dtype)

        return kernel

    def argmax_channel(data):
        return xp.argmax(data, axis=1).astype(data.dtype)

    def norm(data, *, ord, axis, out_dtype, keepdims):  # noqa: A002 — MXNet's attribute name
        # Accumulate float16 in float32 and integers in float64 (MXNet recommends safe accumulation).
        if data.dtype.kind != "f":
            x = data.astype(xp.float64)
        else:
            x = data.astype(xp.float32, copy=False) if data.dtype == xp.float16 else data
        axes = axes_of(data.ndim, axis, False)
        if ord == 1:
            r = xp.sum(xp.abs(x), axis=axes, keepdims=keepdims)
        else:
            r = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=keepdims))
        return no_0d(r).astype(out_dtype or data.dtype)

    return {
        "sum": reduction(in_dtype(xp.sum)),
        "mean": reduction(mean),
        "max": reduction(xp.max),
        "min": reduction(xp.min),
        "prod": reduction(in_dtype(xp.prod)),
        "nansum": reduction(in_dtype(xp.nansum)),
        "nanprod": reduction(in_dtype(xp.nanprod)),
        "argmax": arg_reduction(xp.argmax),
        "argmin": arg_reduction(xp.argmin),
        "argmax_channel": argmax_channel,
        "norm": norm,
    }
