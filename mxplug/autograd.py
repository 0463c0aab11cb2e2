"""Imperative autograd with MXNet's API: `record`, `pause`, `backward`, `grad`, `Function`.

The tape is define-by-run: while recording, each operator whose inputs are in the graph (variables from
`attach_grad`, or results of recorded operators) leaves a `Node` holding its inputs, its outputs and the
operator's gradient formula. `backward` walks the nodes in reverse topological order iteratively (deep
graphs never hit the recursion limit). Recording and training flags are `contextvars`, so the tape is per
thread. Gradient formulas are written with `mx.nd` operators, so running them while recording
(`create_graph=True`) gives higher-order gradients, and they run on the context of the forward pass.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from typing import Any

from .base import AutogradError, ShapeError

__all__ = [
    "record", "pause", "train_mode", "predict_mode", "is_recording", "is_training", "set_recording",
    "set_training", "backward", "grad", "mark_variables", "Function", "get_symbol",
]

_RECORDING: contextvars.ContextVar[bool] = contextvars.ContextVar("mxplug_recording", default=False)
_TRAINING: contextvars.ContextVar[bool] = contextvars.ContextVar("mxplug_training", default=False)


class Node:
    """One recorded operator application."""

    __slots__ = ("op", "grad_fn", "attrs", "inputs", "outputs", "freed")

    def __init__(self, op: str, grad_fn: Callable, attrs: dict, inputs: list, outputs: list) -> None:
        self.op = op
        self.grad_fn = grad_fn
        self.attrs = attrs
        self.inputs = inputs  # the input NDArrays (None for absent optional inputs)
        self.outputs = outputs  # detached NDArrays sharing the outputs' data
        self.freed = False


class AGInfo:
    """An array's place in the graph: the node and output index that made it, or a variable's gradient."""

    __slots__ = ("node", "index", "grad", "grad_req")

    def __init__(self, node: Node | None = None, index: int = 0, grad=None, grad_req: str = "write") -> None:
        self.node = node
        self.index = index
        self.grad = grad
        self.grad_req = grad_req

    @property
    def is_variable(self) -> bool:
        return self.node is None


def record_node(op: str, grad_fn: Callable | None, attrs: dict, inputs: Sequence, outputs: Sequence) -> None:
    """Attach `outputs` to the graph as results of `op` applied to `inputs` (called by the dispatcher)."""
    if grad_fn is None:
        grad_fn = _no_gradient(op)
    saved = []
    for o in outputs:  # detached twins: the node keeps the output data without a reference cycle
        twin = object.__new__(type(o))
        twin._data, twin._ctx, twin._ag = o._data, o._ctx, None
        saved.append(twin)
    node = Node(op, grad_fn, attrs, inputs, saved)
    for i, o in enumerate(outputs):
        o._ag = AGInfo(node, i)


def _no_gradient(op: str) -> Callable:
    def fail(F, attrs, inputs, outputs, ograds):
        raise AutogradError(f"operator '{op}' has no gradient; wrap its inputs in stop_gradient() if intended")

    return fail


class _Scope:
    __slots__ = ("_rec", "_train", "_tokens")

    def __init__(self, recording: bool | None, training: bool | None) -> None:
        self._rec, self._train, self._tokens = recording, training, ()

    def __enter__(self) -> _Scope:
        toks = []
        if self._rec is not None:
            toks.append((_RECORDING, _RECORDING.set(self._rec)))
        if self._train is not None:
            toks.append((_TRAINING, _TRAINING.set(self._train)))
        self._tokens = tuple(toks)
        return self

    def __exit__(self, *exc) -> None:
        for var, tok in reversed(self._tokens):
            var.reset(tok)


def record(train_mode: bool = True) -> _Scope:
    """Scope in which operators are recorded for differentiation.

    >>> import mxplug as mx
    >>> x = mx.nd.array([1.0, 2.0]); x.attach_grad()
    >>> with mx.autograd.record():
    ...     y = (x * x).sum()
    >>> y.backward(); x.grad.asnumpy().tolist()
    [2.0, 4.0]
    """
    return _Scope(True, train_mode)


def pause(train_mode: bool = False) -> _Scope:
    """Scope in which nothing is recorded (e.g. metric updates inside a `record` block)."""
    return _Scope(False, train_mode)


def train_mode() -> _Scope:
    """Scope where operators behave as in training (Dropout drops, BatchNorm uses batch statistics)."""
    return _Scope(None, True)


def predict_mode() -> _Scope:
    """Scope where operators behave as in inference."""
    return _Scope(None, False)


def is_recording() -> bool:
    return _RECORDING.get()


def is_training() -> bool:
    return _TRAINING.get()


def set_recording(is_recording: bool) -> bool:  # noqa: FBT001 — MXNet's signature
    """Set the recording flag; returns the previous one."""
    prev = _RECORDING.get()
    _RECORDING.set(bool(is_recording))
    return prev


def set_training(train_mode: bool) -> bool:  # noqa: FBT001
    """Set the training flag; returns the previous one."""
    prev = _TRAINING.get()
    _TRAINING.set(bool(train_mode))
    return prev


def mark_variables(variables, gradients, grad_reqs="write") -> None:
    """Make arrays variables whose gradients are written into `gradients` (MXNet's low-level form)."""
    from .ndarray.ndarray import NDArray

    if isinstance(variables, NDArray):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    if not len(variables) == len(gradients) == len(grad_reqs):
        raise AutogradError("mark_variables: variables, gradients and grad_reqs must have the same length")
    for v, g, req in zip(variables, gradients, grad_reqs, strict=True):
        if req not in ("write", "add", "null"):
            raise AutogradError(f"mark_variables: grad_req must be 'write', 'add' or 'null', got {req!r}")
        v._ag = AGInfo(None, 0, g, req)


def _as_list(x) -> list:
    from .ndarray.ndarray import NDArray

    if x is None:
        return []
    return [x] if isinstance(x, NDArray) else list(x)


def _topo_order(heads: Sequence) -> list[Node]:
    """Nodes reachable from the heads, inputs before consumers (iterative DFS)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = []
    for h in heads:
        if h._ag is not None and h._ag.node is not None:
            stack.append((h._ag.node, False))
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.freed:
            raise AutogradError(
                f"the graph through '{node.op}' was freed by an earlier backward; "
                "pass retain_graph=True to the first backward to differentiate twice"
            )
        stack.append((node, True))
        for inp in node.inputs:
            if inp is not None and inp._ag is not None and inp._ag.node is not None:
                if id(inp._ag.node) not in seen:
                    stack.append((inp._ag.node, False))
    return order


def _run_backward(heads, head_grads, variables, retain_graph: bool, create_graph: bool, train: bool,
                  order: list[Node]):
    """Core of backward/grad over the heads' nodes in topological `order` (the callers' `_topo_order`):
    returns {id(array): gradient} for the variables reached."""
    from . import ndarray as nd

    heads = _as_list(heads)
    if not heads:
        raise AutogradError("backward: no heads given")
    head_grads = _as_list(head_grads) if head_grads is not None else [None] * len(heads)
    if len(head_grads) != len(heads):
        raise AutogradError(f"backward: {len(heads)} heads but {len(head_grads)} head gradients")
    wanted = None
    if variables is not None:
        wanted = {id(v): v for v in variables}
    grads: dict[int, list] = {}  # id(node) -> per-output gradient
    found: dict[int, Any] = {}  # id(array or (node, index) key) -> gradient

    def add(slot: dict, key, g):
        prev = slot.get(key)
        slot[key] = g if prev is None else prev + g

    with _Scope(create_graph, train):
        for h, hg in zip(heads, head_grads, strict=True):
            info = h._ag
            if info is None:
                raise AutogradError(
                    "cannot differentiate an array that is not in a recorded graph: call attach_grad() on the "
                    "inputs and compute the head inside `with autograd.record():`"
                )
            if hg is None:
                hg = nd.ones_like(h)
            elif tuple(hg.shape) != tuple(h.shape):
                raise ShapeError(f"backward: head gradient shape {hg.shape} does not match head shape {h.shape}")
            if info.node is None:
                add(found, id(h), hg)
            else:
                slot = grads.setdefault(id(info.node), [None] * len(info.node.outputs))
                slot[info.index] = hg if slot[info.index] is None else slot[info.index] + hg
        # Intermediate arrays asked for by autograd.grad: their gradient is their node output's.
        wanted_nodes = {}
        if wanted:
            for v in wanted.values():
                if v._ag is not None and v._ag.node is not None:
                    wanted_nodes.setdefault(id(v._ag.node), []).append(v)
        for node in reversed(order):
            ograds = grads.pop(id(node), None)
            if ograds is None:
                continue
            for v in wanted_nodes.get(id(node), ()):
                if ograds[v._ag.index] is not None:
                    add(found, id(v), ograds[v._ag.index])
            ograds = [g if g is not None else nd.zeros_like(o) for g, o in zip(ograds, node.outputs, strict=True)]
            if create_graph:  # formulas reading the outputs (exp: g * out) must see them as functions of the inputs
                for i, o in enumerate(node.outputs):
                    if o._ag is None:
                        o._ag = AGInfo(node, i)
            in_grads = node.grad_fn(nd, node.attrs, node.inputs, node.outputs, ograds)
            if len(in_grads) != len(node.inputs):
                raise AutogradError(
                    f"gradient of '{node.op}' returned {len(in_grads)} gradients for {len(node.inputs)} inputs"
                )
            for inp, g in zip(node.inputs, in_grads, strict=True):
                if g is None or inp is None or inp._ag is None:
                    continue
                info = inp._ag
                if info.node is None:
                    add(found, id(inp), g)
                else:
                    slot = grads.setdefault(id(info.node), [None] * len(info.node.outputs))
                    slot[info.index] = g if slot[info.index] is None else slot[info.index] + g
    if not retain_graph:
        for node in order:
            node.freed = True
            node.inputs = node.outputs = ()
    return found


def backward(heads, head_grads=None, retain_graph: bool = False, train_mode: bool = True) -> None:  # noqa: FBT001
    """Compute the gradients of `heads` and store them in the variables' `.grad` (per their grad_req)."""
    from . import ndarray as nd
    from .ndarray.ndarray import _assign

    heads = _as_list(heads)
    order = _topo_order(heads)  # once; it also raises the clear error when an earlier backward freed the graph
    variables = _reachable_variables(heads, order)
    if heads and all(h._ag is not None for h in heads) and all(v._ag.grad_req == "null" for v in variables):
        raise AutogradError("backward: there are no inputs in the computation graph that require gradients "
                            "(every variable reached has grad_req='null')")
    found = _run_backward(heads, head_grads, None, retain_graph, False, train_mode, order)
    for v in variables:
        g = found.get(id(v))
        info = v._ag
        if info.grad_req == "null" or info.grad is None:
            continue
        if g is None:  # reached only through BlockGrad-like paths: a zero gradient, as in MXNet
            if info.grad_req == "write":
                _assign(info.grad, nd.zeros_like(info.grad))
            continue
        if info.grad_req == "add":
            g = info.grad + g
        _assign(info.grad, g)


