"""The ``email`` channel: SMTP delivery or a file outbox, chosen by settings."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from email.utils import parseaddr

from loancollect.domain.loans import ContactKind
from loancollect.domain.privacy import mask_email
from loancollect.domain.strategy import PlannedAction
from loancollect.errors import ConfigurationError
from loancollect.ports import (
    CAP_HTML,
    CAP_IDEMPOTENT,
    CAP_SUBJECT,
    DeliveryResult,
    FinalResults,
    RenderedMessage,
)
from loancollect_email.message import build_email, key_digest, message_id
from loancollect_email.outbox import FileOutbox
from loancollect_email.smtp import SECURITY_MODES, SmtpConfig, SmtpTransport

__all__ = ["CAPABILITIES", "SETTINGS", "EmailChannel", "from_settings"]

_LOG = logging.getLogger("loancollect_email")

CAPABILITIES = frozenset({CAP_HTML, CAP_SUBJECT})
"""What every e-mail channel can do. De-duplication by key (``CAP_IDEMPOTENT``) is
added only for the file outbox, which remembers keys across processes (the file
exists): an SMTP server has no such memory, so after a restart the engine must not
count on it (it records each SMTP send before the next one instead)."""
"""What the e-mail channel can do."""

SETTINGS: dict[str, str] = {
    "mode": "'smtp' or 'file'; default: 'smtp' when 'host' is set, else 'file' when 'dir' is set",
    "from": "required: the From header, e.g. 'Sample Bank <collections@bank.example>'",
    "reply_to": "optional Reply-To header",
    "envelope_from": "optional bounce address (SMTP MAIL FROM); default: the From address",
    "message_id_domain": "right-hand side of Message-IDs; default: the From address's domain",
    "default_subject": "subject when a template has none; default 'About your loan'",
    "host": "smtp: the server's host name",
    "port": "smtp: default 587 (starttls), 465 (tls), 25 (none)",
    "security": "smtp: 'starttls' (default), 'tls' (implicit) or 'none'",
    "username": "smtp: login name (with 'password'); no login when absent",
    "password": "smtp: login password",
    "timeout": "smtp: seconds for connect and each command; default 30",
    "ca_file": "smtp: PEM file of CA certificates to trust instead of the system's",
    "verify": "smtp: 'false' turns certificate checks off (never in production); default 'true'",
    "local_hostname": "smtp: the name sent in EHLO; default: this host's FQDN",
    "max_connections": "smtp: connections open at once; default 1",
    "max_messages_per_connection": "smtp: reconnect after this many messages; default 100",
    "dir": "file: the directory the .eml files are written to",
}
"""Every settings key the factory accepts, with its meaning."""

_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class EmailChannel:
    """The :class:`~loancollect.ports.Channel` for e-mail.

    Sends each rendered message to the action's e-mail contact point as a multipart
    text + HTML message whose Message-ID is derived from the idempotency key. A key
    that was sent, failed permanently or was rejected returns its first result in
    this process; the file outbox also remembers keys across processes (the file
    exists), so only it declares ``CAP_IDEMPOTENT``.

    :param transport: an :class:`~loancollect_email.smtp.SmtpTransport` or a
        :class:`~loancollect_email.outbox.FileOutbox`.
    :param sender: the From header.
    :param now: the clock for the Date header (time-zone aware).
    """

    def __init__(
        self,
        transport: SmtpTransport | FileOutbox,
        *,
        sender: str,
        name: str = "email",
        reply_to: str | None = None,
        envelope_from: str | None = None,
        message_id_domain: str | None = None,
        default_subject: str = "About your loan",
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        address = parseaddr(sender)[1]
        if "@" not in address:
            raise ConfigurationError(f"email setting 'from': {sender!r} has no e-mail address")
        self._name = name
        self.transport = transport
        self.sender = sender
        self.reply_to = reply_to
        self.envelope_from = envelope_from or address
        self.domain = message_id_domain or address.rpartition("@")[2]
        self.default_subject = default_subject
        self._now = now or _utc_now
        self._results = FinalResults()

    @property
    def name(self) -> str:
        """The channel name (``"email"``)."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """HTML and subject capable; idempotent across restarts with the file outbox."""
        if isinstance(self.transport, FileOutbox):
            return CAPABILITIES | {CAP_IDEMPOTENT}
        return CAPABILITIES

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Deliver ``message`` to ``action.contact`` (an e-mail contact point)."""
        previous = self._results.get(idempotency_key)
        if previous is not None:
            return previous
        contact = action.contact
        if contact is None or contact.kind is not ContactKind.EMAIL:
            result = DeliveryResult.failed_permanent("the action has no e-mail address")
            return self._remember(idempotency_key, result)
        digest = key_digest(idempotency_key)
        if isinstance(self.transport, FileOutbox):
            earlier = self.transport.existing(digest, message_id(idempotency_key, self.domain))
            if earlier is not None:
                return self._remember(idempotency_key, earlier)
        mail = build_email(
            action,
            message,
            idempotency_key,
            sender=self.sender,
            recipient=contact.value,
            domain=self.domain,
            now=self._now(),
            reply_to=self.reply_to,
            default_subject=self.default_subject,
        )
        if isinstance(self.transport, FileOutbox):
            result = self.transport.deliver(mail, digest=digest)
        else:
            result = self.transport.deliver(
                mail, envelope_from=self.envelope_from, recipient=contact.value
            )
        _LOG.info(
            "email %s to %s: %s %s",
            digest[:12],
            mask_email(contact.value),
            result.status.value,
            result.detail,
        )
        return self._remember(idempotency_key, result)

    def _remember(self, key: str, result: DeliveryResult) -> DeliveryResult:
        return self._results.remember(key, result)

    def close(self) -> None:
        """Close the transport's connections."""
        self.transport.close()

    def __enter__(self) -> EmailChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EmailChannel(name={self._name!r}, transport={self.transport!r})"


