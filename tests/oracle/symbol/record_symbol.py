"""Record MXNet 1.9.1's symbol JSON and print_summary text for the nets of nets.py, and check that MXNet
loads the JSON files mxplug wrote (ours_<net>.json, made by `python tests/oracle/symbol/write_ours.py`).

Run from /tmp with the oracle:  /work/oracle/mxnet/bin/python <repo>/tests/oracle/symbol/record_symbol.py
Writes mxnet_<net>.json (MXNet's tojson), summary_<net>.txt (print_summary with SHAPES) and
mxnet_loads_ours.json ({net: {arguments, outputs, aux, out_shapes}} as MXNet sees our files).
"""

import contextlib
import io
import json
import os
import sys

import mxnet as mx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from nets import ELEMWISE_NETS, NN_NETS, SHAPES, build  # noqa: E402

loads = {}
for name in ELEMWISE_NETS + NN_NETS:
    with mx.name.NameManager():
        net = build(mx, name)
    with open(os.path.join(HERE, f"mxnet_{name}.json"), "w") as f:
        f.write(net.tojson())
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(net, SHAPES[name])
    with open(os.path.join(HERE, f"summary_{name}.txt"), "w") as f:
        f.write(buf.getvalue())
    ours = os.path.join(HERE, f"ours_{name}.json")
    if os.path.exists(ours):
        s = mx.sym.load(ours)
        _, out_shapes, _ = s.infer_shape(**SHAPES[name])
        loads[name] = {"arguments": s.list_arguments(), "outputs": s.list_outputs(),
                       "aux": s.list_auxiliary_states(), "out_shapes": [list(x) for x in out_shapes or []]}
with open(os.path.join(HERE, "mxnet_loads_ours.json"), "w") as f:
    json.dump(loads, f, indent=1, sort_keys=True)
print("recorded", sorted(loads))
