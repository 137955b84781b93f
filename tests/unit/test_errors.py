"""One error hierarchy; every message names the field and the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import attrs
import pendulum
import pytest
from tests.unit.builders import cny, d, loan, payment

import loancollect
from loancollect import (
    ConfigurationError,
    CurrencyMismatchError,
    DateRange,
    FloatNotAllowedError,
    Installment,
    LoanCollectError,
    Money,
    Payment,
    UnknownCurrencyError,
    ValidationError,
    assess,
    build_schedule,
    business_calendar,
)


def shifted_due_dates() -> object:
    subject = loan(term=3, principal=cny("300.00"))
    first, second, third = subject.installments
    return attrs.evolve(
        subject,
        installments=(attrs.evolve(second, number=1), attrs.evolve(first, number=2), third),
    )


def usd_payment() -> object:
    usd = Payment(
        "P-1",
        "L-1",
        Money("10.00", "USD"),
        d("2025-02-15"),
        pendulum.datetime(2025, 2, 15, tz="UTC"),
    )
    return assess(loan(), [usd], d("2025-03-01"))


# (what goes wrong, how to provoke it, error type, field named, text in the message)
CASES: list[tuple[str, Callable[[], object], type[LoanCollectError], str, str]] = [
    ("zero principal", lambda: loan(principal=cny("0.00")), ValidationError, "principal", "0.00"),
    (
        "negative principal",
        lambda: loan(principal=cny("-100.00")),
        ValidationError,
        "principal",
        "-100.00",
    ),
    ("zero term", lambda: loan(term=0), ValidationError, "term", "term=0"),
    (
        "negative rate",
        lambda: loan(annual_rate=Decimal("-0.01")),
        ValidationError,
        "annual_rate",
        "-0.01",
    ),
    (
        "absurd rate (a percentage passed as a fraction)",
        lambda: attrs.evolve(loan(), annual_rate=Decimal("6")),
        ValidationError,
        "loan.annual_rate",
        "Decimal('0.06') for 6 %",
    ),
    ("float amount", lambda: Money(1234.56, "CNY"), FloatNotAllowedError, "amount", "1234.56"),
    (
        "float rate",
        lambda: loan(annual_rate=0.06),
        FloatNotAllowedError,
        "loan.annual_rate",
        "0.06",
    ),
    (
        "unknown currency",
        lambda: Money("1.00", "RMB"),
        UnknownCurrencyError,
        "currency",
        "'RMB'",
    ),
    (
        "naive datetime",
        lambda: Payment("P-1", "L-1", cny("1.00"), d("2025-02-15"), dt.datetime(2025, 2, 15)),
        ValidationError,
        "payment.received_at",
        "naive datetime",
    ),
    (
        "due dates out of order",
        shifted_due_dates,
        ValidationError,
        "loan.installments[1].due_date",
        "strictly after the previous one",
    ),
    (
        "first due date not after disbursement",
        lambda: attrs.evolve(loan(), disbursement_date=d("2025-03-01")),
        ValidationError,
        "loan.installments[0].due_date",
        "after disbursement",
    ),
    ("payment in another currency", usd_payment, CurrencyMismatchError, "", "USD"),
    (
        "payment before disbursement",
        lambda: assess(loan(), [payment("10.00", "2025-01-14")], d("2025-03-01")),
        ValidationError,
        "payments[0].value_date",
        "2025-01-14",
    ),
    (
        "pause that ends before it starts",
        lambda: DateRange(d("2025-03-10"), d("2025-03-01")),
        ValidationError,
        "date_range.end",
        "ends before it starts (2025-03-10)",
    ),
    (
        "installment in another currency",
        lambda: Installment(
            number=1,
            due_date=d("2025-02-15"),
            principal=cny("1.00"),
            interest=Money("1.00", "USD"),
        ),
        CurrencyMismatchError,
        "",
        "CNY and USD",
    ),
]


@pytest.mark.parametrize(
    ("provoke", "error", "field", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_raises_one_clear_error_naming_field_and_value(
    provoke: Callable[[], object], error: type[LoanCollectError], field: str, text: str
) -> None:
    with pytest.raises(error) as info:
        provoke()
    assert isinstance(info.value, LoanCollectError)
    if field:
        assert info.value.field == field  # type: ignore[attr-defined]
        assert str(info.value).startswith(f"{field}=")
    assert text in str(info.value)


def test_every_error_type_is_a_loancollect_error() -> None:
    for error in (
        ValidationError,
        FloatNotAllowedError,
        UnknownCurrencyError,
        CurrencyMismatchError,
        ConfigurationError,
    ):
        assert issubclass(error, LoanCollectError)


def test_validation_errors_are_also_value_errors_for_callers_that_catch_those() -> None:
    assert issubclass(ValidationError, ValueError)
    assert issubclass(FloatNotAllowedError, TypeError)
    assert issubclass(CurrencyMismatchError, TypeError)


def test_the_public_errors_module_re_exports_the_domain_hierarchy() -> None:
    from loancollect import errors
    from loancollect.domain import errors as domain_errors

    assert errors.LoanCollectError is domain_errors.LoanCollectError
    assert loancollect.ValidationError is domain_errors.ValidationError


def test_validation_error_keeps_field_value_and_reason() -> None:
    error = ValidationError("loan.principal", "CNY 0.00", "must be positive")
    assert (error.field, error.value, error.reason) == (
        "loan.principal",
        "CNY 0.00",
        "must be positive",
    )
    assert str(error) == "loan.principal='CNY 0.00': must be positive"


def test_currency_mismatch_names_both_currencies_and_the_operation() -> None:
    with pytest.raises(CurrencyMismatchError) as info:
        Money("1", "CNY") + Money("1", "EUR")
    assert (info.value.operation, info.value.left, info.value.right) == ("add", "CNY", "EUR")


def test_configuration_errors_name_the_value() -> None:
    with pytest.raises(ConfigurationError, match="'XX'"):
        business_calendar("XX")


def test_a_bad_schedule_call_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="term=0"):
        build_schedule(principal=cny("1.00"), annual_rate=Decimal(0), term=0, start=d("2025-01-01"))
