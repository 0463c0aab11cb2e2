"""The `mxplug` command line: plugins, ops and explain, as text and JSON, with its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mxplug as mx
from mxplug import registry
from mxplug.cli import main

from .plugin_factory import PluginFactory, backend_source


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    factory = PluginFactory(tmp_path, monkeypatch)
    yield factory
    factory.close()


def _backends() -> list[str]:
    return sorted(b.name for b in mx.plugins.manager().backends.values())


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


# -- plugins --------------------------------------------------------------------------------------------
def test_plugins_table_lists_numpy(capsys):
    code, out, err = run(capsys, "plugins")
    assert code == 0 and err == ""
    header, *rows = out.splitlines()
    assert header.split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS", "KERNELS"]
    numpy_row = next(r for r in rows if r.startswith("numpy "))
    kernels = mx.plugins.manager().plugins["numpy"].kernels
    assert numpy_row.split() == ["numpy", "mxplug-numpy", "0.1.0", "loaded", str(kernels)]
    assert "    backend 'numpy' for device type 'cpu': available; devices: cpu(0)" in rows


def test_plugins_json(capsys):
    report = {p["name"]: p for p in run_json(capsys, "plugins")}
    numpy = report["numpy"]
    assert (numpy["status"], numpy["distribution"], numpy["module"]) == ("loaded", "mxplug-numpy", "mxplug_numpy")
    assert numpy["kernels"] == mx.plugins.manager().plugins["numpy"].kernels > 0
    assert numpy["backends"] == [{"name": "numpy", "device_type": "cpu", "available": True, "reason": "",
                                  "devices": ["cpu(0)"], "device_error": ""}]


def test_plugins_shows_failed_refused_disabled_and_unavailable(plugins, capsys):
    plugins.monkeypatch.setenv("MXPLUG_DISABLE_PLUGINS", "off")
    plugins.make("broken", "raise ImportError('needs libtoy.so')", reload=False)
    plugins.make("future", "MXPLUG_API_VERSION = '2.0'", reload=False)
    plugins.make("off", "raise AssertionError('never imported')", reload=False)
    plugins.make("toy", backend_source(available=False, reason="no toy card found"), version="2.5")

    code, out, _ = run(capsys, "plugins")
    assert code == 0
    lines = out.splitlines()
    assert "    failed: import failed: ImportError: needs libtoy.so" in lines
    assert "    refused: needs mxplug plugin API 2.0, this mxplug provides 1.0" in lines
    assert "    disabled: disabled by MXPLUG_LOAD_PLUGINS / MXPLUG_DISABLE_PLUGINS" in lines
    assert "    backend 'toy' for device type 'toy': unavailable (no toy card found)" in lines
    assert any(line.split()[:4] == ["toy", "mxplug-toy", "2.5", "loaded"] for line in lines)
    assert "Traceback" not in out

    code, verbose, _ = run(capsys, "plugins", "--verbose")
    assert code == 0 and "      Traceback (most recent call last):" in verbose and "needs libtoy.so" in verbose

    report = {p["name"]: p for p in run_json(capsys, "plugins")}
    assert {n: report[n]["status"] for n in ("broken", "future", "off", "toy", "numpy")} == {
        "broken": "failed", "future": "refused", "off": "disabled", "toy": "loaded", "numpy": "loaded"}
    assert report["broken"]["traceback"].startswith("Traceback") and "needs libtoy.so" in report["broken"]["traceback"]
    assert report["toy"]["backends"] == [{"name": "toy", "device_type": "toy", "available": False,
                                          "reason": "no toy card found", "devices": [], "device_error": ""}]


def test_plugins_with_several_devices(plugins, capsys):
    plugins.make("toy", backend_source())
    code, out, _ = run(capsys, "plugins")
    assert "    backend 'toy' for device type 'toy': available; devices: toy(0), toy(1)" in out.splitlines()


# -- ops ------------------------------------------------------------------------------------------------
def test_ops_lists_every_operator(capsys):
    code, out, _ = run(capsys, "ops")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["OPERATOR", "ALIASES", "FAMILY", *(b.upper() for b in _backends())]
    assert {r.split()[0] for r in rows} == set(registry.all_ops())
    add = next(r for r in rows if r.startswith("broadcast_add ")).split()
    assert add[:3] == ["broadcast_add", "broadcast_plus", "elemwise"]
    assert add[3 + _backends().index("numpy")] == "native"


def test_ops_json_has_signatures_and_coverage(capsys):
    report = {op["name"]: op for op in run_json(capsys, "ops")}
    assert set(report) == set(registry.all_ops())
    total = report["sum"]
    assert total["family"] == "reduce" and "sum_axis" in total["aliases"]
    assert total["inputs"] == ["data"]
    assert total["attrs"]["keepdims"] == {"kind": "bool", "required": False, "default": False}
    assert total["attrs"]["axis"] == {"kind": "shape?", "required": False, "default": None}
    assert total["kernels"]["numpy"] == "native"
    assert report["Cast"]["attrs"]["dtype"] == {"kind": "dtype", "required": True}
    for op in report.values():
        assert list(op["kernels"]) == _backends()
        for status in op["kernels"].values():
            assert status in {"native", "composite", "missing"}
            assert (status == "composite") == op["composite"]


def test_ops_missing_on_a_backend(plugins, capsys):
    plugins.make("toy", backend_source(), """
        @mxplug.hookimpl
        def mxplug_register_kernels(register):
            register("exp", "toy", lambda data: ToyArray(np.exp(data.a)))
    """)
    code, out, _ = run(capsys, "ops", "--backend", "toy", "--missing")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["OPERATOR", "ALIASES", "FAMILY", "TOY"]
    names = {r.split()[0] for r in rows}
    assert "exp" not in names and "broadcast_add" in names
    assert all(r.split()[-1] == "missing" for r in rows)

    report = run_json(capsys, "ops", "--missing")  # no --backend: missing on any installed backend
    by_name = {op["name"]: op["kernels"] for op in report}
    # exp is listed only if some other installed backend (an unavailable cupy, say) lacks it: never for toy
    assert by_name.get("exp", {"toy": "native"})["toy"] == "native"
    assert by_name["broadcast_add"]["numpy"] == "native" and by_name["broadcast_add"]["toy"] == "missing"


def test_ops_missing_when_complete(plugins, capsys):
    plugins.make("toy", backend_source(), """
        @mxplug.hookimpl
        def mxplug_register_kernels(register):
            register("exp", "toy", lambda data: ToyArray(np.exp(data.a)))
    """)
    plugins.monkeypatch.setattr(registry, "all_ops", lambda: {"exp": registry.get("exp")})
    code, out, _ = run(capsys, "ops", "--missing", "--backend", "toy")
    assert code == 0 and out == "every operator has a kernel on toy\n"


def test_ops_unknown_backend_is_a_usage_error(capsys):
    code, _, err = run(capsys, "ops", "--backend", "nosuch")
    assert code == 2
    assert "unknown backend 'nosuch' (installed backends: " in err and "numpy" in err


# -- explain --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ctx", ["cpu", "cpu:0", "cpu(0)", "cpu:3"])
def test_explain(capsys, ctx):
    code, out, err = run(capsys, "explain", "broadcast_plus", "--ctx", ctx, "--dtype", "float64")
    assert code == 0 and err == ""
    device = mx.Context("cpu", int(ctx.strip("cpu:()") or 0))
    assert out == mx.dispatch.explain("broadcast_add", device, "float64") + "\n"
    assert out.startswith(f"broadcast_add on {device!r} (float64): kernel from plugin 'numpy'")


def test_explain_defaults_to_cpu_float32(capsys):
    code, out, _ = run(capsys, "explain", "exp")
    assert code == 0 and out.startswith("exp on cpu(0) (float32): kernel from plugin 'numpy'")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["explain", "no_such_op"], "mxplug: error: no operator named 'no_such_op' is registered\n"),
        (["explain", "exp", "--ctx", "nodevice:1"], "mxplug: error: no backend serves context nodevice(1)"),
    ],
)
def test_explain_errors_exit_1_without_traceback(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith(message)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["explain"], "the following arguments are required: OP"),
        (["explain", "exp", "--dtype", "complex64"], "argument --dtype: invalid choice: 'complex64'"),
        (["explain", "exp", "--ctx", "cpu:x"], "'cpu:x' is not a context of the form TYPE[:INDEX]"),
        (["explain", "exp", "--ctx", "cpu:-1"], "'cpu:-1' is not a context"),
        (["plugins", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "usage: mxplug" in err


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "plugins" in out and "explain" in out


def test_python_dash_m_mxplug():
    proc = subprocess.run([sys.executable, "-m", "mxplug", "plugins", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "numpy" in {p["name"] for p in json.loads(proc.stdout)}
    proc = subprocess.run([sys.executable, "-m", "mxplug", "explain", "nope"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and proc.stderr == "mxplug: error: no operator named 'nope' is registered\n"
