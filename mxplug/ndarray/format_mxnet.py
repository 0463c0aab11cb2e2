"""MXNet 1.x's binary NDArray-list format (`.params`, `mx.nd.save`): host arrays ↔ bytes, nothing else.

Layout, all little-endian (MXNet's `NDArray::Save(stream, data, names)` over a dmlc stream)::

    uint64 0x112 (list magic), uint64 0 (reserved)
    uint64 count, then per array:
        uint32 0xF993FAC9 (V2 magic), int32 storage type (0 = dense)
        shape: int32 ndim, int64 dims[ndim]
        context: int32 dev_type, int32 dev_id
        int32 type flag (0 float32, 1 float64, 2 float16, 3 uint8, 4 int32, 5 int8, 6 int64, 7 bool)
        raw data, C order
    uint64 name count (0, or one per array), then per name: uint64 length, UTF-8 bytes

The reader also takes the older per-array layouts MXNet still loads — V1 (magic 0xF993FAC8: no storage
type), legacy (no magic: the first uint32 is ndim and dims are uint32) — and V3 (0xF993FACA, NumPy shape
semantics). A V2 array of ndim 0 is read as a 0-d array followed by its data, which is what MXNet 1.9
writes for one (its own reader cannot load it back).

Every size in the file is checked against the bytes that remain before anything is allocated, so a
truncated or hostile file raises `FileFormatError` (naming the file, the offset and what is wrong) instead
of reading garbage or allocating absurd amounts of memory. No pickle, no code execution.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..base import DTypeError, FileFormatError

__all__ = ["StoredArray", "write", "read", "LIST_MAGIC", "V1_MAGIC", "V2_MAGIC", "V3_MAGIC", "TYPE_FLAGS"]

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
MAX_NDIM = 32  # MXNet's shapes never exceed this; a larger ndim is a corrupt file

# mshadow's type flags.
TYPE_FLAGS = {0: "float32", 1: "float64", 2: "float16", 3: "uint8", 4: "int32", 5: "int8", 6: "int64", 7: "bool"}
_FLAG_OF = {name: flag for flag, name in TYPE_FLAGS.items()}
_STORAGE = {0: "default", 1: "row_sparse", 2: "csr"}
# MXNet's device types (Context::DeviceType); others are written as cpu, so MXNet can read every file.
_MXNET_DEVICE_TYPES = {"cpu": 1, "gpu": 2, "cpu_pinned": 3, "cpu_shared": 5}
DEVICE_TYPES = {v: k for k, v in _MXNET_DEVICE_TYPES.items()}

# The smallest possible array record (V2, ndim 0, no data) and name record: bounds for the counts.
_MIN_ARRAY_BYTES = 4 + 4 + 4 + 8 + 4
_MIN_NAME_BYTES = 8


@dataclass(frozen=True)
class StoredArray:
    """One array of a file: its host data (native byte order) and the context it was saved from."""

    data: np.ndarray
    device_type: str = "cpu"
    device_id: int = 0


# -- writing --------------------------------------------------------------------------------------------
def _pack_array(a: StoredArray) -> list:
    data = a.data
    flag = _FLAG_OF.get(data.dtype.name)
    if flag is None:
        raise DTypeError(f"save: dtype {data.dtype.name} has no MXNet type flag (supported: {', '.join(_FLAG_OF)})")
    dev_type = _MXNET_DEVICE_TYPES.get(a.device_type)
    dev_id = a.device_id if dev_type is not None else 0
    head = struct.pack(f"<Iii{data.ndim}qiii", V2_MAGIC, 0, data.ndim, *data.shape, dev_type or 1, dev_id, flag)
    body = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
    return [head, body.reshape(-1).view(np.uint8)]  # the raw bytes, without a copy


def write(stream: BinaryIO, arrays: Sequence[StoredArray], names: Sequence[str] = ()) -> None:
    """Write `arrays` (and `names`: none, or one per array) to a binary stream in MXNet's layout."""
    if names and len(names) != len(arrays):
        raise ValueError(f"save: {len(names)} names for {len(arrays)} arrays")
    stream.write(struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays)))
    for a in arrays:
        for part in _pack_array(a):
            stream.write(part)
    stream.write(struct.pack("<Q", len(names)))
    for name in names:
        raw = name.encode("utf-8")
        stream.write(struct.pack("<Q", len(raw)))
        stream.write(raw)


