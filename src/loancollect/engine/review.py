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
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pluggy

from loancollect.domain.case import Case
from loancollect.domain.decision import Advice, Decision, decide
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import Event, EventKind
from loancollect.domain.loans import ContactKind, Loan, Payment
from loancollect.domain.overdue import Assessment
from loancollect.domain.scoring import ScoreContribution, Scores
from loancollect.domain.strategy import Experiment, Strategy
from loancollect.engine.clock import aware_now
from loancollect.engine.config import CycleConfig, CycleProblem, CycleReport, Step
from loancollect.engine.dispatch import Loaded
from loancollect.engine.guard import Guard, VerdictKind
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

__all__ = ["Reviewer"]

_LOG = logging.getLogger("loancollect.engine.review")


class Reviewer:
    """Decides every due case, batch by batch, and writes the outcome."""

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
    ) -> None:
        self._hook = pm.hook
        self._storage = storage
        self._clock = clock
        self._config = config
        self._guard = guard
        self._contact_kinds = contact_kinds
        self._notify = notify
        # Built once, not per case: decide would wrap a plain strategy the same way.
        strategy = config.strategy
        self._strategy: Strategy | Experiment = (
            strategy if isinstance(strategy, Experiment) else Experiment.single(strategy)
        )

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
        total = CycleReport("", as_of, CycleSummary())
        after: str | None = None
        while True:
            with self._storage() as uow:
                cases = uow.cases
                claiming = isinstance(cases, ClaimingCases)
                if isinstance(cases, ClaimingCases):
                    batch = cases.claim_due(as_of, limit=self._config.batch_size)
                else:
                    batch = cases.due_for_review(
                        as_of, limit=self._config.batch_size, after_loan_id=after
                    )
                if not batch:
                    break
                after = batch[-1].loan_id
                outbox = uow.outbox
                fresh: list[Loaded] | None = (
                    []
                    if send is not None
                    and (
                        not isinstance(outbox, ClaimingOutbox) or isinstance(outbox, LeasingOutbox)
                    )
                    else None
                )
                report, stored = self._review_batch(uow, batch, as_of, fresh)
                try:
                    uow.commit()
                except Exception as exc:  # the batch is rolled back; its cases stay due
                    _LOG.exception("review batch ending %s failed to commit", after)
                    problem = CycleProblem(after, Step.REVIEW, f"batch rolled back: {exc}")
                    total = total + CycleReport(
                        "", as_of, CycleSummary(errors=len(batch)), (*report.problems, problem)
                    )
                    if claiming:
                        break  # claiming would hand us the same cases again
                    continue
            total = total + report
            self._notify(stored)
            if fresh and send is not None:
                total = total + send(fresh)
            if on_batch is not None:
                on_batch(report.summary)
        return total

    def _review_batch(
        self,
        uow: UnitOfWork,
        batch: Sequence[Case],
        as_of: dt.date,
        fresh: list[Loaded] | None,
    ) -> tuple[CycleReport, tuple[Event, ...]]:
        at = aware_now(self._clock)
        events: list[Event] = []
        problems: list[CycleProblem] = []
        reviewed = changes = planned = blocked = rescheduled = errors = 0
        for case in batch:
            try:
                loan = uow.loans.get(case.loan_id)
                if loan is None:
                    raise ValidationError("case.loan_id", case.loan_id, "no such loan in storage")
                payments = uow.loans.payments_for(loan.id)
                decision = self._decide(loan, payments, case, as_of)
                history = self._guard.rules.history(uow, loan.id, as_of)
                verdicts = [
                    (
                        action,
                        self._guard.judge(
                            action, loan, decision.case, as_of=as_of, at=at, history=history
                        ),
                    )
                    for action in decision.actions
                ]
            except Exception as exc:  # one bad case never stops the others
                errors += 1
                problems.append(CycleProblem(case.loan_id, Step.REVIEW, _describe(exc)))
                _LOG.warning("review of %s failed: %s", case.loan_id, _describe(exc))
                continue
            events.extend(decision.events)
            # Counted as the report counts them, one per event: every stage entered
            # (a catch-up replay enters several) and every action planned, including
            # those the rules block at once (they are also counted as blocked).
            changes += sum(e.kind is EventKind.STAGE_CHANGED for e in decision.events)
            planned += sum(e.kind is EventKind.ACTION_PLANNED for e in decision.events)
            for action, verdict in verdicts:
                if verdict.kind is VerdictKind.BLOCK:
                    blocked += 1
                    events.append(verdict.event(action, as_of))
                    continue
                if verdict.kind is VerdictKind.RESCHEDULE:
                    rescheduled += 1
                    events.append(verdict.event(action, as_of))
                if fresh is not None and verdict.allowed and isinstance(uow.outbox, LeasingOutbox):
                    # sent by this worker right after the commit: leased to it till then
                    added = uow.outbox.add_leased(action, created_on=as_of, now=at)
                else:
                    added = uow.outbox.add(action, created_on=as_of, not_before=verdict.not_before)
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

    def _decide(
        self, loan: Loan, payments: Sequence[Payment], case: Case, as_of: dt.date
    ) -> Decision:
        """One decision for the case, with the decision hooks as its advisors."""
        hook = self._hook
        cfg = self._config
        decision = decide(
            loan=loan,
            payments=payments,
            case=case,
            as_of=as_of,
            policy=cfg.policy,
            strategy=self._strategy,
            config=cfg.assessment,
            advice=self._advice(loan, as_of),
            channels=self._contact_kinds,
            rates=cfg.rates,
        )
        extra_actions = _collected(
            hook.loancollect_plan_actions,
            loan=loan,
            case=decision.case,
            decision=decision,
            as_of=as_of,
        )
        extra_offers = _collected(
            hook.loancollect_offer_arrangements,
            loan=loan,
            case=decision.case,
            decision=decision,
            as_of=as_of,
        )
        if extra_actions or extra_offers:
            decision = decision.with_extras(extra_actions, extra_offers)
        return decision

    def _advice(self, loan: Loan, as_of: dt.date) -> Advice | None:
        """The decision hooks that have implementations, as advisors for ``decide``.

        Hooks nobody implements are not called: a pluggy call costs more than the
        check, and a review asks several per case.
        """
        hook = self._hook
        scores = segment = stage = None
        if hook.loancollect_score.get_hookimpls():

            def scores(assessment: Assessment, case: Case) -> list[ScoreContribution]:
                found = hook.loancollect_score(
                    loan=loan, case=case, assessment=assessment, as_of=as_of
                )
                return [c for c in found if c is not None]

        if hook.loancollect_segment.get_hookimpls():

            def segment(assessment: Assessment, case: Case, combined: Scores) -> str | None:
                found: str | None = hook.loancollect_segment(
                    loan=loan, case=case, assessment=assessment, scores=combined, as_of=as_of
                )
                return found

        if hook.loancollect_override_stage.get_hookimpls():

            def stage(case: Case, proposed: str) -> str | None:
                found: str | None = hook.loancollect_override_stage(
                    loan=loan, case=case, proposed=proposed, as_of=as_of
                )
                return found

        if scores is None and segment is None and stage is None:
            return None
        return Advice(scores=scores, segment=segment, stage=stage)


def _collected(caller: pluggy.HookCaller, **kwargs: object) -> list[Any]:
    """Every implementation's items, flattened; no call when nobody implements it."""
    if not caller.get_hookimpls():
        return []
    return [item for result in caller(**kwargs) for item in (result or ())]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
