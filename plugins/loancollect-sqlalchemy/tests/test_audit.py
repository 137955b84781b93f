"""The audit trail on SQLite and PostgreSQL: every contract case tampered with raw SQL,
each caught by the API and by ``loancollect verify`` (which names the first bad event,
exits 1, and never prints the key or a database password); signing what is unsigned
from the command line; a key from a file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy import mapping as m
from loancollect_sqlalchemy import tables as t

from loancollect.cli import main
from loancollect.domain.events import Event, EventKind, chain
from loancollect.ports import DEFAULT_TENANT, AuditKey
from loancollect.testing import make_event
from loancollect.testing.contracts import AuditedEventsContract, OpenAudited, Tamperer
from loancollect.testing.contracts.audit import KEY

KEY_TEXT = KEY.secret.decode()


class SqlTamperer:
    """Changes the tables with plain SQL statements, as anyone with write access could."""

    def __init__(self, engine: sa.Engine, tenant: str = DEFAULT_TENANT) -> None:
        self.engine = engine
        self.tenant = tenant

    def _run(self, sql: str, **params: Any) -> None:
        statement = sa.text(sql)
        if "d" in params:
            statement = statement.bindparams(sa.bindparam("d", type_=t.JSON))
        if "u" in params:
            statement = statement.bindparams(sa.bindparam("u", type_=t.UtcDateTime()))
        with self.engine.begin() as conn:
            conn.execute(statement, {"t": self.tenant, **params})

    def delete_event(self, loan_id: str, seq: int) -> None:
        self._run(
            "DELETE FROM lc_events WHERE tenant_id = :t AND loan_id = :l AND seq = :s",
            l=loan_id,
            s=seq,
        )

    def delete_stream(self, loan_id: str) -> None:
        self._run("DELETE FROM lc_events WHERE tenant_id = :t AND loan_id = :l", l=loan_id)

    def delete_head(self, loan_id: str) -> None:
        self._run("DELETE FROM lc_stream_heads WHERE tenant_id = :t AND loan_id = :l", l=loan_id)

    def set_head(self, loan_id: str, seq: int, digest: str) -> None:
        self._run(
            "UPDATE lc_stream_heads SET seq = :s, hash = :h WHERE tenant_id = :t AND loan_id = :l",
            l=loan_id,
            s=seq,
            h=digest,
        )

    def edit_data(self, loan_id: str, seq: int, data: tuple[tuple[str, str], ...]) -> None:
        self._run(
            "UPDATE lc_events SET data = :d WHERE tenant_id = :t AND loan_id = :l AND seq = :s",
            l=loan_id,
            s=seq,
            d=[list(pair) for pair in data],
        )

    def rewrite(self, events: Sequence[Event]) -> None:
        for ev in events:
            row = m.event_to_row(ev)
            self._run(
                'UPDATE lc_events SET kind = :k, "on" = :o, at = :a, at_utc = :u, data = :d, '
                "prev_hash = :p, hash = :h WHERE tenant_id = :t AND loan_id = :l AND seq = :s",
                k=row["kind"],
                o=row["on"],
                a=row["at"],
                u=row["at_utc"],
                d=row["data"],
                p=row["prev_hash"],
                h=row["hash"],
                l=ev.loan_id,
                s=ev.seq,
            )

    def swap(self, loan_id: str, a: int, b: int) -> None:
        where = "WHERE tenant_id = :t AND loan_id = :l AND seq = "
        self._run(f"UPDATE lc_events SET seq = -1 {where}:a", l=loan_id, a=a)
        self._run(f"UPDATE lc_events SET seq = :a {where}:b", l=loan_id, a=a, b=b)
        self._run(f"UPDATE lc_events SET seq = :b {where}-1", l=loan_id, b=b)

    def shift_at_utc(self, loan_id: str, seq: int, delta: dt.timedelta) -> bool:
        e = t.events.c
        with self.engine.connect() as conn:
            at = conn.execute(
                sa.select(e.at_utc).where(
                    e.tenant_id == self.tenant, e.loan_id == loan_id, e.seq == seq
                )
            ).scalar_one()
        self._run(
            "UPDATE lc_events SET at_utc = :u WHERE tenant_id = :t AND loan_id = :l AND seq = :s",
            l=loan_id,
            s=seq,
            u=at + delta,
        )
        return True

    def move_to_tenant(self, loan_id: str, tenant: str) -> None:
        for table in ("lc_events", "lc_stream_heads"):
            self._run(
                f"UPDATE {table} SET tenant_id = :n WHERE tenant_id = :t AND loan_id = :l",
                l=loan_id,
                n=tenant,
            )


def _rehashed(stream: tuple[Event, ...], seq: int) -> tuple[Event, ...]:
    import attrs

    edited = attrs.evolve(stream[seq], data=(("forged", "yes"),))
    return chain([edited, *stream[seq + 1 :]], prev_hash=stream[seq - 1].hash, start_seq=seq)


def _rehash(tamper: Tamperer, streams: dict[str, tuple[Event, ...]]) -> None:
    forged = _rehashed(streams["L-1"], 1)
    tamper.rewrite(forged)
    tamper.set_head("L-1", forged[-1].seq, forged[-1].hash)


# (name, tampering, loan, first bad seq, why)
CASES: list[tuple[str, Callable[[Tamperer, dict[str, tuple[Event, ...]]], Any], str, int, str]] = [
    ("delete-last-event", lambda tp, s: tp.delete_event("L-1", 3), "L-1", 3, "truncated"),
    ("delete-stream", lambda tp, s: tp.delete_stream("L-2"), "L-2", 0, "deleted"),
    ("edit-and-rehash", _rehash, "L-1", 1, "rehashed"),
    (
        "edit-at-utc",
        lambda tp, s: tp.shift_at_utc("L-2", 1, dt.timedelta(minutes=5)),
        "L-2",
        1,
        "bad_at_utc",
    ),
    ("edit-data", lambda tp, s: tp.edit_data("L-1", 2, (("x", "y"),)), "L-1", 2, "edited"),
    ("reorder", lambda tp, s: tp.swap("L-1", 1, 2), "L-1", 1, "reordered"),
]


def verify(*args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"COLUMNS": "250", "LOANCOLLECT_AUDIT_KEY": KEY_TEXT, **(env or {})})
    result = runner.invoke(main, ["verify", *args], catch_exceptions=True)
    assert "Traceback" not in result.output
    assert KEY_TEXT not in result.output
    return result


class _SqlAudit(AuditedEventsContract):
    """The contract on a SQL database, plus the command line over the same cases."""

    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def open_audited(self, url: str) -> Iterator[OpenAudited]:
        opened: list[SqlStore] = []

        def open_audited(key: AuditKey | None) -> SqlStore:
            store = SqlStore(url, audit_key=key, migrate=False)
            opened.append(store)
            return store

        yield open_audited
        for store in opened:
            store.dispose()

    @pytest.fixture
    def tamper(self, url: str) -> Iterator[Tamperer]:
        store = SqlStore(url, migrate=False)
        yield SqlTamperer(store.engine)
        store.dispose()

    def test_the_command_line_passes_an_intact_store(
        self, url: str, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        result = verify("--db", url)
        assert result.exit_code == 0, result.output
        assert "3 stream(s), 7 event(s) in 1 tenant(s); signatures checked" in result.output
        assert "every stream verifies" in result.output

    @pytest.mark.parametrize(
        ("tampering", "loan", "seq", "why"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
    )
    def test_the_command_line_names_the_first_bad_event(
        self,
        url: str,
        open_audited: OpenAudited,
        tamper: Tamperer,
        streams: dict[str, tuple[Event, ...]],
        tampering: Callable[[Tamperer, dict[str, tuple[Event, ...]]], Any],
        loan: str,
        seq: int,
        why: str,
    ) -> None:
        tampering(tamper, streams)
        found = list(open_audited(KEY).verify_all())  # type: ignore[attr-defined]
        assert [(p.loan_id, p.seq, p.fault.value) for p in found] == [(loan, seq, why)]
        result = verify("--db", url)
        assert result.exit_code == 1, result.output
        rows = [line.split("│") for line in result.output.splitlines() if f" {loan} " in line]
        assert len(rows) == 1, result.output
        cells = [c.strip() for c in rows[0]]
        assert [DEFAULT_TENANT, loan, str(seq), why] == cells[1:5], result.output
        assert "1 stream(s) do not verify" in result.output

    def test_without_the_key_the_command_line_says_what_it_cannot_see(
        self, url: str, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        _rehash(tamper, streams)
        result = verify("--db", url, env={"LOANCOLLECT_AUDIT_KEY": ""})
        assert result.exit_code == 0, result.output
        assert "no audit key: signatures not checked" in result.output
        tamper.delete_event("L-2", 1)
        result = verify("--db", url, env={"LOANCOLLECT_AUDIT_KEY": ""})
        assert result.exit_code == 1
        assert "truncated" in result.output

    def test_the_command_line_signs_with_a_key_file_and_checks_one_tenant(
        self, url: str, open_audited: OpenAudited, tmp_path: Path
    ) -> None:
        for tenant in ("brand-a", "brand-b"):
            store = open_audited(None)
            with store.for_tenant(tenant)() as uow:  # type: ignore[attr-defined]
                uow.events.append([make_event(EventKind.CASE_OPENED, "L-1")])
                uow.commit()
        key_file = tmp_path / "audit.key"
        key_file.write_text(KEY_TEXT + "\n")
        no_env = {"LOANCOLLECT_AUDIT_KEY": ""}
        result = verify("--db", url, "--key-file", str(key_file), env=no_env)
        assert result.exit_code == 1
        assert result.output.count("unsigned") >= 2
        result = verify("--db", url, "--tenant", "brand-a", "--sign", "--key-file", str(key_file))
        assert result.exit_code == 0, result.output
        assert "signed 1 stream(s)" in result.output
        assert "tenant 'brand-a'" in result.output
        result = verify("--db", url, "--key-file", str(key_file), env=no_env)
        assert result.exit_code == 1
        assert "brand-b" in result.output
        assert "brand-a" not in result.output
        result = verify("--db", url, "--sign", env=no_env)
        assert result.exit_code == 2
        assert "--sign needs the audit key" in result.output


class TestSqliteAudit(_SqlAudit):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        url = f"sqlite:///{tmp_path}/audit.db"
        SqlStore(url).dispose()
        return url


class TestPostgresAudit(_SqlAudit):
    @pytest.fixture
    def url(self, pg_url: str) -> str:
        return pg_url


def test_the_command_line_never_prints_a_database_password(pg_url: str) -> None:
    scheme, _, rest = pg_url.partition("://")
    user, _, host = rest.partition("@")  # the test cluster trusts local connections
    with_password = f"{scheme}://{user}:Sup3rSecretPw@{host}"
    result = verify("--db", with_password)
    assert "Sup3rSecretPw" not in result.output
    assert result.exit_code == 0, result.output
    bad = with_password.rsplit("/", 1)[0] + "/no_such_database"
    result = verify("--db", bad)
    assert result.exit_code == 2
    assert "Sup3rSecretPw" not in result.output


def test_a_bad_key_is_a_usage_error_without_the_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    result = verify("--db", url, env={"LOANCOLLECT_AUDIT_KEY": "short"})
    assert result.exit_code == 2
    assert "at least 16 bytes" in result.output
    assert "short" not in result.output


def test_memory_storage_is_verified_too() -> None:
    result = verify("--db", "memory:")
    assert result.exit_code == 0, result.output
    assert "0 stream(s)" in result.output
