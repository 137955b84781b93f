"""Credit-control level delays (OCA ``account_credit_control`` policy levels).

A stage with a :class:`LevelDelay` is a credit-control level. Its delay is
computed, per OCA's ``computation_mode``, as:

- ``net_days``: due date + N days (inclusive: reached on that day);
- ``end_of_month``: the last day of the month of due date + N days;
- ``previous_date``: the previous level's notice date + N days.

The due date is the oldest unpaid due date. A level above the first is entered
only from the level just below it, and only once that level's notice was
actually sent (OCA generates the next level's line only from a previous line that
is neither draft nor ignored). The lowest level may not be ``previous_date``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum

import attrs

from loancollect.domain.errors import ConfigurationError

__all__ = ["ComputationMode", "LevelDelay"]


class ComputationMode(enum.Enum):
    """How a level's delay is counted (OCA's names)."""

    NET_DAYS = "net_days"
    END_OF_MONTH = "end_of_month"
    PREVIOUS_DATE = "previous_date"


@attrs.frozen(kw_only=True)
class LevelDelay:
    """The delay of a credit-control level."""

    mode: ComputationMode
    days: int

    def __attrs_post_init__(self) -> None:
        if self.days < 0:
            raise ConfigurationError(f"level delay: days={self.days} must be >= 0")

    def due_on(self, due_date: dt.date | None, previous_notice: dt.date | None) -> dt.date | None:
        """The first day the level may be reached (``None``: not computable yet)."""
        delta = dt.timedelta(days=self.days)
        if self.mode is ComputationMode.PREVIOUS_DATE:
            return None if previous_notice is None else previous_notice + delta
        if due_date is None:
            return None
        day = due_date + delta
        if self.mode is ComputationMode.END_OF_MONTH:
            return day.replace(day=calendar.monthrange(day.year, day.month)[1])
        return day
