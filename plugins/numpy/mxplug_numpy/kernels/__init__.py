"""Kernel tables, one module per operator family, each built over an array module by ``make_kernels(xp)``.

Families that draw random numbers (`RANDOM_FAMILIES`) are built by ``make_kernels(xp, rng)`` instead:
``rng(ctx) -> Generator`` is the backend's generator source (see `kernels.random`).
"""

from __future__ import annotations

import importlib

FAMILIES = (
    "elemwise", "reduce", "shape", "index", "linalg", "sort", "random", "init", "misc", "conv", "nn", "norm", "rnn",
    "custom",
)
RANDOM_FAMILIES = frozenset({"random", "nn", "rnn"})  # Dropout, rrelu, RNN's inter-layer dropout


def make_all_kernels(xp, rng=None) -> dict:
    """{operator name: kernel} for every family, over `xp` (numpy or a compatible module such as cupy), the
    random families drawing from the generators ``rng(ctx)`` returns (None: one private generator that
    `mx.random.seed` does not reach — enough for listing kernels or for a test backend).

    A kernel may be split by dtype, ``{("float32", "float64"): fast, None: general}``, registered in that order.
    """
    table: dict = {}
    for family in FAMILIES:
        module = importlib.import_module(f"{__name__}.{family}")
        part = module.make_kernels(xp, rng) if family in RANDOM_FAMILIES else module.make_kernels(xp)
        clash = table.keys() & part.keys()
        if clash:
            raise ValueError(f"kernels defined twice: {sorted(clash)}")
        table.update(part)
    return table


def register_table(register, backend: str, table: dict) -> None:
    """Register a kernel table through a plugin hook's `register` callback, unfolding per-dtype entries
    (specific dtype groups first, so they win over the general kernel). Used by every backend built on
    these tables (numpy here; cupy reuses it)."""
    for op, fn in table.items():
        for dtypes, kernel in fn.items() if isinstance(fn, dict) else ((None, fn),):
            register(op, backend, kernel, dtypes=dtypes)
