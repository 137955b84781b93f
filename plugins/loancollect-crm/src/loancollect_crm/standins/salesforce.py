"""A Salesforce-style REST stand-in: upsert by external id and sObject Collections.

Implements ``PATCH /services/data/vXX.X/sobjects/{object}/{field}/{value}`` (201 /
204 / 300) and ``PATCH /services/data/vXX.X/composite/sobjects/{object}/{field}``
(up to 200 records, ``UpsertResult`` list, ``DUPLICATE_EXTERNAL_ID`` per record),
checks the bearer token, the body (no external id in a single upsert's body; a
``attributes.type`` on each collection record) and injects faults.
"""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import urllib.parse
from typing import Any

from loancollect_crm.standins import Fault, Faults

__all__ = ["SalesforceStandIn"]


class SalesforceStandIn:
    """The stand-in server; ``with SalesforceStandIn(token) as crm: crm.url``."""

    def __init__(self, token: str = "test-token", *, retry_after: str = "0") -> None:
        self.token = token
        self.retry_after = retry_after
        self.faults = Faults()
        self.records: dict[str, list[dict[str, Any]]] = {}  # object -> rows
        # (object, external-id field, value) -> rows: upserts look up in O(1)
        self._index: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.requests = 0
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> SalesforceStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def rows(self, obj: str, field: str, value: str) -> list[dict[str, Any]]:
        """The records of ``obj`` whose external-id ``field`` is ``value``."""
        with self.lock:
            return list(self._index.get((obj, field, value), []))

    def add_duplicate(self, obj: str, field: str, value: str) -> None:
        """Make two records carry the same external id (a CRM that allows it)."""
        with self.lock:
            for _ in range(2):
                row = {"Id": self._new_id(), field: value}
                self.records.setdefault(obj, []).append(row)
                self._index.setdefault((obj, field, value), []).append(row)

    def _new_id(self) -> str:
        return f"a0X{next(self._ids):012d}"

    def upsert(self, obj: str, field: str, value: str, body: dict[str, Any]) -> tuple[str, str]:
        """Apply one upsert: ``("created"|"updated"|"duplicate", id)``."""
        with self.lock:
            rows = self._index.get((obj, field, value), [])
            if len(rows) > 1:
                return "duplicate", ""
            if rows:
                rows[0].update(body)
                return "updated", str(rows[0]["Id"])
            row = {"Id": self._new_id(), field: value, **body}
            self.records.setdefault(obj, []).append(row)
            self._index.setdefault((obj, field, value), []).append(row)
            return "created", str(row["Id"])

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        crm = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms stall)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(
                self, status: int, body: Any = None, headers: dict[str, str] | None = None
            ) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _drop(self) -> None:
                self.close_connection = True
                self.connection.close()

            def do_PATCH(self) -> None:
                with crm.lock:
                    crm.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                fault = crm.faults.next()
                if fault is Fault.RATE_LIMITED:
                    return self._reply(
                        429,
                        [{"errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                        {"Retry-After": crm.retry_after},
                    )
                if fault is Fault.UNAVAILABLE:
                    return self._reply(503, [{"errorCode": "SERVER_UNAVAILABLE"}])
                if fault is Fault.DROP_BEFORE:
                    return self._drop()
                if self.headers.get("Authorization") != f"Bearer {crm.token}":
                    return self._reply(401, [{"errorCode": "INVALID_SESSION_ID"}])
                parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._reply(400, [{"errorCode": "JSON_PARSER_ERROR"}])
                if len(parts) == 6 and parts[:2] == ["services", "data"] and parts[3] == "sobjects":
                    status, answer = self._one(parts[4], parts[5], "", body)
                elif len(parts) == 7 and parts[3] == "sobjects" and parts[2].startswith("v"):
                    value = urllib.parse.unquote(parts[6])
                    status, answer = self._one(parts[4], parts[5], value, body)
                elif len(parts) == 7 and parts[3:5] == ["composite", "sobjects"]:
                    status, answer = self._many(parts[5], parts[6], body)
                else:
                    status, answer = 404, [{"errorCode": "NOT_FOUND"}]
                if fault is Fault.DROP_AFTER:
                    return self._drop()
                self._reply(status, answer)

            def _one(self, obj: str, field: str, value: str, body: Any) -> tuple[int, Any]:
                if not value or not isinstance(body, dict):
                    return 400, [{"errorCode": "MALFORMED_QUERY"}]
                if field in body or "Id" in body:
                    return 400, [{"errorCode": "INVALID_FIELD", "message": "external id in body"}]
                what, rid = crm.upsert(obj, field, value, body)
                if what == "duplicate":
                    found = crm.rows(obj, field, value)
                    return 300, [f"/services/data/v60.0/sobjects/{obj}/{r['Id']}" for r in found]
                if what == "created":
                    return 201, {"id": rid, "success": True, "errors": [], "created": True}
                return 204, None

            def _many(self, obj: str, field: str, body: Any) -> tuple[int, Any]:
                records = body.get("records") if isinstance(body, dict) else None
                if not isinstance(records, list) or not records or len(records) > 200:
                    return 400, [{"errorCode": "INVALID_BATCH_SIZE"}]
                results = []
                for row in records:
                    if (
                        not isinstance(row, dict)
                        or row.get("attributes", {}).get("type") != obj
                        or not row.get(field)
                    ):
                        results.append(
                            {"success": False, "errors": [{"statusCode": "INVALID_TYPE"}]}
                        )
                        continue
                    fields = {k: v for k, v in row.items() if k not in ("attributes", field)}
                    what, rid = crm.upsert(obj, field, str(row[field]), fields)
                    if what == "duplicate":
                        results.append(
                            {"success": False, "errors": [{"statusCode": "DUPLICATE_EXTERNAL_ID"}]}
                        )
                    else:
                        results.append(
                            {"id": rid, "success": True, "errors": [], "created": what == "created"}
                        )
                return 200, results

        return Handler
