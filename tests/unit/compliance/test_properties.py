"""Properties: ALLOWED never breaks a window or a cap; a RESCHEDULED time is itself ALLOWED.

Histories and instants are drawn around the 2024 DST changes, in zones with and
without DST, with one or two candidate zones. The oracle re-computes the rules
independently with the standard library.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.compliance.builders import borrower, call, debt, event, info

from loancollect.domain.compliance import (
    ContactEvent,
    ContactWindow,
    ConversationCooldown,
    Count,
    FrequencyCap,
    LocalTimeRange,
    Outcome,
    WeeklyTimes,
    check,
)

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Phoenix",
    "Europe/London",
    "Asia/Shanghai",
    "America/Santiago",
]
BASES = [
    pendulum.datetime(2024, 3, 6, tz="UTC"),
    pendulum.datetime(2024, 10, 30, tz="UTC"),
    pendulum.datetime(2024, 3, 27, tz="UTC"),
]

RULES = [
    ContactWindow(info=info("WIN"), allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(21)))]),
    FrequencyCap(info=info("F7"), cap=7, days=7, exclude_not_connected=True),
    ConversationCooldown(info=info("C7"), days=7),
    FrequencyCap(info=info("D3"), cap=3, days=1, count=Count.CONVERSATIONS, per_debt=False),
]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[pendulum.DateTime, list[str], list[ContactEvent]]:
    base = draw(st.sampled_from(BASES))
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True))
    minutes = st.integers(min_value=0, max_value=14 * 24 * 60)
    history = [
        event(
            base + dt.timedelta(minutes=draw(minutes)),
            connected=draw(st.booleans()),
            conversation=draw(st.booleans()),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=14)))
    ]
    when = base + dt.timedelta(minutes=draw(minutes))
    return when, zones, history


def _local(instant: dt.datetime, zone: str) -> dt.datetime:
    return instant.astimezone(ZoneInfo(zone))


def _violations(instant: dt.datetime, zones: list[str], history: list[ContactEvent]) -> list[str]:
    out = []
    for zone in zones:
        here = _local(instant, zone)
        if not dt.time(8) <= here.time() < dt.time(21):
            out.append(f"window {zone}")
        day = here.date()
        dates = [_local(e.at, zone).date() for e in history]
        week = [
            d
            for d, e in zip(dates, history, strict=True)
            if e.connected and day - dt.timedelta(days=6) <= d <= day
        ]
        if len(week) + 1 > 7:
            out.append(f"7-in-7 {zone}")
        convs = [d for d, e in zip(dates, history, strict=True) if e.conversation]
        if any(day - dt.timedelta(days=6) <= d <= day for d in convs):
            out.append(f"cooldown {zone}")
        if sum(1 for d in convs if d == day) + 1 > 3:
            out.append(f"daily cap {zone}")
    return out


@given(scenarios())
def test_allowed_never_falls_in_a_forbidden_window_or_over_a_cap(
    scenario: tuple[pendulum.DateTime, list[str], list[ContactEvent]],
) -> None:
    when, zones, history = scenario
    v = check(call(when), borrower(*zones), debt(), history, RULES)
    violations = _violations(when, zones, history)
    assert v.allowed == (not violations), (v, violations)


@given(scenarios())
def test_the_earliest_instant_of_a_rescheduled_verdict_is_itself_allowed(
    scenario: tuple[pendulum.DateTime, list[str], list[ContactEvent]],
) -> None:
    when, zones, history = scenario
    v = check(call(when), borrower(*zones), debt(), history, RULES)
    if v.outcome is Outcome.RESCHEDULED:
        assert v.earliest is not None
        assert v.earliest > when
        assert _violations(v.earliest, zones, history) == []
        assert check(call(v.earliest), borrower(*zones), debt(), history, RULES).allowed
        # and it is the earliest: one second before still fails
        before = v.earliest - dt.timedelta(seconds=1)
        if before >= when:
            assert _violations(before, zones, history) != []
