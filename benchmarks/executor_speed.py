"""Executor vs imperative: a chain of 10 elementwise operators, per context, on tiny and 10^6-element
float32 arrays. Prints time per run, per-node overhead and the speed ratio.

    .venv/bin/python benchmarks/executor_speed.py [--repeat N]

Per-node overhead = (time of the compiled program − time of the same kernel calls made directly in a
Python loop) / nodes: what the executor adds per node on top of the kernels themselves (negative: the
straight-line program is cheaper than a loop). "vs numpy" = (executor − the chain in bare NumPy) / nodes.
"launches" = kernel calls per run of the executor: backends with a fusion pass (OpenCL, CuPy) run the whole
chain as one generated kernel.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import mxplug as mx
from mxplug.bench import usable_contexts

NODES = 10


def chain(F, x):
    for i in range(NODES):
        x = x * 1.0001 if i % 2 else x + 0.5
    return x


def timeit(fn, repeat: int) -> float:
    fn()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - t) / repeat)
    return best


def measure(ctx, size: int, repeat: int) -> dict[str, float]:
    x = mx.nd.array(np.random.default_rng(0).uniform(size=size).astype("float32"), ctx=ctx)
    exe = chain(mx.sym, mx.sym.var("x")).simple_bind(ctx, grad_req="null", x=(size,))
    exe.forward(x=x)

    def imperative():
        chain(mx.nd, x).wait_to_read()

    def executor():
        exe.forward()[0].wait_to_read()

    plan = exe._plans[False]
    program, values = plan.forward.compiled, plan.values

    def program_only():
        program(values)

    steps = plan.forward.steps

    def kernels_only():  # the same kernel calls, made directly
        v = values[plan.forward.inputs[0]]
        for st in steps:
            v = st.fn(v, **st.kwargs)

    host = x.asnumpy()

    def bare_numpy():
        chain(np, host)

    t_imp, t_exe, t_np = timeit(imperative, repeat), timeit(executor, repeat), timeit(bare_numpy, repeat)
    t_prog, t_kern = timeit(program_only, repeat), timeit(kernels_only, repeat)
    return {"imperative": t_imp, "executor": t_exe, "per_node_us": (t_prog - t_kern) / len(steps) * 1e6,
            "launches": len(steps),
            "fixed_us": (t_exe - t_prog) * 1e6, "speedup": t_imp / t_exe,
            "vs_numpy_us": (t_exe - t_np) / len(steps) * 1e6}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=0)
    args = p.parse_args()
    print(f"{'context':10} {'size':>8} {'imperative':>12} {'executor':>12} {'speedup':>8} "
          f"{'per-node overhead':>18} {'fixed':>8} {'vs numpy/node':>14} {'launches':>9}")
    for ctx in usable_contexts():
        for size in (1, 10**6):
            r = measure(ctx, size, args.repeat or (2000 if size == 1 else 20))
            print(f"{ctx!r:10} {size:>8} {r['imperative'] * 1e6:>10.1f}us {r['executor'] * 1e6:>10.1f}us "
                  f"{r['speedup']:>7.2f}x {r['per_node_us']:>16.2f}us {r['fixed_us']:>6.1f}us "
                  f"{r['vs_numpy_us']:>12.2f}us {r['launches']:>9}")


if __name__ == "__main__":
    main()
