"""OpenCL backend speed in one run: launch latency, elementwise and reduction throughput against NumPy, and
dot through both strategies (mapped host BLAS and the tiled OpenCL GEMM), and the NN kernels (LeNet conv1
forward+backward, a LeNet training step) against the CPU backend.

    python benchmarks/opencl_speed.py [--repeat 20]

Targets (docs/opencl.md): tiny a+b <= 6 us (both small-op strategies printed); a+b and exp on 1e7 float32
>= 2x NumPy; sum >= 1x NumPy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mxplug as mx


def best(fn, repeat: int, sync=None) -> float:
    """Best wall time of one call (seconds), after a warm-up call (compilation, pool)."""
    fn()
    if sync:
        sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def per_call(fn, calls: int, sync, bursts: int = 5) -> float:
    """Mean seconds per call over a burst of `calls` (queued launches, synchronised once at the end), the best
    of `bursts` bursts (the machine's other work only ever adds time)."""
    fn()
    sync()
    times = []
    for _ in range(bursts):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / calls)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    ctx = mx.opencl(0)
    backend = mx.plugins.manager().backends["opencl"]
    dev = backend.device(0)
    sync = dev.synchronize
    print(f"device: {dev.name} ({dev.compute_units} compute units)")

    tiny_section(ctx, sync)

    n = 10_000_000
    rng = np.random.default_rng(0)
    x, y = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    X, Y = mx.nd.array(x, ctx=ctx), mx.nd.array(y, ctx=ctx)
    rows = [
        ("a+b 1e7 float32", lambda: X + Y, lambda: x + y, 12 * n),
        ("exp 1e7 float32", lambda: mx.nd.exp(X), lambda: np.exp(x), 8 * n),
        ("sum 1e7 float32", lambda: mx.nd.sum(X), lambda: x.sum(), 4 * n),
    ]
    # Two figures per row: one call waited for (includes waking the runtime's worker threads, which on a busy
    # machine costs up to ~2 ms), and the steady state of back-to-back calls (the queue kept busy).
    for label, ours, ref, nbytes in rows:
        t_one = best(ours, args.repeat, sync)
        t_cl = per_call(ours, args.repeat, sync)
        t_np = best(ref, args.repeat)
        print(f"{label}: opencl {t_cl * 1e3:.2f} ms/call pipelined ({nbytes / t_cl / 1e9:.1f} GB/s), "
              f"{t_one * 1e3:.2f} ms single; NumPy {t_np * 1e3:.2f} ms ({nbytes / t_np / 1e9:.1f} GB/s): "
              f"{t_np / t_cl:.2f}x NumPy pipelined, {t_np / t_one:.2f}x single")

    reductions_section(ctx, x, X, args.repeat, sync)

    from mxplug_opencl.kernels.linalg import set_dot_strategy

    m = 1024
    A, B = (mx.nd.array(rng.random((m, m), dtype=np.float32), ctx=ctx) for _ in range(2))
    hA, hB = A.asnumpy(), B.asnumpy()
    flops = 2 * m ** 3
    t_np = best(lambda: hA @ hB, max(3, args.repeat // 4))
    print(f"dot {m}x{m} float32: NumPy {t_np * 1e3:.1f} ms ({flops / t_np / 1e9:.0f} GFLOP/s)")
    for strategy in ("host", "kernel"):
        previous = set_dot_strategy(strategy)
        try:
            t = best(lambda: mx.nd.dot(A, B), max(3, args.repeat // 4), sync)
        finally:
            set_dot_strategy(previous)
        print(f"dot {m}x{m} float32, {strategy}: {t * 1e3:.1f} ms ({flops / t / 1e9:.0f} GFLOP/s)")

    nn_section(ctx, args.repeat, sync)


def reductions_section(ctx, x: np.ndarray, X, repeat: int, sync) -> None:
    """Every reduction family on 1e7 float32, whole and along either axis of a 1000 x 10000 view, against NumPy
    (pipelined calls; the target is >= 1x NumPy)."""
    x2, X2 = x.reshape(1000, -1), X.reshape((1000, -1))
    rows = [
        ("mean", lambda: mx.nd.mean(X), lambda: x.mean()),
        ("max", lambda: mx.nd.max(X), lambda: x.max()),
        ("min", lambda: mx.nd.min(X), lambda: x.min()),
        ("prod", lambda: mx.nd.prod(X), lambda: x.prod()),
        ("norm", lambda: mx.nd.norm(X), lambda: np.linalg.norm(x)),
        ("argmax", lambda: mx.nd.argmax(X, axis=0), lambda: x.argmax()),
        ("sum axis=1 (1000x10000)", lambda: mx.nd.sum(X2, axis=1), lambda: x2.sum(1)),
        ("sum axis=0 (1000x10000)", lambda: mx.nd.sum(X2, axis=0), lambda: x2.sum(0)),
        ("max axis=0 (1000x10000)", lambda: mx.nd.max(X2, axis=0), lambda: x2.max(0)),
    ]
    for label, ours, ref in rows:
        t_cl = per_call(ours, repeat, sync)
        t_np = best(ref, repeat)
        print(f"{label} 1e7 float32: opencl {t_cl * 1e3:.2f} ms, NumPy {t_np * 1e3:.2f} ms: {t_np / t_cl:.2f}x NumPy")


def tiny_section(ctx, sync) -> None:
    """Latency of tiny operators (4 float32) per strategy (kernels.host_ops): on the host where the device's
    small arrays are host-mapped (the default there), and as generated kernels."""
    from mxplug_opencl.kernels.host_ops import set_small_ops_strategy

    a, b = mx.nd.ones((4,), ctx=ctx), mx.nd.ones((4,), ctx=ctx)
    na, nb = np.ones(4, np.float32), np.ones(4, np.float32)
    print(f"tiny ops (4 float32; NumPy a+b {per_call(lambda: na + nb, 5000, lambda: None) * 1e6:.2f} us), "
          f"target a+b <= 6 us:")
    for strategy in ("host", "kernel"):
        previous = set_small_ops_strategy(strategy)
        try:
            add = per_call(lambda: a + b, 5000, sync)
            mul = per_call(lambda: a * 2.0, 5000, sync)
            ex = per_call(lambda: a.exp(), 5000, sync)
            read = per_call(lambda: (a + b).asnumpy(), 1000, sync)
        finally:
            set_small_ops_strategy(previous)
        print(f"  {strategy:6s}: a+b {add * 1e6:.2f} us, a*2 {mul * 1e6:.2f} us, exp(a) {ex * 1e6:.2f} us, "
              f"(a+b).asnumpy() {read * 1e6:.2f} us")


def conv_fwd_bwd(ctx, batch: int, strategy_sync=None):
    """LeNet's conv1 (batch x 1 x 28 x 28, 20 filters 5x5) forward and backward under autograd, as a thunk."""
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.random((batch, 1, 28, 28), dtype=np.float32), ctx=ctx)
    w = mx.nd.array(rng.normal(size=(20, 1, 5, 5)).astype(np.float32), ctx=ctx)
    b = mx.nd.zeros((20,), ctx=ctx)
    for p in (x, w, b):
        p.attach_grad()

    def run():
        with mx.autograd.record():
            y = mx.nd.Convolution(x, w, b, kernel=(5, 5), num_filter=20)
        y.backward()

    return run


def nn_section(ctx, repeat: int, sync) -> None:
    """NN kernels: LeNet conv1 forward+backward and a whole LeNet training step (imperative), opencl vs cpu."""
    from mxplug_opencl.kernels.linalg import set_dot_strategy

    from mxplug.bench import lenet_step

    def cpu_sync():
        mx.nd.waitall()

    for batch in (8, 64):
        t_cpu = best(conv_fwd_bwd(mx.cpu(), batch), repeat, cpu_sync)
        line = f"LeNet conv1 fwd+bwd, batch {batch}: cpu {t_cpu * 1e3:.2f} ms"
        for strategy in ("host", "kernel"):
            previous = set_dot_strategy(strategy)
            try:
                t = best(conv_fwd_bwd(ctx, batch), repeat, sync)
            finally:
                set_dot_strategy(previous)
            line += f"; opencl ({strategy} GEMM) {t * 1e3:.2f} ms"
        print(line)
    for batch in (8, 64):
        t_cl = best(lenet_step(ctx, batch=batch), max(3, repeat // 2), sync)
        t_cpu = best(lenet_step(mx.cpu(), batch=batch), max(3, repeat // 2), cpu_sync)
        print(f"LeNet training step (imperative), batch {batch}: opencl {t_cl * 1e3:.1f} ms, cpu {t_cpu * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
