"""Hand-written norm-family benchmarks on the shapes of issue #4 (bench_ops covers every operator on its
generic small/large cases).

- ``BatchNorm``: a ResNet activation (32x64x56x56, float32): the training forward (batch statistics), the
  predict forward (moving statistics), and training forward + backward (data, gamma and beta gradients and the
  moving-statistics update, one `_backward_BatchNorm` call).
- ``LayerNorm``: a transformer activation (32x128 tokens x 1024 features, normalised over the last axis),
  forward and forward + backward.
- ``GroupNorm``: 32 groups over the BatchNorm activation, forward and forward + backward.
"""

from __future__ import annotations

import numpy as np

import mxplug as mx


def _arrays(*shapes, grad: bool = True):
    rng = np.random.default_rng(0)
    out = [mx.nd.array(rng.standard_normal(s)) for s in shapes]
    if grad:
        for a in out:
            a.attach_grad()
    return out


def _backward(fn, head, grads) -> None:
    with mx.autograd.record():
        y = fn()
    y.backward(head)
    for g in grads:
        g.grad.wait_to_read()


class BatchNorm:
    repeat = (3, 10, 10.0)

    def setup(self) -> None:
        self.x, self.gamma, self.beta = _arrays((32, 64, 56, 56), (64,), (64,))
        self.moving_mean, self.moving_var = mx.nd.zeros((64,)), mx.nd.ones((64,))
        self.head = mx.nd.ones_like(self.x)

    def _forward(self):
        return mx.nd.BatchNorm(self.x, self.gamma, self.beta, self.moving_mean, self.moving_var, fix_gamma=False)

    def time_forward_train(self) -> None:
        with mx.autograd.train_mode():
            self._forward().wait_to_read()

    def time_forward_predict(self) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self) -> None:
        _backward(self._forward, self.head, (self.x, self.gamma, self.beta))


class LayerNorm:
    repeat = (3, 10, 10.0)

    def setup(self) -> None:
        self.x, self.gamma, self.beta = _arrays((32 * 128, 1024), (1024,), (1024,))
        self.head = mx.nd.ones_like(self.x)

    def _forward(self):
        return mx.nd.LayerNorm(self.x, self.gamma, self.beta)

    def time_forward(self) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self) -> None:
        _backward(self._forward, self.head, (self.x, self.gamma, self.beta))


class GroupNorm:
    repeat = (3, 10, 10.0)

    def setup(self) -> None:
        self.x, self.gamma, self.beta = _arrays((32, 64, 56, 56), (32,), (32,))
        self.head = mx.nd.ones_like(self.x)

    def _forward(self):
        return mx.nd.GroupNorm(self.x, self.gamma, self.beta, num_groups=32)

    def time_forward(self) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self) -> None:
        _backward(self._forward, self.head, (self.x, self.gamma, self.beta))
