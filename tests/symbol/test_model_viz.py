"""mx.model checkpoints and mx.viz summaries."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx
from mxplug.base import FileFormatError

ORACLE = Path(__file__).resolve().parents[1] / "oracle" / "symbol"
sys.path.insert(0, str(ORACLE))
from nets import ELEMWISE_NETS, SHAPES, build  # noqa: E402


def test_checkpoint_round_trip(tmp_path):
    prefix = str(tmp_path / "net")
    net = mx.sym.exp(mx.sym.var("x")) * mx.sym.var("w")
    args = {"w": mx.nd.array([1.0, 2.0])}
    aux = {"m": mx.nd.array([3.0], dtype="float64")}
    mx.model.save_checkpoint(prefix, 7, net, args, aux)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net-0007.params", "net-symbol.json"]
    assert sorted(mx.nd.load(prefix + "-0007.params")) == ["arg:w", "aux:m"]
    sym, a, x = mx.model.load_checkpoint(prefix, 7)
    assert sym.tojson() == net.tojson()
    assert a["w"].asnumpy().tolist() == [1.0, 2.0] and x["m"].dtype == np.float64


def test_load_params_rejects_unnamed_or_badly_named_files(tmp_path):
    prefix = str(tmp_path / "p")
    mx.nd.save(prefix + "-0001.params", [mx.nd.ones((1,))])
    with pytest.raises(FileFormatError, match="no names"):
        mx.model.load_params(prefix, 1)
    mx.nd.save(prefix + "-0002.params", {"weight": mx.nd.ones((1,))})
    with pytest.raises(FileFormatError, match="'weight' is not"):
        mx.model.load_params(prefix, 2)
    (tmp_path / "p-0003.params").write_bytes(b"\x12\x01\x00")
    with pytest.raises(FileFormatError):
        mx.model.load_params(prefix, 3)


@pytest.mark.parametrize("name", ELEMWISE_NETS)
def test_print_summary_matches_mxnet(name):
    with mx.name.NameManager():
        net = build(mx, name)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mx.viz.print_summary(net, SHAPES[name])
    assert buf.getvalue() == _ours((ORACLE / f"summary_{name}.txt").read_text())


def _ours(text: str) -> str:
    """MXNet's table with our operator for Symbol ⊕ Symbol (broadcasting), column widths kept."""
    import re

    swap = {"elemwise_add": "broadcast_add", "elemwise_sub": "broadcast_sub", "elemwise_mul": "broadcast_mul",
            "elemwise_div": "broadcast_div", "_power": "broadcast_power"}

    def repl(m):
        new = f"({swap[m[1]]})"
        return new + " " * max(len(m[0]) - len(new), 1)

    return re.sub(r"\((elemwise_add|elemwise_sub|elemwise_mul|elemwise_div|_power)\)( +)", repl, text)


def test_print_summary_without_shapes_and_incomplete_shapes():
    net = mx.sym.dot(mx.sym.var("a"), mx.sym.var("b"))
    lines = mx.viz.summary_lines(net)
    assert lines[-2] == "Total params: 0"
    with pytest.raises(ValueError, match="incomplete"):
        mx.viz.print_summary(net, {"a": (2, 3)})
    with pytest.raises(TypeError):
        mx.viz.print_summary("net")


def test_dot_text_and_plot_network():
    x = mx.sym.var("x")
    with mx.name.NameManager():
        net = mx.sym.relu(x * 2, name="r")
    dot = mx.viz.to_dot(net, title="t")
    assert dot.startswith('digraph "t" {') and '"r" -> "_mulscalar0"' in dot and '"x" [label="x"' in dot
    try:
        import graphviz  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="to_dot"):
            mx.viz.plot_network(net)
    else:
        g = mx.viz.plot_network(net)
        assert "_mulscalar0" in g.source
