"""NDArray core semantics: attributes, conversion, reshape codes, Python protocols, arithmetic, in-place ops.

Most expectations come from MXNet 1.9 itself (tests/oracle/core_cases.py, recorded by record_core.py);
the tests below them check what the oracle cannot see (buffer identity, every dtype, messages) and pin the
places where mxplug deliberately differs from MXNet (each says so).
"""

import operator
import pickle

import numpy as np
import pytest

import mxplug as mx
from tests.oracle.core_cases import check_case, names

DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64")


@pytest.mark.parametrize("name", names("nd."))
def test_matches_mxnet(name):
    check_case(name, mx)


# -- attributes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_is_numpy_scalar_type(dtype):
    x = mx.nd.array([1, 2], dtype=dtype)
    assert x.dtype is np.dtype(dtype).type
    assert x.asnumpy().dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_creation_functions_keep_dtype(dtype):
    for x in (mx.nd.zeros((2, 3), dtype=dtype), mx.nd.ones((2, 3), dtype=dtype), mx.nd.empty((2, 3), dtype=dtype)):
        assert (x.shape, x.dtype) == ((2, 3), np.dtype(dtype).type)


def test_default_dtype_is_float32():
    for x in (mx.nd.array([1, 2]), mx.nd.array(np.arange(3)), mx.nd.zeros(2), mx.nd.ones((1, 2))):
        assert x.dtype is np.float32


def test_attributes_of_a_2d_array():
    x = mx.nd.array(np.arange(6).reshape(2, 3))
    assert (x.shape, x.size, x.ndim, x.stype) == ((2, 3), 6, 2, "default")
    assert x.context == mx.cpu(0) and x.ctx is x.context
    assert x.grad is None
    assert isinstance(x.shape, tuple) and all(type(s) is int for s in x.shape)


def test_T_transposes_and_is_identity_below_2d():
    a = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(mx.nd.array(a).T.asnumpy(), a.T)
    v = mx.nd.array([1, 2, 3])
    assert v.T is v  # MXNet returns the array itself for ndim < 2


def test_grad_attribute_after_attach_grad():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad()
    assert x.grad.shape == x.shape and x.grad.dtype is x.dtype
    np.testing.assert_array_equal(x.grad.asnumpy(), [0, 0])


# -- conversion -----------------------------------------------------------------------------------------------
def test_asnumpy_is_a_copy():
    x = mx.nd.array([1, 2])
    a = x.asnumpy()
    a[:] = 7
    np.testing.assert_array_equal(x.asnumpy(), [1, 2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_asscalar_returns_numpy_scalar_of_the_dtype(dtype):
    s = mx.nd.array([3], dtype=dtype).asscalar()
    assert type(s) is np.dtype(dtype).type and s == 3


def test_asscalar_error_names_shape():
    with pytest.raises(mx.base.MXNetError, match=r"\(2, 2\)") as info:
        mx.nd.zeros((2, 2)).asscalar()
    assert isinstance(info.value, ValueError)


def test_astype_copy_flag():
    x = mx.nd.array([1.5, -2.5])
    assert x.astype("float32", copy=False) is x
    assert x.astype(np.float32, copy=False) is x
    y = x.astype("float32")
    assert y is not x
    y += 1  # a real copy: x unchanged
    np.testing.assert_array_equal(x.asnumpy(), [1.5, -2.5])
    z = x.astype("int32", copy=False)
    assert z is not x and z.dtype is np.int32
    np.testing.assert_array_equal(z.asnumpy(), [1, -2])  # truncation toward zero


def test_copy_and_copyto():
    x = mx.nd.array([1, 2, 3])
    c = x.copy()
    assert c is not x and c.context == x.context
    c += 1
    np.testing.assert_array_equal(x.asnumpy(), [1, 2, 3])
    target = mx.nd.zeros((3,))
    assert x.copyto(target) is target
    np.testing.assert_array_equal(target.asnumpy(), [1, 2, 3])
    other = x.copyto(mx.cpu(1))
    assert other.context == mx.cpu(1) and other is not x
    np.testing.assert_array_equal(other.asnumpy(), [1, 2, 3])


def test_copyto_shape_mismatch_names_both_shapes():
    with pytest.raises(mx.base.MXNetError, match=r"\(3,\).*\(2,\)"):
        mx.nd.array([1, 2, 3]).copyto(mx.nd.zeros((2,)))


def test_copyto_rejects_other_targets():
    with pytest.raises(TypeError):
        mx.nd.array([1]).copyto("cpu(0)")


def test_as_in_context():
    x = mx.nd.array([1, 2])
    assert x.as_in_context(mx.cpu()) is x
    y = x.as_in_context(mx.cpu(2))
    assert y.context == mx.cpu(2)
    np.testing.assert_array_equal(y.asnumpy(), [1, 2])


def test_wait_to_read_returns_none():
    assert mx.nd.array([1]).wait_to_read() is None
    assert mx.nd.waitall() is None


# -- reshape --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda x: x.reshape(4, 6), lambda x: x.reshape((4, 6)), lambda x: x.reshape([4, 6]),
    lambda x: x.reshape(shape=(4, 6)), lambda x: x.reshape(-1, 6), lambda x: x.reshape((4, -1), reverse=True),
])
def test_reshape_forms_keep_element_order(call):
    a = np.arange(24, dtype="float32").reshape(2, 3, 4)
    y = call(mx.nd.array(a))
    assert y.shape == (4, 6)
    np.testing.assert_array_equal(y.asnumpy(), a.reshape(4, 6))


