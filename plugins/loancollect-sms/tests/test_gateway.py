"""Requests, answers, rate limits and segments against a real HTTP gateway."""

from __future__ import annotations

import logging

import pytest
from loancollect_sms import SETTINGS, SmsChannel, count_segments, from_settings
from sms_gateway import Answer, Gateway
from sms_helpers import NORMALISED, NUMBER, ZH_TEXT, FakeTime, sms_action, sms_message

from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.errors import ConfigurationError
from loancollect.plugins import make_plugin_manager
from loancollect.ports import CAP_IDEMPOTENT, DeliveryStatus
from loancollect.registry import channel_specs
from loancollect.testing import make_action


def channel_for(gateway: Gateway, **settings: str) -> SmsChannel:
    return from_settings({"url": gateway.url, "timeout": "5", **settings})


def test_a_json_request_carries_the_mapped_fields_and_headers(gateway: Gateway) -> None:
    channel = channel_for(
        gateway,
        auth_header="Authorization",
        auth_value="Bearer t0ken",
        sender="BANK",
        **{
            "field.to": "mobile",
            "field.text": "content",
            "field.reference": "client_ref",
            "extra.sign": "示例银行",
            "response.id": "data.msg_id",
        },
    )
    action = sms_action()
    result = channel.send(action, sms_message(), action.idempotency_key)
    assert result.ok
    assert result.provider_id == "m-1"
    (request,) = gateway.requests
    assert request.path == "/v1/sms"
    assert request.content_type.startswith("application/json")
    assert request.body == {
        "mobile": NORMALISED,
        "content": ZH_TEXT,
        "client_ref": action.idempotency_key,
        "from": "BANK",
        "sign": "示例银行",
    }
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert request.headers["Idempotency-Key"] == action.idempotency_key
    evidence = dict(result.evidence)
    assert evidence["encoding"] == "ucs2"
    assert evidence["segments"] == "1"
    assert evidence["http_status"] == "200"


def test_a_form_request(gateway: Gateway) -> None:
    channel = channel_for(gateway, body="form", idempotency_header="")
    action = sms_action()
    assert channel.send(action, sms_message(), action.idempotency_key).ok
    (request,) = gateway.requests
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.body["to"] == NORMALISED
    assert request.body["text"] == ZH_TEXT
    assert "Idempotency-Key" not in request.headers


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (
            Answer(429, "", (("Retry-After", "30"),)),
            DeliveryStatus.FAILED_RETRYABLE,
            "retry after 30",
        ),
        (Answer(500, '{"error": "oops"}'), DeliveryStatus.FAILED_RETRYABLE, "500"),
        (Answer(502), DeliveryStatus.FAILED_RETRYABLE, "502"),
        (Answer(503), DeliveryStatus.FAILED_RETRYABLE, "503"),
        (Answer(400, '{"error": "bad number"}'), DeliveryStatus.FAILED_PERMANENT, "bad number"),
        (Answer(404), DeliveryStatus.FAILED_PERMANENT, "404"),
        (Answer(403), DeliveryStatus.REJECTED, "403"),
        (Answer(451), DeliveryStatus.REJECTED, "451"),
    ],
)
def test_answers_are_classified_by_http_status(
    gateway: Gateway, answer: Answer, status: DeliveryStatus, words: str
) -> None:
    gateway.answer(answer)
    channel = channel_for(gateway)
    action = sms_action()
    result = channel.send(action, sms_message(), action.idempotency_key)
    assert result.status is status
    assert words in result.detail


def test_a_retryable_answer_then_success_sends_once(gateway: Gateway) -> None:
    gateway.answer(Answer(429), Answer(503))
    channel = channel_for(gateway)
    action = sms_action()
    assert channel.send(action, sms_message(), action.idempotency_key).retryable
    assert channel.send(action, sms_message(), action.idempotency_key).retryable
    first = channel.send(action, sms_message(), action.idempotency_key)
    assert first.ok
    assert channel.send(action, sms_message(), action.idempotency_key) == first
    assert len(gateway.requests) == 1
    assert len(gateway.refused) == 2


def test_the_channel_declares_de_duplication_only_on_the_providers_word() -> None:
    gateway = Gateway(deduplicate=True)
    try:
        assert CAP_IDEMPOTENT not in channel_for(gateway).capabilities
        first_process = channel_for(gateway, deduplicates="provider")
        assert CAP_IDEMPOTENT in first_process.capabilities
        action = sms_action()
        first = first_process.send(action, sms_message(), action.idempotency_key)
        # A restart: a new channel with no memory of the key sends it again; the
        # gateway answers with its first result and delivers nothing more.
        after_restart = channel_for(gateway, deduplicates="provider")
        again = after_restart.send(action, sms_message(), action.idempotency_key)
        assert again.ok
        assert again.provider_id == first.provider_id
        assert len(gateway.requests) == 1
    finally:
        gateway.stop()
    with pytest.raises(ConfigurationError, match="'deduplicates'"):
        channel_for(gateway, deduplicates="yes")


