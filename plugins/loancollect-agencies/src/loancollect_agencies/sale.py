"""Debt sale: select a portfolio, write the sale file, notify the borrowers, buy back.

A lender sells charged-off debts to a buyer. :func:`select_portfolio` picks the
cases that meet the sale's criteria and are eligible at all (never one under a
dispute, bankruptcy, death or other hold, placed with an agency, or sold
already). :func:`sale_line` gives the data elements a buyer needs to collect
lawfully: the account and original creditor, the debtor's identity and contact
points, the balance itemised (principal, interest, fees, penalty) on the sale
date, the charge-off date and amount, the last payment, and the payments since
the charge-off. :func:`write_sale_file` writes them as CSV with a SHA-256
manifest.

A debt assignment binds the debtor once the debtor is notified (PRC Civil Code
art. 546; Law of Property Act 1925 s. 136 in England and Wales requires written
notice): once the sale is recorded, the review plans a notice of assignment to
each borrower on the letter channel (``NOTICE_RULE``), judged by the compliance
gate like any contact. The lender's own collection stops (the core's ``decide``
plans no contact for a sold case). A case the buyer finds ineligible — a
dispute, a bankruptcy or a death that came to light, or outside the criteria —
is bought back (:class:`~loancollect.domain.commands.BuyBackDebt`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from loancollect.domain.case import Case, HoldKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.loans import ContactKind, Loan, Payment
from loancollect.domain.money import Money, sum_money
from loancollect.domain.overdue import Assessment
from loancollect_agencies.files import Manifest, _csv, _write

__all__ = [
    "NOTICE_RULE",
    "NOTICE_TEMPLATE",
    "SALE_COLUMNS",
    "SaleCriteria",
    "SaleLine",
    "ineligibility",
    "put_back_reason",
    "sale_line",
    "select_portfolio",
    "write_sale_file",
]

NOTICE_RULE = "sale.notice_of_assignment"
"""The rule id of the notice of assignment planned for each sold case."""
NOTICE_TEMPLATE = "notice_of_assignment"
"""The template of the notice of assignment (letter channel; zh_CN and en_US)."""


def _set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class SaleCriteria:
    """Which debts go into a sale (unset: any).

    :param charged_off_only: only debts charged off (or written off) already.
    :param jurisdictions: borrowers' jurisdictions (prefix match: ``"CN"`` takes ``"CN-11"``).
    """

    min_dpd: int = 0
    max_dpd: int | None = None
    min_balance: Money | None = None
    max_balance: Money | None = None
    charged_off_only: bool = True
    jurisdictions: frozenset[str] = attrs.field(default=frozenset(), converter=_set)


def ineligibility(
    loan: Loan, case: Case, assessment: Assessment, criteria: SaleCriteria, on: dt.date
) -> str | None:
    """Why the debt may not be sold on ``on`` under ``criteria`` (``None``: it may)."""
    if case.sale is not None:
        return f"sold already in {case.sale.sale}"
    if case.placement is not None:
        return f"placed with {case.placement.agency}"
    holds = case.active_holds(on)
    if holds:
        return f"{holds[0].kind.value} hold"
    if any(h.kind in (HoldKind.DECEASED, HoldKind.BANKRUPTCY) for h in case.holds):
        return "bankruptcy or death on record"
    if criteria.charged_off_only and case.charge_off is None:
        return "not charged off"
    if not assessment.payoff_amount.is_positive():
        return "nothing owed"
    if assessment.dpd < criteria.min_dpd:
        return f"dpd {assessment.dpd} < {criteria.min_dpd}"
    if criteria.max_dpd is not None and assessment.dpd > criteria.max_dpd:
        return f"dpd {assessment.dpd} > {criteria.max_dpd}"
    balance = assessment.payoff_amount
    if criteria.min_balance is not None and balance < criteria.min_balance:
        return "balance below the minimum"
    if criteria.max_balance is not None and balance > criteria.max_balance:
        return "balance above the maximum"
    if criteria.jurisdictions and not any(
        loan.borrower.jurisdiction.startswith(j) for j in criteria.jurisdictions
    ):
        return f"jurisdiction {loan.borrower.jurisdiction}"
    return None


def select_portfolio(
    candidates: Iterable[tuple[Loan, Case, Assessment]], criteria: SaleCriteria, on: dt.date
) -> list[tuple[Loan, Case, Assessment]]:
    """The candidates eligible for the sale, in loan-id order."""
    chosen = [
        (loan, case, a)
        for loan, case, a in candidates
        if ineligibility(loan, case, a, criteria, on) is None
    ]
    return sorted(chosen, key=lambda item: item[0].id)


@attrs.frozen(kw_only=True)
class SaleLine:
    """One debt in a sale file: what the buyer needs to collect it."""

    sale: str
    account: str
    original_creditor: str
    borrower_id: str
    borrower_name: str
    national_id: str
    phone: str
    address: str
    jurisdiction: str
    currency: str
    disbursed_on: dt.date
    principal: Money
    interest: Money
    fees: Money
    penalty: Money
    balance: Money
    dpd: int
    oldest_unpaid_due: dt.date | None
    charged_off_on: dt.date | None
    charged_off_amount: Money | None
    last_payment_on: dt.date | None
    last_payment_amount: Money | None
    paid_since_charge_off: Money

    def as_row(self) -> dict[str, str]:
        """The line as CSV text fields."""

        def d(value: dt.date | None) -> str:
            return value.isoformat() if value is not None else ""

        def m(value: Money | None) -> str:
            return str(value.amount) if value is not None else ""

        return {
            "sale": self.sale,
            "account": self.account,
            "original_creditor": self.original_creditor,
            "borrower_id": self.borrower_id,
            "borrower_name": self.borrower_name,
            "national_id": self.national_id,
            "phone": self.phone,
            "address": self.address,
            "jurisdiction": self.jurisdiction,
            "currency": self.currency,
            "disbursed_on": d(self.disbursed_on),
            "principal": m(self.principal),
            "interest": m(self.interest),
            "fees": m(self.fees),
            "penalty": m(self.penalty),
            "balance": m(self.balance),
            "dpd": str(self.dpd),
            "oldest_unpaid_due": d(self.oldest_unpaid_due),
            "charged_off_on": d(self.charged_off_on),
            "charged_off_amount": m(self.charged_off_amount),
            "last_payment_on": d(self.last_payment_on),
            "last_payment_amount": m(self.last_payment_amount),
            "paid_since_charge_off": m(self.paid_since_charge_off),
        }

    def __repr__(self) -> str:
        return f"SaleLine({self.sale!r}, account={self.account!r}, dpd={self.dpd})"


SALE_COLUMNS = tuple(a.name for a in attrs.fields(SaleLine))


def _first(loan: Loan, kind: ContactKind) -> str:
    points = [p for p in loan.borrower.contact_points if p.kind is kind]
    return points[0].value if points else ""


def sale_line(
    sale: str,
    creditor: str,
    loan: Loan,
    case: Case,
    assessment: Assessment,
    payments: Sequence[Payment],
) -> SaleLine:
    """The sale-file line of one debt on the assessment's date."""
    paid = sorted(
        (p for p in payments if p.value_date <= assessment.as_of), key=lambda p: p.value_date
    )
    last = paid[-1] if paid else None
    off = case.charge_off
    since = [p.amount for p in paid if off is not None and p.value_date > off.on]
    return SaleLine(
        sale=sale,
        account=loan.id,
        original_creditor=creditor,
        borrower_id=loan.borrower.id,
        borrower_name=loan.borrower.name,
        national_id=loan.borrower.national_id or "",
        phone=_first(loan, ContactKind.PHONE),
        address=_first(loan, ContactKind.ADDRESS),
        jurisdiction=loan.borrower.jurisdiction,
        currency=loan.currency,
        disbursed_on=loan.disbursement_date,
        principal=assessment.outstanding_principal,
        interest=assessment.overdue_interest,
        fees=assessment.overdue_fees,
        penalty=assessment.penalty + assessment.compound_interest,
        balance=assessment.payoff_amount,
        dpd=assessment.dpd,
        oldest_unpaid_due=assessment.oldest_unpaid_due_date,
        charged_off_on=off.on if off is not None else None,
        charged_off_amount=off.amount if off is not None else None,
        last_payment_on=last.value_date if last is not None else None,
        last_payment_amount=last.amount if last is not None else None,
        paid_since_charge_off=sum_money(since, loan.currency),
    )


