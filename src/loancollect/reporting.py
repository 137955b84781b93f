"""The collection report: KPIs from a storage backend, as tables.

Reads loans, payments and event streams through a unit of work, builds month-end
:class:`~loancollect.domain.analytics.Snapshot` records by assessing each loan,
and computes the KPIs of :mod:`loancollect.domain.analytics` (definitions in
docs/kpis.md). Amount-based figures are given per currency: KPIs never mix
currencies. The result is a list of :class:`Table` values that the CLI prints,
writes as CSV and charts.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import attrs

from loancollect.domain import analytics as kpi
from loancollect.domain.events import (
    ActionFailed,
    Event,
    EventKind,
    PaymentReceived,
    SegmentAssigned,
    StageChanged,
    VariantAssigned,
)
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.overdue import DEFAULT_BUCKETS, DEFAULT_CONFIG, AssessmentConfig, assess
from loancollect.ports import UnitOfWorkFactory

__all__ = [
    "SUMMARY_LABELS",
    "ReportData",
    "Table",
    "activity_counts",
    "build_report",
    "load_report_data",
    "month_ends",
    "write_csv",
]


@attrs.frozen
class Table:
    """A titled table of strings (what the terminal, CSV and charts show)."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@attrs.frozen
class ReportData:
    """Snapshots per period end, the events of the period and their touches (stage
    changes and actions sent, with their exposure), read once from storage."""

    periods: tuple[dt.date, ...]
    snapshots: dict[dt.date, tuple[kpi.Snapshot, ...]]
    events: tuple[Event, ...]
    currencies: tuple[str, ...]
    touches: tuple[kpi.Touch, ...] = ()


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The report's periods: ``start`` (the opening snapshot), each month's last day
    after it and before ``end``, and ``end`` itself (ascending, no duplicates)."""
    out = [start] if start < end else []
    year, month = start.year, start.month
    while True:
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        if last >= end:
            break
        if last > start:
            out.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    out.append(end)
    return out


def _state_at(events: Sequence[Event], day: dt.date) -> tuple[str, str | None, str | None]:
    stage, segment, variant = "current", None, None
    for e in events:
        if e.on > day:
            continue  # streams are in recording order; a back-dated event may follow
        if e.kind is EventKind.STAGE_CHANGED:
            stage = StageChanged.parse(e).current or stage
        elif e.kind is EventKind.SEGMENT_ASSIGNED:
            segment = SegmentAssigned.parse(e).segment
        elif e.kind is EventKind.VARIANT_ASSIGNED:
            variant = VariantAssigned.parse(e).variant
    return stage, segment, variant


def load_report_data(
    storage: UnitOfWorkFactory,
    *,
    start: dt.date,
    end: dt.date,
    config: AssessmentConfig = DEFAULT_CONFIG,
    progress: Callable[[int], None] | None = None,
    page: int = 1000,
) -> ReportData:
    """Assess every loan at each month end in ``[start, end]`` and gather its events."""
    periods = tuple(month_ends(start, end))
    snapshots: dict[dt.date, list[kpi.Snapshot]] = defaultdict(list)
    events: list[Event] = []
    touches: list[kpi.Touch] = []
    currencies: set[str] = set()
    after: str | None = None
    with storage() as uow:
        while True:
            ids = uow.loans.list_ids(after=after, limit=page)
            if not ids:
                break
            after = ids[-1]
            for loan_id in ids:
                loan = uow.loans.get(loan_id)
                if loan is None:
                    continue
                currencies.add(loan.currency)
                payments = uow.loans.payments_for(loan_id)
                stream = uow.events.stream(loan_id)
                events.extend(e for e in stream if start <= e.on <= end)
                touches.extend(_touches(stream, loan, payments, config, start, end))
                for period in periods:
                    if period < loan.disbursement_date:
                        continue
                    a = assess(loan, payments, period, config=config)
                    stage, segment, variant = _state_at(stream, period)
                    snapshots[period].append(
                        kpi.Snapshot(
                            loan_id=loan_id,
                            period=period,
                            dpd=a.dpd,
                            bucket=a.bucket,
                            balance=a.outstanding_principal,
                            overdue=a.overdue_amount,
                            risk_class=a.risk_class,
                            stage=stage,
                            disbursed=loan.disbursement_date,
                            segment=segment,
                            variant=variant,
                        )
                    )
                if progress is not None:
                    progress(1)
    events.sort(key=lambda e: (e.on, e.loan_id, e.seq))
    touches.sort(key=lambda t: (t.on, t.loan_id, t.seq))
    return ReportData(
        periods,
        {p: tuple(s) for p, s in snapshots.items()},
        tuple(events),
        tuple(sorted(currencies)),
        tuple(touches),
    )


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _by_currency(snaps: Iterable[kpi.Snapshot], currency: str) -> list[kpi.Snapshot]:
    return [s for s in snaps if s.balance.currency == currency]


def _loan_currency(data: ReportData) -> dict[str, str]:
    return {s.loan_id: s.balance.currency for snaps in data.snapshots.values() for s in snaps}


def build_report(data: ReportData) -> list[Table]:
    """Every KPI table of the report."""
    tables: list[Table] = []
    periods = data.periods
    last = periods[-1]
    prev = periods[-2] if len(periods) > 1 else None
    currency_of = _loan_currency(data)

    # Portfolio at the end, per currency.
    rows = []
    for cur in data.currencies:
        snaps = _by_currency(data.snapshots.get(last, ()), cur)
        balance = sum((s.balance.amount for s in snaps), Decimal(0))
        overdue = sum((s.overdue.amount for s in snaps), Decimal(0))
        rows.append(
            (
                cur,
                str(len(snaps)),
                f"{balance:,.2f}",
                f"{overdue:,.2f}",
                str(sum(1 for s in snaps if s.dpd > 0)),
                _pct(kpi.npl_ratio(snaps)),
            )
        )
    tables.append(
        Table(
            "portfolio",
            f"Portfolio on {last.isoformat()}",
            ("currency", "loans", "balance", "overdue", "loans past due", "NPL ratio"),
            tuple(rows),
        )
    )

    # Stages at the end (counts).
    stage_counts: dict[str, int] = defaultdict(int)
    for s in data.snapshots.get(last, ()):
        stage_counts[s.stage] += 1
    tables.append(
        Table(
            "stages",
            "Cases by stage",
            ("stage", "cases"),
            tuple((k, str(v)) for k, v in sorted(stage_counts.items(), key=lambda kv: -kv[1])),
        )
    )

    # Roll rates, flow rates, cure and entry rates over each month.
    roll_rows, rate_rows = [], []
    for a, b in itertools.pairwise(periods):
        before, after = data.snapshots.get(a, ()), data.snapshots.get(b, ())
        matrix = _count_matrix(before, after, data.currencies)
        roll_rows.append((b.isoformat(), *(_pct(matrix.roll_rate(x)) for x in matrix.buckets[:-1])))
        rate_rows.append(
            (b.isoformat(), _pct(kpi.cure_rate(before, after)), _pct(kpi.entry_rate(before, after)))
        )
    labels = DEFAULT_BUCKETS.labels
    tables.append(
        Table(
            "roll_rates",
            "Roll rates (share of each bucket rolling one bucket worse), by count",
            ("month", *(f"{x}->{labels[i + 1]}" for i, x in enumerate(labels[:-1]))),
            tuple(roll_rows),
        )
    )
    tables.append(
        Table(
            "cure_entry",
            "Cure and entry rates",
            ("month", "cure rate", "entry rate"),
            tuple(rate_rows),
        )
    )

    if prev is not None:
        flow_rows: list[tuple[str, str, str]] = []
        for cur in data.currencies:
            flows = kpi.flow_rates(
                _by_currency(data.snapshots.get(prev, ()), cur),
                _by_currency(data.snapshots.get(last, ()), cur),
            )
            flow_rows.extend((cur, k, _pct(v)) for k, v in flows.items())
        tables.append(
            Table(
                "flow_rates",
                f"Flow rates by balance, {prev} → {last}",
                ("currency", "flow", "rate"),
                tuple(flow_rows),
            )
        )

    # Event-based KPIs.
    events = data.events
    tables.append(
        Table(
            "contact",
            "Promises and contacts",
            ("measure", "value"),
            (
                ("promise-kept rate", _pct(kpi.promise_kept_rate(events))),
                ("right-party-contact rate", _pct(kpi.right_party_contact_rate(events))),
                ("promises made", str(sum(1 for e in events if e.kind is EventKind.PROMISE_MADE))),
                (
                    "arrangements made",
                    str(sum(1 for e in events if e.kind is EventKind.ARRANGEMENT_MADE)),
                ),
            ),
        )
    )
    # What the runs did, counted from their events exactly as `loancollect run` counts
    # them in its summary, under the same names (see activity_counts).
    counts = activity_counts(events)
    tables.append(
        Table(
            "activity",
            "Collection activity (the run summary's counts, from the stored events)",
            ("measure", "count"),
            tuple((SUMMARY_LABELS[name], f"{n:,}") for name, n in counts.items()),
        )
    )
    per_cur_rows = []
    for cur in data.currencies:
        evs = [e for e in events if currency_of.get(e.loan_id) == cur]
        per_cur_rows.append(
            (cur, f"{_recovered(evs):,.2f}", _num(kpi.contacts_per_unit_recovered(evs)))
        )
    tables.append(
        Table(
            "recovery_totals",
            "Recovered and contacts per 1,000 recovered",
            ("currency", "recovered", "contacts per 1,000"),
            tuple(per_cur_rows),
        )
    )

    # Stage and channel: the touch itself; segment and variant: the loan's segment or
    # variant when it was touched (a stage change or an action sent).
    groupings: tuple[tuple[str, Callable[[kpi.Touch], str | None]], ...] = (
        ("stage", lambda t: t.stage),
        ("channel", lambda t: t.channel),
        ("segment", lambda t: t.segment),
        ("variant", lambda t: t.variant),
    )
    for name, key in groupings:
        rows = []
        for cur in data.currencies:
            evs = [e for e in events if currency_of.get(e.loan_id) == cur]
            touched = [t for t in data.touches if currency_of.get(t.loan_id) == cur]
            for group, r in kpi.recovery_by(touched, evs, key).items():
                rows.append(
                    (
                        cur,
                        group,
                        str(r.cases),
                        f"{r.exposure:,.2f}",
                        f"{r.recovered:,.2f}",
                        _pct(r.recovery_rate),
                    )
                )
        tables.append(
            Table(
                f"recovery_by_{name}",
                f"Recovery by {name} (payments within 30 days of the touch)",
                ("currency", name, "cases", "exposure", "recovered", "recovery rate"),
                tuple(rows),
            )
        )

    # Vintage curves (count of loans ever 30+ DPD, by disbursement month).
    all_snaps = [s for snaps in data.snapshots.values() for s in snaps]
    curves = kpi.vintage_curves(all_snaps)
    max_mob = max((m for c in curves.values() for m in c), default=0)
    tables.append(
        Table(
            "vintages",
            "Vintage curves: share of loans ever more than 30 DPD (M2+) by months on book",
            ("cohort", *(f"MOB {m}" for m in range(max_mob + 1))),
            tuple(
                (cohort, *(_pct(curve.get(m)) for m in range(max_mob + 1)))
                for cohort, curve in curves.items()
            ),
        )
    )

    # Champion vs challenger, per currency (variants as assigned at the opening snapshot).
    if prev is not None:
        first = periods[0]
        variant_rows: list[tuple[str, ...]] = []
        for cur in data.currencies:
            comparison = kpi.variant_comparison(
                _by_currency(data.snapshots.get(first, ()), cur),
                _by_currency(data.snapshots.get(last, ()), cur),
                [e for e in events if currency_of.get(e.loan_id) == cur],
            )
            variant_rows.extend(
                (
                    cur,
                    v,
                    _pct(m["cure_rate"]),
                    _pct(m["recovery_rate"]),
                    _num(m["contacts_per_1000"]),
                )
                for v, m in comparison.items()
            )
        title = f"Champion vs challenger ({first} → {last})"
        if not variant_rows:
            # Never an empty table without a word: say why there is nothing to compare.
            title += (
                f": no case had a strategy variant assigned on {first} (no experiment "
                "ran, or its cases entered collection later: widen the window with --from)"
            )
        tables.append(
            Table(
                "variants",
                title,
                ("currency", "variant", "cure rate", "recovery rate", "contacts per 1,000"),
                tuple(variant_rows),
            )
        )
    return tables


def _count_matrix(
    before: Sequence[kpi.Snapshot], after: Sequence[kpi.Snapshot], currencies: Sequence[str]
) -> kpi.RollMatrix:
    """The roll matrix by count over every currency (balances are per currency only)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for cur in currencies:
        matrix = kpi.roll_matrix(_by_currency(before, cur), _by_currency(after, cur))
        for pair, n in matrix.counts.items():
            counts[pair] += n
    return kpi.RollMatrix(DEFAULT_BUCKETS.labels, dict(counts), {})


