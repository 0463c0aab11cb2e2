"""Kernel templates of the neural-network operators (Mako), one per class, and their launchers.

* `im2col` / `col2im`   — Convolution's columns (C*K, N*P) of an N-D input seen as 3-D (D, H, W); col2im is the
                          gather form of the adjoint (every input element sums the columns that read it: no
                          atomics, deterministic).
* `pool` / `pool_grad`  — windowed max/avg/sum/Lp over the same 3-D view; the gradient scatters each (n, c)
                          plane serially (max: to the first maximum of a window in row-major order, as MXNet).
* `softmax_axk`         — softmax/log-softmax/softmin over K of an (A, K, B) view (temperature, length mask).
* `softmax_output_grad` — SoftmaxOutput's cross-entropy gradient (smoothing, ignore_label, normalisation).
* `bn_forward` / `bn_backward` — per-channel statistics of an (A, C, D) view, the coefficients of the
                          elementwise pass, the gamma/beta gradients and the in-place moving-statistics update.
* `embedding_grad`      — the weight gradient, one work-item per column accumulating rows in index order.

Geometry enters as compile-time constants (#define): a layer's kernel is compiled once, and the compiler folds
the index arithmetic. Every template is keyed by its parameters in the device's kernel cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from mako.template import Template

from .runtime import CTYPES, CLArray, Device

_I64 = np.int64

# -- 3-D geometry shared by the convolution and pooling templates ------------------------------------------------
_GEOMETRY = """
#define C_ ${C}
#define ID ${x[0]}
#define IH ${x[1]}
#define IW ${x[2]}
#define OD ${o[0]}
#define OH ${o[1]}
#define OW ${o[2]}
#define KD ${k[0]}
#define KH ${k[1]}
#define KW ${k[2]}
#define SD ${s[0]}
#define SH ${s[1]}
#define SW ${s[2]}
#define PD ${p[0]}
#define PH ${p[1]}
#define PW ${p[2]}
#define DD ${d[0]}
#define DH ${d[1]}
#define DW ${d[2]}
#define KK (KD * KH * KW)
#define PP (OD * OH * OW)
"""

# Work-item (c * KK + tap, od * OH + oh): one output row of one tap, for every image (few, long work-items:
# CPU runtimes pay per work-group).
_IM2COL = Template(_GEOMETRY + """
__kernel void im2col(__global ${t}* cols, __global const ${t}* x, long N)
{
    long row = get_global_id(0), dh = get_global_id(1);
    long c = row / KK, tap = row % KK;
    long kd = tap / (KH * KW), kh = (tap / KW) % KH, kw = tap % KW;
    long od = dh / OH, oh = dh % OH;
    long id = od * SD - PD + kd * DD, ih = oh * SH - PH + kh * DH;
    int inside = id >= 0 && id < ID && ih >= 0 && ih < IH;
    for (long n = 0; n < N; n++) {
        __global ${t}* dst = cols + row * N * PP + n * PP + dh * OW;
        if (!inside) {
            for (long ow = 0; ow < OW; ow++) dst[ow] = 0;
            continue;
        }
        __global const ${t}* src = x + ((n * C_ + c) * ID + id) * IH * IW + ih * IW;
        for (long ow = 0; ow < OW; ow++) {
            long iw = ow * SW - PW + kw * DW;
            dst[ow] = (iw >= 0 && iw < IW) ? src[iw] : (${t})0;
        }
    }
}
""")

# Work-item (n * C + c, id * IH + ih): one input row, each element the sum of the columns that read it.
_COL2IM = Template(_GEOMETRY + """
__kernel void col2im(__global ${t}* dx, __global const ${t}* cols, long N)
{
    long nc = get_global_id(0), dh = get_global_id(1);
    long n = nc / C_, c = nc % C_;
    long id = dh / IH, ih = dh % IH;
    for (long iw = 0; iw < IW; iw++) {
        ${acc} acc = 0;
        for (long kd = 0; kd < KD; kd++) {
            long td = id + PD - kd * DD;
            if (td < 0 || td % SD || td / SD >= OD) continue;
            for (long kh = 0; kh < KH; kh++) {
                long th = ih + PH - kh * DH;
                if (th < 0 || th % SH || th / SH >= OH) continue;
                for (long kw = 0; kw < KW; kw++) {
                    long tw = iw + PW - kw * DW;
                    if (tw < 0 || tw % SW || tw / SW >= OW) continue;
                    long row = c * KK + (kd * KH + kh) * KW + kw;
                    long p = ((td / SD) * OH + th / SH) * OW + tw / SW;
                    acc += cols[row * N * PP + n * PP + p];
                }
            }
        }
        dx[(nc * ID + id) * IH * IW + ih * IW + iw] = (${t})acc;
    }
}
""")

# Pooling: windows [o*S - P, o*S - P + K) clipped to the input; avg divides by the window clipped to the bound
# (input + pad) or, without count_include_pad, to the input. POW/ROOT: Lp's power and root (identity else).
_POOL_COMMON = _GEOMETRY + """
#define BD ${b[0]}
#define BH ${b[1]}
#define BW ${b[2]}
#define LOWEST ${lowest}
#define POW(v) (${pow_expr})
#define ROOT(v) (${root_expr})
inline long span(long start, long k, long bound, long size, int include_pad) {
    long end = min(start + k, bound);
    return include_pad ? end - start : min(end, size) - max(start, 0L);
}
"""

_POOL = Template(_POOL_COMMON + """
__kernel void pool(__global ${t}* y, __global const ${t}* x)
{
    long nc = get_global_id(0), dh = get_global_id(1);
    long od = dh / OH, oh = dh % OH;
    long d0 = od * SD - PD, h0 = oh * SH - PH;
    __global const ${t}* plane = x + nc * ID * IH * IW;
    for (long ow = 0; ow < OW; ow++) {
        long w0 = ow * SW - PW;
        ${acc} acc = ${"LOWEST" if kind == "max" else "0"};
        for (long id = max(d0, 0L); id < min(d0 + KD, (long)ID); id++)
            for (long ih = max(h0, 0L); ih < min(h0 + KH, (long)IH); ih++)
                for (long iw = max(w0, 0L); iw < min(w0 + KW, (long)IW); iw++) {
                    ${acc} v = plane[(id * IH + ih) * IW + iw];
% if kind == "max":
                    acc = v > acc ? v : acc;
% else:
                    acc += POW(v);
% endif
                }
% if kind == "avg":
        acc /= (${acc})(span(d0, KD, BD, ID, ${inc}) * span(h0, KH, BH, IH, ${inc}) * span(w0, KW, BW, IW, ${inc}));
% elif kind == "lp":
        acc = ROOT(acc);
% endif
        y[nc * PP + dh * OW + ow] = (${t})acc;
    }
}
""")

# One work-item per (n, c) plane: zero it, then add every output's gradient into its window.
_POOL_GRAD = Template(_POOL_COMMON + """
__kernel void pool_grad(__global ${t}* dx, __global const ${t}* g, __global const ${t}* x, __global const ${t}* y)
{
    long nc = get_global_id(0);
    __global ${t}* dplane = dx + nc * ID * IH * IW;
    __global const ${t}* plane = x + nc * ID * IH * IW;
    for (long i = 0; i < ID * IH * IW; i++) dplane[i] = 0;
    for (long o = 0; o < PP; o++) {
        long od = o / (OH * OW), oh = (o / OW) % OH, ow = o % OW;
        long d0 = od * SD - PD, h0 = oh * SH - PH, w0 = ow * SW - PW;
        ${acc} go = g[nc * PP + o];
% if kind == "max":
        ${t} best = y[nc * PP + o];
        int done = 0;
% elif kind == "avg":
        go /= (${acc})(span(d0, KD, BD, ID, ${inc}) * span(h0, KH, BH, IH, ${inc}) * span(w0, KW, BW, IW, ${inc}));
% elif kind == "lp":
        ${acc} yo = y[nc * PP + o];
        go /= POW_1(yo);
% endif
        for (long id = max(d0, 0L); id < min(d0 + KD, (long)ID); id++)
            for (long ih = max(h0, 0L); ih < min(h0 + KH, (long)IH); ih++)
                for (long iw = max(w0, 0L); iw < min(w0 + KW, (long)IW); iw++) {
                    long i = (id * IH + ih) * IW + iw;
% if kind == "max":
                    if (!done && plane[i] == best) { dplane[i] += go; done = 1; }
% elif kind == "lp":
                    ${acc} xi = plane[i];
                    dplane[i] += go * POW_1(xi);
% else:
                    dplane[i] += go;
% endif
                }
    }
}
""")

_POWERS = {1: "v", 2: "(v) * (v)", 3: "(v) * (v) * (v)"}
_ROOTS = {1: "v", 2: "sqrt(v)", 3: "cbrt(v)"}


class Geometry3(NamedTuple):
    """Spatial geometry padded to 3 axes (leading axes of size 1): input, output, kernel, stride, pad, dilation,
    and for pooling the bound avg clips windows to."""

    x: tuple[int, int, int]
    o: tuple[int, int, int]
    k: tuple[int, int, int]
    s: tuple[int, int, int]
    p: tuple[int, int, int]
    d: tuple[int, int, int]
    b: tuple[int, int, int]


def geometry3(spatial: Sequence[int], out: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
              pad: Sequence[int], dilate: Sequence[int] | None = None, bound: Sequence[int] | None = None
              ) -> Geometry3:
    lead = 3 - len(spatial)

    def three(v, fill):
        return (fill,) * lead + tuple(int(a) for a in v)

    return Geometry3(three(spatial, 1), three(out, 1), three(kernel, 1), three(stride, 1), three(pad, 0),
                     three(dilate if dilate is not None else (1,) * len(spatial), 1),
                     three(bound if bound is not None else spatial, 1))


def _acc_type(dev: Device, dtype: np.dtype) -> str:
    return dev.compute_type(dtype)


def im2col(dev: Device, x: CLArray, geo: Geometry3) -> CLArray:
    """Columns (C * K, N * P) of x (N, C, *spatial): row (c, tap), column (n, output position)."""
    n, c = x.shape[:2]
    t = CTYPES[x.dtype.name]
    kk, pp = int(np.prod(geo.k)), int(np.prod(geo.o))
    cols = dev.alloc((c * kk, n * pp), x.dtype)
    key = ("im2col", t, c, geo)

    def render():
        return _IM2COL.render(t=t, C=c, **geo._asdict()), "im2col", [None, None, _I64]

    dev.launch(dev.kernel(key, render), (c * kk, geo.o[0] * geo.o[1]), None, cols.buf, x.buf, n)
    return cols


def col2im(dev: Device, cols: CLArray, x_shape: tuple[int, ...], geo: Geometry3) -> CLArray:
    """The adjoint of im2col: dx (x_shape) from column gradients (C * K, N * P)."""
    n, c = x_shape[:2]
    dt = cols.dtype
    t = CTYPES[dt.name]
    acc = _acc_type(dev, dt)
    dx = dev.alloc(tuple(x_shape), dt)
    key = ("col2im", t, acc, c, geo)

    def render():
        return _COL2IM.render(t=t, acc=acc, C=c, **geo._asdict()), "col2im", [None, None, _I64]

    dev.launch(dev.kernel(key, render), (n * c, geo.x[0] * geo.x[1]), None, dx.buf, cols.buf, n)
    return dx


def _pool_render(template: Template, name: str, t: str, acc: str, kind: str, p: int | None, include_pad: bool,
                 geo: Geometry3, nargs: int, dtype: np.dtype):
    lowest = "-DBL_MAX" if dtype == np.float64 else "-FLT_MAX"
    pw = p if kind == "lp" else 1
    pre = f"#define POW_1(v) ({_POWERS.get(pw - 1, '1') if pw > 1 else '1'})\n"
    src = pre + template.render(t=t, acc=acc, kind=kind, inc=int(include_pad), C=1, lowest=lowest,
                                pow_expr=_POWERS[pw], root_expr=_ROOTS[pw], **geo._asdict())
    return src, name, [None] * nargs


def pool(dev: Device, x: CLArray, out_shape: tuple[int, ...], geo: Geometry3, kind: str, p: int | None,
         include_pad: bool) -> CLArray:
    dt = x.dtype
    t, acc = CTYPES[dt.name], _acc_type(dev, dt)
    y = dev.alloc(tuple(out_shape), dt)
    key = ("pool", t, kind, p, include_pad, geo)
    k = dev.kernel(key, lambda: _pool_render(_POOL, "pool", t, acc, kind, p, include_pad, geo, 2, dt))
    dev.launch(k, (x.shape[0] * x.shape[1], geo.o[0] * geo.o[1]), None, y.buf, x.buf)
    return y


def pool_grad(dev: Device, g: CLArray, x: CLArray, y: CLArray, geo: Geometry3, kind: str, p: int | None,
              include_pad: bool) -> CLArray:
    dt = x.dtype
    t, acc = CTYPES[dt.name], _acc_type(dev, dt)
    dx = dev.alloc(x.shape, dt)
    key = ("pool_grad", t, kind, p, include_pad, geo)
    k = dev.kernel(key, lambda: _pool_render(_POOL_GRAD, "pool_grad", t, acc, kind, p, include_pad, geo, 4, dt))
    dev.launch(k, (x.shape[0] * x.shape[1],), None, dx.buf, g.buf, x.buf, y.buf)
    return dx


# -- softmax over an (A, K, B) view ------------------------------------------------------------------------------
_SOFTMAX = Template("""
__kernel void softmax_axk(__global ${out_t}* out, __global const ${in_t}* in,
% if has_len:
                          __global const ${len_t}* length,
% endif
                          long K, long B, ${w} temperature)
{
    long a = get_global_id(0), b = get_global_id(1);
    __global const ${in_t}* x = in + a * K * B + b;
    __global ${out_t}* y = out + a * K * B + b;
% if has_len:
    long L = (long)length[a * B + b];
    L = L < 0 ? 0 : (L > K ? K : L);
% else:
    long L = K;
% endif
    ${w} m = -INFINITY;
    for (long k = 0; k < L; k++) {
        ${w} v = ${"-" if negate else ""}(${w})x[k * B];
        m = (v > m || isnan(v)) ? v : m;
    }
    if (L == 0) m = 0;
    ${w} s = 0;
    for (long k = 0; k < L; k++) {
        ${w} z = (${"-" if negate else ""}(${w})x[k * B] - m)${" / temperature" if temp else ""};
        s += exp(z);
    }
% if log:
    ${w} ls = log(s);
% else:
    if (s == 0) s = 1;
% endif
    for (long k = 0; k < K; k++) {
        ${w} z = (${"-" if negate else ""}(${w})x[k * B] - m)${" / temperature" if temp else ""};
% if log:
        y[k * B] = (${out_t})(z - ls);
% else:
        y[k * B] = (${out_t})(k < L ? exp(z) / s : 0);
% endif
    }
}
""")


def softmax_axk(dev: Device, out: CLArray, x: CLArray, A: int, K: int, B: int, work: np.dtype, *, log: bool = False,
                negate: bool = False, temperature: float | None = None, length: CLArray | None = None) -> CLArray:
    """out = softmax (or log-softmax; of -x with negate) over K of the (A, K, B) view, computed in `work`:
    (x - max) / T as MXNet orders it; `length` (A*B entries) masks each slice's tail to 0."""
    w = CTYPES[work.name]
    in_t, out_t = CTYPES[x.dtype.name], CTYPES[out.dtype.name]
    temp = temperature is not None and temperature != 1.0
    len_t = CTYPES[length.dtype.name] if length is not None else ""
    key = ("softmax", in_t, out_t, w, log, negate, temp, len_t)

    def render():
        src = _SOFTMAX.render(in_t=in_t, out_t=out_t, w=w, log=log, negate=negate, temp=temp,
                              has_len=length is not None, len_t=len_t)
        nbuf = 3 if length is not None else 2
        return src, "softmax_axk", [None] * nbuf + [_I64, _I64, work]

    bufs = [out.buf, x.buf] + ([length.buf] if length is not None else [])
    dev.launch(dev.kernel(key, render), (A, B), None, *bufs, K, B, float(temperature if temp else 1.0))
    return out


