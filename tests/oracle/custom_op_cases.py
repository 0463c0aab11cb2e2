"""Custom operators written against MXNet's `mx.operator` API, run unchanged by MXNet 1.9 (record_custom_op.py)
and by mxplug (tests/test_custom_op_legacy.py), which compares the two.

`scenarios(mx)` returns plain data (lists, strings, bools): outputs, gradients and what the operators saw
(the Prop's keyword arguments, create_operator's arguments, is_train, req lists, auxiliary states).
"""

from __future__ import annotations

import numpy as np


def define(mx, log: list) -> None:
    """Register the test operators with `mx` (MXNet or mxplug); calls are appended to `log`."""

    class Softmax(mx.operator.CustomOp):  # MXNet's classic example (docs/faq/new_op), a loss layer
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

    @mx.operator.register("oracle_softmax")
    class SoftmaxProp(mx.operator.CustomOpProp):
        def __init__(self):
            super().__init__(need_top_grad=False)

        def list_arguments(self):
            return ["data", "label"]

        def infer_shape(self, in_shape):
            return [in_shape[0], (in_shape[0][0],)], [in_shape[0]], []

        def infer_type(self, in_type):
            return in_type, [in_type[0]], []

        def create_operator(self, ctx, shapes, dtypes):
            return Softmax()

    class Probe(mx.operator.CustomOp):
        def forward(self, is_train, req, in_data, out_data, aux):
            log.append(["forward", bool(is_train), list(req), mx.autograd.is_recording()])
            self.assign(out_data[0], req[0], in_data[0] * in_data[1])

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            log.append(["backward", list(req), out_grad[0].asnumpy().tolist()])
            self.assign(in_grad[0], req[0], out_grad[0] * in_data[1])
            self.assign(in_grad[1], req[1], out_grad[0] * in_data[0])

    @mx.operator.register("oracle_probe")
    class ProbeProp(mx.operator.CustomOpProp):
        def __init__(self, factor=1, flag=False, shape=(1,), label="none"):
            log.append(["init", repr(factor), repr(flag), repr(shape), repr(label)])
            super().__init__()

        def list_arguments(self):
            return ["lhs", "rhs"]

        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0]]  # two lists: no auxiliary states

        def create_operator(self, ctx, shapes, dtypes):
            log.append(["create", repr(ctx), [list(s) for s in shapes], list(dtypes)])
            return Probe()

    class Accumulate(mx.operator.CustomOp):
        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def forward(self, is_train, req, in_data, out_data, aux):
            self.assign(out_data[0], req[0], in_data[0] * self.scale)
            self.assign(out_data[1], req[1], in_data[0] * in_data[0])
            if aux:
                aux[0][:] = aux[0] + in_data[0].sum()  # a running total, updated in place

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            self.assign(in_grad[0], req[0], out_grad[0] * self.scale + 2 * in_data[0] * out_grad[1])

    @mx.operator.register("oracle_accumulate")
    class AccumulateProp(mx.operator.CustomOpProp):
        def __init__(self, scale="1.0"):
            super().__init__(need_top_grad=True)
            self.scale = float(scale)

        def list_outputs(self):
            return ["scaled", "squared"]

        def list_auxiliary_states(self):
            return ["total"]

        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0], in_shape[0]], [(1,)]

        def create_operator(self, ctx, shapes, dtypes):
            return Accumulate(self.scale)

    @mx.operator.register("oracle_pair")
    class PairProp(AccumulateProp):  # the same computation without the auxiliary state
        def list_auxiliary_states(self):
            return []

        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0], in_shape[0]], []


def scenarios(mx) -> dict:
    log: list = []
    define(mx, log)
    out: dict = {}

    data = mx.nd.array(((np.arange(12) * 7) % 11 - 5.0).reshape(3, 4) * 0.25)
    label = mx.nd.array([0, 2, 1])
    data.attach_grad()
    with mx.autograd.record():
        prob = mx.nd.Custom(data, label, op_type="oracle_softmax")
    prob.backward()
    out["softmax"] = {"output": prob.asnumpy().tolist(), "data_grad": data.grad.asnumpy().tolist()}

    a = mx.nd.array([1.0, 2.0, 3.0], dtype="float64")
    b = mx.nd.array([4.0, 5.0, 6.0], dtype="float64")
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Custom(a, b, op_type="oracle_probe", factor=2, flag=True, shape=(2, 3), label="x")
    y.backward(mx.nd.array([1.0, 10.0, 100.0], dtype="float64"))
    z = mx.nd.Custom(a, b, op_type="oracle_probe")
    out["probe"] = {"output": y.asnumpy().tolist(), "dtype": str(y.dtype.__name__), "a_grad": a.grad.asnumpy().tolist(),
                    "plain": z.asnumpy().tolist(), "log": log}

    x = mx.nd.array([[1.0, -2.0], [0.5, 3.0]])
    x.attach_grad()
    with mx.autograd.record():
        scaled, squared = mx.nd.Custom(x, op_type="oracle_pair", scale=3)
    mx.autograd.backward([scaled, squared], [mx.nd.ones((2, 2)), mx.nd.ones((2, 2)) * 0.5])
    out["pair"] = {"scaled": scaled.asnumpy().tolist(), "squared": squared.asnumpy().tolist(),
                   "x_grad": x.grad.asnumpy().tolist()}

    # Auxiliary states: MXNet 1.9's autograd cannot differentiate a Custom operator with them ("Storage type
    # inconsistent"), so they are exercised forward only.
    total = mx.nd.zeros((1,))
    first = mx.nd.Custom(x, total, op_type="oracle_accumulate", scale="0.5")
    mx.nd.Custom(x * 2, total, op_type="oracle_accumulate")
    out["accumulate"] = {"scaled": first[0].asnumpy().tolist(), "total": total.asnumpy().tolist()}
    return out
