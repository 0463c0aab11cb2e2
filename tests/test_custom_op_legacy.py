"""MXNet's legacy custom-operator API (`mx.operator.CustomOp`/`CustomOpProp`/`register`, `mx.nd.Custom`),
compared with MXNet 1.9 running the same code (tests/oracle/custom_op_cases.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import OperatorAttributeError
from mxplug.testing import assert_almost_equal, check_numeric_gradient

from . import toy_backend
from .oracle.custom_op_cases import scenarios

ORACLE = json.loads((Path(__file__).parent / "oracle" / "custom_op_mxnet_1_9_1.json").read_text())["scenarios"]


def _same_calls(got: list, want: list) -> None:
    # MXNet's engine runs backward lazily, so the order of the log differs; what each call saw must not.
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, want))


def _check_against_oracle(result: dict, ctx_name: str) -> None:
    for name in ("softmax", "pair", "accumulate"):
        for key, want in ORACLE[name].items():
            assert_almost_equal(np.array(result[name][key]), np.array(want), rtol=1e-6, atol=1e-7)
    probe, want = result["probe"], ORACLE["probe"]
    assert {k: probe[k] for k in ("output", "dtype", "a_grad", "plain")} == \
        {k: want[k] for k in ("output", "dtype", "a_grad", "plain")}
    _same_calls(probe["log"], [[e[0], ctx_name, *e[2:]] if e[0] == "create" else e for e in want["log"]])


def test_same_results_and_calls_as_mxnet():
    _check_against_oracle(scenarios(mx), "cpu(0)")


def test_runs_unchanged_on_another_context():
    # Every NDArray the operators make (mx.nd.array inside forward) lands on the inputs' context (`with ctx`).
    with toy_backend.installed(keep=lambda op: op in {"_copyto"}) as toy, mx.fallback("silent"), toy:
        result = scenarios(mx)
    _check_against_oracle(result, "toy(0)")


class _Cube(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] ** 3 * self.scale)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], 3 * in_data[0] ** 2 * self.scale * out_grad[0])


@mx.operator.register("test_cube")
class _CubeProp(mx.operator.CustomOpProp):
    def __init__(self, scale="1"):
        super().__init__()
        self.scale = float(scale)

    def create_operator(self, ctx, shapes, dtypes):
        op = _Cube()
        op.scale = self.scale
        return op


def test_numeric_gradient_and_out():
    x = np.array([[0.5, -1.5], [2.0, 0.25]])
    check_numeric_gradient(lambda a: mx.nd.Custom(a, op_type="test_cube", scale=0.5), [x])
    out = mx.nd.zeros((2, 2))
    assert mx.nd.Custom(mx.nd.array(x), op_type="test_cube", out=out) is out
    assert_almost_equal(out, x**3)


def test_grad_req_add_accumulates():
    a = mx.nd.array([1.0, 2.0])
    a.attach_grad(grad_req="add")
    for _ in range(2):
        with mx.autograd.record():
            y = mx.nd.Custom(a, op_type="test_cube")
        y.backward()
    assert_almost_equal(a.grad, 2 * 3 * np.array([1.0, 4.0]))


def test_custom_is_a_registry_operator():
    schema = mx.registry.get("Custom")
    assert schema.family == "custom" and schema.variadic == "data" and "op_type" in schema.attrs
    assert mx.nd.Custom is mx.nd.op.Custom is mx.operator.Custom
    # The generic operator path (graphs call it with the stored attributes) reaches the same code.
    rules = mx.ops.rules("Custom")
    y = rules.composite(mx.nd, {"op_type": "test_cube", "scale": "2"}, mx.nd.array([2.0]))
    assert y.asnumpy().tolist() == [16.0]


def test_errors_name_the_operator():
    a = mx.nd.array([1.0])
    with pytest.raises(mx.MXNetError, match=r"Cannot find custom operator 'nope'.*test_cube"):
        mx.nd.Custom(a, op_type="nope")
    with pytest.raises(OperatorAttributeError, match=r"'Custom' \(test_cube\) expects 1 inputs \(data\), got 2"):
        mx.nd.Custom(a, a, op_type="test_cube")
    with pytest.raises(OperatorAttributeError, match="'op_type' is required"):
        mx.nd.Custom(a)
    with pytest.raises(mx.MXNetError, match="expected a CustomOpProp subclass"):
        mx.operator.register("bad")(object)
    with toy_backend.installed() as toy, pytest.raises(mx.base.ContextMismatchError, match="Custom"):
        mx.nd.Custom(mx.nd.array([1.0], ctx=toy), a, op_type="oracle_softmax")


def test_bad_inference_is_reported():
    @mx.operator.register("test_bad_infer")
    class BadProp(mx.operator.CustomOpProp):
        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0], in_shape[0]]  # one output declared, two shapes

    with pytest.raises(mx.MXNetError, match="infer_shape returned 2 output entries, expected 1"):
        mx.nd.Custom(mx.nd.array([1.0]), op_type="test_bad_infer")
