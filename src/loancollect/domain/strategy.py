"""Strategies: which actions and offers a case gets, by stage and segment.

A :class:`Strategy` is a list of :class:`ActionRule` (channel, template, tone and
cadence for a stage and segments) and :class:`OfferRule` (which arrangements may
be offered). An :class:`Experiment` splits cases between strategy variants
(champion/challenger) by a stable hash of the loan id, so a case always gets the
same variant.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable

import attrs

from loancollect.domain.arrangements import ArrangementKind
from loancollect.domain.case import Case
from loancollect.domain.errors import ConfigurationError
from loancollect.domain.loans import ContactKind, ContactPoint, Loan, PartyKind
from loancollect.domain.money import Money
from loancollect.domain.overdue import Assessment

__all__ = [
    "CHANNEL_CONTACT",
    "ActionRule",
    "Experiment",
    "Offer",
    "OfferRule",
    "PlannedAction",
    "Strategy",
    "Tone",
    "Variant",
    "idempotency_key",
    "is_entry_rule",
    "plan_actions",
    "single_action",
]


class Tone(enum.Enum):
    """How firm a message is."""

    REMINDER = "reminder"
    FIRM = "firm"
    FINAL_NOTICE = "final_notice"
    LEGAL_WARNING = "legal_warning"


CHANNEL_CONTACT: dict[str, ContactKind | None] = {
    "sms": ContactKind.PHONE,
    "phone": ContactKind.PHONE,
    "email": ContactKind.EMAIL,
    "letter": ContactKind.ADDRESS,
    "visit": ContactKind.ADDRESS,
    "legal": None,
}
"""The contact point each built-in channel needs (``None``: none). Other channels
need none unless registered with a contact kind."""


def _frozen_strings(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ActionRule:
    """One kind of action a strategy takes.

    Cadence, checked in this order:

    - ``days_before_due``: a reminder this many days before each due date
      (pre-delinquency), once per due date;
    - ``on_dpd``: once, when days past due reach this day of the current delinquency;
    - ``every_days``: repeatedly while the case stays in the stage;
    - none of these: once each time the case enters the stage.

    :param segments: segments the rule applies to (empty: all).
    :param min_broken_promises: e.g. "visit after 2 broken promises".
    :param fallbacks: channels to use, in order, when the borrower has no contact
        point for ``channel``.
    """

    id: str
    stage: str
    channel: str
    template: str
    tone: Tone = Tone.REMINDER
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strings)
    party: PartyKind | None = None
    every_days: int | None = None
    on_dpd: int | None = None
    days_before_due: int | None = None
    min_dpd: int | None = None
    max_dpd: int | None = None
    min_broken_promises: int = 0
    fallbacks: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    def __attrs_post_init__(self) -> None:
        set_cadences = [
            x for x in (self.every_days, self.on_dpd, self.days_before_due) if x is not None
        ]
        if len(set_cadences) > 1:
            raise ConfigurationError(
                f"action {self.id!r}: choose one of every_days, on_dpd, days_before_due"
            )
        if self.every_days is not None and self.every_days < 1:
            raise ConfigurationError(
                f"action {self.id!r}: every_days={self.every_days} must be >= 1"
            )
        if self.on_dpd is not None and self.on_dpd < 1:
            raise ConfigurationError(f"action {self.id!r}: on_dpd={self.on_dpd} must be >= 1")
        if self.days_before_due is not None and self.days_before_due < 1:
            raise ConfigurationError(
                f"action {self.id!r}: days_before_due={self.days_before_due} must be >= 1"
            )

    def applies(
        self, stage: str, segment: str | None, kind: PartyKind, dpd: int, broken: int
    ) -> bool:
        """True if the rule's stage, segment, party, DPD and promise conditions hold."""
        return (
            stage == self.stage
            and (not self.segments or segment in self.segments)
            and (self.party is None or self.party is kind)
            and (self.min_dpd is None or dpd >= self.min_dpd)
            and (self.max_dpd is None or dpd <= self.max_dpd)
            and broken >= self.min_broken_promises
        )


@attrs.frozen(kw_only=True)
class OfferRule:
    """An arrangement that may be offered in a stage to some segments.

    :param max_installments: for installment plans.
    :param min_down_fraction: smallest down payment, as a share of the amount due.
    :param waiver_fraction: share of penalty and compound interest that may be waived.
    :param settlement_fraction: share of the payoff accepted as a settlement.
    :param valid_days: how long the offer stands.
    """

    id: str
    stage: str
    kind: ArrangementKind
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strings)
    max_installments: int | None = None
    min_down_fraction: str = "0"
    waiver_fraction: str = "0"
    settlement_fraction: str = "1"
    grace_days: int | None = None
    valid_days: int = 7


