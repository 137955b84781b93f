"""The visits table of the report: visits made, right-party contacts and promises.

Read from the period's stored events (every visit's outcome is a
``CONTACT_OUTCOME`` on channel ``visit``, whoever recorded it), so it needs no
state of the plug-in's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from loancollect.domain.case import OutcomeKind
from loancollect.domain.events import ContactOutcomeRecorded, Event, EventKind
from loancollect.reporting import Table

__all__ = ["CHANNEL", "visits_table"]

CHANNEL = "visit"


def visits_table(events: Iterable[Event]) -> Table:
    """``visits_outcomes``: visits, right-party contacts, promises and the other outcomes."""
    outcomes: Counter[OutcomeKind] = Counter()
    for event in events:
        if event.kind is not EventKind.CONTACT_OUTCOME:
            continue
        payload = ContactOutcomeRecorded.parse(event)
        if payload.channel == CHANNEL:
            outcomes[payload.outcome] += 1
    visits = sum(outcomes.values())
    rpc = sum(n for kind, n in outcomes.items() if kind.is_conversation)
    promises = outcomes[OutcomeKind.PROMISE]
    away = outcomes[OutcomeKind.NOT_AT_HOME] + outcomes[OutcomeKind.NO_ANSWER]
    rate = f"{100 * rpc / visits:.1f}%" if visits else "-"
    return Table(
        "visits_outcomes",
        "Field visits: right-party contacts and promises",
        (
            "visits",
            "right-party contacts",
            "RPC rate",
            "promises",
            "not at home",
            "third party",
            "moved",
        ),
        (
            (
                str(visits),
                str(rpc),
                rate,
                str(promises),
                str(away),
                str(outcomes[OutcomeKind.THIRD_PARTY]),
                str(outcomes[OutcomeKind.MOVED]),
            ),
        ),
    )
