"""The one check every GPU test module uses: is `mx.gpu(0)` usable here, and if not, why."""

from __future__ import annotations

import pytest

import mxplug as mx


def gpu_unavailable_reason() -> str:
    """'' when the 'gpu' backend has a device, else the reason (the plugin's own, or that it is missing)."""
    backend = mx.plugins.manager().backends.get("gpu")
    if backend is None:
        return "no 'gpu' backend: the mxplug-cupy plugin is not installed (pip install -e plugins/cupy)"
    if not backend.available:
        return f"no usable GPU: {backend.reason}"
    return ""


REASON = gpu_unavailable_reason()
requires_gpu = pytest.mark.skipif(bool(REASON), reason=REASON)
