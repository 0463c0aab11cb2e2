"""The conformance kit for backend authors: every operator a backend has kernels for, forward against the
float64 NumPy truth and gradients against central differences, as a pass/fail table.

    mxplug check-backend toydev            # the command line
    pytest --mxplug-backend toydev         # the pytest plugin (mxplug.pytest_plugin), one test per operator
    check_backend("toydev").table()        # in Python

Inputs, shapes and attribute values come from `mxplug.testing.cases` (a small case per operator); the
forward truth is `cases.expected` (a NumPy reference, else the CPU backend in float64). The gradient check
runs the operator and its gradient formula on the backend in the tested dtype — other operators the formula
needs fall back to the CPU silently, so only what the backend itself computes is judged — and compares with
central differences of the float64 truth. Random operators are checked by shape and finiteness only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import autograd
from ..missing_kernels import fallback
from . import numeric_grad
from .cases import Case, _assert_close, cases_for, expected, run_case, why_uncovered

__all__ = ["Result", "Report", "check_backend", "check_operator", "backend_operators"]

PASS, FAIL, SKIP, NONE = "PASS", "FAIL", "SKIP", "-"
# Operators whose gradient is defined rather than derived from the forward pass: central differences
# cannot judge it (MXNet's check_numeric_gradient cannot either).
GRADIENT_BY_DEFINITION = {
    "BlockGrad": "stops the gradient (zero by definition)",
    "SoftmaxOutput": "a loss layer: its gradient ignores the head gradient",
    "LinearRegressionOutput": "a loss layer: its gradient ignores the head gradient",
    "LogisticRegressionOutput": "a loss layer: its gradient ignores the head gradient",
    "MAERegressionOutput": "a loss layer: its gradient ignores the head gradient",
    "Cast": "the case casts to float16, too coarse for central differences",
}
# Gradient tolerances by the dtype the backend computed in (relative, scaled like cases._assert_close).
_GRAD_RTOL = {np.dtype("float16"): 5e-2, np.dtype("float32"): 2e-3, np.dtype("float64"): 1e-5}


@dataclass
class Result:
    """One row of the table: an operator in one dtype."""

    op: str
    dtype: str
    forward: str = NONE
    gradient: str = NONE
    max_error: float = 0.0
    message: str = ""

    @property
    def failed(self) -> bool:
        return FAIL in (self.forward, self.gradient)


@dataclass
class Report:
    backend: str
    results: list[Result] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(r.failed for r in self.results)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.failed]

    def to_json(self) -> dict:
        return {"backend": self.backend, "passed": self.passed, "results": [asdict(r) for r in self.results]}

    def table(self) -> str:
        """The pass/fail table: OP, DTYPE, FORWARD, GRADIENT, MAX ERROR, NOTE, then a summary line."""
        rows = [["OP", "DTYPE", "FORWARD", "GRADIENT", "MAX ERROR", "NOTE"]]
        for r in self.results:
            rows.append([r.op, r.dtype, r.forward, r.gradient, f"{r.max_error:.3g}", r.message])
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join([*(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)), row[5]]).rstrip()
                 for row in rows]
        counted = [r for r in self.results if r.forward != SKIP]
        lines.append(f"backend '{self.backend}': {len(counted)} checked, "
                     f"{sum(not r.failed for r in counted)} passed, {len(self.failures)} failed, "
                     f"{len(self.results) - len(counted)} skipped")
        return "\n".join(lines)


def backend_operators(backend: str) -> list[str]:
    """The operators `backend` (a backend name) registers kernels for, sorted."""
    from .. import dispatch
    from ..plugins import manager

    manager()
    return sorted({op for (op, b), entries in dispatch._KERNELS.items() if b == backend and entries})


def _context(backend: str):
    from ..base import BackendUnavailableError
    from ..context import Context
    from ..plugins import manager

    b = manager().backend_named(backend)
    if b is None:
        installed = ", ".join(sorted(x.name for x in manager().backends.values())) or "none"
        raise BackendUnavailableError(f"no backend named '{backend}' (installed backends: {installed})")
    return Context(b.device_type, 0)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _max_error(got: Sequence[np.ndarray], want: Sequence[np.ndarray]) -> float:
    errs = [float(np.max(np.abs(g.astype("float64") - w), initial=0.0)) for g, w in zip(got, want, strict=False)
            if g.shape == w.shape]
    return max(errs, default=0.0)


def _check_forward(case: Case, ctx, dtype: np.dtype) -> tuple[str, float, str]:
    got = run_case(case, ctx, dtype)
    if case.random:
        for k, o in enumerate(got):
            if np.issubdtype(o.dtype, np.floating) and not np.isfinite(o).all():
                return FAIL, float("nan"), f"output {k} has non-finite values"
        return PASS, 0.0, "random: shape and finiteness only"
    want = expected(case)
    err = _max_error(got, want)
    if len(got) != len(want):
        return FAIL, err, f"{len(got)} outputs, expected {len(want)}"
    try:
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_close(g, w, f"output {k}")
    except AssertionError as e:
        return FAIL, err, str(e).splitlines()[0]
    return PASS, err, ""


def _check_gradient(case: Case, ctx, dtype: np.dtype, seed: int = 0) -> tuple[str, float, str]:
    from .. import ndarray as nd
    from ..context import cpu

    arrays = case.arrays(ctx, dtype)
    for i in case.grad_inputs:
        arrays[i].attach_grad()
    with autograd.record():
        outs = case.call(arrays, ctx)
    rng = np.random.default_rng(seed)
    projections = [rng.uniform(0.5, 1.5, o.shape) * rng.choice([-1.0, 1.0], o.shape) for o in outs]
    autograd.backward(outs, [nd.array(p, ctx=ctx, dtype=o.dtype) for p, o in zip(projections, outs, strict=True)])
    analytic = [arrays[i].grad.asnumpy().astype("float64") for i in case.grad_inputs]

    base = [None if x is None else np.array(x, dtype="float64" if k not in case.discrete else x.dtype)
            for k, x in enumerate(case.inputs)]

    def projected(xs: list[np.ndarray]) -> float:
        values = list(base)
        for i, x in zip(case.grad_inputs, xs, strict=True):
            values[i] = x
        args = [None if v is None else nd.array(v, ctx=cpu(), dtype=v.dtype) for v in values]
        with autograd.pause(train_mode=True):  # as under record(): BatchNorm uses the batch's statistics
            res = case.call(args, cpu())
        return float(sum((r.asnumpy().astype("float64") * p).sum() for r, p in zip(res, projections, strict=True)))

    numeric = numeric_grad(projected, [base[i] for i in case.grad_inputs])
    err = _max_error(analytic, numeric)
    rtol = _GRAD_RTOL.get(np.dtype(dtype), 1e-3)
    for k, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        atol = rtol * max(1.0, float(np.max(np.abs(n), initial=0.0)))
        bad = ~np.isclose(a, n, rtol=rtol, atol=atol)
        if a.shape != n.shape or bad.any():
            i = case.grad_inputs[k]
            return FAIL, err, f"gradient of input {i}: {int(bad.sum())} of {bad.size} elements differ from " \
                              f"central differences (rtol={rtol})"
    return PASS, err, ""


def check_operator(op: str, backend: str, dtype="float32") -> Result:
    """Check one operator on a backend in one dtype (the kernel must handle that dtype)."""
    from ..registry import get

    schema = get(op)
    dtype = np.dtype(dtype)
    result = Result(schema.name, dtype.name)
    cases = [c for c in cases_for(schema) if c.size == "small"]
    if not cases:
        result.forward = SKIP
        result.message = f"no test case: {why_uncovered(schema) or 'none generated'}"
        return result
    case = cases[0]
    ctx = _context(backend)
    with fallback("error"):  # the operator itself must run on the backend, never on the CPU
        try:
            result.forward, result.max_error, result.message = _check_forward(case, ctx, dtype)
        except Exception as e:
            result.forward, result.message = FAIL, _first_line(e)
            return result
    if schema.name in GRADIENT_BY_DEFINITION:
        result.gradient = SKIP
        result.message = "; ".join(m for m in (result.message, GRADIENT_BY_DEFINITION[schema.name]) if m)
    elif case.grad_inputs and not case.random and schema.differentiable:
        with fallback("silent"):  # the gradient formula's other operators may fall back
            try:
                status, err, msg = _check_gradient(case, ctx, dtype)
            except Exception as e:
                status, err, msg = FAIL, float("nan"), _first_line(e)
        result.gradient = status
        result.max_error = max(result.max_error, err) if np.isfinite(err) else err
        result.message = "; ".join(m for m in (result.message, msg) if m)
    return result


def _dtypes_handled(op: str, backend: str, dtypes: Iterable[str]) -> list[str]:
    from .. import dispatch

    entries = dispatch._KERNELS.get((op, backend), [])
    return [d for d in dtypes if any(e.handles(np.dtype(d)) for e in entries)]


def check_backend(backend: str, ops: Sequence[str] | None = None, dtypes: Sequence[str] = ("float32",)) -> Report:
    """Run the kit on every operator `backend` has kernels for (or on `ops`), in each dtype its kernels take.

    >>> report = check_backend("numpy", ops=["exp", "broadcast_add"])
    >>> report.passed, [(r.op, r.forward, r.gradient) for r in report.results]
    (True, [('broadcast_add', 'PASS', 'PASS'), ('exp', 'PASS', 'PASS')])
    """
    _context(backend)  # a clear error for an unknown backend
    report = Report(backend)
    from ..registry import get

    names = backend_operators(backend) if ops is None else sorted({get(o).name for o in ops})
    for op in names:
        handled = _dtypes_handled(op, backend, dtypes)
        if not handled:
            report.results.append(Result(op, "/".join(dtypes), SKIP, NONE, 0.0,
                                         f"the kernel takes none of {', '.join(dtypes)}"))
        for dt in handled:
            report.results.append(check_operator(op, backend, dt))
    return report
