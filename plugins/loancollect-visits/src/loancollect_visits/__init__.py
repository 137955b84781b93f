"""Field visits (上门催收) for loancollect: lawful planning, routes, check-in and outcomes.

- :class:`VisitChannel` turns the engine's visit actions into visit requests;
- :class:`VisitPlanner` plans a day: lawful windows from the rule packs
  (:class:`VisitRules`), then routes for the agents (PyVRP);
- :func:`route_sheet` / :func:`calendar` / :func:`write_day`: each agent's PDF and iCalendar;
- :func:`check_in_app`: the ASGI app the agents' phones post to (OsmAnd/Traccar),
  backed by a :class:`FieldDesk` that records outcomes through the engine's intake.

The names are imported on first use: loading the plug-in (its hooks) does not import
the solver, the PDF and plotting libraries or the web framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loancollect_visits.app import check_in_app
    from loancollect_visits.book import CheckIn, VisitBook
    from loancollect_visits.channel import SiteTable, VisitChannel
    from loancollect_visits.desk import FieldDesk, LoneWorkerAlert, VisitResult, token_digest
    from loancollect_visits.geo import Travel, zone_at
    from loancollect_visits.lawful import DEFAULT_POLICIES, VisitPolicy, VisitRules
    from loancollect_visits.model import (
        Agent,
        AgentRoute,
        Plan,
        Site,
        Stop,
        Unplanned,
        VisitRequest,
        Window,
    )
    from loancollect_visits.planner import VisitPlanner
    from loancollect_visits.sheets import calendar, route_sheet, write_day

_WHERE = {
    "check_in_app": "app",
    "CheckIn": "book",
    "VisitBook": "book",
    "SiteTable": "channel",
    "VisitChannel": "channel",
    "FieldDesk": "desk",
    "LoneWorkerAlert": "desk",
    "VisitResult": "desk",
    "token_digest": "desk",
    "Travel": "geo",
    "zone_at": "geo",
    "DEFAULT_POLICIES": "lawful",
    "VisitPolicy": "lawful",
    "VisitRules": "lawful",
    "Agent": "model",
    "AgentRoute": "model",
    "Plan": "model",
    "Site": "model",
    "Stop": "model",
    "Unplanned": "model",
    "VisitRequest": "model",
    "Window": "model",
    "VisitPlanner": "planner",
    "calendar": "sheets",
    "route_sheet": "sheets",
    "write_day": "sheets",
}

__all__ = [
    "DEFAULT_POLICIES",
    "Agent",
    "AgentRoute",
    "CheckIn",
    "FieldDesk",
    "LoneWorkerAlert",
    "Plan",
    "Site",
    "SiteTable",
    "Stop",
    "Travel",
    "Unplanned",
    "VisitBook",
    "VisitChannel",
    "VisitPlanner",
    "VisitPolicy",
    "VisitRequest",
    "VisitResult",
    "VisitRules",
    "Window",
    "calendar",
    "check_in_app",
    "route_sheet",
    "token_digest",
    "write_day",
    "zone_at",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'loancollect_visits' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"loancollect_visits.{module}"), name)
    globals()[name] = value
    return value
