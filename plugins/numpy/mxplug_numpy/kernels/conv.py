"""NumPy/CuPy kernels of the conv operators: im2col on strided views and one batched GEMM per call.

Convolution (any of 1-D/2-D/3-D, groups, stride, dilation, padding):

- forward: per batch chunk, the im2col into a reused scratch buffer of columns (n, C, *kernel, *out): one
  copy of the strided window view, or with padding one strided copy per kernel tap from the unpadded input
  and the outputs that meet padding zeroed (no padded copy of the input); seen as
  (n, groups, C/g * K, out) so that ``W @ cols`` is one `matmul` over (batch, group) stacks writing the
  output in place, already in (N, F, *out) order.
- weight gradient: the same im2col, and ``cols @ dYᵀ`` as one stacked GEMM, summed over the batch.
- data gradient: for stride 1 (and no more output than input channels per group), a convolution of the
  output gradient with the flipped, transposed weights (im2col + GEMM again, no scatter); otherwise
  ``Wᵀ @ dY`` (one GEMM) scattered back by col2im, a loop over the kernel taps of strided adds.
- backward, when the data gradient is that convolution of dY: one pass over dY's columns feeds both dX's GEMM
  and dW's (``cols(dY) @ xᵀ`` is dW with its taps flipped), so x needs no im2col of its own (`conv_grads`).
  Deconvolution's backward likewise shares one im2col of its output gradient between its two GEMMs.

Deconvolution is the adjoint of Convolution, so its forward pass is Convolution's data gradient and its
backward pass is Convolution's forward (data gradient) and weight gradient with the roles of data and output
gradient swapped. Pooling runs over the kernel taps with strided slices clipped to the input (no padded copy),
separably per axis where that saves work (max, sum, avg, Lp); global pooling is a plain reduction.
Every kernel computes in the inputs' dtype (float32 stays float32: sgemm).

The `workspace` attribute (MB) bounds the im2col buffer as in MXNet: a batch whose columns do not fit is
processed in as many batch chunks as needed. On CPU the chunks are further bounded by CPU_CACHE_BLOCK so that
the columns are written and read back by the GEMM within L2/L3 (a copy to DRAM cost ~15 ms per im2col on the
3x3 reference layer); scratch buffers (per thread, slot, dtype and device) above SCRATCH_RETAIN_BYTES are not
kept between calls.
"""

from __future__ import annotations

import threading
from functools import lru_cache
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

CPU_CACHE_BLOCK = 8 << 20  # bytes of im2col columns per batch chunk on CPU (fits L2/L3 with its padded input)
SCRATCH_RETAIN_BYTES = 256 << 20  # larger scratch buffers are not kept between calls


