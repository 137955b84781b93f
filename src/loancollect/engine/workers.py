"""The one multi-process runner: several workers share one business day.

Each worker is a fresh process (``multiprocessing`` with *spawn*, so nothing but
the :class:`WorkerSpec` crosses over) that builds its own plug-in manager,
storage (for one tenant) and :class:`~loancollect.engine.CollectionEngine`, then
runs the day. Storage that offers :class:`~loancollect.ports.ClaimingCases` and
:class:`~loancollect.ports.ClaimingOutbox` (PostgreSQL) hands the workers
disjoint batches; nothing is reviewed or sent twice. Workers may as well run on
several machines: they only share the database.

A worker that dies (killed, out of memory) is detected and reported as such; the
others finish, and its claimed cases stay due for the next run.

    from loancollect.engine.workers import WorkerSpec, run_workers
    results = run_workers(WorkerSpec(url=..., as_of=day), workers=4)
"""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing
import multiprocessing.connection
import os
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from loancollect.domain.strategy import Experiment, Strategy
from loancollect.engine.config import CycleConfig, CycleProblem
from loancollect.engine.startup import start_up_frozen
from loancollect.lenders import LenderBook
from loancollect.ports import DEFAULT_TENANT, Channel, ClaimingCases, Clock
from loancollect.registry import CycleSummary

__all__ = ["WorkerResult", "WorkerSpec", "run_worker", "run_workers", "shares_a_day"]


@attrs.frozen(kw_only=True)
class WorkerSpec:
    """What every worker runs.

    :param url: the shared storage URL.
    :param as_of: the business day.
    :param tenant: the tenant every worker serves.
    :param policy_file: a TOML policy file (``None``: the default policy).
    :param config: ``"module:function"`` returning the :class:`CycleConfig`
        (overrides ``policy_file``).
    :param channels: ``"module:function"`` building ``{name: Channel}`` in the worker
        (``None``: channels from the registered specs with ``channel_settings``).
    :param channel_settings: string settings per channel for the registered factories.
    :param clock: ``"module:function"`` building the clock (``None``: system clock).
    :param batch_size: cases per claim (``None``: the config's).
    :param load_entrypoints: passed to ``make_plugin_manager``.
    :param dispatch: also dispatch the outbox.
    :param lenders: the lender profiles that sign the messages (``None``: the
        config's own). Given parsed, not as a file, so every worker signs with the
        same profiles whatever happens to the file while they run.
    :param strategy: the strategy every worker uses (``None``: the config's own). The
        command line gives the one it planned at start-up, with the rules of channels
        it cannot use moved onto their fallbacks or held (:mod:`loancollect.channel_gaps`),
        so the workers plan what the operator was told.
    """

    url: str
    as_of: dt.date
    tenant: str = DEFAULT_TENANT
    policy_file: str | None = None
    config: str | None = None
    channels: str | None = None
    channel_settings: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    clock: str | None = None
    batch_size: int | None = None
    load_entrypoints: bool = True
    dispatch: bool = True
    lenders: LenderBook | None = None
    strategy: Strategy | Experiment | None = None


@attrs.frozen(kw_only=True)
class WorkerResult:
    """What one worker did, or how it died.

    :param exit_code: the process's exit code (negative: killed by that signal).
    :param error: why the worker failed (an exception's text, or its death).
    """

    worker: int
    pid: int
    summary: CycleSummary = attrs.field(factory=CycleSummary)
    problems: tuple[CycleProblem, ...] = ()
    seconds: float = 0.0
    exit_code: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        """True if the worker ran the day to the end."""
        return not self.error


