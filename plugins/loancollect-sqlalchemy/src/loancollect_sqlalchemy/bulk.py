"""Bulk import of borrowers, loans (with their schedules) and payments.

Rows go in batches, one transaction per batch: ``executemany`` on SQLite, ``COPY``
into a temporary table then one ``INSERT ... ON CONFLICT`` on PostgreSQL. Every
row is validated before its batch is written; a bad row is reported with its
position (0-based, counted per kind over the whole import), the field and the
value (personal data masked), and **nothing of that batch is written**. Other
batches go on (or, with ``stop_on_error=True``, the import stops with a
:class:`BulkImportError`).

Rows are written for the store's tenant (``SqlStore(url, tenant=...)``): every row
gets its ``tenant_id``, and the references a row makes (a loan's borrower, a
payment's loan) and the payment ids it must not repeat are looked up in that
tenant only.

Rows are plain mappings (no domain objects are built, so a million loans import
in seconds). Importing a loan opens its case (stage ``current``) when it has none,
due for review on the row's ``next_review_date`` (or ``review_on``).

Row shapes::

    borrower: id, kind ("individual"|"company"), name, jurisdiction, time_zone, locale,
              [contact_points: [[kind, value, label?], ...]], [national_id]
    loan:     id, borrower_id, currency, principal_minor, annual_rate (decimal text),
              disbursement_date, installments: [[due_date, principal_minor,
              interest_minor, fees_minor?, accrual_start?, accrual_days?], ...],
              [method, frequency, day_count, penalty (as mapping.penalty_to_json),
              grace_days, tolerance_minor, private_lending, contract_date, product,
              next_review_date]
    payment:  id, loan_id, amount_minor, currency, value_date, received_at (aware),
              [reference]

Domain objects convert with :func:`loan_rows` / :func:`payment_row`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import chain
from json.encoder import encode_basestring
from operator import gt
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from loancollect.domain.calendar import DayCount
from loancollect.domain.checks import MAX_DATE, MIN_DATE
from loancollect.domain.errors import LoanCollectError, ValidationError
from loancollect.domain.loans import Borrower, Frequency, Loan, Payment, RepaymentMethod
from loancollect.domain.money import CURRENCIES, MAX_MINOR_UNITS
from loancollect.domain.privacy import mask_id_number, mask_phone, mask_text
from loancollect.ports import DEFAULT_TENANT
from loancollect_sqlalchemy import mapping as m
from loancollect_sqlalchemy import tables as t
from loancollect_sqlalchemy.repository import SqlStore

__all__ = [
    "BulkImportError",
    "BulkImporter",
    "ImportProblem",
    "ImportReport",
    "RecordEncoder",
    "import_rows",
    "load_encoded",
    "load_records",
    "loan_rows",
    "payment_row",
]

_METHODS = frozenset(x.value for x in RepaymentMethod)
_FREQUENCIES = frozenset(x.value for x in Frequency)
_DAY_COUNTS = frozenset(x.value for x in DayCount)
_KINDS = frozenset(("individual", "company"))
_CONTACT_KINDS = frozenset(("phone", "email", "address"))
_EMPTY = "[]"
_EMPTY_CASE = (_EMPTY,) * 5
_DIGITS = b"0123456789"
# Caches are bounded so that an import of unusual data cannot grow them without end.
_CACHE_LIMIT = 100_000


@attrs.frozen
class ImportProblem:
    """One bad row: which kind, where, which field, the (masked) value and why."""

    kind: str
    position: int
    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind}s[{self.position}].{self.field}: {self.reason} (got {self.value})"


@attrs.frozen
class ImportReport:
    """Counts of rows written, and the problems of rejected batches."""

    borrowers: int = 0
    loans: int = 0
    payments: int = 0
    cases_opened: int = 0
    batches: int = 0
    rejected_batches: int = 0
    problems: tuple[ImportProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True if every row was written."""
        return not self.problems


class BulkImportError(ValidationError):
    """A batch was rejected and ``stop_on_error`` was set."""

    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(
            f"{problem.kind}s[{problem.position}].{problem.field}", problem.value, problem.reason
        )
        self.problem = problem


class _BadRowError(Exception):
    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(field)
        self.field, self.value, self.reason = field, value, reason


# -- value checks ----------------------------------------------------------------------


_NUL = "\x00"


