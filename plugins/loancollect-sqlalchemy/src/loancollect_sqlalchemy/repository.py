"""Repositories and the unit of work over SQLAlchemy Core (SQLite and PostgreSQL).

:class:`SqlStore` holds the engine; calling it gives a :class:`SqlUnitOfWork`
(one connection, one transaction; commit as you go). The semantics copy the
in-memory reference backend (:mod:`loancollect.builtin.memory`) and are checked by
:class:`loancollect.testing.StorageContract`.

The hot path of the daily cycle is kept lean without changing the engine:

- **prefetch**: when :meth:`SqlCaseRepository.due_for_review` (or ``claim_due``)
  hands out a batch of cases, the unit of work loads those loans with their
  borrowers, their payments, their event streams and their outbox keys with four
  ``IN`` queries, so the per-case ``get`` / ``payments_for`` / ``stream`` calls
  that follow cost no round trip (no N+1);
- **write-behind**: case saves and new outbox entries are buffered and written with
  one ``executemany`` per table before the next statement that could read them and
  at commit; events of a batch are inserted with one ``executemany``.

On PostgreSQL the case repository also offers ``claim_due`` and the outbox
``claim_pending`` (``FOR UPDATE SKIP LOCKED``), which the engine uses to let several
worker processes share one day's work.

Concurrent writers (see docs/reliability.md): a case read in a unit of work and then
saved is written only if its ``version`` did not move meanwhile
(:class:`~loancollect.ports.ConcurrentUpdateError` otherwise);
``cases.get_for_update`` (:class:`~loancollect.ports.LockingCases`) reads a case
for update, waiting a bounded time for a unit of work that holds it (PostgreSQL
``FOR UPDATE`` with a ``lock_timeout``; SQLite: the database's write lock, taken
before the first read). A database that stays locked past the wait is a
:class:`~loancollect.ports.StorageBusyError`, never a driver's exception.

Audit (:mod:`loancollect_sqlalchemy.audit`): every append writes the stream's head
in the same transaction, continues after the head (never after whatever events are
stored) and, with an audit key, signs the events and the head.

A :class:`SqlStore` serves one tenant (``SqlStore(url, tenant=...)``, or
:meth:`SqlStore.for_tenant` to share an engine): every statement its units of work
run carries ``tenant_id = <its tenant>``, every row they write has it, and every key
and index starts with it (see :mod:`loancollect_sqlalchemy.tables`).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from loancollect.domain.case import Case
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.events import (
    GENESIS,
    Event,
    StreamFault,
    StreamHead,
    StreamProblem,
    chain_encoded,
    event_mac,
    head_mac,
)
from loancollect.domain.loans import Borrower, Loan, Payment
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import (
    DEFAULT_TENANT,
    AuditedEvents,
    AuditKey,
    AuditTally,
    ConcurrentUpdateError,
    DeliveryResult,
    LockingCases,
    OutboxEntry,
    OutboxStatus,
    StorageBusyError,
    TamperedStreamError,
    UnitOfWork,
    as_audit_key,
    check_stream_head,
    require_aware_or_none,
    validate_tenant,
)
from loancollect_sqlalchemy import audit
from loancollect_sqlalchemy import mapping as m
from loancollect_sqlalchemy import tables as t
from loancollect_sqlalchemy.writes import RowWriter

if TYPE_CHECKING:  # bulk imports this module
    from loancollect_sqlalchemy.bulk import RecordEncoder

__all__ = [
    "PgCaseRepository",
    "PgOutboxRepository",
    "SqlCaseRepository",
    "SqlEventRepository",
    "SqlLoanRepository",
    "SqlOutboxRepository",
    "SqlStore",
    "SqlUnitOfWork",
    "make_engine",
    "normalise_url",
]

_OPEN = (OutboxStatus.PENDING.value, OutboxStatus.RETRY.value)

# Statements of the hot path, built once (SQLAlchemy then reuses their compiled form).
# Each takes the unit of work's tenant as the parameter ``t``.
_OB = t.outbox.c
_TENANT: sa.BindParameter[str] = sa.bindparam("t", type_=sa.String())
_GET_OUTBOX = sa.select(t.outbox).where(_OB.tenant_id == _TENANT, _OB.key == sa.bindparam("k"))
_OUTBOX_KEY = sa.select(_OB.key).where(_OB.tenant_id == _TENANT, _OB.key == sa.bindparam("k"))
# Also for executemany: not IN (...), as an expanding list cannot go through executemany.
_MARK_SENT_MANY = (
    sa.update(t.outbox)
    .where(
        _OB.tenant_id == _TENANT,
        _OB.key == sa.bindparam("k"),
        sa.or_(*(_OB.status == s for s in _OPEN)),
    )
    .values(
        status=OutboxStatus.SENT.value,
        attempts=_OB.attempts + 1,
        sent_at=sa.bindparam("at", type_=t.UtcDateTime()),
        result=sa.bindparam("res", type_=t.JSON),
        next_attempt_at=None,
        lease_until=None,
    )
)
_MARK_SENT = _MARK_SENT_MANY.returning(*t.outbox.columns)
_STATUSES = sa.select(_OB.key, _OB.status).where(
    _OB.tenant_id == _TENANT, _OB.key.in_(sa.bindparam("ks", expanding=True))
)
_MARK_FAILED = (
    sa.update(t.outbox)
    .where(_OB.tenant_id == _TENANT, _OB.key == sa.bindparam("k"))
    .values(
        status=sa.bindparam("st"),
        attempts=sa.bindparam("n"),
        last_error=sa.bindparam("err"),
        next_attempt_at=sa.bindparam("retry", type_=t.UtcDateTime()),
        result=sa.bindparam("res", type_=t.JSON),
        lease_until=None,
    )
)
_CANCEL = (
    sa.update(t.outbox)
    .where(_OB.tenant_id == _TENANT, _OB.key == sa.bindparam("k"))
    .values(
        status=OutboxStatus.CANCELLED.value,
        last_error=sa.bindparam("err"),
        next_attempt_at=None,
        lease_until=None,
    )
)
_GET_CASE = sa.select(t.cases).where(
    t.cases.c.tenant_id == _TENANT, t.cases.c.loan_id == sa.bindparam("k")
)
_GET_CASE_FOR_UPDATE = _GET_CASE.with_for_update()
_LOCK_CASES = (
    sa.select(t.cases.c.loan_id)
    .where(
        t.cases.c.tenant_id == _TENANT,
        t.cases.c.loan_id.in_(sa.bindparam("ks", expanding=True)),
    )
    .order_by(t.cases.c.loan_id)
    .with_for_update()
)
_EV, _HD = t.events.c, t.stream_heads.c
_HEADS = sa.select(_HD.loan_id, _HD.seq, _HD.hash, _HD.mac).where(
    _HD.tenant_id == _TENANT, _HD.loan_id.in_(sa.bindparam("ks", expanding=True))
)
_WITH_EVENTS = (
    sa.select(_EV.loan_id)
    .where(_EV.tenant_id == _TENANT, _EV.loan_id.in_(sa.bindparam("ks", expanding=True)))
    .distinct()
)


def _json_as_stored(table: sa.Table) -> list[Any]:
    """The columns of ``table``, its JSON documents read as the driver returns them.

    SQLAlchemy's JSON type decodes each document with ``json.loads`` behind two layers
    of result processing per value; the hot reads (the due cases, the loans of a
    batch) decode them with :func:`_sqlite_document` instead, and on PostgreSQL the
    driver already returns ``jsonb`` decoded. Rows are read by position.
    """
    return [
        sa.type_coerce(c, sa.Text()).label(f"{table.name}_{c.name}")
        if isinstance(c.type, sa.JSON)
        else c.label(f"{table.name}_{c.name}")
        for c in table.columns
    ]


def _json_positions(table: sa.Table, offset: int = 0) -> tuple[int, ...]:
    return tuple(offset + i for i, c in enumerate(table.columns) if isinstance(c.type, sa.JSON))


_DECODE = json.JSONDecoder().raw_decode


def _sqlite_document(value: Any) -> Any:
    """A JSON column's stored SQLite text decoded as SQLAlchemy's JSON type decodes it
    (``json.loads``; ``NULL`` is ``None``), without its per-value layers."""
    if not isinstance(value, str):
        return value
    if value == "[]":  # most of a case's documents: nothing recorded
        return []
    try:
        found, end = _DECODE(value)
    except json.JSONDecodeError:
        end = -1
    if end != len(value):
        return json.loads(value)  # blanks around it, or not JSON: as json.loads does
    return found


def _as_read(value: Any) -> Any:
    return value


# A loan with its borrower: the borrower of the same tenant.
_WITH_BORROWER = sa.select(*_json_as_stored(t.loans), *_json_as_stored(t.borrowers)).join_from(
    t.loans,
    t.borrowers,
    sa.and_(
        t.borrowers.c.tenant_id == t.loans.c.tenant_id,
        t.borrowers.c.id == t.loans.c.borrower_id,
    ),
)
_GET_LOAN = _WITH_BORROWER.where(t.loans.c.tenant_id == _TENANT, t.loans.c.id == sa.bindparam("k"))
_LOAN_KEYS = tuple(t.loans.columns.keys())
_BORROWER_KEYS = tuple(t.borrowers.columns.keys())
_N_LOAN = len(_LOAN_KEYS)
_LOAN_JSON = _json_positions(t.loans)
_BORROWER_JSON = _json_positions(t.borrowers)
# The cases, read by position: the due selections and claim_due.
_CASES = sa.select(*_json_as_stored(t.cases))
_CASE_KEYS = tuple(t.cases.columns.keys())
_CASE_JSON = _json_positions(t.cases)
_CASE_VERSION = _CASE_KEYS.index("version")


def _decoded(
    keys: Sequence[str], row: Sequence[Any], json_at: Sequence[int], decode: Callable[[Any], Any]
) -> dict[str, Any]:
    """A row by column name, its JSON documents (at ``json_at``) decoded by ``decode``."""
    found = dict(zip(keys, row, strict=True))
    for i in json_at:
        found[keys[i]] = decode(row[i])
    return found


def _loan_from(row: Sequence[Any], decode: Callable[[Any], Any]) -> Loan:
    """A loan from a :data:`_WITH_BORROWER` row; ``decode`` reads its JSON documents."""
    return m.row_to_loan(
        _decoded(_LOAN_KEYS, row[:_N_LOAN], _LOAN_JSON, decode),
        m.row_to_borrower(_decoded(_BORROWER_KEYS, row[_N_LOAN:], _BORROWER_JSON, decode)),
    )


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL for a storage URL.

    ``postgresql://`` and ``postgres://`` mean psycopg 3 (``postgresql+psycopg://``);
    ``sqlite:///path`` is a file. An in-memory SQLite database cannot be shared by
    the several connections a unit of work and its readers use, so it is refused.

    :raises ConfigurationError: for an unsupported scheme or an in-memory SQLite URL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError(f"storage url {url!r}: expected '<scheme>://...'")
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return "postgresql+psycopg://" + rest
    if scheme in ("sqlite", "sqlite+pysqlite"):
        path = rest[1:] if rest.startswith("/") else rest
        if not path or path == ":memory:" or "mode=memory" in path:
            raise ConfigurationError(
                f"storage url {url!r}: an in-memory SQLite database is not supported; "
                "use sqlite:///path/to/file.db (or the 'memory:' backend)"
            )
        return "sqlite:///" + path
    raise ConfigurationError(
        f"storage url scheme {scheme!r}: the sqlalchemy backend opens sqlite:/// and "
        "postgresql+psycopg:// urls"
    )


BEGIN_MODE = "loancollect_begin"
"""SQLite: the execution option naming how the next transaction begins
(``"IMMEDIATE"``: with the write lock; otherwise a plain, deferred ``BEGIN``)."""


def make_engine(url: str, *, busy_timeout: float = 60.0, **kwargs: Any) -> Engine:
    """An engine for ``url`` set up the way the repositories expect.

    SQLite: write-ahead log (readers never block the writer), foreign keys on, and
    real ``BEGIN`` statements so a unit of work reads one snapshot; a writer waits up
    to ``busy_timeout`` seconds for another process's write lock. PostgreSQL:
    psycopg 3, READ COMMITTED, pre-ping.
    """
    sa_url = normalise_url(url)
    if sa_url.startswith("sqlite"):
        engine = sa.create_engine(sa_url, connect_args={"timeout": busy_timeout}, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(BEGIN_MODE) == "IMMEDIATE"
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(sa_url, **kwargs)


class SqlStore:
    """An opened SQL storage; call it to get a unit of work.

    :param url: ``sqlite:///file.db`` or ``postgresql+psycopg://user@host/db``.
    :param tenant: the tenant whose records the units of work read and write.
    :param migrate: bring the schema to the newest revision on open (the default).
    :param lease: how long a claimed outbox entry stays with its worker
        (PostgreSQL); after that another worker may take it over.
    :param engine: an engine to use instead of making one for ``url`` (stores of
        several tenants may share one, see :meth:`for_tenant`).
    :param audit_key: the operator's key: the events appended and the stream heads
        are signed with it, and checked with it (:meth:`verify_all`). Pass it here, or
        open the URL through the registry (``open_storage``, the command line,
        ``run_workers``), which reads ``$LOANCOLLECT_AUDIT_KEY`` (or the file named by
        ``$LOANCOLLECT_AUDIT_KEY_FILE``). Never shown in ``repr``.
    :param lock_timeout: how long ``cases.get_for_update`` (and the locks that
        follow in its transaction) wait on PostgreSQL.
    :param busy_timeout: how long a SQLite writer waits for another's write lock.
    :raises ValidationError: if ``tenant`` is not a valid tenant id.

    ``notes`` holds what the migrations run on open had to say (for instance that the
    existing event streams were anchored unsigned, for want of a key).
    """

    def __init__(
        self,
        url: str,
        *,
        tenant: str = DEFAULT_TENANT,
        migrate: bool = True,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        engine: Engine | None = None,
        audit_key: AuditKey | bytes | str | None = None,
        lock_timeout: dt.timedelta = dt.timedelta(seconds=30),
        busy_timeout: dt.timedelta = dt.timedelta(seconds=60),
    ) -> None:
        self.tenant = validate_tenant(tenant)
        self.url = url
        self.audit_key = as_audit_key(audit_key)
        self.lock_timeout = lock_timeout
        self.busy_timeout = busy_timeout
        self.engine = (
            engine
            if engine is not None
            else make_engine(url, busy_timeout=busy_timeout.total_seconds())
        )
        self.dialect = self.engine.dialect.name
        self.rows = RowWriter(self.dialect)
        """Encodes and writes the rows of the hot tables (events, heads, outbox)."""
        self.lease = lease
        self.claims = self.dialect == "postgresql"
        # claim_due, per business day: the last loan id committed in this pass, and the
        # cases this store claimed that stayed due (their review failed)
        self._cursors: dict[dt.date, str] = {}
        self._settled: dict[dt.date, set[str]] = {}
        self._cursor_lock = threading.Lock()
        # loan id -> (its stored row, the loan built from it) for the loans read lately:
        # a loan read again with the very same row (the pipelined review reads each
        # batch twice) is the same frozen object, not rebuilt
        self._recent_loans: collections.OrderedDict[str, tuple[Any, Loan]] = (
            collections.OrderedDict()
        )
        self._recent_lock = threading.Lock()
        self.notes: list[str] = []
        if migrate:
            from loancollect_sqlalchemy.migrate import upgrade

            self.notes = upgrade(self.engine, audit_key=self.audit_key)

    def _cursor(self, as_of: dt.date) -> tuple[str | None, list[str]]:
        with self._cursor_lock:
            return self._cursors.get(as_of), sorted(self._settled.get(as_of, ()))

    def _advance_cursor(self, as_of: dt.date, last: str, settled: Iterable[str] = ()) -> None:
        with self._cursor_lock:
            current = self._cursors.get(as_of)
            if current is None or last > current:
                self._cursors[as_of] = last
            self._settled.setdefault(as_of, set()).update(settled)

    def _new_pass(self, as_of: dt.date) -> None:
        with self._cursor_lock:
            self._cursors.pop(as_of, None)

    def _reset_cursor(self, as_of: dt.date) -> None:
        with self._cursor_lock:
            self._cursors.pop(as_of, None)
            self._settled.pop(as_of, None)

    def _loan_of_row(self, loan_id: str, row: Any, decode: Callable[[Any], Any]) -> Loan:
        """The loan stored as ``row``: the one built from an equal row lately, or built now.

        A loan is a function of its row (and of the dialect's decoding, the store's
        own), so an equal row gives an equal loan; frozen, it can be shared.
        """
        with self._recent_lock:
            known = self._recent_loans.get(loan_id)
        if known is not None and known[0] == row:
            return known[1]
        loan = _loan_from(row, decode)
        with self._recent_lock:
            recent = self._recent_loans
            recent[loan_id] = (row, loan)
            recent.move_to_end(loan_id)
            while len(recent) > _LOANS_REMEMBERED:
                recent.popitem(last=False)
        return loan

    def for_tenant(self, tenant: str) -> SqlStore:
        """The store of ``tenant`` on the same database, sharing this store's engine
        (its connection pool) and key; the schema is not migrated again."""
        return SqlStore(
            self.url,
            tenant=tenant,
            migrate=False,
            lease=self.lease,
            engine=self.engine,
            audit_key=self.audit_key,
            lock_timeout=self.lock_timeout,
            busy_timeout=self.busy_timeout,
        )

    def __call__(self) -> SqlUnitOfWork:
        """A new unit of work over this storage (its tenant's records)."""
        return SqlUnitOfWork(self)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def load_records(
        self, *, borrowers: Sequence[Borrower], loans: Sequence[Loan], review_on: dt.date
    ) -> None:
        """Store validated borrowers and loans in one transaction through the bulk path
        (the storage port's ``BulkLoading``; see
        :func:`loancollect_sqlalchemy.bulk.load_records`)."""
        from loancollect_sqlalchemy import bulk

        bulk.load_records(self, borrowers=borrowers, loans=loans, review_on=review_on)

    def stored_borrowers(self, ids: Collection[str]) -> dict[str, Borrower]:
        """The stored borrowers among ``ids``, by id (``BulkLoading``)."""
        from loancollect_sqlalchemy import bulk

        return bulk.stored_borrowers(self, ids)

    def stored_loan_ids(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` that are ids of stored loans (``BulkLoading``)."""
        from loancollect_sqlalchemy import bulk

        return bulk.stored_ids(self, t.loans, ids)

    def record_encoder(self) -> RecordEncoder:
        """A picklable encoder of validated records into this store's rows
        (``EncodedLoading``; see :class:`loancollect_sqlalchemy.bulk.RecordEncoder`)."""
        from loancollect_sqlalchemy import bulk

        return bulk.RecordEncoder(dialect=self.dialect, tenant=self.tenant)

    def load_encoded(
        self, *, borrowers: Sequence[Any], loans: Sequence[Any], review_on: dt.date
    ) -> None:
        """Store rows :meth:`record_encoder` encoded, in one transaction
        (``EncodedLoading``; see :func:`loancollect_sqlalchemy.bulk.load_encoded`)."""
        from loancollect_sqlalchemy import bulk

        bulk.load_encoded(self, borrowers=borrowers, loans=loans, review_on=review_on)

    def stored_borrower_ids(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` that are ids of stored borrowers (``EncodedLoading``)."""
        from loancollect_sqlalchemy import bulk

        return bulk.stored_ids(self, t.borrowers, ids)

    def migrate(self) -> str:
        """Bring the schema to the newest revision (the storage port's ``MigratingStorage``)."""
        from loancollect_sqlalchemy import migrate as alembic

        notes = alembic.upgrade(self.engine, audit_key=self.audit_key)
        where = f"at revision {alembic.current(self.engine)} (newest: {alembic.head()})"
        return "; ".join([where, *notes])

    # -- the audit trail (AuditedEvents) ---------------------------------------------
    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A read-only transaction that sees one snapshot of the database."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    yield conn
            else:
                with conn.begin():
                    yield conn

    def verify_all(
        self,
        *,
        key: AuditKey | None = None,
        every_tenant: bool = False,
        tally: AuditTally | None = None,
    ) -> Iterator[StreamProblem]:
        """Check every stream of this store's tenant (or of every tenant) against its
        head and, with a key (this store's when none is given), its signatures; yield
        one :class:`~loancollect.domain.events.StreamProblem` per bad stream.

        Reads one snapshot in pages of streams (memory stays flat); appends may go on
        meanwhile.
        """
        key = key if key is not None else self.audit_key
        tally = tally if tally is not None else AuditTally()
        with self._snapshot() as conn:
            yield from audit.verify_streams(
                conn, tenant=None if every_tenant else self.tenant, key=key, tally=tally
            )

    def sign_unsigned(self, *, key: AuditKey | None = None, every_tenant: bool = False) -> int:
        """Sign the unsigned events and heads of every stream that otherwise verifies
        (in pages, each its own transaction, locking its streams as appends do);
        return how many streams were signed.

        :raises ConfigurationError: without a key.
        """
        key = key if key is not None else self.audit_key
        if key is None:
            raise ConfigurationError("signing the event streams needs the audit key")
        with self.engine.connect() as conn:
            return audit.sign_streams(
                conn,
                tenant=None if every_tenant else self.tenant,
                key=key,
                commit_each_page=True,
            )

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        signed = "yes" if self.audit_key is not None else "no"
        return f"SqlStore({url!r}, tenant={self.tenant!r}, signed={signed})"


_LOANS_REMEMBERED = 2_048
"""Loans a store remembers with their rows (a few review batches: the pipelined review
has at most one per decide process, and one being written, in flight)."""


def _chunks(items: Sequence[Any], size: int = 900) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlUnitOfWork:
    """A unit of work: one connection and its transaction (see the ports module).

    Use it as a context manager; leaving without :meth:`commit` rolls back. The
    repositories are ``loans``, ``cases``, ``outbox`` and ``events``.
    """

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.tenant = store.tenant
        # how the hot reads decode a JSON column's value (see _json_as_stored)
        self.document: Callable[[Any], Any] = (
            _sqlite_document if store.dialect == "sqlite" else _as_read
        )
        self._conn: Connection | None = None
        self._entered = False
        # write-behind buffers
        self._case_writes: dict[str, Case] = {}
        # rows as tuples in column order, already encoded (see loancollect_sqlalchemy.writes)
        self._outbox_writes: dict[str, tuple[Any, ...]] = {}
        self._event_writes: list[tuple[Any, ...]] = []
        self._head_writes: dict[str, tuple[Any, ...]] = {}
        # prefetched state (valid within the current transaction)
        self._loan_rows: dict[str, Any] = {}
        self._loans: dict[str, Loan] = {}
        self._payments: dict[str, tuple[Payment, ...]] = {}
        self._streams: dict[str, tuple[Event, ...]] = {}
        self._stream_rows: dict[str, list[Any]] = {}
        # recent events (on or after ``_recent_since``) of prefetched loans, loaded
        # together on the first ``events.recent`` call of a batch
        self._recent: dict[str, tuple[Event, ...]] = {}
        self._recent_since: dt.date | None = None
        self._outbox_keys: dict[str, set[str]] = {}
        self._claim_cursor: tuple[dt.date, str] | None = None
        # cases claimed in this transaction (claim_due), the ones whose rows it locked
        # (claimed or read for update, PostgreSQL), and the cases saved in it
        self._claimed: list[str] = []
        self._row_locked: set[str] = set()
        self._saved: dict[str, Case] = {}
        # loan id -> the version of its case as read in this unit of work (0: none)
        self._case_versions: dict[str, int] = {}
        # loan id -> the head this transaction read or wrote: (seq, hash)
        self._heads: dict[str, tuple[int, str]] = {}
        # nothing has run in the current transaction yet (SQLite: it may still begin
        # with the write lock); the lock is held
        self._fresh = True
        self._write_locked = False
        self._lock_timeout_set = False
        self.loans = SqlLoanRepository(self)
        self.cases: SqlCaseRepository = (
            PgCaseRepository(self) if store.claims else SqlCaseRepository(self)
        )
        self.outbox: SqlOutboxRepository = (
            PgOutboxRepository(self) if store.claims else SqlOutboxRepository(self)
        )
        self.events = SqlEventRepository(self)

    # -- context ---------------------------------------------------------------------
    def __enter__(self) -> Self:
        if self._entered:
            raise RuntimeError("this unit of work is already in use; make a new one")
        conn = self.store.engine.connect()
        try:
            with self._db_errors():
                conn.begin()
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._entered = True
        self._new_transaction()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._entered = False

    @property
    def conn(self) -> Connection:
        """The connection of the open transaction."""
        if self._conn is None:
            raise RuntimeError("use the unit of work in a 'with' block")
        self._fresh = False
        return self._conn

    def _new_transaction(self) -> None:
        self._fresh = True
        self._write_locked = False
        self._lock_timeout_set = False
        self._heads.clear()
        self._claimed.clear()
        self._row_locked.clear()
        self._saved.clear()

    @contextlib.contextmanager
    def _db_errors(self) -> Iterator[None]:
        """Turn "the database is locked" into :class:`StorageBusyError` (never a
        driver's exception; the transaction must be rolled back)."""
        try:
            yield
        except sa.exc.OperationalError as exc:
            busy = _busy(exc, self.store)
            if busy is None:
                raise
            raise busy from exc

    def write_lock(self) -> None:
        """SQLite: hold the database's write lock from now to the end of the transaction.

        Taken before the transaction's first read, it waits (up to the busy timeout)
        for another writer and then reads what that one committed. Taken later, a
        writer that committed since this transaction's first read makes it a
        :class:`StorageBusyError`. No-op on PostgreSQL (rows are locked instead).
        """
        if self.dialect != "sqlite" or self._write_locked or self._conn is None:
            return
        conn = self._conn
        with self._db_errors():
            if self._fresh:
                conn.rollback()  # nothing was read: begin again, with the lock
                conn.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
                try:
                    conn.begin()
                finally:
                    conn.execution_options(**{BEGIN_MODE: "DEFERRED"})
            else:
                conn.execute(sa.update(t.cases).where(sa.false()).values(version=t.cases.c.version))
        self._fresh = False
        self._write_locked = True

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.store.dialect

    # -- transaction -----------------------------------------------------------------
    def commit(self) -> None:
        """Write buffered changes and commit the transaction.

        :raises ConcurrentUpdateError: if a case read here was saved meanwhile by
            another unit of work (roll back: nothing is committed).
        :raises StorageBusyError: if the database stayed locked past the wait.
        """
        self.flush()
        with self._db_errors():
            self.conn.commit()
        if self._claim_cursor is not None:
            as_of, last = self._claim_cursor
            settled = [
                loan_id
                for loan_id in self._claimed
                if loan_id not in self._saved or _still_due(self._saved[loan_id], as_of)
            ]
            self.store._advance_cursor(as_of, last, settled)
            self._claim_cursor = None
        self._forget()
        self._new_transaction()

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        self._case_writes.clear()
        self._outbox_writes.clear()
        self._event_writes.clear()
        self._head_writes.clear()
        self._forget()
        self._claim_cursor = None
        self._case_versions.clear()
        if self._conn is not None:
            self._conn.rollback()
        self._new_transaction()

    def _forget(self) -> None:
        self._loan_rows.clear()
        self._loans.clear()
        self._payments.clear()
        self._streams.clear()
        self._stream_rows.clear()
        self._recent.clear()
        self._recent_since = None
        self._outbox_keys.clear()

    def flush(self) -> None:
        """Write the buffered case saves, outbox entries, events and stream heads now
        (one statement each).

        A case read in this unit of work is written only if its version is still the
        one read; one saved without being read replaces what is there.

        :raises ConcurrentUpdateError: naming the first case saved meanwhile by
            another unit of work.
        """
        with self._db_errors():
            if self._case_writes:
                self._flush_cases()
            writer = self.store.rows
            if self._outbox_writes:
                rows = list(self._outbox_writes.values())
                self._outbox_writes.clear()
                self.conn.exec_driver_sql(writer.insert_outbox, rows)
            if self._event_writes:
                rows, heads = self._event_writes, list(self._head_writes.values())
                self._event_writes, self._head_writes = [], {}
                self.conn.exec_driver_sql(writer.insert_events, rows)
                self.conn.exec_driver_sql(writer.upsert_heads, heads)

    def _flush_cases(self) -> None:
        tenant = self.tenant
        versions = self._case_versions
        checked: list[dict[str, Any]] = []
        blind: list[dict[str, Any]] = []
        for case in self._case_writes.values():
            row = m.case_to_row(case)
            row["tenant_id"] = tenant
            read = versions.get(case.loan_id)
            if read is None:
                row["version"] = 1
                blind.append(row)
            else:
                row["version"] = read + 1
                checked.append(row)
        self._case_writes.clear()
        conn = self.conn
        if checked:
            # Through the driver's executemany (as the events and the outbox rows): one
            # row changed per case written. Fewer, and some case was saved meanwhile by
            # another unit of work: back to before the statement, and find which one
            # with the statement that returns the cases it wrote.
            writer = self.store.rows
            encoded = [writer.case_row(row) for row in checked]
            savepoint = conn.begin_nested()
            changed = conn.exec_driver_sql(writer.save_cases_checked, encoded).rowcount
            if changed == len(checked):
                savepoint.commit()
            else:
                savepoint.rollback()
                written = {r[0] for r in conn.execute(self._save_checked(), checked)}
                for row in checked:
                    if row["loan_id"] not in written:
                        raise ConcurrentUpdateError(row["loan_id"])
            for row in checked:
                versions[row["loan_id"]] = row["version"]
        if blind:
            for loan_id, version in conn.execute(self._save_blind(), blind):
                versions[loan_id] = version

    def execute(self, statement: Any, params: Any = None) -> sa.CursorResult[Any]:
        """Run ``statement`` after writing what is buffered (reads see own writes)."""
        self.flush()
        with self._db_errors():
            return self.conn.execute(statement, params)

    # -- dialect helpers -------------------------------------------------------------
    def _upsert(self, table: sa.Table, keys: list[str]) -> Any:
        ins: Any = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)
        changes = {c.name: ins.excluded[c.name] for c in table.columns if c.name not in keys}
        return ins.on_conflict_do_update(index_elements=keys, set_=changes)

    def _save_checked(self) -> Any:
        """Insert a case, or update it if its stored version is the one read (the
        row's ``version`` minus one); returns the loan ids written."""
        ins: Any = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(t.cases)
        keys = ("tenant_id", "loan_id")
        changes = {c.name: ins.excluded[c.name] for c in t.cases.columns if c.name not in keys}
        return ins.on_conflict_do_update(
            index_elements=list(keys),
            set_=changes,
            where=t.cases.c.version == ins.excluded.version - 1,
        ).returning(t.cases.c.loan_id)

    def _save_blind(self) -> Any:
        """Insert or replace a case, counting its version up; returns (loan id, version)."""
        ins: Any = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(t.cases)
        keys = ("tenant_id", "loan_id")
        changes: dict[str, Any] = {
            c.name: ins.excluded[c.name]
            for c in t.cases.columns
            if c.name not in keys and c.name != "version"
        }
        changes["version"] = t.cases.c.version + 1
        return ins.on_conflict_do_update(index_elements=list(keys), set_=changes).returning(
            t.cases.c.loan_id, t.cases.c.version
        )

    def _insert_ignore(self, table: sa.Table, keys: list[str]) -> Any:
        ins: Any = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)
        return ins.on_conflict_do_nothing(index_elements=keys)

    # -- prefetch --------------------------------------------------------------------
    def prefetch(self, loan_ids: Sequence[str]) -> None:
        """Load loans, payments and outbox keys of ``loan_ids`` at once.

        The repositories then answer ``get``, ``payments_for`` and the outbox's "is
        this key new" for these loans without a query, and ``events.recent`` loads
        the recent events of all of them with its first call. Full event streams are
        not loaded: their length grows with a loan's age, not with today's work.
        Called by ``due_for_review`` and ``claim_due``; host code may call it too.
        """
        ids = [i for i in dict.fromkeys(loan_ids) if i not in self._loan_rows]
        if not ids:
            return
        with self._db_errors():
            self._prefetch(ids)

    def _prefetch(self, ids: Sequence[str]) -> None:
        self.flush()
        conn = self.conn
        tenant = self.tenant
        p, o = t.payments.c, t.outbox.c
        for part in _chunks(ids):
            q = _WITH_BORROWER.where(t.loans.c.tenant_id == tenant, t.loans.c.id.in_(part))
            for row in conn.execute(q):
                self._loan_rows[row[0]] = row
            pays: dict[str, list[Payment]] = {i: [] for i in part}
            q2 = (
                sa.select(t.payments)
                .where(p.tenant_id == tenant, p.loan_id.in_(part))
                .order_by(p.loan_id, p.value_date, p.id)
            )
            for prow in conn.execute(q2).mappings():
                pays[prow["loan_id"]].append(m.row_to_payment(prow))
            for loan_id, found in pays.items():
                self._payments[loan_id] = tuple(found)
            keys: dict[str, set[str]] = {i: set() for i in part}
            q4 = sa.select(o.loan_id, o.key).where(o.tenant_id == tenant, o.loan_id.in_(part))
            for loan_id, key in conn.execute(q4):
                keys[loan_id].add(key)
            self._outbox_keys.update(keys)
            for i in part:
                self._loan_rows.setdefault(i, None)

    def _cached_loan(self, loan_id: str) -> tuple[bool, Loan | None]:
        if loan_id in self._loans:
            return True, self._loans[loan_id]
        if loan_id not in self._loan_rows:
            return False, None
        row = self._loan_rows[loan_id]
        if row is None:
            return True, None
        loan = self.store._loan_of_row(loan_id, row, self.document)
        self._loans[loan_id] = loan
        return True, loan


# -- loans -------------------------------------------------------------------------------


class SqlLoanRepository:
    """Loans (with borrowers) and payments of one unit of work."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, loan: Loan) -> None:
        """Store ``loan`` (and its borrower), replacing a stored loan with the same id.

        The borrower is one record shared by that borrower's loans: the newest
        details written win.
        """
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        if not isinstance(loan, Loan):
            raise ValidationError("loan", type(loan).__name__, "expected a Loan")
        uow = self._uow
        borrower = m.borrower_to_row(loan.borrower)
        borrower["tenant_id"] = uow.tenant
        row = m.loan_to_row(loan)
        row["tenant_id"] = uow.tenant
        uow.execute(uow._upsert(t.borrowers, ["tenant_id", "id"]), borrower)
        uow.execute(uow._upsert(t.loans, ["tenant_id", "id"]), row)
        uow._loans[loan.id] = loan

    def get(self, loan_id: str) -> Loan | None:
        """The loan with ``loan_id``, or ``None``."""
        known, loan = self._uow._cached_loan(loan_id)
        if known:
            return loan
        row = self._uow.execute(_GET_LOAN, {"k": loan_id, "t": self._uow.tenant}).first()
        return None if row is None else _loan_from(row, self._uow.document)

    def get_borrower(self, borrower_id: str) -> Borrower | None:
        """The stored borrower with ``borrower_id``, or ``None``."""
        b = t.borrowers.c
        q = sa.select(t.borrowers).where(b.tenant_id == self._uow.tenant, b.id == borrower_id)
        found = self._uow.execute(q).mappings().first()
        return None if found is None else m.row_to_borrower(found)

    def list_ids(self, *, after: str | None = None, limit: int | None = None) -> list[str]:
        """Loan ids in ascending order, strictly after ``after``, at most ``limit``."""
        q = sa.select(t.loans.c.id).where(t.loans.c.tenant_id == self._uow.tenant)
        q = q.order_by(t.loans.c.id)
        if after is not None:
            q = q.where(t.loans.c.id > after)
        if limit is not None:
            q = q.limit(limit)
        return list(self._uow.execute(q).scalars())

    def _exists(self, loan_id: str) -> bool:
        known, loan = self._uow._cached_loan(loan_id)
        if known:
            return loan is not None
        c = t.loans.c
        q = sa.select(c.id).where(c.tenant_id == self._uow.tenant, c.id == loan_id)
        return self._uow.execute(q).first() is not None

    def add_payment(self, payment: Payment) -> None:
        """Record ``payment`` (an identical repeat is a no-op)."""
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        if not isinstance(payment, Payment):
            raise ValidationError("payment", type(payment).__name__, "expected a Payment")
        if not self._exists(payment.loan_id):
            raise ValidationError("payment.loan_id", payment.loan_id, "no such loan")
        tenant = self._uow.tenant
        p = t.payments.c
        q = sa.select(t.payments).where(p.tenant_id == tenant, p.id == payment.id)
        row = self._uow.execute(q).mappings().first()
        if row is not None:
            if m.row_to_payment(row) != payment:
                raise ValidationError(
                    "payment.id", payment.id, "already recorded with different content"
                )
            return
        new = m.payment_to_row(payment)
        new["tenant_id"] = tenant
        self._uow.execute(sa.insert(t.payments), new)
        cached = self._uow._payments.get(payment.loan_id)
        if cached is not None:
            self._uow._payments[payment.loan_id] = tuple(
                sorted((*cached, payment), key=lambda p: (p.value_date, p.id))
            )

    def payments_for(self, loan_id: str) -> tuple[Payment, ...]:
        """Payments of ``loan_id`` ordered by ``(value_date, id)``."""
        cached = self._uow._payments.get(loan_id)
        if cached is not None:
            return cached
        p = t.payments.c
        q = (
            sa.select(t.payments)
            .where(p.tenant_id == self._uow.tenant, p.loan_id == loan_id)
            .order_by(p.value_date, p.id)
        )
        return tuple(m.row_to_payment(r) for r in self._uow.execute(q).mappings())

    def loans_with_payments(
        self, loan_ids: Sequence[str]
    ) -> dict[str, tuple[Loan, tuple[Payment, ...]]]:
        """Batch load: ``{loan id: (loan, payments)}`` for the stored ones of ``loan_ids``."""
        self._uow.prefetch(loan_ids)
        out: dict[str, tuple[Loan, tuple[Payment, ...]]] = {}
        for loan_id in loan_ids:
            loan = self.get(loan_id)
            if loan is not None:
                out[loan_id] = (loan, self.payments_for(loan_id))
        return out


# -- cases -------------------------------------------------------------------------------


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValidationError("limit", limit, "must be >= 1")


class SqlCaseRepository:
    """Cases of one unit of work; saves are written behind (see the module notes)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _read(self, loan_id: str, statement: Any) -> Case | None:
        uow = self._uow
        staged = uow._case_writes.get(loan_id)
        if staged is not None:
            return staged
        row = uow.execute(statement, {"k": loan_id, "t": uow.tenant}).mappings().first()
        uow._case_versions[loan_id] = 0 if row is None else row["version"]
        return None if row is None else m.row_to_case(row)

    def get(self, loan_id: str) -> Case | None:
        """The case of ``loan_id``, or ``None`` (its version is remembered: saving it
        later in this unit of work is refused if another one saved it meanwhile)."""
        return self._read(loan_id, _GET_CASE)

    def get_for_update(self, loan_id: str) -> Case | None:
        """The case of ``loan_id`` (or ``None``), locked until this unit of work ends.

        PostgreSQL: ``SELECT ... FOR UPDATE``, waiting up to the store's
        ``lock_timeout`` for a unit of work holding the row (a cycle's claimed batch).
        SQLite: the database's write lock, taken before the transaction's first read
        when possible (then the wait is the busy timeout).

        :raises ConcurrentUpdateError: if the row stayed locked past the wait.
        :raises StorageBusyError: SQLite, if the database stayed locked, or another
            writer committed after this transaction's first read.
        """
        uow = self._uow
        if uow.dialect != "postgresql":
            uow.write_lock()
            return self._read(loan_id, _GET_CASE)
        timeout = uow.store.lock_timeout
        try:
            if not uow._lock_timeout_set:
                ms = max(1, int(timeout.total_seconds() * 1000))
                uow.execute(sa.text(f"SET LOCAL lock_timeout = '{ms}ms'"))
                uow._lock_timeout_set = True
            found = self._read(loan_id, _GET_CASE_FOR_UPDATE)
            uow._row_locked.add(loan_id)
            return found
        except StorageBusyError:
            raise ConcurrentUpdateError(
                loan_id,
                f"locked by another unit of work for more than {timeout.total_seconds():g} s",
            ) from None

    def save(self, case: Case) -> None:
        """Insert or replace the case of ``case.loan_id`` (written at the next flush).

        A case read in this unit of work is written only if no other unit of work
        saved it since (:class:`~loancollect.ports.ConcurrentUpdateError` at the
        flush or commit otherwise).
        """
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        if not isinstance(case, Case):
            raise ValidationError("case", type(case).__name__, "expected a Case")
        self._uow._case_writes[case.loan_id] = case
        self._uow._saved[case.loan_id] = case

    def _found(self, rows: Iterable[Any]) -> list[Case]:
        """Cases from :data:`_CASES` rows (by position), their versions remembered."""
        versions = self._uow._case_versions
        staged = self._uow._case_writes
        decode = self._uow.document
        found = []
        for row in rows:
            if row[0] not in staged:
                versions[row[0]] = row[_CASE_VERSION]
            found.append(m.row_to_case(_decoded(_CASE_KEYS, row, _CASE_JSON, decode)))
        return found

    def _due(self, as_of: dt.date) -> Any:
        c = t.cases.c
        return _CASES.where(
            c.tenant_id == self._uow.tenant,
            c.closed_on.is_(None),
            c.next_review_date <= as_of,
        ).order_by(c.loan_id)

    def due_for_review(
        self, as_of: dt.date, *, limit: int, after_loan_id: str | None = None
    ) -> list[Case]:
        """Open cases with ``next_review_date <= as_of``, by loan id, after ``after_loan_id``.

        Uses the partial index on ``(tenant_id, next_review_date, loan_id)``; the batch's loans,
        payments, event streams and outbox keys are prefetched. On SQLite, called first
        in its transaction (as the review does), it takes the database's write lock
        before it reads: the batch is reviewed from fresh rows and written without a
        conflict, and an intake waits for it (a bounded time).
        """
        _check_limit(limit)
        if self._uow._fresh:
            self._uow.write_lock()
        q = self._due(as_of).limit(limit)
        if after_loan_id is not None:
            q = q.where(t.cases.c.loan_id > after_loan_id)
        found = self._found(self._uow.execute(q))
        if found:
            self._uow.prefetch([c.loan_id for c in found])
        return found

    def count_due(self, as_of: dt.date) -> int:
        """How many open cases are due for review on ``as_of``."""
        c = t.cases.c
        q = (
            sa.select(sa.func.count())
            .select_from(t.cases)
            .where(
                c.tenant_id == self._uow.tenant,
                c.closed_on.is_(None),
                c.next_review_date <= as_of,
            )
        )
        return int(self._uow.execute(q).scalar_one())


class PgCaseRepository(SqlCaseRepository):
    """PostgreSQL cases: adds ``claim_due`` for several workers (``FOR UPDATE SKIP LOCKED``)."""

    def claim_due(self, as_of: dt.date, *, limit: int) -> list[Case]:
        """Lock and return up to ``limit`` due cases no other transaction holds.

        The locks last until this unit of work commits or rolls back. Within one
        storage object (one worker) each call continues after the last loan id this
        worker committed for ``as_of``; a batch that was rolled back is offered again.
        When nothing is left after that position, the worker goes through the due
        cases once more from the start, for the ones it skipped because another
        transaction held them for a moment (an intake writing to the case) and the
        ones made due again since; a case this worker claimed that stayed due (its
        review failed) is not handed to it again in the run. When a pass from the
        start finds nothing, the run is over and the position is reset, so running
        the day again starts from the beginning.
        """
        _check_limit(limit)
        uow = self._uow
        store = uow.store
        c = t.cases.c
        while True:
            after, settled = store._cursor(as_of)
            q = self._due(as_of).limit(limit).with_for_update(skip_locked=True)
            if after is not None:
                q = q.where(c.loan_id > after)
            if settled:
                q = q.where(c.loan_id.not_in(settled))
            rows = uow.execute(q).all()
            if rows:
                break
            if after is None:
                store._reset_cursor(as_of)
                return []
            store._new_pass(as_of)
        found = self._found(rows)
        uow._claim_cursor = (as_of, found[-1].loan_id)
        uow._claimed.extend(case.loan_id for case in found)
        uow._row_locked.update(case.loan_id for case in found)
        uow.prefetch([case.loan_id for case in found])
        return found


# -- outbox ------------------------------------------------------------------------------


class SqlOutboxRepository:
    """The outbox of one unit of work; new entries are written behind."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _known(self, key: str, loan_id: str) -> bool:
        uow = self._uow
        if key in uow._outbox_writes:
            return True
        keys = uow._outbox_keys.get(loan_id)
        if keys is not None:
            return key in keys
        return uow.execute(_OUTBOX_KEY, {"k": key, "t": uow.tenant}).first() is not None

    def add(
        self,
        action: PlannedAction,
        *,
        created_on: dt.date,
        not_before: dt.datetime | None = None,
    ) -> bool:
        """Add ``action`` under its idempotency key; ``False`` if the key is known."""
        return self._add(action, created_on=created_on, not_before=not_before)

    def _add(
        self,
        action: PlannedAction,
        *,
        created_on: dt.date,
        not_before: dt.datetime | None = None,
        lease_until: dt.datetime | None = None,
    ) -> bool:
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        if not isinstance(action, PlannedAction):
            raise ValidationError("action", type(action).__name__, "expected a PlannedAction")
        require_aware_or_none("outbox.not_before", not_before)
        key = action.idempotency_key
        if self._known(key, action.loan_id):
            return False
        writer = self._uow.store.rows
        self._uow._outbox_writes[key] = (
            key,
            action.loan_id,
            writer.document(m.action_to_json(action)),
            OutboxStatus.PENDING.value,
            0,
            None,
            writer.instant("outbox.not_before", not_before),
            writer.date(created_on),
            None,
            None,
            writer.instant("outbox.lease_until", lease_until),
            self._uow.tenant,
        )
        keys = self._uow._outbox_keys.get(action.loan_id)
        if keys is not None:
            keys.add(key)
        return True

    def get(self, key: str) -> OutboxEntry | None:
        """The entry with ``key``, or ``None``."""
        params = {"k": key, "t": self._uow.tenant}
        found = self._uow.execute(_GET_OUTBOX, params).mappings().first()
        return None if found is None else m.row_to_outbox(found)

    def _pending_query(self, limit: int, now: dt.datetime | None) -> Any:
        c = t.outbox.c
        q = sa.select(t.outbox).where(c.tenant_id == self._uow.tenant, c.status.in_(_OPEN))
        if now is not None:
            q = q.where(sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now))
        return q.order_by(c.created_on, c.key).limit(limit)

    def pending(self, *, limit: int, now: dt.datetime | None = None) -> list[OutboxEntry]:
        """Open entries sendable at ``now``, by ``(created_on, key)``, at most ``limit``.

        The loans (and payments) of the entries are prefetched for rendering.
        """
        _check_limit(limit)
        require_aware_or_none("now", now)
        rows = self._uow.execute(self._pending_query(limit, now)).mappings().all()
        entries = [m.row_to_outbox(r) for r in rows]
        if entries:
            self._uow.prefetch([e.action.loan_id for e in entries])
        return entries

    def _entry(self, key: str) -> OutboxEntry:
        entry = self.get(key)
        if entry is None:
            raise ValidationError("outbox.key", key, "no such outbox entry")
        return entry

    def mark_sent(self, key: str, result: DeliveryResult, *, at: dt.datetime) -> OutboxEntry:
        """Record a successful send; an already sent entry is returned unchanged."""
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        require_aware_or_none("outbox.sent_at", at)
        params = {"k": key, "t": self._uow.tenant, "at": at, "res": m.result_to_json(result)}
        row = self._uow.execute(_MARK_SENT, params).mappings().first()
        if row is not None:
            return m.row_to_outbox(row)
        entry = self._entry(key)
        if entry.status is OutboxStatus.SENT:
            return entry
        raise ValidationError("outbox.key", key, f"entry is {entry.status.value}, not open")

    def mark_sent_many(
        self, sent: Sequence[tuple[str, DeliveryResult]], *, at: dt.datetime
    ) -> None:
        """Record each ``(key, result)`` as sent at ``at`` with one ``executemany``.

        Entries already sent stay as they are (like :meth:`mark_sent`).

        :raises ValidationError: naming the first key that is unknown or neither open
            nor sent (roll the unit of work back).
        """
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        require_aware_or_none("outbox.sent_at", at)
        if not sent:
            return
        tenant = self._uow.tenant
        # Through the driver's executemany, encoded as the columns' types encode them
        # (the events and new outbox rows are written so too).
        writer = self._uow.store.rows
        stamp = writer.instant("outbox.sent_at", at)
        params = [(stamp, writer.document(m.result_to_json(r)), tenant, k) for k, r in sent]
        self._uow.flush()
        with self._uow._db_errors():
            updated = self._uow.conn.exec_driver_sql(writer.mark_sent, params).rowcount
        if updated == len(params):
            return
        # Some keys were not open: find out which, and whether they were sent before.
        keys = [k for k, _ in sent]
        statuses: dict[str, str] = {}
        for part in _chunks(keys):
            found: Iterable[Any] = self._uow.execute(_STATUSES, {"ks": list(part), "t": tenant})
            statuses.update((key, status) for key, status in found)
        for key in keys:
            status = statuses.get(key)
            if status is None:
                raise ValidationError("outbox.key", key, "no such outbox entry")
            if status != OutboxStatus.SENT.value:
                raise ValidationError("outbox.key", key, f"entry is {status}, not open")

    def mark_failed(
        self,
        key: str,
        error: str,
        *,
        retry_at: dt.datetime | None,
        attempts: int,
        result: DeliveryResult | None = None,
    ) -> OutboxEntry:
        """Record a failed send: ``RETRY`` at ``retry_at``, or ``FAILED`` without one."""
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        updated = self._entry(key).failed(
            error, retry_at=retry_at, attempts=attempts, result=result
        )
        self._uow.execute(
            _MARK_FAILED,
            {
                "k": key,
                "t": self._uow.tenant,
                "st": updated.status.value,
                "n": updated.attempts,
                "err": error,
                "retry": retry_at,
                "res": m.result_to_json(updated.result),
            },
        )
        return updated

    def cancel(self, key: str, reason: str) -> OutboxEntry:
        """Withdraw an open entry; a cancelled one is returned unchanged."""
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        entry = self._entry(key)
        updated = entry.cancelled(reason)
        if updated is not entry:
            self._uow.execute(_CANCEL, {"k": key, "t": self._uow.tenant, "err": reason})
        return updated


class PgOutboxRepository(SqlOutboxRepository):
    """PostgreSQL outbox: adds ``claim_pending`` for several dispatching workers, and
    ``add_leased`` for the worker that will send an entry it has just planned."""

    def add_leased(self, action: PlannedAction, *, created_on: dt.date, now: dt.datetime) -> bool:
        """Add ``action`` leased until ``now + lease`` (``False`` if the key is known):
        no other worker claims it while this one sends it after the commit."""
        require_aware_or_none("now", now)
        lease_until = now + self._uow.store.lease
        return self._add(action, created_on=created_on, lease_until=lease_until)

    def claim_pending(self, *, limit: int, now: dt.datetime) -> list[OutboxEntry]:
        """Lease and return up to ``limit`` sendable entries no other worker holds.

        The entries are picked with ``FOR UPDATE SKIP LOCKED`` and leased until
        ``now + lease`` in a short transaction of their own, committed at once: the
        lease outlives this unit of work (the engine sends in a second one) and is
        cleared when the entry is marked sent, failed or cancelled. An entry whose
        worker died becomes claimable again when its lease runs out.
        """
        _check_limit(limit)
        require_aware_or_none("now", now)
        store = self._uow.store
        c = t.outbox.c
        # The pick is a materialised CTE joined by key: as ``key IN (subquery)`` the
        # planner may run the locking subquery again per row and lease more than
        # ``limit`` entries.
        pick = (
            self._pending_query(limit, now)
            .with_only_columns(c.key)
            .where(sa.or_(c.lease_until.is_(None), c.lease_until < now))
            .with_for_update(skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        stmt = (
            sa.update(t.outbox)
            # the tenant again: a key picked here may exist in other tenants too
            .where(c.tenant_id == self._uow.tenant, c.key == pick.c.key)
            .values(lease_until=now + store.lease)
            .returning(*t.outbox.columns)
        )
        with store.engine.begin() as lease_conn:
            rows = lease_conn.execute(stmt).mappings().all()
        entries = sorted((m.row_to_outbox(r) for r in rows), key=lambda e: (e.created_on, e.key))
        if entries:
            self._uow.prefetch([e.action.loan_id for e in entries])
        return entries


# -- events ------------------------------------------------------------------------------


class SqlEventRepository:
    """The hash-chained event streams of one unit of work."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _heads_for(self, loan_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Where each stream of ``loan_ids`` ends, as its checked head says.

        :raises TamperedStreamError: a stream with events but no head, or (with the
            key) a head unsigned or not signed by it.
        :raises ConfigurationError: a signed head, and this store has no key.
        """
        uow = self._uow
        tails: dict[str, tuple[int, str]] = {}
        missing = []
        for loan_id in loan_ids:
            known = uow._heads.get(loan_id)
            if known is not None:
                tails[loan_id] = known
            else:
                missing.append(loan_id)
        if not missing:
            return tails
        # Not through uow.execute: these reads do not depend on the buffered writes,
        # which are left for the commit (where a failing write fails the whole unit).
        tenant, key = uow.tenant, uow.store.audit_key
        for part in _chunks(missing):
            with uow._db_errors():
                found: Iterable[Any] = uow.conn.execute(_HEADS, {"t": tenant, "ks": list(part)})
            for loan_id, seq, digest, mac in found:
                head = StreamHead(loan_id=loan_id, seq=seq, hash=digest, mac=mac)
                check_stream_head(head, tenant=tenant, key=key)
                tails[loan_id] = (seq, digest)
        headless = [loan_id for loan_id in missing if loan_id not in tails]
        for part in _chunks(headless):
            with uow._db_errors():
                rows = uow.conn.execute(_WITH_EVENTS, {"t": tenant, "ks": list(part)}).all()
            for (loan_id,) in rows:
                raise TamperedStreamError(
                    StreamProblem(
                        tenant=tenant,
                        loan_id=loan_id,
                        seq=0,
                        fault=StreamFault.UNANCHORED,
                        detail="events are stored but the stream has no head",
                    )
                )
        return tails

    def append(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """Chain ``events`` onto their loans' streams; return them as stored.

        Each stream continues after its *head* (``lc_stream_heads``), written with the
        events (both at the next flush: before a read that could see them, and at
        commit), so events deleted from the end of a stream stay
        missing (a gap ``verify`` names) instead of being written over. With an audit
        key the events and the new head are signed. On PostgreSQL each stream is
        locked (a transaction-scoped advisory lock on the tenant and loan id, in
        loan-id order) before its head is read, so concurrent writers chain one after
        the other instead of forking the stream.

        :raises TamperedStreamError: if a stream's head fails its check (nothing of
            this call is written).
        """
        self._uow.write_lock()  # SQLite: a writer takes the write lock first
        items = list(events)
        for i, ev in enumerate(items):
            if not isinstance(ev, Event):
                raise ValidationError(f"events[{i}]", type(ev).__name__, "expected an Event")
        if not items:
            return ()
        uow = self._uow
        by_loan: dict[str, list[int]] = {}
        for index, ev in enumerate(items):
            by_loan.setdefault(ev.loan_id, []).append(index)
        if uow.dialect == "postgresql":
            # Locks in one order everywhere, so writers never wait for each other in a
            # circle: a case's row (claimed, read for update, or locked here for a case
            # saved in this unit of work) before its stream.
            saved = sorted(i for i in uow._case_writes if i not in uow._row_locked)
            if saved:
                with uow._db_errors():
                    uow.conn.execute(_LOCK_CASES, {"t": uow.tenant, "ks": saved})
                uow._row_locked.update(saved)
            unlocked = sorted(i for i in by_loan if i not in uow._heads)
            if unlocked:
                with uow._db_errors():
                    audit.lock_streams(uow.conn, [(uow.tenant, i) for i in unlocked])
        tails = self._heads_for(list(by_loan))
        tenant = uow.tenant
        key = uow.store.audit_key
        secret = key.secret if key is not None else None
        writer = uow.store.rows
        stored: list[Event | None] = [None] * len(items)
        rows: list[tuple[Any, ...]] = []
        heads: list[tuple[Any, ...]] = []
        for loan_id, indexes in by_loan.items():
            tail = tails.get(loan_id)
            prev, start = (tail[1], tail[0] + 1) if tail else (GENESIS, 0)
            # the payload's JSON text is the one hashed: encoded once, stored as is
            encoded = chain_encoded((items[i] for i in indexes), prev_hash=prev, start_seq=start)
            for index, (ev, data) in zip(indexes, encoded, strict=True):
                stored[index] = ev
                at = ev.at
                rows.append(
                    (
                        loan_id,
                        ev.seq,
                        ev.kind.value,
                        writer.date(ev.on),
                        None if at is None else at.isoformat(),
                        writer.instant("event.at", at),
                        data,
                        ev.prev_hash,
                        ev.hash,
                        None
                        if secret is None
                        else event_mac(secret, tenant, loan_id, ev.seq, ev.hash),
                        tenant,
                    )
                )
            chained = tuple(ev for ev, _ in encoded)
            last = chained[-1]
            heads.append(
                (
                    loan_id,
                    last.seq,
                    last.hash,
                    None
                    if secret is None
                    else head_mac(secret, tenant, loan_id, last.seq, last.hash),
                    tenant,
                )
            )
            uow._heads[loan_id] = (last.seq, last.hash)
            cached = uow._streams.get(loan_id)
            if cached is not None:
                uow._streams[loan_id] = cached + chained
            elif loan_id in uow._stream_rows:
                uow._streams[loan_id] = self._decode(loan_id) + chained
            since = uow._recent_since
            if since is not None and loan_id in uow._recent:
                uow._recent[loan_id] += tuple(ev for ev in chained if ev.on >= since)
        uow._event_writes.extend(rows)
        uow._head_writes.update((h[0], h) for h in heads)
        return tuple(ev for ev in stored if ev is not None)

    def _decode(self, loan_id: str) -> tuple[Event, ...]:
        rows = self._uow._stream_rows.pop(loan_id, [])
        return tuple(m.row_to_event(r) for r in rows)

    def stream(self, loan_id: str) -> tuple[Event, ...]:
        """Every stored event of ``loan_id`` in sequence order."""
        uow = self._uow
        cached = uow._streams.get(loan_id)
        if cached is not None:
            return cached
        if loan_id in uow._stream_rows:
            decoded = self._decode(loan_id)
            uow._streams[loan_id] = decoded
            return decoded
        e = t.events.c
        q = sa.select(t.events).where(e.tenant_id == uow.tenant, e.loan_id == loan_id)
        return tuple(m.row_to_event(r) for r in uow.execute(q.order_by(e.seq)).mappings())

    def recent(self, loan_id: str, since: dt.date) -> tuple[Event, ...]:
        """Events of ``loan_id`` on or after ``since``, in sequence order.

        The first call for a ``since`` loads the recent events of every loan
        prefetched in this unit of work in one query.
        """
        uow = self._uow
        cached = uow._streams.get(loan_id)
        if cached is not None:
            return tuple(ev for ev in cached if ev.on >= since)
        if uow._recent_since != since:
            uow._recent = {}
            uow._recent_since = since
        found = uow._recent.get(loan_id)
        if found is not None:
            return found
        wanted = [i for i in uow._loan_rows if i not in uow._recent]
        if loan_id not in wanted:
            wanted.append(loan_id)
        e = t.events.c
        for part in _chunks(wanted):
            loaded: dict[str, list[Event]] = {i: [] for i in part}
            q = (
                sa.select(t.events)
                .where(e.tenant_id == uow.tenant, e.loan_id.in_(part), e.on >= since)
                .order_by(e.loan_id, e.seq)
            )
            for row in uow.execute(q).mappings():
                loaded[row["loan_id"]].append(m.row_to_event(row))
            for i, events in loaded.items():
                uow._recent[i] = tuple(events)
        return uow._recent[loan_id]

    def last(self, loan_id: str) -> Event | None:
        """The last stored event of ``loan_id``."""
        e = t.events.c
        q = (
            sa.select(t.events)
            .where(e.tenant_id == self._uow.tenant, e.loan_id == loan_id)
            .order_by(e.seq.desc())
            .limit(1)
        )
        row = self._uow.execute(q).mappings().first()
        return None if row is None else m.row_to_event(row)

    def verify(self, loan_id: str) -> int | None:
        """Index of the first broken event of the stream, or ``None``: checked against
        its head, its stored UTC instants and, with the store's key, its signatures."""
        uow = self._uow
        uow.flush()
        with uow._db_errors():
            loaded = audit.load_streams(uow.conn, [(uow.tenant, loan_id)])
        found = loaded.get((uow.tenant, loan_id))
        if found is None:
            return None
        problem = found.audit(uow.store.audit_key)
        return None if problem is None else problem.seq


