"""PRC court fees (诉讼费用交纳办法 arts. 13-16) at every bracket edge, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from loancollect_courts.fees import Procedure, enforcement_fee, filing_fee, preservation_fee

from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money


def cny(text: str) -> Money:
    return Money(text, "CNY")


@pytest.mark.parametrize(
    ("claim", "fee"),
    [
        ("0.00", "50.00"),
        ("10000.00", "50.00"),  # the first edge: 50 a case
        ("10000.01", "50.00"),  # 0.00025 more
        ("10000.20", "50.01"),  # 50.005 rounds half up
        ("12345.67", "108.64"),  # 50 + 2,345.67 x 2.5 % = 108.64175
        ("100000.00", "2300.00"),
        ("100000.50", "2300.01"),  # 2,300.01 exactly (0.50 x 2 %)
        ("200000.00", "4300.00"),
        ("500000.00", "8800.00"),
        ("1000000.00", "13800.00"),
        ("2000000.00", "22800.00"),
        ("5000000.00", "46800.00"),
        ("10000000.00", "81800.00"),
        ("20000000.00", "141800.00"),
        ("30000000.00", "191800.00"),  # 0.5 % above 20 million
    ],
)
def test_property_case_fee_cumulative_brackets_art_13(claim: str, fee: str) -> None:
    assert filing_fee(cny(claim)).fee == cny(fee)


@pytest.mark.parametrize(
    ("procedure", "claim", "fee"),
    [
        (Procedure.SUMMARY, "100000.00", "1150.00"),  # art. 16: half
        (Procedure.SMALL_CLAIM, "10000.20", "25.00"),  # half of 50.005, then rounded once
        (Procedure.MEDIATED, "12345.67", "54.32"),  # art. 15: half of 108.64175
        (Procedure.WITHDRAWN, "1000000.00", "6900.00"),
        (Procedure.PAYMENT_ORDER, "100000.00", "766.67"),  # art. 14(3): a third
        (Procedure.PAYMENT_ORDER, "10000.00", "16.67"),
        (Procedure.PAYMENT_ORDER, "500000.00", "2933.33"),
    ],
)
def test_halving_and_payment_order_third(procedure: Procedure, claim: str, fee: str) -> None:
    quote = filing_fee(cny(claim), procedure)
    assert quote.fee == cny(fee)
    assert any("art. 1" in c.source for c in quote.citations)


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        ("10000.00", "50.00"),
        ("500000.00", "7400.00"),  # 50 + 490,000 x 1.5 %
        ("5000000.00", "52400.00"),
        ("10000000.00", "77400.00"),
        ("20000000.00", "87400.00"),  # 0.1 % above 10 million
    ],
)
def test_enforcement_fee_art_14_1(amount: str, fee: str) -> None:
    assert enforcement_fee(cny(amount)).fee == cny(fee)


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        ("1000.00", "30.00"),
        ("100000.00", "1020.00"),
        ("500000.00", "3020.00"),
        ("896000.00", "5000.00"),  # reaches the cap exactly
        ("1000000.00", "5000.00"),  # capped
    ],
)
def test_preservation_fee_art_14_2_capped_at_5000(amount: str, fee: str) -> None:
    assert preservation_fee(cny(amount)).fee == cny(fee)


def test_fees_are_in_cny_only() -> None:
    with pytest.raises(ValidationError, match="CNY"):
        filing_fee(Money("100.00", "USD"))


def test_fee_quote_cites_the_order() -> None:
    quote = filing_fee(cny("100000.00"))
    assert (
        quote.citations[0].source
        == "诉讼费用交纳办法 (State Council Order No. 481, 2007) art. 13(1)"
    )
    assert isinstance(quote.fee.amount, Decimal)
