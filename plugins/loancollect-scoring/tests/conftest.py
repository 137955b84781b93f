"""A demo's history, once per session: what the models learn from."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from loancollect.cli import main
from loancollect.plugins import make_plugin_manager
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import open_storage

LOANS, DAYS = 220, 120


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The demo with this plug-in installed: it trains half-way and scores the challenger."""
    base = tmp_path_factory.mktemp("scoring-demo")
    args = ["demo", "--loans", str(LOANS), "--days", str(DAYS), "--seed", "11"]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, [*args, "--out", str(base / "out")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return base / "out", result


@pytest.fixture(scope="session")
def history(demo_run: tuple[Path, Result]) -> UnitOfWorkFactory:
    """The demo's store."""
    out, _ = demo_run
    url = f"sqlite:///{(out / 'loancollect.db').as_posix()}"
    return open_storage(make_plugin_manager(load_entrypoints=True), url)
