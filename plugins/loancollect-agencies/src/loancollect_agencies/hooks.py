"""The plug-in's hooks: the notice of assignment, its templates, the report tables and
the demo part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

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


_NOTICE = {
    "en_US": (
        "Notice of assignment of your debt (loan {{ reference }})",
        "Dear {{ borrower_name }},\n\n"
        "{{ lender_name }} has assigned (sold) its rights under loan {{ reference }} to a new "
        "creditor. This notice is given under section 136 of the Law of Property Act 1925 "
        "and article 546 of the Civil Code of the PRC, as they apply.\n\n"
        "The amount outstanding on {{ as_of }} is {{ payoff_amount }}; the amount due is "
        "{{ amount_due }} since {{ due_date_local }}. From the date of this notice, pay the "
        "new creditor, who will write to you with how to pay; a payment made to "
        "{{ lender_name }} by mistake will be passed on. Questions: {{ lender_phone }}, "
        "{{ lender_address }}.\n",
    ),
    "zh_CN": (
        "债权转让通知（借款 {{ reference }}）",
        "{{ borrower_name }}：\n\n"
        "{{ lender_name }}已将借款 {{ reference }} 项下的债权转让给新的债权人。"
        "根据《中华人民共和国民法典》第五百四十六条，特此通知。\n\n"
        "截至 {{ as_of }}，未偿金额为 {{ payoff_amount }}，应还金额 {{ amount_due }}"
        "（自 {{ due_date_local }} 起）。自本通知之日起，请向新的债权人还款，其将另行告知还款方式；"
        "误付给{{ lender_name }}的款项将予转交。"
        "咨询电话：{{ lender_phone }}，地址：{{ lender_address }}。\n",
    ),
}


@hookimpl
def loancollect_register_templates() -> list[TemplateSpec]:
    """The notice of assignment (letter), zh_CN and en_US."""
    return [
        TemplateSpec(
            name=NOTICE_TEMPLATE,
            channel="letter",
            locale=locale,
            subject=subject,
            source=body,
            description="notice of assignment of a sold debt",
        )
        for locale, (subject, body) in sorted(_NOTICE.items())
    ]


@hookimpl
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> list[Table]:
    """The league table of agencies and the charge-off, recovery and sale figures."""
    results = placement_results(data.events, storage, SCHEDULE)
    return [league(results), disposal_table(data.events)]


@hookimpl
def loancollect_register_demo_parts() -> list[DemoPart]:
    """Two simulated agencies work placed cases; charge-offs, recoveries and a sale."""
    from loancollect_agencies.demo import AgenciesDemo

    return [AgenciesDemo()]
