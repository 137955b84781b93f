"""Overdue assessment: DPD, statuses, penalty and compound accrual, caps, buckets, classes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from tests.unit.builders import cny, d, loan, payment, single_installment_loan

from loancollect import (
    CN_ONE_YEAR_LPR,
    PRINCIPAL_FIRST,
    Adjustment,
    AgingBuckets,
    AssessmentConfig,
    Component,
    ConfigurationError,
    CurrencyMismatchError,
    DateRange,
    DayCount,
    FloatNotAllowedError,
    InstallmentStatus,
    LprTable,
    Money,
    PenaltyTerms,
    RiskClass,
    RiskClassThresholds,
    ValidationError,
    Waterfall,
    assess,
)

# A 10,000 principal due 2025-02-15 at 6 % + 50 % = 9 % ACT/360: 2.50 a day.
TEN_K = {"principal": "10000.00", "due": "2025-02-15"}


def ten_k(**overrides: object):  # type: ignore[no-untyped-def]
    return single_installment_loan(**{**TEN_K, **overrides})  # type: ignore[arg-type]


# -- days past due -------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "dpd"),
    [
        ("2025-02-14", 0),
        ("2025-02-15", 0),
        ("2025-02-16", 1),
        ("2025-03-15", 28),
        ("2025-03-16", 29),
        ("2025-05-16", 90),
        ("2026-02-15", 365),
    ],
)
def test_dpd_counts_from_the_oldest_unpaid_due_date_which_is_day_zero(as_of: str, dpd: int) -> None:
    assert assess(loan(), [], d(as_of)).dpd == dpd


@pytest.mark.parametrize(
    ("due", "as_of", "dpd"),
    [
        ("2024-02-28", "2024-03-01", 2),
        ("2025-02-28", "2025-03-01", 1),
        ("2024-01-31", "2024-02-29", 29),
        ("2024-12-31", "2025-01-01", 1),
        ("2024-02-29", "2025-02-28", 365),
        ("2023-03-01", "2024-03-01", 366),
    ],
)
def test_dpd_across_month_ends_and_leap_years_is_actual_days(
    due: str, as_of: str, dpd: int
) -> None:
    subject = single_installment_loan(principal="100.00", due=due)
    assert assess(subject, [], d(as_of)).dpd == dpd


def test_a_partial_payment_does_not_cure() -> None:
    result = assess(loan(), [payment("8000.00", "2025-02-15")], d("2025-03-01"))
    assert result.dpd == 14
    assert result.installments[0].status is InstallmentStatus.PARTLY_PAID


def test_paying_the_oldest_installment_moves_dpd_to_the_next_unpaid_one() -> None:
    late = payment("8606.64", "2025-03-20")
    result = assess(loan(), [late], d("2025-03-25"))
    assert result.oldest_unpaid_due_date == d("2025-02-15")  # penalty-first: principal left
    paid_in_full = payment("9000.00", "2025-03-20")
    result = assess(loan(), [paid_in_full], d("2025-03-25"))
    assert result.oldest_unpaid_due_date == d("2025-03-15")
    assert result.dpd == 10


def test_penalty_alone_outstanding_does_not_make_a_loan_late() -> None:
    # Principal paid 10 days late with a principal-first waterfall; the penalty stays owed.
    config = AssessmentConfig(waterfall=PRINCIPAL_FIRST)
    result = assess(ten_k(), [payment("10000.00", "2025-02-25")], d("2025-03-01"), config=config)
    assert result.penalty == cny("25.00")
    assert result.dpd == 0
    assert result.installments[0].status is InstallmentStatus.PAID
    assert result.amount_due == cny("25.00")


def test_amounts_at_or_below_the_tolerance_do_not_make_an_installment_overdue() -> None:
    subject = loan(tolerance=cny("1.00"))
    result = assess(subject, [payment("8605.64", "2025-02-15")], d("2025-03-01"))
    assert result.dpd == 0
    assert result.installments[0].status is InstallmentStatus.PAID
    result = assess(subject, [payment("8605.63", "2025-02-15")], d("2025-03-01"))
    assert result.dpd == 14


def test_grace_days_reduce_delinquent_days_but_not_dpd() -> None:
    result = assess(ten_k(grace_days=5), [], d("2025-03-17"))
    assert result.dpd == 30
    assert result.delinquent_days == 25
    assert result.penalty == cny("75.00")


def test_delinquent_days_never_go_below_zero_inside_the_grace_period() -> None:
    result = assess(ten_k(grace_days=5), [], d("2025-02-18"))
    assert (result.dpd, result.delinquent_days) == (3, 0)


def test_paused_days_are_taken_off_delinquent_days() -> None:
    pause = DateRange(d("2025-03-01"), d("2025-03-10"))
    result = assess(ten_k(grace_days=3), [], d("2025-03-17"), pauses=[pause])
    assert result.dpd == 30
    assert result.delinquent_days == 30 - 3 - 10


def test_a_pause_before_the_due_date_does_not_count() -> None:
    pause = DateRange(d("2025-02-01"), d("2025-02-15"))
    assert assess(ten_k(), [], d("2025-03-17"), pauses=[pause]).delinquent_days == 30


# Due 2025-02-15 with 5 grace days: the grace period is 02-16 .. 02-20, delinquency
# counts from 02-21; on 2025-03-17 DPD is 30 and, without pauses, 25 days are delinquent.
@pytest.mark.parametrize(
    ("start", "end", "delinquent"),
    [
        # before the due date and into the grace period: nothing after grace is paused
        ("2025-02-10", "2025-02-18", 25),
        # wholly inside the grace period: grace days are not delinquent anyway
        ("2025-02-16", "2025-02-20", 25),
        ("2025-02-17", "2025-02-19", 25),
        # spanning the end of the grace period: only 02-21 and 02-22 come off
        ("2025-02-18", "2025-02-22", 23),
        # starting on the first delinquent day
        ("2025-02-21", "2025-02-25", 20),
        # after the grace period
        ("2025-03-01", "2025-03-10", 15),
        # running past as_of: only the days up to as_of count
        ("2025-03-15", "2025-04-30", 22),
        # the whole life of the debt
        ("2025-01-01", "2025-12-31", 0),
    ],
)
def test_pause_days_inside_the_grace_period_are_taken_off_once(
    start: str, end: str, delinquent: int
) -> None:
    pause = DateRange(d(start), d(end))
    result = assess(ten_k(grace_days=5), [], d("2025-03-17"), pauses=[pause])
    assert (result.dpd, result.delinquent_days) == (30, delinquent)


def test_overlapping_pauses_count_their_common_days_once() -> None:
    pauses = [
        DateRange(d("2025-03-01"), d("2025-03-10")),
        DateRange(d("2025-03-05"), d("2025-03-12")),
    ]
    result = assess(ten_k(grace_days=5), [], d("2025-03-17"), pauses=pauses)
    assert result.delinquent_days == 25 - 12


# -- statuses ------------------------------------------------------------------


def test_each_installment_reports_its_status_on_the_assessment_date() -> None:
    payments = [payment("8606.64", "2025-02-15"), payment("100.00", "2025-03-15")]
    result = assess(loan(), payments, d("2025-04-15"))
    statuses = [s.status for s in result.installments[:5]]
    assert statuses == [
        InstallmentStatus.PAID,
        InstallmentStatus.PARTLY_PAID,
        InstallmentStatus.DUE_TODAY,
        InstallmentStatus.FUTURE,
        InstallmentStatus.FUTURE,
    ]
    assert not result.installments[2].is_overdue
    assert result.installments[1].is_overdue


def test_an_unpaid_past_installment_is_overdue() -> None:
    result = assess(loan(), [], d("2025-02-16"))
    assert result.installments[0].status is InstallmentStatus.OVERDUE
    assert result.installments[0].paid == cny("0.00")


# -- penalty and compound interest ---------------------------------------------


def test_penalty_accrues_from_the_day_after_the_due_date() -> None:
    assert assess(ten_k(), [], d("2025-02-15")).penalty == cny("0.00")
    assert assess(ten_k(), [], d("2025-02-16")).penalty == cny("2.50")
    assert assess(ten_k(), [], d("2025-03-17")).penalty == cny("75.00")


def test_a_payment_changes_the_penalty_base_from_the_next_day() -> None:
    # 10 days on 10,000 (25.00), then the payment pays the 25.00 penalty and 3,975.00
    # principal; 20 days on 6,025.00 = 30.125 -> 30.13, rounded once as its own charge.
    result = assess(ten_k(), [payment("4000.00", "2025-02-25")], d("2025-03-17"))
    first = result.installments[0]
    assert first.principal == cny("6025.00")
    assert result.penalty == cny("30.13")
    assert first.paid == cny("4000.00")


def test_penalty_is_rounded_once_per_charge_not_per_day() -> None:
    # PEN-02: 30 days ACT/365F on 10,000 at 9 % = 73.9726 -> 73.97; daily rounding gives 74.10.
    subject = ten_k(day_count=DayCount.ACT_365F)
    assert assess(subject, [], d("2025-03-17")).penalty == cny("73.97")


def test_compound_interest_accrues_on_overdue_interest_at_the_penalty_rate() -> None:
    subject = ten_k(interest="500.00", compound=True)
    result = assess(subject, [], d("2025-03-17"))
    assert result.penalty == cny("75.00")
    assert result.compound_interest == cny("3.75")


def test_an_explicit_penalty_rate_overrides_the_markup() -> None:
    subject = ten_k(penalty_rate="0.18")
    assert assess(subject, [], d("2025-03-17")).penalty == cny("150.00")


def test_no_penalty_accrues_during_a_penalty_hold() -> None:
    hold = DateRange(d("2025-03-01"), d("2025-03-10"))
    result = assess(ten_k(), [], d("2025-03-17"), penalty_holds=[hold])
    assert result.penalty == cny("50.00")


def test_penalty_may_start_after_the_grace_period() -> None:
    subject = ten_k(
        grace_days=5,
        penalty=PenaltyTerms(markup=Decimal("0.5"), compound=False, accrue_from_grace_end=True),
    )
    assert assess(subject, [], d("2025-02-20")).penalty == cny("0.00")
    assert assess(subject, [], d("2025-03-17")).penalty == cny("62.50")


def test_a_zero_penalty_rate_accrues_nothing() -> None:
    subject = ten_k(markup="0", annual_rate="0")
    assert assess(subject, [], d("2026-02-15")).penalty == cny("0.00")


def test_an_explicit_cap_rate_limits_the_penalty_and_reports_the_excess() -> None:
    subject = ten_k(
        penalty=PenaltyTerms(markup=Decimal("0.5"), cap_rate=Decimal("0.06"), compound=True)
    )
    result = assess(subject, [], d("2025-03-17"))
    assert result.penalty_capped
    assert result.penalty == cny("50.00")
    assert result.penalty_excess == cny("25.00")


def test_private_lending_cap_uses_the_lpr_at_the_contract_date() -> None:
    # Contract 2025-06-01: LPR 3.00 %, cap 12 %. Agreed 24 % on 100,000 for 60 days ACT/365F.
    subject = single_installment_loan(
        principal="100000.00",
        due="2025-12-01",
        penalty_rate="0.24",
        day_count=DayCount.ACT_365F,
        private_lending=True,
        contract_date=d("2025-06-01"),
    )
    result = assess(subject, [], d("2026-01-30"))
    assert result.penalty == cny("1972.60")
    assert result.penalty + result.penalty_excess == cny("3945.21")


def test_private_lending_without_a_contract_date_uses_the_disbursement_date() -> None:
    # Disbursed 2024-09-21 (30 days before the due date): LPR 3.35 %, cap 13.4 %.
    subject = single_installment_loan(
        principal="100000.00",
        due="2024-10-21",
        penalty_rate="0.24",
        day_count=DayCount.ACT_365F,
        private_lending=True,
    )
    result = assess(subject, [], d("2024-11-20"))
    assert result.penalty == cny("1101.37")  # 100,000 x 13.4 % x 30 / 365 = 1101.369...


def test_a_cap_that_does_not_bind_leaves_the_penalty_alone_and_switches_off_compound() -> None:
    subject = ten_k(interest="500.00", compound=True, private_lending=True)
    result = assess(subject, [], d("2025-03-17"))
    assert not result.penalty_capped
    assert result.penalty == cny("75.00")
    assert result.penalty_excess == cny("0.00")
    assert result.compound_interest == cny("0.00")


def test_lpr_table_gives_the_rate_in_force_on_a_day() -> None:
    assert CN_ONE_YEAR_LPR.rate_on(d("2025-06-01")) == Decimal("0.03")
    assert CN_ONE_YEAR_LPR.rate_on(d("2025-05-19")) == Decimal("0.031")
    assert CN_ONE_YEAR_LPR.rate_on(d("2025-05-20")) == Decimal("0.03")


def test_lpr_table_has_no_rate_before_its_first_entry() -> None:
    with pytest.raises(ConfigurationError, match="2019-08-20"):
        CN_ONE_YEAR_LPR.rate_on(d("2019-01-01"))


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ([("2025-01-01", 0.03)], FloatNotAllowedError),
        ([("2025-01-01", "3")], ValidationError),
        ([], ConfigurationError),
        ([("2025-01-01", "0.03"), ("2025-01-01", "0.04")], ConfigurationError),
    ],
)
def test_bad_lpr_tables_are_refused(entries: list[tuple[str, object]], error: type) -> None:
    with pytest.raises(error):
        LprTable.of(entries)


def test_a_custom_lpr_table_and_multiple_come_from_the_config() -> None:
    config = AssessmentConfig(
        lpr=LprTable.of([("2020-01-01", "0.05")]), private_lending_lpr_multiple=Decimal(2)
    )
    subject = single_installment_loan(
        principal="100000.00", due="2025-12-01", penalty_rate="0.24", private_lending=True
    )
    result = assess(subject, [], d("2025-12-31"), config=config)
    assert result.penalty == cny("833.33")  # 10 % x 30 / 360


# -- payments, credit, payoff --------------------------------------------------


def test_overpayment_becomes_a_credit_that_settles_the_next_installment_when_due() -> None:
    pays = [payment("10000.00", "2025-02-15")]
    before = assess(loan(), pays, d("2025-03-01"))
    assert before.credit_balance == cny("1393.36")
    assert before.amount_due == cny("0.00")
    on_due = assess(loan(), pays, d("2025-03-15"))
    assert on_due.credit_balance == cny("0.00")
    assert on_due.installments[1].principal == cny("7213.28")
    assert on_due.due_today == cny("7213.28")
    assert [idx for idx, _ in on_due.allocations][-1] == -1
    after = assess(loan(), pays, d("2025-03-16"))
    assert after.dpd == 1


def test_payoff_includes_interest_accrued_in_the_current_period_less_credit() -> None:
    result = assess(loan(), [payment("8606.64", "2025-02-15")], d("2025-03-01"))
    # 91,893.36 principal + 459.47 x 14 / 28 days of the running period.
    assert result.payoff_amount == cny("92123.10")
    assert result.outstanding_principal == cny("91893.36")
    with_credit = assess(loan(), [payment("10000.00", "2025-02-15")], d("2025-03-01"))
    assert with_credit.payoff_amount == cny("92123.10") - cny("1393.36")


def test_amount_due_brings_the_loan_current() -> None:
    result = assess(loan(), [], d("2025-03-15"))
    first = result.installments[0]
    assert result.amount_due == (
        result.overdue_amount + result.due_today + first.penalty + first.compound
    )


def test_paying_everything_pays_the_loan_off() -> None:
    subject = loan()
    pays = [payment(i.total, i.due_date, id=f"P-{i.number}") for i in subject.installments]
    result = assess(subject, pays, subject.maturity_date)
    assert result.is_paid_off
    assert result.total_paid == sum((i.total for i in subject.installments), cny("0.00"))
    assert all(s.status is InstallmentStatus.PAID for s in result.installments)


def test_payments_and_adjustments_after_the_as_of_date_are_ignored() -> None:
    future = payment("9000.00", "2025-03-20")
    waiver = Adjustment(d("2025-03-20"), Component.PENALTY, cny("1.00"))
    result = assess(loan(), [future], d("2025-03-01"), adjustments=[waiver])
    assert result.dpd == 14
    assert result.total_paid == cny("0.00")
    assert result.waived == cny("0.00")


def test_payments_on_the_same_day_apply_in_order_received() -> None:
    morning = payment("100.00", "2025-02-20", id="P-am", hour=9)
    evening = payment("200.00", "2025-02-20", id="P-pm", hour=20)
    result = assess(loan(), [evening, morning], d("2025-02-20"))
    order = [idx for idx, _ in result.allocations]
    assert order[0] == 1
    assert order[-1] == 0


def test_a_waiver_reduces_what_is_owed_and_is_reported() -> None:
    waiver = Adjustment(d("2025-03-01"), Component.PENALTY, cny("10.00"), installment=1)
    result = assess(ten_k(), [], d("2025-03-17"), adjustments=[waiver])
    assert result.waived == cny("10.00")
    assert result.penalty == cny("65.00")


def test_a_waiver_never_reduces_more_than_is_outstanding() -> None:
    waiver = Adjustment(d("2025-03-01"), Component.PENALTY, cny("1000.00"))
    result = assess(ten_k(), [], d("2025-03-17"), adjustments=[waiver])
    assert result.waived == cny("35.00")  # 14 days x 2.50
    assert result.penalty == cny("40.00")  # the 16 days after the waiver


def test_a_custom_waterfall_from_the_config_is_used() -> None:
    config = AssessmentConfig(
        waterfall=Waterfall.from_rules(
            "principal_then_interest", [("any", "principal"), ("any", "interest")]
        )
    )
    result = assess(loan(), [payment("8106.64", "2025-02-15")], d("2025-02-15"), config=config)
    assert result.installments[0].principal == cny("0.00")
    assert result.installments[0].interest == cny("500.00")


def test_assessment_is_deterministic_and_repr_is_readable() -> None:
    first = assess(loan(), [payment("100.00", "2025-02-20")], d("2025-04-01"))
    again = assess(loan(), [payment("100.00", "2025-02-20")], d("2025-04-01"))
    assert first == again
    assert "dpd=45" in repr(first)
    assert "bucket='M2'" in repr(first)


# -- buckets and classes -------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "bucket", "band"),
    [
        (0, "M0", "current"),
        (1, "M1", "1-30"),
        (30, "M1", "1-30"),
        (31, "M2", "31-60"),
        (60, "M2", "31-60"),
        (61, "M3", "61-90"),
        (90, "M3", "61-90"),
        (91, "M4", "90+"),
        (120, "M4", "90+"),
        (150, "M5", "90+"),
        (180, "M6", "90+"),
        (181, "M7+", "90+"),
        (1000, "M7+", "90+"),
    ],
)
def test_aging_buckets_m0_to_m7_plus(dpd: int, bucket: str, band: str) -> None:
    assert AgingBuckets().bucket(dpd) == bucket
    result = assess(
        single_installment_loan(principal="100.00", due="2025-02-15"),
        [],
        d("2025-02-15") + dt.timedelta(days=dpd),
    )
    assert (result.bucket, result.dpd_band) == (bucket, band)


@pytest.mark.parametrize(
    ("dpd", "risk_class", "npl"),
    [
        (0, RiskClass.NORMAL, False),
        (1, RiskClass.SPECIAL_MENTION, False),
        (90, RiskClass.SPECIAL_MENTION, False),
        (91, RiskClass.SUBSTANDARD, True),
        (270, RiskClass.SUBSTANDARD, True),
        (271, RiskClass.DOUBTFUL, True),
        (360, RiskClass.DOUBTFUL, True),
        (361, RiskClass.LOSS, True),
    ],
)
def test_five_category_floors_of_the_2023_prc_measures(
    dpd: int, risk_class: RiskClass, npl: bool
) -> None:
    assert RiskClassThresholds().classify(dpd) is risk_class
    assert risk_class.is_npl is npl


def test_risk_class_labels() -> None:
    assert [c.label_zh for c in RiskClass] == ["正常", "关注", "次级", "可疑", "损失"]
    assert RiskClass.SPECIAL_MENTION.code == "special_mention"


def test_thresholds_and_buckets_are_configuration() -> None:
    config = AssessmentConfig(
        buckets=AgingBuckets((0, 7), ("current", "early", "late")),
        risk_thresholds=RiskClassThresholds(special_mention=31, substandard=61),
    )
    result = assess(loan(), [], d("2025-03-17"), config=config)
    assert (result.dpd, result.bucket, result.risk_class) == (30, "late", RiskClass.NORMAL)


@pytest.mark.parametrize(
    "build",
    [
        lambda: RiskClassThresholds(special_mention=0),
        lambda: RiskClassThresholds(substandard=300, doubtful=271),
        lambda: AgingBuckets((0, 30), ("M0", "M1")),
        lambda: AgingBuckets((30, 0), ("a", "b", "c")),
        lambda: AgingBuckets((-1, 30), ("a", "b", "c")),
    ],
)
def test_bad_thresholds_and_buckets_are_configuration_errors(build: object) -> None:
    with pytest.raises(ConfigurationError):
        build()  # type: ignore[operator]


# -- input checks --------------------------------------------------------------


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(ValidationError, match="as_of"):
        assess(loan(), [], dt.datetime(2025, 3, 1))


def test_a_payment_of_another_loan_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"payments\[0\]\.loan_id"):
        assess(loan(), [payment("1.00", "2025-02-15", loan_id="L-2")], d("2025-03-01"))


def test_an_adjustment_in_another_currency_or_for_a_missing_installment_is_refused() -> None:
    usd = Adjustment(d("2025-03-01"), Component.PENALTY, Money("1.00", "USD"))
    with pytest.raises(CurrencyMismatchError):
        assess(loan(), [], d("2025-03-17"), adjustments=[usd])
    missing = Adjustment(d("2025-03-01"), Component.PENALTY, cny("1.00"), installment=13)
    with pytest.raises(ValidationError, match=r"adjustment\.installment"):
        assess(loan(), [], d("2025-03-17"), adjustments=[missing])


def test_an_adjustment_must_be_positive() -> None:
    with pytest.raises(ValidationError, match=r"adjustment\.amount"):
        Adjustment(d("2025-03-01"), Component.PENALTY, cny("0.00"))


def test_assessment_values_are_frozen() -> None:
    result = assess(loan(), [], d("2025-03-01"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.dpd = 0  # type: ignore[misc]
