"""Commission invariants over any sequence of collections (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from loancollect_agencies.commission import (
    Band,
    CommissionRate,
    CommissionSchedule,
    PlacementTerms,
)

from loancollect.domain.money import Money

RATE = CommissionRate(
    bands=(
        Band(rate=Decimal("0.18"), up_to=Decimal(10000)),
        Band(rate=Decimal("0.15"), up_to=Decimal(50000)),
        Band(rate=Decimal("0.12")),
    )
)
TERMS = PlacementTerms(tier="primary", age_days=45, balance=Money("90000.00", "CNY"))
AMOUNTS = st.lists(
    st.integers(min_value=1, max_value=3_000_000).map(lambda fen: Decimal(fen) / 100),
    max_size=12,
)


@given(AMOUNTS)
def test_splitting_a_collection_never_changes_the_exact_commission(amounts: list[Decimal]) -> None:
    total = sum(amounts, Decimal(0))
    pieces = Decimal(0)
    before = Decimal(0)
    for amount in amounts:
        pieces += RATE.exact(before, amount)
        before += amount
    assert pieces == RATE.exact(Decimal(0), total)


@given(AMOUNTS)
def test_rounded_commissions_stay_within_half_a_fen_each_of_the_exact_sum(
    amounts: list[Decimal],
) -> None:
    schedule = CommissionSchedule(rates=(RATE,))
    fees = schedule.commissions(TERMS, [Money(a, "CNY") for a in amounts])
    exact = RATE.exact(Decimal(0), sum(amounts, Decimal(0)))
    paid = sum((f.amount for f in fees), Decimal(0))
    assert abs(paid - exact) <= Decimal("0.005") * len(amounts)
    assert all(
        Decimal(0) <= f.amount <= a * Decimal("0.18") + Decimal("0.005")
        for f, a in zip(fees, amounts, strict=True)
    )
