"""Memory: sizes of objects mxplug keeps (mem_, measured by pympler) and peak resident memory of whole
workloads (peakmem_, the process's maximum RSS, so it includes the interpreter and imports).

asv's mem_ measures what a shallow copy of the returned object duplicates, which for an NDArray is its data
but not the autograd tape behind it; `track_recorded_chain_bytes` therefore measures everything a recorded
output keeps reachable with pympler directly. A growth there means the tape keeps more per node; a growth
in the peakmem_ figures with the same inputs means a workload holds more intermediates alive.
"""

from __future__ import annotations

import mxplug as mx
from mxplug.bench import mlp_step, parse_context, usable_contexts

CONTEXTS = [repr(c) for c in usable_contexts()]
_CHAIN = 10


def mem_ndarray_1m_float32():
    """An NDArray of 2^20 float32 elements: 4 MiB of data plus the wrapper."""
    return mx.nd.zeros((1024, 1024))


def track_recorded_chain_bytes() -> int:
    """Bytes reachable from the output of ten recorded multiplications of a (256, 256) variable: the
    output, the tape behind it and the arrays the tape saves for backward (256 KiB each)."""
    from pympler.asizeof import asizeof

    x = mx.nd.ones((256, 256))
    x.attach_grad()
    with mx.autograd.record():
        y = x
        for _ in range(_CHAIN):
            y = y * x
    return asizeof(y)


track_recorded_chain_bytes.unit = "bytes"


class PeakMemory:
    params = (CONTEXTS,)
    param_names = ("ctx",)

    def setup(self, ctx: str) -> None:
        self.ctx = parse_context(ctx)

    def peakmem_forward_backward_chain(self, ctx: str) -> None:
        """Ten recorded multiplications of 2^20 elements and their backward pass."""
        x = mx.nd.ones((1024, 1024), ctx=self.ctx)
        x.attach_grad()
        with mx.autograd.record():
            y = x
            for _ in range(_CHAIN):
                y = y * x
        y.backward()
        x.grad.wait_to_read()



class PeakMemoryMLP:
    params = (CONTEXTS,)
    param_names = ("ctx",)

    def setup(self, ctx: str) -> None:
        missing = [op for op in ("dot", "relu", "sum") if not hasattr(mx.nd, op)]
        if missing:
            raise NotImplementedError(f"operators not registered yet: {', '.join(missing)}")
        self.ctx = parse_context(ctx)

    def peakmem_mlp_step(self, ctx: str) -> None:
        """Building the MLP of bench_training and one training step."""
        mlp_step(self.ctx)()
