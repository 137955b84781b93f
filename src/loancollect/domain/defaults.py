"""The default stage policy and strategy, following DESIGN.md §2.

Stages: pre-delinquency (high-risk borrowers shortly before a due date),
overdue confirmation (逾期确认), early collection (初步催收), further collection
(进一步催收) and legal (法律手段); outcomes: current, cured, in arrangement,
settled, written off, closed. The same policy is shipped as TOML in
``docs/examples/default_policy.toml`` (a test keeps the two identical).
"""

from __future__ import annotations

from decimal import Decimal

from loancollect.domain.arrangements import ArrangementKind
from loancollect.domain.money import Money
from loancollect.domain.policy import CatchUp, Condition, Stage, StagePolicy
from loancollect.domain.strategy import ActionRule, OfferRule, Strategy, Tone

__all__ = ["DEFAULT_POLICY", "DEFAULT_STRATEGY", "HARDSHIP_SEGMENTS"]

HARDSHIP_SEGMENTS = frozenset({"hardship", "company_distressed"})
WILLING_SEGMENTS = frozenset({"forgetful", "hardship", "company_cash_gap", "company_distressed"})
UNWILLING_SEGMENTS = frozenset(
    {"strategic", "unresponsive", "company_evasive", "company_insolvent"}
)

_LITIGATION_FLOOR = (
    Money("1000", "CNY"),
    Money("200", "USD"),
    Money("150", "GBP"),
    Money("150", "EUR"),
)

DEFAULT_POLICY = StagePolicy(
    name="default",
    catch_up=CatchUp.JUMP,
    pre_delinquency_stage="pre_delinquency",
    small_balance=(
        Money("1", "CNY"),
        Money("0.5", "USD"),
        Money("0.5", "GBP"),
        Money("0.5", "EUR"),
    ),
    stages=(
        Stage(
            name="pre_delinquency",
            rank=1,
            label="Pre-delinquency",
            label_zh="逾期前提醒",
            entry=Condition(due_within_days=3, min_risk=Decimal("0.6")),
        ),
        Stage(
            name="overdue_confirmation",
            rank=2,
            label="Overdue confirmation",
            label_zh="逾期确认",
            entry=Condition(min_dpd=1),
        ),
        Stage(
            name="early_collection",
            rank=3,
            label="Early collection",
            label_zh="初步催收",
            entry=Condition(min_dpd=4),
            min_stay_days=7,
        ),
        Stage(
            name="further_collection",
            rank=4,
            label="Further collection",
            label_zh="进一步催收",
            entry=Condition(
                any_of=(Condition(min_dpd=31), Condition(min_dpd=8, min_broken_promises=2))
            ),
            min_stay_days=14,
        ),
        Stage(
            name="legal",
            rank=5,
            label="Legal",
            label_zh="法律手段",
            entry=Condition(
                min_overdue=_LITIGATION_FLOOR,
                any_of=(Condition(min_dpd=91), Condition(min_dpd=61, min_broken_promises=3)),
            ),
        ),
    ),
)

DEFAULT_STRATEGY = Strategy(
    name="default",
    actions=(
        ActionRule(
            id="pre.sms",
            stage="pre_delinquency",
            channel="sms",
            template="pre_due_reminder",
            days_before_due=3,
        ),
        ActionRule(
            id="confirm.sms",
            stage="overdue_confirmation",
            channel="sms",
            template="overdue_notice",
            fallbacks=("email",),
        ),
        ActionRule(
            id="confirm.email",
            stage="overdue_confirmation",
            channel="email",
            template="overdue_notice",
        ),
        ActionRule(
            id="early.sms",
            stage="early_collection",
            channel="sms",
            template="reminder",
            every_days=3,
            fallbacks=("phone",),
        ),
        ActionRule(
            id="early.call",
            stage="early_collection",
            channel="phone",
            template="reminder",
            on_dpd=5,
            segments=WILLING_SEGMENTS,
        ),
        ActionRule(
            id="early.call.firm",
            stage="early_collection",
            channel="phone",
            template="firm_reminder",
            tone=Tone.FIRM,
            on_dpd=5,
            segments=UNWILLING_SEGMENTS,
        ),
        ActionRule(
            id="early.email",
            stage="early_collection",
            channel="email",
            template="firm_reminder",
            tone=Tone.FIRM,
            every_days=7,
        ),
        ActionRule(
            id="early.letter",
            stage="early_collection",
            channel="letter",
            template="reminder",
        ),
        ActionRule(
            id="further.call",
            stage="further_collection",
            channel="phone",
            template="firm_reminder",
            tone=Tone.FIRM,
            every_days=3,
        ),
        ActionRule(
            id="further.sms",
            stage="further_collection",
            channel="sms",
            template="firm_reminder",
            tone=Tone.FIRM,
            every_days=5,
        ),
        ActionRule(
            id="further.letter",
            stage="further_collection",
            channel="letter",
            template="final_notice",
            tone=Tone.FINAL_NOTICE,
        ),
        ActionRule(
            id="further.visit",
            stage="further_collection",
            channel="visit",
            template="visit_notice",
            tone=Tone.FIRM,
            min_broken_promises=2,
        ),
        ActionRule(
            id="legal.letter",
            stage="legal",
            channel="letter",
            template="legal_warning",
            tone=Tone.LEGAL_WARNING,
        ),
        ActionRule(
            id="arrangement.sms",
            stage="in_arrangement",
            channel="sms",
            template="arrangement_confirmation",
            fallbacks=("email",),
        ),
    ),
    offers=(
        OfferRule(id="early.promise", stage="early_collection", kind=ArrangementKind.PROMISE),
        OfferRule(
            id="early.plan",
            stage="early_collection",
            kind=ArrangementKind.INSTALLMENT_PLAN,
            segments=HARDSHIP_SEGMENTS,
            max_installments=6,
            min_down_fraction="0.1",
        ),
        OfferRule(
            id="early.waiver",
            stage="early_collection",
            kind=ArrangementKind.WAIVER,
            segments=HARDSHIP_SEGMENTS,
            waiver_fraction="0.5",
        ),
        OfferRule(id="further.promise", stage="further_collection", kind=ArrangementKind.PROMISE),
        OfferRule(
            id="further.plan",
            stage="further_collection",
            kind=ArrangementKind.INSTALLMENT_PLAN,
            segments=WILLING_SEGMENTS,
            max_installments=12,
            min_down_fraction="0.2",
        ),
        OfferRule(
            id="further.grace",
            stage="further_collection",
            kind=ArrangementKind.GRACE_PERIOD,
            segments=HARDSHIP_SEGMENTS,
            grace_days=30,
        ),
        OfferRule(
            id="further.settlement",
            stage="further_collection",
            kind=ArrangementKind.SETTLEMENT,
            segments=UNWILLING_SEGMENTS,
            settlement_fraction="0.8",
        ),
        OfferRule(
            id="legal.settlement",
            stage="legal",
            kind=ArrangementKind.SETTLEMENT,
            settlement_fraction="0.7",
        ),
    ),
)
