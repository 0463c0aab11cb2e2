"""The host path of tiny elementwise operators on host-unified CPU devices (mxplug_opencl.kernels.host_ops):
results against float64 references, the queue waited for before the host reads, host-only results feeding
kernels and being written in place, the mapped small pool, and the strategy switch. (Every other test in this
directory runs under both strategies; these pin the host one.)"""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug.testing import assert_almost_equal

SMALL_OPS = "host"
RNG = np.random.default_rng(11)


@pytest.fixture
def dev(backend):
    d = backend.device(0).open()  # host_memory is known once the device has opened
    if not d.host_memory:
        pytest.skip(f"{d.name} has no host-mapped memory (not a host-unified CPU device): kernels only")
    return d


def test_tiny_binary_runs_on_the_host_and_matches_float64(ctx, dev):
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    a, b = mx.nd.array(x, ctx=ctx), mx.nd.array(y, ctx=ctx)
    for op, ref in [("__add__", np.add), ("__sub__", np.subtract), ("__mul__", np.multiply),
                    ("__truediv__", np.divide), ("__pow__", None)]:
        if ref is None:
            out, want = abs(a) ** b, np.abs(x.astype(np.float32)).astype(np.float64) ** y.astype(np.float32)
        else:
            out, want = getattr(a, op)(b), ref(x.astype(np.float32).astype(np.float64), y.astype(np.float32))
        assert out.context == ctx and out.dtype == np.float32
        assert out._data._buf is None and out._data.host is not None, f"{op} did not run on the host"
        assert_almost_equal(out.asnumpy(), want, rtol=1e-5, atol=1e-6, names=(op, "float64"))


def test_broadcast_scalar_unary_and_0d(ctx, dev):
    x, r = RNG.standard_normal((2, 3)), RNG.standard_normal((1, 3))
    a, row = mx.nd.array(x, ctx=ctx), mx.nd.array(r, ctx=ctx)
    x32, r32 = x.astype(np.float32).astype(np.float64), r.astype(np.float32).astype(np.float64)
    assert_almost_equal((a + row).asnumpy(), x32 + r32, rtol=1e-6)
    assert_almost_equal((2.5 - a).asnumpy(), 2.5 - x32, rtol=1e-6)
    assert_almost_equal(mx.nd.tanh(a).asnumpy(), np.tanh(x32), rtol=1e-5)
    z = mx.nd.array(0.75, ctx=ctx)  # 0-d, as in MXNet 1.9
    e = mx.nd.exp(z)
    assert e.shape == () and abs(float(e.asnumpy()) - np.exp(0.75)) < 1e-6


def test_integer_semantics_are_mxnets(ctx, dev):
    a = mx.nd.array([7, -7, 5, 3], ctx=ctx, dtype="int32")
    b = mx.nd.array([2, 2, 0, -1], ctx=ctx, dtype="int32")
    assert (a / b).asnumpy().tolist() == [3, -3, 0, -3]  # truncates; a zero divisor gives 0
    assert (a % b).asnumpy().tolist() == [1, 1, 0, 0]  # the divisor's sign; 0 for a zero divisor
    # mx.nd casts the scalar to the array's dtype first (MXNet 1.9: int32 [7] * 0.5 is [0], [7] - 3.7 is [4])
    assert (a * 0.5).dtype == np.int32 and (a * 0.5).asnumpy().tolist() == [0, 0, 0, 0]
    assert (a - 3.7).asnumpy().tolist() == [4, -10, 2, 0]


def test_the_host_waits_for_queued_kernels(ctx, dev):
    big = RNG.standard_normal((2000, 64)).astype(np.float32)
    s = mx.nd.sum(mx.nd.array(big, ctx=ctx) * 3, axis=0)  # a reduction kernel writes the small result
    assert s._data._buf is not None
    out = s + 1  # read on the host: must see the finished reduction
    assert_almost_equal(out.asnumpy(), (big.astype(np.float64) * 3).sum(0) + 1, rtol=1e-4, atol=1e-3)


