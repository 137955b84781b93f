"""The PRC Loan Prime Rate (贷款市场报价利率, LPR) as a dated table.

Private-lending (民间借贷) overdue charges are capped at four times the one-year
LPR in force at the contract date (法释〔2020〕17号). Callers may supply their own
table; :data:`CN_ONE_YEAR_LPR` holds the published one-year fixings since the
2019 reform.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.money import to_decimal

__all__ = ["CN_ONE_YEAR_LPR", "LprTable"]


@attrs.frozen
class LprTable:
    """Dated rates: each entry is in force from its date until the next entry."""

    entries: tuple[tuple[dt.date, Decimal], ...]

    def __attrs_post_init__(self) -> None:
        if not self.entries:
            raise ConfigurationError("LPR table is empty")
        dates = [d for d, _ in self.entries]
        if dates != sorted(set(dates)):
            raise ConfigurationError("LPR table dates must be strictly increasing")

    @classmethod
    def of(cls, entries: Iterable[tuple[dt.date | str, object]]) -> LprTable:
        """Build from ``(date or ISO string, rate as a fraction)`` pairs."""
        rows = []
        for i, (day, rate) in enumerate(entries):
            d = dt.date.fromisoformat(day) if isinstance(day, str) else day
            r = to_decimal(rate, f"lpr[{i}].rate")
            if not (0 <= r < 1):
                raise ValidationError(f"lpr[{i}].rate", r, "must be a fraction between 0 and 1")
            rows.append((d, r))
        return cls(tuple(sorted(rows)))

    def rate_on(self, day: dt.date) -> Decimal:
        """The rate in force on ``day``.

        :raises ConfigurationError: if ``day`` is before the first entry.
        """
        dates = [d for d, _ in self.entries]
        pos = bisect.bisect_right(dates, day) - 1
        if pos < 0:
            raise ConfigurationError(
                f"LPR table has no rate for {day.isoformat()} (first entry {dates[0].isoformat()})"
            )
        return self.entries[pos][1]


# One-year LPR fixings (percent), as published by the National Interbank Funding
# Center on the 20th of the month (next business day when it is a holiday).
CN_ONE_YEAR_LPR = LprTable.of(
    (day, Decimal(pct) / 100)
    for day, pct in (
        ("2019-08-20", "4.25"),
        ("2019-09-20", "4.20"),
        ("2019-11-20", "4.15"),
        ("2020-02-20", "4.05"),
        ("2020-04-20", "3.85"),
        ("2021-12-20", "3.80"),
        ("2022-01-20", "3.70"),
        ("2022-08-22", "3.65"),
        ("2023-06-20", "3.55"),
        ("2023-08-21", "3.45"),
        ("2024-07-22", "3.35"),
        ("2024-10-21", "3.10"),
        ("2025-05-20", "3.00"),
    )
)
