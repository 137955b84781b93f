"""Rows of the cycle's hot tables written with the driver's own ``executemany``.

A review batch writes a few thousand event rows, their stream heads and the new
outbox entries. Through SQLAlchemy's per-row machinery (bind processors, JSON
serialisation, parameter dictionaries) that costs more than the database's own work,
so these rows are built here as plain tuples, already in the form the column types
store, and handed to the driver in one ``executemany`` per table:

- an event's ``data`` is the canonical JSON text that was hashed
  (:func:`~loancollect.domain.events.chain_encoded`): encoded once, stored as is;
- dates and instants are encoded as SQLAlchemy's types store them (SQLite: ISO text,
  instants as naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``; PostgreSQL: native values),
  so rows written here and rows written through the tables read back alike;
- an outbox entry's action is ``json.dumps`` of the same document SQLAlchemy's JSON
  type would have serialised.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from loancollect.domain.errors import ValidationError
from loancollect.ports import OutboxStatus

__all__ = ["RowWriter"]

_EVENT_COLUMNS = (
    "loan_id",
    "seq",
    "kind",
    '"on"',
    "at",
    "at_utc",
    "data",
    "prev_hash",
    "hash",
    "mac",
    "tenant_id",
)
_OUTBOX_COLUMNS = (
    "key",
    "loan_id",
    "action",
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "created_on",
    "sent_at",
    "result",
    "lease_until",
    "tenant_id",
)
_CASE_COLUMNS = (
    "loan_id",
    "stage",
    "stage_since",
    "segment",
    "variant",
    "arrangements",
    "holds",
    "contacts",
    "flags",
    "last_actions",
    "next_review_date",
    "closed_on",
    "work",
    "version",
    "tenant_id",
)
_CASE_JSON = frozenset(range(5, 10)) | {12}  # the JSON columns' positions in a case row
_CASE_DATES = (2, 10, 11)  # the Date columns' positions in a case row
_JSON_AT = {"events": 6, "outbox": 2}  # the JSON column's position in each row


class RowWriter:
    """Encodes rows for one dialect and writes them through the DB-API cursor.

    :param dialect: ``"sqlite"`` or ``"postgresql"``.
    """

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        mark = "?" if self.sqlite else "%s"
        json_mark = mark if self.sqlite else "CAST(%s AS jsonb)"

        def values(columns: tuple[str, ...], json_at: int) -> str:
            return ", ".join(json_mark if i == json_at else mark for i in range(len(columns)))

        self.insert_events = (
            f"INSERT INTO lc_events ({', '.join(_EVENT_COLUMNS)}) "
            f"VALUES ({values(_EVENT_COLUMNS, _JSON_AT['events'])})"
        )
        self.upsert_heads = (
            f"INSERT INTO lc_stream_heads (loan_id, seq, hash, mac, tenant_id) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) "
            "ON CONFLICT (tenant_id, loan_id) DO UPDATE SET "
            "seq = excluded.seq, hash = excluded.hash, mac = excluded.mac"
        )
        self.insert_outbox = (
            f"INSERT INTO lc_outbox ({', '.join(_OUTBOX_COLUMNS)}) "
            f"VALUES ({values(_OUTBOX_COLUMNS, _JSON_AT['outbox'])}) "
            "ON CONFLICT (tenant_id, key) DO NOTHING"
        )
        changed = ", ".join(
            f"{c} = excluded.{c}" for c in _CASE_COLUMNS if c not in ("loan_id", "tenant_id")
        )
        case_values = ", ".join(
            json_mark if i in _CASE_JSON else mark for i in range(len(_CASE_COLUMNS))
        )
        self.save_cases_checked = (
            f"INSERT INTO lc_cases ({', '.join(_CASE_COLUMNS)}) VALUES ({case_values}) "
            f"ON CONFLICT (tenant_id, loan_id) DO UPDATE SET {changed} "
            "WHERE lc_cases.version = excluded.version - 1"
        )
        """Insert a case, or update it if its stored version is the row's ``version``
        minus one (the version read); one row changed per case written."""
        sent, pending, retry = (
            OutboxStatus.SENT.value,
            OutboxStatus.PENDING.value,
            OutboxStatus.RETRY.value,
        )
        self.mark_sent = (
            f"UPDATE lc_outbox SET status = '{sent}', attempts = attempts + 1, "
            f"sent_at = {mark}, result = {json_mark}, next_attempt_at = NULL, "
            f"lease_until = NULL WHERE tenant_id = {mark} AND key = {mark} "
            f"AND status IN ('{pending}', '{retry}')"
        )
        """Mark an open entry sent: ``(sent_at, result, tenant_id, key)``, as
        :meth:`instant` and :meth:`document` encode them; one row changed per entry."""

    def case_row(self, row: dict[str, Any]) -> tuple[Any, ...]:
        """A case row (:func:`~loancollect_sqlalchemy.mapping.case_to_row` with its
        ``version`` and ``tenant_id``) in :attr:`save_cases_checked`'s column order,
        encoded as the table's types encode it (JSON text, dates as stored)."""
        values = [row[c] for c in _CASE_COLUMNS]
        for i in _CASE_JSON:
            values[i] = self.document(values[i])
        for i in _CASE_DATES:
            if values[i] is not None:
                values[i] = self.date(values[i])
        return tuple(values)

    def date(self, value: dt.date) -> Any:
        """A ``Date`` column's stored value."""
        return value.isoformat() if self.sqlite else value

    def instant(self, field: str, value: dt.datetime | None) -> Any:
        """A ``UtcDateTime`` column's stored value; a naive instant is refused.

        :raises ValidationError: naming ``field`` if ``value`` is naive.
        """
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(field, value.isoformat(), "expected a time-zone-aware instant")
        utc = value.astimezone(dt.UTC)
        if not self.sqlite:
            return utc
        return (
            f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
        )

    @staticmethod
    def document(value: Any) -> str | None:
        """A JSON column's text, as SQLAlchemy's JSON type serialises it."""
        if value is None:
            return None
        if type(value) is list and not value:
            return "[]"  # json.dumps([]): most of a case's documents
        return json.dumps(value)
