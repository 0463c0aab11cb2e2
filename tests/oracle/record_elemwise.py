"""MXNet 1.9 results for the elementwise family (see family_oracle.py); run with the oracle's Python to record.

Only behaviour where MXNet departs from NumPy, or is otherwise in doubt, is recorded: integer dtypes (unary
math truncated back to int, truncating division, float32 power/hypot), scalar casting and `is_int`, rounding
ties, NaN in sign/logical/maximum, mod by zero, clip's float32 bounds and inverted bounds, where's 1-D
condition, and gradients at ties and kinks. Everything with an obvious float64 reference, and every error, is
tested in tests/ops/test_elemwise.py instead.

Not here, on purpose: erfinv of integers outside [-1, 1] (a NaN cast to int: undefined in C, MXNet happens to
give 0, mxplug gives INT_MIN like the other NaN results) and integer division by zero (MXNet crashes).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

UNARY = (
    "abs", "sign", "round", "rint", "ceil", "floor", "trunc", "fix", "square", "sqrt", "rsqrt", "cbrt", "rcbrt",
    "exp", "expm1", "log", "log10", "log2", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
    "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "degrees", "radians", "reciprocal", "negative", "relu",
    "sigmoid", "softsign", "erf", "erfinv", "gamma", "gammaln", "logical_not",
)
SCALAR = (
    "_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar", "_div_scalar", "_rdiv_scalar", "_mod_scalar",
    "_rmod_scalar", "_power_scalar", "_rpower_scalar", "_maximum_scalar", "_minimum_scalar", "_hypot_scalar",
    "_equal_scalar", "_not_equal_scalar", "_greater_scalar", "_greater_equal_scalar", "_lesser_scalar",
    "_lesser_equal_scalar", "_logical_and_scalar", "_logical_or_scalar", "_logical_xor_scalar",
)
ROUNDING = ("round", "rint", "fix", "trunc", "ceil", "floor", "sign")
INT_BINARY = ("broadcast_div", "broadcast_mod", "broadcast_power", "broadcast_hypot", "broadcast_maximum")


def _grad(expr: str, *arrays: str) -> str:
    """A case computing d(sum of expr * head)/d(inputs) for float64 inputs a, b, …; r = the gradients."""
    names = "abcd"[: len(arrays)]
    lines = [f"{n} = mx.nd.array({v}, dtype='float64')\n{n}.attach_grad()" for n, v in zip(names, arrays, strict=True)]
    lines.append(f"with mx.autograd.record():\n    y = {expr}")
    lines.append("y.backward()")
    lines.append(f"r = [{', '.join(f'{n}.grad' for n in names)}]")
    return "\n".join(lines)


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    ints = "mx.nd.array([4, 9, -2, 0, 7], dtype='int32')"
    for op in UNARY:
        if op != "erfinv":  # see the module doc
            c[f"unary.int32.{op}"] = f"mx.nd.{op}({ints})"
    for dt in ("uint8", "int8", "int64"):
        for op in ("exp", "sqrt", "negative", "abs", "relu", "sign", "square", "logical_not", "degrees"):
            c[f"unary.{dt}.{op}"] = f"mx.nd.{op}(mx.nd.array([20, 3, 0, 100], dtype='{dt}'))"
    ties = "[1.5, -2.5, 0.5, -0.5, 2.5, 3.7, -0.4, 0.49999997, 123456789.5, np.nan, np.inf, -np.inf]"
    for dt in ("float32", "float64"):
        for op in ROUNDING:
            c[f"rounding.{dt}.{op}"] = f"mx.nd.{op}(mx.nd.array({ties}, dtype='{dt}'))"
    c["rounding.float16.rint"] = "mx.nd.rint(mx.nd.array([2.5, 3.5, -3.5, -0.5], dtype='float16'))"

    # Python operators and scalar operators on integer arrays (the scalar is cast to the dtype first).
    x = "mx.nd.array([1, 2, 3, -4], dtype='int32')"
    for name, expr in {
        "add_frac": "x + 1.5", "sub_frac": "x - 1.5", "mul_frac": "x * 1.5", "div": "x / 2", "rdiv": "1 / x",
        "rsub": "2 - x", "mod": "x % 3", "rmod": "3 % x", "pow_frac": "x ** 0.5", "rpow": "2 ** x",
        "gt_frac": "x > 1.5", "gt_neg_frac": "x > -1.5", "eq": "x == 2", "neg": "-x", "abs": "abs(x)",
        "div_neg": "x / -3", "mod_frac": "x % 2.5",
    }.items():
        c[f"pyop.int32.{name}"] = f"x = {x}\nr = {expr}"
    c["pyop.uint8.wrap"] = "x = mx.nd.array([1, 2], dtype='uint8')\nr = [x - 3, 5 - x]"
    c["pyop.int8.wrap"] = "mx.nd.array([1, 2], dtype='int8') * 100"
    c["pyop.int64.add_frac"] = "mx.nd.array([1, 2], dtype='int64') + 2.9"
    c["pyop.int32.exact"] = "mx.nd.array([16777217], dtype='int32') + 3"
    c["pyop.float16.add"] = "mx.nd.array([1.5, 2.5], dtype='float16') + 1.7"
    c["pyop.float32.mod_zero"] = "x = mx.nd.array([5., -5., 0.])\nr = [x % 0, 5 % x]"
    for op in SCALAR:
        for is_int in (True, False):
            c[f"scalar.int32.{op}.{is_int}"] = f"mx.nd._internal.{op}({x}, scalar=1.5, is_int={is_int})"
    c["scalar.float32.is_int"] = "mx.nd._internal._plus_scalar(mx.nd.array([1.0]), scalar=1.5, is_int=True)"
    c["scalar.default"] = "mx.nd._internal._plus_scalar(mx.nd.array([1], dtype='int32'))"
    c["scalar.float64.double"] = "mx.nd._internal._maximum_scalar(mx.nd.array([0.05], dtype='float64'), scalar=0.1)"

    # Binary operators on integers and special values.
    for dt in ("int32", "int64"):
        for op in INT_BINARY:
            c[f"binary.{dt}.{op}"] = (
                f"mx.nd.{op}(mx.nd.array([7, -7, 7, -5, 2, 3], dtype='{dt}'), "
                f"mx.nd.array([10, 2, -2, 3, -2, 4], dtype='{dt}'))"
            )
    c["binary.int32.hypot_float32"] = (
        "mx.nd.broadcast_hypot(mx.nd.array([33554433], dtype='int32'), mx.nd.array([0], dtype='int32'))"
    )
    c["binary.int32.mod_zero"] = (
        "mx.nd.broadcast_mod(mx.nd.array([5, -5], dtype='int32'), mx.nd.array([0, 0], dtype='int32'))"
    )
    c["binary.float32.mod_zero"] = "mx.nd.broadcast_mod(mx.nd.array([5., -5., 0.]), mx.nd.array([0., 0., 0.]))"
    c["binary.float32.mod_signs"] = (
        "mx.nd.broadcast_mod(mx.nd.array([5., -5., 7.5, -7.5, 3.]), mx.nd.array([3., 3., -2., -2., 2.]))"
    )
    nan2 = "mx.nd.array([np.nan, 2.0]), mx.nd.array([1.0, np.nan])"
    for op in ("broadcast_maximum", "broadcast_minimum", "broadcast_logical_and", "broadcast_logical_or",
               "broadcast_logical_xor", "broadcast_equal", "broadcast_not_equal"):
        c[f"binary.nan.{op}"] = f"mx.nd.{op}({nan2})"
    c["binary.nan.logical_not"] = "mx.nd.logical_not(mx.nd.array([np.nan, 0.0, -1.0]))"
    c["binary.nan.maximum_scalar"] = (
        "x = mx.nd.array([np.nan, 2.0])\n"
        "r = [mx.nd._internal._maximum_scalar(x, scalar=1.0), mx.nd._internal._maximum_scalar(x, scalar=np.nan)]"
    )
    c["binary.nan.relu_clip"] = "x = mx.nd.array([np.nan, -1.0, 5.0])\nr = [mx.nd.relu(x), mx.nd.clip(x, 0, 1)]"

    # clip and where
    c["clip.float64_bounds_are_float32"] = "mx.nd.clip(mx.nd.array([0.05, 0.3], dtype='float64'), 0.1, 0.2)"
    c["clip.inverted"] = "mx.nd.clip(mx.nd.array([0.5, 3.0, -1.0, 0.0, 2.0, 1.5]), 2.0, 1.0)"
    c["clip.int32"] = "mx.nd.clip(mx.nd.array([1, 5, -3], dtype='int32'), 0.5, 3.7)"
    c["clip.uint8_negative_bound"] = "mx.nd.clip(mx.nd.array([200, 3], dtype='uint8'), -1.0, 100.7)"
    xy = "mx.nd.array([[1, 2], [3, 4]]), mx.nd.array([[10, 20], [30, 40]])"
    c["where.same_shape"] = f"mx.nd.where(mx.nd.array([[1, 0], [0, 1]]), {xy})"
    c["where.rows"] = f"mx.nd.where(mx.nd.array([1, 0]), {xy})"
    c["where.int_condition"] = f"mx.nd.where(mx.nd.array([[1, 0], [0, 2]], dtype='int32'), {xy})"
    c["where.nan_condition"] = "mx.nd.where(mx.nd.array([np.nan, 0]), mx.nd.array([1, 2]), mx.nd.array([3, 4]))"

    # special functions at their poles and edges
    c["special.gamma"] = "mx.nd.gamma(mx.nd.array([-1, 0, -0.0, -0.5, 171.7, 0.5], dtype='float64'))"
    c["special.gammaln"] = "mx.nd.gammaln(mx.nd.array([-1, 0, -0.5, 1e6, 0.5], dtype='float64'))"
    c["special.erfinv"] = "mx.nd.erfinv(mx.nd.array([1, -1, 1.5, 0.5, 0], dtype='float64'))"

    # gradients at ties, kinks and poles
    c["grad.maximum_tie"] = _grad("mx.nd.broadcast_maximum(a, b)", "[1., 2., 3., -1.]", "[2., 2., 1., 0.5]")
    c["grad.minimum_tie"] = _grad("mx.nd.broadcast_minimum(a, b)", "[1., 2., 3., -1.]", "[2., 2., 1., 0.5]")
    c["grad.mod"] = _grad("mx.nd.broadcast_mod(a, b)", "[5., -5., 7.5, 3.]", "[3., 3., -2., 2.]")
    c["grad.power_zero"] = _grad("mx.nd.broadcast_power(a, b)", "[2., 0., 3.]", "[3., 2., 0.]")
    c["grad.hypot_zero"] = _grad("mx.nd.broadcast_hypot(a, b)", "[3., 0.]", "[4., 0.]")
    c["grad.maximum_scalar_tie"] = _grad("mx.nd._internal._maximum_scalar(a, scalar=2.0)", "[1., 2., 3.]")
    c["grad.minimum_scalar_tie"] = _grad("mx.nd._internal._minimum_scalar(a, scalar=2.0)", "[1., 2., 3.]")
    c["grad.clip_bounds"] = _grad("mx.nd.clip(a, 1.0, 2.0)", "[0.5, 1.0, 1.5, 2.0, 2.5]")
    c["grad.clip_inverted"] = _grad("mx.nd.clip(a, 2.0, 1.0)", "[0.5, 3.0, 1.5]")
    c["grad.abs_relu_sign_at_0"] = _grad("mx.nd.abs(a) + mx.nd.relu(b) + mx.nd.sign(c)", *["[-1., 0., 2.]"] * 3)
    c["grad.rmod"] = _grad("mx.nd._internal._rmod_scalar(a, scalar=7.0)", "[2., 3., -4.]")
    c["grad.rpower"] = _grad("mx.nd._internal._rpower_scalar(a, scalar=2.0)", "[2., 3., -4.]")
    c["grad.hypot_scalar"] = _grad("mx.nd._internal._hypot_scalar(a, scalar=3.0)", "[4., 0.]")
    c["grad.comparisons"] = _grad(
        "mx.nd.broadcast_equal(a, b) + mx.nd.broadcast_logical_and(a, b) + (a > 1) + mx.nd.logical_not(a)",
        "[0.3, 1.7]", "[1.0, 1.7]",
    )
    c["grad.where"] = _grad("mx.nd.where(c, a, b)", "[1., 2.]", "[3., 4.]", "[1., 0.]")
    c["grad.add_n"] = _grad("mx.nd.add_n(a, b, a)", "[1., 2.]", "[3., 4.]")
    c["grad.gamma"] = _grad("mx.nd.gamma(a) + mx.nd.gammaln(b)", "[0.5, 1.5, 3.0]", "[0.5, 1.5, 3.0]")

    return c


CASES: dict[str, str] = _cases()

# MXNet's digamma (behind gamma's gradient) is accurate to ~1e-6 relative; scipy's to machine precision.
_RTOL = {"grad.gamma": 1e-5}


def check_case(name: str, mx) -> None:
    check("elemwise", CASES, name, mx, _RTOL.get(name, 1e-6))


if __name__ == "__main__":
    record("elemwise", CASES)
