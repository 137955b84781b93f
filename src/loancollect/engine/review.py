"""Review: the batch loop that decides every case due today, once.

Cases due for review (``next_review_date <= as_of``) are taken in batches (or
claimed, when several workers share the day). For each case the loan and its
payments are loaded once, :func:`~loancollect.domain.decision.decide` runs once
— the decision hooks are its :class:`~loancollect.domain.decision.Advice`, asked
where the decision needs them — and every planned action is judged by the
:class:`~loancollect.engine.guard.Guard`. The case update, the events and the
outbox entries of a batch are written in one unit of work; after the commit the
stored events are announced and the batch's new actions are handed on to be
sent with the assessment the decision made.

Pipelined (:attr:`~loancollect.engine.config.CycleConfig.review_processes`), this
process reads each batch and writes each batch's outcome, in batch order, while
spawned processes decide (:mod:`~loancollect.engine.pipeline`). Before a batch is
written its cases are read again in the unit of work that writes them (on SQLite
under the write lock, so the version of each saved case is checked as in one
process); a case whose loan, payments, history or case record changed meanwhile is
decided again here, from what is stored now. The events, their hash chain, the
cases and the outbox rows are byte for byte those of a review in one process.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
from collections.abc import Callable, Sequence

import attrs
import pluggy

from loancollect.domain.case import Case
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.events import Event, EventKind
from loancollect.domain.loans import ContactKind, same_loan
from loancollect.engine.clock import aware_now
from loancollect.engine.config import CycleConfig, CycleProblem, CycleReport, Step
from loancollect.engine.deciding import CaseFailure, CaseInput, CaseOutcome, Decider, describe
from loancollect.engine.dispatch import Loaded
from loancollect.engine.guard import Guard, VerdictKind
from loancollect.engine.pipeline import (
    DecidePool,
    DecideProcessError,
    DecideSetup,
    DecideTask,
    PluginRecipe,
    TemplateRecipe,
    fingerprint,
    pool_for,
    recipe_of,
)
from loancollect.ports import (
    ClaimingCases,
    ClaimingOutbox,
    Clock,
    LeasingOutbox,
    OutboxEntry,
    UnitOfWork,
    UnitOfWorkFactory,
)
from loancollect.registry import CycleSummary
from loancollect.templates import TemplateCatalog

__all__ = ["AUTOMATIC_PROCESSES", "PIPELINE_PROCESSES", "PIPELINE_THRESHOLD", "Reviewer"]

_LOG = logging.getLogger("loancollect.engine.review")


class Reviewer:
    """Decides every due case, batch by batch, and writes the outcome.

    :param templates: the engine's templates (a decide process's compliance guard
        reads their tags).
    :param review_plugins: a picklable factory of the plug-in manager decide
        processes use; ``None``: rebuilt from ``pm`` when it can be
        (:func:`~loancollect.engine.pipeline.recipe_of`), else the review stays in
        one process.
    """

    def __init__(
        self,
        *,
        pm: pluggy.PluginManager,
        storage: UnitOfWorkFactory,
        clock: Clock,
        config: CycleConfig,
        guard: Guard,
        contact_kinds: dict[str, ContactKind | None],
        notify: Callable[[Sequence[Event]], None],
        templates: TemplateCatalog | None = None,
        review_plugins: Callable[[], pluggy.PluginManager] | None = None,
    ) -> None:
        self._pm = pm
        self._storage = storage
        self._clock = clock
        self._config = config
        self._guard = guard
        self._contact_kinds = contact_kinds
        self._notify = notify
        self._templates = templates
        self._review_plugins = review_plugins
        self._decider = Decider(pm=pm, config=config, guard=guard, contact_kinds=contact_kinds)
        self._said_why = False

    def run(
        self,
        as_of: dt.date,
        *,
        on_batch: Callable[[CycleSummary], None] | None = None,
        send: Callable[[Sequence[Loaded]], CycleReport] | None = None,
    ) -> CycleReport:
        """Review every case due on ``as_of``.

        :param on_batch: called with each committed batch's summary (progress bars).
        :param send: given each committed batch's new actions to send at once,
            with the loans and assessments already in hand. When the outbox is
            claimed by several workers, only if it can add entries leased to this
            worker (:class:`~loancollect.ports.LeasingOutbox`): no other worker
            claims them meanwhile; otherwise the workers claim what they send.
        """
        run = _Run(as_of, on_batch, send)
        processes = self._processes()
        if processes > 1:
            with self._storage() as uow:
                if isinstance(uow.cases, ClaimingCases):
                    processes = 1  # claimed batches are reviewed where they are claimed
        while True:
            if processes > 1 and run.reviewed >= self._threshold():
                pool = self._pool(processes)
                if pool is not None:
                    self._run_pipelined(run, *pool)
                    return run.total
                processes = 1
            with self._storage() as uow:
                cases = uow.cases
                claiming = isinstance(cases, ClaimingCases)
                if isinstance(cases, ClaimingCases):
                    batch = cases.claim_due(as_of, limit=self._config.batch_size)
                else:
                    batch = cases.due_for_review(
                        as_of, limit=self._config.batch_size, after_loan_id=run.after
                    )
                if not batch:
                    break
                run.after = batch[-1].loan_id
                at = aware_now(self._clock)
                items = _gather(uow, batch, as_of, self._guard)
                outcomes = self._decider.decide_all(items, as_of=as_of, at=at)
                if not self._write(run, uow, outcomes, at, run.after) and claiming:
                    break  # claiming would hand us the same cases again
            run.reviewed += len(batch)
            self._after_commit(run)
        return run.total

    # -- the pipeline ----------------------------------------------------------------------
    def _processes(self) -> int:
        wanted = self._config.review_processes
        if wanted is not None:
            return wanted
        return AUTOMATIC_PROCESSES if (os.cpu_count() or 1) >= 2 else 1

    def _threshold(self) -> int:
        # automatic: only a day with this many due cases pays for starting processes
        return 0 if self._config.review_processes is not None else PIPELINE_THRESHOLD

    def _why_not(self, reason: str) -> None:
        if not self._said_why:
            self._said_why = True
            _LOG.warning("the review runs in one process: %s", reason)

    def _pool(self, processes: int) -> tuple[DecidePool, Callable[[], None]] | None:
        plugins: Callable[[], pluggy.PluginManager] | PluginRecipe | str
        plugins = self._review_plugins or recipe_of(self._pm)
        if isinstance(plugins, str):
            self._why_not(plugins)
            return None
        setup = DecideSetup(
            plugins=plugins,
            config=self._config,
            templates=TemplateRecipe.of(self._templates or TemplateCatalog.from_plugins(self._pm)),
            contact_kinds=dict(self._contact_kinds),
            expected=fingerprint(self._pm),
            notice_channels=self._guard.rules.notice_channels,
        )
        try:
            return pool_for(setup, processes)
        except ConfigurationError as exc:
            self._why_not(str(exc))
            return None

    def _run_pipelined(self, run: _Run, pool: DecidePool, release: Callable[[], None]) -> None:
        as_of, size = run.as_of, self._config.batch_size
        flight: collections.deque[_InFlight] = collections.deque()
        seq = 0
        exhausted = False
        done = False
        try:
            while True:
                while not exhausted and (slot := pool.free()) is not None:
                    with self._storage() as uow:
                        batch = uow.cases.due_for_review(as_of, limit=size, after_loan_id=run.after)
                        if not batch:
                            exhausted = True
                            break
                        at = aware_now(self._clock)
                        items = _gather(uow, batch, as_of, self._guard)
                    flight.append(
                        _InFlight(
                            slot=slot,
                            after=run.after,
                            batch=batch,
                            task=DecideTask(seq=seq, as_of=as_of, at=at, items=tuple(items)),
                        )
                    )
                    pool.submit(slot, flight[-1].task)
                    seq += 1
                    run.after = batch[-1].loan_id
                if not flight:
                    break
                head = flight.popleft()
                try:
                    decided = pool.answer(head.slot, head.task, timeout=self._config.decide_timeout)
                except DecideProcessError as exc:
                    _LOG.error("review batch ending %s failed: %s", head.batch[-1].loan_id, exc)
                    message = f"batch not decided: {exc}"
                    problems = tuple(
                        CycleProblem(c.loan_id, Step.REVIEW, message) for c in head.batch
                    )
                    run.total = run.total + CycleReport(
                        "", as_of, CycleSummary(errors=len(head.batch)), problems
                    )
                    continue
                with self._storage() as uow:
                    outcomes = self._recheck(uow, head, decided)
                    self._write(run, uow, outcomes, head.task.at, head.batch[-1].loan_id)
                run.reviewed += len(head.batch)
                self._after_commit(run)
            done = True
        finally:
            if done:
                release()
            else:
                pool.close()

    def _recheck(
        self, uow: UnitOfWork, head: _InFlight, decided: Sequence[CaseOutcome | CaseFailure]
    ) -> list[CaseOutcome | CaseFailure]:
        """The batch's outcomes checked against what is stored now, in the unit of work
        that writes them.

        The batch's cases are read again (on SQLite this takes the write lock, and
        the version of each case for the checked save); a case whose inputs are those
        its decide process saw keeps its outcome, any other is decided here again. A
        case no longer due is left out, as a review in one process would not see it.
        """
        last = head.batch[-1].loan_id
        now = [
            case
            for case in uow.cases.due_for_review(
                head.task.as_of, limit=2 * len(head.batch) + 8, after_loan_id=head.after
            )
            if case.loan_id <= last
        ]
        sent: dict[str, CaseInput] = {}
        answers: dict[str, CaseOutcome | CaseFailure] = {}
        for item, outcome in zip(head.task.items, decided, strict=True):
            if isinstance(item, CaseInput):
                sent[item.case.loan_id] = item
                answers[item.case.loan_id] = outcome
        out: list[CaseOutcome | CaseFailure] = []
        for item in _gather(uow, now, head.task.as_of, self._guard):
            if isinstance(item, CaseFailure):
                out.append(item)
            elif _unchanged(sent.get(item.case.loan_id), item):
                out.append(answers[item.case.loan_id])
            else:  # changed while it was decided: decide it from what is stored now
                out.extend(self._decider.decide_all([item], as_of=head.task.as_of, at=head.task.at))
        return out

    # -- writing -----------------------------------------------------------------------------
    def _write(
        self,
        run: _Run,
        uow: UnitOfWork,
        outcomes: Sequence[CaseOutcome | CaseFailure],
        at: dt.datetime,
        last: str,
    ) -> bool:
        """Write a batch's outcomes in ``uow`` and commit; False if the commit failed.

        :param last: the batch's last loan id (named by a failed commit's problem).
        """
        outbox = uow.outbox
        send = run.send
        fresh: list[Loaded] | None = (
            []
            if send is not None
            and (not isinstance(outbox, ClaimingOutbox) or isinstance(outbox, LeasingOutbox))
            else None
        )
        report, stored = _write_batch(uow, outcomes, run.as_of, at, fresh)
        try:
            uow.commit()
        except Exception as exc:  # the batch is rolled back; its cases stay due
            _LOG.exception("review batch ending %s failed to commit", last)
            problem = CycleProblem(last, Step.REVIEW, f"batch rolled back: {exc}")
            run.total = run.total + CycleReport(
                "",
                run.as_of,
                CycleSummary(errors=len(outcomes)),
                (*report.problems, problem),
            )
            run.pending = None
            return False
        run.pending = _Committed(report=report, stored=stored, fresh=fresh)
        return True

    def _after_commit(self, run: _Run) -> None:
        """Announce a committed batch's events, send its new actions, report progress."""
        committed, run.pending = run.pending, None
        if committed is None:
            return
        run.total = run.total + committed.report
        self._notify(committed.stored)
        if committed.fresh and run.send is not None:
            run.total = run.total + run.send(committed.fresh)
        if run.on_batch is not None:
            run.on_batch(committed.report.summary)


