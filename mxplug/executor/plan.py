"""Planning a symbol once: trace forward (and backward), eliminate dead steps, run the backends' graph
passes, and generate one Python function per program that calls the kernels in order.

The generated function is straight-line code — ``t7 = k3(t2, t5, **w3)`` per step, values in local
variables — so running a graph costs one Python call per kernel and nothing else: no per-node dispatch,
inference or checks. The first run of a plan goes through `run_checked` instead, which checks every kernel's
output against inference (as the imperative path does on every call).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..base import AutogradError, MXNetError
from ..ops import TensorSpec
from ..symbol.symbol import Symbol, topo_order
from .trace import Step, Tracer, Value

__all__ = ["Plan", "build_plan", "Program"]

GRAPH_PASSES: dict[str, list[tuple[int, Callable]]] = {}  # registered directly: backend -> [(priority, pass)]
_FROM_PLUGINS: dict[str, list[tuple[int, Callable]]] = {}  # collected from the current plugin manager's hooks
_COLLECTED: list[object] = []  # the plugin manager whose hook implementations were collected


def _add(table: dict, backend: str, fn: Callable, priority: int) -> None:
    table.setdefault(backend, []).append((int(priority), fn))
    table[backend].sort(key=lambda p: -p[0])


def register_graph_pass(backend: str, fn: Callable[[Plan], Plan | None], priority: int = 0) -> None:
    """Add a graph pass for a backend: ``fn(plan)`` may rewrite ``plan.forward.steps`` /
    ``plan.backward.steps`` (fuse, reuse buffers) and returns the plan (or None: changed in place).
    Plugins register theirs through the ``mxplug_register_graph_passes`` hook instead."""
    _add(GRAPH_PASSES, backend, fn, priority)


def _passes_for(backend: str) -> list[Callable]:
    from ..plugins import manager

    m = manager()
    if not _COLLECTED or _COLLECTED[0] is not m:  # a new (or reset) manager: collect its plugins' passes afresh
        _COLLECTED[:] = [m]
        _FROM_PLUGINS.clear()
        hook = getattr(m.pm.hook, "mxplug_register_graph_passes", None)
        if hook is not None:
            hook(register=lambda b, fn, priority=0: _add(_FROM_PLUGINS, b, fn, priority))
    both = GRAPH_PASSES.get(backend, []) + _FROM_PLUGINS.get(backend, [])
    return [fn for _, fn in sorted(both, key=lambda p: -p[0])]


@dataclass
class Program:
    """A list of steps between inputs (slots read from the value list) and outputs (slots written back)."""

    steps: list[Step]
    inputs: list[int]  # slots the program reads from `v` (arguments, aux states, values of an earlier program)
    outputs: list[int]  # slots it leaves in `v` (heads, values a later program reads)
    writes: list[tuple[int, int, str]] = field(default_factory=list)  # (grad buffer slot, value slot, req)
    compiled: Callable | None = None
    line_of_step: dict[int, int] = field(default_factory=dict)
    checked: bool = False


@dataclass
class Plan:
    ctx: Any
    specs: list[TensorSpec]
    consts: dict[int, Any]
    arg_slots: dict[str, int]
    aux_slots: dict[str, int]
    head_slots: list[int]
    forward: Program
    backward: Program | None = None
    head_grad_slots: list[int] = field(default_factory=list)
    grad_slots: dict[str, int] = field(default_factory=dict)  # argument name -> grad buffer slot
    is_train: bool = False


def _trace_forward(sym: Symbol, tracer: Tracer, specs: dict[str, TensorSpec]) -> tuple[dict, dict, list[Value]]:
    values: dict[tuple[int, int], Value] = {}
    var_values: dict[str, Value] = {}
    for node in topo_order(sym._outputs):
        if node.schema is None:
            v = tracer.placeholder(specs[node.name])
            values[(id(node), 0)] = var_values[node.name] = v
            continue
        tracer.node = node.name
        ins = node.arrange([values[(id(s), i)] for s, i in node.inputs])
        try:
            outs = tracer.apply(node.schema, ins, node.attrs, visible=False)
        except MXNetError as e:
            raise type(e)(f"node '{node.name}' (operator '{node.op}'): {e}") from None
        for k, o in enumerate(outs):
            values[(id(node), k)] = o
    heads = [values[(id(n), i)] for n, i in sym._outputs]
    return values, var_values, heads


def _trace_backward(tracer: Tracer, heads: list[Value], wanted: dict[str, Value],
                    head_grads: list[Value]) -> dict[str, Value | None]:
    """Gradient formulas over the forward tape, as autograd runs them, recorded as steps."""
    needs: set[int] = {v.slot for v in wanted.values()}
    for entry in tracer.tape[:]:  # which values depend on a wanted variable
        if any(x is not None and x.slot in needs for x in entry.inputs):
            needs.update(o.slot for o in entry.outputs)
    grads: dict[int, Value] = {}
    tracer.grad_needed = needs  # custom operators give req 'null' to inputs outside it

    def add(slot: int, g: Value) -> None:
        prev = grads.get(slot)
        grads[slot] = g if prev is None else tracer.op("elemwise_add", [prev, g], {})[0]

    for h, g in zip(heads, head_grads, strict=True):
        add(h.slot, g)
    forward_tape = list(tracer.tape)
    for entry in reversed(forward_tape):
        ograds = [grads.get(o.slot) for o in entry.outputs]
        if all(g is None for g in ograds) or not any(x is not None and x.slot in needs for x in entry.inputs):
            continue
        tracer.node = f"backward of {entry.schema.name}"
        ograds = [g if g is not None else tracer.zeros_like(o) for g, o in zip(ograds, entry.outputs, strict=True)]
        if entry.rules.gradient is None:
            raise AutogradError(f"operator '{entry.schema.name}' has no gradient; wrap its input in BlockGrad "
                                "or bind the arguments that reach it with grad_req='null'")
        in_grads = entry.rules.gradient(tracer, entry.attrs, entry.inputs, entry.outputs, ograds)
        if len(in_grads) != len(entry.inputs):
            raise AutogradError(f"gradient of '{entry.schema.name}' returned {len(in_grads)} gradients for "
                                f"{len(entry.inputs)} inputs")
        for x, g in zip(entry.inputs, in_grads, strict=True):
            if g is not None and x is not None and x.slot in needs:
                add(x.slot, g)
    return {name: grads.get(v.slot) for name, v in wanted.items()}


def _live_steps(steps: list[Step], needed: set[int]) -> list[Step]:
    """Dead-step elimination: keep the steps whose outputs are needed (or that update state)."""
    keep = []
    needed = set(needed)
    for st in reversed(steps):
        if st.side_effect or any(o in needed for o in st.outputs):
            keep.append(st)
            needed.update(i for i in st.inputs if i is not None)
    keep.reverse()
    return keep


def build_plan(sym: Symbol, ctx, specs: dict[str, TensorSpec], arg_names: Sequence[str],
               aux_names: Sequence[str], grad_reqs: dict[str, str] | None, is_train: bool) -> Plan:  # noqa: FBT001
    """Trace and plan the forward program (and, when `grad_reqs` asks for gradients, the backward one)."""
    tracer = Tracer(ctx, is_train=is_train)
    _, var_values, heads = _trace_forward(sym, tracer, specs)
    n_forward = len(tracer.steps)
    arg_slots = {n: var_values[n].slot for n in arg_names}
    aux_slots = {n: var_values[n].slot for n in aux_names}
    plan = Plan(ctx, tracer.specs, tracer.consts, arg_slots, aux_slots, [h.slot for h in heads],
                Program([], [], []), is_train=is_train)
    bwd_steps: list[Step] = []
    writes: list[tuple[int, int, str]] = []
    if grad_reqs and any(r != "null" for r in grad_reqs.values()):
        wanted = {n: var_values[n] for n in arg_names if grad_reqs.get(n, "null") != "null"}
        head_grads = [tracer.placeholder(h.spec) for h in heads]
        plan.head_grad_slots = [g.slot for g in head_grads]
        grads = _trace_backward(tracer, heads, wanted, head_grads)
        for name, g in grads.items():
            buf = tracer.placeholder(var_values[name].spec)
            plan.grad_slots[name] = buf.slot
            if g is None:
                g = tracer.zeros_like(var_values[name])
            writes.append((buf.slot, g.slot, grad_reqs[name]))
        bwd_steps = _live_steps(tracer.steps[n_forward:], {w[1] for w in writes})
    fwd_steps = tracer.steps[:n_forward]
    produced_fwd = {o for st in fwd_steps for o in st.outputs}
    bwd_reads = {i for st in bwd_steps for i in st.inputs if i is not None} | {w[1] for w in writes}
    saved = sorted(s for s in bwd_reads if s in produced_fwd)
    fwd_needed = set(plan.head_slots) | set(saved)
    fwd_steps = _live_steps(fwd_steps, fwd_needed)
    sources = set(arg_slots.values()) | set(aux_slots.values())
    plan.forward = Program(fwd_steps, sorted(sources), sorted(set(plan.head_slots) | set(saved)))
    if bwd_steps or writes:
        produced_bwd = {o for st in bwd_steps for o in st.outputs}
        reads = ({i for st in bwd_steps for i in st.inputs if i is not None} | {w[1] for w in writes}) - produced_bwd
        reads |= {w[0] for w in writes}
        plan.backward = Program(bwd_steps, sorted(reads - set(plan.consts)), [], writes)
    for fn in _passes_for(_backend_name(ctx)):
        plan = fn(plan) or plan
    return plan


def _backend_name(ctx) -> str:
    from ..plugins import backend_for

    return backend_for(ctx).name


# -- code generation --------------------------------------------------------------------------------------
def compile_program(prog: Program, plan: Plan, assign: Callable, add: Callable | None) -> None:
    """Generate the straight-line function of a program: ``run(v)`` reads its inputs from the list `v`,
    calls each kernel, and leaves its outputs in `v`."""
    ns: dict[str, Any] = {"__name__": "mxplug.executor.generated", "_assign": assign, "_add": add}
    lines = ["def run(v):"]
    used = {i for st in prog.steps for i in st.inputs if i is not None}
    used |= {o for o in prog.outputs} | {s for w in prog.writes for s in w[:2]}
    for slot in prog.inputs:
        lines.append(f"    t{slot} = v[{slot}]")
    for slot, data in plan.consts.items():
        if slot in used:
            ns[f"c{slot}"] = data
            lines.append(f"    t{slot} = c{slot}")
    for i, st in enumerate(prog.steps):
        ns[f"k{i}"] = st.fn
        args = ", ".join("None" if x is None else f"t{x}" for x in st.inputs)
        if st.kwargs:
            ns[f"w{i}"] = dict(st.kwargs)
            args += (", " if args else "") + f"**w{i}"
        lhs = f"t{st.outputs[0]}" if len(st.outputs) == 1 else ", ".join(f"t{o}" for o in st.outputs) + ","
        prog.line_of_step[len(lines) + 1] = i
        lines.append(f"    {lhs} = k{i}({args})")
    for dst, src, req in prog.writes:
        if req == "add":
            lines.append(f"    _assign(t{dst}, _add(t{dst}, t{src}))")
        else:
            lines.append(f"    _assign(t{dst}, t{src})")
    for slot in prog.outputs:
        lines.append(f"    v[{slot}] = t{slot}")
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<mxplug plan {id(prog):x}>", "exec")
    exec(code, ns)  # noqa: S102 — our own generated code: kernel names and slot numbers only
    prog.compiled = ns["run"]
    prog.source = source


def failing_step(prog: Program, tb) -> Step | None:
    """The step whose kernel raised, from the traceback of an exception in the generated code."""
    while tb is not None:
        if tb.tb_frame.f_code is getattr(prog.compiled, "__code__", None):
            i = prog.line_of_step.get(tb.tb_lineno)
            return prog.steps[i] if i is not None else None
        tb = tb.tb_next
    return None


def run_checked(prog: Program, plan: Plan, v: list, assign: Callable, add: Callable | None) -> None:
    """Interpret a program once, checking each kernel's outputs against inference (first run of a plan)."""
    env = {s: v[s] for s in prog.inputs}
    env.update(plan.consts)
    for st in prog.steps:
        try:
            raw = st.fn(*[None if x is None else env[x] for x in st.inputs], **st.kwargs)
        except Exception as e:
            raise step_error(st, plan, e) from e
        outs = raw if isinstance(raw, (tuple, list)) else (raw,)
        if len(outs) != len(st.outputs):
            if len(st.outputs) == 1 and len(outs) == 1:
                outs = (raw[0],)
            else:
                raise MXNetError(f"kernel for '{st.op}' (node '{st.node}') returned {len(outs)} outputs, "
                                 f"inference says {len(st.outputs)}")
        for slot, data in zip(st.outputs, outs, strict=True):
            want = plan.specs[slot]
            if tuple(data.shape) != want.shape or data.dtype != want.dtype:
                raise MXNetError(f"kernel for '{st.op}' (node '{st.node}') broke its contract: returned "
                                 f"{tuple(data.shape)} {data.dtype}, the operator's inference says "
                                 f"{want.shape} {want.dtype}")
            env[slot] = data
    for dst, src, req in prog.writes:
        assign(env[dst], add(env[dst], env[src]) if req == "add" else env[src])
    for slot in prog.outputs:
        v[slot] = env[slot]
    prog.checked = True


def step_error(st: Step, plan: Plan, err: Exception) -> MXNetError:
    if isinstance(err, MXNetError):
        return type(err)(f"node '{st.node}' (operator '{st.op}'): {err}")
    shapes = ", ".join("None" if x is None else f"{plan.specs[x].shape} {plan.specs[x].dtype.name}"
                       for x in st.inputs)
    return MXNetError(f"node '{st.node}' (operator '{st.op}') failed on inputs [{shapes}]: "
                      f"{type(err).__name__}: {err}")


def run(prog: Program, plan: Plan, v: list, assign: Callable, add: Callable | None) -> None:
    if not prog.checked:
        run_checked(prog, plan, v, assign, add)
        return
    try:
        prog.compiled(v)
    except Exception as e:
        st = failing_step(prog, sys.exc_info()[2])
        if st is None:
            raise
        raise step_error(st, plan, e) from e
