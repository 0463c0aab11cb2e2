"""Shape kernels (views where NumPy gives them; results are never written through by the core)."""

from __future__ import annotations

from mxplug.ops.shape import reshape_target


def make_kernels(xp) -> dict:
    def broadcast_like(lhs, rhs, *, lhs_axes, rhs_axes):
        if lhs_axes is None:
            return xp.broadcast_to(lhs, rhs.shape).copy()
        shape = list(lhs.shape)
        for a, b in zip(lhs_axes, rhs_axes, strict=True):
            shape[a % lhs.ndim] = rhs.shape[b % rhs.ndim]
        return xp.broadcast_to(lhs, tuple(shape)).copy()

    return {
        "Reshape": lambda data, *, shape, reverse: data.reshape(reshape_target(data.shape, shape, reverse)),
        "transpose": lambda data, *, axes: xp.ascontiguousarray(xp.transpose(data, axes or None)),
        "broadcast_like": broadcast_like,
    }
