"""PRC court fees as data, with their citations, computed exactly in :class:`Money`.

诉讼费用交纳办法 (State Council Order No. 481, 2007):

- art. 13(1): the acceptance fee of a property case, by cumulative brackets of the
  amount claimed (50 yuan up to 10,000; 2.5 % of the part from 10,000 to 100,000 …);
- art. 14(1): the enforcement application fee, by its own brackets;
- art. 14(2): the preservation application fee (30 yuan up to 1,000; capped at 5,000);
- art. 14(3): a payment order (支付令) pays one third of the property-case fee;
- art. 15: a case ended by mediation or withdrawn pays half;
- art. 16: a case heard under the summary procedure (简易程序, which small claims
  use) pays half.

Everything is computed in exact decimals and rounded once, half up, to the cent.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import attrs

from loancollect.domain.errors import ValidationError
from loancollect.domain.legal import Citation, Confidence
from loancollect.domain.money import Money, Rounding

__all__ = [
    "ENFORCEMENT",
    "PRESERVATION",
    "PROPERTY_CASE",
    "Bracket",
    "FeeQuote",
    "Procedure",
    "Schedule",
    "enforcement_fee",
    "filing_fee",
    "preservation_fee",
]

_ORDER = "诉讼费用交纳办法 (State Council Order No. 481, 2007)"


@attrs.frozen(kw_only=True)
class Bracket:
    """The part of the amount above ``above`` (up to the next bracket) pays ``rate``."""

    above: Decimal
    rate: Decimal


@attrs.frozen(kw_only=True)
class Schedule:
    """A cumulative fee schedule: ``base`` for the amount up to the first bracket, then
    each bracket's rate on its part; optional ``cap``."""

    name: str
    base: Decimal
    brackets: tuple[Bracket, ...]
    citation: Citation
    cap: Decimal | None = None

    def exact(self, amount: Decimal) -> Decimal:
        """The fee for ``amount`` (yuan), exact (not rounded)."""
        if amount < 0:
            raise ValidationError("fee.amount", str(amount), "must not be negative")
        fee = self.base
        edges = [b.above for b in self.brackets[1:]] + [None]
        for bracket, upper in zip(self.brackets, edges, strict=True):
            if amount <= bracket.above:
                break
            top = amount if upper is None else min(amount, upper)
            fee += (top - bracket.above) * bracket.rate
        if self.cap is not None:
            fee = min(fee, self.cap)
        return fee


def _pct(text: str) -> Decimal:
    return Decimal(text) / 100


def _b(above: int, pct: str) -> Bracket:
    return Bracket(above=Decimal(above), rate=_pct(pct))


PROPERTY_CASE = Schedule(
    name="property case acceptance fee",
    base=Decimal(50),
    brackets=(
        _b(10_000, "2.5"),
        _b(100_000, "2"),
        _b(200_000, "1.5"),
        _b(500_000, "1"),
        _b(1_000_000, "0.9"),
        _b(2_000_000, "0.8"),
        _b(5_000_000, "0.7"),
        _b(10_000_000, "0.6"),
        _b(20_000_000, "0.5"),
    ),
    citation=Citation(source=f"{_ORDER} art. 13(1)", confidence=Confidence.KNOWN),
)

ENFORCEMENT = Schedule(
    name="enforcement application fee",
    base=Decimal(50),
    brackets=(
        _b(10_000, "1.5"),
        _b(500_000, "1"),
        _b(5_000_000, "0.5"),
        _b(10_000_000, "0.1"),
    ),
    citation=Citation(source=f"{_ORDER} art. 14(1)", confidence=Confidence.KNOWN),
)

PRESERVATION = Schedule(
    name="preservation application fee",
    base=Decimal(30),
    brackets=(_b(1_000, "1"), _b(100_000, "0.5")),
    cap=Decimal(5000),
    citation=Citation(source=f"{_ORDER} art. 14(2)", confidence=Confidence.KNOWN),
)


class Procedure(enum.Enum):
    """How a property case is heard or ends (for the acceptance fee)."""

    ORDINARY = "ordinary"
    SUMMARY = "summary"  # 简易程序: half (art. 16)
    SMALL_CLAIM = "small_claim"  # 小额诉讼 uses the summary procedure: half (art. 16)
    MEDIATED = "mediated"  # 调解结案: half (art. 15)
    WITHDRAWN = "withdrawn"  # 撤诉: half (art. 15)
    PAYMENT_ORDER = "payment_order"  # 支付令: one third (art. 14(3))


# (numerator, denominator, article): the share of the full fee each procedure pays.
_FACTOR: dict[Procedure, tuple[int, int, str]] = {
    Procedure.ORDINARY: (1, 1, "art. 13(1)"),
    Procedure.SUMMARY: (1, 2, "art. 16"),
    Procedure.SMALL_CLAIM: (1, 2, "art. 16"),
    Procedure.MEDIATED: (1, 2, "art. 15"),
    Procedure.WITHDRAWN: (1, 2, "art. 15"),
    Procedure.PAYMENT_ORDER: (1, 3, "art. 14(3)"),
}


@attrs.frozen(kw_only=True)
class FeeQuote:
    """A fee and the sources it rests on."""

    fee: Money
    what: str
    citations: tuple[Citation, ...]


def _claim(amount: Money) -> Decimal:
    if amount.currency != "CNY":
        raise ValidationError("fee.amount", amount.currency, "PRC court fees are in CNY")
    if amount.is_negative():
        raise ValidationError("fee.amount", str(amount.amount), "must not be negative")
    return amount.amount


def filing_fee(amount: Money, procedure: Procedure = Procedure.ORDINARY) -> FeeQuote:
    """The acceptance fee of a property case claiming ``amount`` (CNY), heard or ended
    under ``procedure``, to the cent (exact brackets, then the halving or third, then
    one rounding half up)."""
    numerator, denominator, article = _FACTOR[procedure]
    exact = PROPERTY_CASE.exact(_claim(amount)) * numerator / denominator
    citations: tuple[Citation, ...] = (PROPERTY_CASE.citation,)
    if procedure is not Procedure.ORDINARY:
        citations += (Citation(source=f"{_ORDER} {article}", confidence=Confidence.KNOWN),)
    return FeeQuote(
        fee=Money.rounded(exact, "CNY", Rounding.HALF_UP),
        what=f"{PROPERTY_CASE.name} ({procedure.value})",
        citations=citations,
    )


def enforcement_fee(amount: Money) -> FeeQuote:
    """The enforcement application fee for ``amount`` (CNY) to be enforced.

    It is not prepaid: it is paid after enforcement and borne by the judgment debtor
    (art. 20, art. 38 [K]), so the ledger records it as recoverable."""
    exact = ENFORCEMENT.exact(_claim(amount))
    return FeeQuote(
        fee=Money.rounded(exact, "CNY", Rounding.HALF_UP),
        what=ENFORCEMENT.name,
        citations=(ENFORCEMENT.citation,),
    )


def preservation_fee(amount: Money) -> FeeQuote:
    """The property preservation application fee for ``amount`` (CNY), at most 5,000."""
    exact = PRESERVATION.exact(_claim(amount))
    return FeeQuote(
        fee=Money.rounded(exact, "CNY", Rounding.HALF_UP),
        what=PRESERVATION.name,
        citations=(PRESERVATION.citation,),
    )
