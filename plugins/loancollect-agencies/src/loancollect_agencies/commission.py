"""Tiered commission schedules, computed exactly.

An agency is paid a share of what it collects. The share depends on the
placement's tier (a tertiary placement is harder work than a primary one), the
debt's age and balance when placed, and the amount collected so far on the
placement: bands of the cumulative amount collected, each with its own rate
(marginal, like tax bands). A payment's commission is the sum over the bands it
falls in of the part in the band times the band's rate, rounded once, half up,
to the currency's minor unit. Money never passes through a float.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money, Rounding

__all__ = ["Band", "CommissionRate", "CommissionSchedule", "PlacementTerms"]


@attrs.frozen(kw_only=True)
class Band:
    """``rate`` on the part of the cumulative amount collected up to ``up_to``
    (``None``: without limit); bands follow each other in order."""

    rate: Decimal
    up_to: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not Decimal(0) <= self.rate <= Decimal(1):
            raise ValidationError("band.rate", self.rate, "a Decimal between 0 and 1")
        if self.up_to is not None and (not isinstance(self.up_to, Decimal) or self.up_to <= 0):
            raise ValidationError("band.up_to", self.up_to, "a positive Decimal or None")


@attrs.frozen(kw_only=True)
class PlacementTerms:
    """What the commission of a placement depends on.

    :param age_days: the debt's days past due when it was placed.
    :param balance: the balance placed.
    """

    tier: str
    age_days: int
    balance: Money


def _bands(value: Iterable[Band]) -> tuple[Band, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class CommissionRate:
    """The bands that apply to placements matching the conditions (unset: any).

    :param min_age_days: the debt was at least this many days past due when placed.
    :param max_age_days: at most this many.
    """

    bands: tuple[Band, ...] = attrs.field(converter=_bands)
    tier: str | None = None
    min_age_days: int = 0
    max_age_days: int | None = None
    min_balance: Decimal | None = None
    max_balance: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        if not self.bands:
            raise ValidationError("commission_rate.bands", (), "give at least one band")
        limits = [b.up_to for b in self.bands]
        if any(u is None for u in limits[:-1]):
            raise ValidationError("commission_rate.bands", limits, "only the last band is open")
        closed = [u for u in limits if u is not None]
        if closed != sorted(set(closed)):
            raise ValidationError("commission_rate.bands", limits, "limits must increase")

    def matches(self, terms: PlacementTerms) -> bool:
        """True if these bands apply to a placement on ``terms``."""
        amount = terms.balance.amount
        return (
            (self.tier is None or self.tier == terms.tier)
            and terms.age_days >= self.min_age_days
            and (self.max_age_days is None or terms.age_days <= self.max_age_days)
            and (self.min_balance is None or amount >= self.min_balance)
            and (self.max_balance is None or amount <= self.max_balance)
        )

    def exact(self, before: Decimal, amount: Decimal) -> Decimal:
        """The unrounded commission on ``amount`` collected after ``before`` already was."""
        total = Decimal(0)
        low = Decimal(0)
        start, end = before, before + amount
        for band in self.bands:
            high = band.up_to
            lo = max(start, low)
            hi = end if high is None else min(end, high)
            if hi > lo:
                total += (hi - lo) * band.rate
            if high is None or end <= high:
                break
            low = high
        return total


def _rates(value: Iterable[CommissionRate]) -> tuple[CommissionRate, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class CommissionSchedule:
    """An agency's commission rates, tried in order (the first that matches applies)."""

    rates: tuple[CommissionRate, ...] = attrs.field(converter=_rates)

    def rate_for(self, terms: PlacementTerms) -> CommissionRate:
        """The rate that applies to a placement on ``terms``.

        :raises ValidationError: if none does.
        """
        for rate in self.rates:
            if rate.matches(terms):
                return rate
        raise ValidationError(
            "commission.terms", f"{terms.tier}/{terms.age_days}d", "no commission rate applies"
        )

    def commission(self, terms: PlacementTerms, collected_before: Money, amount: Money) -> Money:
        """The commission on a collection of ``amount`` when ``collected_before`` was
        collected on the placement already; rounded half up to the minor unit."""
        if amount.currency != terms.balance.currency:
            raise ValidationError("commission.amount", amount.currency, "not the placement's")
        exact = self.rate_for(terms).exact(collected_before.amount, amount.amount)
        return Money.rounded(exact, amount.currency, Rounding.HALF_UP)

    def commissions(self, terms: PlacementTerms, amounts: Sequence[Money]) -> list[Money]:
        """The commission on each of ``amounts``, collected in this order on one placement."""
        self.rate_for(terms)  # no rate for the placement: refused even before any collection
        out = []
        before = Money.zero(terms.balance.currency)
        for amount in amounts:
            out.append(self.commission(terms, before, amount))
            before = before + amount
        return out
