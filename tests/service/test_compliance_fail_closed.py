"""Failing closed: when the rules cannot decide, nobody is contacted.

A borrower whose jurisdiction no registered pack covers, whose zone is unknown with
no candidate zone to derive, or whose pack fails while judging, is not contacted:
each action is blocked (no time) and recorded with the reason and the fix. Only an
operator's explicit configuration (``compliance.unchecked_jurisdictions``) lets
contacts through unchecked, and that is logged at start-up. Phone numbers place
the borrower: a geographic number's zones are candidates, as an address's are.
"""

from __future__ import annotations

import datetime as dt
import logging

import attrs
import pendulum
import pytest
from loancollect_rules_eu.pack import EuOptions
from loancollect_rules_eu.plugin import EuRules
from tests.service.test_compliance_in_cycle import (
    DPD1,
    World,
    beijing,
    cn_borrower,
    daily_calls,
    make_loan,
    new_york,
    us_borrower,
)

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    EventKind,
    Loan,
    hookimpl,
)
from loancollect.builtin.compliance import (
    CONFIG_UNCHECKED,
    NO_PACK,
    UNDECIDED,
    UNKNOWN_ZONE,
    ComplianceGuard,
    jurisdiction_zones,
    phone_zones,
)
from loancollect.domain.case import Case
from loancollect.domain.compliance import (
    Confidence,
    Context,
    Finding,
    Rule,
    RuleInfo,
    RulePack,
)
from loancollect.domain.strategy import PlannedAction, Tone, idempotency_key
from loancollect.errors import ConfigurationError
from loancollect.testing import UNCHECKED_CONTACT

LOG = "loancollect.compliance"
ALL_RULES = ["rules-cn", "rules-us", "rules-uk", "rules-eu"]


def borrower(jurisdiction: str, zone: str, *phones: str, **changes: object) -> Borrower:
    base = us_borrower()
    points = tuple(ContactPoint(ContactKind.PHONE, p, label="mobile") for p in phones) or (
        base.contact_points
    )
    return attrs.evolve(
        base,
        jurisdiction=jurisdiction,
        time_zone=zone,
        contact_points=(*points, ContactPoint(ContactKind.EMAIL, "alex@example.com")),
        **changes,
    )


def blocked_reasons(world: World, loan: Loan) -> list[str]:
    return [e.payload.reasons or "" for e in world.events(loan.id, EventKind.ACTION_BLOCKED)]


class _Raises(Rule):
    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        raise RuntimeError("the rule's table has no entry for this case")


_RAISES = _Raises(
    info=RuleInfo(id="XX-1", citation="test", confidence=Confidence.VERIFIED, summary="s")
)


class XxRules:
    """A pack for the user-assigned code XX: empty, or with a rule that fails."""

    def __init__(self, *, failing: bool = False) -> None:
        self.failing = failing

    @hookimpl
    def loancollect_register_rules(self) -> list[RulePack]:
        rules = (_RAISES,) if self.failing else ()
        return [RulePack(name="xx-test", jurisdictions=("XX",), rules=rules)]


# -- no pack covers the jurisdiction ---------------------------------------------------


def test_a_jurisdiction_no_pack_covers_is_blocked_naming_it_and_the_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(at=new_york(DPD1, 10), rules=["rules-cn"])
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    with caplog.at_level(logging.WARNING, logger=LOG):
        report = world.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked, report.summary.rescheduled) == (0, 2, 0)
    for reasons in blocked_reasons(world, loan):
        assert reasons.startswith(
            f"{NO_PACK}: no registered rule pack covers jurisdiction 'US-NY', so nobody "
            "there is contacted (registered: cn (CN))"
        )
        assert f"list it in the configuration '{CONFIG_UNCHECKED}'" in reasons
    assert world.sent("sms") == world.sent("email") == []
    warnings = [r for r in caplog.records if "'US-NY'" in r.getMessage()]
    assert len(warnings) == 1


def test_uk_is_not_an_iso_code_so_a_uk_borrower_is_blocked_until_it_says_gb() -> None:
    at = pendulum.datetime(2025, 2, 11, 10, tz="Europe/London")
    world = World(at=at, rules=ALL_RULES)
    london = "+44 20 7946 0958"
    wrong = make_loan(borrower("UK", "Europe/London", london), "L-UK")
    right = make_loan(attrs.evolve(borrower("GB", "Europe/London", london), id="B-GB"), "L-GB")
    world.add(wrong, DPD1)
    world.add(right, DPD1)
    report = world.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked) == (2, 2)
    for reasons in blocked_reasons(world, wrong):
        assert "jurisdiction 'UK' ('UK' is not an ISO 3166 code: did you mean 'GB'?)" in reasons
    assert blocked_reasons(world, right) == []


