"""A small SMS gateway on 127.0.0.1 (http.server) that records requests and answers
what it is told: 200 with an id, 429, 5xx, 4xx, or slowly."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    content_type: str


@attrs.frozen
class Answer:
    status: int
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


class Gateway:
    """Answers each POST from a queue of :class:`Answer` (default: 200 with an id)."""

    def __init__(self, *, deduplicate: bool = False) -> None:
        self.deduplicate = deduplicate  # answer a repeated Idempotency-Key with its first answer
        self.first_answers: dict[str, Answer] = {}
        self.requests: list[Request] = []
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self._ids = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode("utf-8")
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/json"):
                    body = json.loads(raw)
                else:
                    body = dict(urllib.parse.parse_qsl(raw))
                key = self.headers.get("Idempotency-Key")
                repeated = gateway.deduplicate and key in gateway.first_answers
                answer = gateway.first_answers[key] if repeated and key else gateway._next()
                if gateway.deduplicate and key and not repeated and answer.status < 300:
                    gateway.first_answers[key] = answer
                if answer.delay and not repeated:
                    time.sleep(answer.delay)
                with gateway.lock:
                    if repeated:
                        pass  # not delivered again
                    elif answer.status < 300:
                        gateway.requests.append(
                            Request(self.command, self.path, dict(self.headers), body, ctype)
                        )
                    else:
                        gateway.refused.append(body)
                payload = answer.body.encode("utf-8")
                try:
                    self.send_response(answer.status)
                    for k, v in answer.headers:
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.refused: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/v1/sms"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def _next(self) -> Answer:
        with self.lock:
            if self.answers:
                return self.answers.pop(0)
            self._ids += 1
            return Answer(200, json.dumps({"data": {"msg_id": f"m-{self._ids}"}, "id": "x"}))

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.answers.extend(answers)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
