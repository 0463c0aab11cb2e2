"""Every kernel the OpenCL backend registers, against float64 truths: the shared operator cases (NumPy
references or the CPU backend run in float64), then per-family tests over shapes, dtypes and attributes."""

from __future__ import annotations

import numpy as np
import pytest

import mxplug as mx
from mxplug import registry
from mxplug.base import IndexingError, ShapeError
from mxplug.dispatch import backends_with_kernel
from mxplug.testing import assert_almost_equal, check_numeric_gradient
from mxplug.testing.cases import cases_for, check_case

from .conftest import REASON

OPS = [] if REASON else sorted(
    name for name in registry.all_ops() if "opencl" in backends_with_kernel(name)
)
RNG = np.random.default_rng(7)


def nd(x, ctx, dtype=None):
    return mx.nd.array(x, ctx=ctx, dtype=dtype if dtype is not None else np.asarray(x).dtype)


def test_kernels_cover_the_required_families():
    required = {"exp", "broadcast_add", "_plus_scalar", "where", "clip", "sum", "mean", "max", "min", "prod",
                "argmax", "argmin", "norm", "dot", "batch_dot", "Cast", "transpose", "Concat", "slice",
                "slice_axis", "take", "pick", "one_hot", "tile", "repeat", "reverse", "Pad", "gather_nd",
                "Reshape", "expand_dims", "Flatten"}
    assert required <= set(OPS)


# -- the shared cases: every registered kernel, small and large ---------------------------------------------
@pytest.mark.parametrize("op", OPS)
def test_kernel_matches_reference(op, ctx):
    cases = [c for c in cases_for(registry.get(op))]
    assert cases, f"no case for {op}"
    for case in cases:
        check_case(case, ctx)


# -- elementwise -------------------------------------------------------------------------------------------
UNARY_DOMAIN = {"log": (0.5, 3), "log10": (0.5, 3), "log2": (0.5, 3), "log1p": (0.5, 3), "sqrt": (0.5, 3),
                "rsqrt": (0.5, 3), "rcbrt": (0.5, 3), "reciprocal": (0.5, 3), "arcsin": (-0.9, 0.9),
                "arccos": (-0.9, 0.9), "arctanh": (-0.9, 0.9), "arccosh": (1.1, 3), "gamma": (0.5, 3),
                "gammaln": (0.5, 3), "erfinv": (-0.95, 0.95)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (3, 1001), (2, 3, 4)])
def test_unary_dtypes_and_shapes(ctx, dtype, shape):
    from mxplug_opencl.kernels.elemwise import UNARY

    for op in UNARY:
        lo, hi = UNARY_DOMAIN.get(op, (-2, 2))
        x = RNG.uniform(lo, hi, shape).astype(dtype).astype("float64")  # the device's inputs (tan near a pole)
        got = getattr(mx.nd, op)(nd(x, ctx, dtype)).asnumpy()
        want = getattr(mx.nd, op)(mx.nd.array(x, dtype="float64")).asnumpy()  # the float64 reference backend
        assert got.dtype == np.dtype(dtype), op
        assert_almost_equal(got, want, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-5, names=(op, "ref"))


def test_integer_unary_goes_through_float_and_truncates(ctx):
    x = np.array([-7, -1, 0, 1, 4, 9, 100], dtype=np.int32)
    for op, ref in [("sqrt", lambda v: np.sqrt(np.maximum(v, 0))), ("square", np.square), ("abs", np.abs),
                    ("sign", np.sign), ("negative", np.negative), ("exp", lambda v: np.exp(np.minimum(v, 10)))]:
        v = np.maximum(x, 0) if op == "sqrt" else (np.minimum(x, 10) if op == "exp" else x)
        got = getattr(mx.nd, op)(nd(v, ctx)).asnumpy()
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, ref(v.astype(np.float64)).astype(np.int32), err_msg=op)


BINARY_REF = {
    "broadcast_add": np.add, "broadcast_sub": np.subtract, "broadcast_mul": np.multiply,
    "broadcast_div": np.divide, "broadcast_power": np.power, "broadcast_maximum": np.maximum,
    "broadcast_minimum": np.minimum, "broadcast_hypot": np.hypot,
    "broadcast_mod": lambda a, b: np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b))),
    "broadcast_equal": np.equal, "broadcast_greater": np.greater, "broadcast_lesser_equal": np.less_equal,
    "broadcast_logical_xor": np.logical_xor,
}


@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (1, 5)), ((4, 1, 3), (5, 1)), ((3,), (2, 3)),
                                    ((2, 1, 3, 1), (1, 4, 1, 5))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_broadcast_binary(ctx, shapes, dtype):
    a = RNG.uniform(0.5, 2, shapes[0])
    b = RNG.uniform(0.5, 2, shapes[1])
    b.flat[0] = a.flat[0]  # one tie for the comparisons
    for op, ref in BINARY_REF.items():
        got = getattr(mx.nd, op)(nd(a, ctx, dtype), nd(b, ctx, dtype)).asnumpy()
        want = ref(a.astype(dtype).astype(np.float64), b.astype(dtype).astype(np.float64)).astype(np.float64)
        assert got.dtype == np.dtype(dtype)
        assert_almost_equal(got, want, rtol=1e-5, atol=1e-6, names=(op, "ref"))


