"""dot and batch_dot: every form is a (batched) M×K by K×N product of contiguous buffers, served one of two ways.

* "host": on a CPU device whose memory is the host's (PoCL, Intel/AMD CPU runtimes) the buffers are mapped —
  no copy — and NumPy's BLAS (OpenBLAS, multi-threaded, blocked for the caches) multiplies them in place.
* "kernel": the tiled `gemm` template (16×16 work-groups through local memory), for GPUs and other devices.

`MXPLUG_OPENCL_DOT=host|kernel|auto` (default auto: host where the device allows it) chooses; docs/opencl.md
has the measurements behind the default.
"""

from __future__ import annotations

import math
import os

import numpy as np

from .. import runtime
from ..codegen import View, c_strides, copy_view, gemm, map_flat, whole
from ..runtime import CLArray

STRATEGIES = ("auto", "host", "kernel")
_strategy = os.environ.get("MXPLUG_OPENCL_DOT", "auto").strip().lower() or "auto"


def set_dot_strategy(name: str) -> str:
    """Choose how dot runs ('auto', 'host' or 'kernel'); returns the previous choice."""
    global _strategy
    if name not in STRATEGIES:
        raise ValueError(f"dot strategy must be one of {STRATEGIES}, got {name!r}")
    previous, _strategy = _strategy, name
    return previous


def _use_host(dev) -> bool:
    if _strategy == "kernel":
        return False
    host_ok = dev.is_cpu and dev.unified_memory
    return host_ok or _strategy == "host"


def _host_matmul(out: CLArray, a: CLArray, b: CLArray, batch: int, M: int, N: int, K: int, ta: bool, tb: bool):
    cl = runtime.cl
    dev = out.device
    q = dev.queue
    flags = cl.map_flags
    maps, events = [], []

    def view(arr: CLArray, shape, flag):
        # Host-mapped small arrays (and host-only ones) are read in place; others are mapped, without blocking:
        # one wait below covers every map (and every command before them: the queue is in order).
        h = dev.host_view(arr) if dev.host_memory else None
        if h is not None:
            return h.reshape(shape)
        host, event = cl.enqueue_map_buffer(q, arr.buf, flag, 0, shape, arr.dtype, is_blocking=False)
        maps.append(host)
        events.append(event)
        return host

    try:
        va = view(a, (batch, K, M) if ta else (batch, M, K), flags.READ)
        vb = view(b, (batch, N, K) if tb else (batch, K, N), flags.READ)
        vo = view(out, (batch, M, N), flags.WRITE_INVALIDATE_REGION)
        if events:
            events[-1].wait()
        else:
            q.finish()
        np.matmul(va.transpose(0, 2, 1) if ta else va, vb.transpose(0, 2, 1) if tb else vb, out=vo)
    finally:
        for host in maps:
            host.base.release(q)
    return out


def matmul(out: CLArray, a: CLArray, b: CLArray, batch: int, M: int, N: int, K: int, ta: bool, tb: bool) -> CLArray:
    if out.size == 0:
        return out
    if K == 0:
        return out.device.fill(out, 0)
    if _use_host(out.device):
        return _host_matmul(out, a, b, batch, M, N, K, ta, tb)
    return gemm(out.device, out, a, b, batch, M, N, K, ta, tb)


def dot(lhs: CLArray, rhs: CLArray, *, transpose_a, transpose_b) -> CLArray:
    from mxplug.ops import TensorSpec, rules

    spec = rules("dot").infer({"transpose_a": transpose_a, "transpose_b": transpose_b},
                              TensorSpec(lhs.shape, lhs.dtype), TensorSpec(rhs.shape, rhs.dtype))
    if transpose_a:
        K, M = lhs.shape[0], math.prod(lhs.shape[1:])
    else:
        M, K = math.prod(lhs.shape[:-1]), lhs.shape[-1]
    N = math.prod(rhs.shape[:-1]) if transpose_b else math.prod(rhs.shape[1:])
    out = lhs.device.alloc(spec.shape, lhs.dtype)
    # A 1-D operand is a row (lhs) or a column (rhs): transposing it changes nothing.
    ta, tb = transpose_a and lhs.ndim > 1, transpose_b and rhs.ndim > 1
    return matmul(out, lhs, rhs, 1, M, N, K, ta, tb)


