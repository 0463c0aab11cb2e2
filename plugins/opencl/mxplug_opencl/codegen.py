"""Kernel templates (Mako), one per class of operator, and the launchers that fill and cache them.

* `map_flat`    — out[i] = EXPR(inputs[i], s) over contiguous arrays of one shape; vectorised (8 lanes) where
                  the expression is valid on vector types and every operand is the compute type.
* `map_strided` — the same over any strided views: broadcasting, transposes, slices, flips, tiles, concatenation
                  (writes into a region of the output). Shapes are collapsed first, so most launches are 1-2-D.
* `reduce_axk`  — a reduction of an (A, K, B) view over K, split into partial results when K is long.
* `arg_reduce`  — argmax/argmin of an (A, K, B) view over K.
* `gemm`        — a tiled matrix product (batched, transposes as compile-time layouts).

Each (template, parameters) pair is compiled once per device and kept (PyOpenCL also caches binaries on disk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mako.template import Template

from mxplug.base import MXNetError

from . import runtime
from .runtime import CTYPES, CLArray, Device, ceil_div

_I64 = np.int64

# -- elementwise over contiguous arrays ------------------------------------------------------------------------
_MAP_FLAT = Template("""
% if vec:
${va.typedef(out_t, lanes)}
% endif
__kernel void ${name}(__global ${out_t}* out,
% for v, t, w in inputs:
    __global const ${t}* p_${v},
% endfor
% for v, t in scalars:
    ${t} ${v},
% endfor
    long n, long chunk)
{
    long i = get_global_id(0) * chunk;
    long e = min(i + chunk, n);
% if vec and stream:
    // Large outputs (well past the caches) bypass them: streaming stores skip reading each output line first.
    if ((((ulong)(out + i)) & 31) == 0) {
        for (; i + ${lanes} <= e; i += ${lanes}) {
% for v, t, w in inputs:
            ${w}${lanes} ${v} = ${va.load(w, lanes, 0, f"p_{v} + i")};
% endfor
            __builtin_nontemporal_store((${out_t}${lanes})(${expr}), (__global ${out_t}${lanes}*)(out + i));
        }
    }
% endif
% if vec:
    for (; i + ${lanes} <= e; i += ${lanes}) {
% for v, t, w in inputs:
        ${w}${lanes} ${v} = ${va.load(w, lanes, 0, f"p_{v} + i")};
% endfor
        ${va.store(out_t, lanes, expr, 0, "out + i")};
    }
% endif
    for (; i < e; i++) {
% for v, t, w in inputs:
        ${w} ${v} = (${w})p_${v}[i];
% endfor
        out[i] = (${out_t})(${expr});
    }
}
""")

# -- elementwise over strided views ----------------------------------------------------------------------------
# Work-item (row, c): `row` numbers the collapsed outer index space, c a chunk of the innermost axis.
_MAP_STRIDED = Template("""
__kernel void ${name}(__global ${out_t}* out, long o_off,
% for v, t, w in inputs:
    __global const ${t}* p_${v}, long ${v}_off,
% endfor
% for v, t in scalars:
    ${t} ${v},
% endfor
% for d in range(nd - 1):
    long n${d}, long o_s${d},${"".join(f" long {v}_s{d}," for v, t, w in inputs)}
% endfor
    long inner, long o_si,${"".join(f" long {v}_si," for v, t, w in inputs)} long chunk)
{
    long row = get_global_id(0);
    long j0 = get_global_id(1) * chunk;
    long j1 = min(j0 + chunk, inner);
    long r = row;
    long o = o_off;
% for v, t, w in inputs:
    long ${v}_o = ${v}_off;
% endfor
% for d in reversed(range(nd - 1)):
    {
        long q = r % n${d};
        r /= n${d};
        o += q * o_s${d};
% for v, t, w in inputs:
        ${v}_o += q * ${v}_s${d};
% endfor
    }
% endfor
    for (long j = j0; j < j1; j++) {
% for v, t, w in inputs:
        ${w} ${v} = (${w})p_${v}[${v}_o + j * ${v}_si];
% endfor
        out[o + j * o_si] = (${out_t})(${expr});
    }
}
""")

# -- reductions ----------------------------------------------------------------------------------------------
# Work-item (a * P + p, b) of an (A, K, B) fold split into P chunks of K: its coordinates and its chunk [k, k1).
_AXK_CHUNK = """    long ap = get_global_id(0);
    long b = get_global_id(1);
    long a = ap / P, p = ap % P;
    long k = p * kchunk;
    long k1 = min(k + kchunk, K);
