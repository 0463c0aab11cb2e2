"""Representative inputs for every registered operator: a small and a large case each, honouring domains.

The registry declares signatures, not example inputs; this module supplies them, so the generated asv
benchmarks (`benchmarks/bench_ops.py`), `mxplug bench --ops` and the backend conformance kit track a new
operator without anyone writing a case for it. Cases come from tables, most specific first:

1. `_BUILDERS` — operators whose inputs must agree with one another or with attributes (index operators,
   matrix operators, windows such as `slice`): a function per operator (or group) builds them.
2. Everything else gets same-shape float32 arrays for its inputs (three for a variadic input), drawn from
   the domain `_OP_DOMAINS` gives the operator (log → positive, arcsin → (-0.9, 0.9), …) or
   `_INPUT_DOMAINS` gives the input's name (sigma → positive, condition → 0/1), and required attributes
   from `_ATTR_VALUES` (by name) or their kind (bool → False, enum → first choice). Operators without
   inputs (creation and sampling) get their `shape`-like attributes from the case size.

An operator for which neither route works (an index-like input with no builder, a required attribute of
unknown meaning) gets no case and is listed by `uncovered()` with the reason — never silently dropped.

Results are checked by `check_case`: against a float64 NumPy reference (`_REFERENCES`, only where one is
short and obviously right), else against the NumPy (cpu) backend run in float64 on the same values, and for
random operators by shape and finiteness only.

>>> from mxplug import registry
>>> [c.size for c in cases_for(registry.get('exp'))]
['small', 'large']
>>> check_case(cases_for(registry.get('exp'))[0])
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..registry import OpSchema, all_ops

__all__ = ["Case", "SIZES", "EXCEPTIONS", "cases_for", "all_cases", "uncovered", "why_uncovered", "run_case",
           "expected", "check_case", "is_random"]

SIZES = ("small", "large")

# Generic input shape per size: small enough to measure per-call overhead, large enough to measure
# throughput (2^18 elements). Matrices are square so dot-like operators share the tables below.
_SHAPE = {"small": (3, 4), "large": (512, 512)}
_MATRIX = {"small": 4, "large": 256}
_BATCH = {"small": 2, "large": 16}
_IMAGE = {"small": (2, 4, 4, 4), "large": (16, 32, 32, 32)}  # NCHW
_VARIADIC_COUNT = 3

# -- domains --------------------------------------------------------------------------------------------
_ANY = (-1.0, 1.0)
_POSITIVE = (0.5, 2.0)
_OPEN_UNIT = (-0.9, 0.9)
_ABOVE_ONE = (1.1, 3.0)
_NEAR_ONE = (0.99, 1.01)  # long products stay representable
_PROBABILITY = (0.1, 0.9)
_BINARY = "binary"  # exact 0.0 / 1.0 values


def _every(names: Iterable[str], value: Any) -> dict[str, Any]:
    return dict.fromkeys(names, value)


# Per operator: input name (or "*" for all inputs) -> domain.
_OP_DOMAINS: dict[str, dict[str, Any]] = {
    **_every(("log", "log10", "log2", "log1p", "sqrt", "rsqrt", "rcbrt", "reciprocal", "gamma", "gammaln",
              "_rdiv_scalar", "_rmod_scalar"), {"*": _POSITIVE}),
    **_every(("arcsin", "arccos", "arctanh", "erfinv"), {"*": _OPEN_UNIT}),
    "arccosh": {"*": _ABOVE_ONE},
    **_every(("prod", "nanprod"), {"*": _NEAR_ONE}),
    **_every(("broadcast_div", "elemwise_div", "_div", "broadcast_mod", "_mod"), {"rhs": _POSITIVE}),
    **_every(("broadcast_power", "_power"), {"lhs": _POSITIVE}),
}

# By input name, for any operator.
_INPUT_DOMAINS: dict[str, Any] = {
    **_every(("sigma", "lam", "alpha", "beta", "k", "gamma", "moving_var", "var", "scale"), _POSITIVE),
    "p": _PROBABILITY, "low": (-1.0, 0.0), "high": (1.0, 2.0), "condition": _BINARY,
}

# Inputs that carry integers with a meaning (positions, classes, lengths): only a builder can make them.
_DISCRETE_INPUTS = frozenset({
    "indices", "index", "label", "sequence_length", "data_lengths", "label_lengths", "rois", "bins", "length",
})

# Required attributes by name (others: see `_required_attr`, which also derives sizes from the case).
_ATTR_VALUES: dict[str, Any] = {
    "scalar": 2.0, "num_outputs": 2, "repeats": 2, "reps": (2, 2), "a_min": -0.5, "a_max": 0.5,
    "value": 1.5, "dtype": "float16", "start": 0.0, "low": 0, "high": 10, "range_max": 1 << 20, "eta": 0.001,
    "eps": 1e-8,
}


def _axis_value(kind: str) -> Any:
    return (1,) if kind == "shape" else 1  # every generic input is 2-D


# -- the case -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One operator call: host inputs (schema order, a variadic input expanded last) and attributes.

    `discrete` holds the positions of integer-valued inputs (indices, labels): they keep their dtype when
    the case runs in another dtype and take no gradient. `reference` is a float64 NumPy function
    ``ref(*inputs, **parsed_attrs)`` or None.
    """

    op: str
    size: str
    inputs: tuple[np.ndarray | None, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    discrete: frozenset[int] = frozenset()
    reference: Callable[..., Any] | None = None
    random: bool = False
    grad_inputs: tuple[int, ...] = ()  # inputs a forward+backward pass differentiates (none: not differentiable)

    @property
    def label(self) -> str:
        return f"{self.op}[{self.size}]"

    def describe(self) -> str:
        """Shapes and attributes, e.g. ``dot[large] (256, 256) (256, 256)``: what the figure measures."""
        shapes = " ".join("-" if x is None else str(tuple(x.shape)) for x in self.inputs)
        attrs = " ".join(f"{k}={v}" for k, v in self.attrs.items())
        return " ".join(s for s in (self.label, shapes, attrs) if s)

    def arrays(self, ctx: Any = None, dtype: Any = None) -> list:
        """The inputs as NDArrays on `ctx`; with `dtype`, floating non-discrete inputs are cast to it."""
        from .. import ndarray as nd

        out = []
        for i, x in enumerate(self.inputs):
            if x is None:
                out.append(None)
                continue
            dt = x.dtype
            if dtype is not None and i not in self.discrete and np.issubdtype(dt, np.floating):
                dt = np.dtype(dtype)
            out.append(nd.array(x, ctx=ctx, dtype=dt))
        return out

    def function(self) -> Callable[..., Any]:
        from .. import ndarray as nd

        return getattr(nd.op, self.op)

    def kwargs(self, ctx: Any = None) -> dict[str, Any]:
        """The call's keyword arguments: the attributes, and the context for operators without inputs."""
        kwargs = dict(self.attrs)
        if not self.inputs and ctx is not None:
            kwargs["ctx"] = ctx
        return kwargs

    def call(self, arrays: list, ctx: Any = None) -> list:
        """Run the operator on prepared arrays; always a list of outputs."""
        out = self.function()(*arrays, **self.kwargs(ctx))
        return list(out) if isinstance(out, (list, tuple)) else [out]


def _rng(op: str, size: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{op}:{size}".encode()))


def _draw(rng: np.random.Generator, shape: tuple[int, ...], domain: Any) -> np.ndarray:
    if domain == _BINARY:
        return (rng.random(shape) < 0.5).astype("float32")
    lo, hi = domain
    return rng.uniform(lo, hi, size=shape).astype("float32")


def _floats(rng: np.random.Generator, *shapes: tuple[int, ...], domain: Any = _ANY) -> list[np.ndarray]:
    return [_draw(rng, s, domain) for s in shapes]


def _ints(rng: np.random.Generator, high: int, shape: tuple[int, ...], unique: bool = False) -> np.ndarray:  # noqa: FBT001
    """Integer-valued float32 indices in [0, high), MXNet's convention for index inputs."""
    if unique:
        return rng.permutation(high)[: int(np.prod(shape))].reshape(shape).astype("float32")
    return rng.integers(0, high, size=shape).astype("float32")


# -- builders for operators whose inputs must agree -----------------------------------------------------
class _Built:
    """What a builder returns: inputs (schema order), attributes, positions of discrete inputs."""

    __slots__ = ("inputs", "attrs", "discrete")

    def __init__(self, inputs: list, attrs: dict | None = None, discrete: Iterable[int] = ()) -> None:
        self.inputs, self.attrs, self.discrete = inputs, attrs or {}, frozenset(discrete)


Builder = Callable[[np.random.Generator, str], _Built]


def _near_identity(rng: np.random.Generator, n: int) -> np.ndarray:
    # Diagonally dominant with determinant near 1: invertible and representable at any size.
    return (np.eye(n) + rng.uniform(-0.5, 0.5, (n, n)) / n).astype("float32")


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.uniform(-1, 1, (n, n))
    return (a @ a.T / n + np.eye(n)).astype("float32")


def _lower(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.tril(_near_identity(rng, n)).astype("float32")


def _square(count: int, make: Callable[[np.random.Generator, int], np.ndarray] | None = None) -> Builder:
    def build(rng, size):
        n = _MATRIX[size]
        first = make(rng, n) if make else _floats(rng, (n, n))[0]
        return _Built([first, *_floats(rng, *[(n, n)] * (count - 1))])

    return build


def _batch_dot(rng, size):
    b, n = _BATCH[size], _MATRIX[size] // 4
    return _Built(_floats(rng, (b, n, n), (b, n, n)))


def _vector_to_matrix(triangle: bool) -> Builder:  # noqa: FBT001
    def build(rng, size):
        n = _MATRIX[size]
        return _Built(_floats(rng, (n * (n + 1) // 2 if triangle else n,)))

    return build


def _khatri_rao(rng, size):
    n = _MATRIX[size] // 16 or 2
    return _Built(_floats(rng, (3, n), (4, n), (2, n)))


def _take(rng, size):
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m, n)), _ints(rng, m, (max(2, m),))], {"axis": 0}, discrete=[1])


def _pick(rng, size):
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m, n)), _ints(rng, n, (m,))], {"axis": -1}, discrete=[1])