SUMMARY_LABELS: dict[str, str] = {
    "reviewed": "cases reviewed",
    "stage_changes": "stage changes",
    "actions_planned": "actions planned",
    "sent": "actions sent",
    "failed": "actions failed",
    "blocked": "actions blocked",
    "rescheduled": "actions rescheduled",
    "errors": "cases in error",
}
"""The name shown for each count of a :class:`~loancollect.registry.CycleSummary`, by
field: the run summary and the report's *activity* table print the same names."""

_ACTIVITY_KINDS: dict[str, EventKind] = {
    "stage_changes": EventKind.STAGE_CHANGED,
    "actions_planned": EventKind.ACTION_PLANNED,
    "sent": EventKind.ACTION_SENT,
    "failed": EventKind.ACTION_FAILED,
    "blocked": EventKind.ACTION_BLOCKED,
    "rescheduled": EventKind.ACTION_RESCHEDULED,
}


def activity_counts(events: Iterable[Event]) -> dict[str, int]:
    """The run summary's counts that events record, by summary field, from ``events``.

    One per event of the kind, except ``failed``: only the ``ACTION_FAILED`` events
    with no retry (a send failed for good), as the summary counts failures.
    (``reviewed`` and ``errors`` leave no event and are not counted here.)

    >>> from loancollect.domain.events import ActionFailed, new_event
    >>> import datetime as dt
    >>> retried = ActionFailed(key="k", channel="sms", rule="r", status="failed_retryable",
    ...     detail="busy", attempts=1, retry_at=dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC))
    >>> final = ActionFailed(key="k", channel="sms", rule="r", status="failed_permanent",
    ...     detail="no such number", attempts=2)
    >>> day = dt.date(2025, 3, 1)
    >>> activity_counts([new_event(p, loan_id="L1", on=day) for p in (retried, final)])["failed"]
    1
    """
    counts = dict.fromkeys(_ACTIVITY_KINDS, 0)
    field_of = {kind: name for name, kind in _ACTIVITY_KINDS.items()}
    for e in events:
        name = field_of.get(e.kind)
        if name is None:
            continue
        if e.kind is EventKind.ACTION_FAILED and ActionFailed.parse(e).retry_at is not None:
            continue  # tried again later: not (yet) a failure
        counts[name] += 1
    return counts


