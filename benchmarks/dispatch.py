"""Per-op overhead and throughput of mxplug on the CPU against NumPy, printed as ratios in one run.

    python benchmarks/dispatch.py [--json]

Cases (issue targets in brackets): tiny `a + b` on 1-element float32 arrays [≤ 1.6 µs], the same while
autograd records [≤ 3 µs], `a + b` on 10^7 float32 [≥ 90 % of NumPy's throughput], `dot` 2048×2048
float32 [≥ 95 % of NumPy]. Timings are medians of repeated runs; nothing here passes or fails.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import mxplug as mx


def median_time(fn, repeats: int = 7, number: int = 1) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t) / number)
    return sorted(times)[len(times) // 2]


def tiny_add() -> dict:
    a, b = mx.nd.ones((1,)), mx.nd.ones((1,))
    na, nb = np.ones((1,), "float32"), np.ones((1,), "float32")

    def loop_mx():
        for _ in range(10000):
            a + b

    def loop_np():
        for _ in range(10000):
            na + nb

    t_mx = median_time(loop_mx) / 10000
    t_np = median_time(loop_np) / 10000
    x = mx.nd.ones((1,))
    x.attach_grad()

    def loop_rec():
        with mx.autograd.record():
            for _ in range(10000):
                x + b

    t_rec = median_time(loop_rec) / 10000
    return {
        "add_tiny_us": t_mx * 1e6, "add_tiny_numpy_us": t_np * 1e6, "add_tiny_recording_us": t_rec * 1e6,
        "add_tiny_ratio_vs_numpy": t_mx / t_np,
    }


def big_add() -> dict:
    n = 10**7
    rng = np.random.default_rng(0)
    na, nb = rng.random(n, dtype="float32"), rng.random(n, dtype="float32")
    a, b = mx.nd.array(na), mx.nd.array(nb)
    t_mx = median_time(lambda: a + b, repeats=9)
    t_np = median_time(lambda: na + nb, repeats=9)
    gbs = lambda t: 3 * 4 * n / t / 1e9  # two reads and one write of float32
    return {"add_1e7_GBps": gbs(t_mx), "add_1e7_numpy_GBps": gbs(t_np), "add_1e7_fraction_of_numpy": t_np / t_mx}


def big_dot() -> dict:
    n = 2048
    rng = np.random.default_rng(0)
    na, nb = rng.random((n, n), dtype="float32"), rng.random((n, n), dtype="float32")
    a, b = mx.nd.array(na), mx.nd.array(nb)
    t_mx = median_time(lambda: mx.nd.dot(a, b), repeats=5)
    t_np = median_time(lambda: na @ nb, repeats=5)
    flops = 2 * n**3
    return {"dot_2048_GFLOPs": flops / t_mx / 1e9, "dot_2048_numpy_GFLOPs": flops / t_np / 1e9,
            "dot_2048_fraction_of_numpy": t_np / t_mx}


def main() -> None:
    results = {**tiny_add(), **big_add(), **big_dot()}
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    for key, value in results.items():
        print(f"{key:32s} {value:10.3f}")


if __name__ == "__main__":
    main()
