"""Every test here needs an OpenCL device: without one (no PyOpenCL, no platform, no device, or the plugin not
installed) the whole directory is skipped with the reason. `pip install -e plugins/opencl pocl-binary-distribution`
gives a CPU device anywhere."""

from __future__ import annotations

import pytest

import mxplug as mx


def opencl_unavailable_reason() -> str:
    backend = mx.plugins.manager().backends.get("opencl")
    if backend is None:
        return "no 'opencl' backend: the mxplug-opencl plugin is not installed (pip install -e plugins/opencl)"
    if not backend.available:
        return f"no usable OpenCL device: {backend.reason}"
    return ""


REASON = opencl_unavailable_reason()


def pytest_collection_modifyitems(config, items):
    if not REASON:
        return
    skip = pytest.mark.skip(reason=REASON)
    for item in items:
        if "tests/opencl/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture
def ctx():
    return mx.opencl(0)


@pytest.fixture
def backend():
    return mx.plugins.manager().backends["opencl"]


def pytest_generate_tests(metafunc):
    # Every test here runs twice: tiny elementwise operators as generated kernels, and on the host (the default
    # on host-unified CPU devices, see mxplug_opencl.kernels.host_ops), so both paths stay tested. A module
    # about one path names it in SMALL_OPS.
    if "small_ops" in metafunc.fixturenames and not hasattr(metafunc.module, "SMALL_OPS"):
        metafunc.parametrize("small_ops", ["kernel", "host"], ids=["kernels", "host-ops"], indirect=True)


@pytest.fixture(autouse=True)
def small_ops(request):
    """The small-ops strategy of this test (see pytest_generate_tests)."""
    strategy = getattr(request, "param", None) or getattr(request.module, "SMALL_OPS", "host")
    if REASON:
        yield strategy
        return
    from mxplug_opencl.kernels import host_ops

    previous = host_ops.set_small_ops_strategy(strategy)
    try:
        yield strategy
    finally:
        host_ops.set_small_ops_strategy(previous)
