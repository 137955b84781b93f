"""Conformance suites: one per port and one per optional storage capability.

Subclass the contracts that apply to your plug-in in its tests and provide the
fixtures they ask for; pytest collects the inherited tests. The in-memory
backend, the SQL plug-in and the recording channel run exactly these suites in
loancollect's own tests. These modules need pytest; the rest of
:mod:`loancollect.testing` does not.

Storage, one contract per port (each needs a ``uow_factory`` fixture)::

    import pytest
    from loancollect.testing import StorageContract, TenantIsolationContract

    class TestMyStorage(StorageContract, TenantIsolationContract):
        @pytest.fixture
        def uow_factory(self, tmp_path):
            return open_my_backend(f"sqlite:///{tmp_path}/db.sqlite")

        @pytest.fixture
        def open_tenant(self, tmp_path):
            url = f"sqlite:///{tmp_path}/tenants.sqlite"
            return lambda tenant: open_my_backend(url, tenant=tenant)

- :class:`LoanRepositoryContract`: ``uow.loans``, loans and payments;
- :class:`CaseRepositoryContract`: ``uow.cases``, cases and the daily selection;
- :class:`OutboxRepositoryContract`: ``uow.outbox``, the outbox's state machine;
- :class:`EventRepositoryContract`: ``uow.events``, hash-chained streams;
- :class:`UnitOfWorkContract`: commit, rollback, isolation and atomicity;
- :class:`StorageContract`: the five above, what every backend must pass;
- :class:`ClaimingCasesContract`: optional ``claim_due``
  (:class:`~loancollect.ports.ClaimingCases`);
- :class:`ClaimingOutboxContract`: optional ``claim_pending``
  (:class:`~loancollect.ports.ClaimingOutbox`);
- :class:`BatchMarkingOutboxContract`: optional ``mark_sent_many``
  (:class:`~loancollect.ports.BatchMarkingOutbox`);
- :class:`TenantIsolationContract`: tenants kept apart (needs ``open_tenant``);
- :class:`CaseVersionContract`: a stale case save is refused
  (:class:`~loancollect.ports.ConcurrentUpdateError`);
- :class:`LockingCasesContract`: optional ``get_for_update``
  (:class:`~loancollect.ports.LockingCases`);
- :class:`AuditedEventsContract`: optional anchored, signed streams
  (:class:`~loancollect.ports.AuditedEvents`; needs ``open_audited`` and a ``tamper``
  implementing :class:`Tamperer`, which changes stored records behind the
  repositories' back).

Channels::

    from loancollect.testing import ChannelContract, FailureMode

    class TestAcmeSms(ChannelContract):
        @pytest.fixture
        def channel(self, fake_gateway):
            return AcmeSms(url=fake_gateway.url)

        def fail_next(self, channel, mode):
            ...  # make the fake gateway answer the next request with 503 / 400 / 403

        def deliveries(self, channel):
            return len(fake_gateway.requests)

The actions carry the builder's mobile number; a channel that needs another
kind of contact point (an e-mail address, a postal address) overrides the
``contact`` fixture, and the ``message`` fixture for a message that suits it.
"""

from loancollect.testing.contracts._base import DAY, T0, StorageFixtures
from loancollect.testing.contracts.audit import AuditedEventsContract, OpenAudited, Tamperer
from loancollect.testing.contracts.cases import CaseRepositoryContract, ClaimingCasesContract
from loancollect.testing.contracts.channels import ChannelContract
from loancollect.testing.contracts.concurrency import CaseVersionContract, LockingCasesContract
from loancollect.testing.contracts.events import EventRepositoryContract
from loancollect.testing.contracts.loans import LoanRepositoryContract
from loancollect.testing.contracts.outbox import (
    BatchMarkingOutboxContract,
    ClaimingOutboxContract,
    OutboxRepositoryContract,
)
from loancollect.testing.contracts.storage import StorageContract
from loancollect.testing.contracts.tenants import OpenTenant, TenantIsolationContract
from loancollect.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = [
    "DAY",
    "T0",
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
    "OpenAudited",
    "OpenTenant",
    "OutboxRepositoryContract",
    "StorageContract",
    "StorageFixtures",
    "Tamperer",
    "TenantIsolationContract",
    "UnitOfWorkContract",
]
