"""Run one day's cycle in several worker processes against one PostgreSQL database.

Each worker is a fresh process (``multiprocessing`` with *spawn*) that builds its
own plug-in manager, :class:`~loancollect_sqlalchemy.repository.SqlStore` and
:class:`~loancollect.cycle.CollectionEngine`, then runs ``run_cycle(as_of)``. The
store offers ``claim_due`` and ``claim_pending`` on PostgreSQL, so the workers
take disjoint batches of due cases (``FOR UPDATE SKIP LOCKED``) and disjoint
outbox entries (leases); nothing is reviewed or sent twice. Workers may as well
run on several machines: they only share the database.

    from loancollect_sqlalchemy.workers import WorkerSpec, run_workers
    results = run_workers(WorkerSpec(url=..., as_of=day, channels="myapp.channels:build"), 4)

``channels`` names a function ``module:function`` returning ``{name: Channel}``;
it runs in each worker (connections cannot cross process boundaries).
"""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from loancollect.ports import Channel, Clock
from loancollect.registry import CycleSummary

__all__ = ["WorkerResult", "WorkerSpec", "run_worker", "run_workers"]


@attrs.frozen(kw_only=True)
class WorkerSpec:
    """What every worker runs.

    :param url: the shared database.
    :param as_of: the business day.
    :param channels: ``"module:function"`` building the channels in the worker
        (``None``: channels from the registered specs).
    :param clock: ``"module:function"`` building the clock (``None``: system clock).
    :param batch_size: cases per claim.
    :param load_entrypoints: passed to ``make_plugin_manager``.
    :param dispatch: also dispatch the outbox.
    """

    url: str
    as_of: dt.date
    channels: str | None = None
    clock: str | None = None
    batch_size: int = 200
    load_entrypoints: bool = True
    dispatch: bool = True


@attrs.frozen(kw_only=True)
class WorkerResult:
    """What one worker did."""

    worker: int
    pid: int
    summary: CycleSummary
    problems: int
    seconds: float


def _load(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    found = getattr(importlib.import_module(module), name)
    assert callable(found)
    return found  # type: ignore[no-any-return]


def run_worker(spec: WorkerSpec, worker: int = 0) -> WorkerResult:
    """Run the cycle once in this process (what each spawned worker does)."""
    from loancollect.cycle import CollectionEngine, CycleConfig
    from loancollect.plugins import make_plugin_manager
    from loancollect_sqlalchemy.repository import SqlStore

    pm = make_plugin_manager(load_entrypoints=spec.load_entrypoints)
    store = SqlStore(spec.url, migrate=False)
    channels: Mapping[str, Channel] | None = _load(spec.channels)() if spec.channels else None
    clock: Clock | None = _load(spec.clock)() if spec.clock else None
    engine = CollectionEngine(
        pm=pm,
        storage=store,
        clock=clock,
        channels=channels,
        config=CycleConfig(batch_size=spec.batch_size),
    )
    started = time.perf_counter()
    try:
        report = engine.run_cycle(spec.as_of, dispatch=spec.dispatch)
    finally:
        store.dispose()
    return WorkerResult(
        worker=worker,
        pid=os.getpid(),
        summary=report.summary,
        problems=len(report.problems),
        seconds=time.perf_counter() - started,
    )


def _entry(args: tuple[WorkerSpec, int]) -> WorkerResult:
    return run_worker(*args)


def run_workers(spec: WorkerSpec, workers: int) -> list[WorkerResult]:
    """Run ``workers`` processes of :func:`run_worker` at once; return their results."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        return pool.map(_entry, [(spec, i) for i in range(workers)])
