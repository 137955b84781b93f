"""What a call achieved, as a collector records it or a dialer reports it, and the
typed :class:`~loancollect.domain.intake.Outcome` the intake takes."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from loancollect.domain.case import OutcomeKind
from loancollect.domain.intake import Actor, Outcome, PromiseTerms
from loancollect.errors import ValidationError

__all__ = ["CHANNEL", "NOBODY", "CallRecord", "Disposition", "RecordingRef"]

CHANNEL = "phone"
"""The channel name outcomes are recorded under."""

NOBODY = Actor()
"""No collector named (a dialer's own result)."""


class Disposition(enum.Enum):
    """The dispositions of a collection call."""

    RIGHT_PARTY = "right_party"  # the borrower, identity confirmed
    THIRD_PARTY = "third_party"  # someone else answered (nothing about the debt was said)
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"  # a machine answered; only the limited-content message was left
    CALLBACK = "callback"  # the borrower asked to be called back at a time
    PROMISE = "promise"  # a promise to pay, with its terms
    REFUSAL = "refusal"
    DISPUTE = "dispute"
    CEASE_REQUEST = "cease_request"
    WRONG_NUMBER = "wrong_number"

    @property
    def outcome(self) -> OutcomeKind:
        """The outcome kind the intake records."""
        return _OUTCOMES[self]

    @property
    def connected(self) -> bool:
        """Someone or something answered (a contact, in the contact rate)."""
        return self not in (Disposition.NO_ANSWER, Disposition.BUSY)

    @property
    def right_party(self) -> bool:
        """The borrower was reached (a right-party contact)."""
        return self in _RIGHT_PARTY


_OUTCOMES = {
    Disposition.RIGHT_PARTY: OutcomeKind.RIGHT_PARTY_CONTACT,
    Disposition.THIRD_PARTY: OutcomeKind.THIRD_PARTY,
    Disposition.NO_ANSWER: OutcomeKind.NO_ANSWER,
    Disposition.BUSY: OutcomeKind.BUSY,
    Disposition.VOICEMAIL: OutcomeKind.VOICEMAIL,
    Disposition.CALLBACK: OutcomeKind.CALLBACK_REQUESTED,
    Disposition.PROMISE: OutcomeKind.PROMISE,
    Disposition.REFUSAL: OutcomeKind.REFUSED,
    Disposition.DISPUTE: OutcomeKind.DISPUTE_RAISED,
    Disposition.CEASE_REQUEST: OutcomeKind.CEASE_REQUEST,
    Disposition.WRONG_NUMBER: OutcomeKind.WRONG_NUMBER,
}
_RIGHT_PARTY = frozenset(
    {
        Disposition.RIGHT_PARTY,
        Disposition.CALLBACK,
        Disposition.PROMISE,
        Disposition.REFUSAL,
        Disposition.DISPUTE,
        Disposition.CEASE_REQUEST,
    }
)


@attrs.frozen(kw_only=True)
class RecordingRef:
    """A call recording: the recorder's reference and the first date it may be deleted."""

    reference: str
    keep_until: dt.date

    def __attrs_post_init__(self) -> None:
        if not self.reference:
            raise ValidationError("recording.reference", self.reference, "must not be empty")


@attrs.frozen(kw_only=True)
class CallRecord:
    """One finished call of a loan.

    :param call: the call's id (the dialer's call id, or the desk's).
    :param key: the outbox entry the call answers, if any.
    :param at: when the call was made (time-zone aware).
    :param promise: the promise's terms; required with ``PROMISE``, refused otherwise.
    :param callback_at: the time the borrower asked to be called (``CALLBACK``).
    :param recording: the recording, when the call was recorded.
    """

    call: str
    loan_id: str
    disposition: Disposition
    at: dt.datetime
    key: str | None = None
    by: Actor = NOBODY
    duration: dt.timedelta | None = None
    promise: PromiseTerms | None = None
    callback_at: dt.datetime | None = None
    recording: RecordingRef | None = None
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.disposition is Disposition.CALLBACK and self.callback_at is None:
            raise ValidationError("call.callback_at", None, "a callback needs the time asked for")
        if self.callback_at is not None and self.callback_at.utcoffset() is None:
            raise ValidationError("call.callback_at", self.callback_at.isoformat(), "naive time")

    def outcome(self) -> Outcome:
        """The typed outcome the intake records: the recording's reference as the
        evidence and its retention date in the note."""
        note = self.note
        evidence = ""
        if self.recording is not None:
            evidence = self.recording.reference
            kept = f"recording kept until {self.recording.keep_until.isoformat()}"
            note = f"{note}; {kept}" if note else kept
        if self.callback_at is not None:
            asked = f"callback at {self.callback_at.isoformat()}"
            note = f"{note}; {asked}" if note else asked
        return Outcome(
            kind=self.disposition.outcome,
            at=self.at,
            channel=CHANNEL,
            key=self.key,
            by=self.by,
            duration=self.duration,
            evidence=evidence,
            promise=self.promise,
            note=note,
        )
