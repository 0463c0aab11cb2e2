"""MXNet 1.9 results for the fused RNN operator (see family_oracle.py); run with the oracle's Python:

    /work/oracle/mxnet/bin/python tests/oracle/record_rnn.py

Each case draws data, the packed parameter vector and the initial states from a seeded NumPy generator (the
same values in MXNet and mxplug), runs `mx.nd.RNN` for every mode, 1 and 2 layers, uni- and bidirectional,
with and without state outputs, and records the outputs; the gradient cases record, under autograd (training,
p=0), the gradients of data, parameters, state and state_cell for a fixed head gradient. This pins MXNet's
packed parameter layout (weights then biases; i2h then h2h; LSTM gates i, f, g, o; GRU r, z, n with the reset
gate multiplying W_hn h + b_hn) and the state layout (layer-major, direction-minor).

Not recorded, on purpose: use_sequence_length, projection_size and lstm_state_clip_* (MXNet's CPU build
ignores or refuses them: they are cuDNN features; tests/ops/test_rnn.py checks mxplug's cuDNN semantics
against its own reference), and dropout (MXNet's draws differ from ours).
"""

from __future__ import annotations

import json

if __package__:
    from .core_cases import encode, run
    from .family_oracle import oracle_file, record
else:
    from core_cases import encode, run
    from family_oracle import oracle_file, record

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
T, N, IN, H = 4, 3, 5, 3


def _size(mode: str, layers: int, dirs: int) -> int:
    gh = GATES[mode] * H
    return dirs * (gh * (IN + H + 2) + (layers - 1) * gh * (dirs * H + H + 2))


def _setup(mode: str, layers: int, dirs: int, seed: int) -> str:
    ld = layers * dirs
    cell = f"c = mx.nd.array(g.uniform(-1, 1, ({ld}, {N}, {H})))\n" if mode == "lstm" else "c = None\n"
    return (f"g = np.random.RandomState({seed})\n"
            f"x = mx.nd.array(g.uniform(-1, 1, ({T}, {N}, {IN})))\n"
            f"w = mx.nd.array(g.uniform(-0.6, 0.6, ({_size(mode, layers, dirs)},)))\n"
            f"s = mx.nd.array(g.uniform(-1, 1, ({ld}, {N}, {H})))\n" + cell)


def _call(mode: str, layers: int, dirs: int, state_outputs: bool) -> str:  # noqa: FBT001
    args = "x, w, s" + (", c" if mode == "lstm" else "")
    return (f"mx.nd.RNN({args}, state_size={H}, num_layers={layers}, bidirectional={dirs == 2}, "
            f"mode='{mode}', state_outputs={state_outputs})")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    for k, mode in enumerate(GATES):
        for layers, dirs in ((1, 1), (1, 2), (2, 1), (2, 2)):
            seed = 10 * k + 2 * layers + dirs
            tag = f"{mode}.L{layers}.D{dirs}"
            for so in (False, True):
                body = _call(mode, layers, dirs, so)
                c[f"fwd.{tag}.so{int(so)}"] = _setup(mode, layers, dirs, seed) + f"r = {body}"
            cell_grad = ", c.grad" if mode == "lstm" else ""
            heads = "y = out[0] * hg + (out[1] * 0.5).sum() " + ("+ (out[2] * 0.25).sum()" if mode == "lstm" else "")
            c[f"grad.{tag}"] = (
                _setup(mode, layers, dirs, seed + 100)
                + f"hg = mx.nd.array(g.uniform(-1, 1, ({T}, {N}, {dirs * H})))\n"
                + "for a in [x, w, s] + ([c] if c is not None else []):\n    a.attach_grad()\n"
                + f"with mx.autograd.record():\n    out = {_call(mode, layers, dirs, True)}\n    {heads}\n"
                + f"y.backward()\nr = (x.grad, w.grad, s.grad{cell_grad})"
            )
    return c


CASES = _cases()


def _arrays(result: dict) -> list:
    import numpy as np

    items = result["items"] if result["kind"] == "seq" else [result]
    return [(tuple(i["shape"]), np.array(i["values"], dtype="float64")) for i in items]


def check_case(name: str, mx) -> None:
    """Run case `name` with mxplug and compare with MXNet's recording. float32 BPTT accumulates rounding
    differently from MXNet's loops, so values agree to 1e-4 relative to each array's largest magnitude."""
    import numpy as np

    expected = json.loads(oracle_file("rnn").read_text())["cases"][name]
    assert expected["code"] == CASES[name], f"case {name} changed since it was recorded: re-run record_rnn.py"
    got = encode(run(CASES[name], mx))
    assert got["kind"] == expected["result"]["kind"], f"{name}: {got} vs MXNet's {expected['result']['kind']}"
    for k, ((gs, g), (ws, w)) in enumerate(zip(_arrays(got), _arrays(expected["result"]), strict=True)):
        assert gs == ws, f"{name}[{k}]: shape {gs} != MXNet's {ws}"
        scale = max(1.0, float(np.abs(w).max()))
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5 * scale, err_msg=f"{name}[{k}]")


if __name__ == "__main__":
    record("rnn", CASES)
