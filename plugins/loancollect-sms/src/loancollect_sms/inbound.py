"""What comes back from the gateway: delivery receipts and borrowers' replies.

The gateway calls the host's web endpoint; the host parses the payload here and
feeds the result to the engine::

    receipt = parse_receipt(request.form)
    feed_receipt(engine.intake, receipt)             # a DELIVERY_RECEIPT event

    reply = parse_reply(request.form)
    if reply.opt_out:                                # STOP, 退订, TD ...
        feed_opt_out(engine.intake, reply, loan_ids_for(reply.number))

Both go through the engine's intake (:class:`loancollect.Intake`), the one way in;
the business date is the message's instant in the borrower's time zone unless
``on`` is given. The host maps a number to its loans (it owns the borrowers); the
receipt names the idempotency key the channel sent, which the intake maps to the
loan itself.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from loancollect import Inbound, InboundKind, Intake
from loancollect.domain.privacy import mask_phone
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryStatus
from loancollect_sms.channel import normalise_number

__all__ = [
    "OPT_OUT_WORDS",
    "RECEIPT_STATUSES",
    "DeliveryReceipt",
    "InboundReply",
    "feed_opt_out",
    "feed_receipt",
    "is_opt_out",
    "parse_receipt",
    "parse_reply",
]

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "TD", "T", "退订", "取消订阅"}
)
"""Replies that ask for no more SMS (compared after removing spaces and punctuation,
ignoring case); a reply containing 退订 anywhere also counts."""

RECEIPT_STATUSES: dict[str, DeliveryStatus] = {
    "DELIVRD": DeliveryStatus.SENT,
    "DELIVERED": DeliveryStatus.SENT,
    "ACCEPTD": DeliveryStatus.SENT,
    "ACCEPTED": DeliveryStatus.SENT,
    "UNDELIV": DeliveryStatus.FAILED_PERMANENT,
    "UNDELIVERED": DeliveryStatus.FAILED_PERMANENT,
    "FAILED": DeliveryStatus.FAILED_PERMANENT,
    "EXPIRED": DeliveryStatus.FAILED_RETRYABLE,
    "DELETED": DeliveryStatus.FAILED_RETRYABLE,
    "UNKNOWN": DeliveryStatus.FAILED_RETRYABLE,
    "REJECTD": DeliveryStatus.REJECTED,
    "REJECTED": DeliveryStatus.REJECTED,
}
"""Receipt status words (SMPP ``stat:`` values and common gateway words) and their
meaning."""


def is_opt_out(text: str) -> bool:
    """True if ``text`` asks to stop SMS: ``STOP``, ``stop.``, ``退订``, ``TD`` ..."""
    if "退订" in text:
        return True
    squeezed = "".join(
        c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c)[0] not in "PZC"
    ).upper()
    if squeezed in OPT_OUT_WORDS:
        return True
    first = re.split(r"[\s,.!;:，。！；：]+", unicodedata.normalize("NFKC", text).strip())[0]
    return first.upper() in OPT_OUT_WORDS - {"T"}


def _field(payload: Mapping[str, Any], key: str, what: str) -> str:
    value = payload.get(key)
    if value is None or str(value).strip() == "":
        raise ValidationError(f"{what}.{key}", None, "missing from the gateway's payload")
    return str(value).strip()


def _when(payload: Mapping[str, Any], key: str) -> dt.datetime | None:
    raw = payload.get(key)
    if not raw:
        return None
    try:
        at = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"payload.{key}", raw, "not an ISO 8601 date-time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


@attrs.frozen(kw_only=True, repr=False)
class InboundReply:
    """A borrower's reply (the number is masked in the ``repr``; the text is not shown)."""

    number: str
    text: str
    received_at: dt.datetime | None = None

    @property
    def opt_out(self) -> bool:
        """True if the reply asks for no more SMS."""
        return is_opt_out(self.text)

    def __repr__(self) -> str:
        return (
            f"InboundReply({mask_phone(self.number)!r}, text=<{len(self.text)} chars>, "
            f"opt_out={self.opt_out})"
        )


@attrs.frozen(kw_only=True)
class DeliveryReceipt:
    """The gateway's later report on a message: the idempotency key it was sent with
    (``reference``), the gateway's id, and what became of it."""

    reference: str
    status: DeliveryStatus
    provider_id: str | None = None
    detail: str = ""
    at: dt.datetime | None = None


def parse_reply(
    payload: Mapping[str, Any],
    *,
    number_field: str = "from",
    text_field: str = "text",
    time_field: str = "received_at",
) -> InboundReply:
    """An :class:`InboundReply` from the gateway's form or JSON payload.

    :raises ValidationError: if the number or the text is missing.
    """
    number = normalise_number(_field(payload, number_field, "reply"))
    text = str(payload.get(text_field) or "")
    return InboundReply(number=number, text=text, received_at=_when(payload, time_field))


def parse_receipt(
    payload: Mapping[str, Any],
    *,
    reference_field: str = "reference",
    status_field: str = "status",
    id_field: str = "id",
    detail_field: str = "error",
    time_field: str = "done_at",
    statuses: Mapping[str, DeliveryStatus] = RECEIPT_STATUSES,
) -> DeliveryReceipt:
    """A :class:`DeliveryReceipt` from the gateway's payload.

    :raises ValidationError: if the reference or status is missing, or the status word
        is not in ``statuses``.
    """
    reference = _field(payload, reference_field, "receipt")
    word = _field(payload, status_field, "receipt").upper()
    status = statuses.get(word)
    if status is None:
        raise ValidationError(
            f"receipt.{status_field}", word, f"unknown status; known: {', '.join(statuses)}"
        )
    pid = payload.get(id_field)
    return DeliveryReceipt(
        reference=reference,
        status=status,
        provider_id=None if pid in (None, "") else str(pid),
        detail=f"{word} {payload.get(detail_field) or ''}".strip(),
        at=_when(payload, time_field),
    )


def feed_opt_out(
    intake: Intake,
    reply: InboundReply,
    loan_ids: Iterable[str],
    on: dt.date | None = None,
    *,
    channel: str = "sms",
) -> int:
    """Record an opt-out reply through the intake for each loan of the number; return
    how many were recorded (0 when the reply is not an opt-out)."""
    if not reply.opt_out:
        return 0
    count = 0
    for loan_id in loan_ids:
        message = Inbound(
            kind=InboundKind.OPT_OUT, channel=channel, at=reply.received_at, loan_id=loan_id
        )
        intake.receive(message, on=on)
        count += 1
    return count


def feed_receipt(
    intake: Intake, receipt: DeliveryReceipt, on: dt.date | None = None, *, channel: str = "sms"
) -> None:
    """Record ``receipt`` through the intake (a ``DELIVERY_RECEIPT`` event).

    :raises ValidationError: if no action was planned under the receipt's reference.
    """
    intake.receive(
        Inbound(
            kind=InboundKind.RECEIPT,
            channel=channel,
            at=receipt.at,
            key=receipt.reference,
            status=receipt.status,
            provider_id=receipt.provider_id or "",
            detail=receipt.detail,
        ),
        on=on,
    )