# -- SoftmaxOutput's gradient ------------------------------------------------------------------------------------
_SOFTMAX_OUTPUT_GRAD = Template("""
__kernel void softmax_output_grad(__global ${t}* grad, __global const ${t}* out, __global const ${t}* label,
                                  __global const ${w}* count, long K, long B, long ignored, ${w} scale,
                                  ${w} on, ${w} off)
{
    long a = get_global_id(0), b = get_global_id(1);
    long li = (long)label[a * B + b];
% if use_ignore:
    ${w} keep = (li != ignored) ? 1 : 0;
% endif
% if valid:
    scale /= max(count[0], (${w})1);
% endif
    for (long k = 0; k < K; k++) {
        long i = (a * K + k) * B + b;
        ${w} g = ((${w})out[i] - (li == k ? on : off))${" * keep" if use_ignore else ""};
        grad[i] = (${t})(g * scale);
    }
}
""")


def softmax_output_grad(dev: Device, grad: CLArray, out: CLArray, label: CLArray, count: CLArray | None, A: int,
                        K: int, B: int, *, ignored: int, scale: float, on: float, off: float, use_ignore: bool
                        ) -> CLArray:
    t = CTYPES[out.dtype.name]
    w = dev.compute_type(out.dtype)
    valid = count is not None
    key = ("softmax_output_grad", t, w, use_ignore, valid)

    def render():
        src = _SOFTMAX_OUTPUT_GRAD.render(t=t, w=w, use_ignore=use_ignore, valid=valid)
        wt = np.dtype({"float": "float32", "double": "float64"}[w])
        return src, "softmax_output_grad", [None] * 4 + [_I64, _I64, _I64, wt, wt, wt]

    cnt = count.buf if valid else label.buf  # an unused argument still needs a buffer
    dev.launch(dev.kernel(key, render), (A, B), None, grad.buf, out.buf, label.buf, cnt, K, B, ignored, scale, on,
               off)
    return grad


