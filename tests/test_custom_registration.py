"""Operators declared at run time: by a plugin's mxplug_register_operators hook or register_operator."""

import types

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import RegistryError
from mxplug.custom import register_operator, unregister_operator
from mxplug.ops._util import spec
from mxplug.testing import assert_almost_equal, check_numeric_gradient


def _cube_plugin():
    @mx.hookimpl
    def mxplug_register_operators(register):
        register({"name": "plugin_cube", "inputs": ["data"], "attrs": {"scale": "float = 1.0"},
                  "doc": "scale * data**3."},
                 infer=lambda attrs, x: spec(x.shape, x.dtype),
                 gradient=lambda F, attrs, ins, outs, og: [og[0] * 3 * attrs["scale"] * ins[0] * ins[0]])

    @mx.hookimpl
    def mxplug_register_kernels(register):
        register("plugin_cube", "numpy", lambda x, *, scale: (scale * x**3).astype(x.dtype))

    return types.SimpleNamespace(MXPLUG_API_VERSION="1.0", mxplug_register_operators=mxplug_register_operators,
                                 mxplug_register_kernels=mxplug_register_kernels)


@pytest.fixture
def cube():
    info = mx.plugins.register_plugin(_cube_plugin(), "cube")
    yield info
    mx.plugins.reset()


def test_plugin_operator_runs_differentiates_and_is_listed(cube):
    assert cube.status == "loaded" and cube.operators == 1 and cube.kernels == 1
    x = np.array([[0.5, -1.0], [2.0, 1.5]])
    assert_almost_equal(mx.nd.plugin_cube(mx.nd.array(x), scale=2.0), 2.0 * x**3)
    check_numeric_gradient(lambda a: mx.nd.plugin_cube(a, scale=2.0), [x])
    assert "plugin_cube" in mx.registry.all_ops()
    with pytest.raises(mx.base.OperatorAttributeError, match="plugin_cube"):
        mx.nd.plugin_cube(mx.nd.array(x), bogus=1)


def test_same_owner_may_declare_again(cube):
    register_operator({"name": "plugin_cube", "inputs": ["data"], "attrs": {"scale": "float = 1.0"},
                       "doc": "Declared again."},
                      infer=lambda attrs, x: spec(x.shape, x.dtype), gradient=lambda F, a, i, o, g: [None],
                      plugin="cube")
    assert mx.nd.plugin_cube.__doc__.startswith("Declared again.")
    assert mx.nd.plugin_cube(mx.nd.array([2.0])).asscalar() == 8.0  # the plugin's kernel still serves it


def test_names_of_others_are_refused(cube):
    with pytest.raises(RegistryError, match="already registered"):
        register_operator({"name": "broadcast_add", "inputs": ["a"], "doc": "x"}, composite=lambda F, a, x: x)
    with pytest.raises(RegistryError, match="already registered"):
        register_operator({"name": "plugin_cube", "inputs": ["a"], "doc": "x"}, composite=lambda F, a, x: x,
                          plugin="someone-else")


def test_rules_are_required():
    with pytest.raises(RegistryError, match="inference rule"):
        register_operator({"name": "no_rules", "inputs": ["a"], "doc": "x"})
    with pytest.raises(RegistryError, match="gradient"):
        register_operator({"name": "no_grad", "inputs": ["a"], "doc": "x"},
                          infer=lambda attrs, x: x)


def test_composite_needs_no_kernel_and_can_be_removed():
    register_operator({"name": "test_double_it", "inputs": ["data"], "doc": "2x."},
                      composite=lambda F, attrs, x: x * 2, plugin="tests")
    try:
        x = np.array([1.0, -3.0])
        assert_almost_equal(mx.nd.test_double_it(mx.nd.array(x)), 2 * x)
        check_numeric_gradient(lambda a: mx.nd.test_double_it(a), [x])
    finally:
        unregister_operator("test_double_it")
    assert not hasattr(mx.nd, "test_double_it")
    with pytest.raises(mx.base.UnknownOperatorError):
        mx.registry.get("test_double_it")
    with pytest.raises(RegistryError, match="cannot be removed"):
        unregister_operator("broadcast_add")


def test_reset_forgets_plugin_operators(cube):
    mx.plugins.reset()
    assert "plugin_cube" not in mx.registry.all_ops() and not hasattr(mx.nd, "plugin_cube")
