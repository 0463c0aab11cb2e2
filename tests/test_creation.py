"""Array creation: `mx.nd.array`, `empty`, `zeros`, `ones`, `full`, `arange`, `eye`, `linspace`, `*_like`.

MXNet 1.9's answers (dtype rules of `array` for lists, NumPy arrays of every dtype, NDArrays and scalars;
arange in the output dtype; linspace in double; C-style casts in `full`; signatures) are recorded in
tests/oracle/record_creation.py and compared exactly. Here the same functions are also checked against
references written with explicit loops, and the deliberate differences and the errors are pinned.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, MXNetError, OperatorAttributeError, ShapeError
from tests.oracle.record_creation import CASES, check_case

DTYPES = ["float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- references -------------------------------------------------------------------------------------------
def ref_arange(start, stop, step, repeat, dtype) -> np.ndarray:
    """MXNet's rule, one element at a time: start and step cast to dtype, start + i*step in dtype."""
    if stop is None:
        start, stop = 0, start
    n = math.ceil((stop - start) / step)
    work = np.dtype("float32") if np.dtype(dtype) == np.float16 else np.dtype(dtype)
    first, stride = work.type(np.float64(start)), work.type(np.float64(step))
    values = []
    for i in range(n):
        v = first + work.type(i) * stride
        values += [v] * repeat
    return np.array(values, dtype=work).astype(dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "int8"])
@pytest.mark.parametrize("args", [
    (7, None, 1, 1), (2, 9, 3, 1), (0.5, 4.2, 0.7, 1), (5, -5, -1.5, 1), (1, 2, 0.125, 3), (-2.5, 2.5, 0.5, 2),
])
def test_arange_against_reference(args, dtype):
    start, stop, step, repeat = args
    got = mx.nd.arange(start, stop, step, repeat=repeat, dtype=dtype)
    want = ref_arange(start, stop, step, repeat, dtype)
    assert got.dtype == np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), want)


def test_arange_integer_step_truncates():
    # The step is cast to the dtype first, so 0.5 becomes 0 (MXNet 1.9's behaviour, recorded in the oracle).
    assert mx.nd.arange(2.7, 5, 0.5, dtype="int32").asnumpy().tolist() == [2] * 5


def test_arange_float16_is_computed_in_float32():
    # MXNet 1.9 returns zeros for a float16 arange with a fractional step; mxplug rounds float32 values.
    got = mx.nd.arange(0, 3, 0.3, dtype="float16").asnumpy()
    want = (np.float32(0) + np.arange(10, dtype="float32") * np.float32(0.3)).astype("float16")
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("args", [(0, 1, 5, True), (0, 1, 5, False), (-3, 7, 11, True), (2, 1, 1, True),
                                  (0.1, 0.73, 9, True), (5, -5, 4, False), (0, 1, 0, True)])
def test_linspace_against_reference(args, dtype):
    start, stop, num, endpoint = args
    step = (stop - start) / ((num - 1) if endpoint else num) if num > 1 else 0.0
    want = np.array([start + i * step for i in range(num)], dtype="float64").astype(dtype)
    got = mx.nd.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    assert got.shape == (num,) and got.dtype == np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), want)


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8"])
@pytest.mark.parametrize("n, m, k", [(3, 0, 0), (2, 5, 1), (4, 2, -1), (3, 3, 3), (3, 4, -3), (1, 1, 0), (0, 0, 0)])
def test_eye_against_reference(n, m, k, dtype):
    cols = m or n
    want = np.array([[1 if j - i == k else 0 for j in range(cols)] for i in range(n)], dtype=dtype).reshape(n, cols)
    got = mx.nd.eye(n, m, k, dtype=dtype)
    assert got.dtype == np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zeros_ones_full_every_dtype(dtype):
    shape = (2, 3)
    for got, value in ((mx.nd.zeros(shape, dtype=dtype), 0), (mx.nd.ones(shape, dtype=dtype), 1),
                       (mx.nd.full(shape, 1, dtype=dtype), 1)):
        assert got.shape == shape and got.dtype == np.dtype(dtype).type
        assert all(v == value for v in got.asnumpy().ravel().tolist())


@pytest.mark.parametrize("value, dtype, want", [
    (2.7, "int32", 2), (-2.7, "int32", -2), (-1, "uint8", 255), (256, "uint8", 0), (-129, "int8", 127),
    (0.1, "float16", float(np.float16(0.1))), (3, "bool", True), (0, "bool", False),
])
def test_full_casts_like_c(value, dtype, want):
    assert mx.nd.full((3,), value, dtype=dtype).asnumpy().tolist() == [want] * 3


def test_full_into_out_keeps_out_dtype():
    out = mx.nd.zeros((2, 2), dtype="int64")
    assert mx.nd.full((2, 2), 7.5, out=out) is out
    assert out.asnumpy().tolist() == [[7, 7], [7, 7]]


