"""The README's usage example runs and prints what its comment says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_example_runs(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None
    code = block.group(1).replace("sqlite:///collect.db", f"sqlite:///{tmp_path / 'c.db'}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "10 M1 关注 CNY 1,050.73"
    assert "reviewed=1" in lines[1]


def test_the_readme_gives_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "bash scripts/demo.sh" in text
    assert "bash scripts/test.sh" in text
