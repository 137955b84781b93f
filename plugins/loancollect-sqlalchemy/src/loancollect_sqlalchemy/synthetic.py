"""A seeded synthetic portfolio, as bulk-import rows (for tests, benchmarks and demos).

:func:`portfolio` yields borrower, loan and payment rows in the shapes
:mod:`loancollect_sqlalchemy.bulk` imports, cheaply enough for a million loans
(no domain objects are built). The same ``seed`` gives the same portfolio.

A share ``due_share`` of the loans is delinquent on ``as_of`` (disbursed months
before, nothing or little paid) and has its case due for review that day; the
others are current and are next reviewed on a later day, so they cost nothing in
the day's cycle.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import attrs

__all__ = ["Portfolio", "portfolio"]


@attrs.frozen(kw_only=True)
class Portfolio:
    """What to generate.

    :param loans: number of loans (one borrower each).
    :param due_share: share of loans due for review on ``as_of``.
    :param installments: installments per loan (monthly).
    :param seed: random seed.
    """

    loans: int
    as_of: dt.date = dt.date(2025, 10, 31)
    due_share: float = 0.05
    installments: int = 12
    seed: int = 7
    currency: str = "CNY"

    def loan_id(self, k: int) -> str:
        """The id of the ``k``-th loan (sortable)."""
        return f"L{k:09d}"

    def is_due(self, k: int) -> bool:
        """True if loan ``k`` is due for review on ``as_of`` (spread evenly)."""
        if self.due_share <= 0:
            return False
        return k % max(1, round(1 / self.due_share)) == 0


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, m + 1, min(day.day, 28))


def portfolio(spec: Portfolio) -> Iterator[tuple[str, dict[str, Any]]]:
    """``("borrower" | "loan" | "payment", row)`` in dependency order per loan."""
    rng = random.Random(spec.seed)
    as_of = spec.as_of
    n = spec.installments
    received_tz = dt.timezone(dt.timedelta(hours=8))
    for k in range(spec.loans):
        loan_id = spec.loan_id(k)
        due = spec.is_due(k)
        borrower_id = f"B{k:09d}"
        yield (
            "borrower",
            {
                "id": borrower_id,
                "kind": "individual",
                "name": f"Borrower {k}",
                "jurisdiction": "CN",
                "time_zone": "Asia/Shanghai",
                "locale": "zh_CN",
                "contact_points": [
                    ["phone", f"+86 138 {k % 10_000:04d} {rng.randrange(10_000):04d}", "mobile"]
                ],
            },
        )
        if due:
            disbursed = as_of - dt.timedelta(days=rng.randrange(70, 200))
        else:
            disbursed = as_of - dt.timedelta(days=rng.randrange(0, 25))
        disbursed = disbursed.replace(day=min(disbursed.day, 28))
        principal = rng.randrange(500_000, 5_000_000)
        rate_bp = rng.randrange(400, 2400)
        per = principal // n
        remaining = principal
        rows = []
        for i in range(1, n + 1):
            p = per if i < n else principal - per * (n - 1)
            interest = remaining * rate_bp // 120_000
            rows.append((_add_months(disbursed, i), p, interest))
            remaining -= p
        review = as_of if due else as_of + dt.timedelta(days=rng.randrange(1, 30))
        yield (
            "loan",
            {
                "id": loan_id,
                "borrower_id": borrower_id,
                "currency": spec.currency,
                "principal_minor": principal,
                "annual_rate": f"0.{rate_bp:04d}",
                "disbursement_date": disbursed,
                "installments": rows,
                "method": "equal_principal",
                "next_review_date": review,
            },
        )
        if due and rng.random() < 0.3:
            paid_on = _add_months(disbursed, 1)
            yield (
                "payment",
                {
                    "id": f"P{k:09d}",
                    "loan_id": loan_id,
                    "amount_minor": rows[0][1] // 2,
                    "currency": spec.currency,
                    "value_date": paid_on,
                    "received_at": dt.datetime(
                        paid_on.year, paid_on.month, paid_on.day, 10, tzinfo=received_tz
                    ),
                    "reference": "transfer",
                },
            )
