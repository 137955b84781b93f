"""The one exception hierarchy of loancollect.

Every error raised for bad input is a :class:`LoanCollectError`. Messages name the
field and the offending value; personal values are masked before they reach the
message (see :mod:`loancollect.domain.privacy`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "CurrencyMismatchError",
    "FloatNotAllowedError",
    "LoanCollectError",
    "NotMoneyError",
    "UnknownCurrencyError",
    "ValidationError",
]


class LoanCollectError(Exception):
    """Base class of every error loancollect raises on purpose."""


class ValidationError(LoanCollectError, ValueError):
    """A value failed validation.

    :param field: dotted name of the field, e.g. ``"loan.principal"``.
    :param value: the offending value; pass it already masked if it is personal.
    :param reason: what is wrong with it, in words a user understands.
    """

    def __init__(self, field: str, value: Any, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")


class FloatNotAllowedError(ValidationError, TypeError):
    """A binary float was given where money or a rate is expected.

    Floats cannot represent 0.1 exactly; pass a ``Decimal``, an ``int`` or a string.
    """

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(
            field,
            value,
            "floats are not accepted for money or rates; pass Decimal, int or str "
            f"(e.g. Decimal({str(value)!r}))",
        )


class UnknownCurrencyError(ValidationError):
    """The currency code is not a known ISO 4217 code."""

    def __init__(self, field: str, value: Any) -> None:
        super().__init__(field, value, "unknown ISO 4217 currency code")


class NotMoneyError(ValidationError, TypeError):
    """Money met something that is not Money in an operation (``Money + 1``).

    Amounts only add to, subtract from and compare with amounts of the same
    currency; scale one with :meth:`Money.multiply` and split it with
    :meth:`Money.split` or :meth:`Money.allocate`.
    """

    def __init__(self, operation: str, value: Any, reason: str | None = None) -> None:
        self.operation = operation
        super().__init__(
            "other",
            value,
            reason
            or f"cannot {operation} Money and {type(value).__name__}: both sides must be Money "
            "of one currency (e.g. Money('1.00', 'CNY'))",
        )


class CurrencyMismatchError(LoanCollectError, TypeError):
    """Two amounts in different currencies met in one operation."""

    def __init__(self, operation: str, left: str, right: str) -> None:
        self.operation = operation
        self.left = left
        self.right = right
        super().__init__(f"cannot {operation} {left} and {right}: currencies differ")


class ConfigurationError(LoanCollectError):
    """A configuration (policy, calendar, waterfall, plug-in set-up) is invalid."""
