"""Kernel tables of the OpenCL backend, one module per class of operator, each `make_kernels(...) -> {op: fn}`."""

from __future__ import annotations

from . import elemwise, index, init, linalg, movement, nn, norm, random, reduce, sequence, sort

# Operators whose kernels only move bits: they serve every dtype of a size, bool included.
DTYPE_FREE = (frozenset(init.make_kernels(lambda ctx: None)) | frozenset(movement.make_kernels())
              | frozenset(index.make_kernels())) - {"one_hot"}


def make_all_kernels(device_of) -> dict:
    """{operator: kernel} for every operator this backend serves; `device_of(ctx)` resolves creation contexts."""
    table: dict = {}
    for part in (elemwise.make_kernels(), reduce.make_kernels(), movement.make_kernels(), index.make_kernels(),
                 linalg.make_kernels(), init.make_kernels(device_of), nn.make_kernels(), norm.make_kernels(),
                 random.make_kernels(device_of), sort.make_kernels(), sequence.make_kernels()):
        clash = table.keys() & part.keys()
        if clash:
            raise ValueError(f"kernels defined twice: {sorted(clash)}")
        table.update(part)
    return table
