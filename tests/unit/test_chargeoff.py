"""Charge-off at the lender's thresholds, and buying back a sold debt."""

from __future__ import annotations

import datetime as dt

import pytest

from loancollect.domain.case import ChargeOff, Hold, HoldKind, Sale
from loancollect.domain.chargeoff import (
    PRC_BAD_DEBT,
    US_UNIFORM_RETAIL,
    charge_off_for,
)
from loancollect.domain.commands import BuyBackDebt, ChargeOffDebt, SellDebt, WriteOffDebt
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import CaseBoughtBack
from loancollect.domain.money import Money
from loancollect.testing import make_case

DAY = dt.date(2025, 9, 1)
BALANCE = Money("8123.45", "CNY")


def test_a_closed_end_loan_is_charged_off_at_120_days_past_due_for_its_balance() -> None:
    case = make_case()
    assert charge_off_for(case, dpd=119, balance=BALANCE, policy=US_UNIFORM_RETAIL, on=DAY) is None
    assert charge_off_for(
        case, dpd=120, balance=BALANCE, policy=US_UNIFORM_RETAIL, on=DAY
    ) == ChargeOffDebt(amount=BALANCE, reason="120 days past due, closed-end (UCRC)")


def test_a_bankruptcy_is_charged_off_60_days_after_notice_whatever_the_dpd() -> None:
    case = make_case(holds=(Hold(HoldKind.BANKRUPTCY, DAY - dt.timedelta(days=59)),))
    assert charge_off_for(case, dpd=40, balance=BALANCE, policy=US_UNIFORM_RETAIL, on=DAY) is None
    later = DAY + dt.timedelta(days=1)
    command = charge_off_for(case, dpd=41, balance=BALANCE, policy=US_UNIFORM_RETAIL, on=later)
    assert command == ChargeOffDebt(amount=BALANCE, reason="bankruptcy notice + 60 days (UCRC)")


def test_prc_bad_debt_is_written_off_on_death_and_charged_off_at_180_dpd() -> None:
    dead = make_case(holds=(Hold(HoldKind.DECEASED, DAY),))
    command = charge_off_for(dead, dpd=30, balance=BALANCE, policy=PRC_BAD_DEBT, on=DAY)
    assert isinstance(command, WriteOffDebt)
    assert command.amount == BALANCE
    assert (
        charge_off_for(make_case(), dpd=179, balance=BALANCE, policy=PRC_BAD_DEBT, on=DAY) is None
    )
    assert isinstance(
        charge_off_for(make_case(), dpd=180, balance=BALANCE, policy=PRC_BAD_DEBT, on=DAY),
        ChargeOffDebt,
    )


def test_a_debt_charged_off_or_with_nothing_owed_is_not_charged_off_again() -> None:
    off = make_case(charge_off=ChargeOff(amount=BALANCE, reason="x", on=DAY))
    assert charge_off_for(off, dpd=400, balance=BALANCE, policy=US_UNIFORM_RETAIL, on=DAY) is None
    zero = Money.zero("CNY")
    assert (
        charge_off_for(make_case(), dpd=400, balance=zero, policy=US_UNIFORM_RETAIL, on=DAY) is None
    )


def test_a_debt_bought_back_is_collected_again_and_its_case_reopens() -> None:
    sold, _ = SellDebt(buyer="buyer-x", sale="S-1").apply(make_case(), on=DAY, currency="CNY")
    assert sold.closed_on == DAY
    assert sold.sale == Sale(buyer="buyer-x", sale="S-1", on=DAY)
    later = DAY + dt.timedelta(days=9)
    back, event = BuyBackDebt(sale="S-1", reason="disputed before the sale").apply(
        sold, on=later, currency="CNY"
    )
    assert back.sale is None
    assert back.closed_on is None
    assert back.next_review_date is not None
    assert back.next_review_date <= later
    assert event.payload == CaseBoughtBack(
        buyer="buyer-x", sale="S-1", reason="disputed before the sale"
    )


def test_buying_back_from_another_sale_or_an_unsold_debt_is_refused() -> None:
    sold, _ = SellDebt(buyer="buyer-x", sale="S-1").apply(make_case(), on=DAY, currency="CNY")
    with pytest.raises(ValidationError, match=r"command\.sale"):
        BuyBackDebt(sale="S-2", reason="x").apply(sold, on=DAY, currency="CNY")
    with pytest.raises(ValidationError, match=r"command\.sale"):
        BuyBackDebt(sale="S-1", reason="x").apply(make_case(), on=DAY, currency="CNY")
