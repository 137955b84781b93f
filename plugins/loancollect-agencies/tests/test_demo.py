"""The agencies' demo part: cases are placed with two agencies that work them through
the API, and the engine leaves placed cases alone."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from click.testing import CliRunner
from loancollect_agencies.files import verify

from loancollect.cli import main
from loancollect.domain.events import CasePlaced, EventKind
from loancollect.plugins import make_plugin_manager
from loancollect.registry import open_storage


def test_the_demo_places_cases_with_two_agencies_that_work_them_through_the_api(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    db = f"sqlite:///{(tmp_path / 'demo.db').as_posix()}"
    args = ["demo", "--loans", "30", "--days", "20", "--seed", "3", "--db", db, "--out", str(out)]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, args)
    assert result.exit_code == 0, result.output
    line = " ".join(result.output.split())
    found = re.search(r"agencies: placed (\d+), .* API calls (\d+) \((\d+) refused\)", line)
    assert found is not None, line
    placed, calls, refused = (int(g) for g in found.groups())
    assert placed > 0
    assert calls > 0
    assert refused == 0
    assert "Agencies: league table by placement vintage" in line
    assert (out / "report" / "agencies_league.csv").exists()
    manifests = sorted((out / "agencies").glob("agency-*/placements-*.manifest.json"))
    assert {m.parent.name for m in manifests} == {"agency-a", "agency-b"}
    for manifest in manifests:
        assert verify(manifest.parent, manifest.name).rows > 0
    storage = open_storage(make_plugin_manager(load_entrypoints=True), db)
    with storage() as uow:
        placed_loans = 0
        for loan_id in uow.loans.list_ids(limit=None):
            stream = uow.events.stream(loan_id)
            spans: list[tuple[dt.date, dt.date]] = []
            for e in stream:
                if e.kind is EventKind.CASE_PLACED:
                    payload = e.payload
                    assert isinstance(payload, CasePlaced)
                    assert payload.until is not None
                    spans.append((e.on, payload.until))
                elif e.kind is EventKind.CASE_RECALLED:  # recalled before the day's cycle
                    start, until = spans[-1]
                    spans[-1] = (start, min(until, e.on - dt.timedelta(days=1)))
            placed_loans += bool(spans)
            for e in stream:
                if e.kind is EventKind.ACTION_SENT:
                    assert not any(s <= e.on <= u for s, u in spans), (loan_id, e.on)
    assert placed_loans == placed