def test_a_slow_gateway_times_out_as_retryable(gateway: Gateway) -> None:
    gateway.answer(Answer(200, "{}", delay=1.0))
    channel = channel_for(gateway, timeout="0.2")
    action = sms_action()
    result = channel.send(action, sms_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "timed out" in result.detail


def test_an_unreachable_gateway_is_retryable(gateway: Gateway) -> None:
    url = gateway.url
    gateway.stop()
    channel = from_settings({"url": url, "timeout": "2"})
    action = sms_action()
    result = channel.send(action, sms_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_RETRYABLE
    assert "unreachable" in result.detail


def test_a_message_over_max_segments_fails_before_the_gateway(gateway: Gateway) -> None:
    channel = channel_for(gateway, max_segments="2")
    action = sms_action()
    result = channel.send(action, sms_message(text="逾" * 135), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert "3 ucs2 segments" in result.detail
    assert gateway.requests == []


def test_an_action_without_a_phone_number_fails_permanently(gateway: Gateway) -> None:
    action = make_action(contact=ContactPoint(ContactKind.EMAIL, "a@example.com"))
    result = channel_for(gateway).send(action, sms_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert gateway.requests == []


def test_the_per_number_limit_spaces_messages_to_one_number(gateway: Gateway) -> None:
    clock = FakeTime()
    channel = from_settings(
        {"url": gateway.url, "rate.per_number_seconds": "60"},
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )
    a, b, c = (sms_action(rule_id=r) for r in "abc")
    assert channel.send(a, sms_message(), a.idempotency_key).ok
    clock.now += 30
    limited = channel.send(b, sms_message(), b.idempotency_key)
    assert limited.retryable
    assert "retry in 30.0 s" in limited.detail
    other = make_action(
        rule_id="other",
        contact=make_action().contact.__class__(ContactKind.PHONE, "+86 139 0000 0000"),
    )
    assert channel.send(other, sms_message(), other.idempotency_key).ok  # another number
    clock.now += 31
    assert channel.send(b, sms_message(), b.idempotency_key).ok
    assert channel.send(c, sms_message(), c.idempotency_key).retryable
    assert len(gateway.requests) == 3
    assert clock.slept == []


def test_the_global_bucket_paces_sends(gateway: Gateway) -> None:
    clock = FakeTime()
    settings = {"url": gateway.url, "rate.global_per_second": "2", "rate.burst": "2"}
    channel = from_settings(
        {**settings, "rate.max_wait": "0.5"}, monotonic=clock.monotonic, sleep=clock.sleep
    )
    actions = [sms_action(rule_id=f"r{n}") for n in range(4)]
    assert all(channel.send(a, sms_message(), a.idempotency_key).ok for a in actions)
    # two from the burst, then one every half second
    assert clock.slept == [0.5, 0.5]
    assert len(gateway.requests) == 4


def test_the_global_bucket_refuses_rather_than_wait_long(gateway: Gateway) -> None:
    clock = FakeTime()
    settings = {"url": gateway.url, "rate.global_per_second": "2", "rate.burst": "2"}
    channel = from_settings(
        {**settings, "rate.max_wait": "0.2"}, monotonic=clock.monotonic, sleep=clock.sleep
    )
    actions = [sms_action(rule_id=f"r{n}") for n in range(3)]
    results = [channel.send(a, sms_message(), a.idempotency_key) for a in actions]
    assert [r.ok for r in results] == [True, True, False]
    assert "rate limited locally; retry in 0.5 s" in results[2].detail
    assert clock.slept == []
    clock.now += 0.5
    assert channel.send(actions[2], sms_message(), actions[2].idempotency_key).ok
    assert len(gateway.requests) == 3


def test_numbers_are_masked_in_details_logs_and_reprs(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.answer(Answer(400, f'{{"error": "invalid number {NORMALISED}"}}'))
    channel = channel_for(gateway, auth_header="X-Key", auth_value="s3cret")
    action = sms_action()
    with caplog.at_level(logging.DEBUG, logger="loancollect_sms"):
        result = channel.send(action, sms_message(), action.idempotency_key)
    assert NORMALISED not in result.detail
    assert "+86*********00" in result.detail
    assert NORMALISED not in caplog.text
    assert "138 0013" not in caplog.text
    assert "s3cret" not in repr(channel) + repr(channel.mapping)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "gsm7", 0, 1),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),
        ("a" * 152 + "€" + "a" * 10, "gsm7", 164, 2),
        ("a" * 152 + "€" + "a" * 152, "gsm7", 306, 3),  # the escape is not split
        ("逾" * 70, "ucs2", 70, 1),
        ("逾" * 71, "ucs2", 71, 2),
        ("逾" * 134, "ucs2", 134, 2),
        ("逾" * 135, "ucs2", 135, 3),
        ("a" * 69 + "😀", "ucs2", 71, 2),
        (ZH_TEXT, "ucs2", len(ZH_TEXT), 1),
    ],
)
def test_segments(text: str, encoding: str, units: int, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments)


def test_the_entry_point_registers_the_sms_channel() -> None:
    spec = channel_specs(make_plugin_manager(load_entrypoints=["sms"]))["sms"]
    assert spec.contact_kind is ContactKind.PHONE


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({}, "'url'"),
        ({"url": "ftp://x"}, "'url'"),
        ({"url": "http://x", "body": "xml"}, "'body'"),
        ({"url": "http://x", "auth_header": "X-Key"}, "'auth_value'"),
        ({"url": "http://x", "timeout": "soon"}, "'timeout'"),
        ({"url": "http://x", "max_segments": "0"}, "'max_segments'"),
        ({"url": "http://x", "rate.burst": "0"}, "'rate.burst'"),
        ({"url": "http://x", "rate.per_number_seconds": "-1"}, "'rate.per_number_seconds'"),
        ({"url": "http://x", "rejected_statuses": "403,nope"}, "'rejected_statuses'"),
        ({"url": "http://x", "feild.to": "mobile"}, "'feild.to'"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        from_settings(settings)


def test_every_setting_is_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for key in SETTINGS:
        assert f"`{key}`" in readme, key


def test_number_normalisation_is_what_the_gateway_gets() -> None:
    assert NUMBER.replace(" ", "") == NORMALISED
