"""Training steps per context: forward, backward and the SGD update of a small network.

MLP 784-256-256-10 (dot + relu, squared error, plain SGD), the workload of `mxplug bench`'s `mlp_step`.
`MLPNumpy` is the same step written directly in NumPy with a hand-derived backward: the floor.
`LeNet` trains LeNet-5 (batch 64, SoftmaxOutput, SGD) imperatively (`mx.nd` + autograd) and through a
bound symbol (`simple_bind`, compiled executor): the two modes compute the same losses, so their ratio is
what the executor saves.
"""

from __future__ import annotations

import mxplug as mx
from mxplug.bench import lenet_step, mlp_step, numpy_mlp_step, parse_context, usable_contexts

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


class LeNet:
    params = (CONTEXTS, ["imperative", "executor"])
    param_names = ("ctx", "mode")
    timeout = 120

    def setup(self, ctx: str, mode: str) -> None:
        _require("Convolution", "Pooling", "FullyConnected", "SoftmaxOutput")
        self.step = lenet_step(parse_context(ctx), 64, mode=mode)
        first = float(self.step().asscalar())
        for _ in range(3):
            last = float(self.step().asscalar())
        if not last < first:  # a few SGD steps on a fixed batch must lower the loss
            raise RuntimeError(f"LeNet loss did not fall ({first} -> {last})")

    def time_step(self, ctx: str, mode: str) -> None:
        self.step().wait_to_read()

    def track_samples_per_second(self, ctx: str, mode: str) -> float:
        from mxplug.bench import median_time

        return round(64 / median_time(lambda: self.step().wait_to_read(), repeat=5, min_time=0.05), 1)

    track_samples_per_second.unit = "samples/s"
