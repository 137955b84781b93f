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
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from types import TracebackType
from typing import Any, Self, TypeVar

from loancollect.domain.case import Case
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import GENESIS, Event, chain, verify_chain
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.strategy import PlannedAction
from loancollect.hookspecs import hookimpl
from loancollect.ports import (
    DEFAULT_TENANT,
    DeliveryResult,
    OutboxEntry,
    UnitOfWork,
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

    def __init__(self) -> None:
        self.loans: dict[str, Loan] = {}
        self.payments: dict[str, Payment] = {}
        # loan id -> its payments ordered by (value date, id): an index over ``payments``
        self.payments_by_loan: dict[str, tuple[Payment, ...]] = {}
        self.cases: dict[str, Case] = {}
        self.outbox: dict[str, OutboxEntry] = {}
        self.events: dict[str, tuple[Event, ...]] = {}


class MemoryDatabase:
    """Committed state of the in-memory backend, one partition per tenant.

    ``database.store(tenant)`` is the unit-of-work factory of one tenant::

        database = MemoryDatabase()
        brand_a, brand_b = database.store("brand-a"), database.store("brand-b")
    """

    def __init__(self, url: str = "memory:") -> None:
        self.url = url
        self.lock = threading.RLock()
        self._partitions: dict[str, _Partition] = {}

    def store(self, tenant: str = DEFAULT_TENANT) -> MemoryStore:
        """The unit-of-work factory of ``tenant`` over this database.

        :raises ValidationError: if ``tenant`` is not a valid tenant id.
        """
        return MemoryStore(self.url, tenant=tenant, database=self)

    @property
    def tenants(self) -> tuple[str, ...]:
        """The tenants opened on this database so far, sorted."""
        with self.lock:
            return tuple(sorted(self._partitions))

    def _partition(self, tenant: str) -> _Partition:
        with self.lock:
            found = self._partitions.get(tenant)
            if found is None:
                found = self._partitions[tenant] = _Partition()
            return found

    def __repr__(self) -> str:
        return f"MemoryDatabase(tenants={list(self.tenants)})"


class MemoryStore:
    """One tenant's records in a :class:`MemoryDatabase`; call it to get a unit of work.

    :param url: the URL it was opened with (kept for display).
    :param tenant: the tenant whose records its units of work read and write.
    :param database: the database to share; ``None`` makes a new, empty one.
    :raises ValidationError: if ``tenant`` is not a valid tenant id.
    """

    def __init__(
        self,
        url: str = "memory:",
        *,
        tenant: str = DEFAULT_TENANT,
        database: MemoryDatabase | None = None,
    ) -> None:
        self.tenant = validate_tenant(tenant)
        self.database = database if database is not None else MemoryDatabase(url)
        self.url = url
        self.lock = self.database.lock
        part = self.database._partition(self.tenant)
        self.loans = part.loans
        self.payments = part.payments
        self.payments_by_loan = part.payments_by_loan
        self.cases = part.cases
        self.outbox = part.outbox
        self.events = part.events

    def for_tenant(self, tenant: str) -> MemoryStore:
        """The store of ``tenant`` over the same database."""
        return self.database.store(tenant)

    def __call__(self) -> MemoryUnitOfWork:
        """A new unit of work over this store."""
        return MemoryUnitOfWork(self)

    def __repr__(self) -> str:
        return (
            f"MemoryStore(tenant={self.tenant!r}, loans={len(self.loans)}, "
            f"cases={len(self.cases)}, outbox={len(self.outbox)}, streams={len(self.events)})"
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
    """Cases of one unit of work."""

    def __init__(self, cases: _Overlay[Case]) -> None:
        self._cases = cases

    def get(self, loan_id: str) -> Case | None:
        """The case of ``loan_id``, or ``None``."""
        return self._cases.get(loan_id)

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
        due = [
            c
            for c in self._cases.values()
            if c.closed_on is None
            and c.next_review_date is not None
            and c.next_review_date <= as_of
            and (after_loan_id is None or c.loan_id > after_loan_id)
        ]
        due.sort(key=lambda c: c.loan_id)
        return due[:limit]


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
    """The event streams of one unit of work."""

    def __init__(self, streams: _Overlay[tuple[Event, ...]]) -> None:
        self._streams = streams

    def append(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """Chain ``events`` onto their loans' streams; return them as stored."""
        items = list(events)
        for i, ev in enumerate(items):
            if not isinstance(ev, Event):
                raise ValidationError(f"events[{i}]", type(ev).__name__, "expected an Event")
        by_loan: dict[str, list[int]] = {}
        for index, ev in enumerate(items):
            by_loan.setdefault(ev.loan_id, []).append(index)
        stored: list[Event | None] = [None] * len(items)
        for loan_id, indexes in by_loan.items():
            stream = self._streams.get(loan_id, ())
            prev = stream[-1].hash if stream else GENESIS
            start = stream[-1].seq + 1 if stream else 0
            chained = chain((items[i] for i in indexes), prev_hash=prev, start_seq=start)
            self._streams[loan_id] = stream + chained
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
        """Index of the first broken event of the stream, or ``None``."""
        return verify_chain(self._streams.get(loan_id, ()))


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
        self._event_base: dict[str, int] = {}
        self.loans = MemoryLoanRepository(self._loans, self._payments, self._by_loan)
        self.cases = MemoryCaseRepository(self._cases)
        self.outbox = MemoryOutboxRepository(self._outbox)
        self.events = _TrackedEvents(self._events, self._event_base)
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

    def commit(self) -> None:
        """Apply every staged write to the store, atomically."""
        with self.store.lock:
            streams = self._events.staged
            for loan_id, stream in list(streams.items()):
                base_len = self._event_base.get(loan_id, 0)
                current = self.store.events.get(loan_id, ())
                if len(current) != base_len:
                    # Another unit of work extended this stream meanwhile: re-chain ours.
                    ours = stream[base_len:]
                    prev = current[-1].hash if current else GENESIS
                    start = current[-1].seq + 1 if current else 0
                    streams[loan_id] = current + chain(ours, prev_hash=prev, start_seq=start)
            for overlay in self._overlays():
                overlay.base.update(overlay.staged)
                overlay.staged.clear()
            self._event_base.clear()

    def rollback(self) -> None:
        """Discard every staged write."""
        for overlay in self._overlays():
            overlay.staged.clear()
        self._event_base.clear()


class _TrackedEvents(MemoryEventRepository):
    """Remembers each stream's committed length when this unit of work first extends it."""

    def __init__(self, streams: _Overlay[tuple[Event, ...]], base: dict[str, int]) -> None:
        super().__init__(streams)
        self._base = base

    def append(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """Chain ``events`` onto their loans' streams; return them as stored."""
        items = list(events)
        for ev in items:
            if isinstance(ev, Event) and ev.loan_id not in self._base:
                self._base[ev.loan_id] = len(self._streams.get(ev.loan_id, ()))
        return super().append(items)


def _is_unit_of_work(uow: MemoryUnitOfWork) -> UnitOfWork:
    return uow  # static check: MemoryUnitOfWork satisfies the protocol


def _open(url: str, *, tenant: str = DEFAULT_TENANT) -> MemoryStore:
    return MemoryStore(url, tenant=tenant)


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
