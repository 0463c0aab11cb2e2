"""nn operators at realistic sizes, per context: softmax over a classifier's logits and over attention scores,
Activation on a conv feature map, Dropout in training mode (mask drawn) and in predict mode (copy), and
forward+backward of softmax and SoftmaxOutput. Float32 throughout (float32 must stay float32)."""

from __future__ import annotations

import numpy as np

import mxplug as mx
from mxplug.bench import parse_context, usable_contexts

CONTEXTS = [repr(c) for c in usable_contexts()]

# name -> (shape, axis): a batch of classifier logits (1000 classes), attention scores (batch*heads, T, T)
SOFTMAX_SHAPES = {"logits_256x1000": ((256, 1000), -1), "attention_64x128x128": ((64, 128, 128), -1)}
FEATURE_MAP = (32, 64, 56, 56)  # NCHW, ~6.4M elements


def _array(ctx: str, shape: tuple[int, ...]) -> mx.nd.NDArray:
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    return mx.nd.array(data, ctx=parse_context(ctx))


class Softmax:
    params = (CONTEXTS, list(SOFTMAX_SHAPES), ["softmax", "log_softmax"])
    param_names = ("ctx", "shape", "op")

    def setup(self, ctx: str, shape: str, op: str) -> None:
        dims, self.axis = SOFTMAX_SHAPES[shape]
        self.x = _array(ctx, dims)
        self.fn = getattr(mx.nd, op)
        self.fn(self.x, axis=self.axis).wait_to_read()

    def time_forward(self, ctx: str, shape: str, op: str) -> None:
        self.fn(self.x, axis=self.axis).wait_to_read()

    def time_forward_backward(self, ctx: str, shape: str, op: str) -> None:
        self.x.attach_grad()
        with mx.autograd.record():
            y = self.fn(self.x, axis=self.axis)
        y.backward()
        self.x.grad.wait_to_read()


class SoftmaxOutput:
    params = (CONTEXTS,)
    param_names = ("ctx",)

    def setup(self, ctx: str) -> None:
        self.x = _array(ctx, (256, 1000))
        labels = np.random.default_rng(1).integers(0, 1000, 256).astype("float32")
        self.label = mx.nd.array(labels, ctx=parse_context(ctx))

    def time_forward_backward(self, ctx: str) -> None:
        self.x.attach_grad()
        with mx.autograd.record():
            y = mx.nd.SoftmaxOutput(self.x, self.label, normalization="batch")
        y.backward()
        self.x.grad.wait_to_read()


class Activation:
    params = (CONTEXTS, ["relu", "sigmoid", "tanh", "softrelu"])
    param_names = ("ctx", "act_type")

    def setup(self, ctx: str, act_type: str) -> None:
        self.x = _array(ctx, FEATURE_MAP)

    def time_forward(self, ctx: str, act_type: str) -> None:
        mx.nd.Activation(self.x, act_type=act_type).wait_to_read()


class Dropout:
    params = (CONTEXTS, ["train", "predict", "train_axes"])
    param_names = ("ctx", "mode")

    def setup(self, ctx: str, mode: str) -> None:
        self.x = _array(ctx, FEATURE_MAP)
        self.axes = (2, 3) if mode == "train_axes" else ()  # one draw per (image, channel): spatial dropout

    def time_forward(self, ctx: str, mode: str) -> None:
        if mode == "predict":
            mx.nd.Dropout(self.x, p=0.5).wait_to_read()
            return
        with mx.autograd.train_mode():
            mx.nd.Dropout(self.x, p=0.5, axes=self.axes).wait_to_read()
