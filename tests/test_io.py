"""`mx.nd.save` / `mx.nd.load` in MXNet 1.x's binary NDArray-list format.

tests/oracle/record_params.py had MXNet 1.9 write `.params` files for a set of cases (every dtype, names,
0-d and zero-size arrays, special floats, integer extremes, cpu(1)); mxplug must load them to the same arrays
and write byte-identical files. Also: the older layouts MXNet still reads (built here byte by byte), atomic
writes (a failing save leaves the old file), and malformed, truncated and hostile files, which must raise
`FileFormatError` naming the file without allocating what they claim.
"""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import FileFormatError
from mxplug.ndarray import format_mxnet
from tests.oracle.record_params import CASES, DATA, MANIFEST, build, values

V1, V2, V3 = 0xF993FAC8, 0xF993FAC9, 0xF993FACA


def test_cases_match_what_was_recorded():
    recorded = json.loads(MANIFEST.read_text(encoding="utf-8"))["cases"]
    assert recorded == CASES, "record_params.py changed since the files were written: re-run it with MXNet"


@pytest.mark.parametrize("case", sorted(CASES))
def test_files_are_byte_identical_to_mxnet(case, tmp_path):
    path = tmp_path / f"{case}.params"
    mx.nd.save(str(path), build(mx, CASES[case]))
    assert path.read_bytes() == (DATA / f"{case}.params").read_bytes()


@pytest.mark.parametrize("case", sorted(CASES))
def test_loads_mxnet_files(case):
    spec = CASES[case]
    loaded = mx.nd.load(str(DATA / f"{case}.params"))
    named = spec["form"] == "dict" and spec["arrays"]
    assert isinstance(loaded, dict if named else list)  # MXNet: a dict only when the file has names
    items = list(loaded.items()) if named else [(None, a) for a in loaded]
    assert len(items) == len(spec["arrays"])
    for (name, got), entry in zip(items, spec["arrays"], strict=True):
        want = values(entry)
        assert name == entry["name"]
        assert got.shape == want.shape and got.dtype == want.dtype.type
        assert got.context == mx.cpu(0)  # as in MXNet, CPU arrays load onto cpu(0), whatever their index
        np.testing.assert_array_equal(got.asnumpy(), want)  # NaNs compare equal here


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool"])
def test_round_trip_every_dtype(dtype, tmp_path):
    src = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    path = tmp_path / "x.params"
    mx.nd.save(path, {"x": mx.nd.array(src, dtype=dtype)})  # a PathLike works too
    got = mx.nd.load(path)["x"]
    assert got.dtype == np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), src)


def test_load_frombuffer(tmp_path):
    raw = (DATA / "random_weights.params").read_bytes()
    for buf in (raw, bytearray(raw), memoryview(raw)):
        got = mx.nd.load_frombuffer(buf)
        assert sorted(got) == ["emb", "fc1_bias", "fc1_weight"]
    with pytest.raises(FileFormatError, match="<buffer>"):
        mx.nd.load_frombuffer(raw[:-1])


def test_save_accepts_mxnet_forms_only(tmp_path):
    path = str(tmp_path / "x.params")
    with pytest.raises(TypeError, match="dict str -> NDArray"):
        mx.nd.save(path, {1: mx.nd.ones(1)})
    with pytest.raises(TypeError, match="dict str -> NDArray"):
        mx.nd.save(path, {"a": np.ones(1)})
    with pytest.raises(TypeError, match="list of NDArrays"):
        mx.nd.save(path, [mx.nd.ones(1), 2])
    with pytest.raises(ValueError, match="got tuple"):
        mx.nd.save(path, (mx.nd.ones(1),))
    with pytest.raises(TypeError, match="fname must be a string"):
        mx.nd.save(3, [mx.nd.ones(1)])
    assert not os.listdir(tmp_path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        mx.nd.load(str(tmp_path / "nope.params"))


def test_no_pickle_in_the_io_modules():
    import ast

    for module in (mx.nd.io, format_mxnet):
        tree = ast.parse(Path(module.__file__).read_text())
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        imported = {alias.name.split(".")[0] for n in nodes for alias in n.names}
        imported |= {n.module.split(".")[0] for n in nodes if isinstance(n, ast.ImportFrom) and n.module}
        assert not imported & {"pickle", "cPickle", "dill", "marshal", "shelve"}, imported


# -- older layouts, contexts ------------------------------------------------------------------------------
def _header(count: int) -> bytes:
    return struct.pack("<QQQ", 0x112, 0, count)


def _tail(names=()) -> bytes:
    out = struct.pack("<Q", len(names))
    for n in names:
        out += struct.pack("<Q", len(n)) + n
    return out


def _v2(shape, data: np.ndarray, flag=0, ctx=(1, 0), magic=V2, stype=0) -> bytes:
    head = struct.pack(f"<Iii{len(shape)}q", magic, stype, len(shape), *shape)
    return head + struct.pack("<iii", *ctx, flag) + data.astype(data.dtype.newbyteorder("<")).tobytes()


def test_loads_v1_arrays():
    data = np.array([[1.5, 2.5, -3.0]], dtype="float64")
    raw = _header(1) + struct.pack("<Ii2q", V1, 2, 1, 3) + struct.pack("<iii", 1, 0, 1) + data.tobytes() + _tail()
    (got,) = mx.nd.load_frombuffer(raw)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.asnumpy(), data)


