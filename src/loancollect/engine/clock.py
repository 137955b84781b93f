"""The real clock: the engine's default time source (tests pass a fixed one)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from loancollect.domain.errors import ConfigurationError
from loancollect.ports import Clock

__all__ = ["SystemClock", "aware_now"]


class SystemClock:
    """The real clock (UTC); the engine's default. Tests pass a fixed clock."""

    def now(self) -> dt.datetime:
        """The current instant, UTC, time-zone aware."""
        return dt.datetime.now(dt.UTC)

    def today(self, tz: str) -> dt.date:
        """Today's date in the IANA zone ``tz``."""
        return dt.datetime.now(zoneinfo.ZoneInfo(tz)).date()


def aware_now(clock: Clock) -> dt.datetime:
    """``clock.now()``, refusing a naive instant: contact hours are local, so a clock
    without a zone cannot say whether a contact is lawful, and the engine stops.

    :raises ConfigurationError: naming the instant.
    """
    at = clock.now()
    if at.tzinfo is None or at.utcoffset() is None:
        raise ConfigurationError(
            f"the clock gave a naive instant {at.isoformat()}; the engine needs a "
            "time-zone-aware clock to judge contact hours, so it contacts no one"
        )
    return at
