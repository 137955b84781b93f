"""The legal desk through a real engine: matters opened and advanced through the
intake, refused on time-barred debt, their ledger and the report table."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from loancollect_courts.desk import LegalDesk
from loancollect_courts.fees import Procedure, filing_fee
from loancollect_courts.hooks import legal_costs_table
from loancollect_courts.ledger import CostKind, LawyerTariff

from loancollect.domain.errors import ValidationError
from loancollect.domain.events import EventKind
from loancollect.domain.loans import Payment
from loancollect.domain.money import Money
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.testing import FixedClock, MemoryStore, make_loan

D = dt.date
OPEN = D(2026, 3, 2)


def _desk(tariff: LawyerTariff | None = None) -> tuple[LegalDesk, CollectionEngine, MemoryStore]:
    store = MemoryStore()
    engine = CollectionEngine(
        pm=make_plugin_manager(),
        storage=store,
        clock=FixedClock(pendulum.datetime(2026, 3, 2, 2, tz="UTC")),
        validate_templates=False,
    )
    engine.add_loans([make_loan()], review_on=D(2025, 2, 15))
    return LegalDesk(engine.apply, store, tariff=tariff), engine, store


def test_a_matter_is_opened_and_advanced_through_the_intake() -> None:
    desk, _, store = _desk()
    desk.open("L-1", "cn_litigation", OPEN, matter="M1")
    desk.advance("L-1", "demand_letter_sent", OPEN, "律师函")
    with store() as uow:
        case = uow.cases.get("L-1")
        kinds = [e.kind for e in uow.events.stream("L-1")]
    assert case is not None
    assert case.legal_matter is not None
    assert case.legal_matter.step == "demand_letter_sent"
    assert kinds[-2:] == [EventKind.LEGAL_MATTER_OPENED, EventKind.LEGAL_MATTER_ADVANCED]
    docket = desk.docket("L-1", D(2026, 3, 10))  # the letter's 7 days ended on 9 Mar
    assert docket is not None
    assert docket.state == "demand_unanswered"


def test_a_step_the_docket_does_not_allow_is_not_recorded() -> None:
    desk, _, store = _desk()
    desk.open("L-1", "cn_litigation", OPEN, matter="M1")
    with store() as uow:
        before = len(uow.events.stream("L-1"))
    with pytest.raises(ValidationError, match="judgment"):
        desk.advance("L-1", "judgment", OPEN)
    with store() as uow:
        assert len(uow.events.stream("L-1")) == before


def test_no_matter_on_a_time_barred_debt() -> None:
    desk, _, _ = _desk()
    # The last instalment fell due on 2026-01-15: the PRC period ended on 2029-01-15.
    with pytest.raises(ValidationError, match="time-barred since 2029-01-15"):
        desk.open("L-1", "cn_litigation", D(2029, 1, 16))
    assert (
        desk.open("L-1", "cn_litigation", D(2029, 1, 16), allow_time_barred=True).state == "opened"
    )


def test_a_route_of_another_jurisdiction_is_refused() -> None:
    desk, _, _ = _desk()
    with pytest.raises(ValidationError, match="jurisdiction is CN"):
        desk.open("L-1", "gb_debt_claim", OPEN)


def test_ledger_and_report_set_the_payment_order_fee_against_recoveries() -> None:
    tariff = LawyerTariff(
        per_step={"payment_order_filed": Money("1500.00", "CNY")}, recoverable=False
    )
    desk, engine, store = _desk(tariff)
    desk.open("L-1", "cn_litigation", OPEN, matter="M1")
    desk.advance("L-1", "payment_order_filed", OPEN)
    claim = desk.claim("L-1", OPEN)
    ledger = desk.ledger("L-1")
    assert ledger is not None
    fee = next(e for e in ledger.entries if e.kind is CostKind.COURT_FEE)
    assert fee.amount == filing_fee(claim, Procedure.PAYMENT_ORDER).fee
    assert fee.recoverable
    assert ledger.borne() == Money("1500.00", "CNY")
    engine.record_payment(
        Payment(
            id="court-1",
            loan_id="L-1",
            amount=Money("1000.00", "CNY"),
            value_date=D(2026, 3, 20),
            received_at=pendulum.datetime(2026, 3, 20, 2, tz="UTC"),
        )
    )
    with store() as uow:
        events = uow.events.stream("L-1")
    table = legal_costs_table(events, store)
    assert table.name == "courts_costs"
    (row,) = table.rows
    assert row[0] == "CNY"
    assert row[1] == "1"
    assert row[2] == f"{fee.amount.amount:.2f}"  # court fees only: no lawyers' tariff
    assert row[4] == "1000.00"


def test_the_england_and_wales_route_is_not_for_scotland() -> None:
    from loancollect_courts.desk import _covers

    assert _covers("GB-ENG", "GB")
    assert _covers("GB-ENG", "GB-WLS")
    assert not _covers("GB-ENG", "GB-SCT")
    assert _covers("US", "US-NY")
    assert _covers("CN", "CN")
    assert not _covers("CN", "CNX")
