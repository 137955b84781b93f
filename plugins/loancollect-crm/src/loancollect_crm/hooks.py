"""The plug-in's hooks: its part in the demo and its table in the report.

The report table ``crm_sync`` lists, for each sync state this process used (the
demo's) and the one named by ``$LOANCOLLECT_CRM_STATE`` (for ``loancollect
report``), the records kept in step by kind, the conflicts and the inbound
changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from loancollect import hookimpl
from loancollect.demo_parts import DemoPart
from loancollect.ports import UnitOfWorkFactory
from loancollect.reporting import ReportData, Table
from loancollect_crm.demo import CrmDemoPart, demo_states
from loancollect_crm.state import InboxStatus, SyncState

__all__ = ["STATE_ENV", "loancollect_register_demo_parts", "loancollect_report_tables"]

STATE_ENV = "LOANCOLLECT_CRM_STATE"


@hookimpl
def loancollect_register_demo_parts() -> Iterable[DemoPart]:
    """The stand-in CRM kept in step with the demo."""
    return [CrmDemoPart()]


@hookimpl
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> Iterator[Table]:
    """``crm_sync``: records synced by kind, conflicts, inbound updates."""
    states = list(demo_states())
    named = os.environ.get(STATE_ENV)
    if named and os.path.exists(named):
        states.append(SyncState(named))
    if not states:
        return
    rows = []
    for state in states:
        t = state.tally()
        rows.append(
            (
                state.path.name if len(states) == 1 else str(state.path),
                *(str(t.records.get(k, 0)) for k in ("contact", "case", "activity", "task")),
                str(t.conflicts),
                *(
                    str(t.inbound.get(s.value, 0))
                    for s in (
                        InboxStatus.APPLIED,
                        InboxStatus.CONFLICT,
                        InboxStatus.REJECTED,
                        InboxStatus.PENDING,
                    )
                ),
            )
        )
    yield Table(
        "crm_sync",
        "CRM sync: records kept in step, conflicts, inbound updates",
        (
            "state",
            "contacts",
            "cases",
            "activities",
            "tasks",
            "conflicts",
            "inbound applied",
            "inbound refused",
            "inbound rejected",
            "inbound pending",
        ),
        tuple(rows),
    )