def _num(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _recovered(events: Iterable[Event]) -> Decimal:
    return sum(
        (PaymentReceived.parse(e).amount for e in events if e.kind is EventKind.PAYMENT_RECEIVED),
        Decimal(0),
    )


def _touches(
    stream: Sequence[Event],
    loan: Loan,
    payments: Sequence[Payment],
    config: AssessmentConfig,
    start: dt.date,
    end: dt.date,
) -> Iterator[kpi.Touch]:
    """The touches (stage changes, actions sent) of the stream in ``[start, end]``, each
    with its exposure (the amount due on its day) and the loan's segment and variant
    at that moment."""
    segment = variant = None
    for e in stream:
        if e.kind is EventKind.SEGMENT_ASSIGNED:
            segment = SegmentAssigned.parse(e).segment
        elif e.kind is EventKind.VARIANT_ASSIGNED:
            variant = VariantAssigned.parse(e).variant
        if not start <= e.on <= end or e.kind not in _WORK:
            continue
        due = assess(loan, payments, e.on, config=config).amount_due
        touch = kpi.Touch.of(e, amount_due=due.amount, segment=segment, variant=variant)
        if touch is not None:
            yield touch


_WORK = frozenset({EventKind.STAGE_CHANGED, EventKind.ACTION_SENT})
"""Collection work: the touches recovery is attributed to."""


def write_csv(tables: Sequence[Table], directory: Path) -> list[Path]:
    """One CSV file per table; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for t in tables:
        path = directory / f"{t.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(t.columns)
            writer.writerows(t.rows)
        out.append(path)
    return out
