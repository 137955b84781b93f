"""The demo trains on its first months and scores the challenger; ``loancollect train``."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner, Result

from loancollect.cli import main


def test_the_demo_trains_then_reports_the_lift(demo_run: tuple[Path, Result]) -> None:
    out, result = demo_run
    text = " ".join(result.output.split())
    assert "scoring: model collect-" in text
    assert (out / "scoring" / "model" / "card.md").exists()
    with (out / "report" / "scoring_lift.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["model"] for r in rows} == {"scorecard", "boosted"}
    assert all(r["AUC"] != "—" for r in rows)
    with (out / "report" / "scoring_use.csv").open(encoding="utf-8") as fh:
        (use,) = list(csv.DictReader(fh))
    assert int(use["cases scored"]) > 0


def test_train_prints_the_card_and_writes_the_models(
    demo_run: tuple[Path, Result], tmp_path: Path
) -> None:
    out, _ = demo_run
    db = f"sqlite:///{(out / 'loancollect.db').as_posix()}"
    args = ["train", "--db", db, "--from", "2025-01-01", "--to", "2025-04-30"]
    result = CliRunner().invoke(
        main, [*args, "--split", "2025-03-05", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    assert "# Model card collect-" in result.output
    assert (tmp_path / "m" / "paid_30.boosted.skops").exists()


def test_train_with_a_bad_date_names_the_option(
    demo_run: tuple[Path, Result], tmp_path: Path
) -> None:
    out, _ = demo_run
    db = f"sqlite:///{(out / 'loancollect.db').as_posix()}"
    args = ["train", "--db", db, "--from", "2025-13-01", "--to", "2025-04-30"]
    result = CliRunner().invoke(
        main, [*args, "--split", "2025-03-05", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "--from" in result.output
    assert "is not a date" in result.output
