"""The in-memory store's audit trail and concurrent updates: the same contracts as the
SQL backend, tampering with the store's dictionaries directly; and its own specifics
(a review batch that lost a race to an intake fails at its commit, the case lock's
bounded wait)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

import attrs
import pytest

from loancollect.builtin.memory import MemoryDatabase, MemoryStore
from loancollect.domain.events import Event
from loancollect.ports import AuditKey, ConcurrentUpdateError, UnitOfWorkFactory
from loancollect.testing import make_case, make_loan
from loancollect.testing.contracts import (
    AuditedEventsContract,
    CaseVersionContract,
    LockingCasesContract,
    OpenAudited,
    Tamperer,
)


class MemoryTamperer:
    """Changes a :class:`MemoryStore`'s committed dictionaries directly."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def _events(self, loan_id: str) -> list[Event]:
        return list(self.store.events[loan_id])

    def delete_event(self, loan_id: str, seq: int) -> None:
        self.store.events[loan_id] = tuple(e for e in self._events(loan_id) if e.seq != seq)

    def delete_stream(self, loan_id: str) -> None:
        del self.store.events[loan_id]

    def delete_head(self, loan_id: str) -> None:
        del self.store.heads[loan_id]

    def set_head(self, loan_id: str, seq: int, digest: str) -> None:
        self.store.heads[loan_id] = attrs.evolve(self.store.heads[loan_id], seq=seq, hash=digest)

    def edit_data(self, loan_id: str, seq: int, data: tuple[tuple[str, str], ...]) -> None:
        self.store.events[loan_id] = tuple(
            attrs.evolve(e, data=data) if e.seq == seq else e for e in self._events(loan_id)
        )

    def rewrite(self, events: Sequence[Event]) -> None:
        loan_id = events[0].loan_id
        new = {e.seq: e for e in events}
        self.store.events[loan_id] = tuple(new.get(e.seq, e) for e in self._events(loan_id))

    def swap(self, loan_id: str, a: int, b: int) -> None:
        moved = {a: b, b: a}
        events = [attrs.evolve(e, seq=moved.get(e.seq, e.seq)) for e in self._events(loan_id)]
        self.store.events[loan_id] = tuple(sorted(events, key=lambda e: e.seq))
        macs = self.store.macs[loan_id]
        self.store.macs[loan_id] = {moved.get(s, s): m for s, m in macs.items()}

    def shift_at_utc(self, loan_id: str, seq: int, delta: dt.timedelta) -> bool:
        return False  # the in-memory store keeps no second copy of an instant

    def move_to_tenant(self, loan_id: str, tenant: str) -> None:
        other = self.store.for_tenant(tenant)
        other.events[loan_id] = self.store.events.pop(loan_id)
        other.heads[loan_id] = self.store.heads.pop(loan_id)
        other.macs[loan_id] = self.store.macs.pop(loan_id)


class TestMemoryAudit(AuditedEventsContract):
    @pytest.fixture
    def database(self) -> MemoryDatabase:
        return MemoryDatabase()

    @pytest.fixture
    def open_audited(self, database: MemoryDatabase) -> OpenAudited:
        return lambda key: database.store(audit_key=key)

    @pytest.fixture
    def tamper(self, database: MemoryDatabase) -> Tamperer:
        return MemoryTamperer(database.store())


class TestMemoryConcurrentUpdates(CaseVersionContract, LockingCasesContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore()


def _seeded(**kw: object) -> MemoryStore:
    store = MemoryStore(**kw)  # type: ignore[arg-type]
    with store() as uow:
        uow.loans.add(make_loan())
        uow.cases.save(make_case())
        uow.commit()
    return store


def test_a_review_batch_that_lost_a_race_fails_at_its_commit_and_writes_nothing() -> None:
    store = _seeded()
    with store() as review:
        (case,) = review.cases.due_for_review(dt.date(2025, 3, 1), limit=10)
        with store() as intake:  # an outcome recorded meanwhile (no lock in memory reviews)
            got = intake.cases.get_for_update("L-1")
            assert got is not None
            intake.cases.save(attrs.evolve(got, flags=frozenset({"outcome"})))
            intake.commit()
        review.cases.save(attrs.evolve(case, stage="late"))
        with pytest.raises(ConcurrentUpdateError, match="'L-1'"):
            review.commit()
    with store() as uow:
        stored = uow.cases.get("L-1")
    assert stored is not None
    assert (stored.stage, stored.flags) == ("early", frozenset({"outcome"}))


def test_waiting_for_a_held_case_is_bounded() -> None:
    store = _seeded(lock_timeout=dt.timedelta(milliseconds=200))
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with store() as uow:
            uow.cases.get_for_update("L-1")
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        with store() as uow, pytest.raises(ConcurrentUpdateError, match=r"more than 0\.2 s"):
            uow.cases.get_for_update("L-1")
    finally:
        done.set()
        thread.join(10)


def test_a_unit_of_work_never_waits_for_another_of_its_own_thread() -> None:
    store = _seeded()
    with store() as first, store() as second:
        first.cases.get_for_update("L-1")
        with pytest.raises(ConcurrentUpdateError, match="this thread"):
            second.cases.get_for_update("L-1")


def test_the_registry_opens_memory_with_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loancollect.plugins import make_plugin_manager
    from loancollect.registry import open_storage

    monkeypatch.setenv("LOANCOLLECT_AUDIT_KEY", "a-key-from-the-environment")
    store = open_storage(make_plugin_manager(), "memory:")
    assert isinstance(store, MemoryStore)
    assert store.audit_key == AuditKey("a-key-from-the-environment")
    assert "environment" not in repr(store)