def _no_nul(row: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    """Refuse a NUL character in the row's text (PostgreSQL cannot store one)."""
    for field in fields:
        value = row.get(field)
        if type(value) is str and _NUL in value:
            raise _BadRowError(field, "***", "contains a NUL character, which storage cannot hold")


def _text(row: Mapping[str, Any], field: str, *, optional: bool = False) -> str | None:
    value = row.get(field)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _BadRowError(field, value, "must be a non-empty string")
    if _NUL in value:
        raise _BadRowError(field, "***", "contains a NUL character, which storage cannot hold")
    return value


def _int(value: object, field: str, lo: int = 0) -> int:
    if type(value) is not int:
        raise _BadRowError(field, value, "must be an integer (minor units); floats are refused")
    if value < lo:
        raise _BadRowError(field, value, f"must be >= {lo}")
    if value > MAX_MINOR_UNITS:
        raise _BadRowError(field, value, f"out of range: at most {MAX_MINOR_UNITS} (2^63 - 1)")
    return value


def _date(value: object, field: str) -> dt.date:
    if type(value) is not dt.date:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = dt.date.fromisoformat(value)
        if type(value) is not dt.date:
            raise _BadRowError(field, value, "must be a date (or ISO 'YYYY-MM-DD')")
    if not MIN_DATE <= value <= MAX_DATE:
        raise _BadRowError(field, value.isoformat(), "out of range: 1900-01-01 to 2999-12-31")
    return value


def _currency(value: object, field: str = "currency") -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise _BadRowError(field, value, "unknown ISO 4217 currency")
    return value


def _choice(row: Mapping[str, Any], field: str, allowed: frozenset[str], default: str) -> str:
    value = row.get(field, default)
    if value not in allowed:
        raise _BadRowError(field, value, f"expected one of {sorted(allowed)}")
    return str(value)


def _rate(value: object, field: str) -> str:
    # Imports repeat a few thousand rate texts; parsing each as a Decimal again is a
    # visible share of a loan row's cost.
    if type(value) is str:
        known = _RATES.get(value)
        if known is not None:
            return known
    if isinstance(value, float | bool):
        raise _BadRowError(field, value, "must be a decimal string or Decimal; floats are refused")
    try:
        dec = Decimal(str(value))
    except InvalidOperation:
        raise _BadRowError(field, value, "not a decimal number") from None
    if not dec.is_finite() or not (0 <= dec <= 1):
        raise _BadRowError(field, value, "must be a fraction between 0 and 1 ('0.06' for 6 %)")
    text = str(dec)
    if type(value) is str:
        if len(_RATES) >= _CACHE_LIMIT:
            _RATES.clear()
        _RATES[value] = text
    return text


_RATES: dict[str, str] = {}


class _IsoDates(dict[dt.date, str]):
    """``date -> 'YYYY-MM-DD'``, filled on demand (``date.isoformat`` is slow next to
    a dict hit, and an import has few distinct dates)."""

    def __missing__(self, day: dt.date) -> str:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        text = self[day] = day.isoformat()
        return text


_ISO = _IsoDates()


# -- row preparation (validated, encoded for the database) --------------------------------


@attrs.frozen
class _Plan:
    table: sa.Table
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    update: bool


# Every prepared row ends with its tenant (the table's last column).
_BORROWER = _Plan(
    t.borrowers,
    (
        "id",
        "kind",
        "name",
        "jurisdiction",
        "time_zone",
        "locale",
        "contact_points",
        "national_id",
        "tenant_id",
    ),
    ("tenant_id", "id"),
    True,
)
_LOAN = _Plan(
    t.loans,
    (
        "id",
        "borrower_id",
        "currency",
        "principal_minor",
        "annual_rate",
        "disbursement_date",
        "installments",
        "method",
        "frequency",
        "day_count",
        "penalty",
        "grace_days",
        "tolerance_minor",
        "private_lending",
        "contract_date",
        "product",
        "tenant_id",
    ),
    ("tenant_id", "id"),
    True,
)
_CASE = _Plan(
    t.cases,
    (
        "loan_id",
        "stage",
        "arrangements",
        "holds",
        "contacts",
        "flags",
        "last_actions",
        "next_review_date",
        "tenant_id",
    ),
    ("tenant_id", "loan_id"),
    False,
)
_PAYMENT = _Plan(
    t.payments,
    (
        "id",
        "loan_id",
        "amount_minor",
        "currency",
        "value_date",
        "received_at",
        "reference",
        "tenant_id",
    ),
    ("tenant_id", "id"),
    False,
)


class _Encoder:
    """Dialect-specific encodings of dates, instants and booleans, and the tenant the
    rows are written for."""

    def __init__(self, dialect: str, tenant: str = DEFAULT_TENANT) -> None:
        self.sqlite = dialect == "sqlite"
        self.tenant = tenant

    def date(self, value: dt.date | None) -> Any:
        if value is None or not self.sqlite:
            return value
        if type(value) is dt.date:
            return _ISO[value]
        return value.isoformat()

    def instant(self, value: dt.datetime) -> Any:
        utc = value.astimezone(dt.UTC)
        if not self.sqlite:
            return utc
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")

    def flag(self, value: bool) -> Any:
        return int(value) if self.sqlite else value


def _borrower(row: Mapping[str, Any], enc: _Encoder) -> tuple[Any, ...]:
    get = row.get
    # Each field is tested inline for the common case; the helpers re-check only
    # a value that fails, so they raise with the usual field and reason.
    bid = get("id")
    if type(bid) is not str or not bid.strip():
        bid = _text(row, "id")
    kind = get("kind", "individual")
    if type(kind) is not str or kind not in _KINDS:
        kind = _choice(row, "kind", _KINDS, "individual")
    name = get("name")
    if not isinstance(name, str) or not name.strip():
        raise _BadRowError("name", "***" if name else name, "must be a non-empty string")
    jur = get("jurisdiction")
    if type(jur) is not str or not jur.strip():
        jur = _text(row, "jurisdiction")
    tz = get("time_zone")
    if type(tz) is not str or not tz.strip():
        tz = _text(row, "time_zone")
    locale = get("locale")
    if type(locale) is not str or not locale.strip():
        locale = _text(row, "locale")
    _no_nul(row, ("id", "name", "jurisdiction", "time_zone", "locale", "national_id"))
    points = get("contact_points")
    points = _contact_points(points) if points else _EMPTY
    nid = get("national_id")
    if nid is not None and not isinstance(nid, str):
        raise _BadRowError("national_id", mask_id_number(str(nid)), "must be a string")
    return (bid, kind, name, jur, tz, locale, points, nid, enc.tenant)


def _contact_points(points: Iterable[Any]) -> str:
    # The text is what ``json.dumps(..., ensure_ascii=False)`` gives for the list of
    # ``{"kind", "value", "label"?}`` objects, built without the intermediate dicts.
    parts = []
    for i, cp in enumerate(points):
        if not isinstance(cp, Sequence) or len(cp) < 2 or cp[0] not in _CONTACT_KINDS:
            raise _BadRowError(f"contact_points[{i}]", "***", "expected [kind, value, label?]")
        kind, value = cp[0], cp[1]
        if not isinstance(value, str) or not value.strip() or _NUL in value:
            raise _BadRowError(f"contact_points[{i}].value", "***", "must be a non-empty string")
        if kind == "phone":
            if value.isascii():
                digits = len(value) - len(value.encode("ascii").translate(None, _DIGITS))
            else:
                digits = sum(c.isdigit() for c in value)
            if digits < 5:
                raise _BadRowError(
                    f"contact_points[{i}].value", mask_phone(value), "not a phone number"
                )
        elif kind == "email" and "@" not in value:
            raise _BadRowError(
                f"contact_points[{i}].value", mask_text(value), "not an e-mail address"
            )
        label = cp[2] if len(cp) > 2 else None
        if label:
            parts.append(
                f'{{"kind": "{kind}", "value": {encode_basestring(value)}, '
                f'"label": {encode_basestring(str(label))}}}'
            )
        else:
            parts.append(f'{{"kind": "{kind}", "value": {encode_basestring(value)}}}')
    return "[" + ", ".join(parts) + "]"


_SEQUENCES = frozenset((list, tuple))
_TRIPLES = {3}
# Per installment count: the type of each value of the flattened triples, and the
# stored JSON text with slots for them.
_TRIPLE_TYPES: dict[int, tuple[type, ...]] = {}
_TRIPLE_TEXT: dict[int, str] = {}


def _plain_installments(items: Sequence[Any], disbursed: dt.date) -> tuple[int, str] | None:
    """``(principal total, stored JSON)`` when every installment is a valid
    ``(date, principal, interest)`` triple, checked with whole-list operations;
    ``None`` for anything else, which :func:`_installments` then checks one by one
    (and so reports the first bad value exactly as it always has)."""
    if not set(map(type, items)) <= _SEQUENCES or set(map(len, items)) != _TRIPLES:
        return None
    n = len(items)
    types = _TRIPLE_TYPES.get(n)
    if types is None:
        types = _TRIPLE_TYPES[n] = (dt.date, int, int) * n
        _TRIPLE_TEXT[n] = (
            "[" + ",".join(f'[{k},"%s",%d,%d,null,null,null]' for k in range(1, n + 1)) + "]"
        )
    flat = [*chain.from_iterable(items)]
    if tuple(map(type, flat)) != types:
        return None
    dues = flat[0::3]
    principals = flat[1::3]
    interests = flat[2::3]
    if (
        min(principals) < 0
        or min(interests) < 0
        or max(interests) > MAX_MINOR_UNITS
        or dues[-1] > MAX_DATE
        or not all(map(gt, dues, [disbursed, *dues]))
    ):
        return None
    flat[0::3] = map(_ISO.__getitem__, dues)
    return sum(principals), _TRIPLE_TEXT[n] % tuple(flat)


def _installments(items: Sequence[Any], disbursed: dt.date) -> tuple[int, str]:
    previous = disbursed
    total = 0
    encoded = []
    for i, inst in enumerate(items):
        size = len(inst) if type(inst) is list or type(inst) is tuple else 0
        if not 3 <= size <= 6:
            raise _BadRowError(
                f"installments[{i}]",
                inst,
                "expected [due_date, principal, interest, fees?, accrual_start?, accrual_days?]",
            )
        due = inst[0]
        if type(due) is not dt.date or due > MAX_DATE:
            due = _date(due, f"installments[{i}].due_date")
        if due <= previous:
            raise _BadRowError(
                f"installments[{i}].due_date",
                due.isoformat(),
                f"must be after {previous.isoformat()}",
            )
        previous = due
        p, interest = inst[1], inst[2]
        if type(p) is not int or p < 0:
            _int(p, f"installments[{i}].principal_minor")
        if type(interest) is not int or not 0 <= interest <= MAX_MINOR_UNITS:
            _int(interest, f"installments[{i}].interest_minor")
        fees = inst[3] if size > 3 else None
        if fees is not None:
            _int(fees, f"installments[{i}].fees_minor")
        start = days = None
        if size > 4:
            start = (
                inst[4]
                if inst[4] is None
                else _date(inst[4], f"installments[{i}].accrual_start").isoformat()
            )
            days = inst[5] if size > 5 else None
            if days is not None:
                _int(days, f"installments[{i}].accrual_days")
        total += p
        encoded.append([i + 1, due.isoformat(), p, interest, fees, start, days])
    return total, json.dumps(encoded, separators=(",", ":"))


def _loan(row: Mapping[str, Any], enc: _Encoder) -> tuple[tuple[Any, ...], dt.date | None]:
    get = row.get
    # Common values are tested inline; the helpers re-check a value that fails, so
    # the field and reason reported are theirs.
    lid = get("id")
    if type(lid) is not str or not lid.strip():
        lid = _text(row, "id")
    bid = get("borrower_id")
    if type(bid) is not str or not bid.strip():
        bid = _text(row, "borrower_id")
    cur = get("currency")
    if type(cur) is not str or cur not in CURRENCIES:
        cur = _currency(cur)
    principal = get("principal_minor")
    if type(principal) is not int or not 1 <= principal <= MAX_MINOR_UNITS:
        principal = _int(principal, "principal_minor", 1)
    _no_nul(row, ("id", "borrower_id", "product"))
    rate = get("annual_rate")
    rate = (type(rate) is str and _RATES.get(rate)) or _rate(rate, "annual_rate")
    disbursed = get("disbursement_date")
    if type(disbursed) is not dt.date or not MIN_DATE <= disbursed <= MAX_DATE:
        disbursed = _date(disbursed, "disbursement_date")
    items = get("installments")
    if (
        type(items) is not list
        and type(items) is not tuple
        and (not isinstance(items, Sequence) or isinstance(items, str))
    ):
        raise _BadRowError("installments", items, "a loan needs at least one installment")
    if not items:
        raise _BadRowError("installments", items, "a loan needs at least one installment")
    plain = _plain_installments(items, disbursed)
    total, installments = plain if plain is not None else _installments(items, disbursed)
    if total != principal:
        raise _BadRowError(
            "installments", total, f"principal must sum to principal_minor {principal}"
        )
    method = get("method", "equal_installment")
    if type(method) is not str or method not in _METHODS:
        method = _choice(row, "method", _METHODS, "equal_installment")
    frequency = get("frequency", "monthly")
    if type(frequency) is not str or frequency not in _FREQUENCIES:
        frequency = _choice(row, "frequency", _FREQUENCIES, "monthly")
    day_count = get("day_count")
    if day_count is not None and day_count not in _DAY_COUNTS:
        raise _BadRowError("day_count", day_count, f"expected one of {sorted(_DAY_COUNTS)}")
    penalty = get("penalty")
    if penalty is not None:
        try:
            m.penalty_from_json(penalty)
        except (LoanCollectError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise _BadRowError("penalty", penalty, f"not valid penalty terms: {exc}") from None
        penalty = json.dumps(penalty)
    grace = get("grace_days", 0)
    if type(grace) is not int or not 0 <= grace <= 366:
        raise _BadRowError("grace_days", grace, "must be an int from 0 to 366")
    tolerance = get("tolerance_minor")
    if tolerance is not None:
        _int(tolerance, "tolerance_minor")
    private = get("private_lending", False)
    if private is not False and private is not True:
        raise _BadRowError("private_lending", private, "must be a bool")
    contract = get("contract_date")
    if contract is not None:
        contract = _date(contract, "contract_date")
    product = get("product", "default")
    if not isinstance(product, str) or not product:
        raise _BadRowError("product", product, "must be a non-empty string")
    review = get("next_review_date")
    if review is not None:
        review = _date(review, "next_review_date")
    values = (
        lid,
        bid,
        cur,
        principal,
        rate,
        _ISO[disbursed] if enc.sqlite else disbursed,
        installments,
        method,
        frequency,
        day_count,
        penalty,
        grace,
        tolerance,
        enc.flag(private),
        None if contract is None else enc.date(contract),
        product,
        enc.tenant,
    )
    return values, review


def _payment(row: Mapping[str, Any], enc: _Encoder) -> tuple[Any, ...]:
    pid = _text(row, "id")
    lid = _text(row, "loan_id")
    amount = _int(row.get("amount_minor"), "amount_minor", 1)
    cur = _currency(row.get("currency"))
    value_date = _date(row.get("value_date"), "value_date")
    at = row.get("received_at")
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise _BadRowError("received_at", at, "must be a time-zone-aware datetime")
    if not MIN_DATE <= at.date() <= MAX_DATE:
        raise _BadRowError("received_at", at.isoformat(), "out of range: years 1900 to 2999")
    reference = row.get("reference", "")
    if not isinstance(reference, str) or _NUL in reference:
        raise _BadRowError("reference", "***", "must be a string without NUL characters")
    return (pid, lid, amount, cur, enc.date(value_date), enc.instant(at), reference, enc.tenant)


# -- domain objects to rows ---------------------------------------------------------------


def loan_rows(loan: Loan, next_review_date: dt.date | None = None) -> tuple[dict[str, Any], ...]:
    """``(borrower row, loan row)`` for a domain :class:`Loan`."""
    b = loan.borrower
    borrower = {
        "id": b.id,
        "kind": b.kind.value,
        "name": b.name,
        "jurisdiction": b.jurisdiction,
        "time_zone": b.time_zone,
        "locale": b.locale,
        "contact_points": [[cp.kind.value, cp.value, cp.label] for cp in b.contact_points],
        "national_id": b.national_id,
    }
    row = m.loan_to_row(loan)
    row["installments"] = [
        [
            i.due_date,
            i.principal.minor_units,
            i.interest.minor_units,
            None if i.fees is None else i.fees.minor_units,
            i.accrual_start,
            i.accrual_days,
        ]
        for i in loan.installments
    ]
    row["next_review_date"] = next_review_date
    return borrower, row


def payment_row(payment: Payment) -> dict[str, Any]:
    """A payment row for a domain :class:`Payment`."""
    return m.payment_to_row(payment)


# -- writing ---------------------------------------------------------------------------


class BulkImporter:
    """Imports rows into a :class:`SqlStore` in batches, for its tenant (see the module notes).

    :param batch_size: rows per batch and transaction.
    :param review_on: review date of newly opened cases when a loan row has none
        (``None`` and no ``next_review_date``: the case waits for a review date).
    :param stop_on_error: raise :class:`BulkImportError` at the first bad batch.
    """

    def __init__(
        self,
        store: SqlStore,
        *,
        batch_size: int = 10_000,
        review_on: dt.date | None = None,
        stop_on_error: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValidationError("batch_size", batch_size, "must be >= 1")
        self.store = store
        self.batch_size = batch_size
        self.review_on = review_on
        self.stop_on_error = stop_on_error
        self._enc = _Encoder(store.dialect, store.tenant)
        self._pending: dict[str, list[Mapping[str, Any]]] = {
            "borrower": [],
            "loan": [],
            "payment": [],
        }
        # position of the first pending row of each kind (rows of a kind are numbered
        # in order, so a batch needs only where it starts)
        self._first = {"borrower": 0, "loan": 0, "payment": 0}
        self._counts = {"borrower": 0, "loan": 0, "payment": 0, "case": 0}
        self._batches = 0
        self._rejected = 0
        self._problems: list[ImportProblem] = []
        # Ids this import has written, so the next batches' references to them need
        # no query (bounded; an id not found here is looked up in the database).
        self._written: dict[str, set[str]] = {"borrower": set(), "loan": set()}

    # -- feeding -------------------------------------------------------------------
    def add(self, kind: str, row: Mapping[str, Any]) -> None:
        """Queue one row of ``kind`` (``"borrower"``, ``"loan"``, ``"payment"``)."""
        if kind not in self._pending:
            raise ValidationError("kind", kind, "expected 'borrower', 'loan' or 'payment'")
        queue = self._pending[kind]
        queue.append(row)
        if len(queue) >= self.batch_size:
            self._flush_upto(kind)

    def add_all(self, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        """Queue ``(kind, row)`` pairs."""
        # ``add`` inlined: per row, the method call was a visible share of the import.
        pending = self._pending
        size = self.batch_size
        for kind, row in rows:
            queue = pending.get(kind)
            if queue is None:
                self.add(kind, row)
                continue
            queue.append(row)
            if len(queue) >= size:
                self._flush_upto(kind)

    def finish(self) -> ImportReport:
        """Write what is queued and return the report."""
        self._flush_upto("payment")
        return ImportReport(
            borrowers=self._counts["borrower"],
            loans=self._counts["loan"],
            payments=self._counts["payment"],
            cases_opened=self._counts["case"],
            batches=self._batches,
            rejected_batches=self._rejected,
            problems=tuple(self._problems),
        )

    def _flush_upto(self, kind: str) -> None:
        # Referenced rows first: borrowers before loans before payments.
        for k in ("borrower", "loan", "payment"):
            if self._pending[k]:
                batch, self._pending[k] = self._pending[k], []
                first = self._first[k]
                self._first[k] = first + len(batch)
                self._write(k, first, batch)
            if k == kind:
                break

    # -- one batch -----------------------------------------------------------------
    def _reject(self, kind: str, position: int, bad: _BadRowError) -> None:
        problem = ImportProblem(kind, position, bad.field, _shown(bad.value), bad.reason)
        self._problems.append(problem)
        self._rejected += 1
        if self.stop_on_error:
            raise BulkImportError(problem)

    def _write(self, kind: str, first: int, batch: list[Mapping[str, Any]]) -> None:
        try:
            rows, cases = self._prepare(kind, first, batch)
        except _LocatedError as located:
            self._reject(kind, located.position, located.bad)
            return
        plan = {"borrower": _BORROWER, "loan": _LOAN, "payment": _PAYMENT}[kind]
        try:
            with self.store.engine.begin() as conn:
                if kind == "payment":
                    self._check_payments(conn, first, rows)
                elif kind == "loan":
                    self._check_borrowers(conn, first, rows)
                self._copy(conn, plan, rows)
                if cases:
                    self._copy(conn, _CASE, cases)
        except _LocatedError as located:
            self._reject(kind, located.position, located.bad)
            return
        self._batches += 1
        self._counts[kind] += len(rows)
        self._counts["case"] += len(cases)
        written = self._written.get(kind)
        if written is not None:
            if len(written) + len(rows) > max(_CACHE_LIMIT, 2 * self.batch_size):
                written.clear()
            written.update([r[0] for r in rows])

    def _prepare(
        self, kind: str, first: int, batch: list[Mapping[str, Any]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The batch's validated, encoded rows (and the cases its loans open)."""
        enc = self._enc
        prepare = _borrower if kind == "borrower" else _payment if kind == "payment" else None
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        reviews: list[dt.date | None] = []
        position = first
        try:
            if prepare is None:
                add_review = reviews.append
                for row in batch:
                    if type(row) is not dict and not isinstance(row, Mapping):
                        raise _BadRowError("row", type(row).__name__, "expected a mapping")
                    values, review = _loan(row, enc)
                    append(values)
                    add_review(review)
                    position += 1
            else:
                for row in batch:
                    if type(row) is not dict and not isinstance(row, Mapping):
                        raise _BadRowError("row", type(row).__name__, "expected a mapping")
                    append(prepare(row, enc))
                    position += 1
        except _BadRowError as bad:
            # A repeated id before the bad row is the first problem of the batch.
            _check_unique(first, rows)
            raise _LocatedError(position, bad) from None
        _check_unique(first, rows)
        if prepare is not None:
            return rows, []
        return rows, self._cases(rows, reviews)

    def _cases(
        self, rows: list[tuple[Any, ...]], reviews: Sequence[dt.date | None]
    ) -> list[tuple[Any, ...]]:
        """The case rows the loan rows open (due on their review date or ``review_on``)."""
        enc = self._enc
        date = enc.date
        review_on = self.review_on
        opened = ("current", *_EMPTY_CASE)
        tenant = enc.tenant
        return [
            (r[0], *opened, date(review if review is not None else review_on), tenant)
            for r, review in zip(rows, reviews, strict=True)
        ]

    def _missing(self, conn: Connection, table: sa.Table, ids: set[str]) -> set[str]:
        """Those of ``ids`` that are not ids of ``table`` in the importer's tenant."""
        found: set[str] = set()
        listed = sorted(ids)
        c = table.c
        for start in range(0, len(listed), 900):
            part = listed[start : start + 900]
            q = sa.select(c.id).where(c.tenant_id == self._enc.tenant, c.id.in_(part))
            found.update(conn.execute(q).scalars())
        return ids - found

    def _check_borrowers(self, conn: Connection, first: int, rows: list[Any]) -> None:
        unknown = {r[1] for r in rows} - self._written["borrower"]
        if not unknown:
            return
        missing = self._missing(conn, t.borrowers, unknown)
        if not missing:
            return
        for position, r in enumerate(rows, first):
            if r[1] in missing:
                raise _LocatedError(position, _BadRowError("borrower_id", r[1], "no such borrower"))

    def _check_payments(self, conn: Connection, first: int, rows: list[Any]) -> None:
        unknown = {r[1] for r in rows} - self._written["loan"]
        missing = self._missing(conn, t.loans, unknown) if unknown else unknown
        ids = [r[0] for r in rows]
        clash: set[str] = set()
        p = t.payments.c
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            q = sa.select(p.id).where(p.tenant_id == self._enc.tenant, p.id.in_(part))
            clash.update(conn.execute(q).scalars())
        for position, r in enumerate(rows, first):
            if r[1] in missing:
                raise _LocatedError(position, _BadRowError("loan_id", r[1], "no such loan"))
            if r[0] in clash:
                raise _LocatedError(position, _BadRowError("id", r[0], "payment already recorded"))

    def _copy(self, conn: Connection, plan: _Plan, rows: list[tuple[Any, ...]]) -> None:
        cols = plan.columns
        name = plan.table.name
        col_sql = ", ".join(f'"{c}"' for c in cols)
        keys = ", ".join(plan.keys)
        if plan.update:
            sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in plan.keys)
            conflict = f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        else:
            conflict = f"ON CONFLICT ({keys}) DO NOTHING"
        raw = conn.connection.driver_connection
        assert raw is not None
        if self.store.dialect == "sqlite":
            # Straight to the driver, inside the transaction SQLAlchemy began: the
            # rows are already encoded, so nothing is left for it to do per row.
            marks = ", ".join("?" for _ in cols)
            raw.executemany(f"INSERT INTO {name} ({col_sql}) VALUES ({marks}) {conflict}", rows)
            return
        tmp = f"tmp_{name}"
        with raw.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {name} INCLUDING DEFAULTS) "
                "ON COMMIT DELETE ROWS"
            )
            with cur.copy(f"COPY {tmp} ({col_sql}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            cur.execute(f"INSERT INTO {name} ({col_sql}) SELECT {col_sql} FROM {tmp} {conflict}")
            cur.execute(f"TRUNCATE {tmp}")


class _LocatedError(Exception):
    def __init__(self, position: int, bad: _BadRowError) -> None:
        super().__init__(bad.field)
        self.position, self.bad = position, bad


def _check_unique(first: int, rows: list[tuple[Any, ...]]) -> None:
    # One set over the whole batch; the row is looked for only when there is one.
    ids = [r[0] for r in rows]
    if len(set(ids)) == len(ids):
        return
    seen: set[Any] = set()
    for position, rid in enumerate(ids, first):
        if rid in seen:
            raise _LocatedError(position, _BadRowError("id", rid, "appears twice in the batch"))
        seen.add(rid)


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def import_rows(
    store: SqlStore,
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    batch_size: int = 10_000,
    review_on: dt.date | None = None,
    stop_on_error: bool = False,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import ``(kind, row)`` pairs (see the module notes); return the report."""
    importer = BulkImporter(
        store, batch_size=batch_size, review_on=review_on, stop_on_error=stop_on_error
    )
    importer.add_all(rows)
    report = importer.finish()
    if progress is not None:
        progress(report)
    return report


# -- validated domain records in one transaction (the storage port's BulkLoading) ------------


def _borrower_row(b: Borrower) -> dict[str, Any]:
    return {
        "id": b.id,
        "kind": b.kind.value,
        "name": b.name,
        "jurisdiction": b.jurisdiction,
        "time_zone": b.time_zone,
        "locale": b.locale,
        "contact_points": [[cp.kind.value, cp.value, cp.label] for cp in b.contact_points],
        "national_id": b.national_id,
    }


def _loan_values(loan: Loan, enc: _Encoder) -> tuple[Any, ...]:
    """The encoded ``lc_loans`` row of a validated :class:`Loan`: the values the bulk
    path writes for ``loan_rows(loan)`` (same JSON text, same encodings), taken from
    the loan's integer schedule rows where it keeps them, without checking again what
    the domain constructors checked."""
    rows = loan.schedule_rows()
    iso = _ISO
    schedule = json.dumps(
        [
            [n, iso[due], p, interest, fees, None if start is None else iso[start], days]
            for n, (_, due, p, interest, fees, start, days) in enumerate(rows, start=1)
        ],
        separators=(",", ":"),
    )
    penalty = m.penalty_to_json(loan.penalty)
    tolerance = loan.tolerance
    return (
        loan.id,
        loan.borrower.id,
        loan.principal.currency,
        loan.principal.minor_units,
        str(loan.annual_rate),
        enc.date(loan.disbursement_date),
        schedule,
        loan.method.value,
        loan.frequency.value,
        None if loan.day_count is None else loan.day_count.value,
        None if penalty is None else json.dumps(penalty),
        loan.grace_days,
        None if tolerance is None else tolerance.minor_units,
        enc.flag(loan.private_lending),
        enc.date(loan.contract_date),
        loan.product,
        enc.tenant,
    )


@attrs.frozen(kw_only=True)
class RecordEncoder:
    """Encodes validated borrowers and loans into the rows :func:`load_encoded` writes
    (the storage port's ``RecordEncoder``): picklable, so that another process can
    encode while this one writes. The rows are those :func:`load_records` writes.

    :param dialect: the store's dialect (``"sqlite"`` or ``"postgresql"``).
    :param tenant: the tenant the rows are written for.
    """

    dialect: str
    tenant: str

    def encode_borrowers(self, borrowers: Sequence[Borrower]) -> list[Any]:
        """One encoded row per borrower, in order: a tuple (a row of the bulk path) or,
        for a borrower with an income or a debt service, a mapping (a plain upsert).

        :raises ValidationError: naming the field and the value, if the bulk path
            refuses a borrower.
        """
        enc = _Encoder(self.dialect, self.tenant)
        out: list[Any] = []
        try:
            for b in borrowers:
                if b.monthly_income is not None or b.monthly_debt_service is not None:
                    out.append(m.borrower_to_row(b))
                else:
                    out.append(_borrower(_borrower_row(b), enc))
        except _BadRowError as bad:
            raise ValidationError(bad.field, _shown(bad.value), bad.reason) from None
        return out

    def encode_loans(self, loans: Sequence[Loan]) -> list[Any]:
        """One encoded ``lc_loans`` row per loan, in order."""
        enc = _Encoder(self.dialect, self.tenant)
        return [_loan_values(x, enc) for x in loans]


def load_records(
    store: SqlStore,
    *,
    borrowers: Sequence[Borrower],
    loans: Sequence[Loan],
    review_on: dt.date,
) -> None:
    """Write validated borrowers and loans (opening a case due on ``review_on`` for each
    loan without one) in **one** transaction, through the bulk path; what
    :meth:`SqlStore.load_records` does for ``loancollect import``.

    Borrowers with an income or a debt service (columns the bulk rows do not carry)
    are written with a plain upsert in the same transaction.

    :raises ValidationError: naming the field and the value, if a row is refused (a
        loan whose borrower is neither among ``borrowers`` nor stored); nothing is
        written then.
    """
    encoder = RecordEncoder(dialect=store.dialect, tenant=store.tenant)
    load_encoded(
        store,
        borrowers=encoder.encode_borrowers(borrowers),
        loans=encoder.encode_loans(loans),
        review_on=review_on,
    )


def load_encoded(
    store: SqlStore,
    *,
    borrowers: Sequence[Any],
    loans: Sequence[Any],
    review_on: dt.date,
) -> None:
    """Write rows a :class:`RecordEncoder` of this store encoded, as :func:`load_records`
    writes its records: in **one** transaction, a case due on ``review_on`` opened for
    each loan without one.

    :raises ValidationError: naming the field and the value, if a row is refused (a
        repeated id, a loan whose borrower is neither among ``borrowers`` nor
        stored); nothing is written then.
    """
    importer = BulkImporter(
        store, batch_size=max(1, len(borrowers), len(loans)), review_on=review_on
    )
    b_rows = [r for r in borrowers if type(r) is tuple]
    rich = [r for r in borrowers if type(r) is not tuple]
    try:
        _check_unique(0, b_rows)
        l_rows = list(loans)
        _check_unique(0, l_rows)
        cases = importer._cases(l_rows, [None] * len(l_rows))
        with store.engine.begin() as conn:
            if b_rows:
                importer._copy(conn, _BORROWER, b_rows)
            if rich:
                ins: Any = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(
                    t.borrowers
                )
                keys = ["tenant_id", "id"]
                changes = {
                    c.name: ins.excluded[c.name] for c in t.borrowers.columns if c.name not in keys
                }
                conn.execute(
                    ins.on_conflict_do_update(index_elements=keys, set_=changes),
                    [{**r, "tenant_id": store.tenant} for r in rich],
                )
            if l_rows:
                importer._check_borrowers(conn, 0, l_rows)
                importer._copy(conn, _LOAN, l_rows)
                importer._copy(conn, _CASE, cases)
    except _LocatedError as located:
        bad = located.bad
        raise ValidationError(bad.field, _shown(bad.value), bad.reason) from None


def stored_borrowers(store: SqlStore, ids: Iterable[str]) -> dict[str, Borrower]:
    """The stored borrowers (of the store's tenant) among ``ids``, by id."""
    listed = sorted(set(ids))
    found: dict[str, Borrower] = {}
    c = t.borrowers.c
    with store.engine.connect() as conn:
        for start in range(0, len(listed), 900):
            q = sa.select(t.borrowers).where(
                c.tenant_id == store.tenant, c.id.in_(listed[start : start + 900])
            )
            for row in conn.execute(q).mappings():
                b = m.row_to_borrower(row)
                found[b.id] = b
    return found


def stored_ids(store: SqlStore, table: sa.Table, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that are ids of ``table`` in the store's tenant."""
    listed = sorted(set(ids))
    found: set[str] = set()
    c = table.c
    with store.engine.connect() as conn:
        for start in range(0, len(listed), 900):
            q = sa.select(c.id).where(
                c.tenant_id == store.tenant, c.id.in_(listed[start : start + 900])
            )
            found.update(conn.execute(q).scalars())
    return found
