"""The index family: slice, slice_axis, slice_like, take, batch_take, pick, one_hot, gather_nd, scatter_nd, and
the internal _slice_view, _slice_assign, _slice_assign_scalar, _scatter_set_nd and _backward_* operators.

MXNet 1.9's answers (modes, negative and float indices, dtypes, pick's index forms, gradients) are recorded in
tests/oracle/record_index.py ("op.*" and "grad.*" cases); here every operator is also checked against float64
references written as explicit loops over output positions, the scatter-adds against their gathers by the
adjoint identity <gather(x), g> = <x, scatter(g)>, and every differentiable input numerically.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, IndexingError, OperatorAttributeError, ShapeError
from mxplug.registry import parse_attr_spec
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.ops.test_reduce import check_second_order
from tests.oracle.record_index import CASES, check_case

nd = mx.nd
DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64")
INDEX_DTYPES = ("float32", "float64", "int32", "int64", "uint8")


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith("op.") or
                                        (n.startswith("grad.") and not n.startswith(("grad.get.", "grad.set.")))))
def test_matches_mxnet(name):
    check_case(name, mx)


def arange(shape, dtype="float64") -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype="float64").reshape(shape).astype(dtype)


# -- references (explicit loops) -----------------------------------------------------------------------------
def positions(n: int, start, stop, step) -> list[int]:
    """The positions a Python slice visits on an axis of size n, walked one step at a time."""
    step = 1 if step is None else step
    if step > 0:
        i = 0 if start is None else (max(start + n, 0) if start < 0 else min(start, n))
        end = n if stop is None else (max(stop + n, 0) if stop < 0 else min(stop, n))
        out = []
        while i < end:
            out.append(i)
            i += step
        return out
    i = n - 1 if start is None else (start + n if start < 0 else min(start, n - 1))
    end = -1 if stop is None else (max(stop + n, -1) if stop < 0 else stop)
    out = []
    while i > end:
        out.append(i)
        i += step
    return out


def ref_slice(x: np.ndarray, begin, end, step=()) -> np.ndarray:
    step = step or (None,) * len(begin)
    axes = [positions(n, b, e, s) for n, b, e, s in itertools.zip_longest(
        x.shape, begin, end, step, fillvalue=None)]
    out = np.empty([len(p) for p in axes])
    for idx in np.ndindex(*out.shape):
        out[idx] = x[tuple(p[i] for p, i in zip(axes, idx, strict=True))]
    return out


def ref_mode(i: float, n: int, mode: str) -> int:
    i = int(i)  # truncation toward zero, as MXNet's cast
    return min(max(i, 0), n - 1) if mode == "clip" else i % n


def ref_take(a: np.ndarray, idx: np.ndarray, axis: int, mode: str) -> np.ndarray:
    axis %= a.ndim
    out = np.empty(a.shape[:axis] + idx.shape + a.shape[axis + 1:])
    for o in np.ndindex(*out.shape):
        src = o[:axis] + (ref_mode(idx[o[axis:axis + idx.ndim]], a.shape[axis], mode),) + o[axis + idx.ndim:]
        out[o] = a[src]
    return out


def ref_pick(x: np.ndarray, idx: np.ndarray, axis: int, keepdims: bool, mode: str) -> np.ndarray:  # noqa: FBT001
    axis %= x.ndim
    flat_idx = idx.reshape([d for i, d in enumerate(x.shape) if i != axis])
    out = np.empty(flat_idx.shape)
    for o in np.ndindex(*out.shape):
        out[o] = x[o[:axis] + (ref_mode(flat_idx[o], x.shape[axis], mode),) + o[axis:]]
    if keepdims:
        return np.expand_dims(out, axis)
    return out.reshape(out.shape or (1,))


def ref_point(idx: np.ndarray, y: tuple, shape: tuple) -> tuple:
    return tuple(int(idx[(k, *y)]) % shape[k] for k in range(idx.shape[0]))


def ref_gather_nd(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    m = idx.shape[0]
    out = np.empty(idx.shape[1:] + x.shape[m:])
    for y in np.ndindex(*idx.shape[1:]):
        out[y] = x[ref_point(idx, y, x.shape)]
    return out


def ref_scatter_nd(data: np.ndarray, idx: np.ndarray, shape: tuple, base=None, add=False) -> np.ndarray:  # noqa: FBT002
    out = np.zeros(shape) if base is None else np.array(base, dtype="float64")
    for y in np.ndindex(*idx.shape[1:]):
        p = ref_point(idx, y, shape)
        out[p] = out[p] + data[y] if add else data[y]
    return out


# -- optshape (the registry kind behind begin/end/step) --------------------------------------------------------
def test_optshape_attribute_kind():
    spec = parse_attr_spec("slice", "begin", "optshape")
    assert spec.parse("slice", "(None, 2)") == (None, 2)
    assert spec.parse("slice", [1, None, np.int64(-3)]) == (1, None, -3)
    assert spec.parse("slice", 3) == (3,)
    with pytest.raises(OperatorAttributeError, match=r"'begin' expects a tuple of ints or None"):
        spec.parse("slice", (1.5,))


# -- slice, slice_axis, slice_like, _slice_view ------------------------------------------------------------------
SLICES = [  # (shape, begin, end, step)
    ((3, 4), (0, 1), (2, 4), ()),
    ((3, 4), (None, 0), (None, 3), (-1, 2)),
    ((3, 4), (1,), (3,), ()),
    ((3, 4), (-2, -3), (None, -1), ()),
    ((3, 4), (), (), ()),
    ((3, 4), (None, None), (None, None), (2, -3)),
    ((5,), (10,), (None,), (-1,)),
    ((5,), (3,), (-10,), (-1,)),
    ((5,), (-10,), (10,), ()),  # clamped (MXNet's MKLDNN path fails on this one)
    ((5,), (2,), (1,), ()),  # empty
    ((2, 3, 4), (1, None, 1), (None, 2, None), (None, -1, 2)),
    ((2, 3, 4), (None, None, None), (None, None, None), (None, 2, None)),
]


@pytest.mark.parametrize(("shape", "begin", "end", "step"), SLICES)
def test_slice_forward(shape, begin, end, step):
    x = arange(shape)
    want = ref_slice(x, begin, end, step)
    assert_almost_equal(nd.slice(nd.array(x, dtype="float64"), begin=begin, end=end, step=step), want)
    region = want.shape
    out = nd._slice_view(nd.array(x, dtype="float64"), begin=begin, end=end, step=step)
    assert_almost_equal(out, want)
    if np.prod(region) > 0:  # and reshaped on the way out
        flat = nd._slice_view(nd.array(x, dtype="float64"), begin=begin, end=end, step=step,
                              shape=(int(np.prod(region)),))
        assert_almost_equal(flat, want.reshape(-1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_slice_keeps_dtype(dtype):
    x = nd.array(arange((3, 4)), dtype=dtype)
    for out in (nd.slice(x, begin=(1,), end=(None,)), nd.slice_axis(x, axis=1, begin=1, end=3),
                nd.slice_like(x, nd.zeros((2, 2))), nd._slice_view(x, begin=(1,), end=(2,))):
        assert out.dtype is np.dtype(dtype).type


@pytest.mark.parametrize(("shape", "begin", "end", "step"), [s for s in SLICES if 0 not in ref_slice(
    arange(s[0]), s[1], s[2], s[3]).shape])
def test_slice_gradient(shape, begin, end, step, rng):
    x0 = rng.normal(size=shape)
    check_numeric_gradient(lambda x: nd.slice(x, begin=begin, end=end, step=step), [x0])
    check_numeric_gradient(lambda x: nd._slice_view(x, begin=begin, end=end, step=step), [x0])


def test_slice_view_reshaped_gradient(rng):
    x0 = rng.normal(size=(3, 4))
    check_numeric_gradient(lambda x: nd._slice_view(x, begin=(1, 1), end=(2, 3), shape=(2, 1)), [x0])


def test_slice_view_shares_memory_and_slice_does_not():
    x = nd.array(arange((3, 4)))
    view = nd._slice_view(x, begin=(1,), end=(2,), shape=(4,))
    copy = nd.slice(x, begin=(1,), end=(2,))
    assert np.shares_memory(view._data, x._data) and not np.shares_memory(copy._data, x._data)


@pytest.mark.parametrize(("axis", "begin", "end"), [(0, 1, 2), (1, -2, None), (-1, 0, -1), (2, -4, 4), (1, 0, 1)])
def test_slice_axis_forward_and_gradient(axis, begin, end, rng):
    x = rng.normal(size=(2, 3, 4))
    n = x.shape[axis]
    b = begin % n
    e = n if end is None else end % n if end < 0 else end
    want = np.take(x, list(range(b, e)), axis=axis)
    assert_almost_equal(nd.slice_axis(nd.array(x, dtype="float64"), axis=axis, begin=begin, end=end), want)
    check_numeric_gradient(lambda t: nd.slice_axis(t, axis=axis, begin=begin, end=end), [x])


@pytest.mark.parametrize(("like", "axes"), [((1, 2, 3), ()), ((1, 2, 3), (0, 2)), ((1, 2, 3), (-1,)),
                                             ((2, 2), (1,)), ((2, 3, 4), ())])
def test_slice_like_forward_and_gradient(like, axes, rng):
    x = rng.normal(size=(2, 3, 4))
    ends = list(x.shape)
    for a in axes or range(3):
        ends[a % 3] = like[a % 3]
    want = x[tuple(slice(0, e) for e in ends)]
    got = nd.slice_like(nd.array(x, dtype="float64"), nd.zeros(like), axes=axes)
    assert_almost_equal(got, want)
    check_numeric_gradient(lambda t, s: nd.slice_like(t, s, axes=axes), [x, np.zeros(like)], grad_nodes=[0])


@pytest.mark.parametrize(("call", "match"), [
    (lambda x: nd.slice(x, begin=(1, 1), end=(3,)), r"'slice': begin \(1, 1\) and end \(3,\) must have the same"),
    (lambda x: nd.slice(x, begin=(0, 0), end=(2, 2), step=(2,)), r"'slice': step \(2,\) must be empty or as long"),
    (lambda x: nd.slice(x, begin=(0, 0, 0), end=(1, 1, 1)), r"'slice': begin \(0, 0, 0\) slices 3 axes.*\(3, 4\)"),
    (lambda x: nd.slice(x, begin=(1,), end=(3,), step=(0,)), r"'slice': step \(0,\) contains a zero"),
    (lambda x: nd.slice_axis(x, axis=0, begin=1, end=10), r"'slice_axis': begin=1, end=10.*axis 0 \(size 3\)"),
    (lambda x: nd.slice_axis(x, axis=0, begin=2, end=2), r"'slice_axis': begin=2, end=2"),
    (lambda x: nd.slice_axis(x, axis=0, begin=-5, end=None), r"'slice_axis': begin=-5"),
    (lambda x: nd.slice_axis(x, axis=2, begin=0, end=1), r"'slice_axis': axis=2 is out of range"),
    (lambda x: nd.slice_like(x, nd.zeros((2, 2, 2))), r"'slice_like': data \(3, 4\) and shape_like \(2, 2, 2\)"),
    (lambda x: nd.slice_like(x, nd.zeros((5, 1))), r"'slice_like': shape_like \(5, 1\) is larger than data"),
    (lambda x: nd.slice_like(x, nd.zeros((2,)), axes=(1,)), r"'slice_like': axis 1 is out of range for shape_like"),
    (lambda x: nd._slice_view(x, begin=(1,), end=(2,), shape=(3,)), r"'_slice_view': shape=\(3,\) does not hold"),
])
def test_slicing_errors(call, match):
    with pytest.raises(ShapeError, match=match):
        call(nd.zeros((3, 4)))


# -- _slice_assign, _slice_assign_scalar ------------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "begin", "end", "step"), [s for s in SLICES if 0 not in ref_slice(
    arange(s[0]), s[1], s[2], s[3]).shape])
def test_slice_assign_forward_and_gradients(shape, begin, end, step, rng):
    lhs = rng.normal(size=shape)
    region = ref_slice(lhs, begin, end, step).shape
    rhs = rng.normal(size=region)
    # Reference: mark which input positions the region covers, then fill them in the region's order.
    marks = ref_slice(arange(shape), begin, end, step).astype(int).reshape(-1)
    want = lhs.reshape(-1).copy()
    want[marks] = rhs.reshape(-1)
    got = nd._slice_assign(nd.array(lhs, dtype="float64"), nd.array(rhs, dtype="float64"), begin=begin, end=end,
                           step=step)
    assert_almost_equal(got, want.reshape(shape))
    scalar = lhs.reshape(-1).copy()
    scalar[marks] = 2.5
    got = nd._slice_assign_scalar(nd.array(lhs, dtype="float64"), scalar=2.5, begin=begin, end=end, step=step)
    assert_almost_equal(got, scalar.reshape(shape))
    check_numeric_gradient(lambda a, b: nd._slice_assign(a, b, begin=begin, end=end, step=step), [lhs, rhs])
    check_numeric_gradient(lambda a: nd._slice_assign_scalar(a, 1.5, begin, end, step), [lhs])


def test_slice_assign_does_not_touch_its_input_and_aliases():
    x = nd.zeros((2, 3))
    out = nd._crop_assign(x, nd.ones((1, 3)), begin=(1,), end=(2,))
    assert x.asnumpy().sum() == 0 and out.asnumpy().sum() == 3
    assert nd._crop_assign_scalar(x, 4, (0,), (1,)).asnumpy().sum() == 12


@pytest.mark.parametrize(("dtype", "scalar", "want"), [("int32", 7.9, 7), ("int32", -2.5, -2), ("uint8", -1, 255),
                                                       ("float16", 0.1, np.float16(0.1))])
def test_slice_assign_scalar_casts_like_mxnet(dtype, scalar, want):
    out = nd._slice_assign_scalar(nd.zeros((3,), dtype=dtype), scalar=scalar, begin=(1,), end=(2,))
    assert out.dtype is np.dtype(dtype).type and out.asnumpy()[1] == want


def test_slice_assign_errors():
    with pytest.raises(ShapeError, match=r"'_slice_assign': rhs \(1, 3\) does not match the region \(1, 2\)"):
        nd._slice_assign(nd.zeros((3, 4)), nd.zeros((1, 3)), begin=(-1, -2), end=(None, None))
    with pytest.raises(DTypeError, match=r"'_slice_assign'.*float32 and int32"):
        nd._slice_assign(nd.zeros((3, 4)), nd.zeros((1, 2), dtype="int32"), begin=(-1, -2), end=(None, None))


# -- take, _backward_take, batch_take ----------------------------------------------------------------------------
TAKE_INDICES = np.array([[0, 4, -1], [7, -8, 2.7]])


@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_take_forward(axis, mode, rng):
    a = rng.normal(size=(3, 4, 5))
    got = nd.take(nd.array(a, dtype="float64"), nd.array(TAKE_INDICES), axis=axis, mode=mode)
    assert_almost_equal(got, ref_take(a, TAKE_INDICES, axis, mode))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_dtype", INDEX_DTYPES)
def test_take_dtypes(dtype, index_dtype):
    a = arange((4, 3), dtype)
    idx = np.array([3, 0, 2])
    got = nd.take(nd.array(a, dtype=dtype), nd.array(idx, dtype=index_dtype))
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), a[idx])


def test_take_raise_mode_accepts_in_range_and_names_the_bad_index():
    a = nd.array(arange((3, 4)))
    assert_almost_equal(nd.take(a, nd.array([2, 0.9]), axis=0, mode="raise"), arange((3, 4))[[2, 0]])
    with pytest.raises(IndexingError, match=r"'take': index 4 is out of bounds for axis 1 with size 4 "
                                            r"\(mode='raise'\)"):
        nd.take(a, nd.array([0, 4]), axis=1, mode="raise")
    with pytest.raises(IndexError, match=r"index -1 is out of bounds for axis 0 with size 3"):  # MXNet: no negatives
        nd.take(a, nd.array([-1]), mode="raise")


@pytest.mark.parametrize("mode", ["clip", "wrap", "raise"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_gradient(axis, mode, rng):
    idx = TAKE_INDICES if mode != "raise" else np.array([[0, 2], [2, 2]])
    check_numeric_gradient(lambda a: nd.take(a, nd.array(idx), axis=axis, mode=mode), [rng.normal(size=(3, 4, 3))])


@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_backward_take_is_the_adjoint_of_take(axis, mode, rng):
    a, idx = rng.normal(size=(3, 4, 5)), nd.array(TAKE_INDICES)
    g = rng.normal(size=ref_take(a, TAKE_INDICES, axis, mode).shape)
    taken = ref_take(a, TAKE_INDICES, axis, mode)
    back = nd._backward_take(nd.array(g, dtype="float64"), idx, axis=axis, mode=mode, shape=a.shape).asnumpy()
    np.testing.assert_allclose((taken * g).sum(), (a * back).sum())
    check_numeric_gradient(lambda t: nd._backward_take(t, idx, axis=axis, mode=mode, shape=a.shape), [g])


def test_take_second_order(rng):
    idx = nd.array([[0, 2, 2], [1, 0, 5]])
    check_second_order(lambda x: nd.take(x * x, idx, axis=1) ** 2, rng.normal(size=(3, 4)))


def test_take_errors():
    with pytest.raises(ShapeError, match=r"'take': axis=2 is out of range for an array of 2 dimensions"):
        nd.take(nd.zeros((3, 4)), nd.array([0]), axis=2)
    with pytest.raises(OperatorAttributeError, match=r"'mode' expects one of 'clip', 'raise', 'wrap'"):
        nd.take(nd.zeros((3, 4)), nd.array([0]), mode="nearest")


def test_batch_take():
    a = arange((3, 4))
    idx = np.array([5, -1, 2], dtype="int32")
    want = np.array([a[i, min(max(int(j), 0), 3)] for i, j in enumerate(idx)])
    assert_almost_equal(nd.batch_take(nd.array(a), nd.array(idx, dtype="int32")), want)
    with pytest.raises(DTypeError, match=r"'batch_take': indices must be int32"):
        nd.batch_take(nd.array(a), nd.array(idx))
    with pytest.raises(ShapeError, match=r"'batch_take': indices \(2,\) must hold one index per row"):
        nd.batch_take(nd.array(a), nd.array([0, 1], dtype="int32"))


# -- pick, _backward_pick ----------------------------------------------------------------------------------------
PICKS = [  # (shape, axis, keepdims, index form: "reduced" or "kept")
    ((3, 4), -1, False, "reduced"), ((3, 4), 0, False, "reduced"), ((3, 4), 1, True, "reduced"),
    ((3, 4), 1, False, "kept"), ((3, 4), 0, True, "kept"), ((2, 3, 4), 1, False, "reduced"),
    ((2, 3, 4), 2, True, "kept"), ((5,), 0, False, "reduced"), ((5,), 0, True, "kept"),
]


def pick_index(shape, axis, form, rng) -> np.ndarray:
    out = [1 if i == axis % len(shape) else d for i, d in enumerate(shape)]
    idx = rng.integers(-6, 8, size=out).astype("float64") + rng.uniform(0, 0.9, size=out)
    return idx if form == "kept" else idx.reshape([d for i, d in enumerate(out) if i != axis % len(shape)] or [1])


@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize(("shape", "axis", "keepdims", "form"), PICKS)
def test_pick_forward_and_gradient(shape, axis, keepdims, form, mode, rng):
    x = rng.normal(size=shape)
    idx = pick_index(shape, axis, form, rng)
    got = nd.pick(nd.array(x, dtype="float64"), nd.array(idx), axis=axis, keepdims=keepdims, mode=mode)
    assert_almost_equal(got, ref_pick(x, idx, axis, keepdims, mode))
    check_numeric_gradient(lambda t: nd.pick(t, nd.array(idx), axis=axis, keepdims=keepdims, mode=mode), [x])


@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize(("shape", "axis", "keepdims", "form"), PICKS)
def test_backward_pick_is_the_adjoint_of_pick(shape, axis, keepdims, form, mode, rng):
    x = rng.normal(size=shape)
    idx = nd.array(pick_index(shape, axis, form, rng))
    picked = ref_pick(x, idx.asnumpy(), axis, keepdims, mode)
    g = rng.normal(size=picked.shape)
    back = nd._backward_pick(nd.array(g, dtype="float64"), idx, axis=axis, mode=mode, shape=shape).asnumpy()
    np.testing.assert_allclose((picked * g).sum(), (x * back).sum())
    check_numeric_gradient(lambda t: nd._backward_pick(t, idx, axis=axis, mode=mode, shape=shape), [g])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pick_dtypes(dtype):
    x = arange((3, 4), dtype)
    got = nd.pick(nd.array(x, dtype=dtype), nd.array([3, 0, 1], dtype="int32"))
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), x[[0, 1, 2], [3, 0, 1]])


def test_pick_second_order(rng):
    check_second_order(lambda x: nd.pick(x * x, nd.array([0, 3, 1])) ** 2, rng.normal(size=(3, 4)))


def test_pick_errors():
    x = nd.zeros((3, 4))
    with pytest.raises(OperatorAttributeError, match=r"'pick': axis=None is not supported"):
        nd.pick(x, nd.array([0, 1, 2]), axis=None)
    with pytest.raises(ShapeError, match=r"'pick': index \(2,\) must have data \(3, 4\)'s shape without axis 1: "
                                         r"\(3,\) or \(3, 1\)"):
        nd.pick(x, nd.array([0, 1]))
    with pytest.raises(ShapeError, match=r"'pick': axis=2 is out of range"):
        nd.pick(x, nd.array([0, 1, 2]), axis=2)
    with pytest.raises(OperatorAttributeError, match="'mode' expects one of 'clip', 'wrap'"):
        nd.pick(x, nd.array([0, 1, 2]), mode="raise")


# -- one_hot -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "uint8", "int8"])
def test_one_hot(dtype):
    idx = np.array([[1, 0, 3.9], [-1, 4, 2]])
    on, off = 5.0, -1.0
    want = np.empty(idx.shape + (4,))
    for pos in np.ndindex(*want.shape):
        want[pos] = on if int(idx[pos[:-1]]) == pos[-1] else off
    got = nd.one_hot(nd.array(idx), 4, on_value=on, off_value=off, dtype=dtype)
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), want.astype(np.int64).astype(dtype) if dtype == "uint8" else want)


def test_one_hot_gradient_is_zero():
    idx = nd.array([1, 2])
    idx.attach_grad()
    with mx.autograd.record():
        y = nd.one_hot(idx, 3) * 2
    y.backward()
    np.testing.assert_array_equal(idx.grad.asnumpy(), [0, 0])


def test_one_hot_errors():
    with pytest.raises(ShapeError, match=r"'one_hot': depth must be non-negative, got -1"):
        nd.one_hot(nd.array([1]), -1)
    with pytest.raises(DTypeError, match=r"'one_hot': dtype bool"):
        nd.one_hot(nd.array([1]), 2, dtype="bool")
    with pytest.raises(OperatorAttributeError, match=r"required attribute 'depth'"):
        nd.one_hot(nd.array([1]))


# -- gather_nd, scatter_nd, _scatter_set_nd, _backward_gather_nd -------------------------------------------------
GATHERS = [  # (data shape, indices)
    ((3, 4), np.array([[0, 0, 2, -1], [1, 1, 3, -4]])),
    ((2, 3, 4), np.array([[1, 0, -2], [2, 1, 0]])),
    ((2, 3, 4), np.array([[[1, 0]], [[2, 1]], [[3, -1]]])),
    ((5,), np.array([[4.7, -5, 2.2]])),
]


@pytest.mark.parametrize(("shape", "idx"), GATHERS)
def test_gather_nd_forward_and_gradient(shape, idx, rng):
    x = rng.normal(size=shape)
    assert_almost_equal(nd.gather_nd(nd.array(x, dtype="float64"), nd.array(idx)), ref_gather_nd(x, idx))
    check_numeric_gradient(lambda t: nd.gather_nd(t, nd.array(idx)), [x])


@pytest.mark.parametrize(("shape", "idx"), GATHERS)
def test_backward_gather_nd_accumulates_and_is_the_adjoint(shape, idx, rng):
    x = rng.normal(size=shape)
    g = rng.normal(size=ref_gather_nd(x, idx).shape)
    got = nd._backward_gather_nd(nd.array(g, dtype="float64"), nd.array(idx), shape=shape)
    assert_almost_equal(got, ref_scatter_nd(g, idx, shape, add=True))
    np.testing.assert_allclose((ref_gather_nd(x, idx) * g).sum(), (x * got.asnumpy()).sum())
    check_numeric_gradient(lambda t: nd._backward_gather_nd(t, nd.array(idx), shape=shape), [g])


# Scatter targets are distinct here: with repeats MXNet leaves the winner undefined.
SCATTERS = [((3, 4), np.array([[0, 2, -1], [1, -1, 0]])), ((2, 3, 4), np.array([[1, 0], [2, 1]])),
            ((4,), np.array([[3, 0, 1.5]]))]


@pytest.mark.parametrize(("shape", "idx"), SCATTERS)
def test_scatters_forward_and_gradients(shape, idx, rng):
    data = rng.normal(size=idx.shape[1:] + shape[idx.shape[0]:])
    base = rng.normal(size=shape)
    assert_almost_equal(nd.scatter_nd(nd.array(data, dtype="float64"), nd.array(idx), shape=shape),
                        ref_scatter_nd(data, idx, shape))
    got = nd._scatter_set_nd(nd.array(base, dtype="float64"), nd.array(data, dtype="float64"), nd.array(idx),
                             shape=shape)
    assert_almost_equal(got, ref_scatter_nd(data, idx, shape, base=base))
    check_numeric_gradient(lambda d: nd.scatter_nd(d, nd.array(idx), shape=shape), [data])
    check_numeric_gradient(lambda b, d: nd._scatter_set_nd(b, d, nd.array(idx), shape=shape), [base, data])


def test_gather_nd_second_order(rng):
    idx = nd.array([[0, 2, 2], [1, 3, 3]])
    check_second_order(lambda x: nd.gather_nd(x * x, idx) ** 2, rng.normal(size=(3, 4)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_scatter_dtypes(dtype):
    x = arange((3, 4), dtype)
    idx = nd.array([[2, 0], [1, 3]], dtype="int32")
    got = nd.gather_nd(nd.array(x, dtype=dtype), idx)
    assert got.dtype is np.dtype(dtype).type
    np.testing.assert_array_equal(got.asnumpy(), x[[2, 0], [1, 3]])
    back = nd.scatter_nd(got, idx, shape=(3, 4))
    assert back.dtype is np.dtype(dtype).type and back.asnumpy()[2, 1] == x[2, 1]


@pytest.mark.parametrize("op", ["gather_nd", "scatter_nd", "_scatter_set_nd", "_backward_gather_nd"])
@pytest.mark.parametrize(("bad", "axis", "size"), [(3, 0, 3), (-4, 0, 3), (4, 1, 4)])
def test_out_of_range_points_name_index_and_axis(op, bad, axis, size):
    idx = nd.array([[0, 1], [0, 1]])
    idx[axis, 1] = bad
    calls = {
        "gather_nd": lambda: nd.gather_nd(nd.zeros((3, 4)), idx),
        "scatter_nd": lambda: nd.scatter_nd(nd.zeros((2,)), idx, shape=(3, 4)),
        "_scatter_set_nd": lambda: nd._scatter_set_nd(nd.zeros((3, 4)), nd.zeros((2,)), idx, shape=(3, 4)),
        "_backward_gather_nd": lambda: nd._backward_gather_nd(nd.zeros((2,)), idx, shape=(3, 4)),
    }
    with pytest.raises(IndexingError, match=rf"'{op}': index {bad} is out of bounds for axis {axis} with size {size}"):
        calls[op]()


@pytest.mark.parametrize(("call", "match"), [
    (lambda: nd.gather_nd(nd.zeros((3, 4)), nd.array([0, 1])), r"'gather_nd': indices must have at least 2 dim"),
    (lambda: nd.gather_nd(nd.zeros((3,)), nd.array([[0], [1]])), r"'gather_nd': indices \(2, 1\) address 2 axes"),
    (lambda: nd.scatter_nd(nd.zeros((2, 2)), nd.array([[1, 0]]), shape=(3, 3)),
     r"'scatter_nd': data \(2, 2\) does not fit indices \(1, 2\) and shape \(3, 3\) \(it should be \(2, 3\)\)"),
    (lambda: nd._scatter_set_nd(nd.zeros((2, 2)), nd.zeros((2,)), nd.array([[1, 0]]), shape=(3, 2)),
     r"'_scatter_set_nd': lhs \(2, 2\) does not have shape \(3, 2\)"),
    (lambda: nd._backward_take(nd.zeros((2, 3)), nd.array([0, 1]), axis=0, shape=(4, 4)),
     r"'_backward_take': ograd \(2, 3\) should be \(2, 4\)"),
])
def test_gather_scatter_shape_errors(call, match):
    with pytest.raises(ShapeError, match=match):
        call()


# -- the kernel contract ------------------------------------------------------------------------------------------
def test_results_never_share_memory_with_inputs_except_slice_view():
    x, idx = nd.array(arange((3, 4))), nd.array([[0, 1], [1, 2]])
    results = [nd.slice(x, begin=(None,), end=(None,)), nd.slice_axis(x, axis=0, begin=0, end=3),
               nd.slice_like(x, x), nd.take(x, nd.array([0, 1, 2])), nd.pick(x, nd.array([0, 1, 2])),
               nd.gather_nd(x, idx), nd._slice_assign_scalar(x, 1.0, (), ()),
               nd._slice_assign(x, x, begin=(), end=()), nd._scatter_set_nd(x, nd.zeros((2,)), idx, shape=(3, 4))]
    assert not any(np.shares_memory(r._data, x._data) for r in results)
