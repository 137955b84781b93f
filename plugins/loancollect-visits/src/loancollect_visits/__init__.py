"""Field visits (上门催收) for loancollect: lawful planning, routes, check-in and outcomes.

- :class:`VisitChannel` turns the engine's visit actions into visit requests;
- :class:`VisitPlanner` plans a day: lawful windows from the rule packs
  (:class:`VisitRules`), then routes for the agents (PyVRP);
- :func:`route_sheet` / :func:`calendar` / :func:`write_day`: each agent's PDF and iCalendar;
- :func:`check_in_app`: the ASGI app the agents' phones post to (OsmAnd/Traccar),
  backed by a :class:`FieldDesk` that records outcomes through the engine's intake.
"""

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
