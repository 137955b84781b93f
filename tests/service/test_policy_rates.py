"""A dunning fee in another currency: converted through the host's rate source in the
engine's review, and refused loudly (the case's review fails, named) without one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum

from loancollect import make_plugin_manager
from loancollect.domain.dunning import DunningType
from loancollect.domain.money import Money
from loancollect.domain.policy import Condition, Stage, StagePolicy
from loancollect.domain.strategy import Strategy
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.testing import FixedClock, MemoryStore, make_loan

DAY = dt.date(2025, 2, 25)  # ten days after the first due date
POLICY = StagePolicy(
    name="erpnext",
    stages=(Stage(name="reminder", rank=1, entry=Condition(min_dpd=10)),),
    dunning_types=(DunningType(name="First", stage="reminder", fee=Money("5.00", "EUR")),),
)


class Rates:
    """The host's rates: one EUR->CNY rate, recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, dt.date]] = []

    def rate(self, source: str, target: str, on: dt.date) -> Decimal | None:
        self.asked.append((source, target, on))
        return Decimal("7.80") if (source, target) == ("EUR", "CNY") else None


def _engine(rates: Rates | None) -> tuple[CollectionEngine, MemoryStore]:
    store = MemoryStore()
    engine = CollectionEngine(
        pm=make_plugin_manager(),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 2, 25, 2, tz="UTC")),
        config=CycleConfig(policy=POLICY, strategy=Strategy(name="none"), rates=rates),
        validate_templates=False,
    )
    engine.add_loans([make_loan()], review_on=DAY)
    return engine, store


def test_the_review_converts_the_fee_through_the_hosts_rate_source() -> None:
    rates = Rates()
    engine, store = _engine(rates)
    report = engine.review(DAY)
    assert report.problems == ()
    with store() as uow:
        case = uow.cases.get("L-1")
    assert case is not None
    notice = case.policy_state.notices[0]
    assert notice.fee == Money("39.00", "CNY")
    assert notice.fee_source == Money("5.00", "EUR")
    assert rates.asked == [("EUR", "CNY", DAY)]


def test_without_a_rate_source_the_review_of_the_case_fails_and_says_why() -> None:
    engine, store = _engine(None)
    report = engine.review(DAY)
    assert report.summary.errors == 1
    assert "no rate source" in report.problems[0].message
    with store() as uow:
        case = uow.cases.get("L-1")
    assert case is not None
    assert case.stage == "current"  # nothing half-written: still due for review
    assert case.next_review_date == DAY
