"""LayerNorm, InstanceNorm and GroupNorm with their one-call backward operators, on the device.

Each runs on the (A, B, D) view `mxplug.ops.norm.norm_view` gives (gamma and beta along B; the statistics over
B for LayerNorm, over D for InstanceNorm and GroupNorm), as the NumPy reference kernels do, from the plugin's
two building blocks: `reduce_axk` folds (the statistics, accumulated in the compute type: float for float32 data,
double for float64) and `map_strided` elementwise passes that read the statistics and the parameters through
broadcast views. Forward: mean, then the centred mean square (two passes: stable where E[x²] - E[x]² is not),
then one affine pass. Backward, with x̂ = (x - mean) / std and dy = g·gamma:
dx = (dy - mean(dy) - x̂·mean(dy·x̂)) / std over the statistics axes; dgamma = Σ g·x̂ and dbeta = Σ g over A and D.
"""

from __future__ import annotations

from mxplug.ops.norm import NormView, l2_axes, norm_view

from ..codegen import Reduction, View, broadcast_view, map_strided, reduce_axk, whole
from ..runtime import CLArray
from .reduce import reduce_to

_MEAN = Reduction("0", "acc + v", final="acc / count", vcombine="acc + v")


def _as(a: CLArray, shape) -> CLArray:
    return CLArray(a.buf, tuple(shape), a.dtype, a.device)


def _stat_view(stats: CLArray, view: NormView) -> View:
    """The statistics (kept axes of size 1) read as the whole (A, B, D) view."""
    A, B, D = view.shape
    return View(stats, 0, (D, 0, 1) if view.stat_axes == (1,) else (B, 1, 0))


def _param_view(p: CLArray) -> View:
    return View(p, 0, (0, 1, 0))


def _fold(out: CLArray, x3: CLArray, view: NormView, red: Reduction) -> CLArray:
    """out (the statistics' shape) = the fold of x3 (A, B, D) over the statistics axes."""
    A, B, D = view.shape
    dev = x3.device
    acc = dev.compute_type(x3.dtype)
    if view.stat_axes == (1,):
        return reduce_axk(dev, out, x3, A, B, D, red, acc, count=B)
    return reduce_axk(dev, out, x3, A * B, D, 1, red, acc, count=D)


def affine_norm(op: str):
    def forward(data: CLArray, gamma: CLArray, beta: CLArray, **attrs):
        dev = data.device
        view = norm_view(op, attrs, data.shape)
        w = dev.compute_type(data.dtype)
        x3 = _as(data, view.shape)
        mean = _fold(dev.alloc(view.stats_shape, data.dtype), x3, view, _MEAN)
        centred = dev.alloc(view.shape, data.dtype)
        map_strided(dev, whole(centred), view.shape, [("x", whole(x3), w), ("m", _stat_view(mean, view), w)],
                    "x - m")
        eps = float(attrs["eps"])
        std_fold = Reduction("0", "acc + v", "v * v", final=f"sqrt(acc / count + {eps!r})", vcombine="acc + v")
        std = _fold(dev.alloc(view.stats_shape, data.dtype), centred, view, std_fold)
        out = dev.alloc(data.shape, data.dtype)
        ins = [("c", whole(centred), w), ("s", _stat_view(std, view), w), ("g", _param_view(gamma), w),
               ("b", _param_view(beta), w)]
        map_strided(dev, whole(_as(out, view.shape)), view.shape, ins, "c / s * g + b")
        return out, mean, std

    def backward(ograd: CLArray, data: CLArray, gamma: CLArray, mean: CLArray, std: CLArray, **attrs):
        dev = data.device
        view = norm_view(op, attrs, data.shape, f"_backward_{op}")
        shape = view.shape
        w = dev.compute_type(data.dtype)
        g3, x3 = whole(_as(ograd, shape)), whole(_as(data, shape))
        m, s = _stat_view(mean, view), _stat_view(std, view)
        xhat = dev.alloc(shape, data.dtype)
        map_strided(dev, whole(xhat), shape, [("x", x3, w), ("m", m, w), ("s", s, w)], "(x - m) / s")
        # The parameters' gradients: sums over A and D of g and g·x̂.
        work = dev.alloc(shape, data.dtype)
        map_strided(dev, whole(work), shape, [("g", g3, w), ("h", whole(xhat), w)], "g * h")
        B = shape[1]
        dgamma = reduce_to(work, (0, 2), (B,), "sum", out_dtype=gamma.dtype)
        dbeta = reduce_to(_as(ograd, shape), (0, 2), (B,), "sum", out_dtype=gamma.dtype)
        # dx from dy = g·gamma and its two means over the statistics axes (queue order: `work` is reused only
        # after the fold above has read it).
        dy = dev.alloc(shape, data.dtype)
        map_strided(dev, whole(dy), shape, [("g", g3, w), ("p", _param_view(gamma), w)], "g * p")
        s1 = _fold(dev.alloc(view.stats_shape, data.dtype), dy, view, _MEAN)
        map_strided(dev, whole(work), shape, [("d", whole(dy), w), ("h", whole(xhat), w)], "d * h")
        s2 = _fold(dev.alloc(view.stats_shape, data.dtype), work, view, _MEAN)
        dx = dev.alloc(data.shape, data.dtype)
        ins = [("d", whole(dy), w), ("h", whole(xhat), w), ("a", _stat_view(s1, view), w),
               ("b", _stat_view(s2, view), w), ("s", s, w)]
        map_strided(dev, whole(_as(dx, shape)), shape, ins, "(d - a - h * b) / s")
        return dx, dgamma, dbeta

    forward.__name__, backward.__name__ = op, f"_backward_{op}"
    return forward, backward


