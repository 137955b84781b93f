"""Arrangements: the kept and the broken path of each, approval limits, promise policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from loancollect import Component, Money, ValidationError
from loancollect.domain.arrangements import (
    DEFAULT_AUTHORITY,
    ApprovalAuthority,
    ApprovalError,
    ArrangementStatus,
    GracePeriod,
    PromisePolicy,
    PromiseToPay,
    Settlement,
    Waiver,
    effects,
    evaluate,
    make_plan,
)
from loancollect.domain.case import Case
from loancollect.domain.decision import decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.events import EventKind

CNY = "CNY"
MADE = dt.date(2025, 3, 1)


def cny(x: str) -> Money:
    return Money(x, CNY)


class TestPromise:
    def promise(self, missed_days: int = 0) -> PromiseToPay:
        return PromiseToPay(
            id="PTP",
            made_on=MADE,
            amount=cny("500"),
            due=MADE + dt.timedelta(days=5),
            missed_days=missed_days,
        )

    def test_kept_when_paid_in_full_by_the_date(self, make_loan, make_payment) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        pays = [
            make_payment(ln, MADE + dt.timedelta(days=2), "200"),
            make_payment(ln, MADE + dt.timedelta(days=5), "300", 2),
        ]
        result = evaluate(self.promise(), ln, pays, MADE + dt.timedelta(days=5), dpd=0)
        assert result.status is ArrangementStatus.KEPT
        assert result.resolved_on == MADE + dt.timedelta(days=5)

    def test_kept_within_the_loans_tolerance(self, make_loan, make_payment) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan(tolerance=cny("1.00"))
        result = evaluate(self.promise(), ln, [make_payment(ln, MADE, "499.00")], MADE, dpd=0)
        assert result.status is ArrangementStatus.KEPT
        short = evaluate(self.promise(), ln, [make_payment(ln, MADE, "498.99")], MADE, dpd=0)
        assert short.status is ArrangementStatus.PENDING

    @pytest.mark.parametrize(("missed", "last_pending"), [(0, 5), (2, 7)])
    def test_broken_the_day_after_the_date_plus_missed_days(
        self, make_loan, missed: int, last_pending: int
    ) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        p = self.promise(missed)
        assert (
            evaluate(p, ln, [], MADE + dt.timedelta(days=last_pending), dpd=5).status
            is ArrangementStatus.PENDING
        )
        broken = evaluate(p, ln, [], MADE + dt.timedelta(days=last_pending + 1), dpd=5)
        assert broken.status is ArrangementStatus.BROKEN
        assert broken.resolved_on == MADE + dt.timedelta(days=last_pending + 1)

    def test_a_payment_after_the_date_does_not_keep_it(self, make_loan, make_payment) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        late = [make_payment(ln, MADE + dt.timedelta(days=6), "500")]
        assert (
            evaluate(self.promise(), ln, late, MADE + dt.timedelta(days=6), dpd=0).status
            is ArrangementStatus.BROKEN
        )

    def test_final_statuses_never_change(self, make_loan, make_payment) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        broken = evaluate(self.promise(), ln, [], MADE + dt.timedelta(days=9), dpd=5)
        again = evaluate(
            broken, ln, [make_payment(ln, MADE, "500")], MADE + dt.timedelta(days=9), dpd=0
        )
        assert again.status is ArrangementStatus.BROKEN


class TestPromisePolicy:
    policy = PromisePolicy(min_fraction=Decimal("0.2"), max_days_ahead=14, max_open=1)

    def test_accepts_a_promise_within_the_rules(self) -> None:
        p = self.policy.promise(
            id="p",
            made_on=MADE,
            amount=cny("200"),
            due=MADE + dt.timedelta(days=14),
            amount_due=cny("1000"),
            open_promises=0,
        )
        assert p.status is ArrangementStatus.PENDING

    @pytest.mark.parametrize(
        ("amount", "days", "open_", "field"),
        [
            ("199.99", 5, 0, "promise.amount"),
            ("500", 15, 0, "promise.due"),
            ("500", 5, 1, "promise"),
        ],
    )
    def test_rejects_a_promise_breaking_a_rule(
        self, amount: str, days: int, open_: int, field: str
    ) -> None:
        with pytest.raises(ValidationError) as info:
            self.policy.promise(
                id="p",
                made_on=MADE,
                amount=cny(amount),
                due=MADE + dt.timedelta(days=days),
                amount_due=cny("1000"),
                open_promises=open_,
            )
        assert info.value.field == field


class TestInstallmentPlan:
    def test_plan_parts_sum_exactly_to_the_amount(self) -> None:
        plan = make_plan(
            id="x", made_on=MADE, amount=cny("1000.00"), installments=3, down_payment=cny("100.00")
        )
        assert [a for _, a in plan.schedule] == [cny("300.00")] * 3
        odd = make_plan(id="y", made_on=MADE, amount=cny("100.00"), installments=3)
        assert sum((a.amount for _, a in odd.schedule), Decimal(0)) == Decimal("100.00")
        assert [d for d, _ in odd.schedule] == [
            dt.date(2025, 4, 1),
            dt.date(2025, 5, 1),
            dt.date(2025, 6, 1),
        ]

    def test_completed_when_every_part_is_paid(self, make_loan, make_payment) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        plan = make_plan(
            id="x",
            made_on=MADE,
            amount=cny("900"),
            installments=2,
            down_payment=cny("100"),
            covers_balance=True,
        )
        pays = [
            make_payment(ln, MADE, "100"),
            make_payment(ln, dt.date(2025, 4, 1), "400", 2),
            make_payment(ln, dt.date(2025, 5, 1), "400", 3),
        ]
        assert (
            evaluate(plan, ln, pays[:2], dt.date(2025, 4, 20), dpd=40).status
            is ArrangementStatus.ACTIVE
        )
        done = evaluate(plan, ln, pays, dt.date(2025, 5, 1), dpd=0)
        assert done.status is ArrangementStatus.COMPLETED

    def test_broken_when_a_part_is_missed_beyond_the_allowed_days(
        self, make_loan, make_payment
    ) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        plan = make_plan(
            id="x",
            made_on=MADE,
            amount=cny("900"),
            installments=2,
            down_payment=cny("100"),
            covers_balance=True,
            missed_days=5,
        )
        pays = [make_payment(ln, MADE, "100")]
        assert (
            evaluate(plan, ln, pays, dt.date(2025, 4, 6), dpd=40).status is ArrangementStatus.ACTIVE
        )
        broken = evaluate(plan, ln, pays, dt.date(2025, 4, 7), dpd=40)
        assert broken.status is ArrangementStatus.BROKEN
        assert broken.resolved_on == dt.date(2025, 4, 7)

    def test_a_missing_down_payment_breaks_the_plan(self, make_loan) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        plan = make_plan(
            id="x",
            made_on=MADE,
            amount=cny("900"),
            installments=2,
            down_payment=cny("100"),
            missed_days=3,
        )
        assert (
            evaluate(plan, ln, [], MADE + dt.timedelta(days=4), dpd=20).status
            is ArrangementStatus.BROKEN
        )

    def test_regular_installments_are_owed_on_top_unless_the_plan_covers_the_balance(
        self, make_loan, make_payment
    ) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan(start=dt.date(2025, 2, 10))  # installments due on the 10th
        plan = make_plan(
            id="x",
            made_on=MADE,
            amount=cny("900"),
            installments=1,
            first_date=dt.date(2025, 4, 1),
            missed_days=0,
        )
        only_plan = [make_payment(ln, dt.date(2025, 4, 1), "900")]
        # Installment due 2025-03-10 falls inside the plan and is not paid: broken.
        assert (
            evaluate(plan, ln, only_plan, dt.date(2025, 4, 2), dpd=20).status
            is ArrangementStatus.BROKEN
        )
        both = [*only_plan, make_payment(ln, dt.date(2025, 3, 10), ln.installments[0].total, 2)]
        assert (
            evaluate(plan, ln, both, dt.date(2025, 4, 2), dpd=0).status
            is ArrangementStatus.COMPLETED
        )

    def test_penalty_is_frozen_from_the_day_after_the_plan(self) -> None:
        plan = make_plan(id="x", made_on=MADE, amount=cny("900"), installments=2)
        eff = effects([plan], MADE + dt.timedelta(days=10))
        assert eff.suspends_escalation
        assert [(h.start, h.end) for h in eff.penalty_holds] == [
            (MADE + dt.timedelta(days=1), plan.end)
        ]


class TestWaiver:
    @pytest.mark.parametrize(
        ("role", "component", "fraction", "allowed"),
        [
            ("agent", Component.INTEREST, "0.10", True),
            ("agent", Component.INTEREST, "0.11", False),
            ("supervisor", Component.INTEREST, "0.50", True),
            ("supervisor", Component.INTEREST, "0.51", False),
            ("manager", Component.INTEREST, "1", True),
            ("intern", Component.PENALTY, "0.01", False),
            ("agent", Component.FEES, "0.01", False),
        ],
    )
    def test_approval_limits_per_role(
        self, role: str, component: Component, fraction: str, allowed: bool
    ) -> None:
        outstanding = cny("1000.00")

        def approve() -> Waiver:
            return DEFAULT_AUTHORITY.approve(
                id="w",
                made_on=MADE,
                component=component,
                outstanding=outstanding,
                role=role,
                approved_by="u1",
                fraction=fraction,
            )

        if allowed:
            assert approve().amount == outstanding.multiply(Decimal(fraction))
        else:
            with pytest.raises(ApprovalError, match=role):
                approve()

    def test_by_amount_at_the_exact_limit(self) -> None:
        w = DEFAULT_AUTHORITY.approve(
            id="w",
            made_on=MADE,
            component=Component.INTEREST,
            outstanding=cny("333.33"),
            role="agent",
            approved_by="u",
            amount=cny("33.33"),
        )
        assert w.amount == cny("33.33")
        with pytest.raises(ApprovalError):
            DEFAULT_AUTHORITY.approve(
                id="w",
                made_on=MADE,
                component=Component.INTEREST,
                outstanding=cny("333.33"),
                role="agent",
                approved_by="u",
                amount=cny("33.34"),
            )

    def test_principal_is_never_waived(self) -> None:
        with pytest.raises(ValidationError, match="principal"):
            Waiver(
                id="w",
                made_on=MADE,
                component=Component.PRINCIPAL,
                amount=cny("1"),
                approved_by="u",
                role="manager",
            )

    def test_a_bad_authority_table_is_a_configuration_error(self) -> None:
        with pytest.raises(Exception, match="component"):
            ApprovalAuthority.of([("agent", "tips", "0.1")])

    def test_the_waiver_reduces_what_assessment_and_allocation_see(self, make_loan) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        due = ln.installments[0].due_date
        case = Case(loan_id=ln.id)
        before = decide(
            loan=ln,
            payments=[],
            case=case,
            as_of=due + dt.timedelta(days=20),
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        waiver = Waiver(
            id="w",
            made_on=due + dt.timedelta(days=20),
            component=Component.INTEREST,
            amount=cny("50.00"),
            approved_by="s",
            role="supervisor",
        )
        after = decide(
            loan=ln,
            payments=[],
            case=case.with_arrangement(waiver),
            as_of=due + dt.timedelta(days=20),
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        assert before.assessment.overdue_interest - after.assessment.overdue_interest == cny(
            "50.00"
        )
        assert after.assessment.waived == cny("50.00")


class TestGraceAndSettlement:
    def test_grace_period_kept_when_current_by_its_end(self, make_loan) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        g = GracePeriod(id="g", made_on=MADE, until=MADE + dt.timedelta(days=30))
        assert (
            evaluate(g, ln, [], MADE + dt.timedelta(days=30), dpd=45).status
            is ArrangementStatus.ACTIVE
        )
        assert (
            evaluate(g, ln, [], MADE + dt.timedelta(days=10), dpd=0).status
            is ArrangementStatus.KEPT
        )
        broken = evaluate(g, ln, [], MADE + dt.timedelta(days=31), dpd=46)
        assert broken.status is ArrangementStatus.BROKEN

    def test_grace_period_suspends_escalation_and_optionally_penalty(self) -> None:
        g = GracePeriod(
            id="g", made_on=MADE, until=MADE + dt.timedelta(days=30), suspend_penalty=True
        )
        eff = effects([g], MADE)
        assert eff.suspends_escalation
        assert len(eff.penalty_holds) == 1
        assert (
            effects(
                [GracePeriod(id="g", made_on=MADE, until=MADE + dt.timedelta(days=30))], MADE
            ).penalty_holds
            == ()
        )

    def test_settlement_paid_in_full_settles_and_writes_off_the_rest(
        self, make_loan, make_payment
    ) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        day = ln.installments[2].due_date + dt.timedelta(days=40)
        case = Case(
            loan_id=ln.id, stage="further_collection", stage_since=day - dt.timedelta(days=20)
        )
        s = Settlement(id="s", made_on=day, amount=cny("8000"), due=day + dt.timedelta(days=10))
        case = case.with_arrangement(s)
        pays = [make_payment(ln, day + dt.timedelta(days=3), "8000")]
        d = decide(
            loan=ln,
            payments=pays,
            case=case,
            as_of=day + dt.timedelta(days=3),
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        assert d.stage == "settled"
        assert d.assessment.is_paid_off
        assert d.assessment.waived.is_positive()
        assert any(e.kind is EventKind.ARRANGEMENT_COMPLETED for e in d.events)
        assert d.next_review_date is None

    def test_settlement_unpaid_breaks_and_the_case_re_escalates(self, make_loan) -> None:  # type: ignore[no-untyped-def]
        ln = make_loan()
        day = ln.installments[0].due_date + dt.timedelta(days=40)
        case = Case(
            loan_id=ln.id, stage="further_collection", stage_since=day - dt.timedelta(days=9)
        )
        case = case.with_arrangement(
            Settlement(id="s", made_on=day, amount=cny("8000"), due=day + dt.timedelta(days=10))
        )
        d1 = decide(
            loan=ln,
            payments=[],
            case=case,
            as_of=day,
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        assert d1.stage == "in_arrangement"
        assert d1.actions == ()  # contact suppressed while the settlement is pending
        d2 = decide(
            loan=ln,
            payments=[],
            case=d1.case,
            as_of=day + dt.timedelta(days=11),
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        assert any(e.kind is EventKind.ARRANGEMENT_BROKEN for e in d2.events)
        assert d2.stage == "further_collection"
