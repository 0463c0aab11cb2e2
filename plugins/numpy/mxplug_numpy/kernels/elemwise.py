"""Elementwise kernels over an array module `xp` (NumPy, or CuPy through the same bodies).

The hot path gets bare ufuncs: where a ufunc already has MXNet's semantics for a dtype, the table holds the
ufunc itself. Where it does not, an entry is split by dtype — ``{FLOATS: fast, None: general}`` registers
`fast` for the float dtypes and `general` for the rest — because MXNet keeps integer dtypes where NumPy
promotes (`exp` of int32 is int32 in MXNet, computed in float64 and truncated; int32 / int32 truncates toward
zero; integer `power` and `hypot` go through float32, exactly as MXNet's kernels do).

Scalar kernels receive the scalar as a Python float (`fn(data, scalar=1.5)`). Python floats are "weak" next
to a float array (NEP 50), so `float32_array + 1.5` computes in float32 exactly as MXNet's `DType(scalar)`;
integer arrays cast the scalar to their dtype first (int32 + 1.5 adds 1) unless `is_int=False`.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable

import numpy as np

from mxplug.ops.elemwise import BINARY_FAMILIES

FLOATS = ("float16", "float32", "float64")
# scipy.special's ufuncs have no float16 loops: float16 goes through the general (float32) path.
FLOATS_32_64 = ("float32", "float64")

_BINARY_NAMES = BINARY_FAMILIES  # MXNet's four names per binary family, from the core


def by_dtype(fast: Callable, general: Callable, fast_dtypes: tuple[str, ...] = FLOATS) -> dict:
    """A dtype-split kernel entry: `fast` for `fast_dtypes`, `general` for every other dtype."""
    return {fast_dtypes: fast, None: general}


def make_kernels(xp) -> dict:
    quiet = _quiet(xp)
    table: dict = {}
    table.update(_unary_kernels(xp, quiet))
    binary = _binary_kernels(xp, quiet)
    for base, (bcast, same, scalar, rscalar) in _BINARY_NAMES.items():
        table[bcast] = table[same] = binary[base]
        table[scalar] = _scalar_kernel(xp, quiet, binary[base], reflected=False)
        if rscalar is not None:
            table[rscalar] = _scalar_kernel(xp, quiet, binary[base], reflected=True)
    table.update(_selection_kernels(xp, quiet))
    return table


# -- helpers -----------------------------------------------------------------------------------------------
def _quiet(xp) -> Callable[[], contextlib.AbstractContextManager]:
    """A context silencing floating-point warnings where the module has them (CuPy never warns)."""
    errstate = getattr(xp, "errstate", None)
    if errstate is None:
        return contextlib.nullcontext
    return lambda: errstate(all="ignore")


def _fast_part(entry):
    return entry[FLOATS] if isinstance(entry, dict) else entry


def _general_part(entry):
    return entry[None] if isinstance(entry, dict) else entry


def _special(xp, name: str) -> Callable:
    """`name` from scipy.special (NumPy) or cupyx.scipy.special (CuPy), imported on first call: importing
    scipy.special costs ~0.3 s, which `import mxplug` should not pay for operators it may never run."""
    module = "cupyx.scipy.special" if xp.__name__.split(".")[0] == "cupy" else "scipy.special"
    fn = None

    def call(*args):
        nonlocal fn
        if fn is None:
            fn = getattr(importlib.import_module(module), name)
        return fn(*args)

    call.__name__ = name
    return call


def _via_float(xp, quiet, fn: Callable, round_through=None) -> Callable:
    """Run a floating-point `fn` on any dtype and cast back, as MXNet does: float16 through float32 (for
    functions without a half-precision loop), integers through float64 — and, where MXNet's integer kernel
    works in float32 (power, hypot), rounded to `round_through` before the cast, as a correctly rounded float32
    function would give (NumPy's own float32 power is not correctly rounded)."""

    def kernel(*args, **attrs):
        dtype = args[0].dtype
        wide = xp.float32 if dtype == xp.float16 else xp.float64
        with quiet():  # NaN/inf → int casts are what MXNet's C casts give (INT_MIN), not errors
            out = fn(*(a.astype(wide) for a in args), **attrs)
            if round_through is not None and dtype != xp.float16:
                out = out.astype(round_through)
            return out.astype(dtype)

    return kernel


# -- unary ---------------------------------------------------------------------------------------------------
def _unary_kernels(xp, quiet) -> dict:
    def float_only(fn, fast_dtypes=FLOATS):
        return by_dtype(fn, _via_float(xp, quiet, fn), fast_dtypes)

    def exact_on_ints(fn):
        return by_dtype(fn, lambda x: x.copy())  # rounding an integer changes nothing

    def sign(x):
        return xp.nan_to_num(xp.sign(x), copy=False)  # MXNet's sign(NaN) is 0 (`a < 0 ? -1 : a > 0`)

    def round_half_away(x):
        # C's round(); x - trunc(x) is exact, so ties are detected exactly (no floor(x + 0.5) error at 0.49999…)
        t = xp.trunc(x)
        return xp.where(xp.abs(x - t) >= 0.5, t + xp.sign(x), t)

    def rint(x):
        # MXNet's rint: the nearer of floor and ceil, ties to floor (1.5 → 1, -1.5 → -2), not NumPy's half-even
        f, c = xp.floor(x), xp.ceil(x)
        return xp.where(x - f <= c - x, f, c)

    def sigmoid(x):
        e = xp.exp(-x)  # MXNet's formula, in place; large negative x overflows to inf and gives 0, as in MXNet
        e += 1
        return xp.reciprocal(e, out=e)

    def softsign(x):
        d = xp.abs(x)
        d += 1
        return xp.divide(x, d, out=d)

    special = {name: float_only(_special(xp, name), FLOATS_32_64) for name in ("erf", "erfinv", "gamma", "gammaln")}
    polygamma0, polygamma = _special(xp, "digamma"), _special(xp, "polygamma")

    def polygamma_n(x, *, n=0):
        # n as an array: cupyx's polygamma broadcasts its arguments as arrays (scipy's accepts either)
        return polygamma0(x) if n == 0 else polygamma(xp.asarray(n), x).astype(x.dtype)

    return {
        "abs": xp.abs,
        "negative": xp.negative,
        "sign": by_dtype(sign, xp.sign),
        "relu": lambda x: xp.maximum(x, 0),
        "logical_not": lambda x: xp.logical_not(x).astype(x.dtype),
        "round": exact_on_ints(round_half_away),
        "rint": exact_on_ints(rint),
        "ceil": exact_on_ints(xp.ceil),
        "floor": exact_on_ints(xp.floor),
        "trunc": exact_on_ints(xp.trunc),
        "fix": exact_on_ints(xp.trunc),
        "square": float_only(xp.square),
        "sqrt": float_only(xp.sqrt),
        "rsqrt": float_only(lambda x: xp.reciprocal(xp.sqrt(x))),
        "cbrt": float_only(xp.cbrt),
        "rcbrt": float_only(lambda x: xp.reciprocal(xp.cbrt(x))),
        "exp": float_only(xp.exp),
        "expm1": float_only(xp.expm1),
        "log": float_only(xp.log),
        "log10": float_only(xp.log10),
        "log2": float_only(xp.log2),
        "log1p": float_only(xp.log1p),
        "sin": float_only(xp.sin),
        "cos": float_only(xp.cos),
        "tan": float_only(xp.tan),
        "arcsin": float_only(xp.arcsin),
        "arccos": float_only(xp.arccos),
        "arctan": float_only(xp.arctan),
        "sinh": float_only(xp.sinh),
        "cosh": float_only(xp.cosh),
        "tanh": float_only(xp.tanh),
        "arcsinh": float_only(xp.arcsinh),
        "arccosh": float_only(xp.arccosh),
        "arctanh": float_only(xp.arctanh),
        "degrees": float_only(xp.rad2deg),
        "radians": float_only(xp.deg2rad),
        "reciprocal": float_only(xp.reciprocal),
        "sigmoid": float_only(sigmoid),
        "softsign": float_only(softsign),
        **special,
        "_polygamma": float_only(polygamma_n, FLOATS_32_64),
    }


# -- binary --------------------------------------------------------------------------------------------------
def _binary_kernels(xp, quiet) -> dict:
    """Kernels of the binary families by base name; each serves the broadcasting and same-shape operator."""

    def trunc_divide(a, b):
        # C's integer division (toward zero): a - fmod(a, b) is an exact multiple of b, so // is exact
        with quiet():
            q = xp.subtract(a, xp.fmod(a, b))
            return xp.floor_divide(q, b, out=q)

    def mod(a, b):
        # NumPy's floor-mod (sign of b) is MXNet's, except that MXNet gives 0 where b is 0
        with quiet():
            r = xp.mod(a, b)
        zero = b == 0
        if isinstance(zero, bool):  # a Python scalar divisor (`x % 3.0`)
            return xp.zeros_like(r) if zero else r
        return xp.where(zero, r.dtype.type(0), r)

    def compare(ufunc):
        return lambda a, b: ufunc(a, b).astype(a.dtype)  # 1/0 in the input dtype (a is always the array)

    return {
        "add": xp.add,
        "sub": xp.subtract,
        "mul": xp.multiply,
        "div": by_dtype(xp.divide, trunc_divide),
        "mod": mod,
        "power": by_dtype(xp.power, _via_float(xp, quiet, xp.power, round_through=xp.float32)),
        "maximum": xp.maximum,
        "minimum": xp.minimum,
        "hypot": by_dtype(xp.hypot, _via_float(xp, quiet, xp.hypot, round_through=xp.float32)),
        "equal": compare(xp.equal),
        "not_equal": compare(xp.not_equal),
        "greater": compare(xp.greater),
        "greater_equal": compare(xp.greater_equal),
        "lesser": compare(xp.less),
        "lesser_equal": compare(xp.less_equal),
        "logical_and": compare(xp.logical_and),
        "logical_or": compare(xp.logical_or),
        "logical_xor": compare(xp.logical_xor),
    }


def _scalar_kernel(xp, quiet, binary, *, reflected: bool):
    """The `_<op>_scalar` kernel (or `_r<op>_scalar` when reflected) from the binary family's kernel."""
    fast, general = _fast_part(binary), _general_part(binary)

    def order(fn):
        return (lambda d, s: fn(s, d)) if reflected else fn

    on_float, on_int = order(fast), order(general)

    def float_kernel(data, *, scalar, is_int=True):
        return on_float(data, scalar)

    def int_kernel(data, *, scalar, is_int=True):
        if not is_int:  # MXNet: an integer array with a non-integer scalar computes in float64
            return on_float(data.astype(xp.float64), scalar)
        with quiet():  # MXNet's DType(scalar): truncates, and wraps out-of-range values like a C cast
            cast = np.float64(scalar).astype(data.dtype)
        return on_int(data, cast)

    return by_dtype(float_kernel, int_kernel)


# -- clip, where, add_n --------------------------------------------------------------------------------------
def _selection_kernels(xp, quiet) -> dict:
    def clip(data, *, a_min, a_max):
        lo, hi = float(np.float32(a_min)), float(np.float32(a_max))  # MXNet's ClipParam holds float32 bounds
        if data.dtype.kind == "f" and lo <= hi:
            return xp.clip(data, lo, hi)
        # MXNet tests the upper bound first (x > a_max → a_max, elif x < a_min → a_min), which decides the
        # result when a_min > a_max; the comparisons are made in floating point, the results cast to the dtype.
        with quiet():
            lo_cast, hi_cast = np.float64(lo).astype(data.dtype), np.float64(hi).astype(data.dtype)
        return xp.where(data > hi, hi_cast, xp.where(data < lo, lo_cast, data))

    def where(condition, x, y):
        if condition.shape != x.shape:  # a 1-D condition picks whole rows: align it with axis 0
            condition = condition.reshape(condition.shape + (1,) * (x.ndim - 1))
        return xp.where(condition, x, y)

    def add_n(*args):
        if len(args) == 1:
            return args[0].copy()
        out = xp.add(args[0], args[1])
        for a in args[2:]:
            xp.add(out, a, out=out)
        return out

    return {"clip": clip, "where": where, "add_n": add_n}
