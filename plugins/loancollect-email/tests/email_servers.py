"""Real SMTP servers on 127.0.0.1 for the e-mail tests (aiosmtpd)."""

from __future__ import annotations

import socket
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "collections", "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    """An aiosmtpd handler that keeps what it receives and can be told to refuse.

    ``refuse(phase, reply)`` makes the next command of ``phase`` (``"mail"``,
    ``"rcpt"`` or ``"data"``) answer ``reply``; the reply ``"drop"`` closes the
    connection instead of answering.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes, bool]] = []
        self.sessions: set[int] = set()
        self._plan: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def refuse(self, phase: str, reply: str, times: int = 1) -> None:
        with self._lock:
            self._plan.extend([(phase, reply)] * times)

    def _take(self, phase: str) -> str | None:
        with self._lock:
            for i, (p, reply) in enumerate(self._plan):
                if p == phase:
                    del self._plan[i]
                    return reply
        return None

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self._take("mail")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self._take("rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = self._take("data")
        if reply == "drop":
            server.transport.abort()
            return "421 closing"
        if reply is not None:
            return reply
        with self._lock:
            self.sessions.add(id(session))
            self.messages.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.content,
                    server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return "250 Message accepted for delivery"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


class Server:
    """A running aiosmtpd server and its handler."""

    def __init__(self, controller: Controller, handler: Recorder) -> None:
        self.controller = controller
        self.handler = handler
        self.port = int(controller.port)
