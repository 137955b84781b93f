"""Fixtures: a throwaway PostgreSQL cluster for the session, fresh databases per test.

Without PostgreSQL server binaries the PostgreSQL tests skip and say what to
install; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy.pgcluster import PostgresNotFoundError, TemporaryPostgres
from loancollect_sqlalchemy.tables import metadata

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    """The session's PostgreSQL cluster (started on first use, stopped at the end)."""
    try:
        cluster = TemporaryPostgres()
    except PostgresNotFoundError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and PostgreSQL is missing: {exc}")
        pytest.skip(str(exc))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_migrated(postgres: TemporaryPostgres) -> str:
    """A database migrated to the newest revision, shared by the session."""
    url = postgres.create_database("lc_shared")
    SqlStore(url).dispose()
    return url


@pytest.fixture
def pg_url(pg_migrated: str) -> str:
    """The shared migrated database, emptied for this test."""
    engine = sa.create_engine(pg_migrated)
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names}")
    engine.dispose()
    return pg_migrated


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[SqlStore]:
    """A :class:`SqlStore` over an empty PostgreSQL database."""
    store = SqlStore(pg_url, migrate=False)
    yield store
    store.dispose()


@pytest.fixture
def pg_empty_database(postgres: TemporaryPostgres) -> str:
    """A new, never migrated database."""
    return postgres.create_database(f"lc_empty_{next(_names)}")
