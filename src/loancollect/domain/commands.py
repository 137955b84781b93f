"""Case commands: what a collector, a CRM, an agency or a court desk tells the engine to do.

Each command is a frozen record; :meth:`CaseCommand.apply` checks it against the
case (a recall names the agency the case is placed with; a recovery needs a
charge-off; nothing is done twice), and returns the updated case — its review
pulled forward to the command's date — and the typed event that records it.
Pure: the engine's intake loads the case, applies, stores.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import attrs

from loancollect.domain.allocation import Component
from loancollect.domain.case import Assignment, Case, ChargeOff, LegalMatter, Placement, Sale
from loancollect.domain.delinquency import DelinquencyPause, LoanStatus
from loancollect.domain.dunning import CreditNote, Notice, NoticeStatus
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import (
    CaseAssigned,
    CasePlaced,
    CaseRecalled,
    CaseSold,
    ChargedOff,
    ChargeOffReversed,
    CreditNoteRecorded,
    DelinquencyPaused,
    DelinquencyResumed,
    Event,
    FlagCleared,
    FlagSet,
    LegalMatterAdvanced,
    LegalMatterOpened,
    LoanStatusSet,
    NoticeCancelled,
    NoticeSent,
    Payload,
    PaymentFailed,
    WrittenOff,
    new_event,
)
from loancollect.domain.money import Money
from loancollect.domain.policy_state import FailedPayment, PolicyState

__all__ = [
    "AdvanceLegalMatter",
    "Assign",
    "CaseCommand",
    "ChargeOffDebt",
    "ClearFlag",
    "OpenLegalMatter",
    "PlaceWithAgency",
    "RecallFromAgency",
    "ReverseChargeOff",
    "SellDebt",
    "SetFlag",
    "WriteOffDebt",
]


class CaseCommand(Protocol):
    """A command on one case."""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """The case after the command on business date ``on``, and its event.

        :param currency: the loan's currency (amounts must be in it).
        :raises ValidationError: if the command does not fit the case.
        """
        ...


def _required(field: str, value: str) -> None:
    if not value or not value.strip():
        raise ValidationError(field, value, "must not be empty")


def _in_currency(field: str, amount: Money, currency: str) -> None:
    if amount.currency != currency:
        raise ValidationError(field, amount.currency, f"the loan is in {currency}")
    if not amount.is_positive():
        raise ValidationError(field, str(amount.amount), "must be positive")


def _done(case: Case, on: dt.date, payload: Payload) -> tuple[Case, Event]:
    """The case with its review pulled forward to ``on``, and the event recording it."""
    return case.reviewed_by(on), new_event(payload, loan_id=case.loan_id, on=on)


@attrs.frozen(kw_only=True)
class SetFlag:
    """Set a case flag (e.g. ``time_barred``, ``enforcement_off``)."""

    flag: str
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Add the flag; setting a flag the case has is refused."""
        _required("command.flag", self.flag)
        if self.flag in case.flags:
            raise ValidationError("command.flag", self.flag, "the case has this flag already")
        updated = attrs.evolve(case, flags=case.flags | {self.flag})
        return _done(updated, on, FlagSet(flag=self.flag, reason=self.reason))


@attrs.frozen(kw_only=True)
class ClearFlag:
    """Clear a case flag."""

    flag: str
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Remove the flag; clearing a flag the case does not have is refused."""
        if self.flag not in case.flags:
            raise ValidationError("command.flag", self.flag, "the case has no such flag")
        updated = attrs.evolve(case, flags=case.flags - {self.flag})
        return _done(updated, on, FlagCleared(flag=self.flag, reason=self.reason))


@attrs.frozen(kw_only=True)
class Assign:
    """Assign the case to a collector, a team, or both."""

    agent: str = ""
    team: str = ""
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the assignment (replacing any earlier one)."""
        if not self.agent and not self.team:
            raise ValidationError("command.agent", "", "name an agent, a team, or both")
        assignment = Assignment(agent=self.agent, team=self.team, since=on)
        updated = attrs.evolve(case, assignment=assignment)
        return _done(
            updated, on, CaseAssigned(agent=self.agent, team=self.team, reason=self.reason)
        )


