"""check_consistency on Symbols (MXNet's form): one net bound on several contexts and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import check_consistency


def _conv_net():
    data = mx.sym.var("data")
    net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, pad=(1, 1), name="conv")
    net = mx.sym.Activation(net, act_type="relu")
    net = mx.sym.Pooling(net, kernel=(2, 2), stride=(2, 2), pool_type="max")
    net = mx.sym.FullyConnected(mx.sym.flatten(net), num_hidden=3, name="fc")
    return mx.sym.tanh(net) * 2 + 1


def _opencl_reason() -> str:
    backend = mx.plugins.manager().backends.get("opencl")
    if backend is None:
        return "the mxplug-opencl plugin is not installed"
    return "" if backend.available else f"no usable OpenCL device: {backend.reason}"


def test_float32_and_float64_on_cpu_agree():
    shapes = {"data": (2, 1, 6, 6)}
    ctx_list = [{"ctx": mx.cpu(0), **shapes, "type_dict": {"data": t}} for t in (np.float32, np.float64)]
    truth = check_consistency(_conv_net(), ctx_list)
    assert truth["output"][0].dtype == np.float64  # the most precise run is the reference
    assert set(truth["grads"]) == set(_conv_net().list_arguments())


@pytest.mark.skipif(bool(_opencl_reason()), reason=_opencl_reason() or "OpenCL present")
def test_cpu_and_opencl_agree_on_a_conv_net():
    shapes = {"data": (2, 1, 6, 6)}
    with mx.fallback("silent"):  # convolution and pooling have no OpenCL kernels: they fall back per policy
        truth = check_consistency(_conv_net(), [{"ctx": mx.cpu(0), **shapes}, {"ctx": mx.opencl(0), **shapes}],
                                  scale=0.5)
    assert truth["output"][0].shape == (2, 3)


def test_a_wrong_ground_truth_is_reported():
    x = mx.sym.var("x")
    net = mx.sym.exp(x)
    entry = {"ctx": mx.cpu(0), "x": (3,)}
    truth = check_consistency(net, [entry])
    np.testing.assert_allclose(truth["grads"]["x"], truth["output"][0] * truth["output"][0], rtol=1e-6)
    bad = {"output": [truth["output"][0] + 1], "grads": truth["grads"]}
    with pytest.raises(AssertionError, match="output 0"):
        check_consistency(net, [entry], ground_truth=bad)
    check_consistency(net, [entry], ground_truth=bad, raise_on_err=False)  # reported, not raised
