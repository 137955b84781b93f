"""The collection cycle: the one orchestrator (DESIGN.md §3, §7).

``CollectionEngine.run_cycle(as_of)`` does, for one business day:

1. ``loancollect_cycle_started``;
2. **review**: cases due for review (``next_review_date <= as_of``) are taken in
   batches; for each case the pure core decides (``decide``), the decision hooks
   are asked (score, segment, override stage, extra actions and offers), and
   every action is checked (``loancollect_check_contact``). Case updates, events
   and the outbox entries of a batch are written in one unit of work; after the
   commit, ``loancollect_on_event`` fires for each stored event and the batch's new
   actions are sent (unless the outbox is claimed by several workers);
3. **dispatch**: the open outbox entries left (retries, rescheduled actions,
   earlier days' entries) are rendered and sent through their channels,
   concurrently within bounds; results are recorded (sent, failed with retry and
   backoff, fallback to the next channel, cancelled when no longer due);
4. ``loancollect_cycle_finished`` with the :class:`CycleSummary`.

Guarantees: an action is in the outbox, in the same transaction as the case
update, before any channel sees it; its idempotency key is deterministic (loan,
rule, as-of day), so re-running a day plans nothing new and a crash at any
point loses nothing and sends nothing twice to an idempotent channel. A case
that raises is reported and skipped; a channel that raises or times out fails
only that action.

The engine reads time only through the injected :class:`~loancollect.ports.Clock`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pluggy

from loancollect import registry
from loancollect.domain.case import Case, ContactOutcome, Hold, HoldKind, OutcomeKind
from loancollect.domain.decision import Decision, decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.errors import ConfigurationError, LoanCollectError, ValidationError
from loancollect.domain.events import Event, EventKind, make_event
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.overdue import DEFAULT_CONFIG, Assessment, AssessmentConfig, assess
from loancollect.domain.policy import StagePolicy, Transition
from loancollect.domain.scoring import combine, heuristic_contribution, segment_for
from loancollect.domain.strategy import (
    Experiment,
    Offer,
    PlannedAction,
    Strategy,
    plan_actions,
)
from loancollect.ports import (
    CAP_STATEMENT,
    BatchMarkingOutbox,
    Channel,
    ClaimingCases,
    ClaimingOutbox,
    Clock,
    DeliveryResult,
    DeliveryStatus,
    OutboxEntry,
    UnitOfWork,
    UnitOfWorkFactory,
)
from loancollect.registry import ContactViolation, CycleSummary
from loancollect.templates import (
    LenderInfo,
    TemplateCatalog,
    message_context,
    required_keys,
    statement_of_account,
)

__all__ = [
    "BatchMarkingOutbox",
    "ClaimingCases",
    "ClaimingOutbox",
    "CollectionEngine",
    "CycleConfig",
    "CycleProblem",
    "CycleReport",
    "SystemClock",
]

_LOG = logging.getLogger("loancollect.cycle")


class SystemClock:
    """The real clock (UTC); the engine's default. Tests pass a fixed clock."""

    def now(self) -> dt.datetime:
        """The current instant, UTC, time-zone aware."""
        return dt.datetime.now(dt.UTC)

    def today(self, tz: str) -> dt.date:
        """Today's date in the IANA zone ``tz``."""
        import zoneinfo

        return dt.datetime.now(zoneinfo.ZoneInfo(tz)).date()


DEFAULT_LENDER = LenderInfo(
    name="Lender", phone="400-000-0000", how_to_pay="Pay in the lender's app.", address=""
)
"""Placeholder lender details; a real deployment passes its own."""


@attrs.frozen(kw_only=True)
class CycleConfig:
    """How the engine runs.

    :param batch_size: cases per unit of work.
    :param max_attempts: sends tried per action before it fails for good.
    :param retry_backoff: delay before the first retry; doubled each attempt.
    :param dispatch_workers: concurrent sends across channels.
    :param channel_concurrency: most concurrent sends per channel (default 4).
    :param channel_rate: most sends per second per channel (``None``: unlimited).
    :param send_timeout: seconds a send may take before it counts as a retryable failure.
    :param history_days: how far back the contact rules see a loan's events (frequency
        caps and cool-downs look back days or weeks; opt-outs are kept on the case, so
        they count whatever their age). Keeps the cost of a review independent of how
        long a loan has been in collection.
    """

    policy: StagePolicy = DEFAULT_POLICY
    strategy: Strategy | Experiment = DEFAULT_STRATEGY
    assessment: AssessmentConfig = DEFAULT_CONFIG
    lender: LenderInfo = DEFAULT_LENDER
    batch_size: int = 500
    max_attempts: int = 4
    retry_backoff: dt.timedelta = dt.timedelta(minutes=10)
    dispatch_workers: int = 8
    channel_concurrency: Mapping[str, int] = attrs.field(factory=dict)
    channel_rate: Mapping[str, float] = attrs.field(factory=dict)
    send_timeout: float = 30.0
    history_days: int = 400

    def __attrs_post_init__(self) -> None:
        if self.batch_size < 1:
            raise ConfigurationError(f"cycle batch_size={self.batch_size} must be >= 1")
        if self.max_attempts < 1:
            raise ConfigurationError(f"cycle max_attempts={self.max_attempts} must be >= 1")
        if self.history_days < 1:
            raise ConfigurationError(f"cycle history_days={self.history_days} must be >= 1")
        if self.dispatch_workers < 1:
            raise ConfigurationError(f"cycle dispatch_workers={self.dispatch_workers} must be >= 1")


