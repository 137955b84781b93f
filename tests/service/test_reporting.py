"""The collection report over a hand-built portfolio in the in-memory store.

Four loans at 0 % interest (so that no penalty accrues and the amount due is
exactly what is overdue), with their events written as the engine would have
written them. Every expected cell below is worked out by hand from the loans,
payments and events; docs/kpis.md has the definitions.

====  ========  ==========  ======================================  ==================
loan  currency  disbursed   installments                            payments
====  ========  ==========  ======================================  ==================
L1    CNY       2024-12-01  1000 on 2025-01-10, 1000 on 2025-02-10  both on time
L2    CNY       2024-12-01  500 on 2025-01-10, 500 on 2025-02-10    500 on 2025-02-20
L3    CNY       2024-09-01  3000 on 2024-10-01                      none
L4    USD       2024-12-01  800 on 2025-01-20                       800 on 2025-02-05
====  ========  ==========  ======================================  ==================

The report runs from 2025-01-01 to 2025-03-15: its periods are 2025-01-01 (the
opening snapshot), 2025-01-31, 2025-02-28 and 2025-03-15. Days past due (from
the oldest unpaid due date) at those four dates:

- L1: 0, 0, 0, 0 (paid off in February);
- L2: 0, 21 (M1), 18 (M1: the first installment is paid on 20 Feb, so the
  second, due 10 Feb, is the oldest unpaid), 33 (M2);
- L3: 92 (M4), 122 (M5), 150 (M5), 165 (M6; substandard, so non-performing);
- L4: 0, 11 (M1), 0, 0.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pendulum
import pytest

from loancollect.domain.events import (
    ActionBlocked,
    ActionFailed,
    ActionPlanned,
    ActionRescheduled,
    ActionSent,
    ContactOutcomeRecorded,
    Payload,
    PaymentReceived,
    PromiseKept,
    PromiseMade,
    SegmentAssigned,
    StageChanged,
    VariantAssigned,
    new_event,
)
from loancollect.domain.loans import (
    Borrower,
    ContactKind,
    ContactPoint,
    Installment,
    Loan,
    PartyKind,
    Payment,
)
from loancollect.domain.money import Money
from loancollect.reporting import (
    ReportData,
    Table,
    build_report,
    load_report_data,
    month_ends,
    write_csv,
)
from loancollect.testing import MemoryStore

START = dt.date(2025, 1, 1)
END = dt.date(2025, 3, 15)


def d(iso: str) -> dt.date:
    """A date from an ISO string."""
    return dt.date.fromisoformat(iso)


def _loan(loan_id: str, currency: str, disbursed: str, *dues: tuple[str, str]) -> Loan:
    borrower = Borrower(
        id=f"B-{loan_id}",
        kind=PartyKind.INDIVIDUAL,
        name="王芳",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
        contact_points=(ContactPoint(ContactKind.PHONE, "+86 138 0013 8000"),),
    )
    total = sum((Decimal(amount) for _, amount in dues), Decimal(0))
    return Loan(
        id=loan_id,
        borrower=borrower,
        principal=Money(total, currency),
        annual_rate=Decimal("0"),
        disbursement_date=d(disbursed),
        installments=tuple(
            Installment(
                number=i,
                due_date=d(due),
                principal=Money(amount, currency),
                interest=Money("0", currency),
            )
            for i, (due, amount) in enumerate(dues, start=1)
        ),
    )


def _payment(loan: Loan, on: str, amount: str) -> Payment:
    day = d(on)
    return Payment(
        id=f"{loan.id}-{on}",
        loan_id=loan.id,
        amount=Money(amount, loan.currency),
        value_date=day,
        received_at=pendulum.datetime(day.year, day.month, day.day, 10, tz="UTC"),
    )


def build_store() -> MemoryStore:
    """The four loans, their payments and their event streams."""
    l1 = _loan("L1", "CNY", "2024-12-01", ("2025-01-10", "1000"), ("2025-02-10", "1000"))
    l2 = _loan("L2", "CNY", "2024-12-01", ("2025-01-10", "500"), ("2025-02-10", "500"))
    l3 = _loan("L3", "CNY", "2024-09-01", ("2024-10-01", "3000"))
    l4 = _loan("L4", "USD", "2024-12-01", ("2025-01-20", "800"))
    payments = [
        _payment(l1, "2025-01-10", "1000"),
        _payment(l1, "2025-02-10", "1000"),
        _payment(l2, "2025-02-20", "500"),
        _payment(l4, "2025-02-05", "800"),
    ]

    def variant(name: str) -> VariantAssigned:
        return VariantAssigned(experiment="default", variant=name)

    def stage(previous: str, current: str) -> StageChanged:
        return StageChanged(previous=previous, current=current, reason="dpd")

    def sent(channel: str) -> ActionSent:
        return ActionSent(key=f"k-{channel}", channel=channel, rule=channel, attempts=1)

    def paid(amount: str, currency: str) -> PaymentReceived:
        return PaymentReceived(payment=f"P-{amount}", amount=Decimal(amount), currency=currency)

    def outcome(kind: str) -> ContactOutcomeRecorded:
        return ContactOutcomeRecorded(channel="phone", outcome=kind)

    streams: dict[str, list[tuple[str, Payload]]] = {
        "L1": [
            ("2025-01-01", variant("champion")),
            ("2025-01-10", paid("1000", "CNY")),
            ("2025-02-10", paid("1000", "CNY")),
        ],
        "L2": [
            ("2025-01-01", variant("champion")),
            ("2025-01-01", SegmentAssigned(segment="forgetful")),
            ("2025-01-11", stage("current", "early")),
            ("2025-01-12", sent("sms")),
            ("2025-02-15", sent("phone")),
            ("2025-02-15", outcome("promise")),
            ("2025-02-15", PromiseMade(arrangement="PTP-1", amount=Decimal("500"))),
            ("2025-02-20", paid("500", "CNY")),
            (
                "2025-02-20",
                PromiseKept(
                    arrangement="PTP-1", type="promise", status="kept", resolved_on=d("2025-02-20")
                ),
            ),
        ],
        "L3": [
            # Before the report's window: they count for the state, not as events.
            ("2024-10-02", variant("challenger")),
            ("2024-10-02", SegmentAssigned(segment="strategic")),
            ("2024-10-02", stage("current", "early")),
            ("2025-01-02", stage("early", "further")),
            ("2025-01-03", ActionPlanned(rule="sms", channel="sms", key="k-sms", template="t")),
            (
                "2025-01-03",
                ActionFailed(
                    key="k-sms",
                    channel="sms",
                    rule="sms",
                    status="failed_retryable",
                    detail="busy",
                    attempts=1,
                    retry_at=dt.datetime(2025, 1, 3, 9, tzinfo=dt.UTC),
                ),
            ),
            ("2025-01-03", sent("sms")),
            (
                "2025-01-04",
                ActionRescheduled(
                    key="k-phone",
                    channel="phone",
                    not_before=dt.datetime(2025, 1, 4, 1, tzinfo=dt.UTC),
                    reasons="r",
                    citations="",
                ),
            ),
            (
                "2025-01-04",
                ActionBlocked(key="k-phone", channel="phone", rule="phone", reasons="r"),
            ),
            (
                "2025-02-05",
                ActionFailed(
                    key="k-letter-1",
                    channel="letter",
                    rule="letter",
                    status="failed_permanent",
                    detail="returned",
                    attempts=2,
                ),
            ),
            ("2025-02-06", sent("letter")),
            ("2025-02-06", outcome("refused")),
        ],
        "L4": [
            ("2025-01-01", variant("champion")),
            ("2025-01-21", stage("current", "early")),
            ("2025-01-22", sent("email")),
            ("2025-02-05", paid("800", "USD")),
            ("2025-02-05", stage("early", "cured")),
        ],
    }
    store = MemoryStore()
    with store() as uow:
        for loan in (l1, l2, l3, l4):
            uow.loans.add(loan)
        for p in payments:
            uow.loans.add_payment(p)
        for loan_id, items in streams.items():
            uow.events.append(new_event(p, loan_id=loan_id, on=d(on)) for on, p in items)
        uow.commit()
    return store


@pytest.fixture(scope="module")
def data() -> ReportData:
    """The report data of the hand-built store."""
    return load_report_data(build_store(), start=START, end=END)


@pytest.fixture(scope="module")
def tables(data: ReportData) -> dict[str, Table]:
    """The report's tables by name."""
    return {t.name: t for t in build_report(data)}