def test_integer_division_and_mod_are_cs_and_never_trap(ctx):
    a = np.array([7, -7, 7, -7, 5, -2147483648, 3], dtype=np.int32)
    b = np.array([2, 2, -2, -2, 0, -1, -1], dtype=np.int32)
    div = (mx.nd.array(a, ctx=ctx, dtype="int32") / mx.nd.array(b, ctx=ctx, dtype="int32")).asnumpy()
    trunc = [int(x / y) if y else 0 for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    trunc[5] = -2147483648  # INT_MIN / -1 wraps, as two's complement does
    np.testing.assert_array_equal(div, np.array(trunc, dtype=np.int64).astype(np.int32))
    mod = (mx.nd.array(a, ctx=ctx, dtype="int32") % mx.nd.array(b, ctx=ctx, dtype="int32")).asnumpy()
    want = [x % y if y else 0 for x, y in zip(a.tolist(), b.tolist(), strict=True)]  # Python's: sign of y
    np.testing.assert_array_equal(mod, want)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_scalar_operators(ctx, dtype):
    x = RNG.uniform(1, 5, (3, 4)).astype(dtype)
    a = nd(x, ctx)
    xs = x.astype(np.float64)
    s = 1.5 if dtype != "int32" else 2.0
    cases = {
        "x + s": (a + s, xs + s), "x - s": (a - s, xs - s), "s - x": (s - a, s - xs), "x * s": (a * s, xs * s),
        "x ** s": (a ** s, xs ** s), "s ** x": (s ** a, s ** xs), "x > s": (a > s, xs > s),
        "x == s": (a == float(x.flat[0]), xs == xs.flat[0]), "x % s": (a % s, np.mod(xs, s)),
    }
    if dtype != "int32":
        cases |= {"x / s": (a / s, xs / s), "s / x": (s / a, s / xs)}
    for label, (got, want) in cases.items():
        assert got.dtype == np.dtype(dtype), label
        want = want.astype(dtype) if dtype == "int32" else want
        assert_almost_equal(got.asnumpy(), want, rtol=1e-5, atol=1e-5, names=(label, "ref"))


def test_integer_scalar_is_cast_or_promotes(ctx):
    x = mx.nd.array([1, 2, 3], ctx=ctx, dtype="int32")
    np.testing.assert_array_equal((x + 1.5).asnumpy(), [2, 3, 4])  # DType(1.5) == 1
    y = mx.nd._internal._plus_scalar(x, scalar=1.5, is_int=False)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.asnumpy(), [2.5, 3.5, 4.5])


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (0.2, -0.2), (-np.inf, 0.0)])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_clip(ctx, bounds, dtype):
    x = (RNG.uniform(-2, 2, (5, 6)) * (3 if dtype == "int32" else 1)).astype(dtype)
    lo, hi = bounds
    got = mx.nd.clip(nd(x, ctx), lo, hi).asnumpy()
    xs = x.astype(np.float64)
    with np.errstate(invalid="ignore"):
        want = np.where(xs > np.float32(hi), np.float64(np.float32(hi)).astype(dtype),
                        np.where(xs < np.float32(lo), np.float64(np.float32(lo)).astype(dtype), x))
    np.testing.assert_allclose(got, want.astype(dtype))


def test_nan_propagation(ctx):
    a = mx.nd.array([np.nan, 1.0, 2.0, 0.0], ctx=ctx)
    b = mx.nd.array([0.0, np.nan, 1.0, 0.0], ctx=ctx)
    np.testing.assert_array_equal(mx.nd.broadcast_maximum(a, b).asnumpy(), [np.nan, np.nan, 2.0, 0.0])
    np.testing.assert_array_equal(mx.nd.relu(a).asnumpy(), [np.nan, 1.0, 2.0, 0.0])
    np.testing.assert_array_equal(mx.nd.sign(a).asnumpy(), [0.0, 1.0, 1.0, 0.0])
    assert np.isnan(a.max().asscalar())
    assert mx.nd.argmax(a, axis=0).asscalar() == 0


def test_rounding_family(ctx):
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4999, -0.7])
    a = nd(x, ctx, "float64")
    np.testing.assert_array_equal(mx.nd.round(a).asnumpy(), np.trunc(x + np.copysign(0.5, x)))
    np.testing.assert_array_equal(mx.nd.rint(a).asnumpy(), np.where(x - np.floor(x) <= np.ceil(x) - x,
                                                                     np.floor(x), np.ceil(x)))
    np.testing.assert_array_equal(mx.nd.fix(a).asnumpy(), np.trunc(x))


def test_where_full_and_row_condition(ctx):
    x, y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    cond = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float32)
    got = mx.nd.where(nd(cond, ctx), nd(x, ctx, "float32"), nd(y, ctx, "float32")).asnumpy()
    assert_almost_equal(got, np.where(cond != 0, x, y), rtol=1e-6, atol=1e-6)
    rows = np.array([1.0, 0.0, 0.0, 2.0], dtype=np.float32)
    got = mx.nd.where(nd(rows, ctx), nd(x, ctx, "float32"), nd(y, ctx, "float32")).asnumpy()
    want = np.array([x[i] if rows[i] else y[i] for i in range(4)])
    assert_almost_equal(got, want, rtol=1e-6, atol=1e-6)


def test_add_n(ctx):
    xs = [RNG.normal(size=(3, 5)) for _ in range(4)]
    got = mx.nd.add_n(*[nd(x, ctx, "float32") for x in xs]).asnumpy()
    assert_almost_equal(got, sum(xs), rtol=1e-5, atol=1e-5)


