"""Intake: the one way in for what the world tells the engine about a case.

Payments, contact outcomes, arrangements, opt-outs, holds, delivery receipts,
inbound messages and case commands all come in here. Each is validated against
its loan and case at the door (a payment in another currency, or dated before the
loan existed, is refused with the field named and nothing written), applied by
the pure core, stored with its typed event in one unit of work, and pulls the
case's review forward so the next cycle sees it. Channels and other plug-ins
receive an :class:`Intake` (``engine.intake``); none of them reaches into the
engine itself.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from collections.abc import Callable, Iterable, Sequence

import attrs

from loancollect.domain.arrangements import Arrangement, ArrangementKind
from loancollect.domain.case import Case, ContactOutcome, Hold, HoldKind
from loancollect.domain.commands import CaseCommand
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import (
    ArrangementMade,
    ContactOutcomeRecorded,
    DeliveryReceipt,
    Event,
    HoldPlaced,
    HoldReleased,
    InboundMessage,
    OptedOut,
    PaymentReceived,
    PromiseMade,
    RecoveryRecorded,
    new_event,
)
from loancollect.domain.intake import Outcome, apply_outcome, record_contact
from loancollect.domain.loans import Loan, Payment
from loancollect.ports import DeliveryStatus, LockingCases, UnitOfWork, UnitOfWorkFactory

__all__ = ["Inbound", "InboundKind", "Intake", "accept_payment"]

OPT_OUT_FLAG = "opt_out"
"""Case flags ``opt_out:<channel>:<YYYY-MM-DD>`` keep opt-outs whatever their age."""


class InboundKind(enum.Enum):
    """What an inbound message from a channel's provider is."""

    RECEIPT = "receipt"  # a delivery receipt for a sent action
    OPT_OUT = "opt_out"  # the borrower asked not to be contacted on the channel (退订, STOP)
    REPLY = "reply"  # any other reply from the borrower
    WEBHOOK = "webhook"  # another provider notification about a sent action


@attrs.frozen(kw_only=True)
class Inbound:
    """A message a channel received: a receipt, an opt-out, a reply, a webhook.

    :param at: the instant the provider reports (time-zone aware), when it does.
    :param key: the idempotency key of the action it answers (receipts, webhooks;
        replies when the provider threads them).
    :param loan_id: the loan it concerns, when the channel resolved it (an opt-out
        from a number); otherwise it is found from ``key``.
    :param status: a receipt's delivery status.
    :param detail: a short provider text (no message content, no phone number).
    """

    kind: InboundKind
    channel: str
    at: dt.datetime | None = None
    key: str | None = None
    loan_id: str | None = None
    status: DeliveryStatus | None = None
    provider_id: str = ""
    detail: str = ""

    def __attrs_post_init__(self) -> None:
        if self.at is not None and (self.at.tzinfo is None or self.at.utcoffset() is None):
            raise ValidationError("inbound.at", self.at.isoformat(), "naive datetime")
        if self.key is None and self.loan_id is None:
            raise ValidationError("inbound.key", None, "name the action's key or the loan")
        if self.kind is InboundKind.RECEIPT and self.status is None:
            raise ValidationError("inbound.status", None, "a receipt needs its delivery status")


def accept_payment(
    uow: UnitOfWork, payment: Payment, *, loan: Loan, case: Case
) -> tuple[Event, ...]:
    """Store ``payment`` for ``loan`` in ``uow``; return its events (not yet appended).

    The payment must be in the loan's currency and not dated before the loan was
    disbursed. ``PAYMENT_RECEIVED`` records it (what the recovery figures count);
    a payment on a charged-off debt is also a ``RECOVERY_RECORDED``. The case's
    review is pulled forward to the value date. Shared by :class:`Intake` and the
    file importer, so every payment comes in the same way.

    :raises ValidationError: naming the field, before anything is written.
    """
    if payment.loan_id != loan.id:
        raise ValidationError("payment.loan_id", payment.loan_id, f"not loan {loan.id}")
    if payment.amount.currency != loan.currency:
        raise ValidationError(
            "payment.currency", payment.amount.currency, f"the loan is in {loan.currency}"
        )
    if payment.value_date < loan.disbursement_date:
        raise ValidationError(
            "payment.value_date",
            payment.value_date.isoformat(),
            f"before the loan was disbursed ({loan.disbursement_date.isoformat()})",
        )
    uow.loans.add_payment(payment)
    uow.cases.save(case.reviewed_by(payment.value_date))
    amount = payment.amount
    on = payment.value_date
    received = PaymentReceived(payment=payment.id, amount=amount.amount, currency=amount.currency)
    events = [new_event(received, loan_id=loan.id, on=on, at=payment.received_at)]
    if case.charge_off is not None:
        recovery = RecoveryRecorded(
            payment=payment.id, amount=amount.amount, currency=amount.currency
        )
        events.append(new_event(recovery, loan_id=loan.id, on=on))
    return tuple(events)


