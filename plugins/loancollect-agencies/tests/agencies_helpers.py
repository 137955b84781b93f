"""Two tenants with placed cases, and the agency API served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import threading
import time

import uvicorn
from loancollect_agencies.api import Tenant, agency_app, credential
from loancollect_agencies.audit import MemoryAuditTrail

from loancollect.builtin.memory import MemoryDatabase, MemoryStore
from loancollect.domain.commands import PlaceWithAgency, RecallFromAgency
from loancollect.engine import Intake
from loancollect.testing import make_borrower, make_loan

TODAY = dt.date(2025, 6, 2)
NOW = dt.datetime(2025, 6, 2, 2, 0, tzinfo=dt.UTC)
PLACED_ON = dt.date(2025, 5, 20)

TOKENS = {
    ("agency-a", "t1"): "a" * 40,
    ("agency-b", "t1"): "b" * 40,
    ("agency-a", "t2"): "c" * 40,
    ("agency-b", "t2"): "d" * 40,
}


def _tenant(db: MemoryDatabase, name: str) -> tuple[MemoryStore, Intake]:
    store = db.store(name)
    intake = Intake(storage=store, notify=lambda events: None)
    loans = [make_loan(id=f"L-{i}", borrower=make_borrower(id=f"B-{name}-{i}")) for i in (1, 2, 3)]
    intake.add_loans(loans, review_on=PLACED_ON)
    return store, intake


class Server:
    """The API over tenants ``t1`` and ``t2`` (the same loan ids in both):

    - t1: ``L-1`` placed with agency-a, ``L-2`` with agency-b, ``L-3`` placed with
      agency-a and recalled;
    - t2: ``L-1`` placed with agency-b, ``L-2`` with agency-a, ``L-3`` not placed.
    """

    def __init__(self) -> None:
        db = MemoryDatabase()
        self.stores: dict[str, MemoryStore] = {}
        self.intakes: dict[str, Intake] = {}
        for name in ("t1", "t2"):
            self.stores[name], self.intakes[name] = _tenant(db, name)
        until = PLACED_ON + dt.timedelta(days=60)

        def place(tenant: str, loan: str, agency: str) -> None:
            command = PlaceWithAgency(
                agency=agency, placement=f"{tenant}/{loan}/P1", tier="primary", until=until
            )
            self.intakes[tenant].apply(loan, command, on=PLACED_ON)

        place("t1", "L-1", "agency-a")
        place("t1", "L-2", "agency-b")
        place("t1", "L-3", "agency-a")
        self.intakes["t1"].apply(
            "L-3",
            RecallFromAgency(agency="agency-a", reason="dispute"),
            on=PLACED_ON + dt.timedelta(days=3),
        )
        place("t2", "L-1", "agency-b")
        place("t2", "L-2", "agency-a")
        self.audit = MemoryAuditTrail()
        app = agency_app(
            tenants={
                n: Tenant(storage=self.stores[n], intake=self.intakes[n]) for n in self.stores
            },
            credentials=[credential(a, t, token) for (a, t), token in TOKENS.items()],
            audit=self.audit,
            now=lambda: NOW,
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the agency API did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def headers(self, agency: str, tenant: str) -> dict[str, str]:
        """The bearer header of ``agency`` in ``tenant``."""
        return {"Authorization": f"Bearer {TOKENS[(agency, tenant)]}"}

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