def write_sale_file(
    directory: Path, sale: str, buyer: str, on: dt.date, lines: Sequence[SaleLine]
) -> Manifest:
    """Write ``sale-<sale>.csv`` and its manifest (totals per currency); return the manifest.

    :raises ValidationError: for a line of another sale.
    """
    for line in lines:
        if line.sale != sale:
            raise ValidationError("sale_line.sale", line.sale, f"the file is for {sale!r}")
    totals = []
    for currency in sorted({line.currency for line in lines}):
        total = sum_money((line.balance for line in lines if line.currency == currency), currency)
        totals.append((f"balance_{currency}", str(total.amount)))
    body = _csv(SALE_COLUMNS, (line.as_row() for line in lines))
    return _write(directory, f"sale-{sale}.csv", "sale", buyer, on, body, len(lines), tuple(totals))


def put_back_reason(case: Case, payments: Sequence[Payment], *, cutoff: dt.date) -> str | None:
    """Why a debt sold on data as of ``cutoff`` must be bought back (``None``: it stays sold).

    The portfolio is selected on the cut-off date and the sale closes later; a debt
    whose borrower paid, or came under a dispute, bankruptcy or death hold, after the
    cut-off was not what the buyer bought.
    """
    late = [p for p in payments if p.value_date > cutoff]
    if late:
        return f"paid after the cut-off ({late[0].value_date.isoformat()})"
    for hold in case.holds:
        if hold.end is None or hold.end > cutoff:
            return f"{hold.kind.value} hold"
    return None
