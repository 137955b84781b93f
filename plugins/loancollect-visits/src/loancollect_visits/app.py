"""The check-in app: an ASGI application (Starlette) a host mounts for its agents' phones.

Routes (relative to where the host mounts it):

``GET|POST /osmand``
    A position in the OsmAnd protocol (query string, or form body) with the extra
    parameters ``visit`` and ``event`` (``checkin``/``checkout``); a JSON body in
    Traccar Client's format is accepted too (:mod:`.positions`).
``POST /visits/{visit_id}/outcome``
    The visit's outcome (JSON): ``result`` (``met_borrower``, ``third_party``,
    ``not_at_home``, ``moved``, ``refused_entry``, ``promise``, ``dispute``),
    ``promise`` (``{"amount": "500.00", "currency": "CNY", "due": "2025-03-09"}``),
    ``evidence`` (SHA-256 hex digests of photos or documents), ``vulnerable``
    (indicators seen), ``note``.
``GET /health``
    ``{"status": "ok"}``.

The device authenticates with ``Authorization: Bearer <token>`` (or, for OsmAnd,
which can only be given a URL, a ``key`` parameter). Answers are JSON: 201
accepted, 202 accepted with flags (late, far, inaccurate …), 200 a duplicate of
an earlier post, 400 a malformed post (naming the field), 401/403 authentication,
404 no such visit, 409 refused (the rules do not allow the visit now, or out of
order), 422 an outcome the intake refused.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from loancollect.domain.errors import ValidationError
from loancollect_visits.desk import AuthError, Desk, Reply
from loancollect_visits.model import Agent
from loancollect_visits.positions import Position, from_osmand, from_traccar_json

__all__ = ["check_in_app"]

MAX_BODY = 64 * 1024
"""The largest post accepted (bytes)."""


def _error(status: int, message: str, **more: Any) -> JSONResponse:
    return JSONResponse({"error": message, **more}, status_code=status)


def _reply(reply: Reply) -> JSONResponse:
    return JSONResponse(dict(reply.body), status_code=reply.status)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.query_params.get("key")


async def _body(request: Request) -> bytes | JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        return _error(413, "post too large", limit=MAX_BODY)
    return body


def check_in_app(desk: Desk) -> Starlette:
    """The ASGI app answering the agents' phones for ``desk``."""

    async def osmand(request: Request) -> JSONResponse:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            position = await _position(request, body)
        except ValidationError as exc:
            return _error(400, str(exc), field=exc.field)
        return await _authorised(
            request, position.device, lambda agent: desk.position(position, agent)
        )

    async def outcome(request: Request) -> JSONResponse:
        body = await _body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "the body is not JSON", field="body")
        if not isinstance(data, dict):
            return _error(400, "expected a JSON object", field="body")
        device = str(data.get("device") or request.headers.get("x-device-id") or "")
        if not device:
            return _error(400, "name the device (X-Device-Id header or 'device')", field="device")
        visit_id = request.path_params["visit_id"]
        return await _authorised(request, device, lambda agent: desk.report(visit_id, data, agent))

    async def _authorised(request: Request, device: str, act: Any) -> JSONResponse:
        def run() -> Reply:
            agent: Agent = desk.authenticate(device, _token(request))
            reply: Reply = act(agent)
            return reply

        try:
            return _reply(await run_in_threadpool(run))
        except AuthError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse({"error": exc.detail}, status_code=exc.status, headers=headers)
        except ValidationError as exc:
            status = 400 if exc.field in _POST_FIELDS else 422
            return _error(status, str(exc), field=exc.field)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/osmand", osmand, methods=["GET", "POST"]),
            Route("/visits/{visit_id}/outcome", outcome, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


# Members of the outcome post itself: a bad one is the phone's error (400).
_POST_FIELDS = frozenset(
    {
        "result",
        "promise",
        "promise.amount",
        "promise.currency",
        "promise.due",
        "evidence",
        "vulnerable",
    }
)


async def _position(request: Request, body: bytes) -> Position:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValidationError("body", None, "the body is not JSON") from None
        return from_traccar_json(data)
    params: dict[str, Any] = dict(request.query_params)
    if kind == "application/x-www-form-urlencoded" and body:
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return from_osmand(params)
