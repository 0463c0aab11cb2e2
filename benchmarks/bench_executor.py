"""Executor vs imperative (asv): a chain of 10 elementwise float32 operators through a compiled executor
and through `mx.nd`, on tiny arrays (overhead) and 10^6 elements (memory traffic, buffer planning)."""

from __future__ import annotations

import numpy as np

import mxplug as mx
from mxplug.bench import parse_context, usable_contexts

CONTEXTS = [repr(c) for c in usable_contexts()]
SIZES = (1, 10**6)


def _chain(x):
    for i in range(10):
        x = x * 1.0001 if i % 2 else x + 0.5
    return x


class ExecutorChain:
    params = (CONTEXTS, SIZES)
    param_names = ("ctx", "size")

    def setup(self, ctx: str, size: int) -> None:
        self.ctx = parse_context(ctx)
        self.x = mx.nd.array(np.random.default_rng(0).uniform(size=size).astype("float32"), ctx=self.ctx)
        self.exe = _chain(mx.sym.var("x")).simple_bind(self.ctx, grad_req="null", x=(size,))
        self.exe.forward(x=self.x)

    def time_executor(self, ctx: str, size: int) -> None:
        self.exe.forward()[0].wait_to_read()

    def time_imperative(self, ctx: str, size: int) -> None:
        _chain(self.x).wait_to_read()


class ExecutorTrainStep:
    """forward(is_train=True) + backward of the same chain."""

    params = (CONTEXTS,)
    param_names = ("ctx",)

    def setup(self, ctx: str) -> None:
        self.ctx = parse_context(ctx)
        self.exe = _chain(mx.sym.var("x")).simple_bind(self.ctx, x=(1000,))
        self.exe.forward(is_train=True)
        self.exe.backward()

    def time_forward_backward(self, ctx: str) -> None:
        self.exe.forward(is_train=True)
        self.exe.backward()
