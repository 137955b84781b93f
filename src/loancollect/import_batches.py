"""Importing large files in batches: streamed, bounded memory, all or nothing per batch.

What ``loancollect import`` does when the storage offers
:class:`~loancollect.ports.BulkLoading` (the SQL plug-in does). Files are read a line
at a time and handled in batches of :data:`BATCH_ROWS` rows; each row is validated
exactly as :func:`loancollect.importing.import_files` validates it (a problem names
the file, the line, the field and the value), and each batch is written in one
transaction through the storage's bulk path. A batch with a bad row is **not
written at all** (its bad rows are reported; the other batches go on), or, with
``skip_bad``, is written without its bad rows.

Files are taken by kind, whatever the order they are given in: borrowers first (a
file of their own: they are stored before, and without, their loans), then loans
(a loan's borrower is one stored by an earlier batch or an earlier import), then
payments (through the repositories, batch by batch, each recorded as
``PAYMENT_RECEIVED`` as the intake does). Schedule files are read whole before the
loans they belong to (their size is what memory holds).

What is held between batches is bounded by the batch size and the bad rows, with
two exceptions the caller should know: the schedule rows, and the ids of rows that
were bad (so that rows depending on them say why). Ids are checked for repeats
within a batch; a repeat in another batch replaces the borrower or loan stored
before it (as a later import would), and a payment repeated with other content is
refused.

Where the storage is also :class:`~loancollect.ports.EncodedLoading` (the SQL plug-in
is), borrower and loan batches are validated by :mod:`loancollect.import_workers`:
in ``processes`` worker processes (started with ``spawn``) while this process writes
the batches strictly in file order, or here with ``processes=1``. At most
``processes + 1`` batches are in flight. The rules above hold unchanged (the same
checks, messages, stored rows, all or nothing per batch); a loan's borrower is
checked by id before its batch is sent (every borrower batch is written before the
first loan batch is sent), and a loan already stored is checked for replacement here
when its batch is written. A worker that dies stops the import
(:class:`ImportStoppedError`): the batches before the one it was validating are
written, that one and the ones after it are not. A program that imports with
``processes > 1`` needs the usual ``if __name__ == "__main__":`` guard of
``multiprocessing``'s ``spawn``.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import multiprocessing
import os
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from loancollect.domain.case import Case
from loancollect.domain.checks import check_date
from loancollect.domain.errors import LoanCollectError, ValidationError
from loancollect.domain.events import Event
from loancollect.domain.loans import Borrower, Installment, Loan, Payment
from loancollect.engine.intake import accept_payment
from loancollect.import_workers import (
    BorrowerOutcome,
    BorrowerTask,
    LoanOutcome,
    LoanTask,
    check_borrowers,
    check_loans,
    loan_of_row,
)
from loancollect.importing import (
    FileProblemError,
    ImportRejectedError,
    ImportResult,
    _borrower,
    _check_replacement,
    _duplicates,
    _installment,
    _kind_of,
    _lines,
    _loan,
    _opt,
    _payment,
    _Row,
    _text,
    read_rows,
)
from loancollect.ports import BulkLoading, EncodedLoading, UnitOfWork, UnitOfWorkFactory

__all__ = [
    "BATCH_ROWS",
    "ImportStoppedError",
    "import_in_batches",
]

BATCH_ROWS = 5_000
"""Rows per batch: one transaction each, and what memory holds at a time."""

_ORDER = ("borrowers", "schedules", "loans", "payments")
_JSON = (".jsonl", ".ndjson", ".json")


def _file_kind(path: Path) -> str | None:
    """The kind of records in ``path`` from its header (CSV) or first row (JSON Lines);
    ``None`` for a file without rows."""
    if path.suffix.lower() in _JSON:
        for _, row in read_rows(path):
            return _kind_of(path, set(row))
        return None
    try:
        header = next(csv.reader(_lines(path), strict=True), None)
    except csv.Error as exc:
        raise FileProblemError(
            f"{path.name}:1", "line", "", f"not readable as CSV: {exc}"
        ) from None
    if header is None:
        return None
    return _kind_of(path, {c.strip() for c in header if c.strip()})


@attrs.frozen(kw_only=True)
class _Batch:
    rows: list[_Row]
    broken: FileProblemError | None  # a line that could not be read ends the file

    @property
    def where(self) -> str:
        """``file lines A-B`` of the batch."""
        if not self.rows:
            return self.broken.source if self.broken is not None else "?"
        first, last = self.rows[0].source, self.rows[-1].source
        name, _, start = first.rpartition(":")
        end = last.rpartition(":")[2]
        if self.broken is not None:
            end = self.broken.source.rpartition(":")[2]
        return f"{name} lines {start}-{end}"


def _batches(path: Path, kind: str, size: int) -> Iterator[_Batch]:
    rows: list[_Row] = []
    try:
        for number, data in read_rows(path):
            rows.append(_Row(kind, f"{path.name}:{number}", data))
            if len(rows) >= size:
                yield _Batch(rows=rows, broken=None)
                rows = []
    except FileProblemError as exc:
        yield _Batch(rows=rows, broken=exc)
        return
    if rows:
        yield _Batch(rows=rows, broken=None)


class ImportStoppedError(LoanCollectError):
    """A worker process ended while validating a batch (killed, out of memory): the
    import stopped there. The batches before it were written (``result`` counts
    them; ``problems`` lists the bad rows found so far); that batch and the ones after
    it were not. Importing the files again replaces the rows already stored."""

    def __init__(self, where: str, cause: BaseException, result: ImportResult) -> None:
        self.where = where
        self.result = result
        self.problems = [message for message, _ in result.rejected]
        done = ", ".join(f"{n:,} {kind}" for kind, n in result.counts.items())
        super().__init__(
            f"{where}: the worker process validating this batch ended unexpectedly "
            f"({type(cause).__name__}: {cause}); nothing of this batch or of the ones "
            f"after it was imported; imported before it: {done}. Import the files "
            "again (rows already stored are replaced), with --processes 1 if it recurs"
        )


def usable_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


class _Workers:
    """Where batches are validated: a pool of spawned processes (``spawn``: nothing of
    this process is inherited but the task), or this process when ``processes`` is 1."""

    def __init__(self, processes: int) -> None:
        self.pool: ProcessPoolExecutor | None = None
        if processes > 1:
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=context)
        # Batches sent but not yet written: one waiting per worker, so none idles
        # while the main process writes; memory holds this many batches.
        self.ahead = 1 if self.pool is None else processes + 1

    def submit(self, check: Callable[[Any], Any], task: Any) -> Future[Any]:
        """The future outcome of ``check(task)``; a broken pool's error is in it."""
        future: Future[Any] = Future()
        if self.pool is None:
            future.set_result(check(task))
            return future
        try:
            return self.pool.submit(check, task)
        except BrokenExecutor as exc:
            future.set_exception(exc)
            return future

    def close(self) -> None:
        """Stop the workers (dropping what they have not started)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


@attrs.define(kw_only=True)
class _InFlight:
    """A batch being validated, waiting to be written in file order; for loans, what
    the main process found before sending it (problems, ids, schedule rows)."""

    batch: _Batch
    repeated: dict[int, str]
    future: Future[Any]
    early: dict[int, str] = attrs.Factory(dict)
    loan_ids: dict[int, str] = attrs.Factory(dict)
    borrower_ids: dict[int, str] = attrs.Factory(dict)
    schedules: dict[int, list[tuple[str, dict[str, Any]]]] = attrs.Factory(dict)


class _Run:
    """The state of one import between batches."""

    def __init__(
        self,
        storage: UnitOfWorkFactory,
        loader: BulkLoading,
        *,
        skip_bad: bool,
        review_on: dt.date,
        replace: bool,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.storage = storage
        self.loader = loader
        self.skip_bad = skip_bad
        self.review_on = review_on
        self.replace = replace
        self.progress = progress
        self.counts = {"borrowers": 0, "loans": 0, "payments": 0}
        self.problems: list[str] = []
        self.rejected: list[tuple[str, dict[str, Any]]] = []
        self.not_written: list[str] = []
        self.refused: list[str] = []
        self.bad_borrowers: set[str] = set()
        self.unwritten_borrowers: set[str] = set()
        self.schedules: dict[str, list[_Row]] = defaultdict(list)

    # -- problems ----------------------------------------------------------------------
    def bad(self, source: str, exc: Exception, data: dict[str, Any]) -> None:
        message = str(exc) if isinstance(exc, FileProblemError) else f"{source}: {exc}"
        self.problems.append(message)
        self.rejected.append((message, data))

    def refuse(self, batch: _Batch, bad_rows: int) -> None:
        what = f"{bad_rows} bad row(s) in this batch" if bad_rows else "storage refused this batch"
        self.refused.append(f"{batch.where}: nothing imported: {what} of {len(batch.rows)} row(s)")

    def repeats(self, batch: _Batch, key: Callable[[_Row], object]) -> dict[int, str]:
        """Rows of the batch whose id another row of the batch repeats, reported."""
        repeated = _duplicates(batch.rows, key)
        self.record_repeats(batch, repeated)
        return repeated

    def done(self, batch: _Batch) -> None:
        if self.progress is not None:
            self.progress(len(batch.rows))

    # -- kinds -------------------------------------------------------------------------
    def borrowers(self, batch: _Batch) -> None:
        before = len(self.problems)
        repeated = self.repeats(batch, lambda r: _opt(r.data, "id"))
        good: list[Borrower] = []
        bad_ids: set[str] = set()
        for i, r in enumerate(batch.rows):
            if i in repeated:
                continue
            try:
                good.append(_borrower(r.data))
            except (LoanCollectError, ValueError) as exc:
                self.bad(r.source, exc, r.data)
                bad_ids.add(_opt(r.data, "id") or "")
        if batch.broken is not None:
            self.bad(batch.broken.source, batch.broken, {})
        self.bad_borrowers |= bad_ids
        if not self.write(batch, before, lambda: self.load(borrowers=good)):
            self.unwritten_borrowers.update(b.id for b in good)
            return
        self.counts["borrowers"] += len(good)

    def schedules_of(self, batch: _Batch) -> None:
        for r in batch.rows:
            self.schedules[str(r.data.get("loan_id", ""))].append(r)
        if batch.broken is not None:
            self.bad(batch.broken.source, batch.broken, {})

    def check_schedules(self) -> None:
        """Refuse installments repeated within their loan's schedule."""
        for loan_id, rows in list(self.schedules.items()):
            repeated = _duplicates(rows, lambda r: _opt(r.data, "number"))
            for i, others in repeated.items():
                r = rows[i]
                what = f"installment of loan {loan_id!r} with this number"
                self.bad(
                    r.source,
                    ValidationError(
                        "number", _opt(r.data, "number"), f"the same {what} is also on {others}"
                    ),
                    r.data,
                )
            self.schedules[loan_id] = [r for i, r in enumerate(rows) if i not in repeated]

    def loans(self, batch: _Batch) -> None:
        before = len(self.problems)
        repeated = self.repeats(batch, lambda r: _opt(r.data, "id"))
        wanted = {_opt(r.data, "borrower_id") or "" for r in batch.rows}
        people = self.loader.stored_borrowers(wanted)
        stored = self.loader.stored_loan_ids({_opt(r.data, "id") or "" for r in batch.rows})
        good: list[Loan] = []
        uow: UnitOfWork | None = None
        try:
            for i, r in enumerate(batch.rows):
                if i in repeated:
                    continue
                try:
                    loan = self.loan(r, people)
                    if loan.id in stored:
                        if uow is None:
                            uow = self.storage().__enter__()
                        _check_replacement(uow, loan, allowed=self.replace)
                    good.append(loan)
                except (LoanCollectError, ValueError) as exc:
                    self.bad(r.source, exc, r.data)
        finally:
            if uow is not None:
                uow.__exit__(None, None, None)
        if batch.broken is not None:
            self.bad(batch.broken.source, batch.broken, {})
        if self.write(batch, before, lambda: self.load(loans=good)):
            self.counts["loans"] += len(good)

    def loan(self, r: _Row, people: dict[str, Borrower]) -> Loan:
        bid = _text(r.data, "borrower_id")
        lid = _text(r.data, "id")
        borrower = people.get(bid)
        if borrower is None:
            if bid in self.bad_borrowers:
                reason = "its borrower's row is bad"
            elif bid in self.unwritten_borrowers:
                reason = "its borrower's batch was not imported (it has a bad row)"
            else:
                reason = "no such borrower (import borrowers first, or with their loans)"
            raise ValidationError("borrower_id", bid, reason)
        currency = _text(r.data, "currency")
        schedule: list[Installment] = []
        for srow in self.schedules.pop(lid, []):
            try:
                schedule.append(_installment(srow.data, currency))
            except (LoanCollectError, ValueError) as exc:
                raise ValidationError(
                    f"schedule {srow.source}", srow.data.get("number"), str(exc)
                ) from None
        return _loan(r.data, borrower, schedule or None)

    def payments(self, batch: _Batch) -> None:
        before = len(self.problems)
        repeated = self.repeats(batch, lambda r: _opt(r.data, "id"))
        with self.storage() as uow:
            accepted: list[tuple[Payment, Loan]] = []
            seen: list[str] = []
            for i, r in enumerate(batch.rows):
                if i in repeated:
                    continue
                try:
                    payment = _payment(r.data)
                    target = uow.loans.get(payment.loan_id)
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
                    known = {p.id: p for p in uow.loans.payments_for(payment.loan_id)}.get(
                        payment.id
                    )
                    if known is not None:
                        if known != payment:
                            raise ValidationError(
                                "id", payment.id, "already recorded with different content"
                            )
                        seen.append(f"{r.source}: payment {payment.id!r} is already stored")
                        continue
                    accepted.append((payment, target))
                except (LoanCollectError, ValueError) as exc:
                    self.bad(r.source, exc, r.data)
            if batch.broken is not None:
                self.bad(batch.broken.source, batch.broken, {})
            if len(self.problems) > before and not self.skip_bad:
                self.refuse(batch, len(self.problems) - before)
                self.done(batch)
                return
            events: list[Event] = []
            for payment, owner in accepted:
                # The intake's door, as in import_files: stored, recorded as
                # PAYMENT_RECEIVED, and the case reviewed again (not before review_on).
                first = self.review_on
                case = uow.cases.get(owner.id) or Case(loan_id=owner.id, next_review_date=first)
                try:
                    events += accept_payment(uow, payment, loan=owner, case=case)
                except LoanCollectError as exc:
                    self.batch_failed(batch, f"payment {payment.id!r}: {exc}")
                    self.done(batch)
                    return  # leaving the unit of work uncommitted rolls the batch back
                uow.cases.save(case.reviewed_by(max(payment.value_date, first)))
            if events:
                uow.events.append(events)
            uow.commit()
        self.not_written += seen
        self.counts["payments"] += len(accepted)
        self.done(batch)

    # -- validated in workers, written here in file order --------------------------------
    def pipeline(self, kind: str, batches: Iterable[_Batch], workers: _Workers) -> None:
        """Send each batch of ``kind`` (borrowers or loans) to be validated, and write
        the outcomes in file order, a bounded number of batches ahead."""
        assert isinstance(self.loader, EncodedLoading)
        encoder = self.loader.record_encoder()
        send = self.send_borrowers if kind == "borrowers" else self.send_loans
        finish = self.finish_borrowers if kind == "borrowers" else self.finish_loans
        waiting: deque[_InFlight] = deque()
        for batch in batches:
            waiting.append(send(batch, encoder, workers))
            while len(waiting) >= workers.ahead:
                finish(waiting.popleft())
        while waiting:
            finish(waiting.popleft())

    def outcome(self, flight: _InFlight) -> Any:
        """The batch's outcome; a worker that died stops the import (the batches
        before it are written: see :class:`ImportStoppedError`)."""
        try:
            return flight.future.result()
        except BrokenExecutor as exc:
            result = ImportResult(dict(self.counts), tuple(self.rejected), tuple(self.not_written))
            raise ImportStoppedError(flight.batch.where, exc, result) from None

    def record_repeats(self, batch: _Batch, repeated: dict[int, str]) -> None:
        """Report each row of the batch whose id another row repeats (``repeated``:
        row index -> where the others are)."""
        for i, others in repeated.items():
            r = batch.rows[i]
            self.bad(
                r.source,
                ValidationError(
                    "id", _opt(r.data, "id"), f"the same id is also on {others}: ids must be unique"
                ),
                r.data,
            )

    def bad_text(self, message: str, data: dict[str, Any]) -> None:
        """A problem a worker worded (``file:line: field=value: reason``)."""
        self.problems.append(message)
        self.rejected.append((message, data))

    def send_borrowers(self, batch: _Batch, encoder: Any, workers: _Workers) -> _InFlight:
        repeated = _duplicates(batch.rows, lambda r: _opt(r.data, "id"))
        sent = [i for i in range(len(batch.rows)) if i not in repeated]
        task = BorrowerTask(
            encoder=encoder,
            indexes=sent,
            sources=[batch.rows[i].source for i in sent],
            rows=[batch.rows[i].data for i in sent],
        )
        return _InFlight(
            batch=batch, repeated=repeated, future=workers.submit(check_borrowers, task)
        )

    def finish_borrowers(self, flight: _InFlight) -> None:
        batch = flight.batch
        outcome: BorrowerOutcome = self.outcome(flight)
        before = len(self.problems)
        self.record_repeats(batch, flight.repeated)
        for i in sorted(outcome.bad):
            self.bad_text(outcome.bad[i], batch.rows[i].data)
        if batch.broken is not None:
            self.bad(batch.broken.source, batch.broken, {})
        self.bad_borrowers.update(outcome.bad_ids)

        def write() -> None:
            if outcome.encoded is None:  # the storage refused one of the borrowers
                raise LoanCollectError(str(outcome.refusal))
            self.load_encoded(borrowers=outcome.encoded)

        if not self.write(batch, before, write):
            self.unwritten_borrowers.update(outcome.good_ids)
            return
        self.counts["borrowers"] += len(outcome.good)

    def send_loans(self, batch: _Batch, encoder: Any, workers: _Workers) -> _InFlight:
        repeated = _duplicates(batch.rows, lambda r: _opt(r.data, "id"))
        wanted = {_opt(r.data, "borrower_id") or "" for r in batch.rows}
        # Every borrower batch is written before the first loan batch is sent.
        assert isinstance(self.loader, EncodedLoading)
        known = self.loader.stored_borrower_ids(wanted)
        flight = _InFlight(batch=batch, repeated=repeated, future=Future())
        sent: list[int] = []
        for i, r in enumerate(batch.rows):
            if i in repeated:
                continue
            try:
                bid = _text(r.data, "borrower_id")
                lid = _text(r.data, "id")
                if bid not in known:
                    raise ValidationError("borrower_id", bid, self.no_borrower(bid))
            except (LoanCollectError, ValueError) as exc:
                flight.early[i] = f"{r.source}: {exc}"
                continue
            sent.append(i)
            flight.loan_ids[i] = lid
            flight.borrower_ids[i] = bid
            flight.schedules[i] = [(s.source, s.data) for s in self.schedules.pop(lid, [])]
        task = LoanTask(
            encoder=encoder,
            indexes=sent,
            sources=[batch.rows[i].source for i in sent],
            rows=[batch.rows[i].data for i in sent],
            borrower_ids=[flight.borrower_ids[i] for i in sent],
            schedules=[flight.schedules[i] for i in sent],
        )
        flight.future = workers.submit(check_loans, task)
        return flight

    def no_borrower(self, bid: str) -> str:
        """Why a loan's borrower is not stored, as the one-process import says it."""
        if bid in self.bad_borrowers:
            return "its borrower's row is bad"
        if bid in self.unwritten_borrowers:
            return "its borrower's batch was not imported (it has a bad row)"
        return "no such borrower (import borrowers first, or with their loans)"

    def finish_loans(self, flight: _InFlight) -> None:
        batch = flight.batch
        outcome: LoanOutcome = self.outcome(flight)
        before = len(self.problems)
        self.record_repeats(batch, flight.repeated)
        stored = self.loader.stored_loan_ids({_opt(r.data, "id") or "" for r in batch.rows})
        encoded: dict[int, Any] = {}
        if outcome.encoded is not None:
            encoded = dict(zip(outcome.good, outcome.encoded, strict=True))
        good: list[int] = []
        uow: UnitOfWork | None = None
        try:
            for i, r in enumerate(batch.rows):
                if i in flight.repeated:
                    continue
                problem = flight.early.get(i) or outcome.bad.get(i)
                if problem is not None:
                    self.bad_text(problem, r.data)
                    continue
                if flight.loan_ids[i] in stored:
                    # Replacing a stored loan is checked against it, here (it needs
                    # the storage, and batches before this one may have stored it).
                    try:
                        if uow is None:
                            uow = self.storage().__enter__()
                        loan = loan_of_row(r.data, flight.borrower_ids[i], flight.schedules[i])
                        _check_replacement(uow, loan, allowed=self.replace)
                    except (LoanCollectError, ValueError) as exc:
                        self.bad(r.source, exc, r.data)
                        continue
                good.append(i)
        finally:
            if uow is not None:
                uow.__exit__(None, None, None)
        if batch.broken is not None:
            self.bad(batch.broken.source, batch.broken, {})

        def write() -> None:
            if outcome.encoded is None:  # the storage refused one of the loans
                raise LoanCollectError(str(outcome.refusal))
            self.load_encoded(loans=[encoded[i] for i in good])

        if self.write(batch, before, write):
            self.counts["loans"] += len(good)

    def load_encoded(self, *, borrowers: Sequence[Any] = (), loans: Sequence[Any] = ()) -> None:
        assert isinstance(self.loader, EncodedLoading)
        if borrowers or loans:
            self.loader.load_encoded(borrowers=borrowers, loans=loans, review_on=self.review_on)

    # -- writing -----------------------------------------------------------------------
    def load(self, *, borrowers: Sequence[Borrower] = (), loans: Sequence[Loan] = ()) -> None:
        if borrowers or loans:
            self.loader.load_records(borrowers=borrowers, loans=loans, review_on=self.review_on)

    def write(self, batch: _Batch, before: int, write: Callable[[], None]) -> bool:
        """Write the batch's good rows unless it has a bad row and bad rows are not
        skipped; ``True`` if they were written."""
        self.done(batch)
        if len(self.problems) > before and not self.skip_bad:
            self.refuse(batch, len(self.problems) - before)
            return False
        try:
            write()
        except LoanCollectError as exc:
            self.batch_failed(batch, str(exc))
            return False
        return True

    def batch_failed(self, batch: _Batch, reason: str) -> None:
        """The storage refused a batch of valid rows: none of it is written, even with
        ``skip_bad`` (the rejects file names the batch)."""
        message = f"{batch.where}: {reason}"
        self.problems.append(message)
        self.rejected.append((message, {}))
        self.refuse(batch, 0)


