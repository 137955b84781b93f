"""The report's phone table: contact, right-party-contact and promise rates by hour.

Read from the ``CALL_REVIEWED`` events of the period (one per call the plug-in
handled), by the hour of the call in the borrower's own time zone: the hours a
desk should staff. A contact is a call someone or something answered (not busy,
not unanswered); a right-party contact reached the borrower; a promise is a
right-party contact that ended in a promise to pay. Rates are of all calls.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter
from collections.abc import Iterable

from loancollect.domain.case import OutcomeKind
from loancollect.domain.events import CallReviewed, Event, EventKind
from loancollect.ports import UnitOfWorkFactory
from loancollect.reporting import Table

__all__ = ["CONTACTS", "RIGHT_PARTY", "rates_by_hour"]

CONTACTS = frozenset(OutcomeKind) - {OutcomeKind.NO_ANSWER, OutcomeKind.BUSY}
"""Outcomes where the call was answered."""
RIGHT_PARTY = frozenset(
    {
        OutcomeKind.RIGHT_PARTY_CONTACT,
        OutcomeKind.PROMISE,
        OutcomeKind.REFUSED,
        OutcomeKind.DISPUTE_RAISED,
        OutcomeKind.HARDSHIP_STATED,
        OutcomeKind.CALLBACK_REQUESTED,
        OutcomeKind.CEASE_REQUEST,
    }
)
"""Outcomes where the borrower was reached."""


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def rates_by_hour(events: Iterable[Event], storage: UnitOfWorkFactory) -> Table:
    """The table ``phone_rates_by_hour`` of the calls among ``events``."""
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    calls: Counter[int] = Counter()
    contacts: Counter[int] = Counter()
    rpcs: Counter[int] = Counter()
    promises: Counter[int] = Counter()
    reviewed = [e for e in events if e.kind is EventKind.CALL_REVIEWED and e.at is not None]
    if reviewed:
        with storage() as uow:
            for e in reviewed:
                if e.loan_id not in zones:
                    loan = uow.loans.get(e.loan_id)
                    name = loan.borrower.time_zone if loan is not None else ""
                    zones[e.loan_id] = zoneinfo.ZoneInfo(name or "UTC")
    for e in reviewed:
        assert e.at is not None
        payload = CallReviewed.parse(e)
        hour = e.at.astimezone(zones[e.loan_id]).hour
        calls[hour] += 1
        contacts[hour] += payload.outcome in CONTACTS
        rpcs[hour] += payload.outcome in RIGHT_PARTY
        promises[hour] += payload.outcome is OutcomeKind.PROMISE
    rows = tuple(
        (
            f"{hour:02d}:00",
            str(calls[hour]),
            _pct(contacts[hour], calls[hour]),
            _pct(rpcs[hour], calls[hour]),
            _pct(promises[hour], calls[hour]),
        )
        for hour in sorted(calls)
    )
    total = sum(calls.values())
    if total:
        rows += (
            (
                "all",
                str(total),
                _pct(sum(contacts.values()), total),
                _pct(sum(rpcs.values()), total),
                _pct(sum(promises.values()), total),
            ),
        )
    return Table(
        "phone_rates_by_hour",
        "Phone: contact, right-party-contact and promise rates by the borrower's local hour",
        ("hour", "calls", "contact rate", "RPC rate", "promise rate"),
        rows,
    )