def l2_normalization(data: CLArray, *, eps, mode) -> tuple[CLArray, CLArray]:
    """data / sqrt(Σ data² + eps) over the mode's axes; also the norms (the kept axes' shape)."""
    dev = data.device
    axes = l2_axes(mode, data.ndim)
    kept = tuple(1 if i in axes else s for i, s in enumerate(data.shape))
    w = dev.compute_type(data.dtype)
    fold = Reduction("0", "acc + v", "v * v", final=f"sqrt(acc + {float(eps)!r})", vcombine="acc + v")
    norm = reduce_to(data, axes, kept, "sum", red=fold)
    out = dev.alloc(data.shape, data.dtype)
    map_strided(dev, whole(out), data.shape, [("x", whole(data), w), ("n", broadcast_view(norm, data.shape), w)],
                "x / n")
    return out, _as(norm, tuple(s for i, s in enumerate(data.shape) if i not in axes))


# -- LRN: a window over the channels ------------------------------------------------------------------------------
def _ncr(x: CLArray) -> tuple[int, int, int]:
    return x.shape[0], x.shape[1], x.size // max(x.shape[0] * x.shape[1], 1)


def _elementwise(expr: str, *arrays: CLArray, scalars=()) -> CLArray:
    """A new array = expr over same-shape arrays named a, b, c... (in the compute type)."""
    dev = arrays[0].device
    w = dev.compute_type(arrays[0].dtype)
    out = dev.alloc(arrays[0].shape, arrays[0].dtype)
    ins = [(name, whole(a), w) for name, a in zip("abcdefgh", arrays, strict=False)]
    map_strided(dev, whole(out), out.shape, ins, expr, scalars=[(n, w, v) for n, v in scalars])
    return out


def _channel_window_sum(v: CLArray, nsize: int) -> CLArray:
    """Σ over the nsize channels (axis 1) centred on each channel, clipped at the edges (the reference's
    shifted in-place additions, one strided pass per offset and side)."""
    dev = v.device
    N, C, R = _ncr(v)
    w = dev.compute_type(v.dtype)
    acc = dev.duplicate(v)
    st = (C * R, R, 1)
    for k in range(1, min(nsize // 2, C - 1) + 1):
        for dst_off, src_off in ((k * R, 0), (0, k * R)):  # acc[:, k:] += v[:, :-k]; acc[:, :-k] += v[:, k:]
            dst = View(acc, dst_off, st)
            map_strided(dev, dst, (N, C - k, R), [("a", dst, w), ("b", View(v, src_off, st), w)], "a + b")
    return acc


def _lrn_scale(x: CLArray, alpha: float, knorm: float, nsize: int) -> CLArray:
    s = _channel_window_sum(_elementwise("a * a", x), nsize)
    return _elementwise("a * q + k", s, scalars=[("q", alpha / nsize), ("k", knorm)])


def lrn(data: CLArray, *, alpha, beta, knorm, nsize) -> CLArray:
    s = _lrn_scale(data, alpha, knorm, nsize)
    return _elementwise("a * pow(b, -e)", data, s, scalars=[("e", beta)])


def lrn_backward(ograd: CLArray, data: CLArray, *, alpha, beta, knorm, nsize) -> CLArray:
    """dx_i = g_i s_i^-β - 2αβ/n x_i Σ_{j near i} g_j x_j s_j^-β / s_j (the window is symmetric)."""
    s = _lrn_scale(data, alpha, knorm, nsize)
    back = _channel_window_sum(_elementwise("a * b * pow(c, -e) / c", ograd, data, s, scalars=[("e", beta)]), nsize)
    return _elementwise("a * b * q + c * pow(d, -e)", back, data, ograd, s,
                        scalars=[("q", -2.0 * alpha * beta / nsize), ("e", beta)])


def make_kernels() -> dict:
    table: dict = {"L2Normalization": l2_normalization, "LRN": lrn, "_backward_LRN": lrn_backward}
    for op in ("LayerNorm", "InstanceNorm", "GroupNorm"):
        table[op], table[f"_backward_{op}"] = affine_norm(op)
    return table

