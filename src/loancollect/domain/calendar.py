"""Dates for lending: month arithmetic, day-count conventions and business days.

Due dates are always computed from an anchor (``add_months(start, k)``), never by
stepping from the previous due date, because month addition clamps: 31 Jan + 1
month is 28 Feb, and 28 Feb + 1 month is 28 Mar, not 31 Mar.
"""

from __future__ import annotations

import calendar as _stdcal
import datetime as dt
import enum
import functools
from collections.abc import Iterable
from decimal import Decimal

import attrs
import holidays as _holidays

from loancollect.domain.errors import ConfigurationError, ValidationError

__all__ = [
    "BusinessCalendar",
    "DayCount",
    "RollConvention",
    "add_months",
    "business_calendar",
]


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus ``months`` calendar months, clamped to the month's last day."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    last = _stdcal.monthrange(year, month)[1]
    return dt.date(year, month, min(start.day, last))


class DayCount(enum.Enum):
    """Day-count conventions for daily accrual.

    - ``ACT_360``: actual days / 360 (the default for daily accrual).
    - ``ACT_365F``: actual days / 365, fixed, also in leap years.
    - ``THIRTY_360``: 30/360 US bond basis (ISDA "30/360", QuantLib ``BondBasis``).
    """

    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    THIRTY_360 = "30/360"

    @property
    def basis(self) -> int:
        """Days in the year fraction's denominator."""
        return 365 if self is DayCount.ACT_365F else 360

    def days(self, start: dt.date, end: dt.date) -> int:
        """Accrual days from ``start`` (inclusive) to ``end`` (exclusive)."""
        if self is DayCount.THIRTY_360:
            d1 = min(start.day, 30)
            d2 = min(end.day, 30) if d1 == 30 else end.day
            return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
        return (end - start).days

    def year_fraction(self, start: dt.date, end: dt.date) -> Decimal:
        """Exact year fraction ``days / basis`` as a Decimal."""
        return Decimal(self.days(start, end)) / Decimal(self.basis)

    @classmethod
    def parse(cls, value: str | DayCount) -> DayCount:
        """Accept ``"ACT/360"``, ``"act_360"``, ``"30/360"`` … or a member."""
        if isinstance(value, DayCount):
            return value
        norm = str(value).strip().upper().replace("_", "/")
        for member in cls:
            if norm in (member.value, member.name.replace("_", "/")):
                return member
        raise ValidationError("day_count", value, "expected ACT/360, ACT/365F or 30/360")


class RollConvention(enum.Enum):
    """How a date that falls on a non-business day is moved."""

    NONE = "none"
    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"


@attrs.frozen
class BusinessCalendar:
    """Business days of one country (and optional subdivision).

    Built on the ``holidays`` package. For China it honours the make-up working
    days (调休) on weekends, which the package publishes as ``weekend_workdays``.
    Extra holidays and extra working days can be added by the caller (a lender's
    own closures).
    """

    country: str
    subdivision: str | None = None
    extra_holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()

    def __attrs_post_init__(self) -> None:
        try:
            _country_holidays(self.country, self.subdivision, 2000)
        except (NotImplementedError, KeyError) as exc:
            raise ConfigurationError(
                f"calendar country={self.country!r} subdivision={self.subdivision!r}: {exc}"
            ) from None

    def is_business_day(self, day: dt.date) -> bool:
        """True if ``day`` is a working day in this calendar."""
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        return bool(_country_holidays(self.country, self.subdivision, day.year).is_working_day(day))

    def holiday_name(self, day: dt.date) -> str | None:
        """The public holiday on ``day``, if any."""
        name = _country_holidays(self.country, self.subdivision, day.year).get(day)
        return None if name is None else str(name)

    def roll(self, day: dt.date, convention: RollConvention) -> dt.date:
        """Move ``day`` to a business day under ``convention``."""
        if convention is RollConvention.NONE or self.is_business_day(day):
            return day
        if convention is RollConvention.PRECEDING:
            return self._step(day, -1)
        following = self._step(day, 1)
        if convention is RollConvention.MODIFIED_FOLLOWING and following.month != day.month:
            return self._step(day, -1)
        return following

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        """``day`` moved by ``count`` business days (negative moves back)."""
        step = 1 if count >= 0 else -1
        current = day
        for _ in range(abs(count)):
            current = self._step(current, step)
        return current

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days in ``[start, end)``."""
        return sum(
            1
            for offset in range((end - start).days)
            if self.is_business_day(start + dt.timedelta(days=offset))
        )

    def _step(self, day: dt.date, step: int) -> dt.date:
        current = day + dt.timedelta(days=step)
        for _ in range(60):  # the longest run of closures in any calendar is far shorter
            if self.is_business_day(current):
                return current
            current += dt.timedelta(days=step)
        raise ConfigurationError(
            f"calendar {self.country}: no business day within 60 days of {day}"
        )


@functools.lru_cache(maxsize=256)
def _country_holidays(country: str, subdivision: str | None, year: int) -> _holidays.HolidayBase:
    return _holidays.country_holidays(country, subdiv=subdivision, years=year)


def business_calendar(
    country: str,
    subdivision: str | None = None,
    *,
    extra_holidays: Iterable[dt.date] = (),
    extra_workdays: Iterable[dt.date] = (),
) -> BusinessCalendar:
    """Build a :class:`BusinessCalendar`, e.g. ``business_calendar("CN")``."""
    return BusinessCalendar(
        country.upper(), subdivision, frozenset(extra_holidays), frozenset(extra_workdays)
    )
