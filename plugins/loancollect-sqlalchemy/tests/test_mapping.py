"""Row <-> domain translation round-trips exactly (every arrangement kind, outbox, events)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
from hypothesis import given
from hypothesis import strategies as st
from loancollect_sqlalchemy import mapping as m

from loancollect.domain.allocation import Component
from loancollect.domain.arrangements import (
    ArrangementStatus,
    GracePeriod,
    InstallmentPlan,
    Settlement,
    Waiver,
)
from loancollect.domain.calendar import DayCount
from loancollect.domain.events import EventKind, chain
from loancollect.domain.loans import PenaltyTerms
from loancollect.domain.money import Money, Rounding
from loancollect.plugins import make_plugin_manager
from loancollect.ports import DeliveryResult, OutboxEntry, OutboxStatus
from loancollect.registry import storage_specs
from loancollect.testing import make_action, make_event, make_loan, make_payment, make_rich_case

D = dt.date(2025, 3, 1)


def test_every_arrangement_kind_round_trips() -> None:
    cny = "CNY"
    case = make_rich_case()
    arrangements = (
        *case.arrangements,
        InstallmentPlan(
            id="IP-1",
            made_on=D,
            down_payment=Money("100.00", cny),
            schedule=((D + dt.timedelta(days=30), Money("500.00", cny)),),
            tolerance=Money("1.00", cny),
        ),
        Waiver(
            id="W-1",
            made_on=D,
            component=Component.PENALTY,
            amount=Money("12.34", cny),
            approved_by="li",
            role="supervisor",
            reason="hardship",
        ),
        GracePeriod(id="G-1", made_on=D, until=D + dt.timedelta(days=10), suspend_penalty=True),
        Settlement(
            id="S-1",
            made_on=D,
            amount=Money("9000.00", cny),
            due=D + dt.timedelta(days=5),
            status=ArrangementStatus.KEPT,
            resolved_on=D + dt.timedelta(days=4),
        ),
    )
    rich = make_rich_case(arrangements=arrangements, closed_on=D)
    assert m.row_to_case(m.case_to_row(rich)) == rich


def test_loan_with_every_term_round_trips() -> None:
    loan = make_loan(
        penalty=PenaltyTerms(
            markup=Decimal("0.4"),
            rate=Decimal("0.18"),
            compound=False,
            day_count=DayCount.ACT_365F,
            rounding=Rounding.HALF_EVEN,
            accrue_from_grace_end=True,
            cap_rate=Decimal("0.24"),
        ),
        grace_days=5,
        tolerance=Money("0.50", "CNY"),
        private_lending=True,
        contract_date=dt.date(2025, 1, 10),
        product="consumer",
        day_count=DayCount.ACT_360,
    )
    row = m.loan_to_row(loan)
    assert m.row_to_loan(row, m.row_to_borrower(m.borrower_to_row(loan.borrower))) == loan


def test_outbox_entry_and_events_round_trip() -> None:
    action = make_action(fallbacks=("email", "letter"), variant="b", segment="hardship")
    result = DeliveryResult(status=DeliveryResult.sent().status, evidence=[("code", "200")])
    row = {
        "key": action.idempotency_key,
        "action": m.action_to_json(action),
        "status": "sent",
        "attempts": 2,
        "last_error": "timeout",
        "next_attempt_at": None,
        "created_on": D,
        "sent_at": pendulum.datetime(2025, 3, 1, 9, tz="UTC"),
        "result": m.result_to_json(result),
    }
    entry = m.row_to_outbox(row)
    assert entry == OutboxEntry(
        key=action.idempotency_key,
        action=action,
        status=OutboxStatus.SENT,
        attempts=2,
        last_error="timeout",
        created_on=D,
        sent_at=row["sent_at"],
        result=result,
    )
    at = pendulum.datetime(2025, 3, 1, 9, 30, tz="Asia/Shanghai")
    (event,) = chain([make_event(EventKind.ACTION_SENT, key="k")])
    (timed,) = chain([attrs_evolve_at(event, at)])
    for ev in (event, timed):
        back = m.row_to_event(m.event_to_row(ev))
        assert back == ev
        assert back.digest(back.prev_hash) == ev.hash  # the offset survives for the hash


def attrs_evolve_at(event: object, at: dt.datetime) -> object:
    import attrs

    return attrs.evolve(event, at=at)  # type: ignore[misc]


@given(
    minor=st.integers(min_value=1, max_value=10**15),
    currency=st.sampled_from(["CNY", "JPY", "KWD", "USD"]),
    days=st.integers(min_value=0, max_value=3000),
    seconds=st.integers(min_value=0, max_value=86_399),
)
def test_payments_round_trip(minor: int, currency: str, days: int, seconds: int) -> None:
    day = dt.date(2020, 1, 1) + dt.timedelta(days=days)
    at = pendulum.datetime(day.year, day.month, day.day, tz="Asia/Shanghai").add(seconds=seconds)
    pay = make_payment(amount=Money.from_minor(minor, currency), value_date=day, received_at=at)
    assert m.row_to_payment(m.payment_to_row(pay)) == pay


def test_the_entry_point_registers_the_backend() -> None:
    specs = storage_specs(make_plugin_manager(load_entrypoints=["sqlalchemy"]))
    assert specs["sqlite"].name == specs["postgresql+psycopg"].name == "sqlalchemy"
    assert specs["postgresql"].name == "sqlalchemy"
