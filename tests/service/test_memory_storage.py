"""The in-memory backend passes the storage conformance suite, plus its own specifics."""

from __future__ import annotations

import pytest

from loancollect.builtin.memory import MemoryStore
from loancollect.domain.events import EventKind
from loancollect.plugins import make_plugin_manager
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import open_storage
from loancollect.testing import StorageContract, make_event


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore()


class TestMemoryStorageOpenedByUrl(StorageContract):
    """The same suite through the registry: ``memory:`` opens the built-in backend."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return open_storage(make_plugin_manager(), "memory://")


def test_each_memory_url_opens_a_new_store() -> None:
    pm = make_plugin_manager()
    first, second = open_storage(pm, "memory:"), open_storage(pm, "memory:")
    assert first is not second


def test_a_unit_of_work_cannot_be_entered_twice() -> None:
    uow = MemoryStore()()
    with uow, pytest.raises(RuntimeError, match="already in use"), uow:
        pass


def test_concurrent_appends_to_one_stream_stay_chained() -> None:
    store = MemoryStore()
    with store() as a, store() as b:
        a.events.append([make_event(EventKind.CASE_OPENED)])
        b.events.append([make_event(EventKind.STAGE_CHANGED)])
        a.commit()
        b.commit()  # b chained on a stale tail: re-chained at commit
    with store() as uow:
        stream = uow.events.stream("L-1")
        assert [e.kind for e in stream] == [EventKind.CASE_OPENED, EventKind.STAGE_CHANGED]
        assert uow.events.verify("L-1") is None


def test_limit_must_be_positive() -> None:
    with MemoryStore()() as uow, pytest.raises(ValueError, match="limit"):
        uow.cases.due_for_review(make_event().on, limit=0)
