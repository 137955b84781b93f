"""The placement desk places, recalls and charges off through the intake; placement,
recall and sale files carry a SHA-256 manifest; a sale sends notices and buys back."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import types
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from loancollect_agencies.commission import Band, CommissionRate, CommissionSchedule
from loancollect_agencies.desk import PlacementDesk
from loancollect_agencies.files import (
    PLACEMENT_COLUMNS,
    RecallLine,
    placement_record,
    verify,
    write_placement_file,
    write_recall_file,
)
from loancollect_agencies.hooks import loancollect_plan_actions
from loancollect_agencies.reporting import disposal_table, league, placement_results
from loancollect_agencies.sale import (
    NOTICE_RULE,
    SaleCriteria,
    put_back_reason,
    sale_line,
    select_portfolio,
    write_sale_file,
)

from loancollect.builtin.memory import MemoryDatabase, MemoryStore
from loancollect.domain.case import Hold, HoldKind, Sale
from loancollect.domain.chargeoff import US_UNIFORM_RETAIL
from loancollect.domain.commands import ChargeOffDebt, SellDebt
from loancollect.domain.decision import Decision
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import CasePlaced, CaseRecalled, ChargedOff, Event, EventKind
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.domain.placement import PlacementPolicy, PlacementRule, allocate
from loancollect.engine import Intake
from loancollect.testing import make_borrower, make_loan, make_payment

# make_loan: 100,000 CNY, 12 monthly installments, the first due 2025-02-15
DAY = dt.date(2025, 4, 1)  # 45 days past due without payments
POLICY = PlacementPolicy(
    seed=11,
    rules=(
        PlacementRule(
            name="primary",
            tier="primary",
            agencies=("a", "b"),
            term_days=30,
            min_dpd=31,
            max_dpd=90,
        ),
        PlacementRule(
            name="secondary", tier="secondary", agencies=("a", "b"), term_days=30, min_dpd=31
        ),
    ),
)


@pytest.fixture
def tenant() -> tuple[MemoryStore, Intake]:
    store = MemoryDatabase().store("t1")
    intake = Intake(storage=store, notify=lambda events: None)
    loans = [make_loan(id=f"L-{i}", borrower=make_borrower(id=f"B-{i}")) for i in range(1, 5)]
    intake.add_loans(loans, review_on=DAY)
    intake.record_payment(make_payment(id="P-4", loan_id="L-4", amount=Money("9000.00", "CNY")))
    return store, intake


def _placed(store: MemoryStore, loan_id: str) -> list[tuple[str, str]]:
    with store() as uow:
        out = []
        for e in uow.events.stream(loan_id):
            if e.kind is EventKind.CASE_PLACED:
                p = e.payload
                assert isinstance(p, CasePlaced)
                out.append((p.agency, p.tier))
        return out


def test_the_desk_places_overdue_cases_with_the_drawn_agency_and_recalls_at_term_end(
    tenant: tuple[MemoryStore, Intake],
) -> None:
    store, intake = tenant
    desk = PlacementDesk(intake=intake, storage=store, placement=POLICY)
    report = desk.run(DAY)
    # L-4 paid two installments (9000 CNY): 14 days past due, not placed
    assert report.placed == ("L-1", "L-2", "L-3")
    for loan in report.placed:
        assert _placed(store, loan) == [
            (allocate(loan, ("a", "b"), seed=11, salt="primary"), "primary")
        ]
    assert desk.run(DAY + dt.timedelta(days=30)).recalled == ()
    after = desk.run(DAY + dt.timedelta(days=31))
    assert after.recalled == ("L-1", "L-2", "L-3")
    # placed again the same day: secondary, with the agency that did not have it
    assert after.placed == ("L-1", "L-2", "L-3")
    for loan in after.placed:
        (first, _), (second, tier) = _placed(store, loan)
        assert tier == "secondary"
        assert second != first


def test_a_dispute_recalls_the_case_at_the_next_run(tenant: tuple[MemoryStore, Intake]) -> None:
    store, intake = tenant
    desk = PlacementDesk(intake=intake, storage=store, placement=POLICY)
    desk.run(DAY)
    later = DAY + dt.timedelta(days=3)
    intake.place_hold("L-2", Hold(HoldKind.DISPUTE, later, reason="disputed with the agency"))
    assert desk.recall_due(later).recalled == ("L-2",)
    with store() as uow:
        case = uow.cases.get("L-2")
        last = uow.events.stream("L-2")[-1]
    assert case is not None
    assert case.placement is None
    recalled = last.payload
    assert isinstance(recalled, CaseRecalled)
    assert recalled.reason == "dispute"


def test_charge_off_at_120_dpd_and_a_later_payment_is_a_recovery(
    tenant: tuple[MemoryStore, Intake],
) -> None:
    store, intake = tenant
    desk = PlacementDesk(intake=intake, storage=store, charge_off=US_UNIFORM_RETAIL)
    day = dt.date(2025, 6, 15)  # 120 days after 2025-02-15
    assert desk.run(day - dt.timedelta(days=1)).charged_off == ()
    assert desk.run(day).charged_off == ("L-1", "L-2", "L-3")
    with store() as uow:
        loan = uow.loans.get("L-1")
        assert loan is not None
        balance = assess(loan, (), day).payoff_amount
        charged = uow.events.stream("L-1")[-1].payload
    assert charged == ChargedOff(
        amount=balance.amount, currency="CNY", reason="120 days past due, closed-end (UCRC)"
    )
    assert desk.run(day + dt.timedelta(days=1)).charged_off == (), "once"
    paid = make_payment(id="P-9", loan_id="L-1", value_date=day + dt.timedelta(days=5))
    intake.record_payment(paid)
    with store() as uow:
        kinds = [e.kind for e in uow.events.stream("L-1")[-2:]]
    assert kinds == [EventKind.PAYMENT_RECEIVED, EventKind.RECOVERY_RECORDED]


def test_placement_and_recall_files_carry_a_manifest_with_the_sha256(
    tenant: tuple[MemoryStore, Intake], tmp_path: Path
) -> None:
    store, intake = tenant
    PlacementDesk(intake=intake, storage=store, placement=POLICY).run(DAY)
    with store() as uow:
        records = []
        for loan_id in ("L-1", "L-2", "L-3"):
            loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
            assert loan is not None
            assert case is not None
            assert case.placement is not None
            if case.placement.agency == "a":
                records.append(placement_record(loan, case, assess(loan, (), DAY)))
    manifest = write_placement_file(tmp_path, "a", DAY, records)
    body = (tmp_path / manifest.file).read_bytes()
    assert manifest.sha256 == hashlib.sha256(body).hexdigest()
    assert manifest.rows == len(records)
    rows = list(csv.DictReader(body.decode().splitlines()))
    assert tuple(rows[0]) == PLACEMENT_COLUMNS
    assert "110101199003071234" not in body.decode()
    assert verify(tmp_path, f"{manifest.file}.manifest.json") == manifest
    (tmp_path / manifest.file).write_bytes(body.replace(b"CNY", b"USD"))
    with pytest.raises(ValidationError, match=r"manifest\.sha256"):
        verify(tmp_path, f"{manifest.file}.manifest.json")
    recall = write_recall_file(
        tmp_path,
        "a",
        DAY,
        [
            RecallLine(
                placement="L-1/P1", loan_id="L-1", agency="a", recalled_on=DAY, reason="dispute"
            )
        ],
    )
    data = json.loads((tmp_path / f"{recall.file}.manifest.json").read_text())
    assert (data["kind"], data["rows"]) == ("recall", 1)


def test_a_sale_selects_charged_off_debts_writes_its_file_notifies_and_buys_back(
    tenant: tuple[MemoryStore, Intake], tmp_path: Path
) -> None:
    store, intake = tenant
    cutoff = dt.date(2025, 7, 1)
    PlacementDesk(intake=intake, storage=store, charge_off=US_UNIFORM_RETAIL).run(
        dt.date(2025, 6, 15)
    )
    intake.place_hold("L-3", Hold(HoldKind.DISPUTE, dt.date(2025, 6, 20)))
    with store() as uow:
        candidates = []
        for loan_id in ("L-1", "L-2", "L-3", "L-4"):
            loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
            assert loan is not None
            assert case is not None
            payments = uow.loans.payments_for(loan_id)
            candidates.append((loan, case, assess(loan, payments, cutoff)))
    chosen = select_portfolio(candidates, SaleCriteria(min_dpd=120), cutoff)
    # L-3 is disputed, L-4 is not charged off
    assert [loan.id for loan, _, _ in chosen] == ["L-1", "L-2"]
    lines = [sale_line("S-1", "lender", loan, case, a, ()) for loan, case, a in chosen]
    manifest = write_sale_file(tmp_path, "S-1", "buyer-x", cutoff, lines)
    assert manifest.rows == 2
    row = next(csv.DictReader((tmp_path / manifest.file).read_text().splitlines()))
    assert row["account"] == "L-1"
    assert row["charged_off_on"] == "2025-06-15"
    assert Money(row["balance"], "CNY") == chosen[0][2].payoff_amount
    sold_on = cutoff + dt.timedelta(days=7)
    for loan, _, _ in chosen:
        intake.apply(loan.id, SellDebt(buyer="buyer-x", sale="S-1"), on=sold_on)
    # the borrower of L-2 paid after the cut-off: bought back
    intake.record_payment(make_payment(id="P-L2", loan_id="L-2", value_date=dt.date(2025, 7, 3)))
    with store() as uow:
        l1, l2 = uow.cases.get("L-1"), uow.cases.get("L-2")
        loan1 = uow.loans.get("L-1")
        p1, p2 = uow.loans.payments_for("L-1"), uow.loans.payments_for("L-2")
    assert l1 is not None
    assert l2 is not None
    assert loan1 is not None
    assert put_back_reason(l1, p1, cutoff=cutoff) is None
    assert put_back_reason(l2, p2, cutoff=cutoff) == "paid after the cut-off (2025-07-03)"
    # the review plans one notice of assignment by letter, keyed by the sale
    decision = cast(Decision, types.SimpleNamespace(stage="late"))
    (notice,) = loancollect_plan_actions(loan=loan1, case=l1, decision=decision, as_of=sold_on)
    assert (notice.channel, notice.template, notice.rule_id) == (
        "letter",
        "notice_of_assignment",
        NOTICE_RULE,
    )
    assert notice.contact is not None
    again = loancollect_plan_actions(
        loan=loan1, case=l1, decision=decision, as_of=sold_on + dt.timedelta(days=1)
    )
    assert [a.idempotency_key for a in again] == [notice.idempotency_key]
    noticed = l1.with_action(NOTICE_RULE, sold_on)
    assert (
        list(loancollect_plan_actions(loan=loan1, case=noticed, decision=decision, as_of=sold_on))
        == []
    )
    assert l1.sale == Sale(buyer="buyer-x", sale="S-1", on=sold_on)


def test_the_report_tables_show_the_league_and_the_disposals(
    tenant: tuple[MemoryStore, Intake],
) -> None:
    store, intake = tenant
    PlacementDesk(intake=intake, storage=store, placement=POLICY).run(DAY)
    with store() as uow:
        case = uow.cases.get("L-1")
        loan = uow.loans.get("L-1")
    assert case is not None
    assert case.placement is not None
    assert loan is not None
    intake.record_payment(
        make_payment(id="P-A", loan_id="L-1", value_date=DAY, amount=Money("2000.00", "CNY"))
    )
    intake.apply("L-2", ChargeOffDebt(amount=Money("1000.00", "CNY"), reason="test"), on=DAY)
    intake.record_payment(
        make_payment(id="P-B", loan_id="L-2", value_date=DAY, amount=Money("100.00", "CNY"))
    )
    events: list[Event] = []
    with store() as uow:
        for loan_id in ("L-1", "L-2", "L-3", "L-4"):
            events.extend(uow.events.stream(loan_id))
    schedule = CommissionSchedule(rates=(CommissionRate(bands=(Band(rate=Decimal("0.2")),)),))
    placed_l1 = assess(loan, (), DAY).payoff_amount
    mine = [r for r in placement_results(events, store, schedule) if r.collected.is_positive()]
    assert len(mine) == 2  # L-1 (agency payment) and L-2 (a payment while placed)
    table = league(placement_results(events, store, schedule))
    assert table.columns[5] == "liquidation"
    row_l1 = next(
        r for r in mine if r.placed == placed_l1 and r.collected == Money("2000.00", "CNY")
    )
    assert row_l1.commission == Money("400.00", "CNY")
    disposals = disposal_table(events)
    assert disposals.rows == (
        ("charged off", "CNY", "1", "1000.00"),
        ("recovered after charge-off", "CNY", "1", "100.00"),
    )
