"""The one multi-process runner: a worker killed with SIGKILL is reported; the rest finish.

The workers share a SQLite file (the storage plug-in is part of this repository's test set).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loancollect.engine.intake import Intake
from loancollect.engine.workers import WorkerSpec, run_workers
from loancollect.plugins import make_plugin_manager
from loancollect.registry import open_storage
from loancollect.testing import make_borrower, make_loan

DAY = dt.date(2025, 3, 20)


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
def postgres_url() -> Iterator[str]:
    """A database in a throwaway PostgreSQL cluster (the backend whose workers share a
    day); without PostgreSQL the test skips, and with ``CI=true`` it fails."""
    from loancollect_sqlalchemy.pgcluster import PostgresNotFoundError, TemporaryPostgres

    try:
        cluster = TemporaryPostgres()
    except PostgresNotFoundError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and PostgreSQL is missing: {exc}")
        pytest.skip(str(exc))
    cluster.start()
    try:
        yield cluster.create_database("lc_worker_lenders")
    finally:
        cluster.stop()


def test_two_workers_sign_every_text_with_the_lender_profiles_of_the_file(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        for i in range(40)
    ]
    Intake(storage=storage, notify=lambda events: None).add_loans(loans, review_on=DAY)
    engine = sa.create_engine(postgres_url)
    texts_table.metadata.create_all(engine)  # before the workers: no race in the catalogue
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
        ("policy.toml", TEXT_POLICY),
        ("channels.toml", '[sms]\nurl = "http://127.0.0.1:9/send"\n'),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")

    out = invoke(
        *("run", "--db", postgres_url, "--as-of", str(DAY), "--workers", "2"),
        *("--lender", tmp_path / "lenders.toml", "--policy", tmp_path / "policy.toml"),
        *("--channels", tmp_path / "channels.toml"),
    )

    assert out.startswith("0:"), out
    assert re.search(r"actions sent\s+│\s+40\b", out), out
    with engine.connect() as conn:
        sent = conn.execute(sa.select(texts_table.c.key, texts_table.c.pid, texts_table.c.text))
        rows = sent.all()
    engine.dispose()
    assert len(rows) == len({key for key, _, _ in rows}) == len(loans)
    assert len({pid for _, pid, _ in rows}) == 2, "both workers sent texts"
    assert os.getpid() not in {pid for _, pid, _ in rows}
    for _, _, text in rows:
        assert text.startswith("【示例消费金融有限公司】"), text
        assert "请致电400-800-1234" in text
        assert "请通过示例金融App还款，或转账至账户6222 0000 1234 5678并注明借款编号。" in text
        assert "Lender" not in text
        assert "400-000-0000" not in text
        assert "lender's app" not in text
