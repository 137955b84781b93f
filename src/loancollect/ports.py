"""Ports: the small protocols between the engine and the outside world.

The collection cycle talks to storage, channels and the clock only through these
protocols. The in-memory backend (:mod:`loancollect.builtin.memory`) and the
recording channel (:mod:`loancollect.builtin.recording`) implement them in-tree;
plug-ins implement them for real databases and real channels, and prove it by
passing the conformance suites in :mod:`loancollect.testing`.

Storage in one picture::

    with uow_factory() as uow:          # a UnitOfWork
        loan = uow.loans.get("L-1")     # LoanRepository
        case = uow.cases.get("L-1")     # CaseRepository
        uow.outbox.add(action, created_on=as_of)     # OutboxRepository
        uow.events.append([event])      # EventRepository (hash-chained per loan)
        uow.commit()                    # leaving without commit() rolls back

Storage is opened for one tenant (:data:`DEFAULT_TENANT` unless the host names
another, see :func:`loancollect.registry.open_storage`): every repository of its
units of work reads and writes that tenant's records only, so one loan id or
idempotency key may exist in several tenants, independently.

Everything handed across a port is a frozen domain value; repositories return
values, never live objects whose mutation would be persisted behind your back.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import os
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

import attrs

from loancollect.domain.case import Case
from loancollect.domain.errors import ConfigurationError, LoanCollectError, ValidationError
from loancollect.domain.events import Event, StreamFault, StreamHead, StreamProblem, head_mac
from loancollect.domain.loans import Borrower, Loan, Payment
from loancollect.domain.strategy import PlannedAction

__all__ = [
    "AUDIT_KEY_ENV",
    "AUDIT_KEY_FILE_ENV",
    "CAP_HTML",
    "CAP_IDEMPOTENT",
    "CAP_INLINE",
    "CAP_POLL",
    "CAP_STATEMENT",
    "CAP_SUBJECT",
    "CAP_VISIT_NOTICE",
    "DEFAULT_TENANT",
    "AuditKey",
    "AuditTally",
    "AuditedEvents",
    "BatchMarkingOutbox",
    "BulkLoading",
    "CaseRepository",
    "Channel",
    "ClaimingCases",
    "ClaimingOutbox",
    "Clock",
    "ConcurrentUpdateError",
    "DeliveryResult",
    "DeliveryStatus",
    "EncodedLoading",
    "EventRepository",
    "LeasingOutbox",
    "LoanRepository",
    "LockingCases",
    "MigratingStorage",
    "OutboxEntry",
    "OutboxRepository",
    "OutboxStatus",
    "PollingChannel",
    "RecordEncoder",
    "RenderedMessage",
    "Statement",
    "StatementLine",
    "StorageBusyError",
    "StreamFault",
    "StreamProblem",
    "TamperedStreamError",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "as_audit_key",
    "check_stream_head",
    "validate_tenant",
]


# -- clock ----------------------------------------------------------------------


@runtime_checkable
class Clock(Protocol):
    """Where the engine gets "now" from. Injected; library code never reads the clock."""

    def now(self) -> dt.datetime:
        """The current instant, time-zone aware."""
        ...

    def today(self, tz: str) -> dt.date:
        """The current calendar date in IANA zone ``tz``."""
        ...


# -- channels -------------------------------------------------------------------

CAP_IDEMPOTENT = "idempotent"
"""Capability: the channel refuses a repeated idempotency key (returns the first result)."""
CAP_POLL = "poll"
"""Capability: the channel implements :meth:`PollingChannel.poll`."""
CAP_HTML = "html"
"""Capability: the channel can deliver the HTML part of a message."""
CAP_SUBJECT = "subject"
"""Capability: the channel uses a subject line (e-mail, letters)."""
CAP_STATEMENT = "statement"
"""Capability: the channel prints a statement of account; the engine attaches
:attr:`RenderedMessage.statement` to the messages it sends through it."""
CAP_INLINE = "inline"
"""Capability: the channel's ``send`` does no I/O and returns at once (an in-memory
recorder, a gateway stand-in); the engine calls it in the dispatching thread instead
of a deadline thread. A channel whose send may block must not declare it."""
CAP_VISIT_NOTICE = "visit_notice"
"""Capability: for a field-visit action, the channel delivers the action's rendered
message to the borrower as the written notice of the visit (a letter, an e-mail)
before it accepts the action, and fails the action when that notice is not
delivered. So the action's ``ACTION_SENT`` is the record of a notice actually given:
the engine judges the dispatch as the notice (and records it so) only through a
channel declaring this; through any other, the dispatch is judged as the visit
itself, which a pack requiring notice (UK CONC 7.9) refuses."""


class DeliveryStatus(enum.Enum):
    """The outcome of one send.

    - ``SENT``: the provider accepted the message.
    - ``FAILED_RETRYABLE``: a transient failure (timeout, 5xx, rate limit): try again later.
    - ``FAILED_PERMANENT``: it will never work (invalid number, bounced address):
      do not retry; use a fallback channel.
    - ``REJECTED``: the provider refused it on policy grounds (opt-out list, content
      filter): do not retry, do not fall back without a human decision.
    - ``UNKNOWN``: the send overran its deadline; the message may or may not have
      gone out. Never re-sent blindly: the engine retries only through a channel that
      de-duplicates by key, asks a polling channel first, and otherwise leaves it for
      a person to reconcile.
    """

    SENT = "sent"
    FAILED_RETRYABLE = "failed_retryable"
    FAILED_PERMANENT = "failed_permanent"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """True unless the send may be tried again (``FAILED_RETRYABLE``, ``UNKNOWN``)."""
        return self not in (DeliveryStatus.FAILED_RETRYABLE, DeliveryStatus.UNKNOWN)


def _pairs(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in value)


@attrs.frozen(kw_only=True)
class DeliveryResult:
    """What a channel reports about one send.

    :param status: the classified outcome.
    :param provider_id: the provider's message or job id, if any.
    :param detail: a short explanation (error text for failures); no personal data.
    :param evidence: ``(key, value)`` pairs kept for the audit trail (gateway
        response code, letter tracking number, ...).
    """

    status: DeliveryStatus
    provider_id: str | None = None
    detail: str = ""
    evidence: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    @property
    def ok(self) -> bool:
        """True if the message was sent."""
        return self.status is DeliveryStatus.SENT

    @property
    def retryable(self) -> bool:
        """True if sending again later may succeed."""
        return self.status is DeliveryStatus.FAILED_RETRYABLE

    @classmethod
    def sent(cls, provider_id: str | None = None, detail: str = "") -> DeliveryResult:
        """A successful send."""
        return cls(status=DeliveryStatus.SENT, provider_id=provider_id, detail=detail)

    @classmethod
    def failed_retryable(cls, detail: str) -> DeliveryResult:
        """A transient failure."""
        return cls(status=DeliveryStatus.FAILED_RETRYABLE, detail=detail)

    @classmethod
    def failed_permanent(cls, detail: str) -> DeliveryResult:
        """A failure that will not go away."""
        return cls(status=DeliveryStatus.FAILED_PERMANENT, detail=detail)

    @classmethod
    def unknown(cls, detail: str) -> DeliveryResult:
        """The send's outcome is not known (it overran its deadline)."""
        return cls(status=DeliveryStatus.UNKNOWN, detail=detail)

    @classmethod
    def rejected(cls, detail: str) -> DeliveryResult:
        """A policy refusal by the provider."""
        return cls(status=DeliveryStatus.REJECTED, detail=detail)


