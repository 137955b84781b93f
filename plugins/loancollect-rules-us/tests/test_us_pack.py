"""US pack: FDCPA / Regulation F rules at their boundaries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pendulum
import pytest
from loancollect_rules_us.pack import UsOptions, massachusetts, pack

from loancollect.domain.compliance import (
    BorrowerFacts,
    Channel,
    Consent,
    ConsentScope,
    ContactEvent,
    DebtFacts,
    Direction,
    LocationCandidate,
    LocationSource,
    OptOut,
    Outcome,
    Override,
    ProposedContact,
    Tag,
    Template,
    check,
    lint_templates,
    select_packs,
)
from loancollect.errors import ConfigurationError

NY, LA = "America/New_York", "America/Los_Angeles"
US = pack()
CALL_TAGS = {Tag.CALLER_IDENTITY, Tag.DEBT_COLLECTOR_DISCLOSURE, Tag.MINI_MIRANDA}


def at(d: int, h: int = 12, mi: int = 0, m: int = 6, tz: str = NY) -> pendulum.DateTime:
    return pendulum.datetime(2024, m, d, h, mi, tz=tz)


def who(*zones: str, jurisdiction: str = "US") -> BorrowerFacts:
    return BorrowerFacts(
        id="b1",
        jurisdiction=jurisdiction,
        location_candidates=[LocationCandidate(z, LocationSource.ADDRESS) for z in zones or (NY,)],
    )


def call(when: dt.datetime, **kw: object) -> ProposedContact:
    kw.setdefault("channel", Channel.CALL)
    kw.setdefault("content_tags", CALL_TAGS)
    return ProposedContact(at=when, debt_ids={"d1"}, **kw)  # type: ignore[arg-type]


def placed(when: dt.datetime, **kw: object) -> ContactEvent:
    kw.setdefault("channel", Channel.CALL)
    return ContactEvent(at=when, debt_ids={"d1"}, **kw)  # type: ignore[arg-type]


D = DebtFacts(id="d1")


@pytest.mark.parametrize(("previous", "outcome"), [(6, Outcome.ALLOWED), (7, Outcome.RESCHEDULED)])
def test_us08_seventh_call_allowed_eighth_rescheduled(previous: int, outcome: Outcome) -> None:
    history = [placed(at(1 + i)) for i in range(previous)]
    v = check(call(at(7, 15)), who(), D, history, US)
    assert v.outcome is outcome
    if outcome is Outcome.RESCHEDULED:
        assert v.rule_ids == ("US-08",)
        assert v.earliest == at(8, 8)


@pytest.mark.parametrize(("day", "allowed"), [(9, False), (10, True)])
def test_us09_day_seven_after_conversation_blocked_day_eight_allowed(
    day: int, allowed: bool
) -> None:
    history = [placed(at(3, 10), conversation=True)]
    assert check(call(at(day)), who(), D, history, US).allowed is allowed


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"), [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False)]
)
def test_us01_hours(hour: int, minute: int, allowed: bool) -> None:
    assert check(call(at(3, hour, minute)), who(), D, [], US).allowed is allowed


@pytest.mark.parametrize("month_day", [(3, 10), (11, 3)])
def test_us01_dst_days_keep_local_0800(month_day: tuple[int, int]) -> None:
    m, d = month_day
    v = check(call(at(d, 7, 30, m=m)), who(), D, [], US)
    assert v.earliest is not None
    assert v.earliest.in_timezone(NY).time() == dt.time(8)


def test_us02_area_code_and_address_in_different_zones() -> None:
    b = BorrowerFacts(
        id="b1",
        jurisdiction="US",
        location_candidates=[
            LocationCandidate(NY, LocationSource.AREA_CODE),
            LocationCandidate(LA, LocationSource.ADDRESS),
        ],
    )
    v = check(call(at(3, 9)), b, D, [], US)
    assert v.earliest == at(3, 11)
    assert not check(call(at(3, 19, tz=LA)), b, D, [], US).allowed


def test_us11_consent_window_excludes_calls() -> None:
    consent = Consent(scope=ConsentScope.CALLS, given_at=at(1, 9))
    history = [placed(at(1, 9), direction=Direction.INBOUND, consent=consent)]
    history += [placed(at(1 + i, 13)) for i in range(7)]
    assert check(call(at(7, 15)), who(), D, history, US).allowed


def test_us17_opt_out_of_text_only_keeps_email() -> None:
    history = [
        placed(
            at(1),
            channel=Channel.SMS,
            direction=Direction.INBOUND,
            opt_out=OptOut(channel=Channel.SMS),
        )
    ]
    text = call(
        at(3),
        channel=Channel.SMS,
        content_tags={Tag.OPT_OUT_INSTRUCTIONS, Tag.DEBT_COLLECTOR_DISCLOSURE, Tag.MINI_MIRANDA},
    )
    assert check(text, who(), D, history, US).rule_ids == ("US-17",)
    assert check(attrs.evolve(text, channel=Channel.EMAIL), who(), D, history, US).allowed


def test_us08_override_with_rebuttal_reason() -> None:
    history = [placed(at(1 + i)) for i in range(7)]
    o = Override(rule_ids={"US-08"}, reason="consumer_request", note="call-back requested")
    v = check(call(at(7, 15), override=o), who(), D, history, US)
    assert v.allowed
    assert v.overridden[0].rule_id == "US-08"


def test_original_creditor_gets_only_the_bankruptcy_stay() -> None:
    creditor = pack(UsOptions(is_debt_collector=False))
    assert [r.info.id for r in creditor.rules] == ["US-31"]
    assert check(call(at(3, 23)), who(), D, [], creditor).allowed


def test_massachusetts_overlay_stacks_two_calls_per_seven_days() -> None:
    packs = select_packs([US, massachusetts()], "US-MA")
    history = [placed(at(1)), placed(at(2))]
    v = check(call(at(3)), who(jurisdiction="US-MA"), D, history, packs)
    assert v.rule_ids == ("US-MA-1",)
    assert check(
        call(at(3)), who(), D, history, select_packs([US, massachusetts()], "US-NY")
    ).allowed


def test_us23_voicemail_template_must_be_limited_content() -> None:
    ok = Template(
        name="lcm",
        channel=Channel.VOICEMAIL,
        content_tags={Tag.LIMITED_CONTENT, Tag.CALLER_IDENTITY, "reply_number"},
    )
    lint_templates([US], [ok])
    with pytest.raises(ConfigurationError, match="US-23"):
        lint_templates(
            [US],
            [
                Template(
                    name="vm",
                    channel=Channel.VOICEMAIL,
                    content_tags={Tag.LIMITED_CONTENT, Tag.CALLER_IDENTITY, Tag.BALANCE},
                )
            ],
        )
    with pytest.raises(ConfigurationError, match="US-18"):
        lint_templates(
            [US],
            [
                Template(
                    name="sms", channel=Channel.SMS, content_tags={Tag.DEBT_COLLECTOR_DISCLOSURE}
                )
            ],
        )


def test_options_validation() -> None:
    with pytest.raises(ConfigurationError, match="window_end"):
        UsOptions(window_start=dt.time(21), window_end=dt.time(8))


def test_every_rule_is_documented() -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "compliance.md"
    if not doc.exists():
        pytest.skip("documentation not in this checkout")
    text = doc.read_text(encoding="utf-8")
    options = UsOptions(
        min_gap_same_number=dt.timedelta(minutes=5),
        max_calls_per_day=3,
        max_electronic_per_week=5,
        last_call_start=dt.time(20, 50),
        is_debt_collector=True,
    )
    for p in (
        pack(options),
        massachusetts(),
        pack(UsOptions(is_debt_collector=False, creditor_window=True)),
    ):
        for rule in p.rules:
            assert f"`{rule.info.id}`" in text, rule.info.id
    assert "`US-34`" in text


# -- instant messages: electronic communications (12 CFR 1006.2(d)) -------------------


def test_an_instant_message_needs_the_opt_out_and_the_disclosure_like_a_text() -> None:
    ok = Template(
        name="im",
        channel=Channel.INSTANT_MESSAGE,
        content_tags={Tag.DEBT_COLLECTOR_DISCLOSURE, Tag.OPT_OUT_INSTRUCTIONS},
    )
    lint_templates([US], [ok])
    with pytest.raises(ConfigurationError, match="US-18"):
        lint_templates(
            [US],
            [
                Template(
                    name="im",
                    channel=Channel.INSTANT_MESSAGE,
                    content_tags={Tag.DEBT_COLLECTOR_DISCLOSURE},
                )
            ],
        )
    with pytest.raises(ConfigurationError, match="US-24"):
        lint_templates(
            [US],
            [
                Template(
                    name="im",
                    channel=Channel.INSTANT_MESSAGE,
                    content_tags={Tag.OPT_OUT_INSTRUCTIONS},
                )
            ],
        )


def test_an_instant_message_at_night_waits_for_the_window() -> None:
    tags = {Tag.DEBT_COLLECTOR_DISCLOSURE, Tag.OPT_OUT_INSTRUCTIONS, Tag.MINI_MIRANDA}
    im = call(at(3, 22), channel=Channel.INSTANT_MESSAGE, content_tags=tags)
    v = check(im, who(), D, [], US)
    assert v.rule_ids == ("US-01",)
    assert v.earliest == at(4, 8)


def test_an_instant_message_is_not_a_call_for_the_seven_in_seven() -> None:
    history = [placed(at(day, 10), channel=Channel.INSTANT_MESSAGE) for day in range(1, 8)]
    assert check(call(at(7, 12)), who(), D, history, US).allowed


def test_massachusetts_counts_instant_messages_with_calls_and_texts() -> None:
    packs = select_packs([US, massachusetts()], "US-MA")
    history = [placed(at(1), channel=Channel.INSTANT_MESSAGE), placed(at(2))]
    v = check(call(at(3)), who(jurisdiction="US-MA"), D, history, packs)
    assert v.rule_ids == ("US-MA-1",)
