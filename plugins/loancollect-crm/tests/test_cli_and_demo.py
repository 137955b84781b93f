"""``loancollect crm sync`` on a SQLite record, and the plug-in's part in the demo."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from crm_helpers import DAY, salesforce_counts
from loancollect_crm.standins.salesforce import SalesforceStandIn

from loancollect import registry
from loancollect.cli import main
from loancollect.domain.events import ActionSent, new_event
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.templates import TemplateCatalog
from loancollect.testing import make_borrower, make_loan


def sqlite_record(path: Path, loans: int) -> str:
    url = f"sqlite:///{path.as_posix()}"
    pm = make_plugin_manager(load_entrypoints=True)
    storage = registry.open_storage(pm, url)
    migrate = getattr(storage, "migrate", None)
    if migrate is not None:
        migrate()
    engine = CollectionEngine(
        pm=pm, storage=storage, templates=TemplateCatalog(()), validate_templates=False
    )
    built = [make_loan(id=f"L-{i}", borrower=make_borrower(id=f"B-{i}")) for i in range(loans)]
    engine.add_loans(built, review_on=DAY)
    with storage() as uow:
        for loan in built:
            sent = ActionSent(key=f"{loan.id}:sms", channel="sms", rule="remind", attempts=1)
            uow.events.append([new_event(sent, loan_id=loan.id, on=DAY)])
        uow.commit()
    return url


def test_crm_sync_backfills_then_reports_everything_unchanged(
    tmp_path: Path, salesforce: SalesforceStandIn
) -> None:
    url = sqlite_record(tmp_path / "collect.db", 3)
    runner = CliRunner(env={"LOANCOLLECT_CRM_TOKEN": salesforce.token})
    args = [
        "crm",
        "sync",
        "--db",
        url,
        "--crm",
        "salesforce",
        "--url",
        salesforce.url,
        "--state",
        str(tmp_path / "state.sqlite"),
        "--as-of",
        "2025-03-01",
    ]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "9 created, 0 updated, 0 unchanged, 0 conflicting" in first.output
    again = runner.invoke(main, args)
    assert "0 created, 0 updated, 9 unchanged" in again.output
    assert salesforce_counts(salesforce) == {"contact": 3, "case": 3, "activity": 3, "task": 0}
    assert salesforce.token not in first.output + again.output


def test_crm_sync_without_the_token_says_which_variable_to_set(tmp_path: Path) -> None:
    result = CliRunner(env={"LOANCOLLECT_CRM_TOKEN": ""}).invoke(
        main,
        [
            "crm",
            "sync",
            "--db",
            "memory:",
            "--crm",
            "salesforce",
            "--url",
            "http://127.0.0.1:9",
            "--state",
            str(tmp_path / "s.sqlite"),
        ],
    )
    assert result.exit_code != 0
    assert "LOANCOLLECT_CRM_TOKEN" in result.output


@pytest.mark.filterwarnings("ignore")
def test_the_demo_syncs_a_stand_in_crm_and_reports_its_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main,
        [
            "demo",
            "--loans",
            "12",
            "--days",
            "8",
            "--seed",
            "3",
            "--out",
            str(out),
            "--db",
            f"sqlite:///{(tmp_path / 'demo.db').as_posix()}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "crm: " in result.output
    assert "refused as conflicts" in result.output
    with (out / "report" / "crm_sync.csv").open(encoding="utf-8", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert int(row["contacts"]) == 12
    assert int(row["cases"]) == 12
    assert int(row["inbound applied"]) >= 3
    assert int(row["inbound refused"]) == 1
    assert int(row["inbound pending"]) == 0
