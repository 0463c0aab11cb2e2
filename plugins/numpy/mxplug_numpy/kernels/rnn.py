"""NumPy/CuPy kernels of MXNet's fused RNN operator and its backward pass (BPTT).

Per layer and direction, the input projections of all time steps are one GEMM (T*N, in) x (in, G*H) before
the recurrence, which then costs one (N, H) x (H, G*H) GEMM per step plus the gate arithmetic. The backward
pass mirrors it: one (N, G*H) x (G*H, H) GEMM per step, then the weight gradients and the input gradient as
single GEMMs over every step.

Internally the LSTM gates are reordered i, f, o, g (MXNet packs i, f, g, o) so the three sigmoid gates are one
contiguous block, and every sigmoid is computed as 0.5 * tanh(x / 2) + 0.5 with the halving folded into the
(copied) weights and biases — exact in binary floating point — so one tanh call activates all gates of a step.

The reserve (MXNet's reserve space, kept only when training) is carved in a fixed order by `_carve`:
for each layer l: [l >= 1: the layer's input (T, N, D*H), and its dropout mask when p > 0], then for each
direction: the gate activations (T, N, G*H), the previous hidden states (T, N, H), and for LSTM the previous
and the new cells (T, N, H) each, for GRU W_hn h + b_hn (T, N, H). Rows are indexed by time, both directions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}


@dataclass(frozen=True)
class _Config:
    mode: str
    layers: int
    dirs: int
    hidden: int
    seq: int
    batch: int
    input_size: int
    p: float
    clip: tuple[float, float] | None
    clip_nan: bool

    @property
    def gates(self) -> int:
        return GATES[self.mode]

    def layer_input(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.dirs * self.hidden


def _config(data, attrs) -> _Config:
    t, n, i = data.shape
    lo, hi = attrs["lstm_state_clip_min"], attrs["lstm_state_clip_max"]
    return _Config(attrs["mode"], attrs["num_layers"], 2 if attrs["bidirectional"] else 1, attrs["state_size"],
                   t, n, i, attrs["p"], None if lo is None else (lo, hi), attrs["lstm_state_clip_nan"])


def _param_views(params, cfg: _Config) -> list[list[tuple]]:
    """[layer][direction] → (Wx (G*H, in), Wh (G*H, H), bx (G*H,), bh (G*H,)): views of the packed vector
    (weights first, layer by layer, direction by direction, i2h then h2h; then the biases in that order)."""
    gh = cfg.gates * cfg.hidden
    weights, pos = [], 0
    for layer in range(cfg.layers):
        row = []
        for _ in range(cfg.dirs):
            n_in = cfg.layer_input(layer)
            wx = params[pos:pos + gh * n_in].reshape(gh, n_in)
            pos += gh * n_in
            wh = params[pos:pos + gh * cfg.hidden].reshape(gh, cfg.hidden)
            pos += gh * cfg.hidden
            row.append([wx, wh])
        weights.append(row)
    for layer in range(cfg.layers):
        for d in range(cfg.dirs):
            bx = params[pos:pos + gh]
            bh = params[pos + gh:pos + 2 * gh]
            pos += 2 * gh
            weights[layer][d] += [bx, bh]
    return [[tuple(w) for w in row] for row in weights]


# Reserve blocks per (layer, direction) besides the gates and previous hidden states, and the floats they take
# in units of T*N*H (kept equal to mxplug.ops.rnn's reserve size).
_EXTRA = {"rnn_relu": (), "rnn_tanh": (), "lstm": ("cprev", "cnew"), "gru": ("hn",)}


def reserve_len(cfg: _Config) -> int:
    tn = cfg.seq * cfg.batch
    per_cell = (cfg.gates + 1 + len(_EXTRA[cfg.mode])) * tn * cfg.hidden
    per_layer = tn * cfg.dirs * cfg.hidden * (2 if cfg.p > 0 else 1)
    return cfg.layers * cfg.dirs * per_cell + (cfg.layers - 1) * per_layer


def _carve(xp, cfg: _Config, flat, dtype) -> list[dict]:
    """The reserve's views in their fixed order: per layer {"x", "mask", "cells": [per direction {"gates",
    "hprev", extra...}]}. Without a buffer (inference) every block is a scratch array whose time axis has
    length 1 (`"keep": False`: callers then index time through `at`)."""
    pos = 0

    def take(shape):
        nonlocal pos
        if flat is None:
            return xp.empty((1,) + shape[1:], dtype=dtype)
        size = shape[0] * shape[1] * shape[2]
        view = flat[pos:pos + size].reshape(shape)
        pos += size
        return view

    t, n, h = cfg.seq, cfg.batch, cfg.hidden
    layers = []
    for layer in range(cfg.layers):
        entry = {"x": None, "mask": None, "cells": []}
        if layer > 0 and flat is not None:
            entry["x"] = take((t, n, cfg.dirs * h))
            if cfg.p > 0:
                entry["mask"] = take((t, n, cfg.dirs * h))
        for _ in range(cfg.dirs):
            cell = {"gates": take((t, n, cfg.gates * h)), "hprev": take((t, n, h))}
            for name in _EXTRA[cfg.mode]:
                cell[name] = take((t, n, h))
            entry["cells"].append(cell)
        layers.append(entry)
    return layers


def _swap_lstm(xp, mode: str, hidden: int, w):
    """LSTM gate rows i, f, g, o ↔ i, f, o, g (an involution: it maps both ways); other modes unchanged."""
    if mode != "lstm":
        return w
    h = hidden
    return xp.concatenate([w[:2 * h], w[3 * h:], w[2 * h:3 * h]])


_SIGMOID_ROWS = {"lstm": 3, "gru": 2, "rnn_tanh": 0, "rnn_relu": 0}  # leading sigmoid gates, internal order


def make_kernels(xp, rng: Callable | None = None) -> dict:
    if rng is None:
        private = xp.random.default_rng()

        def rng(ctx):
            return private

    def halved(cfg: _Config, w):
        """A copy of w (internal gate order) with the sigmoid gates' rows halved: sigmoid(x) = 0.5 tanh(x/2) + 0.5."""
        out = _swap_lstm(xp, cfg.mode, cfg.hidden, w)
        out = out.copy() if out is w else out
        out[:_SIGMOID_ROWS[cfg.mode] * cfg.hidden] *= 0.5
        return out

    def cell_weights(cfg: _Config, wx, wh, bx, bh):
        """(Wx, Wh, b_input, b_step) for the forward; b_input folds both biases except for GRU, whose b_hn the
        reset gate multiplies: GRU adds its h2h bias at each step."""
        if cfg.mode == "gru":
            return halved(cfg, wx), halved(cfg, wh), halved(cfg, bx), halved(cfg, bh)
        return halved(cfg, wx), halved(cfg, wh), halved(cfg, bx + bh), None

    def steps(cfg: _Config, reverse: bool):  # noqa: FBT001
        return range(cfg.seq - 1, -1, -1) if reverse else range(cfg.seq)

    def clip_cell(cfg: _Config, c):
        lo, hi = cfg.clip
        if cfg.clip_nan:  # fmax/fmin replace NaN by the bound (cuDNN's NOT_PROPAGATE_NAN)
            return xp.fmin(xp.fmax(c, c.dtype.type(lo)), c.dtype.type(hi))
        return xp.clip(c, lo, hi)

    def lstm_step(cfg, a, xp_t, c, cell, k, keep):
        hdim = cfg.hidden
        a += xp_t
        xp.tanh(a, out=a)
        s = a[:, :3 * hdim]
        s *= 0.5
        s += 0.5
        if keep:
            cell["cprev"][k] = c
        c_new = a[:, hdim:2 * hdim] * c
        c_new += a[:, :hdim] * a[:, 3 * hdim:]
        if cfg.clip is not None:
            c_new = clip_cell(cfg, c_new)
        if keep:
            cell["cnew"][k] = c_new
        h_new = xp.tanh(c_new)
        h_new *= a[:, 2 * hdim:3 * hdim]
        return h_new, c_new

    def gru_step(cfg, a, xp_t, h, b_step, cell, k):
        hdim = cfg.hidden
        a += b_step
        hn = cell["hn"][k]
        hn[...] = a[:, 2 * hdim:]
        rz = a[:, :2 * hdim]
        rz += xp_t[:, :2 * hdim]
        xp.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        n_g = a[:, 2 * hdim:]
        xp.multiply(a[:, :hdim], hn, out=n_g)
        n_g += xp_t[:, 2 * hdim:]
        xp.tanh(n_g, out=n_g)
        h_new = h - n_g
        h_new *= a[:, hdim:2 * hdim]
        h_new += n_g
        return h_new

    def cell_forward(cfg: _Config, x, weights, h, c, valid, y, cell: dict, keep: bool, reverse: bool):  # noqa: FBT001
        """One direction of one layer: writes its hidden states into `y` (T, N, H) (a strided view of the
        layer output) and its reserve blocks; returns the final (h, c)."""
        t_len, n = cfg.seq, cfg.batch
        gh = cfg.gates * cfg.hidden
        wx, wh, b_in, b_step = cell_weights(cfg, *weights)
        whT = wh.T
        xproj = xp.matmul(x.reshape(t_len * n, -1), wx.T).reshape(t_len, n, gh)
        xproj += b_in
        gates, hprev = cell["gates"], cell["hprev"]
        for t in steps(cfg, reverse):
            k = t if keep else 0
            if keep:  # inference stores nothing per step
                hprev[k] = h
            a = gates[k]
            xp.matmul(h, whT, out=a)
            if cfg.mode == "lstm":
                h_new, c_new = lstm_step(cfg, a, xproj[t], c, cell, k, keep)
            elif cfg.mode == "gru":
                h_new = gru_step(cfg, a, xproj[t], h, b_step, cell, k)
            else:
                a += xproj[t]
                if cfg.mode == "rnn_tanh":
                    xp.tanh(a, out=a)
                else:
                    xp.maximum(a, 0, out=a)
                h_new = a
            if valid is None:
                y[t] = h_new
                h = y[t]
                c = c_new if cfg.mode == "lstm" else c
            else:  # past its length a sequence keeps its state and outputs zeros (cuDNN's padding)
                v = valid[t]
                xp.multiply(h_new, v, out=y[t])
                h = xp.where(v > 0, h_new, h)
                c = xp.where(v > 0, c_new, c) if cfg.mode == "lstm" else c
        return h, c

    def valid_mask(cfg: _Config, seq_len, dtype):
        if seq_len is None:
            return None
        t = xp.arange(cfg.seq).reshape(cfg.seq, 1, 1)
        return (t < seq_len.astype("int64").reshape(1, cfg.batch, 1)).astype(dtype)

    def forward(data, params, hx, cx, seq_len, cfg: _Config, reserve, dropout: bool):  # noqa: FBT001
        """The whole stack; fills `reserve` (None: keeps nothing). Returns (output, hy, cy)."""
        t_len, n, hdim, d_n = cfg.seq, cfg.batch, cfg.hidden, cfg.dirs
        dt = data.dtype
        blocks = _carve(xp, cfg, reserve, dt)
        keep = reserve is not None
        weights = _param_views(params, cfg)
        valid = valid_mask(cfg, seq_len, dt)
        hy = xp.empty(hx.shape, dtype=dt)
        cy = xp.empty(cx.shape if cx is not None else (0,), dtype=dt)
        x = data
        for layer in range(cfg.layers):
            entry = blocks[layer]
            if layer > 0:
                mask = None
                if cfg.p > 0 and dropout:
                    draw = rng(None).random(x.shape, dtype="float64" if dt == "float64" else "float32")
                    mask = ((draw >= cfg.p) * (1.0 / (1.0 - cfg.p))).astype(dt)
                    x = x * mask
                if keep:
                    entry["x"][...] = x
                    if entry["mask"] is not None:
                        entry["mask"][...] = 1 if mask is None else mask
            y = xp.empty((t_len, n, d_n * hdim), dtype=dt)
            for d in range(d_n):
                i = layer * d_n + d
                h, c = cell_forward(cfg, x, weights[layer][d], hx[i], None if cx is None else cx[i], valid,
                                    y[:, :, d * hdim:(d + 1) * hdim], entry["cells"][d], keep, d == 1)
                hy[i] = h
                if cx is not None:
                    cy[i] = c
            x = y
        return x, hy, cy

    def rnn(data, parameters, state, state_cell=None, sequence_length=None, *, is_train=False, **attrs):
        cfg = _config(data, attrs)
        reserve = xp.empty((reserve_len(cfg),), dtype=data.dtype) if is_train else None
        out, hy, cy = forward(data, parameters, state, state_cell, sequence_length, cfg, reserve, is_train)
        return out, hy, cy, reserve if reserve is not None else xp.empty((0,), dtype=data.dtype)

    # -- backward -----------------------------------------------------------------------------------------------
    def lstm_grad(cfg, a, gx, dh_new, dc, v, cell, t):
        """Fills gx (N, 4H) with the pre-activation gradients; returns the gradient w.r.t. the previous cell."""
        hdim = cfg.hidden
        one = a.dtype.type(1)
        i_g, f_g, o_g, c_g = (a[:, k * hdim:(k + 1) * hdim] for k in range(4))
        c_new = cell["cnew"][t]
        tc = xp.tanh(c_new)
        xp.multiply(dh_new, tc, out=gx[:, 2 * hdim:3 * hdim])
        tc *= tc
        xp.subtract(one, tc, out=tc)
        tc *= o_g
        tc *= dh_new
        tc += dc if v is None else dc * v
        dc_new = tc
        if cfg.clip is not None:  # the clip passes gradient only where it did not bind
            dc_new *= (c_new > cfg.clip[0]) & (c_new < cfg.clip[1])
        xp.multiply(dc_new, c_g, out=gx[:, :hdim])
        xp.multiply(dc_new, cell["cprev"][t], out=gx[:, hdim:2 * hdim])
        xp.multiply(dc_new, i_g, out=gx[:, 3 * hdim:])
        sig = gx[:, :3 * hdim]
        sig *= a[:, :3 * hdim]
        sig *= one - a[:, :3 * hdim]
        gx[:, 3 * hdim:] *= one - c_g * c_g
        dc_prev = dc_new * f_g
        if v is not None:
            dc_prev += dc * (one - v)
        return dc_prev

    def gru_grad(cfg, a, gx, gg, dh_new, cell, t):
        """Fills gx (input-side) and gg (hidden-side: W_h h + b_h) pre-activation gradients."""
        hdim = cfg.hidden
        one = a.dtype.type(1)
        r_g, z_g, n_g = (a[:, k * hdim:(k + 1) * hdim] for k in range(3))
        dn = dh_new * (one - z_g)
        dn *= one - n_g * n_g
        gx[:, 2 * hdim:] = dn
        xp.multiply(dn, r_g, out=gg[:, 2 * hdim:])
        dr = dn * cell["hn"][t]
        dr *= r_g
        dr *= one - r_g
        gx[:, :hdim] = dr
        dz = cell["hprev"][t] - n_g
        dz *= dh_new
        dz *= z_g
        dz *= one - z_g
        gx[:, hdim:2 * hdim] = dz
        gg[:, :2 * hdim] = gx[:, :2 * hdim]

    def cell_backward(cfg: _Config, x, weights, valid, dy, dh, dc, cell: dict, reverse: bool):  # noqa: FBT001
        """One direction of one layer back through time. Returns (dx (T, N, in), [dWx, dWh, dbx, dbh] in
        MXNet's gate order, dh0, dc0)."""
        t_len, n, hdim = cfg.seq, cfg.batch, cfg.hidden
        gh = cfg.gates * hdim
        wx, wh = (_swap_lstm(xp, cfg.mode, hdim, w) for w in weights[:2])
        gates, hprev = cell["gates"], cell["hprev"]
        dgx = xp.empty((t_len, n, gh), dtype=x.dtype)
        dgh = xp.empty((t_len, n, gh), dtype=x.dtype) if cfg.mode == "gru" else dgx
        one = x.dtype.type(1)
        for t in reversed(steps(cfg, reverse)):
            v = None if valid is None else valid[t]
            dh_new = dh + dy[t]
            if v is not None:
                dh_new *= v
            a, gx = gates[t], dgx[t]
            if cfg.mode == "lstm":
                dc = lstm_grad(cfg, a, gx, dh_new, dc, v, cell, t)
            elif cfg.mode == "gru":
                gru_grad(cfg, a, gx, dgh[t], dh_new, cell, t)
            elif cfg.mode == "rnn_tanh":
                xp.multiply(dh_new, one - a * a, out=gx)
            else:
                xp.multiply(dh_new, a > 0, out=gx)
            dh_prev = xp.matmul(dgh[t], wh)
            if cfg.mode == "gru":
                dh_prev += dh_new * a[:, hdim:2 * hdim]
            if v is not None:  # masked steps pass the state gradient straight through
                dh_prev += dh * (one - v)
            dh = dh_prev
        tn = t_len * n
        gx2, gh2 = dgx.reshape(tn, gh), dgh.reshape(tn, gh)
        dbx = gx2.sum(axis=0)
        grads = [xp.matmul(gx2.T, x.reshape(tn, -1)), xp.matmul(gh2.T, hprev.reshape(tn, hdim)), dbx,
                 gh2.sum(axis=0) if cfg.mode == "gru" else dbx]
        dx = xp.matmul(gx2, wx).reshape(t_len, n, -1)
        return dx, [_swap_lstm(xp, cfg.mode, hdim, g) for g in grads], dh, dc

    def backward_rnn(data, parameters, state, state_cell, sequence_length, reserve, ograd, state_ograd,
                     statecell_ograd=None, **attrs):
        cfg = _config(data, attrs)
        dt = data.dtype
        if reserve.shape[0] == 0:  # the forward ran outside training: recompute (no dropout was drawn)
            reserve = xp.empty((reserve_len(cfg),), dtype=dt)
            forward(data, parameters, state, state_cell, sequence_length, cfg, reserve, False)
        blocks = _carve(xp, cfg, reserve, dt)
        weights = _param_views(parameters, cfg)
        valid = valid_mask(cfg, sequence_length, dt)
        hdim, d_n = cfg.hidden, cfg.dirs
        dhx = xp.empty(state.shape, dtype=dt)
        dcx = xp.empty(state.shape if cfg.mode == "lstm" else (0,), dtype=dt)
        wgrads = [[None] * d_n for _ in range(cfg.layers)]
        dy = ograd
        for layer in range(cfg.layers - 1, -1, -1):
            entry = blocks[layer]
            x = data if layer == 0 else entry["x"]
            dx = None
            for d in range(d_n):
                i = layer * d_n + d
                dc0 = statecell_ograd[i] if cfg.mode == "lstm" else None
                dxd, wgrads[layer][d], dhx[i], dc = cell_backward(
                    cfg, x, weights[layer][d], valid, dy[:, :, d * hdim:(d + 1) * hdim], state_ograd[i], dc0,
                    entry["cells"][d], d == 1)
                if cfg.mode == "lstm":
                    dcx[i] = dc
                dx = dxd if dx is None else dx + dxd
            dy = dx if entry["mask"] is None else dx * entry["mask"]
        # packed as the parameters: every weight (layer, direction, i2h then h2h), then every bias
        flat = [w.ravel() for row in wgrads for g in row for w in g[:2]]
        flat += [b for row in wgrads for g in row for b in g[2:]]
        return dy, xp.concatenate(flat), dhx, dcx

    return {"RNN": rnn, "_backward_RNN": backward_rnn}
