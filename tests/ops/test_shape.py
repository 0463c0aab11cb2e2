"""Shape operators: Reshape, reshape_like, Flatten, expand_dims, squeeze, transpose, SwapAxis, reverse,
depth_to_space, space_to_depth, diag, Concat, stack, SliceChannel, _split_v2, tile, repeat, Pad,
broadcast_to, broadcast_axis, broadcast_like, shape_array, size_array.

MXNet 1.9's own answers (Reshape's documented examples, every operator's forward and its gradients) are
recorded by tests/oracle/record_shape.py. Here every operator is also checked against float64 references
that map each output index back to the input element it comes from, with explicit Python loops, every
gradient numerically, and the errors by their messages.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import DTypeError, OperatorAttributeError, ShapeError
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from tests.ops.test_reduce import check_second_order
from tests.oracle.record_shape import CASES, check_case

nd = mx.nd


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_mxnet(name):
    check_case(name, mx)


def f64(x: np.ndarray):
    return nd.array(x, dtype="float64")


def ref_by_source(out_shape: tuple[int, ...], source: Callable, x: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """out[i] = x[source(i)] for every output index i (source returns None where the output is `fill`)."""
    out = np.full(out_shape, fill, dtype="float64")
    for i in itertools.product(*(range(s) for s in out_shape)):
        j = source(i)
        if j is not None:
            out[i] = x[j]
    return out


# == Reshape and friends ==========================================================================================
# (input shape, codes, reverse, result): the results are MXNet's documentation's, written out by hand.
RESHAPE_DOC = [
    ((2, 3, 4), (4, 0, 2), False, (4, 3, 2)),
    ((2, 3, 4), (2, 0, 0), False, (2, 3, 4)),
    ((2, 3, 4), (6, 1, -1), False, (6, 1, 4)),
    ((2, 3, 4), (3, -1, 8), False, (3, 1, 8)),
    ((2, 3, 4), (-1,), False, (24,)),
    ((2, 3, 4), (-2,), False, (2, 3, 4)),
    ((2, 3, 4), (2, -2), False, (2, 3, 4)),
    ((2, 3, 4), (-2, 1, 1), False, (2, 3, 4, 1, 1)),
    ((2, 3, 4), (-3, 4), False, (6, 4)),
    ((2, 3, 4, 5), (-3, -3), False, (6, 20)),
    ((2, 3, 4), (0, -3), False, (2, 12)),
    ((2, 3, 4), (-3, -2), False, (6, 4)),
    ((2, 3, 4), (-4, 1, 2, -2), False, (1, 2, 3, 4)),
    ((2, 3, 4), (2, -4, -1, 3, -2), False, (2, 1, 3, 4)),
    ((10, 5, 4), (-1, 0), False, (40, 5)),
    ((10, 5, 4), (-1, 0), True, (50, 4)),
    # reverse applies the codes from the right: a split is written (d1, d2, -4)
    ((2, 3, 4), (2, 3, 2, 2, -4), True, (2, 3, 2, 2)),
    ((2, 3, 4), (-1, 0), True, (6, 4)),
    ((2, 3, 4), (0, -1), True, (3, 8)),
    ((2, 3, 4), (-1, -3), True, (2, 12)),
    ((6,), (-4, 2, 3), False, (2, 3)),
]


@pytest.mark.parametrize(("src", "codes", "reverse", "want"), RESHAPE_DOC)
def test_reshape_codes(src, codes, reverse, want):
    x = np.arange(np.prod(src), dtype="float64").reshape(src)
    got = nd.reshape(f64(x), shape=codes, reverse=reverse)
    assert got.shape == want
    np.testing.assert_array_equal(got.asnumpy().ravel(), x.ravel())  # row-major order is kept


def test_reshape_method_and_int_dtype():
    x = nd.array(np.arange(12).reshape(3, 4), dtype="int32")
    y = x.reshape((-1, 6))
    assert y.dtype is np.int32 and y.shape == (2, 6)
    np.testing.assert_array_equal(y.asnumpy(), np.arange(12).reshape(2, 6))


@pytest.mark.parametrize(("lhs", "rhs", "attrs", "want"), [
    ((6,), (2, 3), {}, (2, 3)),
    ((30, 7), (15, 2, 4), {"lhs_begin": 0, "lhs_end": 1, "rhs_begin": 0, "rhs_end": 2}, (15, 2, 7)),
    ((30, 12), (4, 2, 2, 3), {"lhs_begin": -1, "rhs_begin": 1}, (30, 2, 2, 3)),
    ((2, 3, 4), (6,), {"lhs_end": 2}, (6, 4)),
    ((2, 3, 4), (9, 6, 1), {"lhs_begin": 0, "lhs_end": -1, "rhs_begin": 1, "rhs_end": -1}, (6, 4)),
])
def test_reshape_like(lhs, rhs, attrs, want):
    x = np.arange(np.prod(lhs), dtype="float64").reshape(lhs)
    got = nd.reshape_like(f64(x), nd.zeros(rhs), **attrs)
    assert got.shape == want
    np.testing.assert_array_equal(got.asnumpy().ravel(), x.ravel())


@pytest.mark.parametrize(("call", "src", "want"), [
    (lambda a: nd.Flatten(a), (2, 3, 4), (2, 12)),
    (lambda a: nd.flatten(a), (5,), (5, 1)),
    (lambda a: nd.expand_dims(a, axis=0), (2, 3), (1, 2, 3)),
    (lambda a: nd.expand_dims(a, axis=2), (2, 3), (2, 3, 1)),
    (lambda a: nd.expand_dims(a, axis=-1), (2, 3), (2, 3, 1)),
    (lambda a: nd.expand_dims(a, axis=-3), (2, 3), (1, 2, 3)),
    (lambda a: nd.squeeze(a), (1, 3, 1, 2), (3, 2)),
    (lambda a: nd.squeeze(a), (1, 1), (1,)),
    (lambda a: nd.squeeze(a, axis=2), (1, 3, 1, 2), (1, 3, 2)),
    (lambda a: nd.squeeze(a, axis=(0, -2)), (1, 3, 1, 2), (3, 2)),
    (lambda a: nd.squeeze(a, axis=()), (1, 3, 1), (1, 3, 1)),
], ids=["flatten3d", "flatten1d", "expand0", "expand2", "expand-1", "expand-3", "squeeze_all", "squeeze_to_1",
        "squeeze2", "squeeze_tuple", "squeeze_empty"])
def test_reshaping_ops(call, src, want):
    x = np.arange(np.prod(src), dtype="float64").reshape(src) - 3.5
    got = call(f64(x))
    assert got.shape == want and got.dtype is np.float64
    np.testing.assert_array_equal(got.asnumpy().ravel(), x.ravel())


# == permutations ==================================================================================================
@pytest.mark.parametrize("axes", [(), (1, 0, 2), (2, 0, 1), (0, 1, 2), (-1, 0, 1)])
def test_transpose(axes, rng):
    x = rng.normal(size=(2, 3, 4))
    perm = axes or (2, 1, 0)
    perm = tuple(a % 3 for a in perm)
    out_shape = tuple(x.shape[a] for a in perm)

    def source(i):
        j = [0] * 3
        for k, a in enumerate(perm):
            j[a] = i[k]
        return tuple(j)

    assert_almost_equal(nd.transpose(f64(x), axes=axes), ref_by_source(out_shape, source, x), rtol=0, atol=0)


@pytest.mark.parametrize(("d1", "d2"), [(0, 0), (0, 2), (2, 1), (-1, 0)])
def test_swapaxis(d1, d2, rng):
    x = rng.normal(size=(2, 3, 4))
    a, b = d1 % 3, d2 % 3
    out_shape = list(x.shape)
    out_shape[a], out_shape[b] = out_shape[b], out_shape[a]

    def source(i):
        j = list(i)
        j[a], j[b] = i[b], i[a]
        return tuple(j)

    got = nd.swapaxes(f64(x), d1, d2)
    assert_almost_equal(got, ref_by_source(tuple(out_shape), source, x), rtol=0, atol=0)


@pytest.mark.parametrize("axis", [0, 2, (0, 2), (1, 1), (-1,), (0, 1, 2)])
def test_reverse(axis, rng):
    x = rng.normal(size=(2, 3, 4))
    axes = (axis,) if isinstance(axis, int) else axis
    flips = [sum(1 for a in axes if a % 3 == k) % 2 for k in range(3)]  # reversing twice restores

    def source(i):
        return tuple(x.shape[k] - 1 - i[k] if flips[k] else i[k] for k in range(3))

    assert_almost_equal(nd.flip(f64(x), axis=axis), ref_by_source(x.shape, source, x), rtol=0, atol=0)


@pytest.mark.parametrize("b", [1, 2, 3])
def test_depth_to_space_and_back(b, rng):
    n, c, h, w = 2, 2 * b * b, 2, 3
    x = rng.normal(size=(n, c, h, w))

    def source(i):  # out[n, c, y*b + i, x*b + j] = in[n, (i*b + j) * C/b² + c, y, x]
        bn, bc, y, xx = i
        return bn, ((y % b) * b + xx % b) * (c // (b * b)) + bc, y // b, xx // b

    want = ref_by_source((n, c // (b * b), h * b, w * b), source, x)
    got = nd.depth_to_space(f64(x), b)
    assert_almost_equal(got, want, rtol=0, atol=0)
    assert_almost_equal(nd.space_to_depth(got, block_size=b), x, rtol=0, atol=0)


def ref_diag(x: np.ndarray, k: int, a1: int, a2: int) -> np.ndarray:
    if x.ndim == 1:
        side = x.shape[0] + abs(k)

        def source(i):
            r, c = i
            return (r if k >= 0 else c,) if c - r == k else None

        return ref_by_source((side, side), source, x)
    rest = [i for i in range(x.ndim) if i not in (a1, a2)]
    length = max(0, min(x.shape[a1] - max(0, -k), x.shape[a2] - max(0, k)))

    def source(i):
        j = [0] * x.ndim
        for pos, a in enumerate(rest):
            j[a] = i[pos]
        j[a1], j[a2] = i[-1] + max(0, -k), i[-1] + max(0, k)
        return tuple(j)

    return ref_by_source(tuple(x.shape[a] for a in rest) + (length,), source, x)


DIAG_CASES = [((4,), 0, 0, 1), ((4,), 2, 0, 1), ((4,), -1, 0, 1), ((3, 4), 0, 0, 1), ((3, 4), 2, 0, 1),
              ((3, 4), -2, 0, 1), ((3, 4), 4, 0, 1), ((3, 4), 1, 1, 0), ((2, 3, 4), 1, 0, 2),
              ((2, 3, 4), -1, -1, 1), ((2, 3, 4, 5), 2, 3, 1)]


@pytest.mark.parametrize(("shape", "k", "a1", "a2"), DIAG_CASES)
def test_diag(shape, k, a1, a2, rng):
    x = rng.normal(size=shape)
    got = nd.diag(f64(x), k=k, axis1=a1, axis2=a2)
    assert_almost_equal(got, ref_diag(x, k, a1 % len(shape), a2 % len(shape)), rtol=0, atol=0)


# == joining and splitting =========================================================================================
@pytest.mark.parametrize(("shapes", "dim"), [
    ([(2, 3), (2, 4)], 1), ([(2, 3), (1, 3), (3, 3)], 0), ([(2, 3, 1), (2, 3, 2)], -1), ([(2, 3)], 1),
])
def test_concat(shapes, dim, rng):
    xs = [rng.normal(size=s) for s in shapes]
    axis = dim % len(shapes[0])
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    want = np.empty(out_shape)
    offset = 0
    for x in xs:  # copy each input into its block of the output
        for i in itertools.product(*(range(s) for s in x.shape)):
            j = list(i)
            j[axis] += offset
            want[tuple(j)] = x[i]
        offset += x.shape[axis]
    assert_almost_equal(nd.concat(*[f64(x) for x in xs], dim=dim), want, rtol=0, atol=0)
    assert_almost_equal(nd.Concat(*[f64(x) for x in xs], dim=dim, num_args=len(xs)), want, rtol=0, atol=0)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis, rng):
    xs = [rng.normal(size=(2, 3)) for _ in range(4)]
    a = axis % 3

    def source(i):
        return (i[a], *i[:a], *i[a + 1:])

    want_shape = [2, 3]
    want_shape.insert(a, 4)
    want = ref_by_source(tuple(want_shape), source, np.array(xs))
    assert_almost_equal(nd.stack(*[f64(x) for x in xs], axis=axis), want, rtol=0, atol=0)


@pytest.mark.parametrize(("n", "axis", "squeeze"), [(1, 1, False), (3, 1, False), (2, -1, False), (4, 2, True),
                                                    (2, 0, True), (3, 1, True)])
def test_split(n, axis, squeeze, rng):
    x = rng.normal(size=(2, 3, 4))
    a = axis % 3
    step = x.shape[a] // n
    got = nd.split(f64(x), num_outputs=n, axis=axis, squeeze_axis=squeeze)
    got = [got] if n == 1 else got
    assert len(got) == n
    for p, part in enumerate(got):
        shape = list(x.shape)
        shape[a] = step

        def source(i, p=p):
            j = list(i)
            j[a] += p * step
            return tuple(j)

        want = ref_by_source(tuple(shape), source, x)
        assert_almost_equal(part, want.reshape([s for k, s in enumerate(shape) if k != a]) if squeeze else want,
                            rtol=0, atol=0)


def test_split_v2_unequal_parts(rng):
    x = rng.normal(size=(2, 7))
    parts = nd._internal._split_v2(f64(x), indices=(0, 2, 3), axis=1)
    for part, (a, b) in zip(parts, [(0, 2), (2, 3), (3, 7)], strict=True):
        assert_almost_equal(part, ref_by_source((2, b - a), lambda i, a=a: (i[0], i[1] + a), x), rtol=0, atol=0)
    even = nd._internal._split_v2(f64(x.T), indices=(0,), axis=1, sections=2, squeeze_axis=True)
    assert [p.shape for p in even] == [(7,), (7,)]


# == repetition ====================================================================================================
@pytest.mark.parametrize("reps", [(2,), (1, 3), (2, 1, 2), (2, 2, 1, 3), ()])
def test_tile(reps, rng):
    x = rng.normal(size=(2, 3, 2))
    n = max(3, len(reps))
    shape = (1,) * (n - 3) + x.shape
    full_reps = (1,) * (n - len(reps)) + reps
    xr = x.reshape(shape)
    want = ref_by_source(tuple(s * r for s, r in zip(shape, full_reps, strict=True)),
                         lambda i: tuple(v % s for v, s in zip(i, shape, strict=True)), xr)
    assert_almost_equal(nd.tile(f64(x), reps=reps), want, rtol=0, atol=0)


@pytest.mark.parametrize(("repeats", "axis"), [(2, None), (3, 0), (2, 1), (4, -1), (1, 2), (0, 1)])
def test_repeat(repeats, axis, rng):
    x = rng.normal(size=(2, 3, 2))
    if axis is None:
        flat = x.ravel()
        want = ref_by_source((flat.size * repeats,), lambda i: (i[0] // repeats,), flat)
    else:
        a = axis % 3
        shape = list(x.shape)
        shape[a] *= repeats
        want = ref_by_source(tuple(shape), lambda i: tuple(v // repeats if k == a else v for k, v in enumerate(i)), x)
    assert_almost_equal(nd.repeat(f64(x), repeats=repeats, axis=axis), want, rtol=0, atol=0)


# == padding =======================================================================================================
def pad_source(mode: str, before: int, n: int):
    """Where output position i along one axis reads from (None: the constant)."""

    def src(i: int) -> int | None:
        j = i - before
        if 0 <= j < n:
            return j
        if mode == "constant":
            return None
        if mode == "edge":
            return 0 if j < 0 else n - 1
        return -j if j < 0 else 2 * (n - 1) - j  # reflect, without repeating the edge

    return src


def ref_pad(x: np.ndarray, mode: str, pad_width: tuple[int, ...], value: float) -> np.ndarray:
    pairs = list(zip(pad_width[::2], pad_width[1::2], strict=True))
    srcs = [pad_source(mode, b, n) for (b, _), n in zip(pairs, x.shape, strict=True)]
    out_shape = tuple(n + b + a for n, (b, a) in zip(x.shape, pairs, strict=True))

    def source(i):
        j = tuple(s(v) for s, v in zip(srcs, i, strict=True))
        return None if None in j else j

    return ref_by_source(out_shape, source, x, fill=value)


PAD_WIDTHS = [(1, 2, 3, 4), (0, 0, 0, 0, 1, 2, 3, 1), (0, 0, 0, 0, 3, 0, 0, 3), (0, 0, 0, 0, 1, 2, 2, 1, 0, 3)]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize("width", PAD_WIDTHS[1:], ids=["4d", "4d_one_sided", "5d"])
def test_pad(mode, width, rng):
    x = rng.normal(size=(2, 2, 4, 4) if len(width) == 8 else (1, 2, 4, 4, 4))
    got = nd.pad(f64(x), mode=mode, pad_width=width, constant_value=-2.5)
    assert_almost_equal(got, ref_pad(x, mode, width, -2.5), rtol=0, atol=0)


def test_pad_integer_and_default_constant():
    x = np.arange(2 * 1 * 2 * 3).reshape(2, 1, 2, 3)
    got = nd.Pad(nd.array(x, dtype="int32"), mode="constant", pad_width=(0, 0, 0, 0, 1, 1, 0, 2))
    assert got.dtype is np.int32
    np.testing.assert_array_equal(got.asnumpy(), ref_pad(x, "constant", (0, 0, 0, 0, 1, 1, 0, 2), 0.0))


# == broadcasting and shape queries ================================================================================
@pytest.mark.parametrize(("src", "call", "want"), [
    ((1, 3), lambda a: nd.broadcast_to(a, shape=(4, 3)), (4, 3)),
    ((2, 1, 1), lambda a: nd.broadcast_to(a, shape=(0, 3, 2)), (2, 3, 2)),
    ((1, 3, 1), lambda a: nd.broadcast_axis(a, axis=(0, 2), size=(2, 4)), (2, 3, 4)),
    ((1, 3, 1), lambda a: nd.broadcast_axes(a, axis=-1, size=5), (1, 3, 5)),
    ((1, 3), lambda a: nd.broadcast_like(a, nd.zeros((2, 3))), (2, 3)),
    ((1, 3), lambda a: nd.broadcast_like(a, nd.zeros((5, 4)), lhs_axes=(0,), rhs_axes=(1,)), (4, 3)),
])
def test_broadcast(src, call, want, rng):
    x = rng.normal(size=src)
    got = call(f64(x))
    source = lambda i: tuple(0 if s == 1 else v for v, s in zip(i, src, strict=True))  # noqa: E731
    assert_almost_equal(got, ref_by_source(want, source, x), rtol=0, atol=0)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), (1, 1)])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float16"])
def test_shape_and_size_array(shape, dtype):
    x = nd.zeros(shape, dtype=dtype)
    s, n = nd.shape_array(x), nd.size_array(x)
    assert s.dtype is np.int64 and n.dtype is np.int64
    assert s.asnumpy().tolist() == list(shape) and n.asnumpy().tolist() == [int(np.prod(shape))]


def test_shape_queries_are_not_differentiable():
    x = nd.ones((2, 3))
    x.attach_grad()
    with mx.autograd.record():
        y = nd.shape_array(x)
    assert y.dtype is np.int64
    assert not mx.registry.get("shape_array").differentiable and not mx.registry.get("size_array").differentiable


# == dtypes and fresh results ======================================================================================
UNARY_CALLS = {
    "Reshape": lambda a: nd.reshape(a, shape=(0, -1)),
    "reshape_like": lambda a: nd.reshape_like(a, nd.zeros((4, 6))),
    "Flatten": lambda a: nd.flatten(a),
    "expand_dims": lambda a: nd.expand_dims(a, axis=1),
    "squeeze": lambda a: nd.squeeze(a),
    "transpose": lambda a: nd.transpose(a, axes=(0, 1, 2)),
    "SwapAxis": lambda a: nd.swapaxes(a, 1, 1),
    "reverse": lambda a: nd.reverse(a, axis=(1, 1)),
    "depth_to_space": lambda a: nd.depth_to_space(nd.expand_dims(a, axis=0), 1),
    "space_to_depth": lambda a: nd.space_to_depth(nd.expand_dims(a, axis=0), 1),
    "diag": lambda a: nd.diag(a, axis1=1, axis2=2),
    "Concat": lambda a: nd.concat(a),
    "stack": lambda a: nd.stack(a),
    "SliceChannel": lambda a: nd.split(a, num_outputs=1),
    "_split_v2": lambda a: nd._internal._split_v2(a, indices=(0,)),
    "tile": lambda a: nd.tile(a, reps=()),
    "repeat": lambda a: nd.repeat(a, repeats=1, axis=0),
    "Pad": lambda a: nd.pad(nd.expand_dims(a, axis=0), mode="edge", pad_width=(0,) * 8),
    "broadcast_to": lambda a: nd.broadcast_to(a, shape=(0, 0, 0)),
    "broadcast_axis": lambda a: nd.broadcast_axis(a),
    "broadcast_like": lambda a: nd.broadcast_like(a, a),
}


@pytest.mark.parametrize("op", sorted(UNARY_CALLS))
def test_results_are_fresh_arrays(op):
    """Even where the result equals the input (identity attributes), it never shares the input's memory."""
    x = nd.array(np.arange(24.0).reshape(2, 3, 4))
    out = UNARY_CALLS[op](x)
    assert not np.shares_memory(out._data, x._data)
    out[:] = -1.0
    np.testing.assert_array_equal(x.asnumpy(), np.arange(24.0).reshape(2, 3, 4))