def _one_hot(rng, size):
    m, n = _SHAPE[size]
    return _Built([_ints(rng, n, (m,))], {"depth": n}, discrete=[0])


def _gather_nd(rng, size):
    m, n = _SHAPE[size]
    k = max(2, m)
    return _Built([*_floats(rng, (m, n)), np.stack([_ints(rng, m, (k,)), _ints(rng, n, (k,))])], discrete=[1])


def _scatter_nd(rng, size):
    m, n = _SHAPE[size]
    k = max(2, m)
    flat = _ints(rng, m * n, (k,), unique=True).astype(int)  # unique targets: no write races
    idx = np.stack([flat // n, flat % n]).astype("float32")
    return _Built([*_floats(rng, (k,)), idx], {"shape": (m, n)}, discrete=[1])


def _scatter_set_nd(rng, size):  # a copy of lhs with k distinct points replaced
    (m, n), built = _SHAPE[size], _scatter_nd(rng, size)
    return _Built([*_floats(rng, (m, n)), *built.inputs], built.attrs, discrete=[2])


def _backward_take(rng, size):  # take's gradient: (k, n) rows added into (m, n) at k row indices
    m, n = _SHAPE[size]
    k = max(2, m)
    return _Built([*_floats(rng, (k, n)), _ints(rng, m, (k,))], {"axis": 0, "shape": (m, n)}, discrete=[1])


def _backward_pick(rng, size):  # pick's gradient: one value per row placed at its column
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m,)), _ints(rng, n, (m,))], {"axis": -1, "shape": (m, n)}, discrete=[1])


