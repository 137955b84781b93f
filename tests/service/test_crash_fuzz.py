"""Killed at random points of a real cycle, then run again: nothing lost, nothing sent
twice to a channel that de-duplicates, at most one re-delivery per crash to one that
cannot.

Each trial imports a fresh portfolio of a few thousand loans into SQLite, starts the
day's cycle in a child process, kills it with SIGKILL at a random instant while it
runs, runs the day again to the end, and checks the outbox, the event log and the
providers' delivery logs (written and synced by the providers themselves). Bounded:
at most 40 attempts, until 20 of them were killed mid-cycle; with the review pipelined
(two spawned decide processes, which end when their parent's pipe closes), at most 6
attempts until 3 were killed (each run starts its decide processes: kept short).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.bulk import import_rows
from loancollect_sqlalchemy.synthetic import Portfolio, portfolio

from loancollect.testing.faults import DEDUPLICATING

AS_OF = dt.date(2025, 10, 31)
NOW = "2025-10-31T10:00:00+08:00"
LOANS = 2_000
KILLS = 20
ATTEMPTS = 40

CHILD = """
import datetime as dt, sys
from loancollect import CollectionEngine, CycleConfig, make_plugin_manager
from loancollect.registry import open_storage
from loancollect.testing import FixedClock
from loancollect.testing.faults import log_channels

pm = make_plugin_manager(load_entrypoints=True)
engine = CollectionEngine(
    pm=pm,
    storage=open_storage(pm, sys.argv[1]),
    clock=FixedClock(dt.datetime.fromisoformat(sys.argv[2])),
    channels=log_channels(),
    config=CycleConfig(batch_size=100, review_processes=int(sys.argv[4])),
)
print("ready", flush=True)
report = engine.run_cycle(dt.date.fromisoformat(sys.argv[3]))
print("done", report.summary.reviewed, report.summary.sent, flush=True)
"""


def _run(url: str, folder: Path, kill_after: float | None, processes: int = 1) -> tuple[int, float]:
    """Run the day in a child; kill it ``kill_after`` seconds into the cycle.

    :return: the exit code (``-SIGKILL`` only when killed before the cycle ended) and
        the seconds from the start of the cycle to the exit.
    """
    env = {**os.environ, "LOANCOLLECT_FAULT_DIR": str(folder)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, NOW, AS_OF.isoformat(), str(processes)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    started = time.monotonic()
    if kill_after is not None:
        try:
            child.wait(timeout=kill_after)  # it ended before the kill was due
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=300)
    if "done" in out:  # the cycle had ended: the kill came too late to count
        return 0, time.monotonic() - started
    return child.returncode, time.monotonic() - started


def _trial_database(folder: Path, seed: int) -> str:
    folder.mkdir()
    url = f"sqlite:///{folder / 'collect.db'}"
    store = SqlStore(url)
    import_rows(store, portfolio(Portfolio(loans=LOANS, as_of=AS_OF, due_share=0.25, seed=seed)))
    store.dispose()
    return url


def _log(folder: Path, channel: str) -> list[str]:
    path = folder / f"{channel}.log"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


@pytest.mark.parametrize(
    ("processes", "kills_wanted", "attempts_allowed"),
    [(1, KILLS, ATTEMPTS), (2, 3, 6)],
    ids=["one-process", "pipelined"],
)
def test_killed_at_random_points_then_rerun_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, processes: int, kills_wanted: int, attempts_allowed: int
) -> None:
    rng = random.Random(20251031)
    # How long a whole cycle takes here, so the kills land inside one.
    calibration = tmp_path / "calibration"
    code, cycle = _run(_trial_database(calibration, 0), calibration, None, processes)
    assert code == 0
    kills = attempts = 0
    while kills < kills_wanted and attempts < attempts_allowed:
        attempts += 1
        folder = tmp_path / f"trial-{attempts}"
        url = _trial_database(folder, attempts)
        db = folder / "collect.db"

        code, took = _run(url, folder, rng.uniform(0.02, 0.95) * cycle, processes)
        killed = code == -signal.SIGKILL
        if not killed:
            # The cycle ended before the kill: cycles run faster now than when
            # calibrated (a slow disk or a busy machine at the time), so later kills
            # aim inside the shorter cycle.
            cycle = min(cycle, took)
        assert _run(url, folder, None, processes)[0] == 0  # the re-run ends
        kills += killed

        with sqlite3.connect(db) as conn:
            outbox = dict(conn.execute("SELECT key, status FROM lc_outbox").fetchall())
            channel_of = dict(
                conn.execute("SELECT key, json_extract(action, '$.channel') FROM lc_outbox")
            )
            (planned,) = conn.execute(
                "SELECT count(*) FROM lc_events WHERE kind = 'action_planned'"
            ).fetchone()
            cases = conn.execute(
                "SELECT count(*), count(DISTINCT loan_id) FROM lc_cases"
            ).fetchone()
        assert planned == len(outbox), "every planned action is in the outbox, once"
        # Nothing lost: every entry ended sent (or was cancelled or blocked by a rule),
        # none is left waiting, and every sent one reached its provider.
        assert "pending" not in outbox.values()
        assert "retry" not in outbox.values()
        delivered: Counter[str] = Counter()
        for channel in ("sms", "email", "letter", "phone", "visit"):
            delivered.update(_log(folder, channel))
        sent = {key for key, status in outbox.items() if status == "sent"}
        assert sent, "nothing was sent"
        assert sent <= set(delivered)
        assert set(delivered) <= set(outbox)
        # Never twice to a channel that de-duplicates; at most one extra per crash elsewhere.
        repeats = {key: n for key, n in delivered.items() if n > 1}
        assert all(channel_of[key] not in DEDUPLICATING for key in repeats), repeats
        assert sum(n - 1 for n in repeats.values()) <= int(killed), repeats
        assert cases[0] == cases[1] == LOANS  # one record per case after the crash
    assert kills >= kills_wanted, f"only {kills} of {attempts} runs were killed mid-cycle"
