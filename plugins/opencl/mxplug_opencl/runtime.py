"""OpenCL devices, the native array type, the buffer pool, the program cache and kernel launches.

Everything device-side goes through one in-order command queue per device, so the order of enqueued work is
the order of Python calls: a buffer returned to the pool while a queued kernel still reads it is only reused
by work queued after that kernel. Host reads (`to_numpy`) are blocking copies and so wait for it.
"""

from __future__ import annotations

import gc
import math
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mxplug.base import BackendUnavailableError, MXNetError

cl: Any = None  # pyopencl, bound by `probe()` (the plugin must load, and say why, where it is missing)

ENV_DEVICE = "MXPLUG_OPENCL_DEVICE"

# OpenCL C storage types. bool is stored as uchar 0/1, which is NumPy's own layout of bool.
CTYPES = {
    "float16": "half", "float32": "float", "float64": "double",
    "int8": "char", "uint8": "uchar", "int32": "int", "int64": "long", "bool": "uchar",
}
# Element-size types: data movement does not care what the bits mean, so one kernel serves every dtype of a size.
UTYPES = {1: "uchar", 2: "ushort", 4: "uint", 8: "ulong"}
FLOATS = ("float16", "float32", "float64")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class CLArray:
    """A contiguous (C-order) array in one OpenCL buffer: what mxplug's core sees as the native array."""

    __slots__ = ("buf", "shape", "dtype", "device", "__weakref__")

    def __init__(self, buf: Any, shape: tuple[int, ...], dtype: np.dtype, device: Device) -> None:
        self.buf = buf
        self.shape = shape
        self.dtype = dtype
        self.device = device

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __repr__(self) -> str:
        return f"CLArray(shape={self.shape}, dtype={self.dtype.name}, device={self.device.label})"


