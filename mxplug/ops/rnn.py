"""Inference and gradients of the rnn operators (registry/rnn.toml): MXNet's fused `RNN`.

The forward kernel returns four outputs — output, hy, cy (empty unless LSTM) and a `reserve` of intermediates
(gate activations, previous states, inter-layer inputs and dropout masks), as MXNet keeps a reserve space —
and the user sees the first one, two or three. The gradient hands the reserve to the internal `_backward_RNN`,
which back-propagates through time without running the forward again. The reserve is only filled when
training (`is_train`): outside training it is empty and `_backward_RNN` recomputes the intermediates (possible
because no dropout was drawn then), so inference keeps no per-step memory.
"""

from __future__ import annotations

from ..base import DTypeError, OperatorAttributeError, ShapeError
from . import gradient, infer, infer_inputs, input_names, num_outputs, visible_outputs
from ._util import spec

__all__ = ["GATES", "param_size", "reserve_size"]

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
# Reserve floats per (layer, direction), in units of T*N*H: the gate activations (G) and the previous hidden
# state, plus LSTM's previous and new cells, GRU's W_hn h + b_hn.
_RESERVE_PER_CELL = {"rnn_relu": 2, "rnn_tanh": 2, "lstm": 7, "gru": 5}
_FLOAT_DTYPES = ("float16", "float32", "float64")


def _dirs(attrs) -> int:
    return 2 if attrs["bidirectional"] else 1


def param_size(mode: str, num_layers: int, directions: int, input_size: int, state_size: int) -> int:
    """Length of the packed parameter vector (MXNet's GetRnnParamSize without projection)."""
    gh = GATES[mode] * state_size
    first = gh * (input_size + state_size + 2)
    other = gh * (directions * state_size + state_size + 2)
    return directions * (first + (num_layers - 1) * other)


def reserve_size(attrs, seq_len: int, batch: int) -> int:
    """Elements of the reserve the forward keeps when training (the numpy kernel's `_carve` gives the order)."""
    if not attrs.get("is_train"):
        return 0
    h, layers, d = attrs["state_size"], attrs["num_layers"], _dirs(attrs)
    tn = seq_len * batch
    per_layer_input = tn * d * h * (2 if attrs["p"] > 0 else 1)  # layer input (and its dropout mask), l >= 1
    return layers * d * _RESERVE_PER_CELL[attrs["mode"]] * tn * h + (layers - 1) * per_layer_input


def _check_attrs(op: str, attrs) -> None:
    if attrs["projection_size"] is not None:
        raise OperatorAttributeError(
            f"operator '{op}': projection_size={attrs['projection_size']} (LSTM with projection, LSTMP) is not "
            "implemented in mxplug"
        )
    if attrs["state_size"] <= 0 or attrs["num_layers"] <= 0:
        raise OperatorAttributeError(
            f"operator '{op}': state_size ({attrs['state_size']}) and num_layers ({attrs['num_layers']}) must be "
            "positive"
        )
    if not 0.0 <= attrs["p"] < 1.0:
        raise OperatorAttributeError(f"operator '{op}': dropout p={attrs['p']} must lie in [0, 1)")
    lo, hi = attrs["lstm_state_clip_min"], attrs["lstm_state_clip_max"]
    if lo is not None or hi is not None:
        if attrs["mode"] != "lstm":
            raise OperatorAttributeError(f"operator '{op}': state clipping is only supported for mode='lstm'")
        if lo is None or hi is None:
            raise OperatorAttributeError(
                f"operator '{op}': lstm_state_clip_min and lstm_state_clip_max must be given together"
            )
        if hi < lo:
            raise OperatorAttributeError(
                f"operator '{op}': lstm_state_clip_max ({hi}) must be >= lstm_state_clip_min ({lo})"
            )


