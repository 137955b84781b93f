"""Validating and encoding one batch of import rows, in a worker process or in this one.

What ``loancollect import`` hands to its worker processes (see
:mod:`loancollect.import_batches`): a batch of rows as read from the file (text
values: cheap to send), and the storage's :class:`~loancollect.ports.RecordEncoder`.
A worker validates every row with the domain's constructors, exactly as
:mod:`loancollect.importing` does, and sends back the storage's encoded rows of the
good ones (plain tuples, text and numbers: small to send) and the problem of each bad
one, worded as the one-process import words it. Nothing here touches storage, the
clock or shared state, so the functions run the same in any process.

A loan is validated against a stand-in for its borrower: what is stored for a loan
is its borrower's *id*, and whether that borrower is stored is checked by id by the
main process before the row is sent (the borrower's own row was validated when it
was imported). Rebuilding the stored borrower for each loan would cost more than
the rest of the loan's check and change nothing that is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from loancollect.domain.errors import LoanCollectError, ValidationError
from loancollect.domain.loans import Borrower, Installment, Loan, PartyKind
from loancollect.importing import _borrower, _installment, _loan, _opt, _text
from loancollect.ports import RecordEncoder

__all__ = [
    "BorrowerOutcome",
    "BorrowerTask",
    "LoanOutcome",
    "LoanTask",
    "check_borrowers",
    "check_loans",
    "loan_of_row",
    "stand_in_borrower",
]


@attrs.frozen(kw_only=True)
class BorrowerTask:
    """The borrower rows of one batch to validate: their positions in the batch, their
    ``file:line`` and their values (``rows``, as :func:`~loancollect.importing.read_rows`
    gives them), in file order."""

    encoder: RecordEncoder
    indexes: list[int]
    sources: list[str]
    rows: list[dict[str, Any]]


@attrs.frozen(kw_only=True)
class BorrowerOutcome:
    """What a worker found in a :class:`BorrowerTask`.

    :param good: positions of the valid rows, in order; ``good_ids`` their borrowers'
        ids and ``encoded`` their encoded rows (``None`` if the storage refused one:
        ``refusal`` says why, and the batch cannot be written).
    :param bad: position -> the problem's text (``file:line: field=value: reason``);
        ``bad_ids`` the ids of those rows (``""`` where there is none).
    """

    good: list[int]
    good_ids: list[str]
    encoded: list[Any] | None
    refusal: str | None
    bad: dict[int, str]
    bad_ids: list[str]


@attrs.frozen(kw_only=True)
class LoanTask:
    """The loan rows of one batch to validate (their borrowers known to be stored):
    positions, ``file:line``, values, borrower ids, and each row's schedule rows
    (``(file:line, values)`` of the schedule file; empty for a computed schedule)."""

    encoder: RecordEncoder
    indexes: list[int]
    sources: list[str]
    rows: list[dict[str, Any]]
    borrower_ids: list[str]
    schedules: list[list[tuple[str, dict[str, Any]]]]


@attrs.frozen(kw_only=True)
class LoanOutcome:
    """What a worker found in a :class:`LoanTask`: the positions and encoded rows of
    the valid loans (``encoded`` is ``None`` and ``refusal`` says why if the storage
    refused one), and position -> problem text of the bad ones."""

    good: list[int]
    encoded: list[Any] | None
    refusal: str | None
    bad: dict[int, str]


_STAND_IN = Borrower(
    id="stand-in",
    kind=PartyKind.INDIVIDUAL,
    name="stored borrower",
    jurisdiction="CN",
    time_zone="UTC",
    locale="en_US",
)
_STAND_IN_VALUES = tuple((a.name, getattr(_STAND_IN, a.name)) for a in attrs.fields(Borrower))


def stand_in_borrower(borrower_id: str) -> Borrower:
    """A :class:`Borrower` with ``borrower_id`` and placeholder details, to validate a
    loan of a borrower already stored (module notes); never written.

    It is a copy of one checked borrower with the id replaced, not checked again: the
    id is that of a stored borrower (checked when it was stored), and checking the
    placeholder details for every loan would cost as much as the loan's own fields.
    """
    borrower = object.__new__(Borrower)
    for name, value in _STAND_IN_VALUES:
        object.__setattr__(borrower, name, value)
    object.__setattr__(borrower, "id", borrower_id)
    return borrower


def check_borrowers(task: BorrowerTask) -> BorrowerOutcome:
    """Validate the task's borrower rows and encode the good ones."""
    good: list[int] = []
    records: list[Borrower] = []
    bad: dict[int, str] = {}
    bad_ids: list[str] = []
    for index, source, row in zip(task.indexes, task.sources, task.rows, strict=True):
        try:
            records.append(_borrower(row))
            good.append(index)
        except (LoanCollectError, ValueError) as exc:
            bad[index] = f"{source}: {exc}"
            bad_ids.append(_opt(row, "id") or "")
    encoded: list[Any] | None = None
    refusal: str | None = None
    try:
        encoded = task.encoder.encode_borrowers(records)
    except LoanCollectError as exc:
        refusal = str(exc)
    return BorrowerOutcome(
        good=good,
        good_ids=[b.id for b in records],
        encoded=encoded,
        refusal=refusal,
        bad=bad,
        bad_ids=bad_ids,
    )


def loan_of_row(
    row: Mapping[str, Any],
    borrower_id: str,
    schedule_rows: list[tuple[str, dict[str, Any]]],
) -> Loan:
    """The loan of one row, validated as :mod:`loancollect.importing` validates it (its
    own schedule from ``schedule_rows`` when there are any).

    :raises LoanCollectError: or :class:`ValueError`, naming the field and the value.
    """
    currency = _text(row, "currency")
    schedule: list[Installment] = []
    for source, data in schedule_rows:
        try:
            schedule.append(_installment(data, currency))
        except (LoanCollectError, ValueError) as exc:
            raise ValidationError(f"schedule {source}", data.get("number"), str(exc)) from None
    return _loan(row, stand_in_borrower(borrower_id), schedule or None)


def check_loans(task: LoanTask) -> LoanOutcome:
    """Validate the task's loan rows and encode the good ones."""
    good: list[int] = []
    loans: list[Loan] = []
    bad: dict[int, str] = {}
    for index, source, row, bid, schedule in zip(
        task.indexes, task.sources, task.rows, task.borrower_ids, task.schedules, strict=True
    ):
        try:
            loans.append(loan_of_row(row, bid, schedule))
            good.append(index)
        except (LoanCollectError, ValueError) as exc:
            bad[index] = f"{source}: {exc}"
    encoded: list[Any] | None = None
    refusal: str | None = None
    try:
        encoded = task.encoder.encode_loans(loans)
    except LoanCollectError as exc:
        refusal = str(exc)
    return LoanOutcome(good=good, encoded=encoded, refusal=refusal, bad=bad)
