"""SMTP delivery against real aiosmtpd servers on 127.0.0.1."""

from __future__ import annotations

import email
import logging
import socket
from email.message import EmailMessage
from email.policy import default

import pytest
from email_helpers import ADDRESS, SENDER, email_action, email_message
from email_servers import PASSWORD, USER, Server, free_port
from loancollect_email import EmailChannel, classify_reply, from_settings, message_id

from loancollect.ports import DeliveryStatus


def plain(server: Server, **extra: str) -> EmailChannel:
    return from_settings(
        {
            "from": SENDER,
            "host": "127.0.0.1",
            "port": str(server.port),
            "security": "none",
            "timeout": "5",
            **extra,
        }
    )


def received(server: Server, index: int = 0) -> EmailMessage:
    raw = server.handler.messages[index][2]
    parsed = email.message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_server_receives_a_multipart_text_and_html_message(smtp_server: Server) -> None:
    action = email_action()
    with plain(smtp_server) as channel:
        result = channel.send(action, email_message(), action.idempotency_key)
    assert result.ok
    mail_from, rcpt_tos, _, _ = smtp_server.handler.messages[0]
    assert mail_from == "collections@bank.example"
    assert rcpt_tos == [ADDRESS]
    mail = received(smtp_server)
    assert mail["Subject"] == "贷款L-1逾期提醒"
    assert mail["To"] == ADDRESS
    assert mail["From"] == SENDER
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "应还金额¥1,234.56" in text.get_content()
    assert "<b>¥1,234.56</b>" in html.get_content()
    assert mail["Message-ID"] == message_id(action.idempotency_key, "bank.example")
    assert result.provider_id == mail["Message-ID"]
    assert ("transport", "smtp") in result.evidence


def test_a_text_only_message_is_not_multipart(smtp_server: Server) -> None:
    action = email_action()
    with plain(smtp_server) as channel:
        channel.send(action, email_message(html=None), action.idempotency_key)
    mail = received(smtp_server)
    assert mail.get_content_type() == "text/plain"


def test_the_message_id_is_stable_for_a_key_across_channel_instances(
    smtp_server: Server,
) -> None:
    action = email_action()
    for _ in range(2):
        with plain(smtp_server) as channel:
            channel.send(action, email_message(), action.idempotency_key)
    first, second = received(smtp_server, 0), received(smtp_server, 1)
    assert first["Message-ID"] == second["Message-ID"]
    other = email_action(rule_id="other")
    with plain(smtp_server) as channel:
        channel.send(other, email_message(), other.idempotency_key)
    assert received(smtp_server, 2)["Message-ID"] != first["Message-ID"]


def test_one_connection_is_reused_across_a_batch(smtp_server: Server) -> None:
    with plain(smtp_server) as channel:
        for n in range(6):
            action = email_action(rule_id=f"r{n}")
            assert channel.send(action, email_message(), action.idempotency_key).ok
        assert isinstance(channel.transport.connections_opened, int)
        assert channel.transport.connections_opened == 1
    assert len(smtp_server.handler.messages) == 6
    assert len(smtp_server.handler.sessions) == 1


def test_a_connection_is_renewed_after_max_messages(smtp_server: Server) -> None:
    with plain(smtp_server, max_messages_per_connection="2") as channel:
        for n in range(5):
            action = email_action(rule_id=f"r{n}")
            assert channel.send(action, email_message(), action.idempotency_key).ok
    assert len(smtp_server.handler.sessions) == 3


def test_starttls_with_login(starttls_server: Server, ca_file: str) -> None:
    channel = from_settings(
        {
            "from": SENDER,
            "host": "127.0.0.1",
            "port": str(starttls_server.port),
            "security": "starttls",
            "username": USER,
            "password": PASSWORD,
            "ca_file": ca_file,
            "timeout": "5",
        }
    )
    action = email_action()
    with channel:
        assert channel.send(action, email_message(), action.idempotency_key).ok
    _, _, _, encrypted = starttls_server.handler.messages[0]
    assert encrypted


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login(tls_server: Server, ca_file: str) -> None:
    channel = from_settings(
        {
            "from": SENDER,
            "host": "127.0.0.1",
            "port": str(tls_server.port),
            "security": "tls",
            "username": USER,
            "password": PASSWORD,
            "ca_file": ca_file,
            "timeout": "5",
        }
    )
    action = email_action()
    with channel:
        assert channel.send(action, email_message(), action.idempotency_key).ok
    assert tls_server.handler.messages[0][3]


