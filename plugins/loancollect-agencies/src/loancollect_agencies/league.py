"""The league table of agencies: who liquidates most, at what cost, with how many complaints.

Rows are per agency and placement vintage (the month the cases were placed), so
agencies are compared on cases placed at the same time — with random allocation
among eligible agencies (:func:`loancollect.domain.placement.allocate`) the
cases are comparable too.

- liquidation rate: collected / balance placed;
- cost per unit collected: commission / collected;
- complaint rate: complaints per 1,000 placed accounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import attrs

from loancollect.domain.money import Money

__all__ = ["LeagueRow", "PlacementResult", "league_table"]


@attrs.frozen(kw_only=True)
class PlacementResult:
    """One placement's results: what was placed, collected, paid and complained of."""

    agency: str
    since: dt.date
    placed: Money
    collected: Money
    commission: Money
    complaints: int = 0

    @property
    def vintage(self) -> str:
        """The month the case was placed (``YYYY-MM``)."""
        return f"{self.since.year:04d}-{self.since.month:02d}"


@attrs.frozen(kw_only=True)
class LeagueRow:
    """One agency's results for one placement vintage in one currency."""

    agency: str
    vintage: str
    currency: str
    accounts: int
    placed: Money
    collected: Money
    commission: Money
    complaints: int

    @property
    def liquidation_rate(self) -> Decimal:
        """Collected / placed, as a percentage with two decimals."""
        if self.placed.is_zero():
            return Decimal("0.00")
        rate = self.collected.amount * 100 / self.placed.amount
        return rate.quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def cost_per_unit(self) -> Decimal | None:
        """Commission per unit collected, four decimals (``None`` when nothing was collected)."""
        if self.collected.is_zero():
            return None
        cost = self.commission.amount / self.collected.amount
        return cost.quantize(Decimal("0.0001"), ROUND_HALF_UP)

    @property
    def complaint_rate(self) -> Decimal:
        """Complaints per 1,000 placed accounts, one decimal."""
        rate = Decimal(self.complaints * 1000) / Decimal(self.accounts)
        return rate.quantize(Decimal("0.1"), ROUND_HALF_UP)


def league_table(results: Iterable[PlacementResult]) -> tuple[LeagueRow, ...]:
    """Rows per (vintage, currency, agency), best liquidation rate first within a vintage."""
    groups: dict[tuple[str, str, str], list[PlacementResult]] = {}
    for r in results:
        groups.setdefault((r.vintage, r.placed.currency, r.agency), []).append(r)
    rows = []
    for (vintage, currency, agency), items in groups.items():
        zero = Money.zero(currency)
        rows.append(
            LeagueRow(
                agency=agency,
                vintage=vintage,
                currency=currency,
                accounts=len(items),
                placed=sum((i.placed for i in items), zero),
                collected=sum((i.collected for i in items), zero),
                commission=sum((i.commission for i in items), zero),
                complaints=sum(i.complaints for i in items),
            )
        )
    rows.sort(key=lambda r: (r.vintage, r.currency, -r.liquidation_rate, r.agency))
    return tuple(rows)
