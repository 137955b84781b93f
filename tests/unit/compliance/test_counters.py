"""Frequency caps and the cool-down after a conversation, at their boundaries."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.unit.compliance.builders import LA, NY, at, borrower, call, debt, event, info

from loancollect.domain.compliance import (
    Channel,
    Consent,
    ConsentScope,
    ConversationCooldown,
    Count,
    Direction,
    FrequencyCap,
    LifetimeCap,
    Outcome,
    Override,
    Purpose,
    TargetKind,
    check,
)
from loancollect.errors import ConfigurationError, ValidationError

SEVEN = FrequencyCap(
    info=info("F7"),
    cap=7,
    days=7,
    channels=frozenset({Channel.CALL}),
    exclude_not_connected=True,
    excluded_targets=frozenset({TargetKind.ATTORNEY}),
    consent_days=7,
    overridable_by=frozenset({"consumer_request"}),
)
COOL = ConversationCooldown(info=info("C7"), days=7, consent_days=7)


def calls(n: int, **kw: object) -> list:  # type: ignore[type-arg]
    """``n`` calls on 1..n June 2024 at noon (one a day)."""
    return [event(at(2024, 6, 1 + i, 12), **kw) for i in range(n)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("previous", "allowed"), [(6, True), (7, False)])
def test_the_seventh_call_in_seven_days_passes_and_the_eighth_does_not(
    previous: int, allowed: bool
) -> None:
    v = check(call(at(2024, 6, 7, 15)), borrower(), debt(), calls(previous), SEVEN)
    assert v.allowed is allowed


def test_eighth_call_is_rescheduled_to_the_day_the_oldest_call_leaves_the_window() -> None:
    v = check(call(at(2024, 6, 7, 15)), borrower(), debt(), calls(7), SEVEN)
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 8, 0, 0)


def test_seven_day_window_counts_local_calendar_dates() -> None:
    # seven calls 1..7 June; on 8 June the call of 1 June has left [2, 8]
    assert check(call(at(2024, 6, 8, 0, 1)), borrower(), debt(), calls(7), SEVEN).allowed


def test_calls_not_connected_are_not_counted() -> None:
    history = [*calls(6), event(at(2024, 6, 7, 9), connected=False)]
    assert check(call(at(2024, 6, 7, 15)), borrower(), debt(), history, SEVEN).allowed


def test_calls_about_another_debt_or_to_another_person_are_separate_buckets() -> None:
    other_debt = calls(7, debt_ids={"d2"})
    assert check(call(at(2024, 6, 7, 15)), borrower(), debt(), other_debt, SEVEN).allowed
    sister = calls(7, target_id="sister", target_kind=TargetKind.THIRD_PARTY)
    assert check(call(at(2024, 6, 7, 15)), borrower(), debt(), sister, SEVEN).allowed


def test_related_debt_ids_count_as_one_debt() -> None:
    history = calls(7, debt_ids={"loan-2"})
    v = check(call(at(2024, 6, 7, 15)), borrower(), debt(related_ids={"loan-2"}), history, SEVEN)
    assert not v.allowed


def test_different_numbers_of_the_same_person_share_one_bucket() -> None:
    history = [event(at(2024, 6, 1 + i, 12), address=f"+1 212 555 010{i}") for i in range(7)]
    assert not check(call(at(2024, 6, 7, 15)), borrower(), debt(), history, SEVEN).allowed


def test_calls_by_agencies_count_with_the_creditors_calls() -> None:
    history = [*calls(4), *[event(at(2024, 6, 5 + i, 13), agent="agency-a") for i in range(3)]]
    assert not check(call(at(2024, 6, 7, 15)), borrower(), debt(), history, SEVEN).allowed


def test_calls_to_the_attorney_are_neither_counted_nor_capped() -> None:
    history = calls(7, target_id="att", target_kind=TargetKind.ATTORNEY)
    assert check(call(at(2024, 6, 7, 15)), borrower(), debt(), history, SEVEN).allowed
    to_attorney = call(at(2024, 6, 7, 15), target_id="att", target_kind=TargetKind.ATTORNEY)
    assert check(to_attorney, borrower(), debt(), history, SEVEN).allowed


def test_calls_within_seven_days_of_consent_are_excluded_and_consent_day_is_day_one() -> None:
    consent = Consent(scope=ConsentScope.CALLS, given_at=at(2024, 6, 1, 9))
    history = [event(at(2024, 6, 1, 9), direction=Direction.INBOUND, consent=consent), *calls(7)]
    # 7 June is day 7 of the consent: the proposed call is excluded too
    assert check(call(at(2024, 6, 7, 15)), borrower(), debt(), history, SEVEN).allowed
    # 8 June is day 8: consent over, but the calls of 2..7 June were under consent
    assert check(call(at(2024, 6, 8, 15)), borrower(), debt(), history, SEVEN).allowed
    after = [*history, *[event(at(2024, 6, 8, 10 + i)) for i in range(7)]]
    assert not check(call(at(2024, 6, 8, 18)), borrower(), debt(), after, SEVEN).allowed


def test_rebuttal_override_lifts_the_presumption_and_is_recorded() -> None:
    o = Override(rule_ids={"F7"}, reason="consumer_request", note="asked for a call-back")
    v = check(call(at(2024, 6, 7, 15), override=o), borrower(), debt(), calls(7), SEVEN)
    assert v.allowed
    assert [r.rule_id for r in v.overridden] == ["F7"]
    assert "consumer_request" in v.overridden[0].detail


def test_override_with_an_unaccepted_reason_does_not_lift_the_rule() -> None:
    o = Override(rule_ids={"F7"}, reason="agent_wants_to", note="n")
    assert not check(
        call(at(2024, 6, 7, 15), override=o), borrower(), debt(), calls(7), SEVEN
    ).allowed


def test_override_requires_a_recorded_reason() -> None:
    with pytest.raises(ValidationError, match=r"override\.reason"):
        Override(rule_ids={"F7"}, reason=" ", note="n")
    with pytest.raises(ValidationError, match=r"override\.note"):
        Override(rule_ids={"F7"}, reason="consumer_request", note="")


def conversation(when: object, **kw: object):  # type: ignore[no-untyped-def]
    return event(when, conversation=True, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "allowed"),
    [(3, False), (9, False), (10, True)],
)
def test_no_call_for_seven_days_after_a_conversation_whose_date_is_day_one(
    day: int, allowed: bool
) -> None:
    history = [conversation(at(2024, 6, 3, 10))]  # day 1 = 3 June, day 7 = 9 June
    assert check(call(at(2024, 6, day, 12)), borrower(), debt(), history, COOL).allowed is allowed


def test_cooldown_blocks_later_the_same_day_and_reschedules_to_day_eight_at_midnight() -> None:
    v = check(
        call(at(2024, 6, 3, 18)), borrower(), debt(), [conversation(at(2024, 6, 3, 10))], COOL
    )
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 10, 0, 0)


def test_inbound_conversation_starts_the_cooldown_for_every_debt_discussed() -> None:
    inbound = conversation(
        at(2024, 6, 3, 10),
        direction=Direction.INBOUND,
        debt_ids={"d1", "d2"},
    )
    assert not check(call(at(2024, 6, 5)), borrower(), debt(), [inbound], COOL).allowed
    assert not check(call(at(2024, 6, 5)), borrower(), debt(id="d2"), [inbound], COOL).allowed
    only_d2 = conversation(at(2024, 6, 3, 10), debt_ids={"d1", "d2"}, discussed_debt_ids={"d2"})
    assert check(call(at(2024, 6, 5)), borrower(), debt(), [only_d2], COOL).allowed


def test_cooldown_day_is_taken_in_every_candidate_zone() -> None:
    # the conversation is on 3 June in LA but already 4 June in New York
    history = [conversation(at(2024, 6, 3, 23, 30, tz=LA))]
    when = at(2024, 6, 10, 12, 0)  # day 8 in LA, day 7 in New York
    assert not check(call(when), borrower(NY, LA), debt(), history, COOL).allowed
    assert check(call(when), borrower(LA), debt(), history, COOL).allowed


def test_rolling_duration_cap_reopens_when_the_oldest_attempt_leaves() -> None:
    gap = FrequencyCap(
        info=info("GAP"),
        cap=1,
        duration=dt.timedelta(minutes=5),
        per_person=False,
        per_debt=False,
        per_number=True,
    )
    history = [event(at(2024, 6, 3, 12, 0), address="n1")]
    v = check(call(at(2024, 6, 3, 12, 3), address="n1"), borrower(), debt(), history, gap)
    assert v.earliest == at(2024, 6, 3, 12, 5)
    assert check(
        call(at(2024, 6, 3, 12, 3), address="n2"), borrower(), debt(), history, gap
    ).allowed


@pytest.mark.parametrize(("unanswered", "allowed"), [(5, True), (6, False)])
def test_unanswered_attempts_per_number_per_day(unanswered: int, allowed: bool) -> None:
    cap = FrequencyCap(
        info=info("U6"),
        cap=6,
        days=1,
        count=Count.UNANSWERED,
        per_person=False,
        per_debt=False,
        per_number=True,
    )
    history = [event(at(2024, 6, 3, 9 + i), address="n1") for i in range(unanswered)]
    answered = event(at(2024, 6, 3, 8, 30), address="n1", conversation=True)
    v = check(call(at(2024, 6, 3, 18), address="n1"), borrower(), debt(), [answered, *history], cap)
    assert v.allowed is allowed


def test_lifetime_cap_allows_one_location_contact_per_third_party() -> None:
    once = LifetimeCap(
        info=info("ONCE"),
        cap=1,
        purposes=frozenset({Purpose.LOCATION_INFO}),
        overridable_by=frozenset({"requested"}),
    )
    proposal = call(
        at(2024, 6, 3),
        target_id="neighbour",
        target_kind=TargetKind.THIRD_PARTY,
        purpose=Purpose.LOCATION_INFO,
    )
    assert check(proposal, borrower(), debt(), [], once).allowed
    history = [
        event(
            at(2024, 6, 1),
            target_id="neighbour",
            target_kind=TargetKind.THIRD_PARTY,
            purpose=Purpose.LOCATION_INFO,
        )
    ]
    v = check(proposal, borrower(), debt(), history, once)
    assert v.outcome is Outcome.BLOCKED
    assert v.earliest is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cap": 0, "days": 7},
        {"cap": 1},
        {"cap": 1, "days": 1, "duration": dt.timedelta(1)},
        {"cap": 1, "days": 0},
        {"cap": 1, "duration": dt.timedelta(0)},
    ],
)
def test_frequency_cap_configuration_errors(kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigurationError, match="F"):
        FrequencyCap(info=info("F"), **kwargs)
