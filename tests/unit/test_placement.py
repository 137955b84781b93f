"""Placement rules: which cases go out, to which agency (seeded, fair), until when,
and when they come back."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import attrs
import pytest

from loancollect.domain.case import Case, Hold, HoldKind, Placement
from loancollect.domain.commands import PlaceWithAgency, RecallFromAgency
from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money
from loancollect.domain.placement import (
    PlacementFacts,
    PlacementPolicy,
    PlacementRule,
    allocate,
    placement_for,
    recall_reason,
    tier_for,
)
from loancollect.testing import make_case

DAY = dt.date(2025, 6, 2)
CNY = "CNY"


def _policy(seed: int = 7) -> PlacementPolicy:
    return PlacementPolicy(
        seed=seed,
        rules=(
            PlacementRule(
                name="primary",
                tier="primary",
                agencies=("a", "b"),
                term_days=60,
                min_dpd=31,
                max_dpd=90,
                min_balance=Money("500.00", CNY),
                stages=("late",),
            ),
            PlacementRule(
                name="secondary",
                tier="secondary",
                agencies=("a", "b", "c"),
                term_days=90,
                min_dpd=91,
            ),
        ),
    )


def _facts(
    dpd: int = 45, balance: str = "8000.00", previous: tuple[str, ...] = ()
) -> PlacementFacts:
    return PlacementFacts(
        stage="late", segment=None, dpd=dpd, balance=Money(balance, CNY), previous_agencies=previous
    )


def test_the_tier_follows_the_number_of_earlier_placements() -> None:
    assert [tier_for(n) for n in range(3)] == ["primary", "secondary", "tertiary"]
    with pytest.raises(ValidationError, match=r"placement\.previous"):
        tier_for(3)


def test_allocation_is_fixed_per_case_and_spreads_cases_evenly() -> None:
    loans = [f"L-{i}" for i in range(2000)]
    first = [allocate(loan, ("a", "b"), seed=1) for loan in loans]
    assert first == [allocate(loan, ("a", "b"), seed=1) for loan in loans]
    shares = Counter(first)
    assert 900 <= shares["a"] <= 1100
    assert shares["a"] + shares["b"] == 2000
    assert first != [allocate(loan, ("a", "b"), seed=2) for loan in loans], "the seed matters"


def test_weights_give_each_agency_its_share() -> None:
    shares = Counter(allocate(f"L-{i}", ("a", "b"), seed=1, weights=(3, 1)) for i in range(4000))
    assert 2800 <= shares["a"] <= 3200


def test_a_matching_case_is_placed_with_the_drawn_agency_for_the_rule_s_term() -> None:
    case = make_case(stage="late")
    command = placement_for(case, _facts(), _policy(), on=DAY)
    expected_agency = allocate("L-1", ("a", "b"), seed=7, salt="primary")
    assert command == PlaceWithAgency(
        agency=expected_agency,
        placement="L-1/P1",
        tier="primary",
        until=dt.date(2025, 8, 1),
        reason="primary",
    )


@pytest.mark.parametrize(
    ("facts", "why"),
    [
        (_facts(dpd=30), "below the rule's days past due"),
        (_facts(balance="499.99"), "below the minimum balance"),
    ],
)
def test_a_case_outside_every_rule_is_not_placed(facts: PlacementFacts, why: str) -> None:
    assert placement_for(make_case(stage="late"), facts, _policy(), on=DAY) is None, why


def test_a_case_in_another_stage_is_not_placed_by_a_stage_rule() -> None:
    facts = attrs.evolve(_facts(), stage="early")
    assert placement_for(make_case(stage="early"), facts, _policy(), on=DAY) is None


def test_a_second_placement_is_secondary_and_goes_to_an_agency_that_did_not_have_it() -> None:
    command = placement_for(
        make_case(stage="late"), _facts(dpd=120, previous=("a",)), _policy(), on=DAY
    )
    assert command is not None
    assert command.tier == "secondary"
    assert command.agency in ("b", "c")
    assert command.placement == "L-1/P2"
    assert command.until == DAY + dt.timedelta(days=90)


def test_a_fourth_placement_is_never_made() -> None:
    facts = _facts(dpd=200, previous=("a", "b", "c"))
    assert placement_for(make_case(stage="late"), facts, _policy(), on=DAY) is None


def test_no_placement_for_a_case_placed_sold_held_or_complained_of() -> None:
    placed = Placement(agency="a", placement="X", since=DAY)
    held = make_case(stage="late", holds=(Hold(HoldKind.DISPUTE, DAY),))
    for case in (
        make_case(stage="late", placement=placed),
        held,
        make_case(stage="late", flags={"complaint:C-1"}),
    ):
        assert placement_for(case, _facts(), _policy(), on=DAY) is None


def _placed(**overrides: object) -> Case:
    placement = Placement(
        agency="a", placement="L-1/P1", since=DAY, until=DAY + dt.timedelta(days=60)
    )
    return make_case(stage="late", placement=placement, **overrides)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (HoldKind.DISPUTE, "dispute"),
        (HoldKind.BANKRUPTCY, "bankruptcy"),
        (HoldKind.DECEASED, "deceased"),
        (HoldKind.MANUAL, "hold"),
    ],
)
def test_a_hold_recalls_the_case_the_day_it_starts(kind: HoldKind, reason: str) -> None:
    start = DAY + dt.timedelta(days=5)
    case = _placed(holds=(Hold(kind, start),))
    assert recall_reason(case, start - dt.timedelta(days=1), _policy()) is None
    assert recall_reason(case, start, _policy()) == RecallFromAgency(agency="a", reason=reason)


def test_a_complaint_recalls_the_case() -> None:
    case = _placed(flags={"complaint"})
    assert recall_reason(case, DAY, _policy()) == RecallFromAgency(agency="a", reason="complaint")


def test_the_placement_ends_the_day_after_its_term() -> None:
    case = _placed()
    last = DAY + dt.timedelta(days=60)
    assert recall_reason(case, last, _policy()) is None
    assert recall_reason(case, last + dt.timedelta(days=1), _policy()) == RecallFromAgency(
        agency="a", reason="end of term"
    )


def test_a_rule_without_agencies_or_with_a_bad_tier_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"placement_rule\.agencies"):
        PlacementRule(name="x", tier="primary", agencies=(), term_days=30)
    with pytest.raises(ValidationError, match=r"placement_rule\.tier"):
        PlacementRule(name="x", tier="quaternary", agencies=("a",), term_days=30)
    with pytest.raises(ValidationError, match=r"placement_rule\.term_days"):
        PlacementRule(name="x", tier="primary", agencies=("a",), term_days=0)
