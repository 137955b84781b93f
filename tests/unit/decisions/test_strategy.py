"""Strategies: cadence, segments, channel fallbacks, champion/challenger assignment."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import pytest

from loancollect import ConfigurationError, PartyKind, assess
from loancollect.domain.case import Case
from loancollect.domain.strategy import (
    ActionRule,
    Experiment,
    Strategy,
    Variant,
    idempotency_key,
    plan_actions,
)


def fire(
    rule: ActionRule,
    ln,
    case: Case,
    day: dt.date,
    stage: str = "early_collection",
    segment: str = "forgetful",
):  # type: ignore[no-untyped-def]
    a = assess(ln, [], day)
    return plan_actions(
        Strategy(name="s", actions=(rule,)),
        loan=ln,
        case=case,
        assessment=a,
        stage=stage,
        segment=segment,
        as_of=day,
    )


def run(
    rule: ActionRule, ln, days: range, stage: str = "early_collection", since: dt.date | None = None
) -> list[int]:  # type: ignore[no-untyped-def]
    """Fire the rule each day (offset from the first due date); return the DPDs it fired on."""
    due = ln.installments[0].due_date
    case = Case(loan_id=ln.id, stage=stage, stage_since=since or due)
    fired = []
    for offset in days:
        day = due + dt.timedelta(days=offset)
        actions, _, _ = fire(rule, ln, case, day, stage)
        for a in actions:
            case = case.with_action(a.rule_id, day)
            fired.append(offset)
    return fired


def test_every_days_repeats_while_in_the_stage(make_loan) -> None:  # type: ignore[no-untyped-def]
    rule = ActionRule(id="r", stage="early_collection", channel="sms", template="t", every_days=3)
    assert run(rule, make_loan(), range(4, 15)) == [4, 7, 10, 13]


def test_on_dpd_fires_once_on_that_day_of_delinquency(make_loan) -> None:  # type: ignore[no-untyped-def]
    rule = ActionRule(id="r", stage="early_collection", channel="phone", template="t", on_dpd=5)
    assert run(rule, make_loan(), range(4, 20)) == [5]
    # Evaluated late (first look at DPD 9), it still fires once.
    assert run(rule, make_loan(), range(9, 20)) == [9]


def test_without_cadence_a_rule_fires_once_per_stage_entry(make_loan) -> None:  # type: ignore[no-untyped-def]
    rule = ActionRule(id="r", stage="early_collection", channel="letter", template="t")
    assert run(rule, make_loan(), range(4, 30)) == [4]


def test_days_before_due_reminds_once_per_due_date(make_loan) -> None:  # type: ignore[no-untyped-def]
    rule = ActionRule(
        id="r", stage="pre_delinquency", channel="sms", template="t", days_before_due=3
    )
    ln = make_loan()
    fired = run(rule, ln, range(-40, 1), stage="pre_delinquency", since=ln.disbursement_date)
    # installment 1 due at offset 0: reminded at -3; nothing on the due date itself.
    assert fired == [-3]


def test_min_dpd_and_broken_promises_and_segments_gate_a_rule(make_loan) -> None:  # type: ignore[no-untyped-def]
    ln = make_loan()
    due = ln.installments[0].due_date
    case = Case(loan_id=ln.id, stage="further_collection", stage_since=due)
    visit = ActionRule(
        id="v", stage="further_collection", channel="visit", template="t", min_broken_promises=2
    )
    assert fire(visit, ln, case, due + dt.timedelta(days=40), "further_collection")[0] == ()
    firm = ActionRule(
        id="f", stage="further_collection", channel="sms", template="t", segments={"strategic"}
    )
    assert (
        fire(firm, ln, case, due + dt.timedelta(days=40), "further_collection", "forgetful")[0]
        == ()
    )
    assert (
        len(fire(firm, ln, case, due + dt.timedelta(days=40), "further_collection", "strategic")[0])
        == 1
    )
    late = ActionRule(id="l", stage="further_collection", channel="sms", template="t", min_dpd=45)
    actions, nxt, _ = fire(late, ln, case, due + dt.timedelta(days=40), "further_collection")
    assert actions == ()
    assert nxt == due + dt.timedelta(days=45)


def test_party_kind_gates_a_rule(make_loan, make_borrower) -> None:  # type: ignore[no-untyped-def]
    ln = make_loan(borrower=make_borrower(PartyKind.COMPANY))
    rule = ActionRule(
        id="r", stage="early_collection", channel="sms", template="t", party=PartyKind.INDIVIDUAL
    )
    assert run(rule, ln, range(4, 6)) == []


def test_a_missing_contact_point_falls_back_to_the_next_channel(make_loan, make_borrower) -> None:  # type: ignore[no-untyped-def]
    ln = make_loan(borrower=make_borrower(contacts=("email",)))
    due = ln.installments[0].due_date
    rule = ActionRule(
        id="r",
        stage="early_collection",
        channel="sms",
        template="t",
        fallbacks=("phone", "email", "letter"),
    )
    actions, _, skipped = fire(
        rule,
        ln,
        Case(loan_id=ln.id, stage="early_collection", stage_since=due),
        due + dt.timedelta(days=5),
    )
    assert [a.channel for a in actions] == ["email"]
    assert actions[0].fallbacks == ("letter",)
    assert actions[0].contact is not None
    assert actions[0].contact.masked == "d***@example.com"
    assert skipped == ()


def test_a_rule_with_no_usable_channel_is_skipped_with_a_reason(make_loan, make_borrower) -> None:  # type: ignore[no-untyped-def]
    ln = make_loan(borrower=make_borrower(contacts=()))
    due = ln.installments[0].due_date
    rule = ActionRule(
        id="r", stage="early_collection", channel="sms", template="t", fallbacks=("email",)
    )
    actions, _, skipped = fire(
        rule,
        ln,
        Case(loan_id=ln.id, stage="early_collection", stage_since=due),
        due + dt.timedelta(days=5),
    )
    assert actions == ()
    assert skipped == ("r: no contact point",)


def test_idempotency_key_is_loan_rule_and_day() -> None:
    assert idempotency_key("L1", "early.sms", dt.date(2025, 3, 1)) == "L1:early.sms:2025-03-01"


def test_experiment_assignment_is_stable_and_follows_the_shares() -> None:
    champion, challenger = Strategy(name="champion"), Strategy(name="challenger")
    exp = Experiment(
        "exp-2025", (Variant("champion", champion, 80), Variant("challenger", challenger, 20))
    )
    first = [exp.assign(f"L{i}").name for i in range(5000)]
    assert first == [exp.assign(f"L{i}").name for i in range(5000)]
    counts = Counter(first)
    assert 0.77 < counts["champion"] / 5000 < 0.83
    # A different experiment name reshuffles the assignment.
    other = attrs.evolve(exp, name="exp-2026")
    assert [other.assign(f"L{i}").name for i in range(200)] != first[:200]


@pytest.mark.parametrize(
    "build",
    [
        lambda: ActionRule(id="r", stage="s", channel="sms", template="t", every_days=3, on_dpd=5),
        lambda: ActionRule(id="r", stage="s", channel="sms", template="t", every_days=0),
        lambda: Strategy(
            name="s", actions=(ActionRule(id="r", stage="s", channel="c", template="t"),) * 2
        ),
        lambda: Experiment("e", ()),
        lambda: Experiment(
            "e", (Variant("a", Strategy(name="a"), 1), Variant("a", Strategy(name="b"), 1))
        ),
    ],
)
def test_bad_strategies_are_configuration_errors(build: object) -> None:
    with pytest.raises(ConfigurationError):
        build()  # type: ignore[operator]
