"""Positions phones post: the OsmAnd protocol (query or form parameters, as OsmAnd
and Traccar Client send them) and Traccar Client's JSON body.

OsmAnd: ``id`` (or ``deviceid``), ``lat``, ``lon``, ``timestamp`` (Unix seconds or
ISO 8601), and optionally ``accuracy`` (metres), ``speed``, ``bearing``,
``altitude``, ``batt``. Traccar Client JSON::

    {"device_id": "agent-1",
     "location": {"timestamp": "2025-03-01T02:00:00Z",
                  "coords": {"latitude": 31.2, "longitude": 121.4, "accuracy": 12},
                  "extras": {"visit": "2025-03-01:key", "event": "checkin"}}}

The visit and the event (``checkin``/``checkout``) travel as extra parameters
(``visit``, ``event``) in either form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from loancollect.domain.errors import ValidationError
from loancollect.domain.intake import GeoPoint

__all__ = ["EVENTS", "Position", "from_osmand", "from_traccar_json"]

EVENTS = frozenset({"checkin", "checkout"})
"""The visit events a position may carry."""


@attrs.frozen(kw_only=True)
class Position:
    """A phone's fix, with the visit event it reports."""

    device: str
    at: dt.datetime
    point: GeoPoint
    visit: str
    event: str


def _text(params: Mapping[str, Any], field: str, *names: str) -> str:
    for name in names:
        value = params.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    raise ValidationError(field, None, "missing")


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValidationError(field, value, "expected a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(field, str(value)[:40], "expected a number") from None
    if not number.is_finite():
        raise ValidationError(field, str(value)[:40], "expected a finite number")
    return number


def _instant(value: Any, field: str) -> dt.datetime:
    text = str(value).strip()
    try:
        if text.replace(".", "", 1).isdigit():
            seconds = float(text)
            if seconds > 1e11:  # milliseconds, as some clients send
                seconds /= 1000
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        at = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ValidationError(field, text[:40], "expected Unix seconds or ISO 8601") from None
    if at.utcoffset() is None:
        raise ValidationError(field, text[:40], "naive time; give a UTC offset")
    return at


def _point(lat: Any, lon: Any, accuracy: Any) -> GeoPoint:
    return GeoPoint(
        lat=_decimal(lat, "location.lat"),
        lon=_decimal(lon, "location.lon"),
        accuracy_m=None if accuracy in (None, "") else _decimal(accuracy, "location.accuracy_m"),
    )


def _event(value: str) -> str:
    if value not in EVENTS:
        raise ValidationError("event", value[:40], f"expected one of {sorted(EVENTS)}")
    return value


def from_osmand(params: Mapping[str, Any]) -> Position:
    """The position in OsmAnd parameters.

    :raises ValidationError: naming the missing or bad parameter.
    """
    return Position(
        device=_text(params, "id", "id", "deviceid"),
        at=_instant(_text(params, "timestamp", "timestamp"), "timestamp"),
        point=_point(params.get("lat"), params.get("lon"), params.get("accuracy")),
        visit=_text(params, "visit", "visit"),
        event=_event(_text(params, "event", "event")),
    )


def from_traccar_json(body: Any) -> Position:
    """The position in a Traccar Client JSON body.

    :raises ValidationError: naming the missing or bad member.
    """
    if not isinstance(body, dict):
        raise ValidationError("body", type(body).__name__, "expected a JSON object")
    location = body.get("location")
    if not isinstance(location, dict):
        raise ValidationError("location", None, "missing")
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise ValidationError("location.coords", None, "missing")
    extras = location.get("extras") or {}
    if not isinstance(extras, dict):
        raise ValidationError("location.extras", None, "expected an object")
    return Position(
        device=_text(body, "device_id", "device_id"),
        at=_instant(_text(location, "location.timestamp", "timestamp"), "location.timestamp"),
        point=_point(coords.get("latitude"), coords.get("longitude"), coords.get("accuracy")),
        visit=_text(extras, "location.extras.visit", "visit"),
        event=_event(_text(extras, "location.extras.event", "event")),
    )