class Device:
    """One OpenCL device: its context, queue, buffer pool and compiled kernels (created on first use)."""

    def __init__(self, index: int, cl_device: Any) -> None:
        self.index = index
        self.cl_device = cl_device
        self.name = f"{cl_device.platform.name.strip()}: {cl_device.name.strip()}"
        self.label = f"opencl({index})"
        ext = set(cl_device.extensions.split())
        self.fp64 = "cl_khr_fp64" in ext or bool(getattr(cl_device, "double_fp_config", 0))
        self.fp16 = "cl_khr_fp16" in ext
        self.is_cpu = bool(cl_device.type & cl.device_type.CPU)
        try:
            self.unified_memory = bool(cl_device.host_unified_memory)
        except Exception:  # deprecated query (OpenCL 2.0+): a CPU device shares the host's memory
            self.unified_memory = self.is_cpu
        self.compute_units = max(1, int(cl_device.max_compute_units))
        # PoCL compiles with clang, whose builtins (streaming stores) its OpenCL C accepts.
        self.clang = "portable computing language" in cl_device.platform.name.lower()
        self.flat_lsize = (1,) if self.is_cpu else None  # see `launch`
        self.max_alloc = int(cl_device.max_mem_alloc_size)
        self._ctx = self._queue = self._pool = None
        self._kernels: dict[tuple, Any] = {}
        self.prepared: dict[Any, Any] = {}  # launch-ready kernel objects of the hot paths, by their own keys
        self._lock = threading.Lock()
        self._ones = {1: (1,), 2: (1, 1), 3: (1, 1, 1)}
        self._open_lock = threading.Lock()

    # -- lazily opened context -------------------------------------------------------------------------------
    def _open(self) -> None:
        with self._open_lock:
            if self._queue is None:
                from pyopencl.tools import ImmediateAllocator, MemoryPool

                self._ctx = cl.Context([self.cl_device])
                self._queue = cl.CommandQueue(self._ctx)
                self._pool = MemoryPool(ImmediateAllocator(self._queue))

    @property
    def context(self) -> Any:
        if self._ctx is None:
            self._open()
        return self._ctx

    @property
    def queue(self) -> Any:
        if self._queue is None:
            self._open()
        return self._queue

    @property
    def pool(self) -> Any:
        if self._pool is None:
            self._open()
        return self._pool

    def dtypes(self) -> tuple[str, ...]:
        """The dtypes this device computes in (float64/float16 only with cl_khr_fp64/cl_khr_fp16)."""
        out = ["float32", "uint8", "int8", "int32", "int64"]
        if self.fp64:
            out.append("float64")
        if self.fp16:
            out.append("float16")
        return tuple(out)

    def compute_type(self, dtype: np.dtype) -> str:
        """The C type arithmetic on `dtype` runs in: half in float, integers (for math) in double."""
        name = dtype.name
        if name == "float16":
            return "float"
        if name in ("float32", "float64"):
            return CTYPES[name]
        return "double" if self.fp64 else "float"

    def preamble(self) -> str:
        lines = []
        if self.fp64:
            lines.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
        if self.fp16:
            lines.append("#pragma OPENCL EXTENSION cl_khr_fp16 : enable")
        return "\n".join(lines) + "\n"

    # -- memory ----------------------------------------------------------------------------------------------
    def alloc(self, shape: tuple[int, ...], dtype: np.dtype) -> CLArray:
        """A new array from the pool; on failure the pool is released and the allocation tried once more."""
        nbytes = max(math.prod(shape) * dtype.itemsize, 1)  # OpenCL has no empty buffers
        try:
            buf = (self._pool or self.pool).allocate(nbytes)
        except Exception as first:
            if cl is None or not isinstance(first, cl.Error):
                raise
            self.release_pool()
            try:
                buf = self.pool.allocate(nbytes)
            except cl.Error as e:
                raise MXNetError(
                    f"{self.label} ({self.name}) is out of memory: allocating {nbytes} bytes for an array of shape "
                    f"{shape} {dtype.name} failed after releasing the pool ({type(e).__name__}: {e}); the device "
                    f"allows {self.max_alloc} bytes per buffer"
                ) from None
        return CLArray(buf, tuple(shape), dtype, self)

    def release_pool(self) -> None:
        """Return the pool's idle buffers to the driver (arrays still alive keep theirs)."""
        if self._pool is not None:
            gc.collect()  # arrays in unreachable cycles give their buffers back first
            self._queue.finish()
            self._pool.free_held()

    def upload(self, host: np.ndarray) -> CLArray:
        host = np.ascontiguousarray(host)
        out = self.alloc(host.shape, host.dtype)
        if host.nbytes:
            cl.enqueue_copy(self.queue, out.buf, host, is_blocking=True)
        return out

    def download(self, arr: CLArray) -> np.ndarray:
        host = np.empty(arr.shape, dtype=arr.dtype)
        if host.nbytes:
            cl.enqueue_copy(self.queue, host, arr.buf, is_blocking=True)
        return host

    def copy_buffer(self, dst: CLArray, src: CLArray, nbytes: int | None = None) -> None:
        n = src.nbytes if nbytes is None else nbytes
        if n:
            cl.enqueue_copy(self.queue, dst.buf, src.buf, byte_count=n)

    def duplicate(self, src: CLArray, shape: tuple[int, ...] | None = None) -> CLArray:
        """A copy of `src` (optionally with another shape of the same size)."""
        out = self.alloc(src.shape if shape is None else tuple(shape), src.dtype)
        self.copy_buffer(out, src)
        return out

    def fill(self, arr: CLArray, value: Any) -> CLArray:
        """Fill with one value, converted as C converts (2.7 → 2 for int32, -1 → 255 for uint8)."""
        if arr.nbytes:
            with np.errstate(all="ignore"):
                pattern = np.array(np.float64(value)).astype(arr.dtype).reshape(1)
            cl.enqueue_fill_buffer(self.queue, arr.buf, pattern, 0, arr.nbytes)
        return arr

    # -- programs and launches -------------------------------------------------------------------------------
    def kernel(self, key: tuple, render: Callable[[], tuple[str, str, Sequence[Any]]]) -> Any:
        """The compiled kernel for `key`, built on first use from ``render() -> (source, name, scalar dtypes)``."""
        k = self._kernels.get(key)
        if k is None:
            source, name, scalar_dtypes = render()
            k = self._kernels[key] = self._build(source, name, scalar_dtypes)
        return k

    def _build(self, source: str, name: str, scalar_dtypes: Sequence[Any]) -> Any:
        try:
            program = cl.Program(self.context, self.preamble() + source).build()
        except cl.Error as e:
            lines = (self.preamble() + source).splitlines()
            numbered = "\n".join(f"{i + 1:4d}  {line}" for i, line in enumerate(lines))
            raise MXNetError(
                f"OpenCL build of kernel '{name}' failed on {self.label} ({self.name}); compiler log:\n{e}\n"
                f"--- source ---\n{numbered}"
            ) from None
        try:
            k = cl.Kernel(program, name)
        except cl.Error as e:  # a build that "succeeded" without the kernel (e.g. a back-end ABI failure)
            log = program.get_build_info(self.cl_device, cl.program_build_info.LOG)
            raise MXNetError(f"OpenCL kernel '{name}' is missing after building on {self.label} ({self.name}): {e}; "
                             f"compiler log:\n{log}") from None
        k.set_scalar_arg_dtypes(list(scalar_dtypes))  # scalars as Python numbers: a fast argument path
        return k

    def launch(self, kernel: Any, gsize: tuple[int, ...], lsize: tuple[int, ...] | None, *args: Any) -> None:
        if not all(gsize):
            return  # an empty range (size-0 arrays): nothing to do, and OpenCL rejects it
        if lsize is None and self.is_cpu:
            # One work-item per work-group: CPU runtimes spread work-groups over the cores, and each of our
            # CPU work-items already loops over a long contiguous chunk (a runtime-chosen group would put
            # every chunk on one core).
            lsize = self._ones[len(gsize)]
        with self._lock:  # kernel objects are shared: arguments and launch must not interleave between threads
            kernel.set_args(*args)
            cl.enqueue_nd_range_kernel(self.queue, kernel, gsize, lsize)

    def chunking(self, n: int) -> tuple[int, int]:
        """(work-items, elements per work-item) for a loop over n elements: on CPUs a few contiguous chunks per
        core (each vectorised by the compiler), on GPUs one element per work-item (coalesced)."""
        if not self.is_cpu:
            return max(n, 1), 1
        chunk = max(4096, ceil_div(n, self.compute_units * 8))
        chunk = ceil_div(chunk, 16) * 16
        return max(ceil_div(n, chunk), 1), chunk

    def synchronize(self) -> None:
        if self._queue is not None:
            self._queue.finish()

    def pool_stats(self) -> dict[str, int]:
        if self._pool is None:
            return {"held": 0, "active": 0}
        return {"held": int(self._pool.held_blocks), "active": int(self._pool.active_blocks)}


