"""The router against its baseline and its bound, on a small made-up city."""

from __future__ import annotations

import random

import numpy as np
import pytest
from loancollect_visits.solver import Routing, Task, Vehicle, lower_bound, nearest_neighbour, solve

from loancollect.domain.errors import ValidationError


def _city(visits: int, agents: int, seed: int) -> Routing:
    rng = random.Random(seed)
    points = [(rng.uniform(0, 20_000), rng.uniform(0, 20_000)) for _ in range(agents + visits)]
    xy = np.array(points)
    distance = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(
        np.int64
    )
    duration = np.rint(distance / 7).astype(np.int64)
    vehicles = tuple(
        Vehicle(id=f"a{i}", location=i, early=0, late=9 * 3600, capacity=8) for i in range(agents)
    )
    tasks = []
    for k in range(visits):
        early = rng.choice((0, 3600, 4 * 3600))
        tasks.append(
            Task(
                id=f"t{k}",
                location=agents + k,
                early=early,
                late=early + rng.choice((2, 4, 8)) * 3600,
                service=1800,
                allowed=frozenset(i for i in range(agents) if (i + k) % 4 != 0),
            )
        )
    return Routing(vehicles=vehicles, tasks=tuple(tasks), distance=distance, duration=duration)


def _check(problem: Routing, routes: tuple[tuple[object, ...], ...]) -> None:
    for v, legs in enumerate(routes):
        vehicle = problem.vehicles[v]
        assert len(legs) <= vehicle.capacity
        for leg in legs:
            task = problem.tasks[leg.task]  # type: ignore[attr-defined]
            assert v in task.allowed
            assert task.early <= leg.start <= task.late  # type: ignore[attr-defined]


def test_the_solver_makes_more_visits_than_the_baseline_or_as_many_in_no_more_distance() -> None:
    problem = _city(visits=40, agents=4, seed=7)
    solved = solve(problem, seconds=0.5, seed=1)
    baseline = nearest_neighbour(problem)
    _check(problem, solved.routes)
    _check(problem, baseline.routes)
    made = len(problem.tasks) - len(solved.unassigned)
    made_nn = len(problem.tasks) - len(baseline.unassigned)
    # The objective: as many visits as possible first, then the least distance.
    assert made > made_nn or (made == made_nn and solved.distance <= baseline.distance)


def test_the_distance_bound_is_below_every_routing_of_the_same_visits() -> None:
    problem = _city(visits=30, agents=3, seed=3)
    solved = solve(problem, seconds=0.3, seed=2)
    served = [leg.task for legs in solved.routes for leg in legs]
    bound = lower_bound(problem, served)
    assert 0 < bound <= solved.distance
    baseline = nearest_neighbour(problem)
    assert (
        lower_bound(problem, [leg.task for legs in baseline.routes for leg in legs])
        <= baseline.distance
    )


def test_a_visit_no_vehicle_may_make_is_left_out_not_forced_in() -> None:
    problem = _city(visits=5, agents=2, seed=1)
    barred = Task(id="x", location=2, early=0, late=3600, service=600, allowed=frozenset())
    problem = Routing(
        vehicles=problem.vehicles,
        tasks=(*problem.tasks, barred),
        distance=problem.distance,
        duration=problem.duration,
    )
    solved = solve(problem, seconds=0.1)
    assert len(problem.tasks) - 1 in solved.unassigned


def test_without_a_time_limit_the_same_problem_and_seed_give_the_same_routes() -> None:
    problem = _city(visits=20, agents=3, seed=5)
    first = solve(problem, seconds=None, no_improvement=100, max_iterations=1000, seed=4)
    again = solve(problem, seconds=None, no_improvement=100, max_iterations=1000, seed=4)
    assert first.routes == again.routes


def test_a_solve_without_any_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"solve\.seconds"):
        solve(_city(visits=2, agents=1, seed=1), seconds=None)
