"""A quick side-by-side timing: mxplug against the NumPy floor and, when importable, PyTorch.

    mxplug bench [--ctx CTX] [--json] [--quick] [--only NAME,...] [--ops OP,...|all]
    python -m mxplug.bench ...

Each workload is timed three ways in this one process: mxplug on the chosen context, the same computation
written directly in NumPy (the floor: what the CPU costs with no framework above it), and PyTorch's eager
equivalent where `torch` imports. Ratios are mxplug's time over the other's (1.0 = as fast; 2.0 = twice as
slow). `--ops` adds every named operator's cases from `mxplug.testing.cases`, with the NumPy backend's own
kernel called directly as the floor (so the ratio is mxplug's dispatch overhead on the cpu).

Nothing here passes or fails: for tracking across commits use asv (docs/performance.md). The workloads are
shared with the asv suites in `benchmarks/`, so both measure the same thing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Workload", "WORKLOADS", "usable_contexts", "parse_context", "median_time", "median_times", "mlp_step",
           "numpy_mlp_step", "lenet_symbol", "lenet_step", "run", "main"]

Thunk = Callable[[], Any]


# -- contexts -------------------------------------------------------------------------------------------
def parse_context(text: str):
    """'cpu', 'cpu(0)', 'opencl:1' → Context."""
    from .context import Context

    dev, _, idx = str(text).strip().rstrip(")").replace(":", "(").partition("(")
    return Context(dev, int(idx or 0))


def usable_contexts() -> list:
    """cpu(0) plus device 0 of every other available backend (the contexts benchmarks run on).

    `MXPLUG_BENCH_CONTEXTS=cpu,opencl:0` restricts the list (CI, or a machine with a slow device).
    """
    import os

    from .context import cpu
    from .plugins import manager

    wanted = os.environ.get("MXPLUG_BENCH_CONTEXTS")
    if wanted:
        return [parse_context(t) for t in wanted.split(",") if t.strip()]
    contexts = [cpu()]
    for dev, backend in sorted(manager().backends.items()):
        if dev != "cpu" and backend.available and backend.num_devices() > 0:
            contexts.append(parse_context(f"{dev}(0)"))
    return contexts


# -- timing ---------------------------------------------------------------------------------------------
def median_time(fn: Thunk, repeat: int = 7, min_time: float = 0.02) -> float:
    """Median seconds per call; each of `repeat` samples loops long enough to last `min_time`."""
    return median_times([fn], repeat, min_time)[0]


def median_times(fns: Sequence[Thunk], repeat: int = 7, min_time: float = 0.02) -> list[float]:
    """`median_time` of several thunks with their samples interleaved, so that a burst of load from
    elsewhere on the machine slows all of them alike and their ratios stay meaningful."""
    numbers = [_calibrate(fn, min_time) for fn in fns]
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, number, out in zip(fns, numbers, samples, strict=True):
            out.append(_loop(fn, number) / number)
    return [sorted(s)[len(s) // 2] for s in samples]


def _calibrate(fn: Thunk, min_time: float) -> int:
    """How many calls make one sample last at least `min_time` (after a warm-up call)."""
    fn()  # warm caches (kernel resolution, allocator)
    number = 1
    while True:
        t = _loop(fn, number)
        if t >= min_time or number >= 1 << 20:
            return number
        number = max(number * 2, int(number * min_time / max(t, 1e-9)))


def _loop(fn: Thunk, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def _synced(fn: Callable[[], Any]) -> Thunk:
    """Time asynchronous devices honestly: wait for the result before the clock stops."""

    def call():
        out = fn()
        for o in out if isinstance(out, (list, tuple)) else (out,):
            if hasattr(o, "wait_to_read"):
                o.wait_to_read()
        return out

    return call


# -- workloads ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """One computation three ways. Each builder prepares inputs and returns the thunk to time."""

    name: str
    what: str
    needs: tuple[str, ...]  # mx.nd operators the mxplug version uses
    mxplug: Callable[[Any], Thunk]  # ctx -> thunk
    numpy: Callable[[], Thunk]
    torch: Callable[[Any], Thunk] | None = None  # torch module -> thunk


def _rand(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _binary_workload(name: str, what: str, shape: tuple[int, ...], op: Callable[[Any, Any], Any],
                     record: bool = False) -> Workload:  # noqa: FBT001
    a, b = _rand(shape, 0), _rand(shape, 1)

    def mx_(ctx):
        from . import autograd, nd

        x, y = nd.array(a, ctx=ctx), nd.array(b, ctx=ctx)
        if not record:
            return _synced(lambda: op(x, y))
        x.attach_grad()

        def recorded():
            with autograd.record():
                return op(x, y)

        return _synced(recorded)

    def torch_(torch):
        x, y = torch.from_numpy(a), torch.from_numpy(b)
        if record:
            x.requires_grad_(True)
        return lambda: op(x, y)

    return Workload(name, what, ("broadcast_add",), mx_, lambda: lambda: op(a, b), torch_)


def _unary_workload(name: str, what: str, shape: tuple[int, ...], mx_op: str, np_fn: Callable,
                    torch_name: str | None) -> Workload:
    a = _rand(shape)

    def mx_(ctx):
        from . import nd

        fn, x = getattr(nd, mx_op), nd.array(a, ctx=ctx)
        return _synced(lambda: fn(x))

    def torch_(torch):
        fn, x = getattr(torch, torch_name), torch.from_numpy(a)
        return lambda: fn(x)

    return Workload(name, what, (mx_op,), mx_, lambda: lambda: np_fn(a), torch_ if torch_name else None)


def _dot_workload(n: int) -> Workload:
    a, b = _rand((n, n), 0), _rand((n, n), 1)

    def mx_(ctx):
        from . import nd

        x, y = nd.array(a, ctx=ctx), nd.array(b, ctx=ctx)
        return _synced(lambda: nd.dot(x, y))

    def torch_(torch):
        x, y = torch.from_numpy(a), torch.from_numpy(b)
        return lambda: torch.matmul(x, y)

    return Workload(f"dot_{n}", f"dot of two {n}x{n} float32 matrices", ("dot",), mx_, lambda: lambda: a @ b,
                    torch_)


# The MLP of the training benchmarks: 784-256-256-10, ReLU, squared error, plain SGD, batch 64.
MLP_SIZES = (784, 256, 256, 10)


def _mlp_data(batch: int, sizes: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        params.append((rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype("float32"))
        params.append(np.zeros((1, fan_out), "float32"))
    x = rng.standard_normal((batch, sizes[0])).astype("float32")
    y = rng.standard_normal((batch, sizes[-1])).astype("float32")
    return params, x, y


def mlp_step(ctx: Any = None, batch: int = 64, sizes: Sequence[int] = MLP_SIZES, lr: float = 0.01) -> Thunk:
    """One mxplug training step (forward, backward, SGD update) of an MLP built from dot + relu.

    >>> step = mlp_step(batch=4, sizes=(8, 4, 2))
    >>> float(step().asscalar()) > 0
    True
    """
    from . import autograd, nd

    host, hx, hy = _mlp_data(batch, sizes)
    params = [nd.array(p, ctx=ctx) for p in host]
    for p in params:
        p.attach_grad()
    x, y = nd.array(hx, ctx=ctx), nd.array(hy, ctx=ctx)
    layers = len(params) // 2

    def step():
        with autograd.record():
            h = x
            for i in range(layers):
                h = nd.dot(h, params[2 * i]) + params[2 * i + 1]
                if i < layers - 1:
                    h = nd.relu(h)
            d = h - y
            loss = nd.sum(d * d) / batch
        loss.backward()
        for p in params:
            p -= lr * p.grad
        loss.wait_to_read()
        return loss

    return step


def lenet_symbol():
    """LeNet-5 as MXNet's examples build it: two conv/relu/max-pool stages, two dense layers, softmax output."""
    from . import sym

    h = sym.var("data")
    for i, filters in enumerate((20, 50), start=1):
        h = sym.Convolution(h, kernel=(5, 5), num_filter=filters, name=f"conv{i}")
        h = sym.Activation(h, act_type="relu", name=f"relu{i}")
        h = sym.Pooling(h, kernel=(2, 2), stride=(2, 2), pool_type="max", name=f"pool{i}")
    h = sym.FullyConnected(sym.Flatten(h), num_hidden=500, name="fc1")
    h = sym.FullyConnected(sym.Activation(h, act_type="relu"), num_hidden=10, name="fc2")
    return sym.SoftmaxOutput(h, name="softmax")


