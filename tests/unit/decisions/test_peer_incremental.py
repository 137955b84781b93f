"""With every optional capability on, nothing changes on a day before the next review."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.decisions.peers import FIRST_DUE, command, run

from loancollect import Money
from loancollect.domain.campaigns import Campaign
from loancollect.domain.case import Case
from loancollect.domain.commands import PauseDelinquency
from loancollect.domain.delinquency import DelinquencyRange
from loancollect.domain.dunning import DunningType
from loancollect.domain.events import EventKind
from loancollect.domain.policy import CatchUp, Condition, Stage, StagePolicy
from loancollect.domain.strategy import ActionRule, Strategy

POLICY = StagePolicy(
    name="all",
    catch_up=CatchUp.REPLAY,
    stages=(
        Stage(name="early", rank=1, entry=Condition(min_dpd=1), markers={"reminded"}),
        Stage(name="late", rank=2, entry=Condition(min_dpd=30), min_stay_days=7),
        Stage(name="many", rank=3, entry=Condition(min_unpaid_installments=3)),
    ),
    delinquency_ranges=(
        DelinquencyRange(name="1-29", min_days=1, max_days=29),
        DelinquencyRange(name="30+", min_days=30),
    ),
    dunning_types=(DunningType(name="late", stage="late", fee=Money("10.00", "CNY")),),
    campaigns=(
        Campaign(
            code="c",
            max_attempts=3,
            days_between_attempts=4,
            thresholds=(Money("1000.00", "CNY"),),
            stages={"late", "many"},
        ),
    ),
)
STRATEGY = Strategy(
    name="s",
    actions=(
        ActionRule(id="early.sms", stage="early", channel="sms", template="t", every_days=5),
        ActionRule(id="late.mail", stage="late", channel="email", template="t"),
    ),
)
QUIET = {
    EventKind.STAGE_CHANGED,
    EventKind.DELINQUENCY_RANGE_CHANGED,
    EventKind.CAMPAIGN_ATTEMPTED,
    EventKind.NOTICE_ISSUED,
    EventKind.MARKER_SET,
    EventKind.ACTION_PLANNED,
}


@settings(max_examples=80, deadline=None)
@given(
    first=st.integers(min_value=0, max_value=120),
    gap=st.integers(min_value=1, max_value=60),
    pause=st.none()
    | st.tuples(st.integers(min_value=0, max_value=100), st.none() | st.integers(1, 40)),
)
def test_nothing_changes_before_the_next_review_with_every_capability_on(
    first: int, gap: int, pause: tuple[int, int | None] | None
) -> None:
    case = Case(loan_id="L-1")
    if pause is not None:
        start = FIRST_DUE + dt.timedelta(days=pause[0])
        end = None if pause[1] is None else start + dt.timedelta(days=pause[1])
        case = command(case, PauseDelinquency(start=start, end=end), start)
    look = FIRST_DUE + dt.timedelta(days=first)
    decision = run(POLICY, case, look, strategy=STRATEGY)
    nxt = decision.next_review_date
    assert nxt is not None
    assert nxt > look
    later = look + dt.timedelta(days=gap)
    if later >= nxt:
        return
    again = run(POLICY, decision.case, later, strategy=STRATEGY)
    assert again.stage == decision.stage
    assert again.transition is None
    assert again.actions == ()
    assert not {e.kind for e in again.events} & QUIET
    assert again.next_review_date == nxt
