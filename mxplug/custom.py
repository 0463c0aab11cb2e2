"""Operators declared at run time: `register_operator` (what the `mxplug_register_operators` hook calls) and
the `operator` decorator, which writes a custom operator once and runs it on every context.

An operator declared here is a full registry citizen: it appears in `mx.nd` (and `mx.sym`, which reads the
same registry), `mxplug ops` and `mxplug explain`, dispatches to kernels registered for it, and differentiates
through its gradient formula.

The decorator takes the parts of an operator from a class (or any namespace)::

    @mx.custom.operator("scaled_softplus", inputs=["data"], attrs={"beta": "float = 1.0"})
    class ScaledSoftplus:
        def infer(attrs, data):                      # TensorSpec(s) in, TensorSpec(s) out
            return data
        def forward(F, attrs, data):                 # the reference implementation, with F's operators
            return F.Activation(attrs["beta"] * data, act_type="softrelu") / attrs["beta"]
        def backward(F, attrs, inputs, outputs, ograds):   # optional
            return [ograds[0] * F.sigmoid(attrs["beta"] * inputs[0])]
        kernels = {"cpu": numpy_fn}                  # optional: native kernels per backend or device type

How it runs, on a context whose backend has a kernel: the kernel; otherwise the `forward` composition on that
context (its operators dispatch, and fall back per the policy, one by one); an operator with kernels but no
`forward` falls back to the CPU kernel per `mx.set_fallback`'s policy. How it differentiates: `backward` when
given, else the gradient of the `forward` composition (a vector-Jacobian product through autograd, higher
orders included). With neither kernels nor `backward`, the operator simply *is* its composition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import registry
from .base import RegistryError
from .ops import _RULES, OpRules

__all__ = ["register_operator", "unregister_operator", "operator", "CustomOperator", "composition_kernel"]

_OWNERS: dict[str, str] = {}  # operator name -> plugin that declared it


def register_operator(schema: registry.OpSchema | dict[str, Any], *, infer: Callable | None = None,
                      gradient: Callable | None = None, composite: Callable | None = None,
                      num_outputs: Callable | None = None, plugin: str = "") -> registry.OpSchema:
    """Declare an operator: a schema (an `OpSchema`, or a dict in the registry's TOML form plus ``name``)
    and its rules (see `mxplug.ops` for their signatures).

    Re-registration by the same plugin (after `mxplug.plugins.reset()`) replaces the earlier declaration;
    a name taken by the built-in registry or by another plugin is refused.

    >>> import mxplug as mx
    >>> from mxplug.ops._util import spec
    >>> _ = register_operator({"name": "double_it", "inputs": ["data"], "doc": "2x."},
    ...                       composite=lambda F, attrs, x: x * 2)
    >>> mx.nd.double_it(mx.nd.ones((2,))).asnumpy().tolist()
    [2.0, 2.0]
    """
    if isinstance(schema, dict):
        entry = dict(schema)
        name = entry.pop("name", None)
        if not isinstance(name, str) or not name:
            raise RegistryError("register_operator: a dict schema needs a 'name'")
        schema = registry._schema_from_entry(name, entry.pop("family", "plugin"), entry)
    if infer is None and composite is None:
        raise RegistryError(f"operator '{schema.name}': give an inference rule (infer=) or a composite body")
    if schema.differentiable and gradient is None and composite is None:
        raise RegistryError(
            f"operator '{schema.name}': give a gradient, a composite body, or declare differentiable = false"
        )
    if schema.name in _OWNERS and _OWNERS[schema.name] == plugin:
        unregister_operator(schema.name)  # the same owner declaring it again
    registry.add_schema(schema)
    _OWNERS[schema.name] = plugin
    _RULES[schema.name] = OpRules(infer=infer, gradient=gradient, composite=composite, num_outputs=num_outputs)
    from . import ndarray

    ndarray.publish(schema)
    return schema


def unregister_operator(name: str) -> None:
    """Forget an operator declared at run time (built-in registry operators cannot be removed)."""
    if name not in _OWNERS:
        raise RegistryError(f"operator '{name}' was not declared at run time; it cannot be removed")
    from . import ndarray

    schema = registry.get(name)
    ndarray.unpublish(schema)
    registry.remove_schema(name)
    _RULES.pop(name, None)
    del _OWNERS[name]


def forget_plugin_operators() -> None:
    """Drop the operators plugins declared (plugins.reset() calls this before loading plugins again)."""
    for name, owner in list(_OWNERS.items()):
        if owner:
            unregister_operator(name)


# -- the decorator: written once, runs everywhere -------------------------------------------------------
_COMPOSITIONS: dict[str, Callable] = {}  # operator -> forward(F, attrs, *inputs), for contexts without a kernel
_KERNEL_PLUGIN = "custom:"  # kernels of custom operators survive plugins.reset() (dispatch.PERSISTENT_PREFIXES)


class CustomOperator:
    """What `operator` returns: calling it calls ``mx.nd.<name>``; it also registers kernels and unregisters.

    Attributes: ``name``, ``schema`` (the registry entry), ``impl`` (the decorated class).
    """

    def __init__(self, schema: registry.OpSchema, impl: Any) -> None:
        self.name = schema.name
        self.schema = schema
        self.impl = impl
        self.__doc__ = schema.doc

    def __call__(self, *args, **kwargs):
        from .ndarray import op

        return getattr(op, self.name)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<custom operator '{self.name}'>"

    def register_kernel(self, backend: str, fn: Callable, dtypes=None, priority: int = 0) -> None:
        """Add a native kernel ``fn(*native_inputs, **attrs)`` for a backend (by name, or by device type:
        'cpu' means the backend serving cpu)."""
        from . import dispatch

        dispatch.register_kernel(self.name, _backend_name(backend), fn, dtypes=dtypes, priority=priority,
                                 plugin=_KERNEL_PLUGIN + self.name)

    def unregister(self) -> None:
        """Forget the operator, its kernels and its composition."""
        _forget(self.name)


def _backend_name(key: str) -> str:
    """Kernels may be keyed by backend name ('numpy') or device type ('cpu')."""
    from .plugins import manager

    backend = manager().backends.get(key)
    return backend.name if backend is not None else key


def _forget(name: str) -> None:
    from . import dispatch

    dispatch.forget_plugin(_KERNEL_PLUGIN + name)
    _COMPOSITIONS.pop(name, None)
    if name in _OWNERS:
        unregister_operator(name)


def operator(name: str, *, inputs: Sequence[str] = ("data",), attrs: dict[str, str] | None = None,
             outputs: Sequence[str] = ("output",), aliases: Sequence[str] = (),
             nondiff_inputs: Sequence[str] = (), differentiable: bool | None = None,
             doc: str | None = None) -> Callable[[Any], CustomOperator]:
    """Declare a custom operator from a class holding its parts (see the module docstring).

    ``inputs`` and ``attrs`` use the registry's grammar (``"bias?"``, ``"*data"``; ``"float = 1.0"``,
    ``"enum(a|b) = a"``); the class docstring is the operator's doc. Parts, all optional but at least one of
    ``forward`` and ``kernels``: ``infer(attrs, *specs)`` (needed with kernels or ``backward``),
    ``forward(F, attrs, *inputs)``, ``backward(F, attrs, inputs, outputs, ograds)``, ``kernels`` (a dict
    backend-or-device-type -> ``fn(*native_inputs, **attrs)``), ``num_outputs(attrs)``.
    Declaring a name again replaces the earlier declaration (handy in notebooks).

    >>> import mxplug as mx
    >>> @mx.custom.operator("twice_plus", attrs={"c": "float = 0.0"})
    ... class TwicePlus:
    ...     "2 * data + c."
    ...     def forward(F, attrs, data):
    ...         return data * 2 + attrs["c"]
    >>> mx.nd.twice_plus(mx.nd.array([1.0, 2.0]), c=0.5).asnumpy().tolist()
    [2.5, 4.5]
    >>> TwicePlus.unregister()
    """

    def declare(impl: Any) -> CustomOperator:
        parts = {k: _part(impl, k) for k in ("infer", "forward", "backward", "num_outputs")}
        kernels = dict(_part(impl, "kernels") or {})
        forward, backward, infer = parts["forward"], parts["backward"], parts["infer"]
        if forward is None and not kernels:
            raise RegistryError(f"custom operator '{name}': give a forward composition or kernels")
        diff = differentiable if differentiable is not None else (forward is not None or backward is not None)
        if diff and forward is None and backward is None:
            raise RegistryError(f"custom operator '{name}': differentiable without forward or backward; give a "
                                "backward, a forward composition, or differentiable=False")
        entry = {"name": name, "family": "custom", "inputs": list(inputs), "attrs": dict(attrs or {}),
                 "outputs": list(outputs), "aliases": list(aliases), "nondiff_inputs": list(nondiff_inputs),
                 "differentiable": diff, "doc": doc or _first_paragraph(impl) or f"Custom operator '{name}'."}
        if name in _OWNERS or name in _COMPOSITIONS:
            _forget(name)  # declared again: replace
        if forward is not None and not kernels and backward is None:
            schema = register_operator(entry, composite=forward, num_outputs=parts["num_outputs"])
        else:
            if infer is None:
                raise RegistryError(f"custom operator '{name}': give infer(attrs, *specs) (kernels and backward "
                                    "run after shape inference)")
            grad = backward or (_composition_gradient(forward) if diff else None)
            schema = register_operator(entry, infer=infer, gradient=grad, num_outputs=parts["num_outputs"])
            if forward is not None:
                _COMPOSITIONS[schema.name] = forward
        handle = CustomOperator(schema, impl)
        for backend, fn in kernels.items():
            handle.register_kernel(backend, fn)
        for key in ("register_kernel", "unregister", "schema"):  # the class doubles as the handle
            try:
                setattr(impl, key, getattr(handle, key))
            except (AttributeError, TypeError):  # a namespace that refuses attributes
                pass
        return handle

    return declare


def _part(impl: Any, key: str) -> Any:
    value = getattr(impl, key, None)
    return getattr(value, "__func__", value)  # staticmethod / classmethod objects seen through a class


def _first_paragraph(impl: Any) -> str:
    text = (getattr(impl, "__doc__", None) or "").strip()
    return " ".join(text.split("\n\n")[0].split())


def composition_kernel(op: str, ctx) -> Callable | None:
    """A kernel running a custom operator's forward composition on `ctx`'s backend (dispatch's missing-kernel
    hook asks this first), or None for operators without one."""
    forward = _COMPOSITIONS.get(op)
    if forward is None:
        return None
    from . import autograd
    from . import ndarray as F
    from .context import Context
    from .missing_kernels import _device_id
    from .ndarray.ndarray import NDArray, _wrap
    from .plugins import backend_for

    backend = backend_for(ctx)

    def run_composition(*natives, **attrs):
        c = Context(ctx.device_type, _device_id(backend, natives, attrs))
        xs = [None if d is None else _wrap(d, c) for d in natives]
        with autograd.pause(autograd.is_training()):  # invoke records the operator itself
            out = forward(F, attrs, *xs)
        outs = [out] if isinstance(out, NDArray) else list(out)
        # Kernels return new arrays (the core may write into results): copy an input passed through.
        raw = [backend.copy(o._data) if any(o._data is d for d in natives) else o._data for o in outs]
        return raw[0] if isinstance(out, NDArray) else tuple(raw)

    run_composition.__name__ = f"composition_{op}"
    return run_composition


def _composition_gradient(forward: Callable) -> Callable:
    """The gradient of a forward composition: a vector-Jacobian product through autograd.

    The forward is recorded on stand-ins of the inputs (same data, variables of their own), so the product
    stops at the inputs; when the outer backward records (create_graph), the stand-ins in the recorded
    gradient graph are then replaced by the inputs themselves, which makes it differentiable again.
    """
    from . import autograd

    def gradient(F, attrs, inputs, outputs, ograds):
        creating = autograd.is_recording()
        twins, wanted = [], []
        for x in inputs:
            if x is None:
                twins.append(None)
                continue
            t = x.detach()
            if np.issubdtype(t.dtype, np.floating):
                t._ag = autograd.AGInfo(None, 0, None, "write")
                wanted.append(t)
            twins.append(t)
        with autograd.record(autograd.is_training()):
            out = forward(F, attrs, *twins)
        outs = [out] if not isinstance(out, (list, tuple)) else list(out)
        order = autograd._topo_order(outs)
        reachable = autograd._reachable_ids(outs, order)
        used = [t for t in wanted if id(t) in reachable]
        grads = autograd.grad(outs, used, head_grads=list(ograds), retain_graph=creating,
                              create_graph=creating) if used else []
        by_twin = {id(t): g for t, g in zip(used, grads, strict=True)}
        if creating:
            _substitute(grads, {id(t): x for t, x in zip(twins, inputs, strict=True) if t is not None})
        return [None if t is None else by_twin.get(id(t)) for t in twins]

    return gradient


def _substitute(heads: list, originals: dict[int, Any]) -> None:
    """Re-link a recorded graph built on stand-ins to the arrays they stand for."""
    from . import autograd

    for node in autograd._topo_order(heads):
        node.inputs = [originals.get(id(x), x) if x is not None else None for x in node.inputs]