@attrs.frozen(kw_only=True)
class Strategy:
    """A named set of action and offer rules."""

    name: str
    actions: tuple[ActionRule, ...] = ()
    offers: tuple[OfferRule, ...] = ()

    def __attrs_post_init__(self) -> None:
        ids = [a.id for a in self.actions] + [o.id for o in self.offers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ConfigurationError(f"strategy {self.name!r}: duplicate rule ids {dupes}")


@attrs.frozen
class Variant:
    """A strategy variant and its share of the cases."""

    name: str
    strategy: Strategy
    share: int

    def __attrs_post_init__(self) -> None:
        if self.share < 0:
            raise ConfigurationError(f"variant {self.name!r}: share={self.share} must be >= 0")


@attrs.frozen
class Experiment:
    """Champion/challenger: cases split between variants by share.

    Assignment hashes ``"{experiment}:{loan_id}"`` with SHA-256, so it is
    stable across runs, processes and machines.
    """

    name: str
    variants: tuple[Variant, ...]

    def __attrs_post_init__(self) -> None:
        if not self.variants or sum(v.share for v in self.variants) <= 0:
            raise ConfigurationError(
                f"experiment {self.name!r}: needs variants with positive shares"
            )
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"experiment {self.name!r}: duplicate variant names")

    @classmethod
    def single(cls, strategy: Strategy) -> Experiment:
        """An experiment with one variant: everyone gets ``strategy``."""
        return cls(strategy.name, (Variant(strategy.name, strategy, 1),))

    def assign(self, loan_id: str) -> Variant:
        """The variant of ``loan_id``."""
        if len(self.variants) == 1:
            return self.variants[0]  # whatever the hash, the one variant (its share is > 0)
        total = sum(v.share for v in self.variants)
        digest = hashlib.sha256(f"{self.name}:{loan_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % total
        for v in self.variants:
            if point < v.share:
                return v
            point -= v.share
        raise AssertionError("unreachable: point is below the total share")  # pragma: no cover

    def variant(self, name: str | None) -> Variant | None:
        """The variant called ``name``, if any."""
        return next((v for v in self.variants if v.name == name), None)


@attrs.frozen(kw_only=True)
class PlannedAction:
    """An action decided for a case: what to send, through which channel, to whom.

    :param idempotency_key: deterministic from (loan, rule, as-of day); channels use
        it to refuse duplicates.
    :param contact: the contact point to use (``None`` for channels that need none).
    :param fallbacks: channels to try, in order, if this one fails permanently.
    """

    loan_id: str
    rule_id: str
    stage: str
    channel: str
    template: str
    tone: Tone
    as_of: dt.date
    locale: str
    idempotency_key: str
    contact: ContactPoint | None = None
    fallbacks: tuple[str, ...] = ()
    variant: str | None = None
    segment: str | None = None


@attrs.frozen(kw_only=True)
class Offer:
    """An arrangement the case may be offered, with its bounds, valid until a date."""

    rule_id: str
    kind: ArrangementKind
    loan_id: str
    valid_until: dt.date
    amount_due: Money
    max_installments: int | None = None
    min_down_payment: Money | None = None
    max_waiver: Money | None = None
    settlement_amount: Money | None = None
    grace_days: int | None = None


def idempotency_key(loan_id: str, rule_id: str, as_of: dt.date) -> str:
    """``"<loan>:<rule>:<YYYY-MM-DD>"``: the same action on the same day has one key."""
    return f"{loan_id}:{rule_id}:{as_of.isoformat()}"


def _contact_for(
    loan: Loan, channel: str, channels: dict[str, ContactKind | None]
) -> tuple[bool, ContactPoint | None]:
    if channel not in channels:
        return True, None
    kind = channels[channel]
    if kind is None:
        return True, None
    points = loan.borrower.contacts(kind)
    return (True, points[0]) if points else (False, None)


def _due(
    rule: ActionRule, case: Case, assessment: Assessment, as_of: dt.date
) -> tuple[bool, dt.date | None]:
    """Whether ``rule`` fires today, and the next date its cadence could fire."""
    last = case.last_action(rule.id)
    if rule.days_before_due is not None:
        nxt = assessment.next_due_date
        if assessment.due_today.is_positive():
            nxt = as_of  # a due date today: the reminder window closed
        if nxt is None or nxt <= as_of:
            return False, None
        start = nxt - dt.timedelta(days=rule.days_before_due)
        if as_of >= start:
            return (last is None or last < start), None
        return False, start
    if rule.on_dpd is not None:
        anchor = assessment.oldest_unpaid_due_date
        if anchor is None:
            return False, None
        fire_on = anchor + dt.timedelta(days=rule.on_dpd)
        if as_of >= fire_on:
            return (last is None or last < fire_on), None
        return False, fire_on
    entered = case.stage_since or as_of
    if rule.every_days is not None:
        if last is None or last < entered:
            return True, as_of + dt.timedelta(days=rule.every_days)
        nxt_day = last + dt.timedelta(days=rule.every_days)
        return as_of >= nxt_day, (
            nxt_day if as_of < nxt_day else as_of + dt.timedelta(days=rule.every_days)
        )
    return (last is None or last < entered), None


def is_entry_rule(rule: ActionRule) -> bool:
    """True for a rule that fires once on entering its stage (no cadence)."""
    return rule.every_days is None and rule.on_dpd is None and rule.days_before_due is None


def single_action(
    *,
    loan: Loan,
    rule_id: str,
    stage: str,
    channel: str,
    template: str,
    tone: Tone,
    as_of: dt.date,
    variant: str | None = None,
    segment: str | None = None,
    channels: dict[str, ContactKind | None] | None = None,
) -> PlannedAction | None:
    """One action outside the strategy's rules (a campaign attempt); ``None`` when the
    borrower has no contact point for ``channel``."""
    chan = CHANNEL_CONTACT if channels is None else {**CHANNEL_CONTACT, **channels}
    ok, contact = _contact_for(loan, channel, chan)
    if not ok:
        return None
    return PlannedAction(
        loan_id=loan.id,
        rule_id=rule_id,
        stage=stage,
        channel=channel,
        template=template,
        tone=tone,
        as_of=as_of,
        locale=loan.borrower.locale,
        idempotency_key=idempotency_key(loan.id, rule_id, as_of),
        contact=contact,
        variant=variant,
        segment=segment,
    )


def plan_actions(
    strategy: Strategy,
    *,
    loan: Loan,
    case: Case,
    assessment: Assessment,
    stage: str,
    segment: str | None,
    as_of: dt.date,
    variant: str | None = None,
    channels: dict[str, ContactKind | None] | None = None,
) -> tuple[tuple[PlannedAction, ...], dt.date | None, tuple[str, ...]]:
    """Actions that fire today, the next date a cadence could fire, and skipped rules.

    ``case.stage``/``stage_since`` must already reflect ``stage`` (the decision
    passes the updated case). A rule whose channel (and every fallback) lacks a
    contact point is skipped and reported as ``"<rule id>: no contact point"``.
    """
    chan = CHANNEL_CONTACT if channels is None else {**CHANNEL_CONTACT, **channels}
    actions = []
    skipped = []
    next_dates = []
    kind = loan.borrower.kind
    broken = case.broken_promises
    for rule in strategy.actions:
        if not rule.applies(stage, segment, kind, assessment.dpd, broken):
            if rule.stage == stage and rule.min_dpd is not None and assessment.dpd < rule.min_dpd:
                anchor = assessment.oldest_unpaid_due_date
                if anchor is not None:
                    next_dates.append(anchor + dt.timedelta(days=rule.min_dpd))
            continue
        fire, nxt = _due(rule, case, assessment, as_of)
        if nxt is not None:
            next_dates.append(nxt)
        if not fire:
            continue
        chosen: tuple[str, ContactPoint | None] | None = None
        for channel in (rule.channel, *rule.fallbacks):
            ok, contact = _contact_for(loan, channel, chan)
            if ok:
                chosen = (channel, contact)
                break
        if chosen is None:
            skipped.append(f"{rule.id}: no contact point")
            continue
        channel, contact = chosen
        ladder = (rule.channel, *rule.fallbacks)
        later = ladder[ladder.index(channel) + 1 :]
        actions.append(
            PlannedAction(
                loan_id=loan.id,
                rule_id=rule.id,
                stage=stage,
                channel=channel,
                template=rule.template,
                tone=rule.tone,
                as_of=as_of,
                locale=loan.borrower.locale,
                idempotency_key=idempotency_key(loan.id, rule.id, as_of),
                contact=contact,
                fallbacks=later,
                variant=variant,
                segment=segment,
            )
        )
    future = [d for d in next_dates if d > as_of]
    return tuple(actions), (min(future) if future else None), tuple(skipped)
