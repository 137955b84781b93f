"""Commission and remittance reconciliation, to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from loancollect_agencies.commission import (
    Band,
    CommissionRate,
    CommissionSchedule,
    PlacementTerms,
)
from loancollect_agencies.league import PlacementResult, league_table
from loancollect_agencies.remittance import (
    Difference,
    DifferenceKind,
    ExpectedCollection,
    RemittanceLine,
    reconcile,
)

from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


SCHEDULE = CommissionSchedule(
    rates=(
        CommissionRate(
            tier="primary",
            max_age_days=90,
            bands=(Band(rate=Decimal("0.18"), up_to=Decimal(10000)), Band(rate=Decimal("0.15"))),
        ),
        CommissionRate(tier="primary", min_age_days=91, bands=(Band(rate=Decimal("0.22")),)),
        CommissionRate(
            tier="secondary",
            min_balance=Decimal(50000),
            bands=(Band(rate=Decimal("0.20")),),
        ),
        CommissionRate(tier="secondary", bands=(Band(rate=Decimal("0.25")),)),
    )
)
PRIMARY = PlacementTerms(tier="primary", age_days=45, balance=cny("30000.00"))


def test_commission_is_marginal_over_the_bands_of_the_amount_collected() -> None:
    fees = SCHEDULE.commissions(PRIMARY, [cny("6000.00"), cny("6000.00"), cny("1000.00")])
    # 6000 x 18 %; then 4000 x 18 % + 2000 x 15 %; then 1000 x 15 %
    assert fees == [cny("1080.00"), cny("1020.00"), cny("150.00")]


def test_commission_is_rounded_once_half_up_to_the_fen() -> None:
    assert SCHEDULE.commissions(PRIMARY, [cny("0.25")]) == [cny("0.05")]  # 0.045
    assert SCHEDULE.commissions(PRIMARY, [cny("333.33")]) == [cny("60.00")]  # 59.9994


def test_the_rate_follows_tier_age_and_balance() -> None:
    old = PlacementTerms(tier="primary", age_days=91, balance=cny("30000.00"))
    big = PlacementTerms(tier="secondary", age_days=120, balance=cny("50000.00"))
    small = PlacementTerms(tier="secondary", age_days=120, balance=cny("49999.99"))
    assert SCHEDULE.commissions(old, [cny("1000.00")]) == [cny("220.00")]
    assert SCHEDULE.commissions(big, [cny("1000.00")]) == [cny("200.00")]
    assert SCHEDULE.commissions(small, [cny("1000.00")]) == [cny("250.00")]


def test_a_placement_no_rate_covers_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"commission\.terms"):
        SCHEDULE.commissions(PlacementTerms(tier="tertiary", age_days=200, balance=cny("1.00")), [])


def test_bands_must_increase_and_only_the_last_may_be_open() -> None:
    with pytest.raises(ValidationError, match=r"commission_rate\.bands"):
        CommissionRate(bands=(Band(rate=Decimal("0.1")), Band(rate=Decimal("0.2"))))
    with pytest.raises(ValidationError, match=r"band\.rate"):
        Band(rate=Decimal("1.5"))


def _expected() -> list[ExpectedCollection]:
    return [
        ExpectedCollection(
            loan_id="L-1", payment_id="P-1", amount=cny("6000.00"), commission=cny("1080.00")
        ),
        ExpectedCollection(
            loan_id="L-1", payment_id="P-2", amount=cny("6000.00"), commission=cny("1020.00")
        ),
        ExpectedCollection(
            loan_id="L-2", payment_id="P-3", amount=cny("500.00"), commission=cny("90.00")
        ),
    ]


def test_a_remittance_that_matches_every_payment_reconciles_gross_and_net() -> None:
    lines = [
        RemittanceLine(
            loan_id=e.loan_id,
            payment_id=e.payment_id,
            gross=e.amount,
            commission=e.commission,
            net=e.amount - e.commission,
        )
        for e in _expected()
    ]
    result = reconcile(lines, _expected(), currency="CNY")
    assert result.balanced
    assert result.matched == 3
    assert result.gross_reported == result.gross_received == cny("12500.00")
    assert result.commission_due == cny("2190.00")
    assert result.net_reported == result.net_due == cny("10310.00")


def test_every_difference_is_listed() -> None:
    lines = [
        # the schedule's commission would be 1080.00
        RemittanceLine(
            loan_id="L-1",
            payment_id="P-1",
            gross=cny("6000.00"),
            commission=cny("1200.00"),
            net=cny("4800.00"),
        ),
        # 5900 reported for a 6000 payment, and net is not gross less commission
        RemittanceLine(
            loan_id="L-1",
            payment_id="P-2",
            gross=cny("5900.00"),
            commission=cny("1020.00"),
            net=cny("4900.00"),
        ),
        # no such payment
        RemittanceLine(
            loan_id="L-9",
            payment_id="P-X",
            gross=cny("100.00"),
            commission=cny("18.00"),
            net=cny("82.00"),
        ),
        # P-3 is not reported
    ]
    result = reconcile(lines, _expected(), currency="CNY")
    assert result.differences == (
        Difference(
            kind=DifferenceKind.COMMISSION,
            payment_id="P-1",
            loan_id="L-1",
            expected="1080.00",
            reported="1200.00",
        ),
        Difference(
            kind=DifferenceKind.NET,
            payment_id="P-2",
            loan_id="L-1",
            expected="4880.00",
            reported="4900.00",
        ),
        Difference(
            kind=DifferenceKind.GROSS,
            payment_id="P-2",
            loan_id="L-1",
            expected="6000.00",
            reported="5900.00",
        ),
        Difference(
            kind=DifferenceKind.NOT_RECEIVED,
            payment_id="P-X",
            loan_id="L-9",
            expected="",
            reported="100.00",
        ),
        Difference(
            kind=DifferenceKind.NOT_REPORTED,
            payment_id="P-3",
            loan_id="L-2",
            expected="500.00",
            reported="",
        ),
    )
    assert result.matched == 2
    assert result.gross_reported == cny("12000.00")
    assert result.net_reported == cny("9782.00")
    assert result.net_due == cny("10310.00")


def test_a_payment_reported_twice_is_refused() -> None:
    line = RemittanceLine(
        loan_id="L-1",
        payment_id="P-1",
        gross=cny("1.00"),
        commission=cny("0.18"),
        net=cny("0.82"),
    )
    with pytest.raises(ValidationError, match=r"remittance\.payment_id"):
        reconcile([line, line], _expected(), currency="CNY")


def test_the_league_table_ranks_agencies_within_a_vintage_by_liquidation() -> None:
    import datetime as dt

    june = dt.date(2025, 6, 3)
    results = [
        PlacementResult(
            agency="a",
            since=june,
            placed=cny("10000.00"),
            collected=cny("2500.00"),
            commission=cny("450.00"),
        ),
        PlacementResult(
            agency="a",
            since=june,
            placed=cny("5000.00"),
            collected=cny("0.00"),
            commission=cny("0.00"),
            complaints=1,
        ),
        PlacementResult(
            agency="b",
            since=june,
            placed=cny("8000.00"),
            collected=cny("4000.00"),
            commission=cny("1000.00"),
        ),
    ]
    rows = league_table(results)
    assert [(r.agency, r.vintage, r.accounts) for r in rows] == [
        ("b", "2025-06", 1),
        ("a", "2025-06", 2),
    ]
    b, a = rows
    assert b.liquidation_rate == Decimal("50.00")
    assert a.liquidation_rate == Decimal("16.67")  # 2500 / 15000
    assert a.cost_per_unit == Decimal("0.1800")
    assert b.cost_per_unit == Decimal("0.2500")
    assert a.complaint_rate == Decimal("500.0")
    assert b.complaint_rate == Decimal("0.0")
