"""Contact-time optimisation never leaves what the law allows."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loancollect_scoring.timing import (
    ContactTimeBandit,
    LoggedContact,
    Slot,
    compliance_judge,
    ips_value,
    lawful_slots,
    replay_value,
)

from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.compliance.engine import Outcome, check, select_packs
from loancollect.domain.compliance.model import (
    BorrowerFacts,
    ContactEvent,
    DebtFacts,
    LocationCandidate,
    ProposedContact,
)
from loancollect.errors import ValidationError
from loancollect.plugins import make_plugin_manager
from loancollect.registry import rule_packs

PACKS = tuple(rule_packs(make_plugin_manager(load_entrypoints=True)).values())
PLACES = {
    "CN": ("Asia/Shanghai",),
    "US": ("America/New_York", "America/Los_Angeles"),
    "GB": ("Europe/London",),
}
SLOTS = tuple(Slot(channel=m, hour=h) for m in (Medium.CALL, Medium.SMS) for h in range(24))


@settings(max_examples=40, deadline=None)
@given(
    country=st.sampled_from(sorted(PLACES)),
    zone_pick=st.integers(0, 1),
    day=st.dates(dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
    calls_today=st.integers(0, 8),
    history=st.lists(st.tuples(st.sampled_from(SLOTS), st.booleans()), max_size=30),
    seed=st.integers(0, 10_000),
)
def test_every_slot_the_bandit_picks_is_allowed_by_the_rule_packs(
    country: str,
    zone_pick: int,
    day: dt.date,
    calls_today: int,
    history: list[tuple[Slot, bool]],
    seed: int,
) -> None:
    zones = PLACES[country]
    zone = zones[zone_pick % len(zones)]
    borrower = BorrowerFacts(
        id="B1", jurisdiction=country, location_candidates=(LocationCandidate(zone),)
    )
    debt = DebtFacts(id="D1")
    packs = select_packs(PACKS, country)
    # earlier attempts today count toward the caps
    morning = pendulum.datetime(day.year, day.month, day.day, 0, 5, tz=zone)
    past = [
        ContactEvent(
            at=morning.add(minutes=i), channel=Medium.CALL, target_id="B1", debt_ids={"D1"}
        )
        for i in range(calls_today)
    ]
    bandit = ContactTimeBandit(seed=seed)
    for slot, reached in history:
        bandit.update("forgetful", slot, reached=reached)
    allowed = lawful_slots(day, zone, SLOTS, compliance_judge(borrower, debt, past, packs))
    picked = bandit.choose("forgetful", allowed)
    if picked is None:
        assert allowed == ()
        return
    at = pendulum.datetime(day.year, day.month, day.day, picked.hour, tz=zone)
    verdict = check(
        ProposedContact(at=at, channel=picked.channel, target_id="B1", debt_ids={"D1"}),
        borrower,
        debt,
        past,
        packs,
    )
    assert verdict.outcome is Outcome.ALLOWED, (picked, verdict)


def test_nothing_is_allowed_without_a_rule_pack() -> None:
    borrower = BorrowerFacts(
        id="B1", jurisdiction="CN", location_candidates=(LocationCandidate("Asia/Shanghai"),)
    )
    judge = compliance_judge(borrower, DebtFacts(id="D1"), (), ())
    assert lawful_slots(dt.date(2025, 6, 2), "Asia/Shanghai", SLOTS, judge) == ()


def test_night_hours_are_never_candidates_in_china() -> None:
    borrower = BorrowerFacts(
        id="B1", jurisdiction="CN", location_candidates=(LocationCandidate("Asia/Shanghai"),)
    )
    judge = compliance_judge(borrower, DebtFacts(id="D1"), (), select_packs(PACKS, "CN"))
    hours = {s.hour for s in lawful_slots(dt.date(2025, 6, 2), "Asia/Shanghai", SLOTS, judge)}
    assert hours
    assert not hours & {0, 1, 2, 3, 4, 5, 6, 22, 23}


def test_the_bandit_learns_the_slot_that_reaches_people() -> None:
    bandit = ContactTimeBandit(seed=1)
    good, bad = Slot(channel=Medium.CALL, hour=19), Slot(channel=Medium.CALL, hour=10)
    for i in range(200):
        bandit.update("forgetful", good, reached=i % 2 == 0)  # 50 %
        bandit.update("forgetful", bad, reached=i % 10 == 0)  # 10 %
    picks = [bandit.choose("forgetful", (good, bad)) for _ in range(200)]
    assert picks.count(good) > 190
    assert bandit.rate("forgetful", good) == pytest.approx(101 / 202)


def _log(seed: int) -> list[LoggedContact]:
    import random

    rng = random.Random(seed)
    slots = tuple(Slot(channel=Medium.CALL, hour=h) for h in (9, 13, 19))
    rates = {9: 0.1, 13: 0.2, 19: 0.5}
    out = []
    for _ in range(6000):
        slot = rng.choice(slots)  # the logging policy: uniform among the allowed slots
        out.append(
            LoggedContact(
                segment="s",
                slot=slot,
                reached=rng.random() < rates[slot.hour],
                allowed=slots,
                propensity=1 / 3,
            )
        )
    return out


def test_offline_evaluation_estimates_a_policy_before_it_is_switched_on() -> None:
    log = _log(4)
    always_evening = ips_value(lambda c: 1.0 if c.slot.hour == 19 else 0.0, log)
    assert always_evening == pytest.approx(0.5, abs=0.05)
    value, matched = replay_value(ContactTimeBandit(seed=2), log)
    assert matched > 1000
    assert value > 0.35  # the learning policy ends up mostly in the evening slot


def test_a_logged_propensity_outside_0_1_is_refused() -> None:
    log = _log(1)[:3]
    bad = [
        *log[:2],
        LoggedContact(
            segment="s", slot=log[2].slot, reached=True, allowed=log[2].allowed, propensity=0
        ),
    ]
    with pytest.raises(ValidationError, match=r"log\[2\]\.propensity"):
        ips_value(lambda c: 1.0, bad)


def test_an_hour_outside_the_day_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"slot\.hour"):
        Slot(channel=Medium.CALL, hour=24)
