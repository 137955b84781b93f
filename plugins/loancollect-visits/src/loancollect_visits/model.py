"""The records of field visits: where, who, when, and what was planned.

Frozen keyword-only records. Coordinates are WGS 84 ``Decimal`` degrees (the
domain's :class:`~loancollect.domain.intake.GeoPoint`); instants are time-zone
aware; durations are :class:`datetime.timedelta`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from loancollect.domain.errors import ValidationError
from loancollect.domain.intake import GeoPoint
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import Statement

__all__ = [
    "Agent",
    "AgentRoute",
    "Plan",
    "Site",
    "Stop",
    "Unplanned",
    "VisitRequest",
    "Window",
]

PLACES = frozenset({"home", "workplace", "other"})
"""The kinds of place a visit can be made at (rule packs treat them differently)."""


def _aware(field: str) -> Any:
    def check(_: object, __: object, value: dt.datetime) -> None:
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            raise ValidationError(field, str(value), "expected a time-zone-aware datetime")

    return check


@attrs.frozen(kw_only=True)
class Site:
    """Where a visit is made: coordinates the host supplies (never geocoded here).

    :param point: the address's coordinates (personal data: left out of reprs).
    :param place: ``home``, ``workplace`` or ``other``.
    :param address: the postal address as printed on the route sheet (left out of reprs).
    :param consent: the borrower expressly agreed to a visit at this place.
    """

    point: GeoPoint = attrs.field(repr=False)
    place: str = "home"
    address: str = attrs.field(default="", repr=False)
    consent: bool = False

    def __attrs_post_init__(self) -> None:
        if self.place not in PLACES:
            raise ValidationError("site.place", self.place, f"expected one of {sorted(PLACES)}")


@attrs.frozen(kw_only=True)
class VisitRequest:
    """A visit the strategy asked for (the ``visit`` channel received its action).

    :param key: the action's idempotency key (one request per key).
    :param loan_id: the loan.
    :param requested_at: when the action reached the channel: the visit notice's instant.
    :param locale: the borrower's locale (the language the agent must speak).
    :param site: where to go.
    :param statement: the case's statement of account, printed on the route sheet.
    :param action: the planned action (what the rule packs judge again at planning
        and at check-in).
    """

    key: str
    loan_id: str
    requested_at: dt.datetime = attrs.field(validator=_aware("visit_request.requested_at"))
    locale: str
    site: Site
    statement: Statement | None = attrs.field(default=None, repr=False)
    action: PlannedAction = attrs.field(repr=False)

    @property
    def language(self) -> str:
        """The language part of the locale (``zh`` of ``zh_CN``)."""
        return self.locale.split("_")[0].lower()


@attrs.frozen(kw_only=True)
class Agent:
    """A field agent (or a team of ``team_size`` collectors travelling together).

    :param base: where the day starts and ends.
    :param zone: the IANA zone of the shift's times.
    :param shift_start: local start of the shift.
    :param shift_end: local end of the shift.
    :param languages: languages spoken (``zh``, ``en`` …).
    :param team_size: collectors in the team (a rule may require two).
    :param max_visits: the daily cap of visits.
    :param territory: the area served, as WKT of a polygon (``None``: anywhere).
    :param device: the id of the agent's phone (OsmAnd/Traccar ``id``).
    """

    id: str
    name: str = ""
    base: GeoPoint
    zone: str
    shift_start: dt.time = dt.time(8, 30)
    shift_end: dt.time = dt.time(18, 0)
    languages: frozenset[str] = frozenset({"zh"})
    team_size: int = 1
    max_visits: int = 8
    territory: str | None = None
    device: str = ""

    def __attrs_post_init__(self) -> None:
        if self.shift_end <= self.shift_start:
            raise ValidationError(
                "agent.shift_end", self.shift_end.isoformat(), "must be after shift_start"
            )
        if self.team_size < 1:
            raise ValidationError("agent.team_size", self.team_size, "must be at least 1")
        if self.max_visits < 0:
            raise ValidationError("agent.max_visits", self.max_visits, "must not be negative")


@attrs.frozen(kw_only=True)
class Window:
    """A lawful interval for a visit's start: ``[start, end]`` (aware, UTC)."""

    start: dt.datetime = attrs.field(validator=_aware("window.start"))
    end: dt.datetime = attrs.field(validator=_aware("window.end"))

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError("window.end", self.end.isoformat(), "before the window's start")

    def __contains__(self, at: object) -> bool:
        return isinstance(at, dt.datetime) and self.start <= at <= self.end


@attrs.frozen(kw_only=True)
class Stop:
    """One planned visit on a route.

    :param visit_id: ``<day>:<request key>``; what the agent's phone checks in with.
    :param arrive: the planned start of the visit (within ``window``).
    :param depart: the planned end (``arrive`` plus the service time).
    :param window: the lawful window of the visit's start.
    :param zone: the borrower's IANA zone (from the coordinates).
    :param two_person: a rule requires two collectors at this visit.
    """

    visit_id: str
    request: VisitRequest
    arrive: dt.datetime
    depart: dt.datetime
    window: Window
    zone: str
    two_person: bool = False


@attrs.frozen(kw_only=True)
class AgentRoute:
    """One agent's day: the stops in order and the distance driven (metres)."""

    agent: Agent
    stops: tuple[Stop, ...]
    distance_m: int
    start: dt.datetime
    end: dt.datetime


@attrs.frozen(kw_only=True)
class Unplanned:
    """A request not planned for the day, and why (a rule, a cap, no agent)."""

    key: str
    loan_id: str
    reason: str
    retry: bool = True
    """``False`` when the request is dropped (a hold, a vulnerable customer)."""


@attrs.frozen(kw_only=True)
class Plan:
    """The visits of one day: a route per agent and what could not be planned."""

    day: dt.date
    routes: tuple[AgentRoute, ...]
    unplanned: tuple[Unplanned, ...] = ()

    @property
    def stops(self) -> tuple[Stop, ...]:
        """Every planned stop of the day."""
        return tuple(s for r in self.routes for s in r.stops)

    @property
    def distance_m(self) -> int:
        """The total distance driven (metres)."""
        return sum(r.distance_m for r in self.routes)
