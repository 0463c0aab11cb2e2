"""OpenCL devices, the native array type, the buffer pools, the program cache and kernel launches.

Everything device-side goes through one in-order command queue per device, so the order of enqueued work is
the order of Python calls: a buffer returned to the pool while a queued kernel still reads it is only reused
by work queued after that kernel. Host reads (`to_numpy`) are blocking copies and so wait for it.

Small arrays on host-unified CPU devices (PoCL, the Intel and AMD CPU runtimes) live in host-mapped buffers:
each buffer of the small pool is allocated with CL_MEM_ALLOC_HOST_PTR and mapped once, so the host reads and
writes the very memory kernels use (checked on the device when it opens; see `_host_mapping_works`). Such an
array can also exist on the host side only (`CLArray.host` set, no buffer yet: the result of an operator run
on the host, see `kernels.host_ops`); its buffer is made on first device use. The invariant: `host` is either
None, or the array's whole memory (the mapped buffer, or the only copy when no buffer exists yet). Before the
host touches mapped memory it waits for the queue (`queue.finish()`, ~0.1 µs when idle), so the host never
races a queued kernel.
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


# Arrays up to this size come from the host-mapped small pool on devices that have one (see the module text).
SMALL_BYTES = 32 << 10


class CLArray:
    """A contiguous (C-order) array in one OpenCL buffer: what mxplug's core sees as the native array.

    `host` is None or a NumPy array over the array's memory (see the module text); `buf` makes the buffer of a
    host-only array on first use."""

    __slots__ = ("_buf", "host", "shape", "dtype", "device", "__weakref__")

    def __init__(self, buf: Any, shape: tuple[int, ...], dtype: np.dtype, device: Device) -> None:
        self._buf = buf
        self.host = None
        self.shape = shape
        self.dtype = dtype
        self.device = device

    @classmethod
    def on_host(cls, host: np.ndarray, device: Device) -> CLArray:
        """A host-only array owning `host` (C-contiguous, not shared with any other array)."""
        arr = cls.__new__(cls)
        arr._buf = None
        arr.host = host
        arr.shape = host.shape
        arr.dtype = host.dtype
        arr.device = device
        return arr

    @property
    def buf(self) -> Any:
        b = self._buf
        if b is None:
            b = self.device.materialize(self)
        return b

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
        # The host-mapped small pool (host-unified CPU devices whose mapping passes the check at opening):
        self._small_pool = None
        self._mapped: dict[int, np.ndarray] = {}  # cl_mem handle of a small-pool buffer -> its mapped bytes
        self.host_memory = False  # small arrays readable and writable by the host (set when the device opens)
        self.host_ops = False  # tiny elementwise operators run on the host (host_memory and the strategy allow)
        self._kernels: dict[tuple, Any] = {}
        self.prepared: dict[Any, Any] = {}  # launch-ready kernel objects of the hot paths, by their own keys
        self._lock = threading.Lock()
        self._ones = {1: (1,), 2: (1, 1), 3: (1, 1, 1)}
        self._open_lock = threading.Lock()

    # -- lazily opened context -------------------------------------------------------------------------------
    def _open(self) -> None:
        with self._open_lock:
            if self._queue is not None:
                return
            from pyopencl.tools import ImmediateAllocator, MemoryPool

            from .kernels import host_ops

            ctx = cl.Context([self.cl_device])
            queue = cl.CommandQueue(ctx)
            small = None
            if self.is_cpu and self.unified_memory:
                flags = cl.mem_flags.READ_WRITE | cl.mem_flags.ALLOC_HOST_PTR
                small = MemoryPool(ImmediateAllocator(queue, flags))
                if not self._host_mapping_works(queue, small):
                    small = None
                    self._mapped.clear()
            self._ctx, self._pool, self._small_pool = ctx, MemoryPool(ImmediateAllocator(queue)), small
            self.host_memory = small is not None
            self.host_ops = self.host_memory and host_ops.strategy() == "host"
            self._queue = queue  # last: a thread that finds the queue set finds everything else set too

    def _host_mapping_works(self, queue: Any, small: Any) -> bool:
        """Whether the host sees the device's writes to a mapped small buffer, and the device the host's,
        without further map calls (true on CPU runtimes whose buffers are host memory; checked, not assumed)."""
        try:
            a, b = small.allocate(64), small.allocate(64)
            ha, hb = self._map(queue, a)[:64], self._map(queue, b)[:64]
            ha[:] = np.arange(64, dtype=np.uint8)
            cl.enqueue_copy(queue, b, a, byte_count=64)  # the device reads the host's bytes and writes b
            queue.finish()
            ok = bool((hb == np.arange(64, dtype=np.uint8)).all())
            cl.enqueue_fill_buffer(queue, a, np.uint8(7), 0, 64)  # the device writes, the host reads
            queue.finish()
            return ok and bool((ha == 7).all())
        except Exception:  # any failure means: no host mapping on this device, kernels only
            return False

    def open(self) -> Device:
        """Open the device now (its context, queue and pools; what `host_memory` says is known from then on)."""
        if self._queue is None:
            self._open()
        return self

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
        pool = self._pool or self.pool
        try:
            buf = self._small_alloc(nbytes) if nbytes <= SMALL_BYTES and self._small_pool else pool.allocate(nbytes)
        except Exception as first:
            if cl is None or not isinstance(first, cl.Error):
                raise
            self.release_pool()
            try:
                buf = self._small_alloc(nbytes) if nbytes <= SMALL_BYTES and self._small_pool else pool.allocate(nbytes)
            except cl.Error as e:
                raise MXNetError(
                    f"{self.label} ({self.name}) is out of memory: allocating {nbytes} bytes for an array of shape "
                    f"{shape} {dtype.name} failed after releasing the pool ({type(e).__name__}: {e}); the device "
                    f"allows {self.max_alloc} bytes per buffer"
                ) from None
        return CLArray(buf, tuple(shape), dtype, self)

    def _small_alloc(self, nbytes: int) -> Any:
        """A buffer of the host-mapped small pool; a buffer new to the pool is mapped once, for its lifetime."""
        buf = self._small_pool.allocate(nbytes)
        if buf.int_ptr not in self._mapped:
            self._map(self._queue, buf)
        return buf

    def _map(self, queue: Any, buf: Any) -> np.ndarray:
        """Map a small-pool buffer for good and record its bytes under its cl_mem handle. The whole underlying
        allocation is mapped (the pool serves several sizes from one bin); the map keeps the cl_mem alive, so a
        handle is never reused for another buffer while it is in the table."""
        size = buf.get_info(cl.mem_info.SIZE)
        flags = cl.map_flags.READ | cl.map_flags.WRITE
        raw, _ = cl.enqueue_map_buffer(queue, buf, flags, 0, (size,), np.uint8, is_blocking=True)
        self._mapped[buf.int_ptr] = raw
        return raw

    def host_view(self, arr: CLArray) -> np.ndarray | None:
        """NumPy's view of `arr`'s memory where the host can reach it (host-only or in the mapped small pool),
        else None. The caller waits for the queue before touching mapped memory (`sync_host`)."""
        h = arr.host
        if h is None:
            raw = self._mapped.get(arr._buf.int_ptr)
            if raw is None:
                return None
            h = arr.host = raw[:arr.nbytes].view(arr.dtype).reshape(arr.shape)
        return h

    def sync_host(self) -> None:
        """Wait for queued work, so the host may read and write mapped memory."""
        self._queue.finish()

    def materialize(self, arr: CLArray) -> Any:
        """Give a host-only array its buffer: a mapped small-pool buffer holding its bytes, which `host` then
        views (the array's memory is the buffer's from here on)."""
        host = arr.host
        buf = self._small_alloc(max(host.nbytes, 1)) if self._small_pool else None
        if buf is None:  # not a host-memory device (an array made on the host by a caller): copy it up
            buf = self.pool.allocate(max(host.nbytes, 1))
            if host.nbytes:
                cl.enqueue_copy(self._queue, buf, host, is_blocking=True)
            arr._buf, arr.host = buf, None
            return buf
        view = self._mapped[buf.int_ptr][:host.nbytes].view(arr.dtype).reshape(arr.shape)
        self._queue.finish()  # a recycled buffer may still be read by queued work
        view[...] = host
        arr._buf, arr.host = buf, view
        return buf

    def release_pool(self) -> None:
        """Return the pool's idle buffers to the driver (arrays still alive keep theirs). The host-mapped small
        pool keeps its buffers (mapped for their lifetime; at most the peak number of small arrays alive)."""
        if self._pool is not None:
            gc.collect()  # arrays in unreachable cycles give their buffers back first
            self._queue.finish()
            self._pool.free_held()

    def upload(self, host: np.ndarray) -> CLArray:
        if self.host_memory and host.nbytes <= SMALL_BYTES:  # a small array stays on the host until used
            return CLArray.on_host(np.array(host, order="C", copy=True), self)
        host = np.ascontiguousarray(host)
        out = self.alloc(host.shape, host.dtype)
        if host.nbytes:
            cl.enqueue_copy(self.queue, out.buf, host, is_blocking=True)
        return out

    def download(self, arr: CLArray) -> np.ndarray:
        if self.host_memory:
            h = self.host_view(arr)
            if h is not None:
                if arr._buf is not None:
                    self._queue.finish()
                return h.copy()
        host = np.empty(arr.shape, dtype=arr.dtype)
        if host.nbytes:
            cl.enqueue_copy(self.queue, host, arr.buf, is_blocking=True)
        return host

    def copy_buffer(self, dst: CLArray, src: CLArray, nbytes: int | None = None) -> None:
        n = src.nbytes if nbytes is None else nbytes
        if n:
            cl.enqueue_copy(self.queue, dst.buf, src.buf, byte_count=n)

    def duplicate(self, src: CLArray, shape: tuple[int, ...] | None = None) -> CLArray:
        """A copy of `src` (optionally with another shape of the same size); a tiny one made on the host where
        tiny operators run there (kernels/host_ops.py)."""
        if self.host_ops and src.nbytes <= SMALL_BYTES:
            view = self.host_view(src)
            if view is not None:
                if src._buf is not None:
                    self._queue.finish()
                return CLArray.on_host(view.reshape(src.shape if shape is None else tuple(shape)).copy(), self)
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
        """Idle ('held') and used ('active') buffers of the pool, and of the host-mapped small pool."""
        stats = {"held": 0, "active": 0, "small_held": 0, "small_active": 0}
        if self._pool is not None:
            stats.update(held=int(self._pool.held_blocks), active=int(self._pool.active_blocks))
        if self._small_pool is not None:
            stats.update(small_held=int(self._small_pool.held_blocks),
                         small_active=int(self._small_pool.active_blocks))
        return stats


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
