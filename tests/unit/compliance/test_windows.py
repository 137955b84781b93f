"""Local-time windows: half-open bounds, every candidate zone, DST gaps and overlaps."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from tests.unit.compliance.builders import LA, NY, at, borrower, call, debt, event, info

from loancollect.domain.calendar import business_calendar
from loancollect.domain.compliance import (
    Channel,
    Consent,
    ConsentScope,
    ContactWindow,
    Direction,
    LocalTimeRange,
    LocationCandidate,
    LocationSource,
    Outcome,
    StatedTimes,
    WeeklyTimes,
    check,
)
from loancollect.domain.compliance.localtime import entry_points, first_at_or_after

US_WINDOW = ContactWindow(
    info=info("WIN"), allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(21)))]
)
CN_WINDOW = ContactWindow(
    info=info("CN"),
    allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(22)))],
    zones=("Asia/Shanghai",),
)


@pytest.mark.parametrize(
    ("hour", "minute", "outcome"),
    [
        (7, 59, Outcome.RESCHEDULED),
        (8, 0, Outcome.ALLOWED),
        (20, 59, Outcome.ALLOWED),
        (21, 0, Outcome.RESCHEDULED),
    ],
)
def test_window_is_half_open_at_0800_and_2100(hour: int, minute: int, outcome: Outcome) -> None:
    v = check(call(at(2024, 6, 3, hour, minute)), borrower(), debt(), [], US_WINDOW)
    assert v.outcome is outcome


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(7, 59, False), (8, 0, True), (21, 59, True), (22, 0, False)],
)
def test_beijing_window_boundaries_2159_2200_0759_0800(
    hour: int, minute: int, allowed: bool
) -> None:
    when = pendulum.datetime(2025, 3, 3, hour, minute, tz="Asia/Shanghai")
    v = check(call(when), borrower("Asia/Shanghai"), debt(), [], CN_WINDOW)
    assert v.allowed is allowed


def test_blocked_evening_contact_is_rescheduled_to_next_morning_0800() -> None:
    v = check(call(at(2024, 6, 3, 21, 0)), borrower(), debt(), [], US_WINDOW)
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 4, 8, 0)
    assert v.rule_ids == ("WIN",)
    assert v.reasons[0].citation == "test"


def test_area_code_and_address_in_different_zones_allow_only_the_intersection() -> None:
    b = borrower(NY, LA)
    # 10:00 New York is 07:00 Los Angeles: blocked until 08:00 LA = 11:00 NY
    v = check(call(at(2024, 6, 3, 10, 0)), b, debt(), [], US_WINDOW)
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 3, 11, 0)
    # 18:00 LA is 21:00 NY: blocked in New York
    late = check(call(at(2024, 6, 3, 18, 0, tz=LA)), b, debt(), [], US_WINDOW)
    assert late.outcome is Outcome.RESCHEDULED
    assert late.earliest == at(2024, 6, 4, 11, 0)
    assert check(call(at(2024, 6, 3, 11, 0)), b, debt(), [], US_WINDOW).allowed
    assert check(call(at(2024, 6, 3, 20, 59)), b, debt(), [], US_WINDOW).allowed
    assert check(call(at(2024, 6, 3, 21, 0)), b, debt(), [], US_WINDOW).allowed is False
    assert check(call(at(2024, 6, 3, 10, 59)), b, debt(), [], US_WINDOW).allowed is False


def test_stated_location_overrides_inferred_candidates() -> None:
    b = borrower(
        location_candidates=[
            LocationCandidate(NY, LocationSource.ADDRESS),
            LocationCandidate(LA, LocationSource.AREA_CODE),
            LocationCandidate(NY, LocationSource.STATED),
        ]
    )
    assert b.zones == (NY,)
    assert check(call(at(2024, 6, 3, 10, 0)), b, debt(), [], US_WINDOW).allowed


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        (pendulum.datetime(2024, 3, 10, 7, 59, tz=NY), False),
        (pendulum.datetime(2024, 3, 10, 8, 0, tz=NY), True),
        (pendulum.datetime(2024, 3, 10, 20, 59, tz=NY), True),
        (pendulum.datetime(2024, 3, 10, 21, 0, tz=NY), False),
        (pendulum.datetime(2024, 11, 3, 7, 59, tz=NY), False),
        (pendulum.datetime(2024, 11, 3, 8, 0, tz=NY), True),
        (pendulum.datetime(2024, 11, 3, 21, 0, tz=NY), False),
    ],
)
def test_window_on_dst_spring_forward_and_fall_back_days(
    local: pendulum.DateTime, allowed: bool
) -> None:
    assert check(call(local), borrower(), debt(), [], US_WINDOW).allowed is allowed


def test_reschedule_across_spring_forward_lands_on_local_0800() -> None:
    # Sat 9 Mar 2024 22:00 EST; the next opening is Sun 10 Mar 08:00 EDT = 12:00 UTC
    v = check(call(at(2024, 3, 9, 22, 0)), borrower(), debt(), [], US_WINDOW)
    assert v.earliest == pendulum.datetime(2024, 3, 10, 12, 0, tz="UTC")
    assert v.earliest is not None
    assert v.earliest.in_timezone(NY).hour == 8


def test_reschedule_across_fall_back_lands_on_local_0800() -> None:
    v = check(call(at(2024, 11, 2, 23, 0)), borrower(), debt(), [], US_WINDOW)
    assert v.earliest == pendulum.datetime(2024, 11, 3, 13, 0, tz="UTC")


def test_window_opening_inside_a_dst_gap_opens_at_the_transition() -> None:
    window = ContactWindow(
        info=info("GAP"), allowed=[WeeklyTimes(LocalTimeRange(dt.time(2, 30), dt.time(21)))]
    )
    v = check(call(at(2024, 3, 10, 1, 0)), borrower(), debt(), [], window)
    # 02:30 does not exist on 10 Mar 2024 in New York: the wall clock jumps 02:00 -> 03:00
    assert v.earliest == pendulum.datetime(2024, 3, 10, 7, 0, tz="UTC")
    assert first_at_or_after(dt.date(2024, 3, 10), dt.time(2, 30), NY) == v.earliest


def test_wall_time_in_a_fall_back_overlap_has_two_entry_points() -> None:
    points = entry_points(dt.date(2024, 11, 3), dt.time(1, 30), NY)
    assert [p.hour for p in points] == [5, 6]


def test_holiday_ranges_apply_on_public_holidays() -> None:
    window = ContactWindow(
        info=info("HOL"),
        allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(21)))],
        holidays=business_calendar("US"),
        holiday_ranges=(),
    )
    v = check(call(at(2024, 7, 4, 12)), borrower(), debt(), [], window)
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 7, 5, 8)


def test_quiet_dates_are_treated_as_holidays() -> None:
    window = ContactWindow(
        info=info("Q"),
        allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(21)))],
        quiet_dates=frozenset({dt.date(2024, 6, 3)}),
        holiday_ranges=(),
    )
    assert check(call(at(2024, 6, 3, 12)), borrower(), debt(), [], window).earliest == at(
        2024, 6, 4, 8
    )


def test_outside_hours_consent_lifts_the_window_only_while_valid() -> None:
    consent = Consent(
        scope=ConsentScope.OUTSIDE_HOURS,
        given_at=at(2024, 6, 1, 10),
        valid_until=at(2024, 6, 5, 0),
    )
    history = [event(at(2024, 6, 1, 10), direction=Direction.INBOUND, consent=consent)]
    assert check(call(at(2024, 6, 3, 22)), borrower(), debt(), history, US_WINDOW).allowed
    late = check(call(at(2024, 6, 5, 22)), borrower(), debt(), history, US_WINDOW)
    assert late.outcome is Outcome.RESCHEDULED


def test_consent_from_another_person_does_not_lift_the_window() -> None:
    consent = Consent(scope=ConsentScope.OUTSIDE_HOURS, given_at=at(2024, 6, 1, 10))
    history = [event(at(2024, 6, 1, 10), target_id="sister", consent=consent)]
    assert not check(call(at(2024, 6, 3, 22)), borrower(), debt(), history, US_WINDOW).allowed


def test_window_for_one_channel_ignores_others() -> None:
    window = ContactWindow(
        info=info("W"),
        allowed=[WeeklyTimes(LocalTimeRange(dt.time(8), dt.time(21)))],
        channels=frozenset({Channel.CALL}),
    )
    assert check(
        call(at(2024, 6, 3, 23), channel=Channel.LETTER), borrower(), debt(), [], window
    ).allowed


def test_weekday_windows_skip_days_without_a_window() -> None:
    window = ContactWindow(
        info=info("WD"),
        allowed=[WeeklyTimes(LocalTimeRange(dt.time(9), dt.time(17)), weekdays=range(5))],
    )
    v = check(call(at(2024, 6, 8, 12)), borrower(), debt(), [], window)  # Saturday
    assert v.earliest == at(2024, 6, 10, 9)


STATED = StatedTimes(info=info("ST"))


def test_stated_inconvenient_time_blocks_until_it_ends() -> None:
    b = borrower(
        stated_inconvenient_times=[WeeklyTimes(LocalTimeRange(dt.time(9), dt.time(17)), range(5))]
    )
    v = check(call(at(2024, 6, 3, 10)), b, debt(), [], STATED)
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 3, 17)
    assert check(call(at(2024, 6, 8, 10)), b, debt(), [], STATED).allowed


def test_one_same_medium_reply_to_a_borrower_initiated_contact_is_allowed() -> None:
    b = borrower(stated_inconvenient_times=[WeeklyTimes(LocalTimeRange(dt.time(9), dt.time(17)))])
    inbound = [event(at(2024, 6, 3, 9, 30), direction=Direction.INBOUND, channel=Channel.SMS)]
    reply = call(at(2024, 6, 3, 10), channel=Channel.SMS)
    assert check(reply, b, debt(), inbound, STATED).allowed
    replied = [*inbound, event(at(2024, 6, 3, 9, 40), channel=Channel.SMS)]
    assert not check(reply, b, debt(), replied, STATED).allowed
    assert not check(call(at(2024, 6, 3, 10)), b, debt(), inbound, STATED).allowed