"""
# Work-item (a * P + p, b) folds in[a, k, b] for k in chunk p of K; with P == 1 it also finalises.
_REDUCE = Template("""
% if vec:
${va.typedef(acc_t, lanes)}
% endif
#define MAP(v) (${map_expr})
#define COMBINE(acc, v) (${combine})
#define VCOMBINE(acc, v) (${vcombine})
__kernel void ${name}(__global ${out_t}* out, __global const ${in_t}* in,
                      long K, long B, long P, long kchunk, ${acc_t} count)
{
""" + _AXK_CHUNK + """    __global const ${in_t}* base = in + a * K * B + b;
    ${acc_t} acc = (${acc_t})(${identity});
% if vec:
    if (B == 1) {
        // Four independent vector accumulators: two leave the loop bound by the combine's latency (~19 GB/s).
        ${acc_t}${lanes} v0 = (${acc_t}${lanes})(${identity}), v1 = v0, v2 = v0, v3 = v0;
% if vnan:
        ${itype}${lanes} nan = 0;
% endif
        for (; k + ${4 * lanes} <= k1; k += ${4 * lanes}) {
            ${acc_t}${lanes} x0 = MAP(${va.load(acc_t, lanes, 0, 'base + k')});
            ${acc_t}${lanes} x1 = MAP(${va.load(acc_t, lanes, 1, 'base + k')});
            ${acc_t}${lanes} x2 = MAP(${va.load(acc_t, lanes, 2, 'base + k')});
            ${acc_t}${lanes} x3 = MAP(${va.load(acc_t, lanes, 3, 'base + k')});
            v0 = VCOMBINE(v0, x0);
            v1 = VCOMBINE(v1, x1);
            v2 = VCOMBINE(v2, x2);
            v3 = VCOMBINE(v3, x3);
% if vnan:
            nan |= (x0 != x0) | (x1 != x1) | (x2 != x2) | (x3 != x3);
% endif
        }
        v0 = VCOMBINE(VCOMBINE(v0, v1), VCOMBINE(v2, v3));
% for lane in "01234567"[:lanes]:
        acc = COMBINE(acc, v0.s${lane});
% endfor
% if vnan:
        if (any(nan))
            acc = (${acc_t})NAN;
% endif
    }
% endif
    for (; k < k1; k++) {
        ${acc_t} x = MAP((${acc_t})base[k * B]);
        acc = COMBINE(acc, x);
    }
% if final:
    out[ap * B + b] = (${out_t})(${final});
% else:
    out[ap * B + b] = acc;
% endif
}
""")

# The same fold when B (the kept inner extent) is long: work-item (a * P + p, c) folds columns
# [c * W, (c + 1) * W) of in[a, k, :] for k in chunk p of K, W = COLS_VECTORS vectors, so every row is read
# contiguously (one column per work-item strides through memory B elements at a time, a TLB miss per element;
# W = 256 floats keeps those to one per kilobyte).
_REDUCE_COLS = Template("""
${va.typedef(acc_t, lanes)}
% if out_t != acc_t:
${va.typedef(out_t, lanes)}
% endif
#define MAP(v) (${map_expr})
#define COMBINE(acc, v) (${combine})
#define VCOMBINE(acc, v) (${vcombine})
__kernel void ${name}(__global ${out_t}* out, __global const ${in_t}* in,
                      long K, long B, long P, long kchunk, ${acc_t} count)
{
    long ap = get_global_id(0);
    long b0 = get_global_id(1) * ${nv * lanes};
    long a = ap / P, p = ap % P;
    long k0 = p * kchunk;
    long k1 = min(k0 + kchunk, K);
    __global const ${in_t}* base = in + a * K * B;
    __global ${out_t}* o = out + ap * B;
    if (b0 + ${nv * lanes} <= B) {
        ${acc_t}${lanes} v[${nv}];
% if vnan:
        ${itype}${lanes} nan[${nv}];
% endif
        for (int j = 0; j < ${nv}; j++) {
            v[j] = (${acc_t}${lanes})(${identity});
% if vnan:
            nan[j] = 0;
% endif
        }
        for (long k = k0; k < k1; k++) {
            __global const ${in_t}* row = base + k * B + b0;
            for (int j = 0; j < ${nv}; j++) {
                ${acc_t}${lanes} x = MAP(${va.load(acc_t, lanes, "j", "row")});
                v[j] = VCOMBINE(v[j], x);
% if vnan:
                nan[j] |= (x != x);
% endif
            }
        }
        for (int j = 0; j < ${nv}; j++) {
% if vnan:
            ${acc_t}${lanes} acc = select(v[j], (${acc_t}${lanes})(NAN), nan[j]);
% else:
            ${acc_t}${lanes} acc = v[j];
% endif
% if out_t == acc_t:
            ${va.store(out_t, lanes, final or "acc", "j", "o + b0")};
% else:
            ${va.store(out_t, lanes, f"convert_{out_t}{lanes}({final or 'acc'})", "j", "o + b0")};
% endif
        }
    } else {
        long b = b0;
        for (; b + ${lanes} <= B; b += ${lanes}) {  // the last block's whole vectors, one at a time
            ${acc_t}${lanes} v = (${acc_t}${lanes})(${identity});
% if vnan:
            ${itype}${lanes} nan = 0;
% endif
            for (long k = k0; k < k1; k++) {
                ${acc_t}${lanes} x = MAP(${va.load(acc_t, lanes, 0, "base + k * B + b")});
                v = VCOMBINE(v, x);
% if vnan:
                nan |= (x != x);
% endif
            }
% if vnan:
            ${acc_t}${lanes} acc = select(v, (${acc_t}${lanes})(NAN), nan);
% else:
            ${acc_t}${lanes} acc = v;
% endif
% if out_t == acc_t:
            ${va.store(out_t, lanes, final or "acc", 0, "o + b")};
% else:
            ${va.store(out_t, lanes, f"convert_{out_t}{lanes}({final or 'acc'})", 0, "o + b")};
% endif
        }
        for (; b < B; b++) {
            ${acc_t} acc = (${acc_t})(${identity});
            for (long k = k0; k < k1; k++) {
                ${acc_t} x = MAP((${acc_t})base[k * B + b]);
                acc = COMBINE(acc, x);
            }
            o[b] = (${out_t})(${final or "acc"});
        }
    }
}
""")

_ARG_REDUCE = Template("""
__kernel void ${name}(__global ${out_t}* out, __global const ${in_t}* in, long K, long B)
{
    long a = get_global_id(0);
    long b = get_global_id(1);
    __global const ${in_t}* base = in + a * K * B + b;
    ${in_t} best = base[0];
    long at = 0;
    for (long k = 1; k < K; k++) {
        ${in_t} v = base[k * B];
        if (${better}) { best = v; at = k; }
    }
    out[a * B + b] = (${out_t})at;
}
""")

# Work-item (a * P + p, b): the first k in chunk p of K where in[a, k, b] equals best[a, b] (NaN: the first NaN),
# or K where the chunk has none; contiguous rows test a vector of elements per step.
_ARG_MATCH = Template("""
% if lanes > 1:
${va.typedef(in_t, lanes)}
% endif
__kernel void ${name}(__global long* out, __global const ${in_t}* in, __global const ${in_t}* best,
                      long K, long B, long P, long kchunk)
{
""" + _AXK_CHUNK + """    __global const ${in_t}* base = in + a * K * B + b;
    ${in_t} m = best[a * B + b];
    long found = K;
% if is_float:
    if (m != m) {  // NaN (PoCL calls isnan and any out of line: plain comparisons keep the loops tight)
        for (; k < k1; k++)
            if (base[k * B] != base[k * B]) { found = k; break; }
    } else
% endif
    {
% if lanes > 1:
        if (B == 1)
            for (; k + ${lanes} <= k1; k += ${lanes})
            {
                ${itype}${lanes} eq = ${va.load(in_t, lanes, 0, "base + k")} == m;
                if (${" | ".join(f"eq.s{c}" for c in "0123456789abcdef"[:lanes])})
                    break;
            }
% endif
        for (; k < k1; k++)
            if (base[k * B] == m) { found = k; break; }
    }
    out[ap * B + b] = found;
}
""")

# Contiguous rows (B == 1): work-item (a * P + p) keeps, per vector lane, the best value and its position over
# chunk p of K in one pass, then picks the best lane (the lower position on a tie) and runs the scalar tail;
# `arg_combine` then takes the best chunk of each row, the earlier on a tie. Comparisons are strict, so the first
# occurrence wins throughout (NaN: the first NaN, as NumPy).
_ARG_LANES = Template("""
${va.typedef(in_t, lanes)}
#define BETTER(v, best) (${better})
#define SAME(v, best) (${same})
__kernel void ${name}(__global ${in_t}* pval, __global long* pidx, __global const ${in_t}* in,
                      long K, long P, long kchunk)
{
    long ap = get_global_id(0);
    long a = ap / P, p = ap % P;
    long k0 = p * kchunk;
    long k = k0;
    long k1 = k0 + kchunk < K ? k0 + kchunk : K;
    __global const ${in_t}* base = in + a * K;
    ${in_t} best = base[k];
    long at = k;
    if (k + ${2 * lanes} <= k1) {
        ${in_t}${lanes} bv = ${va.load(in_t, lanes, 0, "base + k")};
        ${itype}${lanes} bi = (${itype}${lanes})(${", ".join(str(i) for i in range(lanes))});
        ${itype}${lanes} cur = bi;
        for (k += ${lanes}; k + ${lanes} <= k1; k += ${lanes}) {
            cur += ${lanes};
            ${in_t}${lanes} x = ${va.load(in_t, lanes, 0, "base + k")};
% if is_float:
            ${itype}${lanes} m = (x ${cmp} bv) | ((x != x) & (bv == bv));
% else:
            ${itype}${lanes} m = x ${cmp} bv;
% endif
            bv = m ? x : bv;
            bi = m ? cur : bi;
        }
        best = bv.s0;
        at = bi.s0;
% for lane in "0123456789abcdef"[1:lanes]:
        if (BETTER(bv.s${lane}, best) || (SAME(bv.s${lane}, best) && bi.s${lane} < at)) {
            best = bv.s${lane};
            at = bi.s${lane};
        }
% endfor
        at += k0;
    }
    for (; k < k1; k++) {
        ${in_t} v = base[k];
        if (BETTER(v, best)) { best = v; at = k; }
    }
    pval[ap] = best;
    pidx[ap] = at;
}

