"""PostgreSQL: an entry added leased (``add_leased``) is the adding worker's until it
records the send or the lease runs out, exactly like a claimed entry."""

from __future__ import annotations

import datetime as dt

from loancollect_sqlalchemy import SqlStore

from loancollect.ports import DeliveryResult, LeasingOutbox, OutboxStatus
from loancollect.testing.builders import make_action, make_loan

NOW = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)


def _store_with_loan(pg_store: SqlStore) -> None:
    with pg_store() as uow:
        uow.loans.add(make_loan())
        uow.commit()


def test_a_leased_entry_is_not_claimed_by_another_worker_until_its_lease_runs_out(
    pg_store: SqlStore,
) -> None:
    _store_with_loan(pg_store)
    with pg_store() as uow:
        assert isinstance(uow.outbox, LeasingOutbox)
        assert uow.outbox.add_leased(make_action(), created_on=dt.date(2025, 3, 1), now=NOW)
        uow.commit()
    with pg_store() as other:
        assert other.outbox.claim_pending(limit=10, now=NOW + dt.timedelta(minutes=1)) == []
    later = NOW + pg_store.lease + dt.timedelta(seconds=1)
    with pg_store() as other:
        claimed = other.outbox.claim_pending(limit=10, now=later)
    assert [e.key for e in claimed] == [make_action().idempotency_key]


def test_a_leased_entry_recorded_as_sent_is_never_claimed_again(pg_store: SqlStore) -> None:
    _store_with_loan(pg_store)
    key = make_action().idempotency_key
    with pg_store() as uow:
        assert isinstance(uow.outbox, LeasingOutbox)
        uow.outbox.add_leased(make_action(), created_on=dt.date(2025, 3, 1), now=NOW)
        uow.commit()
    with pg_store() as uow:
        uow.outbox.mark_sent_many([(key, DeliveryResult.sent("p-1"))], at=NOW)
        uow.commit()
    with pg_store() as uow:
        entry = uow.outbox.get(key)
        claimed = uow.outbox.claim_pending(limit=10, now=NOW + pg_store.lease * 2)
    assert entry is not None
    assert entry.status is OutboxStatus.SENT
    assert claimed == []


def test_a_known_key_is_not_added_again_leased(pg_store: SqlStore) -> None:
    _store_with_loan(pg_store)
    with pg_store() as uow:
        assert isinstance(uow.outbox, LeasingOutbox)
        assert uow.outbox.add(make_action(), created_on=dt.date(2025, 3, 1))
        assert not uow.outbox.add_leased(make_action(), created_on=dt.date(2025, 3, 1), now=NOW)
        uow.commit()
    with pg_store() as other:
        claimed = other.outbox.claim_pending(limit=10, now=NOW)
    assert len(claimed) == 1  # the first add was not leased; the refused one changed nothing
