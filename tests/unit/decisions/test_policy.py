"""Stage policy: entry conditions, catch-up, hysteresis, cure, re-anchoring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from loancollect import ConfigurationError, Money
from loancollect.domain.case import Case
from loancollect.domain.decision import decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.policy import (
    CatchUp,
    Condition,
    Facts,
    Stage,
    StagePolicy,
    evaluate_stage,
    next_threshold_date,
)

DAY = dt.date(2025, 6, 1)


def facts(dpd: int = 0, overdue: str = "500", **kw: object) -> Facts:
    base = {
        "as_of": DAY,
        "dpd": dpd,
        "overdue": Money(overdue if dpd else "0", "CNY"),
        "risk": Decimal("0.3"),
        "segment": "forgetful",
        "broken_promises": 0,
        "flags": frozenset(),
        "next_due_date": DAY + dt.timedelta(days=20),
        "paid_off": False,
        "settled": False,
        "suspended": False,
        "anchor": DAY - dt.timedelta(days=dpd) if dpd else None,
    }
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, "current"),
        (1, "overdue_confirmation"),
        (3, "overdue_confirmation"),
        (4, "early_collection"),
        (30, "early_collection"),
        (31, "further_collection"),
        (90, "further_collection"),
        (91, "legal"),
        (400, "legal"),
    ],
)
def test_default_policy_thresholds_are_inclusive_when_jumping_from_current(
    dpd: int, expected: str
) -> None:
    stage, transition, _ = evaluate_stage(
        DEFAULT_POLICY, "current", None, facts(dpd, overdue="5000")
    )
    assert stage == expected
    assert (transition is None) == (expected == "current")


def test_pre_delinquency_needs_high_risk_and_a_due_date_within_three_days() -> None:
    near = DAY + dt.timedelta(days=3)
    assert (
        evaluate_stage(
            DEFAULT_POLICY, "current", None, facts(risk=Decimal("0.6"), next_due_date=near)
        )[0]
        == "pre_delinquency"
    )
    assert (
        evaluate_stage(
            DEFAULT_POLICY, "current", None, facts(risk=Decimal("0.59"), next_due_date=near)
        )[0]
        == "current"
    )
    far = DAY + dt.timedelta(days=4)
    assert (
        evaluate_stage(
            DEFAULT_POLICY, "current", None, facts(risk=Decimal("0.9"), next_due_date=far)
        )[0]
        == "current"
    )


def test_legal_needs_the_minimum_amount_in_the_loans_currency() -> None:
    small = facts(120, overdue="999.99")
    assert (
        evaluate_stage(DEFAULT_POLICY, "further_collection", DAY - dt.timedelta(days=60), small)[0]
        == "further_collection"
    )
    enough = facts(120, overdue="1000.00")
    assert (
        evaluate_stage(DEFAULT_POLICY, "further_collection", DAY - dt.timedelta(days=60), enough)[0]
        == "legal"
    )


def test_broken_promises_bring_further_collection_forward() -> None:
    since = DAY - dt.timedelta(days=10)
    assert (
        evaluate_stage(DEFAULT_POLICY, "early_collection", since, facts(8, broken_promises=1))[0]
        == "early_collection"
    )
    assert (
        evaluate_stage(DEFAULT_POLICY, "early_collection", since, facts(8, broken_promises=2))[0]
        == "further_collection"
    )
    assert (
        evaluate_stage(DEFAULT_POLICY, "early_collection", since, facts(7, broken_promises=2))[0]
        == "early_collection"
    )


STEP_POLICY = attrs.evolve(
    DEFAULT_POLICY,
    catch_up=CatchUp.STEP,
    stages=tuple(attrs.evolve(s, min_stay_days=0) for s in DEFAULT_POLICY.stages),
)
JUMP_POLICY = attrs.evolve(STEP_POLICY, catch_up=CatchUp.JUMP)


@pytest.mark.parametrize(
    ("policy", "path"),
    [
        (JUMP_POLICY, ["legal"]),
        (STEP_POLICY, ["overdue_confirmation", "early_collection", "further_collection", "legal"]),
    ],
    ids=["jump", "step"],
)
def test_late_evaluation_catches_up_by_jumping_or_stepping(
    policy: StagePolicy, path: list[str]
) -> None:
    # The same case, first evaluated 95 days past due, then again each day.
    stage, since, seen = "current", None, []
    for offset in range(6):
        f = facts(95 + offset, overdue="5000", as_of=DAY + dt.timedelta(days=offset))
        stage, transition, _ = evaluate_stage(policy, stage, since, f)
        if transition is not None:
            seen.append(stage)
            since = f.as_of
    assert seen == path


def test_hysteresis_holds_a_stage_for_its_minimum_stay() -> None:
    entered = DAY - dt.timedelta(days=6)
    stage, transition, stay_ends = evaluate_stage(
        DEFAULT_POLICY, "early_collection", entered, facts(31)
    )
    assert (stage, transition) == ("early_collection", None)
    assert stay_ends == entered + dt.timedelta(days=7)
    stage, transition, _ = evaluate_stage(
        DEFAULT_POLICY, "early_collection", entered, facts(32, as_of=stay_ends)
    )
    assert stage == "further_collection"
    assert transition is not None
    assert transition.reason.startswith("entry condition of further_collection")


@pytest.mark.parametrize(
    "stage",
    ["overdue_confirmation", "early_collection", "further_collection", "legal", "in_arrangement"],
)
def test_paying_up_cures_a_delinquent_case(stage: str) -> None:
    result, transition, _ = evaluate_stage(DEFAULT_POLICY, stage, DAY, facts(0))
    assert result == "cured"
    assert transition is not None
    assert transition.reason == "paid up"


def test_an_amount_within_the_small_balance_tolerance_counts_as_paid_up() -> None:
    assert (
        evaluate_stage(DEFAULT_POLICY, "early_collection", DAY, facts(10, overdue="1.00"))[0]
        == "cured"
    )
    assert (
        evaluate_stage(DEFAULT_POLICY, "early_collection", DAY, facts(10, overdue="1.01"))[0]
        == "early_collection"
    )


def test_a_still_delinquent_case_never_de_escalates() -> None:
    stage, transition, _ = evaluate_stage(DEFAULT_POLICY, "further_collection", DAY, facts(5))
    assert (stage, transition) == ("further_collection", None)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"paid_off": True}, "closed"),
        ({"settled": True}, "settled"),
        ({"flags": frozenset({"written_off"})}, "written_off"),
        ({"suspended": True}, "in_arrangement"),
    ],
)
def test_outcomes_are_entered_by_facts(kw: dict[str, object], expected: str) -> None:
    assert evaluate_stage(DEFAULT_POLICY, "further_collection", DAY, facts(50, **kw))[0] == expected


@pytest.mark.parametrize("terminal", ["closed", "settled", "written_off"])
def test_terminal_outcomes_stay(terminal: str) -> None:
    assert evaluate_stage(DEFAULT_POLICY, terminal, DAY, facts(200)) == (terminal, None, None)


def test_condition_flags_segments_and_any_of() -> None:
    cond = Condition(
        flags_all={"verified"},
        flags_none={"vip"},
        segments={"strategic"},
        any_of=(Condition(min_dpd=10), Condition(min_risk=Decimal("0.9"))),
    )
    ok = facts(12, flags=frozenset({"verified"}), segment="strategic")
    assert cond.holds(ok)
    assert not cond.holds(attrs.evolve(ok, flags=frozenset({"verified", "vip"})))
    assert not cond.holds(attrs.evolve(ok, segment="forgetful"))
    assert not cond.holds(attrs.evolve(ok, dpd=9))
    assert cond.holds(attrs.evolve(ok, dpd=9, risk=Decimal("0.95")))
    assert Condition(max_dpd=5).holds(facts(5))
    assert not Condition(max_dpd=5).holds(facts(6))


def test_next_threshold_is_measured_from_the_anchor() -> None:
    f = facts(10)
    assert next_threshold_date(DEFAULT_POLICY, f) == f.anchor + dt.timedelta(days=31)  # type: ignore[operator]
    assert next_threshold_date(DEFAULT_POLICY, facts(0)) is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Stage(name="cured", rank=1), "reserved"),
        (lambda: Stage(name="x", rank=0), "rank"),
        (
            lambda: StagePolicy(
                name="p", stages=(Stage(name="a", rank=1), Stage(name="b", rank=1))
            ),
            "share a rank",
        ),
        (
            lambda: StagePolicy(
                name="p", stages=(Stage(name="a", rank=1), Stage(name="a", rank=2))
            ),
            "duplicate",
        ),
        (lambda: StagePolicy(name="p", stages=(), pre_delinquency_stage="nope"), "not a stage"),
    ],
)
def test_bad_policies_are_configuration_errors(build: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()  # type: ignore[operator]


def test_re_anchoring_after_a_partial_payment_neither_skips_nor_enters_early(
    make_loan, make_payment
) -> None:  # type: ignore[no-untyped-def]
    ln = make_loan()
    first, second = ln.installments[0].due_date, ln.installments[1].due_date
    case = Case(loan_id=ln.id)
    payments = []
    stages: dict[dt.date, str] = {}
    day = first
    pay_day = first + dt.timedelta(days=40)  # in further collection; installment 2 is 12 days late
    while day <= second + dt.timedelta(days=95):
        if day == pay_day:
            # Installment 1 and its penalty; the rest goes to installment 2, still late.
            extra = Money("100", "CNY")
            payments.append(make_payment(ln, day, ln.installments[0].total + extra))
            case = case.reviewed_by(day)
        d = decide(
            loan=ln,
            payments=payments,
            case=case,
            as_of=day,
            policy=DEFAULT_POLICY,
            strategy=DEFAULT_STRATEGY,
        )
        stages[day] = d.stage
        case = d.case
        day += dt.timedelta(days=1)
    assert stages[first + dt.timedelta(days=31)] == "further_collection"
    # After the payment the anchor is installment 2: DPD drops but the stage stays.
    assert stages[pay_day] == "further_collection"
    # Legal is 91 days from the NEW anchor (not from the first due date).
    assert stages[first + dt.timedelta(days=91)] == "further_collection"
    assert stages[second + dt.timedelta(days=90)] == "further_collection"
    assert stages[second + dt.timedelta(days=91)] == "legal"
