"""The PostgreSQL backend passes every storage contract, directly and by URL: the
required ports, claiming cases and outbox entries, batch marking, tenant isolation,
refused stale case saves and cases read for update."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loancollect_sqlalchemy import SqlStore

from loancollect.plugins import make_plugin_manager
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import open_storage
from loancollect.testing import (
    BatchMarkingOutboxContract,
    ClaimingCasesContract,
    ClaimingOutboxContract,
    StorageContract,
    TenantIsolationContract,
)
from loancollect.testing.contracts import (
    CaseVersionContract,
    LockingCasesContract,
    OpenTenant,
)


class TestPostgresStorage(
    StorageContract,
    ClaimingCasesContract,
    ClaimingOutboxContract,
    BatchMarkingOutboxContract,
    TenantIsolationContract,
    CaseVersionContract,
    LockingCasesContract,
):
    @pytest.fixture
    def uow_factory(self, pg_store: SqlStore) -> UnitOfWorkFactory:
        return pg_store

    @pytest.fixture
    def open_tenant(self, pg_store: SqlStore) -> OpenTenant:
        return pg_store.for_tenant


class TestPostgresStorageOpenedByUrl(
    StorageContract,
    ClaimingCasesContract,
    ClaimingOutboxContract,
    BatchMarkingOutboxContract,
    TenantIsolationContract,
):
    """``postgresql://`` through the registry means psycopg 3."""

    @pytest.fixture
    def url(self, pg_url: str) -> str:
        return pg_url.replace("postgresql+psycopg://", "postgresql://")

    @pytest.fixture
    def uow_factory(self, url: str) -> Iterator[UnitOfWorkFactory]:
        pm = make_plugin_manager(load_entrypoints=["sqlalchemy"])
        store = open_storage(pm, url)
        assert isinstance(store, SqlStore)
        yield store
        store.dispose()

    @pytest.fixture
    def open_tenant(self, url: str) -> Iterator[OpenTenant]:
        pm = make_plugin_manager(load_entrypoints=["sqlalchemy"])
        opened: list[SqlStore] = []

        def open_tenant(tenant: str) -> UnitOfWorkFactory:
            store = open_storage(pm, url, tenant=tenant)
            assert isinstance(store, SqlStore)
            opened.append(store)
            return store

        yield open_tenant
        for store in opened:
            store.dispose()
