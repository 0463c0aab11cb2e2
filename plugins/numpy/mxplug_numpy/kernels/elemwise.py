"""Elementwise kernels."""

from __future__ import annotations


def make_kernels(xp) -> dict:
    def scalar_op(ufunc):
        # MXNet's scalar operators compute in the array's dtype: cast the scalar first.
        return lambda data, *, scalar: ufunc(data, data.dtype.type(scalar))

    return {
        "broadcast_add": xp.add,
        "broadcast_sub": xp.subtract,
        "broadcast_mul": xp.multiply,
        "broadcast_div": xp.divide,
        "_plus_scalar": scalar_op(xp.add),
        "_mul_scalar": scalar_op(xp.multiply),
        "exp": xp.exp,
    }