@attrs.frozen(kw_only=True)
class PlaceWithAgency:
    """Place the case with an outside agency (or a law firm) under a placement."""

    agency: str
    placement: str
    tier: str = ""
    until: dt.date | None = None
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Place the case; a case placed elsewhere must be recalled first."""
        _required("command.agency", self.agency)
        _required("command.placement", self.placement)
        if case.placement is not None:
            raise ValidationError(
                "command.agency",
                self.agency,
                f"the case is placed with {case.placement.agency!r}; recall it first",
            )
        if case.sale is not None:
            raise ValidationError("command.agency", self.agency, "the debt was sold")
        if self.until is not None and self.until < on:
            raise ValidationError("command.until", self.until.isoformat(), f"before {on}")
        placement = Placement(
            agency=self.agency, placement=self.placement, since=on, tier=self.tier, until=self.until
        )
        updated = attrs.evolve(case, placement=placement)
        return _done(
            updated,
            on,
            CasePlaced(
                agency=self.agency,
                placement=self.placement,
                tier=self.tier,
                until=self.until,
                reason=self.reason,
            ),
        )


@attrs.frozen(kw_only=True)
class RecallFromAgency:
    """Recall the case from the agency it is placed with."""

    agency: str
    reason: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """End the placement; the agency must be the one holding the case."""
        placed = case.placement
        if placed is None:
            raise ValidationError("command.agency", self.agency, "the case is not placed")
        if placed.agency != self.agency:
            raise ValidationError(
                "command.agency", self.agency, f"the case is placed with {placed.agency!r}"
            )
        updated = attrs.evolve(case, placement=None)
        return _done(
            updated,
            on,
            CaseRecalled(agency=self.agency, placement=placed.placement, reason=self.reason),
        )


@attrs.frozen(kw_only=True)
class OpenLegalMatter:
    """Open a legal matter on the case (a demand letter, a payment order, a suit …)."""

    matter: str
    route: str
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Open the matter; one matter at a time per case."""
        _required("command.matter", self.matter)
        _required("command.route", self.route)
        if case.legal_matter is not None:
            raise ValidationError(
                "command.matter",
                self.matter,
                f"matter {case.legal_matter.matter!r} is open on the case",
            )
        matter = LegalMatter(matter=self.matter, route=self.route, opened_on=on)
        updated = attrs.evolve(case, legal_matter=matter)
        return _done(
            updated, on, LegalMatterOpened(matter=self.matter, route=self.route, reason=self.reason)
        )


@attrs.frozen(kw_only=True)
class AdvanceLegalMatter:
    """Move the open legal matter to its next step (filed, judgment, enforcement, closed …)."""

    matter: str
    step: str
    note: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the step; the matter must be the one open on the case."""
        _required("command.step", self.step)
        open_matter = case.legal_matter
        if open_matter is None or open_matter.matter != self.matter:
            raise ValidationError("command.matter", self.matter, "no such matter open on the case")
        updated = attrs.evolve(case, legal_matter=attrs.evolve(open_matter, step=self.step))
        return _done(
            updated, on, LegalMatterAdvanced(matter=self.matter, step=self.step, note=self.note)
        )


@attrs.frozen(kw_only=True)
class ChargeOffDebt:
    """Charge the debt off in the lender's books (collection may go on: 账销案存)."""

    amount: Money
    reason: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the charge-off; a debt is charged off once."""
        _in_currency("command.amount", self.amount, currency)
        _required("command.reason", self.reason)
        if case.charge_off is not None:
            raise ValidationError("command.amount", str(self.amount.amount), "already charged off")
        record = ChargeOff(amount=self.amount, reason=self.reason, on=on)
        return _done(
            attrs.evolve(case, charge_off=record),
            on,
            ChargedOff(amount=self.amount.amount, currency=currency, reason=self.reason),
        )


@attrs.frozen(kw_only=True)
class WriteOffDebt:
    """Write the debt off (charged off and taken off the books)."""

    amount: Money
    reason: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the write-off (a charge-off is implied); a debt is written off once."""
        _in_currency("command.amount", self.amount, currency)
        _required("command.reason", self.reason)
        if case.charge_off is not None and case.charge_off.written_off:
            raise ValidationError("command.amount", str(self.amount.amount), "already written off")
        record = ChargeOff(amount=self.amount, reason=self.reason, on=on, written_off=True)
        return _done(
            attrs.evolve(case, charge_off=record),
            on,
            WrittenOff(amount=self.amount.amount, currency=currency, reason=self.reason),
        )


