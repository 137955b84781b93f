"""Dispatch: render, rate-limit, send, record, retry and fall back.

An outbox entry is sent outside any transaction (no lock is held during network
I/O) and its result is recorded in a unit of work right after: sent, failed with
a retry at an exponentially growing delay, failed for good (then the action's
next fallback channel is planned), or cancelled (nothing due any more, or the
rules forbid it now). An entry that waited — a retry, a rescheduled action, an
earlier day's plan — is judged again by the :class:`~loancollect.engine.guard.Guard`
at the instant of sending.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs
import pluggy

from loancollect import registry
from loancollect.domain.case import Case
from loancollect.domain.errors import LoanCollectError
from loancollect.domain.events import ActionFailed, ActionPlanned, ActionSent, Event, new_event
from loancollect.domain.loans import ContactKind, ContactPoint, Loan
from loancollect.domain.overdue import Assessment, assess
from loancollect.domain.strategy import PlannedAction
from loancollect.engine.clock import aware_now
from loancollect.engine.config import CycleConfig, CycleProblem, CycleReport, Step
from loancollect.engine.guard import Guard, Verdict, VerdictKind
from loancollect.ports import (
    CAP_IDEMPOTENT,
    CAP_INLINE,
    CAP_POLL,
    CAP_STATEMENT,
    CAP_VISIT_NOTICE,
    BatchMarkingOutbox,
    Channel,
    ClaimingOutbox,
    Clock,
    DeliveryResult,
    DeliveryStatus,
    OutboxEntry,
    PollingChannel,
    UnitOfWork,
    UnitOfWorkFactory,
)
from loancollect.registry import CycleSummary
from loancollect.templates import TemplateCatalog, message_context, statement_of_account

__all__ = ["ChannelBook", "Dispatcher", "Loaded"]

_LOG = logging.getLogger("loancollect.engine.dispatch")

NOTHING_DUE = "nothing due any more"
NO_LOAN = "loan no longer in storage"
# Stages whose messages are sent with nothing overdue (a reminder before the due
# date, an arrangement's instalment notice, a cure confirmation).
_SENT_WITHOUT_ARREARS = frozenset({"pre_delinquency", "in_arrangement", "cured"})


class ChannelBook:
    """Channel instances by name, built from their registered specs on first use.

    :param channels: instances the host built itself (tests, custom wiring).
    :param settings: string settings per channel name for the registered factories.
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        channels: Mapping[str, Channel] | None = None,
        settings: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._pm = pm
        self._channels: dict[str, Channel] = dict(channels or {})
        self._settings = {k: dict(v) for k, v in (settings or {}).items()}
        self._lock = threading.Lock()
        self.contact_kinds: dict[str, ContactKind | None] = registry.channel_contact_kinds(pm)
        """The contact point kind each registered channel needs."""

    def get(self, name: str) -> Channel:
        """The channel called ``name``."""
        with self._lock:
            found = self._channels.get(name)
            if found is None:
                found = registry.make_channel(self._pm, name, self._settings.get(name))
                self._channels[name] = found
            return found

    def declaring(self, capability: str, names: Iterable[str]) -> frozenset[str]:
        """Those of ``names`` (and of the instances the host built) whose channel declares
        ``capability``. A registered channel that cannot be built (its settings are
        missing) declares nothing: it could not send anyway."""
        with self._lock:
            candidates = set(self._channels) | set(names)
        found = set()
        for name in sorted(candidates):
            try:
                channel = self.get(name)
            except Exception as exc:  # an unbuildable channel gives nothing (fail closed)
                _LOG.debug("channel %r not built to read its capabilities: %s", name, exc)
                continue
            if capability in channel.capabilities:
                found.add(name)
        return frozenset(found)


@attrs.frozen
class Loaded:
    """An outbox entry with what its send needs: the loan, its assessment, the case
    and the history the rules judge it with."""

    entry: OutboxEntry
    loan: Loan
    assessment: Assessment
    case: Case
    history: tuple[Event, ...]


