"""Reductions over any axes: the input is seen as (A, K, B) — K the reduced elements — after at most one
transposing copy (when the reduced axes are not adjacent), and folded by the `reduce_axk` template with the
operator's Reduction (identity, map, combine, final) from the table below."""

from __future__ import annotations

import math

import numpy as np

from mxplug.ops.reduce import reduced_axes, reduced_shape

from ..codegen import Reduction, View, arg_lanes, arg_match, arg_reduce, c_strides, copy_view, reduce_axk, whole
from ..runtime import CLArray

_FLOAT_MIN = {"float16": "-INFINITY", "float32": "-INFINITY", "float64": "-INFINITY",
              "int8": "CHAR_MIN", "uint8": "0", "int32": "INT_MIN", "int64": "LONG_MIN"}
_FLOAT_MAX = {"float16": "INFINITY", "float32": "INFINITY", "float64": "INFINITY",
              "int8": "CHAR_MAX", "uint8": "UCHAR_MAX", "int32": "INT_MAX", "int64": "LONG_MAX"}


def _sum_like(map_float: str = "v") -> dict[bool, Reduction]:
    return {True: Reduction("0", "acc + v", map_float, vcombine="acc + v" if map_float == "v" else ""),
            False: Reduction("0", "acc + v")}


# op: {is_float: Reduction}
TABLE: dict[str, dict[bool, Reduction]] = {
    "sum": _sum_like(),
    "mean": {f: Reduction("0", "acc + v", final="acc / count", vcombine="acc + v" if f else "") for f in (True, False)},
    "prod": {True: Reduction("1", "acc * v", vcombine="acc * v"), False: Reduction("1", "acc * v")},
    "nansum": _sum_like("(isnan(v) ? 0 : v)"),
    "nanprod": {True: Reduction("1", "acc * v", "(isnan(v) ? 1 : v)"), False: Reduction("1", "acc * v")},
}
_EXTREMA = {  # op: (comparison, table of identities)
    "max": (">", _FLOAT_MIN),
    "min": ("<", _FLOAT_MAX),
}


def _extremum(op: str, dtype: np.dtype) -> Reduction:
    cmp, ident = _EXTREMA[op]
    identity = ident[dtype.name]
    if dtype.kind == "f":  # NaN wins, as NumPy's max/min
        # Vectors: `select(acc, v, v > acc)` is one max instruction per 8 lanes; NaN is tracked beside it in a
        # mask (`vnan`), off the accumulator's dependency chain (with the NaN test inside the select, or with the
        # isgreater/isnan builtins, the fold ran at a half and a quarter of this speed).
        return Reduction(identity, f"((v {cmp} acc || isnan(v)) ? v : acc)",
                         vcombine=f"(v {cmp} acc ? v : acc)", vnan=True)
    return Reduction(identity, f"(v {cmp} acc ? v : acc)")


def _acc_type(dev, dtype: np.dtype, op: str) -> str:
    if op in _EXTREMA:
        return dev.compute_type(dtype) if dtype.kind == "f" else {"int8": "char", "uint8": "uchar", "int32": "int",
                                                                   "int64": "long"}[dtype.name]
    if dtype.kind == "f":
        return dev.compute_type(dtype)
    return "long"  # integer sums and products wrap like the input type once cast back


def as_axk(data: CLArray, axes: tuple[int, ...]) -> tuple[CLArray, int, int, int]:
    """(array, A, K, B): `data` (or a transposed copy) seen as (A, K, B) with K the axes being reduced."""
    shape = data.shape
    live = [a for a in axes if shape[a] != 1]  # size-1 axes are neither here nor there
    K = math.prod(shape[a] for a in axes)
    if not live or live == list(range(live[0], live[-1] + 1)):
        lo = live[0] if live else len(shape)
        hi = live[-1] + 1 if live else len(shape)
        kept_before = math.prod(s for i, s in enumerate(shape[:lo]) if i not in axes)
        kept_after = math.prod(s for i, s in enumerate(shape[hi:], hi) if i not in axes)
        return data, kept_before, K, kept_after
    kept = [i for i in range(len(shape)) if i not in axes]
    order = kept + list(axes)
    dev = data.device
    moved = dev.alloc(tuple(shape[i] for i in order), data.dtype)
    st = c_strides(shape)
    copy_view(dev, whole(moved), View(data, 0, tuple(st[i] for i in order)), moved.shape)
    return moved, math.prod(shape[i] for i in kept), K, 1


def reduce_to(data: CLArray, axes: tuple[int, ...], out_shape: tuple[int, ...], op: str,
              out_dtype: np.dtype | None = None, red: Reduction | None = None) -> CLArray:
    dev = data.device
    out = dev.alloc(out_shape, out_dtype or data.dtype)
    arr, A, K, B = as_axk(data, axes)
    if red is None:
        red = _extremum(op, data.dtype) if op in _EXTREMA else TABLE[op][data.dtype.kind == "f"]
    acc_t = _acc_type(dev, data.dtype, op)
    return reduce_axk(dev, out, arr, A, K, B, red, acc_t, count=K)