def test_host_results_feed_kernels_and_take_writes(ctx, dev):
    h = mx.nd.array([1.0, 2.0, 3.0, 4.0], ctx=ctx) * 2  # host-only
    assert h._data._buf is None
    big = mx.nd.ones((5000, 4), ctx=ctx)
    y = big * h  # a kernel (5000x4 output) reads it: its buffer is made then
    np.testing.assert_array_equal(y.asnumpy(), np.tile([2.0, 4.0, 6.0, 8.0], (5000, 1)))
    assert h._data._buf is not None and np.shares_memory(h._data.host, dev.host_view(h._data))
    h[:] = mx.nd.arange(4, ctx=ctx) + 10  # a device copy into its buffer; the host view sees it
    np.testing.assert_array_equal(h.asnumpy(), [10, 11, 12, 13])
    h += 1
    np.testing.assert_array_equal(h.asnumpy(), [11, 12, 13, 14])


def test_a_recycled_small_buffer_is_not_overwritten_under_a_queued_reader(ctx, dev):
    x = mx.nd.array(np.arange(4, dtype=np.float32), ctx=ctx) + 0  # host-only
    x.wait_to_read()
    big = mx.nd.ones((200_000, 4), ctx=ctx)
    y = big * x  # queued: a kernel that reads x's buffer
    del x  # its buffer goes back to the small pool while the kernel may still be queued
    fresh = [mx.nd.array(np.full(4, 99, np.float32), ctx=ctx) * 1 for _ in range(8)]
    for f in fresh:
        f._data.buf  # materialised into recycled small buffers: each waits for the queue first
    np.testing.assert_array_equal(y.asnumpy()[::50_000], np.tile(np.arange(4, dtype=np.float32), (4, 1)))
    assert all(f.asnumpy().tolist() == [99] * 4 for f in fresh)


def test_asnumpy_of_a_small_kernel_result_reads_mapped_memory(ctx, dev):
    a = mx.nd.ones((3, 5), ctx=ctx)  # filled by a device command
    assert a._data._buf is not None
    got = a.asnumpy()
    np.testing.assert_array_equal(got, np.ones((3, 5), np.float32))
    got[0, 0] = 7  # a copy, not the device's memory
    assert a.asnumpy()[0, 0] == 1


def test_small_uploads_stay_on_the_host_as_copies(ctx, dev):
    src = np.arange(6, dtype=np.float32)
    a = mx.nd.array(src, ctx=ctx)
    src[:] = -1  # the array owns a copy
    assert a._data._buf is None
    np.testing.assert_array_equal(a.asnumpy(), np.arange(6))


def test_large_arrays_and_other_operators_launch_kernels(ctx, dev):
    n = 10_000
    a = mx.nd.ones((n,), ctx=ctx)
    assert (a + a)._data._buf is not None  # past HOST_MAX_ELEMENTS
    assert mx.nd.sum(mx.nd.ones((4,), ctx=ctx))._data._buf is not None  # not elementwise


def test_small_pool_is_mapped_reused_and_kept(ctx, dev, backend):
    a = mx.nd.zeros((100,), ctx=ctx)
    ptr = a._data.buf.int_ptr
    assert ptr in dev._mapped
    del a
    assert mx.nd.zeros((100,), ctx=ctx)._data.buf.int_ptr == ptr
    ctx.empty_cache()  # the large pool is released; the mapped small pool keeps its buffers
    stats = backend.pool_stats(0)
    assert stats["held"] == 0 and stats["small_held"] + stats["small_active"] >= 1


def test_strategy_switch(ctx, dev):
    from mxplug_opencl.kernels import host_ops

    a = mx.nd.ones((4,), ctx=ctx)
    previous = host_ops.set_small_ops_strategy("kernel")
    try:
        assert previous == "host" and not dev.host_ops
        assert (a + a)._data._buf is not None  # a kernel wrote it
    finally:
        host_ops.set_small_ops_strategy(previous)
    assert dev.host_ops and (a + a)._data._buf is None
    with pytest.raises(ValueError, match="small-ops strategy must be one of"):
        host_ops.set_small_ops_strategy("gpu")


