"""MXNet 1.9 results for the shape family (see family_oracle.py); run with the oracle's Python to record.

The Reshape cases are the examples of MXNet's Reshape documentation (codes 0, -1, -2, -3, -4 and reverse),
plus combinations. Not here, on purpose (mxplug differs, tested in tests/ops/test_shape.py):
- malformed Reshape codes: MXNet 1.9 aborts the process, or returns an array of the wrong size filled from
  memory past the input, on some of them (shape=(-1, 5), (2, 12, -2), or (8, 0) and (-1, 2, -4) with
  reverse); mxplug raises ShapeError. Reshape to shape=() fails in MXNet too (MKLDNN), with another error.
- negative axes for reverse and broadcast_axis: MXNet rejects them, mxplug counts them from the end;
- negative pad widths (MXNet crops), integer Pad (MXNet's CPU kernel refuses it);
- repeats=0 (MXNet gives shape (0,), mxplug an empty axis).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

X = "mx.nd.array(np.arange(24).reshape(2, 3, 4) * 0.5 - 3.0)"  # exact binary fractions
XI = "mx.nd.array(np.arange(24).reshape(2, 3, 4) - 7, dtype='int32')"
X4 = "mx.nd.array(np.arange(32).reshape(1, 2, 4, 4) * 0.25)"
X5 = "mx.nd.array(np.arange(2 * 3 * 3 * 3).reshape(1, 2, 3, 3, 3) * 0.5)"
M = "mx.nd.array(np.arange(12).reshape(3, 4) + 1.0)"

# MXNet's documented Reshape examples: (input shape, codes, reverse).
RESHAPES = {
    "doc0_402": ((2, 3, 4), (4, 0, 2), False),
    "doc0_200": ((2, 3, 4), (2, 0, 0), False),
    "doc1_61m1": ((2, 3, 4), (6, 1, -1), False),
    "doc1_3m18": ((2, 3, 4), (3, -1, 8), False),
    "doc1_m1": ((2, 3, 4), (-1,), False),
    "doc2_m2": ((2, 3, 4), (-2,), False),
    "doc2_2m2": ((2, 3, 4), (2, -2), False),
    "doc2_m211": ((2, 3, 4), (-2, 1, 1), False),
    "doc3_m34": ((2, 3, 4), (-3, 4), False),
    "doc3_m3m3": ((2, 3, 4, 5), (-3, -3), False),
    "doc3_0m3": ((2, 3, 4), (0, -3), False),
    "doc3_m3m2": ((2, 3, 4), (-3, -2), False),
    "doc4_m412m2": ((2, 3, 4), (-4, 1, 2, -2), False),
    "doc4_2m4m13m2": ((2, 3, 4), (2, -4, -1, 3, -2), False),
    "doc_rev_plain": ((10, 5, 4), (-1, 0), False),
    "doc_rev": ((10, 5, 4), (-1, 0), True),
    "m4_m12m2": ((2, 3, 4), (-4, -1, 2, -2), False),
    "m4_2m1m2": ((2, 3, 4), (-4, 2, -1, -2), False),
    "m2m2": ((2, 3, 4), (-2, -2), False),
    "m10_4": ((2, 3, 4), (-1, 0, 4), False),
    "m1_1_0": ((2, 3, 4), (-1, 1, 0), False),
    "rev_2m10": ((2, 3, 4), (2, -1, 0), True),
    "rev_m3m1": ((2, 3, 4), (-3, -1), True),
    "rev_m1m3": ((2, 3, 4), (-1, -3), True),
    "rev_0m1": ((2, 3, 4), (0, -1), True),
    "rev_m2m3": ((2, 3, 4), (-2, -3), True),
    "rev_split": ((2, 3, 4), (2, 3, 2, 2, -4), True),
    "rev_split_infer": ((2, 3, 4), (0, 0, -1, 2, -4), True),
}


def _array(shape: tuple[int, ...]) -> str:
    return f"mx.nd.array(np.arange({'*'.join(map(str, shape))}).reshape{shape})"


def _grad(x: str, call: str, head: str = "") -> str:
    """y = call(x) backward with a fixed head of y's shape (1, 2, 3, … modulo 7, minus 3)."""
    head = head or "mx.nd.array(np.arange(y.size).reshape(y.shape) % 7 - 3.0)"
    return (f"x = {x}\nx.attach_grad()\nwith mx.autograd.record():\n    y = {call}\n"
            f"y.backward({head})\nr = (y, x.grad)")