@attrs.frozen
class CycleProblem:
    """Something that went wrong for one loan or action; the cycle went on."""

    loan_id: str
    stage: str  # "review" or "dispatch"
    message: str


@attrs.frozen
class CycleReport:
    """The summary of a run, its id, and the problems met."""

    run_id: str
    as_of: dt.date
    summary: CycleSummary
    problems: tuple[CycleProblem, ...] = ()


_VIOLATION_BLOCK = "blocked"


class _Limiter:
    """Per-channel concurrency and rate limits for dispatch."""

    def __init__(
        self,
        concurrency: Mapping[str, int],
        rates: Mapping[str, float],
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._concurrency = dict(concurrency)
        self._rates = dict(rates)
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._sleep = sleep

    def _semaphore(self, channel: str) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._semaphores.get(channel)
            if sem is None:
                sem = threading.BoundedSemaphore(max(1, self._concurrency.get(channel, 4)))
                self._semaphores[channel] = sem
            return sem

    def _wait_for_rate(self, channel: str) -> None:
        rate = self._rates.get(channel)
        if not rate:
            return
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next_slot.get(channel, now))
            self._next_slot[channel] = slot + 1.0 / rate
        if slot > now:
            self._sleep(slot - now)

    def run(self, channel: str, fn: Callable[[], DeliveryResult]) -> DeliveryResult:
        sem = self._semaphore(channel)
        with sem:
            self._wait_for_rate(channel)
            return fn()


