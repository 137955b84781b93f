"""The report's phone table, and the demo's simulated collectors working the queue."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner
from loancollect_phone import CallRecord, Disposition
from loancollect_phone.report import rates_by_hour
from phone_helpers import CN_LOAN, US_LOAN, Desk, at_local

import loancollect.cli as cli
from loancollect.domain.events import EventKind


def test_rates_by_hour_count_contacts_right_parties_and_promises_at_the_borrowers_hour(
    desk: Desk,
) -> None:
    calls = [
        (CN_LOAN, 10, Disposition.NO_ANSWER),
        (CN_LOAN, 10, Disposition.THIRD_PARTY),
        (CN_LOAN, 10, Disposition.REFUSAL),
        (US_LOAN, 10, Disposition.BUSY),  # 10:00 in Los Angeles, not in Shanghai
        (US_LOAN, 14, Disposition.RIGHT_PARTY),
    ]
    for n, (loan, hour, disposition) in enumerate(calls):
        desk.desk.record(
            CallRecord(call=f"c{n}", loan_id=loan, disposition=disposition, at=at_local(loan, hour))
        )
    with desk.store() as uow:
        events = [e for loan in (CN_LOAN, US_LOAN) for e in uow.events.stream(loan)]
    assert sum(e.kind is EventKind.CALL_REVIEWED for e in events) == 5
    table = rates_by_hour(events, desk.store)
    assert table.name == "phone_rates_by_hour"
    assert table.rows == (
        ("10:00", "4", "50.0%", "25.0%", "0.0%"),
        ("14:00", "1", "100.0%", "100.0%", "0.0%"),
        ("all", "5", "60.0%", "40.0%", "0.0%"),
    )


def test_the_demo_places_calls_through_the_queue_and_reports_the_rates(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["demo", "--loans", "30", "--days", "30", "--seed", "3", "--out", str(out)]
    result = runner.invoke(cli.main, args)
    assert result.exit_code in (0, 1), result.output
    assert "phone: " in result.output
    assert "simulated collectors" in result.output
    with (out / "report" / "phone_rates_by_hour.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["hour", "calls", "contact rate", "RPC rate", "promise rate"]
    total = rows[-1]
    assert total[0] == "all"
    assert int(total[1]) > 0
    hours = [int(r[0][:2]) for r in rows[1:-1]]
    # the packs' calling windows: nobody is called before 08:00 or after 21:00 local
    assert hours
    assert min(hours) >= 8
    assert max(hours) < 21