# -- BatchNorm over an (A, C, D) view ------------------------------------------------------------------------------
# Forward, per channel c: mean and inverse std (batch statistics, two passes, or the moving ones), and the
# coefficients of the elementwise pass out = (x - mean) * scale + beta: coef = [mean, scale] (2, C).
_BN_FORWARD = Template("""
__kernel void bn_forward(__global ${p}* mean_out, __global ${p}* invstd_out, __global ${p}* coef,
                         __global const ${t}* x, __global const ${p}* gamma, __global const ${p}* mm,
                         __global const ${p}* mv, long A, long C, long D, ${p} eps)
{
    long c = get_global_id(0);
% if batch:
    ${acc} s = 0;
    for (long a = 0; a < A; a++)
        for (long d = 0; d < D; d++) s += x[(a * C + c) * D + d];
    ${p} mean = (${p})(s / (A * D));
    ${acc} q = 0;
    for (long a = 0; a < A; a++)
        for (long d = 0; d < D; d++) { ${p} e = (${p})x[(a * C + c) * D + d] - mean; q += e * e; }
    ${p} var = (${p})(q / (A * D));
% else:
    ${p} mean = mm[c];
    ${p} var = mv[c];
% endif
    ${p} invstd = 1 / sqrt(var + eps);
    mean_out[c] = mean;
    invstd_out[c] = invstd;
    coef[c] = mean;
    coef[C + c] = ${"invstd" if fix_gamma else "gamma[c] * invstd"};
}
""")

