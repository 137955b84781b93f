"""The sync's durable state: one small SQLite file the plug-in owns.

It holds, per CRM, the external id → CRM id of every record sent with the digest
of what was sent (a re-run sends only what changed), the polling cursors, and the
inbox of changes that came back (keyed by the CRM's event id: a webhook delivered
twice is taken once; a change is applied once, then marked). The CRM itself is the
other half of the guarantee: every record is upserted by its external id, so a
crash between the CRM's write and this file's leaves nothing for a re-run to
duplicate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import attrs

from loancollect.domain.case import OutcomeKind
from loancollect_crm.records import ChangeKind, InboundChange, RecordKind

__all__ = ["InboxStatus", "Known", "StateTally", "SyncState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crm_records (
    crm TEXT NOT NULL, kind TEXT NOT NULL, external_id TEXT NOT NULL,
    remote_id TEXT NOT NULL, digest TEXT NOT NULL, sent TEXT NOT NULL,
    PRIMARY KEY (crm, kind, external_id));
CREATE TABLE IF NOT EXISTS crm_cursors (
    crm TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (crm, name));
CREATE TABLE IF NOT EXISTS crm_inbox (
    event_id TEXT PRIMARY KEY, crm TEXT NOT NULL, change TEXT NOT NULL,
    status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS crm_conflicts (
    crm TEXT NOT NULL, kind TEXT NOT NULL, external_id TEXT NOT NULL, field TEXT NOT NULL,
    source TEXT NOT NULL);
"""


class InboxStatus(enum.Enum):
    """Where a change from the CRM stands."""

    PENDING = "pending"
    APPLIED = "applied"
    CONFLICT = "conflict"  # it changed an engine-owned field: refused by the ownership map
    REJECTED = "rejected"  # the engine refused it (the detail names the field)


@attrs.frozen(kw_only=True)
class Known:
    """What the state knows of one record sent: its CRM id, digest and sent fields."""

    remote_id: str
    digest: str
    sent: Mapping[str, str]


@attrs.frozen(kw_only=True)
class StateTally:
    """Counts for the report."""

    records: Mapping[str, int]
    conflicts: int
    inbound: Mapping[str, int]


