"""The courts' demo part carries a legal-stage case through a payment order (and, when
the debtor objects, a suit and a judgment) to enforcement; the report sets the court
fees against what enforcement recovered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
from loancollect_courts.demo import CourtsDemo, _objects
from loancollect_courts.hooks import legal_costs_table

from loancollect.bundles import verify_bundle
from loancollect.demo import SimulatedClock
from loancollect.demo_parts import DemoRun, DemoSetup
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.testing import FixedClock, MemoryStore, make_loan

FIRST = dt.date(2025, 6, 1)  # the first instalment (15 Feb) is 106 days overdue: legal


def _run(loan_id: str, tmp_path: Path) -> tuple[CourtsDemo, Any, MemoryStore]:
    store = MemoryStore()
    engine = CollectionEngine(
        pm=make_plugin_manager(),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 6, 1, 2, tz="UTC")),
        validate_templates=False,
    )
    loan = make_loan(id=loan_id)
    engine.add_loans([loan], review_on=FIRST)
    engine.run_cycle(FIRST, dispatch=False)
    clock = SimulatedClock(dt.datetime(2025, 6, 1, 2, tzinfo=dt.UTC))
    setup = DemoSetup(out=tmp_path, now=clock.now, pm=engine.pm, seed=1, first=FIRST, days=150)
    run = DemoRun(
        setup=setup,
        engine=engine,
        storage=store,
        clock=clock,
        world=None,  # type: ignore[arg-type]  # the part never asks the world
        portfolio=(SimpleNamespace(loan=loan),),  # type: ignore[arg-type]
    )
    part = CourtsDemo()
    part.start(run)
    for offset in range(150):
        day = FIRST + dt.timedelta(days=offset)
        clock.set(dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC))
        part.after_cycle(run, day)
    return part, run, store


def _steps(store: MemoryStore, loan_id: str) -> list[str]:
    with store() as uow:
        return [
            e.payload.step  # type: ignore[attr-defined]
            for e in uow.events.stream(loan_id)
            if e.kind.value == "legal_matter_advanced"
        ]


def test_an_unopposed_payment_order_goes_straight_to_enforcement(tmp_path: Path) -> None:
    loan_id = next(f"L-{n}" for n in range(50) if not _objects(f"L-{n}"))
    part, run, store = _run(loan_id, tmp_path)
    assert _steps(store, loan_id) == [
        "demand_letter_sent",
        "payment_order_filed",
        "po_issued",
        "enforcement_applied",
        "dishonest_listed",
        "terminated_this_round",
    ]
    assert part.enforced == {loan_id}
    (bundle,) = part.bundles
    assert bundle == tmp_path / "courts" / f"{loan_id}.zip"
    assert verify_bundle(bundle).ok
    summary = part.summary(run)
    assert summary is not None
    assert "1 legal matters" in summary
    assert "1 enforced" in summary


def test_an_objection_leads_to_a_suit_and_a_judgment_then_enforcement(tmp_path: Path) -> None:
    loan_id = next(f"L-{n}" for n in range(50) if _objects(f"L-{n}"))
    _, _, store = _run(loan_id, tmp_path)
    steps = _steps(store, loan_id)
    assert steps[:7] == [
        "demand_letter_sent",
        "payment_order_filed",
        "po_issued",
        "objection_filed",
        "suit_filed",
        "judgment",
        "enforcement_applied",
    ]
    with store() as uow:
        events = uow.events.stream(loan_id)
    table = legal_costs_table(events, store)
    (row,) = table.rows
    assert row[0] == "CNY"
    # payment order fee + suit fee + enforcement fee, all recoverable; enforcement recovered half.
    assert row[2] == row[3]
    assert Decimal(row[4]) > 0
