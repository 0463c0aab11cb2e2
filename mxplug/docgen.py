"""docs/operators.md, rendered from the operator registry (never edited by hand).

    python -m mxplug.docgen            print the rendered page
    python -m mxplug.docgen --write    write it to docs/operators.md in the source tree

Kernel coverage is that of the in-repository NumPy backend (`mxplug_numpy`), read from its kernel table
rather than from whatever plugins happen to be installed, so the page is the same on every machine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["render_operators_md", "format_default", "DOC_PATH", "main"]

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "operators.md"


def format_default(value: Any) -> Any:
    """An attribute default as a JSON-able value: a dtype by name, a tuple as MXNet's string form '(3, 3)'."""
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return repr(value)


def _default_text(spec) -> str:
    if spec.required:
        return "required"
    if isinstance(spec.default, str):
        return repr(spec.default)
    return str(format_default(spec.default))


def _cell(text: str) -> str:
    """Escape a table cell (enum kinds contain '|')."""
    return text.replace("|", "\\|").replace("\n", " ")


def _numpy_kernels() -> set[str]:
    from mxplug_numpy.kernels import make_all_kernels

    return set(make_all_kernels(np))


def _inputs_text(schema) -> str:
    if not schema.inputs:
        return "none"
    parts = []
    for name in schema.inputs:
        mark = "*" if name == schema.variadic else ""
        opt = "?" if name in schema.optional_inputs else ""
        nondiff = " (no gradient)" if name in schema.nondiff_inputs else ""
        parts.append(f"`{mark}{name}{opt}`{nondiff}")
    return ", ".join(parts)


def _gradient_text(schema, rules, composite: bool) -> str:
    if composite:
        return "through its constituent operators"
    if not schema.differentiable:
        return "no (not differentiable)"
    return "yes" if rules.gradient is not None else "**missing**"


def _numpy_text(name: str, composite: bool, kernels: set[str]) -> str:
    if composite:
        return "composite (no kernel needed)"
    return "yes" if name in kernels else "**missing**"


def _operator_section(schema, kernels: set[str]) -> list[str]:
    from .ops import rules as rules_of

    rules = rules_of(schema.name)
    composite = schema.composite or rules.composite is not None
    lines = [f"### `{schema.name}`", "", schema.doc, ""]
    facts = []
    if schema.aliases:
        facts.append("aliases: " + ", ".join(f"`{a}`" for a in schema.aliases))
    if schema.internal:
        facts.append("internal (`mx.nd._internal`)")
    facts.append("inputs: " + _inputs_text(schema))
    if schema.outputs != ("output",):
        facts.append("outputs: " + ", ".join(f"`{o}`" for o in schema.outputs))
    facts.append("gradient: " + _gradient_text(schema, rules, composite))
    facts.append("NumPy kernel: " + _numpy_text(schema.name, composite, kernels))
    lines += [f"- {f}" for f in facts] + [""]
    if schema.attrs:
        lines += ["| attribute | kind | default |", "|---|---|---|"]
        for name, spec in schema.attrs.items():
            lines.append(f"| `{name}` | {_cell(spec.describe())} | {_cell(_default_text(spec))} |")
        lines.append("")
    return lines


def render_operators_md() -> str:
    """The whole of docs/operators.md."""
    from .ops import rules as rules_of
    from .registry import all_ops

    kernels = _numpy_kernels()
    families: dict[str, list] = {}
    for schema in all_ops().values():
        families.setdefault(schema.family, []).append(schema)
    out = [
        "# Operators",
        "",
        "<!-- Generated from registry/*.toml by `python -m mxplug.docgen --write`; do not edit. -->",
        "",
        "Every operator mxplug knows, by family, as declared in `registry/<family>.toml`: MXNet's name and",
        "aliases, inputs (`x?` optional, `*x` variadic), typed attributes with their defaults, whether it",
        "has a gradient, and whether the in-repository NumPy backend (`mxplug-numpy`) has a kernel for it.",
        "`mxplug ops` shows the same coverage for every installed backend.",
        "",
        "| family | operators | NumPy kernels | composites |",
        "|---|---|---|---|",
    ]
    for family in sorted(families):
        schemas = families[family]
        comp = [s for s in schemas if s.composite or rules_of(s.name).composite is not None]
        native = sum(1 for s in schemas if s.name in kernels and s not in comp)
        out.append(f"| [{family}](#{family}) | {len(schemas)} | {native} | {len(comp)} |")
    out.append("")
    for family in sorted(families):
        out += [f"## {family}", ""]
        for schema in sorted(families[family], key=lambda s: s.name.lower()):
            out += _operator_section(schema, kernels)
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mxplug.docgen", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC_PATH} instead of printing")
    args = parser.parse_args(argv)
    text = render_operators_md()
    if args.write:
        if not DOC_PATH.parent.is_dir():
            print(f"docgen: {DOC_PATH.parent} does not exist (run from a source checkout)", file=sys.stderr)
            return 1
        DOC_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {DOC_PATH}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