# Backward, per channel: gamma/beta gradients, the coefficients of dx = k0 * g - k1 * (x - k3) - k2 (coef (4, C)),
# and, for a batch-statistics backward, the moving statistics updated in place.
_BN_BACKWARD = Template("""
__kernel void bn_backward(__global ${p}* dgamma, __global ${p}* dbeta, __global ${p}* coef,
                          __global const ${t}* g, __global const ${t}* x, __global const ${p}* gamma,
                          __global const ${p}* mean, __global const ${p}* invstd,
                          __global ${p}* mm, __global ${p}* mv, long A, long C, long D, ${p} eps,
                          ${p} mom, ${p} one_minus_mom)
{
    long c = get_global_id(0);
    ${p} gm = ${"1" if fix_gamma else "gamma[c]"};
% if batch:
    ${p} m = mean[c], is = invstd[c];
% else:
    ${p} m = mm[c], is = 1 / sqrt(mv[c] + eps);
% endif
    ${acc} sg = 0, sgx = 0;
    for (long a = 0; a < A; a++)
        for (long d = 0; d < D; d++) {
            long i = (a * C + c) * D + d;
            ${p} gi = g[i];
            sg += gi;
            sgx += gi * ((${p})x[i] - m);
        }
    ${p} sgp = (${p})sg, sgxp = (${p})(sgx * is);
    dbeta[c] = sgp;
    dgamma[c] = ${"0" if fix_gamma else "sgxp"};
% if batch:
    ${p} n = (${p})(A * D);
    ${p} scale = is * gm;
    coef[c] = scale;
    coef[C + c] = scale * is * (sgxp / n);
    coef[2 * C + c] = scale * (sgp / n);
    coef[3 * C + c] = m;
    ${p} batch_var = 1 / (is * is) - eps;
    mm[c] = mm[c] * mom + m * one_minus_mom;
    mv[c] = mv[c] * mom + batch_var * one_minus_mom;
% else:
    coef[c] = is * gm;
    coef[C + c] = 0;
    coef[2 * C + c] = 0;
    coef[3 * C + c] = m;
% endif
}
""")