@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "int64", "uint8"])
@pytest.mark.parametrize("op", sorted(UNARY_CALLS))
def test_dtype_is_kept(op, dtype):
    x = nd.array(np.arange(24).reshape(2, 3, 4), dtype=dtype)
    out = UNARY_CALLS[op](x)
    assert out.dtype is np.dtype(dtype).type
    # the same elements as in float64: shape operators only move (or copy) them
    want = UNARY_CALLS[op](x.astype("float64"))
    np.testing.assert_array_equal(out.asnumpy().astype("float64"), want.asnumpy())


def test_aliases_and_fluent_methods():
    for alias, name in [("reshape", "Reshape"), ("flatten", "Flatten"), ("swapaxes", "SwapAxis"), ("flip", "reverse"),
                        ("concat", "Concat"), ("split", "SliceChannel"), ("pad", "Pad"),
                        ("broadcast_axes", "broadcast_axis")]:
        assert getattr(nd, alias) is getattr(nd, name)
    x = nd.array(np.arange(6.0).reshape(1, 2, 3))
    assert x.flatten().shape == (1, 6) and x.squeeze().shape == (2, 3) and x.swapaxes(0, 2).shape == (3, 2, 1)
    assert x.expand_dims(axis=0).shape == (1, 1, 2, 3) and x.tile(reps=(2,)).shape == (1, 2, 6)
    assert [p.shape for p in x.split(num_outputs=2)] == [(1, 1, 3)] * 2
    assert x.flip(axis=2).asnumpy().ravel().tolist() == [2.0, 1.0, 0.0, 5.0, 4.0, 3.0]
    assert x.shape_array().asnumpy().tolist() == [1, 2, 3]


