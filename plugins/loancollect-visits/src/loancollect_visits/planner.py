"""The day's plan: lawful windows for the requests, then routes for the agents.

:class:`VisitPlanner` turns the open visit requests into a :class:`~.model.Plan`:

1. each request's lawful window on the day (:meth:`~.lawful.VisitRules.window`);
   a request with none is left out with the reason (or dropped: a hold, a
   vulnerable customer);
2. the daily cap per borrower (the jurisdiction's policy): the oldest requests first;
3. which agents may make each visit: the borrower's language, two collectors where
   the policy requires, the agent's territory;
4. the routes (:func:`~.solver.solve`), with the agents' shifts, caps and the
   travel times between the coordinates (great-circle, or the host's matrices).
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from loancollect.domain.intake import GeoPoint
from loancollect_visits.geo import Travel, in_territory
from loancollect_visits.lawful import VisitRules
from loancollect_visits.model import (
    Agent,
    AgentRoute,
    Plan,
    Stop,
    Unplanned,
    VisitRequest,
    Window,
)
from loancollect_visits.solver import Routing, Task, Vehicle, solve

__all__ = ["GREAT_CIRCLE", "Matrices", "VisitPlanner", "shift_of"]

GREAT_CIRCLE = Travel()
"""The default travel model: great-circle distance with a city detour, at 25 km/h."""

Matrices = Callable[[Sequence[GeoPoint]], tuple[NDArray[np.int64], NDArray[np.int64]]]
"""A host's travel matrices: distances (metres) and durations (seconds) between points."""


