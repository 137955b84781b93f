"""The limitation events in a case's history, and the limitation of a loan.

A demand interrupts the PRC period when it reaches the debtor (Civil Code art. 195(1);
a letter or data message that reached the debtor or should have: SPC Provisions on
Limitation of Actions art. 8(2)). So a send alone is not enough: the channel must
have reported delivery, either at the send (an ``evidence.delivered_on`` pair) or
later by a provider's delivery receipt (``DELIVERY_RECEIPT`` with status ``sent``,
which the SMS and e-mail channels map from their "delivered" reports). Letters count
only when they are demands (the letter channel marks them ``interrupts_limitation``)
and a delivery record came back. Electronic messages count as data messages; whether
they count at all is the regime's choice (England and Wales: demands never count).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from loancollect.domain.calendar import BusinessCalendar
from loancollect.domain.case import OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import (
    ActionSent,
    ContactOutcomeRecorded,
    DeliveryReceipt,
    Event,
    EventKind,
    LegalMatterAdvanced,
)
from loancollect.domain.legal.limitation import (
    Limitation,
    LimitationEvent,
    LimitationEventKind,
    Suspension,
    assess,
)
from loancollect.domain.legal.regimes import DebtType, court_calendar, regime_for
from loancollect.domain.loans import Loan

__all__ = [
    "DATA_MESSAGE_CHANNELS",
    "FILING_STEPS",
    "LETTER_CHANNELS",
    "limitation_events",
    "loan_limitation",
]

DATA_MESSAGE_CHANNELS = frozenset({"sms", "email"})
"""Channels whose delivered messages are data messages (数据电文)."""

LETTER_CHANNELS = frozenset({"letter"})
"""Channels whose delivered demands are letters (in writing)."""

FILING_STEPS = frozenset(
    {
        "payment_order_filed",
        "suit_filed",
        "small_claim_filed",
        "arbitration_filed",
        "notarised_enforcement_filed",
        "claim_issued",
        "complaint_filed",
    }
)
"""Legal-matter steps that are a filing (PRC Civil Code art. 195(3); a claim issued)."""

_DELIVERED = "sent"  # DeliveryStatus.SENT: the provider reported the message delivered
_DEMAND_MARK = "interrupts_limitation"


def limitation_events(
    history: Iterable[Event],
    *,
    data_message_channels: frozenset[str] = DATA_MESSAGE_CHANNELS,
    letter_channels: frozenset[str] = LETTER_CHANNELS,
) -> tuple[LimitationEvent, ...]:
    """The events of a case's history that may interrupt its limitation period.

    - ``PAYMENT_RECEIVED``: a part payment on its date.
    - ``PROMISE_MADE``, and a ``CONTACT_OUTCOME`` of ``promise``: the debtor agreed to
      pay (an acknowledgment; not in writing).
    - ``ACTION_SENT`` on a data-message or letter channel, delivered (see the module):
      a demand that reached the debtor, on the delivery date.
    - ``LEGAL_MATTER_ADVANCED`` to a step in :data:`FILING_STEPS`: a filing.
    """
    sent: dict[str, tuple[ActionSent, Event]] = {}
    out: list[LimitationEvent] = []
    counted: set[str] = set()
    for event in history:
        kind = event.kind
        if kind is EventKind.PAYMENT_RECEIVED:
            out.append(
                LimitationEvent(
                    kind=LimitationEventKind.PART_PAYMENT, on=event.on, source=kind.value
                )
            )
        elif kind is EventKind.PROMISE_MADE:
            out.append(
                LimitationEvent(
                    kind=LimitationEventKind.ACKNOWLEDGMENT, on=event.on, source=kind.value
                )
            )
        elif kind is EventKind.CONTACT_OUTCOME:
            outcome = event.payload
            assert isinstance(outcome, ContactOutcomeRecorded)
            if outcome.outcome is OutcomeKind.PROMISE:
                out.append(
                    LimitationEvent(
                        kind=LimitationEventKind.ACKNOWLEDGMENT, on=event.on, source=kind.value
                    )
                )
        elif kind is EventKind.ACTION_SENT:
            action = event.payload
            assert isinstance(action, ActionSent)
            if action.channel not in data_message_channels | letter_channels:
                continue
            evidence = dict(action.evidence)
            if action.channel in letter_channels and _DEMAND_MARK not in evidence:
                continue
            sent[action.key] = (action, event)
            delivered = evidence.get("delivered_on")
            if delivered and action.key not in counted:
                counted.add(action.key)
                out.append(_demand(action, _date(delivered), letter_channels))
        elif kind is EventKind.DELIVERY_RECEIPT:
            receipt = event.payload
            assert isinstance(receipt, DeliveryReceipt)
            found = sent.get(receipt.key)
            if found is None or receipt.status != _DELIVERED or receipt.key in counted:
                continue
            counted.add(receipt.key)
            out.append(_demand(found[0], event.on, letter_channels))
        elif kind is EventKind.LEGAL_MATTER_ADVANCED:
            step = event.payload
            assert isinstance(step, LegalMatterAdvanced)
            if step.step in FILING_STEPS:
                out.append(
                    LimitationEvent(
                        kind=LimitationEventKind.FILING,
                        on=event.on,
                        written=True,
                        source=step.matter,
                    )
                )
    return tuple(out)


def _demand(action: ActionSent, on: dt.date, letters: frozenset[str]) -> LimitationEvent:
    letter = action.channel in letters
    return LimitationEvent(
        kind=LimitationEventKind.DEMAND_DELIVERED,
        on=on,
        written=letter,
        data_message=not letter,
        source=action.key,
    )


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError("evidence.delivered_on", text, "expected YYYY-MM-DD") from None


def loan_limitation(
    loan: Loan,
    history: Sequence[Event],
    *,
    as_of: dt.date | None = None,
    debt_type: DebtType = DebtType.WRITTEN_CONTRACT,
    suspensions: Iterable[Suspension] = (),
    calendar: BusinessCalendar | None = None,
) -> Limitation | None:
    """The limitation of ``loan`` from its history, or None where its borrower's
    jurisdiction has no regime here.

    The period runs from the last instalment's due date (PRC Civil Code art. 189; in
    England and Wales and the US each instalment accrues on its own, and the last one
    is the last to be barred — earlier ones may be barred sooner). An acceleration of
    the whole balance is not modelled.
    """
    regime = regime_for(loan.borrower.jurisdiction, debt_type)
    # The integer plan (due ordinal first) has a row per installment: reading it does
    # not build the Installment objects of a loan rebuilt from storage.
    if regime is None or not loan.plan:
        return None
    if calendar is None and regime.roll_last_day:
        calendar = court_calendar(loan.borrower.jurisdiction)
    accrued = dt.date.fromordinal(max(row[0] for row in loan.plan))
    return assess(
        regime,
        accrued,
        limitation_events(history),
        suspensions=suspensions,
        calendar=calendar,
        until=as_of,
    )
