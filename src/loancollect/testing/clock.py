"""A clock that stands still until told to move."""

from __future__ import annotations

import datetime as dt

import pendulum

from loancollect.domain.errors import ValidationError

__all__ = ["FixedClock"]


def _aware(value: dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("clock.now", value, "expected a time-zone-aware datetime")
    return value


class FixedClock:
    """A :class:`~loancollect.ports.Clock` fixed at an instant; move it with :meth:`advance`.

    >>> clock = FixedClock(pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai"))
    >>> clock.today("UTC").isoformat()
    '2025-03-01'
    """

    def __init__(self, now: dt.datetime) -> None:
        self._now = _aware(now)

    def now(self) -> dt.datetime:
        """The fixed instant."""
        return self._now

    def today(self, tz: str) -> dt.date:
        """The date of the fixed instant in IANA zone ``tz``."""
        return pendulum.instance(self._now).in_timezone(tz).date()

    def set(self, now: dt.datetime) -> None:
        """Move the clock to ``now``."""
        self._now = _aware(now)

    def advance(
        self, *, days: int = 0, hours: int = 0, minutes: int = 0, seconds: int = 0
    ) -> dt.datetime:
        """Move the clock forward (exact elapsed time) and return the new instant."""
        self._now = self._now + dt.timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"
