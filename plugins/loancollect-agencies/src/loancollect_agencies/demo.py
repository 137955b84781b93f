"""The agencies' part in ``loancollect demo``: two simulated agencies, charge-off,
recovery and a debt sale.

Each morning the placement desk recalls what must come back; once a week it also
charges off debts at 120 days past due and places cases 31–90 DPD (primary) or
91–150 DPD (secondary) at random — seeded — with ``agency-a`` or ``agency-b``,
writing each agency's placement and recall files. The agencies work their cases
through the agency API (in-process): they fetch their placements and post
contact outcomes, promises and payments; ``agency-a`` is the more effective.
Each month end they remit and are reconciled. Towards the end a portfolio of
charged-off debts is selected on a cut-off date, sold a week later with its sale
file, and the debts that changed after the cut-off are bought back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx

from loancollect.demo_parts import DemoPart, DemoRun
from loancollect.domain.case import Case
from loancollect.domain.chargeoff import ChargeOffPolicy, ChargeOffRule
from loancollect.domain.commands import BuyBackDebt, SellDebt, SetFlag
from loancollect.domain.events import CasePlaced, CaseRecalled, EventKind
from loancollect.domain.loans import Loan
from loancollect.domain.overdue import Assessment, assess
from loancollect.domain.placement import PlacementPolicy, PlacementRule
from loancollect_agencies.api import Tenant, agency_app, credential
from loancollect_agencies.audit import MemoryAuditTrail
from loancollect_agencies.commission import PlacementTerms
from loancollect_agencies.desk import PlacementDesk
from loancollect_agencies.files import (
    PlacementRecord,
    RecallLine,
    placement_record,
    write_placement_file,
    write_recall_file,
)
from loancollect_agencies.hooks import SCHEDULE
from loancollect_agencies.remittance import ExpectedCollection, RemittanceLine, reconcile
from loancollect_agencies.sale import (
    SaleCriteria,
    put_back_reason,
    sale_line,
    select_portfolio,
    write_sale_file,
)

__all__ = ["AgenciesDemo"]

AGENCIES = ("agency-a", "agency-b")
_SKILL = {"agency-a": Decimal("1.0"), "agency-b": Decimal("0.6")}
_PAYS = {"on_time": 60, "forgetful": 50, "hardship": 30, "promiser": 25, "wont_pay": 6}
_TENANT = "demo"


def _draw(*parts: object) -> int:
    """A number in [0, 100) from the parts (deterministic)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