def test_reshape_both_forms_is_an_error():
    with pytest.raises(mx.base.MXNetError):
        mx.nd.zeros((2, 3)).reshape((3, 2), shape=(3, 2))


def test_reshape_error_names_shapes():
    with pytest.raises(mx.base.ShapeError, match=r"Reshape.*\(2, 3\).*\(4, 2\)"):
        mx.nd.zeros((2, 3)).reshape((4, 2))


# -- Python protocols -----------------------------------------------------------------------------------------
def test_len_and_iteration():
    a = np.arange(6, dtype="float32").reshape(3, 2)
    x = mx.nd.array(a)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3
    for r, expected in zip(rows, a, strict=True):
        np.testing.assert_array_equal(r.asnumpy(), expected)


def test_bool():
    assert bool(mx.nd.array([3])) and not bool(mx.nd.array([0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mx.nd.array([1, 1]))
    with pytest.raises(mx.base.MXNetError):
        bool(mx.nd.array([1, 1]))


def test_repr_and_str_like_mxnet():
    x = mx.nd.array([[1, 2], [3, 4]], ctx=mx.cpu(1))
    assert repr(x) == "\n[[1. 2.]\n [3. 4.]]\n<NDArray 2x2 @cpu(1)>"
    assert str(x) == repr(x)


def test_hash_is_identity_based():
    x, y = mx.nd.array([1]), mx.nd.array([1])
    assert len({x, y, x}) == 2


def test_numpy_conversion_protocol():
    # Deviation: MXNet 1.9 NDArrays have no __array__ (np.asarray builds an object array); mxplug converts.
    x = mx.nd.array([[1, 2], [3, 4]], dtype="int32")
    a = np.asarray(x)
    assert a.dtype == np.int32 and a.tolist() == [[1, 2], [3, 4]]
    assert np.asarray(x, dtype="float64").dtype == np.float64


def test_unary_plus_returns_the_array():
    # Deviation: MXNet 1.9 raises TypeError for +x; mxplug returns x.
    x = mx.nd.array([1, -2])
    assert +x is x


def test_zero_size_arrays():
    # Deviation: MXNet 1.x treats 0 in a shape as "unknown" and refuses zeros((0, 3)); mxplug allows it.
    x = mx.nd.zeros((0, 3))
    assert (x.shape, x.size, len(x)) == ((0, 3), 0, 0)
    assert not bool(mx.nd.array([]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pickle_round_trip(dtype):
    a = np.array([[1, 2, 3], [4, 5, 100]], dtype=dtype)
    y = pickle.loads(pickle.dumps(mx.nd.array(a, dtype=dtype)))
    assert y.dtype is np.dtype(dtype).type and y.shape == (2, 3)
    np.testing.assert_array_equal(y.asnumpy(), a)


def test_pickle_lands_on_cpu0_and_drops_autograd_state():
    x = mx.nd.array([1.0, 2.0], ctx=mx.cpu(3))
    x.attach_grad()
    y = pickle.loads(pickle.dumps(x))
    assert y.context == mx.cpu(0) and y.grad is None  # MXNet also unpickles onto cpu(0)


# -- in-place operators ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("op, ref", [
    (operator.iadd, np.add), (operator.isub, np.subtract), (operator.imul, np.multiply),
    (operator.itruediv, np.divide), (operator.imod, np.mod),
], ids=["+=", "-=", "*=", "/=", "%="])
@pytest.mark.parametrize("rhs_kind", ["scalar", "array", "row"])
def test_inplace_writes_into_the_same_buffer(op, ref, rhs_kind):
    a = np.array([[1.5, -2.0, 3.0], [4.0, 5.5, -6.0]], dtype="float32")
    rhs_np = {"scalar": np.float32(2.0), "array": np.full((2, 3), 3.0, "float32"),
              "row": np.array([2.0, 3.0, 4.0], "float32")}[rhs_kind]
    rhs = float(rhs_np) if rhs_kind == "scalar" else mx.nd.array(rhs_np)
    x = mx.nd.array(a)
    twin = x.detach()  # another NDArray over the same buffer
    buffer = x._data
    result = op(x, rhs)
    assert result is x and x._data is buffer
    expected = ref(a, rhs_np)
    np.testing.assert_allclose(x.asnumpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(twin.asnumpy(), expected, rtol=1e-6)


def test_inplace_shape_growth_is_an_error():
    x = mx.nd.zeros((1, 3))
    with pytest.raises(mx.base.ShapeError, match=r"\(1, 3\)"):
        x += mx.nd.ones((2, 3))


def test_inplace_keeps_int_dtype():
    x = mx.nd.array([1, 2], dtype="int32")
    x *= 3
    assert x.dtype is np.int32
    np.testing.assert_array_equal(x.asnumpy(), [3, 6])


# -- arithmetic -----------------------------------------------------------------------------------------------
BINARY = {"+": (operator.add, np.add), "-": (operator.sub, np.subtract), "*": (operator.mul, np.multiply),
          "/": (operator.truediv, np.divide), "**": (operator.pow, np.power)}
COMPARE = {"==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt,
           "<=": operator.le}


@pytest.mark.parametrize("op", list(BINARY))
def test_scalar_and_reflected_forms(op):
    py_op, ref = BINARY[op]
    a = np.array([0.5, 1.0, 2.0, 3.5], dtype="float32")
    x = mx.nd.array(a)
    fwd, rev = py_op(x, 2.0), py_op(2.0, x)
    np.testing.assert_allclose(fwd.asnumpy(), ref(a, np.float32(2.0)), rtol=1e-6)
    np.testing.assert_allclose(rev.asnumpy(), ref(np.float32(2.0), a), rtol=1e-6)
    assert fwd.dtype is np.float32 and rev.dtype is np.float32


@pytest.mark.parametrize("op", list(COMPARE))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_comparisons_return_input_dtype(op, dtype):
    cmp = COMPARE[op]
    a = np.array([1, 2, 3], dtype=dtype)
    b = np.array([3, 2, 1], dtype=dtype)
    x, y = mx.nd.array(a, dtype=dtype), mx.nd.array(b, dtype=dtype)
    for got, ref in ((cmp(x, y), cmp(a, b)), (cmp(x, 2), cmp(a, 2)), (cmp(2, x), cmp(2, a))):
        assert got.dtype is np.dtype(dtype).type
        np.testing.assert_array_equal(got.asnumpy(), ref.astype(dtype))


def test_neg_and_abs():
    a = np.array([-1.5, 0.0, 2.0], dtype="float32")
    x = mx.nd.array(a)
    np.testing.assert_array_equal((-x).asnumpy(), -a)
    np.testing.assert_array_equal(abs(x).asnumpy(), np.abs(a))


def test_numpy_scalar_on_the_left_uses_reflected_operator():
    x = mx.nd.array([1.0, 2.0])
    for left in (np.float32(3), np.float64(3), np.int64(3)):
        r = left - x
        assert isinstance(r, mx.nd.NDArray), type(r)
        np.testing.assert_array_equal(r.asnumpy(), [2.0, 1.0])


def test_mixed_dtype_error_names_operator_and_dtypes():
    with pytest.raises(mx.base.DTypeError, match=r"broadcast_add.*float32.*int32"):
        mx.nd.array([1, 2]) + mx.nd.array([1, 2], dtype="int32")


def test_unsupported_operand_is_type_error():
    with pytest.raises(TypeError):
        mx.nd.array([1]) + "a"
    with pytest.raises(TypeError):
        "a" - mx.nd.array([1])
