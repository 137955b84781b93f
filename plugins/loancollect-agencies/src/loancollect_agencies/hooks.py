"""The plug-in's hooks: the notice of assignment, its templates, the report tables and
the demo part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from importlib import resources

from loancollect import hookimpl
from loancollect.demo_parts import DemoPart
from loancollect.domain.case import Case
from loancollect.domain.decision import Decision
from loancollect.domain.loans import ContactKind, Loan
from loancollect.domain.strategy import PlannedAction, Tone, idempotency_key
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import TemplateSpec
from loancollect.reporting import ReportData, Table
from loancollect_agencies.commission import Band, CommissionRate, CommissionSchedule
from loancollect_agencies.reporting import disposal_table, league, placement_results
from loancollect_agencies.sale import NOTICE_RULE, NOTICE_TEMPLATE

__all__ = [
    "SCHEDULE",
    "loancollect_plan_actions",
    "loancollect_register_demo_parts",
    "loancollect_register_templates",
    "loancollect_report_tables",
]

SCHEDULE = CommissionSchedule(
    rates=(
        CommissionRate(
            tier="primary",
            bands=(Band(rate=Decimal("0.18"), up_to=Decimal(10000)), Band(rate=Decimal("0.15"))),
        ),
        CommissionRate(tier="secondary", bands=(Band(rate=Decimal("0.25")),)),
        CommissionRate(tier="tertiary", bands=(Band(rate=Decimal("0.33")),)),
        CommissionRate(bands=(Band(rate=Decimal("0.20")),)),
    )
)
"""The commission schedule the report's league table uses (a host may replace it)."""


@hookimpl
def loancollect_plan_actions(
    loan: Loan, case: Case, decision: Decision, as_of: dt.date
) -> Iterable[PlannedAction]:
    """A notice of assignment by letter to the borrower of a sold debt, once per sale."""
    sold = case.sale
    if sold is None or case.last_action(NOTICE_RULE) is not None:
        return ()
    addresses = [p for p in loan.borrower.contact_points if p.kind is ContactKind.ADDRESS]
    address = addresses[0] if addresses else None
    # keyed by the sale's date, not today's: a later review never plans it again
    key = idempotency_key(loan.id, f"{NOTICE_RULE}:{sold.sale}", sold.on)
    return (
        PlannedAction(
            loan_id=loan.id,
            rule_id=NOTICE_RULE,
            stage=decision.stage,
            channel="letter",
            template=NOTICE_TEMPLATE,
            tone=Tone.REMINDER,
            as_of=as_of,
            locale=loan.borrower.locale,
            idempotency_key=key,
            contact=address,
        ),
    )


_TEMPLATES = resources.files("loancollect_agencies") / "templates"


@hookimpl
def loancollect_register_templates() -> list[TemplateSpec]:
    """The notice of assignment (letter), zh_CN and en_US."""
    return [
        TemplateSpec(
            name=NOTICE_TEMPLATE,
            channel="letter",
            locale=locale,
            subject=(_TEMPLATES / locale / f"{NOTICE_TEMPLATE}.subject.txt")
            .read_text(encoding="utf-8")
            .strip(),
            source=(_TEMPLATES / locale / f"{NOTICE_TEMPLATE}.txt").read_text(encoding="utf-8"),
            description="notice of assignment of a sold debt",
        )
        for locale in ("en_US", "zh_CN")
    ]


@hookimpl
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> list[Table]:
    """The league table of agencies and the charge-off, recovery and sale figures (each
    only when the period has something to show)."""
    results = placement_results(data.events, storage, SCHEDULE)
    tables = [league(results), disposal_table(data.events)]
    return [t for t in tables if t.rows]  # nothing placed, charged off or sold: no table


@hookimpl
def loancollect_register_demo_parts() -> list[DemoPart]:
    """Two simulated agencies work placed cases; charge-offs, recoveries and a sale."""
    from loancollect_agencies.demo import AgenciesDemo

    return [AgenciesDemo()]
