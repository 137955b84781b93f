"""Calendars: month arithmetic from an anchor, day counts and business days."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.builders import d

from loancollect import (
    BusinessCalendar,
    ConfigurationError,
    DayCount,
    RollConvention,
    ValidationError,
    add_months,
    business_calendar,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2025-01-31", 2, "2025-03-31"),
        ("2025-01-31", 3, "2025-04-30"),
        ("2025-03-31", -1, "2025-02-28"),
        ("2025-12-15", 1, "2026-01-15"),
        ("2025-01-15", 24, "2027-01-15"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
    ],
)
def test_add_months_clamps_to_the_last_day_of_the_month(
    start: str, months: int, expected: str
) -> None:
    assert add_months(d(start), months) == d(expected)


def test_month_addition_is_not_reversible_so_dates_come_from_the_anchor() -> None:
    stepped = add_months(add_months(d("2025-01-31"), 1), 1)
    assert stepped == d("2025-03-28")
    assert add_months(d("2025-01-31"), 2) == d("2025-03-31")


@pytest.mark.parametrize(
    ("convention", "start", "end", "days", "fraction"),
    [
        (DayCount.ACT_360, "2025-01-10", "2025-04-10", 90, Decimal(90) / 360),
        (DayCount.ACT_365F, "2025-01-10", "2025-04-10", 90, Decimal(90) / 365),
        (DayCount.ACT_365F, "2024-01-01", "2025-01-01", 366, Decimal(366) / 365),
        (DayCount.THIRTY_360, "2025-01-10", "2025-04-10", 90, Decimal(90) / 360),
        (DayCount.THIRTY_360, "2025-01-31", "2025-03-01", 31, Decimal(31) / 360),
        (DayCount.ACT_360, "2025-01-31", "2025-03-01", 29, Decimal(29) / 360),
        (DayCount.THIRTY_360, "2025-01-31", "2025-03-31", 60, Decimal(60) / 360),
        (DayCount.THIRTY_360, "2025-01-30", "2025-03-31", 60, Decimal(60) / 360),
        (DayCount.THIRTY_360, "2025-01-29", "2025-03-31", 62, Decimal(62) / 360),
        (DayCount.THIRTY_360, "2025-02-28", "2025-03-31", 33, Decimal(33) / 360),
        (DayCount.ACT_360, "2024-02-28", "2024-03-01", 2, Decimal(2) / 360),
    ],
)
def test_day_counts_follow_their_convention(
    convention: DayCount, start: str, end: str, days: int, fraction: Decimal
) -> None:
    assert convention.days(d(start), d(end)) == days
    assert convention.year_fraction(d(start), d(end)) == fraction


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ("ACT/360", DayCount.ACT_360),
        ("act_360", DayCount.ACT_360),
        ("ACT/365F", DayCount.ACT_365F),
        ("30/360", DayCount.THIRTY_360),
        (DayCount.ACT_365F, DayCount.ACT_365F),
    ],
)
def test_day_count_names_parse(text: str | DayCount, member: DayCount) -> None:
    assert DayCount.parse(text) is member


def test_unknown_day_count_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="day_count"):
        DayCount.parse("ACT/ACT")


@pytest.mark.parametrize(
    ("day", "working", "why"),
    [
        ("2025-01-26", True, "Sunday made a working day (调休) before Spring Festival"),
        ("2025-02-08", True, "Saturday made a working day (调休) after Spring Festival"),
        ("2025-01-28", False, "Spring Festival eve"),
        ("2025-02-04", False, "last day of the Spring Festival break"),
        ("2025-02-05", True, "first working day after the break"),
        ("2025-04-27", True, "Sunday made a working day before Labour Day"),
        ("2025-05-05", False, "Labour Day break"),
        ("2025-09-28", True, "Sunday made a working day before National Day"),
        ("2025-10-08", False, "substituted day off in the National Day break"),
        ("2025-10-11", True, "Saturday made a working day after National Day"),
        ("2025-01-25", False, "an ordinary Saturday"),
        ("2025-01-27", True, "an ordinary Monday"),
    ],
)
def test_china_honours_holidays_and_make_up_working_days(day: str, working: bool, why: str) -> None:
    assert business_calendar("CN").is_business_day(d(day)) is working, why


@pytest.mark.parametrize(
    ("country", "subdivision", "day", "working"),
    [
        ("GB", None, "2025-12-25", False),
        ("GB", None, "2025-12-26", False),
        ("GB", None, "2025-04-18", False),
        ("GB", "ENG", "2025-04-21", False),
        ("GB", "ENG", "2025-08-25", False),
        ("GB", "SCT", "2025-08-04", False),
        ("GB", "SCT", "2025-08-25", True),
        ("US", None, "2025-07-04", False),
        ("US", None, "2025-11-27", False),
        ("US", None, "2025-01-20", False),
        ("US", None, "2025-11-28", True),
        ("US", None, "2025-07-05", False),
    ],
)
def test_gb_and_us_calendars_know_their_bank_holidays(
    country: str, subdivision: str | None, day: str, working: bool
) -> None:
    assert business_calendar(country, subdivision).is_business_day(d(day)) is working


def test_england_only_bank_holidays_need_the_subdivision() -> None:
    # The UK-wide calendar omits Easter Monday and the August bank holiday,
    # which England, Wales and Northern Ireland observe but Scotland does not.
    assert business_calendar("GB").is_business_day(d("2025-04-21"))
    assert not business_calendar("GB", "ENG").is_business_day(d("2025-04-21"))


@pytest.mark.parametrize(
    ("day", "convention", "expected"),
    [
        ("2025-01-28", RollConvention.FOLLOWING, "2025-02-05"),
        ("2025-01-28", RollConvention.MODIFIED_FOLLOWING, "2025-01-27"),
        ("2025-01-28", RollConvention.PRECEDING, "2025-01-27"),
        ("2025-01-28", RollConvention.NONE, "2025-01-28"),
        ("2025-01-26", RollConvention.FOLLOWING, "2025-01-26"),
        ("2025-02-08", RollConvention.MODIFIED_FOLLOWING, "2025-02-08"),
        ("2025-05-31", RollConvention.FOLLOWING, "2025-06-03"),
        ("2025-05-31", RollConvention.MODIFIED_FOLLOWING, "2025-05-30"),
        ("2025-10-01", RollConvention.FOLLOWING, "2025-10-09"),
        ("2025-03-15", RollConvention.FOLLOWING, "2025-03-17"),
    ],
)
def test_roll_moves_non_business_days_under_the_convention(
    day: str, convention: RollConvention, expected: str
) -> None:
    assert business_calendar("CN").roll(d(day), convention) == d(expected)


def test_extra_holidays_and_workdays_override_the_package() -> None:
    cal = business_calendar(
        "CN", extra_holidays=[d("2025-03-17")], extra_workdays=[d("2025-03-15")]
    )
    assert not cal.is_business_day(d("2025-03-17"))
    assert cal.is_business_day(d("2025-03-15"))


def test_business_days_are_counted_and_added_over_make_up_days() -> None:
    cal = business_calendar("CN")
    # 2025-01-24 (Fri) to 2025-02-08: working days are Jan 24, 26 (a Sunday, 调休), 27
    # and Feb 5-7; Feb 8 (a Saturday, 调休) is outside the half-open range.
    assert cal.business_days_between(d("2025-01-24"), d("2025-02-09")) == 7
    assert cal.add_business_days(d("2025-01-24"), 1) == d("2025-01-26")
    assert cal.add_business_days(d("2025-01-27"), 1) == d("2025-02-05")
    assert cal.add_business_days(d("2025-02-05"), -1) == d("2025-01-27")


def test_holiday_name_is_reported() -> None:
    assert business_calendar("US").holiday_name(d("2025-07-04")) == "Independence Day"
    assert business_calendar("US").holiday_name(d("2025-07-07")) is None


@pytest.mark.parametrize(("country", "subdivision"), [("XX", None), ("US", "ZZ")])
def test_an_unknown_country_or_subdivision_is_a_configuration_error(
    country: str, subdivision: str | None
) -> None:
    with pytest.raises(ConfigurationError, match=country):
        BusinessCalendar(country, subdivision)


def test_country_codes_are_normalised_to_upper_case() -> None:
    assert business_calendar("cn").country == "CN"