def _row(table: Table, *key: str) -> tuple[str, ...]:
    found = [r for r in table.rows if r[: len(key)] == key]
    assert len(found) == 1, (table.name, key, table.rows)
    return found[0][len(key) :]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-01-01", "2025-03-15", ["2025-01-01", "2025-01-31", "2025-02-28", "2025-03-15"]),
        ("2025-01-31", "2025-03-31", ["2025-01-31", "2025-02-28", "2025-03-31"]),
        ("2025-01-01", "2025-01-31", ["2025-01-01", "2025-01-31"]),
        ("2024-12-15", "2025-01-02", ["2024-12-15", "2024-12-31", "2025-01-02"]),
        ("2025-03-15", "2025-03-15", ["2025-03-15"]),
    ],
)
def test_periods_are_the_start_each_month_end_between_and_the_end(
    start: str, end: str, expected: list[str]
) -> None:
    assert month_ends(d(start), d(end)) == [d(x) for x in expected]


def test_snapshots_hold_the_assessed_state_at_each_period(data: ReportData) -> None:
    assert data.periods == (d("2025-01-01"), d("2025-01-31"), d("2025-02-28"), END)
    assert data.currencies == ("CNY", "USD")
    dpd = {p: {s.loan_id: (s.dpd, s.bucket) for s in snaps} for p, snaps in data.snapshots.items()}
    assert dpd[d("2025-01-01")] == {
        "L1": (0, "M0"),
        "L2": (0, "M0"),
        "L3": (92, "M4"),
        "L4": (0, "M0"),
    }
    assert dpd[d("2025-01-31")] == {
        "L1": (0, "M0"),
        "L2": (21, "M1"),
        "L3": (122, "M5"),
        "L4": (11, "M1"),
    }
    assert dpd[d("2025-02-28")] == {
        "L1": (0, "M0"),
        "L2": (18, "M1"),
        "L3": (150, "M5"),
        "L4": (0, "M0"),
    }
    assert dpd[END] == {"L1": (0, "M0"), "L2": (33, "M2"), "L3": (165, "M6"), "L4": (0, "M0")}
    last = {s.loan_id: s for s in data.snapshots[END]}
    assert (last["L3"].stage, last["L3"].segment, last["L3"].variant) == (
        "further",
        "strategic",
        "challenger",
    )
    assert last["L4"].stage == "cured"
    assert last["L2"].balance == Money("500", "CNY")


