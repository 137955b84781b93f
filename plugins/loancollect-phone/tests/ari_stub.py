"""An Asterisk REST Interface on 127.0.0.1 (the documented subset).

``POST /ari/channels`` (originate: query ``endpoint``, ``app``, ``appArgs``,
``channelId``, ``timeout``; HTTP basic auth) answers the Channel, ``409`` for a
channel id that exists, or a programmed failure; ``POST /ari/channels/{id}/play``
(query ``media``) records what was played; the WebSocket ``/ari/events?app=&api_key=``
sends the events the test queues (``ChannelStateChange``, ``ChannelVarset``,
``ChannelDestroyed`` with its Q.850 ``cause``) and closes after the last.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import queue
import threading
import time
from typing import Any

from servers import Served
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

USER, PASSWORD, APP = "loancollect", "ari-secret", "collections"


class AriStub:
    """The stand-in ARI and its record of requests."""

    def __init__(self) -> None:
        self.originated: list[dict[str, str]] = []
        self.played: list[tuple[str, str]] = []
        self.requests = 0
        self.channels: set[str] = set()
        self.fail: list[tuple[int, float]] = []  # (status, delay) for the next originates
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/ari/channels", self._originate, methods=["POST"]),
                Route("/ari/channels/{id}/play", self._play, methods=["POST"]),
                WebSocketRoute("/ari/events", self._events_socket),
            ]
        )
        self.served = Served(app)
        self.url = f"{self.served.url}/ari"

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return request.headers.get("authorization") == expected

    async def _originate(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
            failure = self.fail.pop(0) if self.fail else None
        if failure is not None and failure[1]:
            time.sleep(failure[1])  # a slow PBX (blocks this stand-in's loop on purpose)
        if not self._authorised(request):
            return JSONResponse({"message": "Authentication required"}, status_code=401)
        query = dict(request.query_params)
        if not query.get("endpoint") or not query.get("app"):
            return JSONResponse({"message": "Endpoint must be specified"}, status_code=400)
        body = await request.json()
        if failure is not None and failure[0] >= 300:
            return JSONResponse({"message": "programmed failure"}, status_code=failure[0])
        ident = query.get("channelId", f"auto-{self.requests}")
        with self._lock:
            if ident in self.channels:
                return JSONResponse(
                    {"message": "Channel with given unique ID already exists"}, status_code=409
                )
            self.channels.add(ident)
            self.originated.append({**query, "variables": str(body.get("variables", {}))})
        return JSONResponse(
            {"id": ident, "name": f"PJSIP/trunk-{len(self.channels):08x}", "state": "Down"}
        )

    async def _play(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"message": "Authentication required"}, status_code=401)
        ident = request.path_params["id"]
        if ident not in self.channels:
            return JSONResponse({"message": "Channel not found"}, status_code=404)
        self.played.append((ident, request.query_params.get("media", "")))
        return JSONResponse({"id": f"playback-{ident}", "media_uri": ""}, status_code=201)

    async def _events_socket(self, socket: WebSocket) -> None:
        if (
            socket.query_params.get("app") != APP
            or socket.query_params.get("api_key") != f"{USER}:{PASSWORD}"
        ):
            await socket.close(code=4001)
            return
        await socket.accept()
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.01)
                continue
            if event is None:
                await socket.close()
                return
            await socket.send_json(event)

    def emit(self, kind: str, channel: str, **fields: Any) -> None:
        """Queue an event about ``channel`` for the events socket."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        self._events.put(
            {
                "type": kind,
                "application": APP,
                "timestamp": stamp,
                "channel": {"id": channel, "state": fields.pop("state", "Up")},
                **fields,
            }
        )

    def end_events(self) -> None:
        """Close the events socket after the queued events."""
        self._events.put(None)

    def stop(self) -> None:
        """Stop the server."""
        self.served.stop()
