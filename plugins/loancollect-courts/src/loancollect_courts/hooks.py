"""Entry point: the courts plug-in's demo part and report table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from loancollect import hookimpl
from loancollect.demo_parts import DemoPart
from loancollect.domain.events import Event, EventKind, PaymentReceived
from loancollect.domain.money import Money
from loancollect.ports import UnitOfWorkFactory
from loancollect.reporting import ReportData, Table
from loancollect_courts.demo import CourtsDemo
from loancollect_courts.desk import LegalDesk

__all__ = ["legal_costs_table", "loancollect_register_demo_parts", "loancollect_report_tables"]


@hookimpl
def loancollect_register_demo_parts() -> Iterable[DemoPart]:
    """The courts' part: matters on some legal-stage cases, carried to enforcement."""
    return [CourtsDemo()]


def _read_only(*args: object, **kwargs: object) -> Event:
    raise RuntimeError("the report only reads")


def legal_costs_table(events: Iterable[Event], storage: UnitOfWorkFactory) -> Table:
    """Legal costs against legal recoveries, per currency: the matters opened in
    ``events``, the court fees their dockets incurred (total and recoverable from the
    debtor; lawyers' fees are a lender's tariff the report does not know) and the
    payments received on those loans since each matter was opened."""
    opened: dict[str, dt.date] = {}
    for event in events:
        if event.kind is EventKind.LEGAL_MATTER_OPENED:
            opened.setdefault(event.loan_id, event.on)
    desk = LegalDesk(_read_only, storage)
    rows: dict[str, list[Decimal]] = {}
    counts: dict[str, int] = {}
    for loan_id, since in sorted(opened.items()):
        ledger = desk.ledger(loan_id)
        view = desk.view(loan_id)
        currency = view.loan.principal.currency
        recovered = Money.zero(currency)
        for event in view.history:
            if event.kind is EventKind.PAYMENT_RECEIVED and event.on >= since:
                paid = PaymentReceived.parse(event)
                recovered = recovered + Money(paid.amount, paid.currency)
        cost = ledger.total() if ledger is not None else Money.zero(currency)
        recoverable = ledger.recoverable() if ledger is not None else Money.zero(currency)
        row = rows.setdefault(currency, [Decimal(0)] * 3)
        row[0] += cost.amount
        row[1] += recoverable.amount
        row[2] += recovered.amount
        counts[currency] = counts.get(currency, 0) + 1
    body = tuple(
        (cur, str(counts[cur]), f"{r[0]:.2f}", f"{r[1]:.2f}", f"{r[2]:.2f}")
        for cur, r in sorted(rows.items())
    )
    return Table(
        "courts_costs",
        "Legal costs vs legal recoveries",
        ("currency", "matters", "court fees", "recoverable fees", "recovered since opening"),
        body,
    )


@hookimpl
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> Iterator[Table]:
    """The table of legal costs against legal recoveries (when matters were opened)."""
    if any(e.kind is EventKind.LEGAL_MATTER_OPENED for e in data.events):
        yield legal_costs_table(data.events, storage)