@attrs.frozen(kw_only=True)
class ReverseChargeOff:
    """Undo a charge-off or write-off recorded in error."""

    reason: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Clear the charge-off; there must be one."""
        _required("command.reason", self.reason)
        if case.charge_off is None:
            raise ValidationError("command.reason", self.reason, "the debt is not charged off")
        return _done(attrs.evolve(case, charge_off=None), on, ChargeOffReversed(reason=self.reason))


@attrs.frozen(kw_only=True)
class SellDebt:
    """Record the sale (assignment) of the debt to a buyer; the lender stops collecting."""

    buyer: str
    sale: str
    price: Money | None = None

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the sale; a placed case must be recalled first; a debt is sold once."""
        _required("command.buyer", self.buyer)
        _required("command.sale", self.sale)
        if self.price is not None:
            _in_currency("command.price", self.price, currency)
        if case.sale is not None:
            raise ValidationError("command.sale", self.sale, f"sold already in {case.sale.sale!r}")
        if case.placement is not None:
            raise ValidationError(
                "command.sale", self.sale, f"the case is placed with {case.placement.agency!r}"
            )
        record = Sale(buyer=self.buyer, sale=self.sale, on=on, price=self.price)
        updated = attrs.evolve(case, sale=record, closed_on=case.closed_on or on)
        return _done(
            updated,
            on,
            CaseSold(
                buyer=self.buyer,
                sale=self.sale,
                price=self.price.amount if self.price is not None else None,
                currency=currency if self.price is not None else "",
            ),
        )


# -- the stage policy's optional capabilities (docs/policy.md, "coming from …") -------------


def _with_state(case: Case, state: PolicyState) -> Case:
    return attrs.evolve(case, policy_state=state)


