"""`check_consistency` on a Symbol (MXNet's `test_utils.check_consistency`): installed by `mxplug.symbol` as
`mxplug.testing.consistency.SYMBOL_CONSISTENCY`.

Each ctx_list entry is bound with `simple_bind` (its shapes, its ``type_dict``); every executor gets the
same random arguments and auxiliary states (drawn once, cast to each executor's dtypes), runs forward in
training mode and backward with its own outputs as head gradients (as MXNet does), and its outputs and
gradients are compared with those of the most precise executor (or `ground_truth`), at the tolerance of the
compared array's dtype.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..testing.consistency import _entry  # one reading of MXNet's ctx_list entries

__all__ = ["check_symbol_consistency"]


def _bind(sym, entry: dict, grad_req: str):
    shapes = {k: v for k, v in entry.items() if k not in ("ctx", "type_dict")}
    return sym.simple_bind(entry["ctx"], grad_req=grad_req, type_dict=entry.get("type_dict"), **shapes)


def _draw(shape, rng, scale: float, use_uniform: bool, rand_type) -> np.ndarray:  # noqa: FBT001
    draw = rng.uniform(-1.0, 1.0, size=shape) if use_uniform else rng.normal(size=shape)
    return (draw * scale).astype(rand_type)


def _precision(exe) -> int:
    return max((np.dtype(a.dtype).itemsize for a in exe.arg_arrays if np.dtype(a.dtype).kind == "f"), default=0)


def check_symbol_consistency(sym, ctx_list: Sequence[Any], scale: float = 1.0, grad_req: str = "write",
                             arg_params: Mapping | None = None, aux_params: Mapping | None = None, tol=None,
                             raise_on_err: bool = True, ground_truth=None, equal_nan: bool = False,  # noqa: FBT001
                             use_uniform: bool = False, rand_type=np.float64, seed: int = 0):  # noqa: FBT001
    """Bind `sym` on every entry of `ctx_list`, run it on the same inputs, compare outputs and gradients with
    the most precise run; returns the ground truth ``{'output': [...], 'grads': {name: array}}``."""
    from ..testing import assert_almost_equal
    from ..testing.consistency import default_tols

    entries = [_entry(e) for e in ctx_list]
    exes = [_bind(sym, e, grad_req) for e in entries]
    rng = np.random.default_rng(seed)
    arg_params = dict(arg_params or {})
    aux_params = dict(aux_params or {})
    for name, arr in exes[0].arg_dict.items():
        arg_params.setdefault(name, _draw(arr.shape, rng, scale, use_uniform, rand_type))
    for name, arr in exes[0].aux_dict.items():
        aux_params.setdefault(name, _draw(arr.shape, rng, scale, use_uniform, rand_type))
    outputs, grads = [], []
    for exe in exes:
        for table, params in ((exe.arg_dict, arg_params), (exe.aux_dict, aux_params)):
            for name, arr in table.items():
                arr[:] = np.asarray(params[name]).astype(arr.dtype)
        outs = exe.forward(is_train=True)
        if grad_req != "null":
            exe.backward([o.copy() for o in outs])
        outputs.append([o.asnumpy() for o in outs])
        grads.append({n: g.asnumpy() for n, g in exe.grad_dict.items()} if grad_req != "null" else {})
    best = max(range(len(exes)), key=lambda i: _precision(exes[i]))
    truth = ground_truth or {"output": outputs[best], "grads": grads[best]}
    tols = tol if isinstance(tol, Mapping) else (default_tols if tol is None else None)
    for i, (outs, gs) in enumerate(zip(outputs, grads, strict=True)):
        pairs = [(f"output {k}", o, t) for k, (o, t) in enumerate(zip(outs, truth["output"], strict=True))]
        pairs += [(f"gradient of '{n}'", g, truth["grads"][n]) for n, g in gs.items() if n in truth["grads"]]
        for what, got, want in pairs:
            t = tols.get(np.dtype(got.dtype), 1e-3) if tols is not None else tol
            try:
                assert_almost_equal(got, want.astype(got.dtype), rtol=t, atol=t, equal_nan=equal_nan,
                                    names=(f"{what} on {entries[i]['ctx']} (entry {i})", "the most precise run"))
            except AssertionError as e:
                if raise_on_err:
                    raise
                print(f"check_consistency: {e}")
    return truth


def install() -> None:
    from ..testing import consistency

    consistency.SYMBOL_CONSISTENCY = check_symbol_consistency
