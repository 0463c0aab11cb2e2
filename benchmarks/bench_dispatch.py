"""Dispatch overhead: tiny operators, where the time is mxplug's own (argument handling, inference,
kernel lookup, wrapping, tape recording), not the arithmetic.

`NumpyFloor` times the same calls on bare NumPy arrays: it moves with the machine, not with mxplug, so a
jump in both is the machine and a jump in `Dispatch` alone is a regression.

Executor vs imperative and hybridized vs imperative suites arrive with `mx.sym` and `mx.gluon`, which do
not exist yet.
"""

from __future__ import annotations

import numpy as np

import mxplug as mx
from mxplug.bench import parse_context, usable_contexts

CONTEXTS = [repr(c) for c in usable_contexts()]


class Dispatch:
    """One-element float32 operands: per-call overhead on each context."""

    params = (CONTEXTS,)
    param_names = ("ctx",)

    def setup(self, ctx: str) -> None:
        self.ctx = parse_context(ctx)
        self.a = mx.nd.ones((1,), ctx=self.ctx)
        self.b = mx.nd.ones((1,), ctx=self.ctx)
        self.host = np.ones((1,), "float32")
        self.x = mx.nd.ones((1,), ctx=self.ctx)
        self.x.attach_grad()

    def time_add_operator(self, ctx: str) -> None:
        """`a + b`: the inlined Python-operator path."""
        self.a + self.b

    def time_add_function(self, ctx: str) -> None:
        """`mx.nd.broadcast_add(a, b)`: the generated function (binding, attribute parsing)."""
        mx.nd.broadcast_add(self.a, self.b)

    def time_add_scalar(self, ctx: str) -> None:
        self.a + 1.0

    def time_sum(self, ctx: str) -> None:
        mx.nd.sum(self.a)

    def time_array_from_numpy(self, ctx: str) -> None:
        mx.nd.array(self.host, ctx=self.ctx)

    def time_asnumpy(self, ctx: str) -> None:
        self.a.asnumpy()

    def time_record_add_backward(self, ctx: str) -> None:
        """Record one add, then backward: the smallest complete autograd round trip."""
        with mx.autograd.record():
            y = self.x * self.b
        y.backward()


class DispatchRecording:
    """The same tiny operators while autograd records (the scope is entered once, in setup)."""

    params = (CONTEXTS,)
    param_names = ("ctx",)

    def setup(self, ctx: str) -> None:
        c = parse_context(ctx)
        self.a, self.b = mx.nd.ones((1,), ctx=c), mx.nd.ones((1,), ctx=c)
        self.a.attach_grad()
        self.scope = mx.autograd.record()
        self.scope.__enter__()
        if not mx.autograd.is_recording():
            raise RuntimeError("autograd is not recording: the benchmark would measure the wrong path")

    def teardown(self, ctx: str) -> None:
        self.scope.__exit__(None, None, None)

    def time_add_operator(self, ctx: str) -> None:
        self.a + self.b

    def time_add_function(self, ctx: str) -> None:
        mx.nd.broadcast_add(self.a, self.b)

    def time_mul_scalar(self, ctx: str) -> None:
        self.a * 2.0


class NumpyFloor:
    """The bare NumPy calls under the `Dispatch` figures."""

    def setup(self) -> None:
        self.a, self.b = np.ones((1,), "float32"), np.ones((1,), "float32")

    def time_add(self) -> None:
        self.a + self.b

    def time_add_scalar(self) -> None:
        self.a + np.float32(1.0)

    def time_sum(self) -> None:
        self.a.sum()
