"""Geometry without the network: great-circle distances, travel times, time zones
from coordinates (``timezonefinder``'s bundled boundaries) and territories (shapely)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs
import numpy as np
import shapely
from numpy.typing import NDArray
from timezonefinder import TimezoneFinder

from loancollect.domain.errors import ValidationError
from loancollect.domain.intake import GeoPoint

__all__ = ["EARTH_RADIUS_M", "Travel", "distance_m", "in_territory", "matrix_m", "zone_at"]

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), metres."""


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """The great-circle (haversine) distance between two points, in metres."""
    return float(matrix_m([a], [b])[0, 0])


def matrix_m(frm: Sequence[GeoPoint], to: Sequence[GeoPoint]) -> NDArray[np.float64]:
    """Great-circle distances (metres) from every point of ``frm`` to every point of ``to``."""
    lat1 = np.radians(np.array([float(p.lat) for p in frm]))[:, None]
    lon1 = np.radians(np.array([float(p.lon) for p in frm]))[:, None]
    lat2 = np.radians(np.array([float(p.lat) for p in to]))[None, :]
    lon2 = np.radians(np.array([float(p.lon) for p in to]))[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return result


@attrs.frozen(kw_only=True)
class Travel:
    """How long driving takes: great-circle distance times a detour factor, at a speed.

    A host with a road network passes its own matrices to the planner instead.

    :param speed_kmh: average door-to-door speed.
    :param detour: road distance over great-circle distance (1.3 is typical in cities).
    """

    speed_kmh: float = 25.0
    detour: float = 1.3

    def __attrs_post_init__(self) -> None:
        if not self.speed_kmh > 0:
            raise ValidationError("travel.speed_kmh", self.speed_kmh, "must be positive")
        if not self.detour >= 1:
            raise ValidationError("travel.detour", self.detour, "must be at least 1")

    def matrices(self, points: Sequence[GeoPoint]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Road distances (metres) and durations (seconds) between ``points``, as integers."""
        road = matrix_m(points, points) * self.detour
        seconds = road / (self.speed_kmh / 3.6)
        return np.rint(road).astype(np.int64), np.rint(seconds).astype(np.int64)


@functools.cache
def _finder() -> TimezoneFinder:
    return TimezoneFinder(in_memory=True)


def zone_at(point: GeoPoint) -> str | None:
    """The IANA zone at ``point`` (offline boundaries), or ``None`` at sea or when unknown."""
    return _finder().timezone_at(lat=float(point.lat), lng=float(point.lon))


@functools.lru_cache(maxsize=256)
def _polygon(wkt: str) -> shapely.Geometry:
    try:
        shape = shapely.from_wkt(wkt)
    except shapely.errors.ShapelyError as exc:
        raise ValidationError("agent.territory", wkt[:60], f"not WKT: {exc}") from None
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValidationError("agent.territory", wkt[:60], "expected a (multi)polygon")
    shapely.prepare(shape)
    return shape


def in_territory(wkt: str | None, point: GeoPoint) -> bool:
    """True if ``point`` lies in the territory ``wkt`` (longitude x, latitude y); any
    point does when there is no territory."""
    if wkt is None:
        return True
    return bool(shapely.contains_xy(_polygon(wkt), float(point.lon), float(point.lat)))