def _reshape_cases(c: dict[str, str]) -> None:
    for name, (shape, codes, reverse) in RESHAPES.items():
        rev = ", reverse=True" if reverse else ""
        c[f"Reshape.{name}"] = f"mx.nd.Reshape({_array(shape)}, shape={codes}{rev})"
    c["reshape.alias_int32"] = f"mx.nd.reshape({XI}, shape=(4, -1))"
    c["reshape_like.plain"] = f"mx.nd.reshape_like({X}, mx.nd.zeros((6, 4)))"
    c["reshape_like.ranges"] = "mx.nd.reshape_like(mx.nd.ones((30, 7)), mx.nd.ones((15, 2, 4)), lhs_begin=0, " \
                               "lhs_end=1, rhs_begin=0, rhs_end=2)"
    c["reshape_like.neg_begin"] = f"mx.nd.reshape_like({X}, mx.nd.zeros((7, 2, 2)), lhs_begin=-1, rhs_begin=1)"
    c["reshape_like.lhs_end"] = f"mx.nd.reshape_like({X}, mx.nd.zeros((6,)), lhs_end=2)"
    c["Flatten.3d"] = f"mx.nd.Flatten({X})"
    c["flatten.1d"] = "mx.nd.flatten(mx.nd.arange(5))"
    c["expand_dims.end"] = f"mx.nd.expand_dims({X}, axis=3)"
    c["expand_dims.neg"] = f"mx.nd.expand_dims({X}, axis=-4)"
    c["expand_dims.mid_int32"] = f"mx.nd.expand_dims({XI}, axis=1)"
    c["squeeze.all"] = "mx.nd.squeeze(mx.nd.arange(3).reshape((1, 3, 1)))"
    c["squeeze.everything"] = "mx.nd.squeeze(mx.nd.ones((1, 1)))"
    c["squeeze.axes"] = "mx.nd.squeeze(mx.nd.arange(3).reshape((1, 3, 1)), axis=(0, 2))"
    c["squeeze.neg"] = "mx.nd.squeeze(mx.nd.arange(3).reshape((1, 3, 1)), axis=-1)"
    c["squeeze.empty_axis"] = "mx.nd.squeeze(mx.nd.arange(3).reshape((1, 3, 1)), axis=())"
    c["squeeze.only_axis"] = "mx.nd.squeeze(mx.nd.ones((1,)), axis=0)"


def _permute_cases(c: dict[str, str]) -> None:
    c["transpose.default"] = f"mx.nd.transpose({X})"
    c["transpose.axes"] = f"mx.nd.transpose({X}, axes=(1, 0, 2))"
    c["SwapAxis.default"] = f"mx.nd.SwapAxis({X})"
    c["swapaxes.02"] = f"mx.nd.swapaxes({X}, 0, 2)"
    c["swapaxes.neg"] = f"mx.nd.swapaxes({X}, dim1=-1, dim2=1)"
    c["reverse.one"] = f"mx.nd.reverse({X}, axis=1)"
    c["flip.two"] = f"mx.nd.flip({X}, axis=(0, 2))"
    c["reverse.twice"] = f"mx.nd.reverse({X}, axis=(1, 1))"
    c["reverse.int32"] = f"mx.nd.reverse({XI}, axis=2)"
    c["depth_to_space.b2"] = "mx.nd.depth_to_space(mx.nd.array(np.arange(48).reshape(1, 12, 2, 2)), 2)"
    c["depth_to_space.b1"] = "mx.nd.depth_to_space(mx.nd.array(np.arange(48).reshape(2, 6, 2, 2)), 1)"
    c["space_to_depth.b2"] = "mx.nd.space_to_depth(mx.nd.array(np.arange(48).reshape(1, 3, 4, 4)), 2)"
    c["space_to_depth.b3"] = "mx.nd.space_to_depth(mx.nd.array(np.arange(72).reshape(2, 1, 6, 6)), 3)"
    for label, kw in {"k0": "", "k1": ", k=1", "km2": ", k=-2"}.items():
        c[f"diag.vec_{label}"] = f"mx.nd.diag(mx.nd.array([1., 2., 3.]){kw})"
    for label, kw in {"k0": "", "k1": ", k=1", "km1": ", k=-1", "k3": ", k=3", "k4": ", k=4", "km3": ", k=-3"}.items():
        c[f"diag.mat_{label}"] = f"mx.nd.diag({M}{kw})"
    c["diag.3d"] = f"mx.nd.diag({X}, k=1)"
    c["diag.3d_axes"] = f"mx.nd.diag({X}, k=1, axis1=-1, axis2=0)"
    c["diag.4d_axes"] = "mx.nd.diag(mx.nd.array(np.arange(120).reshape(2, 3, 4, 5)), k=-1, axis1=3, axis2=1)"
    c["diag.int32"] = f"mx.nd.diag({XI}, axis1=1, axis2=2)"