def axes_reduction(op: str):
    def kernel(data: CLArray, *, axis, keepdims, exclude) -> CLArray:
        attrs = {"axis": axis, "keepdims": keepdims, "exclude": exclude}
        axes = reduced_axes(op, attrs, data.ndim)
        return reduce_to(data, axes, reduced_shape(op, attrs, data.shape), op)

    kernel.__name__ = op
    return kernel


def norm(data: CLArray, *, ord, axis, out_dtype, keepdims) -> CLArray:  # noqa: A002 — MXNet's attribute name
    dev = data.device
    attrs = {"axis": axis, "keepdims": keepdims, "exclude": False}
    axes = reduced_axes("norm", attrs, data.ndim)
    # Accumulate float16 in float32 and integers in double (MXNet recommends safe accumulation).
    acc_t = dev.compute_type(data.dtype)
    red = (Reduction("0", "acc + v", "fabs(v)", vcombine="acc + v") if ord == 1
           else Reduction("0", "acc + v", "v * v", final="sqrt(acc)", vcombine="acc + v"))
    out = dev.alloc(reduced_shape("norm", attrs, data.shape), np.dtype(out_dtype or data.dtype))
    arr, A, K, B = as_axk(data, axes)
    return reduce_axk(dev, out, arr, A, K, B, red, acc_t, count=K)


def _better(op: str, dtype: np.dtype) -> str:
    cmp = ">" if op == "argmax" else "<"
    if dtype.kind == "f":  # the first NaN wins, as NumPy's argmax
        return f"(v {cmp} best) || (isnan(v) && !isnan(best))"
    return f"(v {cmp} best)"


# Arg reductions over at least this many elements run in three data-parallel passes (see `_long_arg_reduce`).
ARG_SPLIT_MIN = 8192


def _long_arg_reduce(out: CLArray, data: CLArray, A: int, K: int, B: int, op: str) -> CLArray:
    """argmax/argmin of a long K as the extremum (the vectorised fold, NaN winning as in NumPy), then the first
    position of it in each of P chunks of K (a vector scan that stops at the first match), then the least of
    those P positions: the first occurrence, as the one-pass scan gives, without a serial walk over K."""
    dev = data.device
    best = dev.alloc((A, B), data.dtype)
    extremum = "max" if op == "argmax" else "min"
    reduce_axk(dev, best, data, A, K, B, _extremum(extremum, data.dtype), _acc_type(dev, data.dtype, extremum),
               count=0)
    P = max(1, min(dev.compute_units * 8 if dev.is_cpu else 4096, K // 4096))
    firsts, P = arg_match(dev, data, best, A, K, B, P)
    i64 = np.dtype("int64")
    return reduce_axk(dev, out, firsts, A, P, B, _extremum("min", i64), "long", count=0)


def _same(dtype: np.dtype) -> str:
    """Equal values for arg reductions (NaN equals NaN: among NaNs the first position wins)."""
    return "(v == best) || (isnan(v) && isnan(best))" if dtype.kind == "f" else "(v == best)"


def arg_reduction(op: str):
    from mxplug.ops.reduce import _arg_shape

    def kernel(data: CLArray, *, axis, keepdims) -> CLArray:
        dev = data.device
        out = dev.alloc(_arg_shape(op, axis, keepdims, data.shape), data.dtype)
        if axis is None:
            A, K, B = 1, data.size, 1
        else:
            ax = axis % data.ndim
            A, K, B = math.prod(data.shape[:ax]), data.shape[ax], math.prod(data.shape[ax + 1:])
        if K >= ARG_SPLIT_MIN and data.dtype.itemsize >= 4:
            if B == 1 and dev.is_cpu:  # contiguous rows: one vectorised pass
                cmp = ">" if op == "argmax" else "<"
                return arg_lanes(dev, out, data, A, K, cmp, _better(op, data.dtype), _same(data.dtype))
            return _long_arg_reduce(out, data, A, K, B, op)
        return arg_reduce(dev, out, data, A, K, B, _better(op, data.dtype))

    kernel.__name__ = op
    return kernel


def argmax_channel(data: CLArray) -> CLArray:
    return arg_reduction("argmax")(data, axis=1, keepdims=False)


def sum_to_like(data: CLArray, like: CLArray) -> CLArray:
    pad = data.ndim - like.ndim
    axes = tuple(i for i in range(data.ndim) if i < pad or (like.shape[i - pad] == 1 and data.shape[i] != 1))
    if not axes:
        return data.device.duplicate(data, like.shape)
    return reduce_to(data, axes, like.shape, "sum")


def make_kernels() -> dict:
    table: dict = {op: axes_reduction(op) for op in (*TABLE, *_EXTREMA)}
    table.update({op: arg_reduction(op) for op in ("argmax", "argmin")})
    table.update({"argmax_channel": argmax_channel, "norm": norm, "_sum_to_like": sum_to_like})
    return table