__kernel void arg_combine(__global ${out_t}* out, __global const ${in_t}* pval, __global const long* pidx, long P)
{
    long a = get_global_id(0);
    ${in_t} best = pval[a * P];
    long at = pidx[a * P];
    for (long p = 1; p < P; p++) {
        ${in_t} v = pval[a * P + p];
        if (BETTER(v, best)) { best = v; at = pidx[a * P + p]; }
    }
    out[a] = (${out_t})at;
}
""")

# -- matrix product --------------------------------------------------------------------------------------------
# C[z] (M x N) = A[z] (M x K) @ B[z] (K x N); A_AT/B_AT address an element of op(A)/op(B) in its buffer.
_GEMM = Template("""
#define TS ${ts}
#define A_AT(i, k) A[${"(k) * lda + (i)" if ta else "(i) * lda + (k)"}]
#define B_AT(k, j) B[${"(j) * ldb + (k)" if tb else "(k) * ldb + (j)"}]
__kernel __attribute__((reqd_work_group_size(TS, TS, 1)))
void ${name}(__global ${t}* C, __global const ${t}* A0, __global const ${t}* B0,
             long M, long N, long K, long lda, long ldb, long sa, long sb)
{
    long z = get_global_id(2);
    __global const ${t}* A = A0 + z * sa;
    __global const ${t}* B = B0 + z * sb;
    int li = get_local_id(0), lj = get_local_id(1);
    long i = get_group_id(0) * TS + li, j = get_group_id(1) * TS + lj;
    __local ${t} As[TS][TS];
    __local ${t} Bs[TS][TS];
    ${t} acc = 0;
    for (long k0 = 0; k0 < K; k0 += TS) {
        As[li][lj] = (i < M && k0 + lj < K) ? A_AT(i, k0 + lj) : (${t})0;
        Bs[li][lj] = (k0 + li < K && j < N) ? B_AT(k0 + li, j) : (${t})0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TS; kk++)
            acc += As[li][kk] * Bs[kk][lj];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (i < M && j < N)
        C[z * M * N + i * N + j] = acc;
}
""")


def lanes(ctype: str) -> int:
    """Vector width of one 256-bit register (AVX2): wider vectors change the ABI there and fail to link."""
    return 32 // _SIZES[ctype]


_SIZES = {"half": 2, "float": 4, "double": 8, "char": 1, "uchar": 1, "short": 2, "ushort": 2, "int": 4, "uint": 4,
          "long": 8, "ulong": 8}


# C helper functions an expression may call (an operator whose math needs statements, not one expression),
# defined in a program only when its source names them. REAL is double where the device has fp64.
_HELPERS = {
    "mx_erfinv": """
