"""Migrations: an empty database upgraded gives exactly the table definitions; downgrade
and upgrade round-trip; the API and the command line agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from loancollect_sqlalchemy import cli, migrate
from loancollect_sqlalchemy.repository import make_engine
from loancollect_sqlalchemy.tables import metadata


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": migrate.VERSION_TABLE}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {n for n in sa.inspect(engine).get_table_names() if n.startswith("lc_")}
    finally:
        engine.dispose()


def _indexes(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    try:
        insp = sa.inspect(engine)
        return {
            t.name: sorted(str(i["name"]) for i in insp.get_indexes(t.name))
            for t in metadata.sorted_tables
        }
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert _diff(url) == []
    schema = _indexes(url)
    assert schema["lc_cases"] == ["ix_lc_cases_due"]
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert _tables(url) == {"lc_alembic_version"}
    migrate.upgrade(url)
    assert _diff(url) == []
    assert _indexes(url) == schema


def test_sqlite_upgrade_matches_the_tables_and_round_trips(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path}/m.db")


def test_postgres_upgrade_matches_the_tables_and_round_trips(pg_empty_database: str) -> None:
    _round_trip(pg_empty_database)


def test_every_table_is_created_by_a_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    migrate.upgrade(url)
    assert _tables(url) == {t.name for t in metadata.sorted_tables} | {"lc_alembic_version"}


def test_command_line_migrates_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert cli.main(["current", url]) == 0
    assert capsys.readouterr().out.strip() == "base"
    assert cli.main(["migrate", url]) == 0
    assert capsys.readouterr().out.strip() == f"base -> {migrate.head()}"
    assert cli.main(["migrate", url, "--to", "base"]) == 0
    assert capsys.readouterr().out.strip() == f"{migrate.head()} -> base"
    assert cli.main(["heads"]) == 0
    assert capsys.readouterr().out.strip() == migrate.head()


def test_a_bad_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["current", "sqlite://"]) == 2
    assert "in-memory SQLite" in capsys.readouterr().err


def test_migration_files_ship_inside_the_package() -> None:
    versions = migrate.MIGRATIONS / "versions"
    assert (migrate.MIGRATIONS / "env.py").is_file()
    assert any(p.name.startswith("0001_") for p in versions.glob("*.py"))
