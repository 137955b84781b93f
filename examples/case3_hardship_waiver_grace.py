"""Seed case 3: a family hardship handled flexibly.

The bank learns that a family emergency stopped the borrower paying. A
supervisor waives half of the overdue interest (减免部分利息, within the
supervisor's authority) and grants a 30-day grace period (宽限期) with penalty
suspended. The borrower pays what is due within the grace period: the case is
cured, and the five-category class improves from 关注 back to 正常.

Run: python examples/case3_hardship_waiver_grace.py
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum

from loancollect import (
    Borrower,
    Component,
    ContactKind,
    ContactPoint,
    Loan,
    Money,
    PartyKind,
    Payment,
)
from loancollect.domain.arrangements import (
    DEFAULT_AUTHORITY,
    ApprovalError,
    ArrangementStatus,
    GracePeriod,
)
from loancollect.domain.case import Case, ContactOutcome, OutcomeKind
from loancollect.domain.decision import Decision, decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.overdue import RiskClass

borrower = Borrower(
    id="B-3003",
    kind=PartyKind.INDIVIDUAL,
    name="陈静",
    jurisdiction="CN",
    time_zone="Asia/Shanghai",
    locale="zh_CN",
    contact_points=[ContactPoint(ContactKind.PHONE, "+86 137 1111 2222")],
)
loan = Loan.create(
    id="L-3003",
    borrower=borrower,
    principal=Money("30000.00", "CNY"),
    annual_rate=Decimal("0.09"),
    term=12,
    disbursement_date=dt.date(2025, 1, 20),
)
payments: list[Payment] = []


def pay(day: dt.date, amount: Money) -> None:
    payments.append(
        Payment(
            id=f"P-{len(payments) + 1}",
            loan_id=loan.id,
            amount=amount,
            value_date=day,
            received_at=pendulum.datetime(day.year, day.month, day.day, 15, tz="Asia/Shanghai"),
        )
    )


def run(day: dt.date, case: Case) -> Decision:
    return decide(
        loan=loan,
        payments=payments,
        case=case,
        as_of=day,
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
    )


missed_due = loan.installments[2].due_date  # 2025-04-20
for inst in loan.installments[:2]:
    pay(inst.due_date, inst.total)

case = Case(loan_id=loan.id)
classes: list[tuple[dt.date, RiskClass]] = []
stages: list[tuple[dt.date, str]] = []
hardship_day = missed_due + dt.timedelta(days=15)
paid_day = missed_due + dt.timedelta(days=40)
day = missed_due - dt.timedelta(days=1)
while day <= missed_due + dt.timedelta(days=70):
    if day == hardship_day:
        case = case.with_contact(
            ContactOutcome(day, "phone", OutcomeKind.HARDSHIP_STATED, "family")
        )
        state = run(day, case).assessment
        overdue_interest = state.overdue_interest
        # An agent may waive only 10 % of interest; the supervisor 50 %.
        try:
            DEFAULT_AUTHORITY.approve(
                id="W-1",
                made_on=day,
                component=Component.INTEREST,
                outstanding=overdue_interest,
                role="agent",
                approved_by="agent-7",
                fraction="0.5",
            )
            raise AssertionError("an agent must not waive 50 % of interest")
        except ApprovalError as exc:
            print("refused:", exc)
        waiver = DEFAULT_AUTHORITY.approve(
            id="W-1",
            made_on=day,
            component=Component.INTEREST,
            outstanding=overdue_interest,
            role="supervisor",
            approved_by="sup-2",
            fraction="0.5",
            reason="family hardship",
        )
        grace = GracePeriod(
            id="G-1", made_on=day, until=day + dt.timedelta(days=30), suspend_penalty=True
        )
        case = case.with_arrangement(waiver).with_arrangement(grace)
        waived = waiver.amount
    if day > paid_day and any(i.due_date == day for i in loan.installments):
        pay(day, next(i.total for i in loan.installments if i.due_date == day))
    if day == paid_day:
        due_now = run(day, case).assessment.amount_due
        pay(day, due_now)
        case = case.reviewed_by(day)
    decision = run(day, case)  # daily here, to record the class every day
    classes.append((day, decision.assessment.risk_class))
    if decision.transition is not None:
        stages.append((day, decision.stage))
    case = decision.case
    day += dt.timedelta(days=1)

print("stages:", [(d.isoformat(), s) for d, s in stages])
assert [s for _, s in stages] == [
    "overdue_confirmation",
    "early_collection",
    "in_arrangement",
    "cured",
], stages
by_day = dict(classes)
assert by_day[missed_due] is RiskClass.NORMAL
assert by_day[missed_due + dt.timedelta(days=1)] is RiskClass.SPECIAL_MENTION  # 关注
assert by_day[paid_day - dt.timedelta(days=1)] is RiskClass.SPECIAL_MENTION
assert by_day[paid_day] is RiskClass.NORMAL  # 正常 again
assert RiskClass.NORMAL.label_zh == "正常"
assert RiskClass.SPECIAL_MENTION.label_zh == "关注"
assert dict(stages)[hardship_day] == "in_arrangement"
assert dict(stages)[paid_day] == "cured"
grace_final = next(a for a in case.arrangements if a.id == "G-1")
assert grace_final.status is ArrangementStatus.KEPT
assert grace_final.resolved_on == paid_day

# The waiver reduced what was owed by exactly its amount; no penalty accrued in the grace period.
after = run(paid_day, case).assessment
assert after.waived == waived, (after.waived, waived)
assert after.dpd == 0
assert after.penalty.is_zero()
print(f"case 3 OK: waived {waived}, paid {payments[-1].amount} on {paid_day}, cured; 关注 -> 正常")