def _join_cases(c: dict[str, str]) -> None:
    a, b = "mx.nd.array([[1., 2., 3.], [4., 5., 6.]])", "mx.nd.array([[7., 8.], [9., 10.]])"
    c["concat.default_dim"] = f"mx.nd.concat({a}, {b})"
    c["concat.neg_dim"] = f"mx.nd.concat({a}, {b}, {a}, dim=-1)"
    c["Concat.dim0_num_args"] = f"mx.nd.Concat({a}, {a}, dim=0, num_args=2)"
    c["concat.one"] = f"mx.nd.concat({a})"
    c["concat.int32"] = f"mx.nd.concat({XI}, {XI}, dim=2)"
    c["stack.default"] = f"mx.nd.stack({a}, {a} * 2)"
    c["stack.last"] = f"mx.nd.stack({a}, {a} * 2, {a} * 3, axis=-1)"
    c["stack.mid"] = f"mx.nd.stack({a}, {a} * 2, axis=1)"
    c["stack.one"] = f"mx.nd.stack({a})"
    c["split.default"] = f"mx.nd.split({X}, num_outputs=3)"
    c["split.last"] = f"mx.nd.split({X}, num_outputs=2, axis=-1)"
    c["split.squeeze"] = f"mx.nd.split({X}, num_outputs=3, squeeze_axis=True)"
    c["split.one"] = f"mx.nd.split({X}, num_outputs=1)"
    c["SliceChannel.positional"] = f"mx.nd.SliceChannel({X}, 2, 0)"
    c["SliceChannel.squeeze_1d"] = "mx.nd.SliceChannel(mx.nd.array([1., 2., 3.]), 3, axis=0, squeeze_axis=True)"
    c["split_v2.indices"] = f"mx.nd._internal._split_v2({X}, indices=(0, 1, 3), axis=2)"
    c["split_v2.one"] = f"mx.nd._internal._split_v2({X}, indices=(0,), axis=1)"


def _repeat_pad_cases(c: dict[str, str]) -> None:
    for label, reps in {"short": "(2,)", "long": "(2, 1, 1, 2)", "same": "(1, 2, 3)", "empty": "()"}.items():
        c[f"tile.{label}"] = f"mx.nd.tile({X}, reps={reps})"
    c["tile.int32"] = f"mx.nd.tile({XI}, reps=(2, 1))"
    c["repeat.flat"] = f"mx.nd.repeat({X}, repeats=2)"
    c["repeat.last"] = f"mx.nd.repeat({X}, repeats=3, axis=-1)"
    c["repeat.first"] = f"mx.nd.repeat({X}, repeats=2, axis=0)"
    c["repeat.neg_first"] = f"mx.nd.repeat({XI}, repeats=2, axis=-3)"
    widths = {"4d": (X4, "(0, 0, 0, 0, 1, 2, 3, 1)"), "5d": (X5, "(0, 0, 0, 0, 1, 2, 2, 1, 0, 2)"),
              "4d_big": (X4, "(0, 0, 0, 0, 3, 3, 0, 2)")}
    for mode in ("constant", "edge", "reflect"):
        for label, (data, width) in widths.items():
            c[f"pad.{mode}.{label}"] = f"mx.nd.pad({data}, mode='{mode}', pad_width={width})"
    c["Pad.constant_value"] = f"mx.nd.Pad({X4}, mode='constant', pad_width=(0, 0, 0, 0, 2, 2, 1, 1), " \
                              "constant_value=-1.5)"
    c["pad.edge_wide"] = f"mx.nd.pad({X4}, mode='edge', pad_width=(0, 0, 0, 0, 5, 5, 1, 1))"


