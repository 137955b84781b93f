"""The plug-in: entry point, hook, configurable plug-in object and hooks documentation."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from loancollect_rules_eu import hooks
from loancollect_rules_eu.pack import EuOptions
from loancollect_rules_eu.plugin import EuRules

from loancollect import make_plugin_manager
from loancollect.registry import rule_packs

ROOT = Path(__file__).resolve().parents[3]


def test_the_entry_point_names_the_hooks_module() -> None:
    (ep,) = [
        e for e in importlib.metadata.entry_points(group="loancollect") if e.name == "rules-eu"
    ]
    assert ep.value == "loancollect_rules_eu.hooks"
    assert ep.load() is hooks


def test_the_hooks_module_holds_only_hook_implementations() -> None:
    public = [n for n in vars(hooks) if n.startswith("loancollect_")]
    assert public == ["loancollect_register_rules"]


def test_loading_the_entry_point_registers_the_default_packs() -> None:
    pm = make_plugin_manager(load_entrypoints=["rules-eu"])
    packs = rule_packs(pm)
    assert sorted(packs) == ["eu-framework", "eu-it"]


def test_options_come_from_the_plugin_object_instead_of_the_entry_point() -> None:
    options = EuOptions(member_states=("IT", "FR"))
    pm = make_plugin_manager(
        load_entrypoints=["rules-eu"], block=["rules-eu"], plugins=[EuRules(options)]
    )
    packs = rule_packs(pm)
    assert sorted(packs) == ["eu-framework", "eu-it"]
    chosen = [p for p in packs.values() if isinstance(p.options, EuOptions)]
    assert chosen
    assert all(p.options.member_states == ("IT", "FR") for p in chosen)


def test_the_plugin_object_chooses_the_packs() -> None:
    pm = make_plugin_manager(plugins=[EuRules(national=[])])
    assert sorted(rule_packs(pm)) == ["eu-framework"]


def test_the_hook_is_documented_with_this_plugin_as_an_implementation() -> None:
    page = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    section = page.split('<a id="hook-loancollect_register_rules"></a>', 1)[1].split("<a id=", 1)[0]
    assert "plugins/loancollect-rules-eu/src/loancollect_rules_eu/hooks.py" in section


def test_the_readme_says_how_to_configure_the_options() -> None:
    readme = (ROOT / "plugins" / "loancollect-rules-eu" / "README.md").read_text(encoding="utf-8")
    assert 'block=["rules-eu"]' in readme
    assert "EuRules(" in readme
