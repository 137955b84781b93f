"""The decision's steps for the stage policy's optional capabilities.

Each function is pure and does nothing when its capability is not configured,
so a policy without them decides exactly as before. :func:`decide` calls them:
markers and notices on every stage entered, delinquency ranges after the stage,
campaign attempts with the actions, notice resolution from the payments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import attrs

from loancollect.domain.campaigns import CampaignState
from loancollect.domain.delinquency import Classification, classify
from loancollect.domain.dunning import (
    DunningType,
    NoticeStatus,
    RateSource,
    issue_notice,
    paid_since,
)
from loancollect.domain.events import (
    CampaignAttempted,
    CampaignFinished,
    DelinquencyRangeChanged,
    MarkerRemoved,
    MarkerSet,
    NoticeIssued,
    NoticeResolved,
    NoticeSuperseded,
    Payload,
)
from loancollect.domain.loans import ContactKind, Loan, Payment
from loancollect.domain.overdue import Assessment
from loancollect.domain.policy import StagePolicy
from loancollect.domain.policy_state import PolicyState
from loancollect.domain.strategy import PlannedAction, Tone, single_action

__all__ = [
    "advance_campaign",
    "classify_ranges",
    "enter_stage",
    "resolve_notices",
]

Emit = Callable[[Payload], None]


def enter_stage(
    policy: StagePolicy,
    state: PolicyState,
    *,
    previous: str,
    stage: str,
    loan: Loan,
    assessment: Assessment,
    rates: RateSource | None,
    emit: Emit,
) -> PolicyState:
    """Markers removed and set, and the notice issued, on moving ``previous`` → ``stage``."""
    before, after = policy.markers_of(previous), policy.markers_of(stage)
    for marker in sorted(before - after):
        emit(MarkerRemoved(marker=marker, stage=previous))
    for marker in sorted(after - before):
        emit(MarkerSet(marker=marker, stage=stage))
    if not policy.issues_notice(stage):
        return state
    dtype = policy.dunning_type(stage)
    notice_id = f"{loan.id}:{stage}:{assessment.as_of.isoformat()}"
    if dtype is None:
        dtype = DunningType(name=stage, stage=stage)  # a level's notice: no fee, no interest
    notice = issue_notice(
        dtype,
        notice_id=notice_id,
        assessment=assessment,
        locale=loan.borrower.locale,
        rates=rates,
    )
    rank = policy.rank(stage)
    for old in state.notices:
        if old.status is NoticeStatus.PENDING and policy.rank(old.stage) < rank:
            state = state.with_notice(old.with_status(NoticeStatus.SUPERSEDED, assessment.as_of))
            emit(NoticeSuperseded(notice=old.id, by=notice_id))
    emit(
        NoticeIssued(
            notice=notice.id,
            stage=stage,
            dunning_type=notice.dunning_type,
            currency=assessment.currency,
            overdue=notice.overdue.amount,
            interest=notice.interest.amount,
            fee=notice.fee.amount,
            grand_total=notice.grand_total.amount,
            language=notice.language,
            fee_rate=notice.fee_rate,
        )
    )
    return state.with_notice(notice)


def resolve_notices(
    state: PolicyState, payments: Sequence[Payment], as_of: dt.date, emit: Emit
) -> PolicyState:
    """Open notices whose grand total the payments since their issue cover are resolved."""
    if not any(n.status.is_open for n in state.notices):
        return state
    paid = [(p.value_date, p.amount) for p in payments if p.value_date <= as_of]
    for n in state.notices:
        if n.status.is_open and paid_since(paid, n.issued_on, n.overdue.currency) >= n.grand_total:
            state = state.with_notice(n.with_status(NoticeStatus.RESOLVED, as_of))
            emit(NoticeResolved(notice=n.id))
    return state


def classify_ranges(
    policy: StagePolicy,
    state: PolicyState,
    assessment: Assessment,
    loan_days: int,
    emit: Emit,
) -> tuple[PolicyState, Classification | None]:
    """Classify the loan and each overdue installment; an event for every range that changed."""
    if not policy.delinquency_ranges:
        return state, None
    found = classify(policy.delinquency_ranges, assessment, state.pauses, loan_days)
    now = dict(found.ranges())
    before = dict(state.ranges)
    days = {n: d for n, d, _ in found.installments}
    days[0] = found.loan_days
    for number in sorted(set(now) | set(before)):
        if now.get(number, "") != before.get(number, ""):
            emit(
                DelinquencyRangeChanged(
                    installment=number,
                    previous=before.get(number, ""),
                    current=now.get(number, ""),
                    days=max(days.get(number, 0), 0),
                )
            )
    return attrs.evolve(state, ranges=found.ranges()), found


def range_dates(policy: StagePolicy, found: Classification | None, as_of: dt.date) -> list[dt.date]:
    """Days on which an installment's (or the loan's) delinquent days reach the next range."""
    if found is None:
        return []
    bounds = sorted(
        {r.min_days for r in policy.delinquency_ranges}
        | {r.max_days + 1 for r in policy.delinquency_ranges if r.max_days is not None}
    )
    out = []
    for days in [found.loan_days, *(d for _, d, _ in found.installments)]:
        nxt = next((b for b in bounds if b > days), None)
        if nxt is not None:
            out.append(as_of + dt.timedelta(days=nxt - days))
    return out


def advance_campaign(
    policy: StagePolicy,
    state: PolicyState,
    *,
    loan: Loan,
    assessment: Assessment,
    stage: str,
    delinquent: bool,
    contact_allowed: bool,
    variant: str | None,
    segment: str | None,
    channels: dict[str, ContactKind | None] | None,
    emit: Emit,
) -> tuple[PolicyState, PlannedAction | None, dt.date | None, str | None]:
    """The campaign's next attempt, if one is due: the new state, the action, the next
    attempt date, and why an attempt was skipped (no contact point)."""
    if not policy.campaigns and state.campaign is None:
        return state, None, None, None
    as_of = assessment.as_of
    overdue = assessment.overdue_amount
    current = state.campaign
    if current is not None and (
        not assessment.is_overdue or overdue <= policy.tolerance(overdue.currency)
    ):
        return attrs.evolve(state, campaign=None), None, None, None  # paid: campaign over
    if not contact_allowed or not delinquent:
        nxt = _next_attempt(policy, current)
        return state, None, nxt, None
    campaign = None
    if current is not None and not current.finished:
        campaign = next((c for c in policy.campaigns if c.code == current.code), None)
        if campaign is None:
            return attrs.evolve(state, campaign=None), None, None, None
        nxt = _next_attempt(policy, current)
        if nxt is not None and as_of < nxt:
            return state, None, nxt, None
        threshold = campaign.threshold(overdue.currency)
        if threshold is None or overdue < threshold:
            # Below the threshold the attempt waits (Lago checks it on every run); a
            # running campaign goes on in later stages: its stages only gate its start.
            return state, None, None, None
    else:
        for c in policy.campaigns:
            if current is not None and c.code == current.code:
                continue  # a finished campaign does not start again before the balance is paid
            if c.applies(stage, overdue):
                campaign = c
                current = CampaignState(code=c.code, started_on=as_of)
                break
        if campaign is None or current is None:
            return state, None, None, None
    attempt = current.attempts + 1
    action = single_action(
        loan=loan,
        rule_id=f"campaign.{campaign.code}.{attempt}",
        stage=stage,
        channel=campaign.channel,
        template=campaign.template,
        tone=Tone.FIRM,
        as_of=as_of,
        variant=variant,
        segment=segment,
        channels=channels,
    )
    if action is None:
        return state, None, None, f"campaign.{campaign.code}: no contact point"
    finished = attempt >= campaign.max_attempts
    current = attrs.evolve(
        current,
        attempts=attempt,
        last_attempt_on=as_of,
        finished_on=as_of if finished else None,
    )
    emit(
        CampaignAttempted(
            campaign=campaign.code,
            attempt=attempt,
            amount=overdue.amount,
            currency=overdue.currency,
        )
    )
    if finished:
        emit(CampaignFinished(campaign=campaign.code, attempts=attempt))
    if not finished:
        nxt = as_of + dt.timedelta(days=campaign.days_between_attempts)
    elif len(policy.campaigns) > 1:
        nxt = as_of + dt.timedelta(days=1)  # another campaign may start from tomorrow
    else:
        nxt = None
    return attrs.evolve(state, campaign=current), action, nxt, None


def _next_attempt(policy: StagePolicy, current: CampaignState | None) -> dt.date | None:
    if current is None or current.finished or current.last_attempt_on is None:
        return None
    campaign = next((c for c in policy.campaigns if c.code == current.code), None)
    if campaign is None:
        return None
    return current.last_attempt_on + dt.timedelta(days=campaign.days_between_attempts)
