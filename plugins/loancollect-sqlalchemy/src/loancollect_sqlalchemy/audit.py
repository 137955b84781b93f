"""The audit trail in SQL: stream heads, signatures and the store-wide check.

Every stream (tenant, loan) has a row in ``lc_stream_heads`` with its last ``seq`` and
``hash``, written by :meth:`~loancollect_sqlalchemy.repository.SqlEventRepository.append`
in the transaction of the events it anchors. With an
:class:`~loancollect.ports.AuditKey` every event row and every head also carry a
``mac`` (:func:`loancollect.domain.events.event_mac`, :func:`~loancollect.domain.events.head_mac`).

Every column of ``lc_events`` is covered: ``loan_id``, ``seq``, ``kind``, ``on``,
``at`` and ``data`` by the event's hash (recomputed here), ``prev_hash`` by the
chain, ``at_utc`` by comparison with the hashed ``at``, ``tenant_id`` by the
signatures (and by the head being looked up per tenant), ``hash`` and ``mac`` by
recomputation.

These functions work on a :class:`~sqlalchemy.engine.Connection` in its current
transaction and use only the columns revision 0004 created, so the migration that
creates the heads uses them too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loancollect.domain.events import (
    Event,
    StreamFault,
    StreamHead,
    StreamProblem,
    audit_stream,
    event_mac,
    head_mac,
)
from loancollect.ports import AuditKey, AuditTally
from loancollect_sqlalchemy import mapping as m
from loancollect_sqlalchemy import tables as t

__all__ = ["Stored", "load_streams", "sign_streams", "verify_streams"]

# As revision 0004 made them (not the newest table definitions: the migration uses these).
_events = sa.table(
    "lc_events",
    sa.column("loan_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("on", sa.Date()),
    sa.column("at", sa.String()),
    sa.column("at_utc", t.UtcDateTime()),
    sa.column("data", t.JSON),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
    sa.column("mac", sa.String()),
    sa.column("tenant_id", sa.String()),
)
_heads = sa.table(
    "lc_stream_heads",
    sa.column("loan_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("hash", sa.String()),
    sa.column("mac", sa.String()),
    sa.column("tenant_id", sa.String()),
)
_E, _H = _events.c, _heads.c
_SET_EVENT_MAC = (
    sa.update(_events)
    .where(
        _E.tenant_id == sa.bindparam("t"),
        _E.loan_id == sa.bindparam("l"),
        _E.seq == sa.bindparam("s"),
        _E.hash == sa.bindparam("h"),
    )
    .values(mac=sa.bindparam("m"))
)
_SET_HEAD_MAC = (
    sa.update(_heads)
    .where(
        _H.tenant_id == sa.bindparam("t"),
        _H.loan_id == sa.bindparam("l"),
        _H.seq == sa.bindparam("s"),
        _H.hash == sa.bindparam("h"),
    )
    .values(mac=sa.bindparam("m"))
)

Key = tuple[str, str]  # (tenant, loan id)


@attrs.define
class Stored:
    """One stream as stored: its events (in seq order), their signatures and UTC copies,
    and its head."""

    tenant: str
    loan_id: str
    events: list[Event] = attrs.Factory(list)
    macs: list[str | None] = attrs.Factory(list)
    utc: list[Any] = attrs.Factory(list)
    head: StreamHead | None = None

    def audit(self, key: AuditKey | None, *, unsigned_ok: bool = False) -> StreamProblem | None:
        """The first problem of the stream (see :func:`loancollect.domain.events.audit_stream`)."""
        return audit_stream(
            self.loan_id,
            self.events,
            self.head,
            tenant=self.tenant,
            key=key.secret if key is not None else None,
            macs=self.macs,
            stored_utc=self.utc,
            unsigned_ok=unsigned_ok,
        )


def _chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load_streams(conn: Connection, keys: Sequence[Key]) -> dict[Key, Stored]:
    """The stored streams (and heads) of ``keys``; a key with neither is left out."""
    found: dict[Key, Stored] = {}
    by_tenant = itertools.groupby(sorted(keys), key=lambda k: k[0])
    for tenant, group in by_tenant:
        loans = [loan for _, loan in group]
        for part in _chunks(loans):
            q = sa.select(_heads).where(_H.tenant_id == tenant, _H.loan_id.in_(part))
            for h in conn.execute(q).mappings():
                stored = found.setdefault((tenant, h["loan_id"]), Stored(tenant, h["loan_id"]))
                stored.head = StreamHead(
                    loan_id=h["loan_id"], seq=h["seq"], hash=h["hash"], mac=h["mac"]
                )
            q = (
                sa.select(_events)
                .where(_E.tenant_id == tenant, _E.loan_id.in_(part))
                .order_by(_E.loan_id, _E.seq)
            )
            for row in conn.execute(q).mappings():
                stored = found.setdefault((tenant, row["loan_id"]), Stored(tenant, row["loan_id"]))
                stored.events.append(m.row_to_event(row))
                stored.macs.append(row["mac"])
                stored.utc.append(row["at_utc"])
    for stored in found.values():  # the order of the seq column, whatever the row order
        if any(a.seq > b.seq for a, b in itertools.pairwise(stored.events)):
            order = sorted(range(len(stored.events)), key=lambda i: stored.events[i].seq)
            stored.events = [stored.events[i] for i in order]
            stored.macs = [stored.macs[i] for i in order]
            stored.utc = [stored.utc[i] for i in order]
    return found


def _head_pages(conn: Connection, tenant: str | None, size: int) -> Iterator[list[Key]]:
    """The heads' keys in pages of ``size``, in key order (keyset paging)."""
    after: Key | None = None
    while True:
        q = sa.select(_H.tenant_id, _H.loan_id)
        if tenant is not None:
            q = q.where(_H.tenant_id == tenant)
        if after is not None:
            q = q.where(sa.tuple_(_H.tenant_id, _H.loan_id) > sa.tuple_(*after))
        page = [(a, b) for a, b in conn.execute(q.order_by(_H.tenant_id, _H.loan_id).limit(size))]
        if not page:
            return
        yield page
        after = page[-1]


