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
