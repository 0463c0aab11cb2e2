"""Hand-written conv-family benchmarks on the reference layers of issue #4 (bench_ops covers every operator on
its generic small/large cases; these are the shapes the speed targets are stated for).

- ``Conv.time_forward`` / ``time_forward_backward``: LeNet conv1 (64x1x28x28, 20 filters 5x5) and a ResNet-style
  3x3 layer (32x64x56x56, 64 filters, pad 1); the backward computes data, weight and bias gradients.
- ``Deconv``: the adjoint of the 3x3 layer with stride 2 (a decoder's upsampling layer).
- ``Pool``: 2x2/2 max and 3x3/2 avg pooling of a 32x64x56x56 activation, forward and backward.
- ``Dense``: FullyConnected 64x800 -> 500 (LeNet's first dense layer), forward and backward.

`benchmarks/conv_speed.py` prints the same convolutions against NumPy's sgemm floor.
"""

from __future__ import annotations

import numpy as np

import mxplug as mx


def _arrays(*shapes, grad: bool = True):
    rng = np.random.default_rng(0)
    out = [mx.nd.array(rng.standard_normal(s) * 0.1) for s in shapes]
    if grad:
        for a in out:
            a.attach_grad()
    return out


def _backward(fn, head, grads):
    with mx.autograd.record():
        y = fn()
    y.backward(head)
    for g in grads:
        g.grad.wait_to_read()


class Conv:
    params = (["lenet_conv1", "conv3x3_56"],)
    param_names = ("layer",)
    LAYERS = {
        "lenet_conv1": ((64, 1, 28, 28), 20, (5, 5), (0, 0)),
        "conv3x3_56": ((32, 64, 56, 56), 64, (3, 3), (1, 1)),
    }
    repeat = (3, 10, 10.0)

    def setup(self, layer: str) -> None:
        shape, filters, kernel, pad = self.LAYERS[layer]
        self.x, self.w, self.b = _arrays(shape, (filters, shape[1], *kernel), (filters,))
        self.attrs = {"kernel": kernel, "pad": pad, "num_filter": filters}
        self.head = mx.nd.ones_like(self._forward())

    def _forward(self):
        return mx.nd.Convolution(self.x, self.w, self.b, **self.attrs)

    def time_forward(self, layer: str) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self, layer: str) -> None:
        _backward(self._forward, self.head, (self.x, self.w, self.b))


class Deconv:
    repeat = (3, 10, 10.0)

    def setup(self) -> None:
        self.x, self.w = _arrays((16, 64, 28, 28), (64, 32, 3, 3))
        self.attrs = {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "adj": (1, 1), "num_filter": 32}
        self.head = mx.nd.ones_like(self._forward())

    def _forward(self):
        return mx.nd.Deconvolution(self.x, self.w, **self.attrs)

    def time_forward(self) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self) -> None:
        _backward(self._forward, self.head, (self.x, self.w))


class Pool:
    params = (["max2x2s2", "avg3x3s2p1"],)
    param_names = ("pool",)
    POOLS = {
        "max2x2s2": {"kernel": (2, 2), "stride": (2, 2), "pool_type": "max"},
        "avg3x3s2p1": {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg"},
    }

    def setup(self, pool: str) -> None:
        (self.x,) = _arrays((32, 64, 56, 56))
        self.attrs = self.POOLS[pool]
        self.head = mx.nd.ones_like(self._forward())

    def _forward(self):
        return mx.nd.Pooling(self.x, **self.attrs)

    def time_forward(self, pool: str) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self, pool: str) -> None:
        _backward(self._forward, self.head, (self.x,))


class Dense:
    def setup(self) -> None:
        self.x, self.w, self.b = _arrays((64, 800), (500, 800), (500,))
        self.head = mx.nd.ones((64, 500))

    def _forward(self):
        return mx.nd.FullyConnected(self.x, self.w, self.b, num_hidden=500)

    def time_forward(self) -> None:
        self._forward().wait_to_read()

    def time_forward_backward(self) -> None:
        _backward(self._forward, self.head, (self.x, self.w, self.b))
