"""The ARI dialer against a stand-in Asterisk on 127.0.0.1: originate over REST, channel
events over a WebSocket, hang-up causes mapped to outcomes."""

from __future__ import annotations

from ari_stub import APP, PASSWORD, USER, AriStub
from loancollect_phone import AriDialer, AriEvents, CallEvent, DialRequest, Disposition
from loancollect_phone.ari import channel_id
from phone_helpers import CN_LOAN, Desk

from loancollect.domain.case import OutcomeKind
from loancollect.domain.events import ContactOutcomeRecorded, EventKind
from loancollect.ports import DeliveryStatus


def _dialer(ari: AriStub, *, timeout: float = 5.0) -> AriDialer:
    return AriDialer(
        base_url=ari.url,
        username=USER,
        password=PASSWORD,
        endpoint="PJSIP/{number}@trunk",
        app=APP,
        caller_id="+861012345678",
        machine_media="sound:lc-limited-content-zh",
        timeout=timeout,
    )


def _request(key: str = "L-CN:early.call:2025-03-03") -> DialRequest:
    return DialRequest(
        key=key, loan_id=CN_LOAN, to="+8613800138000", machine_message="please call back"
    )


def _run(dialer: AriDialer, ari: AriStub) -> list[CallEvent]:
    seen: list[CallEvent] = []
    ari.end_events()
    AriEvents(dialer, seen.append).run()
    return seen


def test_originate_names_the_endpoint_the_app_and_a_channel_id_from_the_key(ari: AriStub) -> None:
    result = _dialer(ari).dial(_request())
    assert result.status is DeliveryStatus.SENT
    (sent,) = ari.originated
    assert sent["endpoint"] == "PJSIP/+8613800138000@trunk"
    assert sent["app"] == APP
    assert sent["appArgs"] == "L-CN:early.call:2025-03-03"
    assert sent["channelId"] == channel_id("L-CN:early.call:2025-03-03") == result.provider_id


def test_a_key_placed_before_a_restart_is_not_called_again(ari: AriStub) -> None:
    assert _dialer(ari).dial(_request()).ok
    again = _dialer(ari).dial(_request())  # a new process: ARI answers 409 for the id
    assert again.ok
    assert again.evidence == (("http_status", "409"),)
    assert len(ari.originated) == 1


def test_5xx_and_a_slow_pbx_are_retryable(ari: AriStub) -> None:
    ari.fail = [(500, 0.0), (200, 0.6)]
    dialer = _dialer(ari, timeout=0.2)
    first = dialer.dial(_request())
    assert first.status is DeliveryStatus.FAILED_RETRYABLE
    assert "500" in first.detail
    second = dialer.dial(_request())
    assert second.status is DeliveryStatus.FAILED_RETRYABLE
    assert "timed out" in second.detail


def test_a_bad_request_is_permanent(ari: AriStub) -> None:
    ari.fail = [(400, 0.0)]
    assert _dialer(ari).dial(_request()).status is DeliveryStatus.FAILED_PERMANENT


def test_hang_up_causes_become_outcomes(ari: AriStub, desk: Desk) -> None:
    dialer = _dialer(ari)
    keys = {"busy": "k-busy", "none": "k-none", "wrong": "k-wrong", "answered": "k-up"}
    for key in keys.values():
        assert dialer.dial(_request(key)).ok
    ari.emit("ChannelStateChange", channel_id("k-busy"), state="Ringing")
    ari.emit("ChannelDestroyed", channel_id("k-busy"), cause=17, cause_txt="User busy")
    ari.emit("ChannelDestroyed", channel_id("k-none"), cause=19, cause_txt="No answer")
    ari.emit("ChannelDestroyed", channel_id("k-wrong"), cause=1, cause_txt="Unallocated")
    ari.emit("ChannelVarset", channel_id("k-up"), variable="AMDSTATUS", value="HUMAN")
    ari.emit("ChannelDestroyed", channel_id("k-up"), cause=16, cause_txt="Normal Clearing")
    ari.emit("ChannelDestroyed", "someone-elses-channel", cause=16)
    seen = _run(dialer, ari)
    for event in seen:
        desk.desk.on_dialer_event(event, CN_LOAN)
    finals = {e.key: e.disposition for e in seen if e.final}
    assert finals == {
        "k-busy": Disposition.BUSY,
        "k-none": Disposition.NO_ANSWER,
        "k-wrong": Disposition.WRONG_NUMBER,
        "k-up": None,  # a person answered: the collector records it
    }
    recorded = [
        ContactOutcomeRecorded.parse(e).outcome
        for e in desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME)
    ]
    assert recorded == [OutcomeKind.BUSY, OutcomeKind.NO_ANSWER, OutcomeKind.WRONG_NUMBER]


def test_a_machine_gets_only_the_limited_content_message(ari: AriStub, desk: Desk) -> None:
    dialer = _dialer(ari)
    assert dialer.dial(_request()).ok
    ident = channel_id("L-CN:early.call:2025-03-03")
    ari.emit("ChannelVarset", ident, variable="AMDSTATUS", value="MACHINE")
    ari.emit("ChannelDestroyed", ident, cause=16, cause_txt="Normal Clearing")
    seen = _run(dialer, ari)
    assert ari.played == [(ident, "sound:lc-limited-content-zh")]
    assert [e.disposition for e in seen] == [None, Disposition.VOICEMAIL]
    for event in seen:
        desk.desk.on_dialer_event(event, CN_LOAN)
    (outcome,) = desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME)
    assert ContactOutcomeRecorded.parse(outcome).outcome is OutcomeKind.VOICEMAIL
