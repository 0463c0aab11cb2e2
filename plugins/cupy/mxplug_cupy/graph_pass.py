"""The CuPy backend's graph pass: each region of elementwise steps (`mxplug.executor.fusion`, shared with the
OpenCL backend) becomes one `cupy.ElementwiseKernel`, compiled by CuPy once per (code, dtype, device).

CUDA C++ overloads the math functions the expressions use for float and double, so the table is the C
expression of each operator, as in OpenCL; intermediates are computed in float (double for float64).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mxplug.executor.fusion import FusedExpr, OpExpr, fuse_plan
from mxplug.executor.plan import Plan

__all__ = ["TABLE", "cupy_fusion_pass", "operation"]

_UNARY = {"exp": "exp(x)", "log": "log(x)", "sqrt": "sqrt(x)", "square": "x * x", "negative": "-x",
          "abs": "fabs(x)", "sin": "sin(x)", "cos": "cos(x)", "tanh": "tanh(x)", "log1p": "log1p(x)",
          "expm1": "expm1(x)", "sigmoid": "1 / (1 + exp(-x))", "relu": "(isnan(x) || x > 0) ? x : 0"}
_BINARY = {  # base: (expression, broadcast name, same-shape name, scalar name, reflected scalar name)
    "add": ("a + b", "broadcast_add", "elemwise_add", "_plus_scalar", None),
    "sub": ("a - b", "broadcast_sub", "elemwise_sub", "_minus_scalar", "_rminus_scalar"),
    "mul": ("a * b", "broadcast_mul", "elemwise_mul", "_mul_scalar", None),
    "div": ("a / b", "broadcast_div", "elemwise_div", "_div_scalar", "_rdiv_scalar"),
    "power": ("pow(a, b)", "broadcast_power", "_power", "_power_scalar", "_rpower_scalar"),
}


def _table() -> dict[str, OpExpr]:
    table = {name: OpExpr(e, ("x",)) for name, e in _UNARY.items()}
    for e, bcast, same, scal, rscal in _BINARY.values():
        table[bcast] = table[same] = OpExpr(e, ("a", "b"))
        table[scal] = OpExpr(e, ("a",), "b")
        if rscal is not None:
            table[rscal] = OpExpr(e, ("b",), "a")
    return table


TABLE = _table()


def operation(expr: FusedExpr) -> tuple[str, str, str]:
    """(in_params, out_params, operation) of the ElementwiseKernel computing a fused region."""
    w = "double" if expr.dtype.name == "float64" else "float"
    ins = [f"T i{k}" for k in range(expr.n_inputs)] + [f"{w} s{k}" for k in range(len(expr.scalars))]
    outs = [f"T o{k}" for k in range(len(expr.outputs))]
    body = [f"{w} {tmp} = {code};" for tmp, code in expr.statements]
    body += [f"o{k} = (T)({tmp});" for k, tmp in enumerate(expr.outputs)]
    return ", ".join(ins), ", ".join(outs), "\n".join(body)


def make_kernel_factory(cp: Any) -> Callable[[FusedExpr], Callable]:
    kernels: dict[tuple, Any] = {}  # CuPy itself compiles each kernel once per dtype and device

    def make_kernel(expr: FusedExpr) -> Callable:
        key = expr.key()
        k = kernels.get(key)
        if k is None:
            k = kernels[key] = cp.ElementwiseKernel(*operation(expr), "mxplug_fused")
        scalars = list(expr.scalars)

        def fused(*inputs):
            with inputs[0].device:
                return k(*inputs, *scalars)  # one array, or a tuple for several outputs

        return fused

    return make_kernel


def cupy_fusion_pass(cp: Any) -> Callable[[Plan], Plan]:
    make_kernel = make_kernel_factory(cp)
    return lambda plan: fuse_plan(plan, TABLE, make_kernel)
