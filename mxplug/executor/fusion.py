"""Elementwise fusion, the backend-independent half: find regions of fusable steps in a program, compose their
per-operator C expressions into one list of statements, and replace each region by one step.

A backend supplies a table ``{op: OpExpr}`` (the C expression of each operator it can fuse, over the variables
``x`` / ``a``, ``b``) and a `make_kernel(FusedExpr, out_specs) -> fn` that compiles the statements (OpenCL C,
CUDA C: the expressions are nearly the same) and returns the step's function; this module does the rest.

A region is a set of steps of one shape and one floating dtype, each an elementwise operator whose array
inputs all have that shape (no broadcasting) and dtype, connected by producer → consumer edges. The fused
step sits where the region's last step was, so a region stops growing once a step outside it reads one of
its values (that reader would then run before the fused step). Values of the region that something outside
reads (later steps, program outputs, gradient writes) become the fused kernel's outputs; the others live in
registers only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .plan import Plan, Program
from .trace import Step

__all__ = ["OpExpr", "FusedExpr", "Region", "find_regions", "build_expr", "fuse_program", "fuse_plan"]

FLOATS = frozenset({np.dtype("float16"), np.dtype("float32"), np.dtype("float64")})


@dataclass(frozen=True)
class OpExpr:
    """An operator as a C expression: `variables` name its array inputs in order; `scalar` names the variable
    that stands for the step's ``scalar`` attribute (None: no scalar); `vec`: valid on vector types."""

    expr: str
    variables: tuple[str, ...]
    scalar: str | None = None
    vec: bool = False


@dataclass
class FusedExpr:
    """A region as straight-line code: ``statements`` are (temporary, expression) in order, reading the
    inputs ``i0, i1, …``, scalars ``s0, s1, …`` and earlier temporaries; ``outputs`` name the temporaries
    written out (one per output slot)."""

    statements: list[tuple[str, str]]
    n_inputs: int
    scalars: list[float]
    outputs: list[str]
    dtype: np.dtype
    vec: bool

    def key(self) -> tuple:
        """What the generated code depends on (scalar values are kernel arguments, not part of it)."""
        return (tuple(self.statements), self.n_inputs, len(self.scalars), tuple(self.outputs), self.dtype.name,
                self.vec)


@dataclass
class Region:
    steps: list[int] = field(default_factory=list)  # indices into the program's steps, in order
    closed: bool = False  # a step outside reads one of its values: it may not grow any more


_VAR = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_(])")


def substitute(expr: str, names: Mapping[str, str]) -> str:
    """Replace whole-word variables (not function names, not parts of numbers) by `names`."""
    return _VAR.sub(lambda m: names.get(m.group(1), m.group(1)), expr)


def _fusable(st: Step, plan: Plan, table: Mapping[str, OpExpr]) -> bool:
    op = table.get(st.op)
    if op is None or st.side_effect or len(st.outputs) != 1 or any(i is None for i in st.inputs):
        return False
    if len(st.inputs) != len(op.variables) or (op.scalar is not None and "scalar" not in st.kwargs):
        return False
    out = plan.specs[st.outputs[0]]
    return out.dtype in FLOATS and all(plan.specs[i] == out for i in st.inputs)


def find_regions(prog: Program, plan: Plan, table: Mapping[str, OpExpr]) -> list[Region]:
    """Maximal regions (two steps or more) of fusable steps, in program order."""
    region_of: dict[int, Region] = {}  # value slot -> the region whose step produced it
    regions: list[Region] = []
    for i, st in enumerate(prog.steps):
        readers = {id(region_of[x]): region_of[x] for x in st.inputs if x in region_of}
        if not _fusable(st, plan, table):
            for r in readers.values():
                r.closed = True
            continue
        joinable = [r for r in readers.values() if not r.closed]  # a closed one stays as it is
        if joinable:
            target = joinable[0]
            for other in joinable[1:]:  # a step reading two regions merges them (a diamond's two arms)
                target.steps.extend(other.steps)
                for k in other.steps:
                    region_of[prog.steps[k].outputs[0]] = target
                regions.remove(other)
            target.steps.sort()
        else:
            target = Region()
            regions.append(target)
        target.steps.append(i)
        region_of[st.outputs[0]] = target
    return [r for r in regions if len(r.steps) > 1]


