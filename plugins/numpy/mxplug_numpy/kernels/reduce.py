"""Reduction kernels."""

from __future__ import annotations


def make_kernels(xp) -> dict:
    def axes_of(data, axis, exclude):
        if axis is None:
            axes = tuple(range(data.ndim))
        else:
            axes = tuple(a % data.ndim for a in axis)
        if exclude:
            axes = tuple(i for i in range(data.ndim) if i not in axes)
        return axes

    def reduction(fn):
        def kernel(data, *, axis, keepdims, exclude):
            out = fn(data, axis=axes_of(data, axis, exclude), keepdims=keepdims)
            return out.reshape(1) if out.ndim == 0 else out

        return kernel

    return {
        "sum": reduction(lambda x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)),
    }
