"""Dunning notices (ERPNext's Dunning and Dunning Type; OCA's credit control lines).

A :class:`DunningType` is attached to a stage: on entering the stage the case is
issued a :class:`Notice` carrying the overdue amount, the interest for the days
overdue, the fee, the dunning amount (interest + fee) and the grand total
(overdue + dunning amount), and the letter text in the borrower's language.
ERPNext's formula, per overdue installment (its overdue payment rows)::

    interest = outstanding × rate_of_interest / 100 × days overdue / 365

A fee is charged in the loan's currency. A fee written in another currency is
converted through a :class:`RateSource` the host provides, and the rate used is
recorded on the notice; with no rate source (or no rate) the decision fails with
a :class:`ConfigurationError` rather than charge a wrong amount. The core never
looks a rate up itself.

A notice is ``pending`` when issued, ``sent`` when the host reports it went out,
``resolved`` when the payments since it was issued cover its grand total,
``cancelled`` (reversed) on request, and ``superseded`` when a higher level's
notice is issued while it is still pending (OCA).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol

import attrs

from loancollect.domain.allocation import Component
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.money import Money, Rounding
from loancollect.domain.overdue import Assessment

__all__ = [
    "CreditNote",
    "DunningType",
    "LetterText",
    "Notice",
    "NoticeStatus",
    "RateSource",
    "issue_notice",
]


class RateSource(Protocol):
    """Exchange rates the host provides (the core never reads the network)."""

    def rate(self, source: str, target: str, on: dt.date) -> Decimal | None:
        """Units of ``target`` per unit of ``source`` on ``on``, or ``None`` if unknown."""
        ...


@attrs.frozen(kw_only=True)
class LetterText:
    """The letter text of a dunning type in one language (ERPNext's Dunning Letter Text)."""

    language: str
    body: str
    closing: str = ""


def _texts(value: Iterable[LetterText]) -> tuple[LetterText, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class DunningType:
    """What a notice of ``stage`` charges and says.

    :param fee: the dunning fee (``None``: none); in another currency than the
        loan's it needs a rate source.
    :param rate_of_interest: yearly interest on the overdue amount, in percent.
    :param texts: the letter text per language.
    """

    name: str
    stage: str
    fee: Money | None = None
    rate_of_interest: Decimal = Decimal(0)
    texts: tuple[LetterText, ...] = attrs.field(default=(), converter=_texts)

    def __attrs_post_init__(self) -> None:
        if self.rate_of_interest < 0:
            raise ConfigurationError(
                f"dunning type {self.name!r}: rate_of_interest={self.rate_of_interest} must be >= 0"
            )
        if self.fee is not None and self.fee.is_negative():
            raise ConfigurationError(f"dunning type {self.name!r}: fee must not be negative")
        langs = [t.language for t in self.texts]
        if len(set(langs)) != len(langs):
            raise ConfigurationError(f"dunning type {self.name!r}: two texts share a language")

    def text_for(self, locale: str) -> LetterText | None:
        """The text in ``locale`` (``zh_CN``), else in its language (``zh``), else none."""
        lang = locale.split("_")[0].split("-")[0]
        for wanted in (locale, lang):
            for t in self.texts:
                if t.language == wanted:
                    return t
        return None


class NoticeStatus(enum.Enum):
    """Where a notice is in its life."""

    PENDING = "pending"
    SENT = "sent"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"

    @property
    def is_open(self) -> bool:
        """Pending or sent: neither paid, cancelled nor superseded."""
        return self in (NoticeStatus.PENDING, NoticeStatus.SENT)


@attrs.frozen(kw_only=True)
class Notice:
    """A dunning notice issued to the case on entering ``stage``.

    :param fee_rate: the exchange rate used for a fee in another currency (``None``: none).
    :param fee_source: the fee as configured, before conversion (``None``: no fee).
    """

    id: str
    stage: str
    dunning_type: str
    issued_on: dt.date
    overdue: Money
    interest: Money
    fee: Money
    language: str = ""
    text: str = ""
    status: NoticeStatus = NoticeStatus.PENDING
    status_on: dt.date | None = None
    fee_source: Money | None = None
    fee_rate: Decimal | None = None

    @property
    def dunning_amount(self) -> Money:
        """Interest + fee (what the notice adds to the overdue amount)."""
        return self.interest + self.fee

    @property
    def grand_total(self) -> Money:
        """Overdue + dunning amount: what the notice asks for."""
        return self.overdue + self.dunning_amount

    def with_status(self, status: NoticeStatus, on: dt.date) -> Notice:
        """A copy in ``status`` from ``on``."""
        return attrs.evolve(self, status=status, status_on=on)


@attrs.frozen(kw_only=True)
class CreditNote:
    """A credit note: it reduces what is owed (and so what is dunned) from ``on``."""

    id: str
    amount: Money
    on: dt.date
    component: Component = Component.PRINCIPAL
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.id.strip():
            raise ValidationError("credit_note.id", self.id, "must not be empty")
        if not self.amount.is_positive():
            raise ValidationError("credit_note.amount", str(self.amount.amount), "must be positive")


def _interest(assessment: Assessment, rate: Decimal) -> Money:
    cur = assessment.currency
    total = Money.zero(cur)
    if not rate:
        return total
    for inst in assessment.installments:
        if not inst.is_overdue:
            continue
        days = (assessment.as_of - inst.due_date).days
        outstanding = inst.principal + inst.interest + inst.fees
        total = total + outstanding.multiply(rate * days / Decimal(36500), Rounding.HALF_UP)
    return total


def _fee(
    dtype: DunningType, currency: str, on: dt.date, rates: RateSource | None
) -> tuple[Money, Money | None, Decimal | None]:
    fee = dtype.fee
    if fee is None:
        return Money.zero(currency), None, None
    if fee.currency == currency:
        return fee, fee, None
    if rates is None:
        raise ConfigurationError(
            f"dunning type {dtype.name!r}: fee {fee} is not in the loan's currency {currency} "
            "and no rate source is configured to convert it"
        )
    rate = rates.rate(fee.currency, currency, on)
    if rate is None or rate <= 0:
        raise ConfigurationError(
            f"dunning type {dtype.name!r}: the rate source has no {fee.currency}->{currency} "
            f"rate for {on.isoformat()} (got {rate!r})"
        )
    return _convert(fee, currency, rate), fee, rate


def _convert(fee: Money, currency: str, rate: Decimal) -> Money:
    """``fee`` × ``rate`` in ``currency``, rounded half-up to its minor unit."""
    one = Money("1", currency)
    return one.multiply(fee.amount * rate, Rounding.HALF_UP)


def issue_notice(
    dtype: DunningType,
    *,
    notice_id: str,
    assessment: Assessment,
    locale: str,
    rates: RateSource | None,
) -> Notice:
    """The notice of ``dtype`` for ``assessment`` (fee converted when it must be)."""
    cur = assessment.currency
    fee, source, rate = _fee(dtype, cur, assessment.as_of, rates)
    text = dtype.text_for(locale)
    return Notice(
        id=notice_id,
        stage=dtype.stage,
        dunning_type=dtype.name,
        issued_on=assessment.as_of,
        overdue=assessment.overdue_amount,
        interest=_interest(assessment, dtype.rate_of_interest),
        fee=fee,
        language=text.language if text is not None else "",
        text=text.body if text is not None else "",
        fee_source=source,
        fee_rate=rate,
    )


def paid_since(payments: Sequence[tuple[dt.date, Money]], day: dt.date, currency: str) -> Money:
    """The sum of payments dated ``day`` or later."""
    total = Money.zero(currency)
    for on, amount in payments:
        if on >= day:
            total = total + amount
    return total


__all__ += ["paid_since"]
