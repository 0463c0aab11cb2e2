"""Imperative execution of registry operators, and the `mx.nd.<op>` functions built from their schemas."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .. import autograd as _ag
from ..autograd import _RECORDING
from ..base import MXNetError, OperatorAttributeError
from ..context import Context, current_context
from ..dispatch import _CACHE, kernel_for
from ..ops import OpRules, TensorSpec
from ..plugins import manager
from ..registry import OpSchema
from .ndarray import NDArray, _ctx_error, _host_pair, _kernel_failure, _wrap

__all__ = ["invoke", "make_function"]


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED = _Required()


def _kernel_contract_error(schema: OpSchema, ctx: Context, got, want) -> MXNetError:
    plugin = manager().backend_plugin.get(
        getattr(manager().backends.get(ctx.device_type), "name", ""), "?"
    )
    return MXNetError(
        f"kernel for '{schema.name}' on {ctx!r} from plugin '{plugin}' broke its contract: "
        f"returned {got}, the operator's inference says {want}"
    )


def invoke(schema: OpSchema, rules: OpRules, inputs: Sequence[NDArray | None], attrs: dict[str, Any],
           out: NDArray | Sequence[NDArray] | None = None, ctx: Context | None = None):
    """Run one operator on NDArrays: check contexts, infer, dispatch, record for autograd, honour `out=`."""
    arrays = [x for x in inputs if x is not None]
    if arrays:
        ctx = arrays[0]._ctx
        for x in arrays[1:]:
            if x._ctx is not ctx and x._ctx != ctx and not _host_pair(ctx, x._ctx):
                raise _ctx_error(schema.name, arrays)
    elif ctx is None:
        ctx = current_context()
    if schema.train_aware:
        attrs = {**attrs, "is_train": _ag._TRAINING.get()}
    if rules.composite is not None:
        from .. import ndarray as F

        result = rules.composite(F, attrs, *inputs)
        return _write_out(schema, result, out)
    in_specs = [None if x is None else TensorSpec(x._data.shape, x._data.dtype) for x in inputs]
    if rules.infer is None:
        raise MXNetError(f"operator '{schema.name}' has no shape/dtype inference rule registered")
    specs = rules.infer(attrs, *in_specs)
    if isinstance(specs, TensorSpec):
        specs = [specs]
    dtype = arrays[0]._data.dtype if arrays else specs[0].dtype
    key = (schema.name, ctx.device_type, dtype)
    fn = _CACHE.get(key) or kernel_for(schema.name, ctx, dtype)
    kwargs = attrs
    if not arrays and "ctx" in schema.attrs:
        kwargs = dict(attrs, ctx=repr(ctx))
    try:
        raw = fn(*[None if x is None else x._data for x in inputs], **kwargs)
    except Exception as e:
        raise _kernel_failure(schema.name, e, arrays) from e
    raw = raw if isinstance(raw, (tuple, list)) else (raw,)
    if len(raw) != len(specs):
        raise _kernel_contract_error(schema, ctx, f"{len(raw)} outputs", f"{len(specs)}")
    outputs = []
    for r, s in zip(raw, specs, strict=True):
        if tuple(r.shape) != s.shape or r.dtype != s.dtype:
            raise _kernel_contract_error(schema, ctx, f"{tuple(r.shape)} {r.dtype}", f"{s.shape} {s.dtype}")
        outputs.append(_wrap(r, ctx))
    if schema.differentiable and _RECORDING.get() and any(x._ag is not None for x in arrays):
        _ag.record_node(schema.name, rules.gradient, attrs, list(inputs), outputs)
    if rules.visible_outputs is not None:
        outputs = outputs[:rules.visible_outputs(attrs)]
    return _write_out(schema, outputs[0] if len(outputs) == 1 else outputs, out)


def _write_out(schema: OpSchema, result, out):
    if out is None:
        return result
    from .ndarray import _take_result

    results = [result] if isinstance(result, NDArray) else list(result)
    outs = [out] if isinstance(out, NDArray) else list(out)
    if len(outs) != len(results):
        raise MXNetError(f"operator '{schema.name}': out= got {len(outs)} arrays for {len(results)} outputs")
    for o, r in zip(outs, results, strict=True):
        if o.shape != r.shape:
            raise MXNetError(f"operator '{schema.name}': out= has shape {o.shape}, the result has {r.shape}")
        _take_result(o, r)
    return out


def _signature(schema: OpSchema, trailing: tuple[str, ...] = ("out", "name")) -> inspect.Signature:
    """The signature of a generated operator function: inputs, then attributes, then keyword-only `trailing`
    (`out`, `name` for mx.nd; `name`, `attr` for mx.sym)."""
    P = inspect.Parameter
    params = []
    attr_kind = P.POSITIONAL_OR_KEYWORD
    for name in schema.inputs:
        if name == schema.variadic:
            params.append(P(name, P.VAR_POSITIONAL))
            attr_kind = P.KEYWORD_ONLY
        else:
            params.append(P(name, P.POSITIONAL_OR_KEYWORD, default=None))
    for name, spec in schema.attrs.items():
        params.append(P(name, attr_kind, default=REQUIRED if spec.required else spec.default))
    params += [P(name, P.KEYWORD_ONLY, default=None) for name in trailing]
    return inspect.Signature(params)


def docstring(schema: OpSchema) -> str:
    """The operator's doc with its inputs and attributes, shared by mx.nd, mx.sym and docs/operators.md."""
    lines = [schema.doc, "", "Parameters", "----------"]
    for name in schema.inputs:
        kind = "NDArray" + ("s (variadic)" if name == schema.variadic else "")
        opt = ", optional" if name in schema.optional_inputs else ""
        lines.append(f"{name} : {kind}{opt}")
    for name, spec in schema.attrs.items():
        default = "required" if spec.required else f"default={spec.default!r}"
        lines.append(f"{name} : {spec.describe()}, {default}")
    lines += ["out : NDArray, optional", "    Write the result into this array.", ""]
    if schema.aliases:
        lines.append("Aliases: " + ", ".join(schema.aliases))
    return "\n".join(lines)


