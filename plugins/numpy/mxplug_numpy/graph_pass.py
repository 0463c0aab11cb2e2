"""The NumPy backend's graph pass: elementwise steps write into planned buffers (``out=``) instead of
allocating a new array per call.

For each floating-point elementwise step (the same-dtype binary operators, the common unary ones and the
scalar forms) the pass picks where the result goes, by liveness within the program:

* in place, into an input that this program produced and that no later step (or program) reads;
* else into a buffer allocated once at plan time, taken from a pool of buffers whose values are dead.

Other steps keep their kernels, whose outputs are fresh arrays. Values that leave a program (heads, values
the backward program reads, gradients) are never overwritten within it. The results are the kernels'
bit for bit: the same NumPy ufuncs, with Python scalars as weak as the kernels pass them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mxplug.executor.plan import Plan, Program
from mxplug.executor.trace import Step

__all__ = ["numpy_buffer_pass"]

_BINARY = {
    "broadcast_add": np.add, "elemwise_add": np.add, "broadcast_sub": np.subtract, "elemwise_sub": np.subtract,
    "broadcast_mul": np.multiply, "elemwise_mul": np.multiply, "broadcast_div": np.divide,
    "elemwise_div": np.divide, "broadcast_maximum": np.maximum, "broadcast_minimum": np.minimum,
}
_UNARY = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "square": np.square, "negative": np.negative,
    "abs": np.absolute, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "sinh": np.sinh,
    "cosh": np.cosh, "log1p": np.log1p, "expm1": np.expm1, "_copy": np.copyto,
}
_SCALAR = {  # op -> (ufunc, reflected)
    "_plus_scalar": (np.add, False), "_minus_scalar": (np.subtract, False), "_rminus_scalar": (np.subtract, True),
    "_mul_scalar": (np.multiply, False), "_div_scalar": (np.divide, False), "_rdiv_scalar": (np.divide, True),
}
_FLOATS = frozenset({np.dtype("float16"), np.dtype("float32"), np.dtype("float64")})


def _writer(step: Step, out_of: Callable[[tuple], np.ndarray | None]) -> Callable | None:
    """A kernel writing step's result into ``out_of(args)`` (a planned buffer or an input), or None."""
    op = step.op
    if op in _BINARY:
        f = _BINARY[op]
        return lambda a, b: f(a, b, out=out_of((a, b)))
    if op == "_copy":
        def copy(a):
            out = out_of((a,))
            np.copyto(out, a)
            return out
        return copy
    if op in _UNARY:
        f = _UNARY[op]
        return lambda a: f(a, out=out_of((a,)))
    if op in _SCALAR:
        f, reflected = _SCALAR[op]
        s = float(step.kwargs["scalar"])
        if reflected:
            return lambda a: f(s, a, out=out_of((a,)))
        return lambda a: f(a, s, out=out_of((a,)))
    return None


def _eligible(step: Step, plan: Plan) -> bool:
    if step.op not in _BINARY and step.op not in _UNARY and step.op not in _SCALAR:
        return False
    if len(step.outputs) != 1 or any(i is None for i in step.inputs):
        return False
    out = plan.specs[step.outputs[0]]
    if step.op in _SCALAR and step.kwargs.get("is_int", True) is False:
        return False
    return out.dtype in _FLOATS and all(plan.specs[i].dtype == out.dtype for i in step.inputs)


def _rewrite(prog: Program, plan: Plan, keep: set[int]) -> int:
    """Rewrite one program's eligible steps; returns how many now write into planned memory."""
    last_use: dict[int, int] = {}
    for i, st in enumerate(prog.steps):
        for x in st.inputs:
            if x is not None:
                last_use[x] = i
    pinned = keep | set(prog.outputs) | {s for w in prog.writes for s in w[:2]} | set(plan.consts)
    pool: dict[tuple, list[np.ndarray]] = {}
    holder: dict[int, np.ndarray] = {}  # slot -> planned buffer holding its value
    owned: set[int] = set()  # slots written by rewritten steps (never views of anything else)
    rewritten = 0
    for i, st in enumerate(prog.steps):
        if _eligible(st, plan):
            out_slot = st.outputs[0]
            spec = plan.specs[out_slot]
            inplace = next((k for k, x in enumerate(st.inputs)
                            if x in owned and x not in pinned and last_use.get(x) == i
                            and plan.specs[x] == spec), None)
            if inplace is not None:
                k = inplace
                fn = _writer(st, lambda args, k=k: args[k])
                if st.inputs[k] in holder:
                    holder[out_slot] = holder.pop(st.inputs[k])
            else:
                free = pool.get((spec.shape, spec.dtype))
                buf = free.pop() if free else np.empty(spec.shape, spec.dtype)
                holder[out_slot] = buf
                fn = _writer(st, lambda args, buf=buf: buf)
            st.fn, st.kwargs = fn, {}
            owned.add(out_slot)
            st.meta["planned"] = True
            rewritten += 1
        for x in {x for x in st.inputs if x is not None}:
            if last_use.get(x) == i and x not in pinned and x in holder:
                b = holder.pop(x)
                pool.setdefault((b.shape, b.dtype), []).append(b)
    return rewritten


def numpy_buffer_pass(plan: Plan) -> Plan:
    """Plan buffers for the forward program (and the backward one, which may not touch saved values)."""
    saved = set(plan.forward.outputs)
    plan.planned_steps = _rewrite(plan.forward, plan, set(plan.head_slots) | saved)
    if plan.backward is not None:
        plan.planned_steps += _rewrite(plan.backward, plan, saved | set(plan.backward.inputs))
    return plan
