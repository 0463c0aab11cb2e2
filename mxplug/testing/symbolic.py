"""`check_symbolic_forward` / `check_symbolic_backward` with MXNet's semantics: bind a symbol to NumPy
inputs, run it, and compare the outputs (or gradients) with expected NumPy values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["check_symbolic_forward", "check_symbolic_backward"]


def _named(names: Sequence[str], values, what: str) -> dict[str, Any]:
    if isinstance(values, Mapping):
        unknown = set(values) - set(names)
        if unknown:
            raise ValueError(f"{what}: unknown names {sorted(unknown)}; the symbol has {list(names)}")
        return dict(values)
    values = list(values)
    if len(values) != len(names):
        raise ValueError(f"{what}: {len(values)} values for {len(names)} names {list(names)}")
    return dict(zip(names, values, strict=True))


def _arrays(table: Mapping[str, Any], ctx, dtype) -> dict:
    from .. import ndarray as nd

    out = {}
    for k, v in table.items():
        a = np.asarray(v.asnumpy() if hasattr(v, "asnumpy") else v)
        out[k] = nd.array(a, ctx=ctx, dtype=dtype if dtype is not None else (a.dtype if a.dtype.kind == "f"
                                                                                 else np.float32))
    return out


def _bind(sym, location, aux_states, ctx, dtype, grad_req="null", grads=None):
    from ..context import current_context

    ctx = ctx or current_context()
    args = _arrays(_named(sym.list_arguments(), location, "location"), ctx, dtype)
    aux = _arrays(_named(sym.list_auxiliary_states(), aux_states or {}, "aux_states"), ctx, dtype)
    return sym.bind(ctx, args=args, args_grad=grads, grad_req=grad_req, aux_states=aux or None), args


def check_symbolic_forward(sym, location, expected, rtol=1e-4, atol=None, aux_states=None, ctx=None,
                           equal_nan=False, dtype=np.float32):  # noqa: FBT002
    """Run `sym` forward (is_train=False) on `location` and compare each output with `expected`.

    >>> import mxplug as mx, numpy as np
    >>> x = mx.sym.var('x')
    >>> _ = check_symbolic_forward(x * 2, [np.ones((2,))], [np.full((2,), 2.0)])
    """
    from . import assert_almost_equal

    exe, _ = _bind(sym, location, aux_states, ctx, dtype)
    outputs = [o.asnumpy() for o in exe.forward(is_train=False)]
    expected = list(_named(sym.list_outputs(), expected, "expected").values())
    for name, out, exp in zip(sym.list_outputs(), outputs, expected, strict=True):
        assert_almost_equal(out, exp, rtol=rtol, atol=atol, names=(name, "expected"), equal_nan=equal_nan)
    return outputs


def check_symbolic_backward(sym, location, out_grads, expected, rtol=1e-5, atol=None, aux_states=None,
                            grad_req="write", ctx=None, grad_stypes=None, equal_nan=False,  # noqa: FBT002
                            dtype=np.float32):
    """Run forward (is_train=True) and backward with `out_grads`; compare the gradients with `expected`.

    `expected` is a list in list_arguments() order or a dict (only the named arguments are compared).
    With grad_req='add' the gradient arrays start from random values, which are added to `expected` for
    the comparison (MXNet's semantics).
    """
    from .. import ndarray as nd
    from ..context import current_context
    from . import assert_almost_equal

    ctx = ctx or current_context()
    names = sym.list_arguments()
    expected = _named(names, expected, "expected")
    reqs = grad_req if isinstance(grad_req, Mapping) else dict.fromkeys(names, grad_req)
    location = _named(names, location, "location")
    rng = np.random.default_rng(0)
    initial = {n: rng.normal(size=np.shape(location[n])).astype(dtype or np.float32) for n in names}
    grads = {n: nd.array(initial[n], ctx=ctx, dtype=dtype) for n in names if reqs.get(n, "null") != "null"}
    exe, _ = _bind(sym, location, aux_states, ctx, dtype, reqs, grads)
    exe.forward(is_train=True)
    if isinstance(out_grads, Mapping):
        out_grads = [out_grads[n] for n in sym.list_outputs()]
    elif out_grads is not None and not isinstance(out_grads, (list, tuple)):
        out_grads = [out_grads]
    ograds = None if out_grads is None else [nd.array(np.asarray(g), ctx=ctx, dtype=dtype) for g in out_grads]
    exe.backward(ograds)
    got = {n: g.asnumpy() for n, g in exe.grad_dict.items()}
    for name, exp in expected.items():
        req = reqs.get(name, "null")
        if req == "null":
            continue
        want = np.asarray(exp) + (initial[name] if req == "add" else 0)
        assert_almost_equal(got[name], want, rtol=rtol, atol=atol, names=(f"grad of {name}", "expected"),
                            equal_nan=equal_nan)
    return got

