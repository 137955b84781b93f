"""loancollect_register_rules: rule packs, collected by name."""

from __future__ import annotations

import pytest

from loancollect.domain.compliance import RulePack
from loancollect.errors import ConfigurationError
from loancollect.hookspecs import hookimpl
from loancollect.registry import rule_packs


def test_the_example_registers_a_pack(plugin_manager, register, example):
    register(example("loancollect_register_rules"), "house")
    packs = rule_packs(plugin_manager)
    assert packs["acme-house"].covers("CN")


def test_no_packs_without_plugins(plugin_manager):
    assert rule_packs(plugin_manager) == {}


def test_two_packs_with_one_name_are_refused(plugin_manager, register, example):
    class Again:
        @hookimpl
        def loancollect_register_rules(self):
            return [RulePack(name="acme-house", jurisdictions=("US",))]

    register(example("loancollect_register_rules"), "house")
    register(Again(), "again")
    with pytest.raises(ConfigurationError, match=r"rule pack name 'acme-house'.*'undo-again'"):
        rule_packs(plugin_manager)
