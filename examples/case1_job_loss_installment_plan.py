"""Seed case 1: a bank calls a borrower who temporarily lost a job.

The agent records the reason, offers an installment plan (分期还款), the borrower
accepts and pays every plan installment (and the regular ones): the case is
cured, and closed when the loan is paid off. Runs day by day and checks the
stages, amounts and dates.

Run: python examples/case1_job_loss_installment_plan.py
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    Loan,
    Money,
    PartyKind,
    Payment,
)
from loancollect.domain.arrangements import ArrangementKind, ArrangementStatus, make_plan
from loancollect.domain.case import Case, ContactOutcome, OutcomeKind
from loancollect.domain.decision import decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY

borrower = Borrower(
    id="B-1001",
    kind=PartyKind.INDIVIDUAL,
    name="李明",
    jurisdiction="CN",
    time_zone="Asia/Shanghai",
    locale="zh_CN",
    contact_points=[
        ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label="mobile"),
        ContactPoint(ContactKind.ADDRESS, "上海市浦东新区世纪大道100号"),
    ],
)
loan = Loan.create(
    id="L-1001",
    borrower=borrower,
    principal=Money("12000.00", "CNY"),
    annual_rate=Decimal("0.12"),
    term=12,
    disbursement_date=dt.date(2025, 1, 15),
)
payments: list[Payment] = []


def pay(day: dt.date, amount: Money) -> None:
    payments.append(
        Payment(
            id=f"P-{len(payments) + 1}",
            loan_id=loan.id,
            amount=amount,
            value_date=day,
            received_at=pendulum.datetime(day.year, day.month, day.day, 10, tz="Asia/Shanghai"),
        )
    )


# The borrower pays installments 1 and 2 on time, then loses the job.
regular_due = {inst.due_date: inst.total for inst in loan.installments}
missed = {dt.date(2025, 4, 15)}

case = Case(loan_id=loan.id)
stages: list[tuple[dt.date, str]] = []
plan_id = "PLAN-1"
plan_made_on = dt.date(2025, 4, 25)
plan_amount: Money | None = None
day = dt.date(2025, 2, 1)
while day <= dt.date(2026, 1, 31):
    if day in regular_due and day not in missed:
        pay(day, regular_due[day])
        case = case.reviewed_by(day)
    if day == plan_made_on:
        # The agent calls: right-party contact, hardship stated (temporary job loss).
        case = case.with_contact(
            ContactOutcome(day, "phone", OutcomeKind.HARDSHIP_STATED, "job loss")
        )
        before = decide(
            loan=loan,
            payments=payments,
            case=case,
            as_of=day,
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        assert before.segment == "hardship", before.segment
        offer = next(o for o in before.offers if o.kind is ArrangementKind.INSTALLMENT_PLAN)
        assert offer.max_installments == 6
        plan_amount = before.assessment.amount_due
        assert offer.min_down_payment is not None
        down = offer.min_down_payment  # 10 % of the amount due, rounded up
        plan = make_plan(
            id=plan_id, made_on=day, amount=plan_amount, installments=3, down_payment=down
        )
        case = before.case.with_arrangement(plan)
        pay(day, down)
    if plan_amount is not None:
        plan_now = next(a for a in case.arrangements if a.id == plan_id)
        for plan_day, part in getattr(plan_now, "schedule", ()):
            if plan_day == day:
                pay(day, part)
                case = case.reviewed_by(day)
    if case.next_review_date is None or case.next_review_date <= day:
        decision = decide(
            loan=loan,
            payments=payments,
            case=case,
            as_of=day,
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        if decision.transition is not None:
            stages.append((day, decision.stage))
        case = decision.case
    day += dt.timedelta(days=1)

names = [s for _, s in stages]
print("stage path:", " -> ".join(f"{d.isoformat()} {s}" for d, s in stages))
assert names == [
    "overdue_confirmation",
    "early_collection",
    "in_arrangement",
    "cured",
    "closed",
], names
assert dict(stages)[dt.date(2025, 4, 16)] == "overdue_confirmation"
assert dict(stages)[dt.date(2025, 4, 19)] == "early_collection"
assert dict(stages)[plan_made_on] == "in_arrangement"
plan_final = next(a for a in case.arrangements if a.id == plan_id)
assert plan_final.status is ArrangementStatus.COMPLETED
# Cured the day the last plan installment arrived (three months after the plan).
assert dict(stages)[dt.date(2025, 7, 25)] == "cured"
assert dict(stages)[dt.date(2026, 1, 15)] == "closed"

# Money: everything scheduled plus the penalty accrued before the plan froze it.
assert plan_amount is not None
final = decide(
    loan=loan,
    payments=payments,
    case=case,
    as_of=dt.date(2026, 1, 31),
    policy=DEFAULT_POLICY,
    strategy=DEFAULT_STRATEGY,
).assessment
scheduled = sum((i.total.amount for i in loan.installments), Decimal(0))
paid = sum((p.amount.amount for p in payments), Decimal(0))
frozen_charges = plan_amount.amount - loan.installments[2].total.amount
print(f"paid {paid} = scheduled {scheduled} + penalty frozen at the plan {frozen_charges}")
assert paid == scheduled + frozen_charges
assert final.is_paid_off
assert final.credit_balance.is_zero()
print("case 1 OK: plan accepted, every installment paid, cured and closed")
