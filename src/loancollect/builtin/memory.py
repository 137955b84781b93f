"""In-memory storage: the complete reference backend (URL scheme ``memory``).

A :class:`MemoryStore` holds committed state; each :class:`MemoryUnitOfWork`
stages its writes privately. Reads inside a unit of work see committed state
plus its own writes; other units of work see nothing until :meth:`commit`, which
applies everything at once under the store's lock. Leaving the ``with`` block
without committing, or :meth:`rollback`, discards the staged writes.

Tenants: a :class:`MemoryDatabase` keeps one partition of records per tenant;
``database.store(tenant)`` (or ``store.for_tenant(tenant)``) is the unit-of-work
factory of one tenant, which sees and changes that tenant's partition only. Two
stores of one database share its lock, so commits of different tenants are
serialised like commits of one.

Every ``memory:`` URL opens a new, empty database (there is no process-wide
registry of stores); keep the returned factory to share one store, and use
:meth:`MemoryStore.for_tenant` to open another tenant of the same database.

Like the SQL backend, it anchors every event stream with a head (signed, with each
event, when the store has an :class:`~loancollect.ports.AuditKey`) and offers
:class:`~loancollect.ports.AuditedEvents`; it refuses to save a case that another
unit of work saved after this one read it (:class:`~loancollect.ports.ConcurrentUpdateError`),
and its ``cases.get_for_update`` (:class:`~loancollect.ports.LockingCases`) locks a
case until the unit of work ends. Its review selection (``due_for_review``) takes no
lock: a review batch that lost such a race fails at its commit and is reported; its
cases stay due.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterable, Iterator, MutableMapping
from types import TracebackType
from typing import Any, Self, TypeVar

from loancollect.domain.case import Case
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.events import (
    GENESIS,
    Event,
    StreamFault,
    StreamHead,
    StreamProblem,
    audit_stream,
    chain,
    event_mac,
    head_mac,
)
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.strategy import PlannedAction
from loancollect.hookspecs import hookimpl
from loancollect.ports import (
    DEFAULT_TENANT,
    AuditedEvents,
    AuditKey,
    AuditTally,
    ConcurrentUpdateError,
    DeliveryResult,
    LockingCases,
    OutboxEntry,
    TamperedStreamError,
    UnitOfWork,
    as_audit_key,
    check_stream_head,
    require_aware_or_none,
    validate_tenant,
)
from loancollect.registry import StorageBackendSpec

V = TypeVar("V")

__all__ = [
    "MemoryCaseRepository",
    "MemoryDatabase",
    "MemoryEventRepository",
    "MemoryLoanRepository",
    "MemoryOutboxRepository",
    "MemoryStore",
    "MemoryUnitOfWork",
    "loancollect_register_storage",
]


class _Partition:
    """The committed records of one tenant."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.loans: dict[str, Loan] = {}
        self.payments: dict[str, Payment] = {}
        # loan id -> its payments ordered by (value date, id): an index over ``payments``
        self.payments_by_loan: dict[str, tuple[Payment, ...]] = {}
        self.cases: dict[str, Case] = {}
        # loan id -> how many times its case was saved (0: never)
        self.case_versions: dict[str, int] = {}
        self.outbox: dict[str, OutboxEntry] = {}
        self.events: dict[str, tuple[Event, ...]] = {}
        # loan id -> where its stream ends, and each event's signature by seq (replaced,
        # never changed in place, so a reader holding one sees a consistent copy)
        self.heads: dict[str, StreamHead] = {}
        self.macs: dict[str, dict[int, str]] = {}


