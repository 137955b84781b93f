"""Scoring throughput of the trained models (loans/s), beside a floor in the same run.

    python benchmarks/bench_scoring.py [--loans N] [--seed S] [--json]

Builds N demo loans (the demo's portfolio generator), assesses each 45 days after its
first due date with no payments (every case in collection), and times, on one core:

- **floor**: assessing alone (``assess``), which every review does anyway;
- **features**: the point-in-time features of each case;
- **scorecard**: features + the points card's probability of each target;
- **boosted**: features + LightGBM's probabilities, batched per 1,000 cases;
- **live**: the ``loancollect_score`` path one case at a time (``LiveScorer.score``).

CPU time (``time.process_time``) and wall time are both printed. The models are
trained on synthetic rows of the same features: throughput does not depend on fit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

from loancollect_scoring.features import features
from loancollect_scoring.history import Sample
from loancollect_scoring.live import LiveScorer, ScoringSettings
from loancollect_scoring.models import PAID, ROLLED, ModelKind, ModelSet, fit

from loancollect.demo import generate_portfolio
from loancollect.domain.case import Case
from loancollect.domain.overdue import assess


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    demos = generate_portfolio(args.loans, seed=args.seed, start=dt.date(2025, 1, 1))
    loans = [d.loan for d in demos]
    days = [loan.installments[0].due_date + dt.timedelta(days=45) for loan in loans]
    cases = [Case(loan_id=loan.id) for loan in loans]

    assessments: list[object] = []
    rows: list[dict[str, object]] = []
    floor = _timed(
        lambda: assessments.extend(assess(ln, (), d) for ln, d in zip(loans, days, strict=True))
    )
    feats = _timed(
        lambda: rows.extend(
            features(ln, a, c, d)  # type: ignore[arg-type]
            for ln, a, c, d in zip(loans, assessments, cases, days, strict=True)
        )
    )

    rng = random.Random(args.seed)
    synthetic = [
        Sample(
            loan_id=str(i),
            on=dt.date(2025, 1, 1),
            features=rows[i % len(rows)] | {"dpd": float(rng.randint(1, 120))},
            paid=rng.random() < 0.5,
            rolled=rng.random() < 0.3,
            heuristic_risk=rng.random(),
        )
        for i in range(2_000)
    ]
    models = fit(
        synthetic[:1_500],
        synthetic[1_500:],
        seed=args.seed,
        window=(dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        split=dt.date(2025, 5, 1),
        horizon_days=30,
        every_days=7,
    )
    card = models.scorecards
    scorecard = _timed(
        lambda: [(card[PAID].probability(r), card[ROLLED].probability(r)) for r in rows]
    )

    def boosted_batches() -> None:
        for i in range(0, len(rows), 1_000):
            chunk = rows[i : i + 1_000]
            models.probabilities(ModelKind.BOOSTED, PAID, chunk)
            models.probabilities(ModelKind.BOOSTED, ROLLED, chunk)

    boosted = _timed(boosted_batches)
    with TemporaryDirectory() as tmp:
        directory = models.save(Path(tmp) / "m")
        scorer = LiveScorer()
        scorer.use(ModelSet.load(directory), ScoringSettings(model=directory))
        live = _timed(
            lambda: [
                scorer.score(ln, c, a, d)  # type: ignore[arg-type]
                for ln, a, c, d in zip(loans, assessments, cases, days, strict=True)
            ]
        )

    n = len(loans)
    figures = {
        "loans": n,
        "assess_floor_loans_per_s": round(n / floor[1]),
        "features_loans_per_s": round(n / feats[1]),
        "scorecard_loans_per_s": round(n / (feats[1] + scorecard[1])),
        "boosted_loans_per_s": round(n / (feats[1] + boosted[1])),
        "live_loans_per_s": round(n / live[1]),
        "live_cpu_us_per_case": round(live[1] / n * 1e6, 1),
        "wall_s": {
            "floor": round(floor[0], 3),
            "features": round(feats[0], 3),
            "scorecard": round(scorecard[0], 3),
            "boosted": round(boosted[0], 3),
            "live": round(live[0], 3),
        },
    }
    if args.json:
        print(json.dumps(figures, sort_keys=True))
        return
    print(f"{n:,} loans, one core (rates are per CPU second)")
    print(f"  floor (assess only):          {figures['assess_floor_loans_per_s']:>9,} loans/s")
    print(f"  features:                     {figures['features_loans_per_s']:>9,} loans/s")
    print(f"  features + scorecard (2):     {figures['scorecard_loans_per_s']:>9,} loans/s")
    print(f"  features + boosted (2, batch):{figures['boosted_loans_per_s']:>9,} loans/s")
    print(
        f"  live hook, one at a time:     {figures['live_loans_per_s']:>9,} loans/s "
        f"({figures['live_cpu_us_per_case']} µs CPU per case)"
    )


if __name__ == "__main__":
    main()
