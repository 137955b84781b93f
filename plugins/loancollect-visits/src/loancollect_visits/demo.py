"""The plug-in's part in ``loancollect demo``: field agents plan and make the visits.

Each simulated day, after the engine's run and dispatch, the visit requests the
``visit`` channel received on earlier days (each after its notice letter went out,
written to the demo's letters folder) are planned for the day (lawful
windows from the rule packs, PyVRP routes with iteration limits, so the demo stays
reproducible for its seed) and the agents
check in and out through the real check-in app (in process, over
``httpx.ASGITransport``); at the door the demo's world answers for the borrower
(``World.react(..., channel="visit")``), which records the outcome through the
intake; where the world records nothing (a reminder of an open promise) the agent
reports the visit through the app's outcome route. The first day with routes gets
its route sheets and calendars under ``<out>/visits``. Borrowers live around one
city per time zone (made-up coordinates: the demo has no addresses).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import zoneinfo
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from loancollect import registry
from loancollect.builtin.files import FileChannel
from loancollect.demo_parts import DemoPart, DemoRun, DemoSetup
from loancollect.domain.case import OutcomeKind
from loancollect.domain.events import ContactOutcomeRecorded, EventKind
from loancollect.domain.intake import GeoPoint
from loancollect.domain.strategy import PlannedAction
from loancollect_visits.app import check_in_app
from loancollect_visits.book import VisitBook
from loancollect_visits.channel import VisitChannel
from loancollect_visits.desk import FieldDesk, VisitResult, token_digest
from loancollect_visits.lawful import VisitRules
from loancollect_visits.model import Agent, Plan, Site
from loancollect_visits.planner import VisitPlanner
from loancollect_visits.sheets import write_day

if TYPE_CHECKING:
    from loancollect.ports import Channel

__all__ = ["CITIES", "VisitsDemo"]

CITIES: Mapping[str, tuple[str, Decimal, Decimal, str]] = {
    "Asia/Shanghai": ("上海市", Decimal("31.2304"), Decimal("121.4737"), "zh"),
    "America/New_York": ("New York, NY", Decimal("40.7128"), Decimal("-74.0060"), "en"),
    "America/Chicago": ("Chicago, IL", Decimal("41.8781"), Decimal("-87.6298"), "en"),
    "America/Los_Angeles": ("Los Angeles, CA", Decimal("34.0522"), Decimal("-118.2437"), "en"),
    "Europe/London": ("London", Decimal("51.5072"), Decimal("-0.1276"), "en"),
}
"""The demo's cities by time zone: name, centre, the agents' language."""

_RESULTS: Mapping[OutcomeKind, VisitResult] = {
    OutcomeKind.RIGHT_PARTY_CONTACT: VisitResult.MET_BORROWER,
    OutcomeKind.NO_ANSWER: VisitResult.NOT_AT_HOME,
    OutcomeKind.REFUSED: VisitResult.REFUSED_ENTRY,
}


def _visit_outcomes(run: DemoRun, loan_id: str, day: dt.date) -> int:
    """How many visit outcomes the loan has on ``day``."""
    with run.storage() as uow:
        events = uow.events.recent(loan_id, day)
    return sum(
        1
        for e in events
        if e.kind is EventKind.CONTACT_OUTCOME
        and ContactOutcomeRecorded.parse(e).channel == "visit"
    )


def _letters(setup: DemoSetup) -> Channel:
    """The demo's letters as the demo writes them: PDFs in ``<out>/letters`` through the
    registered ``letter`` channel, or JSON lines in ``<out>/messages`` without it."""
    if "letter" in registry.channel_specs(setup.pm):
        return registry.make_channel(setup.pm, "letter", {"dir": str(setup.out / "letters")})
    return FileChannel("letter", setup.out / "messages")


REQUEST_DAYS = 7
"""A request not visited within this many days is dropped (the strategy asks again)."""


def _offset(key: str, salt: str) -> Decimal:
    """A deterministic offset of up to ±0.08° (about 9 km)."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return (Decimal(int.from_bytes(digest[:4], "big") % 16001) - 8000) / Decimal(100000)


