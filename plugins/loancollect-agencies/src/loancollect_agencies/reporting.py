"""The agencies' report tables: the league table, and charge-offs, recoveries and sales.

Read from the stored events: each placement (``CASE_PLACED`` in the period) with
what was collected while it lasted (payments dated from its start until its
recall), its balance when placed (the loan assessed on that day), the commission
the schedule gives, and the complaints flagged while placed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from loancollect.domain.events import (
    CaseBoughtBack,
    CasePlaced,
    CaseRecalled,
    CaseSold,
    ChargedOff,
    Event,
    EventKind,
    FlagSet,
    PaymentReceived,
    RecoveryRecorded,
    WrittenOff,
)
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.domain.placement import COMPLAINT_FLAG
from loancollect.ports import UnitOfWorkFactory
from loancollect.reporting import Table
from loancollect_agencies.commission import CommissionSchedule, PlacementTerms
from loancollect_agencies.league import PlacementResult, league_table

__all__ = ["disposal_table", "league", "placement_results"]


def _placed_until(stream: Sequence[Event], placed: Event) -> dt.date | None:
    payload = placed.payload
    assert isinstance(payload, CasePlaced)
    for e in stream:
        if e.kind is EventKind.CASE_RECALLED and e.seq > placed.seq:
            recalled = e.payload
            assert isinstance(recalled, CaseRecalled)
            if recalled.placement == payload.placement:
                return e.on
    return None


def placement_results(
    events: Iterable[Event], storage: UnitOfWorkFactory, schedule: CommissionSchedule
) -> list[PlacementResult]:
    """Each placement among ``events`` with its results so far."""
    out = []
    for placed in events:
        if placed.kind is not EventKind.CASE_PLACED:
            continue
        payload = placed.payload
        assert isinstance(payload, CasePlaced)
        with storage() as uow:
            loan = uow.loans.get(placed.loan_id)
            stream = uow.events.stream(placed.loan_id)
            payments = uow.loans.payments_for(placed.loan_id)
        if loan is None:
            continue
        start = placed.on
        end = _placed_until(stream, placed)
        # the balance handed over: before any payment of the placement's first day
        at_placement = assess(loan, [p for p in payments if p.value_date < start], start)
        terms = PlacementTerms(
            tier=payload.tier, age_days=at_placement.dpd, balance=at_placement.payoff_amount
        )
        collected = []
        complaints = 0
        for e in stream:
            if e.on < start or (end is not None and e.on > end):
                continue
            if e.kind is EventKind.PAYMENT_RECEIVED:
                paid = e.payload
                assert isinstance(paid, PaymentReceived)
                collected.append(Money(paid.amount, paid.currency))
            elif e.kind is EventKind.FLAG_SET:
                flag = e.payload
                assert isinstance(flag, FlagSet)
                complaints += flag.flag.split(":")[0] == COMPLAINT_FLAG
        zero = Money.zero(loan.currency)
        commission = sum(schedule.commissions(terms, collected), zero)
        out.append(
            PlacementResult(
                agency=payload.agency,
                since=start,
                placed=terms.balance,
                collected=sum(collected, zero),
                commission=commission,
                complaints=complaints,
            )
        )
    return out


def league(results: Iterable[PlacementResult]) -> Table:
    """The league table of agencies by placement vintage (amounts with their currency)."""
    rows = []
    for r in league_table(results):
        cost = r.cost_per_unit
        rows.append(
            (
                r.vintage,
                r.agency,
                str(r.accounts),
                f"{r.placed.amount} {r.currency}",
                f"{r.collected.amount} {r.currency}",
                f"{r.liquidation_rate}%",
                "-" if cost is None else str(cost),
                str(r.complaint_rate),
            )
        )
    return Table(
        "agencies_league",
        "Agencies: league table by placement vintage",
        (
            "vintage",
            "agency",
            "accounts",
            "placed",
            "collected",
            "liquidation",
            "cost per unit",
            "complaints per 1000",
        ),
        tuple(rows),
    )


def disposal_table(events: Iterable[Event]) -> Table:
    """Charge-offs, write-offs, recoveries (reported apart from other payments), sales
    and buy-backs, per currency: accounts and amounts."""
    counts: dict[tuple[str, str], int] = {}
    amounts: dict[tuple[str, str], Decimal] = {}

    def add(what: str, currency: str, amount: Decimal | None) -> None:
        counts[(what, currency)] = counts.get((what, currency), 0) + 1
        if amount is not None:
            amounts[(what, currency)] = amounts.get((what, currency), Decimal(0)) + amount

    for e in events:
        p = e.payload if e.kind in _DISPOSALS else None
        if isinstance(p, ChargedOff):
            add("charged off", p.currency, p.amount)
        elif isinstance(p, WrittenOff):
            add("written off", p.currency, p.amount)
        elif e.kind is EventKind.CHARGE_OFF_REVERSED:
            add("charge-off reversed", "", None)
        elif isinstance(p, RecoveryRecorded):
            add("recovered after charge-off", p.currency, p.amount)
        elif isinstance(p, CaseSold):
            add("sold", p.currency, p.price)
        elif isinstance(p, CaseBoughtBack):
            add("bought back", "", None)
    order = list(_ORDER)
    rows = [
        (
            what,
            currency,
            str(n),
            str(amounts[(what, currency)]) if (what, currency) in amounts else "-",
        )
        for (what, currency), n in sorted(
            counts.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
        )
    ]
    return Table(
        "agencies_disposals",
        "Charge-offs, recoveries and sales",
        ("event", "currency", "accounts", "amount"),
        tuple(rows),
    )


_ORDER = (
    "charged off",
    "written off",
    "charge-off reversed",
    "recovered after charge-off",
    "sold",
    "bought back",
)
_DISPOSALS = frozenset(
    {
        EventKind.CHARGED_OFF,
        EventKind.WRITTEN_OFF,
        EventKind.CHARGE_OFF_REVERSED,
        EventKind.RECOVERY_RECORDED,
        EventKind.CASE_SOLD,
        EventKind.CASE_BOUGHT_BACK,
    }
)
