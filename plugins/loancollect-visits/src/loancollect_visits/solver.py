"""Routing: assign the day's visits to agents and order them (PyVRP).

A prize-collecting vehicle-routing problem with time windows: every visit is an
optional client with a prize far above any route's length (so as many visits as
possible are made, then the distance driven is the least); every agent is a
vehicle with their own start and end (their base), shift, and daily cap (the
capacity, one unit a visit). Skills and territories are routing profiles: a
visit an agent may not make (language, a two-person rule, outside the territory)
is unreachable in that agent's profile. Times are whole seconds from an origin.

Also here: a nearest-neighbour baseline and a lower bound on the distance, to
measure the solver against (``benchmarks/bench_visits.py``).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from typing import Any, cast

import attrs
import numpy as np
import pyvrp
from numpy.typing import NDArray
from pyvrp.stop import (
    MaxIterations,
    MaxRuntime,
    MultipleCriteria,
    NoImprovement,
    StoppingCriterion,
)

from loancollect.domain.errors import ValidationError

_LOG = logging.getLogger("loancollect.visits")

__all__ = [
    "Leg",
    "Routing",
    "Solved",
    "Task",
    "Vehicle",
    "lower_bound",
    "nearest_neighbour",
    "solve",
]


UNREACHABLE = 10**8
"""Distance and duration into a visit a vehicle may not make: beyond any shift, and
costlier than the visit's prize."""


@attrs.frozen(kw_only=True)
class Task:
    """One visit to route: its location index, lawful start window, service time
    (seconds) and the vehicles allowed to make it (indices)."""

    id: str
    location: int
    early: int
    late: int
    service: int
    allowed: frozenset[int]


@attrs.frozen(kw_only=True)
class Vehicle:
    """One agent: base location index, shift (seconds from the origin), daily cap."""

    id: str
    location: int
    early: int
    late: int
    capacity: int


@attrs.frozen(kw_only=True)
class Leg:
    """A routed visit: the task, and its planned start and end (seconds)."""

    task: int
    start: int
    end: int


@attrs.frozen(kw_only=True)
class Routing:
    """A routing problem: vehicles, tasks, and the distance/duration matrices between
    locations (metres, seconds)."""

    vehicles: tuple[Vehicle, ...]
    tasks: tuple[Task, ...]
    distance: NDArray[np.int64]
    duration: NDArray[np.int64]

    def __attrs_post_init__(self) -> None:
        n = self.distance.shape[0]
        if self.distance.shape != (n, n) or self.duration.shape != (n, n):
            raise ValidationError("routing.matrices", str(self.distance.shape), "square, same size")
        for t in self.tasks:
            if t.late < t.early:
                raise ValidationError("task.late", t.late, f"before early ({t.early}) for {t.id}")


@attrs.frozen(kw_only=True)
class Solved:
    """Routes by vehicle index (legs in order), the tasks left out, and the distance."""

    routes: tuple[tuple[Leg, ...], ...]
    unassigned: tuple[int, ...]
    distance: int
    seconds: float


def _profiles(problem: Routing) -> tuple[list[int], list[frozenset[int]]]:
    """Vehicles grouped by the set of tasks they may make (one profile each)."""
    forbidden: list[frozenset[int]] = []
    profile_of = []
    for v in range(len(problem.vehicles)):
        barred = frozenset(i for i, t in enumerate(problem.tasks) if v not in t.allowed)
        if barred not in forbidden:
            forbidden.append(barred)
        profile_of.append(forbidden.index(barred))
    return profile_of, forbidden


def solve(
    problem: Routing,
    *,
    seconds: float | None = 1.0,
    seed: int = 0,
    no_improvement: int | None = None,
    max_iterations: int | None = None,
) -> Solved:
    """Route ``problem`` with PyVRP's iterated local search until the first of: ``seconds``
    of wall time, ``no_improvement`` iterations in a row without a better plan,
    ``max_iterations`` iterations. Without a time limit the result depends only on the
    problem and ``seed`` (reproducible, whatever the machine's load).

    Only a feasible solution is returned: any leg outside its window or shift (the
    solver's result is checked, not trusted) drops the route's offending tasks.

    :raises ValidationError: when no stopping criterion is given.
    """
    criteria: list[StoppingCriterion] = []
    if seconds is not None:
        criteria.append(MaxRuntime(seconds))
    if no_improvement is not None:
        criteria.append(NoImprovement(no_improvement))
    if max_iterations is not None:
        criteria.append(MaxIterations(max_iterations))
    if not criteria:
        raise ValidationError("solve.seconds", None, "give a time or an iteration limit")
    began = time.perf_counter()
    if not problem.tasks or not problem.vehicles:
        return Solved(
            routes=tuple(() for _ in problem.vehicles),
            unassigned=tuple(range(len(problem.tasks))),
            distance=0,
            seconds=0.0,
        )
    n = problem.distance.shape[0]
    # A visit's prize: more than the longest detour it can cost (there and back from
    # the farthest point), so visits come first; not so large that the search prefers
    # infeasible routes (time warp) that collect more prizes.
    prize = 2 * int(problem.distance.max()) + 1
    locations = [pyvrp.Location(x=float(i), y=0.0) for i in range(n)]
    depots = [pyvrp.Depot(location=v.location) for v in problem.vehicles]
    clients = [
        pyvrp.Client(
            location=t.location,
            delivery=[1],
            service_duration=t.service,
            tw_early=t.early,
            tw_late=t.late,
            prize=prize,
            required=False,
            name=t.id,
        )
        for t in problem.tasks
    ]
    profile_of, forbidden = _profiles(problem)
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=1,
            capacity=[v.capacity],
            start_depot=i,
            end_depot=i,
            tw_early=v.early,
            tw_late=v.late,
            profile=profile_of[i],
            name=v.id,
        )
        for i, v in enumerate(problem.vehicles)
    ]
    distances, durations = [], []
    for barred in forbidden:
        dist = problem.distance.copy()
        dur = problem.duration.copy()
        into = [problem.tasks[i].location for i in barred]
        dist[:, into] = UNREACHABLE
        dur[:, into] = UNREACHABLE
        np.fill_diagonal(dist, 0)
        np.fill_diagonal(dur, 0)
        distances.append(dist)
        durations.append(dur)
    # PyVRP's stubs spell the matrices ``ndarray[int]``; they are int64 arrays.
    matrices = cast(Any, (distances, durations))
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, *matrices)
    stop = criteria[0] if len(criteria) == 1 else MultipleCriteria(criteria)
    result = pyvrp.solve(data, stop, seed=seed, collect_stats=False)
    if not result.is_feasible():
        _LOG.warning("the router found no feasible plan; keeping only the legs that fit")
    routes: list[tuple[Leg, ...]] = [() for _ in problem.vehicles]
    served: set[int] = set()
    for route in result.best.routes():
        v = route.vehicle_type()
        legs = [
            Leg(task=a.idx, start=a.start_time, end=a.end_time)
            for a in route.schedule()
            if a.is_client()
        ]
        legs = _feasible(problem, v, legs)
        routes[v] = tuple(legs)
        served.update(leg.task for leg in legs)
    unassigned = tuple(i for i in range(len(problem.tasks)) if i not in served)
    return Solved(
        routes=tuple(routes),
        unassigned=unassigned,
        distance=sum(route_distance(problem, v, r) for v, r in enumerate(routes)),
        seconds=time.perf_counter() - began,
    )