PIPELINE_PROCESSES = 2
"""Decide processes of a pipelined review on two cores (one process reads and writes,
two decide: the work is rarely balanced)."""

AUTOMATIC_PROCESSES = 1
"""Processes an automatic review (``review_processes=None``) uses on two cores or more.
One for now: measured (``benchmarks/bench_storage.py``), the reading and writing
process's share of a pipelined review (each batch read twice, loans and decisions
pickled) is about the whole review in one process, so deciding elsewhere does not
shorten the day yet. Set to :data:`PIPELINE_PROCESSES` once that share is smaller."""

PIPELINE_THRESHOLD = 5_000
"""Automatic mode: cases a review decides in one process before it starts decide
processes (starting one costs a second or two; a small day is done by then)."""


@attrs.define
class _Committed:
    report: CycleReport
    stored: tuple[Event, ...]
    fresh: list[Loaded] | None


@attrs.define
class _Run:
    """One review's progress: the cursor, the totals, the last committed batch."""

    as_of: dt.date
    on_batch: Callable[[CycleSummary], None] | None
    send: Callable[[Sequence[Loaded]], CycleReport] | None
    after: str | None = None
    reviewed: int = 0
    total: CycleReport = attrs.field(init=False)
    pending: _Committed | None = None

    def __attrs_post_init__(self) -> None:
        self.total = CycleReport("", self.as_of, CycleSummary())


