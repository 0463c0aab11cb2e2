"""MXNet 1.9 results for the reduction family (see family_oracle.py); run with the oracle's Python to record.

Not here, on purpose (mxplug differs, tested in tests/ops/test_reduce.py): prod's gradient at zeros (MXNet
gives NaN), norm on integers (MXNet truncates a float32 sqrt: norm([3, 4]) = 4) and norm's out_dtype (MXNet's
CPU kernel fails unless it equals the input dtype).
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

X = "mx.nd.array(np.arange(24).reshape(2, 3, 4) % 5 * 0.5 - 1.25)"  # exact binary fractions, no zeros
XI = "mx.nd.array([[-7, -4, 0, 5], [7, 8, 8, -1], [-8, -8, -7, 3]], dtype='int32')"
XT = "mx.nd.array([[1., 3., 3.], [2., 0., 2.], [-1., -1., 5.]])"  # ties in max and min
XN = "mx.nd.array([[1., np.nan, 3.], [0.5, 2., -2.]])"

AXES_OPS = ("sum", "mean", "max", "min", "prod", "nansum", "nanprod")
AXES = {
    "all": "", "ax1": "axis=1", "neg": "axis=-1, keepdims=True", "tuple": "axis=(0, 2)",
    "excl": "axis=(0,), exclude=True", "excl_keep": "axis=1, exclude=True, keepdims=True",
    "empty": "axis=()", "empty_excl": "axis=(), exclude=True", "none_excl": "exclude=True",
    "keep_all": "keepdims=True", "excl_all": "axis=(0, 1, 2), exclude=True",
}


def _grad(x: str, call: str, head: str) -> str:
    return (f"x = {x}\nx.attach_grad()\nwith mx.autograd.record():\n    y = {call}\n"
            f"y.backward({head})\nr = (y, x.grad)")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    for op in AXES_OPS:
        for label, kw in AXES.items():
            c[f"{op}.{label}"] = f"mx.nd.{op}({X}{', ' if kw else ''}{kw})"
        c[f"{op}.int32"] = f"mx.nd.{op}({XI}, axis=1)"
        c[f"{op}.int32_all"] = f"mx.nd.{op}({XI})"
    c["sum_axis.alias"] = f"mx.nd.sum_axis({X}, axis=2)"
    c["max_axis.alias"] = f"mx.nd.max_axis({X}, axis=0)"
    c["min_axis.alias"] = f"mx.nd.min_axis({X}, axis=1)"
    c["sum.positional_axis"] = f"mx.nd.sum({X}, 1)"
    c["sum.fluent"] = f"{X}.sum(axis=(1, 2))"
    for op in ("nansum", "nanprod", "max", "min", "sum"):
        c[f"{op}.nan"] = f"mx.nd.{op}({XN}, axis=1)"
    for op in ("argmax", "argmin"):
        for label, kw in {"all": "", "ax0": ", axis=0", "ax1": ", axis=1", "neg_keep": ", axis=-1, keepdims=True",
                          "all_keep": ", keepdims=True"}.items():
            c[f"{op}.{label}"] = f"mx.nd.{op}({XT}{kw})"
        c[f"{op}.int32"] = f"mx.nd.{op}({XI}, axis=1)"
        c[f"{op}.float64"] = f"mx.nd.{op}({XT}.astype('float64'), axis=0)"
        c[f"{op}.3d"] = f"mx.nd.{op}({X}, axis=1)"
    c["argmax.nan"] = f"mx.nd.argmax({XN}, axis=1)"
    c["argmax_channel.2d"] = f"mx.nd.argmax_channel({XT})"
    c["argmax_channel.3d"] = f"mx.nd.argmax_channel({X})"
    for label, kw in {"all": "", "ord1": ", ord=1", "ax1": ", axis=1", "ax02": ", axis=(0, 2)",
                      "keep": ", keepdims=True", "neg_keep": ", axis=-1, keepdims=True", "ord1_ax": ", ord=1, axis=2",
                      "empty": ", axis=()", "float64": ".astype('float64'), axis=1"}.items():
        c[f"norm.{label}"] = f"mx.nd.norm({X}{kw})"
    # gradients
    head2 = "mx.nd.array([1., 2., -1.])"
    c["grad.max_ties"] = _grad(XT, "mx.nd.max(x, axis=1)", head2)
    c["grad.min_ties"] = _grad(XT, "mx.nd.min(x, axis=0)", head2)
    c["grad.max_all"] = _grad(XT, "mx.nd.max(x)", "mx.nd.array([3.])")
    c["grad.max_excl_keep"] = _grad(XT, "mx.nd.max(x, axis=0, exclude=True, keepdims=True)",
                                    "mx.nd.array([[1.], [2.], [-1.]])")
    c["grad.sum_excl"] = _grad(X, "mx.nd.sum(x, axis=1, exclude=True)", "mx.nd.array([1., 2., 3.])")
    c["grad.mean_tuple"] = _grad(X, "mx.nd.mean(x, axis=(0, 2))", "mx.nd.array([1., 2., 3.])")
    c["grad.prod_nonzero"] = _grad(X, "mx.nd.prod(x, axis=2)", "mx.nd.ones((2, 3))")
    c["grad.nansum"] = _grad(XN, "mx.nd.nansum(x, axis=1)", "mx.nd.array([1., 2.])")
    c["grad.nanprod"] = _grad(XN, "mx.nd.nanprod(x, axis=1)", "mx.nd.array([1., 2.])")
    c["grad.norm2"] = _grad(X, "mx.nd.norm(x, axis=2)", "mx.nd.ones((2, 3))")
    c["grad.norm1"] = _grad(X, "mx.nd.norm(x, ord=1, axis=(0, 1), keepdims=True)", "mx.nd.ones((1, 1, 4))")
    c["grad.argmax_zero"] = _grad(XT, "mx.nd.argmax(x, axis=1)", head2)
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    check("reduce", CASES, name, mx)


if __name__ == "__main__":
    record("reduce", CASES)