def test_autograd_through_host_ops(ctx, dev):
    x = mx.nd.array([0.5, -1.0, 2.0], ctx=ctx)
    x.attach_grad()
    with mx.autograd.record():
        y = (x * x + mx.nd.sin(x)).sum()
    y.backward()
    xs = np.array([0.5, -1.0, 2.0])
    assert_almost_equal(x.grad.asnumpy(), 2 * xs + np.cos(xs), rtol=1e-5)


def test_explain_says_how_tiny_operators_run(ctx, dev):
    from mxplug_opencl.kernels import host_ops

    said = mx.explain("broadcast_add", ctx, "float32")
    assert "kernel from plugin 'opencl'" in said
    assert f"up to {host_ops.HOST_MAX_ELEMENTS} elements run on the host" in said
    previous = host_ops.set_small_ops_strategy("kernel")
    try:
        assert "a generated kernel at every size (MXPLUG_OPENCL_SMALL_OPS=kernel)" in mx.explain("exp", ctx)
    finally:
        host_ops.set_small_ops_strategy(previous)
    assert "how:" not in mx.explain("sum", ctx)  # one strategy only: nothing to add


def test_explain_says_how_dot_runs(ctx, dev):
    from mxplug_opencl.kernels.linalg import set_dot_strategy

    assert "NumPy's BLAS on the mapped buffers" in mx.explain("dot", ctx)
    previous = set_dot_strategy("kernel")
    try:
        assert "the tiled OpenCL GEMM kernel (MXPLUG_OPENCL_DOT=kernel)" in mx.explain("batch_dot", ctx)
    finally:
        set_dot_strategy(previous)


def test_a_device_whose_mapping_fails_the_check_runs_kernels_only(monkeypatch):
    from mxplug_opencl import runtime
    from mxplug_opencl.kernels.elemwise import binary_kernel

    devices, reason = runtime.probe()
    assert devices, reason
    fresh = devices[0]  # a Device object of its own (the backend's is already open)
    monkeypatch.setattr(fresh, "_host_mapping_works", lambda queue, small: False)
    fresh.open()
    assert not fresh.host_memory and not fresh.host_ops and fresh.pool_stats()["small_active"] == 0
    a = fresh.upload(np.arange(4, dtype=np.float32))
    assert a.host is None and a._buf is not None  # an ordinary buffer, uploaded
    out = binary_kernel("add")(a, a)
    assert out._buf is not None and out.host is None
    np.testing.assert_array_equal(fresh.download(out), [0, 2, 4, 6])


def test_tiny_copies_and_writes_stay_on_the_host(ctx, dev):
    w = mx.nd.ones((3, 4), ctx=ctx)  # device-filled, mapped
    big = mx.nd.ones((5000, 4), ctx=ctx) * 2
    r = (big.sum(axis=0) * 0.5)  # a queued kernel result feeding the write below
    w[:] = w - 0.1 * r.reshape((1, 4))  # broadcast on the host, then a host copy into w's mapped memory
    np.testing.assert_allclose(w.asnumpy(), np.full((3, 4), 1 - 0.1 * 5000), rtol=1e-6)
    c = w.copy()
    assert c._data._buf is None  # a host-only copy
    c += 1
    np.testing.assert_allclose(w.asnumpy(), np.full((3, 4), -499.0), rtol=1e-6)  # w untouched by c's change
    np.testing.assert_allclose(c.asnumpy(), np.full((3, 4), -498.0), rtol=1e-6)
    y = big * c.reshape((1, 12))[:, :4]  # kernels read the copy: its buffer is made then
    np.testing.assert_allclose(y.asnumpy()[:2], np.full((2, 4), -996.0), rtol=1e-6)