def test_a_member_state_the_eu_pack_does_not_claim_is_blocked() -> None:
    at = pendulum.datetime(2025, 2, 11, 10, tz="Europe/Paris")
    french = make_loan(borrower("FR", "Europe/Paris", "+33 1 42 68 53 00"), "L-FR")
    # The framework pack covers the member states its options list: here not France.
    narrow = World(at=at, rules=["rules-cn"], plugins=(EuRules(EuOptions(member_states=("DE",))),))
    narrow.add(french, DPD1)
    assert narrow.engine.run_cycle(DPD1).summary.blocked == 2
    assert all("jurisdiction 'FR'" in r for r in blocked_reasons(narrow, french))
    # By default it covers the EU-27, France among them.
    default = World(at=at, rules=ALL_RULES)
    default.add(french, DPD1)
    assert default.engine.run_cycle(DPD1).summary.sent == 2


def test_the_guard_api_refuses_a_jurisdiction_no_pack_covers() -> None:
    world = World(at=new_york(DPD1, 10), rules=["rules-cn"])
    guard = world.engine.compliance
    assert isinstance(guard, ComplianceGuard)
    assert [p.name for p in guard.packs_for("CN") or ()] == ["cn"]
    with pytest.raises(
        ConfigurationError, match="no registered rule pack covers jurisdiction 'US'"
    ):
        guard.packs_for("US")
    loan = make_loan(us_borrower(), "L-US")
    world.add(loan, DPD1)
    action = PlansOneSms().plan(loan, DPD1)
    with world.store() as uow:
        case = uow.cases.get(loan.id)
    assert case is not None
    with pytest.raises(
        ConfigurationError, match="no registered rule pack covers jurisdiction 'US-NY'"
    ):
        guard.verdict(
            action=action, loan=loan, case=case, as_of=DPD1, at=new_york(DPD1, 10), history=()
        )


# -- the operator's explicit exception -------------------------------------------------


def test_unchecked_jurisdictions_let_contact_through_and_are_logged_at_start_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOG):
        world = World(
            at=new_york(DPD1, 3),  # 03:00 in New York: no rule to stop it
            rules=["rules-cn"],
            config={CONFIG_UNCHECKED: ["US"]},
        )
    started = [r.getMessage() for r in caplog.records]
    assert any(
        f"configuration '{CONFIG_UNCHECKED}': borrowers in US are contacted WITHOUT any "
        "compliance check" in m
        for m in started
    )
    loan = make_loan(us_borrower(), "L-US")  # US-NY: the country code covers it
    world.add(loan, DPD1)
    with caplog.at_level(logging.WARNING, logger=LOG):
        report = world.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked) == (2, 0)
    assert any("its contacts are NOT checked" in r.getMessage() for r in caplog.records)


def test_an_unchecked_jurisdiction_that_a_pack_covers_is_checked_all_the_same(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOG):
        world = World(at=beijing(DPD1, 23), rules=["rules-cn"], config={CONFIG_UNCHECKED: ["cn"]})
    assert any("CN is covered by a registered rule pack" in r.getMessage() for r in caplog.records)
    loan = make_loan(cn_borrower(), "L-CN")
    world.add(loan, DPD1)
    assert world.engine.run_cycle(DPD1).summary.rescheduled == 2  # CN-01 at 23:00


@pytest.mark.parametrize("value", ["US", ["United States"], [""], {"US": True}.items()])
def test_a_bad_unchecked_jurisdictions_configuration_is_refused_at_start_up(value: object) -> None:
    with pytest.raises(ConfigurationError, match=CONFIG_UNCHECKED):
        World(at=new_york(DPD1, 10), rules=["rules-cn"], config={CONFIG_UNCHECKED: value})


def test_with_no_pack_registered_at_all_nobody_is_contacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOG):
        world = World(at=beijing(DPD1, 10), rules=[])
    assert any("no rule pack is registered" in r.getMessage() for r in caplog.records)
    loan = make_loan(cn_borrower(), "L-CN")
    world.add(loan, DPD1)
    report = world.engine.run_cycle(DPD1)
    assert report.summary.sent == 0
    assert report.summary.blocked > 0
    assert all(r.startswith(NO_PACK) for r in blocked_reasons(world, loan))


