"""Exact money: a Decimal amount and an ISO 4217 currency.

Rules (DESIGN.md §4): never a float; currency is part of the value and mixing
currencies is an error; rounding is explicit and named; splitting conserves
every minor unit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    InvalidOperation,
)
from typing import Self

import attrs

from loancollect.domain.errors import (
    CurrencyMismatchError,
    FloatNotAllowedError,
    UnknownCurrencyError,
    ValidationError,
)

__all__ = [
    "CURRENCIES",
    "Currency",
    "Money",
    "Rounding",
    "currency",
    "half_up_div",
    "round_div",
    "to_decimal",
]


class Rounding(enum.Enum):
    """Named rounding modes. ``HALF_UP`` (四舍五入) is the default everywhere."""

    HALF_UP = ROUND_HALF_UP
    HALF_EVEN = ROUND_HALF_EVEN
    DOWN = ROUND_DOWN
    UP = ROUND_UP
    FLOOR = ROUND_FLOOR
    CEILING = ROUND_CEILING


@attrs.frozen
class Currency:
    """An ISO 4217 currency: code, minor units and display symbol."""

    code: str
    minor_units: int
    symbol: str
    name: str

    @property
    def quantum(self) -> Decimal:
        """The smallest amount, e.g. ``Decimal("0.01")``."""
        return Decimal(1).scaleb(-self.minor_units)


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("CNY", 2, "¥", "Chinese yuan"),
        Currency("USD", 2, "$", "US dollar"),
        Currency("EUR", 2, "€", "Euro"),
        Currency("GBP", 2, "£", "Pound sterling"),
        Currency("JPY", 0, "¥", "Japanese yen"),
        Currency("KRW", 0, "₩", "South Korean won"),
        Currency("HKD", 2, "HK$", "Hong Kong dollar"),
        Currency("TWD", 2, "NT$", "New Taiwan dollar"),
        Currency("SGD", 2, "S$", "Singapore dollar"),
        Currency("AUD", 2, "A$", "Australian dollar"),
        Currency("CAD", 2, "C$", "Canadian dollar"),
        Currency("CHF", 2, "CHF ", "Swiss franc"),
        Currency("INR", 2, "₹", "Indian rupee"),
        Currency("IDR", 2, "Rp", "Indonesian rupiah"),
        Currency("PHP", 2, "₱", "Philippine peso"),
        Currency("VND", 0, "₫", "Vietnamese dong"),
        Currency("MXN", 2, "MX$", "Mexican peso"),
        Currency("BRL", 2, "R$", "Brazilian real"),
        Currency("KWD", 3, "KD ", "Kuwaiti dinar"),
        Currency("BHD", 3, "BD ", "Bahraini dinar"),
        Currency("SEK", 2, "kr ", "Swedish krona"),
        Currency("PLN", 2, "zł ", "Polish złoty"),
    )
}


def currency(code: str) -> Currency:
    """Look up a currency by its ISO 4217 code.

    :raises UnknownCurrencyError: if the code is not known.
    """
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise UnknownCurrencyError("currency", code) from None


def to_decimal(value: object, field: str = "value") -> Decimal:
    """Convert an exact number (Decimal, int, numeric str) to ``Decimal``.

    :raises FloatNotAllowedError: for a ``float``.
    :raises ValidationError: for anything else that is not a finite number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValidationError(field, value, "expected a number, got a bool")
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, float):
        raise FloatNotAllowedError(field, value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise ValidationError(field, value, "not a decimal number") from None
    else:
        raise ValidationError(
            field, value, f"expected Decimal, int or str, got {type(value).__name__}"
        )
    if not result.is_finite():
        raise ValidationError(field, value, "must be a finite number")
    return result


def half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (四舍五入), exactly."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def round_div(numerator: int, denominator: int, rounding: Rounding) -> int:
    """Exact integer division of two integers under a named rounding mode."""
    if denominator == 0:
        raise ZeroDivisionError("round_div by zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if rounding is Rounding.HALF_UP:
        return half_up_div(numerator, denominator)
    q, r = divmod(numerator, denominator)
    if r == 0:
        return q
    # Only the side of the remainder matters, so compare it exactly with the half.
    twice, half_den = 2 * r, denominator
    if rounding is Rounding.FLOOR:
        return q
    if rounding is Rounding.CEILING:
        return q + 1
    negative = numerator < 0
    if rounding is Rounding.DOWN:
        return q + 1 if negative else q
    if rounding is Rounding.UP:
        return q if negative else q + 1
    # HALF_EVEN (HALF_UP is handled above)
    if twice > half_den or (twice == half_den and q % 2 == 1):
        return q + 1
    return q


def _coerce_rate(value: object, field: str) -> Decimal:
    return to_decimal(value, field)


@attrs.frozen(init=False, repr=False, eq=False, order=False)
class Money:
    """An exact amount of one currency.

    ``Money("1234.56", "CNY")`` or ``Money(Decimal("12"), "USD")``. The amount may
    not carry more decimals than the currency's minor unit (``Money("0.001",
    "CNY")`` is an error: round explicitly with :meth:`rounded` first).

    Arithmetic (``+``, ``-``, comparisons) works only within one currency and
    raises :class:`CurrencyMismatchError` otherwise. Multiplication by a rate
    rounds with a named mode (HALF_UP unless told otherwise).
    """

    amount: Decimal
    currency: str

    def __init__(self, amount: object, currency: str) -> None:
        cur = CURRENCIES.get(currency) if isinstance(currency, str) else None
        if cur is None:
            raise UnknownCurrencyError("currency", currency)
        dec = to_decimal(amount, "amount")
        quantum = cur.quantum
        quantized = dec.quantize(quantum, rounding=ROUND_HALF_UP)
        if quantized != dec:
            raise ValidationError(
                "amount",
                amount,
                f"{currency} has {cur.minor_units} decimal places; round explicitly "
                "(Money.rounded) before making Money",
            )
        object.__setattr__(self, "amount", quantized)
        object.__setattr__(self, "currency", currency)

    # -- construction -------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Self:
        """Zero in ``currency``."""
        return cls.from_minor(0, currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Self:
        """Build from an integer count of minor units (fen, cents)."""
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise ValidationError("minor", minor, "minor units must be an int")
        cur = CURRENCIES.get(currency)
        if cur is None:
            raise UnknownCurrencyError("currency", currency)
        obj = object.__new__(cls)
        object.__setattr__(obj, "amount", Decimal(minor).scaleb(-cur.minor_units))
        object.__setattr__(obj, "currency", currency)
        return obj

    @classmethod
    def rounded(cls, amount: object, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Self:
        """Build from an amount of any precision, rounding it to the minor unit."""
        cur = CURRENCIES.get(currency)
        if cur is None:
            raise UnknownCurrencyError("currency", currency)
        dec = to_decimal(amount, "amount").quantize(cur.quantum, rounding=rounding.value)
        return cls(dec, currency)

    # -- views --------------------------------------------------------------
    @property
    def minor_units(self) -> int:
        """The amount as an integer count of minor units."""
        return int(self.amount.scaleb(CURRENCIES[self.currency].minor_units))

    def is_zero(self) -> bool:
        """True if the amount is zero."""
        return not self.amount

    def is_positive(self) -> bool:
        """True if the amount is above zero."""
        return self.amount > 0

    def is_negative(self) -> bool:
        """True if the amount is below zero."""
        return self.amount < 0

    # -- arithmetic ---------------------------------------------------------
    def _check(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            if isinstance(other, float):
                raise FloatNotAllowedError("other", other)
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(operation, self.currency, other.currency)
        return other

    def _new(self, amount: Decimal) -> Money:
        obj = object.__new__(Money)
        object.__setattr__(obj, "amount", amount)
        object.__setattr__(obj, "currency", self.currency)
        return obj

    def __add__(self, other: Money) -> Money:
        return self._new(self.amount + self._check(other, "add").amount)

    def __sub__(self, other: Money) -> Money:
        return self._new(self.amount - self._check(other, "subtract").amount)

    def __neg__(self) -> Money:
        return self._new(-self.amount)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return self._new(abs(self.amount))

    def multiply(self, rate: object, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """Multiply by an exact rate and round to the minor unit with ``rounding``.

        The product is exact (integer arithmetic on minor units), so it is rounded
        exactly once, however many digits the rate has.
        """
        factor = _coerce_rate(rate, "rate")
        num, den = factor.as_integer_ratio()
        return Money.from_minor(round_div(self.minor_units * num, den, rounding), self.currency)

    def __mul__(self, rate: object) -> Money:
        if isinstance(rate, Money):
            return NotImplemented
        return self.multiply(rate)

    __rmul__ = __mul__

    def allocate(self, ratios: Sequence[object]) -> list[Money]:
        """Split in proportion to ``ratios`` so that the parts sum exactly to self.

        Largest-remainder method: each part gets the floor of its share, then the
        leftover minor units go one by one to the parts with the largest remainders
        (earlier parts first on ties).

        :raises ValidationError: if there are no ratios, one is negative, or all are zero.
        """
        weights = [to_decimal(r, f"ratios[{i}]") for i, r in enumerate(ratios)]
        if not weights:
            raise ValidationError("ratios", list(ratios), "at least one ratio is needed")
        if any(w < 0 for w in weights):
            raise ValidationError("ratios", list(ratios), "ratios may not be negative")
        total = sum(weights, Decimal(0))
        if total == 0:
            raise ValidationError("ratios", list(ratios), "ratios may not all be zero")
        minor = self.minor_units
        sign = -1 if minor < 0 else 1
        minor = abs(minor)
        # Scale weights to integers so that the split is exact.
        exponent = min((w.as_tuple().exponent for w in weights), default=0)
        scale = 10 ** -int(exponent) if isinstance(exponent, int) and exponent < 0 else 1
        int_weights = [int(w * scale) for w in weights]
        int_total = sum(int_weights)
        shares = [minor * w // int_total for w in int_weights]
        remainders = [(minor * w % int_total, -i) for i, w in enumerate(int_weights)]
        leftover = minor - sum(shares)
        for _, neg_index in sorted(remainders, reverse=True)[:leftover]:
            shares[-neg_index] += 1
        return [Money.from_minor(sign * s, self.currency) for s in shares]

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` near-equal amounts that sum exactly to self."""
        if not isinstance(parts, int) or parts < 1:
            raise ValidationError("parts", parts, "must be a positive int")
        return self.allocate([1] * parts)

    # -- comparison ---------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other, "compare").amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    # -- formatting ---------------------------------------------------------
    def format(self, style: str = "symbol") -> str:
        """Human formatting with thousands separators.

        ``style="symbol"`` gives ``"¥1,234.56"``, ``"$1,234.56"``;
        ``style="code"`` gives ``"CNY 1,234.56"``.
        """
        cur = CURRENCIES[self.currency]
        digits = f"{abs(self.amount):,.{cur.minor_units}f}"
        sign = "-" if self.amount < 0 else ""
        if style == "symbol":
            return f"{sign}{cur.symbol}{digits}"
        if style == "code":
            return f"{sign}{cur.code} {digits}"
        raise ValidationError("style", style, "expected 'symbol' or 'code'")

    def __str__(self) -> str:
        return self.format("code")

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"


def sum_money(values: Iterable[Money], currency: str) -> Money:
    """Sum amounts of one currency; an empty iterable gives zero."""
    total = Money.zero(currency)
    for v in values:
        total = total + v
    return total


__all__ += ["sum_money"]
