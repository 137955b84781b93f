"""An Odoo external-API stand-in over real XML-RPC (``xmlrpc.server``).

``/xmlrpc/2/common``: ``version``, ``authenticate``; ``/xmlrpc/2/object``:
``execute_kw`` with ``search_read``, ``read``, ``search_count``, ``create`` (one
values dict or a list of them) and ``write`` on any model, domains of
``[field, op, value]`` terms (``=``, ``!=``, ``in``, ``>``, ``>=``) joined by AND. Every
record gets ``write_date`` (UTC, ``YYYY-MM-DD HH:MM:SS``) on create and write.
Checks the database, the uid and the password of every call; injects faults.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import xmlrpc.client
from typing import Any
from xmlrpc.server import MultiPathXMLRPCServer, SimpleXMLRPCDispatcher, SimpleXMLRPCRequestHandler

from loancollect_crm.standins import Fault, Faults

__all__ = ["OdooStandIn"]

_EPOCH = dt.datetime(2025, 1, 1)


class OdooStandIn:
    """The stand-in server; ``with OdooStandIn() as odoo: odoo.url``."""

    def __init__(
        self, *, db: str = "collect", login: str = "sync", password: str = "secret"
    ) -> None:
        self.db, self.login, self.password, self.uid = db, login, password, 7
        self.faults = Faults()
        self.models: dict[str, dict[int, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._tick = itertools.count(1)
        standin = self

        class Handler(SimpleXMLRPCRequestHandler):
            rpc_paths = ("/xmlrpc/2/common", "/xmlrpc/2/object")
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms stall)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (the handler API names it so)
                fault = standin.faults.next()
                if fault is Fault.RATE_LIMITED:
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault is Fault.UNAVAILABLE:
                    self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if fault is Fault.DROP_BEFORE:
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault is Fault.DROP_AFTER:
                    data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    self.server._marshaled_dispatch(data, None, self.path)  # type: ignore[attr-defined]
                    self.close_connection = True
                    self.connection.close()
                    return
                super().do_POST()

        self._server = MultiPathXMLRPCServer(
            ("127.0.0.1", 0), requestHandler=Handler, allow_none=True, logRequests=False
        )
        common = SimpleXMLRPCDispatcher(allow_none=True)
        common.register_function(lambda: {"server_version": "17.0"}, "version")
        common.register_function(self._authenticate, "authenticate")  # type: ignore[arg-type]
        obj = SimpleXMLRPCDispatcher(allow_none=True)
        obj.register_function(self._execute_kw, "execute_kw")  # type: ignore[arg-type]
        self._server.add_dispatcher("/xmlrpc/2/common", common)
        self._server.add_dispatcher("/xmlrpc/2/object", obj)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> OdooStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    # -- what collectors do in Odoo ------------------------------------------------------
    def find(self, model: str, field: str, value: Any) -> list[dict[str, Any]]:
        """The records of ``model`` whose ``field`` is ``value``."""
        with self.lock:
            return [dict(r) for r in self.models.get(model, {}).values() if r.get(field) == value]

    def create(self, model: str, values: dict[str, Any]) -> int:
        """Create a record as a user would."""
        with self.lock:
            rid = next(self._ids)
            self.models.setdefault(model, {})[rid] = {
                **values,
                "id": rid,
                "write_date": self._now(),
            }
            return rid

    def write(self, model: str, rid: int, values: dict[str, Any]) -> None:
        """Edit a record as a user would."""
        with self.lock:
            self.models[model][rid].update(values, write_date=self._now())

    def _now(self) -> str:
        return (_EPOCH + dt.timedelta(seconds=next(self._tick))).strftime("%Y-%m-%d %H:%M:%S")

    # -- the API ---------------------------------------------------------------------------
    def _authenticate(self, db: str, login: str, password: str, env: dict[str, Any]) -> int | bool:
        if (db, login, password) != (self.db, self.login, self.password):
            return False
        return self.uid

    def _execute_kw(
        self,
        db: str,
        uid: int,
        password: str,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        if (db, uid, password) != (self.db, self.uid, self.password):
            raise xmlrpc.client.Fault(3, "Access Denied")
        kwargs = kwargs or {}
        with self.lock:
            self.calls.append((model, method))
            table = self.models.setdefault(model, {})
            if method in ("search_read", "search_count"):
                rows = [r for r in table.values() if _matches(r, args[0] if args else [])]
                if method == "search_count":
                    return len(rows)
                order = kwargs.get("order", "id")
                rows.sort(
                    key=lambda r: str(r.get(order.split()[0], "")) if order != "id" else r["id"]
                )
                if "limit" in kwargs:
                    rows = rows[: kwargs["limit"]]
                return [_fields(r, kwargs.get("fields")) for r in rows]
            if method == "read":
                return [_fields(table[i], kwargs.get("fields")) for i in args[0] if i in table]
            if method == "create":
                many = isinstance(args[0], list)
                made = [self.create(model, dict(v)) for v in (args[0] if many else [args[0]])]
                return made if many else made[0]
            if method == "write":
                for rid in args[0]:
                    if rid not in table:
                        raise xmlrpc.client.Fault(2, f"Record does not exist: {model}({rid})")
                    self.write(model, rid, dict(args[1]))
                return True
        raise xmlrpc.client.Fault(1, f"The method '{method}' does not exist on the model '{model}'")


def _matches(row: dict[str, Any], domain: list[Any]) -> bool:
    for field, op, value in domain:
        have = row.get(field, False)
        if op == "=" and have != value:
            return False
        if op == "!=" and have == value:
            return False
        if op == "in" and have not in value:
            return False
        if op == ">" and not (have is not False and have > value):
            return False
        if op == ">=" and not (have is not False and have >= value):
            return False
    return True


def _fields(row: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return dict(row)
    return {"id": row["id"], **{f: row.get(f, False) for f in fields}}