# -- nd.array dtype rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize("src_dtype", DTYPES)
def test_array_from_numpy_is_float32_unless_dtype_given(src_dtype):
    src = np.array([[1, 0], [2, 1]], dtype=src_dtype)
    assert mx.nd.array(src).dtype == np.float32
    for dtype in DTYPES:
        got = mx.nd.array(src, dtype=dtype)
        assert got.dtype == np.dtype(dtype).type
        np.testing.assert_array_equal(got.asnumpy(), src.astype(dtype))


@pytest.mark.parametrize("src_dtype", DTYPES)
def test_array_from_ndarray_keeps_dtype_and_copies(src_dtype):
    src = mx.nd.array([1, 0, 1], dtype=src_dtype)
    got = mx.nd.array(src)
    assert got.dtype == src.dtype and got is not src
    got[:] = 0
    assert src.asnumpy().astype("float64").tolist() == [1, 0, 1]


def test_array_scalars_and_zero_d():
    for src in (3, 2.5, np.float64(2.5), np.array(2.5), True):
        got = mx.nd.array(src)
        assert got.shape == () and got.dtype == np.float32
        assert got.asscalar() == np.float32(src)


def test_array_on_a_context():
    got = mx.nd.array([1, 2], ctx=mx.cpu(2), dtype="int64")
    assert got.context == mx.cpu(2) and got.asnumpy().tolist() == [1, 2]


# -- deliberate differences from MXNet 1.9 ----------------------------------------------------------------
def test_zero_d_and_zero_size_shapes_are_allowed():
    # MXNet 1.9's legacy shapes reject () and zero dimensions for zeros/ones ("inferring shapes failed").
    assert mx.nd.zeros(()).shape == () and mx.nd.ones(()).asscalar() == 1
    z = mx.nd.zeros((0, 2), dtype="int32")
    assert z.shape == (0, 2) and z.dtype == np.int32 and z.size == 0
    assert mx.nd.full((2, 0), 5).shape == (2, 0)


def test_eye_accepts_bool():  # MXNet's _eye has no bool dtype; mxplug does not restrict it
    assert mx.nd.eye(2, dtype="bool").asnumpy().tolist() == [[True, False], [False, True]]


# -- errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("src", [[[1, 2], [3]], "abc", ["a", "b"], [None, 1], {"a": 1}])
def test_array_rejects_non_numeric_sources(src):
    with pytest.raises(DTypeError, match="array-like") as info:
        mx.nd.array(src)
    assert isinstance(info.value, TypeError)  # as MXNet's TypeError


@pytest.mark.parametrize("call", [
    lambda: mx.nd.array([1], dtype="complex64"), lambda: mx.nd.zeros((2,), dtype="float128"),
    lambda: mx.nd.ones((2,), dtype="nonsense"), lambda: mx.nd.empty((2,), dtype="int16"),
])
def test_unsupported_dtypes(call):
    with pytest.raises(DTypeError, match="supports float16, float32"):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.arange(5, 0), r"range .* is empty"), (lambda: mx.nd.arange(3, 3), "is empty"),
    (lambda: mx.nd.arange(0, 5, -1), r"requires start > stop"), (lambda: mx.nd.arange(0, 5, 0), "step must not be 0"),
    (lambda: mx.nd.arange(3, repeat=0), "repeat must be >= 1"), (lambda: mx.nd.arange(0, float("inf")), "finite"),
    (lambda: mx.nd.arange(float("nan")), "finite"),
])
def test_arange_errors(call, match):
    with pytest.raises(OperatorAttributeError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.zeros((-1, 2)), "operator '_zeros': shape \\(-1, 2\\) has a negative dimension"),
    (lambda: mx.nd.ones((2, -3)), "operator '_ones'"), (lambda: mx.nd.full((-1,), 1), "operator '_full'"),
    (lambda: mx.nd.eye(-1), "N and M must be >= 0"), (lambda: mx.nd.eye(2, -2), "N and M must be >= 0"),
    (lambda: mx.nd.linspace(0, 1, -1), "num must be >= 0"),
])
def test_negative_sizes(call, match):
    with pytest.raises(ShapeError, match=match):
        call()


@pytest.mark.parametrize("call", [lambda: mx.nd.zeros((2,), stype="csr"), lambda: mx.nd.empty(2, stype="row_sparse")])
def test_sparse_storage_is_refused(call):
    with pytest.raises(MXNetError, match="storage type"):
        call()


@pytest.mark.parametrize("shape", ["ab", (2.5,), 1.5, (2, None), True])
def test_bad_shape_argument(shape):
    with pytest.raises(MXNetError, match="shape must be an int or a tuple of ints"):
        mx.nd.zeros(shape)