@attrs.frozen
class _Prepared:
    """An entry ready to send, or the reason it is not sent now.

    :param send: delivers the rendered message through its channel.
    :param judge: asks the rules about sending at an instant; called immediately
        before ``send``, so every contact is judged at the instant it is made.
    :param reconcile: for an entry whose last send's outcome is unknown, asks the
        channel what became of it before anything is sent again.
    :param failure: why the entry could not be prepared (a template that does not
        render, an unknown channel, a loan that cannot be assessed): recorded as its
        result without sending; it fails this entry only.
    :param deduplicates: the channel answers a repeated key with its first result
        (across restarts); otherwise the send is recorded before the next starts.
    :param inline: the channel does no I/O (:data:`~loancollect.ports.CAP_INLINE`):
        sent in the dispatching thread, without a deadline thread.
    :param visit_notice: the channel delivers a visit action's message as the visit's
        written notice (:data:`~loancollect.ports.CAP_VISIT_NOTICE`): its
        ``ACTION_SENT`` records that notice.
    """

    entry: OutboxEntry
    send: Callable[[], DeliveryResult] | None = None
    judge: Callable[[dt.datetime], Verdict] | None = None
    reconcile: Callable[[], DeliveryResult | None] | None = None
    cancel: str | None = None
    failure: DeliveryResult | None = None
    deduplicates: bool = True  # the channel answers a repeated key with its first result
    inline: bool = False
    visit_notice: bool = False


@attrs.frozen
class _Outcome:
    """What came of a prepared entry.

    :param result: the delivery result (``None``: nothing was sent).
    :param verdict: the rules' verdict at the instant of sending, when not allowed.
    :param problem: why the entry was left as it was (it could not be judged).
    """

    prepared: _Prepared
    result: DeliveryResult | None = None
    verdict: Verdict | None = None
    problem: str = ""


class _Limiter:
    """Per-channel concurrency and rate limits."""

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
        with self._semaphore(channel):
            self._wait_for_rate(channel)
            return fn()