def _reachable_variables(heads, order: list[Node]) -> list:
    out, seen = [], set()
    for h in heads:
        if h._ag is not None and h._ag.node is None and id(h) not in seen:
            seen.add(id(h))
            out.append(h)
    for node in order:
        for inp in node.inputs:
            if inp is not None and inp._ag is not None and inp._ag.node is None and id(inp) not in seen:
                seen.add(id(inp))
                out.append(inp)
    return out


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph: bool = False,  # noqa: FBT001
         train_mode: bool = True):  # noqa: FBT001
    """Gradients of `heads` with respect to `variables`, returned rather than stored.

    With `create_graph=True` the returned gradients are themselves recorded, so they can be differentiated
    again (higher-order gradients).

    >>> import mxplug as mx
    >>> x = mx.nd.array([3.0]); x.attach_grad()
    >>> with mx.autograd.record():
    ...     y = x ** 3
    ...     dy, = mx.autograd.grad(y, [x], create_graph=True)
    >>> dy.backward(); x.grad.asscalar()   # d2/dx2 x^3 = 6x
    18.0
    """
    from . import ndarray as nd

    variables = _as_list(variables)  # MXNet returns a list even for a single NDArray variable
    if not variables:
        raise AutogradError("grad: variables cannot be an empty list")
    if retain_graph is None:
        retain_graph = create_graph
    head_list = _as_list(heads)
    order = _topo_order(head_list)
    # Unrecorded heads get _run_backward's clearer error instead.
    reachable = _reachable_ids(head_list, order) if all(h._ag is not None for h in head_list) else None
    for i, v in enumerate(variables):
        if reachable is not None and id(v) not in reachable:
            raise AutogradError(
                f"grad: cannot differentiate with respect to variable {i} (shape {v.shape}): it is unreachable "
                "from the heads (was it computed from them inside autograd.record()?)"
            )
    found = _run_backward(head_list, head_grads, variables, retain_graph, create_graph, train_mode, order)
    out = []
    for v in variables:
        g = found.get(id(v))
        out.append(g if g is not None else nd.zeros_like(v))
    return out


