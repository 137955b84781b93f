"""What comes back from the world about a case: contact outcomes, typed.

Every channel that talks to people — a collector's phone desk, a dialer, a field
agent's app, a CRM, an agency — reports what happened as an :class:`Outcome`: the
instant (time-zone aware), the outbox entry it answers, the channel, who made the
contact, how long it took, a reference to its evidence (a recording id, a photo's
SHA-256), where it happened, and — for a promise — the promise's terms.
:func:`apply_outcome` turns it into the case update and the events to store; the
engine's intake (:mod:`loancollect.engine.intake`) is the one way it comes in.

Pure: no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from loancollect.domain.arrangements import PromiseToPay
from loancollect.domain.case import CEASE_FLAG, Case, ContactOutcome, Hold, HoldKind, OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import (
    ContactOutcomeRecorded,
    Event,
    HoldPlaced,
    PromiseMade,
    new_event,
)
from loancollect.domain.money import Money

__all__ = [
    "Actor",
    "GeoPoint",
    "Outcome",
    "PromiseTerms",
    "apply_outcome",
    "record_contact",
    "recorded",
]

# Outcomes that put a hold on the case the moment they are recorded.
_HOLDS = {
    OutcomeKind.DISPUTE_RAISED: (HoldKind.DISPUTE, "dispute raised"),
    OutcomeKind.DECEASED: (HoldKind.DECEASED, "reported deceased"),
    OutcomeKind.BANKRUPTCY: (HoldKind.BANKRUPTCY, "reported bankrupt"),
}


def _aware(field: str) -> attrs._ValidatorType[dt.datetime]:
    def check(_: object, __: attrs.Attribute[dt.datetime], value: dt.datetime) -> None:
        if not isinstance(value, dt.datetime):
            raise ValidationError(field, value, "expected a time-zone-aware datetime")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(field, value.isoformat(), "naive datetime; give a time zone")

    return check


@attrs.frozen(kw_only=True)
class Actor:
    """Who made the contact: a collector, a team, an agency (any may be empty)."""

    agent: str = ""
    team: str = ""
    agency: str = ""


def _decimal(field: str, low: Decimal, high: Decimal) -> attrs._ValidatorType[Decimal]:
    def check(_: object, __: attrs.Attribute[Decimal], value: Decimal) -> None:
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValidationError(field, value, "expected a finite Decimal (never a float)")
        if not low <= value <= high:
            raise ValidationError(field, value, f"must be between {low} and {high}")

    return check


@attrs.frozen(kw_only=True)
class GeoPoint:
    """Where a contact happened (WGS 84), with the fix's accuracy radius in metres."""

    lat: Decimal = attrs.field(validator=_decimal("location.lat", Decimal(-90), Decimal(90)))
    lon: Decimal = attrs.field(validator=_decimal("location.lon", Decimal(-180), Decimal(180)))
    accuracy_m: Decimal | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            _decimal("location.accuracy_m", Decimal(0), Decimal(100_000))
        ),
    )


@attrs.frozen(kw_only=True)
class PromiseTerms:
    """What the borrower promised: ``amount`` by ``due`` (inclusive)."""

    amount: Money
    due: dt.date


@attrs.frozen(kw_only=True)
class Outcome:
    """One contact's result, as a collector, a dialer or an app reports it.

    :param kind: what happened.
    :param at: the instant of the contact (time-zone aware).
    :param channel: the channel it happened on (``phone``, ``visit``, ``sms`` …).
    :param key: the idempotency key of the outbox entry it answers, if any.
    :param by: who made the contact.
    :param duration: how long the call or visit lasted.
    :param evidence: a reference to the recording, photo or document (an id or a
        SHA-256), never the content itself.
    :param location: where it happened (visits).
    :param promise: the promise's terms; required when ``kind`` is ``PROMISE``.
    :param note: a short note (no personal data).
    """

    kind: OutcomeKind = attrs.field(validator=attrs.validators.instance_of(OutcomeKind))
    at: dt.datetime = attrs.field(validator=_aware("outcome.at"))
    channel: str
    key: str | None = None
    by: Actor = Actor()
    duration: dt.timedelta | None = None
    evidence: str = ""
    location: GeoPoint | None = None
    promise: PromiseTerms | None = None
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.channel:
            raise ValidationError("outcome.channel", self.channel, "must not be empty")
        if self.kind is OutcomeKind.PROMISE and self.promise is None:
            raise ValidationError("outcome.promise", None, "a promise outcome needs its terms")
        if self.kind is not OutcomeKind.PROMISE and self.promise is not None:
            raise ValidationError(
                "outcome.promise", self.kind.value, "terms are given only with a promise"
            )
        if self.duration is not None and self.duration < dt.timedelta(0):
            raise ValidationError("outcome.duration", self.duration, "must not be negative")


