"""Kernel tables, one module per operator family, each built over an array module by ``make_kernels(xp)``."""

from __future__ import annotations

import importlib

FAMILIES = ("elemwise", "reduce", "shape", "index", "linalg", "sort", "random", "init", "misc")


def make_all_kernels(xp) -> dict:
    """{operator name: kernel} for every family, over `xp` (numpy or a compatible module such as cupy)."""
    table: dict = {}
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        part = module.make_kernels(xp)
        clash = table.keys() & part.keys()
        if clash:
            raise ValueError(f"kernels defined twice: {sorted(clash)}")
        table.update(part)
    return table
