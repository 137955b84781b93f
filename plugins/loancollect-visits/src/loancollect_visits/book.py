"""The visit book: open visit requests and what happened on each visit.

In memory and thread-safe (the check-in app and the planner share it). A host that
needs it to survive a restart keeps its own copy from the events it is sent
(every visit's outcome is stored through the engine's intake anyway).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable

import attrs

from loancollect.domain.intake import GeoPoint
from loancollect_visits.model import Plan, Stop, VisitRequest

__all__ = ["CheckIn", "VisitBook"]


@attrs.frozen(kw_only=True)
class CheckIn:
    """An agent's arrival at (or departure from) a planned visit, as accepted.

    :param flags: what was wrong and is flagged for review (``late``, ``early``,
        ``far``, ``inaccurate``), empty when everything matched.
    """

    visit_id: str
    device: str
    at: dt.datetime
    point: GeoPoint
    distance_m: int
    accuracy_m: int | None
    flags: tuple[str, ...] = ()


class VisitBook:
    """Requests waiting for a plan, the planned stops, check-ins and check-outs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, VisitRequest] = {}
        self._stops: dict[str, Stop] = {}
        self._agent_of: dict[str, str] = {}
        self._checked_in: dict[str, CheckIn] = {}
        self._checked_out: dict[str, CheckIn] = {}
        self._outcomes: dict[str, str] = {}
        self._alerted: set[str] = set()

    def add(self, request: VisitRequest) -> bool:
        """Keep ``request`` until planned; ``False`` if its key is already known."""
        with self._lock:
            if request.key in self._requests:
                return False
            self._requests[request.key] = request
            return True

    def get(self, key: str) -> VisitRequest | None:
        """The request with ``key``, if known."""
        with self._lock:
            return self._requests.get(key)

    def open(self, before: dt.datetime) -> tuple[VisitRequest, ...]:
        """Requests received before ``before`` that no visit has been made for yet."""
        with self._lock:
            done = {self._stops[v].request.key for v in self._checked_in}
            return tuple(
                r for r in self._requests.values() if r.requested_at < before and r.key not in done
            )

    def drop(self, keys: Iterable[str]) -> None:
        """Forget requests that will never be visited (a hold, a vulnerable customer)."""
        with self._lock:
            for key in keys:
                self._requests.pop(key, None)

    def planned(self, plan: Plan) -> None:
        """Remember the plan's stops (what the agents check in to)."""
        with self._lock:
            for route in plan.routes:
                for stop in route.stops:
                    self._stops[stop.visit_id] = stop
                    self._agent_of[stop.visit_id] = route.agent.id

    def stop(self, visit_id: str) -> tuple[Stop, str] | None:
        """The planned stop and its agent's id."""
        with self._lock:
            stop = self._stops.get(visit_id)
            return None if stop is None else (stop, self._agent_of[visit_id])

    def check_in(self, record: CheckIn) -> CheckIn:
        """Record an arrival; the first one of a visit stands (a repeat returns it)."""
        with self._lock:
            return self._checked_in.setdefault(record.visit_id, record)

    def check_out(self, record: CheckIn) -> CheckIn:
        """Record a departure; the first one of a visit stands."""
        with self._lock:
            return self._checked_out.setdefault(record.visit_id, record)

    def arrival(self, visit_id: str) -> CheckIn | None:
        """The visit's check-in, if any."""
        with self._lock:
            return self._checked_in.get(visit_id)

    def departure(self, visit_id: str) -> CheckIn | None:
        """The visit's check-out, if any."""
        with self._lock:
            return self._checked_out.get(visit_id)

    def reported(self, visit_id: str, kind: str) -> str:
        """Record the visit's reported outcome; return the first one reported."""
        with self._lock:
            return self._outcomes.setdefault(visit_id, kind)

    def outcome(self, visit_id: str) -> str | None:
        """The outcome reported for the visit, if any."""
        with self._lock:
            return self._outcomes.get(visit_id)

    def overdue(self, now: dt.datetime, limit: dt.timedelta) -> tuple[CheckIn, ...]:
        """Check-ins older than ``limit`` with no check-out and no alert yet (each is
        returned once: the caller raises the alert)."""
        with self._lock:
            found = []
            for visit_id, record in sorted(self._checked_in.items()):
                if visit_id in self._checked_out or visit_id in self._alerted:
                    continue
                if now - record.at > limit:
                    self._alerted.add(visit_id)
                    found.append(record)
            return tuple(found)