def _feasible(problem: Routing, v: int, legs: list[Leg]) -> list[Leg]:
    """The legs re-timed from the vehicle's shift start, keeping only those that fit
    (allowed task, within its window, cap, back at base within the shift)."""
    vehicle = problem.vehicles[v]
    kept: list[Leg] = []
    at, here = vehicle.early, vehicle.location
    for leg in legs:
        task = problem.tasks[leg.task]
        if v not in task.allowed or len(kept) >= vehicle.capacity:
            continue
        start = max(at + int(problem.duration[here, task.location]), task.early)
        back = start + task.service + int(problem.duration[task.location, vehicle.location])
        if start > task.late or back > vehicle.late:
            continue
        kept.append(Leg(task=leg.task, start=start, end=start + task.service))
        at, here = start + task.service, task.location
    return kept


def route_distance(problem: Routing, v: int, legs: Sequence[Leg]) -> int:
    """The distance (metres) of vehicle ``v`` driving ``legs`` from and back to its base."""
    if not legs:
        return 0
    base = problem.vehicles[v].location
    path = [base, *(problem.tasks[leg.task].location for leg in legs), base]
    return int(sum(int(problem.distance[a, b]) for a, b in itertools.pairwise(path)))


def nearest_neighbour(problem: Routing) -> Solved:
    """The baseline: each agent in turn drives to the nearest visit it can still make
    in time (and get back within the shift), until none is left."""
    began = time.perf_counter()
    left = set(range(len(problem.tasks)))
    routes: list[tuple[Leg, ...]] = []
    for v, vehicle in enumerate(problem.vehicles):
        legs: list[Leg] = []
        at, here = vehicle.early, vehicle.location
        while len(legs) < vehicle.capacity:
            best: tuple[int, int] | None = None
            for i in left:
                task = problem.tasks[i]
                if v not in task.allowed:
                    continue
                start = max(at + int(problem.duration[here, task.location]), task.early)
                back = start + task.service + int(problem.duration[task.location, vehicle.location])
                if start > task.late or back > vehicle.late:
                    continue
                d = int(problem.distance[here, task.location])
                if best is None or (d, i) < (best[0], best[1]):
                    best = (d, i)
            if best is None:
                break
            task = problem.tasks[best[1]]
            start = max(at + int(problem.duration[here, task.location]), task.early)
            legs.append(Leg(task=best[1], start=start, end=start + task.service))
            left.discard(best[1])
            at, here = start + task.service, task.location
        routes.append(tuple(legs))
    return Solved(
        routes=tuple(routes),
        unassigned=tuple(sorted(left)),
        distance=sum(route_distance(problem, v, r) for v, r in enumerate(routes)),
        seconds=time.perf_counter() - began,
    )


def lower_bound(problem: Routing, served: Sequence[int]) -> int:
    """A lower bound on the distance of any routes that make the visits ``served``.

    The weight of a minimum spanning tree over those visits plus one node standing
    for all the agents' bases (at each visit's distance to its nearest base, either
    way): the routes, closed tours from the bases, contain a spanning tree of that
    graph once the bases are merged, so no routing of these visits is shorter.
    """
    if not served:
        return 0
    locs = [problem.tasks[i].location for i in served]
    bases = [v.location for v in problem.vehicles]
    sym = np.minimum(problem.distance, problem.distance.T)
    to_base = sym[np.ix_(locs, bases)].min(axis=1)
    m = len(locs) + 1
    w = np.empty((m, m), dtype=np.float64)
    w[:-1, :-1] = sym[np.ix_(locs, locs)]
    w[-1, :-1] = to_base
    w[:-1, -1] = to_base
    w[-1, -1] = 0
    # Prim's algorithm, O(m^2).
    inside = np.zeros(m, dtype=bool)
    inside[-1] = True
    best = w[-1].copy()
    total = 0.0
    for _ in range(m - 1):
        cand = np.where(inside, np.inf, best)
        j = int(np.argmin(cand))
        total += float(cand[j])
        inside[j] = True
        best = np.minimum(best, w[j])
    return int(total)
