"""The code blocks of docs/symbol.md run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "symbol.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_docs_block_runs(code, capsys):
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_symbol"})  # noqa: S102


def test_module_doctests():
    import doctest

    import mxplug.attribute
    import mxplug.executor
    import mxplug.model
    import mxplug.name
    import mxplug.symbol.symbol
    import mxplug.testing.symbolic

    for mod in (mxplug.attribute, mxplug.executor, mxplug.model, mxplug.name, mxplug.symbol.symbol,
                mxplug.testing.symbolic):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, mod.__name__
