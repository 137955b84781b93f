"""Every golden vector (computed with independent tools) reproduced to the cent and the day.

The vectors are read from ``tests/data/golden_vectors.json``; no number is copied here.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from tests.unit.builders import cny, d, loan, payment, single_installment_loan

from loancollect import (
    Component,
    DayCount,
    DueItem,
    Installment,
    Loan,
    Money,
    RepaymentMethod,
    Rounding,
    allocate,
    annuity_payment,
    assess,
    build_schedule,
)
from loancollect.domain.money import sum_money

_VECTORS = json.loads(
    (Path(__file__).parents[1] / "data" / "golden_vectors.json").read_text(encoding="utf-8")
)

METHODS = {
    "equal_installment": RepaymentMethod.EQUAL_INSTALLMENT,
    "equal_principal": RepaymentMethod.EQUAL_PRINCIPAL,
    "interest_only_bullet": RepaymentMethod.INTEREST_ONLY,
    "bullet": RepaymentMethod.BULLET,
}
CONVENTIONS: dict[str, DayCount | None] = {
    "monthly r/12": None,
    "ACT/360": DayCount.ACT_360,
    "ACT/365F": DayCount.ACT_365F,
    "30/360": DayCount.THIRTY_360,
}


def ids(section: str) -> list[str]:
    return [case["id"] for case in _VECTORS[section] if "id" in case]


def case(golden: dict[str, Any], section: str, case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in golden[section] if c.get("id") == case_id)
    return found


def rate(pct: str) -> Decimal:
    return Decimal(pct) / 100


def golden_schedule(vector: dict[str, Any]):  # type: ignore[no-untyped-def]
    method = METHODS[vector["method"]]
    first_due = None
    term = vector["periods"]
    if method is RepaymentMethod.BULLET:
        # One period whose due date the vector states (start + 3 months).
        first_due = d(vector["installments"][0]["due_date"])
    return build_schedule(
        principal=cny(vector["principal"]),
        annual_rate=rate(vector["annual_rate_pct"]),
        term=term,
        start=d(vector["start_date"]),
        method=method,
        day_count=CONVENTIONS[vector["interest_convention"]],
        first_due_date=first_due,
    )


def test_the_golden_file_is_the_unchanged_reference(golden: dict[str, Any]) -> None:
    assert golden == _VECTORS
    assert golden["meta"]["rounding"].startswith("ROUND_HALF_UP")


@pytest.mark.parametrize("case_id", ids("schedules"))
def test_schedule_reproduces_every_installment_to_the_cent(
    golden: dict[str, Any], case_id: str
) -> None:
    vector = case(golden, "schedules", case_id)
    rows = golden_schedule(vector)
    expected = vector["installments"]
    assert len(rows) == len(expected)
    balance = cny(vector["principal"])
    for row, exp in zip(rows, expected, strict=True):
        balance = balance - row.principal
        assert row.number == exp["period"]
        assert row.due_date == d(exp["due_date"]), exp
        assert row.principal == cny(exp["principal"]), exp
        assert row.interest == cny(exp["interest"]), exp
        assert row.total == cny(exp["total"]), exp
        assert balance == cny(exp["remaining_balance"]), exp
        if "accrual_days" in exp:
            assert row.accrual_days == exp["accrual_days"]
        if "accrual_start" in exp:
            assert row.accrual_start == d(exp["accrual_start"])


@pytest.mark.parametrize("case_id", ids("schedules"))
def test_schedule_totals_match(golden: dict[str, Any], case_id: str) -> None:
    vector = case(golden, "schedules", case_id)
    rows = golden_schedule(vector)
    totals = vector["totals"]
    assert sum_money((r.principal for r in rows), "CNY") == cny(totals["principal"])
    assert sum_money((r.interest for r in rows), "CNY") == cny(totals["interest"])
    assert sum_money((r.total for r in rows), "CNY") == cny(totals["payment"])
    if "installment_amount" in vector:
        assert rows[0].total == cny(vector["installment_amount"])
    if "principal_per_period" in vector:
        assert rows[0].principal == cny(vector["principal_per_period"])


def test_loan_create_reproduces_the_golden_schedule(golden: dict[str, Any]) -> None:
    vector = case(golden, "schedules", "EI-01")
    created = loan()
    assert created.installments == golden_schedule(vector)


def exact_total_interest(rows: Sequence[Installment], principal: Money, annual: Decimal) -> Money:
    """Sum of HALF_UP(balance × annual / 12) per period, from exact fractions of cents."""
    balance = principal.minor_units
    num, den = annual.as_integer_ratio()
    total = 0
    for row in rows:
        exact = Fraction(balance * num, den * 12)
        total += math.floor(exact + Fraction(1, 2))
        balance -= row.principal.minor_units
    return Money.from_minor(total, "CNY")


def fifty_digit_total_interest(
    rows: Sequence[Installment], principal: Money, annual: Decimal
) -> Money:
    """The same sum with r = annual / 12 held to 50 significant digits first."""
    context = decimal.Context(prec=50)
    periodic = context.divide(annual, Decimal(12))
    balance, total = principal.amount, Decimal(0)
    for row in rows:
        total += context.multiply(balance, periodic).quantize(Decimal("0.01"), ROUND_HALF_UP)
        balance -= row.principal.amount
    return cny(total)


ANCHORS = list(range(len(_VECTORS["external_anchors"])))


@pytest.mark.parametrize("index", ANCHORS)
def test_external_anchor_published_figures_are_reproduced(
    golden: dict[str, Any], index: int
) -> None:
    anchor = golden["external_anchors"][index]
    method = METHODS[anchor["method"]]
    principal = cny(anchor["principal"])
    annual = rate(anchor["annual_rate_pct"])
    rows = build_schedule(
        principal=principal,
        annual_rate=annual,
        term=anchor["periods"],
        start=d("2025-01-15"),
        method=method,
    )
    interest = sum_money((r.interest for r in rows), "CNY")
    assert interest == exact_total_interest(rows, principal, annual)
    # The vector's own total used r = annual / 12 held to 50 digits; a non-terminating
    # r (4.9 % / 12) then turns exact half-cent ties into just-below-half ones. The same
    # arithmetic reproduces the vector's figure; ours rounds the exact value instead.
    assert fifty_digit_total_interest(rows, principal, annual) == cny(
        anchor["ours_total_interest_rounded_per_period"]
    )
    published = anchor["published"]
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        installment = annuity_payment(principal, annual / 12, anchor["periods"])
        assert installment == cny(published["installment"])
        assert installment == cny(anchor["ours_installment"])
        assert rows[0].total == installment
    else:
        assert rows[0].total == cny(published["first_total"])
        assert rows[0].total == cny(anchor["ours_first_total"])
        assert rows[1].total == cny(anchor["ours_second_total"])
        assert rows[0].total - rows[1].total == cny(published["monthly_decrement"])


PENALTY_ON_PRINCIPAL = [
    c["id"]
    for c in _VECTORS["penalty_cases"]
    if c.get("base_kind") == "principal" and "markup_pct" in c
]
ROUNDINGS = [
    (Rounding.HALF_UP, "expected_penalty"),
    (Rounding.HALF_EVEN, "expected_penalty_half_even"),
]


def penalty_loan(vector: dict[str, Any], rounding: Rounding, **overrides: Any) -> Loan:
    return single_installment_loan(
        principal=vector["base_amount"],
        due=vector["due_date"],
        annual_rate=str(rate(vector["contract_annual_rate_pct"])),
        markup=str(rate(vector["markup_pct"])),
        day_count=DayCount.parse(vector["day_count"]),
        rounding=rounding,
        **overrides,
    )


@pytest.mark.parametrize("case_id", PENALTY_ON_PRINCIPAL)
@pytest.mark.parametrize(("rounding", "key"), ROUNDINGS)
def test_penalty_on_overdue_principal_matches_to_the_cent(
    golden: dict[str, Any], case_id: str, rounding: Rounding, key: str
) -> None:
    vector = case(golden, "penalty_cases", case_id)
    subject = penalty_loan(vector, rounding)
    due, as_of = d(vector["due_date"]), d(vector["as_of_date"])
    assert subject.penalty.penalty_rate(subject.annual_rate) == rate(
        vector["penalty_annual_rate_pct"]
    )
    assert subject.penalty.day_count.days(due, as_of) == vector["days"]
    result = assess(subject, [], as_of)
    assert result.penalty == cny(vector[key])
    assert result.dpd == (as_of - due).days
    assert result.compound_interest == cny("0.00")


@pytest.mark.parametrize(("rounding", "key"), ROUNDINGS)
def test_pen_06b_compound_interest_on_overdue_interest_matches(
    golden: dict[str, Any], rounding: Rounding, key: str
) -> None:
    vector = case(golden, "penalty_cases", "PEN-06b")
    assert vector["base_kind"] == "overdue_interest"
    subject = single_installment_loan(
        principal="1000.00",
        interest=vector["base_amount"],
        due=vector["due_date"],
        annual_rate=str(rate(vector["contract_annual_rate_pct"])),
        markup=str(rate(vector["markup_pct"])),
        day_count=DayCount.parse(vector["day_count"]),
        compound=True,
        rounding=rounding,
    )
    result = assess(subject, [], d(vector["as_of_date"]))
    assert result.compound_interest == cny(vector[key])


def test_pen_06_penalty_and_compound_are_rounded_separately_then_added(
    golden: dict[str, Any],
) -> None:
    total = case(golden, "penalty_cases", "PEN-06")
    on_principal = case(golden, "penalty_cases", "PEN-06a")
    on_interest = case(golden, "penalty_cases", "PEN-06b")
    assert total["components"] == ["PEN-06a", "PEN-06b"]
    # EI-01 itself with the default terms: +50 % markup, ACT/360, compound interest on.
    result = assess(loan(), [], d(on_principal["as_of_date"]))
    first = result.installments[0]
    assert first.principal == cny(on_principal["base_amount"])
    assert first.interest == cny(on_interest["base_amount"])
    assert first.penalty == cny(on_principal["expected_penalty"])
    assert first.compound == cny(on_interest["expected_penalty"])
    assert first.penalty + first.compound == cny(total["expected_total"])


def test_pen_09_private_lending_is_capped_at_four_times_the_lpr(golden: dict[str, Any]) -> None:
    vector = case(golden, "penalty_cases", "PEN-09")
    subject = single_installment_loan(
        principal=vector["base_amount"],
        due=vector["due_date"],
        annual_rate="0.12",
        penalty_rate=str(rate(vector["agreed_overdue_rate_pct"])),
        day_count=DayCount.parse(vector["day_count"]),
        private_lending=True,
        contract_date=d(vector["contract_date"]),
    )
    result = assess(subject, [], d(vector["as_of_date"]))
    assert result.dpd == vector["days"]
    assert result.penalty_capped
    assert result.penalty == cny(vector["expected_recoverable"])
    assert result.penalty + result.penalty_excess == cny(vector["agreed_amount"])
    assert result.compound_interest == cny("0.00")


@pytest.mark.parametrize("case_id", ids("dpd_cases"))
def test_dpd_case_matches_to_the_day_and_the_cent(golden: dict[str, Any], case_id: str) -> None:
    vector = case(golden, "dpd_cases", case_id)
    subject = loan()
    payments = [
        payment(inst["paid_amount"], inst["due_date"], id=f"P-{k}")
        for k, inst in enumerate(vector["installments"])
        if Decimal(inst["paid_amount"])
    ]
    result = assess(subject, payments, d(vector["as_of_date"]))
    expected = vector["expected"]
    oldest = expected["earliest_unpaid_due_date"]
    assert result.oldest_unpaid_due_date == (d(oldest) if oldest else None)
    assert result.dpd == expected["dpd"]
    assert result.bucket == expected["bucket"]
    assert result.dpd_band == expected["dpd_band"]
    assert result.risk_class.code == expected["five_category"]
    assert result.risk_class.label_zh == expected["five_category_zh"]
    assert result.is_npl is expected["is_npl"]
    assert result.overdue_principal == cny(expected["overdue_principal"])
    assert result.overdue_interest == cny(expected["overdue_interest"])
    assert result.overdue_amount == cny(expected["overdue_amount"])
    states = {s.due_date: s for s in result.installments}
    for inst in vector["installments"]:
        state = states[d(inst["due_date"])]
        assert state.principal == cny(inst["outstanding_principal"])
        assert state.interest == cny(inst["outstanding_interest"])
        assert state.is_overdue is inst["is_overdue"]


ALLOCATIONS = ids("allocation_cases")


@pytest.mark.parametrize("case_id", ALLOCATIONS)
def test_allocation_case_matches_with_the_pure_allocator(
    golden: dict[str, Any], case_id: str
) -> None:
    vector = case(golden, "allocation_cases", case_id)
    schedule = {i.number: i.due_date for i in loan().installments}
    items = [
        DueItem(
            installment=row["installment"],
            due_date=schedule[row["installment"]],
            component=Component(row["component"]),
            amount=cny(row["amount"]),
        )
        for row in vector["components_due"]
    ]
    result = allocate(cny(vector["payment"]), items)
    got = [
        (line.installment, line.component.value, line.paid, line.remaining) for line in result.lines
    ]
    assert got == [
        (
            row["installment"],
            row["component"],
            cny(row["paid"]),
            cny(row["remaining_component"]),
        )
        for row in vector["expected_allocation"]
    ]
    assert result.unapplied == cny(vector["unapplied"])


@pytest.mark.parametrize("case_id", ALLOCATIONS)
def test_allocation_case_matches_inside_the_assessment(
    golden: dict[str, Any], case_id: str
) -> None:
    vector = case(golden, "allocation_cases", case_id)
    as_of = d(vector["as_of_date"])
    before = assess(loan(), [], as_of)
    due = {
        (s.number, c.value): getattr(s, c.value)
        for s in before.installments
        for c in (Component.PENALTY, Component.COMPOUND, Component.INTEREST, Component.PRINCIPAL)
    }
    for row in vector["components_due"]:
        assert due[(row["installment"], row["component"])] == cny(row["amount"])
    after = assess(loan(), [payment(vector["payment"], as_of, id="P-1")], as_of)
    got = [
        (line.installment, line.component.value, line.paid, line.remaining)
        for idx, line in after.allocations
        if idx == 0
    ]
    assert got == [
        (r["installment"], r["component"], cny(r["paid"]), cny(r["remaining_component"]))
        for r in vector["expected_allocation"]
    ]
    assert after.credit_balance == cny(vector["unapplied"])


def test_every_golden_case_is_exercised(golden: dict[str, Any]) -> None:
    tested = set(PENALTY_ON_PRINCIPAL) | {"PEN-06", "PEN-06b", "PEN-09"}
    assert {c["id"] for c in golden["penalty_cases"]} == tested
    assert len(ids("dpd_cases")) == len(golden["dpd_cases"])
    assert len(ids("schedules")) == len(golden["schedules"])
