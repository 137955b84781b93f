"""Properties that hold for any input: conservation of money, exact sums, monotone DPD."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.builders import cny, loan, payment, single_installment_loan

from loancollect import (
    HORIZONTAL,
    PRINCIPAL_FIRST,
    VERTICAL,
    Component,
    DateRange,
    DayCount,
    DueItem,
    DueState,
    Frequency,
    Money,
    RepaymentMethod,
    Rounding,
    Waterfall,
    allocate,
    assess,
    build_schedule,
)
from loancollect.domain.money import round_div

CURRENCIES = st.sampled_from(["CNY", "USD", "JPY", "KWD"])
RATES = st.decimals(min_value=0, max_value=Decimal("0.36"), places=4)
DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2060, 12, 31))


def minor_amounts(low: int = 1, high: int = 10**11) -> st.SearchStrategy[int]:
    return st.integers(min_value=low, max_value=high)


@given(
    principal=minor_amounts(),
    code=CURRENCIES,
    rate=RATES,
    term=st.integers(min_value=1, max_value=120),
    method=st.sampled_from(list(RepaymentMethod)),
    frequency=st.sampled_from(list(Frequency)),
    day_count=st.sampled_from([None, *DayCount]),
    rounding=st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN, Rounding.DOWN]),
    start=DATES,
)
def test_any_schedule_sums_exactly_to_the_principal(
    principal: int,
    code: str,
    rate: Decimal,
    term: int,
    method: RepaymentMethod,
    frequency: Frequency,
    day_count: DayCount | None,
    rounding: Rounding,
    start: dt.date,
) -> None:
    amount = Money.from_minor(principal, code)
    rows = build_schedule(
        principal=amount,
        annual_rate=rate,
        term=term,
        start=start,
        method=method,
        frequency=frequency,
        day_count=day_count,
        rounding=rounding,
    )
    assert sum(r.principal.minor_units for r in rows) == principal
    assert all(not r.principal.is_negative() and not r.interest.is_negative() for r in rows)
    dates = [r.due_date for r in rows]
    assert dates == sorted(set(dates))
    assert dates[0] > start
    expected_rows = 1 if method is RepaymentMethod.BULLET else term
    assert len(rows) == expected_rows


COMPONENTS = list(Component)
STATES = list(DueState)


@st.composite
def due_items(draw: st.DrawFn) -> list[DueItem]:
    count = draw(st.integers(min_value=0, max_value=12))
    items = []
    for _ in range(count):
        number = draw(st.integers(min_value=1, max_value=6))
        items.append(
            DueItem(
                installment=number,
                due_date=dt.date(2025, 1, 15) + dt.timedelta(days=30 * number),
                component=draw(st.sampled_from(COMPONENTS)),
                amount=Money.from_minor(draw(st.integers(0, 10**7)), "CNY"),
                state=draw(st.sampled_from(STATES)),
            )
        )
    return items


@st.composite
def waterfalls(draw: st.DrawFn) -> Waterfall:
    builtin = draw(st.sampled_from([HORIZONTAL, VERTICAL, PRINCIPAL_FIRST, None]))
    if builtin is not None:
        return builtin
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["any", "past_due", "due", "future"]),
                st.sampled_from([c.value for c in COMPONENTS]),
            ),
            min_size=1,
            max_size=10,
            unique=True,
        )
    )
    axis = draw(st.sampled_from(["horizontal", "vertical"]))
    return Waterfall.from_rules("generated", keys, axis)


@given(payment_minor=st.integers(0, 10**8), items=due_items(), wf=waterfalls())
def test_allocation_conserves_money_for_any_payment_and_state(
    payment_minor: int, items: list[DueItem], wf: Waterfall
) -> None:
    pay = Money.from_minor(payment_minor, "CNY")
    result = allocate(pay, items, wf)
    assert result.applied + result.unapplied == pay
    assert not result.unapplied.is_negative()
    for line in result.lines:
        assert not line.paid.is_negative()
        assert not line.remaining.is_negative()
    # No item is paid more than it was owed.
    owed: dict[tuple[int, Component], int] = {}
    for item in items:
        key = (item.installment, item.component)
        owed[key] = owed.get(key, 0) + item.amount.minor_units
    paid: dict[tuple[int, Component], int] = {}
    for line in result.lines:
        key = (line.installment, line.component)
        paid[key] = paid.get(key, 0) + line.paid.minor_units
    assert all(paid[k] <= owed[k] for k in paid)


@st.composite
def payment_histories(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Up to four payments: (days after disbursement, amount in fen)."""
    return draw(
        st.lists(
            st.tuples(st.integers(0, 420), st.integers(1, 3_000_000)),
            max_size=4,
        )
    )


EI01 = loan()
START = EI01.disbursement_date


def payments_from(history: list[tuple[int, int]]) -> list:  # type: ignore[type-arg]
    return [
        payment(Money.from_minor(amount, "CNY"), START + dt.timedelta(days=day), id=f"P-{k}")
        for k, (day, amount) in enumerate(history)
    ]


