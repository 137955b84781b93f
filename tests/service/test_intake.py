"""The intake: the one way in for payments, outcomes, inbound messages and case commands."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
import pytest

from loancollect import (
    Actor,
    AdvanceLegalMatter,
    Assign,
    ChargeOffDebt,
    ClearFlag,
    GeoPoint,
    Inbound,
    InboundKind,
    Money,
    OpenLegalMatter,
    Outcome,
    OutcomeKind,
    Payment,
    PlaceWithAgency,
    PromiseTerms,
    RecallFromAgency,
    SellDebt,
    SetFlag,
    make_plugin_manager,
)
from loancollect.domain.case import CEASE_FLAG, HoldKind
from loancollect.domain.events import EventKind
from loancollect.engine import CollectionEngine
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryStatus
from loancollect.testing import FixedClock, MemoryStore, make_loan

DAY = dt.date(2025, 3, 20)
# 23:30 UTC on the 19th is 07:30 on the 20th in Shanghai: the borrower's date counts.
LATE_UTC = dt.datetime(2025, 3, 19, 23, 30, tzinfo=dt.UTC)


def _engine() -> tuple[CollectionEngine, MemoryStore]:
    store = MemoryStore()
    engine = CollectionEngine(
        pm=make_plugin_manager(),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 3, 20, 2, tz="UTC")),
        validate_templates=False,
    )
    engine.add_loans([make_loan()], review_on=DAY)
    return engine, store


def _stream(store: MemoryStore) -> list[EventKind]:
    with store() as uow:
        return [e.kind for e in uow.events.stream("L-1")]


def test_a_promise_outcome_records_the_promise_and_its_evidence() -> None:
    engine, store = _engine()
    outcome = Outcome(
        kind=OutcomeKind.PROMISE,
        at=LATE_UTC,
        channel="phone",
        key="L-1/call/2025-03-20",
        by=Actor(agent="a-7", team="east"),
        duration=dt.timedelta(minutes=4, seconds=10),
        evidence="rec-991",
        promise=PromiseTerms(amount=Money("500.00", "CNY"), due=dt.date(2025, 3, 25)),
    )
    engine.intake.record_outcome("L-1", outcome)
    with store() as uow:
        case = uow.cases.get("L-1")
        events = uow.events.stream("L-1")
    assert case is not None
    assert [p.amount for p in case.promises] == [Money("500.00", "CNY")]
    assert case.contacts[-1].on == DAY  # the borrower's local date
    assert [e.kind for e in events] == [EventKind.CONTACT_OUTCOME, EventKind.PROMISE_MADE]
    assert events[0].at == LATE_UTC


def test_a_promise_in_another_currency_is_refused_and_nothing_is_written() -> None:
    engine, store = _engine()
    outcome = Outcome(
        kind=OutcomeKind.PROMISE,
        at=LATE_UTC,
        channel="phone",
        promise=PromiseTerms(amount=Money("500.00", "USD"), due=dt.date(2025, 3, 25)),
    )
    with pytest.raises(ValidationError, match=r"outcome\.promise\.amount.*USD"):
        engine.intake.record_outcome("L-1", outcome)
    assert _stream(store) == []


@pytest.mark.parametrize(
    ("kind", "hold"),
    [
        (OutcomeKind.DISPUTE_RAISED, HoldKind.DISPUTE),
        (OutcomeKind.DECEASED, HoldKind.DECEASED),
        (OutcomeKind.BANKRUPTCY, HoldKind.BANKRUPTCY),
    ],
)
def test_an_outcome_that_stops_collection_holds_the_case(kind: OutcomeKind, hold: HoldKind) -> None:
    engine, store = _engine()
    engine.intake.record_outcome("L-1", Outcome(kind=kind, at=LATE_UTC, channel="visit"))
    with store() as uow:
        case = uow.cases.get("L-1")
    assert case is not None
    assert [h.kind for h in case.active_holds(DAY)] == [hold]


def test_a_cease_request_sets_the_cease_flag_with_its_date() -> None:
    engine, store = _engine()
    engine.intake.record_outcome(
        "L-1", Outcome(kind=OutcomeKind.CEASE_REQUEST, at=LATE_UTC, channel="phone")
    )
    with store() as uow:
        case = uow.cases.get("L-1")
    assert case is not None
    assert f"{CEASE_FLAG}:2025-03-20" in case.flags


def test_an_outcome_needs_an_aware_instant_and_a_promise_needs_terms() -> None:
    with pytest.raises(ValidationError, match=r"outcome\.at"):
        Outcome(kind=OutcomeKind.NO_ANSWER, at=dt.datetime(2025, 3, 20, 10), channel="phone")
    with pytest.raises(ValidationError, match=r"outcome\.promise"):
        Outcome(kind=OutcomeKind.PROMISE, at=LATE_UTC, channel="phone")
    with pytest.raises(ValidationError, match=r"location\.lat"):
        GeoPoint(lat=Decimal("91"), lon=Decimal("0"))


def test_a_payment_in_another_currency_or_before_the_loan_is_refused_at_the_door() -> None:
    engine, store = _engine()
    at = dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match=r"payment\.currency"):
        engine.intake.record_payment(
            Payment(
                id="P1", loan_id="L-1", amount=Money("10", "USD"), value_date=DAY, received_at=at
            )
        )
    with pytest.raises(ValidationError, match=r"payment\.value_date"):
        engine.intake.record_payment(
            Payment(
                id="P2",
                loan_id="L-1",
                amount=Money("10", "CNY"),
                value_date=dt.date(2020, 1, 1),
                received_at=at,
            )
        )
    assert _stream(store) == []
    with store() as uow:
        assert uow.loans.payments_for("L-1") == ()


def test_inbound_receipts_opt_outs_and_replies_come_through_the_intake() -> None:
    engine, store = _engine()
    from loancollect.testing import make_action

    action = make_action()
    with store() as uow:
        uow.outbox.add(action, created_on=DAY)
        uow.commit()
    key = action.idempotency_key
    engine.intake.receive(
        Inbound(
            kind=InboundKind.RECEIPT,
            channel="sms",
            at=LATE_UTC,
            key=key,
            status=DeliveryStatus.SENT,
        )
    )
    engine.intake.receive(Inbound(kind=InboundKind.REPLY, channel="sms", at=LATE_UTC, key=key))
    engine.intake.receive(
        Inbound(kind=InboundKind.OPT_OUT, channel="sms", at=LATE_UTC, loan_id="L-1")
    )
    assert _stream(store) == [
        EventKind.DELIVERY_RECEIPT,
        EventKind.INBOUND_MESSAGE,
        EventKind.OPT_OUT,
    ]
    with pytest.raises(ValidationError, match=r"inbound\.key"):
        engine.intake.receive(
            Inbound(kind=InboundKind.REPLY, channel="sms", at=LATE_UTC, key="nope")
        )


def test_case_commands_are_validated_against_the_case_and_recorded() -> None:
    engine, store = _engine()
    intake = engine.intake
    intake.apply("L-1", SetFlag(flag="enforcement_off"), on=DAY)
    with pytest.raises(ValidationError, match=r"command\.flag"):
        intake.apply("L-1", SetFlag(flag="enforcement_off"), on=DAY)
    intake.apply("L-1", ClearFlag(flag="enforcement_off"), on=DAY)
    intake.apply("L-1", Assign(agent="a-7"), on=DAY)
    intake.apply("L-1", PlaceWithAgency(agency="acme", placement="P-1"), on=DAY)
    with pytest.raises(ValidationError, match="placed with 'acme'"):
        intake.apply("L-1", RecallFromAgency(agency="other", reason="end of term"), on=DAY)
    with pytest.raises(ValidationError, match="placed with 'acme'"):
        intake.apply("L-1", SellDebt(buyer="b", sale="S-1"), on=DAY)
    intake.apply("L-1", RecallFromAgency(agency="acme", reason="end of term"), on=DAY)
    intake.apply("L-1", OpenLegalMatter(matter="M-1", route="payment_order"), on=DAY)
    intake.apply("L-1", AdvanceLegalMatter(matter="M-1", step="filed"), on=DAY)
    with pytest.raises(ValidationError, match=r"command\.amount"):
        intake.apply("L-1", ChargeOffDebt(amount=Money("100", "USD"), reason="180 dpd"), on=DAY)
    intake.apply("L-1", ChargeOffDebt(amount=Money("6000", "CNY"), reason="180 dpd"), on=DAY)
    intake.record_payment(
        Payment(
            id="P9",
            loan_id="L-1",
            amount=Money("50", "CNY"),
            value_date=DAY,
            received_at=LATE_UTC,
        )
    )
    intake.apply("L-1", SellDebt(buyer="b", sale="S-1", price=Money("600", "CNY")), on=DAY)
    with store() as uow:
        case = uow.cases.get("L-1")
    assert case is not None
    assert case.assignment is not None
    assert case.assignment.agent == "a-7"
    assert case.placement is None
    assert case.legal_matter is not None
    assert case.legal_matter.step == "filed"
    assert case.charge_off is not None
    assert case.charge_off.amount == Money("6000", "CNY")
    assert case.sale is not None
    assert case.sale.buyer == "b"
    assert _stream(store) == [
        EventKind.FLAG_SET,
        EventKind.FLAG_CLEARED,
        EventKind.CASE_ASSIGNED,
        EventKind.CASE_PLACED,
        EventKind.CASE_RECALLED,
        EventKind.LEGAL_MATTER_OPENED,
        EventKind.LEGAL_MATTER_ADVANCED,
        EventKind.CHARGED_OFF,
        EventKind.PAYMENT_RECEIVED,
        EventKind.RECOVERY_RECORDED,
        EventKind.CASE_SOLD,
    ]