class Intake:
    """Takes what comes back from the world and stores it against its case.

    :param storage: the tenant's unit-of-work factory.
    :param notify: announces stored events (``loancollect_on_event``).
    """

    def __init__(
        self, *, storage: UnitOfWorkFactory, notify: Callable[[Sequence[Event]], None]
    ) -> None:
        self._storage = storage
        self._notify = notify

    # -- loans and payments -------------------------------------------------------------
    def add_loans(self, loans: Iterable[Loan], *, review_on: dt.date) -> int:
        """Add (or replace) loans and open their cases, first reviewed on ``review_on``.

        :return: how many cases were opened (loans already known keep theirs).
        """
        count = 0
        with self._storage() as uow:
            for loan in loans:
                uow.loans.add(loan)
                if uow.cases.get(loan.id) is None:
                    uow.cases.save(Case(loan_id=loan.id, next_review_date=review_on))
                    count += 1
            uow.commit()
        return count

    def record_payment(self, payment: Payment) -> None:
        """Store a payment against its loan (see :func:`accept_payment`)."""
        with self._storage() as uow:
            loan, case = _loan_and_case(uow, payment.loan_id)
            events = accept_payment(uow, payment, loan=loan, case=case)
            stored = uow.events.append(events)
            uow.commit()
        self._notify(stored)

    # -- contact ------------------------------------------------------------------------
    def record_outcome(
        self, loan_id: str, outcome: Outcome | ContactOutcome, *, at: dt.datetime | None = None
    ) -> None:
        """Record a contact outcome: right-party contact, promise, refusal, no answer …

        An :class:`~loancollect.domain.intake.Outcome` carries its instant and its
        business date is that instant's date in the borrower's time zone; a bare
        :class:`~loancollect.domain.case.ContactOutcome` (date, channel, kind, note)
        is recorded as it is, at ``at`` when given.
        """
        with self._storage() as uow:
            loan, case = _loan_and_case(uow, loan_id)
            if isinstance(outcome, Outcome):
                on = _local_date(outcome.at, loan)
                updated, events = apply_outcome(case, outcome, on=on, currency=loan.currency)
            else:
                bare = ContactOutcomeRecorded(
                    channel=outcome.channel, outcome=outcome.outcome, note=outcome.note
                )
                updated, found = record_contact(case, outcome, bare, at)
                events = tuple(found)
            uow.cases.save(updated)
            stored = uow.events.append(events)
            uow.commit()
        self._notify(stored)

    def record_arrangement(self, loan_id: str, arrangement: Arrangement) -> None:
        """Record a promise, plan, waiver, grace period or settlement made with the borrower."""
        amount = getattr(arrangement, "amount", None)
        value = amount.amount if amount is not None else None
        made: PromiseMade | ArrangementMade = (
            PromiseMade(arrangement=arrangement.id, amount=value)
            if arrangement.kind is ArrangementKind.PROMISE
            else ArrangementMade(arrangement=arrangement.id, type=arrangement.kind, amount=value)
        )
        self._change(
            loan_id,
            lambda case: case.with_arrangement(arrangement),
            new_event(made, loan_id=loan_id, on=arrangement.made_on),
        )

    def record_opt_out(
        self, loan_id: str, channel: str, on: dt.date, *, at: dt.datetime | None = None
    ) -> None:
        """Record that the borrower opted out of a channel (rule packs honour it).

        The opt-out is also kept on the case (flag ``opt_out:<channel>:<date>``), so it
        counts however long ago it was made.
        """
        flag = f"{OPT_OUT_FLAG}:{channel}:{on.isoformat()}"
        self._change(
            loan_id,
            lambda case: attrs.evolve(case, flags=case.flags | {flag}).reviewed_by(on),
            new_event(OptedOut(channel=channel), loan_id=loan_id, on=on, at=at),
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

        :raises ValidationError: if no action was planned under ``key``.
        """
        with self._storage() as uow:
            entry = uow.outbox.get(key)
            if entry is None:
                raise ValidationError("outbox.key", key, "no action was planned under this key")
            loan_id = entry.action.loan_id
            receipt = DeliveryReceipt(
                key=key,
                channel=entry.action.channel,
                status=status.value,
                detail=detail,
                provider_id=provider_id or "",
            )
            if uow.cases.get(loan_id) is None:
                raise ValidationError("loan_id", loan_id, "no case for this loan")
            event = new_event(receipt, loan_id=loan_id, on=on, at=at)
            stored = uow.events.append([event])
            uow.commit()
        self._notify(stored)

    def receive(self, message: Inbound, *, on: dt.date | None = None) -> None:
        """Take an inbound message from a channel (receipt, opt-out, reply, webhook).

        :param on: the business date; by default the message's instant's date in
            the borrower's time zone.
        """
        with self._storage() as uow:
            loan_id = message.loan_id
            if loan_id is None:
                assert message.key is not None
                entry = uow.outbox.get(message.key)
                if entry is None:
                    raise ValidationError(
                        "inbound.key", message.key, "no action was planned under this key"
                    )
                loan_id = entry.action.loan_id
            loan, _ = _loan_and_case(uow, loan_id, lock=False)
        if on is not None:
            day = on
        elif message.at is not None:
            day = _local_date(message.at, loan)
        else:
            raise ValidationError("inbound.at", None, "give the message's instant or the date")
        if message.kind is InboundKind.RECEIPT:
            assert message.key is not None
            assert message.status is not None
            self.record_delivery_receipt(
                message.key,
                message.status,
                day,
                at=message.at,
                detail=message.detail,
                provider_id=message.provider_id,
            )
        elif message.kind is InboundKind.OPT_OUT:
            self.record_opt_out(loan_id, message.channel, day, at=message.at)
        else:
            inbound = InboundMessage(
                channel=message.channel,
                kind=message.kind.value,
                key=message.key or "",
                provider_id=message.provider_id,
                detail=message.detail,
            )
            self._change(
                loan_id,
                lambda case: case.reviewed_by(day),
                new_event(inbound, loan_id=loan_id, on=day, at=message.at),
            )

    # -- holds and commands --------------------------------------------------------------
    def place_hold(self, loan_id: str, hold: Hold) -> None:
        """Hold escalation and contact (dispute, bankruptcy, breathing space …)."""
        placed = HoldPlaced(hold=hold.kind, start=hold.start, reason=hold.reason, end=hold.end)
        self._change(
            loan_id,
            lambda case: case.with_hold(hold),
            new_event(placed, loan_id=loan_id, on=hold.start),
        )

    def release_hold(self, loan_id: str, kind: HoldKind, on: dt.date) -> None:
        """Lift the holds of ``kind`` from ``on``: contact and escalation resume that day."""

        def change(case: Case) -> Case:
            # Lifted on ``on``: the hold's last day is the day before (a hold released
            # on or before its first day never took effect and is dropped).
            holds = []
            for h in case.holds:
                if h.kind is not kind or (h.end is not None and h.end < on):
                    holds.append(h)
                elif h.start < on:
                    holds.append(attrs.evolve(h, end=on - dt.timedelta(days=1)))
            return attrs.evolve(case, holds=tuple(holds)).reviewed_by(on)

        released = new_event(HoldReleased(hold=kind), loan_id=loan_id, on=on)
        self._change(loan_id, change, released)

    def apply(self, loan_id: str, command: CaseCommand, *, on: dt.date) -> Event:
        """Apply a case command (flag, assign, place, recall, legal matter, charge-off, sale).

        :return: the stored event recording it.
        :raises ValidationError: if the command does not fit the case; nothing is written.
        """
        with self._storage() as uow:
            loan, case = _loan_and_case(uow, loan_id)
            updated, event = command.apply(case, on=on, currency=loan.currency)
            uow.cases.save(updated)
            stored = uow.events.append([event])
            uow.commit()
        self._notify(stored)
        return stored[0]

    def _change(self, loan_id: str, change: Callable[[Case], Case], event: Event) -> None:
        with self._storage() as uow:
            case = _case_for_update(uow, loan_id)
            if case is None:
                raise ValidationError("loan_id", loan_id, "no case for this loan")
            uow.cases.save(change(case))
            stored = uow.events.append([event])
            uow.commit()
        self._notify(stored)


def _case_for_update(uow: UnitOfWork, loan_id: str) -> Case | None:
    """The case of ``loan_id``, locked until ``uow`` ends where storage can
    (:class:`~loancollect.ports.LockingCases`): a review holding it is waited for, so
    the change made from it never overwrites the review's (nor is refused as stale)."""
    cases = uow.cases
    if isinstance(cases, LockingCases):
        return cases.get_for_update(loan_id)
    return cases.get(loan_id)


def _loan_and_case(uow: UnitOfWork, loan_id: str, *, lock: bool = True) -> tuple[Loan, Case]:
    # the case first: a lock must come before the transaction's first read (SQLite)
    case = _case_for_update(uow, loan_id) if lock else uow.cases.get(loan_id)
    loan = uow.loans.get(loan_id)
    if loan is None:
        raise ValidationError("loan_id", loan_id, "no such loan")
    if case is None:
        raise ValidationError("loan_id", loan_id, "no case for this loan")
    return loan, case


def _local_date(at: dt.datetime, loan: Loan) -> dt.date:
    """``at``'s date where the borrower lives (UTC when their zone is unknown)."""
    zone = loan.borrower.time_zone
    return at.astimezone(zoneinfo.ZoneInfo(zone) if zone else dt.UTC).date()