def _broadcast_cases(c: dict[str, str]) -> None:
    row = "mx.nd.array([[1., 2., 3.]])"
    c["broadcast_to.plain"] = f"mx.nd.broadcast_to({row}, shape=(2, 3))"
    c["broadcast_to.keep"] = f"mx.nd.broadcast_to({row}, shape=(4, 0))"
    c["broadcast_to.int32"] = "mx.nd.broadcast_to(mx.nd.array([[1], [2]], dtype='int32'), shape=(2, 3))"
    c["broadcast_axis.two"] = "mx.nd.broadcast_axis(mx.nd.array([[[1.], [2.], [3.]]]), axis=(0, 2), size=(2, 4))"
    c["broadcast_axes.alias"] = "mx.nd.broadcast_axes(mx.nd.array([[[1.], [2.], [3.]]]), axis=2, size=2)"
    c["broadcast_axis.none"] = "mx.nd.broadcast_axis(mx.nd.array([[[1.], [2.], [3.]]]))"
    c["broadcast_like.plain"] = f"mx.nd.broadcast_like({row}, mx.nd.zeros((2, 3)))"
    c["broadcast_like.axes"] = "mx.nd.broadcast_like(mx.nd.ones((1, 2)), mx.nd.zeros((3, 4, 5)), " \
                               "lhs_axes=(0,), rhs_axes=(2,))"
    c["shape_array.3d"] = f"mx.nd.shape_array({X})"
    c["shape_array.1d_int32"] = "mx.nd.shape_array(mx.nd.ones((3,), dtype='int32'))"
    c["size_array.3d"] = f"mx.nd.size_array({X})"


def _grad_cases(c: dict[str, str]) -> None:
    calls = {
        "reshape": "mx.nd.reshape(x, shape=(-4, 1, 2, -2))",
        "reshape_like": "mx.nd.reshape_like(x, mx.nd.zeros((4, 6)))",
        "flatten": "mx.nd.flatten(x)",
        "expand_dims": "mx.nd.expand_dims(x, axis=1)",
        "transpose": "mx.nd.transpose(x, axes=(2, 0, 1))",
        "swapaxes": "mx.nd.swapaxes(x, 0, 2)",
        "flip": "mx.nd.flip(x, axis=(0, 2))",
        "concat": "mx.nd.concat(x, x * 2, dim=1)",
        "stack": "mx.nd.stack(x, x * 2, axis=1)",
        "split0": "mx.nd.split(x, num_outputs=3, axis=1)[0]",
        "split_squeeze2": "mx.nd.split(x, num_outputs=3, axis=1, squeeze_axis=True)[2]",
        "tile": "mx.nd.tile(x, reps=(2, 1, 1, 2))",
        "repeat_axis": "mx.nd.repeat(x, repeats=3, axis=1)",
        "repeat_flat": "mx.nd.repeat(x, repeats=2)",
        "diag": "mx.nd.diag(x, k=1)",
        "diag_axes": "mx.nd.diag(x, k=-1, axis1=2, axis2=1)",
        "broadcast_axis": "mx.nd.broadcast_axis(mx.nd.expand_dims(x, axis=0), axis=0, size=2)",
    }
    for name, call in calls.items():
        c[f"grad.{name}"] = _grad(X, call)
    c["grad.diag_vec"] = _grad("mx.nd.array([1., 2., 3.])", "mx.nd.diag(x, k=-1)")
    c["grad.broadcast_to"] = _grad("mx.nd.array([[1., 2., 3.]])", "mx.nd.broadcast_to(x, shape=(4, 3))")
    c["grad.depth_to_space"] = _grad("mx.nd.array(np.arange(48).reshape(1, 12, 2, 2))", "mx.nd.depth_to_space(x, 2)")
    c["grad.space_to_depth"] = _grad("mx.nd.array(np.arange(48).reshape(1, 3, 4, 4))", "mx.nd.space_to_depth(x, 2)")
    for mode in ("constant", "edge", "reflect"):
        c[f"grad.pad_{mode}"] = _grad(X4, f"mx.nd.pad(x, mode='{mode}', pad_width=(0, 0, 0, 0, 3, 2, 1, 3))")
    c["grad.pad_reflect_5d"] = _grad(X5, "mx.nd.pad(x, mode='reflect', pad_width=(0, 0, 0, 0, 2, 1, 1, 2, 2, 2))")
    c["grad.pad_edge_5d"] = _grad(X5, "mx.nd.pad(x, mode='edge', pad_width=(0, 0, 0, 0, 4, 1, 1, 0, 2, 3))")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    for part in (_reshape_cases, _permute_cases, _join_cases, _repeat_pad_cases, _broadcast_cases, _grad_cases):
        part(c)
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    check("shape", CASES, name, mx)


if __name__ == "__main__":
    record("shape", CASES)
