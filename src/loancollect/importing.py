"""Importing borrowers, loans, schedules and payments from CSV or JSON Lines files.

Each file holds one kind of record, recognised by its columns (see docs/cli.md):

- borrowers: ``id, kind, name, jurisdiction, time_zone, locale`` and optional
  ``phone, email, address, national_id, monthly_income``;
- loans: ``id, borrower_id, currency, principal, annual_rate, disbursement_date,
  term`` and optional ``method, frequency, day_count, first_due_date, grace_days,
  penalty_markup, compound, tolerance, private_lending, contract_date, product``;
- schedules (optional; replace the computed schedule of their loan):
  ``loan_id, number, due_date, principal, interest`` and optional ``fees``;
- payments: ``id, loan_id, amount, currency, value_date, received_at`` and
  optional ``reference``.

Every row is validated by the domain's own constructors; a problem names the
file, the line, the field and the value (personal values masked). Nothing is
written when any row is bad, unless ``skip_bad`` (then the bad rows, and the rows
that depend on them, are returned as rejected). Everything good is written in
one unit of work.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pendulum

from loancollect.domain.calendar import DayCount
from loancollect.domain.case import Case
from loancollect.domain.errors import LoanCollectError, UnknownCurrencyError, ValidationError
from loancollect.domain.events import Event
from loancollect.domain.loans import (
    Borrower,
    ContactKind,
    ContactPoint,
    Installment,
    Loan,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
)
from loancollect.domain.loans import Frequency as Freq
from loancollect.domain.money import Money
from loancollect.engine.intake import accept_payment
from loancollect.ports import UnitOfWorkFactory

__all__ = ["ImportRejectedError", "ImportResult", "import_files", "read_rows"]

_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("schedules", frozenset({"loan_id", "number", "due_date", "principal", "interest"})),
    ("payments", frozenset({"id", "loan_id", "amount", "currency", "value_date", "received_at"})),
    (
        "loans",
        frozenset(
            {
                "id",
                "borrower_id",
                "currency",
                "principal",
                "annual_rate",
                "disbursement_date",
                "term",
            }
        ),
    ),
    ("borrowers", frozenset({"id", "kind", "name", "jurisdiction", "time_zone", "locale"})),
)


class ImportRejectedError(LoanCollectError):
    """Rows were bad and ``skip_bad`` was not given: nothing was imported."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} bad row(s); first: {self.problems[0] if self.problems else ''}"
        )


@attrs.frozen
class ImportResult:
    """How many records of each kind were imported, and the rejected rows."""

    counts: dict[str, int]
    rejected: tuple[tuple[str, dict[str, Any]], ...] = ()