def bn_forward(dev: Device, x: CLArray, gamma: CLArray, mm: CLArray, mv: CLArray, view: tuple[int, int, int], *,
               eps: float, batch: bool, fix_gamma: bool) -> tuple[CLArray, CLArray, CLArray]:
    """(mean, invstd, coef (2, C))."""
    A, C, D = view
    pdt = gamma.dtype
    t, p = CTYPES[x.dtype.name], CTYPES[pdt.name]
    acc = "double" if dev.fp64 else "float"
    mean, invstd, coef = dev.alloc((C,), pdt), dev.alloc((C,), pdt), dev.alloc((2, C), pdt)
    key = ("bn_forward", t, p, acc, batch, fix_gamma)

    def render():
        src = _BN_FORWARD.render(t=t, p=p, acc=acc, batch=batch, fix_gamma=fix_gamma)
        return src, "bn_forward", [None] * 7 + [_I64, _I64, _I64, pdt]

    dev.launch(dev.kernel(key, render), (C,), None, mean.buf, invstd.buf, coef.buf, x.buf, gamma.buf, mm.buf, mv.buf,
               A, C, D, eps)
    return mean, invstd, coef


def bn_backward(dev: Device, g: CLArray, x: CLArray, gamma: CLArray, mean: CLArray, invstd: CLArray, mm: CLArray,
                mv: CLArray, view: tuple[int, int, int], *, eps: float, momentum: float, batch: bool,
                fix_gamma: bool) -> tuple[CLArray, CLArray, CLArray]:
    """(dgamma, dbeta, coef (4, C)); updates mm/mv in place when `batch`."""
    A, C, D = view
    pdt = gamma.dtype
    t, p = CTYPES[x.dtype.name], CTYPES[pdt.name]
    acc = "double" if dev.fp64 else "float"
    dgamma, dbeta, coef = dev.alloc((C,), pdt), dev.alloc((C,), pdt), dev.alloc((4, C), pdt)
    key = ("bn_backward", t, p, acc, batch, fix_gamma)

    def render():
        src = _BN_BACKWARD.render(t=t, p=p, acc=acc, batch=batch, fix_gamma=fix_gamma)
        return src, "bn_backward", [None] * 10 + [_I64, _I64, _I64, pdt, pdt, pdt]

    mom = float(np.float32(momentum))  # MXNet's momentum parameter is a float32 (0.9 -> 0.899999976)
    dev.launch(dev.kernel(key, render), (C,), None, dgamma.buf, dbeta.buf, coef.buf, g.buf, x.buf, gamma.buf,
               mean.buf, invstd.buf, mm.buf, mv.buf, A, C, D, eps, mom, 1 - mom)
    return dgamma, dbeta, coef


# -- Embedding's weight gradient -------------------------------------------------------------------------------------
_EMBEDDING_GRAD = Template("""
__kernel void embedding_grad(__global ${t}* dw, __global const ${t}* g, __global const ${it}* idx, long n,
                             long rows, long cols)
{
    long j = get_global_id(0);
    for (long r = 0; r < rows; r++) dw[r * cols + j] = 0;
    for (long i = 0; i < n; i++) {
        ${it} v = idx[i];
        long r = v < 0 ? 0 : (v > rows - 1 ? rows - 1 : (long)v);
        dw[r * cols + j] += g[i * cols + j];
    }
}
""")


def embedding_grad(dev: Device, g: CLArray, idx: CLArray, rows: int, cols: int) -> CLArray:
    t, it = CTYPES[g.dtype.name], CTYPES[idx.dtype.name]
    dw = dev.alloc((rows, cols), g.dtype)
    key = ("embedding_grad", t, it)

    def render():
        return _EMBEDDING_GRAD.render(t=t, it=it), "embedding_grad", [None] * 3 + [_I64] * 3

    dev.launch(dev.kernel(key, render), (cols,), None, dw.buf, g.buf, idx.buf, idx.size, rows, cols)
    return dw
