"""Registration and settings of the e-mail channel."""

from __future__ import annotations

import pytest
from email_helpers import SENDER
from loancollect_email import SETTINGS, FileOutbox, SmtpTransport, from_settings

from loancollect.domain.loans import ContactKind
from loancollect.errors import ConfigurationError
from loancollect.plugins import make_plugin_manager
from loancollect.ports import CAP_HTML, CAP_IDEMPOTENT, CAP_SUBJECT
from loancollect.registry import channel_specs


def test_the_entry_point_registers_the_email_channel() -> None:
    pm = make_plugin_manager(load_entrypoints=["email"])
    spec = channel_specs(pm)["email"]
    assert spec.contact_kind is ContactKind.EMAIL
    assert spec.capabilities == {CAP_HTML, CAP_SUBJECT}  # SMTP cannot de-duplicate
    assert CAP_IDEMPOTENT not in spec.capabilities


def test_the_mode_follows_the_settings() -> None:
    assert isinstance(from_settings({"from": SENDER, "dir": "x"}).transport, FileOutbox)
    smtp = from_settings({"from": SENDER, "host": "mail.example"}).transport
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.config.port, smtp.config.security) == (587, "starttls")
    tls = from_settings({"from": SENDER, "host": "mail.example", "security": "tls"}).transport
    assert isinstance(tls, SmtpTransport)
    assert tls.config.port == 465


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"dir": "x"}, "'from'"),
        ({"from": "no address", "dir": "x"}, "'from'"),
        ({"from": SENDER}, "'dir'"),
        ({"from": SENDER, "mode": "smtp"}, "'host'"),
        ({"from": SENDER, "mode": "pigeon"}, "'mode'"),
        ({"from": SENDER, "dir": "x", "hots": "mail"}, "'hots'"),
        ({"from": SENDER, "host": "m", "security": "ssl"}, "'security'"),
        ({"from": SENDER, "host": "m", "port": "smtp"}, "'port'"),
        ({"from": SENDER, "host": "m", "port": "0"}, "'port'"),
        ({"from": SENDER, "host": "m", "timeout": "soon"}, "'timeout'"),
        ({"from": SENDER, "host": "m", "timeout": "-1"}, "'timeout'"),
        ({"from": SENDER, "host": "m", "verify": "maybe"}, "'verify'"),
        ({"from": SENDER, "host": "m", "username": "u"}, "'password'"),
        ({"from": SENDER, "host": "m", "max_connections": "0"}, "'max_connections'"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        from_settings(settings)


def test_every_setting_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for key in SETTINGS:
        assert f"`{key}`" in readme, key
