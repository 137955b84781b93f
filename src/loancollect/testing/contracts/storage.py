"""Every always-required storage contract in one class."""

from __future__ import annotations

from loancollect.testing.contracts.cases import CaseRepositoryContract
from loancollect.testing.contracts.events import EventRepositoryContract
from loancollect.testing.contracts.loans import LoanRepositoryContract
from loancollect.testing.contracts.outbox import OutboxRepositoryContract
from loancollect.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = ["StorageContract"]


class StorageContract(
    LoanRepositoryContract,
    CaseRepositoryContract,
    OutboxRepositoryContract,
    EventRepositoryContract,
    UnitOfWorkContract,
):
    """The storage conformance suite: every port a storage backend must implement.

    Provide a ``uow_factory`` fixture returning a fresh, empty storage's
    unit-of-work factory for each test. Add the contracts of the optional
    capabilities the backend offers (:class:`ClaimingCasesContract`,
    :class:`ClaimingOutboxContract`, :class:`BatchMarkingOutboxContract`) and, if
    it keeps tenants apart, :class:`TenantIsolationContract`.
    """
