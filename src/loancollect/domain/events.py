"""Domain events: what happened to a case, as an append-only, hash-chained record.

The pure core returns events; the engine stores them and fires the
``loancollect_on_event`` hook. Each event carries the hash of the previous event
of the same case (its stream), so editing, dropping or reordering a stored event
breaks the chain and :func:`verify_chain` finds where.

Payloads
--------

Every event's details belong to one typed *payload* record, one class per
:class:`EventKind` (``StageChanged`` for ``STAGE_CHANGED``, ``ActionSent`` for
``ACTION_SENT`` …; :data:`PAYLOADS` maps each kind to its class). A payload is a
frozen, keyword-only attrs record; nothing outside this module reads or writes
the stored text::

    event = new_event(
        StageChanged(previous="current", current="early", reason="dpd >= 1", dpd=1),
        loan_id="L-1",
        on=as_of,
        at=None,  # the instant, time-zone aware, when known
    )
    event.payload                  # StageChanged(previous='current', ...), by kind
    StageChanged.parse(event)      # the same, typed; ValidationError for another kind
    event.payload.pairs()          # the stored pairs, == event.data

``parse`` (and :attr:`Event.payload`) raises :class:`ValidationError` naming the
key and its text when a key is missing, unknown or malformed; the constructors
raise it naming the field for a value of the wrong type (a ``float`` amount, a
naive datetime). Enum fields (``HoldPlaced.hold``, ``ContactOutcomeRecorded.outcome``,
the arrangements' ``type`` and ``status``) take the enum member or its value.

How a payload is stored (:attr:`Event.data`, which the hash chain covers, so this
never changes): sorted ``(key, text)`` pairs, the key being the field's name
(``InboundMessage.message_kind`` is stored and passed to the constructor as
``kind``; ``ActionSent.evidence`` as ``evidence.<name>`` keys;
``LitigationRecommended`` keeps amount and currency in one ``amount`` text such as
``"CNY 1,234.56"``). Texts: a ``str`` as is, an ``int`` in decimal, a ``Decimal``
by ``str()``, a date or an aware datetime by ``isoformat()``, an enum by its value.
A field without a default, or declared *always*, is written on every event (an
absent instant as ``""``); any other field is written only when it differs from
its default, so events written before a field existed still parse and serialise
back to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self, TypeVar

import attrs

from loancollect.domain.arrangements import ArrangementKind, ArrangementStatus
from loancollect.domain.case import HoldKind, OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.money import CURRENCIES, Money

__all__ = [
    "GENESIS",
    "PAYLOADS",
    "ActionBlocked",
    "ActionFailed",
    "ActionPlanned",
    "ActionRescheduled",
    "ActionSent",
    "ArrangementBroken",
    "ArrangementCompleted",
    "ArrangementMade",
    "CallReviewed",
    "CaseAssigned",
    "CaseBoughtBack",
    "CaseClosed",
    "CaseOpened",
    "CasePlaced",
    "CaseRecalled",
    "CaseSold",
    "ChargeOffReversed",
    "ChargedOff",
    "ContactOutcomeRecorded",
    "DeliveryReceipt",
    "Event",
    "EventKind",
    "FlagCleared",
    "FlagSet",
    "HoldPlaced",
    "HoldReleased",
    "InboundMessage",
    "LegalMatterAdvanced",
    "LegalMatterOpened",
    "LitigationRecommended",
    "OfferMade",
    "OptedOut",
    "Payload",
    "PaymentReceived",
    "PromiseBroken",
    "PromiseKept",
    "PromiseMade",
    "RecoveryRecorded",
    "SegmentAssigned",
    "StageChanged",
    "StreamFault",
    "StreamHead",
    "StreamProblem",
    "VariantAssigned",
    "WrittenOff",
    "audit_stream",
    "chain",
    "chain_encoded",
    "event_mac",
    "head_mac",
    "new_event",
    "verify_chain",
]
__all__ += [
    "CampaignAttempted",
    "CampaignFinished",
    "CreditNoteRecorded",
    "DelinquencyPaused",
    "DelinquencyRangeChanged",
    "DelinquencyResumed",
    "LoanStatusSet",
    "MarkerRemoved",
    "MarkerSet",
    "NoticeCancelled",
    "NoticeIssued",
    "NoticeResolved",
    "NoticeSent",
    "NoticeSuperseded",
    "PaymentFailed",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event of every stream."""


class EventKind(enum.Enum):
    """Every kind of event the engine records (each has its payload class)."""

    CASE_OPENED = "case_opened"
    STAGE_CHANGED = "stage_changed"
    SEGMENT_ASSIGNED = "segment_assigned"
    VARIANT_ASSIGNED = "variant_assigned"
    ACTION_PLANNED = "action_planned"
    ACTION_SENT = "action_sent"
    ACTION_FAILED = "action_failed"
    ACTION_BLOCKED = "action_blocked"
    ACTION_RESCHEDULED = "action_rescheduled"
    DELIVERY_RECEIPT = "delivery_receipt"  # a provider's later report on a sent action
    PAYMENT_RECEIVED = "payment_received"
    PROMISE_MADE = "promise_made"
    PROMISE_KEPT = "promise_kept"
    PROMISE_BROKEN = "promise_broken"
    ARRANGEMENT_MADE = "arrangement_made"
    ARRANGEMENT_COMPLETED = "arrangement_completed"
    ARRANGEMENT_BROKEN = "arrangement_broken"
    OFFER_MADE = "offer_made"
    CONTACT_OUTCOME = "contact_outcome"
    OPT_OUT = "opt_out"
    HOLD_PLACED = "hold_placed"
    HOLD_RELEASED = "hold_released"
    CASE_PLACED = "case_placed"
    CASE_RECALLED = "case_recalled"
    LITIGATION_RECOMMENDED = "litigation_recommended"
    CASE_CLOSED = "case_closed"
    FLAG_SET = "flag_set"
    FLAG_CLEARED = "flag_cleared"
    CASE_ASSIGNED = "case_assigned"
    LEGAL_MATTER_OPENED = "legal_matter_opened"
    LEGAL_MATTER_ADVANCED = "legal_matter_advanced"
    CHARGED_OFF = "charged_off"
    CHARGE_OFF_REVERSED = "charge_off_reversed"
    WRITTEN_OFF = "written_off"
    RECOVERY_RECORDED = "recovery_recorded"
    CASE_SOLD = "case_sold"
    INBOUND_MESSAGE = "inbound_message"
    MARKER_SET = "marker_set"  # a stage's marker for the host (Kill Bill: block changes …)
    MARKER_REMOVED = "marker_removed"
    PAYMENT_FAILED = "payment_failed"
    DELINQUENCY_PAUSED = "delinquency_paused"
    DELINQUENCY_RESUMED = "delinquency_resumed"
    DELINQUENCY_RANGE_CHANGED = "delinquency_range_changed"
    LOAN_STATUS_SET = "loan_status_set"
    NOTICE_ISSUED = "notice_issued"
    NOTICE_SENT = "notice_sent"
    NOTICE_RESOLVED = "notice_resolved"
    NOTICE_CANCELLED = "notice_cancelled"
    NOTICE_SUPERSEDED = "notice_superseded"
    CREDIT_NOTE_RECORDED = "credit_note_recorded"
    CAMPAIGN_ATTEMPTED = "campaign_attempted"
    CAMPAIGN_FINISHED = "campaign_finished"
    CASE_BOUGHT_BACK = "case_bought_back"
    CALL_REVIEWED = "call_reviewed"  # a call's content checked: findings and QA score


