"""The public test kit for plug-in authors and host applications.

- fakes: :class:`FixedClock`, :class:`RecordingChannel` (with :class:`FailureMode`),
  :class:`MemoryStore` and :class:`MemoryDatabase` (the complete in-memory storage,
  one tenant per store);
- :class:`HookRecorder`: which hooks fired, with what, in what order;
- builders: ``make_borrower``, ``make_loan``, ``make_payment``, ``make_case``,
  ``make_rich_case``, ``make_action``, ``make_message``, ``make_payload``, ``make_event``,
  ``make_lender``;
- conformance suites to subclass (:mod:`loancollect.testing.contracts`), one per
  port and per optional capability: :class:`LoanRepositoryContract`,
  :class:`CaseRepositoryContract`, :class:`OutboxRepositoryContract`,
  :class:`EventRepositoryContract`, :class:`UnitOfWorkContract`, their sum
  :class:`StorageContract`, :class:`ClaimingCasesContract`,
  :class:`ClaimingOutboxContract`, :class:`BatchMarkingOutboxContract`,
  :class:`TenantIsolationContract`, :class:`CaseVersionContract`,
  :class:`LockingCasesContract`, :class:`AuditedEventsContract` and
  :class:`ChannelContract`.

Importing this package does not import pytest: the fakes, builders, clock and
hook recorder work in any program. The conformance suites need pytest; they are
loaded from :mod:`loancollect.testing.contracts` when first asked for
(``from loancollect.testing import StorageContract``).
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from loancollect.builtin.compliance import ANY_JURISDICTION, CONFIG_UNCHECKED
from loancollect.builtin.memory import MemoryDatabase, MemoryStore
from loancollect.builtin.recording import Delivery, FailureMode, RecordingChannel
from loancollect.testing.builders import (
    make_action,
    make_borrower,
    make_case,
    make_event,
    make_lender,
    make_loan,
    make_message,
    make_payload,
    make_payment,
    make_rich_case,
)
from loancollect.testing.clock import FixedClock
from loancollect.testing.hooks import HookCall, HookRecorder

UNCHECKED_CONTACT = MappingProxyType({CONFIG_UNCHECKED: (ANY_JURISDICTION,)})
"""Configuration for tests of made-up borrowers with no rule pack registered:
``make_plugin_manager(config=UNCHECKED_CONTACT)``. Without it (or a pack covering the
borrower's jurisdiction) the engine contacts nobody; it says so explicitly, never a
real deployment."""

if TYPE_CHECKING:
    from loancollect.testing.contracts import (
        AuditedEventsContract,
        BatchMarkingOutboxContract,
        CaseRepositoryContract,
        CaseVersionContract,
        ChannelContract,
        ClaimingCasesContract,
        ClaimingOutboxContract,
        EventRepositoryContract,
        LoanRepositoryContract,
        LockingCasesContract,
        OutboxRepositoryContract,
        StorageContract,
        TenantIsolationContract,
        UnitOfWorkContract,
    )

_CONTRACTS = frozenset(
    {
        "AuditedEventsContract",
        "BatchMarkingOutboxContract",
        "CaseRepositoryContract",
        "CaseVersionContract",
        "ChannelContract",
        "ClaimingCasesContract",
        "ClaimingOutboxContract",
        "EventRepositoryContract",
        "LoanRepositoryContract",
        "LockingCasesContract",
        "OutboxRepositoryContract",
        "StorageContract",
        "TenantIsolationContract",
        "UnitOfWorkContract",
    }
)

__all__ = [
    "UNCHECKED_CONTACT",
    "AuditedEventsContract",
    "BatchMarkingOutboxContract",
    "CaseRepositoryContract",
    "CaseVersionContract",
    "ChannelContract",
    "ClaimingCasesContract",
    "ClaimingOutboxContract",
    "Delivery",
    "EventRepositoryContract",
    "FailureMode",
    "FixedClock",
    "HookCall",
    "HookRecorder",
    "LoanRepositoryContract",
    "LockingCasesContract",
    "MemoryDatabase",
    "MemoryStore",
    "OutboxRepositoryContract",
    "RecordingChannel",
    "StorageContract",
    "TenantIsolationContract",
    "UnitOfWorkContract",
    "make_action",
    "make_borrower",
    "make_case",
    "make_event",
    "make_lender",
    "make_loan",
    "make_message",
    "make_payload",
    "make_payment",
    "make_rich_case",
]


def __getattr__(name: str) -> Any:
    """Load a conformance suite on first use (it needs pytest; nothing else here does)."""
    if name not in _CONTRACTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        contracts = importlib.import_module("loancollect.testing.contracts")
    except ImportError as exc:
        raise ImportError(
            f"loancollect.testing.{name} is a pytest test suite and needs pytest installed ({exc})"
        ) from exc
    value = getattr(contracts, name)
    globals()[name] = value
    return value
