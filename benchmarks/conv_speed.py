"""Convolution and pooling speed against NumPy floors (issue #4): forward + backward of reference layers.

    .venv/bin/python benchmarks/conv_speed.py [--repeats 9] [case ...]

For each case it prints the median time of forward+backward through autograd (data, weight and bias
gradients, as /work/shared/bench/peer_time.py's conv1_fwdbwd does), the forward alone, the FLOP count (three
GEMMs of 2*F*(C*K)*(N*out) each: output, weight gradient, data gradient), the achieved GFLOP/s, NumPy's sgemm
GFLOP/s on a matmul of the forward GEMM's size measured in the same run, and their ratio (1.0 = as fast as a
bare sgemm of that size doing all the work; the im2col copies, col2im and bias are the rest).

Pooling cases (32x64x56x56) print the median forward and forward+backward times and their ratios to a NumPy
baseline on the same data: a hand-written 2x2/2 max pooling, np.maximum of the four strided slices (about the
least any pooling can do; a reshape + max over the two window axes is ~20x slower in NumPy, whose reductions
over size-2 strided axes are slow), so ratio 1.0 = as cheap as that one 2x2 max.
"""

from __future__ import annotations

import argparse
import time
from math import prod

import numpy as np

import mxplug as mx

CASES = {  # name: (data shape, num_filter, kernel, pad)
    "lenet_conv1": ((64, 1, 28, 28), 20, (5, 5), (0, 0)),
    "lenet_conv2": ((64, 20, 12, 12), 50, (5, 5), (0, 0)),
    "conv3x3_56": ((32, 64, 56, 56), 64, (3, 3), (1, 1)),
}
POOLS = {  # name: (data shape, Pooling attributes)
    "max2x2s2": ((32, 64, 56, 56), {"kernel": (2, 2), "stride": (2, 2), "pool_type": "max"}),
    "avg3x3s2p1": ((32, 64, 56, 56), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg"}),
    "max3x3s2p1": ((32, 64, 56, 56), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "max"}),
}


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def run_case(name: str, repeats: int) -> dict:
    shape, filters, kernel, pad = CASES[name]
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal(shape))
    w = mx.nd.array(rng.standard_normal((filters, shape[1], *kernel)) * 0.1)
    b = mx.nd.zeros((filters,))
    attrs = {"kernel": kernel, "pad": pad, "num_filter": filters}
    out = mx.nd.Convolution(x, w, b, **attrs)
    g = mx.nd.array(rng.standard_normal(out.shape))
    for p in (x, w, b):
        p.attach_grad()

    def forward():
        mx.nd.Convolution(x, w, b, **attrs).wait_to_read()

    def forward_backward():
        with mx.autograd.record():
            y = mx.nd.Convolution(x, w, b, **attrs)
        y.backward(g)
        x.grad.wait_to_read()
        w.grad.wait_to_read()

    t_fb = median_time(forward_backward, repeats)
    t_f = median_time(forward, repeats)
    m, k, n = filters, shape[1] * prod(kernel), shape[0] * prod(out.shape[2:])
    flops = 3 * 2 * m * k * n
    a = rng.standard_normal((m, k)).astype("float32")
    bm = rng.standard_normal((k, n)).astype("float32")
    t_gemm = median_time(lambda: np.matmul(a, bm), repeats)
    sgemm = 2 * m * k * n / t_gemm / 1e9
    achieved = flops / t_fb / 1e9
    return {"case": name, "fwd_bwd_ms": t_fb * 1e3, "fwd_ms": t_f * 1e3, "gflop": flops / 1e9,
            "gflops": achieved, "sgemm_gflops": sgemm, "ratio": achieved / sgemm,
            "floor_ms": flops / (sgemm * 1e9) * 1e3}


def run_pool(name: str, repeats: int) -> dict:
    shape, attrs = POOLS[name]
    data = np.random.default_rng(0).standard_normal(shape).astype("float32")
    x = mx.nd.array(data)
    g = mx.nd.ones_like(mx.nd.Pooling(x, **attrs))
    x.attach_grad()

    def forward():
        mx.nd.Pooling(x, **attrs).wait_to_read()

    def forward_backward():
        with mx.autograd.record():
            y = mx.nd.Pooling(x, **attrs)
        y.backward(g)
        x.grad.wait_to_read()

    def baseline():
        out = np.maximum(data[:, :, 0::2, 0::2], data[:, :, 0::2, 1::2])
        np.maximum(out, data[:, :, 1::2, 0::2], out=out)
        np.maximum(out, data[:, :, 1::2, 1::2], out=out)

    t_base = median_time(baseline, repeats)
    t_f = median_time(forward, repeats)
    t_fb = median_time(forward_backward, repeats)
    return {"case": name, "fwd_ms": t_f * 1e3, "fwd_bwd_ms": t_fb * 1e3, "base_ms": t_base * 1e3,
            "fwd_ratio": t_f / t_base, "fwd_bwd_ratio": t_fb / t_base}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("cases", nargs="*", default=[*CASES, *POOLS])
    args = parser.parse_args()
    convs = [c for c in args.cases if c in CASES]
    pools = [c for c in args.cases if c in POOLS]
    if convs:
        print(f"{'case':<12} {'fwd+bwd ms':>10} {'fwd ms':>8} {'GFLOP':>7} {'GFLOP/s':>8} {'sgemm GF/s':>10} "
              f"{'ratio':>6} {'floor ms':>8}")
    for name in convs:
        r = run_case(name, args.repeats)
        print(f"{r['case']:<12} {r['fwd_bwd_ms']:>10.2f} {r['fwd_ms']:>8.2f} {r['gflop']:>7.3f} {r['gflops']:>8.1f} "
              f"{r['sgemm_gflops']:>10.1f} {r['ratio']:>6.2f} {r['floor_ms']:>8.2f}")
    if pools:
        print(f"{'pool':<12} {'fwd ms':>8} {'fwd+bwd ms':>10} {'base ms':>8} {'fwd/base':>8} {'f+b/base':>8}")
    for name in pools:
        r = run_pool(name, args.repeats)
        print(f"{r['case']:<12} {r['fwd_ms']:>8.2f} {r['fwd_bwd_ms']:>10.2f} {r['base_ms']:>8.2f} "
              f"{r['fwd_ratio']:>8.2f} {r['fwd_bwd_ratio']:>8.2f}")


if __name__ == "__main__":
    main()
