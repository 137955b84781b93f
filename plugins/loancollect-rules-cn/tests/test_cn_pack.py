"""CN pack: hours in Beijing time, daily caps, third parties, content, 4 x LPR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest
from loancollect_rules_cn.pack import COLLECTION_LETTER_TAGS, CnOptions, pack

from loancollect.domain.compliance import (
    BorrowerFacts,
    Channel,
    ContactEvent,
    DebtFacts,
    Flags,
    LocationCandidate,
    Outcome,
    ProposedContact,
    Purpose,
    Tag,
    TargetKind,
    Template,
    check,
    lint_templates,
)
from loancollect.domain.money import Money
from loancollect.errors import ConfigurationError

BJ = "Asia/Shanghai"
CN = pack()
D = DebtFacts(id="d1")


def at(d: int, h: int = 12, mi: int = 0, m: int = 3) -> pendulum.DateTime:
    return pendulum.datetime(2025, m, d, h, mi, tz=BJ)


def who(*zones: str, **flags: object) -> BorrowerFacts:
    return BorrowerFacts(
        id="b1",
        jurisdiction="CN",
        location_candidates=[LocationCandidate(z) for z in zones or (BJ,)],
        flags=Flags(**flags),  # type: ignore[arg-type]
    )


def call(when: dt.datetime, **kw: object) -> ProposedContact:
    kw.setdefault("channel", Channel.CALL)
    return ProposedContact(at=when, debt_ids={"d1"}, **kw)  # type: ignore[arg-type]


def ev(when: dt.datetime, **kw: object) -> ContactEvent:
    return ContactEvent(at=when, channel=Channel.CALL, debt_ids={"d1"}, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(7, 59, False), (8, 0, True), (21, 59, True), (22, 0, False)],
)
def test_cn01_no_collection_2200_to_0800_beijing_time(
    hour: int, minute: int, allowed: bool
) -> None:
    assert check(call(at(3, hour, minute)), who(), D, [], CN).allowed is allowed


def test_cn01_beijing_time_even_for_a_borrower_abroad() -> None:
    v = check(call(at(3, 23)), who("Europe/London"), D, [], CN)
    assert v.earliest == at(4, 8)


def test_cn16_xinjiang_intersection_is_opt_in() -> None:
    strict = pack(CnOptions(xinjiang_intersection=True))
    assert check(call(at(3, 9)), who("Asia/Urumqi"), D, [], CN).allowed
    assert check(call(at(3, 9)), who("Asia/Urumqi"), D, [], strict).earliest == at(3, 10)


def test_cn15_holidays_as_quiet_days_is_opt_in() -> None:
    national_day = at(1, 12, m=10)
    assert check(call(national_day), who(), D, [], CN).allowed
    quiet = pack(CnOptions(holidays_as_quiet_days=True))
    assert check(call(national_day), who(), D, [], quiet).outcome is Outcome.RESCHEDULED


def test_legacy_strict_profile_ends_at_2100() -> None:
    assert not check(
        call(at(3, 21, 30)), who(), D, [], pack(CnOptions(legacy_strict_21h=True))
    ).allowed


@pytest.mark.parametrize(("conversations", "allowed"), [(2, True), (3, False)])
def test_cn03_three_effective_conversations_a_day_across_lender_and_agencies(
    conversations: int, allowed: bool
) -> None:
    agents = ["lender", "agency-a", "agency-b"]
    history = [ev(at(3, 9 + i), conversation=True, agent=agents[i]) for i in range(conversations)]
    v = check(call(at(3, 15)), who(), D, history, CN)
    assert v.allowed is allowed
    if not allowed:
        assert v.earliest == at(4, 8)


@pytest.mark.parametrize(("attempts", "allowed"), [(5, True), (6, False)])
def test_cn04_six_unanswered_attempts_per_number_a_day(attempts: int, allowed: bool) -> None:
    history = [ev(at(3, 9, 10 * i), address="138") for i in range(attempts)]
    assert check(call(at(3, 15), address="138"), who(), D, history, CN).allowed is allowed
    assert check(call(at(3, 15), address="139"), who(), D, history, CN).allowed


def test_cn05_contacts_only_when_unreachable_without_the_debt_and_stop_on_refusal() -> None:
    relay = call(
        at(3),
        target_id="mum",
        target_kind=TargetKind.EMERGENCY_CONTACT,
        purpose=Purpose.RELAY_MESSAGE,
    )
    assert check(relay, who(), D, [], CN).rule_ids == ("CN-05",)
    assert check(relay, who(lost_contact=True), D, [], CN).allowed
    refused = [
        ev(
            at(1),
            target_id="mum",
            target_kind=TargetKind.EMERGENCY_CONTACT,
            refused_further_contact=True,
        )
    ]
    assert check(relay, who(lost_contact=True), D, refused, CN).outcome is Outcome.BLOCKED


def test_cn08_prohibited_content_and_private_accounts() -> None:
    v = check(call(at(3), content_tags={Tag.SUGGEST_BORROWING}), who(), D, [], CN)
    assert v.rule_ids == ("CN-08",)
    assert check(
        call(at(3), agent="agency-a", agent_uses_private_account=True), who(), D, [], CN
    ).rule_ids == ("CN-08-ACCOUNTS",)


def test_cn07_collection_letter_template_must_have_every_element() -> None:
    lint_templates(
        [CN], [Template(name="letter", channel=Channel.LETTER, content_tags=COLLECTION_LETTER_TAGS)]
    )
    with pytest.raises(ConfigurationError, match="business_seal"):
        lint_templates(
            [CN],
            [
                Template(
                    name="letter",
                    channel=Channel.LETTER,
                    content_tags=COLLECTION_LETTER_TAGS - {Tag.BUSINESS_SEAL},
                )
            ],
        )


def test_cni3_private_lending_above_four_times_lpr_is_flagged_and_excess_not_demanded() -> None:
    d = DebtFacts(
        id="d1",
        private_lending=True,
        contract_rate=Decimal("0.18"),
        lpr_at_contract=Decimal("0.0345"),
        demandable=Money("5000.00", "CNY"),
    )
    v = check(call(at(3)), who(), d, [], CN)
    assert v.allowed
    assert v.notes[0].rule_id == "CN-I3"
    over = check(call(at(3), demand=Money("5200.00", "CNY")), who(), d, [], CN)
    assert over.rule_ids == ("CN-I3",)
    at_cap = DebtFacts(
        id="d1",
        private_lending=True,
        contract_rate=Decimal("0.138"),
        lpr_at_contract=Decimal("0.0345"),
    )
    assert check(call(at(3)), who(), at_cap, [], CN).notes == ()


def test_retention_and_options() -> None:
    assert CN.retention[0].keep_until(dt.date(2025, 3, 3)) == dt.date(2027, 3, 3)
    assert len(pack(CnOptions(standard_retention_years=5)).retention) == 2
    with pytest.raises(ConfigurationError):
        CnOptions(window_start=dt.time(22), window_end=dt.time(8))


def test_every_rule_is_documented() -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "compliance.md"
    if not doc.exists():
        pytest.skip("documentation not in this checkout")
    text = doc.read_text(encoding="utf-8")
    full = pack(CnOptions(visits_per_day=1, standard_retention_years=5))
    for rule in full.rules:
        assert f"`{rule.info.id}`" in text, rule.info.id
    for r in full.retention:
        assert f"`{r.id}`" in text, r.id


# -- instant messages (WeChat, QQ) ------------------------------------------------------


def test_an_instant_message_at_2330_beijing_waits_for_0800_like_an_sms() -> None:
    for medium in (Channel.INSTANT_MESSAGE, Channel.SMS):
        v = check(call(at(3, 23, 30), channel=medium), who(), D, [], CN)
        assert v.outcome is Outcome.RESCHEDULED
        assert v.rule_ids == ("CN-01",)
        assert v.earliest == at(4, 8)
    assert check(call(at(3, 10), channel=Channel.INSTANT_MESSAGE), who(), D, [], CN).allowed


def test_an_instant_message_from_an_agents_private_account_needs_consent() -> None:
    v = check(
        call(at(3, 10), channel=Channel.INSTANT_MESSAGE, agent_uses_private_account=True),
        who(),
        D,
        [],
        CN,
    )
    assert v.rule_ids == ("CN-08-ACCOUNTS",)


def test_instant_messages_are_not_counted_as_call_attempts() -> None:
    def sent(i: int, medium: Channel) -> ContactEvent:
        return ContactEvent(
            at=at(3, 9, 10 * i), channel=medium, debt_ids={"d1"}, address="138", connected=False
        )

    messages = [sent(i, Channel.INSTANT_MESSAGE) for i in range(6)]
    assert check(call(at(3, 15), address="138"), who(), D, messages, CN).allowed
    calls = [sent(i, Channel.CALL) for i in range(6)]
    assert not check(call(at(3, 15), address="138"), who(), D, calls, CN).allowed