@attrs.frozen(kw_only=True)
class PauseDelinquency:
    """Pause delinquency from ``start`` to ``end`` (``None``: until resumed), as
    Fineract's ``PAUSE`` delinquency action; a pause may be back-dated."""

    start: dt.date
    end: dt.date | None = None
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Add the pause; it must end after it starts and overlap no other pause."""
        pause = DelinquencyPause(start=self.start, end=self.end, reason=self.reason)
        state = case.policy_state
        for other in state.pauses:
            if pause.overlaps(other):
                raise ValidationError(
                    "command.start",
                    self.start.isoformat(),
                    f"overlaps the pause that starts on {other.start.isoformat()}",
                )
        updated = _with_state(case, attrs.evolve(state, pauses=(*state.pauses, pause)))
        return _done(
            updated.reviewed_by(min(on, self.start)),
            on,
            DelinquencyPaused(start=self.start, end=self.end, reason=self.reason),
        )


@attrs.frozen(kw_only=True)
class ResumeDelinquency:
    """Resume delinquency early (Fineract's ``RESUME``): the active pause ends on the
    command's date."""

    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """End the pause active on ``on``; there must be one."""
        state = case.policy_state
        active = next((p for p in state.pauses if p.active_on(on)), None)
        if active is None:
            raise ValidationError("command.on", on.isoformat(), "no delinquency pause is active")
        resumed = attrs.evolve(active, resumed_on=on)
        pauses = tuple(resumed if p is active else p for p in state.pauses)
        updated = _with_state(case, attrs.evolve(state, pauses=pauses))
        return _done(updated, on, DelinquencyResumed(start=active.start, reason=self.reason))


@attrs.frozen(kw_only=True)
class SetLoanStatus:
    """The host sets the loan's status (active, closed, written off, rescheduled, overpaid)."""

    status: LoanStatus
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the status; setting the status the loan has is refused."""
        state = case.policy_state
        if self.status is state.loan_status:
            raise ValidationError("command.status", self.status.value, "the loan has it already")
        updated = _with_state(case, attrs.evolve(state, loan_status=self.status))
        return _done(
            updated,
            on,
            LoanStatusSet(
                status=self.status.value, previous=state.loan_status.value, reason=self.reason
            ),
        )


@attrs.frozen(kw_only=True)
class RecordFailedPayment:
    """The payment system's answer to a failed payment (``INSUFFICIENT_FUNDS`` …); a
    payment received after it makes it stale."""

    response: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Keep the result as the last failed payment's."""
        _required("command.response", self.response)
        failed = FailedPayment(response=self.response, on=on)
        updated = _with_state(case, attrs.evolve(case.policy_state, failed_payment=failed))
        return _done(updated, on, PaymentFailed(response=self.response))


def _open_notice(case: Case, notice_id: str) -> Notice:
    notice = case.policy_state.notice(notice_id)
    if notice is None:
        raise ValidationError("command.notice", notice_id, "no such notice on the case")
    if not notice.status.is_open:
        raise ValidationError("command.notice", notice_id, f"the notice is {notice.status.value}")
    return notice


@attrs.frozen(kw_only=True)
class MarkNoticeSent:
    """The host reports that a notice went out (a credit-control level escalates only
    from a sent notice)."""

    notice: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Mark the pending notice sent."""
        notice = _open_notice(case, self.notice)
        if notice.status is NoticeStatus.SENT:
            raise ValidationError("command.notice", self.notice, "the notice is sent already")
        state = case.policy_state.with_notice(notice.with_status(NoticeStatus.SENT, on))
        return _done(_with_state(case, state), on, NoticeSent(notice=self.notice))


@attrs.frozen(kw_only=True)
class CancelNotice:
    """Cancel (reverse) an open notice: its interest and fee are no longer claimed."""

    notice: str
    reason: str

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Mark the open notice cancelled."""
        _required("command.reason", self.reason)
        notice = _open_notice(case, self.notice)
        state = case.policy_state.with_notice(notice.with_status(NoticeStatus.CANCELLED, on))
        return _done(
            _with_state(case, state), on, NoticeCancelled(notice=self.notice, reason=self.reason)
        )


@attrs.frozen(kw_only=True)
class RecordCreditNote:
    """A credit note against the loan: it reduces what is owed from the command's date."""

    id: str
    amount: Money
    component: Component = Component.PRINCIPAL
    reason: str = ""

    def apply(self, case: Case, *, on: dt.date, currency: str) -> tuple[Case, Event]:
        """Record the credit note; its id must be new."""
        _in_currency("command.amount", self.amount, currency)
        state = case.policy_state
        if any(c.id == self.id for c in state.credit_notes):
            raise ValidationError("command.id", self.id, "a credit note with this id exists")
        note = CreditNote(
            id=self.id, amount=self.amount, on=on, component=self.component, reason=self.reason
        )
        updated = _with_state(case, attrs.evolve(state, credit_notes=(*state.credit_notes, note)))
        return _done(
            updated,
            on,
            CreditNoteRecorded(
                credit_note=self.id,
                amount=self.amount.amount,
                currency=currency,
                reason=self.reason,
            ),
        )


__all__ += [
    "CancelNotice",
    "MarkNoticeSent",
    "PauseDelinquency",
    "RecordCreditNote",
    "RecordFailedPayment",
    "ResumeDelinquency",
    "SetLoanStatus",
]
