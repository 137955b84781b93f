"""The engine: verdict shape, every failing rule collected, packs, input validation."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from tests.unit.compliance.builders import at, borrower, call, debt, event, info

from loancollect.domain.compliance import (
    BorrowerFacts,
    CeaseCommunication,
    Channel,
    ContactWindow,
    ContentRule,
    Flags,
    FrequencyCap,
    LocalTimeRange,
    Outcome,
    ProposedContact,
    RulePack,
    Tag,
    WeeklyTimes,
    check,
    select_packs,
)
from loancollect.errors import ConfigurationError, ValidationError

WINDOW = ContactWindow(
    info=info("WIN"), allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(21)))]
)
CAP = FrequencyCap(info=info("CAP"), cap=1, days=1)
CONTENT = ContentRule(info=info("TXT"), forbidden={Tag.THREAT})


def test_every_failing_rule_is_collected_in_pack_order() -> None:
    b = borrower(flags=Flags(cease_received_at=at(2024, 6, 1)))
    pack = RulePack(
        name="p",
        jurisdictions=["US"],
        rules=[CeaseCommunication(info=info("CEASE")), WINDOW, CONTENT],
    )
    v = check(call(at(2024, 6, 3, 22), content_tags={Tag.THREAT}), b, debt(), [], pack)
    assert v.outcome is Outcome.BLOCKED
    assert v.rule_ids == ("CEASE", "WIN", "TXT")
    assert {r.pack for r in v.reasons} == {"p"}


def test_reschedule_satisfies_window_and_counter_together() -> None:
    # one call allowed a day; a call today at 10:00 -> tomorrow, but only from 08:00
    history = [event(at(2024, 6, 3, 10))]
    v = check(call(at(2024, 6, 3, 22)), borrower(), debt(), history, [WINDOW, CAP])
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 4, 8)
    assert v.rule_ids == ("WIN", "CAP")
    assert check(call(v.earliest), borrower(), debt(), history, [WINDOW, CAP]).allowed


def test_stacked_packs_apply_together_so_the_strictest_wins() -> None:
    national = RulePack(name="n", jurisdictions=["US"], rules=[WINDOW])
    state = RulePack(
        name="s",
        jurisdictions=["US-MA"],
        rules=[
            ContactWindow(
                info=info("STATE"), allowed=[WeeklyTimes(LocalTimeRange(dt.time(9), dt.time(20)))]
            )
        ],
    )
    packs = select_packs([national, state], "US-MA")
    assert [p.name for p in packs] == ["n", "s"]
    v = check(call(at(2024, 6, 3, 8, 30)), borrower(), debt(), [], packs)
    assert v.earliest == at(2024, 6, 3, 9)
    assert v.rule_ids == ("STATE",)
    assert select_packs([national, state], "US-NY") == (national,)
    with pytest.raises(ConfigurationError, match="CN"):
        select_packs([national], "CN")


def test_rule_pack_validation() -> None:
    with pytest.raises(ConfigurationError, match="duplicate rule id 'WIN'"):
        RulePack(name="p", jurisdictions=["US"], rules=[WINDOW, WINDOW])
    with pytest.raises(ValidationError, match=r"rule_pack\.jurisdictions"):
        RulePack(name="p", jurisdictions=["usa"], rules=[])
    with pytest.raises(ValidationError, match=r"rule_pack\.name"):
        RulePack(name="Bad Name", jurisdictions=["US"])
    with pytest.raises(ConfigurationError, match="not a Rule"):
        RulePack(name="p", jurisdictions=["US"], rules=["nope"])
    assert RulePack(name="p", jurisdictions=["US"]).covers("US-MA")


def test_inputs_are_frozen_and_instants_normalised_to_utc() -> None:
    p = call(pendulum.datetime(2024, 6, 3, 20, tz="Asia/Shanghai"))
    assert p.at.timezone_name == "UTC"
    assert p.at.hour == 12
    with pytest.raises(AttributeError):
        p.at = at(2024, 1, 1)  # type: ignore[misc]
    v = check(p, borrower(), debt(), [], [])
    with pytest.raises(AttributeError):
        v.outcome = Outcome.BLOCKED  # type: ignore[misc]


def test_naive_datetime_is_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"proposed\.at"):
        ProposedContact(at=dt.datetime(2024, 6, 3, 12), channel=Channel.CALL)


def test_empty_candidate_zones_and_unknown_zone_are_rejected() -> None:
    with pytest.raises(ValidationError, match="location_candidates"):
        BorrowerFacts(id="b", jurisdiction="US", location_candidates=[])
    with pytest.raises(ValidationError, match="Mars/Olympus"):
        borrower("Mars/Olympus")


def test_check_rejects_wrong_argument_types() -> None:
    with pytest.raises(ValidationError, match="history"):
        check(call(at(2024, 6, 3)), borrower(), debt(), ["x"], [])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="RulePack or Rule"):
        check(call(at(2024, 6, 3)), borrower(), debt(), [], ["x"])  # type: ignore[list-item]


def test_personal_data_is_masked_in_reprs() -> None:
    p = call(at(2024, 6, 3), address="+1 212 555 0199")
    assert "555 0199" not in repr(p)
    e = event(at(2024, 6, 3), address="someone@example.com")
    assert "someone@example.com" not in repr(e)


def test_from_borrower_uses_residence_and_contact_point_zones() -> None:
    from loancollect.domain.loans import Borrower, ContactKind, ContactPoint, PartyKind

    b = Borrower(
        id="b",
        kind=PartyKind.INDIVIDUAL,
        name="Ann",
        jurisdiction="US",
        time_zone="America/Los_Angeles",
        locale="en_US",
        contact_points=[
            ContactPoint(ContactKind.PHONE, "+1 212 555 0100", time_zone="America/New_York")
        ],
    )
    facts = BorrowerFacts.from_borrower(b)
    assert facts.zones == ("America/Los_Angeles", "America/New_York")
