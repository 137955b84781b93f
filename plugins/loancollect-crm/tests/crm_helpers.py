"""A small portfolio in an engine over memory storage, with sends and outcomes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loancollect_crm.standins.salesforce import SalesforceStandIn

from loancollect.builtin.memory import MemoryStore
from loancollect.domain.case import OutcomeKind
from loancollect.domain.events import ActionSent, new_event
from loancollect.domain.intake import Outcome, PromiseTerms
from loancollect.domain.money import Money
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.templates import TemplateCatalog
from loancollect.testing import FixedClock, make_borrower, make_loan

NOW = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 3, 1)


def make_engine(loans: int = 6) -> CollectionEngine:
    """``loans`` loans of ``loans // 2`` borrowers (two loans each), each with one SMS
    sent; the first has a callback requested and a promise."""
    pm = make_plugin_manager(load_entrypoints=False)
    engine = CollectionEngine(
        pm=pm,
        storage=MemoryStore(),
        clock=FixedClock(NOW),
        templates=TemplateCatalog(()),  # the sync sends no messages
        validate_templates=False,
    )
    built = [
        make_loan(id=f"L-{i:03d}", borrower=make_borrower(id=f"B-{i // 2:03d}", name=f"王{i}"))
        for i in range(loans)
    ]
    engine.add_loans(built, review_on=DAY)
    with engine.storage() as uow:
        for loan in built:
            sent = ActionSent(key=f"{loan.id}:sms:{DAY}", channel="sms", rule="remind", attempts=1)
            uow.events.append([new_event(sent, loan_id=loan.id, on=DAY, at=NOW)])
        uow.commit()
    first = built[0].id
    engine.record_outcome(
        first,
        Outcome(kind=OutcomeKind.CALLBACK_REQUESTED, at=NOW, channel="phone", key=f"{first}:call"),
    )
    engine.record_outcome(
        first,
        Outcome(
            kind=OutcomeKind.PROMISE,
            at=NOW + dt.timedelta(hours=1),
            channel="phone",
            promise=PromiseTerms(
                amount=Money(Decimal("500.00"), "CNY"), due=DAY + dt.timedelta(days=7)
            ),
        ),
    )
    return engine


def expected_counts(loans: int) -> dict[str, int]:
    """Records one sync of :func:`make_engine` makes, by kind."""
    # activities: one send per loan + two outcomes; tasks: the callback and the promise
    return {"contact": loans // 2, "case": loans, "activity": loans + 2, "task": 2}


def salesforce_counts(crm: SalesforceStandIn) -> dict[str, int]:
    """Records the Salesforce stand-in holds, by our kind."""
    tasks = crm.records.get("Task", [])
    return {
        "contact": len(crm.records.get("Contact", [])),
        "case": len(crm.records.get("Case", [])),
        "activity": sum(1 for t in tasks if t["Status"] == "Completed"),
        "task": sum(1 for t in tasks if t["Status"] == "Not Started"),
    }