class Dispatcher:
    """Sends outbox entries through their channels and records what came of them."""

    def __init__(
        self,
        *,
        storage: UnitOfWorkFactory,
        clock: Clock,
        config: CycleConfig,
        channels: ChannelBook,
        templates: TemplateCatalog,
        guard: Guard,
        notify: Callable[[Sequence[Event]], None],
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._config = config
        self._channels = channels
        self._templates = templates
        self._guard = guard
        self._notify = notify
        self._limiter = _Limiter(config.channel_concurrency, config.channel_rate, monotonic, sleep)

    # -- the two ways in -----------------------------------------------------------
    def dispatch(self, as_of: dt.date, *, limit: int | None = None) -> CycleReport:
        """Send open outbox entries (due now), concurrently within the configured bounds."""
        total = CycleReport("", as_of, CycleSummary())
        done = 0
        seen: set[str] = set()
        while limit is None or done < limit:
            size = (
                self._config.batch_size
                if limit is None
                else min(self._config.batch_size, limit - done)
            )
            with self._storage() as uow:
                outbox = uow.outbox
                now = aware_now(self._clock)
                if isinstance(outbox, ClaimingOutbox):
                    entries = outbox.claim_pending(limit=size, now=now)
                else:
                    entries = outbox.pending(limit=size, now=now)
                if not entries:
                    break
                prepared = [self._prepare_safely(uow, e, as_of) for e in entries]
            total = total + self._send_and_record(prepared, as_of)
            done += len(entries)
            keys = {e.key for e in entries}
            if keys <= seen:
                break  # a backend offering the same entries again: stop rather than spin
            seen |= keys
        return total

    def send_planned(self, planned: Sequence[Loaded], as_of: dt.date) -> CycleReport:
        """Send actions the review planned (and committed) a moment ago.

        The review has loaded their loans, assessed them and read their history, so
        nothing is loaded or assessed again; the rules are asked again at the
        instant each one is sent.
        """
        prepared = []
        for p in planned:
            try:
                prepared.append(self._prepare(p.entry, p.loan, p.assessment, self._judge(p, as_of)))
            except Exception as exc:  # a poison record never stops the others
                detail = f"could not be prepared: {_describe(exc)}"
                failed = _Prepared(p.entry, failure=DeliveryResult.failed_permanent(detail))
                prepared.append(failed)
        return self._send_and_record(prepared, as_of)

    # -- prepare -----------------------------------------------------------------------
    def _judge(self, loaded: Loaded, as_of: dt.date) -> Callable[[dt.datetime], Verdict]:
        guard, action = self._guard, loaded.entry.action

        def judge(at: dt.datetime) -> Verdict:
            return guard.judge(
                action, loaded.loan, loaded.case, as_of=as_of, at=at, history=loaded.history
            )

        return judge

    def _prepare_safely(self, uow: UnitOfWork, entry: OutboxEntry, as_of: dt.date) -> _Prepared:
        """:meth:`_prepare_stored`, where anything that goes wrong fails this entry only."""
        try:
            return self._prepare_stored(uow, entry, as_of)
        except Exception as exc:  # a poison record never stops the others
            _LOG.warning("outbox entry %s could not be prepared: %s", entry.key, _describe(exc))
            detail = f"could not be prepared: {_describe(exc)}"
            return _Prepared(entry, failure=DeliveryResult.failed_permanent(detail))

    def _prepare_stored(self, uow: UnitOfWork, entry: OutboxEntry, as_of: dt.date) -> _Prepared:
        """Load an entry's loan, case and history, and prepare it."""
        action = entry.action
        loan = uow.loans.get(action.loan_id)
        if loan is None:
            return _Prepared(entry, cancel=NO_LOAN)
        assessment = assess(
            loan, uow.loans.payments_for(loan.id), as_of, config=self._config.assessment
        )
        loaded = Loaded(
            entry,
            loan,
            assessment,
            case=uow.cases.get(loan.id) or Case(loan_id=loan.id),
            history=self._guard.rules.history(uow, loan.id, as_of),
        )
        prepared = self._prepare(entry, loan, assessment, self._judge(loaded, as_of))
        last = entry.result
        if prepared.send is not None and last is not None and last.status is DeliveryStatus.UNKNOWN:
            channel = self._channels.get(action.channel)
            if isinstance(channel, PollingChannel) and CAP_POLL in channel.capabilities:
                key = entry.key
                return attrs.evolve(prepared, reconcile=lambda: channel.poll(key))
        return prepared

    def _prepare(
        self,
        entry: OutboxEntry,
        loan: Loan,
        assessment: Assessment,
        judge: Callable[[dt.datetime], Verdict],
    ) -> _Prepared:
        """Render the entry's message and bind the send (or say why it is not sent)."""
        action = entry.action
        if _nothing_due(action, assessment):
            return _Prepared(entry, cancel=NOTHING_DUE)
        lender = self._config.lender_for(loan.product, action.locale)
        try:
            message = self._templates.render(
                action, message_context(loan, assessment, action, lender)
            )
            channel = self._channels.get(action.channel)
            if CAP_STATEMENT in channel.capabilities:
                statement = statement_of_account(loan, assessment, lender)
                message = attrs.evolve(message, statement=statement)
        except LoanCollectError as exc:
            return _Prepared(entry, failure=DeliveryResult.failed_permanent(str(exc)))
        key = entry.key

        def send() -> DeliveryResult:
            return channel.send(action, message, key)

        capabilities = channel.capabilities
        return _Prepared(
            entry,
            send=send,
            judge=judge,
            deduplicates=CAP_IDEMPOTENT in capabilities,
            inline=CAP_INLINE in capabilities,
            visit_notice=CAP_VISIT_NOTICE in capabilities,
        )

    # -- send ---------------------------------------------------------------------------
    def _send_and_record(self, prepared: Sequence[_Prepared], as_of: dt.date) -> CycleReport:
        """Send prepared entries and record their results durably.

        Entries for channels that de-duplicate by key go out concurrently and are
        recorded together (re-sending one after a crash is answered by the channel
        with its first result). An entry for a channel that cannot de-duplicate is
        sent alone and its result committed before the next send starts, so a crash
        re-sends at most the one message that was in flight. The batch's order is
        kept.
        """
        report = CycleReport("", as_of, CycleSummary())
        group: list[_Prepared] = []
        for p in prepared:
            if p.send is not None and not p.deduplicates:
                if group:
                    report = report + self._record_all(self._send_all(group), as_of)
                    group = []
                report = report + self._record_all(self._send_all([p]), as_of)
            else:
                group.append(p)
        if group:
            report = report + self._record_all(self._send_all(group), as_of)
        return report

    def _record_all(self, outcomes: Sequence[_Outcome], as_of: dt.date) -> CycleReport:
        """Record ``outcomes`` in one unit of work, then announce the events."""
        with self._storage() as uow:
            report, events = self._record(uow, outcomes, as_of)
            stored = uow.events.append(events) if events else ()
            uow.commit()
        self._notify(stored)
        return report

    def _send_one(self, p: _Prepared) -> _Outcome:
        """Judge ``p`` at this instant and, if allowed, send it (or reconcile it first)."""
        if p.send is None or p.judge is None:
            return _Outcome(p)
        try:
            verdict = p.judge(aware_now(self._clock))
        except LoanCollectError as exc:  # cannot be judged (a naive clock): do not contact
            return _Outcome(p, problem=f"not sent, could not be judged: {exc}")
        if not verdict.allowed:
            return _Outcome(p, verdict=verdict)
        try:
            if p.reconcile is not None:
                known = p.reconcile()
                if known is not None:
                    return _Outcome(p, known)  # the earlier send's real outcome
            return _Outcome(p, self._limiter.run(p.entry.action.channel, p.send))
        except Exception as exc:  # a channel that raises fails only this action
            return _Outcome(p, DeliveryResult.failed_retryable(f"channel raised: {_describe(exc)}"))

    def _send_all(self, prepared: Sequence[_Prepared]) -> list[_Outcome]:
        """Send within the deadlines: ``send_timeout`` a send, ``batch_timeout`` a batch.

        Each send runs in a daemon thread, at most ``dispatch_workers`` at once. A send
        that overruns its deadline is abandoned (its outcome is unknown; a late answer
        is ignored) and its place goes to the next, so a channel that hangs never holds
        up the cycle or the process's exit. Sends not started when the batch's deadline
        passes are left in the outbox, untouched, for the next run. A ``SystemExit`` or
        ``KeyboardInterrupt`` raised by a send stops the run as if the process had died.

        Entries for channels that do no I/O (:data:`~loancollect.ports.CAP_INLINE`) are
        sent first, in batch order, in this thread: a thread per send would cost more
        than the send. They too are judged at the instant of sending, and are left in
        the outbox once the batch's deadline has passed.
        """
        cfg = self._config
        now = time.monotonic  # deadlines are real time, whatever clock the limiter is given
        batch_deadline = now() + cfg.batch_timeout
        results: list[_Outcome | None] = [None] * len(prepared)
        fatal: list[BaseException] = []
        changed = threading.Condition()
        finished: set[int] = set()
        abandoned: set[int] = set()

        def run(index: int) -> None:
            outcome: _Outcome | None = None
            try:
                outcome = self._send_one(prepared[index])
            except BaseException as exc:  # SystemExit, KeyboardInterrupt: the run stops
                fatal.append(exc)
            with changed:
                if index not in abandoned:
                    results[index] = outcome
                finished.add(index)
                changed.notify_all()

        waiting: deque[int] = deque()
        for index, p in enumerate(prepared):
            if p.failure is not None:
                results[index] = _Outcome(p, p.failure)
            elif p.send is None:
                results[index] = _Outcome(p)
            elif p.inline:
                if now() >= batch_deadline:
                    results[index] = _Outcome(p, problem="not sent: the batch's deadline passed")
                else:
                    results[index] = self._send_one(p)
            else:
                waiting.append(index)
        running: dict[int, float] = {}  # index -> its deadline
        unknown = f"send overran its {cfg.send_timeout:g} s deadline; outcome unknown"
        with changed:
            while waiting or running:
                if fatal:
                    raise fatal[0]  # as if the process had died here: nothing is recorded
                t = now()
                for index, deadline in list(running.items()):
                    if index in finished:
                        del running[index]
                    elif t >= deadline:
                        abandoned.add(index)
                        del running[index]
                        results[index] = _Outcome(prepared[index], DeliveryResult.unknown(unknown))
                if waiting and t >= batch_deadline:
                    for index in waiting:
                        late = "not sent: the batch's deadline passed"
                        results[index] = _Outcome(prepared[index], problem=late)
                    waiting.clear()
                while waiting and len(running) < cfg.dispatch_workers:
                    index = waiting.popleft()
                    running[index] = now() + cfg.send_timeout
                    threading.Thread(target=run, args=(index,), daemon=True).start()
                if running:
                    wake = min(running.values())
                    if waiting:
                        wake = min(wake, batch_deadline)
                    changed.wait(max(0.0, wake - now()))
        if fatal:
            raise fatal[0]
        return [r if r is not None else _Outcome(p) for r, p in zip(results, prepared, strict=True)]

    # -- record -------------------------------------------------------------------------
    def _record(
        self, uow: UnitOfWork, outcomes: Sequence[_Outcome], as_of: dt.date
    ) -> tuple[CycleReport, list[Event]]:
        now = aware_now(self._clock)
        events: list[Event] = []
        problems: list[CycleProblem] = []
        sent = failed = blocked = rescheduled = fallbacks = 0
        batch_sent: list[tuple[str, DeliveryResult]] | None = (
            [] if isinstance(uow.outbox, BatchMarkingOutbox) else None
        )
        for outcome in outcomes:
            entry, result = outcome.prepared.entry, outcome.result
            action = entry.action
            if outcome.problem:
                problems.append(CycleProblem(action.loan_id, Step.DISPATCH, outcome.problem))
                continue  # left open, as it was, for the next run
            if result is None:
                # Judged again at the instant of sending: a block or a reschedule now is
                # counted as the review counts its own (one event each).
                judged = self._record_unsent(uow, outcome, as_of, now, events)
                blocked += judged is VerdictKind.BLOCK
                rescheduled += judged is VerdictKind.RESCHEDULE
                continue
            attempts = entry.attempts + 1
            if result.status is DeliveryStatus.SENT:
                if batch_sent is None:
                    uow.outbox.mark_sent(entry.key, result, at=now)
                else:
                    batch_sent.append((entry.key, result))
                sent += 1
                # What the compliance history counts: the contact (masked) and its place.
                record = ActionSent(
                    key=entry.key,
                    channel=action.channel,
                    rule=action.rule_id,
                    attempts=attempts,
                    provider_id=result.provider_id or "",
                    contact=action.contact.masked if action.contact else "",
                    place=action.contact.label if action.contact else "",
                    evidence=result.evidence,
                    # Only a channel that delivered the written notice makes this its record.
                    notice=CAP_VISIT_NOTICE if outcome.prepared.visit_notice else "",
                )
                events.append(new_event(record, loan_id=action.loan_id, on=as_of, at=now))
                continue
            retry = attempts < self._config.max_attempts and (
                result.status is DeliveryStatus.FAILED_RETRYABLE
                or (result.status is DeliveryStatus.UNKNOWN and self._reconcilable(action))
            )
            retry_at = now + self._config.retry_backoff * (2 ** (attempts - 1)) if retry else None
            uow.outbox.mark_failed(
                entry.key,
                result.detail or result.status.value,
                retry_at=retry_at,
                attempts=attempts,
                result=result,
            )
            failure = ActionFailed(
                key=entry.key,
                channel=action.channel,
                rule=action.rule_id,
                status=result.status.value,
                detail=result.detail,
                attempts=attempts,
                retry_at=retry_at,
            )
            events.append(new_event(failure, loan_id=action.loan_id, on=as_of, at=now))
            if retry:
                continue
            failed += 1
            problems.append(
                CycleProblem(action.loan_id, Step.DISPATCH, f"{entry.key}: {result.detail}")
            )
            if action.fallbacks and result.status is not DeliveryStatus.UNKNOWN:
                # (an unknown outcome may have reached the borrower: no second channel)
                fallback = self._fallback(uow, entry)
                uow.outbox.add(fallback, created_on=entry.created_on)
                planned = ActionPlanned(
                    rule=action.rule_id,
                    channel=fallback.channel,
                    key=fallback.idempotency_key,
                    template=action.template,
                    fallback_of=entry.key,
                )
                events.append(new_event(planned, loan_id=action.loan_id, on=as_of))
                fallbacks += 1
        if batch_sent and isinstance(uow.outbox, BatchMarkingOutbox):
            uow.outbox.mark_sent_many(batch_sent, at=now)
        summary = CycleSummary(
            actions_planned=fallbacks,
            sent=sent,
            failed=failed,
            blocked=blocked,
            rescheduled=rescheduled,
        )
        return CycleReport("", as_of, summary, tuple(problems)), events

    def _record_unsent(
        self,
        uow: UnitOfWork,
        outcome: _Outcome,
        as_of: dt.date,
        now: dt.datetime,
        events: list[Event],
    ) -> VerdictKind | None:
        """Record an entry that was not sent; the verdict's kind if the rules stopped it."""
        entry, verdict = outcome.prepared.entry, outcome.verdict
        if verdict is not None and verdict.kind is VerdictKind.RESCHEDULE:
            uow.outbox.mark_failed(
                entry.key,
                f"rescheduled: {verdict.reasons}",
                retry_at=verdict.not_before,
                attempts=entry.attempts,
            )
            events.append(verdict.event(entry.action, as_of, at=now))
            return verdict.kind
        if verdict is not None:
            uow.outbox.cancel(entry.key, f"blocked: {verdict.reasons}")
            events.append(verdict.event(entry.action, as_of, at=now))
            return verdict.kind
        uow.outbox.cancel(entry.key, outcome.prepared.cancel or "cancelled")
        return None

    def _reconcilable(self, action: PlannedAction) -> bool:
        """True if a send whose outcome is unknown may be tried again safely: the
        channel de-duplicates by key, or can be asked what became of the first send."""
        capabilities = self._channels.get(action.channel).capabilities
        return CAP_IDEMPOTENT in capabilities or CAP_POLL in capabilities

    def _fallback(self, uow: UnitOfWork, entry: OutboxEntry) -> PlannedAction:
        """The action moved to its next fallback channel, with that channel's contact point."""
        action = entry.action
        nxt = action.fallbacks[0]
        return attrs.evolve(
            action,
            channel=nxt,
            fallbacks=action.fallbacks[1:],
            idempotency_key=f"{entry.key}>{nxt}",
            contact=self._contact_for(uow, action.loan_id, nxt),
        )

    def _contact_for(self, uow: UnitOfWork, loan_id: str, channel: str) -> ContactPoint | None:
        kind = self._channels.contact_kinds.get(channel)
        if kind is None:
            return None
        loan = uow.loans.get(loan_id)
        points = loan.borrower.contacts(kind) if loan is not None else ()
        return points[0] if points else None


def _nothing_due(action: PlannedAction, assessment: Assessment) -> bool:
    """True if the action's reason to contact has gone (paid off, or nothing overdue)."""
    return assessment.is_paid_off or (
        action.stage not in _SENT_WITHOUT_ARREARS and not assessment.amount_due.is_positive()
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