def make_kernels(xp) -> dict:
    as_strided = xp.lib.stride_tricks.as_strided
    local = threading.local()

    # On CPU, im2col columns written in cache-sized batch chunks are read back by the GEMM from L2/L3 instead
    # of DRAM: the copy then costs little beyond the GEMM (3x3 layer of 32x64x56x56: ~8 ms per im2col saved).
    # On a GPU, fewer and bigger launches win, so only MXNet's `workspace` bounds the chunks there.
    cache_block = CPU_CACHE_BLOCK if xp.__name__ == "numpy" else None

    # -- helpers --------------------------------------------------------------------------------------------
    def scratch(slot: str, shape: tuple[int, ...], dtype, like):
        """A per-thread buffer reused across calls (fresh big arrays cost page faults on every call), one per
        slot ('cols'), dtype and device: a CuPy buffer made on one GPU must never serve another.
        Scratch contents are never returned. Buffers above SCRATCH_RETAIN_BYTES are allocated per call and
        not retained, so a thread holds at most that much per slot and dtype."""
        n = prod(shape)
        dtype = xp.dtype(dtype)
        if n * dtype.itemsize > SCRATCH_RETAIN_BYTES:
            return xp.empty(shape, dtype)
        bufs = getattr(local, "bufs", None)
        if bufs is None:
            bufs = local.bufs = {}
        device = getattr(like, "device", None)
        key = (slot, dtype.str, getattr(device, "id", device))  # CuPy: Device.id; NumPy 2: 'cpu'
        buf = bufs.get(key)
        if buf is None or buf.size < n:
            bufs.pop(key, None)  # drop the old buffer before allocating the bigger one
            buf = bufs[key] = xp.empty(n, dtype)
        return buf[:n].reshape(shape)

    def chunks(n: int, item_bytes: int, workspace_mb: int) -> list[tuple[int, int]]:
        """Batch ranges whose im2col columns fit the workspace (MXNet's bound) and, on CPU, the cache block."""
        limits = [workspace_mb << 20] if workspace_mb > 0 else []
        if cache_block:
            limits.append(cache_block)
        step = max(1, min(limits) // max(item_bytes, 1)) if limits else n
        return [(i, min(n, i + step)) for i in range(0, n, step)]

    def clip_pad(x, lo, hi):
        """Negative pads crop: x cropped accordingly, and the remaining non-negative pads."""
        if min(lo, default=0) >= 0 and min(hi, default=0) >= 0:
            return x, lo, hi
        keep = (slice(max(-a, 0), s - max(-b, 0)) for s, a, b in zip(x.shape[2:], lo, hi, strict=True))
        x = x[(slice(None), slice(None), *keep)]
        return x, tuple(max(a, 0) for a in lo), tuple(max(b, 0) for b in hi)

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

    def axis_windows(size: int, k: int, s: int, d: int, p: int, o: int) -> list[tuple[int, int, int]]:
        """Per kernel tap along one axis: the outputs lo:hi whose input lies inside the (unpadded) data, and the
        input index of output lo. The outputs outside lo:hi read padding."""
        spans = []
        for t in range(k):
            off = t * d - p  # input index that output 0 reads with this tap
            lo = min(o, max(0, -(off // s)))  # first output with o * s + off >= 0
            hi = max(lo, min(o, (size - 1 - off) // s + 1))  # one past the last with o * s + off <= size - 1
            spans.append((lo, hi, lo * s + off))
        return spans

    @lru_cache(maxsize=64)
    def col_plan(spatial: tuple[int, ...], geo: Geometry) -> list[tuple[tuple, tuple | None, list[tuple]]]:
        """Per kernel tap: (destination in the columns, source in the data, regions of the columns to zero).
        Padding is never materialised: each tap copies the data its outputs meet and zeroes the outputs that
        meet padding (no padded copy of the input first: ~1.5 ms less per im2col on the 3x3 reference layer)."""
        every = (slice(None), slice(None))
        per_axis = [axis_windows(*a) for a in zip(spatial, geo.kernel, geo.stride, geo.dilate, geo.pad_lo, geo.out,
                                                   strict=True)]
        plan = []
        for taps in product(*(enumerate(spans) for spans in per_axis)):
            at = every + tuple(t for t, _ in taps)
            if any(lo == hi for _, (lo, hi, _) in taps):  # this tap meets only padding
                plan.append((at, None, [at]))
                continue
            dst = at + tuple(slice(lo, hi) for _, (lo, hi, _) in taps)
            src = every + tuple(slice(i, i + (hi - lo - 1) * s + 1, s)
                                for (_, (lo, hi, i)), s in zip(taps, geo.stride, strict=True))
            zeros = []
            for axis, (_, (lo, hi, _)) in enumerate(taps):
                before = at + (slice(None),) * axis
                zeros += [before + (slice(None, lo),)] if lo else []
                zeros += [before + (slice(hi, None),)] if hi < geo.out[axis] else []
            plan.append((dst, src, zeros))
        return plan

    def im2col(x, geo: Geometry, n0: int, n1: int):
        """Columns (n, groups, C/g * K, out) of images n0:n1 in the 'cols' scratch (cache-sized on CPU, see
        `chunks`): one copy of the strided window view when unpadded, else tap by tap (see `col_plan`)."""
        part, lo, hi = clip_pad(x[n0:n1], geo.pad_lo, geo.pad_hi)
        n, c = part.shape[:2]
        k, o = prod(geo.kernel), prod(geo.out)
        if all(v == 1 for v in geo.kernel + geo.stride) and not any(lo + hi) and part.flags.c_contiguous:
            return part.reshape(n, geo.groups, c // geo.groups * k, o)  # 1x1 convolution: the data itself
        cols = scratch("cols", (n, c, *geo.kernel, *geo.out), part.dtype, part)
        if not any(lo + hi):  # no padding: one copy of the window view (LeNet-sized layers are call-bound)
            sp = part.strides[2:]
            xp.copyto(cols, as_strided(part, cols.shape, part.strides[:2]
                                       + tuple(s * d for s, d in zip(sp, geo.dilate, strict=True))
                                       + tuple(s * t for s, t in zip(sp, geo.stride, strict=True))))
            return cols.reshape(n, geo.groups, c // geo.groups * k, o)
        for dst, src, zeros in col_plan(tuple(part.shape[2:]), geo._replace(pad_lo=lo, pad_hi=hi)):
            if src is not None:
                cols[dst] = part[src]
            for region in zeros:
                cols[region] = 0
        return cols.reshape(n, geo.groups, c // geo.groups * k, o)

    def col_bytes(x, geo: Geometry) -> int:
        return x.shape[1] * prod(geo.kernel) * prod(geo.out) * x.dtype.itemsize

    # -- convolution building blocks (all in Convolution's terms: data -> output) ---------------------------
    def conv_pass(x, w, b, dy, geo: Geometry, workspace: int):
        """conv(x, w) + b and, when dy is given, the gradient of w for the output gradient dy (else None), in one
        pass over the columns of x: each chunk's columns feed both GEMMs while in cache (one im2col, not two)."""
        n = x.shape[0]
        f, g = w.shape[0], geo.groups
        wg = w.reshape(g, f // g, -1)
        y = xp.empty((n, g, f // g, prod(geo.out)), x.dtype)
        bias = None if b is None else b.reshape(g, f // g, 1)
        dyt = None if dy is None else dy.reshape(n, g, f // g, -1).swapaxes(-1, -2)  # BLAS reads it transposed
        dwt = None  # (groups, C/g * K, F/g)
        for n0, n1 in chunks(n, col_bytes(x, geo), workspace):
            part, cols = y[n0:n1], im2col(x, geo, n0, n1)
            xp.matmul(wg, cols, out=part)
            if bias is not None:
                part += bias  # while the chunk is still in cache
            if dyt is not None:
                acc = xp.matmul(cols, dyt[n0:n1]).sum(axis=0)
                dwt = acc if dwt is None else dwt + acc
        return y.reshape((n, f, *geo.out)), None if dy is None else weight_from_columns(dwt, w.shape)

    def conv_forward(x, w, b, geo: Geometry, workspace: int):
        return conv_pass(x, w, b, None, geo, workspace)[0]

    def weight_from_columns(dwt, w_shape):
        """dW from its (groups, C/g * K, F/g) accumulation (cols @ dYᵀ keeps both operands in stored order)."""
        return xp.ascontiguousarray(dwt.swapaxes(-1, -2)).reshape(w_shape)

    def conv_weight_grad(dy, x, w_shape, geo: Geometry, workspace: int):
        n = x.shape[0]
        f, g = w_shape[0], geo.groups
        dyt = dy.reshape(n, g, f // g, -1).swapaxes(-1, -2)
        dwt = None
        for n0, n1 in chunks(n, col_bytes(x, geo), workspace):
            part = xp.matmul(im2col(x, geo, n0, n1), dyt[n0:n1]).sum(axis=0)
            dwt = part if dwt is None else dwt + part
        return weight_from_columns(dwt, w_shape)

    def by_transposed_conv(w_shape, geo: Geometry) -> bool:
        """Whether the data gradient is a convolution of dY (stride 1, and no more output than input channels
        per group, else its im2col of dY would outweigh col2im's scatter)."""
        return all(s == 1 for s in geo.stride) and w_shape[0] // geo.groups <= 2 * w_shape[1]

    def swap_filters(w, groups: int):
        """Weights (g * A, B, *K) -> (g * B, A, *K) flipped in space: the transposed convolution's weights.
        Applied twice it is the identity, so it also maps that convolution's weight gradient back."""
        a, b, kernel = w.shape[0] // groups, w.shape[1], w.shape[2:]
        wt = w.reshape((groups, a, b, *kernel)).swapaxes(1, 2)[(Ellipsis, *(slice(None, None, -1),) * len(kernel))]
        return xp.ascontiguousarray(wt).reshape((groups * b, a, *kernel))

    def transposed_geometry(geo: Geometry, x_shape) -> Geometry:
        """The convolution of dY that is dX: dY padded by the dilated kernel extent less the forward padding."""
        reach = tuple(d * (k - 1) for k, d in zip(geo.kernel, geo.dilate, strict=True))
        lo = tuple(r - p for r, p in zip(reach, geo.pad_lo, strict=True))
        hi = tuple(r - p for r, p in zip(reach, geo.pad_hi, strict=True))
        return Geometry(geo.kernel, geo.stride, geo.dilate, lo, hi, geo.groups, tuple(x_shape[2:]))

    def conv_grads(dy, x, w, geo: Geometry, workspace: int):
        """dX and dW when dX is a convolution of dY: dW is the gradient of that convolution's weights (for
        output gradient x), mapped back, so one im2col of dY serves both and x needs none."""
        dx, dwt = conv_pass(dy, swap_filters(w, geo.groups), None, x, transposed_geometry(geo, x.shape), workspace)
        return dx, swap_filters(dwt, geo.groups)

    def conv_data_grad(dy, w, x_shape, geo: Geometry, workspace: int):
        if by_transposed_conv(w.shape, geo):  # a GEMM on im2col again, no scatter
            return conv_forward(dy, swap_filters(w, geo.groups), None, transposed_geometry(geo, x_shape), workspace)
        f, g = w.shape[0], geo.groups
        n = dy.shape[0]
        padded = tuple(s + a + b for s, a, b in zip(x_shape[2:], geo.pad_lo, geo.pad_hi, strict=True))
        if (g == 1 and len(padded) == 2 and geo.stride == (1, 1) and cache_block
                and prod(geo.kernel) * x_shape[1] * n * geo.out[0] * padded[1] * dy.dtype.itemsize
                <= min(4 * cache_block, (workspace or 1 << 30) << 20)):
            return flat_col2im(dy, w, x_shape, geo, padded)
        dxpad = xp.zeros((n, x_shape[1], *padded), dy.dtype)
        wt = w.reshape(g, f // g, -1).swapaxes(-1, -2)
        dyg = dy.reshape(n, g, f // g, -1)
        slices = tap_slices(geo.kernel, geo.stride, geo.dilate, geo.out)
        for n0, n1 in chunks(n, col_bytes(dxpad, geo), workspace):
            cols = scratch("cols", (n1 - n0, g, wt.shape[1], dyg.shape[-1]), dy.dtype, dy)
            xp.matmul(wt, dyg[n0:n1], out=cols)
            cols = cols.reshape((n1 - n0, x_shape[1], len(slices), *geo.out))
            target = dxpad[n0:n1]
            for i, sl in enumerate(slices):
                target[sl] += cols[:, :, i]
        return crop(dxpad, geo.pad_lo, x_shape[2:])

    def flat_col2im(dy, w, x_shape, geo: Geometry, padded):
        """2-D stride-1 data gradient for small images: one GEMM over the batch with dY's rows padded to the
        padded input width, so that each tap's scatter is one contiguous add per (channel, image) plane
        (col2im's 8-wide strided adds cost ~1 ms more on LeNet's conv2)."""
        n, f = dy.shape[:2]
        c = x_shape[1]
        (kh, kw), (dh, dw), (oh, ow), (ph, pw) = geo.kernel, geo.dilate, geo.out, padded
        dyp = xp.zeros((f, n, oh, pw), dy.dtype)
        dyp[..., :ow] = dy.transpose(1, 0, 2, 3)
        wt = w.reshape(f, c, kh * kw).transpose(2, 1, 0).reshape(kh * kw * c, f)
        length = oh * pw
        cols = xp.matmul(wt, dyp.reshape(f, -1)).reshape(kh * kw, c * n, length)
        flat = xp.zeros((c * n, ph * pw + (kw - 1) * dw), dy.dtype)  # the tail takes zero-valued spill only
        for i in range(kh):
            for j in range(kw):
                at = i * dh * pw + j * dw
                flat[:, at:at + length] += cols[i * kw + j]
        dxpad = flat[:, :ph * pw].reshape(c, n, ph, pw).transpose(1, 0, 2, 3)
        (lo_h, lo_w), (h, wd) = geo.pad_lo, x_shape[2:]
        return xp.ascontiguousarray(dxpad[:, :, lo_h:lo_h + h, lo_w:lo_w + wd])

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
        if by_transposed_conv(weight.shape, geo):
            return (*conv_grads(ograd, data, weight, geo, ws), bias_grad(ograd, attrs["no_bias"]))
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
        return (*conv_pass(ograd, weight, None, data, geo, ws), bias_grad(ograd, attrs["no_bias"]))

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

    # Windowed pooling is separable: a window is a product of 1-D intervals, so max/sum over it is a chain of
    # 1-D passes, one per spatial axis, each a loop over that axis's k taps (k + k strided ops instead of k*k;
    # the sum's adjoint likewise). Max's adjoint loops over all k*k taps in row-major order (MXNet's
    # first-maximum rule) with bool bookkeeping. Windows are clipped to the input (padding is never
    # materialised, as in MXNet's CPU loops); an output whose window lies entirely in padding keeps the pass's
    # identity (max: the lowest value, sum: 0).
    def pool_axes(geo, spatial) -> list[tuple[int, int, int, int, int, int]]:
        """(axis, size, kernel, stride, pad, out) of every spatial axis that pooling actually changes."""
        return [(axis + 2, x, k, s, p, o)
                for axis, (x, k, s, p, o) in enumerate(zip(spatial, geo.kernel, geo.stride, geo.pad_lo, geo.out,
                                                            strict=True))
                if (k, s, p, o) != (1, 1, 0, x)]

    def axis_taps(size: int, k: int, s: int, p: int, o: int) -> list[tuple[slice, slice]]:
        """Per kernel tap along one axis: (output slice, input slice) of the windows it meets inside the input."""
        taps = []
        for t in range(k):
            lo = max(0, -((t - p) // s))  # first output whose tap t lands at index >= 0: ceil((p - t) / s)
            hi = min(o, (size - 1 - t + p) // s + 1)  # one past the last landing at index <= size - 1
            if lo < hi:
                start = lo * s - p + t
                taps.append((slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s)))
        return taps

    def window_taps(specs) -> list[tuple[tuple, tuple]]:
        """Taps of the windows over several axes in row-major order: (output index, input index) pairs."""
        per_axis = [axis_taps(*spec[1:]) for spec in specs]
        taps = []
        for combo in product(*per_axis):
            dst, src = [slice(None)] * (specs[-1][0] + 1), [slice(None)] * (specs[-1][0] + 1)
            for spec, (d, sl) in zip(specs, combo, strict=True):
                dst[spec[0]], src[spec[0]] = d, sl
            taps.append((tuple(dst), tuple(src)))
        return taps

    def pool_pass(x, specs, reduce, identity):
        """out[..., j, ...] = reduce of x over window j on the axes of `specs` (a new array)."""
        taps = window_taps(specs)
        shape = list(x.shape)
        for axis, *_, o in specs:
            shape[axis] = o
        full = tuple(slice(0, shape[i]) if d != slice(None) else d for i, d in enumerate(taps[0][0]))
        first = next((tap for tap in taps if tap[0] == full), None)  # a tap every output meets
        if first is None:
            out = xp.full(tuple(shape), identity, x.dtype)
        else:
            out = x[first[1]].copy()
            taps = [tap for tap in taps if tap is not first]
        for dst, src in taps:
            view = out[dst]
            reduce(view, x[src], out=view)
        return out

    def pool_forward(x, specs, reduce, identity):
        """Separable passes when they save work (k*k taps vs k + k: 3x3 and up), else one pass over all taps
        (2x2: four strided taps beat two passes that also write a half-size intermediate)."""
        if len(specs) < 2 or prod(spec[2] for spec in specs) <= sum(spec[2] for spec in specs):
            return pool_pass(x, specs, reduce, identity) if specs else x
        for spec in specs:  # outer axes first: their passes read whole contiguous rows of the big input
            x = pool_pass(x, [spec], reduce, identity)
        return x

    def adjoint_target(g, specs, taps):
        """The input-shaped gradient of a pass over `specs`: uninitialised only when its windows are disjoint
        and cover every input (then each element is written exactly once)."""
        shape = list(g.shape)
        for axis, size, *_ in specs:
            shape[axis] = size
        disjoint = all(s >= k for _, _, k, s, _, _ in specs)
        covered = disjoint and all(
            sum(d.stop - d.start for d, _ in axis_taps(*spec[1:])) == spec[1] for spec in specs)
        return (xp.empty if covered else xp.zeros)(tuple(shape), g.dtype), disjoint

    def spread(g, specs):
        """Adjoint of a window sum: every output's gradient added to each input of its window."""
        taps = window_taps(specs)
        out, disjoint = adjoint_target(g, specs, taps)
        for dst, src in taps:
            if disjoint:
                out[src] = g[dst]
            else:
                out[src] += g[dst]
        return out

    def route(a, r, g, specs):
        """Adjoint of a window max r of a: each output's gradient goes to the first tap (row-major) of its
        window equal to the max: MXNet's rule. Bool bookkeeping and a multiply by the mask (np.where and
        copyto(where=) are several times slower on CPU)."""
        taps = window_taps(specs)
        out, disjoint = adjoint_target(g, specs, taps)
        taken = xp.zeros(r.shape, bool)  # per output: an earlier tap already matched the max
        for i, (dst, src) in enumerate(taps):
            eq = a[src] == r[dst]
            hit = eq > taken[dst]  # eq and not taken
            if i + 1 < len(taps):
                taken[dst] |= eq
            if disjoint:
                xp.multiply(g[dst], hit, out=out[src])
            else:
                out[src] += g[dst] * hit
        return out

    def pooling(data, **attrs):
        geo = pool_geometry(attrs, data.shape)
        kind, p = attrs["pool_type"], attrs["p_value"]
        if attrs["global_pool"]:
            return global_pooling(data, kind, p)
        specs = pool_axes(geo, data.shape[2:])
        if kind == "max":
            out = pool_forward(data, specs, xp.maximum, lowest(data.dtype))
        else:
            out = pool_forward(power(data, p) if kind == "lp" else data, specs, xp.add, 0)
            if kind == "avg":
                out /= avg_divisor(geo, data.shape[2:], attrs["count_include_pad"] is not False, data.dtype)
            elif kind == "lp":
                out = root(out, p)
        return out.copy() if out is data else out  # kernel 1, stride 1: never return the input itself

    def backward_pooling(ograd, data, output, **attrs):
        geo = pool_geometry(attrs, data.shape)
        kind, p = attrs["pool_type"], attrs["p_value"]
        if attrs["global_pool"]:
            return global_pooling_grad(ograd, data, output, kind, p)
        specs = pool_axes(geo, data.shape[2:])
        if kind == "max":
            dx = route(data, output, ograd, specs)  # one pass over all taps: row-major tie order for free
        else:
            g = ograd
            if kind == "avg":
                g = ograd / avg_divisor(geo, data.shape[2:], attrs["count_include_pad"] is not False, data.dtype)
            elif kind == "lp" and p > 1:
                g = ograd / power(output, p - 1)  # d(sum x^p)^(1/p) / dx = x^(p-1) / y^(p-1)
            for spec in specs[::-1]:  # the adjoint of the forward chain runs its passes in reverse
                g = spread(g, [spec])
            dx = g * power(data, p - 1) if kind == "lp" and p > 1 else g
        return dx.copy() if dx is ograd else dx

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
