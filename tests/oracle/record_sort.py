"""MXNet 1.9 results for the sort family (see family_oracle.py); run with the oracle's Python to record.

Not here, on purpose: sort's gradient (MXNet 1.9 fails to build it: "Invalid Parameter format for axis") and
float16 topk (MXNet's CPU kernel refuses it); tests/ops/test_sort.py covers both.
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

X = "mx.nd.array([[3., 1., 2., 1.], [0., 5., 5., -1.], [2., 2., 2., 7.]])"  # ties in every row
X3 = "mx.nd.array(np.arange(24).reshape(2, 3, 4) * 7 % 11 - 5.0)"
XI = "mx.nd.array([[3, 1, 2, 1], [0, 5, 5, -1]], dtype='int32')"


def _grad(x: str, call: str, head: str) -> str:
    return (f"x = {x}\nx.attach_grad()\nwith mx.autograd.record():\n    y = {call}\n"
            f"y.backward({head})\nr = (y, x.grad)")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    orders = {"asc": "", "desc": ", is_ascend=False"}
    axes = {"last": "", "ax0": ", axis=0", "none": ", axis=None", "3d_ax1": ", axis=1"}
    for op in ("sort", "argsort"):
        for ol, ok in orders.items():
            for al, ak in axes.items():
                data = X3 if al.startswith("3d") else X
                c[f"{op}.{ol}.{al}"] = f"mx.nd.{op}({data}{ak}{ok})"
        c[f"{op}.int32"] = f"mx.nd.{op}({XI}, is_ascend=False)"
    c["sort.fluent"] = f"{X}.sort(axis=0)"
    c["argsort.dtype_int32"] = f"mx.nd.argsort({X}, dtype='int32')"
    c["argsort.dtype_float64"] = f"mx.nd.argsort({X}, axis=0, dtype='float64')"
    for rt in ("indices", "value", "mask", "both"):
        for ol, ok in {"desc": "", "asc": ", is_ascend=True"}.items():
            for kl, kk in {"k1": "", "k2": ", k=2", "k0": ", k=0", "kneg": ", k=-1"}.items():
                c[f"topk.{rt}.{ol}.{kl}"] = f"mx.nd.topk({X}, ret_typ='{rt}'{kk}{ok})"
        c[f"topk.{rt}.ax0"] = f"mx.nd.topk({X}, ret_typ='{rt}', axis=0, k=2)"
        c[f"topk.{rt}.none"] = f"mx.nd.topk({X}, ret_typ='{rt}', axis=None, k=3)"
        c[f"topk.{rt}.3d"] = f"mx.nd.topk({X3}, ret_typ='{rt}', axis=1, k=2, is_ascend=True)"
        c[f"topk.{rt}.int32"] = f"mx.nd.topk({XI}, ret_typ='{rt}', k=3)"
        c[f"topk.{rt}.dtype_int32"] = f"mx.nd.topk({X}, ret_typ='{rt}', k=2, dtype='int32')"
        c[f"topk.{rt}.float64"] = f"mx.nd.topk({X}.astype('float64'), ret_typ='{rt}', k=2, dtype='float64')"
    c["topk.fluent"] = f"{X}.topk(k=2)"
    c["grad.topk_value"] = _grad(X, "mx.nd.topk(x, k=2, ret_typ='value')",
                                 "mx.nd.array([[1., 2.], [3., 4.], [5., 6.]])")
    c["grad.topk_value_asc_ax0"] = _grad(
        X, "mx.nd.topk(x, k=2, axis=0, ret_typ='value', is_ascend=True)",
        "mx.nd.array([[1., 2., 3., 4.], [5., 6., 7., 8.]])")
    c["grad.topk_value_none"] = _grad(X, "mx.nd.topk(x, k=3, axis=None, ret_typ='value')", "mx.nd.array([1., 2., 3.])")
    c["grad.topk_both"] = _grad(X, "mx.nd.topk(x, k=2, ret_typ='both')[0]",
                                "mx.nd.array([[1., 2.], [3., 4.], [5., 6.]])")
    c["grad.topk_indices"] = _grad(X, "mx.nd.topk(x, k=2)", "mx.nd.ones((3, 2))")
    c["grad.topk_mask"] = _grad(X, "mx.nd.topk(x, k=2, ret_typ='mask')", "mx.nd.ones((3, 4))")
    c["grad.argsort"] = _grad(X, "mx.nd.argsort(x)", "mx.nd.ones((3, 4))")
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    check("sort", CASES, name, mx)


if __name__ == "__main__":
    record("sort", CASES)
