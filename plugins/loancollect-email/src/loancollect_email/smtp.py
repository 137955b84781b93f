"""SMTP delivery with the standard library: plain, STARTTLS or implicit TLS, login,
a small pool of connections reused across a batch, failures classified by reply code."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from email.message import EmailMessage

import attrs

from loancollect.ports import DeliveryResult, DeliveryStatus
from loancollect_email.message import mask_addresses

__all__ = ["SECURITY_MODES", "SmtpConfig", "SmtpTransport", "classify_reply"]

_LOG = logging.getLogger("loancollect_email")

SECURITY_MODES = ("starttls", "tls", "none")
"""``starttls``: upgrade a plain connection (port 587); ``tls``: TLS from the first byte
(port 465); ``none``: no encryption (a relay on the same host, tests)."""

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
_AUTH_CODES = frozenset({530, 534, 535, 538})


def classify_reply(code: int, text: str) -> DeliveryResult:
    """Classify a refusal by SMTP reply ``code`` and its enhanced status code.

    - ``4xx``: temporary (greylisting, mailbox busy, rate limit): retryable;
    - ``x.7.x`` (security or policy: spam, blocked sender, not authorised): rejected;
    - ``5.2.2`` (mailbox full): retryable;
    - authentication codes (530, 534, 535, 538): retryable: a configuration problem of
      the sender that must not mark the borrower's address bad;
    - other ``5xx`` (no such user, bad address, transaction failed): permanent.

    The server's text is kept in the detail with e-mail addresses masked.
    """
    detail = f"SMTP {code} {mask_addresses(text)}".strip()
    enhanced = _ENHANCED.match(text)
    if code in _AUTH_CODES:
        return DeliveryResult.failed_retryable(f"{detail} (check the SMTP login settings)")
    if 400 <= code < 500:
        return DeliveryResult.failed_retryable(detail)
    if enhanced is not None and enhanced.group(2) == "7":
        return DeliveryResult.rejected(detail)
    if enhanced is not None and enhanced.group(2, 3) == ("2", "2"):
        return DeliveryResult.failed_retryable(detail)
    if 500 <= code < 600:
        return DeliveryResult.failed_permanent(detail)
    return DeliveryResult.failed_retryable(f"unexpected reply: {detail}")


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


@attrs.frozen(kw_only=True)
class SmtpConfig:
    """How to reach the SMTP server (see the README for the settings keys).

    :param max_connections: connections kept open at once (sends beyond wait).
    :param max_messages_per_connection: a connection is closed and reopened after this
        many messages (servers limit messages per session).
    """

    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: float = 30.0
    ca_file: str | None = None
    verify: bool = True
    local_hostname: str | None = None
    max_connections: int = 1
    max_messages_per_connection: int = 100

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context: system trust (or ``ca_file``), host names checked unless
        ``verify`` is off."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


class _Connection:
    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self.sent = 0


class SmtpTransport:
    """Delivers messages over SMTP, reusing connections across sends.

    Thread-safe: at most ``config.max_connections`` sends run at once, each on its
    own connection; an idle connection is checked with ``NOOP`` before reuse and
    replaced when the server has gone away.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, config.max_connections))
        self.connections_opened = 0

    # -- connections ----------------------------------------------------------------
    def _open(self) -> _Connection:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.security == "tls":
            smtp = smtplib.SMTP_SSL(
                cfg.host,
                cfg.port,
                local_hostname=cfg.local_hostname,
                timeout=cfg.timeout,
                context=cfg.ssl_context(),
            )
        else:
            smtp = smtplib.SMTP(
                cfg.host, cfg.port, local_hostname=cfg.local_hostname, timeout=cfg.timeout
            )
        try:
            smtp.ehlo()
            if cfg.security == "starttls":
                smtp.starttls(context=cfg.ssl_context())
                smtp.ehlo()
            if cfg.username is not None:
                smtp.login(cfg.username, cfg.password or "")
        except BaseException:
            _quietly_close(smtp)
            raise
        with self._lock:
            self.connections_opened += 1
        return _Connection(smtp)

    def _take(self) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._open()
            try:
                code, _ = conn.smtp.noop()
            except (smtplib.SMTPException, OSError):
                code = 0
            if code == 250:
                return conn
            _quietly_close(conn.smtp)

    def _give_back(self, conn: _Connection) -> None:
        if conn.sent >= self.config.max_messages_per_connection:
            _quit(conn.smtp)
            return
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        """Close every idle connection (``QUIT``)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _quit(conn.smtp)

    # -- delivery -------------------------------------------------------------------
    def deliver(self, mail: EmailMessage, *, envelope_from: str, recipient: str) -> DeliveryResult:
        """Send ``mail`` to ``recipient``; return the classified outcome (never raises for
        SMTP refusals, dropped connections, timeouts or TLS failures)."""
        with self._slots:
            try:
                conn = self._take()
            except smtplib.SMTPResponseException as exc:
                return classify_reply(exc.smtp_code, _text(exc.smtp_error))
            except (smtplib.SMTPException, OSError) as exc:
                return DeliveryResult.failed_retryable(f"cannot connect: {_describe(exc)}")
            try:
                conn.smtp.send_message(mail, from_addr=envelope_from, to_addrs=[recipient])
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                self._give_back(conn)
                return classify_reply(code, _text(text))
            except smtplib.SMTPServerDisconnected as exc:
                _quietly_close(conn.smtp)
                return DeliveryResult.failed_retryable(
                    f"connection dropped: {_describe(exc)}",
                )
            except smtplib.SMTPResponseException as exc:
                self._give_back(conn)
                return classify_reply(exc.smtp_code, _text(exc.smtp_error))
            except (smtplib.SMTPException, OSError) as exc:
                _quietly_close(conn.smtp)
                return DeliveryResult.failed_retryable(f"SMTP error: {_describe(exc)}")
            conn.sent += 1
            self._give_back(conn)
        return DeliveryResult(
            status=DeliveryStatus.SENT,
            provider_id=str(mail["Message-ID"]),
            evidence=(("message_id", str(mail["Message-ID"])), ("transport", "smtp")),
        )

    def __repr__(self) -> str:
        cfg = self.config
        return f"SmtpTransport({cfg.host}:{cfg.port}, security={cfg.security!r})"


def _describe(exc: BaseException) -> str:
    return mask_addresses(f"{type(exc).__name__}: {exc}")


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        _quietly_close(smtp)


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:  # pragma: no cover - closing a broken socket
        _LOG.debug("closing an SMTP connection failed", exc_info=True)
