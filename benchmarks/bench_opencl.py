"""What an OpenCL kernel costs the first time and every time after: the compile, the program cache, the launch.

The OpenCL plugin builds each kernel from a template the first time an (operator, dtype, device) needs it,
keeps the kernel object in memory, and PyOpenCL keeps the compiled binary on disk across processes. Three
figures, on opencl(0):

* ``time_warm_call`` — `mx.nd.exp` on 1000 float32 with its kernel in memory: launch and dispatch.
* ``time_disk_cached_build`` — building a kernel whose source PyOpenCL's on-disk cache already holds: what
  a second process pays once per kernel. Compare it with the next figure to see what the disk cache saves
  on a given driver (on PoCL's CPU device here the two measured about equal, ~30 ms).
* ``time_cold_compile`` — a kernel the device has never seen (a fresh source each call): what PoCL's
  compiler costs the first process that uses a kernel.

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
        self.x, self.device = _opencl_device()
        mx.nd.exp(self.x).wait_to_read()
        self.nonce = itertools.count()

    def time_warm_call(self) -> None:
        mx.nd.exp(self.x).wait_to_read()

    def time_disk_cached_build(self) -> None:
        self._build("disk-cached", "always the same source")  # new in memory, known to PyOpenCL's disk cache

    def time_cold_compile(self) -> None:
        self._build("cold", f"{id(self)}-{next(self.nonce)}")  # a source no cache has seen

    def _build(self, kind: str, comment: str) -> None:
        key = ("bench_exp", kind, id(self), next(self.nonce))  # never in the in-memory kernel cache
        self.device.kernel(key, lambda: (_SOURCE.format(comment), "bench_exp", [None]))