class FinalResults:
    """Each idempotency key's final delivery result, for channels' idempotency.

    A channel asks :meth:`get` before sending (a key with a final result is not sent
    again) and passes every result through :meth:`remember`, which keeps the first
    final one. Thread-safe.
    """

    def __init__(self) -> None:
        self._results: dict[str, DeliveryResult] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> DeliveryResult | None:
        """The final result of ``key``, if it has one."""
        with self._lock:
            found = self._results.get(key)
        return found if found is not None and found.status.is_final else None

    def remember(self, key: str, result: DeliveryResult) -> DeliveryResult:
        """Record ``result`` for ``key``; return the first final result of the key."""
        with self._lock:
            first = self._results.get(key)
            if first is not None and first.status.is_final:
                return first
            self._results[key] = result
        return result


@attrs.frozen(kw_only=True)
class StatementLine:
    """One installment in arrears on a statement of account (amounts formatted).

    :param status: ``"overdue"``, ``"partly_paid"`` or ``"due_today"``.
    :param penalty: penalty and compound interest outstanding on the installment.
    :param outstanding: everything outstanding on it.
    """

    number: int
    due_date: dt.date
    status: str
    principal: str
    interest: str
    fees: str
    penalty: str
    paid: str
    outstanding: str


@attrs.frozen(kw_only=True, repr=False)
class Statement:
    """The statement of account a letter prints, built by the engine for channels
    with :data:`CAP_STATEMENT` (see :func:`loancollect.templates.statement_of_account`).

    Amounts are formatted the way the message templates show them (``¥1,234.56``),
    so the letter and its text always agree.

    :param lines: the installments in arrears (past due or due today, not paid).
    :param amount_due: what the message asks for (as ``amount_due`` in templates).
    :param due_date: the date that amount was due (as ``due_date`` in templates).
    :param borrower_name: the addressee, for the letter's address block.
    """

    reference: str
    as_of: dt.date
    currency: str
    lines: tuple[StatementLine, ...]
    overdue_amount: str
    penalty: str
    amount_due: str
    payoff_amount: str
    due_date: dt.date
    dpd: int
    how_to_pay: str
    lender_name: str
    lender_phone: str
    lender_address: str = ""
    borrower_name: str = ""

    def __repr__(self) -> str:
        return f"Statement({self.reference!r}, as_of={self.as_of}, lines={len(self.lines)})"


