"""The one multi-process runner: a worker killed with SIGKILL is reported; the rest finish.

The workers share a SQLite file (the storage plug-in is part of this repository's test set).
"""

from __future__ import annotations

import datetime as dt
import os
import time
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
