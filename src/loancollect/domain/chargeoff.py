"""Charge-off rules: when the lender takes a debt off its books, and for how much.

A charge-off is an accounting event: the lender recognises the loss at a
threshold it sets, with a reason, for the balance outstanding on that day.
Common thresholds are the US Uniform Retail Credit Classification and Account
Management Policy (FFIEC, 2000): closed-end retail loans charged off at 120 days
past due, open-end at 180; bankruptcy and death within 60 days of notice. PRC
lenders write a bad debt off (呆账核销) when its conditions are met — the
borrower declared bankrupt or dead and the estate exhausted, or long past due
with collection exhausted (《金融企业呆账核销管理办法》) — and keep collecting
after the write-off (账销案存): payments after it are recoveries.

Pure: :func:`charge_off_for` gives the command to apply (or ``None``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from loancollect.domain.case import Case, HoldKind
from loancollect.domain.commands import ChargeOffDebt, WriteOffDebt
from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money

__all__ = [
    "PRC_BAD_DEBT",
    "US_UNIFORM_RETAIL",
    "ChargeOffPolicy",
    "ChargeOffRule",
    "charge_off_for",
]


def _holds(value: Iterable[HoldKind]) -> frozenset[HoldKind]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class ChargeOffRule:
    """Charge off (or write off) a debt at ``min_dpd`` days past due.

    :param reason: recorded with the charge-off (the policy and threshold).
    :param min_dpd: the threshold in days past due.
    :param holds: if set, the rule applies only while one of these holds has been
        active for ``hold_days`` days (bankruptcy, death).
    :param write_off: write the debt off (not only charge it off).
    """

    reason: str
    min_dpd: int
    holds: frozenset[HoldKind] = attrs.field(default=frozenset(), converter=_holds)
    hold_days: int = 0
    write_off: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.reason.strip():
            raise ValidationError("charge_off_rule.reason", self.reason, "must not be empty")
        if self.min_dpd < 0 or self.hold_days < 0:
            raise ValidationError("charge_off_rule.min_dpd", self.min_dpd, "must not be negative")

    def applies(self, case: Case, dpd: int, on: dt.date) -> bool:
        """True if the rule charges ``case`` off on ``on`` at ``dpd`` days past due."""
        if dpd < self.min_dpd:
            return False
        if not self.holds:
            return True
        return any(
            h.kind in self.holds and (on - h.start).days >= self.hold_days
            for h in case.active_holds(on)
        )


def _rules(value: Iterable[ChargeOffRule]) -> tuple[ChargeOffRule, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ChargeOffPolicy:
    """The lender's charge-off rules, tried in order (the first that applies wins)."""

    rules: tuple[ChargeOffRule, ...] = attrs.field(converter=_rules)


US_UNIFORM_RETAIL = ChargeOffPolicy(
    rules=(
        ChargeOffRule(
            reason="bankruptcy notice + 60 days (UCRC)",
            min_dpd=0,
            holds={HoldKind.BANKRUPTCY},
            hold_days=60,
        ),
        ChargeOffRule(
            reason="deceased notice + 60 days (UCRC)",
            min_dpd=0,
            holds={HoldKind.DECEASED},
            hold_days=60,
        ),
        ChargeOffRule(reason="120 days past due, closed-end (UCRC)", min_dpd=120),
    )
)
"""The US uniform retail classification policy for closed-end loans (120 DPD)."""

PRC_BAD_DEBT = ChargeOffPolicy(
    rules=(
        ChargeOffRule(
            reason="borrower bankrupt, estate exhausted (呆账核销)",
            min_dpd=1,
            holds={HoldKind.BANKRUPTCY},
            hold_days=0,
            write_off=True,
        ),
        ChargeOffRule(
            reason="borrower deceased, estate exhausted (呆账核销)",
            min_dpd=1,
            holds={HoldKind.DECEASED},
            hold_days=0,
            write_off=True,
        ),
        ChargeOffRule(reason="180 days past due, collection exhausted (呆账核销)", min_dpd=180),
    )
)
"""PRC bad-debt conditions: written off on bankruptcy or death, charged off at 180 DPD."""


def charge_off_for(
    case: Case, *, dpd: int, balance: Money, policy: ChargeOffPolicy, on: dt.date
) -> ChargeOffDebt | WriteOffDebt | None:
    """The charge-off due for ``case`` on ``on`` at ``dpd`` days past due, or ``None``.

    A debt already charged off, sold, or with nothing outstanding is left alone.
    """
    if case.charge_off is not None or case.sale is not None or not balance.is_positive():
        return None
    for rule in policy.rules:
        if rule.applies(case, dpd, on):
            if rule.write_off:
                return WriteOffDebt(amount=balance, reason=rule.reason)
            return ChargeOffDebt(amount=balance, reason=rule.reason)
    return None
