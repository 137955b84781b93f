"""The demo part: the visit notices go out as the demo's letters, the day's visit
requests are planned, the agents check in and out
through the real check-in app (in process), and the borrowers' answers are recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
from loancollect_visits.demo import VisitsDemo
from loancollect_visits.hooks import loancollect_register_demo_parts
from visits_helpers import DAY, NOTICE_AT, engine, request

from loancollect import ContactKind, ContactPoint, EventKind, make_plugin_manager
from loancollect.demo import Behaviour, DemoLoan, SimulatedClock, World
from loancollect.demo_parts import DemoRun, DemoSetup
from loancollect.domain.events import ContactOutcomeRecorded
from loancollect.testing import make_message


def test_the_demo_part_plans_the_days_visits_and_records_what_the_borrowers_say(
    tmp_path: Path,
) -> None:
    built = engine(loans=5)
    clock = SimulatedClock(NOTICE_AT)
    setup = DemoSetup(
        out=tmp_path,
        now=clock.now,
        pm=make_plugin_manager(load_entrypoints=["letter"]),
        seed=3,
        first=DAY,
        days=1,
    )
    part = VisitsDemo(iterations=500)
    channel = part.channels(setup)["visit"]
    with built.storage() as uow:
        loans = [uow.loans.get(f"L-{n}") for n in range(1, 6)]
    portfolio = tuple(
        DemoLoan(loan=loan, behaviour=Behaviour.PROMISER, trouble_from=1, delay_days=0)
        for loan in loans
        if loan is not None
    )
    world = World(list(portfolio), seed=3)
    run = DemoRun(
        setup=setup,
        engine=built,
        storage=built.storage,
        clock=clock,
        world=world,
        portfolio=portfolio,
    )
    part.start(run)
    for n in range(1, 6):
        home = ContactPoint(ContactKind.ADDRESS, f"上海市示例路{n}号", label="home")
        action = attrs.evolve(request(n).action, contact=home)
        assert channel.send(action, make_message(), action.idempotency_key).status.value == "sent"
    # Each request was kept after its notice letter went to the demo's letters folder.
    assert len(list((tmp_path / "letters").glob("*.pdf"))) == 5
    part.after_cycle(run, DAY)
    assert part.visits == 5
    assert part.refused == 0
    with built.storage() as uow:
        visits = [
            ContactOutcomeRecorded.parse(e)
            for n in range(1, 6)
            for e in uow.events.stream(f"L-{n}")
            if e.kind is EventKind.CONTACT_OUTCOME
        ]
    assert {v.channel for v in visits} == {"visit"}
    # every visit has its outcome: the world's answer, or the agent's report via the app
    assert len([v for v in visits if v.key]) == part.reported
    assert len(visits) >= part.visits
    assert sorted(p.suffix for p in part.sheets) == [".ics", ".pdf"] * (len(part.sheets) // 2)
    assert part.sheets
    summary = part.summary(run)
    assert summary is not None
    assert summary.startswith("5 visits made")
    part.after_cycle(run, DAY + dt.timedelta(days=1))
    assert part.visits == 5, "a visited request is not planned again"


def test_the_plugin_offers_its_demo_part_answering_visits() -> None:
    (part,) = loancollect_register_demo_parts()
    assert part.name == "visits"
    assert part.answers == frozenset({"visit"})
