"""UK packs: CONC 7 requests as hard constraints, firm window, Debt Respite Scheme."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest
from loancollect_rules_uk.pack import UkOptions, pack, respite_pack

from loancollect.domain.compliance import (
    BorrowerFacts,
    Channel,
    DebtFacts,
    Dispute,
    Flags,
    LocalTimeRange,
    LocationCandidate,
    Moratorium,
    MoratoriumKind,
    Outcome,
    ProposedContact,
    Purpose,
    Tag,
    WeeklyTimes,
    check,
    select_packs,
)
from loancollect.errors import ConfigurationError

LDN = "Europe/London"
PACKS = (pack(), respite_pack())
D = DebtFacts(id="d1")


def at(d: int, h: int = 12, mi: int = 0, m: int = 6) -> pendulum.DateTime:
    return pendulum.datetime(2024, m, d, h, mi, tz=LDN)


def who(jurisdiction: str = "GB-ENG", **kw: object) -> BorrowerFacts:
    return BorrowerFacts(
        id="b1",
        jurisdiction=jurisdiction,
        location_candidates=[LocationCandidate(LDN)],
        **kw,  # type: ignore[arg-type]
    )


def call(when: dt.datetime, **kw: object) -> ProposedContact:
    kw.setdefault("channel", Channel.CALL)
    return ProposedContact(at=when, debt_ids={"d1"}, **kw)  # type: ignore[arg-type]


def packs_for(jurisdiction: str) -> tuple:  # type: ignore[type-arg]
    return select_packs(PACKS, jurisdiction)


def test_respite_pack_covers_england_and_wales_only() -> None:
    assert [p.name for p in packs_for("GB-ENG")] == ["uk-conc", "uk-debt-respite"]
    assert [p.name for p in packs_for("GB-SCT")] == ["uk-conc"]


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"), [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False)]
)
def test_firm_window_boundaries_bst(hour: int, minute: int, allowed: bool) -> None:
    assert check(call(at(3, hour, minute)), who(), D, [], packs_for("GB-ENG")).allowed is allowed


def test_firm_window_on_the_clocks_go_forward_day() -> None:
    v = check(
        call(pendulum.datetime(2024, 3, 31, 7, 30, tz=LDN)), who(), D, [], packs_for("GB-ENG")
    )
    assert v.earliest == pendulum.datetime(2024, 3, 31, 7, 0, tz="UTC")


def test_sundays_and_bank_holidays_are_firm_options() -> None:
    strict = pack(UkOptions(sundays=False, bank_holidays=False))
    assert not check(call(at(2)), who(), D, [], strict).allowed  # Sunday 2 June 2024
    assert not check(call(at(26, m=8)), who(), D, [], strict).allowed  # summer bank holiday
    assert check(call(at(27, m=8)), who(), D, [], strict).allowed


def test_customer_stated_times_and_channels_are_hard_constraints() -> None:
    shift = who(stated_inconvenient_times=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(14)))])
    v = check(call(at(3, 9)), shift, D, [], packs_for("GB-ENG"))
    assert v.rule_ids == ("UK-04-WHEN",)
    assert v.earliest == at(3, 14)
    email_only = who(preferred_channels=frozenset({Channel.EMAIL}))
    assert check(call(at(3)), email_only, D, [], packs_for("GB-ENG")).rule_ids == ("UK-04-HOW",)


def test_identity_before_debt_details_and_no_pressure() -> None:
    assert check(call(at(3), content_tags={Tag.DEBT_DETAILS}), who(), D, [], PACKS).rule_ids == (
        "UK-07",
    )
    v = check(
        call(at(3), identity_verified=True, content_tags={Tag.SUGGEST_BORROWING}),
        who(),
        D,
        [],
        PACKS,
    )
    assert v.rule_ids == ("UK-03",)


def test_dispute_hold_and_statute_barred() -> None:
    disputed = who(flags=Flags(dispute=Dispute(received_at=at(1), written=False)))
    assert check(call(at(3)), disputed, D, [], PACKS).outcome is Outcome.BLOCKED
    barred = DebtFacts(id="d1", time_barred=True)
    assert check(
        call(at(3), content_tags={Tag.THREAT_SUIT}), who(), barred, [], PACKS
    ).rule_ids == ("UK-12",)


def test_standard_breathing_space_then_contact_resumes_after_sixty_days() -> None:
    b = who(
        flags=Flags(
            moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(1, 9), end=at(10, 9))
        )
    )
    v = check(call(at(3)), b, D, [], packs_for("GB-ENG"))
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(10, 9)
    assert check(
        call(at(3), purpose=Purpose.ADVISER_CONTACT), b, D, [], packs_for("GB-ENG")
    ).allowed
    assert check(call(at(3)), who("GB-SCT", flags=b.flags), D, [], packs_for("GB-SCT")).allowed


def test_mental_health_crisis_moratorium_blocks_without_time_and_no_fees() -> None:
    b = who(
        flags=Flags(moratorium=Moratorium(kind=MoratoriumKind.MENTAL_HEALTH_CRISIS, start=at(1)))
    )
    v = check(call(at(3)), b, D, [], packs_for("GB-ENG"))
    assert (v.outcome, v.earliest, v.rule_ids) == (Outcome.BLOCKED, None, ("UK-13",))
    fee = check(
        call(at(3), channel=Channel.LETTER, purpose=Purpose.APPLY_FEE),
        b,
        D,
        [],
        packs_for("GB-ENG"),
    )
    assert "UK-15" in fee.rule_ids


def test_breathing_space_without_end_ends_at_london_midnight_across_the_clock_change() -> None:
    # SI 2020/1311 reg. 26 ([S], day count [?]): 60 days from the start day. Started
    # on 1 Sep 2024 (BST), it ends at 00:00 GMT on 31 Oct, after the clocks went back on
    # 27 Oct: 60 x 24 hours would have ended it at 23:00 GMT on 30 Oct.
    start = pendulum.datetime(2024, 9, 1, 10, tz=LDN)
    b = who(flags=Flags(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=start)))
    respite = packs_for("GB-ENG")
    late = call(pendulum.datetime(2024, 10, 30, 23, 30, tz=LDN), channel=Channel.LETTER)
    v = check(late, b, D, [], respite)
    assert v.outcome is Outcome.RESCHEDULED
    assert "UK-13" in v.rule_ids
    # The moratorium ends at midnight; the firm's window opens at 08:00 that day.
    assert v.earliest == pendulum.datetime(2024, 10, 31, 8, tz=LDN)
    only_respite = select_packs([respite_pack()], "GB-ENG")
    v = check(late, b, D, [], only_respite)
    assert v.earliest == pendulum.datetime(2024, 10, 31, 0, tz=LDN)
    assert v.earliest.in_timezone("UTC").hour == 0  # GMT by then
    spring = pendulum.datetime(2024, 2, 1, 10, tz=LDN)  # clocks go forward 31 Mar
    b = who(flags=Flags(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=spring)))
    v = check(call(pendulum.datetime(2024, 3, 30, 10, tz=LDN)), b, D, [], only_respite)
    assert v.earliest == pendulum.datetime(2024, 4, 1, 0, tz=LDN)


def test_a_fee_or_interest_during_a_breathing_space_is_blocked_not_rescheduled() -> None:
    # SI 2020/1311 reg. 7 ([S]): charges for the moratorium period may never be
    # required; only enforcement waits for the end of the moratorium.
    b = who(
        flags=Flags(
            moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(1, 9), end=at(10, 9))
        )
    )
    respite = packs_for("GB-ENG")
    for purpose in (Purpose.APPLY_FEE, Purpose.APPLY_INTEREST):
        v = check(call(at(3), channel=Channel.LETTER, purpose=purpose), b, D, [], respite)
        assert (v.outcome, v.earliest) == (Outcome.BLOCKED, None)
        assert "UK-15" in v.rule_ids
    assessed = DebtFacts(id="d1", forbearance_assessed=True)  # UK-02 is met
    enforcement = check(
        call(at(3), channel=Channel.LETTER, purpose=Purpose.ENFORCEMENT), b, assessed, [], respite
    )
    assert (enforcement.outcome, enforcement.earliest) == (Outcome.RESCHEDULED, at(10, 9))


def test_visit_needs_notice_and_never_to_vulnerable_customers() -> None:
    visit = call(at(3), channel=Channel.VISIT, place="home", visit_notice_sent_at=at(1))
    assert check(visit, who(), D, [], PACKS).earliest == at(4)
    vulnerable = who(flags=Flags(vulnerable=True))
    assert check(visit, vulnerable, D, [], PACKS).outcome is Outcome.BLOCKED


def test_a_visit_three_days_after_its_notice_is_allowed_two_days_after_it_waits() -> None:
    notice = at(3, 10)  # Monday 10:00
    three_days = call(at(6, 10), channel=Channel.VISIT, place="home", visit_notice_sent_at=notice)
    assert check(three_days, who(), D, [], PACKS).allowed
    two_days = call(at(5, 10), channel=Channel.VISIT, place="home", visit_notice_sent_at=notice)
    v = check(two_days, who(), D, [], PACKS)
    assert (v.outcome, v.earliest, v.rule_ids) == (Outcome.RESCHEDULED, at(6, 10), ("UK-08",))


def test_a_visit_with_no_recorded_notice_is_refused() -> None:
    v = check(call(at(6, 10), channel=Channel.VISIT, place="home"), who(), D, [], PACKS)
    assert (v.outcome, v.earliest, v.rule_ids) == (Outcome.BLOCKED, None, ("UK-08",))


def test_the_notice_of_a_visit_goes_in_the_window_and_never_to_a_vulnerable_customer() -> None:
    tags = {Tag.DEBT_DETAILS}  # the written notice states the amount due
    notice = call(
        at(3, 10), channel=Channel.VISIT, place="home", gives_visit_notice=True, content_tags=tags
    )
    assert check(notice, who(), D, [], PACKS).allowed
    vulnerable = who(flags=Flags(vulnerable=True))
    assert check(notice, vulnerable, D, [], PACKS).outcome is Outcome.BLOCKED
    night = call(at(3, 22), channel=Channel.VISIT, place="home", gives_visit_notice=True)
    v = check(night, who(), D, [], PACKS)
    assert (v.outcome, v.rule_ids) == (Outcome.RESCHEDULED, ("UK-04-WINDOW",))


def test_the_packs_notice_period_is_an_option() -> None:
    five = (pack(UkOptions(visit_notice_days=5)),)
    visit = call(at(6, 10), channel=Channel.VISIT, place="home", visit_notice_sent_at=at(3, 10))
    assert check(visit, who("GB"), D, [], five).earliest == at(8, 10)


def test_options_validation() -> None:
    with pytest.raises(ConfigurationError):
        UkOptions(window_start=dt.time(21), window_end=dt.time(8))


def test_every_rule_is_documented() -> None:
    doc = Path(__file__).resolve().parents[3] / "docs" / "compliance.md"
    if not doc.exists():
        pytest.skip("documentation not in this checkout")
    text = doc.read_text(encoding="utf-8")
    options = UkOptions(daily_contact_cap=3, weekly_contact_cap=10)
    for p in (pack(options), respite_pack(options)):
        for rule in p.rules:
            assert f"`{rule.info.id}`" in text, rule.info.id


def test_the_firm_window_applies_to_instant_messages() -> None:
    late = call(at(3, 21, 30), channel=Channel.INSTANT_MESSAGE)
    v = check(late, who(), D, [], packs_for("GB-ENG"))
    assert not v.allowed
    assert v.earliest == at(4, 8)
    assert check(
        call(at(3, 10), channel=Channel.INSTANT_MESSAGE), who(), D, [], packs_for("GB-ENG")
    ).allowed