# == gradients =====================================================================================================
GRADIENT_CALLS = {
    "reshape_codes": lambda a: nd.reshape(a, shape=(-4, 1, 2, -2)),
    "reshape_reverse": lambda a: nd.reshape(a, shape=(-1, 0), reverse=True),
    "reshape_like": lambda a: nd.reshape_like(a, nd.zeros((4, 6))),
    "flatten": lambda a: nd.flatten(a),
    "expand_dims": lambda a: nd.expand_dims(a, axis=-2),
    "squeeze": lambda a: nd.squeeze(nd.expand_dims(a, axis=0), axis=0),
    "transpose": lambda a: nd.transpose(a, axes=(2, 0, 1)),
    "swapaxes": lambda a: nd.swapaxes(a, 0, -1),
    "reverse": lambda a: nd.reverse(a, axis=(0, 2)),
    "depth_to_space": lambda a: nd.depth_to_space(nd.reshape(a, shape=(1, 4, 2, 3)), 2),
    "space_to_depth": lambda a: nd.space_to_depth(nd.reshape(a, shape=(1, 1, 4, 6)), 2),
    "diag_vector": lambda a: nd.diag(nd.reshape(a, shape=(-1,)), k=-2),
    "diag_matrix": lambda a: nd.diag(nd.reshape(a, shape=(4, 6)), k=1),
    "diag_nd": lambda a: nd.diag(a, k=-1, axis1=2, axis2=1),
    "split": lambda a: nd.split(a, num_outputs=3, axis=1),
    "split_squeeze": lambda a: nd.split(a, num_outputs=2, axis=0, squeeze_axis=True),
    "split_v2": lambda a: nd._internal._split_v2(a, indices=(0, 1, 3), axis=2),
    "tile": lambda a: nd.tile(a, reps=(2, 1, 1, 2)),
    "tile_short": lambda a: nd.tile(a, reps=(3,)),
    "repeat_flat": lambda a: nd.repeat(a, repeats=2),
    "repeat_axis": lambda a: nd.repeat(a, repeats=3, axis=1),
    "repeat_neg": lambda a: nd.repeat(a, repeats=2, axis=-1),
    "repeat_zero": lambda a: nd.repeat(a, repeats=0, axis=1),
    "broadcast_to": lambda a: nd.broadcast_to(nd.sum(a, axis=1, keepdims=True), shape=(0, 5, 0)),
    "broadcast_axis": lambda a: nd.broadcast_axis(nd.expand_dims(a, axis=0), axis=0, size=3),
    "broadcast_like": lambda a: nd.broadcast_like(nd.sum(a, axis=0, keepdims=True), nd.zeros((3, 3, 4))),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CALLS))
