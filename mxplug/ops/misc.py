"""Copies, casts and gradient plumbing."""

from __future__ import annotations

from ..base import ShapeError
from . import gradient, infer
from ._util import spec


@infer("_copy", "_copyto", "zeros_like", "ones_like", "BlockGrad")
def _same(attrs, data):
    return data


@gradient("_copy")
def _copy_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0]]


@gradient("_copyto")
def _copyto_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0].as_in_context(inputs[0].context)]


@gradient("BlockGrad")
def _blockgrad_grad(F, attrs, inputs, outputs, ograds):
    return [None]


@infer("Cast")
def _cast(attrs, data):
    return spec(data.shape, attrs["dtype"])


@gradient("Cast")
def _cast_grad(F, attrs, inputs, outputs, ograds):
    return [F.cast(ograds[0], dtype=inputs[0].dtype)]


@infer("_sum_to_like")
def _sum_to_like(attrs, data, like):
    a, b = data.shape, like.shape
    if len(b) > len(a) or any(y != 1 and x != y for x, y in zip(a[len(a) - len(b):], b, strict=True)):
        raise ShapeError(f"operator '_sum_to_like': {a} cannot be summed to {b}")
    return spec(b, data.dtype)


@gradient("_sum_to_like")
def _sum_to_like_grad(F, attrs, inputs, outputs, ograds):
    return [F.broadcast_like(ograds[0], inputs[0]), None]