def _lenet_data(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch).astype(np.float32)


def _init_params(shapes: dict, seed: int = 1) -> dict[str, np.ndarray]:
    """Xavier-uniform weights, zero biases: deterministic, so every run trains the same network."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes.items():
        if name.endswith("_weight"):
            fan_in, fan_out = int(np.prod(shape[1:])), shape[0] * int(np.prod(shape[2:]))
            bound = float(np.sqrt(6.0 / (fan_in + fan_out)))
            out[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
        else:
            out[name] = np.zeros(shape, np.float32)
    return out


def lenet_step(ctx: Any = None, batch: int = 64, lr: float = 0.01, mode: str = "imperative") -> Thunk:
    """One LeNet training step (forward, backward, SGD update) returning the cross-entropy loss.

    ``mode='imperative'`` runs `mx.nd` operators under `autograd.record`; ``'executor'`` binds the same
    symbol once (`simple_bind`) and runs its compiled forward/backward plans.
    """
    from . import autograd, nd

    net = lenet_symbol()
    hx, hy = _lenet_data(batch)
    arg_shapes, _, _ = net.infer_shape(data=hx.shape, softmax_label=hy.shape)
    shapes = {n: s for n, s in zip(net.list_arguments(), arg_shapes, strict=True) if n not in ("data", "softmax_label")}
    params = {n: nd.array(v, ctx=ctx) for n, v in _init_params(shapes).items()}
    x, y = nd.array(hx, ctx=ctx), nd.array(hy, ctx=ctx)

    def loss_of(prob):
        return -nd.mean(nd.log(nd.pick(prob, y, axis=1) + 1e-12))

    if mode == "executor":
        exe = net.simple_bind(ctx, data=hx.shape, softmax_label=hy.shape)
        exe.copy_params_from(params)
        exe.arg_dict["data"][:] = x
        exe.arg_dict["softmax_label"][:] = y
        weights = [(exe.arg_dict[n], exe.grad_dict[n]) for n in shapes]

        def step():
            prob = exe.forward(is_train=True)[0]
            exe.backward()
            for w, g in weights:
                w -= lr * g
            return loss_of(prob)

        return step
    if mode != "imperative":
        raise ValueError(f"lenet_step: mode must be 'imperative' or 'executor', got {mode!r}")
    for p in params.values():
        p.attach_grad()

    def forward():
        h = x
        for i in (1, 2):
            h = nd.Convolution(h, params[f"conv{i}_weight"], params[f"conv{i}_bias"], kernel=(5, 5),
                               num_filter=params[f"conv{i}_bias"].shape[0])
            h = nd.Pooling(nd.Activation(h, act_type="relu"), kernel=(2, 2), stride=(2, 2), pool_type="max")
        h = nd.FullyConnected(nd.Flatten(h), params["fc1_weight"], params["fc1_bias"], num_hidden=500)
        h = nd.FullyConnected(nd.Activation(h, act_type="relu"), params["fc2_weight"], params["fc2_bias"],
                              num_hidden=10)
        return nd.SoftmaxOutput(h, y)

    def step():
        with autograd.record():
            prob = forward()
        prob.backward()
        for p in params.values():
            p -= lr * p.grad
        return loss_of(prob)

    return step


def numpy_mlp_step(batch: int = 64, sizes: Sequence[int] = MLP_SIZES, lr: float = 0.01) -> Thunk:
    """The same step written directly in NumPy with a hand-derived backward pass: the floor."""
    params, x, y = _mlp_data(batch, sizes)
    layers = len(params) // 2

    def step():
        acts = [x]
        for i in range(layers):
            z = acts[-1] @ params[2 * i] + params[2 * i + 1]
            acts.append(np.maximum(z, 0) if i < layers - 1 else z)
        d = acts[-1] - y
        g = 2 * d / batch
        for i in reversed(range(layers)):
            w = params[2 * i]
            gw, gb = acts[i].T @ g, g.sum(axis=0, keepdims=True)
            if i:
                g = (g @ w.T) * (acts[i] > 0)
            params[2 * i] -= lr * gw
            params[2 * i + 1] -= lr * gb
        return float((d * d).sum() / batch)

    return step


def _torch_mlp_step(torch, batch: int = 64, sizes: Sequence[int] = MLP_SIZES, lr: float = 0.01) -> Thunk:
    host, hx, hy = _mlp_data(batch, sizes)
    params = [torch.from_numpy(p).requires_grad_(True) for p in host]
    x, y = torch.from_numpy(hx), torch.from_numpy(hy)
    layers = len(params) // 2

    def step():
        h = x
        for i in range(layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < layers - 1:
                h = torch.relu(h)
        loss = ((h - y) ** 2).sum() / batch
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        return loss

    return step


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    _binary_workload("add_tiny", "a + b on 1-element float32 arrays (per-op overhead)", (1,), lambda a, b: a + b),
    _binary_workload("add_tiny_recording", "a + b on 1-element arrays while autograd records", (1,),
                     lambda a, b: a + b, record=True),
    _binary_workload("add_1m", "a + b on 10^6 float32 elements (memory bandwidth)", (1000, 1000),
                     lambda a, b: a + b),
    _unary_workload("exp_1m", "exp of 10^6 float32 elements", (1000, 1000), "exp", np.exp, "exp"),
    _unary_workload("sum_1m", "sum of 10^6 float32 elements", (1000, 1000), "sum", np.sum, "sum"),
    _unary_workload("relu_1m", "relu of 10^6 float32 elements", (1000, 1000), "relu",
                    lambda a: np.maximum(a, 0), "relu"),
    _dot_workload(256),
    _dot_workload(1024),
    Workload("mlp_step", "MLP 784-256-256-10 training step, batch 64, dot + relu + SGD",
             ("dot", "relu", "sum"), lambda ctx: mlp_step(ctx), numpy_mlp_step, _torch_mlp_step),
)}


# -- per-operator cases -----------------------------------------------------------------------------------
def _op_rows(names: Sequence[str], ctx: Any, repeat: int, min_time: float) -> list[dict]:
    """mxplug vs the NumPy backend's kernel called directly, for each case of each named operator."""
    from . import dispatch, registry
    from .context import cpu
    from .testing.cases import cases_for

    rows = []
    for name in names:
        schema = registry.get(name)
        cases = cases_for(schema)
        if not cases:
            rows.append({"case": name, "what": "no case (see mxplug.testing.cases.uncovered())"})
            continue
        for case in cases:
            arrays = case.arrays(ctx)
            row = {"case": case.label, "what": case.describe()}
            thunks = {"mxplug": _synced(lambda c=case, a=arrays: c.call(a, ctx))}
            floor = _kernel_floor(dispatch, schema, case, cpu())
            if floor is not None:
                thunks["numpy"] = floor
            times = median_times(list(thunks.values()), repeat, min_time)
            row.update({f"{peer}_us": 1e6 * t for peer, t in zip(thunks, times, strict=True)})
            rows.append(row)
    return rows


