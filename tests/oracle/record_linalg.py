"""MXNet 1.9 results for the matrix-product family (see family_oracle.py); run with the oracle's Python.

Not here, on purpose: float16 dot/batch_dot (MXNet's CPU build refuses it, its GPU build takes it; mxplug
takes it everywhere), tested in tests/ops/test_linalg.py.
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record


def _arr(*shape: int, dtype: str = "float32") -> str:
    """A deterministic array with distinct small values (exact in float32)."""
    n = 1
    for s in shape:
        n *= s
    return (f"mx.nd.array((np.arange({n}) % 7 - 3.0).reshape({shape}) * 0.5 "
            f"+ np.arange({n}).reshape({shape}) * 0.125, dtype='{dtype}')")


def _grad(inputs: dict[str, str], call: str, head_shape: tuple[int, ...]) -> str:
    setup = "".join(f"{k} = {v}\n{k}.attach_grad()\n" for k, v in inputs.items())
    n = 1
    for s in head_shape:
        n *= s
    grads = ", ".join(f"{k}.grad" for k in inputs)
    return (f"{setup}with mx.autograd.record():\n    y = {call}\n"
            f"y.backward(mx.nd.array((np.arange({n}) % 5 - 2.0).reshape({head_shape})))\nr = (y, {grads})")


FLAGS = {"nn": "", "tn": ", transpose_a=True", "nt": ", transpose_b=True", "tt": ", transpose_a=True, transpose_b=True"}


def _dot_shapes(flags: str, lhs: tuple[int, ...], rhs: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes for a (3, 4) x (4, 5)-like product under the transpose flags `flags` ('tn' …)."""
    return (lhs[::-1] if flags[0] == "t" else lhs), (rhs[::-1] if flags[1] == "t" else rhs)


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    for fl, kw in FLAGS.items():
        a, b = _dot_shapes(fl, (3, 4), (4, 5))
        c[f"dot.2d.{fl}"] = f"mx.nd.dot({_arr(*a)}, {_arr(*b)}{kw})"
        c[f"dot.3d3d.{fl}"] = (
            f"mx.nd.dot({_arr(*((4, 3, 2) if fl[0] == 't' else (2, 3, 4)))}, "
            f"{_arr(*((5, 2, 4) if fl[1] == 't' else (4, 5, 2)))}{kw})"
        )
        a, b = _dot_shapes(fl, (2, 3), (3, 2))
        c[f"batch_dot.{fl}"] = f"mx.nd.batch_dot({_arr(2, *a)}, {_arr(2, *b)}{kw})"
        c[f"gemm2.{fl}"] = f"mx.nd.linalg.gemm2({_arr(*a)}, {_arr(*b)}{kw}, alpha=1.5)"
        c[f"gemm.{fl}"] = f"mx.nd.linalg.gemm({_arr(*a)}, {_arr(*b)}, {_arr(2, 2)}{kw}, alpha=2.0, beta=-0.5)"
        c[f"grad.dot.{fl}"] = _grad({"a": _arr(*a), "b": _arr(*b)}, f"mx.nd.dot(a, b{kw})", (2, 2))
        c[f"grad.batch_dot.{fl}"] = _grad({"a": _arr(2, *a), "b": _arr(2, *b)}, f"mx.nd.batch_dot(a, b{kw})",
                                          (2, 2, 2))
        c[f"grad.gemm2.{fl}"] = _grad({"a": _arr(*a), "b": _arr(*b)}, f"mx.nd.linalg.gemm2(a, b{kw}, alpha=0.5)",
                                      (2, 2))
    c["dot.1d1d"] = f"mx.nd.dot({_arr(4)}, {_arr(4)})"
    c["dot.1d2d"] = f"mx.nd.dot({_arr(4)}, {_arr(4, 3)})"
    c["dot.1d2d.ta"] = f"mx.nd.dot({_arr(4)}, {_arr(4, 3)}, transpose_a=True)"
    c["dot.1d2d.tb"] = f"mx.nd.dot({_arr(4)}, {_arr(3, 4)}, transpose_b=True)"
    c["dot.2d1d"] = f"mx.nd.dot({_arr(3, 4)}, {_arr(4)})"
    c["dot.2d1d.ta"] = f"mx.nd.dot({_arr(4, 3)}, {_arr(4)}, transpose_a=True)"
    c["dot.3d1d"] = f"mx.nd.dot({_arr(2, 3, 4)}, {_arr(4)})"
    c["dot.1d3d.tb"] = f"mx.nd.dot({_arr(4)}, {_arr(2, 3, 4)}, transpose_b=True)"
    c["dot.float64"] = f"mx.nd.dot({_arr(3, 4, dtype='float64')}, {_arr(4, 2, dtype='float64')})"
    c["dot.fluent_T"] = f"mx.nd.dot({_arr(4, 3)}.T, {_arr(4, 2)})"
    c["batch_dot.4d"] = f"mx.nd.batch_dot({_arr(2, 2, 3, 4)}, {_arr(2, 2, 4, 2)})"
    c["batch_dot.float64"] = f"mx.nd.batch_dot({_arr(2, 3, 4, dtype='float64')}, {_arr(2, 4, 2, dtype='float64')})"
    c["gemm2.batched"] = f"mx.nd.linalg.gemm2({_arr(2, 2, 3, 4)}, {_arr(2, 2, 4, 2)})"
    c["gemm2.axis0"] = f"mx.nd.linalg.gemm2({_arr(3, 2, 4)}, {_arr(4, 2, 5)}, axis=0)"
    c["gemm2.axis-3"] = f"mx.nd.linalg.gemm2({_arr(3, 2, 4)}, {_arr(4, 2, 5)}, axis=-3)"
    c["gemm2.axis1_4d_tt"] = (f"mx.nd.linalg.gemm2({_arr(2, 4, 3, 2)}, {_arr(2, 5, 3, 4)}, axis=1, "
                              "transpose_a=True, transpose_b=True)")
    c["gemm2.float64"] = f"mx.nd.linalg.gemm2({_arr(3, 4, dtype='float64')}, {_arr(4, 2, dtype='float64')})"
    c["gemm.axis0"] = f"mx.nd.linalg.gemm({_arr(3, 2, 4)}, {_arr(4, 2, 5)}, {_arr(3, 2, 5)}, axis=0, beta=2.0)"
    c["gemm.batched"] = f"mx.nd.linalg.gemm({_arr(2, 3, 4)}, {_arr(2, 4, 2)}, {_arr(2, 3, 2)})"
    c["grad.dot.3d2d"] = _grad({"a": _arr(2, 3, 4), "b": _arr(4, 2)}, "mx.nd.dot(a, b)", (2, 3, 2))
    c["grad.dot.3d3d.tt"] = _grad({"a": _arr(4, 3, 2), "b": _arr(5, 2, 4)},
                                  "mx.nd.dot(a, b, transpose_a=True, transpose_b=True)", (3, 2, 5, 2))
    c["grad.dot.1d1d"] = _grad({"a": _arr(4), "b": _arr(4)}, "mx.nd.dot(a, b)", (1,))
    c["grad.dot.1d2d"] = _grad({"a": _arr(4), "b": _arr(4, 3)}, "mx.nd.dot(a, b)", (3,))
    c["grad.dot.2d1d.ta"] = _grad({"a": _arr(4, 3), "b": _arr(4)}, "mx.nd.dot(a, b, transpose_a=True)", (3,))
    c["grad.gemm2.axis0"] = _grad({"a": _arr(3, 2, 4), "b": _arr(4, 2, 5)},
                                  "mx.nd.linalg.gemm2(a, b, axis=0, transpose_a=False, alpha=2.0)", (3, 2, 5))
    c["grad.gemm"] = _grad({"a": _arr(3, 4), "b": _arr(2, 4), "c": _arr(3, 2)},
                           "mx.nd.linalg.gemm(a, b, c, transpose_b=True, alpha=2.0, beta=-1.5)", (3, 2))
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    check("linalg", CASES, name, mx)


if __name__ == "__main__":
    record("linalg", CASES)
