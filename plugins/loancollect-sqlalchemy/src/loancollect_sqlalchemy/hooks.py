"""The plug-in's hook implementations (entry point ``loancollect: sqlalchemy``)."""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.registry import StorageBackendSpec
from loancollect_sqlalchemy.repository import SqlStore


def _open(url: str) -> SqlStore:
    return SqlStore(url)


@hookimpl
def loancollect_register_storage() -> list[StorageBackendSpec]:
    """SQL storage: ``sqlite:///file.db`` and ``postgresql+psycopg://...`` (psycopg 3)."""
    return [
        StorageBackendSpec(
            name="sqlalchemy",
            schemes=("sqlite", "postgresql", "postgresql+psycopg"),
            factory=_open,
            description="SQLite (embedded default) or PostgreSQL through SQLAlchemy 2; "
            "migrated to the newest schema on open",
        )
    ]