@attrs.frozen(kw_only=True, repr=False)
class RenderedMessage:
    """A message ready to send, rendered from a template.

    The text contains personal data (name, amounts), so the ``repr`` shows only
    the template key and the sizes of the parts.

    :param template: the template name (``"overdue_notice"``).
    :param channel: the channel it was rendered for.
    :param locale: the locale it was rendered in.
    :param text: the plain-text body (SMS text, call script, letter text).
    :param subject: subject line, for channels that use one.
    :param html: HTML body (autoescaped), for channels that support it.
    :param statement: the statement of account, for channels with
        :data:`CAP_STATEMENT` (letters); ``None`` otherwise.
    """

    template: str
    channel: str
    locale: str
    text: str
    subject: str | None = None
    html: str | None = None
    statement: Statement | None = None

    @property
    def key(self) -> str:
        """``"<channel>/<template>/<locale>"``."""
        return f"{self.channel}/{self.template}/{self.locale}"

    def __repr__(self) -> str:
        return (
            f"RenderedMessage({self.key!r}, text=<{len(self.text)} chars>, "
            f"subject={'yes' if self.subject is not None else 'no'}, "
            f"html={'yes' if self.html is not None else 'no'})"
        )


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a planned action: SMS gateway, mailer, dialer, printer, CRM.

    Contract (checked by :class:`loancollect.testing.ChannelContract`):

    - ``send`` never sends twice for one ``idempotency_key``: a repeated key returns
      the first result without contacting the provider again (or, for providers
      that deduplicate themselves, passes the key on).
    - Known failures are *returned* as a classified :class:`DeliveryResult`; an
      exception means an unexpected error, which the cycle treats as retryable.
    - ``send`` does not decide *whether* to contact: compliance was checked before.
    """

    @property
    def name(self) -> str:
        """The registry name of the channel (``"sms"``)."""
        ...

    @property
    def capabilities(self) -> frozenset[str]:
        """Capability names, e.g. :data:`CAP_IDEMPOTENT`, :data:`CAP_POLL`."""
        ...

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Deliver ``message`` for ``action``; return the classified outcome."""
        ...


@runtime_checkable
class PollingChannel(Channel, Protocol):
    """A channel whose delivery status can be asked for later (capability ``"poll"``)."""

    def poll(self, idempotency_key: str) -> DeliveryResult | None:
        """The latest known status of the send with ``idempotency_key`` (``None``: unknown)."""
        ...


# -- tenants --------------------------------------------------------------------

DEFAULT_TENANT = "default"
"""The tenant storage is opened for when the host names none."""

_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def validate_tenant(value: object, field: str = "tenant") -> str:
    """``value`` if it is a valid tenant id, else :class:`ValidationError`.

    A tenant id is 1 to 64 characters: ASCII letters, digits and ``_ . -``,
    starting with a letter or digit. It is stored on every record as given (no
    case folding or trimming: ``"Brand-A"`` and ``"brand-a"`` are two tenants).

    :raises ValidationError: naming ``field`` and the value.
    """
    if not isinstance(value, str):
        raise ValidationError(field, value, "expected a string")
    if not _TENANT.fullmatch(value):
        raise ValidationError(
            field,
            value,
            "expected 1 to 64 ASCII letters, digits and '_ . -', starting with a letter or digit",
        )
    return value


# -- storage --------------------------------------------------------------------


class LoanRepository(Protocol):
    """Loans and payments as the host platform supplied them."""

    def add(self, loan: Loan) -> None:
        """Store ``loan``, replacing a stored loan with the same id."""
        ...

    def get(self, loan_id: str) -> Loan | None:
        """The loan with ``loan_id``, or ``None``."""
        ...

    def list_ids(self, *, after: str | None = None, limit: int | None = None) -> list[str]:
        """Loan ids in ascending order, strictly after ``after``, at most ``limit``."""
        ...

    def add_payment(self, payment: Payment) -> None:
        """Record ``payment``.

        Adding an identical payment again is a no-op. A different payment with an
        id already stored, or a payment for an unknown loan, raises
        :class:`loancollect.errors.ValidationError`.
        """
        ...

    def payments_for(self, loan_id: str) -> tuple[Payment, ...]:
        """Payments of ``loan_id`` ordered by ``(value_date, id)`` (empty if none)."""
        ...


