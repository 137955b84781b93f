"""Benchmark of the CRM sync: a 10k-loan backfill into local stand-in CRMs.

Builds N loans (two per borrower) in memory storage, each with one action sent,
then backfills them — contacts, cases, activities — into

- the Salesforce-style stand-in (sObject Collections, 200 records a request), and
- the Odoo stand-in over XML-RPC (``search_read`` + ``create`` per 100 records),

and re-runs each (everything unchanged: no request). Printed: records/s,
requests/s, CPU and wall time. The floor, measured in the same run, sends the
same Salesforce batches' JSON straight through a bare HTTP client (no engine
read, no mapping, no sync state): what the transport and the stand-in cost alone.

Usage::

    python benchmarks/bench_crm.py [--loans N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import httpx
from loancollect_crm.adapters.odoo import OdooAdapter
from loancollect_crm.adapters.salesforce import SalesforceAdapter
from loancollect_crm.records import RecordKind
from loancollect_crm.standins.odoo import OdooStandIn
from loancollect_crm.standins.salesforce import SalesforceStandIn
from loancollect_crm.state import SyncState
from loancollect_crm.sync import CrmSync, SyncReport

from loancollect.builtin.memory import MemoryStore
from loancollect.domain.case import Case
from loancollect.domain.events import ActionSent, new_event
from loancollect.testing import make_borrower, make_loan

DAY = dt.date(2025, 3, 1)
NOW = dt.datetime(2025, 3, 1, 2, tzinfo=dt.UTC)


def portfolio(n: int) -> MemoryStore:
    """``n`` loans of ``n // 2`` borrowers, one SMS sent each."""
    store = MemoryStore()
    with store() as uow:
        for i in range(n):
            borrower = make_borrower(id=f"B-{i // 2:06d}", name=f"王{i}")
            loan = make_loan(id=f"L-{i:06d}", borrower=borrower)
            uow.loans.add(loan)
            uow.cases.save(Case(loan_id=loan.id, next_review_date=DAY))
            sent = ActionSent(key=f"{loan.id}:sms", channel="sms", rule="remind", attempts=1)
            uow.events.append([new_event(sent, loan_id=loan.id, on=DAY, at=NOW)])
        uow.commit()
    return store


def line(name: str, report: SyncReport) -> str:
    wall = max(report.wall_s, 1e-9)
    return (
        f"{name:<28} {report.records:>7} records {report.requests:>5} requests  "
        f"{report.records / wall:>9,.0f} records/s {report.requests / wall:>7,.1f} requests/s  "
        f"cpu {report.cpu_s:6.2f} s  wall {report.wall_s:6.2f} s"
    )


def floor(store: MemoryStore, crm: SalesforceStandIn) -> tuple[int, int, float, float]:
    """The same Salesforce batches' JSON through a bare client: records, requests, cpu, wall."""
    objects = {RecordKind.CONTACT: "Contact", RecordKind.CASE: "Case", RecordKind.ACTIVITY: "Task"}
    bodies: list[tuple[str, list[dict[str, object]]]] = []
    with store() as uow:
        ids = uow.loans.list_ids()
        rows: dict[RecordKind, dict[str, dict[str, object]]] = {k: {} for k in objects}
        for loan_id in ids:
            loan = uow.loans.get(loan_id)
            assert loan is not None
            rows[RecordKind.CONTACT][loan.borrower.id] = {"LastName": loan.borrower.name}
            rows[RecordKind.CASE][loan_id] = {"Status": "open"}
            rows[RecordKind.ACTIVITY][f"action:{loan_id}:sms"] = {"Subject": "remind"}
    for kind, obj in objects.items():
        items = [{"attributes": {"type": obj}, "Ext__c": k, **v} for k, v in rows[kind].items()]
        for i in range(0, len(items), 200):
            bodies.append((obj, items[i : i + 200]))
    cpu, wall = time.process_time(), time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {crm.token}"}) as client:
        for obj, batch in bodies:
            url = f"{crm.url}/services/data/v60.0/composite/sobjects/{obj}/Ext__c"
            client.patch(url, json={"allOrNone": False, "records": batch}).raise_for_status()
    return (
        sum(len(b) for _, b in bodies),
        len(bodies),
        time.process_time() - cpu,
        time.perf_counter() - wall,
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=10_000)
    args = parser.parse_args()
    started = time.perf_counter()
    store = portfolio(args.loans)
    print(f"{args.loans:,} loans built in {time.perf_counter() - started:.1f} s\n")
    with tempfile.TemporaryDirectory() as tmp:
        with SalesforceStandIn() as crm:
            records, requests, cpu, wall = floor(store, crm)
            print(
                f"{'floor: bare HTTP, same JSON':<28} {records:>7} records {requests:>5} requests  "
                f"{records / wall:>9,.0f} records/s {requests / wall:>7,.1f} requests/s  "
                f"cpu {cpu:6.2f} s  wall {wall:6.2f} s"
            )
        with SalesforceStandIn() as crm:
            sync = CrmSync(
                adapter=SalesforceAdapter(base_url=crm.url, token=crm.token),
                state=SyncState(Path(tmp) / "sf.sqlite"),
                storage=store,
            )
            print(line("salesforce backfill", sync.run(as_of=DAY)))
            print(line("salesforce re-run (no-op)", sync.run(as_of=DAY)))
        with OdooStandIn() as odoo:
            sync = CrmSync(
                adapter=OdooAdapter(
                    url=odoo.url, db=odoo.db, login=odoo.login, password=odoo.password
                ),
                state=SyncState(Path(tmp) / "odoo.sqlite"),
                storage=store,
            )
            print(line("odoo backfill", sync.run(as_of=DAY)))
            print(line("odoo re-run (no-op)", sync.run(as_of=DAY)))
    print("\nthe stand-ins run in this process: their CPU is counted in every line")


if __name__ == "__main__":
    main()
