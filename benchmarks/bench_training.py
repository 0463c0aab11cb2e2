"""Training steps per context: forward, backward and the SGD update of a small network.

MLP 784-256-256-10 (dot + relu, squared error, plain SGD), the workload of `mxplug bench`'s `mlp_step`.
`MLPNumpy` is the same step written directly in NumPy with a hand-derived backward: the floor.
LeNet arrives with `Convolution` and `Pooling`, which do not exist yet.
"""

from __future__ import annotations

import mxplug as mx
from mxplug.bench import mlp_step, numpy_mlp_step, parse_context, usable_contexts

CONTEXTS = [repr(c) for c in usable_contexts()]
BATCHES = [64]


def _require(*ops: str) -> None:
    missing = [op for op in ops if not hasattr(mx.nd, op)]
    if missing:
        raise NotImplementedError(f"operators not registered yet: {', '.join(missing)}")


class MLP:
    params = (CONTEXTS, BATCHES)
    param_names = ("ctx", "batch")

    def setup(self, ctx: str, batch: int) -> None:
        _require("dot", "relu", "sum")
        self.step = mlp_step(parse_context(ctx), batch)
        first, second = float(self.step().asscalar()), float(self.step().asscalar())
        if not second < first:  # SGD on a fixed batch must lower the loss: a broken gradient shows here
            raise RuntimeError(f"MLP loss did not fall ({first} -> {second})")

    def time_step(self, ctx: str, batch: int) -> None:
        self.step()

    def track_samples_per_second(self, ctx: str, batch: int) -> float:
        from mxplug.bench import median_time

        return round(batch / median_time(self.step, repeat=5, min_time=0.05), 1)

    track_samples_per_second.unit = "samples/s"


class MLPNumpy:
    params = (BATCHES,)
    param_names = ("batch",)

    def setup(self, batch: int) -> None:
        self.step = numpy_mlp_step(batch)

    def time_step(self, batch: int) -> None:
        self.step()