class CaseRepository(Protocol):
    """The collection cases (:class:`~loancollect.domain.case.Case`), one per loan."""

    def get(self, loan_id: str) -> Case | None:
        """The case of ``loan_id``, or ``None``."""
        ...

    def save(self, case: Case) -> None:
        """Insert or replace the case of ``case.loan_id``."""
        ...

    def due_for_review(
        self, as_of: dt.date, *, limit: int, after_loan_id: str | None = None
    ) -> list[Case]:
        """Open cases whose ``next_review_date`` is on or before ``as_of``.

        A case is selected when ``closed_on is None`` and ``next_review_date`` is
        set and ``<= as_of``; a case without a review date is never selected. The
        result is ordered by loan id, starts strictly after ``after_loan_id`` and
        holds at most ``limit`` cases, so a caller streams the day's work in
        batches by passing the last loan id of the previous batch. Backends that
        let several workers claim disjoint batches offer that as an extra method;
        it is not part of this protocol.
        """
        ...


class OutboxStatus(enum.Enum):
    """Where an outbox entry is in its life."""

    PENDING = "pending"  # planned, not tried yet (or rescheduled)
    RETRY = "retry"  # failed retryably; tried again at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # failed permanently or gave up after the retry limit
    CANCELLED = "cancelled"  # withdrawn before it was sent (paid, hold, blocked)

    @property
    def is_open(self) -> bool:
        """True while the entry may still be sent."""
        return self in (OutboxStatus.PENDING, OutboxStatus.RETRY)


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """One planned action in the outbox, with its delivery state.

    :param key: the action's idempotency key, unique in the outbox.
    :param attempts: sends tried so far.
    :param next_attempt_at: not sent before this instant (``None``: at once).
    :param created_on: the business date the action was planned for.
    :param result: the last delivery result, if any.
    """

    key: str
    action: PlannedAction
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: dt.datetime | None = None
    created_on: dt.date
    sent_at: dt.datetime | None = None
    result: DeliveryResult | None = None

    # The state machine every backend applies (then persists the returned entry).
    def _require_open(self) -> None:
        if not self.status.is_open:
            raise ValidationError("outbox.key", self.key, f"entry is {self.status.value}, not open")

    def sent(self, result: DeliveryResult, at: dt.datetime) -> OutboxEntry:
        """This entry sent at ``at`` (an entry already sent is returned unchanged).

        :raises ValidationError: if the entry is failed or cancelled, or ``at`` is naive.
        """
        require_aware_or_none("outbox.sent_at", at)
        if self.status is OutboxStatus.SENT:
            return self
        self._require_open()
        return attrs.evolve(
            self,
            status=OutboxStatus.SENT,
            attempts=self.attempts + 1,
            sent_at=at,
            result=result,
            next_attempt_at=None,
        )

    def failed(
        self,
        error: str,
        *,
        retry_at: dt.datetime | None,
        attempts: int,
        result: DeliveryResult | None = None,
    ) -> OutboxEntry:
        """This entry after a failed send: ``RETRY`` at ``retry_at``, else ``FAILED``.

        :raises ValidationError: if the entry is not open, ``attempts`` goes backwards
            or ``retry_at`` is naive.
        """
        require_aware_or_none("outbox.retry_at", retry_at)
        self._require_open()
        if attempts < self.attempts:
            raise ValidationError(
                "outbox.attempts", attempts, f"fewer than the {self.attempts} already recorded"
            )
        return attrs.evolve(
            self,
            status=OutboxStatus.RETRY if retry_at is not None else OutboxStatus.FAILED,
            attempts=attempts,
            last_error=error,
            next_attempt_at=retry_at,
            result=result if result is not None else self.result,
        )

    def cancelled(self, reason: str) -> OutboxEntry:
        """This entry withdrawn (an entry already cancelled is returned unchanged).

        :raises ValidationError: if the entry was sent or failed.
        """
        if self.status is OutboxStatus.CANCELLED:
            return self
        self._require_open()
        return attrs.evolve(
            self, status=OutboxStatus.CANCELLED, last_error=reason, next_attempt_at=None
        )


