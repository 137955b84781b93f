"""loancollect_register_channels: channel descriptors, collected and checked."""

from __future__ import annotations

import pytest

from loancollect.builtin.recording import RecordingChannel
from loancollect.domain.loans import ContactKind
from loancollect.errors import ConfigurationError
from loancollect.hookspecs import hookimpl
from loancollect.registry import ChannelSpec, channel_contact_kinds, channel_specs, make_channel


def _spec(name: str) -> ChannelSpec:
    return ChannelSpec(name=name, factory=lambda settings: RecordingChannel(name=name))


def test_the_example_registers_a_channel(plugin_manager, register, example):
    register(example("loancollect_register_channels"), "acme")
    specs = channel_specs(plugin_manager)
    assert sorted(specs) == ["acme-sms", "file", "recording"]
    assert specs["acme-sms"].contact_kind is ContactKind.PHONE
    assert channel_contact_kinds(plugin_manager)["acme-sms"] is ContactKind.PHONE
    channel = make_channel(plugin_manager, "ACME-SMS", {"token": "t"})
    assert channel.name == "acme-sms"


def test_names_are_normalised_and_duplicates_name_every_provider(plugin_manager, register):
    class One:
        @hookimpl
        def loancollect_register_channels(self):
            return [_spec(" Acme-SMS ")]

    class Two:
        @hookimpl
        def loancollect_register_channels(self):
            return [_spec("acme-sms")]

    register(One(), "one")
    register(Two(), "two")
    with pytest.raises(ConfigurationError) as info:
        channel_specs(plugin_manager)
    message = str(info.value)
    assert "channel name 'acme-sms'" in message
    assert "'undo-one'" in message
    assert "'undo-two'" in message
    assert "provided by 2 registrations" in message


def test_a_duplicate_of_a_built_in_names_its_distribution(plugin_manager, register):
    class Clash:
        @hookimpl
        def loancollect_register_channels(self):
            return [_spec("recording")]

    register(Clash(), "clash")
    with pytest.raises(
        ConfigurationError, match=r"'loancollect\.builtin\.recording' \(loancollect"
    ):
        channel_specs(plugin_manager)


def test_a_wrong_record_type_names_the_plugin(plugin_manager, register):
    class Wrong:
        @hookimpl
        def loancollect_register_channels(self):
            return ["sms"]

    register(Wrong(), "wrong")
    with pytest.raises(
        ConfigurationError, match=r"'undo-wrong'.*returned str; expected ChannelSpec"
    ):
        channel_specs(plugin_manager)


def test_a_non_iterable_result_is_refused(plugin_manager, register):
    class NotIterable:
        @hookimpl
        def loancollect_register_channels(self):
            return _spec("x")

    register(NotIterable(), "bad")
    with pytest.raises(ConfigurationError, match="expected an iterable of ChannelSpec"):
        channel_specs(plugin_manager)


def test_a_bad_name_is_refused(plugin_manager, register):
    class BadName:
        @hookimpl
        def loancollect_register_channels(self):
            return [_spec("no spaces please")]

    register(BadName(), "bad")
    with pytest.raises(ConfigurationError, match=r"'undo-bad'.*channel\.name"):
        channel_specs(plugin_manager)


def test_none_means_nothing_to_register(plugin_manager, register):
    class Nothing:
        @hookimpl
        def loancollect_register_channels(self):
            return None

    register(Nothing(), "nothing")
    assert sorted(channel_specs(plugin_manager)) == ["file", "recording"]


def test_unknown_channel_lists_the_known_ones(plugin_manager):
    with pytest.raises(ConfigurationError, match=r"'fax'.*known: \['file', 'recording'\]"):
        make_channel(plugin_manager, "fax")


def test_a_factory_that_returns_no_channel_is_refused(plugin_manager, register):
    class Broken:
        @hookimpl
        def loancollect_register_channels(self):
            return [ChannelSpec(name="broken", factory=lambda settings: object())]

    register(Broken(), "broken")
    with pytest.raises(ConfigurationError, match="not a Channel"):
        make_channel(plugin_manager, "broken")
