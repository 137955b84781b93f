"""The file channel: one JSON line per message, once per key, contacts masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loancollect import ConfigurationError, make_plugin_manager
from loancollect.builtin.files import FileChannel
from loancollect.registry import make_channel
from loancollect.testing import make_action, make_message


def test_writes_each_key_once_and_remembers_across_instances(tmp_path: Path) -> None:
    action = make_action(channel="sms")
    message = make_message()
    channel = FileChannel("sms", tmp_path)
    first = channel.send(action, message, "K1")
    again = channel.send(action, message, "K1")
    assert first.ok
    assert again.ok
    reopened = FileChannel("sms", tmp_path)
    reopened.send(action, message, "K1")
    reopened.send(action, message, "K2")
    lines = [
        json.loads(x) for x in (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [r["key"] for r in lines] == ["K1", "K2"]
    assert lines[0]["text"] == message.text
    assert reopened.poll("K2") is not None
    assert reopened.poll("K3") is None


def test_contact_points_are_masked_in_the_file(tmp_path: Path) -> None:
    action = make_action(channel="sms")
    assert action.contact is not None
    FileChannel("sms", tmp_path).send(action, make_message(), "K1")
    text = (tmp_path / "sms.jsonl").read_text(encoding="utf-8")
    assert action.contact.value not in text
    assert action.contact.masked in text


def test_registered_as_file_and_needs_a_directory(tmp_path: Path) -> None:
    pm = make_plugin_manager()
    channel = make_channel(pm, "file", {"dir": str(tmp_path), "name": "visit"})
    assert channel.name == "visit"
    with pytest.raises(ConfigurationError, match="dir"):
        make_channel(pm, "file", {})