class AgenciesDemo(DemoPart):
    """Two agencies working placed cases through the agency API; charge-off; a sale."""

    name = "agencies"
    answers: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.reconciled: list[str] = []

    def start(self, run: DemoRun) -> None:
        seed = run.setup.seed
        self.out: Path = run.setup.out / "agencies"
        self.audit = MemoryAuditTrail()
        self.tokens = {a: hashlib.sha256(f"{a}:{seed}".encode()).hexdigest() for a in AGENCIES}
        creds = [credential(a, _TENANT, t) for a, t in self.tokens.items()]
        self.placed: set[str] = set()  # the host's index of placed cases
        self.tenant = Tenant(
            storage=run.storage, intake=run.engine.intake, placed=lambda agency: self.placed
        )
        app = agency_app(
            tenants={_TENANT: self.tenant}, credentials=creds, audit=self.audit, now=run.clock.now
        )
        # the agencies call the API in-process (an ASGI transport, no socket)
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://agencies.demo"
        )
        policy = PlacementPolicy(
            seed=seed,
            rules=(
                PlacementRule(
                    name="primary 31-90 dpd",
                    tier="primary",
                    agencies=AGENCIES,
                    term_days=60,
                    min_dpd=31,
                    max_dpd=90,
                ),
                PlacementRule(
                    name="secondary 91-150 dpd",
                    tier="secondary",
                    agencies=AGENCIES,
                    term_days=45,
                    min_dpd=91,
                    max_dpd=150,
                ),
            ),
        )
        charge_off = ChargeOffPolicy(
            rules=(ChargeOffRule(reason="120 days past due, closed-end (UCRC)", min_dpd=120),)
        )
        self.desk = PlacementDesk(
            intake=run.engine.intake, storage=run.storage, placement=policy, charge_off=charge_off
        )
        last = run.setup.first + dt.timedelta(days=run.setup.days - 1)
        self.sale_on = last - dt.timedelta(days=14)
        self.cutoff = self.sale_on - dt.timedelta(days=7)
        self.review_on = self.sale_on + dt.timedelta(days=7)
        self.selected: list[str] = []

    def before_cycle(self, run: DemoRun, day: dt.date) -> None:
        weekly = (day - run.setup.first).days % 7 == 0
        report = self.desk.run(day) if weekly else self.desk.recall_due(day, loan_ids=self.placed)
        self.placed -= set(report.recalled)
        self.placed |= set(report.placed)
        self.counts["placed"] += len(report.placed)
        self.counts["recalled"] += len(report.recalled)
        self.counts["charged off"] += len(report.charged_off)
        self._files(run, day, report.placed, report.recalled)
        for agency in AGENCIES:
            self._work(run, agency, day)
        if day.day == 1:
            for agency in AGENCIES:
                self._remit(run, agency, day)

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        if day == self.cutoff:
            self._select(run, day)
        elif day == self.sale_on:
            self._sell(run, day)
        elif day == self.review_on:
            self._buy_back(run, day)

    def finish(self, run: DemoRun) -> None:
        if hasattr(self, "loop"):
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()

    def summary(self, run: DemoRun) -> str:
        calls = self.audit.entries()
        refused = sum(1 for e in calls if not e.allowed)
        c = self.counts
        differing = sum(1 for r in self.reconciled if r != "balanced")
        return (
            f"placed {c['placed']}, recalled {c['recalled']}, agency payments {c['payments']}, "
            f"charged off {c['charged off']}, sold {c['sold']}, bought back {c['bought back']}; "
            f"API calls {len(calls)} ({refused} refused); "
            f"remittances {len(self.reconciled)} ({differing} with differences)"
        )

    # -- the agencies ---------------------------------------------------------------------
    def _headers(self, agency: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[agency]}"}

    def _call(
        self, method: str, path: str, agency: str, body: dict[str, str] | None = None
    ) -> httpx.Response:
        request = self.client.request(method, path, json=body, headers=self._headers(agency))
        return self.loop.run_until_complete(request)

    def _work(self, run: DemoRun, agency: str, day: dt.date) -> None:
        seed = run.setup.seed
        response = self._call("GET", "/placements", agency)
        response.raise_for_status()
        at = dt.datetime.combine(day, dt.time(3, 0), tzinfo=dt.UTC)
        for record in response.json()["data"]:
            loan_id = record["loan_id"]
            if _draw(seed, agency, loan_id, day, "call") >= 30:
                continue  # the agency works each case about twice a week
            behaviour = run.world.behaviour(loan_id)
            pays = Decimal(_PAYS.get(behaviour.value if behaviour else "", 10)) * _SKILL[agency]
            roll = _draw(seed, agency, loan_id, day, "outcome")
            path = f"/placements/{loan_id}"
            if roll < pays:
                amount = Decimal(record["overdue"]) or Decimal(record["balance"])
                amount = min(amount, Decimal(record["balance"]))
                if amount <= 0:
                    continue
                self._post(
                    agency,
                    f"{path}/outcomes",
                    {
                        "kind": "right_party_contact",
                        "at": at.isoformat(),
                        "channel": "phone",
                        "agent": f"{agency}-7",
                    },
                )
                self._post(
                    agency,
                    f"{path}/payments",
                    {
                        "payment_id": f"{day:%Y%m%d}-{loan_id}",
                        "amount": str(amount),
                        "value_date": day.isoformat(),
                        "received_at": at.isoformat(),
                    },
                )
                self.counts["payments"] += 1
            elif roll < pays + 15 and Decimal(record["overdue"]) > 0:
                due = (day + dt.timedelta(days=7)).isoformat()
                self._post(
                    agency,
                    f"{path}/promises",
                    {
                        "at": at.isoformat(),
                        "amount": record["overdue"],
                        "due": due,
                        "channel": "phone",
                    },
                )
            else:
                self._post(
                    agency,
                    f"{path}/outcomes",
                    {"kind": "no_answer", "at": at.isoformat(), "channel": "phone"},
                )
                if _draw(seed, agency, loan_id, day, "complaint") == 0 and agency == "agency-b":
                    run.engine.apply(
                        loan_id,
                        SetFlag(
                            flag=f"complaint:{agency}:{day}",
                            reason="borrower complained of the agency",
                        ),
                        on=day,
                    )

    def _post(self, agency: str, path: str, body: dict[str, str]) -> None:
        response = self._call("POST", path, agency, body)
        if response.status_code == 422:  # a rule of the intake refused it: the agency moves on
            self.counts["refused posts"] += 1
            return
        response.raise_for_status()

    def _files(
        self, run: DemoRun, day: dt.date, placed: tuple[str, ...], recalled: tuple[str, ...]
    ) -> None:
        if not placed and not recalled:
            return
        by_agency: dict[str, list[PlacementRecord]] = {a: [] for a in AGENCIES}
        recalls: dict[str, list[RecallLine]] = {a: [] for a in AGENCIES}
        with run.storage() as uow:
            for loan_id in placed:
                loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
                if loan is None or case is None or case.placement is None:
                    continue
                a = assess(loan, uow.loans.payments_for(loan_id), day)
                by_agency[case.placement.agency].append(placement_record(loan, case, a))
            for loan_id in recalled:
                last = [
                    e for e in uow.events.recent(loan_id, day) if e.kind is EventKind.CASE_RECALLED
                ]
                if last:
                    p = last[-1].payload
                    assert isinstance(p, CaseRecalled)
                    recalls[p.agency].append(
                        RecallLine(
                            placement=p.placement,
                            loan_id=loan_id,
                            agency=p.agency,
                            recalled_on=day,
                            reason=p.reason,
                        )
                    )
        for agency in AGENCIES:
            if by_agency[agency]:
                write_placement_file(self.out / agency, agency, day, by_agency[agency])
            if recalls[agency]:
                write_recall_file(self.out / agency, agency, day, recalls[agency])

    def _remit(self, run: DemoRun, agency: str, day: dt.date) -> None:
        """The month's remittance of ``agency``, reconciled against the payments."""
        start = (day - dt.timedelta(days=1)).replace(day=1)
        lines: list[RemittanceLine] = []
        expected: list[ExpectedCollection] = []
        prefix = f"agency:{agency}:"
        with run.storage() as uow:
            ids = uow.loans.list_ids()
            for loan_id in ids:
                payments = [p for p in uow.loans.payments_for(loan_id) if p.id.startswith(prefix)]
                if not payments:
                    continue
                loan = uow.loans.get(loan_id)
                assert loan is not None
                placements = [
                    e for e in uow.events.stream(loan_id) if e.kind is EventKind.CASE_PLACED
                ]
                for placed in placements:
                    pp = placed.payload
                    assert isinstance(pp, CasePlaced)
                    if pp.agency != agency:
                        continue
                    mine = sorted(
                        (
                            p
                            for p in payments
                            if p.value_date >= placed.on
                            and (pp.until is None or p.value_date <= pp.until)
                        ),
                        key=lambda p: p.value_date,
                    )
                    before = [
                        p for p in uow.loans.payments_for(loan_id) if p.value_date < placed.on
                    ]
                    at = assess(loan, before, placed.on)
                    terms = PlacementTerms(tier=pp.tier, age_days=at.dpd, balance=at.payoff_amount)
                    fees = SCHEDULE.commissions(terms, [p.amount for p in mine])
                    for p, fee in zip(mine, fees, strict=True):
                        if not start <= p.value_date < day:
                            continue
                        expected.append(
                            ExpectedCollection(
                                loan_id=loan_id,
                                payment_id=p.reference,
                                amount=p.amount,
                                commission=fee,
                            )
                        )
                        # agency-b claims a flat 20 %: its remittance shows the differences
                        claimed = (
                            fee if agency == "agency-a" else p.amount.multiply(Decimal("0.20"))
                        )
                        lines.append(
                            RemittanceLine(
                                loan_id=loan_id,
                                payment_id=p.reference,
                                gross=p.amount,
                                commission=claimed,
                                net=p.amount - claimed,
                            )
                        )
        for currency in sorted({e.amount.currency for e in expected}):
            result = reconcile(
                [line for line in lines if line.gross.currency == currency],
                [e for e in expected if e.amount.currency == currency],
                currency=currency,
            )
            self.reconciled.append(
                "balanced" if result.balanced else f"{len(result.differences)} differences"
            )

    # -- the sale -------------------------------------------------------------------------
    def _candidates(self, run: DemoRun, day: dt.date) -> list[tuple[Loan, Case, Assessment]]:
        found = []
        with run.storage() as uow:
            for loan_id in uow.loans.list_ids():
                loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
                if loan is None or case is None or case.charge_off is None:
                    continue
                found.append((loan, case, assess(loan, uow.loans.payments_for(loan_id), day)))
        return found

    def _select(self, run: DemoRun, day: dt.date) -> None:
        chosen = select_portfolio(self._candidates(run, day), SaleCriteria(min_dpd=120), day)
        self.selected = [loan.id for loan, _, _ in chosen]

    def _sell(self, run: DemoRun, day: dt.date) -> None:
        sale, buyer = "S-DEMO-1", "buyer-x"
        lines = []
        for loan, case, a in self._candidates(run, self.cutoff):
            if loan.id not in self.selected or case.placement is not None:
                continue
            with run.storage() as uow:
                payments = uow.loans.payments_for(loan.id)
            price = a.payoff_amount.multiply(Decimal("0.08"))
            run.engine.apply(
                loan.id,
                SellDebt(buyer=buyer, sale=sale, price=price if price.is_positive() else None),
                on=day,
            )
            lines.append(sale_line(sale, "demo lender", loan, case, a, payments))
            self.counts["sold"] += 1
        if lines:
            write_sale_file(self.out / "sale", sale, buyer, day, lines)

    def _buy_back(self, run: DemoRun, day: dt.date) -> None:
        with run.storage() as uow:
            sold = []
            for loan_id in self.selected:
                case = uow.cases.get(loan_id)
                if case is not None and case.sale is not None:
                    sold.append((case, uow.loans.payments_for(loan_id)))
        for case, payments in sold:
            reason = put_back_reason(case, payments, cutoff=self.cutoff)
            if reason is not None and case.sale is not None:
                run.engine.apply(
                    case.loan_id, BuyBackDebt(sale=case.sale.sale, reason=reason), on=day
                )
                self.counts["bought back"] += 1
