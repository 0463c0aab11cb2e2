"""MXNet 1.9 results for the nn family (see family_oracle.py); run with the oracle's Python to record:

    /work/oracle/mxnet/bin/python tests/oracle/record_nn.py

Recorded here: forward values and gradients where MXNet's semantics are subtle — the *Output layers' gradients
(they ignore the incoming gradient and follow MXNet's normalisation rules, not a derivative of the forward),
selu's gradient (MXNet computes λ(y + α) below 0), prelu's gamma broadcasting (a gamma that fits axis 0 rather
than the channel axis), softmax's use_length masking, the dtype attribute, Dropout's deterministic properties
(predict mode, p = 0, p = 1 giving NaN, masks shared along `axes`, the 0 / 1/(1-p) values), Embedding's index
clipping and gradient accumulation.

Not here (tests/ops/test_nn.py pins them): error cases; rrelu in training mode (MXNet 1.9.1's CPU build
segfaults on it) and rrelu's mask in predict mode (MXNet leaves it unwritten; mxplug fills in the slope used);
softmax lengths beyond the axis (MXNet reads past the row; mxplug clips); softmax_cross_entropy labels outside
[0, classes) (MXNet reads out of bounds; mxplug clips).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

RS = "np.random.RandomState({seed})"


def _grad_case(call: str, shape: tuple, seed: int, extra: str = "", grads: str = "x.grad", og: bool = True,
               dtype: str = "float64", scale: float = 2.0, low: float = -2.0) -> str:
    """x of `shape` drawn from a seeded RandomState in [low, low + 2*scale); y = call; backward with a random
    head gradient (or none); r = (y, grads)."""
    head = f"mx.nd.array({RS.format(seed=seed + 1)}.uniform(0.5, 1.5, y.shape), dtype=y.dtype)" if og else ""
    return (
        f"x = mx.nd.array({RS.format(seed=seed)}.uniform({low}, {low + 2 * scale}, {shape}), dtype='{dtype}')\n"
        f"{extra}x.attach_grad()\n"
        "with mx.autograd.record():\n"
        f"    y = {call}\n"
        f"y.backward({head})\n"
        f"r = (y, {grads})"
    )


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    # -- activations ----------------------------------------------------------------------------------------
    for act in ("relu", "sigmoid", "tanh", "softrelu", "softsign"):
        c[f"Activation.{act}"] = _grad_case(f"mx.nd.Activation(x, act_type='{act}')", (3, 4), 1)
        c[f"Activation.{act}.float16"] = (
            f"mx.nd.Activation(mx.nd.array([-1, 0, 0.5, 3], dtype='float16'), act_type='{act}')")
    c["Activation.softrelu.large"] = (
        "mx.nd.Activation(mx.nd.array([19.5, 20.5, 30.0, -30.0], dtype='float64'), act_type='softrelu')")
    for act in ("leaky", "elu", "selu", "gelu"):
        c[f"LeakyReLU.{act}"] = _grad_case(f"mx.nd.LeakyReLU(x, act_type='{act}', slope=0.3)", (3, 4), 2)
    c["LeakyReLU.leaky.negative_slope"] = _grad_case("mx.nd.LeakyReLU(x, act_type='leaky', slope=-0.5)", (6,), 3)
    c["LeakyReLU.at_zero"] = _grad_case(
        "mx.nd.LeakyReLU(x * 0, act_type='elu', slope=0.3) + mx.nd.LeakyReLU(x * 0, slope=0.2)", (3,), 4)
    c["LeakyReLU.rrelu.predict"] = "mx.nd.LeakyReLU(mx.nd.array([[-2., 1.], [3., -0.5]]), act_type='rrelu')[0]"
    c["LeakyReLU.rrelu.predict_bounds"] = (
        "mx.nd.LeakyReLU(mx.nd.array([-2., 1.]), act_type='rrelu', lower_bound=0.2, upper_bound=0.6)[0]")
    for name, (dshape, gshape) in {
        "channel": ((2, 3, 2), (3,)), "scalar": ((2, 3, 2), (1,)), "2d": ((4, 3), (3,)),
        "1d": ((5,), (5,)), "1d_scalar": ((5,), (1,)), "batch_axis": ((2, 3, 2, 2), (2,)),
    }.items():
        c[f"LeakyReLU.prelu.{name}"] = _grad_case(
            "mx.nd.LeakyReLU(x, g, act_type='prelu')", dshape, 5,
            extra=f"g = mx.nd.array({RS.format(seed=7)}.uniform(0.1, 0.5, {gshape}), dtype='float64')\n"
                  "g.attach_grad()\n",
            grads="x.grad, g.grad")
    # -- softmax family -------------------------------------------------------------------------------------
    for op in ("softmax", "log_softmax", "softmin"):
        c[f"{op}.last"] = _grad_case(f"mx.nd.{op}(x)", (3, 4), 10)
        c[f"{op}.axis0_temperature"] = _grad_case(f"mx.nd.{op}(x, axis=0, temperature=2.5)", (3, 4), 11)
        c[f"{op}.axis1_3d"] = _grad_case(f"mx.nd.{op}(x, axis=1)", (2, 3, 4), 12)
        c[f"{op}.dtype64"] = _grad_case(f"mx.nd.{op}(x, dtype='float64')", (2, 3), 13, dtype="float32",
                                        grads="x.grad, str(y.dtype), str(x.grad.dtype)")
        c[f"{op}.float16"] = f"mx.nd.{op}(mx.nd.array([[1., 2., 3.], [0., -1., 5.]], dtype='float16'))"
        c[f"{op}.stable"] = f"mx.nd.{op}(mx.nd.array([[1000., 0., -1000.], [-500., -501., -502.]], dtype='float64'))"
    c["softmax.length"] = _grad_case(
        "mx.nd.softmax(x, L, axis=-1, use_length=True)", (3, 4), 14,
        extra="L = mx.nd.array([2, 4, 1], dtype='int32')\n")
    c["softmax.length_axis0"] = _grad_case(
        "mx.nd.softmax(x, L, axis=0, use_length=True, temperature=0.5)", (4, 3), 15,
        extra="L = mx.nd.array([3, 1, 4], dtype='int64')\n")
    c["softmax.length_zero"] = _grad_case(
        "mx.nd.softmax(x, L, use_length=True)", (2, 3), 16, extra="L = mx.nd.array([0, 3], dtype='int32')\n")
    # -- SoftmaxOutput ---------------------------------------------------------------------------------------
    lab = "mx.nd.array({}, dtype='float64')"
    so = "mx.nd.SoftmaxOutput(x, lab{})"
    for name, (shape, label, kw) in {
        "basic": ((3, 4), "[1, 0, 3]", ""),
        "grad_scale": ((3, 4), "[1, 0, 3]", ", grad_scale=2.5"),
        "out_grad": ((3, 4), "[1, 0, 3]", ", out_grad=True"),
        "ignore_valid": ((3, 4), "[1, -1, 3]", ", use_ignore=True, normalization='valid', grad_scale=2.0"),
        "ignore_null": ((3, 4), "[1, 2, 3]", ", use_ignore=True, ignore_label=2"),
        "valid_without_ignore": ((3, 4), "[1, -1, 3]", ", normalization='valid'"),
        "valid_all_ignored": ((2, 4), "[-1, -1]", ", normalization='valid', use_ignore=True"),
        "batch": ((3, 4), "[1, 0, 3]", ", normalization='batch'"),
        "smooth": ((3, 4), "[1, 0, 3]", ", smooth_alpha=0.3"),
        "smooth_ignore": ((3, 4), "[1, -1, 3]", ", smooth_alpha=0.3, use_ignore=True"),
        "label_out_of_range": ((3, 4), "[1, 7, -3]", ""),
        "label_fractional": ((3, 4), "[1.7, 0.2, 2.9]", ""),
        "probabilities": ((3, 4), "np.random.RandomState(30).dirichlet([1, 1, 1, 1], 3)", ", grad_scale=3.0"),
        "probabilities_out_grad": ((2, 3), "np.random.RandomState(31).dirichlet([1, 1, 1], 2)", ", out_grad=True"),
        "multi": ((2, 3, 2, 2), "[[[0, 1], [2, 0]], [[1, 1], [0, 2]]]", ", multi_output=True"),
        "multi_flat_label": ((2, 3, 2, 2), "[[0, 1, 2, 0], [1, 1, 0, 2]]", ", multi_output=True"),
        "multi_channel_label": ((2, 3, 4), "[[[0, 1, 2, 0]], [[1, 1, 0, 2]]]", ", multi_output=True"),
        "multi_valid": ((2, 3, 2, 2), "[[[0, 1], [2, 0]], [[1, 1], [0, 2]]]",
                        ", multi_output=True, normalization='valid', use_ignore=True, ignore_label=0"),
        "multi_batch": ((2, 3, 2, 2), "[[[0, 1], [2, 0]], [[1, 1], [0, 2]]]",
                        ", multi_output=True, normalization='batch', grad_scale=3.0"),
        "multi_smooth": ((2, 3, 4), "[[0, 1, 2, 0], [1, 1, 0, 2]]", ", multi_output=True, smooth_alpha=0.2"),
        "preserve": ((2, 3, 4), "[[0, 1, 3], [2, 2, 1]]", ", preserve_shape=True"),
        "preserve_batch": ((2, 3, 4), "[[0, 1, 3], [2, 2, 1]]", ", preserve_shape=True, normalization='batch'"),
        "flattened_3d": ((2, 3, 4), "[[0, 1, 3], [2, 2, 1]]", ""),
    }.items():
        c[f"SoftmaxOutput.{name}"] = _grad_case(so.format(kw), shape, 20, extra=f"lab = {lab.format(label)}\n")
    c["SoftmaxOutput.alias_Softmax"] = "mx.nd.Softmax(mx.nd.array([[1., 2.], [3., 1.]]), mx.nd.array([0, 1]))"
    # -- regression outputs ----------------------------------------------------------------------------------
    for op in ("LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"):
        for name, (shape, lshape, kw) in {
            "same_shape": ((3, 2), (3, 2), ", grad_scale=3.0"),
            "reshaped_label": ((3, 2), (3, 1, 2), ""),
            "column": ((3, 1), (3,), ", grad_scale=0.5"),
            "4d": ((2, 2, 2, 2), (2, 8), ""),
        }.items():
            c[f"{op}.{name}"] = _grad_case(
                f"mx.nd.{op}(x, lab{kw})", shape, 40,
                extra=f"lab = mx.nd.array({RS.format(seed=41)}.uniform(-1, 1, {lshape}), dtype='float64')\n")
    # -- losses ------------------------------------------------------------------------------------------------
    c["softmax_cross_entropy"] = _grad_case(
        "mx.nd.softmax_cross_entropy(x, lab)", (3, 4), 50, extra="lab = mx.nd.array([1, 0, 3], dtype='float64')\n")
    for s in (1.0, 2.0, 0.5):
        c[f"smooth_l1.{s}"] = _grad_case(f"mx.nd.smooth_l1(x, scalar={s})", (4, 5), 51, scale=3.0, low=-3.0)
    c["smooth_l1.default"] = "mx.nd.smooth_l1(mx.nd.array([-3., -0.6, -0.2, 0., 0.2, 0.6, 3.]))"
    # -- Dropout (deterministic properties) --------------------------------------------------------------------
    ones = "mx.nd.ones((50, 40))"
    c["Dropout.predict_identity"] = "mx.nd.Dropout(mx.nd.array([[1., -2.], [3., 4.]]), p=0.7)"
    c["Dropout.p0_training"] = (
        "with mx.autograd.record():\n    r = mx.nd.Dropout(mx.nd.array([[1., -2.], [3., 4.]]), p=0.0)")
    c["Dropout.p1_nan"] = "with mx.autograd.record():\n    r = mx.nd.Dropout(mx.nd.ones((2, 3)), p=1.0)"
    c["Dropout.training_values"] = (
        f"with mx.autograd.record():\n    y = mx.nd.Dropout({ones}, p=0.2).asnumpy()\n"
        "r = sorted(set(np.unique(y).tolist()))")
    c["Dropout.always_values"] = (
        f"y = mx.nd.Dropout({ones}, p=0.75, mode='always').asnumpy()\nr = sorted(set(np.unique(y).tolist()))")
    c["Dropout.axes_shared"] = (
        "with mx.autograd.record():\n    y = mx.nd.Dropout(mx.nd.ones((6, 5, 7)), p=0.5, axes=(1,)).asnumpy()\n"
        "r = (bool((y == y[:, :1, :]).all()), y.shape)")
    c["Dropout.predict_grad"] = (
        "x = mx.nd.array([[1., -2.], [3., 4.]])\nx.attach_grad()\n"
        "with mx.autograd.record(train_mode=False):\n    y = mx.nd.Dropout(x, p=0.5)\n"
        "y.backward(mx.nd.array([[1., 2.], [3., 4.]]))\nr = (y, x.grad)")
    c["Dropout.train_grad_is_mask"] = (
        "x = mx.nd.ones((20, 10))\nx.attach_grad()\n"
        "with mx.autograd.record():\n    y = mx.nd.Dropout(x, p=0.5)\n"
        "y.backward(mx.nd.ones((20, 10)) * 3)\nr = bool((x.grad.asnumpy() == 3 * y.asnumpy()).all())")
    c["Dropout.float16"] = "str(mx.nd.Dropout(mx.nd.ones((3,), dtype='float16'), mode='always').dtype)"
    c["Dropout.outputs"] = "with mx.autograd.record():\n    r = len([mx.nd.Dropout(mx.nd.ones((3,)))])"
    # -- Embedding ---------------------------------------------------------------------------------------------
    emb = (
        f"w = mx.nd.array({RS.format(seed=60)}.randn(5, 3), dtype='{{dtype}}')\n"
        "d = mx.nd.array([[0, 4.7], [-1, 7], [2, 2]], dtype='{ddtype}')\nw.attach_grad()\n"
        "with mx.autograd.record():\n    y = mx.nd.Embedding(d, w, input_dim=5, output_dim=3)\n"
        f"y.backward(mx.nd.array({RS.format(seed=61)}.randn(3, 2, 3), dtype='{{dtype}}'))\n"
        "r = (y, w.grad, str(y.dtype))"
    )
    c["Embedding.float32"] = emb.replace("{ddtype}", "float32").format(dtype="float32")
    c["Embedding.float64_weight"] = emb.replace("{ddtype}", "float32").format(dtype="float64")
    c["Embedding.int_data"] = emb.replace("{ddtype}", "int32").format(dtype="float32")
    c["Embedding.repeated"] = (
        "w = mx.nd.zeros((4, 2))\nw.attach_grad()\nd = mx.nd.array([1, 1, 3, 1, 0])\n"
        "with mx.autograd.record():\n    y = mx.nd.Embedding(d, w, input_dim=4, output_dim=2)\n"
        "y.backward(mx.nd.array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]))\nr = w.grad")
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    check("nn", CASES, name, mx, rtol=1e-5)


if __name__ == "__main__":
    record("nn", CASES)