def _kernel_floor(dispatch, schema, case, ctx) -> Thunk | None:
    arrays = case.arrays(ctx)
    native = [None if a is None else a._data for a in arrays]
    dtype = next((x.dtype for x in native if x is not None), np.dtype("float32"))
    try:
        fn = dispatch.kernel_for(schema.name, ctx, dtype)
    except Exception:
        return None  # composite operators have no kernel of their own
    attrs = dict(schema.parse_attrs(dict(case.attrs)))
    if not schema.inputs and "ctx" in schema.attrs:
        attrs["ctx"] = repr(ctx)
    return lambda: fn(*native, **attrs)


# -- the command ----------------------------------------------------------------------------------------
def _import_torch():
    try:
        import torch
    except Exception:  # absent, or a broken install: the column stays empty
        return None
    return torch


def run(names: Sequence[str] | None = None, ctx: Any = None, quick: bool = False,  # noqa: FBT001
        ops: Sequence[str] = ()) -> dict:
    """Time the workloads (and operator cases); returns the JSON-able report."""
    from . import nd
    from .base import MXNetError
    from .context import cpu

    ctx = parse_context(ctx) if isinstance(ctx, str) else (ctx or cpu())
    repeat, min_time = (3, 0.005) if quick else (7, 0.02)
    torch = _import_torch()
    rows = []
    for name in list(WORKLOADS) if names is None else names:
        w = WORKLOADS[name]
        row: dict[str, Any] = {"case": w.name, "what": w.what}
        missing = [op for op in w.needs if not hasattr(nd, op)]
        if missing:
            row["skipped"] = f"operators not registered yet: {', '.join(missing)}"
            rows.append(row)
            continue
        thunks = {"numpy": w.numpy()}
        if torch is not None and w.torch is not None:
            thunks["torch"] = w.torch(torch)
        try:
            thunks = {"mxplug": w.mxplug(ctx), **thunks}
            times = median_times(list(thunks.values()), repeat, min_time)
        except MXNetError as e:  # an operator that is registered but not complete yet
            row["skipped"] = f"mxplug failed: {e}"
            rows.append(row)
            continue
        row.update({f"{peer}_us": 1e6 * t for peer, t in zip(thunks, times, strict=True)})
        rows.append(row)
    rows += _op_rows(ops, ctx, repeat, min_time)
    for row in rows:
        for peer in ("numpy", "torch"):
            if f"{peer}_us" in row and "mxplug_us" in row:
                row[f"ratio_{peer}"] = row["mxplug_us"] / row[f"{peer}_us"]
    return {
        "ctx": repr(ctx), "machine": platform.machine(), "python": platform.python_version(),
        "numpy": np.__version__, "torch": getattr(torch, "__version__", None), "unit": "us per call",
        "ratio": "mxplug time / peer time (1.0 = as fast, 2.0 = twice as slow)", "cases": rows,
    }


