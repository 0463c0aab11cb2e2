"""MXNet 1.9 results for array creation (see family_oracle.py); run with the oracle's Python to record.

Not here, on purpose (tests/test_creation.py pins mxplug's behaviour instead): float16 `arange`, where
MXNet 1.9 returns zeros; `zeros(())`, `ones(())` and zero-size shapes such as (0, 2), which MXNet 1.9's
legacy shape semantics reject and mxplug allows; `empty`'s values; and the error cases.
"""

from __future__ import annotations

if __package__:
    from .family_oracle import check, record
else:
    from family_oracle import check, record

DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")


def _cases() -> dict[str, str]:
    c: dict[str, str] = {}
    # -- nd.array: float32 unless dtype is given or the source is an NDArray ------------------------------
    for name, src in {
        "list_int": "[1, 2, 3]", "list_float": "[1.5, -2.25]", "list_bool": "[True, False]",
        "nested": "[[1, 2], [3, 4]]", "tuple": "(1, 2)", "empty": "[]", "scalar_int": "3", "scalar_float": "3.5",
        "np_0d": "np.array(2.5)", "np_scalar": "np.float64(2.5)", "range": "range(4)",
    }.items():
        c[f"array.{name}"] = f"mx.nd.array({src})"
    for dt in (*DTYPES, "int16", "uint16", "uint32", "uint64"):
        c[f"array.numpy_{dt}"] = f"mx.nd.array(np.array([1, 0, 2], dtype='{dt}'))"
    for dt in DTYPES:
        c[f"array.list_dtype_{dt}"] = f"mx.nd.array([1.7, -2.7, 0, 3], dtype='{dt}')"
        c[f"array.ndarray_{dt}_kept"] = f"mx.nd.array(mx.nd.array([1, 0, 2], dtype='{dt}'))"
    c["array.dtype_np_type"] = "mx.nd.array([1, 2], dtype=np.int64)"
    c["array.numpy_dtype_given"] = "mx.nd.array(np.array([1, 2], dtype='int64'), dtype='float16')"
    c["array.ndarray_dtype_given"] = "mx.nd.array(mx.nd.array([1.5, 2], dtype='float64'), dtype='int32')"
    c["array.uint8_wraps"] = "mx.nd.array([-1, 300], dtype='uint8')"
    c["array.int64_large"] = "mx.nd.array([2**40 + 1, -2**40], dtype='int64')"
    c["array.ctx"] = "x = mx.nd.array([1, 2], ctx=mx.cpu(1))\nr = (x, repr(x.context))"
    c["array.is_copy"] = "a = np.array([1., 2.], dtype='float32')\nx = mx.nd.array(a)\na[0] = 9\nr = x"
    # -- zeros / ones / empty / full -----------------------------------------------------------------------
    for fn in ("zeros", "ones"):
        c[f"{fn}.default"] = f"mx.nd.{fn}((2, 3))"
        c[f"{fn}.int_shape"] = f"mx.nd.{fn}(3)"
        c[f"{fn}.list_shape"] = f"mx.nd.{fn}([2, 2])"
        c[f"{fn}.np_dtype"] = f"mx.nd.{fn}((2,), dtype=np.float16)"
        c[f"{fn}.ctx"] = f"x = mx.nd.{fn}((1,), ctx=mx.cpu(3))\nr = (x, repr(x.context))"
        for dt in DTYPES:
            c[f"{fn}.{dt}"] = f"mx.nd.{fn}((2, 2), dtype='{dt}')"
    c["empty.shape_dtype"] = "x = mx.nd.empty((2, 3), dtype='int32')\nr = (x.shape, str(x.dtype), repr(x.context))"
    c["empty.default_dtype"] = "str(mx.nd.empty(3).dtype)"
    for name, call in {
        "int": "(2, 2), 7", "float": "(3,), 2.5", "float_to_int32": "(2,), 2.7, dtype='int32'",
        "neg_to_int32": "(2,), -2.7, dtype='int32'", "neg_to_uint8": "(2,), -1, dtype='uint8'",
        "nan": "(2,), float('nan')", "inf_f16": "(2,), float('inf'), dtype='float16'",
        "int64_large": "(2,), 2**40 + 1, dtype='int64'", "bool": "(2,), 3, dtype='bool'",
        "bool_zero": "(2,), 0, dtype='bool'", "float64": "(1,), 0.1, dtype='float64'", "int_shape": "3, 1",
        "ctx": "(1,), 5, ctx=mx.cpu(2)",
    }.items():
        c[f"full.{name}"] = f"mx.nd.full({call})"
    c["full.out"] = "o = mx.nd.zeros((2,), dtype='int32')\nx = mx.nd.full((2,), 3.9, out=o)\nr = (x is o, o)"
    # -- arange --------------------------------------------------------------------------------------------
    for name, call in {
        "stop": "5", "start_stop": "2, 7", "step": "0, 1, 0.1", "neg_step": "5, 0, -1.5", "float": "0.5, 3.2, 0.7",
        "repeat": "0, 3, repeat=2", "repeat_step": "1, 2, 0.25, repeat=3", "stop_none": "3, None",
        "infer_range": "3, infer_range=True", "int32": "0, 7, 2, dtype='int32'",
        "int32_frac_step": "0, 3, 0.5, dtype='int32'", "int32_frac_start": "0.5, 4, dtype='int32'",
        "int64": "-3, 3, dtype='int64'", "uint8": "0, 300, 100, dtype='uint8'",
        "int8_neg": "5, -5, -2, dtype='int8'", "float64": "0, 3, 0.1, dtype='float64'",
        "float32_tenths": "0, 3, 0.1", "float32_big": "16777216, 16777220",
        "float64_big": "16777216, 16777220, dtype='float64'", "float32_third": "1, 2, 1 / 3",
        "float32_offset": "0.1, 10.1, 0.7", "np_dtype": "0, 4, dtype=np.int64",
        "ctx": "0, 2, ctx=mx.cpu(1)",
    }.items():
        c[f"arange.{name}"] = f"mx.nd.arange({call})"
    # -- eye -----------------------------------------------------------------------------------------------
    for name, call in {
        "square": "3", "M": "2, 4", "M_k": "3, 4, 1", "k_neg": "3, k=-1", "k_past_end": "3, k=5",
        "k_neg_past_end": "2, 3, -4", "tall_k": "4, 2, -1", "int32": "2, dtype='int32'", "zero": "0",
        "uint8": "2, 3, dtype='uint8'", "float64_M0": "3, 0, 1, dtype='float64'",
    }.items():
        c[f"eye.{name}"] = f"mx.nd.eye({call})"
    # -- linspace ------------------------------------------------------------------------------------------
    for name, call in {
        "default": "0, 1, 5", "no_endpoint": "0, 1, 5, endpoint=False", "one": "0, 1, 1",
        "one_no_endpoint": "2, 1, 1, endpoint=False", "zero": "0, 1, 0", "reverse": "3, -1, 7",
        "int32": "0, 10, 4, dtype='int32'", "int32_neg": "0, -10, 4, dtype='int32'",
        "float64": "0.1, 0.7, 7, dtype='float64'", "float64_thirds": "0, 1, 4, dtype='float64'",
        "float64_no_endpoint": "-1, 1, 6, endpoint=False, dtype='float64'", "float16": "0, 1, 3, dtype='float16'",
        "float32_awkward": "0.1, 0.73, 11", "uint8": "0, 255, 4, dtype='uint8'",
    }.items():
        c[f"linspace.{name}"] = f"mx.nd.linspace({call})"
    # -- zeros_like / ones_like keep the shape and dtype ---------------------------------------------------
    for dt in ("float16", "float64", "uint8", "int32", "int64"):
        c[f"zeros_like.{dt}"] = f"mx.nd.zeros_like(mx.nd.array([[1, 2, 3]], dtype='{dt}'))"
        c[f"ones_like.{dt}"] = f"mx.nd.ones_like(mx.nd.array([[0, 2], [5, 0]], dtype='{dt}'))"
    # -- the Python signatures: parameter names in order --------------------------------------------------
    for fn in ("array", "empty", "zeros", "ones", "full", "arange", "eye", "linspace"):
        c[f"signature.{fn}"] = f"list(__import__('inspect').signature(mx.nd.{fn}).parameters)"
    c["zeros_like.fluent"] = "mx.nd.array([1.5, 2]).zeros_like()"
    c["ones_like.fluent"] = "mx.nd.array([1.5, 2]).ones_like()"
    return c


CASES: dict[str, str] = _cases()


def check_case(name: str, mx) -> None:
    """Creation results must match exactly (rtol 0): they are computed, not approximated."""
    check("creation", CASES, name, mx, rtol=0.0)


if __name__ == "__main__":
    record("creation", CASES)
