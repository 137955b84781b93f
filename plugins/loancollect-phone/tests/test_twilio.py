"""The Twilio-compatible dialer against a stand-in API on 127.0.0.1, and its signed
status callbacks received by a real HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from loancollect_phone import (
    CallEvent,
    DialRequest,
    Disposition,
    PhoneDesk,
    TwilioCallbacks,
    TwilioDialer,
    voice_twiml,
)
from loancollect_phone.content import text_tags
from phone_helpers import CN_LOAN, Desk
from servers import Served
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio_stub import SID, TOKEN, Answer, TwilioStub

from loancollect.domain.case import OutcomeKind
from loancollect.domain.compliance import Tag
from loancollect.domain.events import ContactOutcomeRecorded, EventKind
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryStatus

NOTICE = "为保障您的权益,本次通话将被录音。"


class Receiver:
    """The host's callback receiver: verifies each callback and records what it says."""

    def __init__(self, desk: PhoneDesk) -> None:
        self.callbacks = TwilioCallbacks(TOKEN)
        self.desk = desk
        self.events: list[CallEvent] = []
        self.refused = 0
        app = Starlette(
            routes=[
                Route("/twilio/status", self.status, methods=["POST"]),
                Route("/twilio/voice", self.voice, methods=["POST"]),
            ]
        )
        self.served = Served(app)

    async def status(self, request: Request) -> Response:
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        try:
            event = self.callbacks.handle(
                str(request.url), params, request.headers.get("X-Twilio-Signature", "")
            )
        except ValidationError:
            self.refused += 1
            return Response(status_code=403)
        if event is not None:
            self.events.append(event)
            self.desk.on_dialer_event(event, CN_LOAN)
        return Response(status_code=204)

    async def voice(self, request: Request) -> Response:
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        twiml = voice_twiml(
            params,
            machine_message=self.desk.machine_message("zh_CN"),
            notice=NOTICE,
            queue="collectors",
        )
        return Response(twiml, media_type="application/xml")


@pytest.fixture
def receiver(desk: Desk) -> Iterator[Receiver]:
    r = Receiver(desk.desk)
    try:
        yield r
    finally:
        r.served.stop()


def _dialer(api: TwilioStub, receiver_url: str = "http://127.0.0.1:9", **kw: float) -> TwilioDialer:
    return TwilioDialer(
        base_url=api.url,
        account_sid=SID,
        auth_token=TOKEN,
        from_number="+861012345678",
        callback_url=f"{receiver_url}/twilio/status",
        voice_url=f"{receiver_url}/twilio/voice",
        timeout=kw.get("timeout", 5.0),
    )


def _request(key: str = "L-CN:early.call:2025-03-03") -> DialRequest:
    return DialRequest(
        key=key, loan_id=CN_LOAN, to="+8613800138000", machine_message="please call back"
    )


def test_a_call_is_created_with_the_documented_fields_and_basic_auth(
    twilio_api: TwilioStub,
) -> None:
    dialer = _dialer(twilio_api)
    result = dialer.dial(_request())
    assert result.status is DeliveryStatus.SENT
    (call,) = twilio_api.calls
    assert result.provider_id == call["sid"]
    assert call["To"] == ["+8613800138000"]
    assert call["MachineDetection"] == ["DetectMessageEnd"]
    assert call["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert call["StatusCallback"][0].endswith("/twilio/status?key=L-CN%3Aearly.call%3A2025-03-03")
    assert "8000" not in repr(dialer)
    assert TOKEN not in repr(dialer)


def test_one_key_is_one_call(twilio_api: TwilioStub) -> None:
    dialer = _dialer(twilio_api)
    first = dialer.dial(_request())
    assert dialer.dial(_request()) == first
    assert twilio_api.requests == 1
    assert dialer.dial(_request("other-key")).ok
    assert twilio_api.requests == 2


def test_429_and_5xx_are_retryable_and_the_retry_places_the_call_once(
    twilio_api: TwilioStub,
) -> None:
    twilio_api.answer(Answer(429, 20429, headers=(("Retry-After", "2"),)), Answer(503))
    dialer = _dialer(twilio_api)
    first = dialer.dial(_request())
    assert first.status is DeliveryStatus.FAILED_RETRYABLE
    assert "429" in first.detail
    assert "retry after 2" in first.detail
    assert dialer.dial(_request()).status is DeliveryStatus.FAILED_RETRYABLE
    assert dialer.dial(_request()).ok
    assert len(twilio_api.calls) == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [(21211, DeliveryStatus.FAILED_PERMANENT), (21215, DeliveryStatus.REJECTED)],
)
def test_twilio_error_codes_are_classified(
    twilio_api: TwilioStub, code: int, status: DeliveryStatus
) -> None:
    twilio_api.answer(Answer(400, code))
    result = _dialer(twilio_api).dial(_request())
    assert result.status is status
    assert str(code) in result.detail


