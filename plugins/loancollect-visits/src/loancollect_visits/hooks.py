"""Hook implementations of loancollect-visits: the ``visit`` channel, the demo part
and the report table."""

from __future__ import annotations

from collections.abc import Iterable

from loancollect import hookimpl
from loancollect.demo_parts import DemoPart
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.loans import ContactKind
from loancollect.registry import ChannelSpec
from loancollect.reporting import ReportData, Table
from loancollect_visits.channel import CAPABILITIES, from_settings
from loancollect_visits.report import visits_table


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The ``visit`` channel (visit requests for the planner)."""
    return [
        ChannelSpec(
            name="visit",
            factory=from_settings,
            medium=Medium.VISIT,
            contact_kind=ContactKind.ADDRESS,
            capabilities=CAPABILITIES,
            description="Field visits: lawful planning, PyVRP routes, check-in app",
        )
    ]


@hookimpl
def loancollect_register_demo_parts() -> list[DemoPart]:
    """Field agents plan and make the demo's visits."""
    # Imported here: the solver, PDF, plotting and web libraries load only for the demo.
    from loancollect_visits.demo import VisitsDemo

    return [VisitsDemo()]


@hookimpl
def loancollect_report_tables(data: ReportData) -> Iterable[Table]:
    """Visits, right-party contacts and promises from visits."""
    yield visits_table(data.events)