def test_loads_legacy_arrays_whose_magic_is_ndim():
    data = np.arange(6, dtype="int32").reshape(2, 3)
    raw = _header(1) + struct.pack("<I2I", 2, 2, 3) + struct.pack("<iii", 1, 0, 4) + data.tobytes()
    got = mx.nd.load_frombuffer(raw + _tail([b"w"]))
    np.testing.assert_array_equal(got["w"].asnumpy(), data)


def test_loads_v3_zero_d_arrays():
    raw = _header(1) + _v2((), np.array(7, dtype="int64"), flag=6, magic=V3) + _tail()
    (got,) = mx.nd.load_frombuffer(raw)
    assert got.shape == () and got.asscalar() == 7


@pytest.mark.parametrize("ctx", [(2, 0), (2, 3), (3, 0), (5, 1), (8, 0)])
def test_non_cpu_contexts_load_onto_cpu_without_their_backend(ctx):
    raw = _header(1) + _v2((2,), np.array([1, 2], dtype="float32"), ctx=ctx) + _tail()
    (got,) = mx.nd.load_frombuffer(raw)
    assert got.context == mx.cpu(0) and got.asnumpy().tolist() == [1, 2]


def test_unknown_device_types_are_written_as_cpu(tmp_path):
    # MXNet knows cpu, gpu, cpu_pinned and cpu_shared only; anything else is recorded as cpu(0) so MXNet reads it.
    from tests.toy_backend import installed

    path = tmp_path / "toy.params"
    with installed() as toy:
        mx.nd.save(path, [mx.nd.array([1.0, 2.0], ctx=mx.Context(toy.device_type, 1))])
    assert path.read_bytes() == _header(1) + _v2((2,), np.array([1, 2], dtype="float32")) + _tail()


# -- atomic writes ----------------------------------------------------------------------------------------
def _fail_on_second_copy(monkeypatch):
    real = mx.nd.NDArray.asnumpy
    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("device lost")
        return real(self)

    monkeypatch.setattr(mx.nd.NDArray, "asnumpy", flaky)


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.params"
    mx.nd.save(path, {"w": mx.nd.ones((2, 2))})
    before = path.read_bytes()
    _fail_on_second_copy(monkeypatch)  # the first array is written, the second fails part-way
    with pytest.raises(RuntimeError, match="device lost"):
        mx.nd.save(path, {"a": mx.nd.zeros((100,)), "b": mx.nd.zeros((100,))})
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.params"]  # no temporary file left behind


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    _fail_on_second_copy(monkeypatch)
    with pytest.raises(RuntimeError):
        mx.nd.save(tmp_path / "new.params", [mx.nd.ones(3), mx.nd.ones(3)])
    assert os.listdir(tmp_path) == []


def test_failing_stream_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.params"
    mx.nd.save(path, [mx.nd.ones(3)])
    before = path.read_bytes()

    def half_write(stream, arrays, names=()):
        stream.write(b"\x12\x01" * 10)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(format_mxnet, "write", half_write)
    with pytest.raises(OSError, match="No space left"):
        mx.nd.save(path, [mx.nd.zeros(3)])
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.params"]


def test_save_replaces_and_respects_the_umask(tmp_path):
    path = tmp_path / "m.params"
    mx.nd.save(path, [mx.nd.ones(1)])
    mx.nd.save(path, [mx.nd.zeros(2)])
    assert mx.nd.load(path)[0].asnumpy().tolist() == [0, 0]
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert (path.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)


def test_save_into_a_missing_directory_or_onto_a_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        mx.nd.save(tmp_path / "missing" / "x.params", [mx.nd.ones(1)])
    (tmp_path / "adir").mkdir()
    with pytest.raises(OSError):
        mx.nd.save(tmp_path / "adir", [mx.nd.ones(1)])
    assert os.listdir(tmp_path) == ["adir"] and os.listdir(tmp_path / "adir") == []


# -- malformed, truncated and hostile files ---------------------------------------------------------------
def _small_file() -> bytes:
    return (_header(2) + _v2((2,), np.array([1.0, 2.0], dtype="float32"))
            + _v2((1, 2), np.array([[3, 4]], dtype="int32"), flag=4) + _tail([b"a", b"bb"]))


