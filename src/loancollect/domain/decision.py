"""``decide``: one case, one day — stage, actions, offers and the next review date.

The decision runs the pure core end to end for a case: it brings arrangements up
to date, assesses the loan with their effects (waivers, frozen penalty, paused
days), scores and segments the case, evaluates the stage policy, plans actions
from the strategy and offers from its offer rules, and computes the
``next_review_date``: the earliest date on which any of that could change. On
every day before that date (with no new payment, outcome or arrangement) the
decision is the same, which is what makes daily runs incremental.

Nothing is sent and no hook is called: the cycle does that with the result.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from loancollect.domain import arrangements as arr
from loancollect.domain import capabilities as cap
from loancollect.domain.allocation import Component
from loancollect.domain.arrangements import (
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    Settlement,
)
from loancollect.domain.case import Case, Hold, HoldKind
from loancollect.domain.delinquency import Classification, LoanStatus, not_counted, paused_days
from loancollect.domain.dunning import NoticeStatus, RateSource
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.events import (
    ActionPlanned,
    ArrangementBroken,
    ArrangementCompleted,
    CaseClosed,
    Event,
    LitigationRecommended,
    Payload,
    PromiseBroken,
    PromiseKept,
    SegmentAssigned,
    StageChanged,
    VariantAssigned,
    new_event,
)
from loancollect.domain.loans import ContactKind, DateRange, Loan, Payment
from loancollect.domain.money import Money, Rounding, round_div, to_decimal
from loancollect.domain.overdue import (
    DEFAULT_CONFIG,
    Adjustment,
    Assessment,
    AssessmentConfig,
    assess,
)
from loancollect.domain.policy import (
    IN_ARRANGEMENT,
    SETTLED,
    TERMINAL_STAGES,
    CatchUp,
    Facts,
    StagePolicy,
    Transition,
    evaluate_stage,
    next_threshold_date,
)
from loancollect.domain.scoring import (
    ScoreContribution,
    Scores,
    combine,
    heuristic_contribution,
    segment_for,
)
from loancollect.domain.strategy import (
    Experiment,
    Offer,
    PlannedAction,
    Strategy,
    is_entry_rule,
    plan_actions,
)

__all__ = ["NO_ADVICE", "OVERRIDE_REASON", "Advice", "Decision", "decide", "settlement_adjustments"]


@attrs.frozen(kw_only=True)
class Decision:
    """The outcome of :func:`decide` for one case on one day.

    :param case: the updated case record to store.
    :param transition: the stage change, if any, with its reason.
    :param actions: actions to send today (after the compliance check).
    :param skipped: rules that could not fire and why (e.g. no contact point).
    :param events: domain events to append (unchained).
    :param classification: the delinquency range of the loan and of each overdue
        installment, when the policy has delinquency ranges.
    :param passed: the stages entered on the way to ``stage`` (``catch_up="replay"``).
    :param next_review_date: the earliest date the decision can change; never in the past.
    """

    case: Case
    assessment: Assessment
    stage: str
    transition: Transition | None
    actions: tuple[PlannedAction, ...]
    offers: tuple[Offer, ...]
    events: tuple[Event, ...]
    next_review_date: dt.date | None
    scores: Scores
    segment: str | None
    skipped: tuple[str, ...] = ()
    classification: Classification | None = None
    passed: tuple[str, ...] = ()

    def with_extras(self, actions: Sequence[PlannedAction], offers: Sequence[Offer]) -> Decision:
        """This decision with actions and offers from elsewhere (the plan hooks) added.

        Actions whose idempotency key is planned already are left out; each new one
        is recorded on the case (its rule fired today) and by an ``ACTION_PLANNED``
        event, like the strategy's own.
        """
        known = {a.idempotency_key for a in self.actions}
        new_actions = [a for a in actions if a.idempotency_key not in known]
        case = self.case
        for a in new_actions:
            case = case.with_action(a.rule_id, a.as_of)
        return attrs.evolve(
            self,
            case=case,
            actions=(*self.actions, *new_actions),
            offers=(*self.offers, *offers),
            events=(*self.events, *(_planned(a) for a in new_actions)),
        )


def _planned(action: PlannedAction) -> Event:
    """The ``ACTION_PLANNED`` event of ``action``."""
    planned = ActionPlanned(
        rule=action.rule_id,
        channel=action.channel,
        key=action.idempotency_key,
        template=action.template,
    )
    return new_event(planned, loan_id=action.loan_id, on=action.as_of)


OVERRIDE_REASON = "override by plug-in"
"""The reason recorded when :attr:`Advice.stage` moves a case."""


@attrs.frozen(kw_only=True)
class Advice:
    """Answers :func:`decide` asks for from outside the core, each at most once.

    Every advisor is a plain function; the core never knows whether a hook, a
    model or a test answers it.

    :param scores: given the assessment and the case (arrangements brought up to
        date), extra score contributions to combine with the built-in heuristic.
    :param segment: given the assessment, the case and the combined scores, a
        segment, or ``None`` for the ability × willingness matrix.
    :param stage: given the case before today's stage change and the stage the
        policy proposes, the stage to use instead, or ``None`` for no opinion.
    """

    scores: Callable[[Assessment, Case], Sequence[ScoreContribution]] | None = None
    segment: Callable[[Assessment, Case, Scores], str | None] | None = None
    stage: Callable[[Case, str], str | None] | None = None


NO_ADVICE = Advice()
"""No advisors: the built-in heuristic, matrix and policy decide alone."""


def settlement_adjustments(
    loan: Loan, settlement: Settlement, assessment: Assessment
) -> tuple[Adjustment, ...]:
    """Adjustments writing off everything the settlement leaves unpaid."""
    out = []
    for inst in assessment.installments:
        for comp, value in (
            (Component.PENALTY, inst.penalty),
            (Component.COMPOUND, inst.compound),
            (Component.FEES, inst.fees),
            (Component.INTEREST, inst.interest),
            (Component.PRINCIPAL, inst.principal),
        ):
            if value.is_positive():
                out.append(
                    Adjustment(
                        settlement.resolved_on or assessment.as_of,
                        comp,
                        value,
                        inst.number,
                        f"settlement {settlement.id}",
                    )
                )
    return tuple(out)


def _assess(
    loan: Loan,
    payments: Sequence[Payment],
    as_of: dt.date,
    arrangements: Sequence[Arrangement],
    config: AssessmentConfig,
    extra: tuple[Adjustment, ...] = (),
    *,
    holds: Sequence[Hold] = (),
    case: Case | None = None,
) -> Assessment:
    eff = arr.effects(arrangements, as_of)
    pauses = eff.pauses
    if case is not None and not case.policy_state.is_empty:
        # Delinquency pauses (Fineract) and credit notes (ERPNext) from the case.
        ps = case.policy_state
        pauses = pauses + not_counted(ps.pauses, as_of)
        extra = extra + tuple(
            Adjustment(c.on, c.component, c.amount, None, f"credit note {c.id}")
            for c in ps.credit_notes
        )
    return assess(
        loan,
        payments,
        as_of,
        config=config,
        adjustments=eff.adjustments + extra,
        pauses=pauses,
        penalty_holds=eff.penalty_holds + _moratoria(holds, as_of),
    )


def _moratoria(holds: Sequence[Hold], as_of: dt.date) -> tuple[DateRange, ...]:
    """The days of breathing-space holds up to ``as_of``: no penalty or compound interest
    accrues in them (the Debt Respite Scheme regulations 2020, reg. 7: interest, fees
    and charges on a moratorium debt are not to be added while it lasts)."""
    out = []
    for hold in holds:
        if hold.kind is HoldKind.BREATHING_SPACE and hold.start <= as_of:
            end = as_of if hold.end is None else min(hold.end, as_of)
            out.append(DateRange(hold.start, end))
    return tuple(out)


def decide(
    *,
    loan: Loan,
    payments: Sequence[Payment],
    case: Case,
    as_of: dt.date,
    policy: StagePolicy,
    strategy: Strategy | Experiment,
    scores: Scores | None = None,
    segment: str | None = None,
    config: AssessmentConfig = DEFAULT_CONFIG,
    advice: Advice | None = None,
    channels: Mapping[str, ContactKind | None] | None = None,
    rates: RateSource | None = None,
) -> Decision:
    """Decide what happens to ``case`` on ``as_of``.

    :param scores: combined scores decided beforehand; otherwise ``advice.scores``
        is asked, then the built-in heuristic is used.
    :param segment: a segment chosen beforehand; otherwise ``advice.segment`` is
        asked, then the ability × willingness matrix is used.
    :param advice: answers from outside the core, asked once each at the point
        the decision needs them (the cycle passes the decision hooks here, so a
        case is assessed and decided once however many hooks there are).
    :param channels: the contact kind each channel needs (registered channels);
        the built-in names are known without it.
    :param rates: the host's exchange rates, for a dunning fee written in another
        currency than the loan's (without it such a fee is a ConfigurationError).
    :raises ValidationError: for a run dated before the case's previous one when the
        policy refuses back-dated runs.
    """
    advice = advice or NO_ADVICE
    events: list[Event] = []

    def emit(payload: Payload) -> None:
        events.append(new_event(payload, loan_id=loan.id, on=as_of))

    ps = case.policy_state
    if policy.refuse_backdated_runs and ps.last_run is not None and as_of < ps.last_run:
        raise ValidationError(
            "as_of",
            as_of.isoformat(),
            f"before the previous run on {ps.last_run.isoformat()} for loan {loan.id}",
        )

    # 1. Arrangements up to date (their status depends on DPD, which depends on them).
    assessment = _assess(
        loan, payments, as_of, case.arrangements, config, holds=case.holds, case=case
    )
    updated: list[Arrangement] = []
    for a in case.arrangements:
        new = arr.evaluate(a, loan, payments, as_of, dpd=assessment.dpd)
        if new.status is not a.status:
            resolution = {
                (ArrangementKind.PROMISE, ArrangementStatus.KEPT): PromiseKept,
                (ArrangementKind.PROMISE, ArrangementStatus.BROKEN): PromiseBroken,
            }.get(
                (new.kind, new.status),
                ArrangementBroken
                if new.status is ArrangementStatus.BROKEN
                else ArrangementCompleted,
            )
            emit(
                resolution(
                    arrangement=new.id,
                    type=new.kind,
                    status=new.status,
                    resolved_on=new.resolved_on or as_of,
                )
            )
        updated.append(new)
    if updated != list(case.arrangements):
        assessment = _assess(loan, payments, as_of, updated, config, holds=case.holds, case=case)
    settled = next(
        (
            a
            for a in updated
            if isinstance(a, Settlement) and a.status is ArrangementStatus.COMPLETED
        ),
        None,
    )
    if settled is not None and not assessment.is_paid_off:
        assessment = _assess(
            loan,
            payments,
            as_of,
            updated,
            config,
            settlement_adjustments(loan, settled, assessment),
            holds=case.holds,
            case=case,
        )
    if updated != list(case.arrangements):
        case = attrs.evolve(case, arrangements=tuple(updated))

    # 2. Scores and segment; champion/challenger variant.
    if scores is None:
        heuristic = heuristic_contribution(loan, assessment, case, as_of)
        extra = advice.scores(assessment, case) if advice.scores is not None else ()
        scores = combine([heuristic, *extra])
    if segment is None and advice.segment is not None:
        segment = advice.segment(assessment, case, scores)
    if segment is None:
        segment = segment_for(loan.borrower.kind, scores)
    if segment != case.segment:
        emit(SegmentAssigned(segment=segment, previous=case.segment or ""))
    experiment = strategy if isinstance(strategy, Experiment) else Experiment.single(strategy)
    variant = experiment.variant(case.variant) or experiment.assign(loan.id)
    if variant.name != case.variant:
        emit(VariantAssigned(experiment=experiment.name, variant=variant.name))

    # 3. Stage.
    eff = arr.effects(updated, as_of)
    dpd = assessment.delinquent_days if policy.use_delinquent_days else assessment.dpd
    flags = case.flags
    paid_off = assessment.is_paid_off
    ps = case.policy_state
    unpaid = 0
    last_failed: str | None = None
    notices: tuple[tuple[str, dt.date, bool], ...] = ()
    if not ps.is_empty or policy.counts_installments():
        if ps.pauses and not policy.use_delinquent_days:
            # Delinquent days already leave the pauses out; plain DPD does here.
            dpd = max(dpd - paused_days(ps.pauses, assessment.oldest_unpaid_due_date, as_of), 0)
        if ps.loan_status is LoanStatus.WRITTEN_OFF:
            flags = flags | {"written_off"}
        paid_off = paid_off or ps.loan_status.closes
        failed = ps.failed_payment
        if failed is not None and not any(failed.on < p.value_date <= as_of for p in payments):
            last_failed = failed.response
        if policy.counts_installments():
            unpaid = sum(1 for i in assessment.installments if i.is_overdue)
        notices = tuple((n.stage, n.issued_on, n.status is NoticeStatus.SENT) for n in ps.notices)
    # The holds of today: nothing below changes the case's holds.
    holds_today = case.active_holds(as_of)
    enforcement_off = any(h.kind is HoldKind.ENFORCEMENT_OFF for h in holds_today)
    facts = Facts(
        as_of=as_of,
        dpd=dpd,
        overdue=assessment.overdue_amount,
        risk=scores.risk,
        segment=segment,
        broken_promises=case.broken_promises,
        flags=flags,
        next_due_date=assessment.next_due_date,
        paid_off=paid_off,
        settled=settled is not None,
        suspended=eff.suspends_escalation,
        anchor=assessment.oldest_unpaid_due_date,
        dpd_offset=assessment.dpd - dpd,
        unpaid_installments=unpaid,
        last_failed_payment=last_failed,
        enforcement_off=enforcement_off,
        notices=notices,
    )
    stage, transition, stay_ends = evaluate_stage(policy, case.stage, case.stage_since, facts)
    if (
        holds_today
        and transition is not None
        and stage not in TERMINAL_STAGES
        and (policy.rank(stage) > policy.rank(case.stage))
    ):
        # A hold (dispute, bankruptcy, breathing space…) freezes escalation.
        stage, transition = case.stage, None
    if advice.stage is not None:
        override = advice.stage(case, stage)
        if override is not None and override != stage:
            if policy.stage(override) is None and override not in TERMINAL_STAGES:
                raise ConfigurationError(
                    f"override_stage returned unknown stage {override!r}; "
                    f"the policy's stages are {', '.join(policy.names())}"
                )
            stage = override
            transition = (
                Transition(case.stage, stage, as_of, OVERRIDE_REASON)
                if stage != case.stage
                else None
            )
    passed: tuple[str, ...] = ()
    if (
        transition is not None
        and transition.reason != OVERRIDE_REASON
        and policy.catch_up is CatchUp.REPLAY
        and policy.rank(stage) > policy.rank(case.stage)
    ):
        passed = policy.passed(case.stage, stage)
    state = ps
    if transition is not None:
        steps = [case.stage, *passed, stage]
        for before, after in itertools.pairwise(steps):
            emit(
                StageChanged(
                    previous=before,
                    current=after,
                    reason=transition.reason
                    if after == stage
                    else f"replayed on the way to {stage} (dpd {facts.dpd})",
                    dpd=assessment.dpd,
                )
            )
            state = cap.enter_stage(
                policy,
                state,
                previous=before,
                stage=after,
                loan=loan,
                assessment=assessment,
                rates=rates,
                emit=emit,
            )
        if stage == "legal":
            due = assessment.amount_due
            emit(
                LitigationRecommended(
                    dpd=assessment.dpd,
                    amount=due.amount,
                    currency=due.currency,
                    reason=transition.reason,
                )
            )
        if stage == SETTLED or stage == "closed":
            emit(CaseClosed(outcome=stage))
    stage_since = as_of if transition is not None else (case.stage_since or as_of)
    closed_on = as_of if stage in TERMINAL_STAGES and case.closed_on is None else case.closed_on
    case_flags = (
        case.flags | {"litigation_recommended"}
        if transition is not None and stage == "legal"
        else case.flags
    )
    if (
        stage != case.stage
        or stage_since != case.stage_since
        or segment != case.segment
        or variant.name != case.variant
        or closed_on != case.closed_on
        or case_flags is not case.flags
    ):
        # Most reviews change none of these (a case reviewed again in its stage): no copy.
        case = attrs.evolve(
            case,
            stage=stage,
            stage_since=stage_since,
            segment=segment,
            variant=variant.name,
            closed_on=closed_on,
            flags=case_flags,
        )
    state = cap.resolve_notices(state, payments, as_of, emit)
    loan_days = facts.dpd
    state, classification = cap.classify_ranges(policy, state, assessment, loan_days, emit)

    # 4. Actions: none while a promise is pending, a hold is active, or the stage forbids contact.
    stage_def = policy.stage(stage)
    contact_allowed = (
        not eff.suppresses_contact
        and not holds_today
        # Placed with an agency, the agency contacts; sold, the buyer does.
        and case.placement is None
        and case.sale is None
        and stage not in TERMINAL_STAGES
        and (stage_def is None or stage_def.contact)
    )
    actions: tuple[PlannedAction, ...] = ()
    skipped: tuple[str, ...] = ()
    cadence_next: dt.date | None = None
    last_actions: list[tuple[str, dt.date]] | None = None  # the case's, when actions fired
    if contact_allowed:
        actions, cadence_next, skipped = plan_actions(
            variant.strategy,
            loan=loan,
            case=case,
            assessment=assessment,
            stage=stage,
            segment=segment,
            as_of=as_of,
            variant=variant.name,
            channels=dict(channels) if channels is not None else None,
        )
        on_the_way: list[PlannedAction] = []
        for name in passed:
            entry_ids = {r.id for r in variant.strategy.actions if is_entry_rule(r)}
            replayed, _, skipped_here = plan_actions(
                variant.strategy,
                loan=loan,
                case=attrs.evolve(case, stage=name, stage_since=as_of),
                assessment=assessment,
                stage=name,
                segment=segment,
                as_of=as_of,
                variant=variant.name,
                channels=dict(channels) if channels is not None else None,
            )
            on_the_way.extend(a for a in replayed if a.rule_id in entry_ids)
            skipped = (*skipped, *skipped_here)
        actions = (*on_the_way, *actions)
        if actions:
            # Recorded on the case with its next review date below (one copy of the case,
            # not two): nothing in between reads the case's last actions.
            fired = {a.rule_id for a in actions}
            last_actions = [(r, d) for r, d in case.last_actions if r not in fired] + [
                (r, as_of) for r in sorted(fired)
            ]
        events.extend(_planned(action) for action in actions)
    state, attempt, campaign_next, campaign_skip = cap.advance_campaign(
        policy,
        state,
        loan=loan,
        assessment=assessment,
        stage=stage,
        delinquent=policy.is_delinquent_stage(stage),
        contact_allowed=contact_allowed,
        variant=variant.name,
        segment=segment,
        channels=dict(channels) if channels is not None else None,
        emit=emit,
    )
    if attempt is not None:
        actions = (*actions, attempt)
        if last_actions is not None:
            case, last_actions = attrs.evolve(case, last_actions=last_actions), None
        case = case.with_action(attempt.rule_id, as_of)
        events.append(_planned(attempt))
    if campaign_skip is not None:
        skipped = (*skipped, campaign_skip)

    # 5. Offers.
    offers = (
        _offers(variant.strategy, loan, case, assessment, stage, segment, as_of)
        if not holds_today
        else ()
    )

    # 6. Next review date: the earliest date anything above could change.
    candidates: list[dt.date] = []
    if stage not in TERMINAL_STAGES:
        if assessment.next_due_date is not None:
            candidates.append(assessment.next_due_date)
            candidates.append(assessment.next_due_date + dt.timedelta(days=1))
        if assessment.due_today.is_positive():
            candidates.append(as_of + dt.timedelta(days=1))
        threshold = next_threshold_date(policy, facts)
        if threshold is not None:
            candidates.append(threshold)
        if (
            policy.pre_delinquency_stage is not None
            and assessment.next_due_date is not None
            and not assessment.is_overdue
        ):
            pre = policy.stage(policy.pre_delinquency_stage)
            if pre is not None and pre.entry.due_within_days is not None:
                candidates.append(
                    assessment.next_due_date - dt.timedelta(days=pre.entry.due_within_days)
                )
        if stay_ends is not None:
            candidates.append(stay_ends)
        if cadence_next is not None:
            candidates.append(cadence_next)
        for a in case.arrangements:
            if a.status.is_open:
                candidates.extend(a.review_dates())
        for h in case.holds:
            if h.end is not None:
                candidates.append(h.end + dt.timedelta(days=1))
            candidates.append(h.start)
        for p in state.pauses:
            candidates.append(p.start + dt.timedelta(days=1))
            end = p.effective_end
            if end is not None:
                candidates.append(end + dt.timedelta(days=1))
        if policy.levels():
            candidates.extend(policy.level_dates(stage, facts))
        candidates.extend(cap.range_dates(policy, classification, as_of))
        if campaign_next is not None:
            candidates.append(campaign_next)
    future = [d for d in candidates if d > as_of]
    next_review = min(future) if future else None
    if next_review is None and stage not in TERMINAL_STAGES:
        # A periodic look even when nothing is scheduled, every 30 days from the stage entry
        # (anchored, so re-evaluating in between does not push it back).
        base = case.stage_since or as_of
        next_review = base + dt.timedelta(days=30 * ((as_of - base).days // 30 + 1))
    if policy.refuse_backdated_runs:
        state = attrs.evolve(state, last_run=as_of)
    changes: dict[str, Any] = {"next_review_date": next_review}
    if state != case.policy_state:
        changes["policy_state"] = state
    if last_actions is not None:
        changes["last_actions"] = last_actions
    case = attrs.evolve(case, **changes)
    return Decision(
        case=case,
        assessment=assessment,
        stage=stage,
        transition=transition,
        actions=actions,
        offers=offers,
        events=tuple(events),
        next_review_date=next_review,
        scores=scores,
        segment=segment,
        skipped=skipped,
        classification=classification,
        passed=passed,
    )


def _offers(
    strategy: Strategy,
    loan: Loan,
    case: Case,
    assessment: Assessment,
    stage: str,
    segment: str | None,
    as_of: dt.date,
) -> tuple[Offer, ...]:
    if stage in TERMINAL_STAGES or stage == IN_ARRANGEMENT or not assessment.is_overdue:
        return ()
    rules = [
        rule
        for rule in strategy.offers
        if rule.stage == stage and not (rule.segments and segment not in rule.segments)
    ]
    if not rules:
        return ()
    open_kinds = {a.kind for a in case.active_arrangements()}
    out = []
    due = assessment.amount_due
    for rule in rules:
        if rule.kind in open_kinds:
            continue
        valid_until = as_of + dt.timedelta(days=rule.valid_days)
        out.append(
            Offer(
                rule_id=rule.id,
                kind=rule.kind,
                loan_id=loan.id,
                valid_until=valid_until,
                amount_due=due,
                max_installments=rule.max_installments,
                min_down_payment=_share(due, rule.min_down_fraction, Rounding.UP)
                if rule.kind is ArrangementKind.INSTALLMENT_PLAN
                else None,
                max_waiver=_share(
                    assessment.penalty + assessment.compound_interest,
                    rule.waiver_fraction,
                    Rounding.DOWN,
                )
                if rule.kind is ArrangementKind.WAIVER
                else None,
                settlement_amount=_share(
                    assessment.payoff_amount, rule.settlement_fraction, Rounding.UP
                )
                if rule.kind is ArrangementKind.SETTLEMENT
                else None,
                grace_days=rule.grace_days if rule.kind is ArrangementKind.GRACE_PERIOD else None,
            )
        )
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _fraction(text: str) -> tuple[int, int]:
    """An offer rule's fraction (a decimal string) as an exact ratio, read once per text."""
    return to_decimal(Decimal(text), "rate").as_integer_ratio()


def _share(amount: Money, fraction: str, rounding: Rounding) -> Money:
    """``amount.multiply(Decimal(fraction), rounding)``, with the fraction read once."""
    num, den = _fraction(fraction)
    return Money.from_minor(round_div(amount.minor_units * num, den, rounding), amount.currency)