def _still_due(case: Case, as_of: dt.date) -> bool:
    return (
        case.closed_on is None
        and case.next_review_date is not None
        and case.next_review_date <= as_of
    )


def _busy(exc: sa.exc.OperationalError, store: SqlStore) -> StorageBusyError | None:
    """The :class:`StorageBusyError` a driver's "locked" error stands for, if it is one."""
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        if getattr(orig, "sqlite_errorname", "") == "SQLITE_BUSY_SNAPSHOT":
            return StorageBusyError(
                "another process wrote to the database after this unit of work first "
                "read it; nothing was written: try again"
            )
        text = str(orig)
        if "locked" in text or "busy" in text:
            waited = store.busy_timeout.total_seconds()
            return StorageBusyError(
                f"the database stayed locked by another writer for more than {waited:g} s; "
                "nothing was written: try again"
            )
        return None
    state = getattr(orig, "sqlstate", None)
    if state == "55P03":
        waited = store.lock_timeout.total_seconds()
        return StorageBusyError(
            f"a row stayed locked by another transaction for more than {waited:g} s; "
            "nothing was written: try again"
        )
    if state in ("40P01", "40001"):
        return StorageBusyError(
            "the database gave up this transaction to another (deadlock or serialisation "
            "failure); nothing was written: try again"
        )
    return None


def _is_unit_of_work(uow: SqlUnitOfWork) -> UnitOfWork:
    return uow  # static check: SqlUnitOfWork satisfies the protocol


def _is_factory(store: SqlStore) -> Callable[[], UnitOfWork]:
    return store


def _is_audited(store: SqlStore) -> AuditedEvents:
    return store  # static check: the store verifies its streams


def _is_locking(cases: SqlCaseRepository) -> LockingCases:
    return cases  # static check: cases are read for update