def _int(settings: Mapping[str, str], key: str, default: int, minimum: int = 1) -> int:
    raw = settings.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"email setting {key!r}: {raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigurationError(f"email setting {key!r}: {value} must be >= {minimum}")
    return value


def _bool(settings: Mapping[str, str], key: str, default: bool) -> bool:
    raw = settings.get(key)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise ConfigurationError(f"email setting {key!r}: {raw!r} is not 'true' or 'false'")


def from_settings(
    settings: Mapping[str, str],
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> EmailChannel:
    """Build the channel from its string settings (every key: :data:`SETTINGS`).

    :raises ConfigurationError: naming the key, for an unknown key, a missing required
        one or a value of the wrong form.
    """
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ConfigurationError(
            f"email setting {unknown[0]!r} is not known; known settings: {', '.join(SETTINGS)}"
        )
    sender = settings.get("from")
    if not sender:
        raise ConfigurationError("email setting 'from' is required (the From address)")
    mode = settings.get("mode") or ("smtp" if "host" in settings else "file")
    transport: SmtpTransport | FileOutbox
    if mode == "file":
        directory = settings.get("dir")
        if not directory:
            raise ConfigurationError(
                "email setting 'dir' is required for the file outbox "
                "(or set 'host' to send through an SMTP server)"
            )
        transport = FileOutbox(directory)
    elif mode == "smtp":
        host = settings.get("host")
        if not host:
            raise ConfigurationError("email setting 'host' is required in mode 'smtp'")
        security = settings.get("security", "starttls")
        if security not in SECURITY_MODES:
            raise ConfigurationError(
                f"email setting 'security': {security!r} is not one of {', '.join(SECURITY_MODES)}"
            )
        if ("username" in settings) != ("password" in settings):
            raise ConfigurationError(
                "email setting 'password' and 'username' go together: set both or neither"
            )
        timeout_raw = settings.get("timeout", "30")
        try:
            timeout = float(timeout_raw)
        except ValueError:
            raise ConfigurationError(
                f"email setting 'timeout': {timeout_raw!r} is not a number of seconds"
            ) from None
        if timeout <= 0:
            raise ConfigurationError(f"email setting 'timeout': {timeout} must be > 0")
        transport = SmtpTransport(
            SmtpConfig(
                host=host,
                port=_int(settings, "port", _DEFAULT_PORTS[security]),
                security=security,
                username=settings.get("username"),
                password=settings.get("password"),
                timeout=timeout,
                ca_file=settings.get("ca_file"),
                verify=_bool(settings, "verify", True),
                local_hostname=settings.get("local_hostname"),
                max_connections=_int(settings, "max_connections", 1),
                max_messages_per_connection=_int(settings, "max_messages_per_connection", 100),
            )
        )
    else:
        raise ConfigurationError(f"email setting 'mode': {mode!r} is not 'smtp' or 'file'")
    return EmailChannel(
        transport,
        sender=sender,
        reply_to=settings.get("reply_to"),
        envelope_from=settings.get("envelope_from"),
        message_id_domain=settings.get("message_id_domain"),
        default_subject=settings.get("default_subject", "About your loan"),
        now=now or _utc_now,
    )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
