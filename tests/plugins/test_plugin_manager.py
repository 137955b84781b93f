"""make_plugin_manager: built-ins, validation at start-up, blocking, tracing, no global state."""

from __future__ import annotations

import datetime as dt
import logging

import pluggy
import pytest

from loancollect.errors import ConfigurationError
from loancollect.hookspecs import hookimpl
from loancollect.plugins import (
    DEFAULT_PLUGINS,
    ENV_LOAD_PLUGINS,
    make_plugin_manager,
    plugin_info,
)
from loancollect.registry import CycleSummary, channel_specs, template_specs


def test_built_ins_are_registered_like_plugins(plugin_manager):
    names = {plugin_manager.get_name(p) for p in plugin_manager.get_plugins()}
    assert names == set(DEFAULT_PLUGINS)
    info = {i.name: i for i in plugin_info(plugin_manager)}
    memory = info["loancollect.builtin.memory"]
    assert memory.distribution == "loancollect"
    assert memory.version
    assert memory.hooks == ("loancollect_register_storage",)


def test_a_misspelled_hook_fails_at_start_up():
    class Typo:
        @hookimpl
        def loancollect_scroe(self, loan):
            return None

    with pytest.raises(pluggy.PluginValidationError, match="loancollect_scroe"):
        make_plugin_manager(plugins=[Typo()])


def test_a_wrong_argument_name_fails_at_registration():
    class WrongArg:
        @hookimpl
        def loancollect_score(self, loan, borrower):
            return None

    with pytest.raises(pluggy.PluginValidationError, match="borrower"):
        make_plugin_manager(plugins=[WrongArg()])


def test_an_unmarked_hook_function_is_refused():
    class Forgot:
        def loancollect_score(self, loan):
            return None

    with pytest.raises(pluggy.PluginValidationError, match="not marked with @hookimpl"):
        make_plugin_manager(plugins=[Forgot()])


def test_attributes_without_the_prefix_are_ignored():
    class Helpers:
        @hookimpl
        def score(self, loan):  # marked, but not a loancollect_ name
            return None

        loancollect_settings = ("a", 1)  # a prefixed attribute that is not a function

    pm = make_plugin_manager(plugins=[Helpers()])
    assert len(pm.get_plugins()) == len(DEFAULT_PLUGINS) + 1


def test_managers_share_no_state():
    class Extra:
        @hookimpl
        def loancollect_register_channels(self):
            return []

    one = make_plugin_manager(plugins=[Extra()])
    two = make_plugin_manager()
    assert len(one.get_plugins()) == len(two.get_plugins()) + 1


def test_a_built_in_can_be_blocked():
    pm = make_plugin_manager(block=["loancollect.builtin.templates"])
    assert template_specs(pm) == ()
    assert sorted(channel_specs(pm)) == ["file", "recording"]


def test_trace_logs_every_hook_call(caplog):
    pm = make_plugin_manager(trace=True)
    with caplog.at_level(logging.DEBUG, logger="loancollect.hooks"):
        pm.hook.loancollect_cycle_finished(
            as_of=dt.date(2025, 4, 20), run_id="r-1", summary=CycleSummary(reviewed=1)
        )
    assert "call loancollect_cycle_finished(as_of=datetime.date(2025, 4, 20)" in caplog.text
    assert "return loancollect_cycle_finished: []" in caplog.text


def test_trace_logs_a_raising_hook(caplog):
    class Boom:
        @hookimpl
        def loancollect_cycle_started(self):
            raise RuntimeError("boom")

    pm = make_plugin_manager(trace=True, plugins=[Boom()])
    with caplog.at_level(logging.DEBUG, logger="loancollect.hooks"), pytest.raises(RuntimeError):
        pm.hook.loancollect_cycle_started(as_of=dt.date(2025, 4, 20), run_id="r")
    assert "raise loancollect_cycle_started: RuntimeError: boom" in caplog.text


def test_no_trace_by_default(caplog):
    pm = make_plugin_manager()
    with caplog.at_level(logging.DEBUG, logger="loancollect.hooks"):
        pm.hook.loancollect_cycle_started(as_of=dt.date(2025, 4, 20), run_id="r")
    assert caplog.text == ""


def test_an_allow_list_naming_a_missing_plugin_fails():
    with pytest.raises(ConfigurationError, match=r"\['no-such-plugin'\] are not installed"):
        make_plugin_manager(load_entrypoints=["no-such-plugin"])


def test_the_environment_allow_list_applies_only_when_loading(monkeypatch):
    monkeypatch.setenv(ENV_LOAD_PLUGINS, "no-such-plugin")
    make_plugin_manager()  # load_entrypoints=False: the variable is not consulted
    with pytest.raises(ConfigurationError, match="no-such-plugin"):
        make_plugin_manager(load_entrypoints=True)
    make_plugin_manager(load_entrypoints=True, environ={ENV_LOAD_PLUGINS: ""})  # loads none


def test_registration_hooks_are_listed_per_plugin(plugin_manager):
    hooks = {i.name: i.hooks for i in plugin_info(plugin_manager)}
    assert hooks["loancollect.builtin.templates"] == ("loancollect_register_templates",)
    assert hooks["loancollect.builtin.recording"] == ("loancollect_register_channels",)
