"""A Twilio-compatible programmable voice dialer.

Calls are created with ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json``
(form-encoded ``To``, ``From``, ``Url``, ``StatusCallback``, ``StatusCallbackEvent``,
``MachineDetection``; HTTP basic auth with the account SID and auth token). The
status callback URL carries the outbox key, so each callback names its call.
Callbacks are accepted only with a valid ``X-Twilio-Signature`` (HMAC-SHA1 of the
URL and the sorted form parameters under the auth token, checked by the ``twilio``
package's :class:`~twilio.request_validator.RequestValidator`); a callback sent
twice is reported once.

When the call connects, the dialer fetches ``Url``; :func:`voice_twiml` answers:
to a machine (``AnsweredBy`` ``machine_*`` or ``fax``) only the limited-content
message, then hang up; to a person the recording notice, then the collectors' queue.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import threading
from collections.abc import Mapping
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from loancollect.domain.privacy import mask_phone
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryResult, DeliveryStatus, FinalResults
from loancollect_phone.dialer import CallEvent, CallStatus, DialRequest
from loancollect_phone.dispositions import Disposition

__all__ = ["REJECTED_CODES", "TwilioCallbacks", "TwilioDialer", "voice_twiml"]

_LOG = logging.getLogger("loancollect_phone.twilio")

PERMANENT_CODES = frozenset({21210, 21211, 21212, 21213, 21214, 21217, 13223, 13224})
"""Twilio error codes of a number that cannot be called (invalid or unreachable ``To``)."""
REJECTED_CODES = frozenset({21215, 21216, 13225, 13227})
"""Twilio error codes of a call refused by policy (geographic permissions, a blocked number)."""

_STATUSES = {
    "queued": CallStatus.QUEUED,
    "initiated": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.ANSWERED,
    "answered": CallStatus.ANSWERED,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.CANCELED,
}


def _machine(answered_by: str) -> bool:
    return answered_by.startswith("machine") or answered_by == "fax"


class TwilioDialer:
    """Places calls through a Twilio-compatible REST API.

    :param base_url: the API root (``https://api.twilio.com`` for Twilio itself).
    :param callback_url: where status callbacks go (the host's public URL of
        :class:`TwilioCallbacks`); the key is added as ``?key=``.
    :param voice_url: where the dialer fetches the call's instructions (the host's
        URL serving :func:`voice_twiml`); the key is added as ``?key=``.
    """

    name = "twilio"

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        callback_url: str,
        voice_url: str,
        machine_detection: str = "DetectMessageEnd",
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self.from_number = from_number
        self.callback_url = callback_url
        self.voice_url = voice_url
        self.machine_detection = machine_detection
        self.client = client or httpx.Client(timeout=timeout)
        self._results = FinalResults()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TwilioDialer(base_url={self.base_url!r}, account={self.account_sid[:6]}…)"

    def _with_key(self, url: str, key: str) -> str:
        return f"{url}{'&' if '?' in url else '?'}{urlencode({'key': key})}"

    def dial(self, request: DialRequest) -> DeliveryResult:
        """Create the call (once per key)."""
        with self._lock:
            previous = self._results.get(request.key)
            if previous is not None:
                return previous
            return self._results.remember(request.key, self._create(request))

    def _create(self, request: DialRequest) -> DeliveryResult:
        form: dict[str, str | list[str]] = {
            "To": request.to,
            "From": self.from_number,
            "Url": self._with_key(self.voice_url, request.key),
            "StatusCallback": self._with_key(self.callback_url, request.key),
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
            "MachineDetection": self.machine_detection,
            "Record": "true" if request.record else "false",
        }
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        try:
            response = self.client.post(url, data=form, auth=self._auth)
        except httpx.TimeoutException as exc:
            return DeliveryResult.failed_retryable(f"dialer timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return DeliveryResult.failed_retryable(f"dialer unreachable: {type(exc).__name__}")
        result = classify(response)
        _LOG.info("call to %s: %s %s", mask_phone(request.to), result.status.value, result.detail)
        return result

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def classify(response: httpx.Response) -> DeliveryResult:
    """The result of a Calls create answer.

    201/200: sent (the call's ``sid``); 408, 429 and 5xx: retryable; an error code of
    :data:`REJECTED_CODES`: rejected; any other 4xx: permanent (401 and 403 are the
    account's credentials or permissions, which no retry mends).
    """
    code = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, Mapping):
        body = {}
    if 200 <= code < 300:
        sid = body.get("sid")
        if not isinstance(sid, str) or not sid:
            return DeliveryResult.failed_retryable(f"dialer answered {code} without a call sid")
        return DeliveryResult(
            status=DeliveryStatus.SENT,
            provider_id=sid,
            evidence=(("http_status", str(code)), ("call_status", str(body.get("status", "")))),
        )
    error = body.get("code")
    message = str(body.get("message", ""))[:120]
    detail = f"dialer answered {code}" + (f" (error {error}: {message})" if error else "")
    if code in (408, 429) or code >= 500:
        retry_after = response.headers.get("Retry-After")
        return DeliveryResult.failed_retryable(
            detail + (f" (retry after {retry_after} s)" if retry_after else "")
        )
    if isinstance(error, int) and error in REJECTED_CODES:
        return DeliveryResult.rejected(detail)
    return DeliveryResult.failed_permanent(detail)


def voice_twiml(params: Mapping[str, str], *, machine_message: str, notice: str, queue: str) -> str:
    """The TwiML answering the dialer's request for a connected call.

    A machine gets the limited-content message and nothing else; a person hears the
    recording notice (when there is one) and waits in ``queue`` for a collector.
    """
    response = VoiceResponse()
    if _machine(params.get("AnsweredBy", "")):
        response.say(machine_message)
        response.hangup()
        return str(response)
    if notice:
        response.say(notice)
    response.enqueue(queue)
    return str(response)


class TwilioCallbacks:
    """Verifies and reads status callbacks.

    :param auth_token: the account's auth token (signs callbacks; never logged).
    """

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "TwilioCallbacks(auth_token=***)"

    def handle(self, url: str, params: Mapping[str, str], signature: str) -> CallEvent | None:
        """The event of one callback POST to ``url`` (the full URL as the dialer
        requested it), or ``None`` for a callback already handled.

        :raises ValidationError: for a missing or wrong signature, or a callback
            without its key, call or status; nothing is recorded.
        """
        if not signature or not self._validator.validate(url, dict(params), signature):
            raise ValidationError("X-Twilio-Signature", "***", "does not sign this callback")
        key = httpx.URL(url).params.get("key")
        call = params.get("CallSid", "")
        raw = params.get("CallStatus", "")
        if not key or not call or raw not in _STATUSES:
            raise ValidationError("callback", raw or call or key, "needs key, CallSid, CallStatus")
        answered_by = params.get("AnsweredBy", "")
        sequence = params.get("SequenceNumber", raw)
        with self._lock:
            seen = (call, raw, sequence)
            if seen in self._seen:
                return None
            self._seen.add(seen)
        status = _STATUSES[raw]
        disposition: Disposition | None
        if _machine(answered_by) and status is CallStatus.ANSWERED:
            status, disposition = CallStatus.MACHINE, None  # the message is being left
        elif _machine(answered_by) and status is CallStatus.COMPLETED:
            disposition = Disposition.VOICEMAIL  # only the limited-content message was left
        else:
            disposition = {
                CallStatus.BUSY: Disposition.BUSY,
                CallStatus.NO_ANSWER: Disposition.NO_ANSWER,
            }.get(status)
        duration = params.get("CallDuration")
        return CallEvent(
            key=key,
            call=call,
            status=status,
            at=_timestamp(params.get("Timestamp", "")),
            disposition=disposition,
            duration=dt.timedelta(seconds=int(duration))
            if duration and duration.isdigit()
            else None,
            cause=answered_by,
        )


def _timestamp(text: str) -> dt.datetime:
    """The callback's RFC 2822 ``Timestamp``.

    :raises ValidationError: when it is missing or not a date.
    """
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValidationError("Timestamp", text, "expected an RFC 2822 date") from None
    if value.tzinfo is None:
        raise ValidationError("Timestamp", text, "no time zone")
    return value