def _load(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    found = getattr(importlib.import_module(module), name)
    if not callable(found):
        from loancollect.domain.errors import ConfigurationError

        raise ConfigurationError(f"worker reference {ref!r} is not callable")
    return found  # type: ignore[no-any-return]


def _config(spec: WorkerSpec) -> CycleConfig:
    if spec.config is not None:
        config = _load(spec.config)()
    elif spec.policy_file is not None:
        from pathlib import Path

        from loancollect.domain.policy_file import loads_policy

        bundle = loads_policy(Path(spec.policy_file).read_text(encoding="utf-8"), spec.policy_file)
        config = CycleConfig(policy=bundle.policy, strategy=bundle.strategy)
    else:
        config = CycleConfig()
    if spec.batch_size is not None:
        config = attrs.evolve(config, batch_size=spec.batch_size)
    if spec.lenders is not None:
        config = attrs.evolve(config, lenders=spec.lenders)
    if spec.strategy is not None:
        config = attrs.evolve(config, strategy=spec.strategy)
    assert isinstance(config, CycleConfig)
    return config


def run_worker(spec: WorkerSpec, worker: int = 0) -> WorkerResult:
    """Run the day once in this process (what each spawned worker does)."""
    from loancollect.engine import CollectionEngine
    from loancollect.plugins import make_plugin_manager
    from loancollect.registry import open_storage

    pm = make_plugin_manager(load_entrypoints=spec.load_entrypoints)
    storage = open_storage(pm, spec.url, tenant=spec.tenant)
    channels: Mapping[str, Channel] | None = _load(spec.channels)() if spec.channels else None
    clock: Clock | None = _load(spec.clock)() if spec.clock else None
    engine = CollectionEngine(
        pm=pm,
        storage=storage,
        clock=clock,
        channels=channels,
        channel_settings=spec.channel_settings,
        config=_config(spec),
    )
    started = time.perf_counter()
    try:
        with start_up_frozen():  # the plug-ins, packs and templates live to the end
            report = engine.run_cycle(spec.as_of, dispatch=spec.dispatch)
    finally:
        dispose = getattr(storage, "dispose", None)
        if callable(dispose):
            dispose()
    return WorkerResult(
        worker=worker,
        pid=os.getpid(),
        summary=report.summary,
        problems=report.problems,
        seconds=time.perf_counter() - started,
    )


def _main(spec: WorkerSpec, worker: int, conn: multiprocessing.connection.Connection) -> None:
    """A spawned worker: run, then send the result (or the error) to the parent."""
    try:
        conn.send(run_worker(spec, worker))
    except BaseException as exc:  # reported to the parent, never lost
        conn.send(
            WorkerResult(
                worker=worker,
                pid=os.getpid(),
                exit_code=1,
                error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
            )
        )
    finally:
        conn.close()


def run_workers(spec: WorkerSpec, workers: int) -> list[WorkerResult]:
    """Run ``workers`` processes of :func:`run_worker` at once; return their results.

    Every worker gets its own result pipe, so one that dies (SIGKILL, out of
    memory) is seen when its pipe closes without a result: it is reported with
    its exit code, and the others run to the end.
    """
    ctx = multiprocessing.get_context("spawn")
    running: dict[multiprocessing.connection.Connection, tuple[int, Any]] = {}
    for worker in range(workers):
        parent, child = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_main, args=(spec, worker, child), daemon=True)
        process.start()
        child.close()
        running[parent] = (worker, process)
    results: dict[int, WorkerResult] = {}
    while running:
        for ready in multiprocessing.connection.wait(list(running)):
            conn = ready if isinstance(ready, multiprocessing.connection.Connection) else None
            assert conn is not None  # wait() returns the objects it was given
            worker, process = running.pop(conn)
            try:
                results[worker] = conn.recv()
            except EOFError:  # died before it could report
                process.join()
                results[worker] = WorkerResult(
                    worker=worker,
                    pid=process.pid or 0,
                    exit_code=process.exitcode or 0,
                    error=f"worker died (exit code {process.exitcode})",
                )
            finally:
                conn.close()
            process.join()
    return [results[w] for w in range(workers)]


def shares_a_day(storage: Any) -> bool:
    """True if ``storage`` lets several workers claim disjoint cases of one day."""
    with storage() as uow:
        return isinstance(uow.cases, ClaimingCases)
