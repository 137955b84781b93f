"""Collection KPIs over assessment snapshots and events (pure; definitions in docs/kpis.md).

Inputs are plain records: :class:`Snapshot` (one loan's state at the end of a
period, e.g. a month), the engine's :class:`~loancollect.domain.events.Event`
stream, and :class:`Touch` records (the collection work recovery is attributed
to). Every rate is an exact ``Decimal`` (``None`` when its denominator is zero,
never a division by zero); amounts are :class:`Money` of one currency.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from loancollect.domain.case import OutcomeKind
from loancollect.domain.errors import CurrencyMismatchError
from loancollect.domain.events import (
    ActionSent,
    ContactOutcomeRecorded,
    Event,
    EventKind,
    PaymentReceived,
    StageChanged,
)
from loancollect.domain.money import Money
from loancollect.domain.overdue import DEFAULT_BUCKETS, AgingBuckets, RiskClass

__all__ = [
    "GroupRates",
    "RollMatrix",
    "Snapshot",
    "Touch",
    "contacts_per_unit_recovered",
    "cure_rate",
    "entry_rate",
    "flow_rates",
    "npl_ratio",
    "promise_kept_rate",
    "recovery_by",
    "right_party_contact_rate",
    "roll_matrix",
    "variant_comparison",
    "vintage_curves",
]


def _rate(num: Decimal | int, den: Decimal | int) -> Decimal | None:
    return None if not den else (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"))


@attrs.frozen(kw_only=True)
class Snapshot:
    """One loan at the end of one period.

    :param period: the period's end date (e.g. a month end).
    :param balance: outstanding principal.
    :param overdue: principal + interest + fees past due.
    """

    loan_id: str
    period: dt.date
    dpd: int
    bucket: str
    balance: Money
    overdue: Money
    risk_class: RiskClass
    stage: str
    disbursed: dt.date
    segment: str | None = None
    variant: str | None = None


@attrs.frozen
class RollMatrix:
    """Transitions between buckets from one period to the next, by count and by balance."""

    buckets: tuple[str, ...]
    counts: dict[tuple[str, str], int]
    balances: dict[tuple[str, str], Decimal]

    def roll_rate(self, bucket: str, by_balance: bool = False) -> Decimal | None:
        """Share of ``bucket`` that moved to the next worse bucket."""
        idx = self.buckets.index(bucket)
        if idx + 1 >= len(self.buckets):
            return None
        worse = self.buckets[idx + 1]
        table: dict[tuple[str, str], Decimal] | dict[tuple[str, str], int]
        table = self.balances if by_balance else self.counts
        total = sum(v for (a, _), v in table.items() if a == bucket)
        return _rate(table.get((bucket, worse), 0), total)


def _pairs(
    before: Sequence[Snapshot], after: Sequence[Snapshot]
) -> list[tuple[Snapshot, Snapshot]]:
    later = {s.loan_id: s for s in after}
    return [(s, later[s.loan_id]) for s in before if s.loan_id in later]


def roll_matrix(
    before: Sequence[Snapshot], after: Sequence[Snapshot], buckets: AgingBuckets = DEFAULT_BUCKETS
) -> RollMatrix:
    """Count and balance of loans moving from each bucket to each bucket.

    Loans present in both periods are counted; balances are taken at the start.

    :raises CurrencyMismatchError: if the snapshots mix currencies (balances are summed).
    """
    check_one_currency([*before, *after])
    counts: dict[tuple[str, str], int] = defaultdict(int)
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for a, b in _pairs(before, after):
        counts[(a.bucket, b.bucket)] += 1
        balances[(a.bucket, b.bucket)] += a.balance.amount
    return RollMatrix(buckets.labels, dict(counts), dict(balances))


def flow_rates(
    before: Sequence[Snapshot], after: Sequence[Snapshot], buckets: AgingBuckets = DEFAULT_BUCKETS
) -> dict[str, Decimal | None]:
    """Balance in bucket *k+1* at the end over balance in bucket *k* at the start.

    :raises CurrencyMismatchError: if the snapshots mix currencies.
    """
    check_one_currency([*before, *after])
    start: dict[str, Decimal] = defaultdict(Decimal)
    end: dict[str, Decimal] = defaultdict(Decimal)
    for s in before:
        start[s.bucket] += s.balance.amount
    for s in after:
        end[s.bucket] += s.balance.amount
    labels = buckets.labels
    return {
        f"{labels[i]}->{labels[i + 1]}": _rate(end[labels[i + 1]], start[labels[i]])
        for i in range(len(labels) - 1)
    }


def cure_rate(before: Sequence[Snapshot], after: Sequence[Snapshot]) -> Decimal | None:
    """Share of loans past due at the start that are not past due at the end."""
    pairs = [(a, b) for a, b in _pairs(before, after) if a.dpd > 0]
    return _rate(sum(1 for _, b in pairs if b.dpd == 0), len(pairs))


def entry_rate(before: Sequence[Snapshot], after: Sequence[Snapshot]) -> Decimal | None:
    """Share of loans current at the start that are past due at the end."""
    pairs = [(a, b) for a, b in _pairs(before, after) if a.dpd == 0 and a.balance.is_positive()]
    return _rate(sum(1 for _, b in pairs if b.dpd > 0), len(pairs))


def npl_ratio(snapshots: Sequence[Snapshot]) -> Decimal | None:
    """Balance classed substandard, doubtful or loss over the total balance.

    :raises CurrencyMismatchError: if the snapshots mix currencies.
    """
    check_one_currency(snapshots)
    total = sum((s.balance.amount for s in snapshots), Decimal(0))
    npl = sum((s.balance.amount for s in snapshots if s.risk_class.is_npl), Decimal(0))
    return _rate(npl, total)


def _amount(event: Event) -> Decimal:
    return PaymentReceived.parse(event).amount


def _check_payment_currency(events: Iterable[Event]) -> None:
    """Payments of more than one currency are never summed."""
    seen: str | None = None
    for e in events:
        if e.kind is not EventKind.PAYMENT_RECEIVED:
            continue
        cur = PaymentReceived.parse(e).currency
        if seen is None:
            seen = cur
        elif cur != seen:
            raise CurrencyMismatchError("aggregate", seen, cur)


def promise_kept_rate(events: Iterable[Event]) -> Decimal | None:
    """Promises kept over promises resolved (kept + broken)."""
    kept = broken = 0
    for e in events:
        kept += e.kind is EventKind.PROMISE_KEPT
        broken += e.kind is EventKind.PROMISE_BROKEN
    return _rate(kept, kept + broken)


_RIGHT_PARTY = frozenset(
    {OutcomeKind.RIGHT_PARTY_CONTACT, OutcomeKind.PROMISE, OutcomeKind.HARDSHIP_STATED}
)


def right_party_contact_rate(events: Iterable[Event]) -> Decimal | None:
    """Outcomes that reached the debtor (right-party contact, promise, hardship stated)
    over all outcomes."""
    total = rpc = 0
    for e in events:
        if e.kind is EventKind.CONTACT_OUTCOME:
            total += 1
            rpc += ContactOutcomeRecorded.parse(e).outcome in _RIGHT_PARTY
    return _rate(rpc, total)


def contacts_per_unit_recovered(
    events: Iterable[Event], unit: Decimal = Decimal(1000)
) -> Decimal | None:
    """Actions sent per ``unit`` of money recovered (default per 1,000).

    :raises CurrencyMismatchError: if the payments are in more than one currency.
    """
    events = list(events)
    _check_payment_currency(events)
    sent = 0
    recovered = Decimal(0)
    for e in events:
        if e.kind is EventKind.ACTION_SENT:
            sent += 1
        elif e.kind is EventKind.PAYMENT_RECEIVED:
            recovered += _amount(e)
    return _rate(Decimal(sent) * unit, recovered)


@attrs.frozen(kw_only=True)
class Touch:
    """Collection work on a loan that recovery is attributed to: a stage change or an
    action sent, with the exposure and the loan's segment and variant at that moment.

    :param seq: the event's position in the loan's stream (orders a touch and a
        payment of the same day).
    :param amount_due: the exposure: what was due on the loan that day.
    :param stage: the new stage, for a stage change (``None`` otherwise).
    :param channel: the channel, for an action sent (``None`` otherwise).
    :param segment: the loan's segment at that moment (``None`` if none yet).
    :param variant: the loan's strategy variant at that moment (``None`` if none yet).
    """

    loan_id: str
    on: dt.date
    seq: int
    amount_due: Decimal
    stage: str | None = None
    channel: str | None = None
    segment: str | None = None
    variant: str | None = None

    @classmethod
    def of(
        cls,
        event: Event,
        *,
        amount_due: Decimal,
        segment: str | None = None,
        variant: str | None = None,
    ) -> Touch | None:
        """The touch a ``STAGE_CHANGED`` or ``ACTION_SENT`` event is; ``None`` for others."""
        stage = channel = None
        if event.kind is EventKind.STAGE_CHANGED:
            stage = StageChanged.parse(event).current
        elif event.kind is EventKind.ACTION_SENT:
            channel = ActionSent.parse(event).channel
        else:
            return None
        return cls(
            loan_id=event.loan_id,
            on=event.on,
            seq=event.seq,
            amount_due=amount_due,
            stage=stage,
            channel=channel,
            segment=segment,
            variant=variant,
        )


@attrs.frozen
class GroupRates:
    """Recovery of one group (a stage, channel, segment or variant)."""

    group: str
    exposure: Decimal
    recovered: Decimal
    cases: int

    @property
    def recovery_rate(self) -> Decimal | None:
        """Recovered over exposure."""
        return _rate(self.recovered, self.exposure)


def recovery_by(
    touches: Sequence[Touch],
    events: Sequence[Event],
    key: Callable[[Touch], str | None],
    *,
    window_days: int = 30,
) -> dict[str, GroupRates]:
    """Recovery rate per group, attributing payments to the latest touch within a window.

    ``key`` names the group of a touch (e.g. ``lambda t: t.channel``), or ``None``
    for a touch outside the grouping; the payments are the ``PAYMENT_RECEIVED``
    events among ``events``. A touch carries the exposure in ``amount_due`` (the
    amount due at that moment). A payment counts for the latest touch of the same
    loan at most ``window_days`` earlier. Each
    loan's exposure counts once per group: the amount due at its first touch of
    that group with something due (zero if no touch had anything due; a touch
    with nothing due, e.g. a reminder before the due date, does not fix it at
    zero). Payments count only once the loan has an exposure in the group, and
    what a loan recovers for a group is capped at that exposure: payments of
    instalments that fall due later are not recoveries.

    :raises CurrencyMismatchError: if the payments are in more than one currency.
    """
    _check_payment_currency(events)
    latest: dict[str, tuple[str, dt.date]] = {}
    exposure: dict[tuple[str, str], Decimal] = {}
    recovered: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    items: list[Touch | Event] = [*touches]
    items.extend(e for e in events if e.kind is EventKind.PAYMENT_RECEIVED)
    for item in sorted(items, key=lambda x: (x.on, x.seq)):
        if isinstance(item, Touch):
            group = key(item)
            if group is None:
                continue
            latest[item.loan_id] = (group, item.on)
            if not exposure.get((group, item.loan_id)):
                exposure[(group, item.loan_id)] = item.amount_due
        elif item.loan_id in latest:
            group, since = latest[item.loan_id]
            if (item.on - since).days <= window_days and exposure.get((group, item.loan_id)):
                recovered[(group, item.loan_id)] += _amount(item)
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for (group, loan_id), exposed in exposure.items():
        row = totals[group]
        row[0] += exposed
        row[1] += min(recovered.get((group, loan_id), Decimal(0)), exposed)
        row[2] += 1
    return {g: GroupRates(g, v[0], v[1], int(v[2])) for g, v in sorted(totals.items())}


def variant_comparison(
    snapshots_before: Sequence[Snapshot],
    snapshots_after: Sequence[Snapshot],
    events: Sequence[Event],
) -> dict[str, dict[str, Decimal | None]]:
    """Champion vs challenger: per variant (as assigned at the start), the cure rate,
    the recovery rate and contacts per 1,000 recovered over the period.

    Recovery counts, for each loan past due at the start, the payments of the
    period up to its overdue amount at the start, over those amounts.

    :raises CurrencyMismatchError: if the snapshots or payments mix currencies.
    """
    check_one_currency([*snapshots_before, *snapshots_after])
    variants = sorted({s.variant for s in snapshots_before if s.variant is not None})
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for e in events:
        if e.kind is EventKind.PAYMENT_RECEIVED:
            paid[e.loan_id] += _amount(e)
    out: dict[str, dict[str, Decimal | None]] = {}
    for v in variants:
        ids = {s.loan_id for s in snapshots_before if s.variant == v}
        before = [s for s in snapshots_before if s.loan_id in ids]
        after = [s for s in snapshots_after if s.loan_id in ids]
        late = [s for s in before if s.overdue.is_positive()]
        exposure = sum((s.overdue.amount for s in late), Decimal(0))
        recovered = sum((min(paid[s.loan_id], s.overdue.amount) for s in late), Decimal(0))
        out[v] = {
            "cure_rate": cure_rate(before, after),
            "recovery_rate": _rate(recovered, exposure),
            "contacts_per_1000": contacts_per_unit_recovered(
                [e for e in events if e.loan_id in ids]
            ),
        }
    return out


def vintage_curves(
    snapshots: Sequence[Snapshot], *, dpd_threshold: int = 30, by_balance: bool = False
) -> dict[str, dict[int, Decimal | None]]:
    """Share of each disbursement-month cohort *ever* past ``dpd_threshold`` by months on book.

    Cohorts are ``"YYYY-MM"`` of disbursement; months on book count from the
    disbursement month to the snapshot period. With ``by_balance`` the share is
    of the cohort's balance at its first snapshot.

    :raises CurrencyMismatchError: with ``by_balance``, if the snapshots mix currencies.
    """
    if by_balance:
        check_one_currency(snapshots)
    ever_bad: dict[str, dt.date] = {}
    first_balance: dict[str, Decimal] = {}
    cohort_of: dict[str, str] = {}
    for s in sorted(snapshots, key=lambda s: s.period):
        cohort_of[s.loan_id] = f"{s.disbursed.year:04d}-{s.disbursed.month:02d}"
        first_balance.setdefault(s.loan_id, s.balance.amount)
        if s.dpd > dpd_threshold and s.loan_id not in ever_bad:
            ever_bad[s.loan_id] = s.period
    periods = sorted({s.period for s in snapshots})
    out: dict[str, dict[int, Decimal | None]] = {}
    for cohort in sorted(set(cohort_of.values())):
        loans = [lid for lid, c in cohort_of.items() if c == cohort]
        year, month = map(int, cohort.split("-"))
        curve: dict[int, Decimal | None] = {}
        for p in periods:
            mob = (p.year - year) * 12 + (p.month - month)
            if mob < 0:
                continue
            bad = [lid for lid in loans if lid in ever_bad and ever_bad[lid] <= p]
            if by_balance:
                curve[mob] = _rate(
                    sum((first_balance[lid] for lid in bad), Decimal(0)),
                    sum((first_balance[lid] for lid in loans), Decimal(0)),
                )
            else:
                curve[mob] = _rate(len(bad), len(loans))
        out[cohort] = curve
    return out


def check_one_currency(snapshots: Iterable[Snapshot]) -> str | None:
    """The single currency of ``snapshots`` (KPIs never mix currencies)."""
    seen: str | None = None
    for s in snapshots:
        if seen is None:
            seen = s.balance.currency
        elif s.balance.currency != seen:
            raise CurrencyMismatchError("aggregate", seen, s.balance.currency)
    return seen


__all__ += ["check_one_currency"]