def _batch_take(rng, size):
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m, n)), _ints(rng, n, (m,)).astype("int32")], discrete=[1])  # MXNet: int32


def _gather_along_axis(rng, size):  # out[i, j] = data[i, indices[i, j]]
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m, n)), _ints(rng, n, (m, max(2, n // 2)))], {"axis": 1}, discrete=[1])


def _scatter_add_along_axis(rng, size):  # the adjoint: (m, k) values added into (m, n) at indices
    m, n = _SHAPE[size]
    k = max(2, n // 2)
    return _Built([*_floats(rng, (m, k)), _ints(rng, n, (m, k))], {"axis": 1, "size": n}, discrete=[1])


def _ravel_multi_index(rng, size):
    m, n = _SHAPE[size]
    return _Built([np.stack([_ints(rng, m, (m,)), _ints(rng, n, (m,))])], {"shape": (m, n)}, discrete=[0])


def _unravel_index(rng, size):
    m, n = _SHAPE[size]
    return _Built([_ints(rng, m * n, (m,))], {"shape": (m, n)}, discrete=[0])


def _embedding(rng, size):
    m, n = _SHAPE[size]
    return _Built([_ints(rng, m, (m,)), *_floats(rng, (m, n))], {"input_dim": m, "output_dim": n}, discrete=[0])


def _backward_embedding(rng, size):  # Embedding's weight gradient: (k, n) rows summed into (m, n) by index
    m, n = _SHAPE[size]
    k = 2 * m  # more rows than the vocabulary: indices repeat
    return _Built([*_floats(rng, (k, n)), _ints(rng, m, (k,))], {"input_dim": m, "output_dim": n}, discrete=[1])


def _class_labels(rng, size):  # (data, label) pairs: softmax_cross_entropy, SoftmaxOutput …
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m, n)), _ints(rng, n, (m,))], discrete=[1])


def _class_labels_in_data_dtype(rng, size):  # label and data of one dtype, as MXNet requires here
    built = _class_labels(rng, size)
    return _Built(built.inputs, built.attrs)  # not discrete: cast with the data (exact for these class ids)