@attrs.frozen(kw_only=True)
class _InFlight:
    """A batch read and handed to a decide process (``after``: the cursor before it)."""

    slot: int
    after: str | None
    batch: Sequence[Case]
    task: DecideTask


def _gather(
    uow: UnitOfWork, batch: Sequence[Case], as_of: dt.date, guard: Guard
) -> list[CaseInput | CaseFailure]:
    """What each case's decision needs, read from ``uow``; a case that cannot be read fails."""
    out: list[CaseInput | CaseFailure] = []
    for case in batch:
        try:
            loan = uow.loans.get(case.loan_id)
            if loan is None:
                raise ValidationError("case.loan_id", case.loan_id, "no such loan in storage")
            payments = tuple(uow.loans.payments_for(loan.id))
            history = guard.rules.history(uow, loan.id, as_of)
        except Exception as exc:  # one bad case never stops the others
            _LOG.warning("review of %s failed: %s", case.loan_id, describe(exc))
            out.append(CaseFailure(loan_id=case.loan_id, message=describe(exc)))
            continue
        out.append(CaseInput(case=case, loan=loan, payments=payments, history=history))
    return out


def _unchanged(sent: CaseInput | None, now: CaseInput) -> bool:
    """``sent == now``: what a decide process was given is what is stored now (the
    loans compared without building their installments, :func:`same_loan`)."""
    if sent is None or not same_loan(sent.loan, now.loan):
        return False
    return all(getattr(sent, name) == getattr(now, name) for name in _INPUT_BUT_LOAN)


