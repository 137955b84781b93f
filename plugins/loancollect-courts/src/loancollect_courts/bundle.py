"""The evidence bundle of a legal matter: contract data, schedule, statement of
account, payment history, contact log with delivery evidence, the limitation
computation, the filing documents and the hash chain of the case's events, in a zip
that ``loancollect verify --bundle`` checks (:mod:`loancollect.bundles`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from loancollect.bundles import write_bundle
from loancollect.domain.events import (
    ActionSent,
    ContactOutcomeRecorded,
    DeliveryReceipt,
    Event,
    EventKind,
)
from loancollect.domain.legal import loan_limitation
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.overdue import assess

__all__ = ["bundle_files", "write_matter_bundle"]


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def bundle_files(
    loan: Loan, payments: Sequence[Payment], history: Sequence[Event], on: dt.date
) -> dict[str, bytes]:
    """The evidence files of the case of ``loan`` on ``on`` (without the events)."""
    a = assess(loan, payments, on)
    contract = {
        "loan": loan.id,
        "product": loan.product,
        "principal": str(loan.principal.amount),
        "currency": loan.principal.currency,
        "annual_rate": str(loan.annual_rate),
        "contract_date": (loan.contract_date or loan.disbursement_date).isoformat(),
        "disbursement_date": loan.disbursement_date.isoformat(),
        "method": loan.method.value,
        "installments": len(loan.installments),
        "borrower": {"id": loan.borrower.id, "jurisdiction": loan.borrower.jurisdiction},
    }
    schedule = _csv(
        ("number", "due_date", "principal", "interest", "fees"),
        [
            (
                i.number,
                i.due_date.isoformat(),
                i.principal.amount,
                i.interest.amount,
                i.fees.amount if i.fees is not None else "0",
            )
            for i in loan.installments
        ],
    )
    statement = _csv(
        (
            "number",
            "due_date",
            "status",
            "principal",
            "interest",
            "fees",
            "penalty",
            "compound",
            "paid",
        ),
        [
            (
                s.number,
                s.due_date.isoformat(),
                s.status.value,
                s.principal.amount,
                s.interest.amount,
                s.fees.amount,
                s.penalty.amount,
                s.compound.amount,
                s.paid.amount,
            )
            for s in a.installments
        ]
        + [("total", on.isoformat(), f"dpd {a.dpd}", "", "", "", "", "", a.payoff_amount.amount)],
    )
    paid = _csv(
        ("payment", "value_date", "amount", "currency", "reference"),
        [
            (p.id, p.value_date.isoformat(), p.amount.amount, p.amount.currency, p.reference)
            for p in payments
            if p.value_date <= on
        ],
    )
    contacts = _csv(
        ("on", "at", "kind", "channel", "key", "detail", "evidence"), _contacts(history)
    )
    limitation = loan_limitation(loan, history, as_of=on)
    files = {
        "contract.json": json.dumps(
            contract, ensure_ascii=False, indent=2, sort_keys=True
        ).encode(),
        "schedule.csv": schedule,
        "statement.csv": statement,
        "payments.csv": paid,
        "contacts.csv": contacts,
    }
    if limitation is not None:
        files["limitation.txt"] = (limitation.explain() + "\n").encode("utf-8")
    return files


def _contacts(history: Sequence[Event]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for ev in history:
        at = ev.at.isoformat() if ev.at is not None else ""
        if ev.kind is EventKind.ACTION_SENT:
            sent = ActionSent.parse(ev)
            evidence = "; ".join(f"{k}={v}" for k, v in sent.evidence)
            rows.append((ev.on, at, "sent", sent.channel, sent.key, sent.contact, evidence))
        elif ev.kind is EventKind.DELIVERY_RECEIPT:
            receipt = DeliveryReceipt.parse(ev)
            rows.append(
                (
                    ev.on,
                    at,
                    "delivery",
                    receipt.channel,
                    receipt.key,
                    receipt.status,
                    receipt.provider_id,
                )
            )
        elif ev.kind is EventKind.CONTACT_OUTCOME:
            outcome = ContactOutcomeRecorded.parse(ev)
            rows.append((ev.on, at, "outcome", outcome.channel, "", outcome.outcome.value, ""))
    return rows


def write_matter_bundle(
    path: Path,
    loan: Loan,
    payments: Sequence[Payment],
    history: Sequence[Event],
    on: dt.date,
    *,
    documents: Mapping[str, bytes] | None = None,
) -> Path:
    """Write the bundle of the case of ``loan`` to ``path`` (with ``documents`` under
    ``documents/``)."""
    files = bundle_files(loan, payments, history, on)
    for name, data in (documents or {}).items():
        files[f"documents/{name}"] = data
    return write_bundle(path, files, history, title=f"evidence of loan {loan.id} on {on}")
