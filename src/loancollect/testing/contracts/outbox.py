"""The conformance suites of :class:`loancollect.ports.OutboxRepository` and of the
optional capabilities :class:`loancollect.ports.ClaimingOutbox` and
:class:`loancollect.ports.BatchMarkingOutbox`."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from loancollect.domain.errors import ValidationError
from loancollect.ports import (
    BatchMarkingOutbox,
    ClaimingOutbox,
    DeliveryResult,
    DeliveryStatus,
    OutboxStatus,
    UnitOfWork,
    UnitOfWorkFactory,
)
from loancollect.testing.builders import make_action
from loancollect.testing.contracts._base import DAY, T0, StorageFixtures

__all__ = ["BatchMarkingOutboxContract", "ClaimingOutboxContract", "OutboxRepositoryContract"]


def _add(uow_factory: UnitOfWorkFactory, *rule_ids: str) -> list[str]:
    """Commit one action per rule id (planned on ``DAY``); return their keys."""
    actions = [make_action(rule_id=r) for r in rule_ids]
    with uow_factory() as uow:
        for action in actions:
            uow.outbox.add(action, created_on=DAY)
        uow.commit()
    return [a.idempotency_key for a in actions]


class OutboxRepositoryContract(StorageFixtures):
    """The outbox (``uow.outbox``). Provide a ``uow_factory`` fixture."""

    def test_outbox_add_is_idempotent_by_key(self, uow_factory: UnitOfWorkFactory) -> None:
        action = make_action()
        with uow_factory() as uow:
            assert uow.outbox.add(action, created_on=DAY) is True
            assert uow.outbox.add(make_action(template="other"), created_on=DAY) is False
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.add(action, created_on=DAY) is False
            entry = uow.outbox.get(action.idempotency_key)
        assert entry is not None
        assert entry.action == action
        assert entry.status is OutboxStatus.PENDING
        assert entry.attempts == 0
        assert entry.created_on == DAY

    def test_outbox_unknown_key_is_none(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.outbox.get("nope") is None

    def test_pending_is_ordered_and_limited(self, uow_factory: UnitOfWorkFactory) -> None:
        day2 = DAY + dt.timedelta(days=1)
        with uow_factory() as uow:
            uow.outbox.add(make_action(rule_id="b", as_of=day2), created_on=day2)
            uow.outbox.add(make_action(rule_id="z"), created_on=DAY)
            uow.outbox.add(make_action(rule_id="a"), created_on=DAY)
            uow.commit()
        with uow_factory() as uow:
            keys = [e.key for e in uow.outbox.pending(limit=10)]
            assert keys == ["L-1:a:2025-03-01", "L-1:z:2025-03-01", "L-1:b:2025-03-02"]
            assert len(uow.outbox.pending(limit=2)) == 2

    def test_pending_waits_for_not_before(self, uow_factory: UnitOfWorkFactory) -> None:
        later = T0.add(hours=3)
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY, not_before=later)
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.pending(limit=10, now=T0) == []
            assert len(uow.outbox.pending(limit=10, now=later)) == 1
            assert len(uow.outbox.pending(limit=10)) == 1

    def test_mark_sent_records_the_result_once(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        first = DeliveryResult(
            status=DeliveryStatus.SENT, provider_id="m-1", evidence=[("code", "200")]
        )
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.mark_sent(key, first, at=T0)
            uow.commit()
        with uow_factory() as uow:
            again = uow.outbox.mark_sent(key, DeliveryResult.sent("m-2"), at=T0.add(hours=1))
            uow.commit()
            assert again.result == first
        with uow_factory() as uow:
            entry = uow.outbox.get(key)
            assert entry is not None
            assert entry.status is OutboxStatus.SENT
            assert entry.result == first
            assert entry.attempts == 1
            assert entry.sent_at == T0
            assert uow.outbox.pending(limit=10) == []

    def test_retryable_failure_comes_back_after_retry_at(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        key = make_action().idempotency_key
        retry_at = T0.add(minutes=30)
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            entry = uow.outbox.mark_failed(key, "timeout", retry_at=retry_at, attempts=1)
            uow.commit()
        assert entry.status is OutboxStatus.RETRY
        with uow_factory() as uow:
            assert uow.outbox.pending(limit=10, now=T0) == []
            (due,) = uow.outbox.pending(limit=10, now=retry_at)
            assert due.attempts == 1
            assert due.last_error == "timeout"
            assert due.next_attempt_at == retry_at

    def test_permanent_failure_is_never_pending(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        result = DeliveryResult.failed_permanent("invalid number")
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.mark_failed(key, "invalid number", retry_at=None, attempts=1, result=result)
            uow.commit()
        with uow_factory() as uow:
            entry = uow.outbox.get(key)
            assert entry is not None
            assert entry.status is OutboxStatus.FAILED
            assert entry.result == result
            assert uow.outbox.pending(limit=10) == []

    def test_marking_an_unknown_key_raises(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            with pytest.raises(ValidationError, match=r"outbox\.key"):
                uow.outbox.mark_sent("nope", DeliveryResult.sent(), at=T0)
            with pytest.raises(ValidationError, match=r"outbox\.key"):
                uow.outbox.mark_failed("nope", "x", retry_at=None, attempts=1)
            with pytest.raises(ValidationError, match=r"outbox\.key"):
                uow.outbox.cancel("nope", "x")

    def test_a_sent_entry_cannot_fail_or_be_cancelled(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.mark_sent(key, DeliveryResult.sent(), at=T0)
            with pytest.raises(ValidationError, match="sent"):
                uow.outbox.mark_failed(key, "late error", retry_at=None, attempts=2)
            with pytest.raises(ValidationError, match="sent"):
                uow.outbox.cancel(key, "paid")

    def test_cancel_withdraws_an_open_entry(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.cancel(key, "paid in full")
            uow.commit()
        with uow_factory() as uow:
            entry = uow.outbox.cancel(key, "again")
            assert entry.status is OutboxStatus.CANCELLED
            assert entry.last_error == "paid in full"
            assert uow.outbox.pending(limit=10) == []
            with pytest.raises(ValidationError):
                uow.outbox.mark_sent(key, DeliveryResult.sent(), at=T0)


def claiming(uow: UnitOfWork) -> ClaimingOutbox:
    """``uow.outbox`` as a :class:`ClaimingOutbox` (the test fails if it is not one)."""
    outbox = uow.outbox
    assert isinstance(outbox, ClaimingOutbox), f"{type(outbox).__name__} does not claim_pending"
    return outbox


class ClaimingOutboxContract(StorageFixtures):
    """Optional capability: several workers claim disjoint outbox entries to send.

    For backends whose outbox offers ``claim_pending``
    (:class:`~loancollect.ports.ClaimingOutbox`). Provide a ``uow_factory``
    fixture. A claim is a lease that outlives its unit of work; set
    ``lease_expired_after`` to a time after which every lease the backend gives
    has run out (default one day).
    """

    lease_expired_after: dt.timedelta = dt.timedelta(days=1)

    def test_the_outbox_claims(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            claiming(uow)

    def test_claim_pending_hands_out_sendable_open_entries_in_order(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        z, a, sent, cancelled = _add(uow_factory, "z", "a", "sent", "cancelled")
        later = make_action(rule_id="later")
        with uow_factory() as uow:
            uow.outbox.add(later, created_on=DAY, not_before=T0.add(hours=1))
            uow.outbox.mark_sent(sent, DeliveryResult.sent(), at=T0)
            uow.outbox.cancel(cancelled, "paid")
            uow.commit()
        with uow_factory() as uow:
            claimed = claiming(uow).claim_pending(limit=10, now=T0)
        assert [e.key for e in claimed] == [a, z]
        assert all(e.status is OutboxStatus.PENDING for e in claimed)
        assert claimed[0].action == make_action(rule_id="a")

    def test_claim_pending_returns_at_most_limit_entries(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        _add(uow_factory, "a", "b", "c")
        with uow_factory() as uow:
            assert len(claiming(uow).claim_pending(limit=2, now=T0)) == 2

    def test_a_claim_outlives_its_unit_of_work(self, uow_factory: UnitOfWorkFactory) -> None:
        keys = _add(uow_factory, "a", "b")
        with uow_factory() as uow:
            assert sorted(e.key for e in claiming(uow).claim_pending(limit=10, now=T0)) == keys
        # that unit of work ended without a commit; the entries stay claimed
        with uow_factory() as uow:
            assert claiming(uow).claim_pending(limit=10, now=T0.add(minutes=1)) == []

    def test_units_of_work_open_together_claim_disjoint_entries(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        keys = _add(uow_factory, "a", "b", "c", "d")
        with uow_factory() as first, uow_factory() as second:
            a = {e.key for e in claiming(first).claim_pending(limit=2, now=T0)}
            b = {e.key for e in claiming(second).claim_pending(limit=2, now=T0)}
        assert len(a) == len(b) == 2
        assert a.isdisjoint(b)
        assert a | b == set(keys)

    def test_marking_an_entry_ends_its_claim(self, uow_factory: UnitOfWorkFactory) -> None:
        sent, retried, cancelled = _add(uow_factory, "a", "b", "c")
        with uow_factory() as uow:
            assert len(claiming(uow).claim_pending(limit=10, now=T0)) == 3
        # sooner than any lease runs out: only the marking can have freed the entry
        retry_at = T0.add(minutes=1)
        with uow_factory() as uow:
            uow.outbox.mark_sent(sent, DeliveryResult.sent(), at=T0)
            uow.outbox.mark_failed(retried, "timeout", retry_at=retry_at, attempts=1)
            uow.outbox.cancel(cancelled, "paid")
            uow.commit()
        with uow_factory() as uow:
            again = claiming(uow).claim_pending(limit=10, now=retry_at)
        assert [(e.key, e.status, e.attempts) for e in again] == [(retried, OutboxStatus.RETRY, 1)]

    def test_an_expired_claim_can_be_taken_over(self, uow_factory: UnitOfWorkFactory) -> None:
        (key,) = _add(uow_factory, "a")
        with uow_factory() as uow:
            assert [e.key for e in claiming(uow).claim_pending(limit=10, now=T0)] == [key]
        # the worker died: after the lease another worker takes the entry over
        with uow_factory() as uow:
            later = T0 + self.lease_expired_after
            assert [e.key for e in claiming(uow).claim_pending(limit=10, now=later)] == [key]


def batch_marking(uow: UnitOfWork) -> BatchMarkingOutbox:
    """``uow.outbox`` as a :class:`BatchMarkingOutbox` (the test fails if it is not one)."""
    outbox = uow.outbox
    assert isinstance(outbox, BatchMarkingOutbox), (
        f"{type(outbox).__name__} does not mark_sent_many"
    )
    return outbox


class BatchMarkingOutboxContract(StorageFixtures):
    """Optional capability: many successful sends recorded at once (``mark_sent_many``).

    For backends whose outbox offers it (:class:`~loancollect.ports.BatchMarkingOutbox`).
    Provide a ``uow_factory`` fixture.
    """

    def test_the_outbox_marks_in_batches(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            batch_marking(uow)

    def test_mark_sent_many_marks_open_entries(self, uow_factory: UnitOfWorkFactory) -> None:
        first, untouched, retried = _add(uow_factory, "a", "b", "c")
        with uow_factory() as uow:
            uow.outbox.mark_failed(retried, "timeout", retry_at=T0, attempts=1)
            uow.commit()
        at = T0.add(hours=1)
        with uow_factory() as uow:
            batch_marking(uow).mark_sent_many(
                [(first, DeliveryResult.sent("p-1")), (retried, DeliveryResult.sent("p-3"))],
                at=at,
            )
            uow.commit()
        with uow_factory() as uow:
            done = uow.outbox.get(first)
            again = uow.outbox.get(retried)
            still = uow.outbox.get(untouched)
        assert done is not None
        assert (done.status, done.attempts, done.sent_at) == (OutboxStatus.SENT, 1, at)
        assert done.result == DeliveryResult.sent("p-1")
        assert again is not None
        assert (again.status, again.attempts) == (OutboxStatus.SENT, 2)
        assert again.result == DeliveryResult.sent("p-3")
        assert still is not None
        assert still.status is OutboxStatus.PENDING

    def test_an_entry_sent_before_stays_as_it_is(self, uow_factory: UnitOfWorkFactory) -> None:
        (key,) = _add(uow_factory, "a")
        with uow_factory() as uow:
            batch_marking(uow).mark_sent_many([(key, DeliveryResult.sent("p-1"))], at=T0)
            uow.commit()
        with uow_factory() as uow:
            before = uow.outbox.get(key)
            batch_marking(uow).mark_sent_many(
                [(key, DeliveryResult.sent("p-9"))], at=T0.add(hours=1)
            )
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.get(key) == before

    def test_a_closed_or_unknown_key_is_refused(self, uow_factory: UnitOfWorkFactory) -> None:
        open_, cancelled = _add(uow_factory, "a", "c")
        with uow_factory() as uow:
            uow.outbox.cancel(cancelled, "withdrawn")
            uow.commit()
        refused = rf"{re.escape(cancelled)}.*cancelled"
        with uow_factory() as uow, pytest.raises(ValidationError, match=refused):
            batch_marking(uow).mark_sent_many(
                [(open_, DeliveryResult.sent("x")), (cancelled, DeliveryResult.sent("y"))],
                at=T0,
            )
        with uow_factory() as uow, pytest.raises(ValidationError, match="no such outbox entry"):
            batch_marking(uow).mark_sent_many([("nope", DeliveryResult.sent("x"))], at=T0)
        with uow_factory() as uow:  # the refused batches were rolled back
            entry = uow.outbox.get(open_)
        assert entry is not None
        assert entry.status is OutboxStatus.PENDING

    def test_an_empty_batch_is_a_no_op(self, uow_factory: UnitOfWorkFactory) -> None:
        (key,) = _add(uow_factory, "a")
        with uow_factory() as uow:
            batch_marking(uow).mark_sent_many([], at=T0)
            uow.commit()
        with uow_factory() as uow:
            entry = uow.outbox.get(key)
        assert entry is not None
        assert entry.status is OutboxStatus.PENDING