def build_expr(prog: Program, plan: Plan, region: Region, table: Mapping[str, OpExpr], live_out: set[int]
               ) -> tuple[FusedExpr, list[int], list[int]]:
    """The region's statements, its external input slots and its output slots (values read outside it)."""
    names: dict[int, str] = {}  # slot -> variable in the generated code
    inputs: list[int] = []
    scalars: list[float] = []
    statements: list[tuple[str, str]] = []
    produced = {prog.steps[k].outputs[0] for k in region.steps}
    vec = True
    for k in region.steps:
        st = prog.steps[k]
        op = table[st.op]
        bind: dict[str, str] = {}
        for var, slot in zip(op.variables, st.inputs, strict=True):
            if slot not in names:
                assert slot not in produced, "a region's step reads a value produced later in it"
                names[slot] = f"i{len(inputs)}"
                inputs.append(slot)
            bind[var] = names[slot]
        if op.scalar is not None:
            bind[op.scalar] = f"s{len(scalars)}"
            scalars.append(float(st.kwargs["scalar"]))
        tmp = names[st.outputs[0]] = f"t{len(statements)}"
        statements.append((tmp, f"({substitute(op.expr, bind)})"))
        vec = vec and op.vec
    outputs = [prog.steps[k].outputs[0] for k in region.steps if prog.steps[k].outputs[0] in live_out]
    dtype = plan.specs[outputs[0]].dtype
    return FusedExpr(statements, len(inputs), scalars, [names[s] for s in outputs], dtype, vec), inputs, outputs


def fuse_program(prog: Program, plan: Plan, table: Mapping[str, OpExpr], make_kernel: Callable[[FusedExpr], Callable],
                 keep: set[int]) -> int:
    """Replace each region of `prog` by one step running ``make_kernel(expr)``; returns the steps removed."""
    regions = find_regions(prog, plan, table)
    if not regions:
        return 0
    read_outside: dict[int, set[int]] = {}  # slot -> indices of steps reading it
    for i, st in enumerate(prog.steps):
        for x in st.inputs:
            if x is not None:
                read_outside.setdefault(x, set()).add(i)
    pinned = keep | set(prog.outputs) | {w[1] for w in prog.writes}
    replace: dict[int, Step | None] = {}
    removed = 0
    for r in regions:
        inside = set(r.steps)
        live = {prog.steps[k].outputs[0] for k in r.steps}
        live = {s for s in live if s in pinned or read_outside.get(s, set()) - inside}
        expr, ins, outs = build_expr(prog, plan, r, table, live)
        fn = make_kernel(expr)
        ops = "+".join(prog.steps[k].op for k in r.steps)
        fused = Step(f"fused[{ops}]", fn, list(ins), list(outs), {}, prog.steps[r.steps[-1]].node,
                     meta={"fused": [prog.steps[k] for k in r.steps], "expr": expr})
        for k in r.steps[:-1]:
            replace[k] = None
        replace[r.steps[-1]] = fused
        removed += len(r.steps) - 1
    prog.steps = [replace.get(i, st) for i, st in enumerate(prog.steps) if replace.get(i, st) is not None]
    return removed


def fuse_plan(plan: Plan, table: Mapping[str, OpExpr], make_kernel: Callable[[FusedExpr], Callable]) -> Plan:
    """Fuse the forward program (its outputs: heads and values saved for backward) and the backward one."""
    plan.fused_steps = fuse_program(plan.forward, plan, table, make_kernel, set(plan.head_slots))
    if plan.backward is not None:
        plan.fused_steps += fuse_program(plan.backward, plan, table, make_kernel, set())
    return plan
