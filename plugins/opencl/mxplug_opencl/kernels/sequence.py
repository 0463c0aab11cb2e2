"""SequenceMask, SequenceLast (and its gradient) and SequenceReverse on the device.

Data is seen as (T, N, R) for axis=0 or (N, T, R) for axis=1 — steps, sequences, the trailing axes flattened —
and each kernel is one work-item per (row, r) element. Lengths arrive in any dtype and are truncated toward zero,
then clipped (MXNet casts them to an index type), exactly as the NumPy reference kernels do: to [0, T] for the
mask and the reversal, to [1, T] for the last step.
"""

from __future__ import annotations

import math

import numpy as np
from mako.template import Template

from ..runtime import CTYPES, CLArray

_I64 = np.int64

# `at(t, n)`: the offset of element (step t, sequence n, r) in the axis's layout; `length(n, low)`: sequence n's
# length, truncated and clipped to [low, T] (T without use_sequence_length).
_SEQ = Template("""
% if kind == "mask":
__kernel void seq(__global ${t}* out, __global const ${t}* data, __global const ${lt}* len, long T, long N, long R,
                  int use_len, ${t} value)
{
    long row = get_global_id(0), r = get_global_id(1);
    long t = ${"row / N" if axis == 0 else "row % T"}, n = ${"row % N" if axis == 0 else "row / T"};
    out[${at("t", "n")}] = t < ${length("n", 0)} ? data[${at("t", "n")}] : value;
}
% elif kind == "reverse":
__kernel void seq(__global ${t}* out, __global const ${t}* data, __global const ${lt}* len, long T, long N, long R,
                  int use_len)
{
    long row = get_global_id(0), r = get_global_id(1);
    long t = row / N, n = row % N;
    long L = ${length("n", 0)};
    out[${at("t", "n")}] = data[${at("t < L ? L - 1 - t : t", "n")}];
}
% elif kind == "last":
__kernel void seq(__global ${t}* out, __global const ${t}* data, __global const ${lt}* len, long T, long N, long R,
                  int use_len)
{
    long n = get_global_id(0), r = get_global_id(1);
    out[n * R + r] = data[${at(length("n", 1) + " - 1", "n")}];
}
% else:
__kernel void seq(__global ${t}* out, __global const ${t}* og, __global const ${lt}* len, long T, long N, long R,
                  int use_len)
{
    // SequenceLast's gradient: out (data's shape) is zero-filled first; each sequence's last step takes og.
    long n = get_global_id(0), r = get_global_id(1);
    out[${at(length("n", 1) + " - 1", "n")}] = og[n * R + r];
}
% endif
""")


def _launch(kind: str, out: CLArray, src: CLArray, seq_len: CLArray | None, axis: int, T: int, N: int, R: int,
            grid: tuple[int, int], *extra) -> CLArray:
    dev = out.device
    if not all(grid):
        return out
    t = CTYPES[src.dtype.name]
    lt = CTYPES[(seq_len if seq_len is not None else src).dtype.name]
    key = ("sequence", kind, t, lt, axis)

    def at(step: str, n: str) -> str:
        return f"(({step}) * N + ({n})) * R + r" if axis == 0 else f"(({n}) * T + ({step})) * R + r"

    def length(n: str, low: int) -> str:
        return f"(use_len ? clamp((long)len[{n}], (long){low}, T) : T)"

    def render():
        scalars = [np.dtype(src.dtype)] if kind == "mask" else []
        return (_SEQ.render(kind=kind, t=t, lt=lt, axis=axis, at=at, length=length), "seq",
                [None, None, None, _I64, _I64, _I64, np.int32, *scalars])

    lengths = seq_len if seq_len is not None else src  # not read without use_sequence_length
    dev.launch(dev.kernel(key, render), grid, None, out.buf, src.buf, lengths.buf, T, N, R,
               int(seq_len is not None), *extra)
    return out


def _layout(data: CLArray, axis: int) -> tuple[int, int, int]:
    T, N = (data.shape[0], data.shape[1]) if axis == 0 else (data.shape[1], data.shape[0])
    return T, N, math.prod(data.shape[2:])


def sequence_mask(data: CLArray, sequence_length: CLArray | None = None, *, use_sequence_length, value,
                  axis) -> CLArray:
    dev = data.device
    if not use_sequence_length:
        return dev.duplicate(data)
    T, N, R = _layout(data, axis)
    with np.errstate(all="ignore"):
        fill = np.array(value).astype(data.dtype).item()  # MXNet's cast of the value to the data's type
    out = dev.alloc(data.shape, data.dtype)
    return _launch("mask", out, data, sequence_length, axis, T, N, R, (T * N, R), fill)


def sequence_reverse(data: CLArray, sequence_length: CLArray | None = None, *, use_sequence_length,
                     axis) -> CLArray:
    T, N, R = _layout(data, 0)
    out = data.device.alloc(data.shape, data.dtype)
    return _launch("reverse", out, data, sequence_length if use_sequence_length else None, 0, T, N, R, (T * N, R))


def sequence_last(data: CLArray, sequence_length: CLArray | None = None, *, use_sequence_length, axis) -> CLArray:
    T, N, R = _layout(data, axis)
    out = data.device.alloc((N, *data.shape[2:]), data.dtype)
    return _launch("last", out, data, sequence_length if use_sequence_length else None, axis, T, N, R, (N, R))


def sequence_last_backward(ograd: CLArray, data: CLArray, sequence_length: CLArray | None = None, *,
                           use_sequence_length, axis) -> CLArray:
    dev = data.device
    T, N, R = _layout(data, axis)
    out = dev.fill(dev.alloc(data.shape, ograd.dtype), 0)
    return _launch("last_grad", out, ograd, sequence_length if use_sequence_length else None, axis, T, N, R, (N, R))


def make_kernels() -> dict:
    return {"SequenceMask": sequence_mask, "SequenceReverse": sequence_reverse, "SequenceLast": sequence_last,
            "_backward_SequenceLast": sequence_last_backward}
