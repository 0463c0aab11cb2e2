"""The python code blocks of the user guides run, in order, each guide in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDES = ["neural-networks.md"]


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_code_blocks_run(guide, capsys):
    text = (DOCS / guide).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"{guide} has no python examples"
    namespace = {"__name__": f"docs_{guide}"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{guide} block {i}", "exec"), namespace)  # noqa: S102