# -- reading --------------------------------------------------------------------------------------------
class _Reader:
    """Reads exact byte counts from a stream of known size, or raises FileFormatError naming the source."""

    def __init__(self, stream: BinaryIO, size: int, source: str) -> None:
        self.stream, self.size, self.source, self.offset = stream, size, source, 0

    @property
    def remaining(self) -> int:
        return self.size - self.offset

    def fail(self, what: str) -> FileFormatError:
        return FileFormatError(f"{self.source}: not a valid MXNet NDArray file: {what} (at byte {self.offset})")

    def take(self, n: int, what: str) -> bytes:
        if n > self.remaining:
            raise self.fail(f"truncated: {what} needs {n} bytes, {self.remaining} left")
        raw = self.stream.read(n)
        if len(raw) != n:  # the stream was shorter than it said (a file changing under us)
            raise self.fail(f"truncated: {what} needs {n} bytes, got {len(raw)}")
        self.offset += n
        return raw

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def _read_shape(r: _Reader, i: int, magic: int) -> tuple[int, ...] | None:
    """The shape of array `i`; None for MXNet's 'none' array (no shape, nothing follows)."""
    if magic in (V1_MAGIC, V2_MAGIC, V3_MAGIC):
        (ndim,) = r.unpack("i", f"array #{i}'s ndim")
        if magic == V3_MAGIC and ndim == -1:
            raise r.fail(f"array #{i} has an unknown shape (ndim -1)")
        dim_fmt, dim_size = "q", 8
    else:  # legacy: the uint32 read as the magic is ndim itself, dims are uint32
        ndim, dim_fmt, dim_size = magic, "I", 4
    if not 0 <= ndim <= MAX_NDIM:
        raise r.fail(f"array #{i} claims ndim {ndim} (at most {MAX_NDIM})")
    if ndim * dim_size > r.remaining:
        raise r.fail(f"truncated: array #{i}'s {ndim} dims need {ndim * dim_size} bytes, {r.remaining} left")
    shape = r.unpack(f"{ndim}{dim_fmt}", f"array #{i}'s dims") if ndim else ()
    if any(d < 0 for d in shape):
        raise r.fail(f"array #{i} has a negative dimension in shape {shape}")
    if ndim == 0 and magic != V2_MAGIC and magic != V3_MAGIC:
        return None
    return tuple(shape)


def _read_array(r: _Reader, i: int) -> StoredArray:
    (magic,) = r.unpack("I", f"array #{i}'s magic")
    if magic in (V2_MAGIC, V3_MAGIC):
        (stype,) = r.unpack("i", f"array #{i}'s storage type")
        if stype != 0:
            kind = _STORAGE.get(stype)
            raise r.fail(f"array #{i} has {'unknown storage type ' + str(stype) if kind is None else kind + ' storage'}"
                         ", only dense arrays are supported")
    elif magic != V1_MAGIC and magic > MAX_NDIM:
        raise r.fail(f"array #{i} starts with 0x{magic:08x}, which is neither an NDArray magic number nor an ndim")
    shape = _read_shape(r, i, magic)
    if shape is None:
        raise r.fail(f"array #{i} is an empty (uninitialised) NDArray, which mxplug cannot represent")
    dev_type, dev_id, flag = r.unpack("iii", f"array #{i}'s context and dtype")
    dtype_name = TYPE_FLAGS.get(flag)
    if dtype_name is None:
        raise r.fail(f"array #{i} has unsupported type flag {flag} (supported: "
                     + ", ".join(f"{k}={v}" for k, v in TYPE_FLAGS.items()) + ")")
    dtype = np.dtype(dtype_name)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    if nbytes > r.remaining:  # before allocating: a hostile shape must not cost memory
        raise r.fail(f"truncated: array #{i} of shape {shape} {dtype_name} needs {nbytes} bytes, {r.remaining} left")
    raw = r.take(nbytes, f"array #{i}'s data")
    data = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=count).astype(dtype).reshape(shape)
    return StoredArray(data, DEVICE_TYPES.get(dev_type, f"devtype{dev_type}"), dev_id)


def _read_count(r: _Reader, what: str, min_bytes: int) -> int:
    (n,) = r.unpack("Q", f"the {what} count")
    if n * min_bytes > r.remaining:
        raise r.fail(f"claims {n} {what}s, but only {r.remaining} bytes remain")
    return n


def read(stream: BinaryIO, size: int, source: str = "<buffer>") -> tuple[list[StoredArray], list[str]]:
    """Parse a whole NDArray-list file of `size` bytes: (arrays, names); names is empty or one per array."""
    r = _Reader(stream, size, source)
    header, _reserved = r.unpack("QQ", "the header")
    if header != LIST_MAGIC:
        raise r.fail(f"bad magic number 0x{header:x} (expected 0x{LIST_MAGIC:x})")
    arrays = [_read_array(r, i) for i in range(_read_count(r, "array", _MIN_ARRAY_BYTES))]
    names = []
    for i in range(_read_count(r, "name", _MIN_NAME_BYTES)):
        (length,) = r.unpack("Q", f"name #{i}'s length")
        raw = r.take(length, f"name #{i}")
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise r.fail(f"name #{i} is not UTF-8 ({e.reason})") from None
    if names and len(names) != len(arrays):
        raise r.fail(f"{len(names)} names for {len(arrays)} arrays")
    return arrays, names
