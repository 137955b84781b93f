"""IANA time zones, looked up once each.

``pendulum.timezone(name)`` reads the zone file on every call; the engine asks
for the same few zones millions of times, so lookups are memoised here. Zones
are immutable, so this cache is not state in any meaningful sense.
"""

from __future__ import annotations

import functools

import pendulum

from loancollect.domain.errors import ValidationError

__all__ = ["check_zone", "zone"]


@functools.lru_cache(maxsize=1024)
def _lookup(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    return pendulum.timezone(name)


def zone(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    """The zone called ``name`` (``"Asia/Shanghai"``).

    :raises ValidationError: for an unknown zone name.
    """
    try:
        return _lookup(name)
    except Exception:
        raise ValidationError("time_zone", name, "unknown IANA time zone") from None


def check_zone(field: str, value: str) -> None:
    """Raise :class:`ValidationError` naming ``field`` unless ``value`` is a known zone."""
    try:
        _lookup(value)
    except Exception:
        raise ValidationError(field, value, "unknown IANA time zone") from None
