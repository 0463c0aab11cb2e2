"""The CuPy backend's kernels: the NumPy plugin's tables built over ``cupy``, plus fused CuPy kernels.

Shared: every operator's body comes from `mxplug_numpy.kernels.make_all_kernels(cupy, rng)` — one body over
``xp``, never a copy; `dot`/`batch_dot`/`linalg_gemm*` reach cuBLAS through ``cupy.dot``/``cupy.matmul``;
random kernels draw from the backend's per-device ``cupy.random.Generator``.

CuPy-specific (`FUSED`): unary operators whose shared body is a chain of ufuncs (sigmoid is exp, add and
reciprocal: three launches and two temporaries) run as one `cupy.ElementwiseKernel` for float32/float64.
They are registered with a higher priority, so they win for those dtypes and the shared body serves float16
and integers.

Device placement: with several GPUs each kernel runs with its first input's device current (creation and
sampling kernels: the device their ``ctx`` attribute names), so outputs land where the inputs live. With one
GPU that device is always current and kernels are registered bare (no wrapper on the hot path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mxplug_numpy.kernels import make_all_kernels, register_table

FUSED_DTYPES = ("float32", "float64")

# operator → CUDA body computing y from x in the element type T (MXNet's formulas; NaN behaviour as the
# shared bodies: sign(NaN) = 0, round/rint keep NaN).
FUSED = {
    "sigmoid": "y = T(1) / (T(1) + exp(-x))",
    "softsign": "y = x / (T(1) + fabs(x))",
    "rsqrt": "y = T(1) / sqrt(x)",
    "rcbrt": "y = T(1) / cbrt(x)",
    "sign": "y = x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0))",
    # MXNet's rint: the nearer of floor and ceil, ties to floor
    "rint": "T f = floor(x); T c = ceil(x); y = (x - f <= c - x) ? f : c",
    # C's round: half away from zero; x - trunc(x) is exact
    "round": "T t = trunc(x); y = fabs(x - t) >= T(0.5) ? t + copysign(T(1), x) : t",
}


def fused_kernels(cp) -> dict[str, Callable]:
    """{operator: ElementwiseKernel} (compiled on first call, per dtype, by CuPy)."""
    return {op: cp.ElementwiseKernel("T x", "T y", body, f"mxplug_{op}") for op, body in FUSED.items()}


def on_input_device(cp, fn: Callable) -> Callable:
    """Run `fn` with its first array input's device current (else the device of its ``ctx`` attribute)."""
    Device = cp.cuda.Device

    def kernel(*args, **attrs):
        for a in args:
            if a is not None:
                device = a.device
                break
        else:
            ctx = attrs.get("ctx")
            device = Device(int(ctx[ctx.index("(") + 1:-1])) if ctx else Device()
        with device:
            return fn(*args, **attrs)

    kernel.__name__ = getattr(fn, "__name__", "kernel")
    kernel.__wrapped__ = fn
    return kernel


def _map(table: dict, wrap: Callable[[Callable], Callable]) -> dict:
    """Apply `wrap` to every kernel of a table, dtype-split entries included."""
    return {
        op: {dtypes: wrap(k) for dtypes, k in fn.items()} if isinstance(fn, dict) else wrap(fn)
        for op, fn in table.items()
    }


def build_tables(cp, rng: Callable[[str | None], Any], multi_device: bool = False) -> tuple[dict, dict]:  # noqa: FBT001
    """(the shared table over `cp`, the fused overrides), device-guarded when there are several GPUs."""
    shared, fused = make_all_kernels(cp, rng), fused_kernels(cp)
    if multi_device:

        def guard(fn):
            return on_input_device(cp, fn)

        shared, fused = _map(shared, guard), _map(fused, guard)
    return shared, fused


def register_kernels(register, backend) -> None:
    """Register the shared table and the fused overrides for `backend` (a `CupyBackend`)."""
    shared, fused = build_tables(backend.cp, backend.rng_source, backend.num_devices() > 1)
    register_table(register, backend.name, shared)
    for op, fn in fused.items():
        register(op, backend.name, fn, dtypes=FUSED_DTYPES, priority=1)