def test_with_no_pack_the_explicit_wildcard_lets_made_up_borrowers_be_contacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOG):
        world = World(at=beijing(DPD1, 10), rules=[], config=dict(UNCHECKED_CONTACT))
    assert any("WITHOUT any compliance check" in r.getMessage() for r in caplog.records)
    world.add(make_loan(cn_borrower(), "L-CN"), DPD1)
    assert world.engine.run_cycle(DPD1).summary.sent > 0


# -- unknown zones ----------------------------------------------------------------------


def test_a_borrower_with_no_known_zone_is_blocked_naming_the_fix(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(at=new_york(DPD1, 10), rules=[], plugins=(XxRules(),))
    # UTC names no place, +1 800 is tied to no place, and XX has no zone in the tz database.
    lost = make_loan(borrower("XX", "UTC", "+1 800 555 0100"), "L-XX")
    placed = make_loan(
        attrs.evolve(borrower("XX", "Europe/Paris", "+33 1 42 68 53 00"), id="B-2"), "L-XX2"
    )
    world.add(lost, DPD1)
    world.add(placed, DPD1)
    with caplog.at_level(logging.WARNING, logger=LOG):
        report = world.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked) == (2, 2)
    for reasons in blocked_reasons(world, lost):
        assert reasons.startswith(
            f"{UNKNOWN_ZONE}: borrower B-US's time zone 'UTC' names no place and no candidate "
            "zone can be derived"
        )
        assert "record the borrower's IANA zone" in reasons
    assert blocked_reasons(world, placed) == []
    assert (
        len(
            [
                r
                for r in caplog.records
                if UNKNOWN_ZONE in r.getMessage() or "names no place" in r.getMessage()
            ]
        )
        == 1
    )


def test_a_utc_borrower_is_judged_in_every_zone_of_its_country() -> None:
    # No zone of its own, no geographic number: every US zone is a candidate, so the
    # day opens at 08:00 in Honolulu (13:00 in New York in February).
    world = World(at=new_york(DPD1, 10), rules=ALL_RULES)
    loan = make_loan(borrower("US-NY", "UTC", "+1 800 555 0100"), "L-US")
    world.add(loan, DPD1)
    report = world.engine.run_cycle(DPD1)
    assert report.summary.rescheduled == 2
    for moved in world.events(loan.id, EventKind.ACTION_RESCHEDULED):
        assert moved.payload.not_before == new_york(DPD1, 13)
        assert "Pacific/Honolulu" in (moved.payload.reasons or "")


def test_a_utc_borrower_in_gb_is_judged_in_london_time() -> None:
    # 06:30 UTC on 1 July is 07:30 BST: the firm's window (UK-04-WINDOW) opens at 08:00
    # London time, 07:00 UTC; judged in UTC it would have waited until 08:00 UTC.
    summer = dt.date(2025, 7, 1)
    world = World(
        at=pendulum.datetime(2025, 7, 1, 6, 30, tz="UTC"), rules=ALL_RULES, plugins=(PlansOneSms(),)
    )
    loan = make_loan(borrower("GB", "UTC", "+44 7700 900123"), "L-GB")
    world.add(loan, summer)
    world.engine.review(summer)
    moved = [
        e
        for e in world.events(loan.id, EventKind.ACTION_RESCHEDULED)
        if e.payload.rule == "acme.statement"
    ]
    assert len(moved) == 1
    assert "UK-04-WINDOW: outside the allowed hours in Europe/London" in (
        moved[0].payload.reasons or ""
    )
    assert moved[0].payload.not_before == pendulum.datetime(2025, 7, 1, 7, tz="UTC")


# -- phone numbers place the borrower ---------------------------------------------------


def test_a_utc_borrower_with_a_new_york_number_is_not_called_at_7_est() -> None:
    first = dt.date(2025, 2, 20)  # DPD 10: early collection, a call a day
    world = World(at=new_york(first, 7), rules=ALL_RULES, strategy=daily_calls())
    loan = make_loan(borrower("US-NY", "UTC", "+1 212 555 0100"), "L-US")  # 12:00 UTC
    world.add(loan, first)
    report = world.engine.review(first)
    assert report.summary.rescheduled == 1
    (moved,) = world.events(loan.id, EventKind.ACTION_RESCHEDULED)
    assert moved.payload.channel == "phone"
    assert "US-01: outside the allowed hours in America/New_York" in (moved.payload.reasons or "")
    # The number's zone, not the whole country: the window opens at 08:00 in New York.
    assert moved.payload.not_before == new_york(first, 8)


