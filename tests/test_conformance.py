"""The conformance kit for backend authors: check_backend, `mxplug check-backend`, `pytest --mxplug-backend`,
the example third-party plugin, and check_consistency."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx
from mxplug.cli import main as cli_main
from mxplug.testing import check_consistency
from mxplug.testing.conformance import backend_operators, check_backend

from . import toy_backend

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "third_party_backend"


def _wrong_add(a, b):  # right shape and dtype, wrong values: only the comparison can catch it
    return np.subtract(a, b)


@pytest.fixture
def broken_toy():
    with toy_backend.installed(keep=lambda op: op in {"exp", "_copyto"}, extra={"broadcast_add": _wrong_add}) as ctx:
        yield ctx


@pytest.fixture
def toydev():
    sys.path.insert(0, str(EXAMPLE))
    try:
        import mxplug_toydev

        info = mx.plugins.register_plugin(mxplug_toydev, "toydev")
        yield info
    finally:
        sys.path.remove(str(EXAMPLE))
        sys.modules.pop("mxplug_toydev", None)
        mx.plugins.reset()


def test_the_kit_passes_on_the_numpy_backend():
    report = check_backend("numpy")
    assert report.passed, "\n".join(f"{r.op}: {r.message}" for r in report.failures)
    ops = {r.op for r in report.results}
    assert ops == set(backend_operators("numpy")) and len(ops) > 200
    by_op = {r.op: r for r in report.results}
    assert (by_op["dot"].forward, by_op["dot"].gradient) == ("PASS", "PASS")
    assert by_op["_zeros"].gradient == "-"  # no inputs to differentiate
    assert by_op["_random_uniform"].message == "random: shape and finiteness only"
    assert by_op["BlockGrad"].gradient == "SKIP"  # a gradient by definition, not a derivative


def test_a_broken_kernel_shows_as_fail(broken_toy, capsys):
    report = check_backend("toy", ops=["broadcast_add", "exp"])
    assert not report.passed
    add, exp = report.results
    # Its gradient formula does not use the kernel, so the gradient column still passes.
    assert (add.op, add.forward, add.gradient) == ("broadcast_add", "FAIL", "PASS")
    assert "elements differ" in add.message and add.max_error > 0.1
    assert (exp.forward, exp.gradient) == ("PASS", "PASS")
    table = report.table()
    assert any(line.split()[:4] == ["broadcast_add", "float32", "FAIL", "PASS"] for line in table.splitlines())
    assert table.endswith("backend 'toy': 2 checked, 1 passed, 1 failed, 0 skipped")
    # The command line prints the same table and exits 1.
    assert cli_main(["check-backend", "toy", "--op", "broadcast_add", "--op", "exp"]) == 1
    assert capsys.readouterr().out == table + "\n"


def test_a_kernel_breaking_its_contract_is_reported():
    with toy_backend.installed(keep=lambda op: op == "_copyto", extra={"exp": lambda x: np.exp(x).astype("f8")}):
        (row,) = check_backend("toy", ops=["exp"]).results
    assert row.forward == "FAIL" and "broke its contract" in row.message


def test_the_example_plugin_passes(toydev, capsys):
    assert toydev.status == "loaded" and toydev.kernels == 8
    report = check_backend("toydev", dtypes=("float32", "float64"))
    assert report.passed, report.table()
    assert len(report.results) == 16 and all(r.gradient == "PASS" for r in report.results)
    # Everything else runs by fallback, on the device's context.
    ctx = mx.Context("toydev", 0)
    with mx.fallback("silent"):
        y = mx.nd.sqrt(mx.nd.ones((2, 2), ctx=ctx) * 4)
    assert y.context == ctx and y.asnumpy().tolist() == [[2.0, 2.0], [2.0, 2.0]]
    assert cli_main(["check-backend", "toydev", "--json"]) == 0
    assert '"passed": true' in capsys.readouterr().out


def test_cli_usage_errors(capsys):
    assert cli_main(["check-backend", "nosuch"]) == 1
    assert "no backend named 'nosuch'" in capsys.readouterr().err


def test_the_pytest_plugin_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"mxplug": "mxplug.pytest_plugin"}


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    installed = any(ep.value == "mxplug.pytest_plugin" for ep in metadata.entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "mxplug.pytest_plugin"]  # until the entry point is installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(EXAMPLE), str(tmp_path)]))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin, *args],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)


@pytest.mark.slow
def test_pytest_plugin_runs_the_kit(tmp_path):
    proc = _pytest(tmp_path, "--mxplug-load", "mxplug_toydev", "--mxplug-backend", "toydev")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 passed" in proc.stdout and "mxplug conformance: backend 'toydev'" in proc.stdout
    assert "backend 'toydev': 8 checked, 8 passed, 0 failed, 0 skipped" in proc.stdout

    # A vendor's broken kernel: the test of that operator fails, with the error, and the table says FAIL.
    (tmp_path / "broken_dev.py").write_text(textwrap.dedent("""
        import numpy as np
        import mxplug
        from mxplug_toydev import KERNELS, ToyDevArray, mxplug_register_backends  # noqa: F401
        MXPLUG_API_VERSION = "1.0"

        @mxplug.hookimpl
        def mxplug_register_kernels(register):
            register("exp", "toydev", KERNELS["exp"])
            register("broadcast_add", "toydev", lambda a, b: ToyDevArray(a.a * b.a))
    """))
    proc = _pytest(tmp_path, "--mxplug-load", "broken_dev", "--mxplug-backend", "toydev")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in proc.stdout
    assert "broadcast_add (float32) on backend 'toydev': forward FAIL" in proc.stdout
    assert any(line.split()[:3] == ["broadcast_add", "float32", "FAIL"] for line in proc.stdout.splitlines())


def test_pytest_plugin_is_inert_without_a_backend(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_ok():\n    pass\n")
    proc = _pytest(tmp_path)
    assert proc.returncode == 0 and "1 passed" in proc.stdout and "conformance" not in proc.stdout


# -- check_consistency ------------------------------------------------------------------------------------
def _entries(*specs):
    return [{"ctx": ctx, "data": (3, 4), "type_dict": {"data": dt}} for ctx, dt in specs]


def test_check_consistency_across_dtypes_returns_the_precise_run():
    truth = check_consistency(lambda data: mx.nd.sigmoid(data) * data,
                              _entries((mx.cpu(), np.float16), (mx.cpu(), np.float32), (mx.cpu(), np.float64)))
    assert truth["output"][0].dtype == np.float64 and truth["grads"][0].shape == (3, 4)


def test_check_consistency_catches_a_broken_backend(broken_toy, capsys):
    def fn(data):
        return data + data

    with pytest.raises(AssertionError, match="output 0 on entry 1"), mx.fallback("silent"):
        check_consistency(fn, _entries((mx.cpu(), np.float32), (broken_toy, np.float32)))
    with mx.fallback("silent"):
        check_consistency(fn, _entries((mx.cpu(), np.float32), (broken_toy, np.float32)), raise_on_err=False)
    assert "check_consistency: output 0 on entry 1" in capsys.readouterr().out


def test_check_consistency_on_another_context_with_fallbacks(broken_toy):
    with mx.fallback("silent"):
        check_consistency(lambda lhs, rhs: mx.nd.exp(lhs) * rhs, [mx.cpu(), broken_toy],
                          shapes={"lhs": (2, 3), "rhs": (2, 3)})


def test_check_consistency_hands_symbols_to_the_symbol_extension_point(monkeypatch):
    from mxplug.testing import consistency

    class FakeSymbol:
        def list_arguments(self):
            return ["data"]

    calls = []
    monkeypatch.setattr(consistency, "SYMBOL_CONSISTENCY", lambda sym, ctx_list, **kw: calls.append((sym, ctx_list)))
    sym, ctxs = FakeSymbol(), [mx.cpu()]
    check_consistency(sym, ctxs)
    assert calls == [(sym, ctxs)]


def test_the_symbol_package_installs_the_extension_point():
    import mxplug.symbol  # noqa: F401
    from mxplug.symbol.consistency import check_symbol_consistency
    from mxplug.testing import consistency

    assert consistency.SYMBOL_CONSISTENCY is check_symbol_consistency
