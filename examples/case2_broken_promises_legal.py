"""Seed case 2: a long-overdue borrower ignores every reminder and breaks promises.

The case escalates through early and further collection; after the third broken
promise and 61 days past due it enters the legal stage (法律手段) and litigation
is recommended. Runs day by day and checks the stages, actions and dates.

Run: python examples/case2_broken_promises_legal.py
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loancollect import Borrower, ContactKind, ContactPoint, Loan, Money, PartyKind
from loancollect.domain.arrangements import ArrangementStatus, PromiseToPay
from loancollect.domain.case import Case, ContactOutcome, OutcomeKind
from loancollect.domain.decision import decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.events import EventKind

borrower = Borrower(
    id="B-2002",
    kind=PartyKind.INDIVIDUAL,
    name="王强",
    jurisdiction="CN",
    time_zone="Asia/Shanghai",
    locale="zh_CN",
    contact_points=[
        ContactPoint(ContactKind.PHONE, "+86 139 0000 1234"),
        ContactPoint(ContactKind.EMAIL, "wq@example.cn"),
        ContactPoint(ContactKind.ADDRESS, "广州市天河区体育西路1号"),
    ],
)
loan = Loan.create(
    id="L-2002",
    borrower=borrower,
    principal=Money("50000.00", "CNY"),
    annual_rate=Decimal("0.0435"),
    term=24,
    disbursement_date=dt.date(2025, 1, 10),
)
first_due = loan.installments[0].due_date  # 2025-02-10: never paid

# Days past due on which the borrower answers a call and promises to pay in 5 days.
promise_on_dpd = (8, 14, 40)
case = Case(loan_id=loan.id)
stages: dict[str, dt.date] = {}
channels_used: dict[str, list[dt.date]] = {}
events = []
day = first_due - dt.timedelta(days=5)
while day <= first_due + dt.timedelta(days=120):
    dpd = (day - first_due).days
    if dpd in promise_on_dpd:
        case = case.with_contact(ContactOutcome(day, "phone", OutcomeKind.PROMISE))
        case = case.with_arrangement(
            PromiseToPay(
                id=f"PTP-{dpd}",
                made_on=day,
                amount=Money("2000.00", "CNY"),
                due=day + dt.timedelta(days=5),
            )
        )
    if case.next_review_date is None or case.next_review_date <= day:
        decision = decide(
            loan=loan,
            payments=[],
            case=case,
            as_of=day,
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        if decision.transition is not None:
            stages.setdefault(decision.stage, day)
        for action in decision.actions:
            channels_used.setdefault(action.rule_id, []).append(day)
        events.extend(decision.events)
        case = decision.case
    day += dt.timedelta(days=1)

print("stages entered:", {s: d.isoformat() for s, d in stages.items()})
assert stages["overdue_confirmation"] == first_due + dt.timedelta(days=1)
assert stages["early_collection"] == first_due + dt.timedelta(days=4)
# Two broken promises and 8+ days past due: further collection early (not waiting for day 31).
second_broken = first_due + dt.timedelta(days=14 + 5 + 1)
assert stages["further_collection"] == second_broken, stages["further_collection"]
# Third promise broken at dpd 46 but the legal threshold with 3 broken promises is dpd 61.
assert stages["legal"] == first_due + dt.timedelta(days=61), stages["legal"]
assert case.broken_promises == 3
assert all(p.status is ArrangementStatus.BROKEN for p in case.promises)
assert "litigation_recommended" in case.flags
assert any(e.kind is EventKind.LITIGATION_RECOMMENDED for e in events)
# A field visit follows the second broken promise; a pre-litigation demand letter follows legal.
assert channels_used["further.visit"] == [second_broken]
assert channels_used["legal.letter"] == [stages["legal"]]
# No contact while a promise was pending (e.g. the three days after the first promise).
for rule, days in channels_used.items():
    for d in days:
        for dpd0 in promise_on_dpd:
            made = first_due + dt.timedelta(days=dpd0)
            assert not (made < d <= made + dt.timedelta(days=5)), (rule, d)
print("case 2 OK: promises broken, legal stage on", stages["legal"], "- litigation recommended")
