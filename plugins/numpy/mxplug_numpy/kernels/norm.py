"""NumPy/CuPy kernels of the norm operators.

BatchNorm, LayerNorm, InstanceNorm and GroupNorm run on the (A, B, D) view `mxplug.ops.norm.norm_view` gives
(gamma/beta along B, statistics over (A, D), D or B), in two passes over the data for the statistics — the sum,
then the centred sum of squares (stable where E[x²] - E[x]² is not) — and one in-place pass for the output.
Accumulation is in the computation dtype, as MXNet's CPU kernels accumulate (float32 for float32 data; float16
is computed in float32). Each backward is one call: per-group sums of g and g·x̂ (one reduction and one
einsum), from which the data, gamma and beta gradients follow in place.
"""

from __future__ import annotations

from math import prod

from mxplug.ops.norm import l2_axes, norm_view

# einsum output subscripts of a sum of products over the statistics axes of an (A, B, D) view
_KEEP = {(0, 2): "b", (2,): "ab", (1,): "ad"}


def make_kernels(xp) -> dict:
    def work(x):
        """float16 is computed in float32; other dtypes as they are."""
        return x.astype(xp.float32) if x.dtype == xp.float16 else x

    def kept(view, axes):
        return tuple(1 if i in axes else s for i, s in enumerate(view))

    def sumprod(a, b, axes):
        """Σ a·b over `axes` of (A, B, D) arrays, with those axes kept as 1."""
        return xp.einsum(f"abd,abd->{_KEEP[axes]}", a, b).reshape(kept(a.shape, axes))

    def moments(x3, axes):
        """(x - mean, mean, biased variance) over `axes`, the statistics kept as size-1 axes."""
        n = prod(x3.shape[a] for a in axes)
        mean = x3.sum(axis=axes, keepdims=True) / n
        centred = x3 - mean
        return centred, mean, sumprod(centred, centred, axes) / n

    def affine_(centred, scale, shift):
        """centred * scale + shift, in place (centred is a fresh array)."""
        centred *= scale
        centred += shift
        return centred

    def backward(g3, x3, gamma3, mean3, invstd3, axes):
        """Gradients of y = (x - mean) * invstd * gamma + beta with batch statistics over `axes`:
        dx = invstd (dy - mean(dy) - x̂ mean(dy x̂)) with dy = g gamma; dgamma = Σ g x̂, dbeta = Σ g."""
        n = prod(x3.shape[a] for a in axes)
        centred = x3 - mean3
        if axes == (1,):  # LayerNorm: gamma varies inside each statistics group
            centred *= invstd3
            dbeta, dgamma = g3.sum(axis=(0, 2)), xp.einsum("abd,abd->b", g3, centred)
            dy = g3 * gamma3
            s1 = dy.sum(axis=1, keepdims=True) / n
            s2 = sumprod(dy, centred, axes) / n
            centred *= s2
            dy -= s1
            dy -= centred
            dy *= invstd3
            return dy, dgamma, dbeta
        # gamma is constant inside each statistics group: the group sums of g and g x̂ give everything, and
        # dx = scale g - (scale invstd s2) (x - mean) - scale s1 with scale = gamma invstd (one pass fewer
        # than forming x̂)
        sg = g3.sum(axis=2)
        sgx = xp.einsum("abd,abd->ab", g3, centred) * invstd3[:, :, 0]
        dbeta, dgamma = sg.sum(axis=0), sgx.sum(axis=0)
        if axes == (0, 2):
            s1, s2 = dbeta[None, :, None] / n, dgamma[None, :, None] / n
        else:
            s1, s2 = sg[:, :, None] / n, sgx[:, :, None] / n
        scale = invstd3 * gamma3
        dx = g3 * scale
        centred *= scale * invstd3 * s2
        dx -= centred
        dx -= scale * s1
        return dx, dgamma, dbeta

    # -- BatchNorm ----------------------------------------------------------------------------------------------
    def bn_view(data, axis):
        view = norm_view("BatchNorm", {"axis": axis}, data.shape)
        return view.shape

    def as_channel(v):
        return v.reshape(1, -1, 1)

    def batch_norm(data, gamma, beta, moving_mean, moving_var, *, eps, momentum, fix_gamma, use_global_stats,
                   output_mean_var, axis, cudnn_off, min_calib_range, max_calib_range, is_train=False):
        pdt = gamma.dtype
        x3 = data.reshape(bn_view(data, axis)).astype(pdt, copy=False)
        if is_train and not use_global_stats:
            centred, mean, var = moments(x3, (0, 2))
            mean, invstd = mean.reshape(-1), 1 / xp.sqrt(var.reshape(-1) + eps)
        else:
            mean, invstd = moving_mean.copy(), 1 / xp.sqrt(moving_var + eps)
            centred = x3 - as_channel(mean)
        scale = invstd if fix_gamma else gamma * invstd
        out = affine_(centred, as_channel(scale), as_channel(beta))
        return out.reshape(data.shape).astype(data.dtype, copy=False), mean.astype(pdt), invstd.astype(pdt)

    def batch_norm_backward(ograd, data, gamma, mean, var, moving_mean, moving_var, *, eps, momentum, fix_gamma,
                            use_global_stats, output_mean_var, axis, cudnn_off, min_calib_range,
                            max_calib_range, is_train=False):
        # `var` is the forward's inverse std. MXNet's backward: batch formula and moving-statistics update when
        # it runs in training mode without use_global_stats, else the moving statistics as constants.
        pdt = gamma.dtype
        shape3 = bn_view(data, axis)
        x3 = data.reshape(shape3).astype(pdt, copy=False)
        g3 = ograd.reshape(shape3).astype(pdt, copy=False)
        gamma3 = 1.0 if fix_gamma else as_channel(gamma)
        if is_train and not use_global_stats:
            dx, dgamma, dbeta = backward(g3, x3, gamma3, as_channel(mean), as_channel(var), (0, 2))
            batch_var = 1 / (var * var) - eps  # MXNet recovers the variance from the saved inverse std
            momentum = float(xp.float32(momentum))  # MXNet's momentum parameter is a float32 (0.9 → 0.899999976)
            moving_mean *= momentum
            moving_mean += mean * (1 - momentum)
            moving_var *= momentum
            moving_var += batch_var * (1 - momentum)
        else:
            invstd = as_channel(1 / xp.sqrt(moving_var + eps))
            xhat = (x3 - as_channel(moving_mean)) * invstd
            dbeta, dgamma = g3.sum(axis=(0, 2)), xp.einsum("abd,abd->b", g3, xhat)
            dx = g3 * (invstd * gamma3)
        if fix_gamma:
            dgamma = xp.zeros_like(gamma)
        return (dx.reshape(data.shape).astype(data.dtype, copy=False), dgamma.astype(pdt, copy=False),
                dbeta.astype(pdt, copy=False))

    # -- LayerNorm, InstanceNorm, GroupNorm ------------------------------------------------------------------------
    def affine_norm(op: str):
        def forward(data, gamma, beta, **attrs):
            view = norm_view(op, attrs, data.shape)
            x3 = work(data).reshape(view.shape)
            centred, mean, var = moments(x3, view.stat_axes)
            std = xp.sqrt(var + attrs["eps"])
            gamma3 = as_channel(work(gamma))
            if view.stat_axes == (1,):  # LayerNorm: gamma / std would be a full-size array; scale twice
                centred /= std
                scale = gamma3
            else:
                scale = gamma3 / std
            out = affine_(centred, scale, as_channel(work(beta)))
            dt = data.dtype
            return (out.reshape(data.shape).astype(dt, copy=False), mean.reshape(view.stats_shape).astype(dt),
                    std.reshape(view.stats_shape).astype(dt, copy=False))

        def grad(ograd, data, gamma, mean, std, **attrs):
            view = norm_view(op, attrs, data.shape)
            k = kept(view.shape, view.stat_axes)
            g3, x3 = work(ograd).reshape(view.shape), work(data).reshape(view.shape)
            dx, dgamma, dbeta = backward(g3, x3, as_channel(work(gamma)), work(mean).reshape(k),
                                         1 / work(std).reshape(k), view.stat_axes)
            return (dx.reshape(data.shape).astype(data.dtype, copy=False), dgamma.astype(gamma.dtype),
                    dbeta.astype(gamma.dtype))

        return forward, grad

    # -- L2Normalization ------------------------------------------------------------------------------------------
    def l2_normalization(data, *, eps, mode):
        x = work(data)
        axes = l2_axes(mode, data.ndim)
        norm = xp.sqrt((x * x).sum(axis=axes, keepdims=True) + eps)
        out = (x / norm).astype(data.dtype, copy=False)
        norm_shape = tuple(s for i, s in enumerate(data.shape) if i not in axes)
        return out, norm.reshape(norm_shape).astype(data.dtype)

    # -- LRN ----------------------------------------------------------------------------------------------------
    def channel_window_sum(v, nsize):
        """Σ over the nsize channels (axis 1) centred on each channel, clipped at the edges."""
        acc = v.copy()
        for k in range(1, min(nsize // 2, v.shape[1] - 1) + 1):
            acc[:, k:] += v[:, :-k]
            acc[:, :-k] += v[:, k:]
        return acc

    def lrn_scale(x, alpha, knorm, nsize):
        s = channel_window_sum(x * x, nsize)
        s *= alpha / nsize
        s += knorm
        return s

    def lrn(data, *, alpha, beta, knorm, nsize):
        x = work(data)
        return (x * lrn_scale(x, alpha, knorm, nsize) ** -beta).astype(data.dtype, copy=False)

    def lrn_backward(ograd, data, *, alpha, beta, knorm, nsize):
        # y_i = x_i s_i^-β with s_i = k + α/n Σ_{j near i} x_j²:
        # dx_i = g_i s_i^-β - 2αβ/n x_i Σ_{j near i} g_j y_j / s_j (the window is symmetric)
        x, g = work(data), work(ograd)
        s = lrn_scale(x, alpha, knorm, nsize)
        p = s ** -beta
        back = channel_window_sum(g * x * p / s, nsize)
        back *= x * (-2.0 * alpha * beta / nsize)
        back += g * p
        return back.astype(data.dtype, copy=False)

    # -- sequences ----------------------------------------------------------------------------------------------
    def lengths(seq, low, high):
        """Sequence lengths truncated toward zero (MXNet casts them to an index type), clipped to [low, high]."""
        return xp.clip(seq.astype(xp.int64), low, high)

    def steps_mask(data, keep):
        """(T, N) or (N, T) booleans broadcast over data's trailing axes."""
        return keep.reshape(keep.shape + (1,) * (data.ndim - 2))

    def sequence_mask(data, sequence_length=None, *, use_sequence_length, value, axis):
        if not use_sequence_length:
            return data.copy()
        t = data.shape[axis]
        n = lengths(sequence_length, 0, t)
        steps = xp.arange(t)
        keep = steps[:, None] < n[None, :] if axis == 0 else steps[None, :] < n[:, None]
        return xp.where(steps_mask(data, keep), data, xp.asarray(value).astype(data.dtype))

    def last_index(data, sequence_length, use_sequence_length, axis):
        t, batch = data.shape[axis], data.shape[1 - axis]
        if use_sequence_length:
            idx = lengths(sequence_length, 1, t) - 1
        else:
            idx = xp.full((batch,), t - 1, dtype=xp.int64)
        rows = xp.arange(batch)
        return (idx, rows) if axis == 0 else (rows, idx)

    def sequence_last(data, sequence_length=None, *, use_sequence_length, axis):
        return data[last_index(data, sequence_length, use_sequence_length, axis)]

    def sequence_last_backward(ograd, data, sequence_length=None, *, use_sequence_length, axis):
        out = xp.zeros_like(data)
        out[last_index(data, sequence_length, use_sequence_length, axis)] = ograd
        return out

    def sequence_reverse(data, sequence_length=None, *, use_sequence_length, axis):
        if not use_sequence_length:
            return data[::-1].copy()
        t, batch = data.shape[0], data.shape[1]
        n = lengths(sequence_length, 0, t)[None, :]
        steps = xp.arange(t)[:, None]
        src = xp.where(steps < n, n - 1 - steps, steps)
        return data[src, xp.arange(batch)[None, :]]

    table = {
        "BatchNorm": batch_norm,
        "_backward_BatchNorm": batch_norm_backward,
        "L2Normalization": l2_normalization,
        "LRN": lrn,
        "_backward_LRN": lrn_backward,
        "SequenceMask": sequence_mask,
        "SequenceLast": sequence_last,
        "_backward_SequenceLast": sequence_last_backward,
        "SequenceReverse": sequence_reverse,
    }
    for op in ("LayerNorm", "InstanceNorm", "GroupNorm"):
        table[op], table[f"_backward_{op}"] = affine_norm(op)
    return table
