"""The one multi-process runner: a worker killed with SIGKILL is reported; the rest finish.

The workers share a SQLite file (the storage plug-in is part of this repository's test set).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loancollect.engine.intake import Intake
from loancollect.engine.workers import WorkerSpec, run_workers
from loancollect.plugins import make_plugin_manager
from loancollect.registry import open_storage
from loancollect.testing import make_borrower, make_loan

DAY = dt.date(2025, 3, 20)
LOANS = 40


def test_a_worker_killed_with_sigkill_is_reported_and_the_others_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    storage = open_storage(make_plugin_manager(load_entrypoints=True), url)
    loans = [make_loan(id=f"L-{i}", borrower=make_borrower(id=f"B-{i}")) for i in range(12)]
    Intake(storage=storage, notify=lambda events: None).add_loans(loans, review_on=DAY)
    monkeypatch.setenv("LOANCOLLECT_FAULT_DIR", str(tmp_path))
    monkeypatch.setenv("LOANCOLLECT_NOW", "2025-03-20T10:00:00+08:00")
    spec = WorkerSpec(
        url=url,
        as_of=DAY,
        clock="loancollect.testing.faults:clock_killing_one_worker",
        dispatch=False,
    )
    started = time.monotonic()
    results = run_workers(spec, 2)
    assert time.monotonic() - started < 120  # the parent did not hang on the dead worker
    dead = [r for r in results if not r.ok]
    alive = [r for r in results if r.ok]
    assert len(dead) == 1
    assert dead[0].exit_code == -9
    assert "worker died" in dead[0].error
    assert len(alive) == 1
    assert alive[0].summary.reviewed == len(loans)
    assert (tmp_path / "victim").exists()
    assert os.getpid() not in {r.pid for r in results}


# -- lender profiles in every worker (PostgreSQL) ---------------------------------------
LENDERS = """\
[[lender]]
name = "Example Lending Ltd"
phone = "0800 123 4567"
how_to_pay = "Pay online at example.co.uk/pay quoting your loan number."

[[lender]]
locale = "zh"
name = "示例消费金融有限公司"
phone = "400-800-1234"
how_to_pay = "请通过示例金融App还款，或转账至账户6222 0000 1234 5678并注明借款编号。"
"""
TEXT_POLICY = """\
[policy]
name = "one text"

[[stages]]
name = "overdue_confirmation"
rank = 1
[stages.entry]
min_dpd = 1

[[strategies]]
name = "one text"

