"""Record MXNet 1.9's answers to the core-semantics cases of `core_cases.py` into core_mxnet_1_9_1.json.

Run with the oracle's Python (MXNet 1.9.1 installed), from any directory:
    /work/oracle/mxnet/bin/python tests/oracle/record_core.py
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mxnet as mx  # noqa: E402
from core_cases import CASES, encode, run  # noqa: E402


def main() -> None:
    logging.disable(logging.WARNING)  # MXNet logs "GPU support is disabled" on the gpu case
    results = {name: {"code": code, "result": encode(run(code, mx))} for name, code in CASES.items()}
    out = HERE / "core_mxnet_1_9_1.json"
    payload = {"mxnet_version": mx.__version__, "cases": results}
    out.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(results)} cases to {out}")


if __name__ == "__main__":
    main()