@attrs.frozen
class _Row:
    kind: str
    source: str  # "file:line"
    data: dict[str, Any]


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` from a CSV file (header line first) or a JSON Lines file."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line, parse_float=str)
                except json.JSONDecodeError as exc:
                    raise ValidationError(
                        f"{path.name}:{number}", line[:40], f"not JSON: {exc.msg}"
                    ) from None
                if not isinstance(row, dict):
                    raise ValidationError(
                        f"{path.name}:{number}", line[:40], "expected a JSON object"
                    )
                yield number, row
        return
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            yield (
                reader.line_num,
                {k: v for k, v in row.items() if k is not None and v not in ("", None)},
            )


def _kind_of(path: Path, columns: set[str]) -> str:
    for kind, required in _KINDS:
        if required <= columns:
            return kind
    raise ValidationError(
        path.name,
        sorted(columns),
        "columns match no record kind (borrowers, loans, schedules, payments)",
    )


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    if value is None or str(value).strip() == "":
        raise ValidationError(field, value, "is required")
    return str(value).strip()


def _opt(row: Mapping[str, Any], field: str) -> str | None:
    value = row.get(field)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _day(row: Mapping[str, Any], field: str) -> dt.date:
    value = _text(row, field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, value, "expected a date YYYY-MM-DD") from None


def _int(row: Mapping[str, Any], field: str, default: int | None = None) -> int:
    value = _opt(row, field)
    if value is None:
        if default is None:
            raise ValidationError(field, value, "is required")
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError(field, value, "expected a whole number") from None


def _money(row: Mapping[str, Any], field: str, currency: str) -> Money:
    """The amount in ``field`` as money; a bad amount or currency names ``field``."""
    value = _text(row, field)
    try:
        return Money(value, currency)
    except UnknownCurrencyError as exc:
        raise ValidationError("currency", exc.value, exc.reason) from None
    except ValidationError as exc:
        raise ValidationError(field, exc.value, exc.reason) from None


def _bool(row: Mapping[str, Any], field: str) -> bool:
    value = (_opt(row, field) or "false").lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise ValidationError(field, value, "expected true or false")
    return value in ("true", "1", "yes")


def _enum(row: Mapping[str, Any], field: str, enum: Any, default: Any) -> Any:
    value = _opt(row, field)
    if value is None:
        return default
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(field, value, f"expected one of {[m.value for m in enum]}") from None


def _borrower(row: Mapping[str, Any]) -> Borrower:
    points = []
    for field, kind in (
        ("phone", ContactKind.PHONE),
        ("email", ContactKind.EMAIL),
        ("address", ContactKind.ADDRESS),
    ):
        value = _opt(row, field)
        if value is not None:
            points.append(ContactPoint(kind, value))
    income = _opt(row, "monthly_income")
    currency = _opt(row, "currency")
    return Borrower(
        id=_text(row, "id"),
        kind=_enum(row, "kind", PartyKind, PartyKind.INDIVIDUAL),
        name=_text(row, "name"),
        jurisdiction=_text(row, "jurisdiction"),
        time_zone=_text(row, "time_zone"),
        locale=_text(row, "locale"),
        contact_points=points,
        national_id=_opt(row, "national_id"),
        monthly_income=_money(row, "monthly_income", currency or "CNY")
        if income is not None
        else None,
    )


def _loan(
    row: Mapping[str, Any], borrower: Borrower, schedule: Sequence[Installment] | None
) -> Loan:
    currency = _text(row, "currency")
    dc = _opt(row, "day_count")
    terms: dict[str, Any] = {
        "penalty": PenaltyTerms(
            markup=_opt(row, "penalty_markup") or Decimal("0.5"),
            compound=_bool(row, "compound") if _opt(row, "compound") else True,
        ),
        "grace_days": _int(row, "grace_days", 0),
        "private_lending": _bool(row, "private_lending"),
        "product": _opt(row, "product") or "default",
    }
    tolerance = _opt(row, "tolerance")
    if tolerance is not None:
        terms["tolerance"] = _money(row, "tolerance", currency)
    contract = _opt(row, "contract_date")
    if contract is not None:
        terms["contract_date"] = _day(row, "contract_date")
    common: dict[str, Any] = {
        "id": _text(row, "id"),
        "borrower": borrower,
        "principal": _money(row, "principal", currency),
        "annual_rate": _text(row, "annual_rate"),
        "disbursement_date": _day(row, "disbursement_date"),
        "method": _enum(row, "method", RepaymentMethod, RepaymentMethod.EQUAL_INSTALLMENT),
        "frequency": _enum(row, "frequency", Freq, Freq.MONTHLY),
        "day_count": DayCount.parse(dc) if dc else None,
        **terms,
    }
    if schedule:
        return Loan(installments=tuple(sorted(schedule, key=lambda i: i.number)), **common)
    first_due = _opt(row, "first_due_date")
    return Loan.create(
        term=_int(row, "term"),
        first_due_date=_day(row, "first_due_date") if first_due else None,
        **common,
    )


def _installment(row: Mapping[str, Any], currency: str) -> Installment:
    fees = _opt(row, "fees")
    return Installment(
        number=_int(row, "number"),
        due_date=_day(row, "due_date"),
        principal=_money(row, "principal", currency),
        interest=_money(row, "interest", currency),
        fees=_money(row, "fees", currency) if fees is not None else None,
    )


def _payment(row: Mapping[str, Any]) -> Payment:
    raw = _text(row, "received_at")
    try:
        received = pendulum.parse(raw)
    except Exception:
        raise ValidationError(
            "received_at", raw, "expected an ISO 8601 timestamp with a UTC offset"
        ) from None
    if (
        not isinstance(received, dt.datetime)
        or "T" not in raw
        or (raw[-1] != "Z" and "+" not in raw[10:] and "-" not in raw[10:])
    ):
        raise ValidationError(
            "received_at", raw, "needs a time and a UTC offset (e.g. 2025-03-01T09:30:00+08:00)"
        )
    return Payment(
        id=_text(row, "id"),
        loan_id=_text(row, "loan_id"),
        amount=_money(row, "amount", _text(row, "currency")),
        value_date=_day(row, "value_date"),
        received_at=received,
        reference=_opt(row, "reference") or "",
    )


def import_files(
    storage: UnitOfWorkFactory, paths: Sequence[Path], *, skip_bad: bool = False, review_on: dt.date
) -> ImportResult:
    """Validate every row of ``paths``, then write the good ones in one unit of work.

    :raises ImportRejectedError: listing every bad row, when a row is bad and not ``skip_bad``.
    """
    rows: dict[str, list[_Row]] = defaultdict(list)
    problems: list[str] = []
    rejected: list[tuple[str, dict[str, Any]]] = []

    def bad(source: str, exc: Exception, data: dict[str, Any]) -> None:
        message = f"{source}: {exc}"
        problems.append(message)
        rejected.append((message, data))

    for path in paths:
        try:
            found = list(read_rows(path))
        except (ValidationError, UnicodeDecodeError) as exc:
            bad(path.name, exc, {})
            continue
        if not found:
            continue
        try:
            kind = _kind_of(path, set().union(*(r.keys() for _, r in found)))
        except ValidationError as exc:
            bad(path.name, exc, {})
            continue
        rows[kind].extend(_Row(kind, f"{path.name}:{n}", r) for n, r in found)

    borrowers: dict[str, Borrower] = {}
    for r in rows["borrowers"]:
        try:
            b = _borrower(r.data)
            borrowers[b.id] = b
        except (LoanCollectError, ValueError) as exc:
            bad(r.source, exc, r.data)

    with storage() as uow:
        schedules: dict[str, list[tuple[_Row, dict[str, Any]]]] = defaultdict(list)
        for r in rows["schedules"]:
            schedules[str(r.data.get("loan_id", ""))].append((r, r.data))
        loans: dict[str, Loan] = {}
        for r in rows["loans"]:
            try:
                bid = _text(r.data, "borrower_id")
                borrower = borrowers.get(bid)
                if borrower is None:
                    existing = uow.loans.get(_text(r.data, "id"))
                    if existing is not None and existing.borrower.id == bid:
                        borrower = existing.borrower
                if borrower is None:
                    raise ValidationError("borrower_id", bid, "no such borrower in this import")
                currency = _text(r.data, "currency")
                schedule = []
                for srow, data in schedules.pop(_text(r.data, "id"), []):
                    try:
                        schedule.append(_installment(data, currency))
                    except (LoanCollectError, ValueError) as exc:
                        raise ValidationError(
                            f"schedule {srow.source}", data.get("number"), str(exc)
                        ) from None
                loan = _loan(r.data, borrower, schedule or None)
                loans[loan.id] = loan
            except (LoanCollectError, ValueError) as exc:
                bad(r.source, exc, r.data)
        for loan_id, orphans in schedules.items():
            for srow, data in orphans:
                bad(
                    srow.source,
                    ValidationError("loan_id", loan_id, "no such loan in this import"),
                    data,
                )
        payments: list[Payment] = []
        for r in rows["payments"]:
            try:
                payment = _payment(r.data)
                target = loans.get(payment.loan_id) or uow.loans.get(payment.loan_id)
                if target is None:
                    raise ValidationError("loan_id", payment.loan_id, "no such loan")
                if payment.amount.currency != target.currency:
                    raise ValidationError(
                        "currency", payment.amount.currency, f"the loan is in {target.currency}"
                    )
                if payment.value_date < target.disbursement_date:
                    raise ValidationError(
                        "value_date", payment.value_date.isoformat(), "before the disbursement"
                    )
                payments.append(payment)
            except (LoanCollectError, ValueError) as exc:
                bad(r.source, exc, r.data)
        if problems and not skip_bad:
            raise ImportRejectedError(problems)
        for loan in loans.values():
            uow.loans.add(loan)
            if uow.cases.get(loan.id) is None:
                uow.cases.save(Case(loan_id=loan.id, next_review_date=review_on))
        events: list[Event] = []
        for payment in payments:
            # The intake's door: stored, recorded as PAYMENT_RECEIVED (what the recovery
            # figures count), and the case reviewed again — not before the import's
            # first review date.
            owner = loans.get(payment.loan_id) or uow.loans.get(payment.loan_id)
            assert owner is not None  # checked above
            case = uow.cases.get(owner.id) or Case(loan_id=owner.id, next_review_date=review_on)
            events += accept_payment(uow, payment, loan=owner, case=case)
            uow.cases.save(case.reviewed_by(max(payment.value_date, review_on)))
        if events:
            uow.events.append(events)
        uow.commit()
    return ImportResult(
        {"borrowers": len(borrowers), "loans": len(loans), "payments": len(payments)},
        tuple(rejected),
    )