def test_a_dialer_that_times_out_is_retryable(twilio_api: TwilioStub) -> None:
    twilio_api.answer(Answer(201, delay=0.6))
    result = _dialer(twilio_api, timeout=0.2).dial(_request())
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "timed out" in result.detail


def test_a_busy_callback_is_recorded_once_even_when_sent_twice(
    twilio_api: TwilioStub, receiver: Receiver, desk: Desk
) -> None:
    _dialer(twilio_api, receiver.served.url).dial(_request())
    (call,) = twilio_api.calls
    assert twilio_api.callback(call, "ringing").status_code == 204
    first = twilio_api.callback(call, "busy", sequence=7)
    again = twilio_api.callback(call, "busy", sequence=7)
    assert (first.status_code, again.status_code) == (204, 204)
    outcomes = desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME)
    assert [ContactOutcomeRecorded.parse(e).outcome for e in outcomes] == [OutcomeKind.BUSY]
    assert ContactOutcomeRecorded.parse(outcomes[0]).key == "L-CN:early.call:2025-03-03"
    assert len(desk.events(CN_LOAN, EventKind.CALL_REVIEWED)) == 1


def test_a_callback_with_a_wrong_signature_is_refused_and_nothing_is_recorded(
    twilio_api: TwilioStub, receiver: Receiver, desk: Desk
) -> None:
    _dialer(twilio_api, receiver.served.url).dial(_request())
    (call,) = twilio_api.calls
    forged = twilio_api.callback(call, "no-answer", token="not-the-token")
    assert forged.status_code == 403
    assert receiver.refused == 1
    assert desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME) == []


def test_a_machine_hears_only_the_limited_content_message(
    twilio_api: TwilioStub, receiver: Receiver, desk: Desk
) -> None:
    _dialer(twilio_api, receiver.served.url).dial(_request())
    (call,) = twilio_api.calls
    twiml = twilio_api.voice(call, answered_by="machine_end_beep").text
    message = desk.desk.machine_message("zh_CN")
    assert f"<Say>{message}</Say>" in twiml
    assert "<Hangup" in twiml
    assert NOTICE not in twiml
    assert "Enqueue" not in twiml
    assert Tag.DEBT_DETAILS not in text_tags(message)
    person = twilio_api.voice(call, answered_by="human").text
    assert NOTICE in person
    assert "<Enqueue>collectors</Enqueue>" in person
    twilio_api.callback(call, "in-progress", answered_by="machine_end_beep")
    assert desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME) == []  # still leaving it
    twilio_api.callback(call, "completed", answered_by="machine_end_beep", duration=21)
    (outcome,) = desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME)
    recorded = ContactOutcomeRecorded.parse(outcome)
    assert recorded.outcome is OutcomeKind.VOICEMAIL
    assert recorded.duration_s == 21


def test_a_person_answering_leaves_the_disposition_to_the_collector(
    twilio_api: TwilioStub, receiver: Receiver, desk: Desk
) -> None:
    _dialer(twilio_api, receiver.served.url).dial(_request())
    (call,) = twilio_api.calls
    twilio_api.callback(call, "in-progress", answered_by="human")
    twilio_api.callback(call, "completed", answered_by="human", duration=95)
    assert [e.disposition for e in receiver.events] == [None, None]
    assert receiver.events[-1].final
    assert desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME) == []


def test_a_callback_without_its_key_is_refused() -> None:
    callbacks = TwilioCallbacks(TOKEN)
    from twilio.request_validator import RequestValidator

    url = "http://127.0.0.1:9/twilio/status"
    params = {
        "CallSid": "CA1",
        "CallStatus": "busy",
        "Timestamp": "Mon, 03 Mar 2025 02:00:00 +0000",
    }
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    with pytest.raises(ValidationError, match="key"):
        callbacks.handle(url, params, signature)
    assert Disposition.BUSY.outcome is OutcomeKind.BUSY
    assert httpx.URL(url).params.get("key") is None