def test_events_in_the_window_only_and_touches_carry_exposure(data: ReportData) -> None:
    assert all(START <= e.on <= END for e in data.events)
    assert all(START <= t.on <= END for t in data.touches)
    sent = {(t.loan_id, t.on): t for t in data.touches if t.channel is not None}
    # L2's call on 15 Feb: both 500 installments are past due.
    assert sent[("L2", d("2025-02-15"))].amount_due == Decimal("1000.00")
    assert sent[("L2", d("2025-02-15"))].channel == "phone"
    # L3's segment and variant were assigned before the window.
    assert sent[("L3", d("2025-01-03"))].segment == "strategic"
    assert sent[("L3", d("2025-01-03"))].variant == "challenger"
    changes = [(t.loan_id, t.on, t.stage) for t in data.touches if t.stage is not None]
    assert changes == [
        ("L3", d("2025-01-02"), "further"),
        ("L2", d("2025-01-11"), "early"),
        ("L4", d("2025-01-21"), "early"),
        ("L4", d("2025-02-05"), "cured"),
    ]


def test_portfolio_table_per_currency_at_the_end(tables: dict[str, Table]) -> None:
    t = tables["portfolio"]
    assert t.title == "Portfolio on 2025-03-15"
    assert t.columns == ("currency", "loans", "balance", "overdue", "loans past due", "NPL ratio")
    # CNY: balances 0 + 500 + 3000; L3 (165 DPD) is substandard: 3000 / 3500.
    assert _row(t, "CNY") == ("3", "3,500.00", "3,500.00", "2", "85.7%")
    assert _row(t, "USD") == ("1", "0.00", "0.00", "0", "—")


