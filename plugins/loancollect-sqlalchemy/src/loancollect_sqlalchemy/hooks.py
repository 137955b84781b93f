"""The plug-in's hook implementations (entry point ``loancollect: sqlalchemy``)."""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.ports import DEFAULT_TENANT, AuditKey
from loancollect.registry import StorageBackendSpec
from loancollect_sqlalchemy.repository import SqlStore


def _open(url: str, *, tenant: str = DEFAULT_TENANT) -> SqlStore:
    # the audit key comes from the environment here, so every process opening the
    # store by URL (the command line, the workers) signs and verifies alike
    return SqlStore(url, tenant=tenant, audit_key=AuditKey.from_env())


@hookimpl
def loancollect_register_storage() -> list[StorageBackendSpec]:
    """SQL storage: ``sqlite:///file.db`` and ``postgresql+psycopg://...`` (psycopg 3)."""
    return [
        StorageBackendSpec(
            name="sqlalchemy",
            schemes=("sqlite", "postgresql", "postgresql+psycopg"),
            factory=_open,
            tenants=True,
            description="SQLite (embedded default) or PostgreSQL through SQLAlchemy 2; "
            "migrated to the newest schema on open; tenants kept apart by a tenant_id "
            "on every row; event streams anchored and signed with $LOANCOLLECT_AUDIT_KEY",
        )
    ]
