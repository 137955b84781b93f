"""The loancollect exception hierarchy (defined in the pure core, re-exported here)."""

from loancollect.domain.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    LoanCollectError,
    NotMoneyError,
    UnknownCurrencyError,
    ValidationError,
)

__all__ = [
    "ConfigurationError",
    "CurrencyMismatchError",
    "FloatNotAllowedError",
    "LoanCollectError",
    "NotMoneyError",
    "UnknownCurrencyError",
    "ValidationError",
]
