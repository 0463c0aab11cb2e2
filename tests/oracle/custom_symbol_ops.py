"""The legacy custom operators of tests/symbol/test_custom_symbol.py, written once against MXNet's
`mx.operator` API so that MXNet 1.9 (record_custom_symbol.py) and mxplug run the same code."""

from __future__ import annotations

import numpy as np


def define(mx, seen: list) -> None:
    """Register 'rec_softmax' (MXNet's classic loss-layer example) and 'rec_stats' (two outputs, an auxiliary
    state, a string parameter) with `mx`; the Prop's `scale` arguments are appended to `seen`."""

    class _Softmax(mx.operator.CustomOp):  # MXNet's classic example (docs/faq/new_op), a loss layer
        def forward(self, is_train, req, in_data, out_data, aux):
            x = in_data[0].asnumpy()
            y = np.exp(x - x.max(axis=1).reshape((x.shape[0], 1)))
            y /= y.sum(axis=1).reshape((x.shape[0], 1))
            self.assign(out_data[0], req[0], mx.nd.array(y))

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            label = in_data[1].asnumpy().ravel().astype(int)
            y = out_data[0].asnumpy()
            y[np.arange(label.shape[0]), label] -= 1.0
            self.assign(in_grad[0], req[0], mx.nd.array(y))


    @mx.operator.register("rec_softmax")
    class _SoftmaxProp(mx.operator.CustomOpProp):
        def __init__(self):
            super().__init__(need_top_grad=False)

        def list_arguments(self):
            return ["data", "label"]

        def infer_shape(self, in_shape):
            return [in_shape[0], (in_shape[0][0],)], [in_shape[0]], []

        def create_operator(self, ctx, shapes, dtypes):
            return _Softmax()


    class _Stats(mx.operator.CustomOp):
        """Two outputs, an auxiliary state it updates, a string parameter; differentiable in `data`."""

        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def forward(self, is_train, req, in_data, out_data, aux):
            self.assign(out_data[0], req[0], in_data[0] * self.scale)
            self.assign(out_data[1], req[1], in_data[0] + aux[0])
            if is_train:
                aux[0][:] += 1

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            self.assign(in_grad[0], req[0], out_grad[0] * self.scale + out_grad[1])


    @mx.operator.register("rec_stats")
    class _StatsProp(mx.operator.CustomOpProp):
        def __init__(self, scale="1"):
            super().__init__()
            seen.append(scale)
            self.scale = float(scale)

        def list_outputs(self):
            return ["scaled", "shifted"]

        def list_auxiliary_states(self):
            return ["offset"]

        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0], in_shape[0]], [in_shape[0]]

        def create_operator(self, ctx, shapes, dtypes):
            return _Stats(self.scale)
