"""ERPNext dunning, OCA credit control and Lago dunning campaigns, in their terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.unit.decisions.peers import FIRST_DUE, LOAN, command, day, kinds, pay, run, walk

from loancollect import Money
from loancollect.domain.campaigns import Campaign
from loancollect.domain.case import Case
from loancollect.domain.commands import CancelNotice, MarkNoticeSent, RecordCreditNote
from loancollect.domain.credit_control import ComputationMode, LevelDelay
from loancollect.domain.dunning import DunningType, LetterText, NoticeStatus
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.events import CampaignFinished, EventKind, NoticeIssued
from loancollect.domain.policy import Condition, Stage, StagePolicy

INSTALLMENT = LOAN.installments[0].principal + LOAN.installments[0].interest

# -- ERPNext ------------------------------------------------------------------------------

FIRST_NOTICE = DunningType(
    name="First Notice",
    stage="reminder",
    fee=Money("10.00", "CNY"),
    rate_of_interest=Decimal("12"),
    texts=(
        LetterText(language="en", body="Your payment is overdue."),
        LetterText(language="zh", body="您的款项已逾期。"),
    ),
)
DUNNING = StagePolicy(
    name="erpnext",
    stages=(
        Stage(name="reminder", rank=1, entry=Condition(min_dpd=10)),
        Stage(name="final", rank=2, entry=Condition(min_dpd=40)),
    ),
    dunning_types=(
        FIRST_NOTICE,
        DunningType(name="Final Notice", stage="final", fee=Money("5.00", "EUR")),
    ),
)


class Rates:
    """A host's rate source with one EUR->CNY rate."""

    def rate(self, source: str, target: str, on: dt.date) -> Decimal | None:
        return Decimal("7.8123") if (source, target) == ("EUR", "CNY") else None


def test_a_dunning_carries_overdue_interest_fee_and_its_grand_total() -> None:
    decision = run(DUNNING, Case(loan_id="L-1"), day(10))
    issued = NoticeIssued.parse(kinds(decision.events, EventKind.NOTICE_ISSUED)[0])
    # interest = outstanding × 12 / 100 × 10 / 365, half up to the fen
    interest = (INSTALLMENT.amount * Decimal("12") * 10 / Decimal(36500)).quantize(Decimal("0.01"))
    assert issued.overdue == INSTALLMENT.amount
    assert issued.interest == interest
    assert issued.fee == Decimal("10.00")
    assert issued.grand_total == INSTALLMENT.amount + interest + Decimal("10.00")
    notice = decision.case.policy_state.notices[0]
    assert (notice.language, notice.text) == ("zh", "您的款项已逾期。")  # zh_CN borrower


def test_a_notice_is_resolved_when_paid_and_can_be_cancelled() -> None:
    case = run(DUNNING, Case(loan_id="L-1"), day(10)).case
    notice = case.policy_state.notices[0]
    short = run(DUNNING, case, day(12), payments=[pay(str(notice.overdue.amount), day(11))])
    assert short.case.policy_state.notices[0].status is NoticeStatus.PENDING  # fee unpaid
    paid = run(DUNNING, case, day(12), payments=[pay(str(notice.grand_total.amount), day(11))])
    assert paid.case.policy_state.notices[0].status is NoticeStatus.RESOLVED
    cancelled = command(case, CancelNotice(notice=notice.id, reason="issued in error"), day(11))
    assert cancelled.policy_state.notices[0].status is NoticeStatus.CANCELLED
    with pytest.raises(ValidationError, match="cancelled"):
        command(cancelled, CancelNotice(notice=notice.id, reason="again"), day(12))


def test_a_credit_note_reduces_what_is_dunned() -> None:
    credited = command(
        Case(loan_id="L-1"), RecordCreditNote(id="CN-1", amount=Money("1000.00", "CNY")), day(5)
    )
    decision = run(DUNNING, credited, day(10))
    issued = NoticeIssued.parse(kinds(decision.events, EventKind.NOTICE_ISSUED)[0])
    assert issued.overdue == INSTALLMENT.amount - Decimal("1000.00")


def test_a_fee_in_another_currency_needs_the_hosts_rate_source() -> None:
    case = run(DUNNING, Case(loan_id="L-1"), day(10)).case
    with pytest.raises(ConfigurationError, match="no rate source"):
        run(DUNNING, case, day(40))
    final = run(DUNNING, case, day(40), rates=Rates())
    notice = final.case.policy_state.latest_notice("final")
    assert notice is not None
    assert notice.fee == Money("39.06", "CNY")  # 5.00 EUR × 7.8123, half up
    assert notice.fee_rate == Decimal("7.8123")
    # the first notice, still pending, is superseded by the higher one
    assert final.case.policy_state.notices[0].status is NoticeStatus.SUPERSEDED


# -- OCA credit control -------------------------------------------------------------------


def test_level_delays_in_ocas_three_computation_modes() -> None:
    due = dt.date(2025, 1, 31)
    assert LevelDelay(mode=ComputationMode.NET_DAYS, days=30).due_on(due, None) == dt.date(
        2025, 3, 2
    )
    assert LevelDelay(mode=ComputationMode.END_OF_MONTH, days=30).due_on(due, None) == dt.date(
        2025, 3, 31
    )
    prev = LevelDelay(mode=ComputationMode.PREVIOUS_DATE, days=15)
    assert prev.due_on(due, None) is None
    assert prev.due_on(due, dt.date(2025, 3, 10)) == dt.date(2025, 3, 25)