def test_the_small_file_is_what_save_writes(tmp_path):
    path = tmp_path / "s.params"
    mx.nd.save(path, {"a": mx.nd.array([1.0, 2.0]), "bb": mx.nd.array([[3, 4]], dtype="int32")})
    assert path.read_bytes() == _small_file()


def test_truncation_at_every_byte_offset(tmp_path):
    raw = _small_file()
    path = tmp_path / "t.params"
    for n in range(len(raw)):
        path.write_bytes(raw[:n])
        with pytest.raises(FileFormatError) as info:
            mx.nd.load(str(path))
        message = str(info.value)
        assert str(path) in message and ("truncated" in message or "claims" in message), (n, message)
    path.write_bytes(raw)
    assert sorted(mx.nd.load(str(path))) == ["a", "bb"]


def _load_error(raw: bytes, tmp_path) -> str:
    path = tmp_path / "bad.params"
    path.write_bytes(raw)
    with pytest.raises(FileFormatError) as info:
        mx.nd.load(str(path))
    assert str(path) in str(info.value)
    return str(info.value)


ONE = np.array([1.0], dtype="float32")


MALFORMED = [
    (b"", "the header needs 16 bytes"),
    (b"hello world 12345678901234567890", "bad magic number"),
    (struct.pack("<QQQ", 0x113, 0, 0) + _tail(), "bad magic number 0x113"),
    (_header(1) + struct.pack("<I", 0xDEADBEEF) + b"\0" * 40 + _tail(), "neither an NDArray magic number"),
    (_header(1) + _v2((1,), ONE, stype=1) + _tail(), "row_sparse storage"),
    (_header(1) + _v2((1,), ONE, stype=7) + _tail(), "unknown storage type 7"),
    (_header(1) + _v2((1,), ONE, flag=12) + _tail(), "unsupported type flag 12"),
    (_header(1) + _v2((1,), ONE, flag=-1) + _tail(), "unsupported type flag -1"),
    (_header(1) + _v2((-1,), ONE) + _tail(), "negative dimension"),
    (_header(1) + struct.pack("<Iii", V2, 0, -5) + b"\0" * 64, "claims ndim -5"),
    (_header(1) + struct.pack("<Iii", V2, 0, 100) + b"\0" * 1000, "claims ndim 100"),
    (_header(1) + struct.pack("<Iii", V3, 0, -1) + b"\0" * 16 + _tail(), "unknown shape"),
    (_header(1) + struct.pack("<Ii", V1, 0) + struct.pack("<iii", 1, 0, 0) + _tail(), "empty .uninitialised"),
    (_header(1) + _v2((1,), ONE) + _tail([b"a", b"b"]), "2 names for 1 arrays"),
    (_header(2) + _v2((1,), ONE) * 2 + _tail([b"a", b"b", b"c"]) + b"\0" * 64, "3 names for 2 arrays"),
    (_header(1) + _v2((1,), ONE) + struct.pack("<QQ", 1, 2) + b"\xff\xfe", "not UTF-8"),
    (_header(1) + _v2((1,), ONE) + struct.pack("<QQ", 1, 2**62) + b"ab", "name #0 needs 4611686018427387904"),
]


@pytest.mark.parametrize("raw, match", MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_files(raw, match, tmp_path):
    import re

    assert re.search(match, _load_error(raw, tmp_path)), _load_error(raw, tmp_path)


HOSTILE = [
    (_header(2**62) + b"\0" * 100, "claims 4611686018427387904 arrays"),
    (_header(1) + struct.pack("<Iii2q", V2, 0, 2, 2**40, 2**40) + struct.pack("<iii", 1, 0, 1) + b"\0" * 64,
     "needs 9671406556917033397649408 bytes"),
    (_header(1) + struct.pack("<Iii1q", V2, 0, 1, 2**62 - 1) + struct.pack("<iii", 1, 0, 6) + b"\0" * 64,
     "needs .* bytes, 64 left"),
    (_header(1) + struct.pack("<I3I", 3, 2**31, 2**31, 2**31) + struct.pack("<iii", 1, 0, 0) + b"\0" * 8,
     "needs .* bytes, 8 left"),
]


@pytest.mark.parametrize("raw, match", HOSTILE, ids=["count", "dims_product", "int64_dim", "legacy_dims"])
def test_hostile_sizes_do_not_allocate(raw, match, tmp_path):
    import re

    tracemalloc.start()
    try:
        message = _load_error(raw, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert re.search(match, message), message
    assert peak < 1 << 20, f"loading a hostile file allocated {peak} bytes"


def test_trailing_bytes_are_ignored_as_mxnet_does():
    (got,) = mx.nd.load_frombuffer(_header(1) + _v2((1,), ONE) + _tail() + b"junk")
    assert got.asnumpy().tolist() == [1.0]
