"""pytest plugin (entry point ``pytest11``): the backend conformance kit as tests.

    pytest --mxplug-backend toydev                          # one test per operator the backend has kernels for
    pytest --mxplug-backend toydev --mxplug-dtype float64   # other dtypes (repeatable)
    pytest --mxplug-backend toydev --mxplug-load mxplug_toydev   # register an uninstalled plugin module first

Each test checks one operator in one dtype (`mxplug.testing.conformance.check_operator`): forward against the
float64 NumPy truth, gradients against central differences. The pass/fail table is printed at the end of
the run. Without ``--mxplug-backend`` the plugin does nothing (it imports nothing from mxplug).
"""

from __future__ import annotations

import importlib

import pytest

_REPORTS: dict = {}


def pytest_addoption(parser) -> None:
    group = parser.getgroup("mxplug", "mxplug backend conformance kit")
    group.addoption("--mxplug-backend", action="append", default=[], metavar="NAME",
                    help="run the conformance kit on this backend (by name, e.g. numpy); repeatable")
    group.addoption("--mxplug-dtype", action="append", default=[], metavar="DTYPE",
                    help="dtype to check (default float32); repeatable")
    group.addoption("--mxplug-op", action="append", default=[], metavar="OP",
                    help="check only this operator; repeatable")
    group.addoption("--mxplug-load", action="append", default=[], metavar="MODULE",
                    help="register this module as an mxplug plugin first (a plugin not installed yet)")


class ConformanceItem(pytest.Item):
    """One operator in one dtype on one backend."""

    def __init__(self, *, backend: str, op: str, dtype: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.backend, self.op, self.dtype = backend, op, dtype

    def runtest(self) -> None:
        from mxplug.testing.conformance import check_operator

        result = check_operator(self.op, self.backend, self.dtype)
        _REPORTS.setdefault(self.backend, []).append(result)
        if result.failed:
            raise ConformanceFailure(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ConformanceFailure):
            r = excinfo.value.result
            return (f"{r.op} ({r.dtype}) on backend '{self.backend}': forward {r.forward}, gradient {r.gradient}, "
                    f"max error {r.max_error:.3g}\n{r.message}")
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"mxplug conformance: {self.backend} {self.op} {self.dtype}"


class ConformanceFailure(Exception):
    def __init__(self, result) -> None:
        super().__init__(result.message)
        self.result = result


class ConformanceCollector(pytest.Collector):
    """The kit's tests for one backend."""

    def __init__(self, *, backend: str, dtypes: list[str], ops: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.backend, self.dtypes, self.ops = backend, dtypes, ops

    def collect(self):
        from mxplug.testing.conformance import _dtypes_handled, backend_operators

        ops = self.ops or backend_operators(self.backend)
        for op in ops:
            for dt in _dtypes_handled(op, self.backend, self.dtypes):
                yield ConformanceItem.from_parent(self, name=f"{op}[{dt}]", backend=self.backend, op=op, dtype=dt)


def pytest_collection_modifyitems(session, config, items) -> None:
    backends = config.getoption("mxplug_backend")
    if not backends:
        return
    import mxplug

    for module in config.getoption("mxplug_load"):
        mxplug.plugins.register_plugin(importlib.import_module(module), module.rpartition(".")[2])
    dtypes = config.getoption("mxplug_dtype") or ["float32"]
    for backend in backends:
        from mxplug.testing.conformance import _context

        _context(backend)  # an unknown backend is a usage error, reported before anything runs
        collector = ConformanceCollector.from_parent(session, name=f"mxplug-conformance[{backend}]",
                                                     backend=backend, dtypes=dtypes,
                                                     ops=config.getoption("mxplug_op"))
        items.extend(collector.collect())


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _REPORTS:
        return
    from mxplug.testing.conformance import Report

    for backend, results in _REPORTS.items():
        terminalreporter.section(f"mxplug conformance: backend '{backend}'")
        terminalreporter.write_line(Report(backend, results).table())
