"""`.params` files written by MXNet 1.9's `mx.nd.save`, for tests/test_io.py; run with the oracle's Python:

    /work/oracle/mxnet/bin/python tests/oracle/record_params.py

For every case in `CASES` it builds the arrays with MXNet, saves them to `data/<case>.params` and records
the case's spec in `data/params_cases.json`. The tests build the same arrays with mxplug and check that
mxplug loads MXNet's files to those arrays, and that mxplug's own files are byte-for-byte MXNet's.
This module imports neither library at import time; `build(mx, spec)` takes one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
MANIFEST = DATA / "params_cases.json"

DTYPES = ("float16", "float32", "float64", "uint8", "int8", "int32", "int64", "bool")
INTS = ("uint8", "int8", "int32", "int64")


def _entry(name, dtype, shape, style="arange", ctx=("cpu", 0)) -> dict:
    return {"name": name, "dtype": dtype, "shape": list(shape), "style": style, "ctx": list(ctx)}


# case → {"form": list | dict | single, "arrays": [entry, ...]}
CASES: dict[str, dict[str, Any]] = {
    "list_float32": {"form": "list", "arrays": [_entry(None, "float32", (2, 3))]},
    "dict_every_dtype": {"form": "dict", "arrays": [
        _entry(f"arg:{dt}", dt, [(3,), (2, 2), (1, 3, 2), (4,), (2, 1), (5,), (3, 1, 1), (2, 3)][i])
        for i, dt in enumerate(DTYPES)]},
    "single_ndarray": {"form": "single", "arrays": [_entry(None, "float32", (1,))]},
    "empty_list": {"form": "list", "arrays": []},
    "empty_dict": {"form": "dict", "arrays": []},
    "names": {"form": "dict", "arrays": [
        _entry("é", "float32", (1,)), _entry("weight:0", "float32", (2,)), _entry("", "int32", (1,)),
        _entry("a b/c", "float64", (2,)), _entry("日本語", "uint8", (3,))]},
    "zero_d": {"form": "list", "arrays": [_entry(None, "float32", ()), _entry(None, "int64", ())]},
    "zero_size": {"form": "list", "arrays": [_entry(None, "float32", (0,)), _entry(None, "int32", (2, 0))]},
    "cpu1": {"form": "list", "arrays": [_entry(None, "float32", (2,), ctx=("cpu", 1))]},
    "special_floats": {"form": "list", "arrays": [_entry(None, dt, (8,), "special")
                                                  for dt in ("float16", "float32", "float64")]},
    "int_extremes": {"form": "list", "arrays": [_entry(None, dt, (5,), "extremes") for dt in (*INTS, "bool")]},
    "random_weights": {"form": "dict", "arrays": [
        _entry("fc1_weight", "float32", (4, 5, 6), "random"), _entry("fc1_bias", "float64", (6,), "random"),
        _entry("emb", "float16", (3, 7), "random")]},
    "high_rank": {"form": "list", "arrays": [_entry(None, "float32", (1, 2, 1, 2, 1, 2))]},
}


def values(entry: dict) -> np.ndarray:
    """The host values of one array (the same under NumPy 1.x and 2.x)."""
    dtype, shape, style = np.dtype(entry["dtype"]), tuple(entry["shape"]), entry["style"]
    n = int(np.prod(shape, dtype=np.int64))
    if style == "random":
        v = np.random.RandomState(0).standard_normal(n) * 10
    elif style == "special":
        v = np.resize(np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-40, 65504.0, -1e-8]), n)
    elif style == "extremes":
        if dtype.kind == "b":
            v = np.resize(np.array([True, False]), n)
        else:
            info = np.iinfo(dtype)
            v = np.resize(np.array([info.min, info.max, 0, -1 if info.min < 0 else 1, 1], dtype=dtype), n)
    else:
        v = np.arange(n) * 3 - n  # negative values too (wrapping for uint8, True/False for bool)
    with np.errstate(all="ignore"):
        return v.astype(dtype).reshape(shape)


def build(mx: Any, spec: dict) -> Any:
    """The save argument of a case, built with `mx` (mxnet or mxplug)."""
    arrays = [mx.nd.array(values(e), ctx=mx.Context(*e["ctx"]), dtype=e["dtype"]) for e in spec["arrays"]]
    if spec["form"] == "dict":
        return {e["name"]: a for e, a in zip(spec["arrays"], arrays)}  # noqa: B905 (old Python in the oracle)
    if spec["form"] == "single":
        return arrays[0]
    return arrays


def record() -> None:
    import mxnet as mx

    DATA.mkdir(exist_ok=True)
    for name, spec in CASES.items():
        mx.nd.save(str(DATA / f"{name}.params"), build(mx, spec))
    MANIFEST.write_text(json.dumps({"mxnet_version": mx.__version__, "cases": CASES}, indent=1,
                                   sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(CASES)} files to {DATA}")


if __name__ == "__main__":
    record()
