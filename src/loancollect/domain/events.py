"""Domain events: what happened to a case, as an append-only, hash-chained record.

The pure core returns events; the cycle stores them and fires the
``loancollect_on_event`` hook. Each event carries the hash of the previous event
of the same case (its stream), so editing, dropping or reordering a stored event
breaks the chain and :func:`verify_chain` finds where.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

import attrs

from loancollect.domain.errors import ValidationError

__all__ = [
    "GENESIS",
    "Event",
    "EventKind",
    "chain",
    "make_event",
    "verify_chain",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event of every stream."""


class EventKind(enum.Enum):
    """Every kind of event the engine records."""

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


@attrs.frozen
class Event:
    """One thing that happened to one case.

    :param on: the business date (the cycle's ``as_of``) the event belongs to.
    :param at: the instant it happened, time-zone aware, when known.
    :param data: details as sorted ``(key, value)`` string pairs (no personal data).
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

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of detail ``key``."""
        for k, v in self.data:
            if k == key:
                return v
        return default

    @property
    def details(self) -> dict[str, str]:
        """The details as a dict."""
        return dict(self.data)

    def digest(self, prev_hash: str) -> str:
        """SHA-256 over the previous hash and this event's canonical content."""
        return _digest(self, self.seq, prev_hash)


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


def make_event(
    kind: EventKind,
    loan_id: str,
    on: dt.date,
    *,
    at: dt.datetime | None = None,
    data: Mapping[str, object] | None = None,
) -> Event:
    """Build an unchained event; values in ``data`` are turned into strings."""
    pairs = tuple(sorted((str(k), _text(v)) for k, v in (data or {}).items()))
    return Event(kind=kind, loan_id=loan_id, on=on, data=pairs, at=at)


def _text(value: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


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
