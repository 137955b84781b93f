"""Golden limitation dates at every boundary: month ends, leap days, holiday last days,
interruptions on the last day, suspension, filing, revival."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancollect.domain.errors import ValidationError
from loancollect.domain.legal import (
    ENGLAND_WALES,
    PRC,
    US_STATES,
    DebtType,
    LimitationEvent,
    LimitationEventKind,
    Suspension,
    assess,
    court_calendar,
    regime_for,
)

D = dt.date
CN = court_calendar("CN")
ENG = court_calendar("GB-ENG")
K = LimitationEventKind


def prc(accrued: dt.date, *events: LimitationEvent, **kw: object) -> dt.date:
    return assess(PRC, accrued, events, calendar=CN, **kw).expires_on  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("accrued", "last_day"),
    [
        (D(2020, 3, 10), D(2023, 3, 10)),  # a plain Friday: the corresponding day
        (D(2021, 1, 31), D(2024, 1, 31)),  # month end with a corresponding day
        (D(2020, 2, 29), D(2023, 2, 28)),  # leap day: no corresponding day -> month end (art. 202)
        (D(2021, 2, 28), D(2024, 2, 28)),  # from a non-leap month end into a leap year: the 28th
        (D(2024, 2, 29), D(2027, 3, 1)),  # 28 Feb 2027 is a Sunday -> Monday (art. 203)
        (D(2021, 10, 1), D(2024, 10, 8)),  # National Day holiday 1-7 Oct 2024 -> the day after
        (D(2022, 5, 1), D(2025, 5, 6)),  # Labour Day holiday 1-5 May 2025
        (D(2022, 9, 28), D(2025, 9, 28)),  # a Sunday that is a make-up working day (调休): stays
    ],
)
def test_prc_three_years_from_the_corresponding_day_rolled_off_holidays(
    accrued: dt.date, last_day: dt.date
) -> None:
    assert prc(accrued) == last_day


def test_prc_result_cites_art_188_and_the_holiday_roll() -> None:
    result = assess(PRC, D(2021, 10, 1), calendar=CN)
    sources = [c.source for c in result.citations]
    assert sources[0].startswith("PRC Civil Code art. 188")
    assert any("art. 203" in s for s in sources)
    assert "2024-10-08" in result.explain()


def test_prc_demand_delivered_on_the_last_day_restarts_the_period() -> None:
    demand = LimitationEvent(kind=K.DEMAND_DELIVERED, on=D(2023, 3, 10), data_message=True)
    assert prc(D(2020, 3, 10), demand) == D(2026, 3, 10)


def test_prc_demand_delivered_the_day_after_the_last_day_is_too_late() -> None:
    demand = LimitationEvent(kind=K.DEMAND_DELIVERED, on=D(2023, 3, 11), data_message=True)
    result = assess(PRC, D(2020, 3, 10), [demand], calendar=CN)
    assert result.expires_on == D(2023, 3, 10)
    assert not result.barred_on(D(2023, 3, 10))
    assert result.barred_on(D(2023, 3, 11))


def test_prc_demand_on_the_rolled_last_day_after_a_holiday_still_interrupts() -> None:
    demand = LimitationEvent(kind=K.DEMAND_DELIVERED, on=D(2024, 10, 8), written=True)
    assert prc(D(2021, 10, 1), demand) == D(2027, 10, 8)


def test_prc_part_payment_and_acknowledgment_restart() -> None:
    pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2021, 6, 30))
    ack = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2022, 1, 31))
    assert prc(D(2020, 3, 10), pay) == D(2024, 7, 1)  # 30 Jun 2024 is a Sunday
    assert prc(D(2020, 3, 10), pay, ack) == D(2025, 2, 5)  # 31 Jan 2025: Spring Festival


def test_prc_acknowledgment_after_expiry_revives_but_payment_or_demand_does_not() -> None:
    late_ack = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2024, 3, 11))
    late_pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2024, 3, 11))
    late_demand = LimitationEvent(kind=K.DEMAND_DELIVERED, on=D(2024, 3, 11), written=True)
    assert prc(D(2020, 3, 10), late_ack) == D(2027, 3, 11)
    assert prc(D(2020, 3, 10), late_pay) == D(2023, 3, 10)
    assert prc(D(2020, 3, 10), late_demand) == D(2023, 3, 10)


def test_prc_suspension_in_the_last_six_months_ends_six_months_after_the_cause() -> None:
    pause = Suspension(start=D(2022, 12, 1), end=D(2023, 1, 15), reason="force majeure")
    # 15 Jul 2023 is a Saturday -> Monday 17 Jul.
    assert prc(D(2020, 3, 10), suspensions=[pause]) == D(2023, 7, 17)


def test_prc_suspension_that_ended_before_the_last_six_months_changes_nothing() -> None:
    pause = Suspension(start=D(2022, 1, 1), end=D(2022, 3, 1), reason="force majeure")
    assert prc(D(2020, 3, 10), suspensions=[pause]) == D(2023, 3, 10)


def test_prc_suspension_ending_on_the_window_edge_counts() -> None:
    # The window opens on 10 Sep 2022 (six months before 10 Mar 2023).
    pause = Suspension(start=D(2022, 8, 1), end=D(2022, 9, 10), reason="force majeure")
    assert prc(D(2020, 3, 10), suspensions=[pause]) == D(2023, 3, 10)  # 10 Mar: not later
    pause = Suspension(start=D(2022, 8, 1), end=D(2022, 9, 30), reason="force majeure")
    assert prc(D(2020, 3, 10), suspensions=[pause]) == D(2023, 3, 30)


def test_prc_filing_in_time_leaves_the_period_pending() -> None:
    filing = LimitationEvent(kind=K.FILING, on=D(2023, 3, 10), written=True)
    result = assess(PRC, D(2020, 3, 10), [filing], calendar=CN)
    assert result.pending
    assert not result.barred_on(D(2030, 1, 1))


def test_events_after_until_are_ignored() -> None:
    demand = LimitationEvent(kind=K.DEMAND_DELIVERED, on=D(2023, 3, 1), written=True)
    assert prc(D(2020, 3, 10), demand, until=D(2023, 2, 28)) == D(2023, 3, 10)


def test_regime_that_rolls_needs_a_calendar() -> None:
    with pytest.raises(ValidationError, match="calendar"):
        assess(PRC, D(2020, 3, 10))


def test_suspension_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"suspension\.end"):
        Suspension(start=D(2022, 3, 1), end=D(2022, 2, 1), reason="x")


# -- England and Wales ---------------------------------------------------------------


def ew(accrued: dt.date, *events: LimitationEvent) -> dt.date:
    return assess(ENGLAND_WALES, accrued, events, calendar=ENG).expires_on


@pytest.mark.parametrize(
    ("accrued", "last_day"),
    [
        (D(2020, 3, 10), D(2026, 3, 10)),
        (D(2020, 2, 29), D(2026, 3, 2)),  # 28 Feb 2026 is a Saturday -> Monday
        (D(2020, 12, 25), D(2026, 12, 29)),  # Christmas, weekend, Boxing Day substitute
        (D(2019, 8, 31), D(2025, 9, 1)),  # 31 Aug 2025 Sunday; no bank holiday on 1 Sep
    ],
)
def test_england_six_years_s5(accrued: dt.date, last_day: dt.date) -> None:
    assert ew(accrued) == last_day


def test_england_a_demand_never_restarts_the_period() -> None:
    demand = LimitationEvent(kind=K.DEMAND_DELIVERED, on=D(2025, 1, 6), written=True)
    assert ew(D(2020, 3, 10), demand) == D(2026, 3, 10)


def test_england_only_a_written_acknowledgment_restarts_s29_5() -> None:
    oral = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2024, 3, 11))
    written = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2024, 3, 11), written=True)
    assert ew(D(2020, 3, 10), oral) == D(2026, 3, 10)
    assert ew(D(2020, 3, 10), written) == D(2030, 3, 11)


def test_england_part_payment_on_the_last_day_restarts() -> None:
    pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2026, 3, 10))
    assert ew(D(2020, 3, 10), pay) == D(2032, 3, 10)


def test_england_nothing_revives_an_expired_debt_s29_7() -> None:
    pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2026, 3, 11))
    ack = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2026, 3, 11), written=True)
    assert ew(D(2020, 3, 10), pay, ack) == D(2026, 3, 10)


# -- United States ---------------------------------------------------------------------


def us(
    state: str,
    accrued: dt.date,
    *events: LimitationEvent,
    debt: DebtType = DebtType.WRITTEN_CONTRACT,
) -> dt.date:
    regime = regime_for(f"US-{state}", debt)
    assert regime is not None
    return assess(regime, accrued, events).expires_on


def test_us_periods_by_state_and_debt_type() -> None:
    assert us("CA", D(2020, 2, 29)) == D(2024, 2, 29)  # leap day to leap day
    assert us("NY", D(2020, 2, 29)) == D(2023, 2, 28)
    assert us("IL", D(2020, 3, 10)) == D(2030, 3, 10)
    assert us("IL", D(2020, 3, 10), debt=DebtType.OPEN_ACCOUNT) == D(2025, 3, 10)
    assert us("FL", D(2020, 3, 10), debt=DebtType.OPEN_ACCOUNT) == D(2024, 3, 10)


def test_us_new_york_consumer_debt_is_not_revived_by_payment_or_acknowledgment() -> None:
    pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2022, 3, 10))
    ack = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2022, 3, 10), written=True)
    assert us("NY", D(2020, 3, 10), pay, ack) == D(2023, 3, 10)


def test_us_texas_written_acknowledgment_restarts_payment_does_not() -> None:
    pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2022, 3, 10))
    ack = LimitationEvent(kind=K.ACKNOWLEDGMENT, on=D(2025, 3, 10), written=True)
    assert us("TX", D(2020, 3, 10), pay) == D(2024, 3, 10)
    assert us("TX", D(2020, 3, 10), ack) == D(2029, 3, 10)  # after expiry: revived


def test_us_illinois_part_payment_revives() -> None:
    pay = LimitationEvent(kind=K.PART_PAYMENT, on=D(2026, 1, 5))
    assert us("IL", D(2020, 3, 10), pay, debt=DebtType.OPEN_ACCOUNT) == D(2031, 1, 5)


def test_us_table_has_every_debt_type_for_every_state_with_a_source() -> None:
    states = {row.state for row in US_STATES}
    assert len(states) == 15
    for state in states:
        for debt in DebtType:
            regime = regime_for(f"US-{state}", debt)
            assert regime is not None
            assert regime.period.source
    assert all(row.source and row.revival_source for row in US_STATES)


def test_uncovered_jurisdictions_have_no_regime() -> None:
    assert regime_for("US-ZZ") is None
    assert regime_for("GB-SCT") is None
    assert regime_for("FR") is None
    assert regime_for("GB") is ENGLAND_WALES
    assert regime_for("CN-44") is PRC


# -- invariants ------------------------------------------------------------------------

DAYS = st.dates(min_value=D(2015, 1, 1), max_value=D(2026, 12, 31))
KINDS = st.sampled_from(list(LimitationEventKind))


@settings(max_examples=60, deadline=None)
@given(
    accrued=DAYS,
    events=st.lists(
        st.builds(
            LimitationEvent,
            kind=KINDS,
            on=DAYS,
            written=st.booleans(),
            data_message=st.booleans(),
        ),
        max_size=4,
    ),
)
def test_events_never_shorten_a_period_and_it_ends_on_a_working_day(
    accrued: dt.date, events: list[LimitationEvent]
) -> None:
    for regime, calendar in ((PRC, CN), (ENGLAND_WALES, ENG)):
        plain = assess(regime, accrued, calendar=calendar)
        result = assess(regime, accrued, events, calendar=calendar)
        assert result.expires_on >= plain.expires_on
        assert calendar is not None
        assert calendar.is_business_day(result.expires_on)
        assert result.steps[0].citation == regime.period