def _reachable_ids(heads, order: list[Node]) -> set[int]:
    """ids of the heads and of every array feeding a node on their graph."""
    ids = {id(h) for h in heads}
    for node in order:
        ids.update(id(inp) for inp in node.inputs if inp is not None)
    return ids


def get_symbol(x):
    """The recorded graph of `x` as a Symbol (arrives with Symbol graphs)."""
    raise AutogradError("autograd.get_symbol needs Symbol graphs, which this build does not include yet")


class Function:
    """A user-defined differentiable function (MXNet's `autograd.Function`).

    >>> import mxplug as mx
    >>> class Sigmoid(mx.autograd.Function):
    ...     def forward(self, x):
    ...         y = 1 / (1 + mx.nd.exp(-x))
    ...         self.save_for_backward(y)
    ...         return y
    ...     def backward(self, dy):
    ...         y, = self.saved_tensors
    ...         return dy * y * (1 - y)
    >>> x = mx.nd.array([0.0]); x.attach_grad()
    >>> with mx.autograd.record():
    ...     y = Sigmoid()(x)
    >>> y.backward(); x.grad.asscalar()
    0.25
    """

    def __init__(self) -> None:
        self._used = False
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *args) -> None:
        self.saved_tensors = args

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *output_grads):
        raise NotImplementedError

    def __call__(self, *inputs):
        from .ndarray.ndarray import NDArray

        if self._used:
            raise AutogradError("each autograd.Function instance can be called once; create a new one per call")
        self._used = True
        with pause(is_training()):
            outputs = self.forward(*inputs)
        single = isinstance(outputs, NDArray)
        outs = [outputs] if single else list(outputs)
        if _RECORDING.get() and any(isinstance(x, NDArray) and x._ag is not None for x in inputs):
            fn = self

            def grad_fn(F, attrs, ins, outs_, ograds):
                with pause(is_training()):  # keep backward's train_mode, as MXNet's callback does
                    res = fn.backward(*ograds)
                res = [res] if isinstance(res, NDArray) else list(res)
                if len(res) != len(ins):
                    raise AutogradError(
                        f"{type(fn).__name__}.backward returned {len(res)} gradients for {len(ins)} inputs"
                    )
                return res

            record_node(type(self).__name__, grad_fn, {}, list(inputs), outs)
        return outputs