LEVELS = StagePolicy(
    name="oca",
    stages=(
        Stage(name="level1", rank=1, level=LevelDelay(mode=ComputationMode.NET_DAYS, days=10)),
        Stage(name="level2", rank=2, level=LevelDelay(mode=ComputationMode.PREVIOUS_DATE, days=15)),
    ),
    refuse_backdated_runs=True,
)


def test_the_next_level_waits_for_the_previous_notice_to_be_sent() -> None:
    assert run(LEVELS, Case(loan_id="L-1"), day(9)).stage == "current"
    first = run(LEVELS, Case(loan_id="L-1"), day(10))
    assert first.stage == "level1"
    notice = first.case.policy_state.notices[0]
    # 30 days later, but the level-1 notice was never sent: no escalation
    assert run(LEVELS, first.case, day(40)).stage == "level1"
    sent = command(first.case, MarkNoticeSent(notice=notice.id), day(12))
    assert run(LEVELS, sent, day(24)).stage == "level1"  # notice date + 15 not reached
    assert run(LEVELS, sent, day(25)).stage == "level2"


def test_a_run_dated_before_the_previous_run_is_refused() -> None:
    case = run(LEVELS, Case(loan_id="L-1"), day(10)).case
    with pytest.raises(ValidationError, match="before the previous run on 2025-02-25"):
        run(LEVELS, case, day(9))


def test_the_lowest_level_cannot_count_from_a_previous_notice() -> None:
    with pytest.raises(ConfigurationError, match="previous_date"):
        StagePolicy(name="bad", stages=(LEVELS.stages[1],))


# -- Lago dunning campaigns ---------------------------------------------------------------

CAMPAIGN = Campaign(
    code="standard",
    max_attempts=3,
    days_between_attempts=5,
    thresholds=(Money("5000.00", "CNY"), Money("500.00", "USD")),
)
LAGO = StagePolicy(
    name="lago",
    stages=(Stage(name="overdue", rank=1, entry=Condition(min_dpd=1)),),
    campaigns=(CAMPAIGN,),
)


def test_a_campaign_attempts_spaced_until_its_maximum_then_finishes() -> None:
    days = [day(n) for n in range(1, 20)]
    case, events, decisions = walk(LAGO, days)
    attempts = [d.as_of for d in (dec.actions[0] for dec in decisions if dec.actions)]
    assert attempts == [day(1), day(6), day(11)]  # at least 5 days apart, 3 at most
    finished = [CampaignFinished.parse(e) for e in kinds(events, EventKind.CAMPAIGN_FINISHED)]
    assert finished == [CampaignFinished(campaign="standard", attempts=3)]
    assert kinds(events, EventKind.CAMPAIGN_FINISHED)[0].on == day(11)
    assert case.policy_state.campaign is not None
    assert case.policy_state.campaign.finished


def test_a_campaign_does_not_start_below_its_threshold_or_without_one_in_the_currency() -> None:
    below = Campaign(
        code="big", max_attempts=1, days_between_attempts=1, thresholds=(Money("9000.00", "CNY"),)
    )
    assert (
        run(
            StagePolicy(name="l", stages=LAGO.stages, campaigns=(below,)),
            Case(loan_id="L-1"),
            day(1),
        ).actions
        == ()
    )
    at = Campaign(code="at", max_attempts=1, days_between_attempts=1, thresholds=(INSTALLMENT,))
    assert (
        len(
            run(
                StagePolicy(name="l", stages=LAGO.stages, campaigns=(at,)),
                Case(loan_id="L-1"),
                day(1),
            ).actions
        )
        == 1
    )
    usd_only = Campaign(
        code="usd", max_attempts=1, days_between_attempts=1, thresholds=(Money("1.00", "USD"),)
    )
    assert (
        run(
            StagePolicy(name="l", stages=LAGO.stages, campaigns=(usd_only,)),
            Case(loan_id="L-1"),
            day(1),
        ).actions
        == ()
    )


def test_a_finished_campaign_restarts_only_after_the_balance_was_paid() -> None:
    case, _, _ = walk(LAGO, [day(1), day(6), day(11)])
    assert run(LAGO, case, day(30)).actions == ()  # finished, still unpaid: no new campaign
    paid = run(LAGO, case, day(12), payments=[pay("9000.00", day(12))])
    assert paid.case.policy_state.campaign is None
    again = run(
        LAGO, paid.case, FIRST_DUE + dt.timedelta(days=29), payments=[pay("9000.00", day(12))]
    )
    assert [a.rule_id for a in again.actions] == ["campaign.standard.1"]


def test_a_later_stages_campaign_waits_for_the_running_one_to_finish() -> None:
    early = Campaign(
        code="early",
        max_attempts=2,
        days_between_attempts=10,
        thresholds=(Money("100.00", "CNY"),),
        stages={"d1"},
    )
    late = Campaign(
        code="late",
        max_attempts=1,
        days_between_attempts=1,
        thresholds=(Money("100.00", "CNY"),),
        stages={"d5"},
    )
    policy = StagePolicy(
        name="two",
        stages=(
            Stage(name="d1", rank=1, entry=Condition(min_dpd=1)),
            Stage(name="d5", rank=2, entry=Condition(min_dpd=5)),
        ),
        campaigns=(early, late),
    )
    _, _, decisions = walk(policy, [day(n) for n in range(1, 16)])
    fired = [
        (d.assessment.as_of, d.stage, [a.rule_id for a in d.actions])
        for d in decisions
        if d.actions
    ]
    assert fired == [
        (day(1), "d1", ["campaign.early.1"]),
        (day(11), "d5", ["campaign.early.2"]),  # the running campaign goes on in d5
        (day(12), "d5", ["campaign.late.1"]),  # the next one only after it finished
    ]
    assert decisions[10].next_review_date == day(12)  # the day after it finished
