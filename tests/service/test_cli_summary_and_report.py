"""The run summary and the report count the same things with the same numbers.

Runs ``loancollect run`` in-process over several days on a SQLite file, with the
engine's clock pinned at each run's instant, then ``loancollect report`` over those
days; both outputs are parsed as an operator reads them. One day is reviewed in
the afternoon in Beijing and sent in the evening, when the texts may no longer go
out: the send is rescheduled, and a borrower's opt-out recorded in between blocks
another, both judged at the instant of sending. A gateway on 127.0.0.1 refuses
every text, so the texts fail and fall back to e-mail.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner, Result

import loancollect.cli as cli
from loancollect.cli import main
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.registry import open_storage
from loancollect.testing import FixedClock

BORROWERS = """\
id,kind,name,jurisdiction,time_zone,locale,phone,email,address
B1,individual,Wang Fang,CN,Asia/Shanghai,zh_CN,+86 138 0013 8000,wang@example.com,1 Renmin Road
B2,individual,Alex Rivera,US,America/New_York,en_US,+1 212 555 0100,alex@example.com,
"""
LOANS = """\
id,borrower_id,currency,principal,annual_rate,disbursement_date,term,method,product
L1,B1,CNY,12000.00,0.12,2025-01-15,12,equal_installment,consumer
L2,B2,USD,6000.00,0.10,2025-01-15,12,equal_installment,consumer
"""
# A text the day after the due date (falling back to e-mail when it fails for good),
# then an e-mail every other day from the fourth day past due.
POLICY = """\
[policy]
name = "counts"

[[stages]]
name = "overdue_confirmation"
rank = 1
[stages.entry]
min_dpd = 1

[[stages]]
name = "early_collection"
rank = 2
[stages.entry]
min_dpd = 4

[[strategies]]
name = "counts"

[[strategies.actions]]
id = "confirm.sms"
stage = "overdue_confirmation"
channel = "sms"
template = "overdue_notice"
fallbacks = ["email"]

[[strategies.actions]]
id = "early.email"
stage = "early_collection"
channel = "email"
template = "firm_reminder"
tone = "firm"
every_days = 2
"""
DUE = dt.date(2025, 2, 15)
"""Both loans' first instalment, never paid."""
SHARED = (
    "stage changes",
    "actions planned",
    "actions sent",
    "actions failed",
    "actions blocked",
    "actions rescheduled",
)
"""The counts the summary and the report both show."""


def invoke(*args: str | Path) -> Result:
    """Run the command in-process with a wide terminal; never let exceptions escape."""
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def table(output: str, title: str) -> dict[str, int]:
    """The rows ``measure │ count`` of the table titled ``title…`` in ``output``."""
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(title))
    rows: dict[str, int] = {}
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            break
        if line.startswith("│"):
            name, count = (cell.strip() for cell in line.strip("│").split("│"))
            rows[name] = int(count.replace(",", ""))
    assert rows, output
    return rows


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The instant every ``run`` works at (``run`` would read the wall clock)."""
    fixed = FixedClock(pendulum.datetime(2025, 2, 16, 13, 30, tz="UTC"))
    monkeypatch.setattr(cli, "CollectionEngine", functools.partial(CollectionEngine, clock=fixed))
    return fixed


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite file made by ``migrate``, holding the two borrowers and their loans."""
    url = f"sqlite:///{(tmp_path / 'counts.db').as_posix()}"
    assert invoke("migrate", "--db", url).exit_code == 0
    files = []
    for name, text in (("borrowers.csv", BORROWERS), ("loans.csv", LOANS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        files.append(tmp_path / name)
    result = invoke("import", "--db", url, "--review-on", str(DUE), *files)
    assert result.exit_code == 0, result.output
    return url


def test_every_count_the_summary_and_the_report_share_is_equal(
    database: str, clock: FixedClock, refusing_gateway: str, tmp_path: Path
) -> None:
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    mail = tmp_path / "mail"
    (tmp_path / "channels.toml").write_text(
        f'[sms]\nurl = "{refusing_gateway}"\n'
        f'[email]\nmode = "file"\ndir = "{mail.as_posix()}"\nfrom = "ops@lender.example"\n',
        encoding="utf-8",
    )
    common = (
        *("--db", database, "--policy", tmp_path / "policy.toml"),
        *("--channels", tmp_path / "channels.toml", "--placeholder-lender"),
    )

    def run(day: dt.date, hour: int, minute: int, *extra: str) -> dict[str, int]:
        clock.set(pendulum.datetime(day.year, day.month, day.day, hour, minute, tz="UTC"))
        result = invoke("run", "--as-of", str(day), *common, *extra)
        assert result.exit_code in (0, 1), result.output  # 1: a text failed for good
        return table(result.output, "Cycle summary")

    summaries: list[dict[str, int]] = []
    first = DUE + dt.timedelta(days=1)
    # 13:30 UTC: 21:30 in Beijing, 08:30 in New York: both may be contacted. The day is
    # reviewed only; the texts wait in the outbox.
    summaries.append(run(first, 13, 30, "--no-dispatch"))
    assert summaries[-1]["actions planned"] == 2
    # Meanwhile the American borrower asks for no more texts.
    pm = make_plugin_manager(load_entrypoints=True)
    storage = open_storage(pm, database)
    CollectionEngine(pm=pm, storage=storage).record_opt_out(
        "L2", "sms", first, at=pendulum.datetime(2025, 2, 16, 14, tz="UTC")
    )
    # 14:30 UTC: 22:30 in Beijing. Judged again at the instant of sending, the Chinese
    # text must wait for the morning and the American one may not be sent at all.
    summaries.append(run(first, 14, 30))
    assert summaries[-1]["actions rescheduled"] == 1
    assert summaries[-1]["actions blocked"] == 1
    assert summaries[-1]["actions sent"] == 0
    # The next days in the afternoon (Beijing) and morning (New York): the waiting text
    # fails at the gateway and falls back to an e-mail; then the e-mails of early
    # collection.
    for offset in range(2, 7):
        summaries.append(run(DUE + dt.timedelta(days=offset), 13, 0))
    last = DUE + dt.timedelta(days=6)

    result = invoke("report", "--db", database, "--from", str(first), "--to", str(last))
    assert result.exit_code == 0, result.output
    report = table(result.output, "Collection activity")

    total: Counter[str] = Counter()
    for summary in summaries:
        total.update(summary)
    assert set(SHARED) <= set(report) & set(total)
    assert {name: report[name] for name in SHARED} == {name: total[name] for name in SHARED}
    # Every kind of count happened, so every comparison above could have failed.
    assert all(total[name] > 0 for name in SHARED), total
    assert total["actions failed"] >= 1
    assert list(mail.glob("*.eml"))  # the fallback and the early-collection e-mails
