"""MXNet 1.9 results for the norm family (see family_oracle.py); run with the oracle's Python to record:

    /work/oracle/mxnet/bin/python tests/oracle/record_norm.py

Recorded here, because MXNet's BatchNorm semantics are subtle and easy to get wrong:
- the `mean`/`var` outputs (output_mean_var): the batch mean and the INVERSE std 1/sqrt(var + eps) when training,
  the moving mean and 1/sqrt(moving_var + eps) otherwise;
- WHEN the moving statistics change: not by the forward (the `after_forward` copies), but by the backward pass
  when it runs in training mode without use_global_stats — once per backward (retain_graph twice: twice) —
  with moving = moving * momentum + batch * (1 - momentum) and the biased batch variance;
- the gradients in every mode: training (batch formula), use_global_stats and predict (moving statistics as
  constants), fix_gamma (gamma used as 1, zero gradient), a predict-mode forward with a training-mode backward
  (MXNet then applies the batch formula to the moving statistics the forward returned), a training forward
  with a predict-mode backward, and heads on the hidden mean/var outputs (no gradient flows through them);
- axis other than 1, 2-D and 5-D data, float16 data with float32 parameters.
And the other operators' forward values, hidden-output shapes and gradients: LayerNorm (axes, mean/std
outputs), GroupNorm (gamma per group), InstanceNorm, L2Normalization (every mode; 1-D data is N instances of
one element), LRN (float32: MXNet's CPU LRN takes nothing else), SequenceMask/Last/Reverse with and without
lengths, fractional and int lengths, axis 0/1, 2-D data.

Not here (tests/ops/test_norm.py pins them): errors; fix_gamma's in-place write of ones into gamma (MXNet
overwrites the gamma array; mxplug only uses 1); lengths outside [1, T] for SequenceLast/SequenceReverse
(MXNet reads out of bounds; mxplug clips); SequenceLast's gradient without lengths (MXNet 1.9.1 segfaults there).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

RS = "np.random.RandomState({seed})"


def _array(name: str, shape: tuple, seed: int, low: float = -1.0, high: float = 2.0, dtype: str = "float64") -> str:
    return f"{name} = mx.nd.array({RS.format(seed=seed)}.uniform({low}, {high}, {shape}), dtype='{dtype}')\n"


def _grad_case(call: str, arrays: str, grads: str, seed: int = 0, record: str = "", backward: str = "",
               result: str = "y") -> str:
    """`arrays` defines the inputs (those named in `grads` get attach_grad); y = call recorded; backward with
    a seeded head gradient on y (or y[0] for multi-output calls); r = (result, grads)."""
    names = [g.strip().removesuffix(".grad") for g in grads.split(",") if g.strip()]
    head = "(y[0] if isinstance(y, list) else y)"
    return (
        arrays
        + "".join(f"{n}.attach_grad()\n" for n in names)
        + f"with mx.autograd.record({record}):\n    y = {call}\n"
        + f"h = {head}\n"
        + f"h.backward(mx.nd.array({RS.format(seed=seed + 100)}.uniform(-1, 1, h.shape), dtype=h.dtype){backward})\n"
        + f"r = ({result}, {grads})"
    )


def _bn_arrays(shape: tuple, channels: int, dtype: str = "float64", pdtype: str | None = None) -> str:
    p = pdtype or dtype
    return (_array("x", shape, 1, dtype=dtype) + _array("g", (channels,), 2, 0.5, 1.5, p)
            + _array("b", (channels,), 3, -0.5, 0.5, p) + _array("mm", (channels,), 4, -0.5, 0.5, p)
            + _array("mv", (channels,), 5, 0.5, 1.5, p))


def _bn_case(kw: str = "", shape: tuple = (4, 3, 2, 2), channels: int = 3, dtype: str = "float64",
             record: str = "", backward: str = "") -> str:
    """BatchNorm with output_mean_var: r = (outputs, moving stats after the forward, after the backward, grads)."""
    return (
        _bn_arrays(shape, channels, dtype)
        + "x.attach_grad()\ng.attach_grad()\nb.attach_grad()\n"
        + f"with mx.autograd.record({record}):\n"
        + f"    y = mx.nd.BatchNorm(x, g, b, mm, mv, output_mean_var=True{kw})\n"
        + "after_forward = (mm.copy(), mv.copy())\n"
        + f"y[0].backward(mx.nd.array({RS.format(seed=6)}.uniform(-1, 1, {shape}), dtype='{dtype}'){backward})\n"
        + "r = (y, after_forward, mm, mv, x.grad, g.grad, b.grad)"
    )


def _batch_norm_cases(c: dict[str, str]) -> None:
    nofix = ", fix_gamma=False"
    c["BatchNorm.train.fix_gamma"] = _bn_case()
    c["BatchNorm.train"] = _bn_case(nofix)
    c["BatchNorm.train.momentum_eps"] = _bn_case(nofix + ", momentum=0.5, eps=0.1")
    c["BatchNorm.train.global_stats"] = _bn_case(nofix + ", use_global_stats=True")
    c["BatchNorm.train.global_stats_fix_gamma"] = _bn_case(", use_global_stats=True")
    c["BatchNorm.predict"] = _bn_case(nofix, record="train_mode=False", backward=", train_mode=False")
    c["BatchNorm.predict_forward_train_backward"] = _bn_case(nofix, record="train_mode=False")
    c["BatchNorm.train_forward_predict_backward"] = _bn_case(nofix, backward=", train_mode=False")
    c["BatchNorm.axis_last"] = _bn_case(nofix + ", axis=-1", shape=(2, 3, 4), channels=4)
    c["BatchNorm.axis0"] = _bn_case(nofix + ", axis=0", shape=(3, 2, 2), channels=3)
    c["BatchNorm.axis2"] = _bn_case(nofix + ", axis=2", shape=(2, 2, 3, 2), channels=3)
    c["BatchNorm.2d"] = _bn_case(nofix, shape=(5, 3), channels=3)
    c["BatchNorm.5d"] = _bn_case(nofix, shape=(2, 3, 2, 2, 2), channels=3)
    c["BatchNorm.float32"] = _bn_case(nofix, dtype="float32")
    call = "mx.nd.BatchNorm(x, g, b, mm, mv, output_mean_var=True, fix_gamma=False)"
    f16 = _bn_arrays((4, 3, 2, 2), 3, "float16", "float32")
    dtypes = "r = (y, [str(o.dtype) for o in y])"
    c["BatchNorm.float16.predict"] = f16 + f"y = {call}\n{dtypes}"
    c["BatchNorm.float16.train"] = f16 + f"with mx.autograd.record():\n    y = {call}\n{dtypes}"
    base = _bn_arrays((4, 3, 2, 2), 3)
    c["BatchNorm.predict_plain"] = base + f"y = {call}\nr = (y, mm, mv)"
    c["BatchNorm.train_mode_unrecorded"] = base + f"with mx.autograd.train_mode():\n    y = {call}\nr = (y, mm, mv)"
    c["BatchNorm.one_output"] = base + (
        "y = mx.nd.BatchNorm(x, g, b, mm, mv)\nr = (type(y).__name__, y.shape)")
    c["BatchNorm.backward_twice"] = base + (
        "x.attach_grad()\nwith mx.autograd.record():\n    y = mx.nd.BatchNorm(x, g, b, mm, mv, momentum=0.8)\n"
        "y.backward(retain_graph=True)\nonce = (mm.copy(), mv.copy())\ny.backward()\nr = (once, mm, mv)")
    c["BatchNorm.executor"] = base + (
        "s = mx.sym.BatchNorm(mx.sym.var('data'), name='bn', fix_gamma=False, momentum=0.7)\n"
        "exe = s.simple_bind(mx.cpu(), data=x.shape, type_dict={'data': 'float64'})\n"
        "exe.arg_dict['data'][:] = x\nexe.arg_dict['bn_gamma'][:] = g\nexe.arg_dict['bn_beta'][:] = b\n"
        "exe.aux_dict['bn_moving_mean'][:] = mm\nexe.aux_dict['bn_moving_var'][:] = mv\n"
        "out = exe.forward(is_train=True)[0].copy()\n"
        "after_forward = (exe.aux_dict['bn_moving_mean'].copy(), exe.aux_dict['bn_moving_var'].copy())\n"
        f"exe.backward(mx.nd.array({RS.format(seed=6)}.uniform(-1, 1, x.shape), dtype='float64'))\n"
        "r = (out, after_forward, exe.aux_dict['bn_moving_mean'], exe.aux_dict['bn_moving_var'], "
        "exe.grad_dict['data'], exe.grad_dict['bn_gamma'], exe.grad_dict['bn_beta'])")
    c["BatchNorm.executor_predict"] = base + (
        "s = mx.sym.BatchNorm(mx.sym.var('data'), name='bn', fix_gamma=False)\n"
        "exe = s.simple_bind(mx.cpu(), data=x.shape, type_dict={'data': 'float64'})\n"
        "exe.arg_dict['data'][:] = x\nexe.arg_dict['bn_gamma'][:] = g\nexe.arg_dict['bn_beta'][:] = b\n"
        "exe.aux_dict['bn_moving_mean'][:] = mm\nexe.aux_dict['bn_moving_var'][:] = mv\n"
        "r = (exe.forward(is_train=False)[0], exe.aux_dict['bn_moving_mean'], exe.aux_dict['bn_moving_var'])")
    for k, name in ((1, "mean"), (2, "var")):
        c[f"BatchNorm.head_on_{name}"] = base + (
            "x.attach_grad()\ng.attach_grad()\nb.attach_grad()\n"
            f"with mx.autograd.record():\n    y = {call}\n"
            f"y[{k}].backward(mx.nd.array([1.0, -2.0, 0.5], dtype='float64'))\nr = (mm, mv, x.grad, g.grad, b.grad)")


def _affine_cases(c: dict[str, str]) -> None:
    def affine(op: str, kw: str, shape: tuple, plen: int, seed: int, dtype: str = "float64") -> str:
        arrays = (_array("x", shape, seed, dtype=dtype) + _array("g", (plen,), seed + 1, 0.5, 1.5, dtype)
                  + _array("b", (plen,), seed + 2, -0.5, 0.5, dtype))
        return _grad_case(f"mx.nd.{op}(x, g, b{kw})", arrays, "x.grad, g.grad, b.grad", seed)

    omv = ", output_mean_var=True"
    c["LayerNorm.last"] = affine("LayerNorm", omv, (3, 4), 4, 10)
    c["LayerNorm.axis1"] = affine("LayerNorm", ", axis=1" + omv, (2, 3, 4), 3, 11)
    c["LayerNorm.axis0_eps"] = affine("LayerNorm", ", axis=0, eps=0.1" + omv, (3, 2, 2), 3, 12)
    c["LayerNorm.3d_last"] = affine("LayerNorm", "", (2, 3, 5), 5, 13)
    c["LayerNorm.float32"] = affine("LayerNorm", omv, (4, 6), 6, 14, "float32")
    c["LayerNorm.float16"] = (
        _array("x", (2, 4), 15, dtype="float16") + _array("g", (4,), 16, 0.5, 1.5, "float16")
        + _array("b", (4,), 17, -0.5, 0.5, "float16") + "r = mx.nd.LayerNorm(x, g, b, output_mean_var=True)")
    c["GroupNorm.one_group"] = affine("GroupNorm", omv, (2, 4, 3), 1, 20)
    c["GroupNorm.two_groups"] = affine("GroupNorm", ", num_groups=2" + omv, (2, 4, 3), 2, 21)
    c["GroupNorm.per_channel_4d"] = affine("GroupNorm", ", num_groups=3, eps=0.01" + omv, (2, 3, 2, 2), 3, 22)
    c["GroupNorm.three_groups_4d"] = affine("GroupNorm", ", num_groups=3", (2, 6, 2, 2), 3, 23)
    c["InstanceNorm.3d"] = affine("InstanceNorm", "", (2, 3, 4), 3, 30, "float32")
    c["InstanceNorm.4d_eps"] = affine("InstanceNorm", ", eps=0.1", (2, 3, 2, 3), 3, 31, "float32")
    c["InstanceNorm.doc_example"] = (
        "mx.nd.InstanceNorm(mx.nd.array([[[1.1, 2.2]], [[3.3, 4.4]]]), mx.nd.array([1.5]), mx.nd.array([0.5]))")


def _l2_lrn_cases(c: dict[str, str]) -> None:
    for shape in ((2, 3, 4), (2, 3, 2, 2)):
        for mode in ("instance", "channel", "spatial"):
            c[f"L2Normalization.{mode}.{len(shape)}d"] = _grad_case(
                f"mx.nd.L2Normalization(x, mode='{mode}')", _array("x", shape, 40), "x.grad", 40)
    c["L2Normalization.1d"] = _grad_case("mx.nd.L2Normalization(x)", _array("x", (5,), 41), "x.grad", 41)
    c["L2Normalization.2d_eps"] = _grad_case("mx.nd.L2Normalization(x, eps=0.5)", _array("x", (3, 4), 42),
                                             "x.grad", 42)
    c["L2Normalization.float16"] = "mx.nd.L2Normalization(mx.nd.array([[3., 4.], [1., 0.]], dtype='float16'))"
    for n in (1, 3, 5):
        c[f"LRN.nsize{n}"] = _grad_case(
            f"mx.nd.LRN(x, nsize={n}, alpha=0.3, beta=0.75, knorm=1.5)", _array("x", (2, 5, 2, 2), 50 + n,
                                                                               dtype="float32"), "x.grad", 50 + n)
    c["LRN.defaults"] = _grad_case("mx.nd.LRN(x, nsize=3)", _array("x", (1, 4, 3, 3), 56, dtype="float32"),
                                   "x.grad", 56)


def _sequence_cases(c: dict[str, str]) -> None:
    x = _array("x", (4, 3, 2), 60)
    lens = {"float": "[1, 4, 2]", "fraction": "[2.7, 1.2, 3.9]"}
    for op in ("SequenceMask", "SequenceLast", "SequenceReverse"):
        # MXNet 1.9.1 segfaults in SequenceLast's backward without lengths: forward only there
        c[f"{op}.no_length"] = (x + f"r = mx.nd.{op}(x)" if op == "SequenceLast"
                                else _grad_case(f"mx.nd.{op}(x)", x, "x.grad", 61))
        for name, value in lens.items():
            c[f"{op}.length_{name}"] = _grad_case(
                f"mx.nd.{op}(x, L, use_sequence_length=True)", x + f"L = mx.nd.array({value})\n", "x.grad", 62)
        c[f"{op}.length_int32"] = _grad_case(
            f"mx.nd.{op}(x, L, use_sequence_length=True)", x + "L = mx.nd.array([3, 1, 4], dtype='int32')\n",
            "x.grad", 63)
        c[f"{op}.int_data"] = (
            f"mx.nd.{op}(mx.nd.arange(24, dtype='int32').reshape((4, 3, 2)), mx.nd.array([2, 3, 1]), "
            "use_sequence_length=True)")
    for op in ("SequenceMask", "SequenceLast"):
        c[f"{op}.axis1"] = _grad_case(
            f"mx.nd.{op}(x, L, use_sequence_length=True, axis=1)", x + "L = mx.nd.array([1, 2, 3, 2])\n",
            "x.grad", 64)
        c[f"{op}.axis1_no_length"] = (x + f"r = mx.nd.{op}(x, axis=1)" if op == "SequenceLast"
                                      else _grad_case(f"mx.nd.{op}(x, axis=1)", x, "x.grad", 65))
        c[f"{op}.2d"] = f"mx.nd.{op}(mx.nd.arange(6).reshape((3, 2)), mx.nd.array([1, 3]), use_sequence_length=True)"
    c["SequenceMask.value"] = _grad_case(
        "mx.nd.SequenceMask(x, L, use_sequence_length=True, value=-1.5)", x + "L = mx.nd.array([0, 4, 2])\n",
        "x.grad", 66)
    c["SequenceMask.long_lengths"] = (
        "mx.nd.SequenceMask(mx.nd.arange(6).reshape((3, 2)), mx.nd.array([0, 9]), use_sequence_length=True)")
    c["SequenceReverse.zero_length"] = (
        "mx.nd.SequenceReverse(mx.nd.arange(24).reshape((4, 3, 2)), mx.nd.array([0, 1, 3]), "
        "use_sequence_length=True)")
    c["SequenceLast.4d"] = (
        "mx.nd.SequenceLast(mx.nd.arange(24).reshape((2, 3, 2, 2)), mx.nd.array([1, 2, 2]), "
        "use_sequence_length=True)")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    _batch_norm_cases(c)
    _affine_cases(c)
    _l2_lrn_cases(c)
    _sequence_cases(c)
    return c


CASES: dict[str, str] = _cases()


def rtol_of(name: str) -> float:
    """float32 cases: MXNet accumulates in float32 (and runs oneDNN kernels); float16 in half precision."""
    if "float16" in name:  # MXNet's float16 BatchNorm rounds some results one half-ulp step differently
        return 1e-2
    if "float32" in name or name.startswith(("InstanceNorm", "LRN")):
        return 1e-4
    return 1e-6


def check_case(name: str, mx) -> None:
    check("norm", CASES, name, mx, rtol=rtol_of(name))


if __name__ == "__main__":
    record("norm", CASES)
