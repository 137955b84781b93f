"""Builders for tests of plug-ins and host applications.

Each builder returns a fresh frozen value with sensible defaults; override any
field by keyword. No fixtures and no hidden state, so the same call always
builds the same value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum

from loancollect.domain import events as ev
from loancollect.domain.arrangements import ArrangementStatus, PromiseToPay
from loancollect.domain.case import (
    Assignment,
    Case,
    ChargeOff,
    ContactOutcome,
    Hold,
    HoldKind,
    LegalMatter,
    OutcomeKind,
    Placement,
    Sale,
)
from loancollect.domain.events import Event, EventKind, Payload, new_event
from loancollect.domain.loans import (
    Borrower,
    ContactKind,
    ContactPoint,
    Loan,
    PartyKind,
    Payment,
    RepaymentMethod,
)
from loancollect.domain.money import Money
from loancollect.domain.strategy import PlannedAction, Tone, idempotency_key
from loancollect.ports import RenderedMessage
from loancollect.templates import LenderInfo

__all__ = [
    "make_action",
    "make_borrower",
    "make_case",
    "make_event",
    "make_lender",
    "make_loan",
    "make_message",
    "make_payload",
    "make_payment",
    "make_rich_case",
]


def make_borrower(**overrides: Any) -> Borrower:
    """An individual in Shanghai (zh_CN) with a mobile number, an e-mail and an address."""
    fields: dict[str, Any] = {
        "id": "B-1",
        "kind": PartyKind.INDIVIDUAL,
        "name": "张伟",
        "jurisdiction": "CN",
        "time_zone": "Asia/Shanghai",
        "locale": "zh_CN",
        "contact_points": (
            ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label="mobile"),
            ContactPoint(ContactKind.EMAIL, "zhang.wei@example.com", label="home"),
            ContactPoint(ContactKind.ADDRESS, "上海市浦东新区示例路1号", label="home"),
        ),
        "national_id": "110101199003071234",
    }
    fields.update(overrides)
    return Borrower(**fields)


def make_loan(**overrides: Any) -> Loan:
    """100,000 CNY at 6 %, 12 monthly equal installments (等额本息) from 2025-01-15.

    Any :meth:`Loan.create` keyword may be overridden; ``borrower`` defaults to
    :func:`make_borrower` and ``id`` to ``"L-1"``.
    """
    fields: dict[str, Any] = {
        "id": "L-1",
        "borrower": make_borrower(),
        "principal": Money("100000.00", "CNY"),
        "annual_rate": Decimal("0.06"),
        "term": 12,
        "disbursement_date": dt.date(2025, 1, 15),
        "method": RepaymentMethod.EQUAL_INSTALLMENT,
    }
    fields.update(overrides)
    return Loan.create(**fields)


def make_payment(**overrides: Any) -> Payment:
    """A payment of 500 CNY to ``L-1`` on 2025-03-01."""
    fields: dict[str, Any] = {
        "id": "P-1",
        "loan_id": "L-1",
        "amount": Money("500.00", "CNY"),
        "value_date": dt.date(2025, 3, 1),
        "received_at": pendulum.datetime(2025, 3, 1, 10, tz="Asia/Shanghai"),
        "reference": "bank transfer",
    }
    fields.update(overrides)
    return Payment(**fields)


def make_case(**overrides: Any) -> Case:
    """An open case of ``L-1`` in stage ``early``, due for review on 2025-03-01."""
    fields: dict[str, Any] = {
        "loan_id": "L-1",
        "stage": "early",
        "stage_since": dt.date(2025, 2, 20),
        "next_review_date": dt.date(2025, 3, 1),
    }
    fields.update(overrides)
    return Case(**fields)


def make_rich_case(**overrides: Any) -> Case:
    """A case using every field (promise, hold, contact outcome, flags, last actions,
    assignment, agency placement, legal matter, charge-off and sale).

    Storage backends must store and return it unchanged: the round trip of this
    value is part of the storage conformance suite.
    """
    fields: dict[str, Any] = {
        "loan_id": "L-1",
        "stage": "late",
        "stage_since": dt.date(2025, 3, 10),
        "segment": "hardship",
        "variant": "challenger",
        "arrangements": (
            PromiseToPay(
                id="PTP-1",
                made_on=dt.date(2025, 3, 12),
                amount=Money("1000.00", "CNY"),
                due=dt.date(2025, 3, 20),
                missed_days=2,
                status=ArrangementStatus.BROKEN,
                resolved_on=dt.date(2025, 3, 23),
            ),
        ),
        "holds": (Hold(HoldKind.DISPUTE, dt.date(2025, 3, 1), dt.date(2025, 3, 5), "amount"),),
        "contacts": (
            ContactOutcome(dt.date(2025, 3, 12), "phone", OutcomeKind.PROMISE, "will pay 1000"),
        ),
        "flags": frozenset({"litigation_recommended", "placed:agency-x"}),
        "last_actions": ((("sms-overdue", dt.date(2025, 3, 11))),),
        "next_review_date": dt.date(2025, 3, 25),
        "assignment": Assignment(agent="agent-7", team="east", since=dt.date(2025, 3, 10)),
        "placement": Placement(
            agency="agency-x",
            placement="PL-1",
            since=dt.date(2025, 3, 14),
            tier="primary",
            until=dt.date(2025, 6, 14),
        ),
        "legal_matter": LegalMatter(
            matter="M-1", route="payment_order", opened_on=dt.date(2025, 3, 15), step="filed"
        ),
        "charge_off": ChargeOff(
            amount=Money("5000.00", "CNY"), reason="180 dpd", on=dt.date(2025, 3, 16)
        ),
        "sale": Sale(
            buyer="buyer-1", sale="S-1", on=dt.date(2025, 3, 17), price=Money("800.00", "CNY")
        ),
    }
    fields.update(overrides)
    return Case(**fields)


def make_action(**overrides: Any) -> PlannedAction:
    """An SMS overdue notice for ``L-1`` planned on 2025-03-01.

    The idempotency key follows ``loan_id``, ``rule_id`` and ``as_of`` unless given.
    """
    fields: dict[str, Any] = {
        "loan_id": "L-1",
        "rule_id": "sms-overdue",
        "stage": "early",
        "channel": "sms",
        "template": "overdue_notice",
        "tone": Tone.REMINDER,
        "as_of": dt.date(2025, 3, 1),
        "locale": "zh_CN",
        "contact": ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label="mobile"),
    }
    fields.update(overrides)
    if "idempotency_key" not in fields:
        fields["idempotency_key"] = idempotency_key(
            fields["loan_id"], fields["rule_id"], fields["as_of"]
        )
    return PlannedAction(**fields)


def make_message(**overrides: Any) -> RenderedMessage:
    """A short rendered SMS."""
    fields: dict[str, Any] = {
        "template": "overdue_notice",
        "channel": "sms",
        "locale": "en_US",
        "text": "Amount due: ¥1,234.56 by March 15, 2025. Pay in the app.",
    }
    fields.update(overrides)
    return RenderedMessage(**fields)


_DAY = dt.date(2025, 3, 1)
_AT = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

_EXAMPLES: dict[EventKind, Payload] = {
    p.kind: p
    for p in (
        ev.CaseOpened(review_on=_DAY),
        ev.StageChanged(previous="early", current="late", reason="dpd >= 31", dpd=31),
        ev.SegmentAssigned(segment="forgetful", previous=""),
        ev.VariantAssigned(experiment="default", variant="champion"),
        ev.ActionPlanned(
            rule="late.sms", channel="sms", key="L-1:late.sms:2025-03-01", template="t"
        ),
        ev.ActionSent(
            key="L-1:late.sms:2025-03-01",
            channel="sms",
            rule="late.sms",
            attempts=1,
            provider_id="m-1",
            contact="+86*********00",
            place="mobile",
        ),
        ev.ActionFailed(
            key="L-1:late.sms:2025-03-01",
            channel="sms",
            rule="late.sms",
            status="failed_retryable",
            detail="gateway timeout",
            attempts=1,
            retry_at=_AT,
        ),
        ev.ActionBlocked(
            key="L-1:late.sms:2025-03-01",
            channel="sms",
            rule="late.sms",
            reasons="CN-01: outside the allowed hours",
            citations="GB/T 45251—2025",
        ),
        ev.ActionRescheduled(
            key="L-1:late.sms:2025-03-01",
            channel="sms",
            rule="late.sms",
            not_before=_AT,
            reasons="CN-01: outside the allowed hours",
            citations="GB/T 45251—2025",
        ),
        ev.DeliveryReceipt(
            key="L-1:late.sms:2025-03-01", channel="sms", status="sent", provider_id="m-1"
        ),
        ev.PaymentReceived(payment="P-1", amount=Decimal("100.00"), currency="CNY"),
        ev.PromiseMade(arrangement="PTP-1", amount=Decimal("500.00")),
        ev.PromiseKept(arrangement="PTP-1", type="promise", status="kept", resolved_on=_DAY),
        ev.PromiseBroken(arrangement="PTP-1", type="promise", status="broken", resolved_on=_DAY),
        ev.ArrangementMade(arrangement="PLAN-1", type="installment_plan"),
        ev.ArrangementCompleted(
            arrangement="PLAN-1", type="installment_plan", status="completed", resolved_on=_DAY
        ),
        ev.ArrangementBroken(
            arrangement="PLAN-1", type="installment_plan", status="broken", resolved_on=_DAY
        ),
        ev.OfferMade(
            rule="hardship.plan",
            type="installment_plan",
            valid_until=dt.date(2025, 3, 15),
            amount_due=Decimal("1200.00"),
            currency="CNY",
        ),
        ev.ContactOutcomeRecorded(channel="phone", outcome="right_party_contact"),
        ev.OptedOut(channel="sms"),
        ev.HoldPlaced(hold="dispute", start=_DAY, reason="dispute raised"),
        ev.HoldReleased(hold="dispute"),
        ev.CasePlaced(agency="agency-x", placement="PL-1"),
        ev.CaseRecalled(agency="agency-x", placement="PL-1", reason="end of placement"),
        ev.LitigationRecommended(
            dpd=91, amount=Decimal("3000.00"), currency="CNY", reason="dpd >= 91"
        ),
        ev.CaseClosed(outcome="settled"),
        ev.FlagSet(flag="time_barred"),
        ev.FlagCleared(flag="time_barred"),
        ev.CaseAssigned(agent="agent-7", team="team-a"),
        ev.LegalMatterOpened(matter="M-1", route="litigation"),
        ev.LegalMatterAdvanced(matter="M-1", step="filed"),
        ev.ChargedOff(amount=Decimal("3000.00"), currency="CNY", reason="180 dpd"),
        ev.ChargeOffReversed(reason="booked in error"),
        ev.WrittenOff(amount=Decimal("3000.00"), currency="CNY", reason="uncollectable"),
        ev.RecoveryRecorded(payment="P-2", amount=Decimal("50.00"), currency="CNY"),
        ev.CaseSold(buyer="buyer-1", sale="S-1", price=Decimal("300.00"), currency="CNY"),
        ev.InboundMessage(channel="sms", kind="reply"),
        ev.CaseBoughtBack(buyer="buyer-1", sale="S-1", reason="disputed before the sale"),
        ev.CallReviewed(call="CA-1", outcome="promise", score=100),
    )
}


def make_payload(kind: EventKind = EventKind.STAGE_CHANGED, **fields: Any) -> Payload:
    """An example payload of ``kind`` (every kind has one) with ``fields`` replaced."""
    example = _EXAMPLES[kind]
    return attrs.evolve(example, **fields) if fields else example


def make_event(
    kind: EventKind | Payload = EventKind.STAGE_CHANGED,
    loan_id: str = "L-1",
    on: dt.date = _DAY,
    *,
    at: dt.datetime | None = None,
    **fields: Any,
) -> Event:
    """An unchained event: the payload given, or :func:`make_payload` of ``kind`` with
    ``fields`` replaced (``make_event(EventKind.ACTION_SENT, key="k")``)."""
    if isinstance(kind, Payload):
        payload = attrs.evolve(kind, **fields) if fields else kind
    else:
        payload = make_payload(kind, **fields)
    return new_event(payload, loan_id=loan_id, on=on, at=at)


def make_lender(**overrides: Any) -> LenderInfo:
    """A lender with a phone number and payment instructions."""
    fields: dict[str, Any] = {
        "name": "Sample Bank",
        "phone": "400-000-0000",
        "how_to_pay": "Pay in the Sample Bank app under 'My loans', quoting your loan number.",
        "address": "1 Sample Road, Shanghai",
    }
    fields.update(overrides)
    return LenderInfo(**fields)