def _unanchored(conn: Connection, tenant: str | None) -> list[tuple[str, str, int]]:
    """Streams with events but no head: ``(tenant, loan id, events)``."""
    anchored = sa.exists().where(_H.tenant_id == _E.tenant_id, _H.loan_id == _E.loan_id)
    q = sa.select(_E.tenant_id, _E.loan_id, sa.func.count()).where(~anchored)
    if tenant is not None:
        q = q.where(_E.tenant_id == tenant)
    q = q.group_by(_E.tenant_id, _E.loan_id).order_by(_E.tenant_id, _E.loan_id)
    return [(a, b, n) for a, b, n in conn.execute(q)]


def verify_streams(
    conn: Connection,
    *,
    tenant: str | None,
    key: AuditKey | None,
    tally: AuditTally,
    page: int = 500,
) -> Iterator[StreamProblem]:
    """Check every stream of ``tenant`` (``None``: of every tenant); yield each bad one.

    Run it in one transaction that sees one snapshot (REPEATABLE READ on PostgreSQL,
    a read transaction on SQLite), or a stream appended to meanwhile may look
    truncated. Anchored streams come in key order, then the streams without a head.
    """
    tally.signatures = key is not None
    tenants: set[str] = set()
    for keys in _head_pages(conn, tenant, page):
        loaded = load_streams(conn, keys)
        for k in keys:
            stored = loaded[k]
            tenants.add(k[0])
            tally.streams += 1
            tally.events += len(stored.events)
            tally.unsigned += stored.head is not None and stored.head.mac is None
            problem = stored.audit(key)
            if problem is not None:
                tally.problems += 1
                yield problem
    for tenant_id, loan_id, count in _unanchored(conn, tenant):
        tenants.add(tenant_id)
        tally.streams += 1
        tally.events += count
        tally.problems += 1
        yield StreamProblem(
            tenant=tenant_id,
            loan_id=loan_id,
            seq=0,
            fault=StreamFault.UNANCHORED,
            detail=f"{count} event(s) are stored but the stream has no head",
        )
    tally.tenants += len(tenants)