// Inverse error function: Giles' single-precision approximation as the first guess, then Newton steps on
// erf(x) = y in REAL, which make it as accurate as the device's erf.
REAL mx_erfinv(REAL y)
{
    if (isnan(y) || y < -1 || y > 1) return NAN;
    if (y == 1) return INFINITY;
    if (y == -1) return -INFINITY;
    REAL w = -log((1 - y) * (1 + y)), p;
    if (w < 5) {
        w -= 2.5;
        p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w; p = 1.50140941 + p * w;
    } else {
        w = sqrt(w) - 3;
        p = -0.000200214257;
        p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w; p = 2.83297682 + p * w;
    }
    // Refine on |y| (erfinv is odd): for |y| > 0.5 solve erfc(x) = 1 - |y| (exact there), which keeps its
    // precision as erf saturates near 1; d erf / dx = 2 / sqrt(pi) exp(-x^2).
    REAL a = fabs(y), x = p * a;
    for (int i = 0; i < 3; i++) {
        REAL slope = (REAL)1.1283791670955126 * exp(-x * x);
        x += a > 0.5 ? (erfc(x) - (1 - a)) / slope : (a - erf(x)) / slope;
    }
    return y < 0 ? -x : x;
}
""",
    "mx_polygamma": """
// Polygamma psi^(n)(x): the recurrence psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1) moves x up to
// x0 = 10 + n (any non-integer x, negative included), where the asymptotic series (Bernoulli numbers) converges
// to double precision. Poles (x a non-positive integer): -inf for n = 0 at 0 and NaN below (SciPy's digamma),
// (-1)^(n+1) inf for n >= 1.
REAL mx_polygamma(REAL x, int n)
{
    if (isnan(x)) return x;
    REAL sign = (n % 2 == 1) ? 1 : -1;  // (-1)^(n+1)
    if (x <= 0 && x == floor(x)) {
        if (n == 0) return x == 0 ? -INFINITY : NAN;
        return sign * INFINITY;
    }
    REAL nfact = 1;
    for (int k = 2; k <= n; k++) nfact *= k;
    REAL acc = 0, x0 = 10 + n;
    for (; x < x0; x += 1)
        acc += n == 0 ? -1 / x : sign * nfact / pown(x, n + 1);
    // B_2k / (2k)! for k = 1..7
    const REAL b[7] = {1.0 / 12, -1.0 / 720, 1.0 / 30240, -1.0 / 1209600, 1.0 / 47900160,
                       -691.0 / 1307674368000.0, 1.0 / 74724249600.0};
    REAL tail;
    if (n == 0) {
        tail = log(x) - 1 / (2 * x);
        REAL x2 = 1 / (x * x), p = x2;
        for (int k = 1; k <= 7; k++) { tail -= b[k - 1] * tgamma((REAL)(2 * k)) * p; p *= x2; }
    } else {
        REAL f = nfact / n;  // (n-1)!
        tail = f / pown(x, n) + nfact / (2 * pown(x, n + 1));
        REAL g = f, p = 1 / pown(x, n);  // g = (2k + n - 1)! built up as k grows
        for (int k = 1; k <= 7; k++) {
            g *= (REAL)(2 * k + n - 2) * (2 * k + n - 1);
            p /= x * x;
            tail += b[k - 1] * g * p;
        }
        tail *= sign;
    }
    return acc + tail;
}
""",
}


def helper_source(text: str, dev: Device) -> str:
    """The definitions of the helpers `text` (a kernel's source or expression) calls, for `dev`."""
    used = [src for name, src in _HELPERS.items() if name + "(" in text]
    if not used:
        return ""
    return f"#define REAL {'double' if dev.fp64 else 'float'}\n" + "".join(used)


class VectorAccess:
    """How a template loads and stores `n`-lane vectors at element-aligned addresses.

    OpenCL's vloadn/vstoren are the portable way; PoCL compiles them as out-of-line calls, which spill every
    accumulator around each load (a fold ran at half speed). On clang-based compilers (PoCL) a vector type
    typedef'd with the element's alignment is dereferenced instead: one unaligned load or store instruction."""

    def __init__(self, direct: bool) -> None:
        self.direct = direct

    def typedef(self, t: str, n: int) -> str:
        return f"typedef {t}{n} __attribute__((aligned({_SIZES[t]}))) {t}{n}_u;" if self.direct else ""

    def load(self, t: str, n: int, i, ptr: str) -> str:
        if self.direct:
            return f"(*(__global const {t}{n}_u*)(({ptr}) + ({i}) * {n}))"
        return f"vload{n}({i}, {ptr})"

    def store(self, t: str, n: int, value: str, i, ptr: str) -> str:
        if self.direct:
            return f"(*(__global {t}{n}_u*)(({ptr}) + ({i}) * {n}) = ({value}))"
        return f"vstore{n}({value}, {i}, {ptr})"


def vector_access(dev: Device) -> VectorAccess:
    return VectorAccess(dev.clang)


# -- operands ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class View:
    """A strided view of a CLArray, in elements: what strided kernels read or write."""

    arr: CLArray
    offset: int
    strides: tuple[int, ...]


def c_strides(shape: Sequence[int]) -> tuple[int, ...]:
    out, acc = [], 1
    for s in reversed(shape):
        out.append(acc)
        acc *= s
    return tuple(reversed(out))


def whole(arr: CLArray) -> View:
    return View(arr, 0, c_strides(arr.shape))


def broadcast_view(arr: CLArray, shape: Sequence[int]) -> View:
    """`arr` read as `shape` (NumPy broadcasting: leading axes added, size-1 axes stride 0)."""
    pad = len(shape) - arr.ndim
    st = c_strides(arr.shape)
    strides = [0] * pad + [0 if n == 1 and m != 1 else s for n, m, s in zip(arr.shape, shape[pad:], st, strict=True)]
    return View(arr, 0, tuple(strides))


def sliced_view(view: View, shape: Sequence[int], key: Sequence[slice]) -> tuple[View, tuple[int, ...]]:
    """The view of `view` (of `shape`) selected by Python slices, one per leading axis, and its shape."""
    offset, strides, out_shape = view.offset, list(view.strides), list(shape)
    for ax, sl in enumerate(key):
        start, stop, step = sl.indices(shape[ax])
        out_shape[ax] = len(range(start, stop, step))
        if out_shape[ax]:
            offset += start * strides[ax]
        strides[ax] *= step
    return View(view.arr, offset, tuple(strides)), tuple(out_shape)


def collapse(shape: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Drop size-1 axes and merge neighbours that every operand walks contiguously."""
    dims = [(n, [s[d] for s in strides]) for d, n in enumerate(shape) if n != 1]
    if not dims:
        return [1], [[0] for _ in strides]
    out = [dims[0]]
    for n, st in dims[1:]:
        pn, pst = out[-1]
        if all(p == s * n for p, s in zip(pst, st, strict=True)):
            out[-1] = (pn * n, st)
        else:
            out.append((n, st))
    return [n for n, _ in out], [[st[k] for _, st in out] for k in range(len(strides))]


# -- launchers -----------------------------------------------------------------------------------------------
Scalars = Sequence[tuple[str, str, float]]  # (variable, C type, value): kernel arguments, not literals


class FlatKernel:
    """A compiled `map_flat` kernel with its launch arguments laid out: the hot path of elementwise operators
    (one dictionary hit to find it, then only the buffer arguments set, and one enqueue)."""

    __slots__ = ("dev", "kernel", "stream", "_render", "_key", "_last", "_nbuf")

    def __init__(self, dev: Device, out_t: str, ins: tuple, expr: str, scal: tuple, vec: bool) -> None:
        va = vector_access(dev)

        def render(stream: bool):
            name = "map_flat"
            src = helper_source(expr, dev) + _MAP_FLAT.render(
                name=name, out_t=out_t, inputs=ins, scalars=scal, expr=expr, vec=vec, va=va, lanes=lanes(out_t),
                stream=stream)
            return src, name, [None] * (1 + len(ins)) + [np.dtype(_NP_OF[t]) for _, t in scal] + [_I64, _I64]

        self.dev = dev
        self._key = ("flat", out_t, ins, expr, scal, vec)
        self._render = render
        self.kernel = dev.kernel(self._key, lambda: render(False))
        # Streaming stores: CPU devices compiled by clang (PoCL) only, built on the first large launch.
        self.stream = None if vec and dev.is_cpu and dev.clang else False
        self._last = None  # (kernel, n, chunk, scalar values) last set on `kernel`: only the buffers change
        self._nbuf = 1 + len(ins)

    def _stream_kernel(self):
        if self.stream is None:
            try:
                self.stream = self.dev.kernel(self._key + ("stream",), lambda: self._render(True))
            except MXNetError:  # a compiler without the builtin: plain stores
                self.stream = False
        return self.stream

    def __call__(self, out: CLArray, *args) -> CLArray:
        """Launch over out's elements; `args` are the input buffers then the scalar values."""
        dev = self.dev
        buf = out.buf
        n = out.size
        if n <= 4096:  # one chunk: the common small case skips the chunk arithmetic
            if not n:
                return out  # an empty range: nothing to do, and OpenCL rejects it
            k, groups, chunk = self.kernel, 1, 4096
        else:
            groups, chunk = dev.chunking(n)
            k = self.kernel
            if n * out.dtype.itemsize >= STREAM_BYTES and self.stream is not False:
                k = self._stream_kernel() or k
        nb = self._nbuf
        state = (k, n, chunk, args[nb - 1:])
        with dev._lock:  # kernel objects are shared: arguments and launch must not interleave between threads
            if state == self._last:
                k.set_arg(0, buf)
                for i in range(1, nb):
                    k.set_arg(i, args[i - 1])
            else:
                k.set_args(buf, *args, n, chunk)
                self._last = state
            runtime.cl.enqueue_nd_range_kernel(dev._queue, k, (groups,), dev.flat_lsize)
        return out


# Outputs at least this large are written with streaming stores on CPU devices (far past a core's caches).
STREAM_BYTES = 16 << 20


def flat_kernel(dev: Device, out_dtype: np.dtype, inputs: Sequence[tuple[str, np.dtype, str]], expr: str, *,
                scalars: Sequence[tuple[str, str]] = (), vec: bool = False) -> FlatKernel:
    """The (cached) FlatKernel computing out = expr; `inputs`: (variable, dtype, compute C type),
    `scalars`: (variable, C type)."""
    out_t = CTYPES[out_dtype.name]
    ins = tuple((v, CTYPES[d.name], w) for v, d, w in inputs)
    vec = vec and all(t == w == out_t for _, t, w in ins) and dev.is_cpu
    key = ("flatk", out_t, ins, expr, tuple(scalars), vec)
    k = dev.prepared.get(key)
    if k is None:
        k = dev.prepared[key] = FlatKernel(dev, out_t, ins, expr, tuple(scalars), vec)
    return k


def map_flat(dev: Device, out: CLArray, inputs: Sequence[tuple[str, CLArray, str]], expr: str, *,
             scalars: Scalars = (), vec: bool = False) -> CLArray:
    """out[i] = expr over contiguous inputs of out's size. `inputs`: (variable, array, compute C type)."""
    k = flat_kernel(dev, out.dtype, [(v, a.dtype, w) for v, a, w in inputs], expr,
                    scalars=[(v, t) for v, t, _ in scalars], vec=vec)
    return k(out, *(a.buf for _, a, _ in inputs), *(x for _, _, x in scalars))


def map_strided(dev: Device, out: View, shape: Sequence[int], inputs: Sequence[tuple[str, View, str]], expr: str,
                *, scalars: Scalars = (), out_ctype: str | None = None) -> None:
    """out[idx] = expr(inputs[idx]) over the index space `shape`, every operand a strided view.
    `inputs`: (variable, view, compute C type); `out_ctype` overrides the output's storage type (bit copies)."""
    if 0 in shape:
        return
    dims, strides = collapse(shape, [out.strides, *(v.strides for _, v, _ in inputs)])
    nd = len(dims)
    out_t = out_ctype or CTYPES[out.arr.dtype.name]
    ins = tuple((name, w if out_ctype else CTYPES[v.arr.dtype.name], w) for name, v, w in inputs)
    scal = tuple((v, t) for v, t, _ in scalars)
    key = ("strided", nd, out_t, ins, expr, scal)

    def render():
        name = "map_strided"
        src = helper_source(expr, dev) + _MAP_STRIDED.render(name=name, out_t=out_t, inputs=ins, scalars=scal,
                                                             expr=expr, nd=nd)
        nin = len(ins)
        dtypes = [None, _I64] + [None, _I64] * nin + [np.dtype(_NP_OF[t]) for _, t in scal]
        dtypes += [_I64] * ((nd - 1) * (1 + 1 + nin) + 1 + 1 + nin + 1)
        return src, name, dtypes

    k = dev.kernel(key, render)
    inner = dims[-1]
    rows = 1
    for n in dims[:-1]:
        rows *= n
    if dev.is_cpu:
        chunk = max(1024, ceil_div(rows * inner, dev.compute_units * 8 * rows))
        chunks = ceil_div(inner, chunk)
    else:
        chunk, chunks = 1, inner
    args: list = [out.arr.buf, out.offset]
    for _, v, _ in inputs:
        args += [v.arr.buf, v.offset]
    args += [x for _, _, x in scalars]
    for d in range(nd - 1):
        args.append(dims[d])
        args += [st[d] for st in strides]
    args.append(inner)
    args += [st[-1] for st in strides]
    args.append(chunk)
    dev.launch(k, (rows, chunks), None, *args)


def copy_view(dev: Device, dst: View, src: View, shape: Sequence[int]) -> None:
    """dst[idx] = src[idx] bit for bit (one kernel per element size, whatever the dtype)."""
    u = _UTYPES_OF[src.arr.dtype.itemsize]
    map_strided(dev, dst, shape, [("a", src, u)], "a", out_ctype=u)


def fill_view(dev: Device, dst: View, shape: Sequence[int], value: float) -> None:
    """dst[idx] = value, converted to dst's dtype as C converts."""
    t = CTYPES[dst.arr.dtype.name]
    with np.errstate(all="ignore"):
        cast = np.array(np.float64(value)).astype(dst.arr.dtype).item()
    map_strided(dev, dst, shape, [], "s", scalars=[("s", t, cast)])


@dataclass(frozen=True)
class Reduction:
    """One fold: MAP each element (in the accumulator type), COMBINE, then FINAL (of `acc` and `count`)."""

    identity: str
    combine: str
    map_expr: str = "v"
    final: str = "acc"
    vcombine: str = ""  # the combine on 8-lane vectors ("" = not vectorisable)
    vnan: bool = False  # vcombine ignores NaN: the vector loop tracks NaN apart and the fold's result is NaN if any


def reduce_axk(dev: Device, out: CLArray, data: CLArray, A: int, K: int, B: int, red: Reduction, acc_t: str,
               count: float = 0.0) -> CLArray:
    """out (A*B elements) = FINAL(fold over k of MAP(data[a, k, b])) in accumulator type `acc_t`."""
    in_t, out_t = CTYPES[data.dtype.name], CTYPES[out.dtype.name]
    # Long rows (B of at least COLS_VECTORS vectors) fold by columns: each work-item reads W contiguous elements
    # per row (the last, partial block of columns one at a time).
    width = COLS_VECTORS * lanes(acc_t)
    by_cols = dev.is_cpu and bool(red.vcombine) and B >= width and acc_t in _VEC_ACC
    items = A * (ceil_div(B, width) if by_cols else B)  # work-items of one unsplit pass
    # Long folds with little parallelism around them are split into P partial folds, combined by a second pass.
    want = dev.compute_units * 8 if dev.is_cpu else 4096
    P = 1
    if K >= 8192 and items < want:
        P = max(1, min(ceil_div(want, items), K // 4096))
    kchunk = ceil_div(K, P) if K else 0
    if dev.is_cpu and B == 1 and P > 1:
        kchunk = ceil_div(kchunk, 16) * 16
        P = ceil_div(K, kchunk)
    vec = bool(red.vcombine) and dev.is_cpu and in_t == acc_t
    va = vector_access(dev)

    def kernel(src_t, dst_t, mapped, final):
        cols = by_cols and src_t == acc_t
        key = ("reduce", src_t, dst_t, acc_t, red, mapped, final, vec and mapped, cols)

        def render():
            name = "reduce_axk"
            template = _REDUCE_COLS if cols else _REDUCE
            src = template.render(name=name, in_t=src_t, out_t=dst_t, acc_t=acc_t, identity=red.identity, va=va,
                                  combine=red.combine, vcombine=red.vcombine or red.combine,
                                  map_expr=red.map_expr if mapped else "v",
                                  final=red.final if final else "", vec=vec and mapped, lanes=lanes(acc_t),
                                  vnan=red.vnan, itype=_VEC_ACC.get(acc_t), nv=COLS_VECTORS)
            return src, name, [None, None, _I64, _I64, _I64, _I64, np.dtype(_NP_OF[acc_t])]

        return dev.kernel(key, render), (ceil_div(B, width) if cols else B)

    if P == 1:
        k, nb = kernel(in_t, out_t, True, True)
        dev.launch(k, (A, nb), None, out.buf, data.buf, K, B, 1, K, count)
        return out
    partial = dev.alloc((A, P, B), np.dtype(_NP_OF[acc_t]))
    k, nb = kernel(in_t, acc_t, True, False)
    dev.launch(k, (A * P, nb), None, partial.buf, data.buf, K, B, P, kchunk, count)
    k, nb = kernel(acc_t, out_t, False, True)
    dev.launch(k, (A, nb), None, out.buf, partial.buf, P, B, 1, P, count)
    return out


COLS_VECTORS = 32  # vectors per work-item in the by-columns fold (256 floats, 1 KiB of each row)
# Accumulator types folded as vectors, with the integer type of their comparison masks.
_VEC_ACC = {"float": "int", "double": "long"}


def arg_reduce(dev: Device, out: CLArray, data: CLArray, A: int, K: int, B: int, better: str) -> CLArray:
    in_t, out_t = CTYPES[data.dtype.name], CTYPES[out.dtype.name]
    key = ("argreduce", in_t, out_t, better)

    def render():
        name = "arg_reduce"
        return _ARG_REDUCE.render(name=name, in_t=in_t, out_t=out_t, better=better), name, [None, None, _I64, _I64]

    dev.launch(dev.kernel(key, render), (A, B), None, out.buf, data.buf, K, B)
    return out


def arg_match(dev: Device, data: CLArray, best: CLArray, A: int, K: int, B: int, P: int) -> tuple[CLArray, int]:
    """((A, P, B) int64 first positions of best[a, b] in each of P chunks of K (K where absent), the chunk)."""
    in_t = CTYPES[data.dtype.name]
    kchunk = ceil_div(K, P)
    if B == 1:
        kchunk = ceil_div(kchunk, 16) * 16
    P = ceil_div(K, kchunk)
    vec = lanes(in_t) if dev.is_cpu and data.dtype.kind in "fi" and data.dtype.itemsize >= 4 else 1
    key = ("argmatch", in_t, vec, data.dtype.kind == "f")

    def render():
        name = "arg_match"
        itype = {1: "char", 2: "short", 4: "int", 8: "long"}[data.dtype.itemsize]  # the comparison mask type
        return (_ARG_MATCH.render(name=name, in_t=in_t, lanes=vec, is_float=data.dtype.kind == "f",
                                  va=vector_access(dev), itype=itype), name,
                [None, None, None, _I64, _I64, _I64, _I64])

    out = dev.alloc((A, P, B), np.dtype("int64"))
    dev.launch(dev.kernel(key, render), (A * P, B), None, out.buf, data.buf, best.buf, K, B, P, kchunk)
    return out, P


def arg_lanes(dev: Device, out: CLArray, data: CLArray, A: int, K: int, cmp: str, better: str, same: str
              ) -> CLArray:
    """argmax (cmp '>') or argmin ('<') along contiguous rows (A rows of K, 4- or 8-byte elements, a CPU device):
    one vectorised pass over P chunks per row, then a pass over the chunks (see `_ARG_LANES`)."""
    in_t, out_t = CTYPES[data.dtype.name], CTYPES[out.dtype.name]
    L = lanes(in_t)
    P = max(1, min(ceil_div(dev.compute_units * 8, A), K // 4096))
    kchunk = ceil_div(ceil_div(K, P), L) * L
    P = ceil_div(K, kchunk)
    itype = "int" if data.dtype.itemsize == 4 else "long"  # the comparison mask type of the element vectors
    key = ("arglanes", in_t, out_t, cmp, better, same)

    def render():
        src = _ARG_LANES.render(name="arg_lanes", in_t=in_t, out_t=out_t, cmp=cmp, better=better, same=same,
                                lanes=L, itype=itype, is_float=data.dtype.kind == "f", va=vector_access(dev))
        return src, "arg_lanes", [None, None, None, _I64, _I64, _I64]

    k = dev.kernel(key, render)
    combine = dev.prepared.get(key)
    if combine is None:  # the second kernel of the same program
        combine = dev.prepared[key] = runtime.cl.Kernel(k.program, "arg_combine")
        combine.set_scalar_arg_dtypes([None, None, None, _I64])
    pval = dev.alloc((A * P,), data.dtype)
    pidx = dev.alloc((A * P,), np.dtype("int64"))
    dev.launch(k, (A * P,), None, pval.buf, pidx.buf, data.buf, K, P, kchunk)
    dev.launch(combine, (A,), None, out.buf, pval.buf, pidx.buf, P)
    return out


def gemm(dev: Device, c: CLArray, a: CLArray, b: CLArray, batch: int, M: int, N: int, K: int, ta: bool, tb: bool
         ) -> CLArray:
    """c[z] = op(a[z]) @ op(b[z]) for z < batch, every operand contiguous (op transposes when ta/tb)."""
    t = CTYPES[c.dtype.name]
    ts = 16
    key = ("gemm", t, ta, tb, ts)

    def render():
        name = "gemm"
        return _GEMM.render(name=name, t=t, ta=ta, tb=tb, ts=ts), name, [None, None, None] + [_I64] * 7

    lda = M if ta else K
    ldb = K if tb else N
    g = (ceil_div(M, ts) * ts, ceil_div(N, ts) * ts, batch)
    dev.launch(dev.kernel(key, render), g, (ts, ts, 1), c.buf, a.buf, b.buf, M, N, K, lda, ldb, M * K, K * N)
    return c


_NP_OF = {"half": "float16", "float": "float32", "double": "float64", "char": "int8", "uchar": "uint8",
          "short": "int16", "ushort": "uint16", "int": "int32", "uint": "uint32", "long": "int64", "ulong": "uint64"}
_UTYPES_OF = {1: "uchar", 2: "ushort", 4: "uint", 8: "ulong"}