def test_gradient(name, rng):
    check_numeric_gradient(GRADIENT_CALLS[name], [rng.normal(size=(2, 3, 4))])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_concat_gradient(dim, rng):
    shapes = {0: [(1, 3, 2), (2, 3, 2), (3, 3, 2)], 1: [(2, 1, 2), (2, 4, 2), (2, 2, 2)],
              -1: [(2, 3, 1), (2, 3, 3), (2, 3, 2)]}[dim]
    check_numeric_gradient(lambda a, b, c: nd.concat(a, b, c, dim=dim), [rng.normal(size=s) for s in shapes])
    check_numeric_gradient(lambda a: nd.concat(a, dim=dim), [rng.normal(size=shapes[0])])


@pytest.mark.parametrize("axis", [0, 2, -1])
def test_stack_gradient(axis, rng):
    check_numeric_gradient(lambda a, b: nd.stack(a, b, axis=axis), [rng.normal(size=(2, 3)) for _ in range(2)])
    check_numeric_gradient(lambda a: nd.stack(a, axis=axis), [rng.normal(size=(2, 3))])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize("width", PAD_WIDTHS[1:], ids=["4d", "4d_one_sided", "5d"])
def test_pad_gradient(mode, width, rng):
    shape = (1, 2, 4, 4) if len(width) == 8 else (1, 1, 3, 4, 4)
    check_numeric_gradient(lambda a: nd.pad(a, mode=mode, pad_width=width, constant_value=0.5),
                           [rng.normal(size=shape)])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad_backward_gradient(mode, rng):
    width = (0, 0, 0, 0, 2, 1, 1, 3)
    check_numeric_gradient(lambda g: nd._internal._pad_backward(g, mode=mode, pad_width=width),
                           [rng.normal(size=(1, 2, 7, 8))])


