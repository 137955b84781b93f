"""The pipelined review writes exactly what the review in one process writes.

One process reads and writes, spawned processes decide: the events (payload text,
sequence numbers, hashes), the stream heads, the cases and the outbox rows are the
same bytes, and a decide process that dies or raises fails only its batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pendulum
import pipeline_support
import pytest
from loancollect_sqlalchemy import SqlStore, bulk
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio
from loancollect_sqlalchemy.testkit import CHANNELS, Gateway

from loancollect import make_plugin_manager
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.engine.pipeline import recipe_of
from loancollect.testing.clock import FixedClock

AS_OF = dt.date(2025, 10, 31)
PACKS = ["rules-cn", "rules-us", "rules-uk"]
TABLES = {
    "lc_events": "tenant_id, loan_id, seq",
    "lc_stream_heads": "tenant_id, loan_id",
    "lc_cases": "tenant_id, loan_id",
    "lc_outbox": "tenant_id, key",
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A portfolio of 1,200 loans, 300 of them due (6 batches of 50), imported once."""
    path = tmp_path_factory.mktemp("pipeline") / "seed.db"
    store = SqlStore(f"sqlite:///{path}")
    importer = bulk.BulkImporter(store, batch_size=1_000)
    importer.add_all(portfolio(Portfolio(loans=1_200, as_of=AS_OF, due_share=0.25)))
    assert importer.finish().ok
    store.dispose()
    return path


def _copy(seeded: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(seeded, target)
    return target


def _engine(
    path: Path,
    processes: int,
    *,
    plugins: tuple[object, ...] = (),
    decide_timeout: float = 300.0,
    **kw: Any,
) -> tuple[CollectionEngine, SqlStore]:
    store = SqlStore(f"sqlite:///{path}", migrate=False)
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=PACKS, plugins=plugins),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai")),
        channels={c: Gateway(c) for c in CHANNELS},
        config=CycleConfig(
            batch_size=50, review_processes=processes, decide_timeout=decide_timeout
        ),
        **kw,
    )
    return engine, store