def require_aware_or_none(field: str, value: dt.datetime | None) -> None:
    """Raise :class:`ValidationError` if ``value`` is a naive datetime."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValidationError(field, value, "naive datetime; pass a time-zone-aware one")


class OutboxRepository(Protocol):
    """Planned actions waiting to be sent, written in the same unit of work as the case."""

    def add(
        self,
        action: PlannedAction,
        *,
        created_on: dt.date,
        not_before: dt.datetime | None = None,
    ) -> bool:
        """Add ``action`` under its idempotency key; return ``True`` if it was new.

        Adding a key that is already in the outbox (in any status) is a no-op and
        returns ``False``: re-running a day plans nothing twice.

        :param not_before: earliest send instant (a rescheduled action).
        """
        ...

    def get(self, key: str) -> OutboxEntry | None:
        """The entry with ``key``, or ``None``."""
        ...

    def pending(self, *, limit: int, now: dt.datetime | None = None) -> list[OutboxEntry]:
        """Open entries (pending or retry) that may be sent at ``now``.

        An entry qualifies when ``next_attempt_at`` is ``None`` or ``<= now``;
        with ``now=None`` every open entry qualifies. Ordered by
        ``(created_on, key)``, at most ``limit``.
        """
        ...

    def mark_sent(self, key: str, result: DeliveryResult, *, at: dt.datetime) -> OutboxEntry:
        """Record a successful send (counts one attempt).

        Marking an entry that is already sent is a no-op that returns it
        unchanged (the first result is kept). An unknown key or a cancelled or
        failed entry raises :class:`loancollect.errors.ValidationError`.
        """
        ...

    def mark_failed(
        self,
        key: str,
        error: str,
        *,
        retry_at: dt.datetime | None,
        attempts: int,
        result: DeliveryResult | None = None,
    ) -> OutboxEntry:
        """Record a failed send.

        With ``retry_at`` the entry becomes ``RETRY`` and is offered again by
        :meth:`pending` from that instant; without, it becomes ``FAILED`` for
        good. ``attempts`` is the total number of attempts so far. An unknown key
        or an entry already sent or cancelled raises
        :class:`loancollect.errors.ValidationError`.
        """
        ...

    def cancel(self, key: str, reason: str) -> OutboxEntry:
        """Withdraw an open entry (``CANCELLED``, ``last_error=reason``).

        Cancelling a cancelled entry is a no-op; cancelling a sent or failed one,
        or an unknown key, raises :class:`loancollect.errors.ValidationError`.
        """
        ...


class EventRepository(Protocol):
    """The append-only, hash-chained event log: one stream per loan."""

    def append(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """Chain and store ``events``; return them as stored (numbered and hashed).

        Events are grouped by loan id, keeping their order; each group continues
        its loan's stream with :func:`loancollect.domain.events.chain` after the
        stream's last stored event (``GENESIS`` for a new stream). Any
        ``seq``/``hash`` already on the events is ignored and recomputed.
        """
        ...

    def stream(self, loan_id: str) -> tuple[Event, ...]:
        """Every stored event of ``loan_id`` in sequence order."""
        ...

    def recent(self, loan_id: str, since: dt.date) -> tuple[Event, ...]:
        """The stored events of ``loan_id`` with a business date (``on``) on or after
        ``since``, in sequence order: what the contact rules count, without reading
        a long history. Events appended in this unit of work are included."""
        ...

    def last(self, loan_id: str) -> Event | None:
        """The last stored event of ``loan_id``, or ``None``."""
        ...

    def verify(self, loan_id: str) -> int | None:
        """Index of the first broken event of the stream, or ``None`` if intact."""
        ...


class UnitOfWork(Protocol):
    """One atomic piece of work over the repositories.

    Use it as a context manager. Changes become visible to other units of work
    only at :meth:`commit`; :meth:`rollback` discards everything since the last
    commit; leaving the block without committing (normally or by an exception)
    rolls back. Reads inside a unit of work see its own uncommitted writes. A
    unit of work may commit more than once (each commit is atomic).
    """

    @property
    def loans(self) -> LoanRepository:
        """Loans and payments."""
        ...

    @property
    def cases(self) -> CaseRepository:
        """Collection cases."""
        ...

    @property
    def outbox(self) -> OutboxRepository:
        """The outbox of planned actions."""
        ...

    @property
    def events(self) -> EventRepository:
        """The hash-chained event log."""
        ...

    def __enter__(self) -> Self:
        """Begin the unit of work."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed; never swallow the exception."""
        ...

    def commit(self) -> None:
        """Make every change since the last commit durable and visible, atomically."""
        ...

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""Makes a fresh :class:`UnitOfWork` per call, over one tenant's records; what a
storage backend's factory returns."""


# -- optional storage capabilities ------------------------------------------------
# A repository that has one of these methods offers the capability; the engine
# checks with isinstance (runtime_checkable) and falls back to the plain protocol.