@attrs.frozen
class Event:
    """One thing that happened to one case.

    Build events with :func:`new_event`; read their details with :attr:`payload`.

    :param on: the business date (the cycle's ``as_of``) the event belongs to.
    :param at: the instant it happened, time-zone aware, when known.
    :param data: the payload as sorted ``(key, text)`` pairs (no personal data), as
        stored and hashed.
    :param seq: position in the case's stream (0-based), set by :func:`chain`.
    """

    kind: EventKind
    loan_id: str
    on: dt.date
    data: tuple[tuple[str, str], ...] = ()
    at: dt.datetime | None = None
    seq: int = -1
    prev_hash: str = ""
    hash: str = ""

    def __attrs_post_init__(self) -> None:
        if self.at is not None and (self.at.tzinfo is None or self.at.utcoffset() is None):
            raise ValidationError("event.at", self.at, "naive datetime; events need aware times")

    @property
    def payload(self) -> Payload:
        """The typed details: the payload record of this event's kind.

        :raises ValidationError: if a key is missing, unknown or malformed.
        """
        return PAYLOADS[self.kind].parse(self)

    def digest(self, prev_hash: str) -> str:
        """SHA-256 over the previous hash and this event's canonical content."""
        return _digest(self, self.seq, prev_hash)


# -- how payload fields are stored ------------------------------------------------------

E = TypeVar("E", bound=enum.Enum)


@attrs.frozen
class _Codec:
    """How values of one type become stored text and back.

    :param typ: values must be instances of it, and pass ``extra`` when given.
    :param dump: value to text (``None``: the value is the text).
    :param load: text to value (``None``: the text is the value); raises
        ``ValueError`` (or ``ArithmeticError``) on bad text.
    """

    expected: str
    typ: type
    extra: Callable[[Any], bool] | None
    dump: Callable[[Any], str] | None
    load: Callable[[str], Any] | None


def _load_int(text: str) -> int:
    if not _INT_TEXT.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _load_decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(text)
    return value


