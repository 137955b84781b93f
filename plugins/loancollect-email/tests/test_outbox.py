"""The file outbox: .eml files in a directory, written once per key."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from email_helpers import ADDRESS, NOW, SENDER, email_action, email_message
from loancollect_email import FileOutbox, from_settings, message_id

from loancollect.ports import DeliveryStatus


def test_each_message_is_an_eml_file_named_after_its_key(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    channel = from_settings({"from": SENDER, "dir": str(outbox)}, now=lambda: NOW)
    assert isinstance(channel.transport, FileOutbox)
    action = email_action()
    result = channel.send(action, email_message(), action.idempotency_key)
    assert result.ok
    (path,) = outbox.glob("*.eml")
    assert ("file", path.name) in result.evidence
    mail = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == ADDRESS
    assert mail["Message-ID"] == message_id(action.idempotency_key, "bank.example")
    assert mail["Date"] == "Sat, 01 Mar 2025 02:00:00 +0000"
    body = mail.get_body(("plain",))
    assert body is not None
    assert "¥1,234.56" in body.get_content()
    assert list(outbox.glob(".tmp-*")) == []


def test_a_key_written_by_an_earlier_process_is_not_written_again(tmp_path: Path) -> None:
    settings = {"from": SENDER, "dir": str(tmp_path)}
    action = email_action()
    first = from_settings(settings).send(action, email_message(), action.idempotency_key)
    (path,) = tmp_path.glob("*.eml")
    before = path.stat().st_mtime_ns
    again = from_settings(settings).send(
        action, email_message(text="changed"), action.idempotency_key
    )
    assert again.ok
    assert again.provider_id == first.provider_id
    assert path.stat().st_mtime_ns == before
    assert "changed" not in path.read_text()


def test_an_unwritable_outbox_is_a_retryable_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    channel = from_settings({"from": SENDER, "dir": str(blocker)})
    action = email_action()
    result = channel.send(action, email_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "outbox directory" in result.detail
    blocker.unlink()
    assert channel.send(action, email_message(), action.idempotency_key).ok