@runtime_checkable
class ClaimingCases(Protocol):
    """Optional: a case repository that lets several workers claim disjoint batches.

    ``claim_due`` locks and returns up to ``limit`` due cases that no other unit of
    work holds (PostgreSQL: ``FOR UPDATE SKIP LOCKED``); the locks last until the
    unit of work ends. The engine uses it instead of paging when it is there.
    """

    def claim_due(self, as_of: dt.date, *, limit: int) -> list[Case]:
        """Lock and return up to ``limit`` due cases not locked by others."""
        ...


@runtime_checkable
class ClaimingOutbox(Protocol):
    """Optional: an outbox that lets several workers claim disjoint entries to send.

    The claim must outlive the unit of work that makes it (a lease committed with
    the claim, e.g. ``FOR UPDATE SKIP LOCKED`` then a lease column): the engine
    sends after that unit of work ends and records the results in a new one.
    """

    def claim_pending(self, *, limit: int, now: dt.datetime) -> list[OutboxEntry]:
        """Lease and return up to ``limit`` sendable entries no other worker holds."""
        ...


@runtime_checkable
class LeasingOutbox(Protocol):
    """Optional, beside :class:`ClaimingOutbox`: add an entry already leased to the caller.

    The engine adds the actions a worker will send right after the review commits
    this way, so no other worker claims them in between and the worker sends them
    with the loans it has in hand instead of claiming and reloading them. The lease
    is the one ``claim_pending`` takes (it ends when the entry is marked sent, failed
    or cancelled); if the worker dies first, it runs out and another worker claims
    the entry, as with any claimed entry.
    """

    def add_leased(self, action: PlannedAction, *, created_on: dt.date, now: dt.datetime) -> bool:
        """Like ``add`` (``False`` if the key is known), leased from ``now``."""
        ...


@runtime_checkable
class BatchMarkingOutbox(Protocol):
    """Optional: an outbox that records many successful sends with one statement.

    ``mark_sent_many`` does what ``mark_sent`` does for each ``(key, result)``
    (an already sent entry stays as it is; one that is neither open nor sent raises
    :class:`ValidationError` and the unit of work must not be committed). The
    engine uses it when it is there: a day's sends are most of what dispatch writes.
    """

    def mark_sent_many(
        self, sent: Sequence[tuple[str, DeliveryResult]], *, at: dt.datetime
    ) -> None:
        """Record each ``(key, result)`` as sent at ``at``."""
        ...


@runtime_checkable
class MigratingStorage(Protocol):
    """Optional: a storage backend (the unit-of-work factory) with a schema to migrate.

    ``loancollect migrate`` calls it; a backend without a schema (in memory) has
    nothing to migrate.
    """

    def migrate(self) -> str:
        """Bring the schema to the newest revision; describe where it now stands."""
        ...


