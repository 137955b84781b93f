"""The in-memory backend passes every storage contract that applies to it (it neither
claims nor marks in batches), plus its own specifics."""

from __future__ import annotations

import pytest

from loancollect.builtin.memory import MemoryDatabase, MemoryStore
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import EventKind
from loancollect.plugins import make_plugin_manager
from loancollect.ports import (
    DEFAULT_TENANT,
    BatchMarkingOutbox,
    ClaimingCases,
    ClaimingOutbox,
    UnitOfWorkFactory,
)
from loancollect.registry import open_storage
from loancollect.testing import (
    StorageContract,
    TenantIsolationContract,
    make_event,
    make_loan,
)
from loancollect.testing.contracts import OpenTenant


class TestMemoryStorage(StorageContract, TenantIsolationContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore()

    @pytest.fixture
    def open_tenant(self) -> OpenTenant:
        return MemoryDatabase().store


class TestMemoryStorageOpenedByUrl(StorageContract, TenantIsolationContract):
    """The same suites through the registry: ``memory:`` opens the built-in backend."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return open_storage(make_plugin_manager(), "memory://")

    @pytest.fixture
    def open_tenant(self) -> OpenTenant:
        first = open_storage(make_plugin_manager(), "memory:", tenant="first")
        assert isinstance(first, MemoryStore)
        return first.for_tenant


def test_the_memory_store_offers_no_optional_capability() -> None:
    with MemoryStore()() as uow:
        assert not isinstance(uow.cases, ClaimingCases)
        assert not isinstance(uow.outbox, ClaimingOutbox)
        assert not isinstance(uow.outbox, BatchMarkingOutbox)


def test_memory_url_opens_the_default_tenant_unless_told() -> None:
    pm = make_plugin_manager()
    store = open_storage(pm, "memory:")
    assert isinstance(store, MemoryStore)
    assert store.tenant == DEFAULT_TENANT == "default"
    other = open_storage(pm, "memory:", tenant="brand-b")
    assert isinstance(other, MemoryStore)
    assert other.tenant == "brand-b"
    assert other.database is not store.database  # every memory: URL is a new database


def test_tenants_of_one_database_share_it_and_nothing_else() -> None:
    database = MemoryDatabase()
    a, b = database.store("a"), database.store("b")
    with a() as uow:
        uow.loans.add(make_loan())
        uow.commit()
    assert database.tenants == ("a", "b")
    assert a.for_tenant("b").database is database
    with database.store("a")() as uow:  # a second store of tenant a sees a's records
        assert uow.loans.list_ids() == ["L-1"]
    with b() as uow:
        assert uow.loans.list_ids() == []


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "é", "x" * 65, "-lead", "tail\n", 7])
def test_a_bad_tenant_is_a_validation_error_naming_it(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        MemoryStore(tenant=bad)  # type: ignore[arg-type]
    assert info.value.field == "tenant"
    assert info.value.value == bad
    with pytest.raises(ValidationError, match="tenant"):
        open_storage(make_plugin_manager(), "memory:", tenant=bad)  # type: ignore[arg-type]


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
