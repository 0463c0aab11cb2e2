"""Elementwise operators: inference and gradients."""

from __future__ import annotations

from . import gradient, infer
from ._util import broadcast_shapes, same_dtype, spec, unbroadcast


@infer("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div")
def _broadcast_binary(attrs, lhs, rhs):
    return spec(broadcast_shapes("broadcast", lhs.shape, rhs.shape), same_dtype("broadcast", lhs, rhs))


@gradient("broadcast_add")
def _add_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    return [unbroadcast(F, g, inputs[0]), unbroadcast(F, g, inputs[1])]


@gradient("broadcast_sub")
def _sub_grad(F, attrs, inputs, outputs, ograds):
    g = ograds[0]
    return [unbroadcast(F, g, inputs[0]), unbroadcast(F, -g, inputs[1])]


@gradient("broadcast_mul")
def _mul_grad(F, attrs, inputs, outputs, ograds):
    g, (a, b) = ograds[0], inputs
    return [unbroadcast(F, g * b, a), unbroadcast(F, g * a, b)]


@gradient("broadcast_div")
def _div_grad(F, attrs, inputs, outputs, ograds):
    g, (a, b) = ograds[0], inputs
    return [unbroadcast(F, g / b, a), unbroadcast(F, -g * a / (b * b), b)]


@infer("_plus_scalar", "_mul_scalar", "exp")
def _same(attrs, data):
    return data


@gradient("_plus_scalar")
def _plus_scalar_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0]]


@gradient("_mul_scalar")
def _mul_scalar_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0] * attrs["scalar"]]


@gradient("exp")
def _exp_grad(F, attrs, inputs, outputs, ograds):
    return [ograds[0] * outputs[0]]
