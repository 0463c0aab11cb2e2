"""Record MXNet 1.9's behaviour on the custom operators of custom_op_cases.py; run with the oracle's Python:

    cd /tmp && /work/oracle/mxnet/bin/python /work/main/tests/oracle/record_custom_op.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mxnet as mx  # noqa: E402
from custom_op_cases import scenarios  # noqa: E402

if __name__ == "__main__":
    result = {"mxnet": mx.__version__, "scenarios": scenarios(mx)}
    (HERE / "custom_op_mxnet_1_9_1.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result)[:2000], flush=True)
    os._exit(0)  # MXNet's custom-operator worker threads can hang the interpreter's shutdown