def test_stages_table_counts_cases_by_stage_at_the_end(tables: dict[str, Table]) -> None:
    rows = dict(tables["stages"].rows)
    assert rows == {"current": "1", "early": "1", "further": "1", "cured": "1"}


def test_roll_rates_by_count_over_each_month(tables: dict[str, Table]) -> None:
    t = tables["roll_rates"]
    assert t.columns[:3] == ("month", "M0->M1", "M1->M2")
    col = {name: i for i, name in enumerate(t.columns)}
    jan, feb, mar = (_row(t, m) for m in ("2025-01-31", "2025-02-28", "2025-03-15"))
    # Jan: of L1, L2, L4 in M0, L2 and L4 rolled; L3 rolled M4 -> M5.
    assert jan[col["M0->M1"] - 1] == "66.7%"
    assert jan[col["M4->M5"] - 1] == "100.0%"
    assert jan[col["M1->M2"] - 1] == "—"
    # Feb: L2 stays in M1, L4 cures to M0, L3 stays in M5.
    assert feb[col["M1->M2"] - 1] == "0.0%"
    assert feb[col["M5->M6"] - 1] == "0.0%"
    # Mar: L2 rolls M1 -> M2, L3 M5 -> M6; L1 and L4 stay in M0.
    assert mar[col["M0->M1"] - 1] == "0.0%"
    assert mar[col["M1->M2"] - 1] == "100.0%"
    assert mar[col["M5->M6"] - 1] == "100.0%"


def test_cure_and_entry_rates_over_each_month(tables: dict[str, Table]) -> None:
    t = tables["cure_entry"]
    # Jan: L3 late and stays late; of L1, L2, L4 current, L2 and L4 enter.
    assert _row(t, "2025-01-31") == ("0.0%", "66.7%")
    # Feb: of L2, L3, L4 late, L4 cures; L1 (current, balance 1000) stays current.
    assert _row(t, "2025-02-28") == ("33.3%", "0.0%")
    # Mar: L2 and L3 stay late; no current loan has a balance left.
    assert _row(t, "2025-03-15") == ("0.0%", "—")


def test_flow_rates_by_balance_per_currency_over_the_last_period(
    tables: dict[str, Table],
) -> None:
    t = tables["flow_rates"]
    assert t.title == "Flow rates by balance, 2025-02-28 → 2025-03-15"
    assert _row(t, "CNY", "M0->M1") == ("—",)  # L1's balance in M0 is 0
    assert _row(t, "CNY", "M1->M2") == ("100.0%",)  # L2's 500
    assert _row(t, "CNY", "M5->M6") == ("100.0%",)  # L3's 3000
    assert _row(t, "USD", "M0->M1") == ("—",)


def test_contact_measures(tables: dict[str, Table]) -> None:
    rows = dict(tables["contact"].rows)
    assert rows == {
        "promise-kept rate": "100.0%",
        "right-party-contact rate": "50.0%",  # a promise and a refusal
        "promises made": "1",
        "arrangements made": "0",
    }


def test_activity_counts_the_events_of_the_window_as_the_run_summary_does(
    tables: dict[str, Table],
) -> None:
    assert tables["activity"].columns == ("measure", "count")
    assert dict(tables["activity"].rows) == {
        "stage changes": "4",  # L3's change of 2024-10-02 is before the window
        "actions planned": "1",
        "actions sent": "5",
        "actions failed": "1",  # the letter's last try; the retried text is not a failure
        "actions blocked": "1",
        "actions rescheduled": "1",
    }


def test_recovered_and_contacts_per_1000_per_currency(tables: dict[str, Table]) -> None:
    t = tables["recovery_totals"]
    # CNY: 1000 + 1000 + 500 recovered, 4 actions sent; USD: 800 and 1 action.
    assert _row(t, "CNY") == ("2,500.00", "1.60")
    assert _row(t, "USD") == ("800.00", "1.25")


