"""The conformance suite of :class:`loancollect.ports.EventRepository`."""

from __future__ import annotations

import datetime as dt

from loancollect.domain.events import GENESIS, EventKind
from loancollect.ports import UnitOfWorkFactory
from loancollect.testing.builders import make_event
from loancollect.testing.contracts._base import StorageFixtures

__all__ = ["EventRepositoryContract"]


class EventRepositoryContract(StorageFixtures):
    """The hash-chained event log (``uow.events``). Provide a ``uow_factory`` fixture."""

    def test_append_chains_each_loan_stream(self, uow_factory: UnitOfWorkFactory) -> None:
        events = [
            make_event(EventKind.CASE_OPENED, "L-1"),
            make_event(EventKind.CASE_OPENED, "L-2"),
            make_event(EventKind.STAGE_CHANGED, "L-1"),
        ]
        with uow_factory() as uow:
            stored = uow.events.append(events)
            uow.commit()
        assert [(e.loan_id, e.seq) for e in stored] == [("L-1", 0), ("L-2", 0), ("L-1", 1)]
        assert stored[0].prev_hash == GENESIS
        assert stored[2].prev_hash == stored[0].hash
        with uow_factory() as uow:
            assert uow.events.stream("L-1") == (stored[0], stored[2])
            assert uow.events.last("L-2") == stored[1]
            assert uow.events.verify("L-1") is None
            assert uow.events.verify("L-2") is None

    def test_append_continues_the_stream_in_a_later_unit_of_work(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            (first,) = uow.events.append([make_event(EventKind.CASE_OPENED)])
            uow.commit()
        with uow_factory() as uow:
            (second,) = uow.events.append([make_event(EventKind.STAGE_CHANGED)])
            uow.commit()
        assert second.seq == 1
        assert second.prev_hash == first.hash
        with uow_factory() as uow:
            assert uow.events.stream("L-1") == (first, second)
            assert uow.events.verify("L-1") is None

    def test_recent_returns_the_events_on_or_after_a_date(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        days = [dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)]
        with uow_factory() as uow:
            stored = uow.events.append(
                [make_event(EventKind.ACTION_SENT, "L-1", on=d) for d in days]
                + [make_event(EventKind.ACTION_SENT, "L-2", on=days[0])]
            )
            uow.commit()
        with uow_factory() as uow:
            assert uow.events.recent("L-1", dt.date(2025, 2, 1)) == stored[1:3]
            assert uow.events.recent("L-1", dt.date(2025, 3, 2)) == ()
            assert uow.events.recent("L-2", dt.date(2025, 1, 1)) == (stored[3],)
            assert uow.events.recent("L-9", dt.date(2025, 1, 1)) == ()
            # Events appended in the same unit of work are seen.
            (later,) = uow.events.append(
                [make_event(EventKind.ACTION_SENT, "L-1", on=dt.date(2025, 3, 5))]
            )
            assert uow.events.recent("L-1", dt.date(2025, 2, 1)) == (*stored[1:3], later)

    def test_an_empty_stream(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.events.stream("L-1") == ()
            assert uow.events.last("L-1") is None
            assert uow.events.verify("L-1") is None
            assert uow.events.append([]) == ()
