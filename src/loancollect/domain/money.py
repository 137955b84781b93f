"""Exact money: a Decimal amount and an ISO 4217 currency.

Rules (DESIGN.md §4): never a float; currency is part of the value and mixing
currencies is an error; rounding is explicit and named; splitting conserves
every minor unit.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Self

import attrs

from loancollect.domain.errors import (
    CurrencyMismatchError,
    FloatNotAllowedError,
    NotMoneyError,
    UnknownCurrencyError,
    ValidationError,
)

__all__ = [
    "CURRENCIES",
    "MAX_DECIMAL_PLACES",
    "MAX_MAGNITUDE",
    "MAX_MINOR_UNITS",
    "Currency",
    "Money",
    "Rounding",
    "currency",
    "half_up_div",
    "parse_number",
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

    @property
    def max_amount(self) -> Decimal:
        """The largest amount money in this currency may hold (:data:`MAX_MINOR_UNITS`)."""
        return Decimal(MAX_MINOR_UNITS).scaleb(-self.minor_units)


MAX_MINOR_UNITS = 2**63 - 1
"""The largest count of minor units an amount may have (either sign): a signed 64-bit
integer, what SQLite's INTEGER and PostgreSQL's BIGINT hold. ``92,233,720,368,547,758.07``
in a currency with two decimals."""

MAX_MAGNITUDE = Decimal("1e26")
"""Every number :func:`to_decimal` accepts is smaller than this in absolute value."""

MAX_DECIMAL_PLACES = 60
"""Every number :func:`to_decimal` accepts has at most this many decimal places."""

# The one text form of a number: optional sign, digits (optionally grouped in threes
# by ","), optional "." and decimals. No exponent, no "_", no other digits than 0-9.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?", re.ASCII)
_NUMBER_FORMAT = (
    "a plain decimal number: digits, '.' before the decimals, optionally ',' between "
    "groups of three digits (1234.56 or 1,234.56)"
)


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

_MAX_AMOUNT = {code: c.max_amount for code, c in CURRENCIES.items()}


def currency(code: str) -> Currency:
    """Look up a currency by its ISO 4217 code.

    :raises UnknownCurrencyError: if the code is not known.
    """
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise UnknownCurrencyError("currency", code) from None


def parse_number(text: str, field: str = "value") -> Decimal:
    """The number written in ``text``, in the one accepted form.

    Accepted: an optional sign, digits, and optionally ``.`` followed by decimals;
    the whole part may be grouped in threes with ``,`` (``1,234.56``). Refused,
    because they are ambiguous or not plain decimals: a decimal comma
    (``12,50``, ``12.000,00``), misplaced group commas (``1,2000.00``),
    exponents (``1e3``), ``_``, non-ASCII digits, ``NaN`` and ``Infinity``.

    :raises ValidationError: naming ``field`` for any other text.
    """
    stripped = text.strip()
    shown = text if len(text) <= 40 else text[:40] + "…"
    if not _NUMBER.fullmatch(stripped):
        raise ValidationError(field, shown, f"not {_NUMBER_FORMAT}")
    if len(stripped) > 120:
        raise ValidationError(field, shown, "out of range: too many digits")
    return _checked(Decimal(stripped.replace(",", "")), field, shown)


def _checked(result: Decimal, field: str, value: object) -> Decimal:
    if not result.is_finite():
        raise ValidationError(field, value, "must be a finite number (not NaN or Infinity)")
    if abs(result) >= MAX_MAGNITUDE:
        raise ValidationError(field, value, "out of range: must be below 1e26 in absolute value")
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        if not result:
            return Decimal(0)
        raise ValidationError(
            field, value, f"more than {MAX_DECIMAL_PLACES} decimal places; round it first"
        )
    return result


def to_decimal(value: object, field: str = "value") -> Decimal:
    """Convert an exact number (Decimal, int, numeric str) to ``Decimal``.

    Strings must be in the one accepted form (see :func:`parse_number`). Every
    number must be finite, below :data:`MAX_MAGNITUDE` in absolute value and have
    at most :data:`MAX_DECIMAL_PLACES` decimals.

    :raises FloatNotAllowedError: for a ``float``.
    :raises ValidationError: for anything else that is not such a number.
    """
    if isinstance(value, Decimal):
        return _checked(value, field, value)
    if isinstance(value, bool):
        raise ValidationError(field, value, "expected a number, got a bool")
    if isinstance(value, int):
        if -MAX_MAGNITUDE < value < MAX_MAGNITUDE:
            return Decimal(value)
        shown: object = value if value.bit_length() < 256 else f"<int of {value.bit_length()} bits>"
        raise ValidationError(field, shown, "out of range: must be below 1e26 in absolute value")
    if isinstance(value, float):
        raise FloatNotAllowedError(field, value)
    if isinstance(value, str):
        return parse_number(value, field)
    raise ValidationError(field, value, f"expected Decimal, int or str, got {type(value).__name__}")


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


_RANGE = "out of range: amounts may not exceed {} in absolute value"


def _check_range(dec: Decimal, cur: Currency, shown: object) -> None:
    if abs(dec) > _MAX_AMOUNT[cur.code]:
        raise ValidationError(
            "amount",
            shown,
            _RANGE.format(f"{cur.max_amount} {cur.code}") + " (2^63 - 1 minor units)",
        )


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
        _check_range(dec, cur, amount)
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
        cur = CURRENCIES.get(currency) if isinstance(currency, str) else None
        if cur is None:
            raise UnknownCurrencyError("currency", currency)
        if not -MAX_MINOR_UNITS <= minor <= MAX_MINOR_UNITS:
            shown = minor if minor.bit_length() < 256 else f"<int of {minor.bit_length()} bits>"
            raise ValidationError("minor", shown, _RANGE.format(f"{MAX_MINOR_UNITS:,} minor units"))
        obj = object.__new__(cls)
        object.__setattr__(obj, "amount", Decimal(minor).scaleb(-cur.minor_units))
        object.__setattr__(obj, "currency", currency)
        return obj

    @classmethod
    def rounded(cls, amount: object, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Self:
        """Build from an amount of any precision, rounding it to the minor unit."""
        cur = CURRENCIES.get(currency) if isinstance(currency, str) else None
        if cur is None:
            raise UnknownCurrencyError("currency", currency)
        if not isinstance(rounding, Rounding):
            raise ValidationError("rounding", rounding, "expected a Rounding")
        dec = to_decimal(amount, "amount")
        _check_range(dec, cur, amount)
        return cls(dec.quantize(cur.quantum, rounding=rounding.value), currency)

    # -- views --------------------------------------------------------------
    @property
    def currency_info(self) -> Currency:
        """The :class:`Currency` record of this amount's currency."""
        return CURRENCIES[self.currency]

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
            raise NotMoneyError(operation, other)
        if other.currency != self.currency:
            raise CurrencyMismatchError(operation, self.currency, other.currency)
        return other

    def _new(self, amount: Decimal) -> Money:
        if abs(amount) > _MAX_AMOUNT[self.currency]:
            _check_range(amount, CURRENCIES[self.currency], amount)
        obj = object.__new__(Money)
        object.__setattr__(obj, "amount", amount)
        object.__setattr__(obj, "currency", self.currency)
        return obj

    def __add__(self, other: Money) -> Money:
        return self._new(self.amount + self._check(other, "add").amount)

    def __sub__(self, other: Money) -> Money:
        return self._new(self.amount - self._check(other, "subtract").amount)

    def __radd__(self, other: object) -> Money:
        # ``1 + money`` and ``sum(amounts)`` (which starts from 0) land here.
        raise NotMoneyError(
            "add",
            other,
            f"cannot add {type(other).__name__} and Money: both sides must be Money of one "
            "currency (sum amounts with sum_money(values, currency), not sum())",
        )

    def __rsub__(self, other: object) -> Money:
        raise NotMoneyError("subtract", other)

    def __truediv__(self, other: object) -> Money:
        raise NotMoneyError(
            "divide",
            other,
            f"cannot divide Money by {type(other).__name__}: split it with Money.split or "
            "Money.allocate, or scale it with Money.multiply",
        )

    __floordiv__ = __truediv__

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
            raise NotMoneyError(
                "multiply", rate, "cannot multiply Money by Money: multiply it by a rate"
            )
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
