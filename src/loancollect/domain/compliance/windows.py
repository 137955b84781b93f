"""Local-time rules: allowed contact windows and times the borrower said are inconvenient.

Windows are half-open local wall-clock ranges, chosen per weekday and (optionally)
for holidays from a :class:`~loancollect.domain.calendar.BusinessCalendar`. A time is
allowed only if it is allowed in every zone considered: the borrower's candidate
zones, or the rule's own fixed zones (Beijing time for the PRC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs
import pendulum

from loancollect.domain.calendar import BusinessCalendar
from loancollect.domain.compliance.base import Context, Finding, Rule
from loancollect.domain.compliance.localtime import (
    day_start,
    entry_points,
    first_at_or_after,
    local,
    local_date,
    transitions_on,
)
from loancollect.domain.compliance.localtime import wall as local_wall
from loancollect.domain.compliance.model import (
    Channel,
    ConsentScope,
    Direction,
    LocalTimeRange,
    WeeklyTimes,
)

__all__ = ["ContactWindow", "StatedTimes", "active_consent", "pending_inbound_reply"]

# How far ahead a window rule looks for its next opening before giving up.
SEARCH_DAYS = 400


def _ranges(value: Iterable[LocalTimeRange]) -> tuple[LocalTimeRange, ...]:
    return tuple(value)


def _opt_ranges(value: Iterable[LocalTimeRange] | None) -> tuple[LocalTimeRange, ...] | None:
    return None if value is None else tuple(value)


def _times(value: Iterable[WeeklyTimes]) -> tuple[WeeklyTimes, ...]:
    return tuple(value)


def active_consent(
    ctx: Context, scope: ConsentScope, at: pendulum.DateTime, channel: Channel
) -> bool:
    """True if the person contacted has given a consent of ``scope`` active at ``at``."""
    person = ctx.person
    for event in ctx.before(at):
        consent = event.consent
        if (
            consent is not None
            and consent.scope is scope
            and ctx.event_person(event) == person
            and consent.active(at, channel)
        ):
            return True
    return False


def pending_inbound_reply(ctx: Context, at: pendulum.DateTime, channel: Channel) -> bool:
    """True if the person last contacted us through ``channel`` and we have not replied.

    Reg F allows one response through the same medium to a consumer-initiated
    contact, even at a designated inconvenient time or through an opted-out medium.
    """
    person = ctx.person
    waiting = False
    for event in ctx.before(at):
        if event.channel is not channel or ctx.event_person(event) != person:
            continue
        # the opt-out request itself earns a confirmation, not a reply
        waiting = event.direction is Direction.INBOUND and event.opt_out is None
    return waiting


def _zone_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


_DAYS_KEPT = 1024
"""How many local days a window remembers the open ranges of."""


@attrs.frozen(kw_only=True)
class ContactWindow(Rule):
    """Contact only inside allowed local-time windows, in every zone considered.

    :param allowed: weekly windows; a local time is open if any window covers it.
    :param holidays: the calendar whose public holidays use ``holiday_ranges``.
    :param quiet_dates: further dates treated as holidays (a firm's own list).
    :param holiday_ranges: windows on holidays; ``None`` treats holidays as ordinary
        days, ``()`` forbids contact on them.
    :param zones: fixed zones (e.g. ``("Asia/Shanghai",)``); empty uses the
        borrower's candidate zones.
    :param also_candidate_zones: with fixed ``zones``, borrower candidate zones in this
        set are added (e.g. ``Asia/Urumqi`` for the Xinjiang intersection).
    :param channels: channels the rule applies to; empty means all.
    :param waived_by_consent: an active ``OUTSIDE_HOURS`` consent lifts the rule.
    :param exempt_purposes: purposes the rule does not apply to.
    """

    allowed: tuple[WeeklyTimes, ...] = attrs.field(converter=_times)
    holidays: BusinessCalendar | None = None
    quiet_dates: frozenset[dt.date] = frozenset()
    holiday_ranges: tuple[LocalTimeRange, ...] | None = attrs.field(
        default=None, converter=_opt_ranges
    )
    zones: tuple[str, ...] = attrs.field(default=(), converter=_zone_tuple)
    also_candidate_zones: frozenset[str] = frozenset()
    channels: frozenset[Channel] = frozenset()
    waived_by_consent: bool = True
    exempt_purposes: frozenset[str] = frozenset()
    # The open ranges of the local days asked about (ranges_on), remembered: every
    # contact of a review asks about the same day or two.
    _days: dict[dt.date, tuple[LocalTimeRange, ...]] = attrs.field(
        init=False, factory=dict, repr=False, eq=False
    )

    def _is_holiday(self, day: dt.date) -> bool:
        if day in self.quiet_dates:
            return True
        return self.holidays is not None and self.holidays.holiday_name(day) is not None

    def ranges_on(self, day: dt.date) -> tuple[LocalTimeRange, ...]:
        """The open ranges on local ``day``."""
        known = self._days.get(day)
        if known is not None:
            return known
        if self.holiday_ranges is not None and self._is_holiday(day):
            found = self.holiday_ranges
        else:
            weekday = day.weekday()
            found = tuple(w.range for w in self.allowed if weekday in w.weekdays)
        if len(self._days) >= _DAYS_KEPT:
            self._days.clear()
        self._days[day] = found
        return found

    def is_open(self, at: pendulum.DateTime, zone: str) -> bool:
        """True if ``at`` is inside a window in ``zone``."""
        # Remembered by (instant, zone): a contact is asked about in every window of
        # its packs, the same instant seen in the same zones.
        seen = local_wall(at, zone)
        return any(r.contains(seen) for r in self.ranges_on(local_date(at, zone)))

    def next_open(self, at: pendulum.DateTime, zone: str) -> pendulum.DateTime | None:
        """The first instant strictly after ``at`` that is inside a window in ``zone``."""
        start_day = local(at, zone).date()
        for offset in range(SEARCH_DAYS):
            day = start_day + dt.timedelta(days=offset)
            candidates = list(transitions_on(day, zone))
            for r in self.ranges_on(day):
                candidates.extend(entry_points(day, r.start, zone))
            found = sorted(c for c in candidates if c > at and self.is_open(c, zone))
            if found:
                return found[0]
        return None

    def _zones(self, ctx: Context) -> tuple[str, ...]:
        if not self.zones:
            return ctx.zones
        extra = tuple(z for z in ctx.zones if z in self.also_candidate_zones)
        return tuple(dict.fromkeys(self.zones + extra))

    def applies(self, ctx: Context, at: pendulum.DateTime) -> bool:
        """False when the channel, purpose or an active consent takes the contact out."""
        p = ctx.proposed
        if self.channels and p.channel not in self.channels:
            return False
        if p.purpose in self.exempt_purposes:
            return False
        return not (
            self.waived_by_consent
            and active_consent(ctx, ConsentScope.OUTSIDE_HOURS, at, p.channel)
        )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Fail if ``at`` is outside the window in any zone; say when all could open."""
        if not self.applies(ctx, at):
            return None
        closed = [z for z in self._zones(ctx) if not self.is_open(at, z)]
        if not closed:
            return None
        openings = [self.next_open(at, z) for z in closed]
        detail = "outside the allowed hours in " + ", ".join(
            f"{z} (local {local(at, z).strftime('%a %Y-%m-%d %H:%M')})" for z in closed
        )
        if any(o is None for o in openings):
            return Finding.stop(detail + f"; no window opens within {SEARCH_DAYS} days")
        return Finding.until(max(o for o in openings if o is not None), detail)


@attrs.frozen(kw_only=True)
class StatedTimes(Rule):
    """No contact at recurring local times the borrower said are inconvenient.

    Consent (``OUTSIDE_HOURS``) lifts it; so does, when ``allow_reply_to_inbound`` is
    set, one same-medium reply to a contact the borrower started.
    """

    allow_reply_to_inbound: bool = True
    exempt_purposes: frozenset[str] = frozenset()

    def _hit(self, times: tuple[WeeklyTimes, ...], at: pendulum.DateTime, zone: str) -> bool:
        seen = local(at, zone)
        wall = seen.time().replace(tzinfo=None)
        return any(seen.weekday() in t.weekdays and t.range.contains(wall) for t in times)

    def _leave(
        self, times: tuple[WeeklyTimes, ...], at: pendulum.DateTime, zone: str
    ) -> pendulum.DateTime:
        seen = local(at, zone)
        day = seen.date()
        wall = seen.time().replace(tzinfo=None)
        ends: list[pendulum.DateTime] = []
        for t in times:
            if day.weekday() in t.weekdays and t.range.contains(wall):
                end = None if t.range.end is None else first_at_or_after(day, t.range.end, zone)
                ends.append(end or day_start(day + dt.timedelta(days=1), zone))
        return max(ends)

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Fail inside a stated inconvenient time; the end of that time may pass."""
        times = ctx.borrower.stated_inconvenient_times
        p = ctx.proposed
        if not times or p.purpose in self.exempt_purposes:
            return None
        if active_consent(ctx, ConsentScope.OUTSIDE_HOURS, at, p.channel):
            return None
        if self.allow_reply_to_inbound and pending_inbound_reply(ctx, at, p.channel):
            return None
        hit = [z for z in ctx.zones if self._hit(times, at, z)]
        if not hit:
            return None
        return Finding.until(
            max(self._leave(times, at, z) for z in hit),
            "the borrower said this time is inconvenient",
        )
