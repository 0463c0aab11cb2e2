"""Generated benchmarks: one class per registered operator, from the registry and its case table.

For operator ``exp`` asv reports ``bench_ops.op_exp.time_forward`` and ``…time_forward_backward``, each
parametrized by ``size`` (the small and large case of `mxplug.testing.cases`) and ``ctx`` (cpu plus every
available non-NumPy backend). A new operator or a new plugin is tracked with nobody writing a benchmark.

Before timing, `setup` checks the result once against the float64 truth (`check_case`), so a broken kernel
fails the benchmark instead of posting a fast time. An operator without a kernel on a non-cpu backend is
skipped there (asv shows n/a); on the cpu that is a failure. Operators with no case are listed by
`mxplug.testing.cases.uncovered()`.
"""

from __future__ import annotations

import hashlib

from mxplug import autograd, fallback, registry
from mxplug.base import KernelNotFoundError
from mxplug.bench import parse_context, usable_contexts
from mxplug.testing.cases import SIZES, Case, cases_for, check_case

CONTEXTS = [repr(c) for c in usable_contexts()]


def _sync(outs: list) -> None:
    for o in outs:
        o.wait_to_read()


class _OpBenchmark:
    """The shared body; `_make` subclasses it per operator with its cases."""

    params = (list(SIZES), CONTEXTS)
    param_names = ("size", "ctx")
    # Hundreds of benchmarks, each cheap: one round (asv's default is two processes) of 3-10 samples.
    # Confirm a suspected regression with more: `asv continuous -a rounds=4 ... --bench op_exp`.
    rounds = 1
    warmup_time = 0.05
    repeat = (3, 10, 2.0)
    number = 0
    cases: dict[str, Case] = {}

    def setup(self, size: str, ctx: str) -> None:
        self.case = case = self.cases[size]
        self.ctx = parse_context(ctx)
        try:
            with fallback("error"):  # measure the backend's own kernels, never a fallback to the CPU
                check_case(case, self.ctx)
        except KernelNotFoundError as e:
            if self.ctx.device_type != "cpu":
                raise NotImplementedError(str(e)) from None  # asv: skipped on this backend
            raise RuntimeError(str(e)) from None  # the cpu backend must run every operator
        self.fn = case.function()
        self.kwargs = case.kwargs(self.ctx)
        self.arrays = case.arrays(self.ctx)
        for i in case.grad_inputs:
            self.arrays[i].attach_grad()

    def _forward(self) -> list:
        out = self.fn(*self.arrays, **self.kwargs)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def time_forward(self, size: str, ctx: str) -> None:
        _sync(self._forward())


def _time_forward_backward(self, size: str, ctx: str) -> None:
    with autograd.record():
        outs = self._forward()
    autograd.backward(outs)
    _sync([self.arrays[i].grad for i in self.case.grad_inputs])


def _make(name: str, cases: list[Case]) -> type:
    body = {
        "cases": {c.size: c for c in cases},
        # A changed case (shapes, attributes) starts a new history instead of posting a jump.
        "version": hashlib.sha1("\n".join(c.describe() for c in cases).encode()).hexdigest()[:12],
        "__doc__": f"{name}: " + "; ".join(c.describe() for c in cases),
    }
    if cases[0].grad_inputs:
        body["time_forward_backward"] = _time_forward_backward
    return type(f"op_{name}", (_OpBenchmark,), body)


def _generate() -> dict[str, type]:
    classes = {}
    for name, schema in sorted(registry.all_ops().items()):
        cases = cases_for(schema)
        if cases:
            cls = _make(name, cases)
            classes[cls.__name__] = cls
    return classes


globals().update(_generate())
