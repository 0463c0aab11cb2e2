"""The benchmark machinery: the per-operator case table, the generated asv suite, asv itself on the suite
(`asv check` and a quick run of a subset, in the current environment) and `mxplug bench`.

Timings are never asserted: these tests fail only when a benchmark is broken.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mxplug as mx
from mxplug import bench, registry
from mxplug.registry import OpSchema, parse_attr_spec
from mxplug.testing import cases as C

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the asv suite is the top-level package `benchmarks`

from benchmarks import bench_ops  # noqa: E402
from tests import toy_backend  # noqa: E402

ALL_CASES = C.all_cases()


def _schema(name: str, inputs=("data",), attrs=None, **kw) -> OpSchema:
    """A schema that is not registered: how a new operator looks to the case table."""
    attrs = {k: parse_attr_spec(name, k, v) for k, v in (attrs or {}).items()}
    fixed = tuple(i.lstrip("*").rstrip("?") for i in inputs)
    return OpSchema(
        name=name, family=kw.pop("family", "elemwise"), inputs=fixed,
        optional_inputs=frozenset(i.lstrip("*").rstrip("?") for i in inputs if i.endswith("?")),
        variadic=next((i[1:] for i in inputs if i.startswith("*")), None), attrs=attrs, doc="test", **kw,
    )


# -- the case table ---------------------------------------------------------------------------------------
def test_uncovered_operators_are_exactly_the_documented_exceptions():
    documented = {name for name in C.EXCEPTIONS if name in registry.all_ops()}
    assert set(C.uncovered()) == documented, C.uncovered()


def test_every_covered_operator_has_a_small_and_a_large_case():
    covered = set(registry.all_ops()) - set(C.uncovered())
    sizes = {}
    for case in ALL_CASES:
        sizes.setdefault(case.op, []).append(case.size)
    assert set(sizes) == covered
    assert all(s == list(C.SIZES) for s in sizes.values())


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.label)
def test_case_runs_and_matches_the_float64_truth_on_cpu(case):
    C.check_case(case, mx.cpu())


def test_a_new_float_operator_gets_cases_automatically():
    schema = _schema("brand_new_op", inputs=("lhs", "rhs"), attrs={"alpha": "float = 1.0", "mode": "enum(a|b)"})
    small, large = C.cases_for(schema)
    assert small.inputs[0].shape == small.inputs[1].shape and small.inputs[0].dtype == np.float32
    assert large.inputs[0].size > 100 * small.inputs[0].size
    assert small.attrs == {"mode": "a"}  # required enum: its first choice; defaults are left alone
    assert small.grad_inputs == (0, 1) and small.reference is None


@pytest.mark.parametrize(("name", "low", "high"), [
    ("log", 0, None), ("sqrt", 0, None), ("arccosh", 1, None), ("arcsin", -1, 1), ("arctanh", -1, 1),
])
def test_domains_are_honoured(name, low, high):
    for case in C.cases_for(_schema(name)):
        x = case.inputs[0]
        assert x.min() > low and (high is None or x.max() < high)


def test_index_inputs_are_valid_positions():
    schema = _schema("take", inputs=("a", "indices"), attrs={"axis": "int = 0"}, nondiff_inputs=frozenset({"indices"}))
    for case in C.cases_for(schema):
        a, idx = case.inputs
        assert 1 in case.discrete and case.grad_inputs == (0,)
        assert np.array_equal(idx, np.round(idx)) and 0 <= idx.min() and idx.max() < a.shape[0]


def test_creation_operators_get_their_shape_from_the_case_size():
    schema = _schema("_brand_new_zeros", inputs=(), attrs={"shape": "shape = ()", "dtype": "dtype = float32"})
    small, large = C.cases_for(schema)
    assert small.inputs == () and small.attrs["shape"] != large.attrs["shape"]


def test_an_operator_the_table_cannot_serve_is_uncovered_with_a_reason():
    index_op = _schema("brand_new_lookup", inputs=("data", "indices"))
    assert C.cases_for(index_op) == []
    assert "indices" in C.why_uncovered(index_op)
    odd_attr = _schema("brand_new_window", attrs={"stencil": "shape"})
    assert C.cases_for(odd_attr) == [] and "stencil" in C.why_uncovered(odd_attr)


def test_check_case_catches_a_wrong_result():
    case = C.cases_for(registry.get("_plus_scalar"))[0]
    wrong = C.Case(case.op, case.size, case.inputs, case.attrs, reference=lambda x, scalar, **_: x + scalar + 1e-2)
    with pytest.raises(AssertionError, match="differ"):
        C.check_case(wrong, mx.cpu())


# -- the generated asv suite, in process ------------------------------------------------------------------
OP_CLASSES = sorted((n, c) for n, c in vars(bench_ops).items() if n.startswith("op_"))


def test_every_covered_operator_has_a_generated_benchmark():
    assert {n[3:] for n, _ in OP_CLASSES} == {c.op for c in ALL_CASES}
    assert "cpu(0)" in bench_ops.CONTEXTS


@pytest.mark.parametrize(("name", "cls"), OP_CLASSES, ids=[n for n, _ in OP_CLASSES])
def test_generated_benchmark_runs(name, cls):
    b = cls()
    b.setup("small", "cpu(0)")
    b.time_forward("small", "cpu(0)")
    if hasattr(cls, "time_forward_backward"):
        b.time_forward_backward("small", "cpu(0)")
        assert all(b.arrays[i].grad is not None for i in b.case.grad_inputs)


def test_generated_benchmark_on_another_backend_checks_against_the_cpu_truth():
    with toy_backend.installed() as toy:
        b = bench_ops.op_exp()
        b.setup("large", repr(toy))
        b.time_forward_backward("large", repr(toy))
        assert b.arrays[0].context == toy


def test_a_broken_kernel_fails_its_benchmark_instead_of_posting_a_time():
    with toy_backend.installed(extra={"exp": lambda data: data + 1}) as toy:
        with pytest.raises(AssertionError, match="exp.*toy"):
            bench_ops.op_exp().setup("small", repr(toy))


def test_a_missing_kernel_skips_on_other_backends_but_fails_on_cpu(monkeypatch):
    with toy_backend.installed(keep=lambda op: op != "exp") as toy:
        with pytest.raises(NotImplementedError):  # asv reports a skipped benchmark (n/a)
            bench_ops.op_exp().setup("small", repr(toy))

    def no_cpu_kernel(case, ctx):
        raise mx.base.KernelNotFoundError(f"no kernel for '{case.op}' on {ctx!r}")

    monkeypatch.setattr(bench_ops, "check_case", no_cpu_kernel)
    with pytest.raises(RuntimeError, match="no kernel"):
        bench_ops.op_exp().setup("small", "cpu(0)")


def test_usable_contexts_start_with_cpu_and_can_be_restricted(monkeypatch):
    before = bench.usable_contexts()
    assert before[0] == mx.cpu()
    with toy_backend.installed() as toy:
        assert bench.usable_contexts() == sorted([*before, toy], key=lambda c: (c != mx.cpu(), c.device_type))
    monkeypatch.setenv("MXPLUG_BENCH_CONTEXTS", "cpu, cpu(1)")
    assert bench.usable_contexts() == [mx.cpu(0), mx.cpu(1)]
    assert bench.parse_context("opencl:1") == mx.Context("opencl", 1)


# -- asv on the suite ---------------------------------------------------------------------------------------
QUICK_SUBSET = (
    r"bench_ops\.op_broadcast_add\.|bench_ops\.op_sum\.|bench_dispatch\.Dispatch\.time_add_operator"
    r"|bench_dispatch\.DispatchRecording\.time_add_operator|bench_training\.MLP\.time_step|bench_training\.LeNet\.time_step"
    r"|bench_memory\.mem_ndarray|bench_memory\.track_|bench_import\.timeraw_import_mxplug"
)


def _asv(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    # asv keeps its machine description in ~/.asv-machine.json: a private HOME keeps the user's alone.
    env = dict(os.environ, HOME=str(tmp_path), MXPLUG_BENCH_CONTEXTS="cpu")
    return subprocess.run([sys.executable, "-m", "asv", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_asv_config_installs_every_in_repo_plugin():
    lines = (ROOT / "asv.conf.json").read_text().splitlines()
    conf = json.loads("\n".join(line for line in lines if not line.lstrip().startswith("//")))
    assert conf["benchmark_dir"] == "benchmarks" and conf["repo"] == "."
    install = " ".join(conf["install_command"])
    plugins = [p.parent.name for p in (ROOT / "plugins").glob("*/pyproject.toml")]
    assert plugins and all(f"{{build_dir}}/plugins/{name}" in install for name in plugins), install
    assert install.rstrip().endswith("{wheel_file}")  # plugins first: the core's wheel depends on them


@pytest.mark.slow
def test_asv_check_passes(tmp_path):
    proc = _asv(tmp_path, "check", "--python=same")
    assert proc.returncode == 0 and "No problems found" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.slow
def test_asv_quick_run_of_a_subset_has_no_failures(tmp_path):
    assert _asv(tmp_path, "machine", "--yes").returncode == 0
    proc = _asv(tmp_path, "run", "--python=same", "--quick", "--dry-run", "--show-stderr", "--bench", QUICK_SUBSET)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "failed" not in out.lower(), out
    for name in ("op_broadcast_add.time_forward_backward", "Dispatch.time_add_operator", "timeraw_import_mxplug",
                 "mem_ndarray_1m_float32", "MLP.time_step", "LeNet.time_step"):
        assert name in out, f"{name} did not run:\n{out}"


# -- mxplug bench ---------------------------------------------------------------------------------------------
def test_lenet_step_trains_and_the_executor_computes_the_imperative_losses():
    imperative, executor = bench.lenet_step(batch=8), bench.lenet_step(batch=8, mode="executor")
    a = [float(imperative().asscalar()) for _ in range(4)]
    b = [float(executor().asscalar()) for _ in range(4)]
    np.testing.assert_allclose(b, a, rtol=1e-4)  # same symbol, same data, same SGD: the same trajectory
    assert a[-1] < a[0]
    assert a[0] == pytest.approx(np.log(10), rel=0.1)  # small Xavier weights start near uniform over 10 classes


def test_bench_json_has_mxplug_and_numpy_figures(capsys):
    assert bench.main(["--json", "--quick", "--only", "add_tiny,dot_256", "--ops", "exp"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {r["case"]: r for r in report["cases"]}
    assert set(rows) == {"add_tiny", "dot_256", "exp[small]", "exp[large]"}
    for row in rows.values():
        assert row["mxplug_us"] > 0 and row["numpy_us"] > 0
        assert row["ratio_numpy"] == pytest.approx(row["mxplug_us"] / row["numpy_us"])


@pytest.mark.slow
def test_bench_runs_as_a_module_and_prints_a_table():
    proc = subprocess.run([sys.executable, "-m", "mxplug.bench", "--quick", "--only", "add_tiny"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "add_tiny" in proc.stdout and "x numpy" in proc.stdout


def test_bench_rejects_unknown_names(capsys):
    assert bench.main(["--only", "no_such_workload"]) == 2
    assert bench.main(["--ops", "no_such_operator"]) == 2
    assert "no_such" in capsys.readouterr().err


def test_mlp_step_learns():
    step = bench.mlp_step(batch=8, sizes=(6, 5, 3))
    losses = [float(step().asscalar()) for _ in range(5)]
    assert losses[-1] < losses[0]
    floor = bench.numpy_mlp_step(batch=8, sizes=(6, 5, 3))
    first = floor()
    assert [floor() for _ in range(4)][-1] < first
    assert first == pytest.approx(losses[0], rel=1e-5)  # same data, same network: the same loss
