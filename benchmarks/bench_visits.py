"""Field-visit routing: PyVRP against a nearest-neighbour baseline and a lower bound.

    .venv/bin/python benchmarks/bench_visits.py [--visits 500] [--agents 20]
        [--seconds 2,10] [--seed 1] [--windows 20]

A seeded day in and around Shanghai (40 km square): ``--visits`` borrowers' homes,
``--agents`` two-person teams starting at five offices, shifts 08:30-20:30, 20-minute
visits, a daily cap of 25 visits per team; one visit in ten needs an English speaker
(four teams speak it); half the teams work only the west or the east of the city
(shapely territories); each visit may start only inside the lawful window of the
Chinese rule pack (08:00-22:00 Beijing time, less the service time), and a quarter
of them in a two-hour appointment inside it. Travel: great-circle distance x 1.3 at
25 km/h (the plug-in's default model).

Printed, each beside a floor measured in the same run:

- the solver at each time limit: visits made, total distance, wall and CPU seconds;
- the nearest-neighbour baseline (each team in turn drives to the nearest visit it can
  still make): visits made, distance, wall and CPU seconds; and, like for like, the
  solver on exactly the visits the baseline made;
- the lower bound on the distance of the solver's visits: a minimum spanning tree over
  them plus one node for all the bases (any closed routes from the bases that make
  these visits contain such a tree), and the solver's gap to it;
- the cost of the lawfulness checks: ``VisitRules.window`` (every registered pack asked
  every 30 minutes of the local day) for ``--windows`` requests, per request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins/loancollect-visits/tests"))

from loancollect_visits import Agent, Travel
from loancollect_visits.geo import in_territory
from loancollect_visits.planner import shift_of
from loancollect_visits.solver import (
    Routing,
    Solved,
    Task,
    Vehicle,
    lower_bound,
    nearest_neighbour,
    solve,
)

from loancollect.domain.intake import GeoPoint

CENTRE = (Decimal("31.2304"), Decimal("121.4737"))
DAY = dt.date(2025, 3, 10)
SERVICE = 20 * 60
WEST = "POLYGON ((121.0 30.9, 121.4737 30.9, 121.4737 31.6, 121.0 31.6, 121.0 30.9))"
EAST = "POLYGON ((121.4737 30.9, 122.0 30.9, 122.0 31.6, 121.4737 31.6, 121.4737 30.9))"


def _point(rng: random.Random, spread: float) -> GeoPoint:
    return GeoPoint(
        lat=CENTRE[0] + Decimal(f"{rng.uniform(-spread, spread):.5f}"),
        lon=CENTRE[1] + Decimal(f"{rng.uniform(-spread, spread):.5f}"),
    )


def build(visits: int, agents: int, seed: int) -> Routing:
    """The day's routing problem (see the module's docstring)."""
    rng = random.Random(seed)
    offices = [_point(rng, 0.1) for _ in range(5)]
    team: list[Agent] = []
    for i in range(agents):
        territory = (WEST, EAST, None, None)[i % 4]
        team.append(
            Agent(
                id=f"team-{i + 1}",
                base=offices[i % len(offices)],
                zone="Asia/Shanghai",
                shift_start=dt.time(8, 30),
                shift_end=dt.time(20, 30),
                languages=frozenset({"zh", "en"}) if i % 5 == 0 else frozenset({"zh"}),
                team_size=2,
                max_visits=25,
                territory=territory,
            )
        )
    homes = [_point(rng, 0.18) for _ in range(visits)]
    travel = Travel()
    distance, duration = travel.matrices([a.base for a in team] + homes)
    shifts = [shift_of(a, DAY) for a in team]
    origin = min(s for s, _ in shifts)

    def sec(at: dt.datetime) -> int:
        return int((at - origin).total_seconds())

    lawful = (
        dt.datetime(2025, 3, 10, 0, tzinfo=dt.UTC),  # 08:00 Beijing time
        dt.datetime(2025, 3, 10, 14, tzinfo=dt.UTC) - dt.timedelta(seconds=SERVICE),  # 22:00
    )
    tasks = []
    for k, home in enumerate(homes):
        english = rng.random() < 0.1
        early, late = sec(lawful[0]), sec(lawful[1])
        if rng.random() < 0.25:  # an appointment: two hours inside the lawful window
            early = rng.randrange(early, late - 2 * 3600, 1800)
            late = early + 2 * 3600
        allowed = frozenset(
            i
            for i, a in enumerate(team)
            if (not english or "en" in a.languages) and in_territory(a.territory, home)
        )
        tasks.append(
            Task(
                id=f"v{k}",
                location=agents + k,
                early=max(early, 0),
                late=late,
                service=SERVICE,
                allowed=allowed,
            )
        )
    vehicles = tuple(
        Vehicle(id=a.id, location=i, early=sec(s), late=sec(e), capacity=a.max_visits)
        for i, (a, (s, e)) in enumerate(zip(team, shifts, strict=True))
    )
    return Routing(vehicles=vehicles, tasks=tuple(tasks), distance=distance, duration=duration)


def _made(problem: Routing, solved: Solved) -> int:
    return len(problem.tasks) - len(solved.unassigned)


def _timed(run: object) -> tuple[Solved, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    solved = run()  # type: ignore[operator]
    return solved, time.perf_counter() - wall, time.process_time() - cpu


def windows_cost(count: int) -> tuple[float, float]:
    """Wall and CPU seconds per request of ``VisitRules.window`` with the CN pack."""
    from visits_helpers import DAY as HELPER_DAY
    from visits_helpers import engine, request, rules

    checks = rules(engine(loans=count))
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(1, count + 1):
        checks.window(request(n), HELPER_DAY, dt.timedelta(seconds=SERVICE))
    return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seconds", default="2,10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--windows", type=int, default=20)
    args = parser.parse_args()
    problem = build(args.visits, args.agents, args.seed)
    unreachable = sum(1 for t in problem.tasks if not t.allowed)
    print(
        f"{args.visits} visits, {args.agents} teams, seed {args.seed} "
        f"({unreachable} visits no team may make: outside every territory that speaks the language)"
    )
    base, base_wall, base_cpu = _timed(lambda: nearest_neighbour(problem))
    print(
        f"nearest neighbour : {_made(problem, base):4d} visits  {base.distance / 1000:9.1f} km  "
        f"{base.distance / max(1, _made(problem, base)) / 1000:6.2f} km/visit  "
        f"wall {base_wall:6.2f} s  cpu {base_cpu:6.2f} s"
    )
    for limit in (float(s) for s in args.seconds.split(",")):
        solved, wall, cpu = _timed(
            lambda limit=limit: solve(problem, seconds=limit, seed=args.seed)
        )
        served = [leg.task for legs in solved.routes for leg in legs]
        bound = lower_bound(problem, served)
        made = _made(problem, solved)
        print(
            f"PyVRP {limit:5.1f} s     : {made:4d} visits  {solved.distance / 1000:9.1f} km  "
            f"{solved.distance / max(1, made) / 1000:6.2f} km/visit  "
            f"wall {wall:6.2f} s  cpu {cpu:6.2f} s"
        )
        per_visit = solved.distance / max(1, made)
        per_visit_nn = base.distance / max(1, _made(problem, base))
        print(
            f"  vs baseline     : {made - _made(problem, base):+d} visits, "
            f"{100 * per_visit / per_visit_nn - 100:+.1f} % distance per visit"
        )
        print(
            f"  lower bound     : {bound / 1000:9.1f} km for the same visits (MST over them "
            f"and the merged bases); solver/bound = {solved.distance / max(1, bound):.2f}"
        )
    # Like for like: the solver on exactly the visits the baseline made.
    same = [leg.task for legs in base.routes for leg in legs]
    subset = Routing(
        vehicles=problem.vehicles,
        tasks=tuple(problem.tasks[i] for i in same),
        distance=problem.distance,
        duration=problem.duration,
    )
    limit = float(args.seconds.split(",")[0])
    solved, wall, cpu = _timed(lambda: solve(subset, seconds=limit, seed=args.seed))
    print(
        f"baseline's visits : PyVRP {limit:.1f} s makes {_made(subset, solved)} of them in "
        f"{solved.distance / 1000:.1f} km vs the baseline's {base.distance / 1000:.1f} km "
        f"({100 * solved.distance / base.distance - 100:+.1f} %); bound "
        f"{lower_bound(subset, range(len(subset.tasks))) / 1000:.1f} km; "
        f"wall {wall:.2f} s cpu {cpu:.2f} s"
    )
    if args.windows:
        wall, cpu = windows_cost(args.windows)
        print(
            f"lawful windows    : {1000 * wall:.0f} ms wall, {1000 * cpu:.0f} ms cpu per request "
            f"(CN pack, 35 instants each; {args.windows} requests)"
        )
    np.set_printoptions()


if __name__ == "__main__":
    main()
