"""Inference, gradients and composites of the operators, one module per family, keyed by registry name.

Each family module registers, beside one another, for each operator of `registry/<family>.toml`:

- ``@infer("op")``: ``fn(attrs, *specs) -> TensorSpec | list[TensorSpec]`` — output shapes and dtypes from
  the inputs' (a `TensorSpec` per input, None for an absent optional input). Raises ShapeError/DTypeError.
- ``@gradient("op")``: ``fn(F, attrs, inputs, outputs, out_grads) -> list`` — one gradient (or None) per
  input, written with the operators of ``F`` (``mx.nd`` when imperative, ``mx.sym`` in graphs), so it is
  itself differentiable (higher-order gradients) and runs on whatever backend the forward ran on.
- ``@composite("op")``: ``fn(F, attrs, *inputs)`` — an operator built from other operators; it needs neither
  a kernel nor a gradient of its own.
- ``@num_outputs("op")``: ``fn(attrs) -> int`` where the count depends on attributes (split, topk).
- ``@visible_outputs("op")``: ``fn(attrs) -> int`` when only the first outputs are returned to the user
  (Dropout's mask, BatchNorm's batch mean/var unless ``output_mean_var``); the gradient still sees them all.
- ``@input_names("op")``: ``fn(attrs) -> list[str]`` the inputs the operator takes under these attributes
  (FullyConnected without ``bias`` when ``no_bias``); Symbol creates variables for exactly these.
- ``@infer_inputs("op")``: ``fn(attrs, *specs) -> list[TensorSpec | None]`` backward inference for graphs:
  given the inputs' specs (None where unknown), the specs of every input it can deduce (FullyConnected's
  weight from data and num_hidden); None where still unknown.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "TensorSpec", "OpRules", "rules", "infer", "gradient", "composite", "num_outputs", "visible_outputs",
    "input_names", "infer_inputs", "FAMILIES",
]


class TensorSpec(NamedTuple):
    """Shape and dtype of one tensor, what inference reads and returns."""

    shape: tuple[int, ...]
    dtype: np.dtype


@dataclass
class OpRules:
    infer: Callable[..., Any] | None = None
    gradient: Callable[..., Any] | None = None
    composite: Callable[..., Any] | None = None
    num_outputs: Callable[[dict], int] | None = None
    visible_outputs: Callable[[dict], int] | None = None
    input_names: Callable[[dict], list[str]] | None = None
    infer_inputs: Callable[..., Any] | None = None


_RULES: dict[str, OpRules] = {}

# The families whose rules live here; each has registry/<family>.toml beside it.
FAMILIES = (
    "elemwise", "reduce", "shape", "index", "linalg", "sort", "random", "init", "misc", "conv", "nn", "norm", "rnn",
    "custom",
)


def _decorator(field: str, names: tuple[str, ...]):
    def deco(fn):
        for name in names:
            setattr(_RULES.setdefault(name, OpRules()), field, fn)
        return fn

    return deco


def infer(*names: str):
    """Register the shape/dtype inference of operators."""
    return _decorator("infer", names)


def gradient(*names: str):
    """Register the gradient formula of operators."""
    return _decorator("gradient", names)


def composite(*names: str):
    """Register an operator implemented from other operators."""
    return _decorator("composite", names)


def num_outputs(*names: str):
    """Register the attribute-dependent output count of operators."""
    return _decorator("num_outputs", names)


def visible_outputs(*names: str):
    """Register how many leading outputs the user sees."""
    return _decorator("visible_outputs", names)


def input_names(*names: str):
    """Register the attribute-dependent list of inputs an operator takes."""
    return _decorator("input_names", names)


def infer_inputs(*names: str):
    """Register the backward shape inference (unknown input specs from known ones) used by graphs."""
    return _decorator("infer_inputs", names)


_loaded = False


def _load_families() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for family in FAMILIES:
            importlib.import_module(f"{__name__}.{family}")


def rules(name: str) -> OpRules:
    """The rules of an operator (empty rules when none are registered)."""
    _load_families()
    return _RULES.get(name) or OpRules()


def all_rules() -> dict[str, OpRules]:
    _load_families()
    return dict(_RULES)
