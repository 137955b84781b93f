"""Bad input to the domain's constructors is a LoanCollectError naming the field and the value.

One test per rule (docs/errors.md, "What is checked"; docs/reliability.md, "Bad input").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pendulum
import pytest
from tests.unit.builders import borrower, cny, d, loan

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    DayCount,
    Frequency,
    Installment,
    Loan,
    LoanCollectError,
    Money,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
    ValidationError,
    build_schedule,
)
from loancollect.domain.checks import MAX_DATE, parse_enum
from loancollect.domain.money import MAX_MINOR_UNITS, parse_number, sum_money, to_decimal
from loancollect.errors import NotMoneyError


def raises(call: Callable[[], object]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    assert isinstance(info.value, LoanCollectError)
    return info.value


# -- money ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "amount", ["1e309", Decimal("1e309"), Decimal("1e26"), 10**26, "100000000000000000000000000"]
)
def test_an_amount_of_1e26_or_more_is_out_of_range(amount: object) -> None:
    error = raises(lambda: Money(amount, "CNY"))
    assert error.field == "amount"
    assert "1e309" in str(error) or "out of range" in str(error)


def test_an_amount_whose_minor_units_overflow_a_64_bit_integer_is_refused() -> None:
    largest = Money.from_minor(MAX_MINOR_UNITS, "CNY")
    assert largest == Money("92233720368547758.07", "CNY")
    error = raises(lambda: Money("92233720368547758.08", "CNY"))
    assert error.field == "amount"
    assert "out of range" in error.reason
    assert "92233720368547758.07" in error.reason
    assert raises(lambda: Money.from_minor(MAX_MINOR_UNITS + 1, "CNY")).field == "minor"
    assert raises(lambda: Money("-9223372036854775808", "JPY")).field == "amount"


def test_arithmetic_that_leaves_the_range_is_refused() -> None:
    largest = Money.from_minor(MAX_MINOR_UNITS, "CNY")
    assert "out of range" in raises(lambda: largest + Money("0.01", "CNY")).reason
    assert "out of range" in raises(lambda: -largest - Money("0.01", "CNY")).reason


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN", Decimal("NaN")])
def test_nan_and_infinity_are_refused(value: object) -> None:
    error = raises(lambda: Money(value, "CNY"))
    assert error.field == "amount"
    assert str(value) in str(error)


@pytest.mark.parametrize("value", [Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")])
def test_non_finite_decimals_are_refused_as_rates_too(value: Decimal) -> None:
    assert "finite" in raises(lambda: to_decimal(value, "loan.annual_rate")).reason


@pytest.mark.parametrize(
    ("operation", "verb"),
    [
        (lambda m: m + 1, "add"),
        (lambda m: 1 + m, "add"),
        (lambda m: m - Decimal(1), "subtract"),
        (lambda m: 1 - m, "subtract"),
        (lambda m: m < 1, "compare"),
        (lambda m: m / 2, "divide"),
        (lambda m: m * m, "multiply"),
        (lambda m: sum([m, m]), "add"),
    ],
)
def test_money_with_something_that_is_not_money_is_a_not_money_error(
    operation: Callable[[Money], object], verb: str
) -> None:
    with pytest.raises(NotMoneyError) as info:
        operation(Money("1.00", "CNY"))
    assert isinstance(info.value, TypeError)  # still what Python code expects
    assert info.value.field == "other"
    assert f"cannot {verb}" in info.value.reason


def test_amounts_are_summed_with_sum_money() -> None:
    assert sum_money([cny("1.00"), cny("2.00")], "CNY") == cny("3.00")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234.56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1,234,567", Decimal("1234567")),
        ("-12.5", Decimal("-12.5")),
        (" 7 ", Decimal(7)),
    ],
)
def test_numbers_are_plain_decimals_with_optional_grouping_commas(
    text: str, value: Decimal
) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "12.000,00",  # a decimal comma: 12000.00 in Europe, refused rather than guessed
        "12,50",  # a decimal comma: 12.50, refused rather than read as 1250
        "1,2000.00",  # misplaced grouping: refused rather than read as 12000.00
        "1,23",
        ",123",
        "1.234.567",
        "1e3",
        "1_000",
        "١٢",  # Arabic-Indic digits
        "0x10",
        ".5",
        "5.",
        "",
        "1 000",
    ],
)
def test_ambiguous_or_non_plain_numbers_are_refused_not_guessed(text: str) -> None:
    error = raises(lambda: Money(text, "CNY"))
    assert error.field == "amount"
    assert "plain decimal number" in error.reason


def test_a_number_with_too_many_decimal_places_is_refused() -> None:
    assert "decimal places" in raises(lambda: to_decimal(Decimal("1e-70"), "rate")).reason
    assert to_decimal(Decimal("0e-70"), "rate") == 0


# -- enums -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field", "member"),
    [
        ({"frequency": "monthly"}, "loan.frequency", "Frequency.MONTHLY"),
        ({"method": "bullet"}, "loan.method", "RepaymentMethod.BULLET"),
        ({"day_count": "ACT/360"}, "loan.day_count", "DayCount.ACT_360"),
        ({"frequency": "fortnightly"}, "loan.frequency", "Frequency.MONTHLY"),
        ({"frequency": 12}, "loan.frequency", "Frequency.WEEKLY"),
    ],
)
def test_loan_create_takes_enum_members_not_strings(
    overrides: dict[str, Any], field: str, member: str
) -> None:
    error = raises(lambda: loan(**overrides))
    assert error.field == field
    assert member in error.reason


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: borrower(kind="company"), "borrower.kind"),
        (lambda: ContactPoint("phone", "+86 138 0013 8000"), "contact_point.kind"),
        (lambda: PenaltyTerms(day_count="30/360"), "penalty.day_count"),
        (lambda: PenaltyTerms(rounding="ROUND_HALF_UP"), "penalty.rounding"),
        (lambda: attrs.evolve(loan(), frequency="weekly"), "loan.frequency"),
        (
            lambda: build_schedule(
                principal=cny("100.00"),
                annual_rate="0.1",
                term=2,
                start=d("2025-01-01"),
                frequency="monthly",
            ),
            "frequency",
        ),
    ],
)
def test_every_constructor_refuses_enum_values_the_same_way(
    build: Callable[[], object], field: str
) -> None:
    error = raises(build)
    assert error.field == field
    assert "not its value" in error.reason


def test_the_edges_turn_exact_enum_values_into_members() -> None:
    assert parse_enum(Frequency, "monthly", "frequency") is Frequency.MONTHLY
    assert parse_enum(PartyKind, PartyKind.COMPANY, "kind") is PartyKind.COMPANY
    assert "'monthly'" in raises(lambda: parse_enum(Frequency, "Monthly", "frequency")).reason
    assert parse_enum(DayCount, "30/360", "day_count") is DayCount.THIRTY_360
    assert parse_enum(RepaymentMethod, "bullet", "method") is RepaymentMethod.BULLET


# -- dates and instants ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"disbursement_date": "2025-01-15"}, "loan.disbursement_date"),
        ({"first_due_date": "2025-02-15"}, "first_due_date"),
        ({"contract_date": "2025-01-01"}, "loan.contract_date"),
        ({"disbursement_date": dt.datetime(2025, 1, 15, tzinfo=dt.UTC)}, "loan.disbursement_date"),
    ],
)
def test_iso_strings_and_datetimes_where_dates_are_expected_are_refused(
    overrides: dict[str, Any], field: str
) -> None:
    error = raises(lambda: loan(**overrides))
    assert error.field == field
    assert "expected a date" in error.reason


def test_a_disbursement_in_year_9999_is_refused_not_overflowed() -> None:
    error = raises(lambda: loan(disbursement_date=dt.date(9999, 12, 1)))
    assert error.field == "loan.disbursement_date"
    assert "out of range" in error.reason


def test_a_schedule_running_past_the_last_supported_date_is_refused() -> None:
    error = raises(lambda: loan(disbursement_date=MAX_DATE - dt.timedelta(days=40), term=12))
    assert error.field == "term"
    assert "out of range" in error.reason


@pytest.mark.parametrize(
    "received_at",
    [
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "2025-02-15T09:30:00+08:00",
    ],
)
def test_out_of_range_or_text_timestamps_are_refused(received_at: object) -> None:
    error = raises(lambda: Payment("P1", "L1", cny("1.00"), d("2025-02-15"), received_at))
    assert error.field == "payment.received_at"


def test_an_installment_number_must_be_an_int() -> None:
    error = raises(lambda: Installment("1", d("2025-02-15"), cny("1.00"), cny("0.00")))
    assert error.field == "installment.number"


def test_an_installment_needs_principal_and_interest_money() -> None:
    error = raises(lambda: Installment(1, d("2025-02-15"), cny("1.00"), None))
    assert error.field == "installment[1].interest"


# -- contact points and text -------------------------------------------------------------------
def test_none_contact_points_are_refused() -> None:
    error = raises(lambda: borrower(contact_points=None))
    assert error.field == "borrower.contact_points"
    assert "pass () for none" in error.reason


def test_a_none_contact_point_in_the_list_is_refused() -> None:
    assert raises(lambda: borrower(contact_points=[None])).field == "borrower.contact_points[0]"


def test_a_none_contact_value_is_refused() -> None:
    assert raises(lambda: ContactPoint(ContactKind.PHONE, None)).field == "contact_point.value"


NUL = "\x00"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: borrower(id=f"B{NUL}1"), "borrower.id"),
        (lambda: borrower(name=f"Wang{NUL}"), "borrower.name"),
        (lambda: borrower(national_id=f"1101{NUL}"), "borrower.national_id"),
        (lambda: borrower(time_zone=f"Asia/Shanghai{NUL}"), "borrower.time_zone"),
        (lambda: borrower(locale=f"zh_CN{NUL}"), "borrower.locale"),
        (lambda: borrower(jurisdiction=f"CN{NUL}"), "borrower.jurisdiction"),
        (lambda: ContactPoint(ContactKind.PHONE, f"+86 138 0013 8000{NUL}"), "contact_point.value"),
        (
            lambda: ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label=NUL),
            "contact_point.label",
        ),
        (lambda: loan(id=f"L{NUL}"), "loan.id"),
        (lambda: loan(product=f"consumer{NUL}"), "loan.product"),
        (lambda: Payment(f"P{NUL}", "L1", cny("1"), d("2025-02-15"), _at()), "payment.id"),
        (lambda: Payment("P1", f"L{NUL}", cny("1"), d("2025-02-15"), _at()), "payment.loan_id"),
        (
            lambda: Payment("P1", "L1", cny("1"), d("2025-02-15"), _at(), reference=NUL),
            "payment.reference",
        ),
    ],
)
def test_nul_bytes_in_any_text_are_refused(build: Callable[[], object], field: str) -> None:
    assert raises(build).field == field


def test_personal_text_with_a_nul_byte_is_masked_in_the_error() -> None:
    error = raises(lambda: borrower(name=f"Zhang Wei{NUL}"))
    assert "Zhang Wei" not in str(error)
    error = raises(lambda: ContactPoint(ContactKind.EMAIL, f"zhang.wei@example.com{NUL}"))
    assert "zhang.wei" not in str(error)


def test_lone_surrogates_in_text_are_refused() -> None:
    assert "surrogate" in raises(lambda: borrower(id="B\ud800")).reason


def test_a_jurisdiction_with_a_trailing_newline_is_refused() -> None:
    assert raises(lambda: borrower(jurisdiction="CN\n")).field == "borrower.jurisdiction"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: borrower(monthly_income="1000"), "borrower.monthly_income"),
        (lambda: borrower(monthly_debt_service=cny("-1.00")), "borrower.monthly_debt_service"),
        (lambda: borrower(time_zone=8), "borrower.time_zone"),
        (lambda: loan(tolerance="1.00"), "loan.tolerance"),
        (lambda: loan(private_lending="yes"), "loan.private_lending"),
        (lambda: loan(penalty="default"), "loan.penalty"),
        (lambda: PenaltyTerms(compound="true"), "penalty.compound"),
        (
            lambda: ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", verified=1),
            "contact_point.verified",
        ),
    ],
)
def test_wrongly_typed_fields_are_named(build: Callable[[], object], field: str) -> None:
    assert raises(build).field == field


def _at() -> dt.datetime:
    return pendulum.datetime(2025, 2, 15, 9, tz="Asia/Shanghai")


def test_good_input_still_builds() -> None:
    built = loan()
    assert isinstance(built, Loan)
    assert isinstance(built.borrower, Borrower)
    assert Payment("P1", built.id, cny("1.00"), d("2025-02-15"), _at()).minor == 100
