"""The cost ledger of a legal matter: court fees, lawyers, what the debtor must repay.

The PRC court fees follow from the docket and the amount claimed
(:mod:`loancollect_courts.fees`): the acceptance fee is prepaid by the claimant and
borne by the losing party (诉讼费用交纳办法 art. 29), so it is recoverable; a
mediated case pays half (art. 15) and the other half comes back. Lawyers' fees come
from a :class:`LawyerTariff`; they are recoverable only where the loan contract says
the debtor pays them (common in PRC loan contracts). Courts of other jurisdictions
charge fees the tariff can carry as ``court_fees`` (not computed here).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from loancollect.domain.money import Money, sum_money
from loancollect_courts.docket import Docket
from loancollect_courts.fees import Procedure, enforcement_fee, filing_fee

__all__ = ["CostEntry", "CostKind", "LawyerTariff", "Ledger", "ledger_for"]


class CostKind(enum.Enum):
    """What a cost is."""

    COURT_FEE = "court_fee"
    ENFORCEMENT_FEE = "enforcement_fee"
    PRESERVATION_FEE = "preservation_fee"
    LAWYER = "lawyer"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class CostEntry:
    """One cost (negative: a refund)."""

    on: dt.date
    kind: CostKind
    amount: Money
    what: str
    recoverable: bool
    citation: str = ""


@attrs.frozen(kw_only=True)
class LawyerTariff:
    """What the lawyers charge per docket step, and whether the debtor repays it.

    :param court_fees: fixed court fees per step where they are not computed here
        (England and Wales, US courts).
    """

    per_step: Mapping[str, Money] = attrs.field(factory=lambda: MappingProxyType({}))
    recoverable: bool = False
    court_fees: Mapping[str, Money] = attrs.field(factory=lambda: MappingProxyType({}))


@attrs.frozen(kw_only=True)
class Ledger:
    """The costs of one matter, in the claim's currency."""

    matter: str
    currency: str
    entries: tuple[CostEntry, ...] = ()

    def total(self) -> Money:
        """Everything spent (refunds netted)."""
        return sum_money((e.amount for e in self.entries), self.currency)

    def recoverable(self) -> Money:
        """The part the debtor must repay."""
        return sum_money((e.amount for e in self.entries if e.recoverable), self.currency)

    def borne(self) -> Money:
        """The part the lender bears whatever happens."""
        return self.total() - self.recoverable()


_FILING: Mapping[str, Procedure] = MappingProxyType(
    {
        "payment_order_filed": Procedure.PAYMENT_ORDER,
        "suit_filed": Procedure.ORDINARY,
        "small_claim_filed": Procedure.SMALL_CLAIM,
    }
)


def ledger_for(docket: Docket, claim: Money, tariff: LawyerTariff | None = None) -> Ledger:
    """The ledger of ``docket`` for a claim of ``claim``: the fees its steps incur."""
    tariff = tariff or LawyerTariff()
    entries: list[CostEntry] = []
    cn = docket.route.jurisdiction == "CN" and claim.currency == "CNY"
    paid_filing: Money | None = None
    for entry in docket.log:
        step = entry.step
        if cn and step in _FILING:
            quote = filing_fee(claim, _FILING[step])
            paid_filing = quote.fee
            entries.append(
                _fee(entry.on, CostKind.COURT_FEE, quote.fee, quote.what, quote.citations)
            )
        elif cn and step == "mediated" and paid_filing is not None:
            half = filing_fee(claim, Procedure.MEDIATED).fee
            refund = half - paid_filing
            if refund.is_negative():
                entries.append(
                    CostEntry(
                        on=entry.on,
                        kind=CostKind.COURT_FEE,
                        amount=refund,
                        what="half the acceptance fee refunded (mediation)",
                        recoverable=True,
                        citation="诉讼费用交纳办法 art. 15",
                    )
                )
        elif cn and step in ("enforcement_applied", "notarised_enforcement_filed"):
            quote = enforcement_fee(claim)
            entries.append(
                _fee(entry.on, CostKind.ENFORCEMENT_FEE, quote.fee, quote.what, quote.citations)
            )
        court = tariff.court_fees.get(step)
        if court is not None:
            entries.append(
                CostEntry(
                    on=entry.on,
                    kind=CostKind.COURT_FEE,
                    amount=court,
                    what=f"court fee: {step}",
                    recoverable=True,
                )
            )
        lawyer = tariff.per_step.get(step)
        if lawyer is not None:
            entries.append(
                CostEntry(
                    on=entry.on,
                    kind=CostKind.LAWYER,
                    amount=lawyer,
                    what=f"lawyer: {step}",
                    recoverable=tariff.recoverable,
                )
            )
    return Ledger(matter=docket.matter, currency=claim.currency, entries=tuple(entries))


def _fee(
    on: dt.date, kind: CostKind, amount: Money, what: str, citations: Iterable[object]
) -> CostEntry:
    return CostEntry(
        on=on,
        kind=kind,
        amount=amount,
        what=what,
        recoverable=True,
        citation="; ".join(str(c) for c in citations),
    )
