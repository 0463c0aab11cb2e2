"""docs/operators.md is generated from the registry and kept in sync with it."""

from __future__ import annotations

import textwrap

import pytest

from mxplug import docgen, registry

FAKE = """
[alpha]
aliases = ["a1", "a2"]
inputs = ["data", "mask?", "*rest"]
nondiff_inputs = ["mask"]
attrs = { mode = "enum(clip|wrap) = clip", shape = "shape = (1, 2)", dtype = "dtype = float32", n = "int" }
doc = "First operator."

[_beta]
inputs = []
internal = true
differentiable = false
attrs = { label = "str = ''", scale = "float? = None" }
outputs = ["out", "idx"]
doc = "Second operator."

[gamma]
inputs = ["x"]
composite = true
doc = "A composite."
"""


def _fake_registry(tmp_path, monkeypatch, kernels: set[str]):
    (tmp_path / "fam.toml").write_text(textwrap.dedent(FAKE))
    schemas, _ = registry.load_registry(tmp_path)
    monkeypatch.setattr(registry, "all_ops", lambda: schemas)
    monkeypatch.setattr(docgen, "_numpy_kernels", lambda: kernels)


def test_operators_md_is_up_to_date():
    expected = docgen.render_operators_md()
    actual = docgen.DOC_PATH.read_text(encoding="utf-8") if docgen.DOC_PATH.exists() else ""
    if actual != expected:
        old, new = actual.splitlines(), expected.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b),
                     min(len(old), len(new)))
        pytest.fail(f"docs/operators.md is out of date (first difference at line {first + 1}): "
                    "run python -m mxplug.docgen --write", pytrace=False)


def test_every_operator_has_a_section():
    text = docgen.render_operators_md()
    for name, schema in registry.all_ops().items():
        assert f"\n### `{name}`\n\n{schema.doc}\n" in text
    for family in {s.family for s in registry.all_ops().values()}:
        assert f"\n## {family}\n" in text


def test_rendering_of_an_entry(tmp_path, monkeypatch):
    _fake_registry(tmp_path, monkeypatch, {"alpha"})
    text = docgen.render_operators_md()
    assert "| [fam](#fam) | 3 | 1 | 1 |" in text
    alpha = text[text.index("### `alpha`"):text.index("### `gamma`")]
    assert alpha == textwrap.dedent("""\
        ### `alpha`

        First operator.

        - aliases: `a1`, `a2`
        - inputs: `data`, `mask?` (no gradient), `*rest`
        - gradient: **missing**
        - NumPy kernel: yes

        | attribute | kind | default |
        |---|---|---|
        | `mode` | enum(clip\\|wrap) | 'clip' |
        | `shape` | shape | (1, 2) |
        | `dtype` | dtype | float32 |
        | `n` | int | required |

        """)
    beta = text[text.index("### `_beta`"):text.index("### `alpha`")]
    assert "- internal (`mx.nd._internal`)\n- inputs: none\n- outputs: `out`, `idx`\n" in beta
    assert "- gradient: no (not differentiable)\n- NumPy kernel: **missing**\n" in beta
    assert "| `label` | str | '' |\n| `scale` | float? | None |" in beta
    gamma = text[text.index("### `gamma`"):]
    assert "- gradient: through its constituent operators\n- NumPy kernel: composite (no kernel needed)\n" in gamma
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_main_prints_and_writes(tmp_path, monkeypatch, capsys):
    _fake_registry(tmp_path, monkeypatch, set())
    assert docgen.main([]) == 0
    printed = capsys.readouterr().out
    assert printed == docgen.render_operators_md()
    target = tmp_path / "docs" / "operators.md"
    monkeypatch.setattr(docgen, "DOC_PATH", target)
    assert docgen.main(["--write"]) == 1  # no docs/ directory: not a source checkout
    target.parent.mkdir()
    assert docgen.main(["--write"]) == 0
    assert target.read_text(encoding="utf-8") == printed
