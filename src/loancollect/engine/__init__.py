"""The collection engine: the one orchestrator, one module per step of the data's way.

::

    intake ─▶ review ──────────────▶ guard ─▶ outbox ─▶ dispatch ─▶ record
    (payments,  (decide once per case,  (allow /           (render, limit,   (sent, retry,
     outcomes,   hooks as its advice)    reschedule /       send, deadline)   fallback, events)
     commands)                            block)

- :mod:`~loancollect.engine.intake`: the one way in — payments, contact outcomes,
  arrangements, opt-outs, holds, receipts, inbound messages, case commands;
- :mod:`~loancollect.engine.review`: the batch loop; one ``decide`` per case;
- :mod:`~loancollect.engine.guard`: verdicts → allow / reschedule / block, for the
  review and the dispatch alike;
- :mod:`~loancollect.engine.dispatch`: render, rate limits, send, record, retry, fallback;
- :mod:`~loancollect.engine.compliance`: the history and the question to the rule packs;
- :mod:`~loancollect.engine.workers`: the one multi-process runner;
- :mod:`~loancollect.engine.startup`: start-up objects kept out of the garbage
  collector's walks while a host runs its days (the host's choice);
- :mod:`~loancollect.engine.config`: :class:`CycleConfig`, reports and problems.

``CollectionEngine.run_cycle(as_of)`` does, for one business day:

1. ``loancollect_cycle_started``;
2. **review**: due cases in batches; each batch's case updates, events and outbox
   entries in one unit of work; after the commit ``loancollect_on_event`` fires for
   each stored event and the batch's new actions are sent (unless the outbox is
   claimed by several workers);
3. **dispatch**: the open outbox entries left (retries, rescheduled actions,
   earlier days' entries) are judged again at the instant of sending, rendered and
   sent; results are recorded;
4. ``loancollect_cycle_finished`` with the :class:`~loancollect.registry.CycleSummary`.

Guarantees: an action is in the outbox, in the same transaction as the case
update, before any channel sees it; its idempotency key is deterministic (loan,
rule, as-of day), so re-running a day plans nothing new. A case that raises is
reported and skipped; a channel that raises or times out fails only that action.
The engine reads time only through the injected :class:`~loancollect.ports.Clock`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pluggy

from loancollect import registry
from loancollect.builtin.compliance import install as install_compliance
from loancollect.domain.arrangements import Arrangement
from loancollect.domain.case import ContactOutcome, Hold, HoldKind
from loancollect.domain.commands import CaseCommand
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.events import Event
from loancollect.domain.intake import Outcome
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.strategy import Experiment, Strategy
from loancollect.engine.clock import SystemClock
from loancollect.engine.compliance import ContactRules
from loancollect.engine.config import (
    DEFAULT_LENDER,
    CycleConfig,
    CycleProblem,
    CycleReport,
    Step,
)
from loancollect.engine.dispatch import ChannelBook, Dispatcher, Loaded
from loancollect.engine.guard import Guard, Verdict, VerdictKind
from loancollect.engine.intake import Inbound, InboundKind, Intake
from loancollect.engine.review import Reviewer
from loancollect.ports import CAP_VISIT_NOTICE, Channel, Clock, DeliveryStatus, UnitOfWorkFactory
from loancollect.registry import CycleSummary
from loancollect.templates import TemplateCatalog, required_keys

__all__ = [
    "DEFAULT_LENDER",
    "CollectionEngine",
    "CycleConfig",
    "CycleProblem",
    "CycleReport",
    "Guard",
    "Inbound",
    "InboundKind",
    "Intake",
    "Step",
    "SystemClock",
    "Verdict",
    "VerdictKind",
]

_LOG = logging.getLogger("loancollect.engine")


class CollectionEngine:
    """Runs the collection cycle over a storage backend, with plug-ins.

    The facade wires the steps together; each step lives in its own module.

    :param pm: the plug-in manager (``make_plugin_manager()``).
    :param storage: a unit-of-work factory for one tenant
        (e.g. ``registry.open_storage(pm, url)``).
    :param clock: the time source (:class:`SystemClock` by default).
    :param channels: channel instances by name; channels not given are built
        from the registered channel specs with ``channel_settings``.
    :param templates: the message templates (built from the registered ones by default);
        validated against the strategy at start-up.
    :param review_plugins: for the pipelined review
        (:attr:`CycleConfig.review_processes`), a picklable function (module level)
        that builds, in a decide process, a plug-in manager with the same decision
        hooks as ``pm``; needed only when ``pm`` holds plug-in objects registered in
        code. ``None``: rebuilt from ``pm``'s built-ins, entry points and modules.
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
        review_plugins: Callable[[], pluggy.PluginManager] | None = None,
    ) -> None:
        self.pm = pm
        self.storage = storage
        self.clock: Clock = clock or SystemClock()
        self.config = config or CycleConfig()
        self.templates = templates or TemplateCatalog.from_plugins(pm)
        if validate_templates:
            self.templates.validate(required_keys(_strategy_rules(self.config.strategy), locales))
        # The rule packs' guard for loancollect_check_contact; lints the templates.
        self.compliance = install_compliance(pm, self.templates, lint=validate_templates)
        self.channels = ChannelBook(pm, channels, channel_settings)
        self.guard = Guard(
            ContactRules(
                pm, history_days=self.config.history_days, notice_channels=self._notice_channels()
            )
        )
        self.intake = Intake(storage=storage, notify=self._notify)
        """The one way in: payments, outcomes, arrangements, holds, inbound messages, commands."""
        self._dispatcher = Dispatcher(
            storage=storage,
            clock=self.clock,
            config=self.config,
            channels=self.channels,
            templates=self.templates,
            guard=self.guard,
            notify=self._notify,
            monotonic=monotonic,
            sleep=sleep,
        )
        self._reviewer = Reviewer(
            pm=pm,
            storage=storage,
            clock=self.clock,
            config=self.config,
            guard=self.guard,
            contact_kinds=self.channels.contact_kinds,
            notify=self._notify,
            templates=self.templates,
            review_plugins=review_plugins,
        )

    # -- the cycle -----------------------------------------------------------------------
    def run_cycle(
        self, as_of: dt.date, *, run_id: str | None = None, dispatch: bool = True
    ) -> CycleReport:
        """Review every due case for ``as_of``, then dispatch the outbox."""
        run_id = run_id or uuid.uuid4().hex[:12]
        self.pm.hook.loancollect_cycle_started(as_of=as_of, run_id=run_id)
        try:
            if dispatch:
                report = self._reviewer.run(as_of, send=lambda p: self._send_batch(p, as_of))
                report = report + self._dispatcher.dispatch(as_of)
            else:
                report = self._reviewer.run(as_of)
        finally:
            self._forget_facts()
        self.pm.hook.loancollect_cycle_finished(as_of=as_of, run_id=run_id, summary=report.summary)
        return CycleReport(run_id, as_of, report.summary, report.problems)

    def _send_batch(self, planned: Sequence[Loaded], as_of: dt.date) -> CycleReport:
        """Send a committed review batch's new actions (each judged at its instant)."""
        try:
            return self._dispatcher.send_planned(planned, as_of)
        finally:
            # the batch's loans, cases and histories are not judged again
            self._forget_facts()

    def _forget_facts(self) -> None:
        if self.compliance is not None:
            self.compliance.forget()

    def review(
        self, as_of: dt.date, *, on_batch: Callable[[CycleSummary], None] | None = None
    ) -> CycleReport:
        """Decide every case due on ``as_of``, batch by batch; write outbox and events."""
        try:
            return self._reviewer.run(as_of, on_batch=on_batch)
        finally:
            self._forget_facts()

    def dispatch(self, as_of: dt.date, *, limit: int | None = None) -> CycleReport:
        """Send open outbox entries (due now), concurrently within the configured bounds."""
        return self._dispatcher.dispatch(as_of, limit=limit)

    def _notice_channels(self) -> frozenset[str]:
        """The channels of medium ``visit`` (and the host's own instances) that deliver a
        visit action's message as the visit's written notice (``CAP_VISIT_NOTICE``):
        only a dispatch through one of them is judged and recorded as the notice."""
        media = (
            self.compliance.channels
            if self.compliance is not None
            else {n: m for n, m in registry.channel_media(self.pm).items() if m is not None}
        )
        visits = [name for name, medium in media.items() if medium is Medium.VISIT]
        return self.channels.declaring(CAP_VISIT_NOTICE, visits)

    def channel(self, name: str) -> Channel:
        """The channel called ``name`` (built from its registered spec on first use)."""
        return self.channels.get(name)

    # -- the intake, for convenience ------------------------------------------------------
    def add_loans(self, loans: Iterable[Loan], *, review_on: dt.date) -> int:
        """See :meth:`Intake.add_loans`."""
        return self.intake.add_loans(loans, review_on=review_on)

    def record_payment(self, payment: Payment) -> None:
        """See :meth:`Intake.record_payment`."""
        self.intake.record_payment(payment)

    def record_outcome(
        self, loan_id: str, outcome: Outcome | ContactOutcome, *, at: dt.datetime | None = None
    ) -> None:
        """See :meth:`Intake.record_outcome`."""
        self.intake.record_outcome(loan_id, outcome, at=at)

    def record_arrangement(self, loan_id: str, arrangement: Arrangement) -> None:
        """See :meth:`Intake.record_arrangement`."""
        self.intake.record_arrangement(loan_id, arrangement)

    def record_opt_out(
        self, loan_id: str, channel: str, on: dt.date, *, at: dt.datetime | None = None
    ) -> None:
        """See :meth:`Intake.record_opt_out`."""
        self.intake.record_opt_out(loan_id, channel, on, at=at)

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
        """See :meth:`Intake.record_delivery_receipt`."""
        self.intake.record_delivery_receipt(
            key, status, on, at=at, detail=detail, provider_id=provider_id
        )

    def place_hold(self, loan_id: str, hold: Hold) -> None:
        """See :meth:`Intake.place_hold`."""
        self.intake.place_hold(loan_id, hold)

    def release_hold(self, loan_id: str, kind: HoldKind, on: dt.date) -> None:
        """See :meth:`Intake.release_hold`."""
        self.intake.release_hold(loan_id, kind, on)

    def apply(self, loan_id: str, command: CaseCommand, *, on: dt.date) -> Event:
        """See :meth:`Intake.apply`."""
        return self.intake.apply(loan_id, command, on=on)

    def _notify(self, events: Sequence[Event]) -> None:
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
