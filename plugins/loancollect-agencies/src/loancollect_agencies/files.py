"""Placement and recall files for agencies that work by file drop.

A placement file carries the minimum personal data an agency needs to work a
case (PIPL art. 6, GDPR art. 5(1)(c) data minimisation): the borrower's name,
one phone number and one postal address, what is owed and since when — never the
national id, e-mail, income, employer or other contacts. The agency API serves
the same record (:func:`placement_record`), so no channel gives more.

Each file is a UTF-8 CSV with a JSON manifest beside it: the file's name, its
row count, its SHA-256 and the placement's totals, so the agency can check it
received every byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from loancollect.domain.case import Case
from loancollect.domain.errors import ValidationError
from loancollect.domain.loans import ContactKind, Loan
from loancollect.domain.money import Money, sum_money
from loancollect.domain.overdue import Assessment

__all__ = [
    "PLACEMENT_COLUMNS",
    "RECALL_COLUMNS",
    "Manifest",
    "PlacementRecord",
    "RecallLine",
    "placement_record",
    "verify",
    "write_placement_file",
    "write_recall_file",
]


@attrs.frozen(kw_only=True)
class PlacementRecord:
    """What an agency is given about one placed case — and nothing more."""

    placement: str
    loan_id: str
    agency: str
    tier: str
    since: dt.date
    until: dt.date | None
    borrower_name: str
    phone: str
    address: str
    currency: str
    balance: Money
    overdue: Money
    dpd: int
    jurisdiction: str

    def as_row(self) -> dict[str, str]:
        """The record as text fields (the CSV row and the API's JSON object)."""
        return {
            "placement": self.placement,
            "loan_id": self.loan_id,
            "agency": self.agency,
            "tier": self.tier,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else "",
            "borrower_name": self.borrower_name,
            "phone": self.phone,
            "address": self.address,
            "currency": self.currency,
            "balance": str(self.balance.amount),
            "overdue": str(self.overdue.amount),
            "dpd": str(self.dpd),
            "jurisdiction": self.jurisdiction,
        }

    def __repr__(self) -> str:
        return f"PlacementRecord({self.placement!r}, agency={self.agency!r}, dpd={self.dpd})"


PLACEMENT_COLUMNS = tuple(a.name for a in attrs.fields(PlacementRecord))
RECALL_COLUMNS = ("placement", "loan_id", "agency", "recalled_on", "reason")


def _first(loan: Loan, kind: ContactKind) -> str:
    points = [p for p in loan.borrower.contact_points if p.kind is kind]
    preferred = [p for p in points if p.verified] or points
    return preferred[0].value if preferred else ""


def placement_record(loan: Loan, case: Case, assessment: Assessment) -> PlacementRecord:
    """The placement record of a placed case.

    :raises ValidationError: if the case is not placed.
    """
    placed = case.placement
    if placed is None:
        raise ValidationError("case.placement", case.loan_id, "the case is not placed")
    return PlacementRecord(
        placement=placed.placement,
        loan_id=loan.id,
        agency=placed.agency,
        tier=placed.tier,
        since=placed.since,
        until=placed.until,
        borrower_name=loan.borrower.name,
        phone=_first(loan, ContactKind.PHONE),
        address=_first(loan, ContactKind.ADDRESS),
        currency=loan.currency,
        balance=assessment.payoff_amount,
        overdue=assessment.overdue_amount,
        dpd=assessment.dpd,
        jurisdiction=loan.borrower.jurisdiction,
    )


@attrs.frozen(kw_only=True)
class Manifest:
    """What a file drop's manifest says about its CSV."""

    file: str
    kind: str
    agency: str
    created_on: dt.date
    rows: int
    sha256: str
    totals: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> str:
        """The manifest as JSON (keys sorted)."""
        return json.dumps(
            {
                "file": self.file,
                "kind": self.kind,
                "agency": self.agency,
                "created_on": self.created_on.isoformat(),
                "rows": self.rows,
                "sha256": self.sha256,
                "totals": dict(self.totals),
            },
            sort_keys=True,
            ensure_ascii=False,
            indent=2,
        )


def _csv(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def _write(
    directory: Path,
    name: str,
    kind: str,
    agency: str,
    on: dt.date,
    body: bytes,
    rows: int,
    totals: tuple[tuple[str, str], ...],
) -> Manifest:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(body)
    manifest = Manifest(
        file=name,
        kind=kind,
        agency=agency,
        created_on=on,
        rows=rows,
        sha256=hashlib.sha256(body).hexdigest(),
        totals=totals,
    )
    (directory / f"{name}.manifest.json").write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest


def write_placement_file(
    directory: Path, agency: str, on: dt.date, records: Sequence[PlacementRecord]
) -> Manifest:
    """Write ``placements-<agency>-<date>.csv`` and its manifest; return the manifest.

    :raises ValidationError: if a record is placed with another agency.
    """
    for r in records:
        if r.agency != agency:
            raise ValidationError("record.agency", r.agency, f"the file is for {agency!r}")
    totals = []
    for currency in sorted({r.currency for r in records}):
        total = sum_money((r.balance for r in records if r.currency == currency), currency)
        totals.append((f"balance_{currency}", str(total.amount)))
    body = _csv(PLACEMENT_COLUMNS, (r.as_row() for r in records))
    name = f"placements-{agency}-{on.isoformat()}.csv"
    return _write(directory, name, "placement", agency, on, body, len(records), tuple(totals))


@attrs.frozen(kw_only=True)
class RecallLine:
    """One recalled case in a recall file."""

    placement: str
    loan_id: str
    agency: str
    recalled_on: dt.date
    reason: str


def write_recall_file(
    directory: Path, agency: str, on: dt.date, recalls: Sequence[RecallLine]
) -> Manifest:
    """Write ``recalls-<agency>-<date>.csv`` and its manifest; return the manifest."""
    rows = (
        {
            "placement": r.placement,
            "loan_id": r.loan_id,
            "agency": r.agency,
            "recalled_on": r.recalled_on.isoformat(),
            "reason": r.reason,
        }
        for r in recalls
    )
    body = _csv(RECALL_COLUMNS, rows)
    name = f"recalls-{agency}-{on.isoformat()}.csv"
    return _write(directory, name, "recall", agency, on, body, len(recalls), ())


def verify(directory: Path, manifest_name: str) -> Manifest:
    """Check a received file against its manifest (what the agency does on receipt).

    :raises ValidationError: if the file's SHA-256 differs from the manifest's.
    """
    data = json.loads((directory / manifest_name).read_text(encoding="utf-8"))
    body = (directory / data["file"]).read_bytes()
    digest = hashlib.sha256(body).hexdigest()
    if digest != data["sha256"]:
        raise ValidationError("manifest.sha256", data["sha256"], f"the file's is {digest}")
    return Manifest(
        file=data["file"],
        kind=data["kind"],
        agency=data["agency"],
        created_on=dt.date.fromisoformat(data["created_on"]),
        rows=int(data["rows"]),
        sha256=digest,
        totals=tuple(sorted(data["totals"].items())),
    )
