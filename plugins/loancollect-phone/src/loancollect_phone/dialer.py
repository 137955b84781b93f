"""The dialer port, and the ``phone`` channel built on it.

A :class:`Dialer` places one call per outbox key and, later, reports what became
of it as :class:`CallEvent` records (a status callback, a channel event). A call a
person answers goes to a collector, who records the disposition through the desk;
what a dialer can tell by itself — busy, no answer, a number that does not exist,
a machine that took the limited-content message — becomes a disposition here.

Two adapters speak documented protocols: :mod:`loancollect_phone.twilio`
(Twilio-compatible programmable voice over REST, signed status callbacks) and
:mod:`loancollect_phone.ari` (Asterisk REST Interface: originate over REST, events
over a WebSocket). A vendor adds a third by implementing :class:`Dialer`.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Protocol, runtime_checkable

import attrs

from loancollect.ports import DeliveryResult
from loancollect_phone.dispositions import Disposition

__all__ = ["CallEvent", "CallStatus", "DialRequest", "Dialer"]


@attrs.frozen(kw_only=True)
class DialRequest:
    """One call to place.

    :param key: the outbox entry's idempotency key (one call a key).
    :param to: the number to call, ``+`` and digits.
    :param machine_message: the only thing said to an answering machine: the
        jurisdiction's limited-content message (Reg F § 1006.2(j) in the US).
    :param notice: the recording notice said first to a person, when the rules want one.
    :param record: record the call.
    """

    key: str
    loan_id: str
    to: str = attrs.field(repr=False)
    machine_message: str
    notice: str = ""
    record: bool = False


class CallStatus(enum.Enum):
    """Where a placed call is."""

    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"  # by a person (or not yet known)
    MACHINE = "machine"  # an answering machine or voicemail answered
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # the network or the dialer could not place it
    CANCELED = "canceled"


@attrs.frozen(kw_only=True)
class CallEvent:
    """What a dialer reports about a placed call.

    :param disposition: what the call achieved when the dialer alone can tell (busy,
        no answer, wrong number, a limited-content message left); ``None`` while the
        call goes on or when a person answered (the collector records that one).
    :param cause: the dialer's own reason (a Q.850 cause, an error code), for the record.
    """

    key: str
    call: str
    status: CallStatus
    at: dt.datetime
    disposition: Disposition | None = None
    duration: dt.timedelta | None = None
    cause: str = ""

    @property
    def final(self) -> bool:
        """The call is over."""
        return self.status in (
            CallStatus.COMPLETED,
            CallStatus.BUSY,
            CallStatus.NO_ANSWER,
            CallStatus.FAILED,
            CallStatus.CANCELED,
        )


@runtime_checkable
class Dialer(Protocol):
    """Places calls (the port every dialer adapter implements).

    ``dial`` must be idempotent per :attr:`DialRequest.key`: a key that was placed,
    or failed for good, returns its first result without calling again; a retryable
    failure (timeout, 429, 5xx) may be tried again with the same key.
    """

    name: str

    def dial(self, request: DialRequest) -> DeliveryResult:
        """Place the call; ``SENT`` with the dialer's call id as ``provider_id``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