class SyncState:
    """The sync state in a SQLite file (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # one connection a thread (the webhook endpoint writes from its own), kept open:
        # closing the last one would checkpoint the WAL on every call
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30)
            # WAL with NORMAL sync: a commit survives the process crashing (what a
            # re-run relies on); after a power loss the last commits may be lost, and
            # the re-run upserts those records again by their external ids.
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
            self._all.append(con)
        with con:  # one transaction: committed on success, rolled back on error
            yield con

    def close(self) -> None:
        """Close the connections this state opened."""
        for con in self._all:
            with contextlib.suppress(sqlite3.ProgrammingError):  # opened in another thread
                con.close()
        self._all.clear()
        self._local = threading.local()

    # -- records ---------------------------------------------------------------------
    def known(self, crm: str, kind: RecordKind, ids: Iterable[str]) -> dict[str, Known]:
        """What is known of the records ``ids`` of ``kind`` (absent: never sent)."""
        found: dict[str, Known] = {}
        wanted = list(ids)
        with self._connect() as con:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    "SELECT external_id, remote_id, digest, sent FROM crm_records"
                    f" WHERE crm = ? AND kind = ? AND external_id IN ({marks})",
                    (crm, kind.value, *chunk),
                )
                for ext, remote, digest, sent in rows:
                    found[ext] = Known(remote_id=remote, digest=digest, sent=json.loads(sent))
        return found

    def remember(
        self, crm: str, kind: RecordKind, rows: Iterable[tuple[str, str, str, Mapping[str, str]]]
    ) -> None:
        """Record ``(external id, CRM id, digest, fields sent)`` for records the CRM took."""
        with self._lock, self._connect() as con:
            con.executemany(
                "INSERT INTO crm_records VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT"
                " (crm, kind, external_id) DO UPDATE SET remote_id = excluded.remote_id,"
                " digest = excluded.digest, sent = excluded.sent",
                [(crm, kind.value, e, r, d, json.dumps(dict(s))) for e, r, d, s in rows],
            )

    def forget_digest(self, crm: str, kind: RecordKind, external_id: str) -> None:
        """Make the next sync send the record again (a CRM edit to be set back)."""
        with self._lock, self._connect() as con:
            con.execute(
                "UPDATE crm_records SET digest = '' WHERE crm = ? AND kind = ? AND external_id = ?",
                (crm, kind.value, external_id),
            )

    def remote_ids(self, crm: str, kind: RecordKind) -> dict[str, str]:
        """External id → CRM id of every record of ``kind`` sent."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT external_id, remote_id FROM crm_records WHERE crm = ? AND kind = ?",
                (crm, kind.value),
            )
            return dict(rows.fetchall())

    def conflict(
        self, crm: str, kind: RecordKind, external_id: str, field: str, source: str
    ) -> None:
        """Keep a conflict: ``field`` of the record was changed on the side that does not own it."""
        with self._lock, self._connect() as con:
            con.execute(
                "INSERT INTO crm_conflicts VALUES (?, ?, ?, ?, ?)",
                (crm, kind.value, external_id, field, source),
            )

    # -- cursors ---------------------------------------------------------------------
    def cursor(self, crm: str, name: str) -> str | None:
        """A polling cursor (``None`` before the first poll)."""
        with self._connect() as con:
            row = con.execute(
                "SELECT value FROM crm_cursors WHERE crm = ? AND name = ?", (crm, name)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, crm: str, name: str, value: str) -> None:
        """Move a polling cursor on."""
        with self._lock, self._connect() as con:
            con.execute(
                "INSERT INTO crm_cursors VALUES (?, ?, ?) ON CONFLICT (crm, name)"
                " DO UPDATE SET value = excluded.value",
                (crm, name, value),
            )

    # -- the inbox -------------------------------------------------------------------
    def enqueue(self, crm: str, change: InboundChange) -> bool:
        """Keep a change from the CRM; ``False`` if its event id was taken before."""
        with self._lock, self._connect() as con:
            cur = con.execute(
                "INSERT OR IGNORE INTO crm_inbox VALUES (?, ?, ?, ?, '')",
                (change.event_id, crm, _dump(change), InboxStatus.PENDING.value),
            )
            return cur.rowcount == 1

    def pending(self, crm: str, limit: int = 500) -> list[InboundChange]:
        """Changes not yet applied, in the order they came."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT change FROM crm_inbox WHERE crm = ? AND status = ? ORDER BY rowid LIMIT ?",
                (crm, InboxStatus.PENDING.value, limit),
            ).fetchall()
        return [_load(text) for (text,) in rows]

    def settle(self, event_id: str, status: InboxStatus, detail: str = "") -> None:
        """Mark a change applied, refused as a conflict, or rejected."""
        with self._lock, self._connect() as con:
            con.execute(
                "UPDATE crm_inbox SET status = ?, detail = ? WHERE event_id = ?",
                (status.value, detail, event_id),
            )

    def tally(self) -> StateTally:
        """Records sent by kind, conflicts, and inbound changes by status."""
        with self._connect() as con:
            records = dict(con.execute("SELECT kind, COUNT(*) FROM crm_records GROUP BY kind"))
            conflicts = con.execute("SELECT COUNT(*) FROM crm_conflicts").fetchone()[0]
            inbound = dict(con.execute("SELECT status, COUNT(*) FROM crm_inbox GROUP BY status"))
        return StateTally(records=records, conflicts=int(conflicts), inbound=inbound)


def _dump(change: InboundChange) -> str:
    return json.dumps(
        {
            "event_id": change.event_id,
            "kind": change.kind.value,
            "loan_id": change.loan_id,
            "at": change.at.isoformat(),
            "agent": change.agent,
            "team": change.team,
            "text": change.text,
            "outcome": change.outcome.value if change.outcome else None,
            "channel": change.channel,
            "key": change.key,
            "promise_amount": str(change.promise_amount) if change.promise_amount else None,
            "promise_due": change.promise_due.isoformat() if change.promise_due else None,
            "field": change.field,
            "value": change.value,
        }
    )


def _load(text: str) -> InboundChange:
    d = json.loads(text)
    return InboundChange(
        event_id=d["event_id"],
        kind=ChangeKind(d["kind"]),
        loan_id=d["loan_id"],
        at=dt.datetime.fromisoformat(d["at"]),
        agent=d["agent"],
        team=d["team"],
        text=d["text"],
        outcome=OutcomeKind(d["outcome"]) if d["outcome"] else None,
        channel=d["channel"],
        key=d["key"],
        promise_amount=Decimal(d["promise_amount"]) if d["promise_amount"] else None,
        promise_due=dt.date.fromisoformat(d["promise_due"]) if d["promise_due"] else None,
        field=d["field"],
        value=d["value"],
    )
