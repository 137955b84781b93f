"""Borrowers, loans, installments and payments: frozen, validated records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pendulum
import pytest
from tests.unit.builders import borrower, cny, d, loan, payment

from loancollect import (
    ContactKind,
    ContactPoint,
    DateRange,
    Frequency,
    Installment,
    Loan,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
    ValidationError,
)


def test_loan_create_computes_the_schedule_and_keeps_the_terms() -> None:
    subject = loan(grace_days=3, product="consumer")
    assert len(subject.installments) == 12
    assert subject.maturity_date == d("2026-01-15")
    assert subject.currency == "CNY"
    assert subject.grace_days == 3
    assert subject.product == "consumer"
    assert subject.method is RepaymentMethod.EQUAL_INSTALLMENT
    assert subject.frequency is Frequency.MONTHLY


def test_records_are_frozen_and_changed_with_evolve() -> None:
    subject = loan()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        subject.grace_days = 5  # type: ignore[misc]
    changed = attrs.evolve(subject, grace_days=5)
    assert changed.grace_days == 5
    assert subject.grace_days == 0
    assert changed.installments == subject.installments


def test_evolve_revalidates() -> None:
    with pytest.raises(ValidationError, match=r"loan\.grace_days"):
        attrs.evolve(loan(), grace_days=-1)


def test_evolve_of_a_borrower_keeps_its_contact_points() -> None:
    person = borrower()
    moved = attrs.evolve(person, time_zone="Asia/Urumqi")
    assert moved.contact_points == person.contact_points
    assert moved.time_zone == "Asia/Urumqi"


def test_the_integer_plan_mirrors_the_installments() -> None:
    subject = loan()
    first = subject.installments[0]
    assert subject.plan[0] == (first.due_date.toordinal(), 810664, 50000, 0)


def test_a_borrower_can_be_a_company_in_a_subdivision() -> None:
    company = borrower(
        id="B-2",
        kind=PartyKind.COMPANY,
        name="Acme Trading Ltd",
        jurisdiction="US-MA",
        time_zone="America/New_York",
        locale="en_US",
        national_id=None,
    )
    assert company.country == "US"
    assert company.contacts(ContactKind.EMAIL)[0].masked == "z***@example.com"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"jurisdiction": "China"}, "borrower.jurisdiction"),
        ({"jurisdiction": "cn"}, "borrower.jurisdiction"),
        ({"time_zone": "Mars/Olympus"}, "borrower.time_zone"),
        ({"locale": "Chinese"}, "borrower.locale"),
        ({"kind": "individual"}, "borrower.kind"),
        ({"id": " "}, "borrower.id"),
        ({"name": ""}, "borrower.name"),
        ({"contact_points": ["+86 138 0013 8000"]}, "borrower.contact_points[0]"),
        ({"monthly_income": cny("-1.00")}, "borrower.monthly_income"),
    ],
)
def test_bad_borrower_fields_are_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        borrower(**overrides)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kind", "value"),
    [(ContactKind.EMAIL, "not-an-email"), (ContactKind.PHONE, "call me"), (ContactKind.PHONE, "")],
)
def test_bad_contact_points_are_refused(kind: ContactKind, value: str) -> None:
    with pytest.raises(ValidationError, match=r"contact_point\.value"):
        ContactPoint(kind, value)


def test_a_contact_point_may_have_its_own_time_zone() -> None:
    work = ContactPoint(ContactKind.PHONE, "+1 617 555 0100", time_zone="America/New_York")
    assert work.time_zone == "America/New_York"
    with pytest.raises(ValidationError, match=r"contact_point\.time_zone"):
        ContactPoint(ContactKind.PHONE, "+1 617 555 0100", time_zone="Nowhere/Town")


def test_installment_total_adds_principal_interest_and_fees() -> None:
    inst = Installment(
        number=1,
        due_date=d("2025-02-15"),
        principal=cny("100.00"),
        interest=cny("5.00"),
        fees=cny("1.50"),
    )
    assert inst.total == cny("106.50")
    assert inst.fee_amount == cny("1.50")


def test_fees_are_allocated_before_interest_in_an_assessment() -> None:
    from loancollect import assess

    subject = Loan(
        id="L-1",
        borrower=borrower(),
        principal=cny("100.00"),
        annual_rate=Decimal("0.06"),
        disbursement_date=d("2025-01-15"),
        installments=(
            Installment(
                number=1,
                due_date=d("2025-02-15"),
                principal=cny("100.00"),
                interest=cny("5.00"),
                fees=cny("2.00"),
            ),
        ),
    )
    result = assess(subject, [payment("3.00", "2025-02-15")], d("2025-02-15"))
    first = result.installments[0]
    assert (first.fees, first.interest) == (cny("0.00"), cny("4.00"))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": 0}, "installment.number"),
        ({"principal": cny("-1.00")}, "installment[1].principal"),
        ({"interest": "5.00"}, "installment[1].interest"),
        ({"due_date": dt.datetime(2025, 2, 15, tzinfo=dt.UTC)}, "installment.due_date"),
    ],
)
def test_bad_installments_are_refused(overrides: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "number": 1,
        "due_date": d("2025-02-15"),
        "principal": cny("100.00"),
        "interest": cny("5.00"),
    }
    fields.update(overrides)
    with pytest.raises(ValidationError) as info:
        Installment(**fields)  # type: ignore[arg-type]
    assert info.value.field == field


def test_installment_principal_must_sum_to_the_loan_principal() -> None:
    subject = loan()
    with pytest.raises(ValidationError, match="must sum to the loan principal"):
        attrs.evolve(subject, installments=subject.installments[:-1])


def test_a_loan_needs_at_least_one_installment() -> None:
    with pytest.raises(ValidationError, match=r"loan\.installments"):
        attrs.evolve(loan(), installments=())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tolerance": cny("-0.01")}, "loan.tolerance"),
        ({"grace_days": 400}, "loan.grace_days"),
        ({"grace_days": True}, "loan.grace_days"),
        ({"id": ""}, "loan.id"),
        ({"borrower": "B-1"}, "loan.borrower"),
    ],
)
def test_bad_loan_terms_are_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        loan(**overrides)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"markup": Decimal("-0.1")}, "penalty.markup"),
        ({"markup": Decimal("11")}, "penalty.markup"),
        ({"rate": Decimal("2")}, "penalty.rate"),
        ({"cap_rate": Decimal("-0.01")}, "penalty.cap_rate"),
        ({"rate": 0.24}, "penalty.rate"),
    ],
)
def test_bad_penalty_terms_are_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        PenaltyTerms(**overrides)  # type: ignore[arg-type]
    assert info.value.field == field


def test_penalty_rate_is_the_contract_rate_times_one_plus_markup() -> None:
    assert PenaltyTerms(markup=Decimal("0.3")).penalty_rate(Decimal("0.0435")) == Decimal("0.05655")
    assert PenaltyTerms(rate=Decimal("0.24")).penalty_rate(Decimal("0.06")) == Decimal("0.24")


def test_payment_received_at_must_be_time_zone_aware() -> None:
    received = pendulum.datetime(2025, 2, 15, 10, tz="Asia/Shanghai")
    ok = Payment("P-1", "L-1", cny("1.00"), d("2025-02-15"), received)
    assert ok.received_at.utcoffset() == dt.timedelta(hours=8)
    with pytest.raises(ValidationError, match="naive datetime"):
        Payment("P-1", "L-1", cny("1.00"), d("2025-02-15"), dt.datetime(2025, 2, 15, 10))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": cny("0.00")}, "payment.amount"),
        ({"amount": cny("-5.00")}, "payment.amount"),
        ({"amount": "5.00"}, "payment.amount"),
        ({"value_date": pendulum.datetime(2025, 2, 15)}, "payment.value_date"),
        ({"received_at": "2025-02-15T10:00:00+08:00"}, "payment.received_at"),
        ({"loan_id": ""}, "payment.loan_id"),
    ],
)
def test_bad_payments_are_refused(overrides: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "id": "P-1",
        "loan_id": "L-1",
        "amount": cny("1.00"),
        "value_date": d("2025-02-15"),
        "received_at": pendulum.datetime(2025, 2, 15, 10, tz="Asia/Shanghai"),
    }
    fields.update(overrides)
    with pytest.raises(ValidationError) as info:
        Payment(**fields)  # type: ignore[arg-type]
    assert info.value.field == field


def test_date_range_is_inclusive_and_counts_overlap_in_a_half_open_window() -> None:
    rng = DateRange(d("2025-03-01"), d("2025-03-10"))
    assert d("2025-03-01") in rng
    assert d("2025-03-10") in rng
    assert d("2025-03-11") not in rng
    assert rng.overlap_days(d("2025-02-28"), d("2025-03-05")) == 5
    assert rng.overlap_days(d("2025-03-01"), d("2025-03-05")) == 4
    assert rng.overlap_days(d("2025-03-10"), d("2025-04-01")) == 0


def test_weekly_loans_are_created_with_the_frequency() -> None:
    subject = loan(frequency=Frequency.WEEKLY, term=4, principal=cny("1000.00"))
    assert [i.due_date for i in subject.installments] == [
        d("2025-01-22"),
        d("2025-01-29"),
        d("2025-02-05"),
        d("2025-02-12"),
    ]