class _CaseLocks:
    """The cases units of work hold for update, with a bounded wait for one held."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._owners: dict[tuple[str, str], tuple[object, int]] = {}

    def acquire(self, key: tuple[str, str], owner: object, timeout: float) -> None:
        me = threading.get_ident()
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                held = self._owners.get(key)
                if held is None or held[0] is owner:
                    self._owners[key] = (owner, me)
                    return
                if held[1] == me:
                    raise ConcurrentUpdateError(
                        key[1],
                        "locked by another unit of work of this thread (it would wait for itself)",
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConcurrentUpdateError(
                        key[1], f"locked by another unit of work for more than {timeout:g} s"
                    )
                self._cond.wait(remaining)

    def release(self, keys: Iterable[tuple[str, str]], owner: object) -> None:
        with self._cond:
            for key in keys:
                held = self._owners.get(key)
                if held is not None and held[0] is owner:
                    del self._owners[key]
            self._cond.notify_all()


class MemoryDatabase:
    """Committed state of the in-memory backend, one partition per tenant.

    ``database.store(tenant)`` is the unit-of-work factory of one tenant::

        database = MemoryDatabase()
        brand_a, brand_b = database.store("brand-a"), database.store("brand-b")
    """

    def __init__(self, url: str = "memory:") -> None:
        self.url = url
        self.lock = threading.RLock()
        self.case_locks = _CaseLocks()
        self._partitions: dict[str, _Partition] = {}

    def store(
        self, tenant: str = DEFAULT_TENANT, *, audit_key: AuditKey | bytes | str | None = None
    ) -> MemoryStore:
        """The unit-of-work factory of ``tenant`` over this database.

        :param audit_key: signs the streams it appends to (see :class:`MemoryStore`).
        :raises ValidationError: if ``tenant`` is not a valid tenant id.
        """
        return MemoryStore(self.url, tenant=tenant, database=self, audit_key=audit_key)

    @property
    def tenants(self) -> tuple[str, ...]:
        """The tenants opened on this database so far, sorted."""
        with self.lock:
            return tuple(sorted(self._partitions))

    def _partition(self, tenant: str) -> _Partition:
        with self.lock:
            found = self._partitions.get(tenant)
            if found is None:
                found = self._partitions[tenant] = _Partition(tenant)
            return found

    def __repr__(self) -> str:
        return f"MemoryDatabase(tenants={list(self.tenants)})"


class MemoryStore:
    """One tenant's records in a :class:`MemoryDatabase`; call it to get a unit of work.

    :param url: the URL it was opened with (kept for display).
    :param tenant: the tenant whose records its units of work read and write.
    :param database: the database to share; ``None`` makes a new, empty one.
    :param audit_key: the operator's key: every event appended and every stream head
        is signed with it, and verified with it (see
        :class:`~loancollect.ports.AuditedEvents`). ``None``: unsigned.
    :param lock_timeout: how long ``cases.get_for_update`` waits for a case another
        unit of work holds.
    :raises ValidationError: if ``tenant`` is not a valid tenant id.
    """

    def __init__(
        self,
        url: str = "memory:",
        *,
        tenant: str = DEFAULT_TENANT,
        database: MemoryDatabase | None = None,
        audit_key: AuditKey | bytes | str | None = None,
        lock_timeout: dt.timedelta = dt.timedelta(seconds=30),
    ) -> None:
        self.tenant = validate_tenant(tenant)
        self.database = database if database is not None else MemoryDatabase(url)
        self.url = url
        self.audit_key = as_audit_key(audit_key)
        self.lock_timeout = lock_timeout
        self.lock = self.database.lock
        part = self.partition = self.database._partition(self.tenant)
        self.loans = part.loans
        self.payments = part.payments
        self.payments_by_loan = part.payments_by_loan
        self.cases = part.cases
        self.case_versions = part.case_versions
        self.outbox = part.outbox
        self.events = part.events
        self.heads = part.heads
        self.macs = part.macs

    def for_tenant(self, tenant: str) -> MemoryStore:
        """The store of ``tenant`` over the same database (with this store's key)."""
        return MemoryStore(
            self.url,
            tenant=tenant,
            database=self.database,
            audit_key=self.audit_key,
            lock_timeout=self.lock_timeout,
        )

    def __call__(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)

    # -- the audit trail (AuditedEvents) ---------------------------------------------
    def _partitions(self, every_tenant: bool) -> list[_Partition]:
        if not every_tenant:
            return [self.partition]
        with self.lock:
            return [self.database._partition(t) for t in self.database.tenants]

    def verify_all(
        self,
        *,
        key: AuditKey | None = None,
        every_tenant: bool = False,
        tally: AuditTally | None = None,
    ) -> Iterator[StreamProblem]:
        """Check every stream against its head (and the key); yield each bad stream."""
        key = key if key is not None else self.audit_key
        secret = key.secret if key is not None else None
        tally = tally if tally is not None else AuditTally()
        tally.signatures = secret is not None
        for part in self._partitions(every_tenant):
            with self.lock:  # a consistent copy: committed streams, heads, signatures
                streams = dict(part.events)
                heads = dict(part.heads)
                macs = dict(part.macs)
            tally.tenants += 1
            for loan_id in sorted(streams.keys() | heads.keys()):
                events = streams.get(loan_id, ())
                head = heads.get(loan_id)
                signed = macs.get(loan_id, {})
                tally.streams += 1
                tally.events += len(events)
                tally.unsigned += head is not None and head.mac is None
                problem = audit_stream(
                    loan_id,
                    events,
                    head,
                    tenant=part.tenant,
                    key=secret,
                    macs=[signed.get(ev.seq) for ev in events],
                )
                if problem is not None:
                    tally.problems += 1
                    yield problem

    def sign_unsigned(self, *, key: AuditKey | None = None, every_tenant: bool = False) -> int:
        """Sign what is unsigned in every stream that otherwise verifies; how many."""
        key = key if key is not None else self.audit_key
        if key is None:
            raise ConfigurationError("signing the event streams needs the audit key")
        secret = key.secret
        signed_streams = 0
        for part in self._partitions(every_tenant):
            with self.lock:
                for loan_id, head in list(part.heads.items()):
                    events = part.events.get(loan_id, ())
                    signed = part.macs.get(loan_id, {})
                    if head.mac is not None and all(ev.seq in signed for ev in events):
                        continue
                    found = audit_stream(
                        loan_id,
                        events,
                        head,
                        tenant=part.tenant,
                        key=secret,
                        macs=[signed.get(ev.seq) for ev in events],
                        unsigned_ok=True,
                    )
                    if found is not None:
                        continue
                    tenant = part.tenant
                    part.macs[loan_id] = {
                        ev.seq: signed.get(ev.seq)
                        or event_mac(secret, tenant, loan_id, ev.seq, ev.hash)
                        for ev in events
                    }
                    mac = head_mac(secret, tenant, loan_id, head.seq, head.hash)
                    part.heads[loan_id] = StreamHead(
                        loan_id=loan_id, seq=head.seq, hash=head.hash, mac=mac
                    )
                    signed_streams += 1
        return signed_streams

    def __repr__(self) -> str:
        return (
            f"MemoryStore(tenant={self.tenant!r}, loans={len(self.loans)}, "
            f"cases={len(self.cases)}, outbox={len(self.outbox)}, streams={len(self.events)}, "
            f"signed={'yes' if self.audit_key is not None else 'no'})"
        )


class _Overlay(MutableMapping[str, V]):
    """Committed mapping plus staged writes; reads see both, writes go to the stage."""

    def __init__(self, base: dict[str, V]) -> None:
        self.base = base
        self.staged: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        if key in self.staged:
            return self.staged[key]
        return self.base[key]

    def __setitem__(self, key: str, value: V) -> None:
        self.staged[key] = value

    def __delitem__(self, key: str) -> None:  # pragma: no cover - repositories never delete
        raise TypeError("the in-memory store does not delete")

    def __iter__(self) -> Iterator[str]:
        yield from self.staged
        yield from (k for k in list(self.base) if k not in self.staged)

    def __len__(self) -> int:
        return len(self.base) + sum(1 for k in self.staged if k not in self.base)


class MemoryLoanRepository:
    """Loans and payments of one unit of work."""

    def __init__(
        self,
        loans: _Overlay[Loan],
        payments: _Overlay[Payment],
        by_loan: _Overlay[tuple[Payment, ...]],
    ) -> None:
        self._loans = loans
        self._payments = payments
        self._by_loan = by_loan

    def add(self, loan: Loan) -> None:
        """Store ``loan``, replacing a stored loan with the same id."""
        if not isinstance(loan, Loan):
            raise ValidationError("loan", type(loan).__name__, "expected a Loan")
        self._loans[loan.id] = loan

    def get(self, loan_id: str) -> Loan | None:
        """The loan with ``loan_id``, or ``None``."""
        return self._loans.get(loan_id)

    def list_ids(self, *, after: str | None = None, limit: int | None = None) -> list[str]:
        """Loan ids in ascending order, strictly after ``after``, at most ``limit``."""
        ids = sorted(i for i in self._loans if after is None or i > after)
        return ids if limit is None else ids[:limit]

    def add_payment(self, payment: Payment) -> None:
        """Record ``payment`` (an identical repeat is a no-op)."""
        if not isinstance(payment, Payment):
            raise ValidationError("payment", type(payment).__name__, "expected a Payment")
        if payment.loan_id not in self._loans:
            raise ValidationError("payment.loan_id", payment.loan_id, "no such loan")
        existing = self._payments.get(payment.id)
        if existing is not None:
            if existing != payment:
                raise ValidationError(
                    "payment.id", payment.id, "already recorded with different content"
                )
            return
        self._payments[payment.id] = payment
        found = (*self._by_loan.get(payment.loan_id, ()), payment)
        self._by_loan[payment.loan_id] = tuple(sorted(found, key=lambda p: (p.value_date, p.id)))

    def payments_for(self, loan_id: str) -> tuple[Payment, ...]:
        """Payments of ``loan_id`` ordered by ``(value_date, id)``."""
        return self._by_loan.get(loan_id, ())


class MemoryCaseRepository:
    """Cases of one unit of work.

    Every case it reads from committed state is remembered with its version; saving
    it is then checked at commit against the version committed by then
    (:class:`~loancollect.ports.ConcurrentUpdateError` if another unit of work saved
    it in between). A case saved without being read replaces whatever is there.
    """

    def __init__(self, cases: _Overlay[Case], uow: MemoryUnitOfWork | None = None) -> None:
        self._cases = cases
        self._uow = uow

    def _read(self, loan_id: str) -> Case | None:
        if loan_id in self._cases.staged:
            return self._cases.staged[loan_id]
        uow = self._uow
        if uow is None:
            return self._cases.base.get(loan_id)
        with uow.store.lock:  # the case and its version from one commit
            uow._read_versions[loan_id] = uow.store.case_versions.get(loan_id, 0)
            return self._cases.base.get(loan_id)

    def get(self, loan_id: str) -> Case | None:
        """The case of ``loan_id``, or ``None``."""
        return self._read(loan_id)

    def get_for_update(self, loan_id: str) -> Case | None:
        """The case of ``loan_id`` (or ``None``), locked until this unit of work ends.

        Waits up to the store's ``lock_timeout`` for another unit of work holding it.

        :raises ConcurrentUpdateError: if it is still held then (or held by another
            unit of work of this thread, which would wait for itself).
        """
        if self._uow is not None:
            self._uow._lock_case(loan_id)
        return self._read(loan_id)

    def save(self, case: Case) -> None:
        """Insert or replace the case of ``case.loan_id``."""
        if not isinstance(case, Case):
            raise ValidationError("case", type(case).__name__, "expected a Case")
        self._cases[case.loan_id] = case

    def due_for_review(
        self, as_of: dt.date, *, limit: int, after_loan_id: str | None = None
    ) -> list[Case]:
        """Open cases with ``next_review_date <= as_of``, by loan id, after ``after_loan_id``."""
        if limit < 1:
            raise ValidationError("limit", limit, "must be >= 1")
        uow = self._uow
        with uow.store.lock if uow is not None else contextlib.nullcontext():
            due = [
                c
                for c in self._cases.values()
                if c.closed_on is None
                and c.next_review_date is not None
                and c.next_review_date <= as_of
                and (after_loan_id is None or c.loan_id > after_loan_id)
            ]
            due.sort(key=lambda c: c.loan_id)
            due = due[:limit]
            if uow is not None:
                versions = uow.store.case_versions
                for c in due:
                    if c.loan_id not in self._cases.staged:
                        uow._read_versions[c.loan_id] = versions.get(c.loan_id, 0)
        return due


class MemoryOutboxRepository:
    """The outbox of one unit of work."""

    def __init__(self, entries: _Overlay[OutboxEntry]) -> None:
        self._entries = entries

    def add(
        self,
        action: PlannedAction,
        *,
        created_on: dt.date,
        not_before: dt.datetime | None = None,
    ) -> bool:
        """Add ``action`` under its idempotency key; ``False`` if the key is known."""
        if not isinstance(action, PlannedAction):
            raise ValidationError("action", type(action).__name__, "expected a PlannedAction")
        require_aware_or_none("outbox.not_before", not_before)
        key = action.idempotency_key
        if key in self._entries:
            return False
        self._entries[key] = OutboxEntry(
            key=key, action=action, created_on=created_on, next_attempt_at=not_before
        )
        return True

    def get(self, key: str) -> OutboxEntry | None:
        """The entry with ``key``, or ``None``."""
        return self._entries.get(key)

    def pending(self, *, limit: int, now: dt.datetime | None = None) -> list[OutboxEntry]:
        """Open entries sendable at ``now``, by ``(created_on, key)``, at most ``limit``."""
        if limit < 1:
            raise ValidationError("limit", limit, "must be >= 1")
        require_aware_or_none("now", now)
        found = [
            e
            for e in self._entries.values()
            if e.status.is_open
            and (now is None or e.next_attempt_at is None or e.next_attempt_at <= now)
        ]
        found.sort(key=lambda e: (e.created_on, e.key))
        return found[:limit]

    def _entry(self, key: str) -> OutboxEntry:
        entry = self._entries.get(key)
        if entry is None:
            raise ValidationError("outbox.key", key, "no such outbox entry")
        return entry

    def mark_sent(self, key: str, result: DeliveryResult, *, at: dt.datetime) -> OutboxEntry:
        """Record a successful send; an already sent entry is returned unchanged."""
        updated = self._entry(key).sent(result, at)
        self._entries[key] = updated
        return updated

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
        updated = self._entry(key).failed(
            error, retry_at=retry_at, attempts=attempts, result=result
        )
        self._entries[key] = updated
        return updated

    def cancel(self, key: str, reason: str) -> OutboxEntry:
        """Withdraw an open entry; a cancelled one is returned unchanged."""
        updated = self._entry(key).cancelled(reason)
        self._entries[key] = updated
        return updated


class MemoryEventRepository:
    """The event streams of one unit of work.

    A stream continues after its committed *head* (not after whatever events are
    stored), and only after the head passed its check: a stream whose events were
    deleted keeps its gap, and a forged head is refused
    (:class:`~loancollect.ports.TamperedStreamError`).
    """

    def __init__(
        self, streams: _Overlay[tuple[Event, ...]], uow: MemoryUnitOfWork | None = None
    ) -> None:
        self._streams = streams
        self._uow = uow

    def _tail(self, loan_id: str) -> tuple[int, str]:
        """The seq and hash the next event of ``loan_id`` follows."""
        uow = self._uow
        if uow is None:
            stream = self._streams.get(loan_id, ())
            return (stream[-1].seq, stream[-1].hash) if stream else (-1, GENESIS)
        new = uow._new_events.get(loan_id)
        if new:
            return new[-1].seq, new[-1].hash
        head = uow._checked_head(loan_id)
        uow._event_base[loan_id] = head.seq if head is not None else -1
        return (head.seq, head.hash) if head is not None else (-1, GENESIS)

    def append(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """Chain ``events`` onto their loans' streams; return them as stored.

        :raises TamperedStreamError: if a stream's head fails its check (nothing of
            this call is appended).
        """
        items = list(events)
        for i, ev in enumerate(items):
            if not isinstance(ev, Event):
                raise ValidationError(f"events[{i}]", type(ev).__name__, "expected an Event")
        by_loan: dict[str, list[int]] = {}
        for index, ev in enumerate(items):
            by_loan.setdefault(ev.loan_id, []).append(index)
        tails = {loan_id: self._tail(loan_id) for loan_id in by_loan}
        stored: list[Event | None] = [None] * len(items)
        for loan_id, indexes in by_loan.items():
            seq, prev = tails[loan_id]
            chained = chain((items[i] for i in indexes), prev_hash=prev, start_seq=seq + 1)
            self._streams[loan_id] = self._streams.get(loan_id, ()) + chained
            if self._uow is not None:
                self._uow._new_events.setdefault(loan_id, []).extend(chained)
            for index, ev in zip(indexes, chained, strict=True):
                stored[index] = ev
        return tuple(ev for ev in stored if ev is not None)

    def stream(self, loan_id: str) -> tuple[Event, ...]:
        """Every stored event of ``loan_id`` in sequence order."""
        return self._streams.get(loan_id, ())

    def recent(self, loan_id: str, since: dt.date) -> tuple[Event, ...]:
        """Events of ``loan_id`` on or after ``since``, in sequence order."""
        return tuple(e for e in self.stream(loan_id) if e.on >= since)

    def last(self, loan_id: str) -> Event | None:
        """The last stored event of ``loan_id``."""
        stream = self._streams.get(loan_id, ())
        return stream[-1] if stream else None

    def verify(self, loan_id: str) -> int | None:
        """Index of the first broken event of the stream (checked against its head and,
        with a key, its signatures), or ``None``."""
        events = self.stream(loan_id)
        uow = self._uow
        if uow is None:
            last = events[-1] if events else None
            head = (
                None if last is None else StreamHead(loan_id=loan_id, seq=last.seq, hash=last.hash)
            )
            found = audit_stream(loan_id, events, head, tenant="")
            return None if found is None else found.seq
        found = uow._audit(loan_id, events)
        return None if found is None else found.seq


class MemoryUnitOfWork:
    """A unit of work over a :class:`MemoryStore` (see :class:`loancollect.ports.UnitOfWork`)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._loans = _Overlay(store.loans)
        self._payments = _Overlay(store.payments)
        self._by_loan = _Overlay(store.payments_by_loan)
        self._cases = _Overlay(store.cases)
        self._outbox = _Overlay(store.outbox)
        self._events = _Overlay(store.events)
        # loan id -> the version of its case when this unit of work read it (0: none)
        self._read_versions: dict[str, int] = {}
        # loan id -> events appended here (chained), and the head seq they follow
        self._new_events: dict[str, list[Event]] = {}
        self._event_base: dict[str, int] = {}
        self._locked: set[tuple[str, str]] = set()
        self.loans = MemoryLoanRepository(self._loans, self._payments, self._by_loan)
        self.cases = MemoryCaseRepository(self._cases, self)
        self.outbox = MemoryOutboxRepository(self._outbox)
        self.events = MemoryEventRepository(self._events, self)
        self._entered = False

    def __enter__(self) -> Self:
        if self._entered:
            raise RuntimeError("this unit of work is already in use; make a new one")
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._entered = False

    def _overlays(self) -> list[_Overlay[Any]]:
        return [
            self._loans,
            self._payments,
            self._by_loan,
            self._cases,
            self._outbox,
            self._events,
        ]

    # -- locks and checks ---------------------------------------------------------------
    def _lock_case(self, loan_id: str) -> None:
        key = (self.store.tenant, loan_id)
        timeout = self.store.lock_timeout.total_seconds()
        self.store.database.case_locks.acquire(key, self, timeout)
        self._locked.add(key)

    def _release(self) -> None:
        if self._locked:
            self.store.database.case_locks.release(self._locked, self)
            self._locked.clear()

    def _checked_head(self, loan_id: str) -> StreamHead | None:
        """The committed head of ``loan_id`` if the stream may be extended after it.

        :raises TamperedStreamError: events without a head, or (with the key) a head
            unsigned or signed by another key.
        :raises ConfigurationError: a signed head, and this store has no key.
        """
        store = self.store
        with store.lock:
            head = store.heads.get(loan_id)
            stored = bool(store.events.get(loan_id))
        tenant = store.tenant
        if head is None:
            if stored:
                raise TamperedStreamError(
                    StreamProblem(
                        tenant=tenant,
                        loan_id=loan_id,
                        seq=0,
                        fault=StreamFault.UNANCHORED,
                        detail="events are stored but the stream has no head",
                    )
                )
            return None
        check_stream_head(head, tenant=tenant, key=store.audit_key)
        return head

    def _audit(self, loan_id: str, events: tuple[Event, ...]) -> StreamProblem | None:
        """Check ``loan_id``'s stream as this unit of work sees it."""
        store = self.store
        key = store.audit_key
        secret = key.secret if key is not None else None
        with store.lock:
            head = store.heads.get(loan_id)
            signed = dict(store.macs.get(loan_id, {}))
        new = self._new_events.get(loan_id)
        if new:  # not committed yet: as the commit will sign and anchor them
            last = new[-1]
            mac = None
            if secret is not None:
                for ev in new:
                    signed[ev.seq] = event_mac(secret, store.tenant, loan_id, ev.seq, ev.hash)
                mac = head_mac(secret, store.tenant, loan_id, last.seq, last.hash)
            head = StreamHead(loan_id=loan_id, seq=last.seq, hash=last.hash, mac=mac)
        return audit_stream(
            loan_id,
            events,
            head,
            tenant=store.tenant,
            key=secret,
            macs=[signed.get(ev.seq) for ev in events],
        )

    # -- transaction ---------------------------------------------------------------------
    def commit(self) -> None:
        """Apply every staged write to the store, atomically.

        :raises ConcurrentUpdateError: if a case this unit of work read was saved by
            another one since (nothing is applied).
        :raises TamperedStreamError: if a stream this unit of work extends was
            extended by another one whose head now fails its check.
        """
        store = self.store
        key = store.audit_key
        secret = key.secret if key is not None else None
        tenant = store.tenant
        with store.lock:
            versions = store.case_versions
            for loan_id in self._cases.staged:
                expected = self._read_versions.get(loan_id)
                if expected is not None and versions.get(loan_id, 0) != expected:
                    raise ConcurrentUpdateError(loan_id)
            streams = self._events.staged
            heads: dict[str, StreamHead] = {}
            macs: dict[str, dict[int, str]] = {}
            for loan_id, new in self._new_events.items():
                current = store.heads.get(loan_id)
                current_seq = current.seq if current is not None else -1
                if current_seq != self._event_base.get(loan_id, -1):
                    # Another unit of work extended this stream meanwhile: continue after it.
                    current = self._checked_head(loan_id)
                    prev = current.hash if current is not None else GENESIS
                    new = list(chain(new, prev_hash=prev, start_seq=current_seq + 1))
                streams[loan_id] = store.events.get(loan_id, ()) + tuple(new)
                last = new[-1]
                signed = dict(store.macs.get(loan_id, {}))
                mac = None
                if secret is not None:
                    for ev in new:
                        signed[ev.seq] = event_mac(secret, tenant, loan_id, ev.seq, ev.hash)
                    mac = head_mac(secret, tenant, loan_id, last.seq, last.hash)
                macs[loan_id] = signed
                heads[loan_id] = StreamHead(loan_id=loan_id, seq=last.seq, hash=last.hash, mac=mac)
            for loan_id in self._cases.staged:
                version = versions.get(loan_id, 0) + 1
                versions[loan_id] = version
                if loan_id in self._read_versions:
                    self._read_versions[loan_id] = version
            for overlay in self._overlays():
                overlay.base.update(overlay.staged)
                overlay.staged.clear()
            store.heads.update(heads)
            store.macs.update(macs)
            self._new_events.clear()
            self._event_base.clear()
        self._release()

    def rollback(self) -> None:
        """Discard every staged write (and release the cases held for update)."""
        for overlay in self._overlays():
            overlay.staged.clear()
        self._new_events.clear()
        self._event_base.clear()
        self._read_versions.clear()
        self._release()


def _is_unit_of_work(uow: MemoryUnitOfWork) -> UnitOfWork:
    return uow  # static check: MemoryUnitOfWork satisfies the protocol


def _is_locking(cases: MemoryCaseRepository) -> LockingCases:
    return cases  # static check: the case repository reads for update


def _is_audited(store: MemoryStore) -> AuditedEvents:
    return store  # static check: the store verifies its streams


def _open(url: str, *, tenant: str = DEFAULT_TENANT) -> MemoryStore:
    return MemoryStore(url, tenant=tenant, audit_key=AuditKey.from_env())


@hookimpl
def loancollect_register_storage() -> list[StorageBackendSpec]:
    """The in-memory backend, scheme ``memory``."""
    return [
        StorageBackendSpec(
            name="memory",
            schemes=("memory",),
            factory=_open,
            tenants=True,
            description="in-memory storage for tests, demos and embedding (not durable)",
        )
    ]
