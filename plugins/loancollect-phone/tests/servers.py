"""Real servers on 127.0.0.1 for the phone tests: an ASGI app served by uvicorn in a
thread (HTTP and, for ARI, WebSocket through the ``websockets`` library)."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class Served:
    """Serve ``app`` on 127.0.0.1 (a free port) until :meth:`stop`."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        sockets = self.server.servers[0].sockets
        self.port: int = sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
