"""Money: exact amounts, one currency per value, named rounding, conserving splits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loancollect import (
    CurrencyMismatchError,
    FloatNotAllowedError,
    Money,
    Rounding,
    UnknownCurrencyError,
    ValidationError,
)
from loancollect.domain.money import currency, half_up_div, round_div, sum_money, to_decimal


@pytest.mark.parametrize(
    ("code", "minor_units", "quantum"),
    [
        ("CNY", 2, Decimal("0.01")),
        ("USD", 2, Decimal("0.01")),
        ("EUR", 2, Decimal("0.01")),
        ("GBP", 2, Decimal("0.01")),
        ("JPY", 0, Decimal("1")),
        ("KWD", 3, Decimal("0.001")),
    ],
)
def test_each_currency_has_its_iso_4217_minor_units(
    code: str, minor_units: int, quantum: Decimal
) -> None:
    assert currency(code).minor_units == minor_units
    assert currency(code).quantum == quantum


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("1234.56", "CNY", 123456),
        (Decimal("12"), "USD", 1200),
        (7, "EUR", 700),
        ("1,234.50", "GBP", 123450),
        ("1235", "JPY", 1235),
        ("-0.01", "CNY", -1),
    ],
)
def test_money_is_exact_in_minor_units(amount: object, code: str, minor: int) -> None:
    assert Money(amount, code).minor_units == minor
    assert Money.from_minor(minor, code) == Money(amount, code)


@pytest.mark.parametrize(
    ("amount", "code"), [("0.001", "CNY"), ("1.5", "JPY"), ("0.0001", "KWD"), ("10.005", "USD")]
)
def test_more_decimals_than_the_currency_has_is_refused(amount: str, code: str) -> None:
    with pytest.raises(ValidationError, match="round explicitly"):
        Money(amount, code)


@pytest.mark.parametrize(
    ("amount", "rounding", "expected"),
    [
        ("2.345", Rounding.HALF_UP, "2.35"),
        ("2.345", Rounding.HALF_EVEN, "2.34"),
        ("2.355", Rounding.HALF_EVEN, "2.36"),
        ("-2.345", Rounding.HALF_UP, "-2.35"),
        ("2.349", Rounding.DOWN, "2.34"),
        ("2.341", Rounding.UP, "2.35"),
        ("-2.341", Rounding.FLOOR, "-2.35"),
        ("-2.349", Rounding.CEILING, "-2.34"),
    ],
)
def test_rounded_uses_the_named_rounding(amount: str, rounding: Rounding, expected: str) -> None:
    assert Money.rounded(amount, "CNY", rounding) == Money(expected, "CNY")


def test_rounded_defaults_to_half_up() -> None:
    assert Money.rounded("0.125", "CNY") == Money("0.13", "CNY")
    assert Money.rounded("2.5", "JPY") == Money("3", "JPY")


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (lambda: Money(1.5, "CNY"), "amount"),
        (lambda: Money("1.00", "CNY").multiply(0.06), "rate"),
        (lambda: Money("1.00", "CNY") * 0.06, "rate"),
        (lambda: 0.06 * Money("1.00", "CNY"), "rate"),
        (lambda: Money.rounded(0.125, "CNY"), "amount"),
        (lambda: Money("1.00", "CNY").allocate([0.5, 0.5]), "ratios[0]"),
        (lambda: Money("1.00", "CNY") + 1.0, "other"),
        (lambda: Money("1.00", "CNY") < 1.0, "other"),
    ],
)
def test_a_float_anywhere_in_an_amount_or_rate_is_rejected(value: object, field: str) -> None:
    with pytest.raises(FloatNotAllowedError) as info:
        value()  # type: ignore[operator]
    assert info.value.field == field
    assert "floats are not accepted" in str(info.value)
    assert "Decimal(" in str(info.value)


def test_float_error_is_both_a_validation_error_and_a_type_error() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "CNY")
    with pytest.raises(ValidationError):
        Money(0.1, "CNY")


@pytest.mark.parametrize("code", ["XYZ", "cny", "", None, 156])
def test_an_unknown_currency_is_refused(code: object) -> None:
    with pytest.raises(UnknownCurrencyError, match="unknown ISO 4217"):
        Money("1", code)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", True, [1], None])
def test_non_numbers_are_refused_with_the_field_named(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_decimal(value, "loan.principal")
    assert info.value.field == "loan.principal"


def test_addition_and_subtraction_stay_exact() -> None:
    assert Money("0.10", "CNY") + Money("0.20", "CNY") == Money("0.30", "CNY")
    assert Money("1.00", "CNY") - Money("0.01", "CNY") == Money("0.99", "CNY")
    assert -Money("1.00", "CNY") == Money("-1.00", "CNY")
    assert abs(Money("-1.00", "CNY")) == Money("1.00", "CNY")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_arithmetic_and_ordering_across_currencies_raise(operation: object) -> None:
    with pytest.raises(CurrencyMismatchError, match="CNY and USD"):
        operation(Money("1", "CNY"), Money("1", "USD"))  # type: ignore[operator]


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money("1.00", "CNY") != Money("1.00", "USD")
    assert Money("1.00", "CNY") == Money("1", "CNY")
    assert hash(Money("1.00", "CNY")) == hash(Money("1", "CNY"))


def test_money_does_not_mix_with_plain_numbers() -> None:
    with pytest.raises(TypeError):
        Money("1", "CNY") + Decimal(1)  # type: ignore[operator]
    assert Money("1", "CNY") != Decimal(1)


@pytest.mark.parametrize(
    ("amount", "rate", "rounding", "expected"),
    [
        ("100.00", "0.045", Rounding.HALF_UP, "4.50"),
        ("10.05", "0.5", Rounding.HALF_UP, "5.03"),
        ("10.05", "0.5", Rounding.HALF_EVEN, "5.02"),
        ("10.15", "0.5", Rounding.HALF_EVEN, "5.08"),
        ("8106.64", "0.0075", Rounding.HALF_UP, "60.80"),
        ("1.00", 3, Rounding.HALF_UP, "3.00"),
        ("1.00", "0.333333", Rounding.HALF_UP, "0.33"),
    ],
)
def test_multiplication_by_a_rate_rounds_once_with_the_named_mode(
    amount: str, rate: object, rounding: Rounding, expected: str
) -> None:
    assert Money(amount, "CNY").multiply(rate, rounding) == Money(expected, "CNY")


def test_operator_multiplication_rounds_half_up() -> None:
    assert Money("10.05", "CNY") * Decimal("0.5") == Money("5.03", "CNY")
    assert Decimal("0.5") * Money("10.05", "CNY") == Money("5.03", "CNY")


def test_multiplication_of_jpy_rounds_to_whole_yen() -> None:
    assert Money("1001", "JPY").multiply(Decimal("0.5")) == Money("501", "JPY")


@pytest.mark.parametrize(
    ("amount", "ratios", "expected"),
    [
        ("100.00", [1, 1, 1], ["33.34", "33.33", "33.33"]),
        ("0.05", [1, 1], ["0.03", "0.02"]),
        ("100.00", [Decimal("0.7"), Decimal("0.3")], ["70.00", "30.00"]),
        ("10.00", [3, 0, 1], ["7.50", "0.00", "2.50"]),
        ("0.01", [1, 1, 1], ["0.01", "0.00", "0.00"]),
        ("-0.05", [1, 1], ["-0.03", "-0.02"]),
        ("1.00", ["1", "2"], ["0.33", "0.67"]),
    ],
)
def test_allocate_splits_by_ratio_and_conserves_every_minor_unit(
    amount: str, ratios: list[object], expected: list[str]
) -> None:
    parts = Money(amount, "CNY").allocate(ratios)
    assert parts == [Money(e, "CNY") for e in expected]
    assert sum_money(parts, "CNY") == Money(amount, "CNY")


def test_allocate_of_jpy_hands_out_whole_yen() -> None:
    assert Money("100", "JPY").allocate([1, 1, 1]) == [
        Money("34", "JPY"),
        Money("33", "JPY"),
        Money("33", "JPY"),
    ]


@pytest.mark.parametrize("ratios", [[], [1, -1], [0, 0]])
def test_allocate_refuses_empty_negative_or_all_zero_ratios(ratios: list[int]) -> None:
    with pytest.raises(ValidationError, match="ratios"):
        Money("1.00", "CNY").allocate(ratios)


def test_split_gives_near_equal_parts_summing_to_the_whole() -> None:
    parts = Money("100.00", "CNY").split(3)
    assert parts == [Money("33.34", "CNY"), Money("33.33", "CNY"), Money("33.33", "CNY")]


@pytest.mark.parametrize("parts", [0, -1, "3"])
def test_split_needs_a_positive_int(parts: object) -> None:
    with pytest.raises(ValidationError, match="parts"):
        Money("1.00", "CNY").split(parts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("money", "style", "text"),
    [
        (Money("1234.56", "CNY"), "symbol", "¥1,234.56"),
        (Money("1234.56", "CNY"), "code", "CNY 1,234.56"),
        (Money("1234.56", "USD"), "symbol", "$1,234.56"),
        (Money("1234567.8", "EUR"), "symbol", "€1,234,567.80"),
        (Money("0.5", "GBP"), "symbol", "£0.50"),
        (Money("1235", "JPY"), "symbol", "¥1,235"),
        (Money("1235", "JPY"), "code", "JPY 1,235"),
        (Money("-1234.56", "CNY"), "symbol", "-¥1,234.56"),
        (Money("-1234.56", "USD"), "code", "-USD 1,234.56"),
    ],
)
def test_formatting_uses_symbol_or_code_with_thousands_separators(
    money: Money, style: str, text: str
) -> None:
    assert money.format(style) == text


def test_str_is_the_code_format_and_repr_is_exact() -> None:
    assert str(Money("1234.56", "CNY")) == "CNY 1,234.56"
    assert repr(Money("1234.5", "CNY")) == "Money('1234.50', 'CNY')"


def test_unknown_format_style_is_refused() -> None:
    with pytest.raises(ValidationError, match="style"):
        Money("1", "CNY").format("words")


def test_money_is_frozen() -> None:
    money = Money("1.00", "CNY")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]


def test_zero_and_sign_predicates() -> None:
    assert Money.zero("CNY").is_zero()
    assert not Money.zero("CNY")
    assert Money("0.01", "CNY").is_positive()
    assert Money("-0.01", "CNY").is_negative()


def test_from_minor_needs_an_int() -> None:
    with pytest.raises(ValidationError, match="minor"):
        Money.from_minor(Decimal(1), "CNY")  # type: ignore[arg-type]


def test_sum_of_nothing_is_zero_in_the_given_currency() -> None:
    assert sum_money([], "USD") == Money.zero("USD")


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounding", "expected"),
    [
        (5, 2, Rounding.HALF_UP, 3),
        (-5, 2, Rounding.HALF_UP, -3),
        (5, 2, Rounding.HALF_EVEN, 2),
        (7, 2, Rounding.HALF_EVEN, 4),
        (-5, 2, Rounding.HALF_EVEN, -2),
        (7, 3, Rounding.DOWN, 2),
        (-7, 3, Rounding.DOWN, -2),
        (7, 3, Rounding.UP, 3),
        (-7, 3, Rounding.UP, -3),
        (-7, 3, Rounding.FLOOR, -3),
        (-7, 3, Rounding.CEILING, -2),
        (6, 3, Rounding.UP, 2),
        (5, -2, Rounding.HALF_UP, -3),
    ],
)
def test_round_div_is_exact_integer_division_under_the_named_mode(
    numerator: int, denominator: int, rounding: Rounding, expected: int
) -> None:
    assert round_div(numerator, denominator, rounding) == expected


def test_half_up_div_rounds_half_away_from_zero() -> None:
    assert [half_up_div(n, 2) for n in (-3, -1, 1, 3)] == [-2, -1, 1, 2]


def test_round_div_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        round_div(1, 0, Rounding.HALF_UP)
