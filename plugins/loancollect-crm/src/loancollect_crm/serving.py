"""Serve an ASGI app under uvicorn on 127.0.0.1 in a thread (the demo, the tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import uvicorn
from starlette.applications import Starlette

from loancollect_crm.records import CrmError

__all__ = ["Served", "serve"]


@attrs.frozen(kw_only=True)
class Served:
    """Where the app answers."""

    url: str


@contextmanager
def serve(app: Starlette, *, start_timeout: float = 10.0) -> Iterator[Served]:
    """``app`` under uvicorn on a free loopback port for the block."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise CrmError("the webhook endpoint did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(start_timeout)
