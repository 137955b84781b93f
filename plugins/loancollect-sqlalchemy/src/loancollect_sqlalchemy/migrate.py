"""Schema migrations: upgrade, downgrade and the current revision, from code.

Alembic is configured programmatically from this package's ``migrations``
directory (no ini file). On PostgreSQL an advisory lock makes concurrent
upgrades (several workers starting at once) run one after the other.

    from loancollect_sqlalchemy.migrate import upgrade, current
    upgrade("sqlite:///collect.db")
    current("sqlite:///collect.db")  # '0002'
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

__all__ = ["MIGRATIONS", "VERSION_TABLE", "config", "current", "downgrade", "head", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
"""The directory holding ``env.py`` and ``versions/``."""
VERSION_TABLE = "lc_alembic_version"
"""The plug-in's own Alembic version table."""
_LOCK_KEY = 74_211_906  # advisory lock id for migrations on PostgreSQL


def config(connection: Connection | None = None) -> Config:
    """An Alembic :class:`Config` for the package's migrations (bound to ``connection``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _engine(target: str | Engine) -> tuple[Engine, bool]:
    if isinstance(target, Engine):
        return target, False
    from loancollect_sqlalchemy.repository import make_engine

    return make_engine(target), True


def _run(target: str | Engine, action: str, revision: str) -> None:
    engine, owned = _engine(target)
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
                    if action == "upgrade":
                        command.upgrade(config(conn), revision)
                    else:
                        command.downgrade(config(conn), revision)
            finally:
                if sqlite:
                    _sqlite_foreign_keys(conn, on=True)
    finally:
        if owned:
            engine.dispose()


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database at ``target`` (URL or engine) up to ``revision``."""
    _run(target, "upgrade", revision)


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