def batch_dot(lhs: CLArray, rhs: CLArray, *, transpose_a, transpose_b) -> CLArray:
    batch = math.prod(lhs.shape[:-2])
    M, K = (lhs.shape[-1], lhs.shape[-2]) if transpose_a else lhs.shape[-2:]
    N = rhs.shape[-2] if transpose_b else rhs.shape[-1]
    out = lhs.device.alloc(lhs.shape[:-2] + (M, N), lhs.dtype)
    return matmul(out, lhs, rhs, batch, M, N, K, transpose_a, transpose_b)


def _moved(arr: CLArray, src: int, dst: int) -> CLArray:
    """A contiguous copy of `arr` with axis `src` moved to position `dst` (`arr` itself when they agree)."""
    if src == dst:
        return arr
    order = [i for i in range(arr.ndim) if i != src]
    order.insert(dst, src)
    st = c_strides(arr.shape)
    out = arr.device.alloc(tuple(arr.shape[i] for i in order), arr.dtype)
    copy_view(arr.device, whole(out), View(arr, 0, tuple(st[i] for i in order)), out.shape)
    return out


def linalg_gemm2(A: CLArray, B: CLArray, *, transpose_a, transpose_b, alpha, axis) -> CLArray:
    """alpha * op(A) @ op(B) over matrices with rows along `axis` and columns along the last axis: moved so the
    rows are second-last (a copy unless axis is -2), one batched product (the dot strategy), moved back."""
    dev = A.device
    last = A.ndim - 2
    axis = axis % A.ndim
    a, b = _moved(A, axis, last), _moved(B, axis, last)
    M, K = (a.shape[-1], a.shape[-2]) if transpose_a else a.shape[-2:]
    N = b.shape[-2] if transpose_b else b.shape[-1]
    out = dev.alloc(a.shape[:-2] + (M, N), A.dtype)
    matmul(out, a, b, math.prod(a.shape[:-2]), M, N, K, transpose_a, transpose_b)
    if alpha != 1.0:  # in place, in the dtype (alpha rounded to it, as the reference)
        w = dev.compute_type(A.dtype)
        map_flat(dev, out, [("x", out, w)], "x * s", scalars=[("s", w, float(alpha))], vec=True)
    return _moved(out, last, axis)


def linalg_gemm(A: CLArray, B: CLArray, C: CLArray, *, transpose_a, transpose_b, alpha, beta, axis) -> CLArray:
    out = linalg_gemm2(A, B, transpose_a=transpose_a, transpose_b=transpose_b, alpha=alpha, axis=axis)
    w = out.device.compute_type(out.dtype)
    return map_flat(out.device, out, [("o", out, w), ("c", C, w)], "o + c * s", scalars=[("s", w, float(beta))])


def explain(ctx, dtype) -> str:
    """`mx.explain`'s note for dot/batch_dot on `ctx`: which product strategy runs there."""
    from .. import BACKEND

    dev = BACKEND.device_named(str(ctx))
    if _use_host(dev):
        return (f"NumPy's BLAS on the mapped buffers (MXPLUG_OPENCL_DOT={_strategy}; 'kernel' runs the tiled "
                "OpenCL GEMM instead)")
    return f"the tiled OpenCL GEMM kernel (MXPLUG_OPENCL_DOT={_strategy})"


for _fn in (dot, batch_dot, linalg_gemm2, linalg_gemm):
    _fn.mxplug_explain = explain


def make_kernels() -> dict:
    return {"dot": dot, "batch_dot": batch_dot, "linalg_gemm2": linalg_gemm2, "linalg_gemm": linalg_gemm}
