"""Record and check operator-family cases against MXNet 1.9 (shared by the `record_<family>.py` scripts).

A family's cases are Python source as in `core_cases.py` (run with `mx` bound to `mxnet` or `mxplug`, and
`np`; a one-line case is an expression, a multi-line one leaves its result in `r`). Recording:

    /work/oracle/mxnet/bin/python tests/oracle/record_<family>.py

writes `<family>_mxnet_1_9_1.json` beside it; the tests run each case with mxplug and compare. Only results
are recorded here: error cases are tested directly (MXNet's errors are RuntimeErrors, mxplug's derive from
ValueError/TypeError, and the messages are what matters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

try:
    from .core_cases import _compare, encode, run
except ImportError:  # run as a script by the oracle's Python: tests/oracle is on sys.path
    from core_cases import _compare, encode, run

HERE = Path(__file__).resolve().parent


def oracle_file(family: str) -> Path:
    return HERE / f"{family}_mxnet_1_9_1.json"


def record(family: str, cases: dict[str, str]) -> None:
    """Run every case with MXNet and write the results (call from the oracle's Python)."""
    import logging

    import mxnet as mx

    logging.disable(logging.WARNING)
    results = {name: {"code": code, "result": encode(run(code, mx))} for name, code in cases.items()}
    errors = sorted(n for n, r in results.items() if r["result"]["kind"] == "error")
    if errors:  # a result case that fails in MXNet is a mistake in the case, not an expectation
        raise SystemExit(f"MXNet raised on {errors}; error cases belong in the tests, not here")
    payload = {"mxnet_version": mx.__version__, "cases": results}
    oracle_file(family).write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(results)} cases to {oracle_file(family)}")


_LOADED: dict[str, dict] = {}


def check(family: str, cases: dict[str, str], name: str, mx: Any, rtol: float = 1e-5) -> None:
    """Run case `name` with mxplug and assert it matches what MXNet recorded."""
    if family not in _LOADED:
        _LOADED[family] = json.loads(oracle_file(family).read_text())["cases"]
    expected = _LOADED[family].get(name)
    assert expected is not None, f"case {name} has no MXNet result: re-run tests/oracle/record_{family}.py"
    assert expected["code"] == cases[name], f"case {name} changed since it was recorded: re-run record_{family}.py"
    value = run(cases[name], mx)
    if isinstance(value, BaseException):
        raise AssertionError(f"{name}: MXNet returned a result, mxplug raised {type(value).__name__}") from value
    _compare(encode(value), expected["result"], name, rtol)