class VisitsDemo(DemoPart):
    """Plans each day's visits and simulates the agents checking in and out."""

    name = "visits"
    answers = frozenset({"visit"})

    def __init__(self, *, iterations: int = 2000, sheets_days: int = 1) -> None:
        self.iterations = iterations
        self.sheets_days = sheets_days
        self.book = VisitBook()
        self._sites: dict[str, Site] = {}
        self._now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        self.visits = 0
        self.flagged = 0
        self.refused = 0
        self.unplanned = 0
        self.reported = 0
        self.sheets: list[Path] = []
        self._setup: DemoSetup | None = None

    def channels(self, setup: DemoSetup) -> Mapping[str, Channel]:
        """The ``visit`` channel, posting each visit's notice letter, then keeping the
        request for the planner."""
        self._setup = setup
        notice = _letters(setup)
        return {
            "visit": VisitChannel(book=self.book, locate=self._locate, now=setup.now, notice=notice)
        }

    def _locate(self, action: PlannedAction) -> Site | None:
        return self._sites.get(action.loan_id)

    def start(self, run: DemoRun) -> None:
        """Place the borrowers, hire the agents, open the check-in app."""
        seed = str(run.setup.seed)
        for demo in run.portfolio:
            borrower = demo.loan.borrower
            city = CITIES.get(borrower.time_zone)
            if city is None:
                continue
            name, lat, lon, _ = city
            self._sites[demo.loan.id] = Site(
                point=GeoPoint(
                    lat=lat + _offset(demo.loan.id, seed + "lat"),
                    lon=lon + _offset(demo.loan.id, seed + "lon"),
                ),
                place="home",
                address=f"{name} ({demo.loan.id})",
            )
        agents = []
        for zone, (_, lat, lon, language) in CITIES.items():
            for n in (1, 2):
                agents.append(
                    Agent(
                        id=f"{zone.split('/')[-1].lower()}-{n}",
                        base=GeoPoint(lat=lat, lon=lon + Decimal(n - 1) / 50),
                        zone=zone,
                        shift_start=dt.time(9),
                        shift_end=dt.time(19),
                        languages=frozenset({language}),
                        team_size=2 if language == "zh" else 1,  # CN: two collectors
                        max_visits=6,
                        device=f"phone-{zone}-{n}",
                    )
                )
        self.agents = tuple(agents)
        self._tokens = {a.device: f"demo-token-{a.device}-{seed}" for a in agents}
        rules = VisitRules(hook=run.engine.pm.hook.loancollect_check_contact, storage=run.storage)
        # Iteration limits, not a time limit: the demo is reproducible for its seed
        # however busy the machine (a day has a few dozen visits at most).
        self.planner = VisitPlanner(
            rules=rules,
            agents=agents,
            seconds=None,
            no_improvement=200,
            max_iterations=self.iterations,
            seed=run.setup.seed,
        )
        self.desk = FieldDesk(
            book=self.book,
            rules=rules,
            intake=run.engine.intake,
            agents=agents,
            tokens={d: token_digest(t) for d, t in self._tokens.items()},
            now=lambda: self._now,
        )
        self.app = check_in_app(self.desk)
        self._rng = random.Random(run.setup.seed)

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        """Plan the day's visits and make them."""
        start_of_day = dt.datetime.combine(day, dt.time(), dt.UTC)
        requests = self.book.open(before=start_of_day)
        stale = [r.key for r in requests if (start_of_day - r.requested_at).days >= REQUEST_DAYS]
        self.book.drop(stale)
        requests = tuple(r for r in requests if r.key not in set(stale))
        if not requests:
            return
        plan = self.planner.plan(day, requests)
        self.book.drop(u.key for u in plan.unplanned if not u.retry)
        self.unplanned += len(plan.unplanned)
        self.book.planned(plan)
        if plan.routes and self.sheets_days > 0:
            self.sheets_days -= 1
            self.sheets += write_day(plan.routes, day, run.setup.out / "visits")
        asyncio.run(self._make_visits(run, plan))

    async def _make_visits(self, run: DemoRun, plan: Plan) -> None:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://visits") as client:
            for route in plan.routes:
                token = self._tokens[route.agent.device]
                headers = {"Authorization": f"Bearer {token}"}
                for stop in route.stops:
                    # Now and then a phone's fix is poor or the agent runs late: flagged.
                    late = self._rng.random() < 0.05
                    arrive = stop.arrive + dt.timedelta(minutes=45 if late else 2)
                    point = stop.request.site.point
                    self._now = arrive
                    response = await client.post(
                        "/osmand",
                        params={
                            "id": route.agent.device,
                            "lat": str(point.lat),
                            "lon": str(point.lon),
                            "accuracy": "12",
                            "timestamp": str(int(arrive.timestamp())),
                            "visit": stop.visit_id,
                            "event": "checkin",
                        },
                        headers=headers,
                    )
                    if response.status_code == 409:
                        self.refused += 1
                        continue
                    response.raise_for_status()
                    if response.json()["flags"]:
                        self.flagged += 1
                    self.visits += 1
                    local_day = arrive.astimezone(zoneinfo.ZoneInfo(stop.zone)).date()
                    loan_id = stop.request.loan_id
                    before = _visit_outcomes(run, loan_id, local_day)
                    kind = run.world.react(run.engine, loan_id, local_day, channel="visit")
                    leave = arrive + (stop.depart - stop.arrive)
                    self._now = leave
                    if _visit_outcomes(run, loan_id, local_day) == before:
                        # The world answered without recording (reminded of an open
                        # promise): the agent reports the visit through the app.
                        response = await client.post(
                            f"/visits/{stop.visit_id}/outcome",
                            json={"result": _RESULTS.get(kind, VisitResult.MET_BORROWER).value},
                            headers={**headers, "X-Device-Id": route.agent.device},
                        )
                        response.raise_for_status()
                        self.reported += 1
                    response = await client.post(
                        "/osmand",
                        params={
                            "id": route.agent.device,
                            "lat": str(point.lat),
                            "lon": str(point.lon),
                            "accuracy": "12",
                            "timestamp": str(int(leave.timestamp())),
                            "visit": stop.visit_id,
                            "event": "checkout",
                        },
                        headers=headers,
                    )
                    response.raise_for_status()

    def summary(self, run: DemoRun) -> str | None:
        """Visits made, flagged and refused, and where the route sheets are."""
        where = f"; route sheets in {self.sheets[0].parent}" if self.sheets else ""
        return (
            f"{self.visits} visits made ({self.reported} outcomes reported through the app, "
            f"{self.flagged} check-ins flagged, "
            f"{self.refused} refused at check-in, {self.unplanned} requests not planned on a day)"
            f"{where}"
        )