def _two_days(path: Path, processes: int) -> list[Any]:
    """The first day's cycle at half past ten at night, the next day's at ten in the morning."""
    engine, store = _engine(path, processes)
    clock = engine.clock
    assert isinstance(clock, FixedClock)
    clock.set(pendulum.datetime(2025, 10, 31, 22, 30, tz="Asia/Shanghai"))
    first = engine.run_cycle(AS_OF, run_id="day-1")
    clock.set(pendulum.datetime(2025, 11, 1, 10, tz="Asia/Shanghai"))
    second = engine.run_cycle(AS_OF + dt.timedelta(days=1), run_id="day-2")
    store.dispose()
    return [first, second]


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the review writes, in key order, as stored."""
    db = sqlite3.connect(path)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for table, order in TABLES.items()
        }
    finally:
        db.close()


def test_the_pipelined_cycle_writes_the_same_bytes_as_one_process(
    seeded: Path, tmp_path: Path
) -> None:
    one, pipelined = _copy(seeded, tmp_path, "one.db"), _copy(seeded, tmp_path, "two.db")
    single, piped = _two_days(one, 1), _two_days(pipelined, 2)
    assert single[0].summary.reviewed == 300
    assert single[1].summary.reviewed > 0
    assert single[0].summary.rescheduled > 0  # at half past ten at night the packs wait
    assert single[1].summary.sent > 0  # at ten in the morning they allow
    assert [r.summary for r in piped] == [r.summary for r in single]
    assert all(r.problems == () for r in (*single, *piped))
    expected, found = _rows(one), _rows(pipelined)
    assert len(expected["lc_events"]) > 300
    for table in TABLES:
        assert found[table] == expected[table], table


def test_plugins_registered_in_code_keep_the_review_in_one_process(
    seeded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Watching:  # decides nothing, but judges: cannot be rebuilt elsewhere
        from loancollect import hookimpl

        @hookimpl
        def loancollect_check_contact(self) -> None:
            return None

    pm = make_plugin_manager(load_entrypoints=PACKS, plugins=[Watching()])
    assert isinstance(recipe_of(pm), str)
    engine, store = _engine(_copy(seeded, tmp_path, "one.db"), 2, plugins=(Watching(),))
    with caplog.at_level(logging.WARNING, logger="loancollect.engine.review"):
        report = engine.review(AS_OF)
        engine.review(AS_OF + dt.timedelta(days=1))
    store.dispose()
    assert report.summary.reviewed == 300
    assert report.problems == ()
    said = [r for r in caplog.records if "runs in one process" in r.getMessage()]
    assert len(said) == 1  # said once, not per run
    assert "registered in code" in said[0].getMessage()


def test_a_host_factory_pipelines_plugins_registered_in_code(seeded: Path, tmp_path: Path) -> None:
    one, piped = _copy(seeded, tmp_path, "one.db"), _copy(seeded, tmp_path, "two.db")
    reserved = (pipeline_support.Reserved(),)
    engine, store = _engine(one, 1, plugins=reserved)
    assert engine.review(AS_OF).summary.reviewed == 300
    store.dispose()
    engine, store = _engine(
        piped, 2, plugins=reserved, review_plugins=pipeline_support.packs_and_reserved
    )
    assert engine.review(AS_OF).summary.reviewed == 300
    store.dispose()
    expected, found = _rows(one), _rows(piped)
    assert any("reserved" in str(row) for row in expected["lc_cases"])  # the plug-in decided
    for table in TABLES:
        assert found[table] == expected[table], table


def test_a_factory_with_other_hooks_than_the_host_is_not_used(
    seeded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    one, other = _copy(seeded, tmp_path, "one.db"), _copy(seeded, tmp_path, "two.db")
    reserved = (pipeline_support.Reserved(),)
    engine, store = _engine(one, 1, plugins=reserved)
    engine.review(AS_OF)
    store.dispose()
    engine, store = _engine(other, 2, plugins=reserved, review_plugins=pipeline_support.packs_only)
    with caplog.at_level(logging.WARNING, logger="loancollect.engine.review"):
        assert engine.review(AS_OF).summary.reviewed == 300
    store.dispose()
    (said,) = [r.getMessage() for r in caplog.records if "runs in one process" in r.getMessage()]
    assert "other hooks than the host" in said
    assert "loancollect_segment" in said
    assert _rows(other) == _rows(one)  # decided here, with the host's hooks


@pytest.mark.parametrize("kind", ["die", "raise", "hang"])
def test_a_decide_process_that_fails_fails_only_its_batch(
    seeded: Path, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    path = _copy(seeded, tmp_path, "day.db")
    victim = _due_ids(path)[125]  # in the 3rd batch of 6
    flag = pipeline_support.fault_file(os.getpid())
    flag.write_text(f"{victim} {kind}", encoding="utf-8")
    request.addfinalizer(lambda: flag.unlink(missing_ok=True))
    # A batch of 50 is decided in well under a second; a hung process is stopped
    # after 20 s (generous for a loaded machine).
    engine, store = _engine(path, 2, plugins=(pipeline_support,), decide_timeout=20)
    first = engine.review(AS_OF)
    assert not flag.exists()  # the fault fired, in a decide process
    failed = {p.loan_id for p in first.problems}
    batch = _due_ids(path)  # what is still due: exactly the failed batch
    assert len(failed) == 50
    assert victim in failed
    assert set(batch) == failed
    assert first.summary.reviewed == 250
    assert first.summary.errors == 50
    assert all("batch not decided" in p.message for p in first.problems)
    if kind == "hang":
        assert all("did not answer within 20 s" in p.message for p in first.problems)
    again = engine.review(AS_OF)  # the replaced process decides the batch
    store.dispose()
    assert again.summary.reviewed == 50
    assert again.problems == ()
    assert _due_ids(path) == []
    # one record per entity: what one process writes in one review, byte for byte
    reference = _copy(seeded, tmp_path, "reference.db")
    engine, store = _engine(reference, 1)
    assert engine.review(AS_OF).summary.reviewed == 300
    store.dispose()
    expected, found = _rows(reference), _rows(path)
    for table in TABLES:
        assert found[table] == expected[table], table


def _due_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [
            r[0]
            for r in db.execute(
                "SELECT loan_id FROM lc_cases WHERE closed_on IS NULL AND next_review_date <= ? "
                "ORDER BY loan_id",
                (AS_OF.isoformat(),),
            )
        ]