def _fmt(row: dict, key: str, ratio: bool = False) -> str:  # noqa: FBT001
    v = row.get(key)
    if v is None:
        return "-"
    return f"{v:.2f}x" if ratio else (f"{v:.3g}" if v < 1000 else f"{v:,.0f}")


def format_table(report: dict) -> str:
    head = ("case", "mxplug", "numpy", "x numpy", "torch", "x torch")
    lines = [(r["case"], _fmt(r, "mxplug_us"), _fmt(r, "numpy_us"), _fmt(r, "ratio_numpy", True),
              _fmt(r, "torch_us"), _fmt(r, "ratio_torch", True)) for r in report["cases"]]
    widths = [max(len(x[i]) for x in (head, *lines)) for i in range(len(head))]
    out = [f"mxplug on {report['ctx']}, times in µs per call; x = mxplug / peer (NumPy {report['numpy']}, "
           f"torch {report['torch'] or 'not importable'})"]
    for k, line in enumerate((head, *lines)):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths,
                                                                                             strict=True))))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    out += [f"{r['case']}: {r['skipped']}" for r in report["cases"] if "skipped" in r]
    return "\n".join(out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mxplug bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--ctx", default="cpu", help="context for mxplug's figures: cpu, opencl:0, gpu(0) (default cpu)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quick", action="store_true", help="fewer, shorter samples (noisier)")
    p.add_argument("--only", default="", help=f"comma-separated workloads (of: {', '.join(WORKLOADS)})")
    p.add_argument("--ops", default="", help="comma-separated operators, or 'all', to time their registry cases")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """`mxplug bench`: print the side-by-side table (or JSON); returns the exit status."""
    args = _parser().parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or None
    unknown = [n for n in names or () if n not in WORKLOADS]
    if unknown:
        print(f"mxplug bench: unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}",
              file=sys.stderr)
        return 2
    ops: list[str] = []
    if args.ops == "all":
        from .registry import all_ops

        ops = sorted(all_ops())
    elif args.ops:
        ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    if args.ops and names is None:
        names = []  # --ops alone times just the operators
    from .base import MXNetError

    try:
        report = run(names, args.ctx, args.quick, ops)
    except MXNetError as e:  # an unknown operator or context
        print(f"mxplug bench: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
