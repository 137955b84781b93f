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

Every row is validated by the domain's own constructors, and contact details and
jurisdictions by :mod:`loancollect.contacts`; a problem names the file, the line,
the field and the value (personal values masked). Files are UTF-8 (a byte-order
mark is allowed); numbers have one plain form (see
:func:`loancollect.domain.money.parse_number`); ids are unique within an import.
Nothing is written when any row is bad, unless ``skip_bad`` (then the bad rows,
and the rows that depend on them, are returned as rejected). Everything good is
written in one unit of work, and only what was written is counted: a borrower
without a loan in the import and a payment already stored are reported in
:attr:`ImportResult.not_written`.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import attrs
import pendulum

from loancollect.contacts import check_jurisdiction, contact_point
from loancollect.domain.calendar import DayCount
from loancollect.domain.case import Case
from loancollect.domain.checks import check_date, check_instant, parse_enum
from loancollect.domain.errors import LoanCollectError, UnknownCurrencyError, ValidationError
from loancollect.domain.events import Event
from loancollect.domain.loans import (
    Borrower,
    ContactKind,
    Installment,
    Loan,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
    check_payments,
)
from loancollect.domain.loans import Frequency as Freq
from loancollect.domain.money import Money, parse_number
from loancollect.engine.intake import accept_payment
from loancollect.ports import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "FileProblemError",
    "ImportRejectedError",
    "ImportResult",
    "import_files",
    "read_rows",
]

E = TypeVar("E", bound=enum.Enum)

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
    """Rows were bad and ``skip_bad`` was not given.

    From :func:`import_files` nothing was imported (``result`` is ``None``); from an
    import in batches (:func:`loancollect.import_batches.import_in_batches`) the
    batches without a bad row were, ``result`` counts them and ``refused`` names the
    batches that were not written.
    """

    def __init__(
        self,
        problems: Sequence[str],
        *,
        result: ImportResult | None = None,
        refused: Sequence[str] = (),
    ) -> None:
        self.problems = list(problems)
        self.result = result
        self.refused = list(refused)
        super().__init__(
            f"{len(self.problems)} bad row(s); first: {self.problems[0] if self.problems else ''}"
        )


class FileProblemError(ValidationError):
    """A file cannot be read as rows: not UTF-8, not CSV or JSON Lines, a broken line.

    The message is ``FILE:LINE: FIELD=VALUE: reason``.
    """

    def __init__(self, source: str, field: str, value: Any, reason: str) -> None:
        self.source = source
        super().__init__(field, value, reason)
        self.args = (f"{source}: {field}={value!r}: {reason}",)

    def __str__(self) -> str:
        return str(self.args[0])


@attrs.frozen
class ImportResult:
    """How many records of each kind were written, the rejected rows, and the rows
    that were good but not written (with the reason: already stored, or a borrower
    without a loan in the import)."""

    counts: dict[str, int]
    rejected: tuple[tuple[str, dict[str, Any]], ...] = ()
    not_written: tuple[str, ...] = ()


@attrs.frozen
class _Row:
    kind: str
    source: str  # "file:line"
    data: dict[str, Any]


_UTF8_HINT = "not UTF-8 text; re-save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')"