def shift_of(agent: Agent, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The agent's shift on ``day`` (their local day), as UTC instants."""
    tz = zoneinfo.ZoneInfo(agent.zone)
    start = dt.datetime.combine(day, agent.shift_start, tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day, agent.shift_end, tz).astimezone(dt.UTC)
    return start, end


class VisitPlanner:
    """Plans a day of visits.

    :param rules: the lawfulness checks.
    :param agents: the field agents (and two-person teams).
    :param service: how long a visit takes.
    :param travel: travel-time model (used when ``matrices`` is not given).
    :param matrices: the host's own distance/duration matrices.
    :param seconds: the solver's time limit per day (wall time; ``None``: none).
    :param no_improvement: stop after this many iterations without a better plan.
    :param max_iterations: stop after this many iterations (with ``seconds=None``, the
        plan depends only on the requests, the agents and the seed).
    :param seed: the solver's seed.
    """

    def __init__(
        self,
        *,
        rules: VisitRules,
        agents: Sequence[Agent],
        service: dt.timedelta = dt.timedelta(minutes=30),
        travel: Travel = GREAT_CIRCLE,
        matrices: Matrices | None = None,
        seconds: float | None = 1.0,
        no_improvement: int | None = None,
        max_iterations: int | None = None,
        seed: int = 0,
    ) -> None:
        self.rules = rules
        self.agents = tuple(agents)
        self.service = service
        self._matrices: Matrices = matrices or travel.matrices
        self.seconds = seconds
        self.no_improvement = no_improvement
        self.max_iterations = max_iterations
        self.seed = seed

    def plan(self, day: dt.date, requests: Sequence[VisitRequest]) -> Plan:
        """The plan of ``day`` for ``requests`` (every one is planned or said why not)."""
        unplanned: list[Unplanned] = []
        chosen: list[tuple[VisitRequest, Window, str, bool]] = []
        per_borrower: dict[str, int] = {}
        for request in sorted(requests, key=lambda r: (r.requested_at, r.key)):
            window = self.rules.window(request, day, self.service)
            if isinstance(window, Unplanned):
                unplanned.append(window)
                continue
            facts = self.rules.facts(request.loan_id, day)
            zone = self.rules.zone(request)
            assert facts is not None
            assert zone is not None
            borrower = facts.loan.borrower
            policy = self.rules.policy(borrower.jurisdiction)
            if per_borrower.get(borrower.id, 0) >= policy.per_borrower_per_day:
                unplanned.append(
                    Unplanned(
                        key=request.key,
                        loan_id=request.loan_id,
                        reason=f"daily cap of {policy.per_borrower_per_day} visit(s) per borrower",
                    )
                )
                continue
            per_borrower[borrower.id] = per_borrower.get(borrower.id, 0) + 1
            chosen.append((request, window, zone, policy.two_person))
        routes, missed = self._route(day, chosen)
        unplanned += missed
        return Plan(day=day, routes=routes, unplanned=tuple(unplanned))

    def _route(
        self, day: dt.date, chosen: list[tuple[VisitRequest, Window, str, bool]]
    ) -> tuple[tuple[AgentRoute, ...], list[Unplanned]]:
        shifts = [shift_of(a, day) for a in self.agents]
        instants = [s for s, _ in shifts] + [w.start for _, w, _, _ in chosen]
        if not instants:
            return (), []
        origin = min(instants)

        def sec(at: dt.datetime) -> int:
            return int((at - origin).total_seconds())

        points = [a.base for a in self.agents] + [r.site.point for r, _, _, _ in chosen]
        distance, duration = self._matrices(points)
        service = int(self.service.total_seconds())
        vehicles = tuple(
            Vehicle(id=a.id, location=i, early=sec(s), late=sec(e), capacity=a.max_visits)
            for i, (a, (s, e)) in enumerate(zip(self.agents, shifts, strict=True))
        )
        tasks = tuple(
            Task(
                id=r.key,
                location=len(self.agents) + k,
                early=sec(w.start),
                late=sec(w.end),
                service=service,
                allowed=frozenset(
                    i for i, a in enumerate(self.agents) if self._may_make(a, r, two)
                ),
            )
            for k, (r, w, _, two) in enumerate(chosen)
        )
        problem = Routing(vehicles=vehicles, tasks=tasks, distance=distance, duration=duration)
        solved = solve(
            problem,
            seconds=self.seconds,
            seed=self.seed,
            no_improvement=self.no_improvement,
            max_iterations=self.max_iterations,
        )
        routes = []
        for i, legs in enumerate(solved.routes):
            agent = self.agents[i]
            stops = []
            for leg in legs:
                request, window, zone, two = chosen[leg.task]
                stops.append(
                    Stop(
                        visit_id=f"{day.isoformat()}:{request.key}",
                        request=request,
                        arrive=origin + dt.timedelta(seconds=leg.start),
                        depart=origin + dt.timedelta(seconds=leg.end),
                        window=window,
                        zone=zone,
                        two_person=two,
                    )
                )
            if stops:
                back = legs[-1].end + int(duration[tasks[legs[-1].task].location, i])
                first = legs[0].start - int(duration[i, tasks[legs[0].task].location])
                routes.append(
                    AgentRoute(
                        agent=agent,
                        stops=tuple(stops),
                        distance_m=_distance(problem, i, [leg.task for leg in legs]),
                        start=origin + dt.timedelta(seconds=first),
                        end=origin + dt.timedelta(seconds=back),
                    )
                )
        missed = [
            Unplanned(
                key=chosen[t][0].key,
                loan_id=chosen[t][0].loan_id,
                reason=(
                    "no agent may make it (language, two collectors, territory)"
                    if not tasks[t].allowed
                    else "no agent's day could fit it (shift, cap, travel)"
                ),
            )
            for t in solved.unassigned
        ]
        return tuple(routes), missed

    @staticmethod
    def _may_make(agent: Agent, request: VisitRequest, two_person: bool) -> bool:
        if request.language not in agent.languages:
            return False
        if two_person and agent.team_size < 2:
            return False
        return in_territory(agent.territory, request.site.point)


def _distance(problem: Routing, v: int, tasks: list[int]) -> int:
    base = problem.vehicles[v].location
    path = [base, *(problem.tasks[t].location for t in tasks), base]
    return int(sum(int(problem.distance[a, b]) for a, b in itertools.pairwise(path)))