def sign_streams(
    conn: Connection,
    *,
    tenant: str | None,
    key: AuditKey,
    page: int = 500,
    commit_each_page: bool = False,
    skipped: list[StreamProblem] | None = None,
) -> int:
    """Sign the unsigned events and heads of every stream that otherwise verifies.

    :param commit_each_page: commit after each page of streams (a live store: on
        PostgreSQL each page's streams are locked as appends lock them, on SQLite the
        write lock is taken before the page is read); otherwise everything happens in
        the caller's transaction (the migration).
    :param skipped: collects the streams left unsigned because they do not verify.
    :return: how many streams were signed.
    """
    secret = key.secret
    signed = 0
    after: Key | None = None
    dialect = conn.dialect.name
    while True:
        if commit_each_page and dialect == "sqlite":
            # the write lock first, so the page is read by the writer (no stale read)
            conn.execute(sa.update(_heads).where(sa.false()).values(seq=_H.seq))
        q = sa.select(_H.tenant_id, _H.loan_id)
        if tenant is not None:
            q = q.where(_H.tenant_id == tenant)
        if after is not None:
            q = q.where(sa.tuple_(_H.tenant_id, _H.loan_id) > sa.tuple_(*after))
        keys = [(a, b) for a, b in conn.execute(q.order_by(_H.tenant_id, _H.loan_id).limit(page))]
        if not keys:
            if commit_each_page:
                conn.commit()
            return signed
        after = keys[-1]
        if commit_each_page and dialect == "postgresql":
            lock_streams(conn, keys)
        events: list[dict[str, Any]] = []
        heads: list[dict[str, Any]] = []
        for (tenant_id, loan_id), stored in load_streams(conn, keys).items():
            head = stored.head
            if head is None:
                continue
            if head.mac is not None and all(mac is not None for mac in stored.macs):
                continue
            problem = stored.audit(key, unsigned_ok=True)
            if problem is not None:
                if skipped is not None:
                    skipped.append(problem)
                continue
            for ev, mac in zip(stored.events, stored.macs, strict=True):
                if mac is None:
                    events.append(
                        {
                            "t": tenant_id,
                            "l": loan_id,
                            "s": ev.seq,
                            "h": ev.hash,
                            "m": event_mac(secret, tenant_id, loan_id, ev.seq, ev.hash),
                        }
                    )
            if head.mac is None:
                heads.append(
                    {
                        "t": tenant_id,
                        "l": loan_id,
                        "s": head.seq,
                        "h": head.hash,
                        "m": head_mac(secret, tenant_id, loan_id, head.seq, head.hash),
                    }
                )
            signed += 1
        if events:
            conn.execute(_SET_EVENT_MAC, events)
        if heads:
            conn.execute(_SET_HEAD_MAC, heads)
        if commit_each_page:
            conn.commit()


def lock_streams(conn: Connection, keys: Iterable[Key]) -> None:
    """PostgreSQL: take the transaction-scoped advisory lock of each stream, in key
    order (the lock an append takes before it reads the stream's head)."""
    by_tenant = itertools.groupby(sorted(keys), key=lambda k: k[0])
    for tenant, group in by_tenant:
        conn.execute(
            sa.text(
                "SELECT count(pg_advisory_xact_lock(hashtext(:t || '/' || k))) FROM "
                "(SELECT k FROM unnest(CAST(:ids AS text[])) AS k ORDER BY k) AS s"
            ),
            {"ids": [loan for _, loan in group], "t": tenant},
        )