# -- reductions --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), (1, 2), -1, (0, 1, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_axes_reductions(ctx, axis, keepdims, dtype):
    x = RNG.uniform(0.5, 1.5, (3, 4, 5))
    if dtype == "int32":
        x = RNG.integers(-9, 10, (3, 4, 5))
    x = x.astype(dtype)
    a = nd(x, ctx)
    ax = axis if axis is None or isinstance(axis, tuple) else (axis,)
    for op, ref in [("sum", np.sum), ("max", np.max), ("min", np.min), ("prod", np.prod), ("nansum", np.nansum)]:
        got = getattr(mx.nd, op)(a, axis=axis, keepdims=keepdims).asnumpy()
        wide = x.astype(np.int64 if dtype == "int32" else np.float64)  # integers wrap, as MXNet's do
        want = np.asarray(ref(wide, axis=ax, keepdims=keepdims))
        want = want.reshape(1) if want.ndim == 0 else want
        assert got.dtype == np.dtype(dtype), op
        assert_almost_equal(got, want.astype(dtype) if dtype == "int32" else want, rtol=1e-5, atol=1e-5,
                            names=(op, "ref"))
    got = mx.nd.mean(a, axis=axis, keepdims=keepdims).asnumpy()
    s = np.sum(x.astype(np.int64 if dtype == "int32" else np.float64), axis=ax, keepdims=keepdims)
    n = x.size // np.asarray(s).size
    want = np.trunc(s / n).astype(dtype) if dtype == "int32" else s / n
    assert_almost_equal(got, np.asarray(want).reshape(got.shape), rtol=1e-5, atol=1e-6)


def test_reduction_exclude_and_long_split(ctx):
    x = RNG.uniform(size=(2, 3, 4)).astype(np.float32)
    got = mx.nd.sum(nd(x, ctx), axis=1, exclude=True).asnumpy()
    assert_almost_equal(got, x.astype(np.float64).sum(axis=(0, 2)), rtol=1e-5, atol=1e-5)
    big = RNG.uniform(size=(300_001,)).astype(np.float32)  # split into partial folds and a second pass
    a = nd(big, ctx)
    assert_almost_equal(a.sum().asnumpy(), [big.astype(np.float64).sum()], rtol=1e-5)
    assert_almost_equal(a.max().asnumpy(), [big.max()], rtol=0)
    assert_almost_equal(mx.nd.mean(a).asnumpy(), [big.astype(np.float64).mean()], rtol=1e-5)
    tall = RNG.uniform(size=(100_000, 2)).astype(np.float32)
    assert_almost_equal(mx.nd.sum(nd(tall, ctx), axis=0).asnumpy(), tall.astype(np.float64).sum(0), rtol=1e-5)


