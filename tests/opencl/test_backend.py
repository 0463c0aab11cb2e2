"""The OpenCL backend as a device: contexts and moves, errors, autograd, the pool, builds, availability."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import BackendUnavailableError, ContextMismatchError, MXNetError
from mxplug.testing import assert_almost_equal


def test_context_constructors(ctx):
    assert mx.Context("opencl", 0) is ctx and repr(ctx) == "opencl(0)"
    x = mx.nd.array([[1, 2], [3, 4]], ctx=ctx)
    assert x.context == ctx and x.dtype == np.float32
    type_name = type(x._data).__name__
    assert type_name == "CLArray"


def test_moves_between_cpu_and_opencl(ctx):
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    c = mx.nd.array(host)
    o = c.copyto(ctx)
    assert o.context == ctx
    np.testing.assert_array_equal(o.asnumpy(), host)
    back = (o * 2).as_in_context(mx.cpu())
    assert back.context == mx.cpu()
    np.testing.assert_array_equal(back.asnumpy(), host * 2)
    assert o.as_in_context(ctx) is o
    target = mx.nd.zeros((2, 3), ctx=ctx)
    c.copyto(target)
    np.testing.assert_array_equal(target.asnumpy(), host)
    target[:] = 5
    np.testing.assert_array_equal(target.asnumpy(), np.full((2, 3), 5))
    mx.nd.exp(o, out=target)
    assert_almost_equal(target.asnumpy(), np.exp(host), rtol=1e-6)


def test_operators_refuse_mixed_contexts(ctx):
    a = mx.nd.ones((2, 2), ctx=ctx)
    b = mx.nd.ones((2, 2))
    with pytest.raises(ContextMismatchError, match="opencl"):
        a + b
    with pytest.raises(ContextMismatchError):
        mx.nd.dot(a, b)


def test_autograd_on_opencl(ctx):
    x_np = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    w_np = np.array([[0.2], [-0.4], [0.9]])
    x = mx.nd.array(x_np, ctx=ctx)
    w = mx.nd.array(w_np, ctx=ctx)
    x.attach_grad()
    w.attach_grad()
    with mx.autograd.record():
        y = mx.nd.sum(mx.nd.tanh(mx.nd.dot(x, w)) * mx.nd.exp(x).sum(axis=1, keepdims=True) + x * 3)
    y.backward()
    assert x.grad.context == ctx
    # float64 gradient by hand; the (2, 1) product is broadcast over x's 3 columns, so it counts 3 times
    h = x_np @ w_np
    t = np.tanh(h)
    e = np.exp(x_np).sum(1, keepdims=True)
    gx = 3 * (((1 - t ** 2) * e) @ w_np.T + t * np.exp(x_np)) + 3
    gw = 3 * (x_np.T @ ((1 - t ** 2) * e))
    assert_almost_equal(x.grad.asnumpy(), gx, rtol=1e-4, atol=1e-5)
    assert_almost_equal(w.grad.asnumpy(), gw, rtol=1e-4, atol=1e-5)


def test_autograd_through_broadcast_and_moves(ctx):
    a = mx.nd.array([[1.0, 2.0, 3.0]])
    a.attach_grad()
    with mx.autograd.record():
        o = a.as_in_context(ctx)
        y = (o * mx.nd.ones((4, 3), ctx=ctx) + 1).sum()
    y.backward()
    np.testing.assert_array_equal(a.grad.asnumpy(), [[4.0, 4.0, 4.0]])


def test_pool_reuses_buffers(ctx, backend):
    dev = backend.device(0)
    ctx.empty_cache()
    a = mx.nd.zeros((100_000,), ctx=ctx)  # past the host-mapped small pool (runtime.SMALL_BYTES)
    ptr = a._data.buf.int_ptr
    del a
    stats = backend.pool_stats(0)
    assert stats["held"] >= 1
    b = mx.nd.zeros((100_000,), ctx=ctx)
    assert b._data.buf.int_ptr == ptr  # the freed buffer came back from the pool
    del b
    ctx.empty_cache()
    assert backend.pool_stats(0)["held"] == 0
    assert dev.pool_stats()["held"] == 0


def test_out_of_memory_is_a_clear_error(ctx, backend):
    huge = backend.device(0).max_alloc * 4
    with pytest.raises(MXNetError, match="out of memory"):
        mx.nd.empty((huge,), ctx=ctx, dtype="float32")
    mx.nd.ones((10,), ctx=ctx).asnumpy()  # the device still works


def test_build_failure_reports_the_compiler_log(backend):
    dev = backend.device(0)
    with pytest.raises(MXNetError, match=r"(?s)OpenCL build of kernel 'broken' failed.*undeclared.*source"):
        dev.kernel(("test-broken",), lambda: ("__kernel void broken(__global float* o) { o[0] = nope; }", "broken", []))


def test_device_index_out_of_range_names_the_devices(backend):
    with pytest.raises(BackendUnavailableError, match=r"opencl\(99\).*no such device.*opencl\(0\)"):
        mx.nd.ones((2,), ctx=mx.opencl(99))


def test_unavailable_backend_reports_its_reason():
    from mxplug_opencl import OpenCLBackend
    from mxplug_opencl.runtime import probe

    devices, reason = probe({"MXPLUG_OPENCL_DEVICE": "no-such-device-xyz"})
    assert devices == [] and "matches none of the OpenCL devices" in reason
    off = OpenCLBackend(devices, reason)
    assert not off.available
    with pytest.raises(BackendUnavailableError, match="unavailable: MXPLUG_OPENCL_DEVICE"):
        off.check_device(0)


def test_device_selection_by_name(backend):
    from mxplug_opencl.runtime import probe

    name = backend.devices[0].name
    devices, reason = probe({"MXPLUG_OPENCL_DEVICE": name.split(": ")[-1][:6].lower()})
    assert reason == "" and devices and devices[0].name == name


def test_plugins_command_lists_devices(capsys):
    from mxplug.cli import main

    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "backend 'opencl' for device type 'opencl': available; devices: opencl(0)" in out


def test_waitall_and_kernel_dispatch(ctx):
    y = mx.nd.ones((3,), ctx=ctx) * 2
    mx.nd.waitall()
    assert "plugin 'opencl'" in mx.dispatch.explain("exp", ctx)
    np.testing.assert_array_equal(y.asnumpy(), [2, 2, 2])


@pytest.mark.parametrize("op", ["add", "exp"])
def test_large_outputs_take_the_streaming_store_path_and_stay_exact(op):
    from mxplug_opencl.codegen import STREAM_BYTES

    n = STREAM_BYTES // 4 + 37  # float32 elements: over the threshold, not a multiple of the vector width
    rng = np.random.default_rng(3)
    a, b = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32)
    x, y = mx.nd.array(a, ctx=mx.opencl(0)), mx.nd.array(b, ctx=mx.opencl(0))
    if op == "add":
        np.testing.assert_array_equal((x + y).asnumpy(), a + b)
    else:
        np.testing.assert_allclose(mx.nd.exp(x).asnumpy(), np.exp(a.astype(np.float64)), rtol=1e-6)
