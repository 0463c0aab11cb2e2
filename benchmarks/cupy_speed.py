"""mxplug on mx.gpu(0) (the CuPy plugin) against CuPy itself and against NumPy on the CPU, in one run.

    python benchmarks/cupy_speed.py [--json]

Cases: tiny `a + b` (1-element float32: per-call latency, mxplug's dispatch on top of CuPy's launch);
`a + b` and `exp(a)` on 10^7 float32 (throughput in GB/s moved); `dot` 4096×4096 float32 (GFLOP/s, cuBLAS),
each beside CuPy called directly and NumPy on the host. GPU timings synchronise the device before the clock
stops. Nothing here passes or fails. Without a usable GPU it says why and exits with status 2.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import mxplug as mx


def gpu_or_exit():
    """The cupy module, or exit with the backend's reason."""
    backend = mx.plugins.manager().backends.get("gpu")
    if backend is None:
        print("cupy_speed: no 'gpu' backend — install the plugin: pip install -e 'plugins/cupy[cuda12]'",
              file=sys.stderr)
        sys.exit(2)
    if not backend.available:
        print(f"cupy_speed: no usable GPU: {backend.reason}", file=sys.stderr)
        sys.exit(2)
    import cupy

    return cupy


def median_time(fn, sync=None, repeats: int = 7, number: int = 1) -> float:
    """Median seconds per call of `fn` (`sync()` runs before each clock stop, e.g. device synchronise)."""
    sync = sync or (lambda: None)
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        times.append((time.perf_counter() - t) / number)
    return sorted(times)[len(times) // 2]


def run(cp) -> dict:
    gpu = mx.gpu(0)
    sync = cp.cuda.Device(0).synchronize
    name = cp.cuda.runtime.getDeviceProperties(0)["name"]
    out: dict = {"device": name.decode() if isinstance(name, bytes) else name}

    # per-call latency
    a, b = mx.nd.ones((1,), ctx=gpu), mx.nd.ones((1,), ctx=gpu)
    ca, cb = a._data, b._data
    out["add_tiny_us"] = median_time(lambda: a + b, sync, number=2000) * 1e6
    out["add_tiny_cupy_us"] = median_time(lambda: ca + cb, sync, number=2000) * 1e6
    na, nb = np.ones((1,), "float32"), np.ones((1,), "float32")
    out["add_tiny_numpy_us"] = median_time(lambda: na + nb, number=20000) * 1e6

    # throughput: bytes read and written per call
    n = 10**7
    x, y = mx.nd.ones((n,), ctx=gpu), mx.nd.ones((n,), ctx=gpu)
    cx, cy = x._data, y._data
    hx, hy = np.ones(n, "float32"), np.ones(n, "float32")
    for name, (f_mx, f_cp, f_np, nbytes) in {
        "add_1e7": (lambda: x + y, lambda: cx + cy, lambda: hx + hy, 12 * n),
        "exp_1e7": (lambda: mx.nd.exp(x), lambda: cp.exp(cx), lambda: np.exp(hx), 8 * n),
    }.items():
        out[f"{name}_GBps"] = nbytes / median_time(f_mx, sync) / 1e9
        out[f"{name}_cupy_GBps"] = nbytes / median_time(f_cp, sync) / 1e9
        out[f"{name}_numpy_GBps"] = nbytes / median_time(f_np, repeats=3) / 1e9

    # dot through cuBLAS
    m = 4096
    rng = np.random.default_rng(0)
    host = rng.standard_normal((m, m)).astype("float32")
    p, q = mx.nd.array(host, ctx=gpu), mx.nd.array(host.T.copy(), ctx=gpu)
    flops = 2.0 * m**3
    out["dot_4096_GFLOPs"] = flops / median_time(lambda: mx.nd.dot(p, q), sync, repeats=5) / 1e9
    out["dot_4096_cupy_GFLOPs"] = flops / median_time(lambda: cp.dot(p._data, q._data), sync, repeats=5) / 1e9
    out["dot_4096_numpy_GFLOPs"] = flops / median_time(lambda: host @ host, repeats=1) / 1e9
    return out


def main() -> None:
    cp = gpu_or_exit()
    result = run(cp)
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    print(f"device: {result.pop('device')}")
    for key, value in result.items():
        print(f"{key:28s} {value:12.2f}")


if __name__ == "__main__":
    main()
