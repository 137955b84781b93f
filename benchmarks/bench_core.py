"""Benchmark of the pure core: schedules and overdue assessments per second on one core.

Builds N loans (12 monthly installments, 0-3 payments each, fixed random seed),
then times

- ``Loan.create`` (schedule + validation) against a plain-Python baseline that sums
  the same installments' integer minor units, and
- ``assess`` against ``Loan.create`` and the same plain-Python baseline,

all measured in this process, so the printed ratios mean something on any
machine. ``--profile`` adds a cProfile summary (top 15 by tottime) of the
assessment loop.

Usage::

    python benchmarks/bench_core.py [--loans N] [--profile] [--seed S]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pendulum

from loancollect import (
    Borrower,
    Loan,
    Money,
    PartyKind,
    Payment,
    RepaymentMethod,
    assess,
)

AS_OF = dt.date(2025, 10, 31)
METHODS = [
    RepaymentMethod.EQUAL_INSTALLMENT,
    RepaymentMethod.EQUAL_PRINCIPAL,
    RepaymentMethod.INTEREST_ONLY,
]


def make_inputs(count: int, seed: int) -> list[dict[str, Any]]:
    """Loan.create keyword sets plus payment specs, reproducible from ``seed``."""
    rng = random.Random(seed)
    borrower = Borrower(
        id="B-bench",
        kind=PartyKind.INDIVIDUAL,
        name="Bench Borrower",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
    )
    inputs = []
    for k in range(count):
        disbursed = dt.date(2024, 11, 1) + dt.timedelta(days=rng.randrange(0, 240))
        principal = Money.from_minor(rng.randrange(100_000, 20_000_000), "CNY")
        payments = []
        for p in range(rng.randrange(0, 4)):
            day = disbursed + dt.timedelta(days=rng.randrange(20, 360))
            payments.append((f"P-{k}-{p}", day, rng.randrange(10_000, 2_000_000)))
        inputs.append(
            {
                "loan": {
                    "id": f"L-{k}",
                    "borrower": borrower,
                    "principal": principal,
                    "annual_rate": Decimal(rng.randrange(300, 2400)) / 10_000,
                    "term": 12,
                    "disbursement_date": disbursed,
                    "method": rng.choice(METHODS),
                },
                "payments": payments,
            }
        )
    return inputs


def build_payments(loan: Loan, specs: list[tuple[str, dt.date, int]]) -> list[Payment]:
    return [
        Payment(
            id=pid,
            loan_id=loan.id,
            amount=Money.from_minor(amount, loan.currency),
            value_date=day,
            received_at=pendulum.datetime(day.year, day.month, day.day, 12, tz="Asia/Shanghai"),
        )
        for pid, day, amount in specs
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(runs: int, fn: Callable[[], object]) -> float:
    return min(timed(fn) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000, help="number of loans (20000)")
    parser.add_argument("--seed", type=int, default=20250115, help="random seed")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the assessment loop (top 15 by tottime)"
    )
    args = parser.parse_args(argv)
    n = args.loans
    inputs = make_inputs(n, args.seed)

    loans: list[Loan] = []

    def create_all() -> None:
        loans.clear()
        loans.extend(Loan.create(**spec["loan"]) for spec in inputs)

    t_create = timed(create_all)
    payment_lists = [
        build_payments(loan, spec["payments"]) for loan, spec in zip(loans, inputs, strict=True)
    ]
    plans = [loan.plan for loan in loans]

    def baseline() -> int:
        # The same installments' integers summed in a plain-Python loop.
        total = 0
        for plan in plans:
            for _, principal, interest, fees in plan:
                total += principal + interest + fees
        return total

    t_base = best_of(3, baseline)

    def assess_all() -> None:
        for loan, pays in zip(loans, payment_lists, strict=True):
            assess(loan, pays, AS_OF)

    t_assess = best_of(3, assess_all)

    schedules = n / t_create
    assessments = n / t_assess
    base_rate = n / t_base
    paid = sum(len(p) for p in payment_lists)
    overdue = sum(
        1 for loan, pays in zip(loans, payment_lists, strict=True) if assess(loan, pays, AS_OF).dpd
    )
    print(f"loancollect core benchmark: {n} loans x 12 monthly installments, {paid} payments,")
    print(f"as of {AS_OF.isoformat()}, seed {args.seed}, one core, Python {sys.version.split()[0]}")
    print(f"  overdue loans on the assessment date:   {overdue} ({overdue / n:.0%})")
    print(f"  baseline (plain loop over the integers): {base_rate:>12,.0f} loans/s")
    print(
        f"  schedules (Loan.create):                {schedules:>12,.0f} /s"
        f"   = 1/{base_rate / schedules:,.0f} of baseline"
    )
    print(
        f"  assessments (assess):                   {assessments:>12,.0f} /s"
        f"   = 1/{base_rate / assessments:,.0f} of baseline,"
        f" {assessments / schedules:.2f}x Loan.create"
    )
    target = 50_000
    verdict = "meets" if assessments >= target else "below"
    print(f"  target {target:,} assessments/s on one core: {verdict}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        assess_all()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(15)
        print()
        print("cProfile of the assessment loop, top 15 by tottime:")
        print(out.getvalue().strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
