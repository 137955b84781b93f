"""Fineract delinquency parity: pause and resume (its day counting), per-installment
delinquency ranges with range-change events, and the loan status the host sets."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.decisions.peers import FIRST_DUE, SECOND_DUE, command, day, kinds, run

from loancollect.domain.case import Case
from loancollect.domain.commands import PauseDelinquency, ResumeDelinquency, SetLoanStatus
from loancollect.domain.delinquency import (
    DelinquencyPause,
    DelinquencyRange,
    LoanStatus,
    paused_days,
)
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import DelinquencyRangeChanged, EventKind
from loancollect.domain.policy import Condition, Stage, StagePolicy

POLICY = StagePolicy(
    name="fineract",
    stages=(
        Stage(name="d1", rank=1, entry=Condition(min_dpd=1)),
        Stage(name="d30", rank=2, entry=Condition(min_dpd=30)),
    ),
)
RANGES = StagePolicy(
    name="buckets",
    stages=POLICY.stages,
    delinquency_ranges=(
        DelinquencyRange(name="1-3", min_days=1, max_days=3),
        DelinquencyRange(name="4-30", min_days=4, max_days=30),
        DelinquencyRange(name="31+", min_days=31),
    ),
)


def test_a_pause_takes_its_days_off_from_the_day_after_its_start_through_its_end() -> None:
    # getPausedDaysBeforeDate: end - start for a closed pause, as_of - start for a running one
    since = dt.date(2025, 2, 15)
    pause = DelinquencyPause(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 11))
    assert paused_days([pause], since, dt.date(2025, 3, 1)) == 0  # the first day still counts
    assert paused_days([pause], since, dt.date(2025, 3, 2)) == 1
    assert paused_days([pause], since, dt.date(2025, 3, 11)) == 10  # the last day does not
    assert paused_days([pause], since, dt.date(2025, 4, 30)) == 10
    resumed = DelinquencyPause(start=pause.start, end=pause.end, resumed_on=dt.date(2025, 3, 5))
    assert paused_days([resumed], since, dt.date(2025, 4, 30)) == 4
    open_ended = DelinquencyPause(start=dt.date(2025, 3, 1))
    assert paused_days([open_ended], since, dt.date(2025, 3, 21)) == 20


def test_decide_honours_a_pause_from_the_intake_and_its_early_resume() -> None:
    case = Case(loan_id="L-1")
    paused = command(case, PauseDelinquency(start=day(10), end=day(40)), day(10))
    # without the pause day 30 reaches d30; paused from day 10, delinquency stays at 10
    assert run(POLICY, case, day(30)).stage == "d30"
    assert run(POLICY, paused, day(35)).stage == "d1"
    # resumed on day 15: 5 days off, so delinquent day 30 is calendar day 35
    resumed = command(paused, ResumeDelinquency(reason="customer called"), day(15))
    assert run(POLICY, resumed, day(34)).stage == "d1"
    assert run(POLICY, resumed, day(35)).stage == "d30"
    # nothing changes while the pause runs: the next look is the day after it ends
    assert run(POLICY, paused, day(30)).next_review_date == day(41)


def test_pause_commands_are_checked_like_fineracts() -> None:
    case = command(Case(loan_id="L-1"), PauseDelinquency(start=day(10), end=day(20)), day(10))
    with pytest.raises(ValidationError, match="overlaps"):
        command(case, PauseDelinquency(start=day(15), end=day(25)), day(15))
    with pytest.raises(ValidationError, match=r"pause\.end"):
        command(case, PauseDelinquency(start=day(30), end=day(30)), day(30))
    with pytest.raises(ValidationError, match="no delinquency pause is active"):
        command(case, ResumeDelinquency(), day(25))
    _, event = PauseDelinquency(start=day(30)).apply(case, on=day(30), currency="CNY")
    assert event.kind is EventKind.DELINQUENCY_PAUSED


def test_each_installment_has_its_own_range_and_changes_are_events() -> None:
    first = run(RANGES, Case(loan_id="L-1"), day(3))
    assert first.classification is not None
    assert first.classification.installments == ((1, 3, "1-3"),)
    later = run(RANGES, first.case, SECOND_DUE + dt.timedelta(days=5))
    assert later.classification is not None
    days_1 = (SECOND_DUE + dt.timedelta(days=5) - FIRST_DUE).days
    assert later.classification.installments == ((1, days_1, "31+"), (2, 5, "4-30"))
    assert later.classification.loan == "31+"
    changes = [
        DelinquencyRangeChanged.parse(e)
        for e in kinds(later.events, EventKind.DELINQUENCY_RANGE_CHANGED)
    ]
    assert [(c.installment, c.previous, c.current) for c in changes] == [
        (0, "1-3", "31+"),
        (1, "1-3", "31+"),
        (2, "", "4-30"),
    ]
    # the next review is the day the newest installment reaches its next range
    assert later.next_review_date is not None
    assert later.next_review_date <= SECOND_DUE + dt.timedelta(days=31)


@pytest.mark.parametrize(
    ("status", "stage"),
    [
        (LoanStatus.CLOSED, "closed"),
        (LoanStatus.OVERPAID, "closed"),
        (LoanStatus.RESCHEDULED, "closed"),
        (LoanStatus.WRITTEN_OFF, "written_off"),
    ],
)
def test_the_loan_status_the_host_sets_moves_the_case(status: LoanStatus, stage: str) -> None:
    case = run(POLICY, Case(loan_id="L-1"), day(5)).case
    updated = command(case, SetLoanStatus(status=status), day(6))
    assert run(POLICY, updated, day(6)).stage == stage
    with pytest.raises(ValidationError, match="has it already"):
        command(updated, SetLoanStatus(status=status), day(7))


def _fineract_paused_days(start: dt.date, end: dt.date, on: dt.date) -> int:
    """Fineract's getPausedDaysBeforeDate for one pause, as written there."""
    if start < on and end < on:
        return (end - start).days
    if start < on <= end:
        return (on - start).days
    return 0


@given(
    start=st.integers(min_value=1, max_value=60),
    length=st.integers(min_value=1, max_value=60),
    on=st.integers(min_value=0, max_value=150),
)
def test_paused_days_match_fineracts_helper_for_a_pause_after_the_due_date(
    start: int, length: int, on: int
) -> None:
    since = dt.date(2025, 2, 15)
    first = since + dt.timedelta(days=start)
    last = first + dt.timedelta(days=length)
    day_ = since + dt.timedelta(days=on)
    pause = DelinquencyPause(start=first, end=last)
    assert paused_days([pause], since, day_) == _fineract_paused_days(first, last, day_)


@given(
    spans=st.lists(
        st.tuples(st.integers(min_value=-20, max_value=80), st.integers(min_value=1, max_value=30)),
        max_size=4,
    ),
)
def test_delinquent_days_never_go_back_and_grow_at_most_one_a_day(
    spans: list[tuple[int, int]],
) -> None:
    since = dt.date(2025, 2, 15)
    pauses = [
        DelinquencyPause(start=since + dt.timedelta(days=s), end=since + dt.timedelta(days=s + n))
        for s, n in spans
    ]
    previous = 0
    for offset in range(0, 130):
        on = since + dt.timedelta(days=offset)
        days = offset - paused_days(pauses, since, on)
        assert previous <= days <= previous + 1
        previous = days
