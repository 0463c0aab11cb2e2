"""Write mxplug's JSON of the nets of nets.py as ours_<net>.json (then record_symbol.py has MXNet load them).

Run: .venv/bin/python tests/oracle/symbol/write_ours.py   (nets whose operators mxplug lacks are skipped)
"""

import os
import sys

import mxplug as mx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from nets import ELEMWISE_NETS, NN_NETS, build  # noqa: E402

for name in ELEMWISE_NETS + NN_NETS:
    try:
        with mx.name.NameManager():
            net = build(mx, name)
    except mx.MXNetError as e:
        print(f"{name}: not written ({e})")
        continue
    with open(os.path.join(HERE, f"ours_{name}.json"), "w") as f:
        f.write(net.tojson())
    print(f"{name}: written")
