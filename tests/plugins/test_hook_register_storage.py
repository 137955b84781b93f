"""loancollect_register_storage: backends by URL scheme."""

from __future__ import annotations

import pytest

from loancollect.builtin.memory import MemoryStore
from loancollect.errors import ConfigurationError, ValidationError
from loancollect.hookspecs import hookimpl
from loancollect.registry import StorageBackendSpec, open_storage, storage_specs
from loancollect.testing import make_loan


def test_the_example_opens_its_scheme(plugin_manager, register, example):
    register(example("loancollect_register_storage"), "scratch")
    assert sorted(storage_specs(plugin_manager)) == ["memory", "scratch"]
    factory = open_storage(plugin_manager, "scratch://anything")
    with factory() as uow:
        uow.loans.add(make_loan())
        uow.commit()
    with factory() as uow:
        assert uow.loans.list_ids() == ["L-1"]


def test_a_driver_suffix_falls_back_to_the_base_scheme(plugin_manager, register):
    opened: list[str] = []

    class Pg:
        @hookimpl
        def loancollect_register_storage(self):
            def factory(url: str) -> MemoryStore:
                opened.append(url)
                return MemoryStore()

            return [StorageBackendSpec(name="pg", schemes=("PostgreSQL",), factory=factory)]

    register(Pg(), "pg")
    open_storage(plugin_manager, "postgresql+psycopg://db/x")
    assert opened == ["postgresql+psycopg://db/x"]


def test_a_scheme_provided_twice_names_every_provider(plugin_manager, register):
    class Clash:
        @hookimpl
        def loancollect_register_storage(self):
            return [StorageBackendSpec(name="other", schemes=("memory",), factory=MemoryStore)]

    register(Clash(), "clash")
    with pytest.raises(ConfigurationError) as info:
        storage_specs(plugin_manager)
    message = str(info.value)
    assert "storage backend scheme 'memory'" in message
    assert "'loancollect.builtin.memory' (loancollect" in message
    assert "'undo-clash'" in message


def test_unknown_scheme_lists_the_known_ones(plugin_manager):
    with pytest.raises(ConfigurationError, match=r"'mysql'.*known schemes: \['memory'\]"):
        open_storage(plugin_manager, "mysql://db")


def test_a_url_needs_a_scheme(plugin_manager):
    with pytest.raises(ConfigurationError, match="expected '<scheme>:"):
        open_storage(plugin_manager, "just-a-path")


def test_a_backend_needs_a_scheme():
    with pytest.raises(ValueError, match="at least one scheme"):
        StorageBackendSpec(name="x", schemes=(), factory=MemoryStore)


def test_a_tenant_aware_backend_gets_the_tenant(plugin_manager, register):
    opened: list[tuple[str, str]] = []

    class Scoped:
        @hookimpl
        def loancollect_register_storage(self):
            def factory(url: str, *, tenant: str) -> MemoryStore:
                opened.append((url, tenant))
                return MemoryStore(tenant=tenant)

            return [
                StorageBackendSpec(
                    name="scoped", schemes=("scoped",), factory=factory, tenants=True
                )
            ]

    register(Scoped(), "scoped")
    open_storage(plugin_manager, "scoped://x")
    open_storage(plugin_manager, "scoped://x", tenant="brand-b")
    assert opened == [("scoped://x", "default"), ("scoped://x", "brand-b")]


def test_a_backend_without_tenants_opens_the_default_tenant_only(plugin_manager, register, example):
    register(example("loancollect_register_storage"), "scratch")
    assert not storage_specs(plugin_manager)["scratch"].tenants
    with open_storage(plugin_manager, "scratch://x", tenant="default")() as uow:
        assert uow.loans.list_ids() == []
    with pytest.raises(ConfigurationError) as info:
        open_storage(plugin_manager, "scratch://x", tenant="brand-b")
    message = str(info.value)
    assert "storage backend 'scratch' does not keep tenants apart" in message
    assert "tenants=False" in message
    assert "'brand-b'" in message


def test_a_bad_tenant_is_refused_before_any_backend_opens(plugin_manager):
    with pytest.raises(ValidationError) as info:
        open_storage(plugin_manager, "memory:", tenant="no spaces")
    assert (info.value.field, info.value.value) == ("tenant", "no spaces")
