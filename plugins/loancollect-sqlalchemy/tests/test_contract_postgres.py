"""The PostgreSQL backend passes the storage conformance suite, directly and by URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loancollect_sqlalchemy import SqlStore

from loancollect.plugins import make_plugin_manager
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import open_storage
from loancollect.testing import StorageContract


class TestPostgresStorage(StorageContract):
    @pytest.fixture
    def uow_factory(self, pg_store: SqlStore) -> UnitOfWorkFactory:
        return pg_store


class TestPostgresStorageOpenedByUrl(StorageContract):
    """``postgresql://`` through the registry means psycopg 3."""

    @pytest.fixture
    def uow_factory(self, pg_url: str) -> Iterator[UnitOfWorkFactory]:
        pm = make_plugin_manager(load_entrypoints=["sqlalchemy"])
        store = open_storage(pm, pg_url.replace("postgresql+psycopg://", "postgresql://"))
        assert isinstance(store, SqlStore)
        yield store
        store.dispose()
