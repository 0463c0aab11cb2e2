"""`check_consistency` with MXNet's names and meanings: run one computation on several contexts and dtypes,
and compare every output and gradient with the most precise run.

MXNet's form takes a Symbol and a list of dicts ``{'ctx': mx.cpu(0), 'data': (2, 3), 'type_dict':
{'data': np.float32}}``. Here the computation is a callable over NDArrays (its positional parameter names
are the input names) and each entry is such a dict or a bare Context. Symbols are handed to
`SYMBOL_CONSISTENCY`, which `mxplug.symbol` installs when it is imported (the extension point; it receives
the same arguments).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import autograd

__all__ = ["check_consistency", "SYMBOL_CONSISTENCY", "default_tols"]

# MXNet's default tolerances per dtype (test_utils.check_consistency).
default_tols = {np.dtype("float16"): 1e-1, np.dtype("float32"): 1e-3, np.dtype("float64"): 1e-5,
                np.dtype("uint8"): 0, np.dtype("int32"): 0, np.dtype("int64"): 0}

# Set by mxplug.symbol: fn(sym, ctx_list, **the keyword arguments of check_consistency) -> ground truth.
SYMBOL_CONSISTENCY: Callable[..., Any] | None = None


def _input_names(fn: Callable) -> list[str]:
    params = inspect.signature(fn).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.default is p.empty]


def _entry(item: Any) -> dict:
    from ..context import Context

    if isinstance(item, Context):
        return {"ctx": item}
    if isinstance(item, Mapping) and "ctx" in item:
        return dict(item)
    raise TypeError(f"check_consistency: each ctx_list entry is a Context or a dict with 'ctx', got {item!r}")


def _precision(entry: dict, names: Sequence[str]) -> float:
    types = entry.get("type_dict", {})
    return max((np.finfo(np.dtype(types[n])).bits if np.issubdtype(np.dtype(types[n]), np.floating) else 0
                for n in names if n in types), default=32)


def _run(fn: Callable, names: list[str], values: dict[str, np.ndarray], entry: dict, grad_req: str,
         head_seed: int):
    from .. import ndarray as nd

    ctx = entry["ctx"]
    types = entry.get("type_dict", {})
    arrays = [nd.array(values[n], ctx=ctx, dtype=types.get(n, "float32")) for n in names]
    if grad_req != "null":
        for a in arrays:
            if np.issubdtype(a.dtype, np.floating):
                a.attach_grad(grad_req)
    with autograd.record():
        out = fn(*arrays)
    outs = [out] if not isinstance(out, (list, tuple)) else list(out)
    grads = []
    if grad_req != "null":
        rng = np.random.default_rng(head_seed)
        heads = [nd.array(rng.normal(size=o.shape), ctx=ctx, dtype=o.dtype) for o in outs]
        autograd.backward(outs, heads)
        grads = [a.grad.asnumpy() if a._ag is not None and a._ag.grad is not None else None for a in arrays]
    return [o.asnumpy() for o in outs], grads


def check_consistency(fn_or_sym: Any, ctx_list: Sequence[Any], scale: float = 1.0, grad_req: str = "write",
                      arg_params: Mapping[str, np.ndarray] | None = None, aux_params=None, tol=None,
                      raise_on_err: bool = True, ground_truth=None, equal_nan: bool = False,  # noqa: FBT001
                      use_uniform: bool = False, rand_type=np.float64, *,  # noqa: FBT001
                      shapes: Mapping[str, tuple[int, ...]] | None = None, seed: int = 0):
    """Run `fn_or_sym` on every entry of `ctx_list` and check outputs and gradients agree with the run in the
    most precise dtype (or with `ground_truth`: {'output': [...], 'grads': [...]} as returned before).

    Inputs are drawn once (normal, or uniform with `use_uniform`, times `scale`, in `rand_type`) with shapes
    from the entries (``'data': (2, 3)``) or `shapes`, unless `arg_params` gives them. `tol` is a float or a
    {dtype: tolerance} dict (default MXNet's: float16 1e-1, float32 1e-3, float64 1e-5). Returns the ground
    truth. With ``raise_on_err=False`` mismatches are printed instead of raised.

    >>> import numpy as np, mxplug as mx
    >>> _ = check_consistency(lambda data: mx.nd.tanh(data) * 2,
    ...                       [{'ctx': mx.cpu(0), 'data': (2, 3), 'type_dict': {'data': np.float32}},
    ...                        {'ctx': mx.cpu(0), 'data': (2, 3), 'type_dict': {'data': np.float64}}])
    """
    from . import assert_almost_equal

    if hasattr(fn_or_sym, "list_arguments") or not callable(fn_or_sym):
        if SYMBOL_CONSISTENCY is None:
            import mxplug.symbol  # noqa: F401 — installs SYMBOL_CONSISTENCY
        return SYMBOL_CONSISTENCY(fn_or_sym, ctx_list, scale=scale, grad_req=grad_req, arg_params=arg_params,
                                  aux_params=aux_params, tol=tol, raise_on_err=raise_on_err,
                                  ground_truth=ground_truth, equal_nan=equal_nan, use_uniform=use_uniform,
                                  rand_type=rand_type)
    names = _input_names(fn_or_sym)
    entries = [_entry(e) for e in ctx_list]
    rng = np.random.default_rng(seed)
    values = {}
    for n in names:
        if arg_params and n in arg_params:
            values[n] = np.asarray(arg_params[n])
            continue
        shape = next((e[n] for e in entries if n in e), None) or (shapes or {}).get(n)
        if shape is None:
            raise ValueError(f"check_consistency: no shape for input '{n}' (give it in a ctx_list entry or shapes=)")
        draw = rng.uniform(-1.0, 1.0, size=shape) if use_uniform else rng.normal(size=shape)
        values[n] = (draw * scale).astype(rand_type)
    runs = [_run(fn_or_sym, names, values, e, grad_req, seed + 1) for e in entries]
    best = max(range(len(entries)), key=lambda i: _precision(entries[i], names))
    truth = ground_truth or {"output": runs[best][0], "grads": runs[best][1]}
    tols = tol if isinstance(tol, Mapping) else (default_tols if tol is None else None)
    for i, (outs, grads) in enumerate(runs):
        pairs = [("output", k, o, t) for k, (o, t) in enumerate(zip(outs, truth["output"], strict=True))]
        pairs += [("gradient of", names[k], g, t) for k, (g, t) in enumerate(zip(grads, truth["grads"], strict=True))
                  if g is not None and t is not None]
        for what, which, got, want in pairs:
            t = tols.get(np.dtype(got.dtype), 1e-3) if tols is not None else tol
            try:
                assert_almost_equal(got, want.astype(got.dtype) if want.dtype != got.dtype else want, rtol=t,
                                    atol=t, names=(f"{what} {which} on entry {i}", "the most precise run"),
                                    equal_nan=equal_nan)
            except AssertionError as e:
                if raise_on_err:
                    raise
                print(f"check_consistency: {e}")
    return truth