def _load_date(text: str) -> dt.date:
    if not _DATE_TEXT.fullmatch(text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _load_instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if not _is_aware(value):
        raise ValueError(text)
    return value


_INT_TEXT = re.compile(r"-?[0-9]+")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _is_aware(value: dt.datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _not_bool(value: int) -> bool:
    return not isinstance(value, bool)


def _is_finite(value: Decimal) -> bool:
    return value.is_finite()


def _not_datetime(value: dt.date) -> bool:
    return not isinstance(value, dt.datetime)


def _isoformat(value: dt.date) -> str:
    return value.isoformat()


def _is_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


_CODECS: dict[object, _Codec] = {
    str: _Codec("a str", str, None, None, None),
    int: _Codec("an int", int, _not_bool, str, _load_int),
    Decimal: _Codec("a finite Decimal (never a float)", Decimal, _is_finite, str, _load_decimal),
    dt.date: _Codec("a date (YYYY-MM-DD)", dt.date, _not_datetime, _isoformat, _load_date),
    dt.datetime: _Codec(
        "a time-zone-aware datetime", dt.datetime, _is_aware, _isoformat, _load_instant
    ),
}


def _enum_value(value: enum.Enum) -> str:
    return str(value.value)


def _enum_codec(cls: type[enum.Enum]) -> _Codec:
    return _Codec(f"one of {sorted(str(m.value) for m in cls)}", cls, None, _enum_value, cls)


ALWAYS: Mapping[str, object] = types.MappingProxyType({"always": True})
"""Field metadata: write the field on every event, even with its default value."""

_PREFIX = "prefix"  # field metadata: the field is pairs stored as ``<prefix><name>`` keys


@attrs.frozen
class _Spec:
    """How one field of a payload class is stored."""

    name: str
    key: str  # the stored key and the constructor's argument name
    codec: _Codec | None  # None: stored by the class itself
    nullable: bool
    always: bool
    default: object
    prefix: str = ""


def _to_enum(cls: type[E], field: str, value: E | str) -> E:
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        raise ValidationError(
            field, value, f"expected one of {sorted(str(m.value) for m in cls)}"
        ) from None


def _arrangement_kind(value: ArrangementKind | str) -> ArrangementKind:
    return _to_enum(ArrangementKind, "type", value)


def _arrangement_status(value: ArrangementStatus | str) -> ArrangementStatus:
    return _to_enum(ArrangementStatus, "status", value)


def _hold_kind(value: HoldKind | str) -> HoldKind:
    return _to_enum(HoldKind, "hold", value)


def _outcome_kind(value: OutcomeKind | str) -> OutcomeKind:
    return _to_enum(OutcomeKind, "outcome", value)


def _evidence(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Evidence pairs sorted by name; a repeated name keeps its last value."""
    return tuple(sorted(dict(value).items()))


# -- the payload base ---------------------------------------------------------------------


@attrs.frozen
class Payload:
    """The typed details of one event kind (the base of every payload record).

    Subclasses are frozen, keyword-only attrs records registered in :data:`PAYLOADS`.
    """

    kind: ClassVar[EventKind]
    _specs: ClassVar[tuple[_Spec, ...]] = ()
    # Derived from _specs by _payload (plain tuples: these run for every event).
    _label: ClassVar[str] = ""
    _checks: ClassVar[tuple[tuple[str, str, type, Any, bool, str], ...]] = ()
    _dumps: ClassVar[tuple[tuple[str, str, Any, bool, object, str], ...]] = ()
    _loads: ClassVar[tuple[tuple[str, str, Any, bool, bool, object, str, str], ...]] = ()

    def __attrs_post_init__(self) -> None:
        for name, key, typ, extra, nullable, expected in self._checks:
            value = getattr(self, name)
            if value is None and nullable:
                continue
            if not isinstance(value, typ) or (extra is not None and not extra(value)):
                raise ValidationError(f"{self._label}.{key}", value, f"expected {expected}")
        self._check()

    def _check(self) -> None:
        """Rules across fields (overridden where a kind has them)."""

    def _required(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            if not value.strip():
                raise ValidationError(f"{self._label}.{name}", value, "must not be empty")

    def _money(self, amount: str, currency: str, *, positive: bool = True) -> None:
        value, code = getattr(self, amount), getattr(self, currency)
        kind = self._label
        if code not in CURRENCIES:
            raise ValidationError(f"{kind}.{currency}", code, "unknown ISO 4217 currency code")
        try:
            exact = value.quantize(CURRENCIES[code].quantum) == value
        except InvalidOperation:
            exact = False
        if not exact:
            raise ValidationError(f"{kind}.{amount}", str(value), f"more decimals than {code} has")
        if positive and value <= 0:
            raise ValidationError(f"{kind}.{amount}", str(value), "must be positive")

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The stored ``(key, text)`` pairs, sorted by key (what :func:`new_event` stores)."""
        out: list[tuple[str, str]] = []
        for name, key, dump, always, default, prefix in self._dumps:
            value = getattr(self, name)
            if prefix:
                out.extend((prefix + k, v) for k, v in value)
            elif always or value != default:
                if value is None:
                    out.append((key, ""))
                else:
                    out.append((key, value if dump is None else dump(value)))
        out.extend(self._extra_pairs())
        out.sort()
        return tuple(out)

    def _extra_pairs(self) -> Iterable[tuple[str, str]]:
        """Pairs of the fields the class stores itself (``codec is None``)."""
        return ()

    @classmethod
    def parse(cls, event: Event) -> Self:
        """The payload of ``event``.

        :raises ValidationError: if the event is of another kind, or a key is
            missing, unknown or malformed (naming the key and its text).
        """
        if event.kind is not cls.kind:
            raise ValidationError(
                "event.kind", event.kind.value, f"expected {cls._label} for {cls.__name__}"
            )
        return cls.from_pairs(event.data)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Self:
        """The payload stored as ``pairs`` (see :meth:`parse`).

        Every value comes out of its field's parser with the field's type, so the
        record is built without the constructor's type checks; the rules across
        fields are checked.
        """
        data = dict(pairs)
        kind = cls._label
        values: dict[str, object] = {}
        for name, key, load, always, blank_is_none, default, prefix, expected in cls._loads:
            if prefix:
                found = [k for k in data if k.startswith(prefix)]
                values[name] = _evidence((k[len(prefix) :], data.pop(k)) for k in found)
                continue
            text = data.pop(key, None)
            if text is None:
                if always:
                    raise ValidationError(f"{kind}.{key}", None, "missing")
                values[name] = default
            elif blank_is_none and text == "":
                values[name] = None
            elif load is None:
                values[name] = text
            else:
                try:
                    values[name] = load(text)
                except (ValueError, ArithmeticError):
                    raise ValidationError(f"{kind}.{key}", text, f"expected {expected}") from None
        values.update(cls._extra_from(data))
        if data:
            key = min(data)
            raise ValidationError(f"{kind}.{key}", data[key], "unknown key for this kind")
        payload = object.__new__(cls)
        for name, value in values.items():
            object.__setattr__(payload, name, value)
        payload._check()
        return payload

    @classmethod
    def _extra_from(cls, data: dict[str, str]) -> dict[str, object]:
        """Values of the fields the class stores itself (popped from ``data``), by name."""
        return {}


P = TypeVar("P", bound=Payload)

PAYLOADS: dict[EventKind, type[Payload]] = {}
"""The payload class of each event kind."""


def _payload(cls: type[P]) -> type[P]:
    """Register ``cls`` (an attrs payload record) for its kind and derive its field specs."""
    hints = typing.get_type_hints(cls)
    specs = []
    for a in attrs.fields(cls):
        hint = hints[a.name]
        nullable = False
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            args = [t for t in typing.get_args(hint) if t is not type(None)]
            nullable = len(args) < len(typing.get_args(hint))
            hint = args[0]
        prefix = str(a.metadata.get(_PREFIX, ""))
        codec: _Codec | None = None
        if prefix or a.metadata.get("custom"):
            pass  # stored by the class itself
        elif isinstance(hint, type) and issubclass(hint, enum.Enum):
            codec = _enum_codec(hint)
        elif hint in _CODECS:
            codec = _CODECS[hint]
        else:
            raise TypeError(f"{cls.__name__}.{a.name}: no stored form for {hint!r}")
        specs.append(
            _Spec(
                name=a.name,
                key=a.alias or a.name,
                codec=codec,
                nullable=nullable,
                always=a.default is attrs.NOTHING or bool(a.metadata.get("always")),
                default=a.default,
                prefix=prefix,
            )
        )
    cls._specs = tuple(specs)
    cls._label = cls.kind.value
    cls._checks = tuple(
        (s.name, s.key, s.codec.typ, s.codec.extra, s.nullable, s.codec.expected)
        for s in specs
        if s.codec is not None
    )
    cls._dumps = tuple(
        (s.name, s.key, s.codec.dump if s.codec else None, s.always, s.default, s.prefix)
        for s in specs
        if s.codec is not None or s.prefix
    )
    cls._loads = tuple(
        (
            s.name,
            s.key,
            s.codec.load if s.codec else None,
            s.always,
            s.nullable and s.always,
            s.default,
            s.prefix,
            s.codec.expected if s.codec else "",
        )
        for s in specs
        if s.codec is not None or s.prefix
    )
    if cls.kind in PAYLOADS:
        raise TypeError(f"two payload classes for {cls.kind}")
    PAYLOADS[cls.kind] = cls
    return cls


_CUSTOM: Mapping[str, object] = types.MappingProxyType({"custom": True})

# -- the payloads, one per kind -------------------------------------------------------------


@_payload
@attrs.frozen(kw_only=True)
class CaseOpened(Payload):
    """A case was opened for a loan.

    :param review_on: its first review date, when known (written only when set).
    """

    kind: ClassVar[EventKind] = EventKind.CASE_OPENED
    review_on: dt.date | None = None


@_payload
@attrs.frozen(kw_only=True)
class StageChanged(Payload):
    """The case moved from stage ``previous`` to ``current`` because of ``reason``.

    :param dpd: days past due that day (written only when set; a stage forced by a
        plug-in's override records none).
    """

    kind: ClassVar[EventKind] = EventKind.STAGE_CHANGED
    previous: str
    current: str
    reason: str
    dpd: int | None = None


@_payload
@attrs.frozen(kw_only=True)
class SegmentAssigned(Payload):
    """The case's segment is now ``segment`` (``previous`` is ``""`` for the first one)."""

    kind: ClassVar[EventKind] = EventKind.SEGMENT_ASSIGNED
    segment: str
    previous: str = attrs.field(default="", metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class VariantAssigned(Payload):
    """The case is in ``variant`` of champion/challenger ``experiment``."""

    kind: ClassVar[EventKind] = EventKind.VARIANT_ASSIGNED
    experiment: str
    variant: str


@_payload
@attrs.frozen(kw_only=True)
class ActionPlanned(Payload):
    """Action ``rule`` was written to the outbox under idempotency ``key``.

    :param fallback_of: the key of the failed action this one falls back from
        (written only when set).
    """

    kind: ClassVar[EventKind] = EventKind.ACTION_PLANNED
    rule: str
    channel: str
    key: str
    template: str
    fallback_of: str = ""


@_payload
@attrs.frozen(kw_only=True)
class ActionSent(Payload):
    """The channel accepted the action sent under ``key``.

    :param provider_id: the provider's message id (``""`` if none).
    :param attempts: sends tried, this one included.
    :param contact: the contact point sent to, masked (``""`` if none).
    :param place: the contact point's label (``"mobile"``, ``"home"``; ``""`` if none).
    :param evidence: ``(name, value)`` pairs the channel reported for the audit trail
        (stored as ``evidence.<name>`` keys; sorted, one value a name).
    :param notice: ``"visit_notice"`` when the channel declared the capability
        ``CAP_VISIT_NOTICE`` (it delivered the message as the written notice of a field
        visit before accepting the action): this record is then the visit's notice;
        ``""`` otherwise (written only when set, so earlier events keep their bytes).
    """

    kind: ClassVar[EventKind] = EventKind.ACTION_SENT
    key: str
    channel: str
    rule: str
    attempts: int
    provider_id: str = attrs.field(default="", metadata=ALWAYS)
    contact: str = attrs.field(default="", metadata=ALWAYS)
    place: str = attrs.field(default="", metadata=ALWAYS)
    evidence: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_evidence, metadata={_PREFIX: "evidence."}
    )
    notice: str = ""


@_payload
@attrs.frozen(kw_only=True)
class ActionFailed(Payload):
    """A send of the action under ``key`` failed.

    :param status: the delivery status value (``failed_retryable``, ``failed_permanent``,
        ``rejected``).
    :param retry_at: when it will be tried again; ``None`` (stored as ``""``) if never.
    """

    kind: ClassVar[EventKind] = EventKind.ACTION_FAILED
    key: str
    channel: str
    rule: str
    status: str
    detail: str
    attempts: int
    retry_at: dt.datetime | None = attrs.field(default=None, metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class ActionBlocked(Payload):
    """The rules block the action under ``key`` for good.

    :param reasons: ``rule: detail`` of each objection, ``"; "``-joined.
    :param citations: the legal sources cited, sorted, ``"; "``-joined; ``None`` (not
        written) where a send-time block records none.
    """

    kind: ClassVar[EventKind] = EventKind.ACTION_BLOCKED
    key: str
    channel: str
    rule: str
    reasons: str
    citations: str | None = None


@_payload
@attrs.frozen(kw_only=True)
class ActionRescheduled(Payload):
    """The rules move the action under ``key`` to ``not_before``.

    :param rule: the action's rule (written only when set: a reschedule at review
        records none).
    """

    kind: ClassVar[EventKind] = EventKind.ACTION_RESCHEDULED
    key: str
    channel: str
    not_before: dt.datetime
    reasons: str
    citations: str
    rule: str = ""


@_payload
@attrs.frozen(kw_only=True)
class DeliveryReceipt(Payload):
    """A provider's later report on the action sent under ``key``.

    :param status: the delivery status value (``sent``, ``failed_permanent`` …).
    :param provider_id: the provider's message id (``""`` if none).
    """

    kind: ClassVar[EventKind] = EventKind.DELIVERY_RECEIPT
    key: str
    channel: str
    status: str
    detail: str = attrs.field(default="", metadata=ALWAYS)
    provider_id: str = attrs.field(default="", metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class PaymentReceived(Payload):
    """Payment ``payment`` of ``amount`` ``currency`` was received."""

    kind: ClassVar[EventKind] = EventKind.PAYMENT_RECEIVED
    payment: str
    amount: Decimal
    currency: str


@_payload
@attrs.frozen(kw_only=True)
class PromiseMade(Payload):
    """The borrower promised to pay (promise ``arrangement``).

    :param amount: the amount promised, in the loan's currency (written only when set).
    """

    kind: ClassVar[EventKind] = EventKind.PROMISE_MADE
    arrangement: str
    type: ArrangementKind = attrs.field(
        default=ArrangementKind.PROMISE, converter=_arrangement_kind, metadata=ALWAYS
    )
    amount: Decimal | None = None


@_payload
@attrs.frozen(kw_only=True)
class ArrangementMade(Payload):
    """An arrangement (plan, waiver, grace period, settlement) was made.

    :param amount: its amount, in the loan's currency, for kinds that have one
        (written only when set).
    """

    kind: ClassVar[EventKind] = EventKind.ARRANGEMENT_MADE
    arrangement: str
    type: ArrangementKind = attrs.field(converter=_arrangement_kind)
    amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class _Resolution(Payload):
    """An arrangement reached ``status`` on ``resolved_on``."""

    arrangement: str
    type: ArrangementKind = attrs.field(converter=_arrangement_kind)
    status: ArrangementStatus = attrs.field(converter=_arrangement_status)
    resolved_on: dt.date


@_payload
@attrs.frozen(kw_only=True)
class PromiseKept(_Resolution):
    """A promise to pay was kept."""

    kind: ClassVar[EventKind] = EventKind.PROMISE_KEPT


@_payload
@attrs.frozen(kw_only=True)
class PromiseBroken(_Resolution):
    """A promise to pay was broken."""

    kind: ClassVar[EventKind] = EventKind.PROMISE_BROKEN


@_payload
@attrs.frozen(kw_only=True)
class ArrangementCompleted(_Resolution):
    """An arrangement ended other than broken (completed, cancelled …; ``status`` says)."""

    kind: ClassVar[EventKind] = EventKind.ARRANGEMENT_COMPLETED


@_payload
@attrs.frozen(kw_only=True)
class ArrangementBroken(_Resolution):
    """An arrangement (not a promise) was broken."""

    kind: ClassVar[EventKind] = EventKind.ARRANGEMENT_BROKEN


@_payload
@attrs.frozen(kw_only=True)
class OfferMade(Payload):
    """Offer rule ``rule`` offered an arrangement of ``type`` until ``valid_until``."""

    kind: ClassVar[EventKind] = EventKind.OFFER_MADE
    rule: str
    type: ArrangementKind = attrs.field(converter=_arrangement_kind)
    valid_until: dt.date
    amount_due: Decimal
    currency: str


@_payload
@attrs.frozen(kw_only=True)
class ContactOutcomeRecorded(Payload):
    """What a contact achieved (a call, a visit, an agent's note).

    ``channel``, ``outcome`` and ``note`` are written on every event; every other
    field only when set.

    :param outcome: an :class:`~loancollect.domain.case.OutcomeKind` (or its value).
    :param key: the idempotency key of the outbox entry the contact answers.
    :param agent: the collector; :param team: their team; :param agency: the agency.
    :param duration_s: how long the call or visit lasted, in seconds.
    :param evidence: a reference to the recording, photo or document (an id or a
        SHA-256), never the content.
    :param lat: latitude (WGS 84); :param lon: longitude (both or neither).
    :param accuracy_m: the location fix's accuracy radius, in metres (needs lat/lon).
    :param promise_amount: for a promise, its amount (with ``promise_currency``).
    :param promise_date: for a promise, the date it is due.
    """

    kind: ClassVar[EventKind] = EventKind.CONTACT_OUTCOME
    channel: str
    outcome: OutcomeKind = attrs.field(converter=_outcome_kind)
    note: str = attrs.field(default="", metadata=ALWAYS)
    key: str = ""
    agent: str = ""
    team: str = ""
    agency: str = ""
    duration_s: int | None = None
    evidence: str = ""
    lat: Decimal | None = None
    lon: Decimal | None = None
    accuracy_m: Decimal | None = None
    promise_amount: Decimal | None = None
    promise_currency: str = ""
    promise_date: dt.date | None = None

    def _check(self) -> None:
        kind = self.kind.value
        if self.duration_s is not None and self.duration_s < 0:
            raise ValidationError(f"{kind}.duration_s", self.duration_s, "must not be negative")
        if (self.lat is None) != (self.lon is None):
            raise ValidationError(f"{kind}.lat", self.lat, "give lat and lon together")
        if self.lat is not None and not -90 <= self.lat <= 90:
            raise ValidationError(f"{kind}.lat", str(self.lat), "must be between -90 and 90")
        if self.lon is not None and not -180 <= self.lon <= 180:
            raise ValidationError(f"{kind}.lon", str(self.lon), "must be between -180 and 180")
        if self.accuracy_m is not None:
            if self.lat is None:
                raise ValidationError(f"{kind}.accuracy_m", str(self.accuracy_m), "needs lat/lon")
            if self.accuracy_m < 0:
                raise ValidationError(
                    f"{kind}.accuracy_m", str(self.accuracy_m), "must not be negative"
                )
        if (self.promise_amount is None) != (self.promise_currency == ""):
            raise ValidationError(
                f"{kind}.promise_amount",
                self.promise_amount,
                "give promise_amount and promise_currency together",
            )
        if self.promise_amount is not None:
            self._money("promise_amount", "promise_currency")


@_payload
@attrs.frozen(kw_only=True)
class OptedOut(Payload):
    """The borrower opted out of ``channel``.

    :param source: how the request came (``"sms reply"``; written only when set).
    """

    kind: ClassVar[EventKind] = EventKind.OPT_OUT
    channel: str
    source: str = ""


@_payload
@attrs.frozen(kw_only=True)
class HoldPlaced(Payload):
    """A hold on contact and escalation from ``start`` (to ``end``, when set)."""

    kind: ClassVar[EventKind] = EventKind.HOLD_PLACED
    hold: HoldKind = attrs.field(converter=_hold_kind)
    start: dt.date
    reason: str
    end: dt.date | None = None


@_payload
@attrs.frozen(kw_only=True)
class HoldReleased(Payload):
    """The holds of kind ``hold`` were lifted (on the event's date)."""

    kind: ClassVar[EventKind] = EventKind.HOLD_RELEASED
    hold: HoldKind = attrs.field(converter=_hold_kind)


@_payload
@attrs.frozen(kw_only=True)
class CasePlaced(Payload):
    """The case was placed with ``agency`` under ``placement``.

    :param tier: the placement tier (primary, secondary …).
    :param until: the placement's end, when fixed (written only when set).
    """

    kind: ClassVar[EventKind] = EventKind.CASE_PLACED
    agency: str
    placement: str
    tier: str = attrs.field(default="", metadata=ALWAYS)
    until: dt.date | None = None
    reason: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("agency", "placement")


@_payload
@attrs.frozen(kw_only=True)
class CaseRecalled(Payload):
    """The case was recalled from ``agency`` (placement ``placement``)."""

    kind: ClassVar[EventKind] = EventKind.CASE_RECALLED
    agency: str
    placement: str
    reason: str

    def _check(self) -> None:
        self._required("agency", "placement")


@_payload
@attrs.frozen(kw_only=True)
class LitigationRecommended(Payload):
    """The case reached the legal stage with ``amount`` ``currency`` due at ``dpd``.

    The amount is stored with its currency in one text (``"CNY 1,234.56"``).
    """

    kind: ClassVar[EventKind] = EventKind.LITIGATION_RECOMMENDED
    dpd: int
    amount: Decimal = attrs.field(metadata=_CUSTOM)
    currency: str = attrs.field(metadata=_CUSTOM)
    reason: str

    def _check(self) -> None:
        if not _is_decimal(self.amount):
            raise ValidationError(
                f"{self.kind.value}.amount", self.amount, "expected a finite Decimal"
            )
        if not isinstance(self.currency, str):
            raise ValidationError(f"{self.kind.value}.currency", self.currency, "expected a str")
        self._money("amount", "currency", positive=False)

    def _extra_pairs(self) -> Iterable[tuple[str, str]]:
        return (("amount", Money(self.amount, self.currency).format("code")),)

    @classmethod
    def _extra_from(cls, data: dict[str, str]) -> dict[str, object]:
        text = data.pop("amount", None)
        if text is None:
            raise ValidationError(f"{cls.kind.value}.amount", None, "missing")
        found = _MONEY_TEXT.fullmatch(text)
        if found is None:
            raise ValidationError(
                f"{cls.kind.value}.amount", text, "expected '<currency> <amount>', e.g. 'CNY 1.00'"
            )
        sign, currency, digits = found.groups()
        try:
            amount = Decimal(digits.replace(",", ""))
        except InvalidOperation:
            raise ValidationError(f"{cls.kind.value}.amount", text, "not an amount") from None
        return {"amount": -amount if sign else amount, "currency": currency}


_MONEY_TEXT = re.compile(r"(-?)([A-Z]{3}) ([0-9][0-9,]*(?:\.[0-9]+)?)")


@_payload
@attrs.frozen(kw_only=True)
class CaseClosed(Payload):
    """The case closed in stage ``outcome`` (``settled``, ``closed``)."""

    kind: ClassVar[EventKind] = EventKind.CASE_CLOSED
    outcome: str


@_payload
@attrs.frozen(kw_only=True)
class FlagSet(Payload):
    """Case flag ``flag`` was set."""

    kind: ClassVar[EventKind] = EventKind.FLAG_SET
    flag: str
    reason: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("flag")


@_payload
@attrs.frozen(kw_only=True)
class FlagCleared(Payload):
    """Case flag ``flag`` was cleared."""

    kind: ClassVar[EventKind] = EventKind.FLAG_CLEARED
    flag: str
    reason: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("flag")


@_payload
@attrs.frozen(kw_only=True)
class CaseAssigned(Payload):
    """The case was assigned to collector ``agent`` and/or ``team`` (at least one)."""

    kind: ClassVar[EventKind] = EventKind.CASE_ASSIGNED
    agent: str = attrs.field(default="", metadata=ALWAYS)
    team: str = attrs.field(default="", metadata=ALWAYS)
    reason: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        if not self.agent.strip() and not self.team.strip():
            raise ValidationError(f"{self.kind.value}.agent", self.agent, "name an agent or a team")


@_payload
@attrs.frozen(kw_only=True)
class LegalMatterOpened(Payload):
    """Legal matter ``matter`` was opened on route ``route`` (e.g. 诉讼, 仲裁, 支付令)."""

    kind: ClassVar[EventKind] = EventKind.LEGAL_MATTER_OPENED
    matter: str
    route: str
    reason: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("matter", "route")


@_payload
@attrs.frozen(kw_only=True)
class LegalMatterAdvanced(Payload):
    """Legal matter ``matter`` reached ``step`` (filed, hearing, judgment …)."""

    kind: ClassVar[EventKind] = EventKind.LEGAL_MATTER_ADVANCED
    matter: str
    step: str
    note: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("matter", "step")


@_payload
@attrs.frozen(kw_only=True)
class ChargedOff(Payload):
    """``amount`` ``currency`` was charged off in the lender's books."""

    kind: ClassVar[EventKind] = EventKind.CHARGED_OFF
    amount: Decimal
    currency: str
    reason: str

    def _check(self) -> None:
        self._money("amount", "currency")
        self._required("reason")


@_payload
@attrs.frozen(kw_only=True)
class ChargeOffReversed(Payload):
    """The charge-off was reversed."""

    kind: ClassVar[EventKind] = EventKind.CHARGE_OFF_REVERSED
    reason: str

    def _check(self) -> None:
        self._required("reason")


@_payload
@attrs.frozen(kw_only=True)
class WrittenOff(Payload):
    """``amount`` ``currency`` was written off."""

    kind: ClassVar[EventKind] = EventKind.WRITTEN_OFF
    amount: Decimal
    currency: str
    reason: str

    def _check(self) -> None:
        self._money("amount", "currency")
        self._required("reason")


@_payload
@attrs.frozen(kw_only=True)
class RecoveryRecorded(Payload):
    """Payment ``payment`` of ``amount`` ``currency`` recovered a charged-off debt."""

    kind: ClassVar[EventKind] = EventKind.RECOVERY_RECORDED
    payment: str
    amount: Decimal
    currency: str

    def _check(self) -> None:
        self._required("payment")
        self._money("amount", "currency")


@_payload
@attrs.frozen(kw_only=True)
class CaseSold(Payload):
    """The debt was sold to ``buyer`` in sale ``sale``.

    :param price: the price, when known (written only when set), in ``currency``
        (``""`` without a price).
    """

    kind: ClassVar[EventKind] = EventKind.CASE_SOLD
    buyer: str
    sale: str
    price: Decimal | None = None
    currency: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("buyer", "sale")
        if (self.price is None) != (self.currency == ""):
            raise ValidationError(
                f"{self.kind.value}.currency", self.currency, "give price and currency together"
            )
        if self.price is not None:
            self._money("price", "currency", positive=False)
            if self.price < 0:
                raise ValidationError(
                    f"{self.kind.value}.price", str(self.price), "must not be negative"
                )


@_payload
@attrs.frozen(kw_only=True)
class InboundMessage(Payload):
    """A channel told us something that is not a receipt or an opt-out.

    Never the message text or a phone number: only what it was and where it points.

    :param message_kind: what came in (``"reply"``, ``"webhook"``); passed to the
        constructor and stored as ``kind``.
    :param key: the idempotency key of the outbox entry it answers (``""`` if none).
    """

    kind: ClassVar[EventKind] = EventKind.INBOUND_MESSAGE
    channel: str
    message_kind: str = attrs.field(alias="kind")
    key: str = attrs.field(default="", metadata=ALWAYS)
    provider_id: str = attrs.field(default="", metadata=ALWAYS)
    detail: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._required("channel", "message_kind")


# -- the stage policy's optional capabilities (docs/policy.md, "coming from …") -------------


@_payload
@attrs.frozen(kw_only=True)
class MarkerSet(Payload):
    """On entering ``stage`` the case carries ``marker`` for the host (e.g. ``block_changes``)."""

    kind: ClassVar[EventKind] = EventKind.MARKER_SET
    marker: str
    stage: str

    def _check(self) -> None:
        self._required("marker", "stage")


@_payload
@attrs.frozen(kw_only=True)
class MarkerRemoved(Payload):
    """On leaving ``stage`` the case no longer carries ``marker``."""

    kind: ClassVar[EventKind] = EventKind.MARKER_REMOVED
    marker: str
    stage: str

    def _check(self) -> None:
        self._required("marker", "stage")


@_payload
@attrs.frozen(kw_only=True)
class PaymentFailed(Payload):
    """The payment system answered ``response`` to the last payment attempt."""

    kind: ClassVar[EventKind] = EventKind.PAYMENT_FAILED
    response: str

    def _check(self) -> None:
        self._required("response")


@_payload
@attrs.frozen(kw_only=True)
class DelinquencyPaused(Payload):
    """Delinquency is paused from ``start`` to ``end`` (``None``: until resumed)."""

    kind: ClassVar[EventKind] = EventKind.DELINQUENCY_PAUSED
    start: dt.date
    end: dt.date | None = None
    reason: str = attrs.field(default="", metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class DelinquencyResumed(Payload):
    """The pause that began on ``start`` was resumed (on the event's date)."""

    kind: ClassVar[EventKind] = EventKind.DELINQUENCY_RESUMED
    start: dt.date
    reason: str = attrs.field(default="", metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class DelinquencyRangeChanged(Payload):
    """The delinquency range moved from ``previous`` to ``current`` (``""``: none).

    :param installment: the installment number, or ``0`` for the loan as a whole.
    :param days: its delinquent days that day.
    """

    kind: ClassVar[EventKind] = EventKind.DELINQUENCY_RANGE_CHANGED
    installment: int
    previous: str = attrs.field(default="", metadata=ALWAYS)
    current: str = attrs.field(default="", metadata=ALWAYS)
    days: int = attrs.field(default=0, metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class LoanStatusSet(Payload):
    """The host set the loan's status to ``status`` (from ``previous``)."""

    kind: ClassVar[EventKind] = EventKind.LOAN_STATUS_SET
    status: str
    previous: str
    reason: str = attrs.field(default="", metadata=ALWAYS)


@_payload
@attrs.frozen(kw_only=True)
class NoticeIssued(Payload):
    """Dunning notice ``notice`` of ``stage`` was issued.

    Amounts in ``currency``: the overdue amount, interest, fee, and the grand total
    (overdue + interest + fee). ``fee_rate`` is the exchange rate a fee in another
    currency was converted at (written only when used); ``language`` the letter's.
    """

    kind: ClassVar[EventKind] = EventKind.NOTICE_ISSUED
    notice: str
    stage: str
    dunning_type: str
    currency: str
    overdue: Decimal
    interest: Decimal
    fee: Decimal
    grand_total: Decimal
    language: str = attrs.field(default="", metadata=ALWAYS)
    fee_rate: Decimal | None = None

    def _check(self) -> None:
        self._required("notice", "stage")
        for name in ("overdue", "interest", "fee", "grand_total"):
            self._money(name, "currency", positive=False)


@_payload
@attrs.frozen(kw_only=True)
class NoticeSent(Payload):
    """Notice ``notice`` went out (the host reports it)."""

    kind: ClassVar[EventKind] = EventKind.NOTICE_SENT
    notice: str


@_payload
@attrs.frozen(kw_only=True)
class NoticeResolved(Payload):
    """Notice ``notice`` was paid (payments since it was issued cover its grand total)."""

    kind: ClassVar[EventKind] = EventKind.NOTICE_RESOLVED
    notice: str


@_payload
@attrs.frozen(kw_only=True)
class NoticeCancelled(Payload):
    """Notice ``notice`` was cancelled: its interest and fee are reversed."""

    kind: ClassVar[EventKind] = EventKind.NOTICE_CANCELLED
    notice: str
    reason: str


@_payload
@attrs.frozen(kw_only=True)
class NoticeSuperseded(Payload):
    """Pending notice ``notice`` was superseded by ``by``, of a higher level."""

    kind: ClassVar[EventKind] = EventKind.NOTICE_SUPERSEDED
    notice: str
    by: str


@_payload
@attrs.frozen(kw_only=True)
class CreditNoteRecorded(Payload):
    """Credit note ``credit_note`` of ``amount`` ``currency`` reduces what is owed."""

    kind: ClassVar[EventKind] = EventKind.CREDIT_NOTE_RECORDED
    credit_note: str
    amount: Decimal
    currency: str
    reason: str = attrs.field(default="", metadata=ALWAYS)

    def _check(self) -> None:
        self._money("amount", "currency")


@_payload
@attrs.frozen(kw_only=True)
class CampaignAttempted(Payload):
    """Attempt ``attempt`` of dunning campaign ``campaign`` (overdue ``amount`` ``currency``)."""

    kind: ClassVar[EventKind] = EventKind.CAMPAIGN_ATTEMPTED
    campaign: str
    attempt: int
    amount: Decimal
    currency: str

    def _check(self) -> None:
        self._money("amount", "currency")


@_payload
@attrs.frozen(kw_only=True)
class CampaignFinished(Payload):
    """Campaign ``campaign`` made its last attempt (Lago's ``dunning_campaign.finished``)."""

    kind: ClassVar[EventKind] = EventKind.CAMPAIGN_FINISHED
    campaign: str
    attempts: int


@_payload
@attrs.frozen(kw_only=True)
class CaseBoughtBack(Payload):
    """The lender bought the debt back from ``buyer`` (sale ``sale``): it was not
    eligible for the sale (disputed, bankrupt, deceased, outside the criteria)."""

    kind: ClassVar[EventKind] = EventKind.CASE_BOUGHT_BACK
    buyer: str
    sale: str
    reason: str

    def _check(self) -> None:
        self._required("buyer", "sale", "reason")


@_payload
@attrs.frozen(kw_only=True)
class CallReviewed(Payload):
    """A call's script and transcript checked against the rule packs' content rules.

    Never the transcript itself: the call, what it achieved, the score and the ids of
    the rules the text broke.

    :param call: the call's id (the dialer's or the desk's).
    :param key: the idempotency key of the outbox entry the call answers (``""``: none).
    :param outcome: what the call achieved.
    :param score: the quality score, 0 (worst) to 100.
    :param findings: the ids of the broken rules and the kinds found, comma-separated.
    :param recording: the recording's reference (``""``: not recorded).
    :param keep_until: the first date the recording may be deleted.
    :param agent: the collector.
    """

    kind: ClassVar[EventKind] = EventKind.CALL_REVIEWED
    call: str
    outcome: OutcomeKind = attrs.field(converter=_outcome_kind)
    score: int
    key: str = attrs.field(default="", metadata=ALWAYS)
    findings: str = attrs.field(default="", metadata=ALWAYS)
    recording: str = ""
    keep_until: dt.date | None = None
    agent: str = ""

    def _check(self) -> None:
        self._required("call")
        if not 0 <= self.score <= 100:
            raise ValidationError("call_reviewed.score", self.score, "must be between 0 and 100")


_MISSING = sorted(k.value for k in EventKind if k not in PAYLOADS)
if _MISSING:  # pragma: no cover - a new kind without its payload class
    raise TypeError(f"event kinds without a payload class: {_MISSING}")


def new_event(
    payload: Payload, *, loan_id: str, on: dt.date, at: dt.datetime | None = None
) -> Event:
    """An unchained event of ``payload``'s kind for loan ``loan_id``.

    :param on: the business date the event belongs to.
    :param at: the instant it happened, time-zone aware, when known.
    """
    return Event(kind=type(payload).kind, loan_id=loan_id, on=on, data=payload.pairs(), at=at)


# Canonical JSON of an event: keys in sorted order (written so, rather than sorted on
# every call), no spaces, UTF-8 as is. Changing it would break every stored chain.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _digest(ev: Event, seq: int, prev_hash: str) -> str:
    at = ev.at
    body = _CANONICAL.encode(
        {
            "at": at.isoformat() if at is not None else None,
            "data": ev.data,
            "kind": ev.kind.value,
            "loan_id": ev.loan_id,
            "on": ev.on.isoformat(),
            "seq": seq,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def chain(
    events: Iterable[Event], prev_hash: str = GENESIS, start_seq: int = 0
) -> tuple[Event, ...]:
    """Number and hash ``events`` as the continuation of a stream.

    :param prev_hash: hash of the stream's last stored event (``GENESIS`` if none).
    :param start_seq: sequence number of the first new event.
    """
    out = []
    for seq, ev in enumerate(events, start_seq):
        digest = _digest(ev, seq, prev_hash)
        out.append(Event(ev.kind, ev.loan_id, ev.on, ev.data, ev.at, seq, prev_hash, digest))
        prev_hash = digest
    return tuple(out)


_QUOTE = json.encoder.encode_basestring  # what _CANONICAL quotes strings with


def chain_encoded(
    events: Iterable[Event], prev_hash: str = GENESIS, start_seq: int = 0
) -> tuple[tuple[Event, str], ...]:
    """:func:`chain`, each event paired with its payload's canonical JSON text.

    The text is the ``data`` part of the hashed body, byte for byte, so storage can
    keep the very bytes that were hashed instead of encoding the payload again. The
    body is assembled around that one encoding exactly as :func:`chain` encodes it
    (keys in sorted order, no spaces, UTF-8 as is).
    """
    out = []
    for seq, ev in enumerate(events, start_seq):
        at = ev.at
        data = _CANONICAL.encode(ev.data)
        body = (
            f'{{"at":{"null" if at is None else _QUOTE(at.isoformat())},"data":{data},'
            f'"kind":{_QUOTE(ev.kind.value)},"loan_id":{_QUOTE(ev.loan_id)},'
            f'"on":"{ev.on.isoformat()}","seq":{seq}}}'
        )
        digest = hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
        chained = Event(ev.kind, ev.loan_id, ev.on, ev.data, ev.at, seq, prev_hash, digest)
        out.append((chained, data))
        prev_hash = digest
    return tuple(out)


def verify_chain(events: Sequence[Event], prev_hash: str = GENESIS) -> int | None:
    """Check one stream; return the index of the first bad event, or ``None`` if intact.

    An event is bad if its sequence number, its ``prev_hash`` or its own hash does
    not follow from the events before it.
    """
    expected_seq = events[0].seq if events else 0
    for index, ev in enumerate(events):
        if ev.seq != expected_seq + index or ev.prev_hash != prev_hash:
            return index
        if ev.digest(prev_hash) != ev.hash:
            return index
        prev_hash = ev.hash
    return None


# -- audit: stream heads, signatures and the verification of a stored stream ---------------
#
# A stream's *head* records its last sequence number and hash; storage writes it in the
# same transaction as every append, so a stream that lost events (at its end, or all of
# them) no longer reaches its head. With a key (an HMAC key the operator holds) every
# event and every head is also signed, so a stream edited and re-hashed with ``chain``,
# or a head rewritten, is told apart from the genuine one by anyone holding the key and
# by no one without it. Nothing here changes the hash of an event.


class StreamFault(enum.Enum):
    """Why a stored stream does not verify (see :func:`audit_stream`)."""

    EDITED = "edited"  # an event's content (or its link) no longer matches its hash
    REHASHED = "rehashed"  # the chain holds but is not the one signed or anchored
    REORDERED = "reordered"  # an event follows another event than its predecessor
    MISSING = "missing"  # an event is missing between two others (a sequence gap)
    TRUNCATED = "truncated"  # events are missing at the end: the head is further
    DELETED = "deleted"  # the head exists, no event does
    EXTENDED = "extended"  # events after the head: written around the repository
    UNANCHORED = "unanchored"  # events without a head
    UNSIGNED = "unsigned"  # no signature where the key requires one
    BAD_AT_UTC = "bad_at_utc"  # the stored UTC instant disagrees with the hashed one


@attrs.frozen(kw_only=True, repr=False)
class StreamHead:
    """Where a stream ends: its last ``seq`` and ``hash``, signed when a key is set.

    :param mac: HMAC-SHA-256 (hex) of :func:`head_mac`, or ``None`` (unsigned).
    """

    loan_id: str
    seq: int
    hash: str
    mac: str | None = None

    def __repr__(self) -> str:
        signed = "signed" if self.mac is not None else "unsigned"
        return f"StreamHead({self.loan_id!r}, seq={self.seq}, hash={self.hash[:12]}…, {signed})"


@attrs.frozen(kw_only=True)
class StreamProblem:
    """A stream that does not verify: where it first goes wrong, and why.

    :param seq: the first bad sequence number (for a missing or truncated event, the
        sequence number it should have had).
    :param detail: a sentence for the operator (never a key, never personal data).
    """

    tenant: str
    loan_id: str
    seq: int
    fault: StreamFault
    detail: str


def _mac(key: bytes, label: str, tenant: str, loan_id: str, seq: int, digest: str) -> str:
    message = _CANONICAL.encode([label, tenant, loan_id, seq, digest]).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def event_mac(key: bytes, tenant: str, loan_id: str, seq: int, digest: str) -> str:
    """The signature of the event ``seq`` of ``loan_id``'s stream whose hash is ``digest``.

    It binds the tenant, which the hash does not cover, so a stream moved to another
    tenant no longer verifies.
    """
    return _mac(key, "loancollect.event.v1", tenant, loan_id, seq, digest)


def head_mac(key: bytes, tenant: str, loan_id: str, seq: int, digest: str) -> str:
    """The signature of a stream head (a different label: an event's signature is never
    a valid head's)."""
    return _mac(key, "loancollect.head.v1", tenant, loan_id, seq, digest)


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    return None if at is None else at.astimezone(dt.UTC)


def audit_stream(
    loan_id: str,
    events: Sequence[Event],
    head: StreamHead | None,
    *,
    tenant: str,
    key: bytes | None = None,
    macs: Sequence[str | None] | None = None,
    stored_utc: Sequence[dt.datetime | None] | None = None,
    unsigned_ok: bool = False,
) -> StreamProblem | None:
    """Check one stored stream against its head; the first problem, or ``None``.

    :param events: the stored events of the stream, in sequence order.
    :param head: the stored head (``None``: there is none).
    :param key: the audit key; with it, every event's signature (``macs``, aligned with
        ``events``) and the head's are checked, and a missing one is a problem.
    :param stored_utc: the instant each event's storage keeps beside the hashed one
        (a column in UTC), checked against it; ``None`` when storage keeps no copy.
    :param unsigned_ok: with a key, accept a missing signature (the signatures that
        are there are still checked): what is checked before signing what is unsigned.
    """

    def problem(seq: int, fault: StreamFault, detail: str) -> StreamProblem:
        return StreamProblem(tenant=tenant, loan_id=loan_id, seq=seq, fault=fault, detail=detail)

    if not events:
        if head is None:
            return None
        return problem(
            0, StreamFault.DELETED, f"the head records {head.seq + 1} event(s), none are stored"
        )
    if head is None:
        return problem(0, StreamFault.UNANCHORED, "events are stored but the stream has no head")
    hashes = {ev.hash for ev in events}
    prev = GENESIS
    for index, ev in enumerate(events):
        if ev.seq != index:
            return problem(
                index, StreamFault.MISSING, f"event {index} is missing (the next is {ev.seq})"
            )
        if ev.prev_hash != prev:
            if index > 0 and (ev.prev_hash in hashes or ev.prev_hash == GENESIS):
                return problem(
                    index, StreamFault.REORDERED, "it follows another event than the one before it"
                )
            if index > 0 and ev.digest(ev.prev_hash) == ev.hash:
                return problem(
                    index - 1,
                    StreamFault.REHASHED,
                    "its hash was recomputed: the event after it still links to the old one",
                )
            return problem(index, StreamFault.EDITED, "its link to the event before was changed")
        if ev.digest(prev) != ev.hash:
            return problem(index, StreamFault.EDITED, "its content does not match its hash")
        if stored_utc is not None and _utc(ev.at) != stored_utc[index]:
            return problem(
                index, StreamFault.BAD_AT_UTC, "the stored UTC instant differs from the hashed one"
            )
        if key is not None:
            mac = macs[index] if macs is not None else None
            if mac is None:
                if not unsigned_ok:
                    return problem(index, StreamFault.UNSIGNED, "the event is not signed")
            elif not hmac.compare_digest(mac, event_mac(key, tenant, loan_id, index, ev.hash)):
                return problem(
                    index,
                    StreamFault.REHASHED,
                    "its signature does not match: changed and re-hashed without the key",
                )
        prev = ev.hash
    last = events[-1].seq
    if head.seq > last:
        return problem(
            last + 1,
            StreamFault.TRUNCATED,
            f"the head records {head.seq + 1} events, {last + 1} are stored",
        )
    if head.seq >= 0 and events[head.seq].hash != head.hash:
        return problem(
            head.seq,
            StreamFault.REHASHED,
            "the stream does not reach the hash its head records: an event at or before "
            "this one was changed and the stream re-hashed (with the key, the first one is named)",
        )
    if head.seq < last:
        return problem(
            head.seq + 1,
            StreamFault.EXTENDED,
            "events after the head were written around the store",
        )
    if key is not None:
        if head.mac is None:
            if not unsigned_ok:
                return problem(head.seq, StreamFault.UNSIGNED, "the head is not signed")
        elif not hmac.compare_digest(head.mac, head_mac(key, tenant, loan_id, head.seq, head.hash)):
            return problem(
                head.seq,
                StreamFault.REHASHED,
                "the head's signature does not match: it was rewritten without the key",
            )
    return None
