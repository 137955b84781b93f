"""Schedules: the four repayment methods, frequencies, day counts, due dates and rolling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.builders import cny, d

from loancollect import (
    DayCount,
    Frequency,
    Money,
    RepaymentMethod,
    RollConvention,
    Rounding,
    ValidationError,
    annuity_payment,
    build_schedule,
    business_calendar,
    due_dates,
)
from loancollect.domain.money import sum_money


def schedule(**overrides: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "principal": cny("100000.00"),
        "annual_rate": Decimal("0.06"),
        "term": 12,
        "start": d("2025-01-15"),
    }
    fields.update(overrides)
    return build_schedule(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", list(RepaymentMethod))
@pytest.mark.parametrize("frequency", list(Frequency))
def test_installments_sum_exactly_to_the_principal(
    method: RepaymentMethod, frequency: Frequency
) -> None:
    rows = schedule(principal=cny("12345.67"), method=method, frequency=frequency, term=7)
    assert sum_money((r.principal for r in rows), "CNY") == cny("12345.67")


def test_equal_installment_rounds_the_installment_once_and_puts_the_residue_last() -> None:
    rows = schedule()
    assert {r.total for r in rows[:-1]} == {cny("8606.64")}
    assert rows[-1].total == cny("8606.69")


def test_equal_installment_interest_is_on_the_rounded_remaining_balance() -> None:
    rows = schedule()
    balance = cny("100000.00")
    for row in rows:
        assert row.interest == balance.multiply(Decimal("0.005"))
        balance = balance - row.principal
    assert balance.is_zero()


def test_equal_principal_repays_the_same_principal_each_period() -> None:
    rows = schedule(principal=cny("10000.00"), term=7, method=RepaymentMethod.EQUAL_PRINCIPAL)
    assert [r.principal for r in rows] == [cny("1428.57")] * 6 + [cny("1428.58")]


def test_interest_only_repays_principal_with_the_last_installment() -> None:
    rows = schedule(method=RepaymentMethod.INTEREST_ONLY, term=3)
    assert [r.principal for r in rows] == [cny("0.00"), cny("0.00"), cny("100000.00")]
    assert {r.interest for r in rows} == {cny("500.00")}


def test_bullet_has_one_installment_with_interest_for_the_whole_term() -> None:
    rows = schedule(method=RepaymentMethod.BULLET, term=3)
    assert len(rows) == 1
    assert rows[0].due_date == d("2025-04-15")
    assert rows[0].interest == cny("1500.00")
    assert rows[0].principal == cny("100000.00")


@pytest.mark.parametrize(
    ("day_count", "interest"),
    [
        (DayCount.ACT_360, "500.00"),
        (DayCount.ACT_365F, "493.15"),
        (DayCount.THIRTY_360, "500.00"),
    ],
)
def test_daily_accrual_uses_the_day_count(day_count: DayCount, interest: str) -> None:
    rows = schedule(
        principal=cny("20000.00"),
        annual_rate=Decimal("0.10"),
        term=1,
        start=d("2025-01-10"),
        first_due_date=d("2025-04-10"),
        method=RepaymentMethod.BULLET,
        day_count=day_count,
    )
    assert rows[0].interest == cny(interest)
    assert rows[0].accrual_days == 90


def test_daily_accrual_follows_the_actual_days_of_each_period() -> None:
    rows = schedule(method=RepaymentMethod.INTEREST_ONLY, term=3, day_count=DayCount.ACT_360)
    # 31, 28 and 31 days at 6 % on 100,000 over 360
    assert [r.interest for r in rows] == [cny("516.67"), cny("466.67"), cny("516.67")]
    assert [r.accrual_days for r in rows] == [31, 28, 31]


def test_monthly_periodic_interest_is_one_twelfth_of_the_annual_rate_whatever_the_days() -> None:
    rows = schedule(method=RepaymentMethod.INTEREST_ONLY, term=3)
    assert {r.interest for r in rows} == {cny("500.00")}


@pytest.mark.parametrize(
    ("frequency", "step_days", "period_interest"),
    [(Frequency.WEEKLY, 7, "1000.00"), (Frequency.BIWEEKLY, 14, "2000.00")],
)
def test_weekly_and_biweekly_periods_use_annual_over_52_or_26(
    frequency: Frequency, step_days: int, period_interest: str
) -> None:
    rows = schedule(
        principal=cny("1000000.00"),
        annual_rate=Decimal("0.052"),
        term=4,
        method=RepaymentMethod.INTEREST_ONLY,
        frequency=frequency,
    )
    assert [(r.due_date - d("2025-01-15")).days for r in rows] == [
        step_days * k for k in range(1, 5)
    ]
    assert {r.interest for r in rows} == {cny(period_interest)}


@pytest.mark.parametrize(
    ("start", "first_due", "expected"),
    [
        ("2025-01-31", None, ["2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]),
        ("2024-01-31", None, ["2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"]),
        ("2025-01-10", "2025-01-31", ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"]),
        ("2025-11-30", None, ["2025-12-30", "2026-01-30", "2026-02-28", "2026-03-30"]),
    ],
)
def test_monthly_due_dates_come_from_the_anchor_clamped_never_stepped(
    start: str, first_due: str | None, expected: list[str]
) -> None:
    dates = due_dates(d(start), 4, first_due_date=d(first_due) if first_due else None)
    assert dates == [d(e) for e in expected]


def test_due_dates_roll_forward_over_chinese_holidays_and_keep_make_up_working_days() -> None:
    rows = schedule(
        start=d("2024-12-26"),
        term=2,
        calendar=business_calendar("CN"),
        roll=RollConvention.FOLLOWING,
    )
    # 2025-01-26 is a Sunday made a working day (调休): it stays.
    assert rows[0].due_date == d("2025-01-26")
    # 2025-02-26 is an ordinary Wednesday.
    assert rows[1].due_date == d("2025-02-26")
    rows = schedule(
        start=d("2024-12-28"),
        term=2,
        calendar=business_calendar("CN"),
        roll=RollConvention.FOLLOWING,
    )
    # 2025-01-28 (Spring Festival eve) rolls to the first working day after the break.
    assert rows[0].due_date == d("2025-02-05")
    assert rows[1].due_date == d("2025-02-28")


def test_modified_following_stays_in_the_month() -> None:
    rows = schedule(
        start=d("2025-04-30"),
        term=1,
        calendar=business_calendar("CN"),
        roll=RollConvention.MODIFIED_FOLLOWING,
    )
    # 2025-05-31 is the Dragon Boat Festival (a Saturday); June 1-2 are closed too.
    assert rows[0].due_date == d("2025-05-30")


def test_rolling_changes_due_dates_but_not_amounts() -> None:
    plain = schedule(start=d("2024-12-28"), day_count=DayCount.ACT_360)
    rolled = schedule(
        start=d("2024-12-28"),
        day_count=DayCount.ACT_360,
        calendar=business_calendar("CN"),
        roll=RollConvention.FOLLOWING,
    )
    assert [(r.principal, r.interest) for r in plain] == [(r.principal, r.interest) for r in rolled]
    assert plain[0].due_date != rolled[0].due_date


def test_rolling_needs_a_calendar() -> None:
    with pytest.raises(ValidationError, match="roll"):
        schedule(roll=RollConvention.FOLLOWING)


def test_zero_rate_annuity_is_principal_over_term_rounded() -> None:
    assert annuity_payment(cny("10000.00"), Decimal(0), 3) == cny("3333.33")


def test_annuity_uses_the_named_rounding() -> None:
    # 10,000 / 6 = 1666.666...; DOWN keeps 1666.66, HALF_UP gives 1666.67
    assert annuity_payment(cny("10000.00"), Decimal(0), 6, Rounding.DOWN) == cny("1666.66")
    assert annuity_payment(cny("10000.00"), Decimal(0), 6) == cny("1666.67")


def test_jpy_schedules_are_in_whole_yen() -> None:
    rows = schedule(principal=Money("1000000", "JPY"), annual_rate=Decimal("0.015"), term=12)
    assert all(r.principal.amount == r.principal.amount.to_integral_value() for r in rows)
    assert sum_money((r.principal for r in rows), "JPY") == Money("1000000", "JPY")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"term": 0}, "term"),
        ({"term": -3}, "term"),
        ({"term": 1201}, "term"),
        ({"term": True}, "term"),
        ({"principal": cny("0.00")}, "principal"),
        ({"principal": cny("-1.00")}, "principal"),
        ({"annual_rate": Decimal("-0.01")}, "annual_rate"),
        ({"annual_rate": Decimal("6")}, "annual_rate"),
        ({"annual_rate": 0.06}, "annual_rate"),
        ({"first_due_date": d("2025-01-15")}, "first_due_date"),
    ],
)
def test_bad_schedule_input_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        schedule(**overrides)
    assert info.value.field == field
