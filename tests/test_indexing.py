"""NDArray indexing: `x[key]` and `x[key] = value` (mxplug/ndarray/indexing.py).

MXNet 1.9's own answers for ~150 keys and assignments, views, and gradients are recorded in
tests/oracle/record_index.py ("get.*", "set.*", "view.*", "grad.get.*", "grad.set.*"). Here every basic key
over a grid of ints, slices and None is checked against NumPy (which MXNet agrees with, up to the (1,) shape
of a result with no axes), views against the definition of a contiguous region, integer-array keys and
assignments against NumPy, gradients numerically, the errors, and the places where mxplug deliberately
does what NumPy does because MXNet 1.9 crashes or returns garbage.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import AutogradError, DTypeError, IndexingError, MXNetError, ShapeError
from mxplug.testing import check_numeric_gradient
from tests.ops.test_reduce import check_second_order
from tests.oracle.record_index import CASES, check_case

nd = mx.nd
SHAPE = (3, 4, 5)
BASE = np.arange(60, dtype="float64").reshape(SHAPE)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith(("get.", "set.", "view.", "grad.get.",
                                                                           "grad.set."))))
def test_matches_mxnet(name):
    check_case(name, mx)


def as_mxnet(a: np.ndarray) -> np.ndarray:
    return a.reshape(a.shape or (1,))  # MXNet 1.x has no 0-d arrays


# -- basic keys: every combination of these on the three axes, against NumPy --------------------------------------
BASIC = [0, -1, 2, slice(None), slice(1, 3), slice(None, None, -1), slice(0, 1), slice(2, 0, -1),
         slice(None, None, 2), slice(1, 2, 5), slice(-10, 10), None]
BASIC_KEYS = [k for k in itertools.product(BASIC, repeat=3) if sum(e is not None for e in k) <= 3]


def is_contiguous_region(a_positions: np.ndarray) -> bool:
    """A region is contiguous when its elements, in result order, are consecutive ascending flat positions."""
    flat = a_positions.reshape(-1)
    return bool(np.all(np.diff(flat) == 1))


@pytest.mark.parametrize("key", BASIC_KEYS, ids=str)
def test_basic_keys_match_numpy_and_view_contiguous_regions(key):
    x = nd.array(BASE, dtype="float64")
    want = as_mxnet(BASE[key])
    got = x[key]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.asnumpy(), want)
    if got is not x and want.size:
        positions = np.arange(BASE.size).reshape(SHAPE)[key]
        assert np.shares_memory(got._data, x._data) == is_contiguous_region(positions)


@pytest.mark.parametrize("key", [(1,), (0, ...), (..., 1), (0, ..., 1), (None, ...), (..., None), (1, None, ..., 2)],
                         ids=str)
def test_ellipsis(key):
    np.testing.assert_array_equal(nd.array(BASE)[key].asnumpy(), as_mxnet(BASE[key]))


def test_whole_array_keys_return_the_array_itself():
    x = nd.array(BASE)
    assert x[:] is x and x[()] is x and x[::1] is x
    assert x[...] is not x and np.shares_memory(x[...]._data, x._data)


def test_a_one_element_result_has_shape_one():
    assert nd.array([1.0, 2.0, 3.0])[1].shape == (1,)
    assert nd.array(BASE)[1, 2, 3].shape == (1,) and nd.array(BASE)[1, 2, 3].asscalar() == BASE[1, 2, 3]


def test_writes_through_views_go_both_ways():
    x = nd.array(BASE)
    row, block, point = x[1], x[1:3], x[2, 3, 4]
    x += 1
    np.testing.assert_array_equal(row.asnumpy(), BASE[1] + 1)
    block[:] = -1
    np.testing.assert_array_equal(x.asnumpy()[1:3], -1)
    point[:] = 7
    assert x.asnumpy()[2, 3, 4] == 7
    nested = x[0][1]
    nested[2:4] = 9
    np.testing.assert_array_equal(x.asnumpy()[0, 1, 2:4], 9)


def test_non_contiguous_results_are_copies():
    x = nd.array(BASE)
    for y in (x[:, 1], x[::-1], x[[0, 1]], x[0, ::2]):
        y[:] = -1
    np.testing.assert_array_equal(x.asnumpy(), BASE)


# -- integer-array keys --------------------------------------------------------------------------------------------
ARRAY_KEYS = [  # keys on which MXNet's layout is NumPy's (no None right after adjacent arrays)
    [2, 0], ([2, 0],), [[1], [2]], np.array([0, -1, 1]), ([0, 2], [1, 3]), ([0, 2], slice(None), [1, 3]),
    (slice(None), [0, 2], [1, 3]), (1, slice(None), [1, 3]), ([1], slice(None), 2), (Ellipsis, [1, 3]),
    (None, [0, 2], None, slice(None), [1, 3]), ([0, 2], None, slice(None), [1, 3]), (slice(1, None), [3, 0]),
    ([[0], [2]], [1, 3, 0]), (slice(None, None, -1), [0, 3], slice(1, 4, 2)), (range(2), 1),
    (np.array([[0, 1], [2, 0]]), np.array([[1], [3]]), np.array([4, 0])), (-1, [-1, 0], -2),
]


@pytest.mark.parametrize("key", ARRAY_KEYS, ids=str)
def test_array_keys_match_numpy(key):
    want = BASE[key]
    np.testing.assert_array_equal(nd.array(BASE)[key].asnumpy(), want)


@pytest.mark.parametrize("key", ARRAY_KEYS[:8], ids=str)
def test_ndarray_index_arrays_work_like_lists(key):
    as_nd = tuple(nd.array(k) if isinstance(k, list) else k for k in (key if isinstance(key, tuple) else (key,)))
    np.testing.assert_array_equal(nd.array(BASE)[as_nd].asnumpy(), BASE[key])


def test_ndarray_index_on_another_context_and_float_dtype():
    idx = nd.array([2.9, 0.2], ctx=mx.cpu(1))
    np.testing.assert_array_equal(nd.array(BASE)[idx].asnumpy(), BASE[[2, 0]])
    np.testing.assert_array_equal(nd.array(BASE)[idx, 1].asnumpy(), BASE[[2, 0], 1])


def test_mxnet_places_none_before_an_adjacent_block():
    x = nd.array(BASE)
    assert x[[1, 0], None].shape == (1, 2, 4, 5)  # NumPy: (2, 1, 4, 5)
    assert x[:, [[0], [2]], None].shape == (3, 1, 2, 1, 5)  # NumPy: (3, 2, 1, 1, 5)
    np.testing.assert_array_equal(x[[1, 0], None].asnumpy().reshape(-1), BASE[[1, 0]].reshape(-1))


def test_boolean_keys_follow_mxnet():
    x = nd.array(BASE)
    np.testing.assert_array_equal(x[[True, False]].asnumpy(), BASE[[1, 0]])  # read as 0/1, as MXNet does
    np.testing.assert_array_equal(x[np.array([True, False])].asnumpy(), BASE[[1, 0]])
    np.testing.assert_array_equal(x[True].asnumpy(), BASE[1])
    with pytest.raises(IndexingError, match=r"boolean NDArray masks are not supported.*mx\.np"):
        x[nd.array([1, 0, 1], dtype="bool")]


# -- assignment ----------------------------------------------------------------------------------------------------
SET_KEYS = [1, -1, (1, 2), (slice(None), 1), (slice(1, 3), slice(None, None, -2)), (Ellipsis, 0), (0, None, 1),
            slice(None), (slice(None, None, -1), 2, slice(1, 4)), [2, 0], ([0, 2], [1, 3]),
            (slice(None), [3, 0], 1), (1, slice(None), [4, 0])]


def _region_shape(key) -> tuple[int, ...]:
    return BASE[key].shape


@pytest.mark.parametrize("key", SET_KEYS, ids=str)
@pytest.mark.parametrize("kind", ["scalar", "ndarray", "numpy", "list", "row"])
def test_setitem_matches_numpy(key, kind, rng):
    region = _region_shape(key)
    values = rng.normal(size=region)
    value = {"scalar": 2.5, "ndarray": nd.array(values, dtype="float64"), "numpy": values,
             "list": values.tolist(), "row": nd.array(values.reshape(-1, region[-1])[0], dtype="float64")}[kind]
    want = BASE.copy()
    want[key] = value.asnumpy() if isinstance(value, nd.NDArray) else value
    x = nd.array(BASE, dtype="float64")
    view = x[0]
    x[key] = value
    np.testing.assert_array_equal(x.asnumpy(), want)
    np.testing.assert_array_equal(view.asnumpy(), want[0])  # written into x's own memory


@pytest.mark.parametrize("dtype", ["int32", "uint8", "float16", "int64"])
def test_setitem_casts_to_the_array_dtype(dtype):
    x = nd.zeros((2, 3), dtype=dtype)
    x[0] = 3.7
    x[1, 1:] = nd.array([1.9, 2.2])
    x[[1], [0]] = np.array([4.5])
    assert x.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(x.asnumpy(), np.array([[3.7, 3.7, 3.7], [4.5, 1.9, 2.2]]).astype(dtype))


def test_setitem_from_an_overlapping_view_reads_before_writing():
    x = nd.array(BASE)
    x[1:] = x[:-1]
    want = BASE.copy()
    want[1:] = BASE[:-1]
    np.testing.assert_array_equal(x.asnumpy(), want)


def test_setitem_value_from_another_context():
    x = nd.zeros((2, 2))
    x[1] = nd.array([5, 6], ctx=mx.cpu(1))
    np.testing.assert_array_equal(x.asnumpy(), [[0, 0], [5, 6]])


def test_setitem_errors():
    x = nd.array(BASE)
    with pytest.raises(ShapeError, match=r"cannot assign a value of shape \(3,\) to the indexed region of shape "
                                         r"\(4, 2\)"):
        x[0, :, 1:3] = nd.array([1, 2, 3])
    with pytest.raises(ShapeError, match=r"value of shape \(2,\).*region of shape \(1,\)"):
        x[0, 0, 0] = [1, 2]
    with pytest.raises(DTypeError, match=r"cannot assign 'a' of type str"):
        x[0] = "a"
    with pytest.raises(IndexingError, match=r"index 3 is out of bounds for axis 0 with size 3"):
        x[3] = 1


def test_setitem_in_record_on_an_array_in_the_graph_raises():
    x = nd.array([1.0, 2.0])
    x.attach_grad()
    with mx.autograd.record(), pytest.raises(AutogradError, match="already in a computational graph"):
        x[0] = 5
    with mx.autograd.record():
        y = x * 2
        with pytest.raises(AutogradError):
            y[:] = 1
    x[0] = 5  # outside record it is allowed, as in MXNet
    assert x.asnumpy()[0] == 5


# -- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [1, (1, 2), (slice(None), 1), (slice(None, None, -1), slice(1, 3)), (None, 0, 1),
                                 (Ellipsis, 2), [0, 0, 2], ([0, 2], slice(None), [1, 1]), (slice(1, None), [3, 0]),
                                 ([[1], [0]], None, [2, 2])], ids=str)
def test_getitem_gradient(key, rng):
    check_numeric_gradient(lambda x: x[key] * x[key], [rng.normal(size=SHAPE)])


def test_getitem_second_order(rng):
    check_second_order(lambda x: (x[1:, ::2] * x[[0, 2], None, 1]) ** 2, rng.normal(size=SHAPE))


@pytest.mark.parametrize("key", [(slice(1, 3), slice(None, None, 2)), (1, [3, 0]), slice(None), (Ellipsis, 1)],
                         ids=str)
def test_setitem_of_a_recorded_value_is_differentiable(key, rng):
    region = _region_shape(key)

    def fn(w, base):
        z = nd.zeros(SHAPE, dtype="float64")  # outside the graph: the assignment records w's path into it
        z[key] = w * 3
        return z * base

    check_numeric_gradient(fn, [rng.normal(size=region), rng.normal(size=SHAPE)])


# -- errors --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "error", "match"), [
    (3, IndexingError, r"index 3 is out of bounds for axis 0 with size 3"),
    (-4, IndexingError, r"index -4 is out of bounds for axis 0 with size 3"),
    ((1, 4), IndexingError, r"index 4 is out of bounds for axis 1 with size 4"),  # MXNet says axis 0 here
    ((0, 0, 0, 0), IndexingError, r"too many indices \(4\) for array with 3 dimensions"),
    ((..., 0, ...), IndexingError, r"a single ellipsis"),
    (1.0, IndexingError, r"indexing with key 1\.0 of type float"),
    ("a", IndexingError, r"key 'a' of type str"),
    (np.bool_(True), IndexingError, r"of type bool"),
    (slice(0, 2.5), IndexingError, r"non-integer bound 2\.5"),
    (slice(None, None, 0), IndexingError, r"slice step cannot be zero"),
    ([3], IndexingError, r"'gather_nd': index 3 is out of bounds for axis 0 with size 3"),
    ((0, [-5]), IndexingError, r"index -5 is out of bounds for axis 1 with size 4"),
    ([["a"]], IndexingError, r"an index array must hold integers"),
    (([0, 1], [0, 1, 2]), IndexingError, r"index arrays of shapes \(2,\), \(3,\) cannot be broadcast together"),
])
def test_key_errors(key, error, match):
    with pytest.raises(error, match=match):
        nd.array(BASE)[key]


def test_indexing_errors_are_mxnet_errors_and_index_errors():
    with pytest.raises(IndexError) as info:
        nd.array(BASE)[5]
    assert isinstance(info.value, MXNetError) and isinstance(info.value, ValueError)  # MXNet raises ValueErrors too


# -- where MXNet 1.9 crashes or returns garbage, mxplug follows NumPy ------------------------------------------------
@pytest.mark.parametrize("key", [(slice(None), slice(2, 1)), slice(2, 1), slice(5, 10), (0, slice(4, None)),
                                 ([],), (slice(None), []), (1, slice(3, 3), None)], ids=str)
def test_empty_selections(key):
    x = nd.array(BASE)
    got = x[key]
    assert got.shape == BASE[key].shape and got.size == 0
    x[key] = 1  # assigning to nothing changes nothing
    np.testing.assert_array_equal(x.asnumpy(), BASE)


def test_negative_and_out_of_range_indices_in_assignments():
    x = nd.array(BASE)
    x[[-1]] = 0  # MXNet 1.9 silently writes nowhere
    x[0, [-1, 1]] = nd.array([[7], [8]])
    want = BASE.copy()
    want[[-1]] = 0
    want[0, [-1, 1]] = np.array([[7], [8]])
    np.testing.assert_array_equal(x.asnumpy(), want)
    with pytest.raises(IndexingError, match=r"index 5 is out of bounds for axis 0 with size 3"):
        x[[5]] = 1  # MXNet 1.9 corrupts memory


def test_zero_dimensional_integer_arrays_are_integers():
    x = nd.array(BASE)
    np.testing.assert_array_equal(x[np.array(1)].asnumpy(), BASE[1])
    np.testing.assert_array_equal(x[np.array(2), 1].asnumpy(), BASE[2, 1])


def test_iteration_and_len():
    rows = list(nd.array(BASE))
    assert len(rows) == 3
    for r, want in zip(rows, BASE, strict=True):
        np.testing.assert_array_equal(r.asnumpy(), want)


def test_whole_array_assignment_of_a_like_array_copies_without_aliasing():
    # `x[:] = y` with y of x's shape, dtype and context takes the direct path (no key parsing): still a copy.
    x = mx.nd.zeros((2, 3))
    y = mx.nd.array(np.arange(6.0).reshape(2, 3))
    x[:] = y
    y += 100
    np.testing.assert_array_equal(x.asnumpy(), np.arange(6.0).reshape(2, 3))
    x[:] = mx.nd.array(np.ones((2, 3)), dtype="int32")  # another dtype: the general path casts
    assert x.dtype == np.float32 and x.asnumpy().tolist() == [[1, 1, 1], [1, 1, 1]]
    x[:] = mx.nd.array([7.0, 8.0, 9.0])  # broadcast: the general path
    assert x.asnumpy().tolist() == [[7, 8, 9], [7, 8, 9]]
    w = mx.nd.ones((2, 3))
    w.attach_grad()
    with mx.autograd.record(), pytest.raises(mx.base.AutogradError, match="already in a computational graph"):
        w[:] = y
