"""The loancollect exception hierarchy, in one place.

The domain's errors are defined in the pure core; the storage errors
(:class:`ConcurrentUpdateError`, :class:`StorageBusyError`,
:class:`TamperedStreamError`) with the ports they belong to. All derive from
:class:`LoanCollectError`.
"""

from loancollect.domain.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    LoanCollectError,
    NotMoneyError,
    UnknownCurrencyError,
    ValidationError,
)
from loancollect.ports import ConcurrentUpdateError, StorageBusyError, TamperedStreamError

__all__ = [
    "ConcurrentUpdateError",
    "ConfigurationError",
    "CurrencyMismatchError",
    "FloatNotAllowedError",
    "LoanCollectError",
    "NotMoneyError",
    "StorageBusyError",
    "TamperedStreamError",
    "UnknownCurrencyError",
    "ValidationError",
]
