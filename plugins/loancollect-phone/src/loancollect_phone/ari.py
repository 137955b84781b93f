"""An Asterisk REST Interface (ARI) dialer.

Calls are originated with ``POST /ari/channels`` (query ``endpoint``, ``app``,
``appArgs``, ``callerId``, ``timeout`` and ``channelId``; HTTP basic auth with the
ARI user). The channel id is derived from the outbox key, so a second originate
for the same key is answered ``409`` by Asterisk and no second call is placed.
Channel events come over the WebSocket ``/ari/events?app=<app>``
(:class:`AriEvents`): a channel variable ``AMDSTATUS`` of ``MACHINE`` (set by the
dialplan's ``AMD()``) makes the dialer play only the limited-content message
(``POST /ari/channels/{id}/play``) and hang up; ``ChannelDestroyed`` carries the
Q.850 hang-up cause, mapped to a disposition by :func:`disposition_for_cause`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from loancollect.domain.privacy import mask_phone
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryResult, DeliveryStatus, FinalResults
from loancollect_phone.dialer import CallEvent, CallStatus, DialRequest
from loancollect_phone.dispositions import Disposition

__all__ = ["Q850", "AriDialer", "AriEvents", "channel_id", "disposition_for_cause"]

_LOG = logging.getLogger("loancollect_phone.ari")

Q850: Mapping[int, Disposition | None] = {
    1: Disposition.WRONG_NUMBER,  # unallocated (unassigned) number
    3: Disposition.WRONG_NUMBER,  # no route to destination
    16: None,  # normal clearing: answered; a person's call is the collector's to record
    17: Disposition.BUSY,  # user busy
    18: Disposition.NO_ANSWER,  # no user responding
    19: Disposition.NO_ANSWER,  # no answer from user (user alerted)
    20: Disposition.NO_ANSWER,  # subscriber absent
    21: Disposition.NO_ANSWER,  # call rejected
    22: Disposition.WRONG_NUMBER,  # number changed
    28: Disposition.WRONG_NUMBER,  # invalid number format
}
"""Q.850 hang-up causes and what they mean for the call; a cause not listed (34
no circuit, 38 network out of order, 41 temporary failure …) is a failed call
that says nothing about the borrower."""


def disposition_for_cause(cause: int, *, machine: bool) -> Disposition | None:
    """What a hang-up cause says about the call (``machine``: a machine answered and
    took the limited-content message)."""
    if machine:
        return Disposition.VOICEMAIL
    return Q850.get(cause)


def channel_id(key: str) -> str:
    """The ARI channel id of the call for outbox key ``key`` (stable, URL-safe)."""
    return "lc-" + hashlib.sha256(key.encode()).hexdigest()[:32]


class AriDialer:
    """Originates calls through ARI and handles their channel events.

    :param base_url: the ARI root, e.g. ``http://pbx:8088/ari``.
    :param endpoint: the endpoint template, ``{number}`` replaced, e.g.
        ``PJSIP/{number}@trunk``.
    :param app: the Stasis application the channels are handed to.
    :param machine_media: the media URI played to a machine (``sound:...``): the
        recorded limited-content message.
    """

    name = "ari"

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        endpoint: str,
        app: str,
        caller_id: str = "",
        machine_media: str = "sound:limited-content",
        ring_timeout: int = 30,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = (username, password)
        self.endpoint = endpoint
        self.app = app
        self.caller_id = caller_id
        self.machine_media = machine_media
        self.ring_timeout = ring_timeout
        self.client = client or httpx.Client(timeout=timeout)
        self._results = FinalResults()
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}  # channel id -> outbox key
        self._machines: set[str] = set()

    def __repr__(self) -> str:
        return f"AriDialer(base_url={self.base_url!r}, app={self.app!r})"

    def dial(self, request: DialRequest) -> DeliveryResult:
        """Originate the call (once per key: the channel id is the key's)."""
        with self._lock:
            previous = self._results.get(request.key)
            if previous is not None:
                return previous
            result = self._originate(request)
            if result.ok:
                self._keys[channel_id(request.key)] = request.key
            return self._results.remember(request.key, result)

    def _originate(self, request: DialRequest) -> DeliveryResult:
        ident = channel_id(request.key)
        params = {
            "endpoint": self.endpoint.format(number=request.to),
            "app": self.app,
            "appArgs": request.key,
            "channelId": ident,
            "timeout": str(self.ring_timeout),
        }
        if self.caller_id:
            params["callerId"] = self.caller_id
        body = {"variables": {"LC_RECORD": "1" if request.record else "0"}}
        try:
            response = self.client.post(
                f"{self.base_url}/channels", params=params, json=body, auth=self._auth
            )
        except httpx.TimeoutException as exc:
            return DeliveryResult.failed_retryable(f"ARI timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return DeliveryResult.failed_retryable(f"ARI unreachable: {type(exc).__name__}")
        code = response.status_code
        _LOG.info("originate to %s: %s", mask_phone(request.to), code)
        if code == 200 or code == 409:  # 409: a channel of this id exists: placed before
            return DeliveryResult(
                status=DeliveryStatus.SENT,
                provider_id=ident,
                evidence=(("http_status", str(code)),),
            )
        detail = f"ARI answered {code}: {_message(response)}"
        if code in (408, 429) or code >= 500:
            return DeliveryResult.failed_retryable(detail)
        if code == 400:
            return DeliveryResult.failed_permanent(detail)
        return DeliveryResult.failed_permanent(detail)

    def on_event(self, message: Mapping[str, Any]) -> CallEvent | None:
        """Handle one ARI event; the call event it means for one of our calls, if any.

        A machine detected (``ChannelVarset`` ``AMDSTATUS=MACHINE``) gets the
        limited-content message played; ``ChannelDestroyed`` ends the call with its
        cause's disposition.
        """
        kind = message.get("type")
        channel = message.get("channel") or {}
        ident = channel.get("id", "") if isinstance(channel, Mapping) else ""
        key = self._keys.get(ident)
        if key is None:
            return None
        at = _instant(message.get("timestamp"))
        if kind == "ChannelVarset" and message.get("variable") == "AMDSTATUS":
            if message.get("value") == "MACHINE":
                self._machines.add(ident)
                self._play(ident)
                return CallEvent(key=key, call=ident, status=CallStatus.MACHINE, at=at)
            return CallEvent(key=key, call=ident, status=CallStatus.ANSWERED, at=at)
        if kind == "ChannelStateChange" and channel.get("state") == "Ringing":
            return CallEvent(key=key, call=ident, status=CallStatus.RINGING, at=at)
        if kind == "ChannelDestroyed":
            raw = message.get("cause", 0)
            if not isinstance(raw, int):
                raise ValidationError("ari.cause", raw, "expected a Q.850 cause number")
            cause = raw
            machine = ident in self._machines
            disposition = disposition_for_cause(cause, machine=machine)
            if disposition is Disposition.BUSY:
                status = CallStatus.BUSY
            elif disposition is Disposition.NO_ANSWER:
                status = CallStatus.NO_ANSWER
            elif cause == 16 or machine:
                status = CallStatus.COMPLETED
            else:
                status = CallStatus.FAILED
            return CallEvent(
                key=key,
                call=ident,
                status=status,
                at=at,
                disposition=disposition,
                cause=f"{cause} {message.get('cause_txt', '')}".strip(),
            )
        return None

    def _play(self, ident: str) -> None:
        try:
            self.client.post(
                f"{self.base_url}/channels/{ident}/play",
                params={"media": self.machine_media},
                auth=self._auth,
            )
        except httpx.HTTPError as exc:  # the machine hears nothing: nothing wrong was said
            _LOG.warning("could not play the limited-content message: %s", type(exc).__name__)

    def events_url(self) -> str:
        """The WebSocket URL of the application's events."""
        root = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        return f"{root}/events?app={self.app}"

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


class AriEvents:
    """Reads an ARI application's events from its WebSocket and hands each call event
    to ``sink``.

    :param dialer: the dialer whose calls the events concern.
    :param sink: gets each :class:`~loancollect_phone.dialer.CallEvent`.
    """

    def __init__(
        self, dialer: AriDialer, sink: Callable[[CallEvent], None], *, open_timeout: float = 5.0
    ) -> None:
        self.dialer = dialer
        self.sink = sink
        self.open_timeout = open_timeout

    def messages(self, *, limit: int | None = None) -> Iterator[Mapping[str, Any]]:
        """The raw events, until the server closes (or ``limit`` are read)."""
        user, password = self.dialer._auth
        url = f"{self.dialer.events_url()}&api_key={user}:{password}"
        count = 0
        with connect(url, open_timeout=self.open_timeout) as socket:
            try:
                for raw in socket:
                    message = json.loads(raw)
                    if not isinstance(message, dict):
                        raise ValidationError("ari event", str(raw)[:80], "expected an object")
                    yield message
                    count += 1
                    if limit is not None and count >= limit:
                        return
            except ConnectionClosed:
                return

    def run(self, *, limit: int | None = None) -> int:
        """Handle events until the socket closes; how many call events were handed on."""
        handed = 0
        for message in self.messages(limit=limit):
            event = self.dialer.on_event(message)
            if event is not None:
                self.sink(event)
                handed += 1
        return handed


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:80]
    return str(body.get("message", ""))[:80] if isinstance(body, Mapping) else ""


def _instant(text: object) -> dt.datetime:
    """An ARI timestamp (``2026-01-05T10:00:00.000+0000``) as an aware instant.

    :raises ValidationError: when it is missing or not a time-zone-aware time.
    """
    try:
        value = dt.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise ValidationError(
            "ari.timestamp", text, "expected e.g. 2026-01-05T10:00:00.000+0000"
        ) from None
    return value
