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
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs

from loancollect.domain import arrangements as arr
from loancollect.domain.allocation import Component
from loancollect.domain.arrangements import (
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    Settlement,
)
from loancollect.domain.case import Case, Hold, HoldKind
from loancollect.domain.errors import ConfigurationError
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
from loancollect.domain.money import Rounding
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
from loancollect.domain.strategy import Experiment, Offer, PlannedAction, Strategy, plan_actions

__all__ = ["NO_ADVICE", "OVERRIDE_REASON", "Advice", "Decision", "decide", "settlement_adjustments"]


@attrs.frozen(kw_only=True)
class Decision:
    """The outcome of :func:`decide` for one case on one day.

    :param case: the updated case record to store.
    :param transition: the stage change, if any, with its reason.
    :param actions: actions to send today (after the compliance check).
    :param skipped: rules that could not fire and why (e.g. no contact point).
    :param events: domain events to append (unchained).
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
) -> Assessment:
    eff = arr.effects(arrangements, as_of)
    return assess(
        loan,
        payments,
        as_of,
        config=config,
        adjustments=eff.adjustments + extra,
        pauses=eff.pauses,
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
    """
    advice = advice or NO_ADVICE
    events: list[Event] = []

    def emit(payload: Payload) -> None:
        events.append(new_event(payload, loan_id=loan.id, on=as_of))

    # 1. Arrangements up to date (their status depends on DPD, which depends on them).
    assessment = _assess(loan, payments, as_of, case.arrangements, config, holds=case.holds)
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
        assessment = _assess(loan, payments, as_of, updated, config, holds=case.holds)
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
    facts = Facts(
        as_of=as_of,
        dpd=dpd,
        overdue=assessment.overdue_amount,
        risk=scores.risk,
        segment=segment,
        broken_promises=case.broken_promises,
        flags=case.flags,
        next_due_date=assessment.next_due_date,
        paid_off=assessment.is_paid_off,
        settled=settled is not None,
        suspended=eff.suspends_escalation,
        anchor=assessment.oldest_unpaid_due_date,
        dpd_offset=assessment.dpd - dpd,
    )
    stage, transition, stay_ends = evaluate_stage(policy, case.stage, case.stage_since, facts)
    if (
        case.active_holds(as_of)
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
    if transition is not None:
        emit(
            StageChanged(
                previous=transition.previous,
                current=transition.current,
                reason=transition.reason,
                dpd=assessment.dpd,
            )
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
    case = attrs.evolve(
        case,
        stage=stage,
        stage_since=as_of if transition is not None else (case.stage_since or as_of),
        segment=segment,
        variant=variant.name,
        closed_on=as_of if stage in TERMINAL_STAGES and case.closed_on is None else case.closed_on,
        flags=case.flags | {"litigation_recommended"}
        if transition is not None and stage == "legal"
        else case.flags,
    )

    # 4. Actions: none while a promise is pending, a hold is active, or the stage forbids contact.
    stage_def = policy.stage(stage)
    contact_allowed = (
        not eff.suppresses_contact
        and not case.active_holds(as_of)
        # Placed with an agency, the agency contacts; sold, the buyer does.
        and case.placement is None
        and case.sale is None
        and stage not in TERMINAL_STAGES
        and (stage_def is None or stage_def.contact)
    )
    actions: tuple[PlannedAction, ...] = ()
    skipped: tuple[str, ...] = ()
    cadence_next: dt.date | None = None
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
        if actions:
            fired = {a.rule_id for a in actions}
            case = attrs.evolve(
                case,
                last_actions=[(r, d) for r, d in case.last_actions if r not in fired]
                + [(r, as_of) for r in sorted(fired)],
            )
        events.extend(_planned(action) for action in actions)

    # 5. Offers.
    offers = (
        _offers(variant.strategy, loan, case, assessment, stage, segment, as_of)
        if not case.active_holds(as_of)
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
    future = [d for d in candidates if d > as_of]
    next_review = min(future) if future else None
    if next_review is None and stage not in TERMINAL_STAGES:
        # A periodic look even when nothing is scheduled, every 30 days from the stage entry
        # (anchored, so re-evaluating in between does not push it back).
        base = case.stage_since or as_of
        next_review = base + dt.timedelta(days=30 * ((as_of - base).days // 30 + 1))
    case = attrs.evolve(case, next_review_date=next_review)
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
    open_kinds = {a.kind for a in case.active_arrangements()}
    out = []
    due = assessment.amount_due
    for rule in strategy.offers:
        if rule.stage != stage or (rule.segments and segment not in rule.segments):
            continue
        if rule.kind in open_kinds:
            continue
        valid_until = as_of + dt.timedelta(days=rule.valid_days)
        penalty = assessment.penalty + assessment.compound_interest
        out.append(
            Offer(
                rule_id=rule.id,
                kind=rule.kind,
                loan_id=loan.id,
                valid_until=valid_until,
                amount_due=due,
                max_installments=rule.max_installments,
                min_down_payment=due.multiply(Decimal(rule.min_down_fraction), Rounding.UP)
                if rule.kind is ArrangementKind.INSTALLMENT_PLAN
                else None,
                max_waiver=penalty.multiply(Decimal(rule.waiver_fraction), Rounding.DOWN)
                if rule.kind is ArrangementKind.WAIVER
                else None,
                settlement_amount=assessment.payoff_amount.multiply(
                    Decimal(rule.settlement_fraction), Rounding.UP
                )
                if rule.kind is ArrangementKind.SETTLEMENT
                else None,
                grace_days=rule.grace_days if rule.kind is ArrangementKind.GRACE_PERIOD else None,
            )
        )
    return tuple(out)