def test_recovery_by_stage(tables: dict[str, Table]) -> None:
    t = tables["recovery_by_stage"]
    # L2 entered early collection on 11 Jan owing 500 and paid 40 days later: too late.
    assert _row(t, "CNY", "early") == ("1", "500.00", "0.00", "0.0%")
    assert _row(t, "CNY", "further") == ("1", "3,000.00", "0.00", "0.0%")
    # L4 owed 800 on 21 Jan and paid it on 5 Feb; cured with nothing due.
    assert _row(t, "USD", "early") == ("1", "800.00", "800.00", "100.0%")
    assert _row(t, "USD", "cured") == ("1", "0.00", "0.00", "—")


def test_recovery_by_channel(tables: dict[str, Table]) -> None:
    t = tables["recovery_by_channel"]
    # L2's call on 15 Feb (1000 due) is the latest touch before its 500 on 20 Feb.
    assert _row(t, "CNY", "phone") == ("1", "1,000.00", "500.00", "50.0%")
    assert _row(t, "CNY", "sms") == ("2", "3,500.00", "0.00", "0.0%")  # L2 500 + L3 3000
    assert _row(t, "CNY", "letter") == ("1", "3,000.00", "0.00", "0.0%")
    assert _row(t, "USD", "email") == ("1", "800.00", "800.00", "100.0%")


def test_recovery_by_segment_attributes_work_to_the_segment_held_then(
    tables: dict[str, Table],
) -> None:
    t = tables["recovery_by_segment"]
    # L2: exposure 500 at its first touch (stage change on 11 Jan); 500 paid, capped.
    assert _row(t, "CNY", "forgetful") == ("1", "500.00", "500.00", "100.0%")
    assert _row(t, "CNY", "strategic") == ("1", "3,000.00", "0.00", "0.0%")
    assert [r for r in t.rows if r[0] == "USD"] == []  # L4 has no segment


def test_recovery_by_variant(tables: dict[str, Table]) -> None:
    t = tables["recovery_by_variant"]
    assert _row(t, "CNY", "champion") == ("1", "500.00", "500.00", "100.0%")
    assert _row(t, "CNY", "challenger") == ("1", "3,000.00", "0.00", "0.0%")
    assert _row(t, "USD", "champion") == ("1", "800.00", "800.00", "100.0%")


def test_vintage_curves_by_disbursement_month(tables: dict[str, Table]) -> None:
    t = tables["vintages"]
    assert t.columns == ("cohort", *(f"MOB {m}" for m in range(7)))
    # 2024-09 (L3): past 30 DPD from the first snapshot, at 4 to 6 months on book.
    assert _row(t, "2024-09") == ("—", "—", "—", "—", "100.0%", "100.0%", "100.0%")
    # 2024-12 (L1, L2, L4): L2 passes 30 DPD in March (3 months on book).
    assert _row(t, "2024-12") == ("—", "0.0%", "0.0%", "33.3%", "—", "—", "—")


def test_champion_vs_challenger_per_currency(tables: dict[str, Table]) -> None:
    t = tables["variants"]
    assert t.title == "Champion vs challenger (2025-01-01 → 2025-03-15)"
    # L3 (challenger): late at the start, still late; nothing paid; 2 actions sent.
    assert _row(t, "CNY", "challenger") == ("0.0%", "0.0%", "—")
    # L1, L2 (champion): current at the start; 2 actions per 2500 paid.
    assert _row(t, "CNY", "champion") == ("—", "—", "0.80")
    assert _row(t, "USD", "champion") == ("—", "—", "1.25")


def test_one_period_report_has_no_month_over_month_tables() -> None:
    data = load_report_data(build_store(), start=END, end=END)
    names = [t.name for t in build_report(data)]
    assert "flow_rates" not in names
    assert "variants" not in names
    assert {t.name: t for t in build_report(data)}["roll_rates"].rows == ()


def test_progress_is_reported_once_per_loan() -> None:
    seen: list[int] = []
    load_report_data(build_store(), start=START, end=END, progress=seen.append, page=3)
    assert seen == [1, 1, 1, 1]


def test_write_csv_round_trip(tables: dict[str, Table], tmp_path: Path) -> None:
    paths = write_csv(list(tables.values()), tmp_path / "report")
    assert sorted(p.name for p in paths) == sorted(f"{name}.csv" for name in tables)
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        table = tables[path.stem]
        assert tuple(rows[0]) == table.columns
        assert tuple(tuple(r) for r in rows[1:]) == table.rows
