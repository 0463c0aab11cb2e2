"""The OpenCL backend's graph pass: each region of elementwise steps (`mxplug.executor.fusion`) becomes one
generated kernel, composed from the per-operator OpenCL C expressions of `kernels.elemwise`.

The kernel reads each external input once, keeps intermediates in registers and writes only the values that
something outside the region reads: a chain of ten operators on 10^6 floats is one launch and two passes over
memory instead of ten launches and twenty. Generated code is compiled once per (statements, dtype, device)
and kept by the device (scalars are kernel arguments, so other scalar values reuse it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mxplug.executor.fusion import FusedExpr, OpExpr, fuse_plan
from mxplug.executor.plan import Plan

from .codegen import _NP_OF, helper_source, lanes
from .kernels.elemwise import BINARY, BINARY_NAMES, UNARY
from .runtime import CTYPES, CLArray, Device

__all__ = ["TABLE", "opencl_fusion_pass", "render"]


def _table() -> dict[str, OpExpr]:
    """{operator: OpExpr} from the elementwise tables' float expressions (fusion only takes float dtypes)."""
    table = {name: OpExpr(f, ("x",), None, vec) for name, (f, _, vec) in UNARY.items()}
    for base, (bcast, same, scal, rscal) in BINARY_NAMES.items():
        f, _, vec = BINARY[base]
        table[bcast] = table[same] = OpExpr(f, ("a", "b"), None, vec)
        table[scal] = OpExpr(f, ("a",), "b", vec)
        if rscal is not None:
            table[rscal] = OpExpr(f, ("b",), "a", vec)
    return table


TABLE = _table()


def render(expr: FusedExpr, dev: Device) -> tuple[str, str, list]:
    """(OpenCL C source, kernel name, scalar argument dtypes) of a fused region on `dev`."""
    t = CTYPES[expr.dtype.name]
    w = dev.compute_type(expr.dtype)
    vec = expr.vec and w == t and dev.is_cpu
    n_out = len(expr.outputs)
    params = [f"__global {t}* o{k}" for k in range(n_out)]
    params += [f"__global const {t}* p{k}" for k in range(expr.n_inputs)]
    params += [f"{w} sa{k}" for k in range(len(expr.scalars))]
    params += ["long n", "long chunk"]

    def body(vt: str, load: Callable[[int], str], store: Callable[[int, str], str]) -> list[str]:
        lines = [f"{vt} s{k} = ({vt})(sa{k});" for k in range(len(expr.scalars))]
        lines += [f"{vt} i{k} = {load(k)};" for k in range(expr.n_inputs)]
        lines += [f"{vt} {tmp} = {code};" for tmp, code in expr.statements]
        lines += [store(k, o) for k, o in enumerate(expr.outputs)]
        return ["        " + line for line in lines]

    src = [f"__kernel void fused({', '.join(params)})", "{",
           "    long i = get_global_id(0) * chunk;", "    long e = min(i + chunk, n);"]
    if vec:
        n = lanes(w)
        src.append(f"    for (; i + {n} <= e; i += {n}) {{")
        src += body(f"{w}{n}", lambda k: f"vload{n}(0, p{k} + i)", lambda k, o: f"vstore{n}({o}, 0, o{k} + i);")
        src.append("    }")
    src.append("    for (; i < e; i++) {")
    src += body(w, lambda k: f"({w})p{k}[i]", lambda k, o: f"o{k}[i] = ({t})({o});")
    src += ["    }", "}"]
    dtypes = [None] * (n_out + expr.n_inputs) + [np.dtype(_NP_OF[w])] * len(expr.scalars) + [np.int64, np.int64]
    text = "\n".join(src) + "\n"
    return helper_source(text, dev) + text, "fused", dtypes


def make_kernel(expr: FusedExpr) -> Callable[..., CLArray | tuple[CLArray, ...]]:
    """The step function of a fused region: inputs are CLArrays of one shape; returns its output(s)."""
    key = ("fused", *expr.key())
    scalars = expr.scalars
    if expr.dtype.itemsize == 2:  # as the scalar kernels: a float16 array's scalar is rounded to half first
        scalars = [float(np.float16(s)) for s in scalars]
    n_out = len(expr.outputs)

    def fused(*inputs: CLArray):
        first = inputs[0]
        dev = first.device
        k = dev.kernel(key, lambda: render(expr, dev))
        outs = [dev.alloc(first.shape, first.dtype) for _ in range(n_out)]
        n = first.size
        groups, chunk = (1, 4096) if n <= 4096 else dev.chunking(n)
        dev.launch(k, (groups,), None, *(o.buf for o in outs), *(x.buf for x in inputs), *scalars, n, chunk)
        return outs[0] if n_out == 1 else tuple(outs)

    fused.__name__ = "fused_" + "_".join(tmp for tmp, _ in expr.statements[:1])
    return fused


def opencl_fusion_pass(plan: Plan) -> Plan:
    """Fuse elementwise regions of an executor bound on an OpenCL context (registered by the plugin)."""
    return fuse_plan(plan, TABLE, make_kernel)
