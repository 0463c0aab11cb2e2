"""NumPy/CuPy kernels of the conv operators: im2col on strided views and one batched GEMM per call.

Convolution (any of 1-D/2-D/3-D, groups, stride, dilation, padding):

- forward: the padded input seen through `as_strided` as (N, C, *kernel, *out) windows; one copy of that view
  into a reused scratch buffer *is* the im2col, laid out (N, groups, C/g * K, out) so that ``W @ cols`` is
  one `matmul` over (batch, group) stacks writing the output in place, already in (N, F, *out) order.
- weight gradient: the same im2col, and ``dY @ colsᵀ`` as one stacked GEMM, summed over the batch.
- data gradient: for stride 1 (and no more output than input channels per group), a convolution of the
  output gradient with the flipped, transposed weights (im2col + GEMM again, no scatter); otherwise
  ``Wᵀ @ dY`` (one GEMM) scattered back by col2im, a loop over the kernel taps of strided adds.

Deconvolution is the adjoint of Convolution, so its forward pass is Convolution's data gradient and its
backward pass is Convolution's forward (data gradient) and weight gradient with the roles of data and output
gradient swapped. Pooling runs over the kernel taps with strided slices (max, sum, avg, Lp) and global
pooling as a plain reduction. Every kernel computes in the inputs' dtype (float32 stays float32: sgemm).

The `workspace` attribute (MB) bounds the im2col buffer as in MXNet: a batch whose columns do not fit is
processed in as many batch chunks as needed (one chunk in the common case).
"""

from __future__ import annotations

import threading
from itertools import product
from math import prod

from mxplug.ops.conv import (
    Geometry,
    bilinear_deconv_attrs,
    conv_geometry,
    deconv_geometry,
    pool_geometry,
    upsampling_scales,
)


