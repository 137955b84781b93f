"""Allocation: named waterfalls, configurable rules, overpayment as credit, conservation."""

from __future__ import annotations

import pytest
from tests.unit.builders import cny, d

from loancollect import (
    HORIZONTAL,
    PRINCIPAL_FIRST,
    VERTICAL,
    Component,
    ConfigurationError,
    CurrencyMismatchError,
    DueItem,
    DueState,
    Money,
    ValidationError,
    Waterfall,
    WaterfallStep,
    allocate,
    waterfall,
)

P, C, F, INT, PR = (
    Component.PENALTY,
    Component.COMPOUND,
    Component.FEES,
    Component.INTEREST,
    Component.PRINCIPAL,
)


def items(state2: DueState = DueState.PAST_DUE) -> list[DueItem]:
    """Two installments, each with penalty 10, fees 5, interest 20 and principal 100."""
    out = []
    for number, due, state in ((1, "2025-02-15", DueState.PAST_DUE), (2, "2025-03-15", state2)):
        for component, amount in ((P, "10.00"), (F, "5.00"), (INT, "20.00"), (PR, "100.00")):
            out.append(DueItem(number, d(due), component, cny(amount), state))
    return out


def paid(result: object) -> list[tuple[int, str, str]]:
    return [
        (line.installment, line.component.value, str(line.paid.amount))
        for line in result.lines  # type: ignore[attr-defined]
        if line.paid
    ]


def test_horizontal_settles_the_oldest_installment_completely_first() -> None:
    result = allocate(cny("150.00"), items(), HORIZONTAL)
    assert paid(result) == [
        (1, "penalty", "10.00"),
        (1, "fees", "5.00"),
        (1, "interest", "20.00"),
        (1, "principal", "100.00"),
        (2, "penalty", "10.00"),
        (2, "fees", "5.00"),
    ]


def test_vertical_settles_each_component_across_installments_first() -> None:
    result = allocate(cny("70.00"), items(), VERTICAL)
    assert paid(result) == [
        (1, "penalty", "10.00"),
        (2, "penalty", "10.00"),
        (1, "fees", "5.00"),
        (2, "fees", "5.00"),
        (1, "interest", "20.00"),
        (2, "interest", "20.00"),
    ]


def test_principal_first_pays_all_principal_oldest_first_then_interest() -> None:
    result = allocate(cny("210.00"), items(), PRINCIPAL_FIRST)
    assert paid(result) == [
        (1, "principal", "100.00"),
        (2, "principal", "100.00"),
        (1, "interest", "10.00"),
    ]


def test_default_waterfall_is_horizontal_penalty_compound_fees_interest_principal() -> None:
    assert [s.component for s in HORIZONTAL.steps] == [P, C, F, INT, PR]
    assert allocate(cny("150.00"), items()) == allocate(cny("150.00"), items(), HORIZONTAL)


def test_overpayment_is_returned_as_unapplied_credit() -> None:
    result = allocate(cny("300.00"), items())
    assert result.applied == cny("270.00")
    assert result.unapplied == cny("30.00")


def test_items_not_yet_due_are_not_paid_unless_a_step_names_them() -> None:
    result = allocate(cny("300.00"), items(DueState.FUTURE))
    assert result.applied == cny("135.00")
    assert result.unapplied == cny("165.00")
    prepay = Waterfall.from_rules(
        "prepay",
        [("any", "penalty"), ("any", "interest"), ("any", "principal"), ("future", "principal")],
    )
    result = allocate(cny("300.00"), items(DueState.FUTURE), prepay)
    assert (2, "principal", "100.00") in paid(result)
    assert (2, "interest", "20.00") not in paid(result)


def test_from_rules_builds_a_due_state_by_component_matrix() -> None:
    rules = [
        ("past_due", "penalty"),
        ("past_due", "interest"),
        ("past_due", "principal"),
        ("due", "interest"),
        ("due", "principal"),
        ("past_due", "fees"),
        ("due", "fees"),
        ("due", "penalty"),
    ]
    wf = Waterfall.from_rules("arrears_first", rules)
    result = allocate(cny("260.00"), items(DueState.DUE), wf)
    assert paid(result) == [
        (1, "penalty", "10.00"),
        (1, "interest", "20.00"),
        (1, "principal", "100.00"),
        (2, "interest", "20.00"),
        (2, "principal", "100.00"),
        (1, "fees", "5.00"),
        (2, "fees", "5.00"),
    ]


def test_from_rules_can_be_horizontal() -> None:
    wf = Waterfall.from_rules(
        "h", [("any", "interest"), ("any", "principal"), ("any", "penalty")], axis="horizontal"
    )
    result = allocate(cny("140.00"), items(), wf)
    assert paid(result) == [
        (1, "interest", "20.00"),
        (1, "principal", "100.00"),
        (1, "penalty", "10.00"),
        (2, "interest", "10.00"),
    ]


@pytest.mark.parametrize(
    ("rules", "axis", "message"),
    [
        ([("any", "tips")], "vertical", "component='tips'"),
        ([("overdue", "penalty")], "vertical", "state='overdue'"),
        ([("any", "penalty")], "diagonal", "axis='diagonal'"),
        ([("any", "penalty"), ("*", "penalty")], "vertical", "appears twice"),
        ([], "vertical", "at least one step"),
    ],
)
def test_bad_rules_are_configuration_errors_naming_the_value(
    rules: list[tuple[str, str]], axis: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Waterfall.from_rules("bad", rules, axis)


def test_named_waterfalls_are_looked_up_by_name() -> None:
    assert waterfall("vertical") is VERTICAL
    with pytest.raises(ConfigurationError, match="'diagonal'"):
        waterfall("diagonal")


def test_a_step_with_no_state_accepts_past_due_and_due_but_not_future() -> None:
    step = WaterfallStep(INT)
    assert step.accepts(INT, DueState.PAST_DUE)
    assert step.accepts(INT, DueState.DUE)
    assert not step.accepts(INT, DueState.FUTURE)
    assert not step.accepts(PR, DueState.DUE)


def test_lines_report_what_remains_of_each_component() -> None:
    result = allocate(cny("25.00"), items())
    last = result.lines[-1]
    assert (last.component, last.paid, last.remaining) == (INT, cny("10.00"), cny("10.00"))


def test_a_zero_payment_pays_nothing() -> None:
    result = allocate(cny("0.00"), items())
    assert result.applied == cny("0.00")
    assert result.unapplied == cny("0.00")


def test_items_in_another_currency_are_refused() -> None:
    other = [DueItem(1, d("2025-02-15"), INT, Money("1.00", "USD"))]
    with pytest.raises(CurrencyMismatchError):
        allocate(cny("1.00"), other)


@pytest.mark.parametrize(
    ("payment", "item_amount", "field"),
    [("-1.00", "1.00", "payment"), ("1.00", "-1.00", "items[0].amount")],
)
def test_negative_amounts_are_refused(payment: str, item_amount: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        allocate(cny(payment), [DueItem(1, d("2025-02-15"), INT, cny(item_amount))])
    assert info.value.field == field