def record_contact(
    case: Case, contact: ContactOutcome, recorded: ContactOutcomeRecorded, at: dt.datetime | None
) -> tuple[Case, list[Event]]:
    """The case with ``contact`` kept on it, its holds and flags, and the events.

    - every outcome is kept on the case and pulls its review forward to its date;
    - a dispute, a death or a bankruptcy reported holds the case from that date;
    - a cease request sets :data:`~loancollect.domain.case.CEASE_FLAG` with its date.
    """
    on = contact.on
    updated = case.with_contact(contact)
    events = [new_event(recorded, loan_id=case.loan_id, on=on, at=at)]
    hold = _HOLDS.get(contact.outcome)
    if hold is not None:
        kind, reason = hold
        updated = updated.with_hold(Hold(kind, on, None, reason))
        if kind is not HoldKind.DISPUTE:  # a dispute's hold is recorded by its outcome
            placed = HoldPlaced(hold=kind, start=on, reason=reason)
            events.append(new_event(placed, loan_id=case.loan_id, on=on))
    if contact.outcome is OutcomeKind.CEASE_REQUEST:
        updated = attrs.evolve(updated, flags=updated.flags | {f"{CEASE_FLAG}:{on.isoformat()}"})
    return updated, events


def apply_outcome(
    case: Case, outcome: Outcome, *, on: dt.date, currency: str
) -> tuple[Case, tuple[Event, ...]]:
    """The case after ``outcome`` (recorded on business date ``on``) and its events.

    What :func:`record_contact` does, and a promise becomes a
    :class:`~loancollect.domain.arrangements.PromiseToPay` (in the loan's
    ``currency``, due no earlier than ``on``) with its ``PROMISE_MADE`` event.

    :raises ValidationError: for a promise in another currency or due in the past.
    """
    contact = ContactOutcome(on, outcome.channel, outcome.kind, outcome.note)
    updated, events = record_contact(case, contact, recorded(outcome), outcome.at)
    if outcome.promise is not None:
        terms = outcome.promise
        if terms.amount.currency != currency:
            raise ValidationError(
                "outcome.promise.amount", terms.amount.currency, f"the loan is in {currency}"
            )
        promise = PromiseToPay(
            id=f"{outcome.key or outcome.channel}@{outcome.at.isoformat()}",
            made_on=on,
            amount=terms.amount,
            due=terms.due,
        )
        updated = updated.with_arrangement(promise)
        made = PromiseMade(arrangement=promise.id, amount=terms.amount.amount)
        events.append(new_event(made, loan_id=case.loan_id, on=on))
    return updated.reviewed_by(on), tuple(events)


def recorded(outcome: Outcome) -> ContactOutcomeRecorded:
    """The ``CONTACT_OUTCOME`` payload of ``outcome`` (every detail that is set)."""
    terms, where, by = outcome.promise, outcome.location, outcome.by
    return ContactOutcomeRecorded(
        channel=outcome.channel,
        outcome=outcome.kind,
        note=outcome.note,
        key=outcome.key or "",
        agent=by.agent,
        team=by.team,
        agency=by.agency,
        duration_s=int(outcome.duration.total_seconds()) if outcome.duration is not None else None,
        evidence=outcome.evidence,
        lat=where.lat if where is not None else None,
        lon=where.lon if where is not None else None,
        accuracy_m=where.accuracy_m if where is not None else None,
        promise_amount=terms.amount.amount if terms is not None else None,
        promise_currency=terms.amount.currency if terms is not None else "",
        promise_date=terms.due if terms is not None else None,
    )