def make_kernels(xp) -> dict:
    as_strided = xp.lib.stride_tricks.as_strided
    local = threading.local()

    # -- helpers --------------------------------------------------------------------------------------------
    def scratch(shape: tuple[int, ...], dtype):
        """A per-thread buffer reused across calls (fresh big arrays cost page faults on every call): the
        im2col columns live here and are never returned."""
        bufs = getattr(local, "bufs", None)
        if bufs is None:
            bufs = local.bufs = {}
        n = prod(shape)
        buf = bufs.get(dtype)
        if buf is None or buf.size < n:
            bufs.pop(dtype, None)  # drop the old buffer before allocating the bigger one
            buf = bufs[dtype] = xp.empty(n, dtype)
        return buf[:n].reshape(shape)

    def chunks(n: int, item_bytes: int, workspace_mb: int) -> list[tuple[int, int]]:
        step = max(1, (workspace_mb << 20) // max(item_bytes, 1)) if workspace_mb > 0 else n
        return [(i, min(n, i + step)) for i in range(0, n, step)]

    def pad_spatial(x, lo, hi, value=0):
        """x with its spatial axes padded by lo before and hi after (negative amounts crop); x when unchanged."""
        if not any(lo) and not any(hi):
            return x
        if min(lo) < 0 or min(hi) < 0:
            keep = (slice(max(-a, 0), s - max(-b, 0)) for s, a, b in zip(x.shape[2:], lo, hi, strict=True))
            x = x[(slice(None), slice(None), *keep)]
            lo, hi = [max(a, 0) for a in lo], [max(b, 0) for b in hi]
            if not any(lo) and not any(hi):
                return x
        shape = x.shape[:2] + tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi, strict=True))
        out = xp.full(shape, value, x.dtype) if value else xp.zeros(shape, x.dtype)
        out[(slice(None), slice(None), *(slice(a, a + s) for a, s in zip(lo, x.shape[2:], strict=True)))] = x
        return out

    def crop(xpad, lo, spatial):
        """The input region of a padded array, as a new contiguous array."""
        if not any(lo) and tuple(xpad.shape[2:]) == tuple(spatial):
            return xpad
        region = tuple(slice(a, a + s) for a, s in zip(lo, spatial, strict=True))
        return xp.ascontiguousarray(xpad[(slice(None), slice(None), *region)])

    def tap_slices(kernel, stride, dilate, out):
        """For every kernel tap, the strided slice of the padded input it meets across all outputs."""
        return [
            (slice(None), slice(None),
             *(slice(t * d, t * d + s * (o - 1) + 1, s) for t, s, d, o in zip(taps, stride, dilate, out, strict=True)))
            for taps in product(*(range(k) for k in kernel))
        ]

    def im2col(xpad, geo: Geometry, n0: int, n1: int):
        """Columns (n, groups, C/g * K, out) of images n0:n1, copied once from the strided window view."""
        part = xpad[n0:n1]
        n, c = part.shape[:2]
        k, o = prod(geo.kernel), prod(geo.out)
        if all(v == 1 for v in geo.kernel + geo.stride) and part.flags.c_contiguous:
            return part.reshape(n, geo.groups, c // geo.groups * k, o)  # 1x1 convolution: the data itself
        sp = part.strides[2:]
        view = as_strided(part, part.shape[:2] + geo.kernel + geo.out,
                          part.strides[:2] + tuple(s * d for s, d in zip(sp, geo.dilate, strict=True))
                          + tuple(s * t for s, t in zip(sp, geo.stride, strict=True)))
        cols = scratch(view.shape, part.dtype)
        xp.copyto(cols, view)
        return cols.reshape(n, geo.groups, c // geo.groups * k, o)

    def col_bytes(x, geo: Geometry) -> int:
        return x.shape[1] * prod(geo.kernel) * prod(geo.out) * x.dtype.itemsize

    # -- convolution building blocks (all in Convolution's terms: data -> output) ---------------------------
    def conv_forward(x, w, b, geo: Geometry, workspace: int):
        n, c = x.shape[:2]
        f, g = w.shape[0], geo.groups
        xpad = pad_spatial(x, geo.pad_lo, geo.pad_hi)
        wg = w.reshape(g, f // g, -1)
        y = xp.empty((n, g, f // g, prod(geo.out)), x.dtype)
        for n0, n1 in chunks(n, col_bytes(x, geo), workspace):
            xp.matmul(wg, im2col(xpad, geo, n0, n1), out=y[n0:n1])
        y = y.reshape((n, f, *geo.out))
        if b is not None:
            y += b.reshape((f,) + (1,) * len(geo.out))
        return y

    def conv_weight_grad(dy, x, w_shape, geo: Geometry, workspace: int):
        n = x.shape[0]
        f, g = w_shape[0], geo.groups
        xpad = pad_spatial(x, geo.pad_lo, geo.pad_hi)
        dyg = dy.reshape(n, g, f // g, -1)
        dwt = None  # (groups, C/g * K, F/g): cols @ dYᵀ keeps both operands in their stored order (faster)
        for n0, n1 in chunks(n, col_bytes(x, geo), workspace):
            cols = im2col(xpad, geo, n0, n1)
            part = xp.matmul(cols, dyg[n0:n1].swapaxes(-1, -2)).sum(axis=0)
            dwt = part if dwt is None else dwt + part
        return xp.ascontiguousarray(dwt.swapaxes(-1, -2)).reshape(w_shape)

    def conv_data_grad(dy, w, x_shape, geo: Geometry, workspace: int):
        f, cg = w.shape[:2]
        g = geo.groups
        if all(s == 1 for s in geo.stride) and f // g <= 2 * cg:
            # dX = dY (padded by the dilated kernel extent less the forward padding) convolved with the
            # weights flipped in space and transposed in channels: a GEMM on im2col again, no scatter.
            nd = len(geo.kernel)
            wt = w.reshape((g, f // g, cg, *geo.kernel)).swapaxes(1, 2)
            wt = xp.ascontiguousarray(wt[(Ellipsis, *(slice(None, None, -1),) * nd)]).reshape(
                (g * cg, f // g, *geo.kernel))
            reach = tuple(d * (k - 1) for k, d in zip(geo.kernel, geo.dilate, strict=True))
            lo = tuple(r - p for r, p in zip(reach, geo.pad_lo, strict=True))
            hi = tuple(r - p for r, p in zip(reach, geo.pad_hi, strict=True))
            full = Geometry(geo.kernel, geo.stride, geo.dilate, lo, hi, g, tuple(x_shape[2:]))
            return conv_forward(dy, wt, None, full, workspace)
        n = dy.shape[0]
        padded = tuple(s + a + b for s, a, b in zip(x_shape[2:], geo.pad_lo, geo.pad_hi, strict=True))
        dxpad = xp.zeros((n, x_shape[1], *padded), dy.dtype)
        wt = w.reshape(g, f // g, -1).swapaxes(-1, -2)
        dyg = dy.reshape(n, g, f // g, -1)
        slices = tap_slices(geo.kernel, geo.stride, geo.dilate, geo.out)
        for n0, n1 in chunks(n, col_bytes(dxpad, geo), workspace):
            cols = scratch((n1 - n0, g, wt.shape[1], dyg.shape[-1]), dy.dtype)
            xp.matmul(wt, dyg[n0:n1], out=cols)
            cols = cols.reshape((n1 - n0, x_shape[1], len(slices), *geo.out))
            target = dxpad[n0:n1]
            for i, sl in enumerate(slices):
                target[sl] += cols[:, :, i]
        return crop(dxpad, geo.pad_lo, x_shape[2:])

    def bias_grad(dy, no_bias: bool):
        if no_bias:
            return xp.zeros((dy.shape[1],), dy.dtype)
        return dy.sum(axis=(0, *range(2, dy.ndim)))

    # -- operators --------------------------------------------------------------------------------------------
    def fully_connected(data, weight, bias=None, *, num_hidden, no_bias, flatten):
        lead = data.shape[:1] if flatten else data.shape[:-1]
        x2 = data.reshape(data.shape[0], -1) if flatten else data.reshape(-1, data.shape[-1])
        y = xp.matmul(x2, weight.T)
        if bias is not None:
            y += bias
        return y.reshape((*lead, num_hidden))

    def convolution(data, weight, bias=None, **attrs):
        geo = conv_geometry(attrs, data.shape)
        return conv_forward(data, weight, bias, geo, attrs["workspace"])

    def backward_convolution(ograd, data, weight, **attrs):
        geo = conv_geometry(attrs, data.shape)
        ws = attrs["workspace"]
        return (conv_data_grad(ograd, weight, data.shape, geo, ws),
                conv_weight_grad(ograd, data, weight.shape, geo, ws),
                bias_grad(ograd, attrs["no_bias"]))

    def adjoint_geometry(attrs, data_shape) -> tuple[Geometry, tuple[int, ...]]:
        """The convolution whose data gradient a Deconvolution is, and the Deconvolution's output shape."""
        geo = deconv_geometry(attrs, data_shape)
        out = (data_shape[0], attrs["num_filter"], *geo.out)
        return geo._replace(out=tuple(data_shape[2:])), out

    def deconvolution(data, weight, bias=None, **attrs):
        geo, out_shape = adjoint_geometry(attrs, data.shape)
        y = conv_data_grad(data, weight, out_shape, geo, attrs["workspace"])
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * (y.ndim - 2))
        return y

    def backward_deconvolution(ograd, data, weight, **attrs):
        geo, _ = adjoint_geometry(attrs, data.shape)
        ws = attrs["workspace"]
        return (conv_forward(ograd, weight, None, geo, ws),
                conv_weight_grad(data, ograd, weight.shape, geo, ws),
                bias_grad(ograd, attrs["no_bias"]))

    # -- pooling ----------------------------------------------------------------------------------------------
    def lowest(dtype):
        return xp.finfo(dtype).min  # MXNet's max pooling pads with the lowest value (not -inf)

    def avg_divisor(geo, spatial, include_pad: bool, dtype):
        """Per output position, the count avg divides by: the window clipped to the padded input (and to the
        input itself unless count_include_pad); a scalar when every window counts the same."""
        per_axis = []
        for o, s, k, p, x, bound in zip(geo.out, geo.stride, geo.kernel, geo.pad_lo, spatial, geo.bound, strict=True):
            starts = [i * s - p for i in range(o)]
            ends = [min(a + k, bound) for a in starts]
            per_axis.append([e - a for a, e in zip(starts, ends, strict=True)] if include_pad
                            else [min(e, x) - max(a, 0) for a, e in zip(starts, ends, strict=True)])
        if all(len(set(c)) == 1 for c in per_axis):
            return float(prod(c[0] for c in per_axis))
        div = xp.ones(tuple(geo.out), dtype)
        for axis, counts in enumerate(per_axis):
            shape = [1] * len(geo.out)
            shape[axis] = len(counts)
            div = div * xp.asarray(counts, dtype=dtype).reshape(shape)
        return div

    def power(x, p: int):
        return x if p == 1 else (x * x if p == 2 else x * x * x)

    def root(y, p: int):
        return y if p == 1 else (xp.sqrt(y) if p == 2 else xp.cbrt(y))

    def global_pooling(x, kind: str, p: int | None):
        axes = tuple(range(2, x.ndim))
        if kind == "max":
            return x.max(axis=axes, keepdims=True)
        if kind == "avg":
            return x.mean(axis=axes, keepdims=True)
        if kind == "sum":
            return x.sum(axis=axes, keepdims=True)
        return root(power(x, p).sum(axis=axes, keepdims=True), p)

    def pooling(data, **attrs):
        geo = pool_geometry(attrs, data.shape)
        kind, p = attrs["pool_type"], attrs["p_value"]
        if attrs["global_pool"]:
            return global_pooling(data, kind, p)
        slices = tap_slices(geo.kernel, geo.stride, (1,) * len(geo.kernel), geo.out)
        if kind == "max":
            xpad = pad_spatial(data, geo.pad_lo, geo.pad_hi, lowest(data.dtype))
            out = xpad[slices[0]].copy()
            for sl in slices[1:]:
                xp.maximum(out, xpad[sl], out=out)
            return out
        xpad = pad_spatial(power(data, p) if kind == "lp" else data, geo.pad_lo, geo.pad_hi)
        out = xpad[slices[0]].copy()
        for sl in slices[1:]:
            out += xpad[sl]
        if kind == "avg":
            include = attrs["count_include_pad"] is not False
            out /= avg_divisor(geo, data.shape[2:], include, data.dtype)
        elif kind == "lp":
            out = root(out, p)
        return out

    def global_pooling_grad(og, x, y, kind: str, p: int | None):
        spatial = x.shape[2:]
        if kind == "max":  # the first maximum of each (n, c) plane takes the gradient
            flat = x.reshape(x.shape[0], x.shape[1], -1)
            first = flat.argmax(axis=-1)[..., None]
            hit = xp.arange(flat.shape[-1]) == first
            return (hit * og.reshape(first.shape)).astype(x.dtype).reshape(x.shape)
        if kind in ("sum", "avg") or p == 1:
            scale = 1.0 / prod(spatial) if kind == "avg" else 1.0
            return xp.broadcast_to(og * x.dtype.type(scale), x.shape).copy()
        return og / power(y, p - 1) * power(x, p - 1)

    def backward_pooling(ograd, data, output, **attrs):
        geo = pool_geometry(attrs, data.shape)
        kind, p = attrs["pool_type"], attrs["p_value"]
        if attrs["global_pool"]:
            return global_pooling_grad(ograd, data, output, kind, p)
        slices = tap_slices(geo.kernel, geo.stride, (1,) * len(geo.kernel), geo.out)
        pad_value = lowest(data.dtype) if kind == "max" else 0
        xpad = pad_spatial(data, geo.pad_lo, geo.pad_hi, pad_value)
        dxpad = xp.zeros(xpad.shape, data.dtype)
        if kind == "max":
            # The gradient goes to the first maximum of each window in row-major tap order (MXNet's CPU loop).
            taken = None
            for sl in slices:
                hit = xpad[sl] == output
                if taken is None:
                    taken = hit
                else:
                    hit &= ~taken
                    taken |= hit
                dxpad[sl] += xp.where(hit, ograd, 0)
        elif kind == "lp" and p > 1:
            scaled = ograd / power(output, p - 1)
            for sl in slices:
                dxpad[sl] += scaled * power(xpad[sl], p - 1)
        else:
            scaled = ograd
            if kind == "avg":
                include = attrs["count_include_pad"] is not False
                scaled = ograd / avg_divisor(geo, data.shape[2:], include, data.dtype)
            for sl in slices:
                dxpad[sl] += scaled
        return crop(dxpad, geo.pad_lo, data.shape[2:])

    # -- upsampling -------------------------------------------------------------------------------------------
    def upsampling(*data, **attrs):
        if attrs["sample_type"] == "bilinear":
            x, w = data
            return deconvolution(x, w, None, workspace=attrs["workspace"],
                                 **bilinear_deconv_attrs(attrs, x.shape[1]))
        (oh, ow), scales = upsampling_scales(attrs, [tuple(d.shape) for d in data])
        concat = attrs["multi_input_mode"] == "concat"
        channels = sum(d.shape[1] for d in data) if concat else data[0].shape[1]
        out = xp.empty((data[0].shape[0], channels, oh, ow), data[0].dtype)
        begin = 0
        for i, (x, s) in enumerate(zip(data, scales, strict=True)):
            n, c, h, w = x.shape
            target = out[:, begin:begin + c] if concat else out
            blocks = target.reshape(n, c, h, s, w, s)  # a view: each input pixel's s x s block
            if concat or i == 0:
                blocks[...] = x[:, :, :, None, :, None]
            else:
                blocks += x[:, :, :, None, :, None]
            begin += c
        return out

    return {
        "FullyConnected": fully_connected,
        "Convolution": convolution,
        "_backward_Convolution": backward_convolution,
        "Deconvolution": deconvolution,
        "_backward_Deconvolution": backward_deconvolution,
        "Pooling": pooling,
        "_backward_Pooling": backward_pooling,
        "UpSampling": upsampling,
    }