def test_a_wrong_password_is_retryable_and_names_the_settings(
    starttls_server: Server, ca_file: str
) -> None:
    channel = from_settings(
        {
            "from": SENDER,
            "host": "127.0.0.1",
            "port": str(starttls_server.port),
            "username": USER,
            "password": "wrong",
            "ca_file": ca_file,
            "timeout": "5",
        }
    )
    action = email_action()
    with channel:
        result = channel.send(action, email_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "535" in result.detail
    assert "login settings" in result.detail
    assert starttls_server.handler.messages == []


def test_an_untrusted_certificate_is_a_retryable_failure(starttls_server: Server) -> None:
    channel = from_settings(
        {
            "from": SENDER,
            "host": "127.0.0.1",
            "port": str(starttls_server.port),
            "username": USER,
            "password": PASSWORD,
            "timeout": "5",
        }
    )
    action = email_action()
    with channel:
        result = channel.send(action, email_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "cannot connect" in result.detail
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail or "certificate" in result.detail


@pytest.mark.parametrize(
    ("phase", "reply", "status"),
    [
        ("mail", "451 4.7.1 Greylisted, try again later", DeliveryStatus.FAILED_RETRYABLE),
        ("rcpt", "452 4.2.2 Mailbox full", DeliveryStatus.FAILED_RETRYABLE),
        ("data", "421 4.3.2 Service shutting down", DeliveryStatus.FAILED_RETRYABLE),
        ("rcpt", "550 5.1.1 User unknown", DeliveryStatus.FAILED_PERMANENT),
        (
            "rcpt",
            "553 5.1.3 Bad destination mailbox address syntax",
            DeliveryStatus.FAILED_PERMANENT,
        ),
        ("mail", "550 5.7.1 Sender blocked by policy", DeliveryStatus.REJECTED),
        ("data", "554 5.7.1 Message rejected as spam", DeliveryStatus.REJECTED),
        ("data", "552 5.2.2 Mailbox full", DeliveryStatus.FAILED_RETRYABLE),
        ("data", "554 Transaction failed", DeliveryStatus.FAILED_PERMANENT),
    ],
)
def test_a_refusing_server_is_classified_by_reply_code(
    smtp_server: Server, phase: str, reply: str, status: DeliveryStatus
) -> None:
    smtp_server.handler.refuse(phase, reply)
    action = email_action()
    with plain(smtp_server) as channel:
        result = channel.send(action, email_message(), action.idempotency_key)
        assert result.status is status
        assert reply.split()[0] in result.detail
        # the connection is still usable after a refusal
        other = email_action(rule_id="next")
        assert channel.send(other, email_message(), other.idempotency_key).ok
        # 421 means the server closes the session: the next send opens a new one
        expected = 2 if reply.startswith("421") else 1
        assert channel.transport.connections_opened == expected


def test_a_connection_dropped_during_data_is_retryable_then_sent_once(
    smtp_server: Server,
) -> None:
    smtp_server.handler.refuse("data", "drop")
    action = email_action()
    with plain(smtp_server) as channel:
        first = channel.send(action, email_message(), action.idempotency_key)
        assert first.status is DeliveryStatus.FAILED_RETRYABLE
        assert "dropped" in first.detail
        second = channel.send(action, email_message(), action.idempotency_key)
        assert second.ok
        assert channel.send(action, email_message(), action.idempotency_key) == second
    assert len(smtp_server.handler.messages) == 1


def test_a_server_that_hangs_up_at_once_is_retryable(slamming_server: int) -> None:
    channel = from_settings(
        {
            "from": SENDER,
            "host": "127.0.0.1",
            "port": str(slamming_server),
            "security": "none",
            "timeout": "5",
        }
    )
    action = email_action()
    result = channel.send(action, email_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "cannot connect" in result.detail


def test_no_server_listening_is_retryable() -> None:
    channel = from_settings(
        {"from": SENDER, "host": "127.0.0.1", "port": str(free_port()), "security": "none"}
    )
    action = email_action()
    result = channel.send(action, email_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE


def test_an_idle_connection_closed_by_the_server_is_replaced(smtp_server: Server) -> None:
    with plain(smtp_server) as channel:
        a = email_action(rule_id="a")
        assert channel.send(a, email_message(), a.idempotency_key).ok
        for conn in channel.transport._idle:  # as if the server timed the session out
            conn.smtp.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        b = email_action(rule_id="b")
        assert channel.send(b, email_message(), b.idempotency_key).ok
        assert channel.transport.connections_opened == 2


def test_an_action_without_an_email_address_fails_permanently(smtp_server: Server) -> None:
    from loancollect.testing import make_action

    action = make_action(channel="email")  # carries a phone number
    with plain(smtp_server) as channel:
        result = channel.send(action, email_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert smtp_server.handler.messages == []


def test_addresses_are_masked_in_details_logs_and_reprs(
    smtp_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.handler.refuse("rcpt", f"550 5.1.1 <{ADDRESS}>: Recipient address rejected")
    action = email_action()
    with caplog.at_level(logging.DEBUG), plain(smtp_server) as channel:
        result = channel.send(action, email_message(), action.idempotency_key)
        text = repr(channel) + repr(channel.transport)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert ADDRESS not in result.detail
    assert "z***@example.com" in result.detail
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("loancollect")]
    assert ours
    assert not any(ADDRESS in line for line in ours)
    assert ADDRESS not in text
    assert "s3cret" not in repr(channel.transport.config)


def test_classify_reply_without_enhanced_codes() -> None:
    assert classify_reply(450, "busy").status is DeliveryStatus.FAILED_RETRYABLE
    assert classify_reply(550, "no").status is DeliveryStatus.FAILED_PERMANENT
    assert classify_reply(535, "bad login").status is DeliveryStatus.FAILED_RETRYABLE
    assert classify_reply(999, "??").status is DeliveryStatus.FAILED_RETRYABLE