@pytest.mark.parametrize(("shape", "k", "a1", "a2"), [c for c in DIAG_CASES if len(c[0]) > 1])
def test_diag_backward_gradient(shape, k, a1, a2, rng):
    like = nd.zeros(shape)
    diagonal = nd.diag(like, k=k, axis1=a1, axis2=a2).shape
    check_numeric_gradient(lambda g: nd._internal._diag_backward(g, like, k=k, axis1=a1, axis2=a2),
                           [rng.normal(size=diagonal)], grad_nodes=[0])


def _pad2d(mode: str, width: tuple[int, ...]) -> Callable:
    return lambda a: nd.pad(nd.reshape(a, shape=(1, 1, 3, 4)), mode=mode, pad_width=(0, 0, 0, 0, *width))


SECOND_ORDER = {
    "pad_constant": _pad2d("constant", (1, 2, 2, 1)),
    "pad_edge": _pad2d("edge", (3, 1, 2, 2)),
    "pad_reflect": _pad2d("reflect", (2, 1, 3, 1)),
    "diag": lambda a: nd.diag(a, k=1),
    "concat": lambda a: nd.concat(a, a * 2, dim=0),
    "split": lambda a: nd.split(a, num_outputs=2, axis=1)[1],
    "tile": lambda a: nd.tile(a, reps=(2, 2)),
    "repeat": lambda a: nd.repeat(a, repeats=2, axis=0),
    "broadcast_axis": lambda a: nd.broadcast_axis(nd.expand_dims(a, axis=0), axis=0, size=2),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order(name, rng):
    check_second_order(lambda x: SECOND_ORDER[name](x) ** 2, rng.uniform(0.5, 1.5, size=(3, 4)))


# == errors ========================================================================================================
@pytest.mark.parametrize(("codes", "reverse", "message"), [
    ((5, 5), False, r"shape \(2, 3, 4\) \(size 24\) into \(5, 5\) \(size 25\), from shape=\(5, 5\)"),
    ((-1, 5), False, r"shape=\(-1, 5\).*do not divide"),
    ((2, 12, -2), False, r"into \(2, 12, 4\) \(size 96\)"),
    ((8, 0), True, r"into \(8, 4\) \(size 32\)"),
    ((-1, 2, -4), True, r"into \(2, 2\) \(size 4\)"),
    ((-1, -1), False, r"only one dimension can be inferred"),
    ((0, 0, 0, 0), False, r"code 0 has no input dimension"),
    ((-3, -3), False, r"code -3 needs two input dimensions"),
    ((-4, 3, 2, -2), False, r"dimension 2 does not split into \(3, 2\)"),
    ((-4, -1, -1, -2), False, r"may infer only one"),
    ((-4, 2), False, r"code -4 needs"),
    ((2, -5, 3), False, r"-5 is not a valid code"),
    ((), False, r"shape=\(\) gives no dimensions"),
])
def test_reshape_errors(codes, reverse, message):
    with pytest.raises(ShapeError, match=r"operator 'Reshape'.*" + message):
        nd.zeros((2, 3, 4)).reshape(codes, reverse=reverse)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: nd.concat(nd.zeros((2, 3)), nd.zeros((3, 4)), dim=0),
     r"operator 'Concat': data\[0\] \(2, 3\) and data\[1\] \(3, 4\) differ on axes other than dim=0"),
    (lambda: nd.concat(nd.zeros((2, 3)), nd.zeros((2,))), r"'Concat': data\[0\] \(2, 3\) and data\[1\] \(2,\) differ"),
    (lambda: nd.concat(nd.zeros((2, 3)), nd.zeros((2, 3)), dim=2), r"'Concat': dim=2 is out of range.*\(2, 3\)"),
    (lambda: nd.stack(nd.zeros((2, 3)), nd.zeros((2, 4))), r"'stack': data\[1\] \(2, 4\) differs from data\[0\]"),
    (lambda: nd.stack(nd.zeros((2, 3)), axis=3), r"'stack': axis=3 is out of range"),
    (lambda: nd.split(nd.zeros((2, 3, 4)), num_outputs=2),
     r"'SliceChannel': axis 1 of data \(2, 3, 4\) \(size 3\) does not split evenly into 2"),
    (lambda: nd.split(nd.zeros((2, 3, 4)), num_outputs=2, axis=-1, squeeze_axis=True),
     r"'SliceChannel': squeeze_axis=True needs parts of size 1.*\(2, 3, 4\)"),
    (lambda: nd.split(nd.zeros((2, 3, 4)), num_outputs=2, axis=3), r"'SliceChannel': axis=3 is out of range"),
    (lambda: nd._internal._split_v2(nd.zeros((2, 3)), indices=(1,)), r"'_split_v2': indices=\(1,\) must start at 0"),
    (lambda: nd.reshape_like(nd.zeros((6,)), nd.zeros((2, 4))), r"'reshape_like': cannot reshape lhs \(6,\).*\(2, 4\)"),
    (lambda: nd.reshape_like(nd.zeros((2, 3)), nd.zeros((6,)), lhs_begin=2),
     r"'reshape_like': lhs_begin=2, lhs_end=None select no axes"),
    (lambda: nd.expand_dims(nd.zeros((2, 3)), axis=3), r"'expand_dims': axis=3 is out of range \[-3, 2\].*\(2, 3\)"),
    (lambda: nd.squeeze(nd.zeros((1, 3, 1)), axis=1), r"'squeeze': axis=1 of an array of shape \(1, 3, 1\) has size 3"),
    (lambda: nd.squeeze(nd.zeros((1, 3, 1)), axis=3), r"'squeeze': axis=3 is out of range"),
    (lambda: nd.squeeze(nd.zeros((1, 3, 1)), axis=(0, 0)), r"'squeeze': axis=\(0, 0\) repeats an axis"),
    (lambda: nd.transpose(nd.zeros((2, 3)), axes=(0, 0)), r"'transpose': axes \(0, 0\) are not a permutation"),
    (lambda: nd.transpose(nd.zeros((2, 3)), axes=(0, 1, 2)), r"'transpose': axes \(0, 1, 2\) do not match"),
    (lambda: nd.swapaxes(nd.zeros((2, 3)), 0, 2), r"'SwapAxis': dim2=2 is out of range"),
    (lambda: nd.flip(nd.zeros((2, 3)), axis=(0, 2)), r"'reverse': axis=2 is out of range"),
    (lambda: nd.depth_to_space(nd.zeros((1, 12, 2, 2)), 3), r"'depth_to_space': the 12 channels.*block_size²=9"),
    (lambda: nd.depth_to_space(nd.zeros((12, 2, 2)), 2), r"'depth_to_space': data must be 4-D.*\(12, 2, 2\)"),
    (lambda: nd.space_to_depth(nd.zeros((1, 3, 4, 4)), 3), r"'space_to_depth': .*\(1, 3, 4, 4\).*block_size=3"),
    (lambda: nd.space_to_depth(nd.zeros((1, 3, 4, 4)), 0), r"'space_to_depth': block_size=0 must be a positive"),
    (lambda: nd.diag(nd.zeros((3, 4)), k=5), r"'diag': diagonal k=5 does not exist in a 3×4 matrix"),
    (lambda: nd.diag(nd.zeros((3, 4)), k=-4), r"'diag': diagonal k=-4 does not exist"),
    (lambda: nd.diag(nd.zeros((2, 3, 4)), axis1=1, axis2=-2), r"'diag': axis1=1 and axis2=-2 refer to the same"),
    (lambda: nd.diag(nd.zeros((2, 3, 4)), axis1=3), r"'diag': axis1=3 is out of range"),
    (lambda: nd.tile(nd.zeros((2, 3)), reps=(2, 0)), r"'tile': reps=\(2, 0\) must be positive"),
    (lambda: nd.repeat(nd.zeros((2, 3)), repeats=-1), r"'repeat': repeats=-1 must not be negative"),
    (lambda: nd.repeat(nd.zeros((2, 3)), repeats=2, axis=2), r"'repeat': axis=2 is out of range"),
    (lambda: nd.pad(nd.zeros((2, 3, 4)), mode="constant", pad_width=(0, 0, 0, 0, 1, 1)),
     r"'Pad': only 4-D and 5-D data can be padded, got shape \(2, 3, 4\)"),
    (lambda: nd.pad(nd.zeros((1, 1, 4, 4)), mode="constant", pad_width=(0, 0, 0, 0, 1, 1)),
     r"'Pad': pad_width \(0, 0, 0, 0, 1, 1\) must hold 2 values per axis of data \(1, 1, 4, 4\)"),
    (lambda: nd.pad(nd.zeros((1, 1, 4, 4)), mode="edge", pad_width=(0, 0, 1, 0, 1, 1, 1, 1)),
     r"'Pad': pad_width .* pads the first two axes"),
    (lambda: nd.pad(nd.zeros((1, 1, 4, 4)), mode="reflect", pad_width=(0, 0, 0, 0, 4, 4, 1, 1)),
     r"'Pad': reflect padding .* smaller than each padded axis of data \(1, 1, 4, 4\)"),
    (lambda: nd.pad(nd.zeros((1, 1, 4, 4)), mode="constant", pad_width=(0, 0, 0, 0, -1, 1, 1, 1)),
     r"'Pad': pad_width .* must not be negative"),
    (lambda: nd.broadcast_to(nd.zeros((1, 3)), shape=(2, 2)), r"'broadcast_to': data \(1, 3\) cannot be broadcast"),
    (lambda: nd.broadcast_to(nd.zeros((3,)), shape=(2, 3)), r"'broadcast_to': data \(3,\).*number of dimensions"),
    (lambda: nd.broadcast_axis(nd.zeros((1, 3)), axis=1, size=4),
     r"'broadcast_axis': axis 1 of data \(1, 3\) has size 3"),
    (lambda: nd.broadcast_axis(nd.zeros((1, 3)), axis=(0, 1), size=(2,)), r"'broadcast_axis': axis=.* same length"),
    (lambda: nd.broadcast_axis(nd.zeros((1, 3)), axis=2, size=2), r"'broadcast_axis': axis=2 is out of range"),
])
def test_shape_errors(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


def test_attribute_and_dtype_errors():
    with pytest.raises(OperatorAttributeError, match=r"'Concat': num_args=3 but 2 arrays were given"):
        nd.concat(nd.zeros((2, 3)), nd.zeros((2, 3)), num_args=3)
    with pytest.raises(OperatorAttributeError, match=r"'stack': num_args=1 but 2 arrays"):
        nd.stack(nd.zeros((2, 3)), nd.zeros((2, 3)), num_args=1)
    with pytest.raises(OperatorAttributeError, match=r"'Concat' needs at least one input"):
        nd.concat()
    with pytest.raises(OperatorAttributeError, match=r"'SliceChannel': num_outputs=0 must be at least 1"):
        nd.split(nd.zeros((2, 3)), num_outputs=0)
    with pytest.raises(OperatorAttributeError, match=r"'Pad': attribute 'mode' expects one of"):
        nd.pad(nd.zeros((1, 1, 2, 2)), mode="wrap", pad_width=(0,) * 8)
    with pytest.raises(DTypeError, match=r"'Concat'.*float32 and float64"):
        nd.concat(nd.zeros((2, 3)), nd.zeros((2, 3), dtype="float64"))
    with pytest.raises(DTypeError, match=r"'stack'.*float32 and int32"):
        nd.stack(nd.zeros((2, 3)), nd.zeros((2, 3), dtype="int32"))
