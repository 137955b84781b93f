"""Fixtures of the e-mail tests: real SMTP servers on 127.0.0.1 (aiosmtpd), with a
self-signed certificate made by trustme for STARTTLS and implicit TLS."""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).parent))  # the email_* helper modules

from email_servers import Recorder, Server, authenticator, free_port


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """A plain SMTP server (no TLS, no login)."""
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5)
    controller.start()
    try:
        yield Server(controller, handler)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[Server]:
    """A submission server: STARTTLS required, then login required."""
    handler = Recorder()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        ready_timeout=5,
        tls_context=_server_context(ca),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield Server(controller, handler)
    finally:
        controller.stop()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[Server]:
    """A server speaking TLS from the first byte (port 465 style), login required."""
    handler = Recorder()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        ready_timeout=5,
        ssl_context=_server_context(ca),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,  # the whole session is TLS; aiosmtpd only knows STARTTLS
    )
    controller.start()
    try:
        yield Server(controller, handler)
    finally:
        controller.stop()


@pytest.fixture
def slamming_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts and at once closes each connection
    (at most 20, for at most 10 seconds); yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(10)
    port = int(listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        for _ in range(20):
            if stop.is_set():
                return
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)
