"""The ``mxplug`` command: what is installed, what each backend covers, and why a kernel was chosen.

    mxplug plugins [--json] [--verbose]           each plugin: version, status, backends, devices, kernels
    mxplug ops [--backend NAME] [--missing] [--json]
                                                  every operator and, per backend, native/composite/missing
    mxplug explain OP [--ctx cpu:0] [--dtype float32]
                                                  which kernel would run OP, and why (or how it falls back)
    mxplug check-backend NAME [--op OP] [--dtype D] [--load MODULE] [--json]
                                                  the conformance kit: every operator NAME has kernels for,
                                                  forward and gradient, as a pass/fail table (exit 1 on FAIL)

Exit status: 0 on success, 2 for usage errors, 1 when mxplug reports an error (the message goes to stderr,
without a traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .base import MXNetError
from .registry import DTYPES

__all__ = ["main", "plugin_report", "operator_report"]

NATIVE, COMPOSITE, MISSING = "native", "composite", "missing"


# -- data (shared by the text and JSON forms) ----------------------------------------------------------
def _backend_report(backend) -> dict[str, Any]:
    try:
        devices = backend.device_names() if backend.available else []
        device_error = ""
    except Exception as e:  # a plugin's device query failing must not hide the rest of the report
        devices, device_error = [], f"{type(e).__name__}: {e}"
    return {
        "name": backend.name,
        "device_type": backend.device_type,
        "available": bool(backend.available),
        "reason": backend.reason or "",
        "devices": devices,
        "device_error": device_error,
    }


def plugin_report() -> list[dict[str, Any]]:
    """Every plugin the manager knows (loaded, failed, refused or disabled), as plain data."""
    from .plugins import manager

    m = manager()
    report = []
    for info in sorted(m.plugins.values(), key=lambda i: i.name):
        backends = [m.backend_named(name) for name in info.backends]
        report.append({
            "name": info.name,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
            "status": info.status,
            "error": info.error,
            "traceback": info.traceback,
            "kernels": info.kernels,
            "operators": info.operators,
            "backends": [_backend_report(b) for b in backends if b is not None],
        })
    return report


def _coverage(name: str, composite: bool, backends: Sequence[str]) -> dict[str, str]:
    from .dispatch import backends_with_kernel

    have = backends_with_kernel(name)
    return {b: COMPOSITE if composite else (NATIVE if b in have else MISSING) for b in backends}


def _attr_report(spec) -> dict[str, Any]:
    from .docgen import format_default

    out: dict[str, Any] = {"kind": spec.describe(), "required": spec.required}
    if not spec.required:
        out["default"] = format_default(spec.default)
    return out


def operator_report(backends: Sequence[str]) -> list[dict[str, Any]]:
    """Every registered operator with its signature and, per backend name, native/composite/missing."""
    from .ops import rules
    from .registry import all_ops

    report = []
    for name, schema in sorted(all_ops().items(), key=lambda kv: kv[0].lower()):
        composite = schema.composite or rules(name).composite is not None
        report.append({
            "name": name,
            "aliases": list(schema.aliases),
            "family": schema.family,
            "internal": schema.internal,
            "composite": composite,
            "differentiable": schema.differentiable,
            "inputs": [
                ("*" if i == schema.variadic else "") + i + ("?" if i in schema.optional_inputs else "")
                for i in schema.inputs
            ],
            "attrs": {a: _attr_report(s) for a, s in schema.attrs.items()},
            "outputs": list(schema.outputs),
            "doc": schema.doc,
            "kernels": _coverage(name, composite, backends),
        })
    return report


# -- text rendering ------------------------------------------------------------------------------------
def _rows(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _describe_backend(b: dict[str, Any]) -> str:
    head = f"backend '{b['name']}' for device type '{b['device_type']}': "
    if not b["available"]:
        return head + "unavailable" + (f" ({b['reason']})" if b["reason"] else "")
    if b["device_error"]:
        return head + f"available; listing devices failed: {b['device_error']}"
    return head + "available; devices: " + (", ".join(b["devices"]) or "none")


def _print_plugins(report: list[dict[str, Any]], verbose: bool, out) -> None:
    if not report:
        print("no mxplug plugins installed (pip install mxplug-numpy gives mx.cpu() its backend)", file=out)
        return
    rows = [["PLUGIN", "DISTRIBUTION", "VERSION", "STATUS", "KERNELS"]]
    rows += [[p["name"], p["distribution"] or "-", p["version"] or "-", p["status"], str(p["kernels"])]
             for p in report]
    header, *lines = _rows(rows)
    print(header, file=out)
    for line, plugin in zip(lines, report, strict=True):
        print(line, file=out)
        for b in plugin["backends"]:
            print("    " + _describe_backend(b), file=out)
        if plugin["error"]:
            print(f"    {plugin['status']}: {plugin['error']}", file=out)
        if verbose and plugin["traceback"]:
            for tb_line in plugin["traceback"].rstrip().splitlines():
                print("      " + tb_line, file=out)


def _print_ops(report: list[dict[str, Any]], backends: Sequence[str], missing: bool, out) -> None:
    if not report:
        print(f"every operator has a kernel on {', '.join(backends)}" if missing else "no operators", file=out)
        return
    rows = [["OPERATOR", "ALIASES", "FAMILY", *[b.upper() for b in backends]]]
    for op in report:
        rows.append([op["name"], ", ".join(op["aliases"]) or "-", op["family"],
                     *[op["kernels"][b] for b in backends]])
    print("\n".join(_rows(rows)), file=out)


# -- commands ------------------------------------------------------------------------------------------
def _cmd_plugins(args) -> int:
    report = plugin_report()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_plugins(report, args.verbose, sys.stdout)
    return 0


def _cmd_ops(args) -> int:
    from .plugins import manager

    installed = sorted(b.name for b in manager().backends.values())
    if args.backend is not None and args.backend not in installed:
        args.parser.error(f"unknown backend '{args.backend}' (installed backends: {', '.join(installed) or 'none'})")
    backends = [args.backend] if args.backend else installed
    report = operator_report(backends)
    if args.missing:
        report = [op for op in report if MISSING in op["kernels"].values()]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_ops(report, backends, args.missing, sys.stdout)
    return 0


def _cmd_explain(args) -> int:
    from .dispatch import explain

    print(explain(args.op, args.ctx, args.dtype))
    return 0


def _cmd_check_backend(args) -> int:
    import importlib

    from .plugins import register_plugin
    from .testing.conformance import check_backend

    for module in args.load:
        register_plugin(importlib.import_module(module), module.rpartition(".")[2])
    report = check_backend(args.backend, ops=args.op or None, dtypes=args.dtype or ("float32",))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.table())
    return 0 if report.passed else 1


def _context(text: str):
    """'cpu', 'cpu:0', 'opencl:1' or 'gpu(1)' → Context (argparse type)."""
    from .context import Context

    dev, sep, idx = text.strip().rstrip(")").replace("(", ":").partition(":")
    try:
        index = int(idx) if sep else 0
    except ValueError:
        index = -1
    if not dev.isidentifier() or index < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a context of the form TYPE[:INDEX], e.g. cpu:0")
    return Context(dev, index)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mxplug", description="Inspect mxplug's plugins, operators and kernel dispatch."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plugins", help="list plugins, their backends, devices and status")
    p.add_argument("--json", action="store_true", help="machine-readable output (includes tracebacks)")
    p.add_argument("-v", "--verbose", action="store_true", help="show the traceback of failed plugins")
    p.set_defaults(func=_cmd_plugins, parser=p)

    p = sub.add_parser("ops", help="list operators and their kernel coverage per backend")
    p.add_argument("--backend", metavar="NAME", help="only this backend (e.g. numpy)")
    p.add_argument("--missing", action="store_true",
                   help="only operators without a kernel (on --backend, else on any installed backend)")
    p.add_argument("--json", action="store_true", help="machine-readable output (includes signatures)")
    p.set_defaults(func=_cmd_ops, parser=p)

    p = sub.add_parser("explain", help="say which kernel would run an operator, and why")
    p.add_argument("op", metavar="OP", help="operator name or alias")
    p.add_argument("--ctx", type=_context, default="cpu", help="context: cpu, cpu:0, opencl:1 (default cpu)")
    p.add_argument("--dtype", default="float32", choices=list(DTYPES), help="input dtype (default float32)")
    p.set_defaults(func=_cmd_explain, parser=p)

    p = sub.add_parser("check-backend", help="run the conformance kit on a backend: forward and gradients of "
                                             "every operator it has kernels for")
    p.add_argument("backend", metavar="NAME", help="backend name, as `mxplug plugins` shows it (e.g. numpy)")
    p.add_argument("--op", action="append", default=[], help="only this operator (repeatable)")
    p.add_argument("--dtype", action="append", default=[], choices=list(DTYPES),
                   help="dtype to check (repeatable; default float32)")
    p.add_argument("--load", action="append", default=[], metavar="MODULE",
                   help="register this module as a plugin first (one not installed yet)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_check_backend, parser=p)

    # Listed for --help; `main` hands its arguments to mxplug.bench untouched.
    sub.add_parser("bench", help="quick side-by-side timings against NumPy and PyTorch (mxplug bench --help)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 mxplug error, 2 usage error)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        from .bench import main as bench_main

        return bench_main(argv[1:])
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as e:  # argparse's usage errors and --help
        return e.code if isinstance(e.code, int) else 2
    except MXNetError as e:
        print(f"mxplug: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `mxplug ops | head`: silence the flush at exit (Python's documented recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