[[strategies.actions]]
id = "confirm.sms"
stage = "overdue_confirmation"
channel = "sms"
template = "overdue_notice"
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster (the backend whose workers share a day); without
    PostgreSQL the tests skip, and with ``CI=true`` they fail."""
    from loancollect_sqlalchemy.pgcluster import PostgresNotFoundError, TemporaryPostgres

    try:
        cluster = TemporaryPostgres()
    except PostgresNotFoundError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and PostgreSQL is missing: {exc}")
        pytest.skip(str(exc))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres: Any, request: pytest.FixtureRequest) -> str:
    """A new database of the cluster for each test."""
    return str(postgres.create_database(f"lc_{request.node.name[:40].lower()}"))


def _setup_two_workers(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str
) -> Callable[..., str]:
    """40 Chinese loans due on DAY, the workers' clock and text channel, and the
    lender, policy and channel files in ``tmp_path``; returns the command runner."""
    import sqlalchemy as sa
    from click.testing import CliRunner
    from loancollect_sqlalchemy.testkit import texts_table

    import loancollect.cli as cli
    from loancollect.domain.loans import ContactKind, ContactPoint

    def invoke(*args: str | Path) -> str:
        result = CliRunner(env={"COLUMNS": "200"}).invoke(cli.main, [str(a) for a in args])
        return f"{result.exit_code}: {result.output}"

    assert invoke("migrate", "--db", postgres_url).startswith("0:")
    storage = open_storage(make_plugin_manager(load_entrypoints=True), postgres_url)
    loans = [
        make_loan(
            id=f"L-{i:02}",
            borrower=make_borrower(
                id=f"B-{i:02}",
                contact_points=(ContactPoint(ContactKind.PHONE, f"+86 138 0013 {8000 + i}"),),
            ),
        )
        for i in range(LOANS)
    ]
    Intake(storage=storage, notify=lambda events: None).add_loans(loans, review_on=DAY)
    engine = sa.create_engine(postgres_url)
    texts_table.metadata.create_all(engine)  # before the workers: no race in the catalogue
    engine.dispose()
    # The workers' clock (10:00 in Shanghai, inside the calling hours), small batches
    # and a gateway taking 50 ms a text, so the two workers share the day; the texts
    # go to a table, with the pid of the worker that sent each.
    monkeypatch.setenv("LOANCOLLECT_NOW", "2025-03-20T10:00:00+08:00")
    monkeypatch.setenv("LOANCOLLECT_SENDS_URL", postgres_url)
    monkeypatch.setenv("LOANCOLLECT_SEND_DELAY", "0.05")
    monkeypatch.setattr(
        cli,
        "WorkerSpec",
        functools.partial(
            WorkerSpec,
            clock="loancollect_sqlalchemy.testkit:clock_from_env",
            channels="loancollect_sqlalchemy.testkit:text_channels_from_env",
            batch_size=2,
        ),
    )
    for name, text in (
        ("lenders.toml", LENDERS),
        ("policy.toml", policy),
        ("channels.toml", '[sms]\nurl = "http://127.0.0.1:9/send"\n'),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return invoke


def _texts(postgres_url: str) -> list[tuple[str, int, str]]:
    """``(key, pid, text)`` of every text the workers sent."""
    import sqlalchemy as sa
    from loancollect_sqlalchemy.testkit import texts_table

    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        sent = conn.execute(sa.select(texts_table.c.key, texts_table.c.pid, texts_table.c.text))
        rows = [(key, pid, text) for key, pid, text in sent.all()]
    engine.dispose()
    return rows


def test_two_workers_sign_every_text_with_the_lender_profiles_of_the_file(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke = _setup_two_workers(postgres_url, tmp_path, monkeypatch, TEXT_POLICY)

    out = invoke(
        *("run", "--db", postgres_url, "--as-of", str(DAY), "--workers", "2"),
        *("--lender", tmp_path / "lenders.toml", "--policy", tmp_path / "policy.toml"),
        *("--channels", tmp_path / "channels.toml"),
    )

    assert out.startswith("0:"), out
    assert re.search(r"actions sent\s+│\s+40\b", out), out
    rows = _texts(postgres_url)
    assert len(rows) == len({key for key, _, _ in rows}) == LOANS
    assert len({pid for _, pid, _ in rows}) == 2, "both workers sent texts"
    assert os.getpid() not in {pid for _, pid, _ in rows}
    for _, _, text in rows:
        assert text.startswith("【示例消费金融有限公司】"), text
        assert "请致电400-800-1234" in text
        assert "请通过示例金融App还款，或转账至账户6222 0000 1234 5678并注明借款编号。" in text
        assert "Lender" not in text
        assert "400-000-0000" not in text
        assert "lender's app" not in text


FAX_POLICY = TEXT_POLICY.replace(
    'id = "confirm.sms"\nstage = "overdue_confirmation"\nchannel = "sms"\n',
    'id = "confirm.fax"\nstage = "overdue_confirmation"\nchannel = "fax"\nfallbacks = ["sms"]\n',
)


def test_workers_plan_a_channel_no_plugin_provides_through_its_announced_fallback(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The policy's only action is on "fax", which nothing provides; the command line
    # says at start-up that it goes through its configured fallback, "sms". Every
    # worker must plan what was announced: texts, and no failed fax actions.
    assert FAX_POLICY != TEXT_POLICY
    invoke = _setup_two_workers(postgres_url, tmp_path, monkeypatch, FAX_POLICY)

    out = invoke(
        *("run", "--db", postgres_url, "--as-of", str(DAY), "--workers", "2"),
        *("--lender", tmp_path / "lenders.toml", "--policy", tmp_path / "policy.toml"),
        *("--channels", tmp_path / "channels.toml"),
    )

    assert out.startswith("0:"), out
    assert "channel 'fax' is not provided by any installed plug-in" in out
    assert "confirm.fax go through 'sms' (configured fallback)" in out
    assert re.search(r"actions sent\s+│\s+40\b", out), out
    assert not re.search(r"actions failed\s+│\s+[1-9]", out), out
    rows = _texts(postgres_url)
    assert len(rows) == len({key for key, _, _ in rows}) == LOANS
    assert len({pid for _, pid, _ in rows}) == 2, "both workers sent texts"