@runtime_checkable
class BulkLoading(Protocol):
    """Optional: storage (the unit-of-work factory) that writes many borrowers and loans
    at once, for imports (the SQL plug-in: ``executemany`` on SQLite, ``COPY`` on
    PostgreSQL).

    The records are validated domain values; the storage writes them as they are.
    ``loancollect import`` streams its files through it in batches; without it, the
    import goes through the repositories in one unit of work.
    """

    def load_records(
        self, *, borrowers: Sequence[Borrower], loans: Sequence[Loan], review_on: dt.date
    ) -> None:
        """Store ``borrowers`` and ``loans`` in one transaction (all or nothing),
        replacing stored records with the same ids, and open a case due for review on
        ``review_on`` for each loan that has none.

        :raises ValidationError: if a loan's borrower is neither among ``borrowers``
            nor stored; nothing is written then.
        """
        ...

    def stored_borrowers(self, ids: Collection[str]) -> dict[str, Borrower]:
        """The stored borrowers among ``ids``, by id."""
        ...

    def stored_loan_ids(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` that are ids of stored loans."""
        ...


@runtime_checkable
class RecordEncoder(Protocol):
    """Turns validated borrowers and loans into a storage's own encoded rows.

    It is picklable and needs no connection, so that ``loancollect import`` can
    validate and encode rows in worker processes while the main process writes. The
    encoded rows are plain values (tuples, text, numbers) that only the storage that
    made the encoder reads (:meth:`EncodedLoading.load_encoded`).
    """

    def encode_borrowers(self, borrowers: Sequence[Borrower]) -> list[Any]:
        """One encoded row per borrower, in order.

        :raises ValidationError: naming the field and the value, if the storage
            cannot store a borrower.
        """
        ...

    def encode_loans(self, loans: Sequence[Loan]) -> list[Any]:
        """One encoded row per loan, in order (its borrower is written by id)."""
        ...


@runtime_checkable
class EncodedLoading(Protocol):
    """Optional, beside :class:`BulkLoading`: storage that writes rows encoded ahead,
    perhaps in another process, by its :class:`RecordEncoder`.

    ``loancollect import`` uses it to validate in worker processes (and, in one
    process, to skip rebuilding stored borrowers for their loans).
    ``load_encoded(borrowers=encoder.encode_borrowers(b), loans=encoder.encode_loans(l))``
    stores what ``load_records(borrowers=b, loans=l)`` stores.
    """

    def record_encoder(self) -> RecordEncoder:
        """A picklable encoder for this storage (its dialect and tenant)."""
        ...

    def load_encoded(
        self, *, borrowers: Sequence[Any], loans: Sequence[Any], review_on: dt.date
    ) -> None:
        """Store encoded rows as :meth:`BulkLoading.load_records` stores records: one
        transaction, all or nothing, a case due on ``review_on`` for each new loan.

        :raises ValidationError: if a loan's borrower is neither among ``borrowers``
            nor stored; nothing is written then.
        """
        ...

    def stored_borrower_ids(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` that are ids of stored borrowers."""
        ...


# -- concurrent updates --------------------------------------------------------------


class ConcurrentUpdateError(LoanCollectError):
    """A case changed under a unit of work: another one saved it after this one read it
    (or held its lock longer than the wait allowed).

    Nothing of the unit of work is written (roll it back); read the case again and
    redo the change. :class:`loancollect.engine.intake.Intake` avoids it by locking
    the case first where storage offers :class:`LockingCases`.

    :param loan_id: the case's loan id.
    """

    def __init__(self, loan_id: str, reason: str = "") -> None:
        self.loan_id = loan_id
        self.reason = reason or "saved by another unit of work after this one read it"
        super().__init__(
            f"case {loan_id!r}: {self.reason}; nothing was written: read it again and retry"
        )


class StorageBusyError(LoanCollectError):
    """The database stayed locked by another writer past the wait allowed (SQLite's
    busy timeout, PostgreSQL's lock timeout or a deadlock), or changed under a unit of
    work that read before it wrote. Nothing of the unit of work is written; try again.
    """


@runtime_checkable
class LockingCases(Protocol):
    """Optional: a case repository that reads a case for update.

    ``get_for_update`` returns the newest committed case and keeps every other unit of
    work from changing it until this one ends, waiting (a bounded time) for one that
    holds it (PostgreSQL: ``SELECT ... FOR UPDATE``, which waits for a cycle's claimed
    batch to commit; SQLite: the database's write lock, taken before the read). So the
    change made from it cannot be lost or refused as stale. Every backend also checks,
    when a case read in a unit of work is saved, that no other unit of work saved it
    in between (:class:`ConcurrentUpdateError`).
    """

    def get_for_update(self, loan_id: str) -> Case | None:
        """The case of ``loan_id`` (or ``None``), locked until this unit of work ends.

        :raises ConcurrentUpdateError: if the lock could not be had in time.
        """
        ...


# -- the audit trail -------------------------------------------------------------------

AUDIT_KEY_ENV = "LOANCOLLECT_AUDIT_KEY"
"""The environment variable holding the audit key (its text, at least 16 bytes)."""
AUDIT_KEY_FILE_ENV = "LOANCOLLECT_AUDIT_KEY_FILE"
"""The environment variable naming a file that holds the audit key."""


class AuditKey:
    """The operator's HMAC key that signs the event streams and their heads.

    Whoever can write the database but does not hold the key cannot rewrite a stream
    (or its head) so that it verifies again. The key is never shown: ``repr`` and
    ``str`` print ``AuditKey(<hidden>)``.

    :param secret: at least 16 bytes (text is encoded as UTF-8).
    :raises ConfigurationError: if it is shorter.
    """

    __slots__ = ("_secret",)
    MIN_BYTES = 16

    def __init__(self, secret: bytes | str) -> None:
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(raw) < self.MIN_BYTES:
            raise ConfigurationError(
                f"audit key: at least {self.MIN_BYTES} bytes are needed, got {len(raw)}"
            )
        self._secret = raw

    @property
    def secret(self) -> bytes:
        """The key's bytes (for the signing functions; never log them)."""
        return self._secret

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> AuditKey:
        """The key in the file at ``path`` (trailing white space removed).

        :raises ConfigurationError: if the file cannot be read or the key is too short.
        """
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"audit key file: cannot read it ({exc.strerror})") from None
        return cls(raw.rstrip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuditKey | None:
        """The key from ``$LOANCOLLECT_AUDIT_KEY``, else from the file named by
        ``$LOANCOLLECT_AUDIT_KEY_FILE``; ``None`` when neither is set."""
        env = os.environ if environ is None else environ
        text = env.get(AUDIT_KEY_ENV)
        if text:
            return cls(text)
        path = env.get(AUDIT_KEY_FILE_ENV)
        if path:
            return cls.from_file(path)
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AuditKey):
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "AuditKey(<hidden>)"

    __str__ = __repr__


def as_audit_key(value: AuditKey | bytes | str | None) -> AuditKey | None:
    """``value`` as an :class:`AuditKey` (``None`` stays ``None``)."""
    if value is None or isinstance(value, AuditKey):
        return value
    return AuditKey(value)


class TamperedStreamError(LoanCollectError):
    """An event stream failed its check when the repository was about to extend it
    (its head missing, rewritten, or unsigned where the key requires a signature).

    Nothing is appended, so the damage stays visible to ``loancollect verify``.

    :param problem: what is wrong, where.
    """

    def __init__(self, problem: StreamProblem) -> None:
        self.problem = problem
        super().__init__(
            f"event stream of loan {problem.loan_id!r} (tenant {problem.tenant!r}) does not "
            f"verify at seq {problem.seq} ({problem.fault.value}: {problem.detail}); "
            "nothing was appended: run 'loancollect verify'"
        )


@attrs.define
class AuditTally:
    """What a store-wide verification looked at (filled in by ``verify_all``).

    :param signatures: ``True`` if signatures were checked (a key was given).
    :param unsigned: heads without a signature (checked with a key: each is a problem).
    """

    tenants: int = 0
    streams: int = 0
    events: int = 0
    unsigned: int = 0
    problems: int = 0
    signatures: bool = False


@runtime_checkable
class AuditedEvents(Protocol):
    """Optional: storage (the unit-of-work factory) that anchors its event streams.

    Such storage keeps a *head* per stream (tenant, loan): its last sequence number and
    hash, written in the same transaction as every append, and signed, with each
    event, by the :class:`AuditKey` it was opened with. It checks every stored stream
    against its head and the key: a deleted or truncated stream, an edited, reordered
    or re-hashed event, a head rewritten without the key, a stored copy of an instant
    that disagrees with the hashed one. Appending to a stream whose head fails its check
    raises :class:`TamperedStreamError`; with a key, appending to an unsigned head too.
    """

    def verify_all(
        self,
        *,
        key: AuditKey | None = None,
        every_tenant: bool = False,
        tally: AuditTally | None = None,
    ) -> Iterator[StreamProblem]:
        """Check every stream of the storage's tenant (``every_tenant``: of all tenants);
        yield one :class:`StreamProblem` per bad stream (its first bad seq and why).

        :param key: the key to check signatures with (``None``: the storage's own; with
            none at all, signatures are not checked).
        :param tally: counts what was checked, for a summary.
        """
        ...

    def sign_unsigned(self, *, key: AuditKey | None = None, every_tenant: bool = False) -> int:
        """Sign the unsigned events and heads of every stream that otherwise verifies
        (after a migration without a key, or writes made without one); return how many
        streams were signed. Streams with a problem are left as they are.

        :raises ConfigurationError: without a key.
        """
        ...


def check_stream_head(head: StreamHead, *, tenant: str, key: AuditKey | None) -> None:
    """Refuse to extend a stream after ``head`` unless the head passes its check.

    Storage calls it before an append continues a stream after its stored head.

    :raises TamperedStreamError: with a key, if the head is unsigned or its signature
        does not match.
    :raises ConfigurationError: without a key, if the head is signed (a writer
        without the key would leave the stream unsigned from here on).
    """
    if key is None:
        if head.mac is not None:
            raise ConfigurationError(
                f"the event stream of loan {head.loan_id!r} is signed: open the storage "
                f"with the audit key (${AUDIT_KEY_ENV}) to append to it"
            )
        return
    expected = head_mac(key.secret, tenant, head.loan_id, head.seq, head.hash)
    if head.mac is None:
        fault, detail = (
            StreamFault.UNSIGNED,
            "the head is not signed: run 'loancollect verify --sign'",
        )
    elif not hmac.compare_digest(head.mac, expected):
        fault, detail = StreamFault.REHASHED, "the head's signature does not match"
    else:
        return
    raise TamperedStreamError(
        StreamProblem(tenant=tenant, loan_id=head.loan_id, seq=head.seq, fault=fault, detail=detail)
    )


# The exchange-rate port a host provides for dunning fees written in another currency
# than the loan's (defined in the domain, which only ever asks it; see docs/policy.md).
from loancollect.domain.dunning import RateSource  # noqa: E402

__all__ += ["RateSource"]
