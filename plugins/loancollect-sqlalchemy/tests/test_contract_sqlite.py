"""The SQLite backend passes every storage contract that applies to it, directly and by
URL: the required ports, batch marking, tenant isolation, refused stale case saves and
cases read for update. SQLite has one writer, so it does not claim: the engine pages
through the due cases instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loancollect_sqlalchemy import SqlStore

from loancollect.plugins import make_plugin_manager
from loancollect.ports import BatchMarkingOutbox, ClaimingCases, ClaimingOutbox, UnitOfWorkFactory
from loancollect.registry import open_storage
from loancollect.testing import (
    BatchMarkingOutboxContract,
    StorageContract,
    TenantIsolationContract,
)
from loancollect.testing.contracts import (
    CaseVersionContract,
    LockingCasesContract,
    OpenTenant,
)


class TestSqliteStorage(
    StorageContract,
    BatchMarkingOutboxContract,
    TenantIsolationContract,
    CaseVersionContract,
    LockingCasesContract,
):
    @pytest.fixture
    def uow_factory(self, tmp_path: Path) -> UnitOfWorkFactory:
        return SqlStore(f"sqlite:///{tmp_path}/contract.db")

    @pytest.fixture
    def open_tenant(self, tmp_path: Path) -> Iterator[OpenTenant]:
        store = SqlStore(f"sqlite:///{tmp_path}/tenants.db")
        yield store.for_tenant
        store.dispose()


class TestSqliteStorageOpenedByUrl(
    StorageContract, BatchMarkingOutboxContract, TenantIsolationContract
):
    """The same suites through the registry and the plug-in's entry point."""

    @pytest.fixture
    def uow_factory(self, tmp_path: Path) -> UnitOfWorkFactory:
        pm = make_plugin_manager(load_entrypoints=["sqlalchemy"])
        return open_storage(pm, f"sqlite:///{tmp_path}/contract.db")

    @pytest.fixture
    def open_tenant(self, tmp_path: Path) -> OpenTenant:
        pm = make_plugin_manager(load_entrypoints=["sqlalchemy"])
        url = f"sqlite:///{tmp_path}/tenants.db"
        return lambda tenant: open_storage(pm, url, tenant=tenant)


def test_sqlite_marks_in_batches_but_does_not_claim(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/caps.db")
    with store() as uow:
        assert isinstance(uow.outbox, BatchMarkingOutbox)
        assert not isinstance(uow.cases, ClaimingCases)
        assert not isinstance(uow.outbox, ClaimingOutbox)
    store.dispose()