def _window(shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    m, n = shape
    return (0, n // 4), (max(1, m // 2), max(2, 3 * n // 4))


def _slice(rng, size):
    begin, end = _window(_SHAPE[size])
    return _Built(_floats(rng, _SHAPE[size]), {"begin": begin, "end": end})


def _slice_axis(rng, size):
    m, n = _SHAPE[size]
    return _Built(_floats(rng, (m, n)), {"axis": 1, "begin": 1, "end": n - 1})


def _slice_like(rng, size):
    m, n = _SHAPE[size]
    return _Built(_floats(rng, (m, n), (max(1, m // 2), max(1, n // 2))))


def _slice_assign(rng, size):
    begin, end = _window(_SHAPE[size])
    region = tuple(e - b for b, e in zip(begin, end, strict=True))
    return _Built(_floats(rng, _SHAPE[size], region), {"begin": begin, "end": end})


def _slice_assign_scalar(rng, size):
    begin, end = _window(_SHAPE[size])
    return _Built(_floats(rng, _SHAPE[size]), {"begin": begin, "end": end, "scalar": 2.0})


def _row_to(attrs: Callable[[int, int], dict]) -> Builder:
    """A (1, n) row and attributes saying how to broadcast it to (m, n)."""

    def build(rng, size):
        m, n = _SHAPE[size]
        return _Built(_floats(rng, (1, n)), attrs(m, n))

    return build


def _row_and_full(rng, size):  # broadcast_like(lhs=(1, n), rhs=(m, n)); _sum_to_like(data=(m, n), like=(1, n))
    m, n = _SHAPE[size]
    return _Built(_floats(rng, (1, n), (m, n)))


def _full_and_row(rng, size):
    m, n = _SHAPE[size]
    return _Built(_floats(rng, (m, n), (1, n)))


def _squeeze(rng, size):
    m, n = _SHAPE[size]
    return _Built(_floats(rng, (m, 1, n)))


def _image(attrs: dict, channels_mult: int = 1) -> Builder:
    def build(rng, size):
        b, c, h, w = _IMAGE[size]
        return _Built(_floats(rng, (b, c * channels_mult, h, w)), dict(attrs))

    return build


def _conv(transposed: bool) -> Builder:  # noqa: FBT001
    def build(rng, size):
        b, c, h, w = _IMAGE[size]
        f = c * 2
        weight = (c, f, 3, 3) if transposed else (f, c, 3, 3)
        data, wt, bias = _floats(rng, (b, c, h, w), weight, (f,))
        return _Built([data, wt, bias], {"kernel": (3, 3), "num_filter": f, "pad": (1, 1), "no_bias": False})

    return build


def _backward_conv(transposed: bool) -> Builder:  # noqa: FBT001
    """(output gradient, data, weight) of the `_conv` layer: pad 1 keeps the spatial size."""

    def build(rng, size):
        built = _conv(transposed)(rng, size)
        data, weight, _ = built.inputs
        ograd = _floats(rng, (data.shape[0], built.attrs["num_filter"], *data.shape[2:]))[0]
        return _Built([ograd, data, weight], built.attrs)

    return build


def _backward_pooling(rng, size):  # (output gradient, data, output) of a 2x2/2 max pooling
    b, c, h, w = _IMAGE[size]
    data = _floats(rng, (b, c, h, w))[0]
    output = data.reshape(b, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    return _Built([*_floats(rng, output.shape), data, output], {"kernel": (2, 2), "stride": (2, 2)})


def _fully_connected(rng, size):
    m, k = {"small": (3, 4), "large": (256, 512)}[size]
    hidden = {"small": 5, "large": 512}[size]
    return _Built(_floats(rng, (m, k), (hidden, k), (hidden,)), {"num_hidden": hidden})


def _channel_params(count: int, positive_last: bool = False) -> Builder:  # noqa: FBT001
    """NCHW data and `count` per-channel vectors (gamma, beta, moving mean, moving var …).

    GroupNorm gets one group per channel, where its per-group and per-channel parameters coincide.
    """

    def build(rng, size):
        b, c, h, w = _IMAGE[size]
        params = _floats(rng, *[(c,)] * count)
        if positive_last:
            params[-1] = _draw(rng, (c,), _POSITIVE)
        return _Built([*_floats(rng, (b, c, h, w)), *params], {"num_groups": c})

    return build


def _layer_norm(rng, size):
    m, n = _SHAPE[size]
    return _Built([*_floats(rng, (m, n)), _draw(rng, (n,), _POSITIVE), *_floats(rng, (n,))], {"axis": -1})


def _sequence(rng, size):  # (T, N, C) data and per-sequence lengths in [1, T]
    t, n, c = {"small": (4, 2, 3), "large": (64, 16, 128)}[size]
    lengths = (rng.integers(1, t + 1, size=(n,))).astype("float32")
    return _Built([*_floats(rng, (t, n, c)), lengths], {"use_sequence_length": True}, discrete=[1])


def _rnn(rng, size):  # a one-layer LSTM (T, N, I=H); large: the word-LM layer of the RNN benchmarks
    t, n, h = {"small": (3, 2, 3), "large": (35, 32, 200)}[size]
    data, params, state, cell = _floats(rng, (t, n, h), (4 * h * (2 * h + 2),), (1, n, h), (1, n, h))
    params *= 1.0 / np.sqrt(h)  # keeps the gates out of saturation at any size
    return _Built([data, params, state, cell], {"state_size": h, "num_layers": 1, "mode": "lstm"})


def _backward_rnn(rng, size):  # the LSTM above with output/state gradients and no reserve (recomputed)
    built = _rnn(rng, size)
    data, _, state, _ = built.inputs
    grads = _floats(rng, data.shape, state.shape, state.shape)
    return _Built([*built.inputs, None, np.zeros((0,), "float32"), *grads], built.attrs)


def _backward_norm(op: str) -> Builder:
    """(output gradient, data, gamma, saved mean, saved (inverse) std[, moving mean, moving var]) for the
    internal backward operator of the norm layer `op`, the statistics shaped as that layer saves them."""

    def build(rng, size):
        built = _BUILDERS[op](rng, size)
        data, gamma = built.inputs[:2]
        stat = {"BatchNorm": gamma.shape, "LayerNorm": (data.shape[0], 1)}.get(op, data.shape[:2])
        ograd, mean = _floats(rng, data.shape, stat)
        moving = built.inputs[3:] if op == "BatchNorm" else []
        return _Built([ograd, data, gamma, mean, _draw(rng, stat, _POSITIVE), *moving], built.attrs)

    return build


def _backward_sequence_last(rng, size):  # (output gradient (N, C), data (T, N, C), lengths)
    built = _sequence(rng, size)
    data = built.inputs[0]
    return _Built([_floats(rng, data.shape[1:])[0], *built.inputs], built.attrs, discrete=[2])


def _ctc(rng, size):  # activations (T, N, C), labels (N, L) in [1, C): class 0 is the blank
    t, n, c, length = {"small": (6, 2, 4, 2), "large": (64, 16, 32, 8)}[size]
    return _Built([*_floats(rng, (t, n, c)), _ints(rng, c - 1, (n, length)) + 1], discrete=[1])


def _same_shape_target(rng, size):  # regression outputs: a float target of the data's shape
    return _Built(_floats(rng, _SHAPE[size], (_SHAPE[size]), domain=_PROBABILITY))


def _roi_pooling(rng, size):
    b, c, h, w = _IMAGE[size]
    k = 2 * b
    corners = np.sort(rng.integers(0, h, size=(k, 2, 2)), axis=1).reshape(k, 4)  # x1 <= x2, y1 <= y2
    rois = np.concatenate([_ints(rng, b, (k, 1)), corners[:, [0, 2, 1, 3]]], axis=1).astype("float32")
    return _Built([*_floats(rng, (b, c, h, w)), rois], {"pooled_size": (2, 2), "spatial_scale": 1.0},
                  discrete=[1])


def _creation(attrs: Callable[[int, int], dict]) -> Builder:
    def build(rng, size):
        return _Built([], attrs(*_SHAPE[size]))

    return build


def _multinomial(rng, size):
    m, n = _SHAPE[size]
    p = rng.uniform(0.1, 1.0, (m, n))
    return _Built([(p / p.sum(axis=1, keepdims=True)).astype("float32")])


_BUILDERS: dict[str, Builder] = {
    **_every(("dot", "linalg_gemm2", "_linalg_gemm2"), _square(2)),
    **_every(("linalg_gemm", "_linalg_gemm"), _square(3)),
    **_every(("linalg_syrk", "linalg_extractdiag", "linalg_extracttrian", "linalg_gelqf"), _square(1)),
    **_every(("linalg_inverse", "linalg_det", "linalg_slogdet", "linalg_sumlogdiag"), _square(1, _near_identity)),
    "linalg_potrf": _square(1, _spd),
    "linalg_syevd": _square(1, _spd),
    "linalg_potri": _square(1, _lower),
    **_every(("linalg_trmm", "linalg_trsm"), _square(2, _lower)),
    "linalg_makediag": _vector_to_matrix(triangle=False),
    "linalg_maketrian": _vector_to_matrix(triangle=True),
    "khatri_rao": _khatri_rao,
    "batch_dot": _batch_dot,
    "take": _take, "batch_take": _batch_take, "pick": _pick, "choose_element_0index": _pick,
    "one_hot": _one_hot, "gather_nd": _gather_nd, **_every(("scatter_nd", "_backward_gather_nd"), _scatter_nd),
    "_scatter_set_nd": _scatter_set_nd, "_backward_take": _backward_take, "_backward_pick": _backward_pick,
    "_gather_along_axis": _gather_along_axis, "_scatter_add_along_axis": _scatter_add_along_axis,
    **_every(("ravel_multi_index", "_ravel_multi_index"), _ravel_multi_index),
    **_every(("unravel_index", "_unravel_index"), _unravel_index),
    "Embedding": _embedding,
    "SVMOutput": _class_labels,
    **_every(("softmax_cross_entropy", "SoftmaxOutput", "Softmax", "_backward_SoftmaxOutput"),
             _class_labels_in_data_dtype),
    "_backward_Embedding": _backward_embedding,
    **_every(("slice", "crop", "_slice_view"), _slice),
    "slice_axis": _slice_axis,
    "slice_like": _slice_like,
    **_every(("_slice_assign", "_crop_assign"), _slice_assign),
    **_every(("_slice_assign_scalar", "_crop_assign_scalar"), _slice_assign_scalar),
    **_every(("Reshape", "reshape"), lambda rng, size: _Built(_floats(rng, _SHAPE[size]), {"shape": (-1,)})),
    "broadcast_to": _row_to(lambda m, n: {"shape": (m, n)}),
    **_every(("broadcast_axis", "broadcast_axes"), _row_to(lambda m, n: {"axis": (0,), "size": (m,)})),
    "broadcast_like": _row_and_full,
    "_sum_to_like": _full_and_row,
    "squeeze": _squeeze,
    **_every(("SwapAxis", "swapaxes"), lambda rng, size: _Built(_floats(rng, _SHAPE[size]), {"dim1": 0, "dim2": 1})),
    "depth_to_space": _image({"block_size": 2}, channels_mult=4),
    "space_to_depth": _image({"block_size": 2}),
    **_every(("Pad", "pad"), _image({"mode": "constant", "pad_width": (0, 0, 0, 0, 1, 1, 2, 2)})),
    "_pad_backward": _image({"mode": "edge", "pad_width": (0, 0, 0, 0, 1, 1, 1, 1)}),
    "_split_v2": lambda rng, size: _Built(_floats(rng, _SHAPE[size]), {"indices": (0, 1), "axis": 1}),
    # the diagonal of an (m, n) matrix, and that matrix
    "_diag_backward": lambda rng, size: _Built(_floats(rng, (min(_SHAPE[size]),), _SHAPE[size])),
    "sample_multinomial": _multinomial,
    "_arange": _creation(lambda m, n: {"start": 0.0, "stop": float(m * n)}),
    "_linspace": _creation(lambda m, n: {"start": 0.0, "stop": 1.0, "num": m * n}),
    "moments": lambda rng, size: _Built(_floats(rng, _SHAPE[size]), {"axes": (1,)}),
    # neural-network operators
    "FullyConnected": _fully_connected,
    **_every(("Convolution", "Convolution_v1"), _conv(transposed=False)),
    "Deconvolution": _conv(transposed=True),
    "_backward_Convolution": _backward_conv(transposed=False),
    "_backward_Deconvolution": _backward_conv(transposed=True),
    "_backward_Pooling": _backward_pooling,
    "Pooling": _image({"kernel": (2, 2), "stride": (2, 2)}),
    **_every(("UpSampling",), _image({"scale": 2, "sample_type": "nearest", "num_args": 1})),
    "LRN": _image({"nsize": 3}),
    "im2col": _image({"kernel": (2, 2)}),
    "BatchNorm": _channel_params(4, positive_last=True),
    **_every(("InstanceNorm", "GroupNorm"), _channel_params(2)),
    "LayerNorm": _layer_norm,
    **_every(("SequenceMask", "SequenceLast", "SequenceReverse"), _sequence),
    **{f"_backward_{op}": _backward_norm(op) for op in ("BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm")},
    "_backward_LRN": lambda rng, size: _Built(_floats(rng, _IMAGE[size], _IMAGE[size]), {"nsize": 3}),
    "_backward_SequenceLast": _backward_sequence_last,
    **_every(("CTCLoss", "ctc_loss"), _ctc),
    **_every(("LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"), _same_shape_target),
    "ROIPooling": _roi_pooling,
    "RNN": _rnn,
    "_backward_RNN": _backward_rnn,
}


# -- references -----------------------------------------------------------------------------------------
def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda x, **_: fn(x)


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda a, b, **_: fn(a, b)


def _with_scalar(fn: Callable[[np.ndarray, float], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda x, scalar, **_: fn(x, scalar)


def _reduction(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """MXNet's reduction semantics: axis None = all, exclude inverts the axes, full reductions give (1,)."""

    def ref(x, axis=None, keepdims=False, exclude=False, **_):
        axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in axis)
        if exclude:
            axes = tuple(a for a in range(x.ndim) if a not in axes)
        out = fn(x, axis=axes, keepdims=keepdims)
        return out.reshape(1) if out.ndim == 0 else out

    return ref


def _compare(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    return lambda a, b, **_: fn(a, b).astype(a.dtype)  # MXNet: 1.0/0.0 in the input dtype


_REFERENCES: dict[str, Callable[..., Any]] = {
    **{name: _unary(fn) for name, fn in {
        "exp": np.exp, "expm1": np.expm1, "log": np.log, "log10": np.log10, "log2": np.log2, "log1p": np.log1p,
        "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x), "cbrt": np.cbrt, "rcbrt": lambda x: 1 / np.cbrt(x),
        "square": np.square, "reciprocal": lambda x: 1 / x, "negative": np.negative, "abs": np.abs,
        "sign": np.sign, "sin": np.sin, "cos": np.cos, "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos,
        "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh,
        "arccosh": np.arccosh, "arctanh": np.arctanh, "degrees": np.degrees, "radians": np.radians,
        "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "fix": np.trunc,
        "relu": lambda x: np.maximum(x, 0), "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "softsign": lambda x: x / (1 + np.abs(x)), "_copy": np.copy, "BlockGrad": np.copy,
        "zeros_like": np.zeros_like, "ones_like": np.ones_like,
    }.items()},
    **{name: _binary(fn) for name, fn in {
        "broadcast_add": np.add, "broadcast_sub": np.subtract, "broadcast_mul": np.multiply,
        "broadcast_div": np.divide, "broadcast_power": np.power, "broadcast_maximum": np.maximum,
        "broadcast_minimum": np.minimum, "broadcast_hypot": np.hypot,
    }.items()},
    **{name: _compare(fn) for name, fn in {
        "broadcast_equal": np.equal, "broadcast_not_equal": np.not_equal, "broadcast_greater": np.greater,
        "broadcast_greater_equal": np.greater_equal, "broadcast_lesser": np.less,
        "broadcast_lesser_equal": np.less_equal,
    }.items()},
    **{name: _with_scalar(fn) for name, fn in {
        "_plus_scalar": np.add, "_minus_scalar": np.subtract, "_rminus_scalar": lambda x, s: s - x,
        "_mul_scalar": np.multiply, "_div_scalar": np.divide, "_rdiv_scalar": lambda x, s: s / x,
        "_power_scalar": np.power, "_rpower_scalar": lambda x, s: s**x, "_maximum_scalar": np.maximum,
        "_minimum_scalar": np.minimum,
    }.items()},
    **{name: _reduction(fn) for name, fn in {
        "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    }.items()},
    "transpose": lambda x, axes=(), **_: np.transpose(x, axes or None),
    "dot": lambda a, b, transpose_a=False, transpose_b=False, **_: (a.T if transpose_a else a) @ (
        b.T if transpose_b else b),
    "_zeros": lambda shape, **_: np.zeros(shape),
    "_ones": lambda shape, **_: np.ones(shape),
    "_full": lambda shape, value, **_: np.full(shape, value),
    "_eye": lambda N, M=0, k=0, **_: np.eye(N, M or N, k),
}


# -- building a case ------------------------------------------------------------------------------------
EXCEPTIONS: dict[str, str] = {
    # Operators no case can be generated for, with the reason. tests/test_benchmarks.py checks that
    # uncovered() is exactly the registered subset of this table.
    "Custom": "runs a user-registered Python operator; there is none to benchmark",
    "cast_storage": "converts to sparse storage, which mxplug does not support",
    "_NoGradient": "a placeholder with no computation",
    "col2im": "its input shape is derived from output_size, kernel, stride and dilation together",
}


def _names(schema: OpSchema) -> tuple[str, ...]:
    return (schema.name, *schema.aliases)


def _lookup(table: Mapping[str, Any], schema: OpSchema) -> Any:
    for name in _names(schema):
        if name in table:
            return table[name]
    return None


def is_random(schema: OpSchema) -> bool:
    """Whether the operator's output is random (checked by shape and finiteness, not by value)."""
    names = _names(schema)
    return "_pdf_" not in schema.name and (schema.family == "random" or any(
        n.startswith(("_random_", "random_", "sample_", "_sample_")) or n in ("shuffle", "_shuffle", "Dropout")
        for n in names
    ))


def _required_attr(schema: OpSchema, name: str, size: str) -> Any:
    """A sensible value for a required attribute, or raise LookupError naming it."""
    spec = schema.attrs[name]
    if spec.kind == "shape" and name in ("shape", "size"):
        return _SHAPE[size]
    if name in ("N", "num"):
        return _SHAPE[size][0]
    if name == "stop":
        return float(_SHAPE[size][0])
    if name == "depth":
        return _SHAPE[size][1]
    if name == "axis":
        return _axis_value(spec.kind)
    if name in ("num_args", "num_arrays"):
        return _VARIADIC_COUNT
    if name in _ATTR_VALUES:
        return _ATTR_VALUES[name]
    if spec.kind == "bool":
        return False
    if spec.kind == "enum":
        return spec.choices[0]
    if spec.kind == "dtype":
        return "float32"
    raise LookupError(f"required attribute '{name}' ({spec.describe()}) has no generic value")


def _generic(schema: OpSchema, rng: np.random.Generator, size: str) -> _Built:
    """Same-shape float inputs in their domains; raises LookupError when that cannot be right."""
    shape = _SHAPE[size]
    op_domains = _lookup(_OP_DOMAINS, schema) or {}
    inputs = []
    for name in schema.inputs:
        if name in _DISCRETE_INPUTS:
            if name in schema.optional_inputs:
                inputs.append(None)
                continue
            raise LookupError(f"input '{name}' needs valid indices and there is no builder for it")
        if name in schema.optional_inputs and name != schema.variadic:
            inputs.append(None)  # the operator's own default (no bias, no mask …)
            continue
        domain = op_domains.get(name) or op_domains.get("*") or _INPUT_DOMAINS.get(name, _ANY)
        count = _VARIADIC_COUNT if name == schema.variadic else 1
        inputs.extend(_floats(rng, *[shape] * count, domain=domain))
    attrs = {}
    for name, spec in schema.attrs.items():
        if spec.required:
            attrs[name] = _required_attr(schema, name, size)
        elif not schema.inputs and name == "shape":
            attrs[name] = _SHAPE[size]  # creation and sampling: the case size is the output shape
    return _Built(inputs, attrs)


def why_uncovered(schema: OpSchema) -> str | None:
    """Why no case can be built for an operator, or None when one can."""
    if schema.name in EXCEPTIONS:
        return EXCEPTIONS[schema.name]
    try:
        _build(schema, "small")
    except LookupError as e:
        return str(e)
    return None


def _build(schema: OpSchema, size: str) -> Case:
    rng = _rng(schema.name, size)
    builder = _lookup(_BUILDERS, schema)
    built = builder(rng, size) if builder is not None else _generic(schema, rng, size)
    _fit_inputs(schema, built)
    attrs = {k: v for k, v in built.attrs.items() if k in schema.attrs}  # builders cover several spellings
    for name, spec in schema.attrs.items():
        if spec.required and name not in attrs:
            attrs[name] = _required_attr(schema, name, size)
    random = is_random(schema)
    grads = () if random or not schema.differentiable else tuple(
        i for i, (name, x) in enumerate(zip(_input_names(schema, len(built.inputs)), built.inputs, strict=True))
        if x is not None and i not in built.discrete and name not in schema.nondiff_inputs
    )
    return Case(
        op=schema.name, size=size, inputs=tuple(built.inputs), attrs=attrs, discrete=built.discrete,
        reference=None if random else _lookup(_REFERENCES, schema), random=random, grad_inputs=grads,
    )


def _fit_inputs(schema: OpSchema, built: _Built) -> None:
    """Pad a builder's inputs with None for trailing optional inputs; refuse a count the schema rejects."""
    fixed = [n for n in schema.inputs if n != schema.variadic]
    while len(built.inputs) < len(fixed) and fixed[len(built.inputs)] in schema.optional_inputs:
        built.inputs.append(None)
    if len(built.inputs) < len(fixed) or (schema.variadic is None and len(built.inputs) > len(fixed)):
        raise LookupError(f"the case builder gives {len(built.inputs)} inputs, the schema declares {schema.inputs}")


def _input_names(schema: OpSchema, count: int) -> list[str]:
    fixed = [n for n in schema.inputs if n != schema.variadic]
    return fixed + [schema.variadic or "?"] * (count - len(fixed))


def cases_for(schema: OpSchema) -> list[Case]:
    """The small and the large case of an operator, or [] when none can be built (see `uncovered`)."""
    if why_uncovered(schema) is not None:
        return []
    return [_build(schema, size) for size in SIZES]


def all_cases(size: str | None = None) -> list[Case]:
    """Every case of every registered operator (of one size when given), in name order."""
    out = []
    for name in sorted(all_ops()):
        out.extend(c for c in cases_for(all_ops()[name]) if size in (None, c.size))
    return out


def uncovered() -> dict[str, str]:
    """Registered operators without cases, each with the reason."""
    out = {}
    for name, schema in sorted(all_ops().items()):
        reason = why_uncovered(schema)
        if reason is not None:
            out[name] = reason
    return out


# -- running and checking -------------------------------------------------------------------------------
def run_case(case: Case, ctx: Any = None, dtype: Any = None) -> list[np.ndarray]:
    """Run a case on `ctx` (default: the current context), optionally with its float inputs in `dtype`."""
    return [o.asnumpy() for o in case.call(case.arrays(ctx, dtype), ctx)]


def expected(case: Case) -> list[np.ndarray]:
    """The float64 truth: the NumPy reference where there is one, else the cpu backend run in float64."""
    if case.reference is not None:
        from ..registry import get

        attrs = get(case.op).parse_attrs(dict(case.attrs))
        inputs = [None if x is None or i in case.discrete else x.astype("float64") for i, x in enumerate(case.inputs)]
        out = case.reference(*[x for x in inputs if x is not None], **attrs)
        return [np.asarray(o, dtype="float64") for o in (out if isinstance(out, (list, tuple)) else [out])]
    from ..context import cpu

    return [o.astype("float64") for o in run_case(case, cpu(), "float64")]


_RTOL = {np.dtype("float16"): 1e-2, np.dtype("float32"): 1e-4, np.dtype("float64"): 1e-7}


def _assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {want.shape}")
    rtol = _RTOL.get(got.dtype, 0.0)  # integer and bool results must match exactly
    # The absolute tolerance scales with the result's magnitude: a float32 sum of 2^18 terms is only as
    # accurate as its largest terms allow.
    atol = rtol * max(1.0, float(np.max(np.abs(want), initial=0.0)))
    g = got.astype("float64")
    bad = ~np.isclose(g, want, rtol=rtol, atol=atol)
    if bad.any():
        i = np.unravel_index(np.argmax(bad), bad.shape) if bad.ndim else ()
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} elements differ (rtol={rtol}, atol={atol:.3g}); "
            f"first at {i}: got {g[i]!r}, expected {want[i]!r}"
        )


def check_case(case: Case, ctx: Any = None) -> None:
    """Raise AssertionError unless the operator's result on `ctx` matches the float64 truth.

    Random operators are checked by output shape (against the cpu backend) and finiteness.
    """
    from ..context import cpu, current_context

    ctx = ctx or current_context()
    got = run_case(case, ctx)
    what = f"{case.label} on {ctx!r}"
    if case.random:
        shapes = [o.shape for o in run_case(case, cpu())] if ctx != cpu() else [o.shape for o in got]
        for k, o in enumerate(got):
            if o.shape != shapes[k]:
                raise AssertionError(f"{what}: output {k} has shape {o.shape}, the cpu backend gives {shapes[k]}")
            if np.issubdtype(o.dtype, np.floating) and not np.isfinite(o).all():
                raise AssertionError(f"{what}: output {k} has non-finite values")
        return
    want = expected(case)
    if len(got) != len(want):
        raise AssertionError(f"{what}: {len(got)} outputs, expected {len(want)}")
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        _assert_close(g, w, f"{what} output {k}")