@pytest.mark.parametrize("n", [1, 7, 31, 32, 33, 65, 4095, 8191, 8193, 100_003])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_contiguous_vector_fold(ctx, n, dtype):
    """The B == 1 fold (four vector accumulators, scalar tail): lengths around the 4x8-lane step and the split."""
    x = RNG.uniform(-1, 2, n).astype(dtype)
    a = nd(x, ctx)
    wide = x.astype(np.float64)
    for op, ref in [("sum", np.sum), ("mean", np.mean), ("nansum", np.nansum), ("max", np.max), ("min", np.min)]:
        assert_almost_equal(getattr(mx.nd, op)(a).asnumpy(), [ref(wide)], rtol=1e-5, atol=1e-5, names=(op, "ref"))
    rows = x[: n - n % 3].reshape(3, -1) if n >= 3 else x.reshape(1, -1)  # trailing reduced axis, A > 1
    assert_almost_equal(mx.nd.sum(nd(rows, ctx), axis=1).asnumpy(), rows.astype(np.float64).sum(1), rtol=1e-5,
                        atol=1e-5)
    y = x.copy()
    y[n // 2] = np.nan
    assert np.isnan(mx.nd.max(nd(y, ctx)).asnumpy()[0]) and np.isnan(mx.nd.sum(nd(y, ctx)).asnumpy()[0])
    assert_almost_equal(mx.nd.nansum(nd(y, ctx)).asnumpy(), [np.nansum(y.astype(np.float64))], rtol=1e-5, atol=1e-5)
    i = RNG.integers(-9, 10, n).astype(np.int32)
    assert mx.nd.sum(nd(i, ctx)).asnumpy()[0] == i.astype(np.int64).sum()


# (A, K, B) shapes for the by-columns fold (B of at least COLS_VECTORS vectors: full blocks and a partial one),
# with and without a split of K into partial folds (K >= 8192 with few work-items), A of 1 and more.
@pytest.mark.parametrize("shape,axis", [((37, 300), 0), ((9000, 300), 0), ((3, 50, 700), 1), ((2, 9000, 260), 1),
                                        ((5, 513), 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_column_fold(ctx, shape, axis, dtype):
    x = RNG.uniform(-1, 2, shape).astype(dtype)
    a = nd(x, ctx)
    wide = x.astype(np.float64)
    for op, ref in [("sum", np.sum), ("mean", np.mean), ("nansum", np.nansum), ("max", np.max), ("min", np.min),
                    ("prod", None)]:
        if op == "prod":  # values near 1, so the product neither overflows nor vanishes
            y = (1 + (x - 0.5) * 1e-3).astype(dtype)
            got, want = mx.nd.prod(nd(y, ctx), axis=axis).asnumpy(), np.prod(y.astype(np.float64), axis=axis)
        else:
            got, want = getattr(mx.nd, op)(a, axis=axis).asnumpy(), ref(wide, axis=axis)
        assert got.dtype == np.dtype(dtype)
        assert_almost_equal(got, want, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-4, names=(op, "ref"))
    assert_almost_equal(mx.nd.norm(a, axis=axis).asnumpy(), np.sqrt((wide ** 2).sum(axis)), rtol=1e-5)
    y = x.copy()
    y.reshape(-1)[[0, 260, 401, y.size - 1]] = np.nan  # NaN wins max/min in its column (block, tail, any fold)
    b = nd(y, ctx)
    for op in ("max", "min"):
        np.testing.assert_array_equal(getattr(mx.nd, op)(b, axis=axis).asnumpy(), getattr(np, op)(y, axis=axis))
    assert_almost_equal(mx.nd.nansum(b, axis=axis).asnumpy(), np.nansum(y.astype(np.float64), axis=axis),
                        rtol=1e-4, atol=1e-4)


# Long arg reductions (K >= ARG_SPLIT_MIN): contiguous rows in one vectorised pass per chunk (B == 1), other
# layouts as extremum, per-chunk first match, least position.
@pytest.mark.parametrize("shape,axis", [((100_003,), None), ((3, 20_001), 1), ((4, 8195), -1), ((20_000, 3), 0),
                                        ((2, 30_000, 5), 1), ((9000, 300), 0), ((8192,), 0)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_long_arg_reductions_find_the_first_occurrence(ctx, shape, axis, dtype):
    if dtype == "int32":  # few distinct values: many ties, so "first" is tested
        x = RNG.integers(-20, 20, shape).astype(dtype)
    else:
        x = RNG.standard_normal(shape).astype(dtype)
        x.reshape(-1)[[x.size // 3, x.size // 3 + 7]] = 10.0  # a tie for the maximum
    for with_nan in (False, True) if dtype != "int32" else (False,):
        if with_nan:
            x.reshape(-1)[[x.size // 2, 5, x.size - 1]] = np.nan  # the first NaN wins, as in NumPy
        a = mx.nd.array(x, ctx=ctx, dtype=dtype)
        for op in ("argmax", "argmin"):
            got = getattr(mx.nd, op)(a, axis=axis).asnumpy()
            want = np.asarray(getattr(np, op)(x, axis=axis)).reshape(got.shape)
            assert got.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(got.astype(np.int64), want, err_msg=f"{op} nan={with_nan}")


@pytest.mark.parametrize("ord_", [1, 2])
@pytest.mark.parametrize("axis", [None, 1, (0, 1)])
def test_norm(ctx, ord_, axis):
    x = RNG.normal(size=(3, 4, 2))
    got = mx.nd.norm(nd(x, ctx, "float32"), ord=ord_, axis=axis).asnumpy()
    ax = axis if axis is None or isinstance(axis, tuple) else (axis,)
    want = np.abs(x).sum(axis=ax) if ord_ == 1 else np.sqrt((x * x).sum(axis=ax))
    assert_almost_equal(got, np.asarray(want).reshape(got.shape), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_arg_reductions(ctx, op, axis, dtype):
    x = RNG.integers(0, 5, (4, 6)).astype(dtype)  # ties: the first index wins
    got = getattr(mx.nd, op)(nd(x, ctx), axis=axis).asnumpy()
    want = getattr(np, op)(x, axis=axis)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.asarray(want).reshape(got.shape))


def test_sum_to_like(ctx):
    x = RNG.normal(size=(2, 3, 4))
    got = mx.nd._internal._sum_to_like(nd(x, ctx, "float32"), mx.nd.zeros((3, 1), ctx=ctx)).asnumpy()
    assert_almost_equal(got, x.sum(axis=(0, 2)).reshape(3, 1), rtol=1e-5, atol=1e-5)


# -- data movement -------------------------------------------------------------------------------------------
def test_transpose_swap_flip(ctx):
    x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
    a = nd(x, ctx)
    np.testing.assert_array_equal(mx.nd.transpose(a, axes=(2, 0, 3, 1)).asnumpy(), x.transpose(2, 0, 3, 1))
    np.testing.assert_array_equal(mx.nd.transpose(a).asnumpy(), x.T)
    np.testing.assert_array_equal(mx.nd.swapaxes(a, 1, 3).asnumpy(), x.swapaxes(1, 3))
    np.testing.assert_array_equal(mx.nd.flip(a, axis=(1, 3)).asnumpy(), x[:, ::-1, :, ::-1])
    np.testing.assert_array_equal(mx.nd.reverse(a, axis=(1, 1)).asnumpy(), x)


@pytest.mark.parametrize("dtype", ["float64", "int64", "uint8", "bool"])
def test_movement_is_dtype_free(ctx, dtype):
    x = (RNG.integers(0, 2, (3, 4)) if dtype == "bool" else RNG.integers(0, 200, (3, 4))).astype(dtype)
    a = nd(x, ctx)
    np.testing.assert_array_equal(mx.nd.transpose(a).asnumpy(), x.T)
    np.testing.assert_array_equal(mx.nd.concat(a, a, dim=1).asnumpy(), np.concatenate([x, x], 1))
    np.testing.assert_array_equal(a.reshape((4, 3)).asnumpy(), x.reshape(4, 3))


@pytest.mark.parametrize("key", [
    ((1, None), (3, None), ()), ((None, None), (None, None), (2, -1)), ((2, 4), (0, 0), (-1, -2)),
    ((0,), (3,), (2,)),
])
def test_slice(ctx, key):
    x = RNG.normal(size=(4, 5)).astype(np.float32)
    begin, end, step = key
    got = mx.nd.slice(nd(x, ctx), begin=begin, end=end, step=step).asnumpy()
    want = mx.nd.slice(mx.nd.array(x), begin=begin, end=end, step=step).asnumpy()
    np.testing.assert_array_equal(got, want)


def test_slice_axis_like_and_indexing(ctx):
    x = RNG.normal(size=(4, 5, 6)).astype(np.float32)
    a = nd(x, ctx)
    np.testing.assert_array_equal(mx.nd.slice_axis(a, axis=1, begin=1, end=-1).asnumpy(), x[:, 1:-1])
    np.testing.assert_array_equal(mx.nd.slice_like(a, mx.nd.zeros((2, 5, 3), ctx=ctx), axes=(0, 2)).asnumpy(),
                                  x[:2, :, :3])
    np.testing.assert_array_equal(a[1:3, ::2, -1].asnumpy(), x[1:3, ::2, -1])
    b = a.copy()
    b[1, 2:4] = 7.0
    y = x.copy()
    y[1, 2:4] = 7.0
    np.testing.assert_array_equal(b.asnumpy(), y)
    b[0] = mx.nd.ones((5, 6), ctx=ctx)
    y[0] = 1
    np.testing.assert_array_equal(b.asnumpy(), y)


def test_broadcast_tile_repeat(ctx):
    x = RNG.normal(size=(2, 1, 3)).astype(np.float32)
    a = nd(x, ctx)
    np.testing.assert_array_equal(mx.nd.broadcast_to(a, shape=(2, 4, 3)).asnumpy(), np.broadcast_to(x, (2, 4, 3)))
    np.testing.assert_array_equal(mx.nd.broadcast_axis(a, axis=1, size=5).asnumpy(), np.broadcast_to(x, (2, 5, 3)))
    for reps in [(2,), (2, 1, 3), (3, 1, 1, 2)]:
        np.testing.assert_array_equal(mx.nd.tile(a, reps=reps).asnumpy(), np.tile(x, reps))
    for axis in [None, 0, 2, -1]:
        np.testing.assert_array_equal(mx.nd.repeat(a, repeats=3, axis=axis).asnumpy(), np.repeat(x, 3, axis=axis))


def test_concat_stack_split(ctx):
    xs = [RNG.normal(size=(2, k, 3)).astype(np.float32) for k in (1, 4, 2)]
    arrs = [nd(x, ctx) for x in xs]
    np.testing.assert_array_equal(mx.nd.concat(*arrs, dim=1).asnumpy(), np.concatenate(xs, 1))
    same = [nd(xs[0], ctx), nd(xs[0] * 2, ctx)]
    np.testing.assert_array_equal(mx.nd.stack(*same, axis=2).asnumpy(), np.stack([xs[0], xs[0] * 2], 2))
    y = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    parts = mx.nd.split(nd(y, ctx), num_outputs=3, axis=1)
    for got, want in zip(parts, np.split(y, 3, axis=1), strict=True):
        np.testing.assert_array_equal(got.asnumpy(), want)
    parts = mx.nd.split(nd(y[:, :3], ctx), num_outputs=3, axis=1, squeeze_axis=True)
    for i, got in enumerate(parts):
        np.testing.assert_array_equal(got.asnumpy(), y[:, i])


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_pad(ctx, mode):
    x = RNG.normal(size=(2, 2, 4, 5)).astype(np.float32)
    width = (0, 0, 0, 0, 1, 2, 3, 1)
    got = mx.nd.pad(nd(x, ctx), mode=mode, pad_width=width, constant_value=1.5).asnumpy()
    pairs = list(zip(width[::2], width[1::2], strict=True))
    want = np.pad(x, pairs, mode=mode, **({"constant_values": 1.5} if mode == "constant" else {}))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize("width", [(0, 0, 0, 0, 1, 2, 3, 1), (0, 0, 0, 0, 2, 0, 0, 3), (0, 0, 0, 0, 2, 2, 3, 1, 0, 2)])
def test_pad_gradient_on_the_device(ctx, mode, width):
    shape = (2, 2, 4, 5) if len(width) == 8 else (1, 2, 4, 5, 3)
    x = RNG.normal(size=shape)
    with mx.fallback("error"):  # Pad's gradient, _pad_backward, runs on the device
        check_numeric_gradient(lambda a: mx.nd.pad(a, mode=mode, pad_width=width), [x], ctx=ctx, rtol=1e-4)
        g = RNG.normal(size=tuple(n + width[2 * i] + width[2 * i + 1] for i, n in enumerate(shape)))
        got = mx.nd._pad_backward(nd(g, ctx), mode=mode, pad_width=width).asnumpy()
    # The truth: the adjoint of NumPy's pad, column by column of the identity.
    pairs = list(zip(width[::2], width[1::2], strict=True))
    basis = np.eye(x.size).reshape(x.size, *shape)
    padded = np.stack([np.pad(b, pairs, mode=mode) for b in basis]).reshape(x.size, -1)
    want = (padded @ g.reshape(-1)).reshape(shape)
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, shape, axes", [(0, (4, 5), (0, 1)), (2, (4, 5), (0, 1)), (-2, (3, 4, 5), (2, 0)),
                                          (1, (2, 3, 4), (-1, 1)), (0, (6,), (0, 1)), (-2, (3,), (0, 1))])
def test_diag_and_its_gradient(ctx, k, shape, axes):
    x = RNG.normal(size=shape)
    a1, a2 = axes
    with mx.fallback("error"):
        got = mx.nd.diag(nd(x, ctx), k=k, axis1=a1, axis2=a2).asnumpy()
        check_numeric_gradient(lambda a: mx.nd.diag(a, k=k, axis1=a1, axis2=a2), [x], ctx=ctx, rtol=1e-4)
    want = np.diag(x, k) if x.ndim == 1 else np.diagonal(x, k, a1, a2)
    np.testing.assert_array_equal(got, want)


def test_shape_and_size_arrays(ctx):
    a = nd(np.zeros((2, 3, 4), np.float32), ctx)
    with mx.fallback("error"):
        s, n = mx.nd.shape_array(a), mx.nd.size_array(a)
    assert s.context == ctx and s.dtype == np.int64 and s.asnumpy().tolist() == [2, 3, 4]
    assert n.asnumpy().tolist() == [24]


def test_depth_space_roundtrip(ctx):
    x = RNG.normal(size=(1, 8, 2, 3)).astype(np.float32)
    a = nd(x, ctx)
    d = mx.nd.depth_to_space(a, block_size=2)
    np.testing.assert_array_equal(d.asnumpy(), mx.nd.depth_to_space(mx.nd.array(x), block_size=2).asnumpy())
    np.testing.assert_array_equal(mx.nd.space_to_depth(d, block_size=2).asnumpy(), x)


# -- indexing ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take(ctx, mode, axis):
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    idx = np.array([[0, -1], [7, 2]], dtype=np.float32)
    got = mx.nd.take(nd(x, ctx), nd(idx, ctx), axis=axis, mode=mode).asnumpy()
    n = x.shape[axis]
    i = idx.astype(np.int64)
    i = np.clip(i, 0, n - 1) if mode == "clip" else i % n
    np.testing.assert_array_equal(got, np.take(x, i, axis=axis))


def test_take_raise(ctx):
    x = nd(np.zeros((3, 2), np.float32), ctx)
    with pytest.raises(IndexingError, match="index 3 is out of bounds"):
        mx.nd.take(x, nd(np.array([0, 3], np.float32), ctx), mode="raise")


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("mode", ["clip", "wrap"])
def test_pick(ctx, axis, keepdims, mode):
    x = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    shape = tuple(1 if i == axis % 3 else s for i, s in enumerate(x.shape))
    idx = RNG.integers(-2, 7, shape).astype(np.float32)
    got = mx.nd.pick(nd(x, ctx), nd(idx, ctx), axis=axis, keepdims=keepdims, mode=mode).asnumpy()
    n = x.shape[axis]
    i = idx.astype(np.int64)
    i = np.clip(i, 0, n - 1) if mode == "clip" else i % n
    want = np.take_along_axis(x, i, axis=axis)
    np.testing.assert_array_equal(got, want if keepdims else want.squeeze(axis))


@pytest.mark.parametrize("mode", ["clip", "wrap", "raise"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_take_gradient_adds_repeated_indices_on_the_device(ctx, mode, axis, dtype):
    x = RNG.normal(size=(3, 4, 5))
    n = x.shape[axis]
    idx = np.array([[0, 2, 2], [n - 1, 0, 2]], np.float32) if mode == "raise" else np.array([[0, -1, 2], [2, 9, 2]],
                                                                                            np.float32)
    g = RNG.normal(size=x.shape[:axis % 3] + idx.shape + x.shape[axis % 3 + 1:])
    with mx.fallback("error"):  # the gradient runs on the device, not through the CPU
        got = mx.nd._backward_take(nd(g, ctx, dtype), nd(idx, ctx), axis=axis, mode=mode, shape=x.shape).asnumpy()
    i = idx.astype(np.int64)
    i = i % n if mode == "wrap" else np.clip(i, 0, n - 1)
    want = np.zeros(x.shape)  # the float64 truth, one add per index in order
    ax = axis % 3
    for j, k in enumerate(i.reshape(-1)):
        src = np.take(g.reshape(x.shape[:ax] + (-1,) + x.shape[ax + 1:]), j, axis=ax)
        np.moveaxis(want, ax, 0)[k] += src
    assert got.dtype == np.dtype(dtype)
    assert_almost_equal(got, want, rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-6)
    with mx.fallback("error"):
        check_numeric_gradient(lambda a: mx.nd.take(a, nd(idx, ctx), axis=axis, mode=mode), [x], ctx=ctx, rtol=1e-4)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("mode", ["clip", "wrap"])
def test_pick_gradient_on_the_device(ctx, axis, mode):
    x = RNG.normal(size=(3, 4, 5))
    shape = tuple(s for i, s in enumerate(x.shape) if i != axis % 3)
    idx = RNG.integers(-2, 7, shape).astype(np.float32)
    with mx.fallback("error"):
        check_numeric_gradient(lambda a: mx.nd.pick(a, nd(idx, ctx), axis=axis, mode=mode), [x], ctx=ctx, rtol=1e-4)
        g = RNG.normal(size=shape)
        got = mx.nd._backward_pick(nd(g, ctx, "float64"), nd(idx, ctx), axis=axis, mode=mode, shape=x.shape)
    n = x.shape[axis]
    i = idx.astype(np.int64)
    i = np.clip(i, 0, n - 1) if mode == "clip" else i % n
    want = np.zeros(x.shape)
    np.put_along_axis(want, np.expand_dims(i, axis), np.expand_dims(g, axis), axis=axis)
    np.testing.assert_array_equal(got.asnumpy(), want)


@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_one_hot(ctx, dtype):
    idx = np.array([[0, 2], [5, -1]], dtype=np.float32)
    got = mx.nd.one_hot(nd(idx, ctx), depth=4, on_value=3.7, off_value=-1, dtype=dtype).asnumpy()
    want = np.where(idx[..., None].astype(np.int64) == np.arange(4), 3.7, -1.0)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want.astype(np.float64).astype(dtype) if dtype == "float32"
                               else np.where(want > 0, 3, -1))


def test_gather_nd(ctx):
    x = RNG.normal(size=(3, 4, 2)).astype(np.float32)
    idx = np.array([[0, 2, -1], [1, 3, 0]], dtype=np.int32)
    got = mx.nd.gather_nd(nd(x, ctx), nd(idx, ctx)).asnumpy()
    np.testing.assert_array_equal(got, x[idx[0], idx[1]])
    with pytest.raises(IndexingError):
        mx.nd.gather_nd(nd(x, ctx), nd(np.array([[5], [0]], np.int32), ctx))


def test_gather_nd_gradient_adds_repeats_on_the_device(ctx):
    x = RNG.normal(size=(3, 4, 2))
    idx = np.array([[0, 2, -1, 0], [1, 3, 0, 1]], dtype=np.int32)  # (0, 1) twice: its rows add up
    with mx.fallback("error"):
        check_numeric_gradient(lambda a: mx.nd.gather_nd(a, nd(idx, ctx)), [x], ctx=ctx, rtol=1e-4)
        g = RNG.normal(size=(4, 2))
        got = mx.nd._backward_gather_nd(nd(g, ctx), nd(idx, ctx), shape=x.shape).asnumpy()
        with pytest.raises(IndexingError, match="index 4 is out of bounds for axis 1"):
            mx.nd._backward_gather_nd(nd(g[:1], ctx), nd(np.array([[0], [4]], np.int32), ctx), shape=x.shape)
    want = np.zeros(x.shape)
    np.add.at(want, (idx[0], idx[1]), g)
    assert_almost_equal(got, want, rtol=1e-12, atol=1e-12)


def test_scatter_nd_and_fancy_assignment_on_the_device(ctx):
    data = RNG.normal(size=(4, 3))
    idx = np.array([[0, 1, 0, -2], [1, 2, 1, 0]], np.int32)  # (0, 1) twice: the later row is the one written
    with mx.fallback("error"):
        got = mx.nd.scatter_nd(nd(data, ctx), nd(idx, ctx), shape=(2, 3, 3)).asnumpy()
        unique = nd(np.array([[0, 1, 1, -2], [1, 2, 1, 0]], np.int32), ctx)  # the gradient (gather_nd) wants no repeats
        check_numeric_gradient(lambda d: mx.nd.scatter_nd(d, unique, shape=(2, 3, 3)), [data], ctx=ctx)
        x = nd(np.zeros((3, 4)), ctx)
        x[[0, 2, 0], [1, 3, 1]] = nd(np.array([5.0, 6.0, 7.0]), ctx)  # _scatter_set_nd
        with pytest.raises(IndexingError, match="index 3 is out of bounds for axis 0"):
            mx.nd.scatter_nd(nd(data, ctx), nd(np.array([[3, 0, 0, 0], [0, 0, 0, 0]], np.int32), ctx), shape=(2, 3, 3))
    want = np.zeros((2, 3, 3))
    for j in range(4):  # in order: a repeated point keeps the last row
        want[idx[0, j], idx[1, j]] = data[j]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x.asnumpy(), [[0, 7, 0, 0], [0, 0, 0, 0], [0, 0, 0, 6]])


# -- dot, both strategies ------------------------------------------------------------------------------------
@pytest.fixture(params=["host", "kernel"])
def dot_strategy(request):
    from mxplug_opencl.kernels.linalg import set_dot_strategy

    previous = set_dot_strategy(request.param)
    yield request.param
    set_dot_strategy(previous)


@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("batch, axis", [((), -2), ((2,), -2), ((2, 3), 1), ((2,), 0)])
def test_linalg_gemm(ctx, dot_strategy, ta, tb, batch, axis):
    M, K, N = 3, 4, 5

    def operand(rows, cols):  # matrices with rows along `axis`, columns along the last axis
        m = RNG.normal(size=(*batch, rows, cols))
        return np.moveaxis(m, -2, axis)

    a = operand(K, M) if ta else operand(M, K)
    b = operand(N, K) if tb else operand(K, N)
    mat = lambda m, t: np.swapaxes(np.moveaxis(m, axis, -2), -1, -2) if t else np.moveaxis(m, axis, -2)  # noqa: E731
    want2 = np.moveaxis(0.5 * (mat(a, ta) @ mat(b, tb)), -2, axis)  # the float64 truth
    c = RNG.normal(size=want2.shape)
    attrs = {"transpose_a": ta, "transpose_b": tb, "alpha": 0.5, "axis": axis}
    with mx.fallback("error"):
        got2 = mx.nd.linalg_gemm2(nd(a, ctx), nd(b, ctx), **attrs).asnumpy()
        got = mx.nd.linalg_gemm(nd(a, ctx), nd(b, ctx), nd(c, ctx), beta=-2.0, **attrs).asnumpy()
        check_numeric_gradient(lambda x, y, z: mx.nd.linalg_gemm(x, y, z, beta=-2.0, **attrs), [a, b, c], ctx=ctx,
                               rtol=1e-4)
    assert_almost_equal(got2, want2, rtol=1e-12, atol=1e-12)
    assert_almost_equal(got, want2 - 2.0 * c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((33, 17), (17, 20)), ((2, 3, 4), (4, 5)), ((4,), (4,)),
                                    ((4,), (4, 3))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot(ctx, dot_strategy, ta, tb, shapes, dtype):
    (sa, sb) = shapes
    if ta and len(sa) > 1:
        sa = sa[-1:] + sa[:-1] if len(sa) == 2 else (sa[-1],) + sa[:-1]
    if tb and len(sb) > 1:
        sb = sb[::-1]
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    if len(sa) == len(sb) == 1 and (ta or tb):  # MXNet refuses to transpose vectors: the same error here
        with pytest.raises(ShapeError, match="cannot transpose 1-D"):
            mx.nd.dot(nd(a, ctx, dtype), nd(b, ctx, dtype), transpose_a=ta, transpose_b=tb)
        return
    got = mx.nd.dot(nd(a, ctx, dtype), nd(b, ctx, dtype), transpose_a=ta, transpose_b=tb).asnumpy()
    want = mx.nd.dot(mx.nd.array(a, dtype="float64"), mx.nd.array(b, dtype="float64"), transpose_a=ta,
                     transpose_b=tb).asnumpy()
    assert got.dtype == np.dtype(dtype)
    assert_almost_equal(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_batch_dot(ctx, dot_strategy, ta, tb):
    a = RNG.normal(size=(3, 4, 5) if not ta else (3, 5, 4))
    b = RNG.normal(size=(3, 5, 6) if not tb else (3, 6, 5))
    got = mx.nd.batch_dot(nd(a, ctx, "float32"), nd(b, ctx, "float32"), transpose_a=ta, transpose_b=tb).asnumpy()
    want = np.matmul(a.transpose(0, 2, 1) if ta else a, b.transpose(0, 2, 1) if tb else b)
    assert_almost_equal(got, want, rtol=1e-4, atol=1e-5)


def test_dot_shape_error_is_inference(ctx):
    with pytest.raises(ShapeError):
        mx.nd.dot(mx.nd.ones((2, 3), ctx=ctx), mx.nd.ones((4, 5), ctx=ctx))


# -- casts and creation --------------------------------------------------------------------------------------
@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("float32", "float64"), ("int32", "float32"),
                                     ("float64", "uint8"), ("float32", "bool"), ("bool", "float32")])
def test_cast(ctx, src, dst):
    x = np.array([-0.0, 1.7, 2.2, 3.9, 0.0, 250.6]) if src != "bool" else np.array([0, 1, 1, 0])
    x = x.astype(src)
    got = mx.nd.cast(nd(x, ctx), dtype=dst).asnumpy()
    assert got.dtype == np.dtype(dst)
    np.testing.assert_array_equal(got, x.astype(dst))


def test_creation(ctx):
    np.testing.assert_array_equal(mx.nd.full((2, 3), 2.7, ctx=ctx, dtype="int32").asnumpy(), np.full((2, 3), 2))
    np.testing.assert_array_equal(mx.nd.ones((2,), ctx=ctx, dtype="uint8").asnumpy(), [1, 1])
    np.testing.assert_array_equal(mx.nd.arange(0, 3, repeat=2, ctx=ctx).asnumpy(), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(mx.nd.eye(2, 3, 1, ctx=ctx).asnumpy(), np.eye(2, 3, 1))
    z = mx.nd.zeros((0, 3), ctx=ctx)
    assert z.shape == (0, 3) and (z + 1).asnumpy().shape == (0, 3)


def test_erfinv_against_scipy_to_the_edges(ctx):
    from scipy import special  # the float64 truth (a dependency of the NumPy plugin)

    y = np.concatenate([np.linspace(-0.999999, 0.999999, 201), [0.0, 0.9999999999, -0.99999999999, 1e-300]])
    with mx.fallback("error"):
        got = mx.nd.erfinv(nd(y, ctx)).asnumpy()
        edges = mx.nd.erfinv(nd(np.array([1.0, -1.0, 1.5, np.nan]), ctx)).asnumpy()
    assert_almost_equal(got, special.erfinv(y), rtol=1e-10, atol=0)
    np.testing.assert_array_equal(edges[:2], [np.inf, -np.inf])
    assert np.isnan(edges[2:]).all()


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_polygamma_against_scipy(ctx, n):
    from scipy import special  # the float64 truth (a dependency of the NumPy plugin)

    x = np.array([-7.25, -2.5, -0.5, 1e-3, 0.5, 1.0, 3.7, 12.3, 25.0, 1e6])
    poles = np.array([0.0, -1.0, -3.0])
    with mx.fallback("error"):
        got = mx.nd._polygamma(nd(x, ctx), n=n).asnumpy()
        at_poles = mx.nd._polygamma(nd(poles, ctx), n=n).asnumpy()
        check_numeric_gradient(lambda a: mx.nd.gammaln(a), [np.array([0.7, 2.5, 9.0])], ctx=ctx)  # its digamma
    assert_almost_equal(got, special.polygamma(n, x), rtol=1e-10, atol=0)
    if n == 0:  # SciPy's digamma: -inf at 0, NaN at the negative integers
        assert at_poles[0] == -np.inf and np.isnan(at_poles[1:]).all()
    else:
        np.testing.assert_array_equal(at_poles, np.full(3, np.inf if n % 2 else -np.inf))