@given(history=payment_histories(), days=st.integers(0, 500), wf=waterfalls())
def test_assessment_conserves_every_payment_received(
    history: list[tuple[int, int]], days: int, wf: Waterfall
) -> None:
    from loancollect import AssessmentConfig

    as_of = START + dt.timedelta(days=days)
    result = assess(EI01, payments_from(history), as_of, config=AssessmentConfig(waterfall=wf))
    received = sum(amount for day, amount in history if day <= days)
    assert result.total_paid.minor_units == received
    paid = sum(s.paid.minor_units for s in result.installments)
    assert paid + result.credit_balance.minor_units == received
    assert not result.credit_balance.is_negative()
    assert result.outstanding_principal <= EI01.principal


PAUSE_DUE = dt.date(2025, 2, 15)


@given(
    grace=st.integers(0, 40),
    spans=st.lists(st.tuples(st.integers(-20, 120), st.integers(0, 60)), max_size=4),
    days=st.integers(0, 150),
)
def test_delinquent_days_take_each_grace_or_paused_day_off_once_and_never_go_negative(
    grace: int, spans: list[tuple[int, int]], days: int
) -> None:
    subject = single_installment_loan(
        principal="10000.00", due=PAUSE_DUE.isoformat(), grace_days=grace
    )
    pauses = [
        DateRange(PAUSE_DUE + dt.timedelta(days=a), PAUSE_DUE + dt.timedelta(days=a + n))
        for a, n in spans
    ]
    as_of = PAUSE_DUE + dt.timedelta(days=days)
    result = assess(subject, [], as_of, pauses=pauses)
    dpd = result.dpd
    late = range(1, dpd + 1)  # days after the due date, up to as_of
    paused = {k for k in late if any(PAUSE_DUE + dt.timedelta(days=k) in p for p in pauses)}
    graced = {k for k in late if k <= grace}
    assert dpd == days
    assert result.delinquent_days >= 0
    # Never below DPD minus the paused days, a paused grace day taken off once only.
    assert result.delinquent_days >= dpd - len(paused) - len(graced - paused)
    assert result.delinquent_days == dpd - len(paused | graced)
    if grace == 0:
        assert result.delinquent_days == dpd - len(paused)
    # Pauses never add days, and never take off more than they cover.
    assert result.delinquent_days <= max(0, dpd - grace)
    assert result.delinquent_days <= dpd - len(paused)


@given(
    history=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 2_000_000)), max_size=3),
    first=st.integers(0, 300),
    extra=st.integers(0, 300),
)
def test_dpd_never_decreases_as_the_date_advances_without_payments(
    history: list[tuple[int, int]], first: int, extra: int
) -> None:
    # Only payments up to the earlier date count for both assessments.
    earlier = START + dt.timedelta(days=first)
    kept = [(day, amount) for day, amount in history if day <= first]
    pays = payments_from(kept)
    before = assess(EI01, pays, earlier)
    after = assess(EI01, pays, earlier + dt.timedelta(days=extra))
    assert after.dpd >= before.dpd
    assert after.delinquent_days >= before.delinquent_days
    assert after.penalty >= before.penalty


@given(
    minor=st.integers(-(10**12), 10**12),
    code=CURRENCIES,
    ratios=st.lists(st.integers(0, 1000), min_size=1, max_size=10).filter(any),
)
def test_money_allocate_conserves_every_minor_unit(
    minor: int, code: str, ratios: list[int]
) -> None:
    whole = Money.from_minor(minor, code)
    parts = whole.allocate(ratios)
    assert sum(p.minor_units for p in parts) == minor
    total = sum(ratios)
    for part, ratio in zip(parts, ratios, strict=True):
        exact = Fraction(minor * ratio, total)
        assert abs(part.minor_units - exact) < 1
        if ratio == 0:
            assert part.is_zero()


@given(
    minor=st.integers(-(10**12), 10**12),
    rate=st.decimals(min_value=-10, max_value=10, places=30, allow_nan=False),
    rounding=st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN]),
)
def test_money_multiply_rounds_the_exact_product_once(
    minor: int, rate: Decimal, rounding: Rounding
) -> None:
    money = Money.from_minor(minor, "CNY")
    num, den = rate.as_integer_ratio()
    assert money.multiply(rate, rounding).minor_units == round_div(minor * num, den, rounding)


@given(
    numerator=st.integers(-(10**15), 10**15),
    denominator=st.integers(1, 10**6),
    rounding=st.sampled_from(list(Rounding)),
)
def test_round_div_agrees_with_decimal_quantize(
    numerator: int, denominator: int, rounding: Rounding
) -> None:
    from decimal import localcontext

    with localcontext() as ctx:
        ctx.prec = 60
        expected = (Decimal(numerator) / Decimal(denominator)).quantize(
            Decimal(1), rounding=rounding.value
        )
    assert round_div(numerator, denominator, rounding) == int(expected)


def test_rounding_names_map_to_decimal_modes() -> None:
    assert Rounding.HALF_UP.value == ROUND_HALF_UP
    assert Rounding.HALF_EVEN.value == ROUND_HALF_EVEN


def test_multiply_is_exact_beyond_the_default_decimal_precision() -> None:
    # 1.00 x 0.005000...0001 (31 digits) is just above half a fen: HALF_EVEN must go up.
    rate = Decimal("0.0050000000000000000000000000001")
    assert cny("1.00").multiply(rate, Rounding.HALF_EVEN) == cny("0.01")
