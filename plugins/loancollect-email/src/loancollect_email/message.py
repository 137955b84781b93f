"""Building the e-mail: multipart text + HTML, a stable Message-ID, masked diagnostics."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from loancollect.domain.privacy import mask_email
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import RenderedMessage

__all__ = ["build_email", "key_digest", "mask_addresses", "message_id"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def key_digest(idempotency_key: str) -> str:
    """A short, stable, file-name-safe digest of an idempotency key (32 hex digits)."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id(idempotency_key: str, domain: str) -> str:
    """The Message-ID for the send with ``idempotency_key``: the same key always gives
    the same id, so a receiving system can drop a duplicate after a crash and re-run."""
    return f"<{key_digest(idempotency_key)}.loancollect@{domain}>"


def mask_addresses(text: str) -> str:
    """``text`` with every e-mail address masked (for details, logs and errors)."""
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), text)


def build_email(
    action: PlannedAction,
    message: RenderedMessage,
    idempotency_key: str,
    *,
    sender: str,
    recipient: str,
    domain: str,
    now: dt.datetime,
    reply_to: str | None = None,
    default_subject: str = "",
) -> EmailMessage:
    """The MIME message for ``message``: ``text/plain``, plus ``text/html`` as an
    alternative when the message has an HTML part.

    :param sender: the From header (``"Bank <collections@bank.example>"``).
    :param domain: the right-hand side of the Message-ID.
    :param now: the Date header.
    """
    mail = EmailMessage(policy=SMTP)
    mail["From"] = sender
    name, addr = parseaddr(recipient)
    mail["To"] = Address(display_name=name, addr_spec=addr) if name else addr
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Subject"] = message.subject or default_subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(idempotency_key, domain)
    mail["Content-Language"] = message.locale.replace("_", "-")
    mail.set_content(message.text, charset="utf-8")
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
        # A boundary derived from the key: the same message gives the same bytes.
        mail.set_boundary(f"=_loancollect_{key_digest(idempotency_key)[:32]}")
    return mail
