"""Local wall-clock arithmetic in IANA zones, correct across DST gaps and overlaps.

Instants are UTC ``pendulum.DateTime`` values. A local wall time is mapped back to
an instant as *the first instant whose local date is the given day and whose local
wall time is at or after the given time*: in a spring-forward gap that is the
transition itself, in a fall-back overlap it is the first occurrence.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pendulum

__all__ = [
    "day_start",
    "entry_points",
    "first_at_or_after",
    "local",
    "local_date",
    "transitions_on",
    "wall",
]

_UTC = dt.UTC

# ``local``, ``local_date`` and ``wall`` are remembered by (instant, zone): a review
# judges every contact at one instant in a few zones, and converting an instant costs
# more than looking it up. Equal instants in any zone give the same local time.


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=4096)
def local(at: pendulum.DateTime, zone: str) -> pendulum.DateTime:
    """``at`` seen in ``zone``."""
    return at.in_timezone(zone)


@functools.lru_cache(maxsize=4096)
def local_date(at: pendulum.DateTime, zone: str) -> dt.date:
    """The calendar date of ``at`` in ``zone``."""
    return at.in_timezone(zone).date()


@functools.lru_cache(maxsize=4096)
def wall(at: pendulum.DateTime, zone: str) -> dt.time:
    """The local wall-clock time of ``at`` in ``zone`` (naive)."""
    return at.in_timezone(zone).time().replace(tzinfo=None)


def _utc(value: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(value.astimezone(_UTC)).in_timezone(pendulum.UTC)


def _wall_of(seconds: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, zone).replace(tzinfo=None)


def first_at_or_after(day: dt.date, time: dt.time, zone: str) -> pendulum.DateTime | None:
    """The first instant on local ``day`` whose wall time is ``>= time``, or ``None``.

    ``None`` only when the rest of the day is skipped by a transition (a gap that
    runs to midnight).
    """
    tz = _zone(zone)
    target = dt.datetime.combine(day, time)
    first = target.replace(tzinfo=tz, fold=0)
    as_utc = first.astimezone(_UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) == target:
        return _utc(as_utc)
    # A gap: ``target`` does not exist. Fold 1 maps it before the transition and
    # fold 0 after; search the first whole second whose wall time reaches it.
    lo = int(target.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(first.timestamp())
    if lo > hi:
        lo, hi = hi, lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wall_of(mid, tz) >= target:
            hi = mid
        else:
            lo = mid
    found = _wall_of(hi, tz)
    if found.date() != day:
        return None
    return pendulum.from_timestamp(hi, tz=pendulum.UTC)


def entry_points(day: dt.date, time: dt.time, zone: str) -> list[pendulum.DateTime]:
    """Every instant on local ``day`` at which the wall clock reaches ``time``.

    Usually one; two in a fall-back overlap (both occurrences); in a gap, the
    transition at which the wall clock jumps past ``time``.
    """
    out: list[pendulum.DateTime] = []
    first = first_at_or_after(day, time, zone)
    if first is not None:
        out.append(first)
    tz = _zone(zone)
    target = dt.datetime.combine(day, time)
    second = target.replace(tzinfo=tz, fold=1).astimezone(_UTC)
    if second.astimezone(tz).replace(tzinfo=None) == target:
        candidate = _utc(second)
        if candidate not in out:
            out.append(candidate)
    return out


def day_start(day: dt.date, zone: str) -> pendulum.DateTime:
    """The first instant of local ``day`` (midnight, or the end of a midnight gap)."""
    start = first_at_or_after(day, dt.time(0), zone)
    if start is None:  # pragma: no cover - no zone skips a whole day at midnight today
        return day_start(day + dt.timedelta(days=1), zone)
    return start


def transitions_on(day: dt.date, zone: str) -> Iterator[pendulum.DateTime]:
    """UTC offset changes during local ``day`` (at most one in practice)."""
    tz = _zone(zone)
    lo = int(day_start(day, zone).timestamp())
    hi = int(day_start(day + dt.timedelta(days=1), zone).timestamp())
    before = dt.datetime.fromtimestamp(lo, tz).utcoffset()
    if before == dt.datetime.fromtimestamp(hi - 1, tz).utcoffset():
        return
    a, b = lo, hi - 1
    while b - a > 1:
        mid = (a + b) // 2
        if dt.datetime.fromtimestamp(mid, tz).utcoffset() == before:
            a = mid
        else:
            b = mid
    yield pendulum.from_timestamp(b, tz=pendulum.UTC)