class CollectionEngine:
    """Runs the collection cycle over a storage backend, with plug-ins.

    :param pm: the plug-in manager (``make_plugin_manager()``).
    :param storage: a unit-of-work factory (e.g. ``registry.open_storage(pm, url)``).
    :param clock: the time source (:class:`SystemClock` by default).
    :param channels: channel instances by name; channels not given are built
        from the registered channel specs with ``channel_settings``.
    :param templates: the message templates (built from the registered ones by default);
        validated against the strategy at start-up.
    """

    def __init__(
        self,
        *,
        pm: pluggy.PluginManager,
        storage: UnitOfWorkFactory,
        clock: Clock | None = None,
        config: CycleConfig | None = None,
        channels: Mapping[str, Channel] | None = None,
        channel_settings: Mapping[str, Mapping[str, str]] | None = None,
        templates: TemplateCatalog | None = None,
        locales: Iterable[str] = ("zh_CN", "en_US"),
        validate_templates: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pm = pm
        self.storage = storage
        self.clock: Clock = clock or SystemClock()
        self.config = config or CycleConfig()
        self._channels: dict[str, Channel] = dict(channels or {})
        self._channel_settings = {k: dict(v) for k, v in (channel_settings or {}).items()}
        self._contact_kinds = registry.channel_contact_kinds(pm)
        self.templates = templates or TemplateCatalog.from_plugins(pm)
        if validate_templates:
            rules = _strategy_rules(self.config.strategy)
            self.templates.validate(required_keys(rules, locales))
        from loancollect.builtin.compliance import install

        # The rule packs' guard for loancollect_check_contact; lints the templates.
        self.compliance = install(pm, self.templates, lint=validate_templates)
        self._limiter = _Limiter(
            self.config.channel_concurrency, self.config.channel_rate, monotonic, sleep
        )
        self._channel_lock = threading.Lock()

    # -- the cycle --------------------------------------------------------------
    def run_cycle(
        self, as_of: dt.date, *, run_id: str | None = None, dispatch: bool = True
    ) -> CycleReport:
        """Review every due case for ``as_of``, then dispatch the outbox."""
        run_id = run_id or uuid.uuid4().hex[:12]
        self.pm.hook.loancollect_cycle_started(as_of=as_of, run_id=run_id)
        review = self._review(as_of, None, send_fresh=dispatch)
        summary, problems = review.summary, list(review.problems)
        if dispatch:
            sent = self.dispatch(as_of)
            summary = summary + sent.summary
            problems += sent.problems
        self.pm.hook.loancollect_cycle_finished(as_of=as_of, run_id=run_id, summary=summary)
        return CycleReport(run_id, as_of, summary, tuple(problems))

    def review(
        self, as_of: dt.date, *, on_batch: Callable[[CycleSummary], None] | None = None
    ) -> CycleReport:
        """Decide every case due on ``as_of``, batch by batch; write outbox and events."""
        return self._review(as_of, on_batch, send_fresh=False)

    def _review(
        self,
        as_of: dt.date,
        on_batch: Callable[[CycleSummary], None] | None,
        *,
        send_fresh: bool,
    ) -> CycleReport:
        """The review; with ``send_fresh``, each batch's new actions are sent once it commits.

        Sending a batch's actions right after its commit reuses the loans the review
        has just loaded (a day's sends would otherwise load every loan again) and keeps
        memory bounded by the batch. Only for an outbox that is not shared by claiming
        workers: those claim what they send, so their sends stay in :meth:`dispatch`.
        """
        total = CycleSummary()
        problems: list[CycleProblem] = []
        after: str | None = None
        while True:
            with self.storage() as uow:
                cases_repo = uow.cases
                if isinstance(cases_repo, ClaimingCases):
                    batch = cases_repo.claim_due(as_of, limit=self.config.batch_size)
                else:
                    batch = cases_repo.due_for_review(
                        as_of, limit=self.config.batch_size, after_loan_id=after
                    )
                if not batch:
                    break
                after = batch[-1].loan_id
                fresh: list[tuple[OutboxEntry, Loan, Sequence[Payment]]] | None = (
                    [] if send_fresh and not isinstance(uow.outbox, ClaimingOutbox) else None
                )
                summary, stored, batch_problems = self._review_batch(uow, batch, as_of, fresh)
                problems += batch_problems
                try:
                    uow.commit()
                except Exception as exc:  # the batch is rolled back; its cases stay due
                    _LOG.exception("review batch ending %s failed to commit", after)
                    problems.append(CycleProblem(after, "review", f"batch rolled back: {exc}"))
                    total = total + CycleSummary(errors=len(batch))
                    if isinstance(cases_repo, ClaimingCases):
                        break  # claiming would hand us the same cases again
                    continue
            total = total + summary
            self._notify(stored)
            if fresh:
                sent = self._send_entries(fresh, as_of)
                total = total + sent.summary
                problems += sent.problems
            if on_batch is not None:
                on_batch(summary)
        return CycleReport("", as_of, total, tuple(problems))

    def _review_batch(
        self,
        uow: UnitOfWork,
        batch: Sequence[Case],
        as_of: dt.date,
        fresh: list[tuple[OutboxEntry, Loan, Sequence[Payment]]] | None = None,
    ) -> tuple[CycleSummary, tuple[Event, ...], list[CycleProblem]]:
        at = self.clock.now()
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
                history = uow.events.recent(loan.id, self._history_since(as_of))
                outcome = self._guard(decision, loan, as_of, at, history)
            except Exception as exc:  # one bad case never stops the others
                errors += 1
                problems.append(CycleProblem(case.loan_id, "review", _describe(exc)))
                _LOG.warning("review of %s failed: %s", case.loan_id, _describe(exc))
                continue
            new_case, case_events, allowed, n_blocked, n_rescheduled = outcome
            for action, not_before in allowed:
                added = uow.outbox.add(action, created_on=as_of, not_before=not_before)
                if added and not_before is None and fresh is not None:
                    entry = OutboxEntry(key=action.idempotency_key, action=action, created_on=as_of)
                    fresh.append((entry, loan, payments))
            uow.cases.save(new_case)
            events.extend(case_events)
            reviewed += 1
            changes += decision.transition is not None
            planned += len(allowed)
            blocked += n_blocked
            rescheduled += n_rescheduled
        stored = uow.events.append(events) if events else ()
        summary = CycleSummary(
            reviewed=reviewed,
            stage_changes=changes,
            actions_planned=planned,
            blocked=blocked,
            rescheduled=rescheduled,
            errors=errors,
        )
        return summary, stored, problems

    def _decide(
        self, loan: Loan, payments: Sequence[Payment], case: Case, as_of: dt.date
    ) -> Decision:
        hook = self.pm.hook
        cfg = self.config
        kwargs: dict[str, Any] = {
            "loan": loan,
            "payments": payments,
            "case": case,
            "as_of": as_of,
            "policy": cfg.policy,
            "strategy": cfg.strategy,
            "config": cfg.assessment,
        }
        decision = decide(**kwargs)
        wants_scores = bool(hook.loancollect_score.get_hookimpls())
        wants_segment = bool(hook.loancollect_segment.get_hookimpls())
        if wants_scores or wants_segment:
            scores = decision.scores
            if wants_scores:
                extra = [
                    c
                    for c in hook.loancollect_score(
                        loan=loan, case=case, assessment=decision.assessment, as_of=as_of
                    )
                    if c is not None
                ]
                base = heuristic_contribution(loan, decision.assessment, case, as_of)
                scores = combine([base, *extra])
            segment = hook.loancollect_segment(
                loan=loan, case=case, assessment=decision.assessment, scores=scores, as_of=as_of
            ) or segment_for(loan.borrower.kind, scores)
            decision = decide(**kwargs, scores=scores, segment=segment)
        # Hooks nobody implements are not called: a pluggy call costs more than the
        # check, and a review makes several per case.
        if hook.loancollect_override_stage.get_hookimpls():
            override = hook.loancollect_override_stage(
                loan=loan, case=decision.case, proposed=decision.stage, as_of=as_of
            )
            if override is not None and override != decision.stage:
                decision = self._override(decision, loan, case, override, as_of)
        extra_actions = (
            [
                a
                for result in hook.loancollect_plan_actions(
                    loan=loan, case=decision.case, decision=decision, as_of=as_of
                )
                for a in (result or ())
            ]
            if hook.loancollect_plan_actions.get_hookimpls()
            else []
        )
        extra_offers = (
            [
                o
                for result in hook.loancollect_offer_arrangements(
                    loan=loan, case=decision.case, decision=decision, as_of=as_of
                )
                for o in (result or ())
            ]
            if hook.loancollect_offer_arrangements.get_hookimpls()
            else []
        )
        if extra_actions or extra_offers:
            decision = _with_extras(decision, extra_actions, extra_offers)
        return decision

    def _override(
        self, decision: Decision, loan: Loan, before: Case, stage: str, as_of: dt.date
    ) -> Decision:
        known = set(self.config.policy.names())
        if stage not in known:
            raise ConfigurationError(f"override_stage returned unknown stage {stage!r}")
        case = attrs.evolve(
            decision.case, stage=stage, stage_since=as_of, last_actions=before.last_actions
        )
        transition = Transition(before.stage, stage, as_of, "override by plug-in")
        events = [e for e in decision.events if e.kind is not EventKind.ACTION_PLANNED]
        events = [e for e in events if e.kind is not EventKind.STAGE_CHANGED]
        if stage != before.stage:
            events.append(
                make_event(
                    EventKind.STAGE_CHANGED,
                    loan.id,
                    as_of,
                    data={"previous": before.stage, "current": stage, "reason": transition.reason},
                )
            )
        experiment = (
            self.config.strategy
            if isinstance(self.config.strategy, Experiment)
            else Experiment.single(self.config.strategy)
        )
        variant = experiment.variant(case.variant) or experiment.assign(loan.id)
        actions, _, _ = plan_actions(
            variant.strategy,
            loan=loan,
            case=case,
            assessment=decision.assessment,
            stage=stage,
            segment=decision.segment,
            as_of=as_of,
            variant=variant.name,
            channels=self._contact_kinds,
        )
        for action in actions:
            case = case.with_action(action.rule_id, as_of)
            events.append(_planned_event(action))
        return attrs.evolve(
            decision,
            case=case,
            stage=stage,
            transition=transition if stage != before.stage else None,
            actions=actions,
            events=tuple(events),
        )

    def _guard(
        self,
        decision: Decision,
        loan: Loan,
        as_of: dt.date,
        at: dt.datetime,
        history: tuple[Event, ...],
    ) -> tuple[Case, list[Event], list[tuple[PlannedAction, dt.datetime | None]], int, int]:
        """Check every action; return the case, events, the actions to write and counts."""
        events = list(decision.events)
        allowed: list[tuple[PlannedAction, dt.datetime | None]] = []
        blocked = rescheduled = 0
        for action in decision.actions:
            violations = self._violations(action, loan, decision.case, as_of, at, history)
            if not violations:
                allowed.append((action, None))
                continue
            reasons, citations = _reasons(violations)
            if all(v.reschedule_at is not None for v in violations):
                when = max(v.reschedule_at for v in violations if v.reschedule_at is not None)
                allowed.append((action, when))
                rescheduled += 1
                events.append(
                    make_event(
                        EventKind.ACTION_RESCHEDULED,
                        loan.id,
                        as_of,
                        data={
                            "key": action.idempotency_key,
                            "channel": action.channel,
                            "not_before": when.isoformat(),
                            "reasons": reasons,
                            "citations": citations,
                        },
                    )
                )
            else:
                blocked += 1
                events.append(
                    make_event(
                        EventKind.ACTION_BLOCKED,
                        loan.id,
                        as_of,
                        data={
                            "key": action.idempotency_key,
                            "channel": action.channel,
                            "rule": action.rule_id,
                            "reasons": reasons,
                            "citations": citations,
                        },
                    )
                )
        return decision.case, events, allowed, blocked, rescheduled

    def _history_since(self, as_of: dt.date) -> dt.date:
        """The first business date of the history the contact rules see."""
        return as_of - dt.timedelta(days=self.config.history_days)

    def _violations(
        self,
        action: PlannedAction,
        loan: Loan,
        case: Case,
        as_of: dt.date,
        at: dt.datetime,
        history: tuple[Event, ...],
    ) -> list[ContactViolation]:
        """Every plug-in's objections to sending ``action`` at ``at``."""
        return [
            v
            for result in self.pm.hook.loancollect_check_contact(
                action=action, loan=loan, case=case, as_of=as_of, at=at, history=history
            )
            for v in (result or ())
        ]

    # -- dispatch -----------------------------------------------------------------
    def channel(self, name: str) -> Channel:
        """The channel called ``name`` (built from its registered spec on first use)."""
        with self._channel_lock:
            found = self._channels.get(name)
            if found is None:
                found = registry.make_channel(self.pm, name, self._channel_settings.get(name))
                self._channels[name] = found
            return found

    def dispatch(self, as_of: dt.date, *, limit: int | None = None) -> CycleReport:
        """Send open outbox entries (due now), concurrently within the configured bounds."""
        total = CycleSummary()
        problems: list[CycleProblem] = []
        done = 0
        seen: set[str] = set()
        # Entries a re-check at send time moved to a later instant: key -> (when, reasons).
        deferred: dict[str, tuple[dt.datetime, str, str]] = {}
        while limit is None or done < limit:
            size = (
                self.config.batch_size
                if limit is None
                else min(self.config.batch_size, limit - done)
            )
            now = self.clock.now()
            with self.storage() as uow:
                outbox = uow.outbox
                if isinstance(outbox, ClaimingOutbox):
                    entries = outbox.claim_pending(limit=size, now=now)
                else:
                    entries = outbox.pending(limit=size, now=now)
                if not entries:
                    break
                prepared = [self._prepare(uow, e, as_of, deferred) for e in entries]
            # Sends happen outside any transaction (no locks held during network I/O);
            # a claiming backend has leased the entries to this worker meanwhile.
            summary, batch_problems = self._send_and_record(prepared, as_of, deferred)
            total = total + summary
            problems += batch_problems
            done += len(entries)
            keys = {e.key for e in entries}
            if keys <= seen:
                break  # a backend offering the same entries again: stop rather than spin
            seen |= keys
        return CycleReport("", as_of, total, tuple(problems))

    def _send_and_record(
        self,
        prepared: Sequence[tuple[OutboxEntry, Callable[[], DeliveryResult] | None, str | None]],
        as_of: dt.date,
        deferred: Mapping[str, tuple[dt.datetime, str, str]],
    ) -> tuple[CycleSummary, list[CycleProblem]]:
        """Send prepared entries, then record the results in one unit of work."""
        results = self._send_all(prepared)
        with self.storage() as uow:
            summary, batch_events, problems = self._record(uow, results, as_of, deferred)
            stored = uow.events.append(batch_events) if batch_events else ()
            uow.commit()
        self._notify(stored)
        return summary, problems

    def _send_entries(
        self, fresh: Sequence[tuple[OutboxEntry, Loan, Sequence[Payment]]], as_of: dt.date
    ) -> CycleReport:
        """Send actions planned (and committed) just now, with the loans already loaded."""
        deferred: dict[str, tuple[dt.datetime, str, str]] = {}
        assessments: dict[str, Assessment] = {}
        prepared = []
        for entry, loan, payments in fresh:
            assessment = assessments.get(loan.id)
            if assessment is None:
                assessment = assess(loan, payments, as_of, config=self.config.assessment)
                assessments[loan.id] = assessment
            prepared.append(self._prepare_loaded(entry, loan, assessment, as_of, None, deferred))
        summary, problems = self._send_and_record(prepared, as_of, deferred)
        return CycleReport("", as_of, summary, tuple(problems))

    def _prepare(
        self,
        uow: UnitOfWork,
        entry: OutboxEntry,
        as_of: dt.date,
        deferred: dict[str, tuple[dt.datetime, str, str]],
    ) -> tuple[OutboxEntry, Callable[[], DeliveryResult] | None, str | None]:
        """Load the entry's loan and prepare it (see :meth:`_prepare_loaded`)."""
        loan = uow.loans.get(entry.action.loan_id)
        if loan is None:
            return entry, None, "loan no longer in storage"
        assessment = assess(
            loan, uow.loans.payments_for(loan.id), as_of, config=self.config.assessment
        )
        return self._prepare_loaded(entry, loan, assessment, as_of, uow, deferred)

    def _prepare_loaded(
        self,
        entry: OutboxEntry,
        loan: Loan,
        assessment: Assessment,
        as_of: dt.date,
        uow: UnitOfWork | None,
        deferred: dict[str, tuple[dt.datetime, str, str]],
    ) -> tuple[OutboxEntry, Callable[[], DeliveryResult] | None, str | None]:
        """Render the message; return a send thunk, or a reason to cancel.

        An entry that waited (rescheduled, retried or planned on an earlier day) is
        checked again against the contact rules at the instant of sending: it is
        moved to a later instant (recorded in ``deferred``, no thunk, no reason) or
        cancelled with the reasons. ``uow`` is ``None`` only for an entry planned in
        this run's review a moment ago, which was checked then.
        """
        action = entry.action
        if assessment.is_paid_off or (
            action.stage != "pre_delinquency"
            and not assessment.amount_due.is_positive()
            and action.stage not in ("in_arrangement", "cured")
        ):
            return entry, None, "nothing due any more"
        if uow is not None and (entry.next_attempt_at is not None or entry.created_on != as_of):
            violations = self._violations(
                action,
                loan,
                uow.cases.get(loan.id) or Case(loan_id=loan.id),
                as_of,
                self.clock.now(),
                uow.events.recent(loan.id, self._history_since(as_of)),
            )
            if violations:
                reasons, citations = _reasons(violations)
                if all(v.reschedule_at is not None for v in violations):
                    when = max(v.reschedule_at for v in violations if v.reschedule_at)
                    deferred[entry.key] = (when, reasons, citations)
                    return entry, None, None
                return entry, None, f"blocked: {reasons}"
        try:
            message = self.templates.render(
                action, message_context(loan, assessment, action, self.config.lender)
            )
            channel = self.channel(action.channel)
            if CAP_STATEMENT in channel.capabilities:
                statement = statement_of_account(loan, assessment, self.config.lender)
                message = attrs.evolve(message, statement=statement)
        except LoanCollectError as exc:
            return entry, _failing(str(exc)), None
        key = entry.key

        def send() -> DeliveryResult:
            return channel.send(action, message, key)

        return entry, send, None

    def _send_all(
        self,
        prepared: Sequence[tuple[OutboxEntry, Callable[[], DeliveryResult] | None, str | None]],
    ) -> list[tuple[OutboxEntry, DeliveryResult | None, str | None]]:
        def one(
            item: tuple[OutboxEntry, Callable[[], DeliveryResult] | None, str | None],
        ) -> tuple[OutboxEntry, DeliveryResult | None, str | None]:
            entry, thunk, cancel = item
            if thunk is None:
                return entry, None, cancel
            try:
                return entry, self._limiter.run(entry.action.channel, thunk), None
            except Exception as exc:  # a channel that raises fails only this action
                return (
                    entry,
                    DeliveryResult.failed_retryable(f"channel raised: {_describe(exc)}"),
                    None,
                )

        if len(prepared) <= 1 or self.config.dispatch_workers == 1:
            return [one(p) for p in prepared]
        with ThreadPoolExecutor(max_workers=self.config.dispatch_workers) as pool:
            futures = [pool.submit(one, p) for p in prepared]
            out = []
            for p, fut in zip(prepared, futures, strict=True):
                try:
                    out.append(fut.result(timeout=self.config.send_timeout))
                except Exception as exc:  # timed out: retry later (idempotency keeps it single)
                    out.append(
                        (
                            p[0],
                            DeliveryResult.failed_retryable(f"send timed out: {_describe(exc)}"),
                            None,
                        )
                    )
            return out

    def _record(
        self,
        uow: UnitOfWork,
        results: Sequence[tuple[OutboxEntry, DeliveryResult | None, str | None]],
        as_of: dt.date,
        deferred: Mapping[str, tuple[dt.datetime, str, str]],
    ) -> tuple[CycleSummary, list[Event], list[CycleProblem]]:
        now = self.clock.now()
        events: list[Event] = []
        problems: list[CycleProblem] = []
        sent = failed = 0
        batch_sent: list[tuple[str, DeliveryResult]] | None = (
            [] if isinstance(uow.outbox, BatchMarkingOutbox) else None
        )
        for entry, result, cancel in results:
            action = entry.action
            base = {"key": entry.key, "channel": action.channel, "rule": action.rule_id}
            if result is None:
                if entry.key in deferred:
                    when, reasons, citations = deferred[entry.key]
                    uow.outbox.mark_failed(
                        entry.key, f"rescheduled: {reasons}", retry_at=when, attempts=entry.attempts
                    )
                    events.append(
                        make_event(
                            EventKind.ACTION_RESCHEDULED,
                            action.loan_id,
                            as_of,
                            at=now,
                            data={
                                **base,
                                "not_before": when.isoformat(),
                                "reasons": reasons,
                                "citations": citations,
                            },
                        )
                    )
                    continue
                uow.outbox.cancel(entry.key, cancel or "cancelled")
                if cancel and cancel.startswith("blocked: "):
                    events.append(
                        make_event(
                            EventKind.ACTION_BLOCKED,
                            action.loan_id,
                            as_of,
                            at=now,
                            data={**base, "reasons": cancel.removeprefix("blocked: ")},
                        )
                    )
                continue
            attempts = entry.attempts + 1
            if result.status is DeliveryStatus.SENT:
                if batch_sent is None:
                    uow.outbox.mark_sent(entry.key, result, at=now)
                else:
                    batch_sent.append((entry.key, result))
                sent += 1
                events.append(
                    make_event(
                        EventKind.ACTION_SENT,
                        action.loan_id,
                        as_of,
                        at=now,
                        data={
                            **base,
                            "provider_id": result.provider_id or "",
                            "attempts": attempts,
                            # what the compliance history counts: number (masked) and place
                            "contact": action.contact.masked if action.contact else "",
                            "place": action.contact.label if action.contact else "",
                            **{f"evidence.{k}": v for k, v in result.evidence},
                        },
                    )
                )
                continue
            retry = (
                result.status is DeliveryStatus.FAILED_RETRYABLE
                and attempts < self.config.max_attempts
            )
            retry_at = now + self.config.retry_backoff * (2 ** (attempts - 1)) if retry else None
            uow.outbox.mark_failed(
                entry.key,
                result.detail or result.status.value,
                retry_at=retry_at,
                attempts=attempts,
                result=result,
            )
            events.append(
                make_event(
                    EventKind.ACTION_FAILED,
                    action.loan_id,
                    as_of,
                    at=now,
                    data={
                        **base,
                        "status": result.status.value,
                        "detail": result.detail,
                        "attempts": attempts,
                        "retry_at": retry_at.isoformat() if retry_at else "",
                    },
                )
            )
            if retry:
                continue
            failed += 1
            problems.append(
                CycleProblem(action.loan_id, "dispatch", f"{entry.key}: {result.detail}")
            )
            if action.fallbacks:
                nxt = action.fallbacks[0]
                fallback = attrs.evolve(
                    action,
                    channel=nxt,
                    fallbacks=action.fallbacks[1:],
                    idempotency_key=f"{entry.key}>{nxt}",
                    contact=_contact_for(uow, action, nxt, self._contact_kinds),
                )
                uow.outbox.add(fallback, created_on=entry.created_on)
                events.append(
                    make_event(
                        EventKind.ACTION_PLANNED,
                        action.loan_id,
                        as_of,
                        data={
                            "rule": action.rule_id,
                            "channel": nxt,
                            "key": fallback.idempotency_key,
                            "template": action.template,
                            "fallback_of": entry.key,
                        },
                    )
                )
        if batch_sent and isinstance(uow.outbox, BatchMarkingOutbox):
            uow.outbox.mark_sent_many(batch_sent, at=now)
        return CycleSummary(sent=sent, failed=failed), events, problems

    # -- ingestion ------------------------------------------------------------------
    def add_loans(self, loans: Iterable[Loan], *, review_on: dt.date) -> int:
        """Add (or replace) loans and open their cases, first reviewed on ``review_on``."""
        count = 0
        with self.storage() as uow:
            for loan in loans:
                uow.loans.add(loan)
                existing = uow.cases.get(loan.id)
                if existing is None:
                    uow.cases.save(Case(loan_id=loan.id, next_review_date=review_on))
                    count += 1
            uow.commit()
        return count

    def record_payment(self, payment: Payment) -> None:
        """Store a payment, record it as an event and bring the case's review forward."""

        def change(uow: UnitOfWork, case: Case) -> Case:
            uow.loans.add_payment(payment)
            return case.reviewed_by(payment.value_date)

        self._ingest(
            payment.loan_id,
            change,
            make_event(
                EventKind.PAYMENT_RECEIVED,
                payment.loan_id,
                payment.value_date,
                at=payment.received_at,
                data={
                    "payment": payment.id,
                    "amount": payment.amount.amount,
                    "currency": payment.amount.currency,
                },
            ),
        )

    def record_outcome(
        self, loan_id: str, outcome: ContactOutcome, *, at: dt.datetime | None = None
    ) -> None:
        """Record a call or visit outcome (right-party contact, refused, wrong number …)."""

        def change(uow: UnitOfWork, case: Case) -> Case:
            updated = case.with_contact(outcome)
            if outcome.outcome is OutcomeKind.DISPUTE_RAISED:
                # A dispute holds collection until it is resolved (release_hold).
                updated = updated.with_hold(
                    Hold(HoldKind.DISPUTE, outcome.on, None, "dispute raised")
                )
            return updated

        self._ingest(
            loan_id,
            change,
            make_event(
                EventKind.CONTACT_OUTCOME,
                loan_id,
                outcome.on,
                at=at,
                data={"channel": outcome.channel, "outcome": outcome.outcome, "note": outcome.note},
            ),
        )

    def record_arrangement(self, loan_id: str, arrangement: Any) -> None:
        """Record a promise, plan, waiver, grace period or settlement made with the borrower."""
        kind = (
            EventKind.PROMISE_MADE
            if arrangement.kind.value == "promise"
            else EventKind.ARRANGEMENT_MADE
        )
        data = {"arrangement": arrangement.id, "type": arrangement.kind.value}
        amount = getattr(arrangement, "amount", None)
        if amount is not None:
            data["amount"] = str(amount.amount)
        self._ingest(
            loan_id,
            lambda uow, case: case.with_arrangement(arrangement),
            make_event(kind, loan_id, arrangement.made_on, data=data),
        )

    def record_opt_out(
        self, loan_id: str, channel: str, on: dt.date, *, at: dt.datetime | None = None
    ) -> None:
        """Record that the borrower opted out of a channel (rule packs honour it).

        The opt-out is also kept on the case (flag ``opt_out:<channel>:<date>``), so it
        counts however long ago it was made.
        """
        self._ingest(
            loan_id,
            lambda uow, case: attrs.evolve(
                case, flags=case.flags | {f"opt_out:{channel}:{on.isoformat()}"}
            ).reviewed_by(on),
            make_event(EventKind.OPT_OUT, loan_id, on, at=at, data={"channel": channel}),
        )

    def record_delivery_receipt(
        self,
        key: str,
        status: DeliveryStatus,
        on: dt.date,
        *,
        at: dt.datetime | None = None,
        detail: str = "",
        provider_id: str | None = None,
    ) -> None:
        """Record a provider's delivery receipt for the action sent under ``key``.

        Appends a ``DELIVERY_RECEIPT`` event (key, channel, status, detail,
        provider id) to the loan's stream; the outbox entry keeps its result.

        :raises ValidationError: if no action was planned under ``key``.
        """
        with self.storage() as uow:
            entry = uow.outbox.get(key)
        if entry is None:
            raise ValidationError("outbox.key", key, "no action was planned under this key")
        action = entry.action
        data = {
            "key": key,
            "channel": action.channel,
            "status": status.value,
            "detail": detail,
            "provider_id": provider_id or "",
        }
        self._ingest(
            action.loan_id,
            lambda uow, case: case,
            make_event(EventKind.DELIVERY_RECEIPT, action.loan_id, on, at=at, data=data),
        )

    def place_hold(self, loan_id: str, hold: Hold) -> None:
        """Hold escalation and contact (dispute, bankruptcy, breathing space …)."""
        data: dict[str, object] = {"hold": hold.kind, "start": hold.start, "reason": hold.reason}
        if hold.end is not None:
            data["end"] = hold.end
        self._ingest(
            loan_id,
            lambda uow, case: case.with_hold(hold),
            make_event(EventKind.HOLD_PLACED, loan_id, hold.start, data=data),
        )

    def release_hold(self, loan_id: str, kind: Any, on: dt.date) -> None:
        """Lift the holds of ``kind`` from ``on``: contact and escalation resume that day."""

        def change(uow: UnitOfWork, case: Case) -> Case:
            # Lifted on ``on``: the hold's last day is the day before (a hold released
            # on or before its first day never took effect and is dropped).
            holds = []
            for h in case.holds:
                if h.kind is not kind or (h.end is not None and h.end < on):
                    holds.append(h)
                elif h.start < on:
                    holds.append(attrs.evolve(h, end=on - dt.timedelta(days=1)))
            return attrs.evolve(case, holds=tuple(holds)).reviewed_by(on)

        self._ingest(
            loan_id, change, make_event(EventKind.HOLD_RELEASED, loan_id, on, data={"hold": kind})
        )

    def _ingest(
        self, loan_id: str, change: Callable[[UnitOfWork, Case], Case], event: Event
    ) -> None:
        with self.storage() as uow:
            case = uow.cases.get(loan_id)
            if case is None:
                raise ValidationError("loan_id", loan_id, "no case for this loan")
            uow.cases.save(change(uow, case))
            stored = uow.events.append([event])
            uow.commit()
        self._notify(stored)

    def _notify(self, events: Iterable[Event]) -> None:
        if not self.pm.hook.loancollect_on_event.get_hookimpls():
            return
        for event in events:
            try:
                self.pm.hook.loancollect_on_event(event=event)
            except Exception:  # an observer that raises never undoes what is stored
                _LOG.exception("loancollect_on_event failed for %s", event.kind.value)


def _strategy_rules(strategy: Strategy | Experiment) -> list[Any]:
    if isinstance(strategy, Experiment):
        return [rule for v in strategy.variants for rule in v.strategy.actions]
    return list(strategy.actions)


def _planned_event(action: PlannedAction) -> Event:
    return make_event(
        EventKind.ACTION_PLANNED,
        action.loan_id,
        action.as_of,
        data={
            "rule": action.rule_id,
            "channel": action.channel,
            "key": action.idempotency_key,
            "template": action.template,
        },
    )


def _with_extras(
    decision: Decision, actions: Sequence[PlannedAction], offers: Sequence[Offer]
) -> Decision:
    known = {a.idempotency_key for a in decision.actions}
    new_actions = [a for a in actions if a.idempotency_key not in known]
    events = list(decision.events) + [_planned_event(a) for a in new_actions]
    case = decision.case
    for a in new_actions:
        case = case.with_action(a.rule_id, a.as_of)
    return attrs.evolve(
        decision,
        case=case,
        actions=(*decision.actions, *new_actions),
        offers=(*decision.offers, *offers),
        events=tuple(events),
    )


def _contact_for(
    uow: UnitOfWork, action: PlannedAction, channel: str, kinds: Mapping[str, Any]
) -> Any:
    kind = kinds.get(channel)
    if kind is None:
        return None
    loan = uow.loans.get(action.loan_id)
    points = loan.borrower.contacts(kind) if loan is not None else ()
    return points[0] if points else None


def _failing(detail: str) -> Callable[[], DeliveryResult]:
    def send() -> DeliveryResult:
        return DeliveryResult.failed_permanent(detail)

    return send


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _reasons(violations: Sequence[ContactViolation]) -> tuple[str, str]:
    """``(reasons, citations)`` of violations, as recorded in events."""
    reasons = "; ".join(f"{v.rule_id}: {v.detail}" for v in violations)
    citations = "; ".join(sorted({v.citation for v in violations if v.citation}))
    return reasons, citations
