"""Frequency rules over the contact history: caps and the cool-down after a conversation.

Counts run over the history of the creditor *and* its agencies (``per_agent=False``),
keyed per person, per debt, per number and per channel as configured. Windows are
either calendar days in a local zone (the date of the proposed contact is the last
day of the window) or a rolling duration ending at the proposed instant. Calendar
windows count every event whose local date falls inside them, also one later on the
same day; rolling windows count events in ``(at - duration, at]``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs
import pendulum

from loancollect.domain.compliance.base import Context, Finding, Rule
from loancollect.domain.compliance.localtime import day_start, local_date
from loancollect.domain.compliance.model import (
    Channel,
    ConsentScope,
    ContactEvent,
    Direction,
    TargetKind,
)
from loancollect.domain.errors import ConfigurationError

__all__ = ["ConversationCooldown", "Count", "FrequencyCap", "LifetimeCap", "calls_consent_covers"]


class Count(enum.Enum):
    """What a cap counts among outbound events."""

    ATTEMPTS = "attempts"
    CONVERSATIONS = "conversations"
    UNANSWERED = "unanswered"


def calls_consent_covers(
    ctx: Context, person: str, at: pendulum.DateTime, zone: str, days: int
) -> bool:
    """True if ``person`` gave a ``CALLS`` consent covering ``at``.

    The consent covers the local dates ``d … d + days - 1`` where ``d`` is the date
    it was given (the consent date is day 1), and stops early at ``valid_until``.
    """
    day = local_date(at, zone)
    for event in ctx.before(at):
        consent = event.consent
        if consent is None or consent.scope is not ConsentScope.CALLS:
            continue
        if ctx.event_person(event) != person:
            continue
        if consent.valid_until is not None and at >= consent.valid_until:
            continue
        given = local_date(consent.given_at, zone)
        if consent.given_at <= at and given <= day < given + dt.timedelta(days=days):
            return True
    return False


def _channels(value: Iterable[Channel]) -> frozenset[Channel]:
    return frozenset(value)


def _zone_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class FrequencyCap(Rule):
    """At most ``cap`` counted events, the proposed one included, per window.

    :param days: calendar-day window length (the proposed date is the last day).
    :param duration: rolling window instead of calendar days.
    :param channels: channels counted and controlled; empty means all.
    :param count: what is counted (attempts, effective conversations, unanswered attempts).
    :param count_inbound: inbound contacts count too (they are never controlled).
    :param per_person: count per person contacted (else per borrower, all persons).
    :param per_debt: count per debt (events about other debts do not count).
    :param per_number: count per number or address.
    :param per_agent: count per organisation (else creditor and agencies together).
    :param exclude_not_connected: attempts that did not reach the number do not count.
    :param excluded_targets: persons whose contacts are neither counted nor controlled.
    :param target_kinds: persons the rule controls; empty means all.
    :param consent_days: a ``CALLS`` consent excludes calls on the consent date and the
        following ``consent_days - 1`` dates (and the proposed call, if covered).
    :param zones: fixed zones for calendar days; empty uses the borrower's candidates.
    :param places: only contacts at these places are counted and controlled (empty: all).
    :param exclude_places: contacts at these places are neither counted nor controlled.
    """

    cap: int
    days: int | None = None
    duration: dt.timedelta | None = None
    channels: frozenset[Channel] = attrs.field(default=frozenset(), converter=_channels)
    count: Count = Count.ATTEMPTS
    count_inbound: bool = False
    per_person: bool = True
    per_debt: bool = True
    per_number: bool = False
    per_agent: bool = False
    exclude_not_connected: bool = False
    excluded_targets: frozenset[TargetKind] = frozenset()
    target_kinds: frozenset[TargetKind] = frozenset()
    consent_days: int | None = None
    zones: tuple[str, ...] = attrs.field(default=(), converter=_zone_tuple)
    places: frozenset[str] = frozenset()
    exclude_places: frozenset[str] = frozenset()

    def _place_ok(self, place: str | None) -> bool:
        if self.places and place not in self.places:
            return False
        return place not in self.exclude_places

    def __attrs_post_init__(self) -> None:
        if self.cap < 1:
            raise ConfigurationError(f"rule {self.info.id}: cap must be >= 1, got {self.cap}")
        if (self.days is None) == (self.duration is None):
            raise ConfigurationError(f"rule {self.info.id}: give exactly one of days, duration")
        if self.days is not None and self.days < 1:
            raise ConfigurationError(f"rule {self.info.id}: days must be >= 1, got {self.days}")
        if self.duration is not None and self.duration <= dt.timedelta(0):
            raise ConfigurationError(f"rule {self.info.id}: duration must be positive")

    def _controls(self, ctx: Context) -> bool:
        p = ctx.proposed
        if self.channels and p.channel not in self.channels:
            return False
        if p.target_kind in self.excluded_targets or not self._place_ok(p.place):
            return False
        return not (self.target_kinds and p.target_kind not in self.target_kinds)

    def _counted(self, ctx: Context, event: ContactEvent, zone: str) -> bool:
        p = ctx.proposed
        if event.direction is not Direction.OUTBOUND and not self.count_inbound:
            return False
        if self.channels and event.channel not in self.channels:
            return False
        if event.target_kind in self.excluded_targets:
            return False
        if not self._place_ok(event.place):
            return False
        if self.exclude_not_connected and not event.connected:
            return False
        if self.count is Count.CONVERSATIONS and not event.conversation:
            return False
        if self.count is Count.UNANSWERED and event.conversation:
            return False
        if self.per_person and ctx.event_person(event) != ctx.person:
            return False
        if self.per_debt and not ctx.about_debt(event):
            return False
        if self.per_number and event.address != p.address:
            return False
        if self.per_agent and event.agent != p.agent:
            return False
        return not (
            self.consent_days is not None
            and calls_consent_covers(
                ctx, ctx.event_person(event), event.at, zone, self.consent_days
            )
        )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Fail when the proposed contact would exceed the cap in any zone."""
        if not self._controls(ctx):
            return None
        zones = self.zones or ctx.zones
        if self.duration is not None:
            return self._rolling(ctx, at, zones[0], self.duration)
        assert self.days is not None
        failing: list[pendulum.DateTime] = []
        detail = ""
        for zone in zones:
            if self.consent_days is not None and calls_consent_covers(
                ctx, ctx.person, at, zone, self.consent_days
            ):
                continue
            dates = sorted(
                local_date(e.at, zone) for e in ctx.history if self._counted(ctx, e, zone)
            )
            day = local_date(at, zone)
            n = self._in_window(dates, day, self.days)
            if n + 1 <= self.cap:
                continue
            detail = (
                f"{n} {self.count.value} already on the {self.days} local day(s) ending "
                f"{day.isoformat()} ({zone}); cap {self.cap}"
            )
            nxt = day + dt.timedelta(days=1)
            while self._in_window(dates, nxt, self.days) + 1 > self.cap:
                nxt += dt.timedelta(days=1)
            failing.append(day_start(nxt, zone))
        if not failing:
            return None
        return Finding.until(max(failing), detail)

    @staticmethod
    def _in_window(dates: list[dt.date], day: dt.date, days: int) -> int:
        first = day - dt.timedelta(days=days - 1)
        return sum(1 for d in dates if first <= d <= day)

    def _rolling(
        self, ctx: Context, at: pendulum.DateTime, zone: str, duration: dt.timedelta
    ) -> Finding | None:
        if self.consent_days is not None and calls_consent_covers(
            ctx, ctx.person, at, zone, self.consent_days
        ):
            return None
        times = [
            e.at for e in ctx.before(at) if at - duration < e.at and self._counted(ctx, e, zone)
        ]
        if len(times) + 1 <= self.cap:
            return None
        leaving = times[len(times) - self.cap]
        return Finding.until(
            leaving + duration,
            f"{len(times)} {self.count.value} in the last {duration}; cap {self.cap}",
        )