def test_a_number_in_another_zone_narrows_a_known_zone_borrower_window() -> None:
    # Address in New York, number in Los Angeles (12 CFR 1006.6(b)(1)(i), comment
    # 6(b)(1)(i)-1): 09:00 in New York is 06:00 in Los Angeles.
    first = dt.date(2025, 2, 20)
    world = World(at=new_york(first, 9), rules=ALL_RULES, strategy=daily_calls())
    loan = make_loan(borrower("US-NY", "America/New_York", "+1 213 555 0100"), "L-US")
    world.add(loan, first)
    world.engine.review(first)
    (moved,) = world.events(loan.id, EventKind.ACTION_RESCHEDULED)
    assert "America/Los_Angeles" in (moved.payload.reasons or "")
    assert moved.payload.not_before == new_york(first, 11)


def test_a_number_tied_to_no_place_adds_no_zone() -> None:
    first = dt.date(2025, 2, 20)
    world = World(at=new_york(first, 9), rules=ALL_RULES, strategy=daily_calls())
    loan = make_loan(borrower("US-NY", "America/New_York", "+1 800 555 0100"), "L-US")
    world.add(loan, first)
    assert world.engine.review(first).summary.rescheduled == 0


@pytest.mark.parametrize(
    ("number", "zones"),
    [
        ("+1 212 555 0100", ("America/New_York",)),
        ("+1 213 555 0100", ("America/Los_Angeles",)),
        ("+86 138 0013 8000", ("Asia/Shanghai",)),
        ("+44 20 7946 0958", ("Europe/London",)),
        ("+1 800 555 0100", ()),  # toll-free: every North American zone, i.e. no place
        ("+44 7700 900123", ()),  # a UK mobile is tied to no place
        ("+1 212 1234 0001", ()),  # not a valid number
        ("212 555 0100", ()),  # no country code
    ],
)
def test_phone_zones_are_those_of_geographic_numbers(number: str, zones: tuple[str, ...]) -> None:
    assert phone_zones(ContactPoint(ContactKind.PHONE, number)) == zones


def test_jurisdiction_zones_come_from_the_tz_database() -> None:
    assert jurisdiction_zones("GB-ENG") == ("Europe/London",)
    assert "Pacific/Honolulu" in jurisdiction_zones("US-NY")
    assert "America/New_York" in jurisdiction_zones("US")
    assert jurisdiction_zones("UK") == jurisdiction_zones("XX") == ()


# -- a pack that cannot decide ----------------------------------------------------------


def test_a_pack_that_fails_while_judging_blocks_the_contact(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(at=new_york(DPD1, 10), rules=[], plugins=(XxRules(failing=True),))
    loan = make_loan(borrower("XX", "Europe/Paris", "+33 1 42 68 53 00"), "L-XX")
    world.add(loan, DPD1)
    with caplog.at_level(logging.WARNING, logger=LOG):
        report = world.engine.run_cycle(DPD1)
    assert (report.summary.sent, report.summary.blocked, report.summary.errors) == (0, 2, 0)
    for reasons in blocked_reasons(world, loan):
        assert reasons == (
            f"{UNDECIDED}: rule packs xx-test could not judge the contact (RuntimeError: the "
            "rule's table has no entry for this case), so it is not made"
        )
    assert len([r for r in caplog.records if "could not judge" in r.getMessage()]) == 1


class PlansOneSms:
    """Plans one statement SMS a day to the borrower's first phone."""

    def plan(self, loan: Loan, as_of: dt.date) -> PlannedAction:
        return PlannedAction(
            loan_id=loan.id,
            rule_id="acme.statement",
            stage="current",
            channel="sms",
            template="reminder",
            tone=Tone.REMINDER,
            as_of=as_of,
            locale=loan.borrower.locale,
            idempotency_key=idempotency_key(loan.id, "acme.statement", as_of),
            contact=loan.borrower.contacts(ContactKind.PHONE)[0],
        )

    @hookimpl
    def loancollect_plan_actions(self, loan: Loan, case: Case, as_of: dt.date) -> list[object]:
        return [self.plan(loan, as_of)]
