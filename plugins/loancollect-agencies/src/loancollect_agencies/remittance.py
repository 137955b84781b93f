"""Remittance reconciliation: what an agency says it collected, against what was paid.

An agency that collects reports each collection in its remittance: the loan, the
payment, the gross amount, its commission and the net it passes on. The lender
matches each line to a payment received on a case placed with the agency (by
payment id), recomputes the commission from the schedule, and lists every
difference: a line with no payment behind it, a payment the agency did not
report, a gross amount that differs, a commission that is not the schedule's, a
net that is not gross less commission. Totals are given gross and net.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

import attrs

from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money, sum_money

__all__ = [
    "Difference",
    "DifferenceKind",
    "ExpectedCollection",
    "Reconciliation",
    "RemittanceLine",
    "reconcile",
]


@attrs.frozen(kw_only=True)
class RemittanceLine:
    """One collection as the agency reports it."""

    loan_id: str
    payment_id: str
    gross: Money
    commission: Money
    net: Money


@attrs.frozen(kw_only=True)
class ExpectedCollection:
    """A payment received on a case placed with the agency, with the commission the
    schedule gives it."""

    loan_id: str
    payment_id: str
    amount: Money
    commission: Money


class DifferenceKind(enum.Enum):
    """What is wrong with a line or a payment."""

    NOT_RECEIVED = "not_received"  # the agency reports a collection no payment shows
    NOT_REPORTED = "not_reported"  # a payment the agency did not report
    GROSS = "gross"  # the gross amount differs from the payment
    COMMISSION = "commission"  # the commission is not the schedule's
    NET = "net"  # net is not gross less commission
    LOAN = "loan"  # the line names another loan than the payment's


@attrs.frozen(kw_only=True)
class Difference:
    """One difference found, with what was expected and what was reported."""

    kind: DifferenceKind
    payment_id: str
    loan_id: str
    expected: str
    reported: str


@attrs.frozen(kw_only=True)
class Reconciliation:
    """The result of reconciling a remittance."""

    currency: str
    matched: int
    gross_reported: Money
    gross_received: Money
    commission_reported: Money
    commission_due: Money
    net_reported: Money
    net_due: Money
    differences: tuple[Difference, ...]

    @property
    def balanced(self) -> bool:
        """True if nothing differs."""
        return not self.differences


def _unique(items: Iterable[tuple[str, object]], field: str) -> None:
    seen: set[str] = set()
    for key, _ in items:
        if key in seen:
            raise ValidationError(field, key, "named twice")
        seen.add(key)


def reconcile(
    lines: Sequence[RemittanceLine], expected: Sequence[ExpectedCollection], *, currency: str
) -> Reconciliation:
    """Match ``lines`` to ``expected`` by payment id and list every difference.

    :raises ValidationError: for a payment id named twice, or another currency.
    """
    _unique(((line.payment_id, line) for line in lines), "remittance.payment_id")
    _unique(((e.payment_id, e) for e in expected), "expected.payment_id")
    for line in lines:
        for field, m in (("gross", line.gross), ("commission", line.commission), ("net", line.net)):
            if m.currency != currency:
                raise ValidationError(f"remittance.{field}", m.currency, f"not {currency}")
    by_id = {e.payment_id: e for e in expected}
    reported = {line.payment_id for line in lines}
    differences: list[Difference] = []
    matched = 0
    for line in lines:
        if line.gross - line.commission != line.net:
            differences.append(
                Difference(
                    kind=DifferenceKind.NET,
                    payment_id=line.payment_id,
                    loan_id=line.loan_id,
                    expected=str((line.gross - line.commission).amount),
                    reported=str(line.net.amount),
                )
            )
        found = by_id.get(line.payment_id)
        if found is None:
            differences.append(
                Difference(
                    kind=DifferenceKind.NOT_RECEIVED,
                    payment_id=line.payment_id,
                    loan_id=line.loan_id,
                    expected="",
                    reported=str(line.gross.amount),
                )
            )
            continue
        matched += 1
        if found.loan_id != line.loan_id:
            differences.append(
                Difference(
                    kind=DifferenceKind.LOAN,
                    payment_id=line.payment_id,
                    loan_id=line.loan_id,
                    expected=found.loan_id,
                    reported=line.loan_id,
                )
            )
        if found.amount != line.gross:
            differences.append(
                Difference(
                    kind=DifferenceKind.GROSS,
                    payment_id=line.payment_id,
                    loan_id=found.loan_id,
                    expected=str(found.amount.amount),
                    reported=str(line.gross.amount),
                )
            )
        if found.commission != line.commission:
            differences.append(
                Difference(
                    kind=DifferenceKind.COMMISSION,
                    payment_id=line.payment_id,
                    loan_id=found.loan_id,
                    expected=str(found.commission.amount),
                    reported=str(line.commission.amount),
                )
            )
    for e in expected:
        if e.payment_id not in reported:
            differences.append(
                Difference(
                    kind=DifferenceKind.NOT_REPORTED,
                    payment_id=e.payment_id,
                    loan_id=e.loan_id,
                    expected=str(e.amount.amount),
                    reported="",
                )
            )
    gross_received = sum_money((e.amount for e in expected), currency)
    commission_due = sum_money((e.commission for e in expected), currency)
    return Reconciliation(
        currency=currency,
        matched=matched,
        gross_reported=sum_money((line.gross for line in lines), currency),
        gross_received=gross_received,
        commission_reported=sum_money((line.commission for line in lines), currency),
        commission_due=commission_due,
        net_reported=sum_money((line.net for line in lines), currency),
        net_due=gross_received - commission_due,
        differences=tuple(differences),
    )
