"""The inbound side: what collectors do in the CRM, into the engine.

Changes arrive in the sync state's inbox — from the signed webhook endpoint
(:mod:`loancollect_crm.webhooks`) or from a :class:`Poller` for CRMs without
webhooks — keyed by the CRM's event id, so a change delivered twice is kept once.
:class:`InboundApplier` then applies each pending change through the engine's
intake and marks it:

- a note: an ``INBOUND_MESSAGE`` on the case naming the CRM's note (the note's
  text stays in the CRM, which owns notes);
- a reassignment: an :class:`~loancollect.domain.commands.Assign` command (none
  when the case is assigned so already);
- an outcome: a typed :class:`~loancollect.domain.intake.Outcome` (with a promise's
  terms), its evidence ``crm:<event id>`` so that it is not sent back;
- an edit of a field the engine owns (the stage, an amount, a hold): refused by the
  ownership map, kept as a conflict, and the case is sent again to set it back.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

import attrs

from loancollect.domain.commands import Assign
from loancollect.domain.errors import LoanCollectError, ValidationError
from loancollect.domain.intake import Actor, Outcome, PromiseTerms
from loancollect.domain.loans import Loan
from loancollect.domain.money import Money
from loancollect.engine import CollectionEngine, Inbound, InboundKind
from loancollect.errors import ConcurrentUpdateError, StorageBusyError
from loancollect_crm.adapters.base import PollingAdapter
from loancollect_crm.mapping import CRM_EVIDENCE_PREFIX, Mapping, Owner
from loancollect_crm.records import ChangeKind, InboundChange, RecordKind
from loancollect_crm.state import InboxStatus, SyncState

__all__ = ["InboundApplier", "InboundTally", "Poller"]

_LOG = logging.getLogger("loancollect_crm.inbound")


@attrs.frozen(kw_only=True)
class InboundTally:
    """Changes applied, refused as conflicts, and rejected by the engine."""

    applied: int = 0
    conflicts: int = 0
    rejected: int = 0


class InboundApplier:
    """Applies the inbox's pending changes through the engine's intake."""

    def __init__(
        self,
        *,
        engine: CollectionEngine,
        state: SyncState,
        crm: str,
        mapping: Mapping | None = None,
    ) -> None:
        self.engine = engine
        self.state = state
        self.crm = crm
        self.mapping = mapping or Mapping()

    def apply_pending(self) -> InboundTally:
        """Apply every pending change, in the order they came; each is marked once done.

        A change the engine refuses is marked rejected (with the reason); a storage
        conflict or a busy database ends the round and leaves the change pending.
        """
        applied = conflicts = rejected = 0
        while batch := self.state.pending(self.crm):
            for change in batch:
                try:
                    status = self._apply(change)
                except (ConcurrentUpdateError, StorageBusyError) as exc:
                    # transient: the change stays pending for the next round, in order
                    _LOG.warning("%r left pending: %s", change, exc)
                    return InboundTally(applied=applied, conflicts=conflicts, rejected=rejected)
                except LoanCollectError as exc:
                    self.state.settle(change.event_id, InboxStatus.REJECTED, str(exc))
                    _LOG.warning("%r rejected: %s", change, exc)
                    rejected += 1
                    continue
                self.state.settle(change.event_id, status)
                if status is InboxStatus.CONFLICT:
                    conflicts += 1
                else:
                    applied += 1
        return InboundTally(applied=applied, conflicts=conflicts, rejected=rejected)

    def _apply(self, change: InboundChange) -> InboxStatus:
        loan = self._loan(change.loan_id)
        on = change.at.astimezone(_zone(loan)).date()
        if change.kind is ChangeKind.NOTE:
            self.engine.intake.receive(
                Inbound(
                    kind=InboundKind.WEBHOOK,
                    channel="crm",
                    at=change.at,
                    loan_id=change.loan_id,
                    provider_id=change.event_id,
                    detail=f"note {change.text}"[:200],
                )
            )
        elif change.kind is ChangeKind.ASSIGN:
            with self.engine.storage() as uow:
                case = uow.cases.get(change.loan_id)
            current = case.assignment if case is not None else None
            if current is None or (current.agent, current.team) != (change.agent, change.team):
                self.engine.apply(
                    change.loan_id,
                    Assign(agent=change.agent, team=change.team, reason="crm"),
                    on=on,
                )
        elif change.kind is ChangeKind.OUTCOME:
            assert change.outcome is not None
            terms = None
            if change.promise_amount is not None and change.promise_due is not None:
                terms = PromiseTerms(
                    amount=Money(change.promise_amount, loan.currency), due=change.promise_due
                )
            outcome = Outcome(
                kind=change.outcome,
                at=change.at,
                channel=change.channel or "crm",
                key=change.key or None,
                by=Actor(agent=change.agent),
                evidence=f"{CRM_EVIDENCE_PREFIX}{change.event_id}",
                promise=terms,
            )
            self.engine.record_outcome(change.loan_id, outcome)
        else:
            return self._field(change)
        return InboxStatus.APPLIED

    def _field(self, change: InboundChange) -> InboxStatus:
        owner = self.mapping.ownership.owner(change.field)
        if owner is None:
            raise LoanCollectError(
                f"crm change {change.event_id}: field {change.field!r} is not mapped"
            )
        if owner is Owner.CRM:
            return InboxStatus.APPLIED  # the CRM's own field: nothing for the engine to keep
        known = self.state.known(self.crm, RecordKind.CASE, [change.loan_id]).get(change.loan_id)
        if known is not None and known.sent.get(change.field) == change.value:
            return InboxStatus.APPLIED  # the value the sync wrote: not an edit
        self.state.conflict(
            self.crm, RecordKind.CASE, change.loan_id, change.field, "crm edit refused"
        )
        self.state.forget_digest(self.crm, RecordKind.CASE, change.loan_id)
        return InboxStatus.CONFLICT

    def _loan(self, loan_id: str) -> Loan:
        with self.engine.storage() as uow:
            loan = uow.loans.get(loan_id)
        if loan is None:
            raise ValidationError("change.loan_id", loan_id, "no such loan")
        return loan


def _zone(loan: Loan) -> dt.tzinfo:
    zone = loan.borrower.time_zone
    return zoneinfo.ZoneInfo(zone) if zone else dt.UTC


class Poller:
    """Reads a CRM's changes after the stored cursor into the inbox (no webhooks needed).

    The cursor moves only after the changes are in the inbox; a crash in between
    reads them again, and the inbox keeps each event id once.
    """

    def __init__(self, *, adapter: PollingAdapter, state: SyncState, crm: str) -> None:
        self.adapter = adapter
        self.state = state
        self.crm = crm

    def poll_once(self) -> int:
        """Poll once; return how many new changes were kept."""
        changes, cursor = self.adapter.poll(self.state.cursor(self.crm, "poll"))
        kept = sum(1 for change in changes if self.state.enqueue(self.crm, change))
        self.state.set_cursor(self.crm, "poll", cursor)
        return kept