def import_in_batches(
    storage: UnitOfWorkFactory,
    paths: Sequence[Path],
    *,
    skip_bad: bool = False,
    review_on: dt.date,
    replace_loans_with_payments: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
    processes: int = 1,
) -> ImportResult:
    """Import ``paths`` batch by batch through the storage's bulk path (module notes).

    :param storage: a unit-of-work factory that is also :class:`BulkLoading`.
    :param skip_bad: write each batch without its bad rows, and return those (and the
        rows that depend on them) as rejected.
    :param progress: called with the number of rows of each batch handled.
    :param batch_rows: rows per batch (one transaction each).
    :param processes: processes that validate borrower and loan batches, where the
        storage is also :class:`~loancollect.ports.EncodedLoading` (the SQL plug-in
        is): with more than 1, a pool of that many worker processes validates and
        encodes batches while this process writes them in file order; 1 validates
        here (the default: on a two-core machine shared with other work, two workers
        took more CPU and no less wall time than one process; see ``benchmarks/``).
    :raises ImportRejectedError: when rows were bad and not ``skip_bad``, after every
        batch without a bad row was written; its :attr:`~ImportRejectedError.result`
        says what was written and :attr:`~ImportRejectedError.refused` which batches
        were not.
    :raises ImportStoppedError: if a worker process ended unexpectedly; the batches
        before the one it was validating are written.
    :raises ValidationError: if ``storage`` cannot load in bulk, or ``batch_rows`` or
        ``processes`` < 1.
    """
    check_date("review_on", review_on)
    if not isinstance(storage, BulkLoading):
        raise ValidationError("storage", type(storage).__name__, "does not load records in bulk")
    if batch_rows < 1:
        raise ValidationError("batch_rows", batch_rows, "must be at least 1")
    if isinstance(processes, bool) or processes < 1:
        raise ValidationError("processes", processes, "must be at least 1")
    run = _Run(
        storage,
        storage,
        skip_bad=skip_bad,
        review_on=review_on,
        replace=replace_loans_with_payments,
        progress=progress,
    )
    by_kind: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        try:
            kind = _file_kind(path)
        except (FileProblemError, ValidationError) as exc:
            source = exc.source if isinstance(exc, FileProblemError) else path.name
            run.bad(source, exc, {})
            continue
        if kind is not None:
            by_kind[kind].append(path)
    handlers = {
        "borrowers": run.borrowers,
        "schedules": run.schedules_of,
        "loans": run.loans,
        "payments": run.payments,
    }
    workers: _Workers | None = None
    try:
        if isinstance(storage, EncodedLoading):
            workers = _Workers(processes)
        for kind in _ORDER:
            if workers is not None and kind in ("borrowers", "loans"):
                batches = itertools.chain.from_iterable(
                    _batches(path, kind, batch_rows) for path in by_kind[kind]
                )
                run.pipeline(kind, batches, workers)
                continue
            for path in by_kind[kind]:
                for batch in _batches(path, kind, batch_rows):
                    handlers[kind](batch)
            if kind == "schedules":
                run.check_schedules()
    finally:
        if workers is not None:
            workers.close()
    for loan_id, orphans in run.schedules.items():
        for srow in orphans:
            run.bad(
                srow.source,
                ValidationError("loan_id", loan_id, "no such loan in this import"),
                srow.data,
            )
    result = ImportResult(dict(run.counts), tuple(run.rejected), tuple(run.not_written))
    if run.problems and not skip_bad:
        raise ImportRejectedError(run.problems, result=result, refused=run.refused)
    return result