def _lines(path: Path) -> Iterator[str]:
    """The file's lines as text (line ends kept), read one at a time: UTF-8, with or
    without a byte-order mark."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise FileProblemError(path.name, "file", path.name, f"cannot be read: {exc}") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                start = exc.start + (3 if number == 1 and raw.startswith(b"\xef\xbb\xbf") else 0)
                raise FileProblemError(
                    f"{path.name}:{number}",
                    f"byte {start + 1}",
                    f"0x{raw[start]:02x}",
                    _UTF8_HINT,
                ) from None
            yield line


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_value(source: str, key: str, value: Any) -> str | None:
    """A JSON value as the importer's text: numbers exactly as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    raise FileProblemError(
        source, key, type(value).__name__, "expected text, a number, true/false or null"
    )


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` from a CSV file (header line first) or a JSON Lines file.

    Files are UTF-8 (a byte-order mark is allowed) and read a line at a time (memory
    does not grow with the file). Values are text (JSON numbers keep the digits they
    were written with); missing and empty values are left out.

    :raises FileProblemError: naming the file and the line, for a byte that is not
        UTF-8, a line that is not a JSON object, a CSV line the ``csv`` module cannot
        read (a NUL byte, an unterminated quote) or one with more cells than the header.
    """
    name = path.name
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for number, text in enumerate(_lines(path), start=1):
            line = text.removesuffix("\n")
            if not line.strip():
                continue
            source = f"{name}:{number}"
            try:
                row = json.loads(line, parse_float=str, parse_int=str, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                raise FileProblemError(source, "line", line[:40], f"not JSON: {exc.msg}") from None
            except (ValueError, RecursionError) as exc:
                raise FileProblemError(source, "line", line[:40], f"not JSON: {exc}") from None
            if not isinstance(row, dict):
                raise FileProblemError(source, "line", line[:40], "expected a JSON object")
            values = {k: _json_value(source, k, v) for k, v in row.items()}
            yield number, {k: v for k, v in values.items() if v not in ("", None)}
        return
    reader = csv.DictReader(_lines(path), strict=True)
    done = 0  # the last line of the last record read: a bad record starts after it
    try:
        header = reader.fieldnames or []
        done = reader.line_num
        seen: set[str] = set()
        for column in header:
            if column in seen:
                raise FileProblemError(f"{name}:1", "column", column, "appears twice in the header")
            seen.add(column)
        for row in reader:
            if None in row:
                raise FileProblemError(
                    f"{name}:{reader.line_num}",
                    "cells",
                    len(header) + len(row[None]),
                    f"more cells than the header's {len(header)} columns",
                )
            done = reader.line_num
            yield (
                reader.line_num,
                {k.strip(): v for k, v in row.items() if v not in ("", None)},
            )
    except csv.Error as exc:
        raise FileProblemError(
            f"{name}:{done + 1}", "line", "", f"not readable as CSV: {exc}"
        ) from None


def _kind_of(path: Path, columns: set[str]) -> str:
    for kind, required in _KINDS:
        if required <= columns:
            return kind
    raise ValidationError(
        path.name,
        sorted(columns),
        "columns match no record kind (borrowers, loans, schedules, payments)",
    )


_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    if value is not None:
        # Values read from files are text: strip them without converting again.
        text = value.strip() if type(value) is str else str(value).strip()
        if text:
            return text
    raise ValidationError(field, value, "is required")


def _opt(row: Mapping[str, Any], field: str) -> str | None:
    value = row.get(field)
    if value is None:
        return None
    return (value.strip() if type(value) is str else str(value).strip()) or None


def _day(row: Mapping[str, Any], field: str) -> dt.date:
    value = _text(row, field)
    if not _ISO_DATE.fullmatch(value):
        raise ValidationError(field, value, "expected a date YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, value, "expected a date YYYY-MM-DD") from None
    check_date(field, day)
    return day


def _int(row: Mapping[str, Any], field: str, default: int | None = None) -> int:
    value = _opt(row, field)
    if value is None:
        if default is None:
            raise ValidationError(field, value, "is required")
        return default
    if not _INTEGER.fullmatch(value):
        raise ValidationError(field, value, "expected a whole number (digits 0-9)")
    return int(value)


def _money(row: Mapping[str, Any], field: str, currency: str) -> Money:
    """The amount in ``field`` as money; a bad amount or currency names ``field``."""
    value = _text(row, field)
    try:
        return Money(value, currency)
    except UnknownCurrencyError as exc:
        raise ValidationError("currency", exc.value, exc.reason) from None
    except ValidationError as exc:
        raise ValidationError(field, exc.value, exc.reason) from None


def _number(row: Mapping[str, Any], field: str, default: Decimal) -> Decimal:
    value = _opt(row, field)
    return default if value is None else parse_number(value, field)


def _bool(row: Mapping[str, Any], field: str, default: bool = False) -> bool:
    value = _opt(row, field)
    if value is None:
        return default
    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ValidationError(field, value, "expected true or false")
    return value.lower() in ("true", "1", "yes")


def _enum(row: Mapping[str, Any], field: str, enum: type[E], default: E) -> E:
    value = _opt(row, field)
    return default if value is None else parse_enum(enum, value, field)


def _borrower(row: Mapping[str, Any]) -> Borrower:
    jurisdiction = check_jurisdiction(_text(row, "jurisdiction"))
    region = jurisdiction.split("-", 1)[0]
    points = []
    for field, kind in (
        ("phone", ContactKind.PHONE),
        ("email", ContactKind.EMAIL),
        ("address", ContactKind.ADDRESS),
    ):
        value = _opt(row, field)
        if value is not None:
            points.append(contact_point(kind, value, region=region, field=field))
    income = _opt(row, "monthly_income")
    currency = _opt(row, "currency")
    return Borrower(
        id=_text(row, "id"),
        kind=_enum(row, "kind", PartyKind, PartyKind.INDIVIDUAL),
        name=_text(row, "name"),
        jurisdiction=jurisdiction,
        time_zone=_text(row, "time_zone"),
        locale=_text(row, "locale"),
        contact_points=points,
        national_id=_opt(row, "national_id"),
        monthly_income=_money(row, "monthly_income", currency or "CNY")
        if income is not None
        else None,
    )


# Penalty terms are frozen values and an import has few distinct ones: shared, not
# rebuilt per loan (bounded, for an import of unusual data).
_PENALTIES: dict[tuple[str, bool], PenaltyTerms] = {}


def _penalty(markup: Decimal, compound: bool) -> PenaltyTerms:
    key = (str(markup), compound)  # the text: equal Decimals may differ in exponent
    terms = _PENALTIES.get(key)
    if terms is None:
        if len(_PENALTIES) >= 1000:
            _PENALTIES.clear()
        terms = _PENALTIES[key] = PenaltyTerms(markup=markup, compound=compound)
    return terms


def _loan(
    row: Mapping[str, Any], borrower: Borrower, schedule: Sequence[Installment] | None
) -> Loan:
    currency = _text(row, "currency")
    dc = _opt(row, "day_count")
    terms: dict[str, Any] = {
        "penalty": _penalty(
            _number(row, "penalty_markup", Decimal("0.5")), _bool(row, "compound", True)
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
        "annual_rate": parse_number(_text(row, "annual_rate"), "annual_rate"),
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


_OFFSET = re.compile(r".*T.*(Z|[+-][0-9]{2}(:?[0-9]{2})?)", re.ASCII | re.DOTALL)


def _payment(row: Mapping[str, Any]) -> Payment:
    raw = _text(row, "received_at")
    if not _OFFSET.fullmatch(raw):
        raise ValidationError(
            "received_at", raw, "needs a time and a UTC offset (e.g. 2025-03-01T09:30:00+08:00)"
        )
    try:
        received = pendulum.parse(raw)
    except Exception:
        raise ValidationError(
            "received_at", raw, "expected an ISO 8601 timestamp with a UTC offset"
        ) from None
    if not isinstance(received, dt.datetime):
        raise ValidationError(
            "received_at", raw, "needs a time and a UTC offset (e.g. 2025-03-01T09:30:00+08:00)"
        )
    check_instant("received_at", received)
    return Payment(
        id=_text(row, "id"),
        loan_id=_text(row, "loan_id"),
        amount=_money(row, "amount", _text(row, "currency")),
        value_date=_day(row, "value_date"),
        received_at=received,
        reference=_opt(row, "reference") or "",
    )


class _BorrowerLookup(Protocol):
    def get_borrower(self, borrower_id: str) -> Borrower | None: ...


def _stored_borrower(uow: UnitOfWork, loan_id: str, borrower_id: str) -> Borrower | None:
    """A borrower already stored: the one of the same loan, or through the storage's
    ``get_borrower`` where it has one."""
    existing = uow.loans.get(loan_id)
    if existing is not None and existing.borrower.id == borrower_id:
        return existing.borrower
    lookup = getattr(uow.loans, "get_borrower", None)
    if callable(lookup):
        found = cast(_BorrowerLookup, uow.loans).get_borrower(borrower_id)
        return found if isinstance(found, Borrower) else None
    return None


def _same_terms(stored: Loan, new: Loan) -> bool:
    """True if ``new`` changes nothing of ``stored`` but (perhaps) its borrower's details."""
    return attrs.evolve(stored, borrower=new.borrower) == new


def _duplicates(rows: Sequence[_Row], key: Callable[[_Row], object]) -> dict[int, str]:
    """Row index -> the other rows with the same key, for every repeated key."""
    where: dict[object, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        k = key(r)
        if k is not None:
            where[k].append(i)
    out: dict[int, str] = {}
    for indexes in where.values():
        if len(indexes) > 1:
            for i in indexes:
                out[i] = ", ".join(rows[j].source for j in indexes if j != i)
    return out


def import_files(
    storage: UnitOfWorkFactory,
    paths: Sequence[Path],
    *,
    skip_bad: bool = False,
    review_on: dt.date,
    replace_loans_with_payments: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate every row of ``paths``, then write the good ones in one unit of work.

    :param skip_bad: write the good rows and return the bad ones (and the rows that
        depend on them) as rejected, instead of writing nothing.
    :param replace_loans_with_payments: allow a loan that is already stored *and
        has payments* to be replaced by a changed one (its payments must still fit
        it). Without it, such a row is refused: replacing the terms under recorded
        payments changes what was overdue and what was collected.
    :param progress: called with the number of rows read since the last call (every
        1,000 rows and at the end of each file), for a progress display.
    :raises ImportRejectedError: listing every bad row, when a row is bad and not
        ``skip_bad``; nothing is written then.
    """
    check_date("review_on", review_on)
    rows: dict[str, list[_Row]] = defaultdict(list)
    problems: list[str] = []
    rejected: list[tuple[str, dict[str, Any]]] = []
    not_written: list[str] = []

    def bad(source: str, exc: Exception, data: dict[str, Any]) -> None:
        message = str(exc) if isinstance(exc, FileProblemError) else f"{source}: {exc}"
        problems.append(message)
        rejected.append((message, data))

    for path in paths:
        try:
            found = []
            for item in read_rows(path):
                found.append(item)
                if progress is not None and len(found) % 1000 == 0:
                    progress(1000)
            if progress is not None and len(found) % 1000:
                progress(len(found) % 1000)
        except FileProblemError as exc:
            bad(exc.source, exc, {})
            continue
        if not found:
            continue
        try:
            kind = _kind_of(path, set().union(*(r.keys() for _, r in found)))
        except ValidationError as exc:
            bad(path.name, exc, {})
            continue
        rows[kind].extend(_Row(kind, f"{path.name}:{n}", r) for n, r in found)

    def ident(field: str) -> Callable[[_Row], object]:
        return lambda r: _opt(r.data, field)

    repeated = {
        "borrowers": _duplicates(rows["borrowers"], ident("id")),
        "loans": _duplicates(rows["loans"], ident("id")),
        "payments": _duplicates(rows["payments"], ident("id")),
        "schedules": _duplicates(
            rows["schedules"], lambda r: (_opt(r.data, "loan_id"), _opt(r.data, "number"))
        ),
    }
    for kind, found_rows in rows.items():
        keep = []
        for i, r in enumerate(found_rows):
            others = repeated[kind].get(i)
            if others is None:
                keep.append(r)
                continue
            if kind == "schedules":
                what = f"installment of loan {_opt(r.data, 'loan_id')!r} with this number"
                error = ValidationError(
                    "number", _opt(r.data, "number"), f"the same {what} is also on {others}"
                )
            else:
                error = ValidationError(
                    "id", _opt(r.data, "id"), f"the same id is also on {others}: ids must be unique"
                )
            bad(r.source, error, r.data)
        rows[kind] = keep

    borrowers: dict[str, Borrower] = {}
    borrower_rows: dict[str, _Row] = {}
    bad_borrowers: set[str | None] = set()
    for r in rows["borrowers"]:
        try:
            b = _borrower(r.data)
            borrowers[b.id] = b
            borrower_rows[b.id] = r
        except (LoanCollectError, ValueError) as exc:
            bad(r.source, exc, r.data)
            bad_borrowers.add(_opt(r.data, "id"))

    with storage() as uow:
        schedules: dict[str, list[tuple[_Row, dict[str, Any]]]] = defaultdict(list)
        for r in rows["schedules"]:
            schedules[str(r.data.get("loan_id", ""))].append((r, r.data))
        loans: dict[str, Loan] = {}
        loan_rows: dict[str, _Row] = {}
        for r in rows["loans"]:
            try:
                bid = _text(r.data, "borrower_id")
                lid = _text(r.data, "id")
                borrower = borrowers.get(bid) or _stored_borrower(uow, lid, bid)
                if borrower is None:
                    reason = (
                        "its borrower's row is bad"
                        if bid in bad_borrowers
                        else "no such borrower in this import"
                    )
                    raise ValidationError("borrower_id", bid, reason)
                currency = _text(r.data, "currency")
                schedule = []
                for srow, data in schedules.pop(lid, []):
                    try:
                        schedule.append(_installment(data, currency))
                    except (LoanCollectError, ValueError) as exc:
                        raise ValidationError(
                            f"schedule {srow.source}", data.get("number"), str(exc)
                        ) from None
                loan = _loan(r.data, borrower, schedule or None)
                _check_replacement(uow, loan, allowed=replace_loans_with_payments)
                loans[loan.id] = loan
                loan_rows[loan.id] = r
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
                stored = {p.id: p for p in uow.loans.payments_for(payment.loan_id)}
                known = stored.get(payment.id)
                if known is not None:
                    if known != payment:
                        raise ValidationError(
                            "id", payment.id, "already recorded with different content"
                        )
                    not_written.append(f"{r.source}: payment {payment.id!r} is already stored")
                    continue
                payments.append(payment)
            except (LoanCollectError, ValueError) as exc:
                bad(r.source, exc, r.data)
        if problems and not skip_bad:
            raise ImportRejectedError(problems)
        written_borrowers = {loan.borrower.id for loan in loans.values()}
        for bid, r in borrower_rows.items():
            if bid not in written_borrowers:
                not_written.append(
                    f"{r.source}: borrower {bid!r} has no loan in this import; a borrower is "
                    "stored with its loans, so import it together with them"
                )
        try:
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
                try:
                    events += accept_payment(uow, payment, loan=owner, case=case)
                except LoanCollectError as exc:
                    raise ImportRejectedError([f"payment {payment.id!r}: {exc}"]) from None
                uow.cases.save(case.reviewed_by(max(payment.value_date, review_on)))
            if events:
                uow.events.append(events)
            uow.commit()
        except BaseException:
            uow.rollback()
            raise
    return ImportResult(
        {
            "borrowers": len(written_borrowers & borrowers.keys()),
            "loans": len(loans),
            "payments": len(payments),
        },
        tuple(rejected),
        tuple(not_written),
    )


def _check_replacement(uow: UnitOfWork, loan: Loan, *, allowed: bool) -> None:
    """Refuse to replace a stored loan that has payments by a changed one, unless allowed;
    even then, its payments must fit the new terms."""
    stored = uow.loans.get(loan.id)
    if stored is None or _same_terms(stored, loan):
        return
    payments = uow.loans.payments_for(loan.id)
    if not payments:
        return
    if not allowed:
        raise ValidationError(
            "id",
            loan.id,
            f"already stored with other terms and {len(payments)} payment(s); replacing it "
            "changes what was due and collected: pass --replace-loans-with-payments "
            "(replace_loans_with_payments=True) if that is meant",
        )
    try:
        check_payments(loan, payments)
    except LoanCollectError as exc:
        raise ValidationError(
            "id", loan.id, f"its stored payments do not fit the new terms: {exc}"
        ) from None
