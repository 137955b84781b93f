"""The real clock: the engine's default time source (tests pass a fixed one)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

__all__ = ["SystemClock"]


class SystemClock:
    """The real clock (UTC); the engine's default. Tests pass a fixed clock."""

    def now(self) -> dt.datetime:
        """The current instant, UTC, time-zone aware."""
        return dt.datetime.now(dt.UTC)

    def today(self, tz: str) -> dt.date:
        """Today's date in the IANA zone ``tz``."""
        return dt.datetime.now(zoneinfo.ZoneInfo(tz)).date()