@attrs.frozen(kw_only=True)
class ConversationCooldown(Rule):
    """No call for ``days`` local dates after a conversation; its date is day 1.

    Conversations in either direction count, for every debt discussed; the cool-down
    runs per person and per debt. ``consent_days`` works as in :class:`FrequencyCap`.
    """

    days: int = 7
    channels: frozenset[Channel] = attrs.field(
        default=frozenset({Channel.CALL, Channel.VOICEMAIL}), converter=_channels
    )
    excluded_targets: frozenset[TargetKind] = frozenset()
    consent_days: int | None = None

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Fail on the conversation date and the ``days - 1`` dates after it."""
        p = ctx.proposed
        if self.channels and p.channel not in self.channels:
            return None
        if p.target_kind in self.excluded_targets:
            return None
        keys = ctx.debt.keys
        failing: list[pendulum.DateTime] = []
        detail = ""
        for zone in ctx.zones:
            if self.consent_days is not None and calls_consent_covers(
                ctx, ctx.person, at, zone, self.consent_days
            ):
                continue
            day = local_date(at, zone)
            first = day - dt.timedelta(days=self.days - 1)
            convs = sorted(
                d
                for e in ctx.history
                if e.conversation
                and e.discussed & keys
                and ctx.event_person(e) == ctx.person
                and first <= (d := local_date(e.at, zone)) <= day
            )
            if not convs:
                continue
            last = convs[-1]
            detail = (
                f"telephone conversation on {last.isoformat()} ({zone}); no call until "
                f"{(last + dt.timedelta(days=self.days)).isoformat()}"
            )
            failing.append(day_start(last + dt.timedelta(days=self.days), zone))
        if not failing:
            return None
        return Finding.until(max(failing), detail)


@attrs.frozen(kw_only=True)
class LifetimeCap(Rule):
    """At most ``cap`` outbound contacts with the same person for given purposes, ever.

    Used for the one-time location contact with a third party (FDCPA §1692b(3)).
    """

    cap: int = 1
    purposes: frozenset[str] = frozenset()
    target_kinds: frozenset[TargetKind] = frozenset()

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Fail when the person was already contacted ``cap`` times for these purposes."""
        p = ctx.proposed
        if self.purposes and p.purpose not in self.purposes:
            return None
        if self.target_kinds and p.target_kind not in self.target_kinds:
            return None
        n = sum(
            1
            for e in ctx.before(at)
            if e.direction is Direction.OUTBOUND
            and ctx.event_person(e) == ctx.person
            and (not self.purposes or e.purpose in self.purposes)
        )
        if n + 1 <= self.cap:
            return None
        return Finding.stop(f"already contacted {n} time(s) for {sorted(self.purposes)}")