def _check_inputs(op: str, attrs, data, parameters, state, state_cell, sequence_length) -> None:
    """Shapes and dtypes of RNN's inputs, with messages naming the expected shapes."""
    if len(data.shape) != 3:
        raise ShapeError(f"operator '{op}': data must be 3-D (seq_length, batch, input_size), got {data.shape}")
    t, n, i = data.shape
    if data.dtype.name not in _FLOAT_DTYPES:
        raise DTypeError(f"operator '{op}': data must be float16, float32 or float64, got {data.dtype.name}")
    for name, s in (("parameters", parameters), ("state", state), ("state_cell", state_cell)):
        if s is not None and s.dtype != data.dtype:
            raise DTypeError(f"operator '{op}': {name} is {s.dtype.name}, data is {data.dtype.name}; they must match")
    mode, h, layers, d = attrs["mode"], attrs["state_size"], attrs["num_layers"], _dirs(attrs)
    want = param_size(mode, layers, d, i, h)
    if parameters.shape != (want,):
        raise ShapeError(
            f"operator '{op}': parameters has shape {parameters.shape}, expected ({want},) — the packed size for "
            f"mode='{mode}', num_layers={layers}, bidirectional={attrs['bidirectional']}, input_size={i}, "
            f"state_size={h}"
        )
    state_shape = (layers * d, n, h)
    if state.shape != state_shape:
        raise ShapeError(
            f"operator '{op}': state has shape {state.shape}, expected (num_layers*directions, batch, state_size) "
            f"= {state_shape}"
        )
    if mode == "lstm":
        if state_cell is None:
            raise ShapeError(f"operator '{op}': mode='lstm' needs state_cell of shape {state_shape}")
        if state_cell.shape != state_shape:
            raise ShapeError(f"operator '{op}': state_cell has shape {state_cell.shape}, expected {state_shape}")
    elif state_cell is not None:
        raise ShapeError(f"operator '{op}': state_cell is only taken by mode='lstm', not mode='{mode}'")
    if attrs["use_sequence_length"]:
        if sequence_length is None or sequence_length.shape != (n,):
            got = None if sequence_length is None else sequence_length.shape
            raise ShapeError(f"operator '{op}': use_sequence_length=True needs sequence_length of shape ({n},), "
                             f"got {got}")
    elif sequence_length is not None:
        raise ShapeError(f"operator '{op}': sequence_length is given but use_sequence_length is False")


def _output_specs(attrs, data, state):
    t, n, _ = data.shape
    dt = data.dtype
    cy = state.shape if attrs["mode"] == "lstm" else (0,)
    return [spec((t, n, _dirs(attrs) * attrs["state_size"]), dt), spec(state.shape, dt), spec(cy, dt),
            spec((reserve_size(attrs, t, n),), dt)]


@infer("RNN")
def _rnn(attrs, data, parameters, state, state_cell=None, sequence_length=None):
    _check_attrs("RNN", attrs)
    _check_inputs("RNN", attrs, data, parameters, state, state_cell, sequence_length)
    return _output_specs(attrs, data, state)


@visible_outputs("RNN")
def _rnn_visible(attrs) -> int:
    if not attrs["state_outputs"]:
        return 1
    return 3 if attrs["mode"] == "lstm" else 2


@input_names("RNN", "_backward_RNN")
def _rnn_inputs(attrs) -> list[str]:
    names = ["data", "parameters", "state"]
    if attrs["mode"] == "lstm":
        names.append("state_cell")
    if attrs["use_sequence_length"]:
        names.append("sequence_length")
    return names


@infer_inputs("RNN")
def _rnn_infer_inputs(attrs, data, parameters=None, state=None, state_cell=None, sequence_length=None):
    if data is None or len(data.shape) != 3:
        return [data, parameters, state, state_cell, sequence_length]
    t, n, i = data.shape
    d, h = _dirs(attrs), attrs["state_size"]
    dt = data.dtype
    states = spec((attrs["num_layers"] * d, n, h), dt)
    params = spec((param_size(attrs["mode"], attrs["num_layers"], d, i, h),), dt)
    cell = states if attrs["mode"] == "lstm" else None
    return [data, params, states, cell, sequence_length]


@infer("_backward_RNN")
def _rnn_backward(attrs, data, parameters, state, state_cell, sequence_length, reserve, ograd, state_ograd,
                  statecell_ograd=None):
    _check_attrs("_backward_RNN", attrs)
    _check_inputs("_backward_RNN", attrs, data, parameters, state, state_cell, sequence_length)
    dt = data.dtype
    cell = state_cell.shape if state_cell is not None else (0,)
    return [spec(data.shape, dt), spec(parameters.shape, dt), spec(state.shape, dt), spec(cell, dt)]


@num_outputs("_backward_RNN")
def _four(attrs) -> int:
    return 4


@gradient("RNN")
def _rnn_grad(F, attrs, inputs, outputs, ograds):
    data, parameters, state, state_cell, sequence_length = (list(inputs) + [None] * 5)[:5]
    lstm = attrs["mode"] == "lstm"
    battrs = {k: v for k, v in attrs.items() if k != "is_train"}
    dx, dw, dhx, dcx = F._internal._backward_RNN(
        data, parameters, state, state_cell, sequence_length, outputs[3], ograds[0], ograds[1],
        ograds[2] if lstm else None, **battrs,
    )
    return [dx, dw, dhx, dcx if lstm else None, None]
