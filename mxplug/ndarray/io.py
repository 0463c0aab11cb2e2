"""`mx.nd.save` / `mx.nd.load`: NDArray lists and dicts in MXNet 1.x's binary `.params` format, no pickle.

The byte layout lives in `format_mxnet` (host arrays ↔ bytes); this module turns NDArrays into host arrays
and back, picks where loaded arrays go, and writes files atomically: into a temporary file in the target's
directory, flushed and fsynced, then renamed over the target, so a save that fails part-way leaves any
previous file intact.

>>> import mxplug as mx, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "w.params")
>>> mx.nd.save(path, {"w": mx.nd.ones((2, 2))})
>>> mx.nd.load(path)["w"].shape
(2, 2)
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import Callable, Sequence
from typing import BinaryIO

from ..context import Context
from ..plugins import manager
from . import format_mxnet as _format
from .ndarray import NDArray

__all__ = ["save", "load", "load_frombuffer"]


class _HostArrays(Sequence):
    """The arrays as the format writes them, copied to the host one at a time (not all up front)."""

    def __init__(self, arrays: list[NDArray]) -> None:
        self._arrays = arrays

    def __len__(self) -> int:
        return len(self._arrays)

    def __getitem__(self, i):
        a = self._arrays[i]
        return _format.StoredArray(a.asnumpy(), a.context.device_type, a.context.device_id)


def _split(data) -> tuple[list[NDArray], list[str]]:
    """MXNet's accepted forms: an NDArray, a list of NDArrays, or a dict str → NDArray."""
    if isinstance(data, NDArray):
        return [data], []
    if isinstance(data, dict):
        if any(not isinstance(k, str) for k in data) or any(not isinstance(v, NDArray) for v in data.values()):
            raise TypeError("save only accepts a dict str -> NDArray or a list of NDArrays")
        return list(data.values()), list(data.keys())
    if isinstance(data, list):
        if any(not isinstance(v, NDArray) for v in data):
            raise TypeError("save only accepts a dict str -> NDArray or a list of NDArrays")
        return list(data), []
    raise ValueError(
        f"data needs to be an NDArray, a dict of str -> NDArray or a list of NDArrays, got {type(data).__name__}"
    )


def _path(fname) -> str:
    if not isinstance(fname, (str, os.PathLike)):
        raise TypeError(f"fname must be a string or a path, got {type(fname).__name__}")
    return os.fspath(fname)


def save(fname: str | os.PathLike, data: NDArray | list[NDArray] | dict[str, NDArray]) -> None:
    """Save an NDArray, a list of them or a dict name → NDArray to `fname` (MXNet's `.params` format).

    The file is byte-for-byte what MXNet 1.9's `mx.nd.save` writes for the same arrays; arrays on device
    types MXNet does not know (e.g. opencl) are recorded as cpu(0).
    """
    arrays, names = _split(data)
    atomic_write(_path(fname), lambda f: _format.write(f, _HostArrays(arrays), names))


def load(fname: str | os.PathLike) -> list[NDArray] | dict[str, NDArray]:
    """Load a file written by `save` (or by MXNet): a dict when it has names, else a list.

    Malformed, truncated or hostile files raise `mxplug.base.FileFormatError` naming the file and the
    problem. Arrays saved from a CPU context load onto cpu(0), as in MXNet; arrays saved from gpu(i) load
    onto gpu(i) when that device exists, else onto cpu(0).
    """
    path = _path(fname)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        arrays, names = _format.read(f, size, path)
    return _to_ndarrays(arrays, names)


def load_frombuffer(buf: bytes | bytearray | memoryview) -> list[NDArray] | dict[str, NDArray]:
    """`load` from the bytes of a file."""
    raw = memoryview(buf).cast("B")
    arrays, names = _format.read(io.BytesIO(raw), raw.nbytes, "<buffer>")
    return _to_ndarrays(arrays, names)


def _placement(stored: _format.StoredArray) -> Context:
    if stored.device_type == "gpu":
        backend = manager().backends.get("gpu")
        if backend is not None and backend.available and stored.device_id < backend.num_devices():
            return Context("gpu", stored.device_id)
    return Context("cpu", 0)


def _to_ndarrays(arrays: list[_format.StoredArray], names: list[str]):
    from .creation import array

    result = [array(s.data, ctx=_placement(s), dtype=s.data.dtype) for s in arrays]
    return dict(zip(names, result, strict=True)) if names else result


# -- atomic files ---------------------------------------------------------------------------------------
def atomic_write(path: str, fill: Callable[[BinaryIO], None]) -> None:
    """Write a file all-or-nothing: `fill` writes into a temporary file beside `path`, which replaces
    `path` only once it is complete and on disk. On any error the temporary file is removed and `path`
    keeps its previous contents."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _create_temp(directory: str, base: str) -> tuple[int, str]:
    # os.open with mode 0o666 lets the umask decide the permissions, as a plain open() would.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _fsync_dir(directory: str) -> None:
    """Make the rename durable (POSIX); where directories cannot be opened (Windows) there is nothing to do."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
