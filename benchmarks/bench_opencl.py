"""What an OpenCL kernel costs the first time and every time after: the compile, the program cache, the launch.

The OpenCL plugin builds each kernel from a template the first time an (operator, dtype, device) needs it,
keeps the kernel object in memory, and PyOpenCL keeps the compiled binary on disk across processes. Three
figures, on opencl(0):

* ``time_warm_call`` — `mx.nd.exp` on 1000 float32 with its kernel in memory: launch and dispatch (kernels
  forced: on a host-mapped CPU device such a tiny operator would otherwise run on the host).
* ``time_disk_cached_build`` — building a kernel whose source PyOpenCL's on-disk cache already holds: what
  a second process pays once per kernel. Compare it with the next figure to see what the disk cache saves
  on a given driver (on PoCL's CPU device here the two measured about equal, ~30 ms).
* ``time_cold_compile`` — a kernel the device has never seen (a fresh source each call): what PoCL's
  compiler costs the first process that uses a kernel.

`OpenCLTinyOps` times tiny operators (4 float32) under both small-op strategies (`mxplug_opencl.kernels.host_ops`):
``host`` (NumPy on the host-mapped memory of a host-unified CPU device) and ``kernel`` (a generated kernel).

Skipped (NotImplementedError, as asv expects) where no OpenCL device is usable.
"""

from __future__ import annotations

import itertools

import mxplug as mx

_SOURCE = "__kernel void bench_exp(__global float *a) {{ a[get_global_id(0)] = exp(a[get_global_id(0)]); }} // {}"


def _opencl_device():
    try:
        x = mx.nd.ones((1000,), ctx=mx.opencl(0))
    except mx.base.BackendUnavailableError as e:
        raise NotImplementedError(f"no usable OpenCL device: {e}") from None
    return x, mx.plugins.manager().backends["opencl"].device(0)


class OpenCLKernelCache:
    timeout = 300

    def setup(self) -> None:
        from mxplug_opencl.kernels.host_ops import set_small_ops_strategy

        self.x, self.device = _opencl_device()
        self.previous = set_small_ops_strategy("kernel")
        mx.nd.exp(self.x).wait_to_read()
        self.nonce = itertools.count()

    def teardown(self) -> None:
        from mxplug_opencl.kernels.host_ops import set_small_ops_strategy

        set_small_ops_strategy(self.previous)

    def time_warm_call(self) -> None:
        mx.nd.exp(self.x).wait_to_read()

    def time_disk_cached_build(self) -> None:
        self._build("disk-cached", "always the same source")  # new in memory, known to PyOpenCL's disk cache

    def time_cold_compile(self) -> None:
        self._build("cold", f"{id(self)}-{next(self.nonce)}")  # a source no cache has seen

    def _build(self, kind: str, comment: str) -> None:
        key = ("bench_exp", kind, id(self), next(self.nonce))  # never in the in-memory kernel cache
        self.device.kernel(key, lambda: (_SOURCE.format(comment), "bench_exp", [None]))


class OpenCLTinyOps:
    """a + b, a * 2 and a read back to NumPy on 4 float32, per small-op strategy (the issue's target: a + b
    within 6 µs on PoCL)."""

    params = ["host", "kernel"]
    param_names = ["strategy"]

    def setup(self, strategy: str) -> None:
        from mxplug_opencl.kernels.host_ops import set_small_ops_strategy

        x, self.device = _opencl_device()
        self.previous = set_small_ops_strategy(strategy)
        self.a, self.b = mx.nd.ones((4,), ctx=x.context), mx.nd.ones((4,), ctx=x.context)
        (self.a + self.b).wait_to_read()

    def teardown(self, strategy: str) -> None:
        from mxplug_opencl.kernels.host_ops import set_small_ops_strategy

        set_small_ops_strategy(self.previous)

    def time_add_100(self, strategy: str) -> None:
        a, b = self.a, self.b
        for _ in range(100):
            a + b
        self.device.synchronize()

    def time_scalar_mul_100(self, strategy: str) -> None:
        a = self.a
        for _ in range(100):
            a * 2.0
        self.device.synchronize()

    def time_add_and_read(self, strategy: str) -> None:
        (self.a + self.b).asnumpy()