def make_function(schema: OpSchema, rules_of: Callable[[str], OpRules]) -> Callable[..., Any]:
    """Build `mx.nd.<op>` for a schema: a closure with a real `__signature__` and `__doc__`."""
    name = schema.name
    fixed_inputs = tuple(i for i in schema.inputs if i != schema.variadic)
    attr_names = tuple(schema.attrs)
    variadic = schema.variadic
    optional = schema.optional_inputs
    no_inputs = not schema.inputs
    cache: list[OpRules] = []

    def op(*args, out=None, name=None, **kwargs):
        rules = cache[0] if cache else cache.append(rules_of(schema.name)) or cache[0]
        ctx = kwargs.pop("ctx", None) if no_inputs else None
        if variadic is not None:
            inputs = list(args)
            if variadic in kwargs:
                more = kwargs.pop(variadic)
                inputs.extend([more] if isinstance(more, NDArray) else more)
        else:
            n = len(fixed_inputs)
            inputs = list(args[:n])
            extra = args[n:]
            if len(extra) > len(attr_names):
                raise OperatorAttributeError(
                    f"operator '{schema.name}' takes at most {n + len(attr_names)} positional arguments, "
                    f"got {len(args)}"
                )
            for attr, value in zip(attr_names, extra, strict=False):
                if attr in kwargs:
                    raise OperatorAttributeError(f"operator '{schema.name}' got '{attr}' twice")
                kwargs[attr] = value
            for inp in fixed_inputs[len(inputs):]:
                inputs.append(kwargs.pop(inp, None))
        for i, x in enumerate(inputs):
            if not isinstance(x, NDArray):
                label = variadic if variadic is not None else fixed_inputs[i]
                if x is None and (label in optional):
                    continue
                raise OperatorAttributeError(
                    f"operator '{schema.name}': input '{label}' expects an NDArray, got "
                    f"{'nothing' if x is None else type(x).__name__}"
                )
        attrs = schema.parse_attrs(kwargs)
        if rules.input_names is not None:
            _check_active_inputs(schema, rules, attrs, inputs)
        if ctx is not None and not isinstance(ctx, Context):
            ctx = Context(*_parse_ctx(ctx))
        return invoke(schema, rules, inputs, attrs, out, ctx)

    op.__name__ = op.__qualname__ = name
    op.__signature__ = _signature(schema)
    op.__doc__ = docstring(schema)
    op.__module__ = "mxplug.ndarray"
    return op


def _check_active_inputs(schema: OpSchema, rules: OpRules, attrs, inputs: list) -> None:
    """An optional input that these attributes make necessary (bias unless no_bias) must be given.

    MXNet hands an operator its inputs as a list, so positional inputs fill the slots these attributes
    activate in order (gluon calls `F.RNN(x, params, h, sequence_length)` for a GRU: the 4th positional
    is sequence_length, state_cell being inactive); `inputs` is re-slotted in place accordingly."""
    active = rules.input_names(attrs)
    given = dict(zip(schema.inputs, inputs, strict=False))
    present = [x for x in inputs if x is not None]
    if schema.variadic is None and len(present) == len(active) and any(given.get(n) is None for n in active):
        given = dict(zip(active, present, strict=True))
        inputs[:] = [given.get(n) for n in schema.inputs]
    for name in active:
        if given.get(name) is None:
            raise OperatorAttributeError(
                f"operator '{schema.name}': input '{name}' is required with these attributes "
                f"({', '.join(f'{k}={v!r}' for k, v in attrs.items())})"
            )


def _parse_ctx(text: str) -> tuple[str, int]:
    dev, _, idx = str(text).rstrip(")").replace(":", "(").partition("(")
    return dev, int(idx or 0)