# What ``==`` compares on two inputs, the loan aside (compared by ``same_loan``).
_INPUT_BUT_LOAN = tuple(f.name for f in attrs.fields(CaseInput) if f.eq and f.name != "loan")


def _write_batch(
    uow: UnitOfWork,
    outcomes: Sequence[CaseOutcome | CaseFailure],
    as_of: dt.date,
    at: dt.datetime,
    fresh: list[Loaded] | None,
) -> tuple[CycleReport, tuple[Event, ...]]:
    """A batch's case updates, events and outbox entries, into ``uow`` (not committed)."""
    events: list[Event] = []
    problems: list[CycleProblem] = []
    reviewed = changes = planned = blocked = rescheduled = errors = 0
    outbox = uow.outbox
    # once a batch, not per action: a protocol check walks the protocol's members
    leasing = outbox if isinstance(outbox, LeasingOutbox) else None
    for outcome in outcomes:
        if isinstance(outcome, CaseFailure):
            errors += 1
            problems.append(CycleProblem(outcome.loan_id, Step.REVIEW, outcome.message))
            continue
        decision, loan, history = outcome.decision, outcome.input.loan, outcome.input.history
        events.extend(decision.events)
        # Counted as the report counts them, one per event: every stage entered
        # (a catch-up replay enters several) and every action planned, including
        # those the rules block at once (they are also counted as blocked).
        changes += sum(e.kind is EventKind.STAGE_CHANGED for e in decision.events)
        planned += sum(e.kind is EventKind.ACTION_PLANNED for e in decision.events)
        for judged in outcome.judged:
            action, verdict = judged.action, judged.verdict
            if verdict.kind is VerdictKind.BLOCK:
                blocked += 1
                events.append(verdict.event(action, as_of))
                continue
            if verdict.kind is VerdictKind.RESCHEDULE:
                rescheduled += 1
                events.append(verdict.event(action, as_of))
            if fresh is not None and verdict.allowed and leasing is not None:
                # sent by this worker right after the commit: leased to it till then
                added = leasing.add_leased(action, created_on=as_of, now=at)
            else:
                added = outbox.add(action, created_on=as_of, not_before=verdict.not_before)
            if added and verdict.allowed and fresh is not None:
                entry = OutboxEntry(key=action.idempotency_key, action=action, created_on=as_of)
                fresh.append(Loaded(entry, loan, decision.assessment, decision.case, history))
        uow.cases.save(decision.case)
        reviewed += 1
    stored = uow.events.append(events) if events else ()
    summary = CycleSummary(
        reviewed=reviewed,
        stage_changes=changes,
        actions_planned=planned,
        blocked=blocked,
        rescheduled=rescheduled,
        errors=errors,
    )
    return CycleReport("", as_of, summary, tuple(problems)), stored
