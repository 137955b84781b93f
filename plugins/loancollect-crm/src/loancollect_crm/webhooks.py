"""The signed webhook endpoint: an ASGI (Starlette) app a host mounts.

The CRM (or a relay in it: a flow, an automation) posts each change as a JSON
event signed the Standard Webhooks way (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``: HMAC-SHA256 over ``id.timestamp.body``). The endpoint

- verifies the signature (``401`` if it does not match);
- rejects replays: a timestamp more than five minutes off is refused (``401``),
  and an event id seen before is answered ``200 duplicate`` and not kept again;
- parses the event into a typed :class:`~loancollect_crm.records.InboundChange`
  (``400`` naming the field that is wrong) and keeps it in the inbox, where
  :class:`~loancollect_crm.inbound.InboundApplier` takes it.

Mount it, e.g. ``Mount("/crm/webhooks", app=webhook_app(state=..., secret=...))``.

Event body::

    {"type": "note.created" | "case.assigned" | "outcome.recorded" | "case.updated",
     "loan_id": "L-1", "at": "2025-03-01T09:30:00+08:00",
     "agent": "wang", "team": "early",                        # assigned / who did it
     "note_ref": "00T5...",                                    # note.created
     "outcome": "promise", "channel": "phone", "key": "...",   # outcome.recorded
     "promise": {"amount": "500.00", "due": "2025-03-10"},
     "field": "stage", "value": "legal"}                       # case.updated
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from loancollect.domain.case import OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect_crm.records import ChangeKind, InboundChange
from loancollect_crm.state import SyncState

__all__ = ["parse_event", "webhook_app"]

_LOG = logging.getLogger("loancollect_crm.webhooks")
_KINDS = {
    "note.created": ChangeKind.NOTE,
    "case.assigned": ChangeKind.ASSIGN,
    "outcome.recorded": ChangeKind.OUTCOME,
    "case.updated": ChangeKind.FIELD,
}
MAX_BODY = 64 * 1024


def _text(body: dict[str, Any], name: str, *, required: bool = False, within: str = "event") -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise ValidationError(f"{within}.{name}", type(value).__name__, "expected a string")
    if required and not value:
        raise ValidationError(f"{within}.{name}", value, "must not be empty")
    return value


def parse_event(event_id: str, body: Any) -> InboundChange:
    """The typed change of one webhook event.

    :raises ValidationError: naming the field that is missing or malformed.
    """
    if not isinstance(body, dict):
        raise ValidationError("event", type(body).__name__, "expected a JSON object")
    kind = _KINDS.get(_text(body, "type", required=True))
    if kind is None:
        raise ValidationError(
            "event.type", body.get("type"), f"expected one of {', '.join(_KINDS)}"
        )
    try:
        at = dt.datetime.fromisoformat(_text(body, "at", required=True))
    except ValueError as exc:
        raise ValidationError("event.at", body.get("at"), "expected an ISO 8601 instant") from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError("event.at", at.isoformat(), "naive datetime; give a time zone")
    common: dict[str, Any] = {
        "event_id": event_id,
        "kind": kind,
        "loan_id": _text(body, "loan_id", required=True),
        "at": at,
        "agent": _text(body, "agent"),
    }
    if kind is ChangeKind.NOTE:
        return InboundChange(**common, text=_text(body, "note_ref", required=True))
    if kind is ChangeKind.ASSIGN:
        team = _text(body, "team")
        if not common["agent"] and not team:
            raise ValidationError("event.agent", "", "name an agent, a team, or both")
        return InboundChange(**common, team=team)
    if kind is ChangeKind.FIELD:
        return InboundChange(
            **common, field=_text(body, "field", required=True), value=_text(body, "value")
        )
    try:
        outcome = OutcomeKind(_text(body, "outcome", required=True))
    except ValueError as exc:
        raise ValidationError("event.outcome", body.get("outcome"), "not an outcome kind") from exc
    amount: Decimal | None = None
    due: dt.date | None = None
    promise = body.get("promise")
    if promise is not None:
        if not isinstance(promise, dict):
            raise ValidationError("event.promise", type(promise).__name__, "expected an object")
        raw = _text(
            promise, "amount", required=True, within="event.promise"
        )  # a string: amounts are never floats
        try:
            amount = Decimal(raw)
            due = dt.date.fromisoformat(
                _text(promise, "due", required=True, within="event.promise")
            )
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError(
                "event.promise", raw, "expected an amount and a due date"
            ) from exc
    if (outcome is OutcomeKind.PROMISE) != (amount is not None):
        raise ValidationError("event.promise", outcome.value, "terms come with a promise only")
    return InboundChange(
        **common,
        outcome=outcome,
        channel=_text(body, "channel"),
        key=_text(body, "key"),
        promise_amount=amount,
        promise_due=due,
    )


def webhook_app(*, state: SyncState, secret: str | bytes, crm: str) -> Starlette:
    """The endpoint (``POST /``) keeping verified changes from ``crm`` in ``state``'s inbox.

    :param secret: the Standard Webhooks secret (``whsec_…`` base64, or raw bytes).
    """
    hook = Webhook(secret)

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            hook.verify(body, dict(request.headers), json_parse=False)
        except (WebhookVerificationError, ValueError) as exc:  # ValueError: a garbled signature
            _LOG.warning("webhook refused: %s", exc)
            return JSONResponse({"error": str(exc) or "bad signature"}, status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        event_id = request.headers["webhook-id"]
        try:
            change = parse_event(event_id, payload)
        except ValidationError as exc:
            return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
        fresh = await run_in_threadpool(state.enqueue, crm, change)
        return JSONResponse({"status": "accepted" if fresh else "duplicate", "id": event_id})

    return Starlette(routes=[Route("/", receive, methods=["POST"])])