def probe(env: dict | None = None) -> tuple[list[Device], str]:
    """(the usable devices, why there are none or ''), enumerating every platform's devices; the environment
    variable MXPLUG_OPENCL_DEVICE keeps only the devices whose "platform: device" name contains it."""
    global cl
    env = os.environ if env is None else env
    try:
        import pyopencl
    except ImportError as e:
        return [], f"PyOpenCL is not installed ({e}); install it with `pip install mxplug-opencl[pocl]`"
    except Exception as e:  # a broken install (missing ICD loader) must not break mxplug
        return [], f"PyOpenCL failed to import: {type(e).__name__}: {e}"
    cl = pyopencl
    try:
        platforms = cl.get_platforms()
    except Exception as e:  # no ICD, or an ICD loader without platforms
        return [], (f"no OpenCL platform found ({type(e).__name__}: {e}); install a driver, or PoCL for the CPU: "
                    "`pip install pocl-binary-distribution`")
    found = []
    for p in platforms:
        try:
            found.extend(p.get_devices())
        except Exception:  # a platform without devices raises DEVICE_NOT_FOUND
            continue
    if not found:
        return [], "no OpenCL device found on platforms " + ", ".join(p.name for p in platforms)
    wanted = env.get(ENV_DEVICE, "").strip()
    names = [f"{d.platform.name.strip()}: {d.name.strip()}" for d in found]
    if wanted:
        keep = [d for d, n in zip(found, names, strict=True) if wanted.lower() in n.lower()]
        if not keep:
            return [], f"{ENV_DEVICE}={wanted!r} matches none of the OpenCL devices: " + "; ".join(names)
        found = keep
    return [Device(i, d) for i, d in enumerate(found)], ""


def device_unavailable(label: str, reason: str) -> BackendUnavailableError:
    return BackendUnavailableError(f"backend 'opencl' for {label} is unavailable: {reason}")
