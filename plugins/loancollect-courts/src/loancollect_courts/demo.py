"""The courts' part in ``loancollect demo``: a few Chinese cases that reach the legal
stage get a matter, a lawyer's demand letter, a payment order (支付令), a judgment where
the debtor objects, and enforcement with its recoveries."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

from loancollect.demo_parts import DemoPart, DemoRun
from loancollect.domain.loans import Payment
from loancollect.domain.money import Money, Rounding
from loancollect_courts.bundle import write_matter_bundle
from loancollect_courts.desk import LegalDesk
from loancollect_courts.docket import Docket
from loancollect_courts.documents import (
    Party,
    demand_letter,
    element_complaint,
    matter_facts,
    payment_order_application,
)
from loancollect_courts.ledger import LawyerTariff

__all__ = ["CourtsDemo"]

ROUTE = "cn_litigation"
MAX_MATTERS = 6
SCAN_EVERY = 5  # days between looks for new legal-stage cases
ENFORCED_SHARE = Decimal("0.5")  # what enforcement recovers in the demo
CREDITOR = Party(
    name="示例消费金融有限公司", address="上海市浦东新区示例路1号", representative="陈明"
)
COURT = "上海市浦东新区人民法院"


def _objects(loan_id: str) -> bool:
    """Whether the demo debtor objects to the payment order (stable per loan)."""
    return hashlib.sha256(loan_id.encode()).digest()[0] % 2 == 0


class CourtsDemo(DemoPart):
    """Opens matters on legal-stage CNY cases and carries them to enforcement."""

    name = "courts"

    def __init__(self) -> None:
        self.desk: LegalDesk | None = None
        self.matters: dict[str, dt.date] = {}
        self.steps = 0
        self.enforced: set[str] = set()
        self.bundles: list[Path] = []

    def start(self, run: DemoRun) -> None:
        """Build the desk over the demo's engine and storage."""
        tariff = LawyerTariff(
            per_step={
                "demand_letter_sent": Money("800.00", "CNY"),
                "payment_order_filed": Money("1500.00", "CNY"),
                "suit_filed": Money("3000.00", "CNY"),
                "enforcement_applied": Money("2000.00", "CNY"),
            },
            recoverable=True,
        )
        self.desk = LegalDesk(run.engine.apply, run.storage, tariff=tariff)

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        """Open new matters now and then; take each open matter's next step."""
        assert self.desk is not None
        if len(self.matters) < MAX_MATTERS and (day - run.setup.first).days % SCAN_EVERY == 0:
            self._open(run, day)
        for loan_id in sorted(self.matters):
            docket = self.desk.docket(loan_id, day)
            if docket is not None and not docket.closed:
                self._step(run, loan_id, docket, day)

    def _open(self, run: DemoRun, day: dt.date) -> None:
        assert self.desk is not None
        with run.storage() as uow:
            candidates = []
            for demo_loan in run.portfolio:
                loan = demo_loan.loan
                if loan.id in self.matters or loan.principal.currency != "CNY":
                    continue
                case = uow.cases.get(loan.id)
                if case is not None and case.stage == "legal" and case.legal_matter is None:
                    candidates.append(loan.id)
        for loan_id in candidates[: MAX_MATTERS - len(self.matters)]:
            self.desk.open(loan_id, ROUTE, day, reason="legal stage reached")
            self.desk.advance(loan_id, "demand_letter_sent", day, "律师函")
            self.matters[loan_id] = day
            self.steps += 1

    def _step(self, run: DemoRun, loan_id: str, docket: Docket, day: dt.date) -> None:
        assert self.desk is not None
        waited = (day - docket.since).days
        state = docket.state
        step: str | None = None
        if state == "demand_unanswered":
            step = "payment_order_filed"
        elif state == "po_filed" and waited >= 3:
            step = "po_issued"
        elif state == "po_issued" and waited >= 5 and _objects(loan_id):
            step = "objection_filed"
        elif state == "po_objected":
            step = "suit_filed"
        elif state == "filed" and waited >= 20:
            step = "judgment"
        elif state in ("po_effective", "judgment_effective"):
            step = "enforcement_applied"
        elif state == "enforcement" and waited >= 10:
            self._recover(run, loan_id, day)
            step = "dishonest_listed"
        elif state == "restricted" and waited >= 20:
            step = "terminated_this_round"
        if step is not None:
            self.desk.advance(loan_id, step, day)
            self.steps += 1
            if step == "enforcement_applied":
                self._bundle(run, loan_id, day)

    def _bundle(self, run: DemoRun, loan_id: str, day: dt.date) -> None:
        """The matter's filings and evidence bundle, under ``out/courts``."""
        assert self.desk is not None
        view = self.desk.view(loan_id)
        facts = matter_facts(view.loan, view.payments, day, creditor=CREDITOR, court=COURT)
        documents = {
            "demand_letter.pdf": demand_letter(facts),
            "payment_order_application.pdf": payment_order_application(facts),
            "complaint.pdf": element_complaint(facts),
        }
        path = run.setup.out / self.name / f"{loan_id}.zip"
        write_matter_bundle(path, view.loan, view.payments, view.history, day, documents=documents)
        self.bundles.append(path)

    def _recover(self, run: DemoRun, loan_id: str, day: dt.date) -> None:
        """The court pays over what enforcement found: half the balance."""
        assert self.desk is not None
        balance = self.desk.claim(loan_id, day)
        amount = balance.multiply(ENFORCED_SHARE, Rounding.HALF_UP)
        if not amount.is_positive():
            return
        run.engine.record_payment(
            Payment(
                id=f"court-{loan_id}-{day.isoformat()}",
                loan_id=loan_id,
                amount=amount,
                value_date=day,
                received_at=run.clock.now(),
                reference="court enforcement",
            )
        )
        self.enforced.add(loan_id)

    def summary(self, run: DemoRun) -> str | None:
        """How many matters, steps and enforcements."""
        assert self.desk is not None
        states: dict[str, int] = {}
        for loan_id in self.matters:
            docket = self.desk.docket(loan_id)
            if docket is not None:
                states[docket.state] = states.get(docket.state, 0) + 1
        where = ", ".join(f"{k} {v}" for k, v in sorted(states.items())) or "none"
        return (
            f"{len(self.matters)} legal matters, {self.steps} docket steps, "
            f"{len(self.enforced)} enforced ({where}); evidence bundles in "
            f"{run.setup.out / self.name}"
        )
