"""The SQLite backend passes the storage conformance suite, directly and by URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from loancollect_sqlalchemy import SqlStore

from loancollect.plugins import make_plugin_manager
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import open_storage
from loancollect.testing import StorageContract


class TestSqliteStorage(StorageContract):
    @pytest.fixture
    def uow_factory(self, tmp_path: Path) -> UnitOfWorkFactory:
        return SqlStore(f"sqlite:///{tmp_path}/contract.db")


class TestSqliteStorageOpenedByUrl(StorageContract):
    """The same suite through the registry and the plug-in's entry point."""

    @pytest.fixture
    def uow_factory(self, tmp_path: Path) -> UnitOfWorkFactory:
        pm = make_plugin_manager(load_entrypoints=["sqlalchemy"])
        return open_storage(pm, f"sqlite:///{tmp_path}/contract.db")
