"""Schema migrations: upgrade, downgrade and the current revision, from code.

Alembic is configured programmatically from this package's ``migrations``
directory (no ini file). On PostgreSQL an advisory lock makes concurrent
upgrades (several workers starting at once) run one after the other.

    from loancollect_sqlalchemy.migrate import upgrade, current
    upgrade("sqlite:///collect.db")
    current("sqlite:///collect.db")  # '0004'

Revision 0004 anchors the existing event streams and, given the audit key, signs
them; :func:`upgrade` returns what the migrations had to say (for instance that the
heads were left unsigned).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from loancollect.ports import AuditKey

__all__ = ["MIGRATIONS", "VERSION_TABLE", "config", "current", "downgrade", "head", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The directory holding ``env.py`` and ``versions/``."""
VERSION_TABLE = "lc_alembic_version"
"""The plug-in's own Alembic version table."""
_LOCK_KEY = 74_211_906  # advisory lock id for migrations on PostgreSQL


def config(connection: Connection | None = None, *, audit_key: AuditKey | None = None) -> Config:
    """An Alembic :class:`Config` for the package's migrations (bound to ``connection``).

    :param audit_key: the key a migration signs with (revision 0004).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    if audit_key is not None:
        cfg.attributes["audit_key"] = audit_key
    cfg.attributes["notes"] = []
    return cfg


def _engine(target: str | Engine) -> tuple[Engine, bool]:
    if isinstance(target, Engine):
        return target, False
    from loancollect_sqlalchemy.repository import make_engine

    return make_engine(target), True


def _run(
    target: str | Engine, action: str, revision: str, audit_key: AuditKey | None = None
) -> list[str]:
    engine, owned = _engine(target)
    notes: list[str] = []
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # Rebuilding a table (SQLite's way to change its keys) drops it, which
                # foreign keys would refuse; they can only be switched off outside a
                # transaction. A migration that rebuilds checks them before its commit.
                _sqlite_foreign_keys(conn, on=False)
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                    cfg = config(conn, audit_key=audit_key)
                    if action == "upgrade":
                        command.upgrade(cfg, revision)
                    else:
                        command.downgrade(cfg, revision)
                    notes = list(cfg.attributes["notes"])
            finally:
                if sqlite:
                    _sqlite_foreign_keys(conn, on=True)
    finally:
        if owned:
            engine.dispose()
    return notes


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade(
    target: str | Engine, revision: str = "head", *, audit_key: AuditKey | None = None
) -> list[str]:
    """Migrate the database at ``target`` (URL or engine) up to ``revision``.

    :param audit_key: signs the existing event streams where a revision anchors them
        (0004); without it they are anchored unsigned.
    :return: what the migrations had to say (empty when nothing).
    """
    return _run(target, "upgrade", revision, audit_key)


def downgrade(target: str | Engine, revision: str = "base") -> None:
    """Migrate the database at ``target`` down to ``revision`` (``"base"``: empty)."""
    _run(target, "downgrade", revision)


def current(target: str | Engine) -> str | None:
    """The revision the database at ``target`` is at (``None``: never migrated)."""
    engine, owned = _engine(target)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return ctx.get_current_revision()
    finally:
        if owned:
            engine.dispose()


def head() -> str:
    """The newest revision shipped with the package."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found
