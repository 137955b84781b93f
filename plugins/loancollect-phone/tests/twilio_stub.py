"""A Twilio-compatible programmable voice API on 127.0.0.1 (the documented subset).

``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` checks HTTP basic auth and the
form fields a call needs (``To``, ``From``, ``Url``, ``StatusCallback``), answers
201 with the call (``sid``, ``status``) or a programmed error in Twilio's error
shape (``code``, ``message``, ``more_info``, ``status``). :meth:`TwilioStub.callback`
POSTs a status callback to the call's ``StatusCallback`` URL, signed with the auth
token as Twilio signs them (``X-Twilio-Signature``).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import itertools
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import attrs
import httpx
from servers import Served
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

SID = "AC" + "0" * 32
TOKEN = "test-auth-token-0123456789abcdef"


@attrs.frozen
class Answer:
    """A programmed answer: an HTTP status and a Twilio error code, or a delay."""

    status: int
    code: int | None = None
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


class TwilioStub:
    """The stand-in API and its record of requests."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []  # accepted calls: the form, as lists
        self.requests = 0
        self._answers: list[Answer] = []
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        app = Starlette(
            routes=[Route("/2010-04-01/Accounts/{sid}/Calls.json", self._create, methods=["POST"])]
        )
        self.served = Served(app)
        self.url = self.served.url

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests so (in order), then normally again."""
        with self._lock:
            self._answers.extend(answers)

    async def _create(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
            answer = self._answers.pop(0) if self._answers else None
        if answer is not None and answer.delay:
            time.sleep(answer.delay)  # a slow dialer (blocks this stand-in's loop on purpose)
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected or request.path_params["sid"] != SID:
            return _error(401, 20003, "Authenticate")
        form = await request.form()
        fields: dict[str, list[str]] = {}
        for k, v in form.multi_items():
            fields.setdefault(k, []).append(str(v))
        for required in ("To", "From", "Url", "StatusCallback"):
            if not fields.get(required):
                return _error(400, 21205 if required == "Url" else 21201, f"{required} missing")
        if answer is not None and answer.status >= 300:
            return _error(answer.status, answer.code, "programmed failure", answer.headers)
        sid = "CA" + uuid.uuid4().hex
        with self._lock:
            self.calls.append({"sid": sid, **fields})
        body = {
            "sid": sid,
            "account_sid": SID,
            "to": fields["To"][0],
            "from": fields["From"][0],
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }
        return JSONResponse(body, status_code=201)

    def callback(
        self,
        call: Mapping[str, Any],
        status: str,
        *,
        answered_by: str = "",
        duration: int = 0,
        sequence: int | None = None,
        token: str = TOKEN,
    ) -> httpx.Response:
        """POST a signed status callback for ``call`` (as the API would)."""
        url = call["StatusCallback"][0]
        params = {
            "AccountSid": SID,
            "CallSid": call["sid"],
            "CallStatus": status,
            "ApiVersion": "2010-04-01",
            "Direction": "outbound-api",
            "From": call["From"][0],
            "To": call["To"][0],
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(next(self._sequence) if sequence is None else sequence),
            "Timestamp": email.utils.format_datetime(dt.datetime.now(dt.UTC), usegmt=True),
        }
        if answered_by:
            params["AnsweredBy"] = answered_by
        if duration:
            params["CallDuration"] = str(duration)
        signature = RequestValidator(token).compute_signature(url, params)
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)

    def voice(self, call: Mapping[str, Any], *, answered_by: str) -> httpx.Response:
        """Fetch the call's TwiML from its ``Url`` once it connects (signed)."""
        url = call["Url"][0]
        params = {"CallSid": call["sid"], "AccountSid": SID, "AnsweredBy": answered_by}
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=5)

    def stop(self) -> None:
        """Stop the server."""
        self.served.stop()


def _error(
    status: int, code: int | None, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=dict(headers))
