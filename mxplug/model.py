"""`mx.model`: MXNet's checkpoint files — ``prefix-symbol.json`` and ``prefix-%04d.params`` (keys
``arg:<name>`` / ``aux:<name>``), readable by MXNet 1.9 and written atomically.

>>> import mxplug as mx, os, tempfile
>>> prefix = os.path.join(tempfile.mkdtemp(), "net")
>>> net = mx.sym.exp(mx.sym.var('x'))
>>> mx.model.save_checkpoint(prefix, 3, net, {'x': mx.nd.ones((2,))}, {})
>>> sym, args, aux = mx.model.load_checkpoint(prefix, 3)
>>> sym.list_arguments(), args['x'].shape, aux
(['x'], (2,), {})
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from .base import FileFormatError
from .context import cpu

__all__ = ["save_checkpoint", "load_checkpoint", "load_params"]

log = logging.getLogger("mxplug.model")


def save_checkpoint(prefix: str, epoch: int, symbol, arg_params: Mapping, aux_params: Mapping,
                    remove_amp_cast: bool = True) -> None:  # noqa: FBT001
    """Write ``prefix-symbol.json`` (when `symbol` is given) and ``prefix-%04d.params``, each atomically."""
    from . import ndarray as nd

    if symbol is not None:
        symbol.save(f"{prefix}-symbol.json")
    save_dict = {f"arg:{k}": v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({f"aux:{k}": v.as_in_context(cpu()) for k, v in aux_params.items()})
    param_name = "%s-%04d.params" % (prefix, epoch)  # noqa: UP031 — MXNet's exact file name
    nd.save(param_name, save_dict)
    log.info('Saved checkpoint to "%s"', param_name)


def load_params(prefix: str, epoch: int) -> tuple[dict, dict]:
    """(arg_params, aux_params) from ``prefix-%04d.params``."""
    from . import ndarray as nd

    fname = "%s-%04d.params" % (prefix, epoch)  # noqa: UP031
    save_dict = nd.load(fname)
    arg_params: dict = {}
    aux_params: dict = {}
    if not save_dict:
        log.warning("Params file '%s' is empty", fname)
        return arg_params, aux_params
    if not isinstance(save_dict, dict):
        raise FileFormatError(f"{fname}: a checkpoint's arrays must be named 'arg:<name>' or 'aux:<name>', "
                              "this file has no names")
    for key, value in save_dict.items():
        kind, sep, name = key.partition(":")
        if not sep or kind not in ("arg", "aux"):
            raise FileFormatError(f"{fname}: array name {key!r} is not 'arg:<name>' or 'aux:<name>'")
        (arg_params if kind == "arg" else aux_params)[name] = value
    return arg_params, aux_params


def load_checkpoint(prefix: str, epoch: int):
    """(symbol, arg_params, aux_params) from ``prefix-symbol.json`` and ``prefix-%04d.params``."""
    from .symbol import load

    symbol = load(f"{prefix}-symbol.json")
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params
