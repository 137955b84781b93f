"""loancollect_configure: historic, read-only configuration."""

from __future__ import annotations

import pluggy
import pytest

from loancollect.hookspecs import hookimpl
from loancollect.plugins import make_plugin_manager


def test_the_example_receives_the_configuration(example):
    module = example("loancollect_configure")
    make_plugin_manager(plugins=[module], config={"acme-sms.gateway": "https://sms.test"})
    assert module.SETTINGS == {"gateway": "https://sms.test"}


def test_a_plugin_registered_later_is_configured_too(example):
    pm = make_plugin_manager(config={"acme-sms.gateway": "https://late.test"})
    module = example("loancollect_configure")
    pm.register(module)
    assert module.SETTINGS == {"gateway": "https://late.test"}


def test_the_configuration_is_read_only():
    seen = []

    class Mutator:
        @hookimpl
        def loancollect_configure(self, config):
            seen.append(config)
            with pytest.raises(TypeError):
                config["x"] = "y"

    make_plugin_manager(plugins=[Mutator()], config={"a": 1})
    assert dict(seen[0]) == {"a": 1}


def test_no_configure_call_without_config(example):
    module = example("loancollect_configure")
    make_plugin_manager(plugins=[module])
    assert module.SETTINGS == {}


def test_it_cannot_be_wrapped():
    class Wrapper:
        @hookimpl(wrapper=True)
        def loancollect_configure(self, config):
            return (yield)

    with pytest.raises(pluggy.PluginValidationError, match="historic"):
        make_plugin_manager(plugins=[Wrapper()])
