"""The layering contracts (``.importlinter``) hold, and a broken arrow is caught."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(config), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_layering_contract_is_kept() -> None:
    result = _lint(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_arrow_fails_the_check(tmp_path: Path) -> None:
    # The engine does import the domain: a contract forbidding that arrow must fail,
    # which shows the checker sees the real import graph.
    config = tmp_path / "broken.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    loancollect\n\n"
        "[importlinter:contract:inverted]\nname = inverted\ntype = forbidden\n"
        "source_modules =\n    loancollect.engine.deciding\n"
        "forbidden_modules =\n    loancollect.domain.decision\n",
        encoding="utf-8",
    )
    result = _lint(config)
    assert result.returncode != 0
    assert "inverted BROKEN" in result.stdout
    assert "loancollect.engine.deciding -> loancollect.domain.decision" in result.stdout
