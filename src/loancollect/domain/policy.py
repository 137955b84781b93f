"""Stage policy: collection stages as data, and how a case moves between them.

Active stages are ordered by severity (``rank``); each has an entry
:class:`Condition`. Outcome stages (current, cured, in arrangement, settled,
written off, closed) are entered by facts, not thresholds. Evaluation:

1. terminal outcomes stay (settled, written off, closed);
2. settlement completed → settled; paid off → closed; flag ``written_off`` → written off;
3. an open arrangement that suspends escalation → in arrangement;
4. nothing overdue above the small-balance tolerance → cured (if the case was
   delinquent) or current / pre-delinquency;
5. otherwise the most severe active stage whose condition holds is the target.
   Escalation waits for the current stage's minimum stay (hysteresis); with
   ``catch_up="jump"`` the case goes straight to the target, with ``"step"`` one
   stage per evaluation, with ``"replay"`` straight to the target passing through
   every stage in between in order (their entry actions and markers included).
   A still-delinquent case never de-escalates: only a cure brings it back (so a
   partial payment that moves the oldest unpaid due date re-anchors the thresholds
   without skipping or re-entering stages).

Every threshold is inclusive: ``min_dpd=31`` holds from day 31.

Optional capabilities (each off unless configured; see docs/policy.md, "coming
from …"): conditions on the number of unpaid installments and on the last failed
payment's result; stage markers for the host; the ``enforcement_off`` hold that
keeps a case clear; credit-control levels (:class:`LevelDelay`); delinquency
ranges per installment; dunning types and notices; dunning campaigns.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from loancollect.domain.campaigns import Campaign
from loancollect.domain.credit_control import ComputationMode, LevelDelay
from loancollect.domain.delinquency import DelinquencyRange, check_ranges
from loancollect.domain.dunning import DunningType
from loancollect.domain.errors import ConfigurationError
from loancollect.domain.money import Money

__all__ = [
    "OUTCOME_STAGES",
    "CatchUp",
    "Condition",
    "Facts",
    "Stage",
    "StagePolicy",
    "Transition",
    "evaluate_stage",
]

CURRENT, CURED, IN_ARRANGEMENT, SETTLED, WRITTEN_OFF, CLOSED = (
    "current",
    "cured",
    "in_arrangement",
    "settled",
    "written_off",
    "closed",
)
OUTCOME_STAGES = (CURRENT, CURED, IN_ARRANGEMENT, SETTLED, WRITTEN_OFF, CLOSED)
TERMINAL_STAGES = frozenset({SETTLED, WRITTEN_OFF, CLOSED})


class CatchUp(enum.Enum):
    """What a late evaluation does when several thresholds were crossed."""

    JUMP = "jump"  # straight to the most severe matching stage
    STEP = "step"  # one stage per evaluation
    REPLAY = "replay"  # straight to the target, entering every stage in between in order


def _fs(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


def _ranges(value: Iterable[DelinquencyRange]) -> tuple[DelinquencyRange, ...]:
    return tuple(value)


def _dunning(value: Iterable[DunningType]) -> tuple[DunningType, ...]:
    return tuple(value)


def _campaigns(value: Iterable[Campaign]) -> tuple[Campaign, ...]:
    return tuple(value)


def _thresholds(value: Mapping[str, Money] | Iterable[Money]) -> tuple[Money, ...]:
    if isinstance(value, Mapping):
        return tuple(value.values())
    return tuple(value)


@attrs.frozen(kw_only=True)
class Condition:
    """Entry condition of a stage; every given part must hold (inclusive bounds).

    :param min_dpd: days past due (or delinquent days, per the policy) at least this.
    :param max_dpd: ... at most this.
    :param min_overdue: per-currency minimum overdue amount (principal + interest + fees).
    :param min_risk: risk score at least this.
    :param segments: the case's segment is one of these (empty: any).
    :param min_broken_promises: broken promises at least this.
    :param flags_all: flags the case must carry; ``flags_none``: flags it must not.
    :param due_within_days: pre-delinquency: not overdue and the next due date is
        within this many days.
    :param any_of: alternatives; at least one must hold as well.
    :param min_unpaid_installments: overdue installments at least this (Kill Bill's
        ``numberOfUnpaidInvoicesEqualsOrExceeds``).
    :param last_failed_payment: the last failed payment's result is one of these
        (Kill Bill's ``responseForLastFailedPayment``; empty: any).
    """

    min_dpd: int | None = None
    max_dpd: int | None = None
    min_overdue: tuple[Money, ...] = attrs.field(default=(), converter=_thresholds)
    min_risk: Decimal | None = None
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_fs)
    min_broken_promises: int | None = None
    flags_all: frozenset[str] = attrs.field(default=frozenset(), converter=_fs)
    flags_none: frozenset[str] = attrs.field(default=frozenset(), converter=_fs)
    due_within_days: int | None = None
    any_of: tuple[Condition, ...] = attrs.field(default=(), converter=_conditions)
    min_unpaid_installments: int | None = None
    last_failed_payment: frozenset[str] = attrs.field(default=frozenset(), converter=_fs)

    def holds(self, facts: Facts) -> bool:
        """True if every part holds for ``facts``."""
        d = facts.dpd
        if self.min_dpd is not None and d < self.min_dpd:
            return False
        if self.max_dpd is not None and d > self.max_dpd:
            return False
        for threshold in self.min_overdue:
            if threshold.currency == facts.overdue.currency and facts.overdue < threshold:
                return False
        if self.min_risk is not None and (facts.risk is None or facts.risk < self.min_risk):
            return False
        if self.segments and facts.segment not in self.segments:
            return False
        if (
            self.min_broken_promises is not None
            and facts.broken_promises < self.min_broken_promises
        ):
            return False
        if not self.flags_all <= facts.flags or self.flags_none & facts.flags:
            return False
        if self.due_within_days is not None:
            nd = facts.next_due_date
            if facts.dpd > 0 or nd is None or (nd - facts.as_of).days > self.due_within_days:
                return False
        if (
            self.min_unpaid_installments is not None
            and facts.unpaid_installments < self.min_unpaid_installments
        ):
            return False
        if self.last_failed_payment and facts.last_failed_payment not in self.last_failed_payment:
            return False
        return not self.any_of or any(c.holds(facts) for c in self.any_of)

    def counts_installments(self) -> bool:
        """True if this condition (or an alternative) looks at unpaid installments."""
        return self.min_unpaid_installments is not None or any(
            c.counts_installments() for c in self.any_of
        )

    def dpd_thresholds(self) -> set[int]:
        """Every DPD at which this condition may start to hold."""
        out = {self.min_dpd} if self.min_dpd is not None else set()
        if self.max_dpd is not None:
            out.add(self.max_dpd + 1)
        for c in self.any_of:
            out |= c.dpd_thresholds()
        return out


@attrs.frozen(kw_only=True)
class Stage:
    """A collection stage.

    :param rank: severity; higher ranks are more severe. Active stages only.
    :param min_stay_days: hysteresis: days in this stage before escalating further.
    :param contact: whether the strategy may contact the borrower in this stage.
    :param markers: marks for the host while the case is in this stage (Kill Bill's
        ``blockChanges``, ``AUTO_INVOICING_OFF`` …): set on entering, removed on
        leaving, each by an event.
    :param level: a credit-control level delay (OCA); see :mod:`credit_control`.
    """

    name: str
    rank: int
    entry: Condition = Condition()
    label: str = ""
    label_zh: str = ""
    min_stay_days: int = 0
    contact: bool = True
    markers: frozenset[str] = attrs.field(default=frozenset(), converter=_fs)
    level: LevelDelay | None = None

    def __attrs_post_init__(self) -> None:
        if self.name in OUTCOME_STAGES:
            raise ConfigurationError(f"stage name {self.name!r} is reserved for an outcome")
        if self.rank < 1:
            raise ConfigurationError(f"stage {self.name!r}: rank={self.rank} must be >= 1")
        if self.min_stay_days < 0:
            raise ConfigurationError(f"stage {self.name!r}: min_stay_days must be >= 0")


@attrs.frozen(kw_only=True)
class StagePolicy:
    """A set of active stages plus the rules of movement.

    :param use_delinquent_days: thresholds compare delinquent days (DPD minus grace
        and paused days) instead of DPD.
    :param small_balance: per-currency tolerance: an overdue amount at or below it
        counts as paid up for cure.
    :param cure_stage: where a paid-up delinquent case goes (``"cured"``).
    :param delinquency_ranges: Fineract-style ranges; the loan and each overdue
        installment are classified (events when a range changes).
    :param dunning_types: notices issued on entering their stages (ERPNext).
    :param campaigns: dunning campaigns (Lago), tried in order.
    :param refuse_backdated_runs: a decision dated before the case's previous one is
        refused (OCA's credit control run).
    """

    name: str
    stages: tuple[Stage, ...]
    catch_up: CatchUp = CatchUp.JUMP
    use_delinquent_days: bool = False
    small_balance: tuple[Money, ...] = attrs.field(default=(), converter=_thresholds)
    pre_delinquency_stage: str | None = None
    delinquency_ranges: tuple[DelinquencyRange, ...] = attrs.field(default=(), converter=_ranges)
    dunning_types: tuple[DunningType, ...] = attrs.field(default=(), converter=_dunning)
    campaigns: tuple[Campaign, ...] = attrs.field(default=(), converter=_campaigns)
    refuse_backdated_runs: bool = False
    # Derived once (the decision asks for each on every case): the active stages by
    # name, the credit-control levels, whether a condition counts unpaid installments.
    _by_name: dict[str, Stage] = attrs.field(init=False, repr=False, eq=False)
    _levels: tuple[Stage, ...] = attrs.field(init=False, repr=False, eq=False)
    _counts_installments: bool = attrs.field(init=False, repr=False, eq=False)
    _dpd_thresholds: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"policy {self.name!r}: duplicate stage names")
        ranks = [s.rank for s in self.stages]
        if len(set(ranks)) != len(ranks):
            raise ConfigurationError(f"policy {self.name!r}: two stages share a rank")
        if self.pre_delinquency_stage is not None and self.pre_delinquency_stage not in names:
            raise ConfigurationError(
                f"policy {self.name!r}: pre_delinquency_stage={self.pre_delinquency_stage!r} "
                "is not a stage"
            )
        object.__setattr__(self, "stages", tuple(sorted(self.stages, key=lambda s: s.rank)))
        object.__setattr__(self, "_by_name", {s.name: s for s in self.stages})
        object.__setattr__(self, "_levels", tuple(s for s in self.stages if s.level is not None))
        object.__setattr__(
            self, "_counts_installments", any(s.entry.counts_installments() for s in self.stages)
        )
        thresholds: set[int] = set()
        for s in self.stages:
            thresholds |= s.entry.dpd_thresholds()
        object.__setattr__(self, "_dpd_thresholds", tuple(sorted(thresholds)))
        check_ranges(self.delinquency_ranges)
        for d in self.dunning_types:
            if d.stage not in names:
                raise ConfigurationError(
                    f"policy {self.name!r}: dunning type {d.name!r} names unknown stage {d.stage!r}"
                )
        if len({d.stage for d in self.dunning_types}) != len(self.dunning_types):
            raise ConfigurationError(f"policy {self.name!r}: two dunning types share a stage")
        codes = [c.code for c in self.campaigns]
        if len(set(codes)) != len(codes):
            raise ConfigurationError(f"policy {self.name!r}: duplicate campaign codes")
        for c in self.campaigns:
            unknown = sorted(c.stages - set(names))
            if unknown:
                raise ConfigurationError(
                    f"policy {self.name!r}: campaign {c.code!r} names unknown stages {unknown}"
                )
        levels = self.levels()
        first = levels[0].level if levels else None
        if first is not None and first.mode is ComputationMode.PREVIOUS_DATE:
            raise ConfigurationError(
                f"policy {self.name!r}: the lowest level {levels[0].name!r} cannot be "
                "computed from a previous notice (previous_date)"
            )

    def levels(self) -> tuple[Stage, ...]:
        """The credit-control levels (stages with a level delay), lowest first."""
        return self._levels

    def dunning_type(self, stage: str) -> DunningType | None:
        """The dunning type whose notice is issued on entering ``stage``."""
        return next((d for d in self.dunning_types if d.stage == stage), None)

    def issues_notice(self, stage: str) -> bool:
        """True if entering ``stage`` issues a notice (a dunning type or a level)."""
        s = self.stage(stage)
        return self.dunning_type(stage) is not None or (s is not None and s.level is not None)

    def counts_installments(self) -> bool:
        """True if a condition looks at the number of unpaid installments."""
        return self._counts_installments

    def markers_of(self, stage: str) -> frozenset[str]:
        """The markers a case carries in ``stage`` (none for outcomes)."""
        s = self.stage(stage)
        return s.markers if s is not None else frozenset()

    def passed(self, previous: str, target: str) -> tuple[str, ...]:
        """The active stages strictly between ``previous`` and ``target``, in rank order
        (what ``catch_up="replay"`` enters on the way)."""
        lo, hi = self.rank(previous), self.rank(target)
        if previous == self.pre_delinquency_stage:
            lo = 0
        return tuple(
            s.name for s in self.stages if lo < s.rank < hi and s.name != self.pre_delinquency_stage
        )

    def level_open(self, stage: Stage, current: str, facts: Facts) -> bool:
        """A level's delay is reached and, above the lowest level, the case is at the
        level just below with that level's notice sent."""
        if stage.level is None:
            return True
        levels = self.levels()
        i = levels.index(stage)
        previous = levels[i - 1] if i else None
        prev_notice = facts.notice(previous.name) if previous is not None else None
        if previous is not None and (
            current != previous.name or prev_notice is None or not prev_notice[1]
        ):
            return False
        due = stage.level.due_on(facts.anchor, prev_notice[0] if prev_notice else None)
        return due is not None and facts.as_of >= due

    def level_dates(self, current: str, facts: Facts) -> tuple[dt.date, ...]:
        """Future days on which a level's delay is reached (for the next review)."""
        out = []
        for s in self.levels():
            assert s.level is not None
            levels = self.levels()
            i = levels.index(s)
            prev = facts.notice(levels[i - 1].name) if i else None
            due = s.level.due_on(facts.anchor, prev[0] if prev else None)
            if due is not None and due > facts.as_of:
                out.append(due)
        return tuple(out)

    def stage(self, name: str) -> Stage | None:
        """The active stage called ``name`` (``None`` for outcomes and unknown names)."""
        return self._by_name.get(name)

    def rank(self, name: str) -> int:
        """Rank of a stage; outcome stages rank 0."""
        s = self.stage(name)
        return s.rank if s is not None else 0

    def names(self) -> tuple[str, ...]:
        """Every stage name, active stages in rank order then outcomes."""
        return tuple(s.name for s in self.stages) + OUTCOME_STAGES

    def tolerance(self, currency: str) -> Money:
        """Small-balance tolerance for ``currency`` (zero if none is set)."""
        for m in self.small_balance:
            if m.currency == currency:
                return m
        return Money.zero(currency)

    def is_delinquent_stage(self, name: str) -> bool:
        """True for active stages other than pre-delinquency."""
        return self.stage(name) is not None and name != self.pre_delinquency_stage


@attrs.frozen(kw_only=True)
class Facts:
    """What stage evaluation looks at (built by the decision from the assessment and case)."""

    as_of: dt.date
    dpd: int
    overdue: Money
    risk: Decimal | None
    segment: str | None
    broken_promises: int
    flags: frozenset[str]
    next_due_date: dt.date | None
    paid_off: bool
    settled: bool
    suspended: bool
    anchor: dt.date | None = None
    dpd_offset: int = 0
    unpaid_installments: int = 0
    last_failed_payment: str | None = None
    enforcement_off: bool = False
    notices: tuple[tuple[str, dt.date, bool], ...] = ()

    def notice(self, stage: str) -> tuple[dt.date, bool] | None:
        """``(issued on, sent)`` of the latest notice of ``stage`` (``None``: none)."""
        for name, on, sent in reversed(self.notices):
            if name == stage:
                return on, sent
        return None


@attrs.frozen
class Transition:
    """A change of stage with its reason (recorded as an event)."""

    previous: str
    current: str
    on: dt.date
    reason: str


def evaluate_stage(
    policy: StagePolicy, stage: str, stage_since: dt.date | None, facts: Facts
) -> tuple[str, Transition | None, dt.date | None]:
    """The stage for ``facts``, the transition (if it changes), and a hysteresis date.

    The third value is the date the minimum stay ends when it is what holds
    escalation back (``None`` otherwise).
    """
    on = facts.as_of

    def move(to: str, reason: str) -> tuple[str, Transition | None, dt.date | None]:
        if to == stage:
            return stage, None, None
        return to, Transition(stage, to, on, reason), None

    if stage in TERMINAL_STAGES:
        return stage, None, None
    if facts.settled:
        return move(SETTLED, "settlement paid")
    if facts.paid_off:
        return move(CLOSED, "paid off")
    if "written_off" in facts.flags:
        return move(WRITTEN_OFF, "written off")
    if facts.enforcement_off:
        # Kill Bill's OVERDUE_ENFORCEMENT_OFF: the clear state while the tag is set.
        return move(CURRENT, "enforcement off")
    if facts.suspended:
        return move(IN_ARRANGEMENT, "arrangement suspends escalation")

    tolerance = policy.tolerance(facts.overdue.currency)
    if facts.dpd == 0 or facts.overdue <= tolerance:
        was_delinquent = policy.is_delinquent_stage(stage) or stage in (IN_ARRANGEMENT, CURED)
        pre = policy.stage(policy.pre_delinquency_stage) if policy.pre_delinquency_stage else None
        if pre is not None and pre.entry.holds(attrs.evolve(facts, dpd=0)):
            return move(pre.name, f"entry condition of {pre.name} holds")
        if was_delinquent:
            return move(CURED, "paid up" if stage != CURED else "")
        return move(CURRENT, "not overdue")

    matching = [
        s
        for s in policy.stages
        if s.name != policy.pre_delinquency_stage
        and s.entry.holds(facts)
        and (s.level is None or policy.level_open(s, stage, facts))
    ]
    current = policy.stage(stage)
    current_rank = (
        current.rank if current is not None and stage != policy.pre_delinquency_stage else 0
    )
    if not matching:
        if current_rank:
            return stage, None, None
        # Overdue but no stage matches yet (e.g. within a first threshold): keep as is.
        return stage, None, None
    target = matching[-1]
    if target.rank <= current_rank:
        return stage, None, None  # no de-escalation while still delinquent
    if current is not None and current_rank and stage_since is not None:
        stay_ends = stage_since + dt.timedelta(days=current.min_stay_days)
        if on < stay_ends:
            return stage, None, stay_ends
    if policy.catch_up is CatchUp.STEP:
        higher = [
            s
            for s in policy.stages
            if s.rank > current_rank and s.name != policy.pre_delinquency_stage
        ]
        target = higher[0]
        return move(
            target.name, f"escalated one step towards {matching[-1].name} (dpd {facts.dpd})"
        )
    return move(target.name, f"entry condition of {target.name} holds (dpd {facts.dpd})")


def next_threshold_date(policy: StagePolicy, facts: Facts) -> dt.date | None:
    """The first future date on which a DPD threshold of any stage is crossed.

    DPD grows by one a day from the current anchor; with delinquent days the
    offset (grace and pauses) is added.
    """
    if facts.anchor is None:
        return None
    thresholds = policy._dpd_thresholds  # every stage's, sorted, built with the policy
    i = bisect.bisect_right(thresholds, facts.dpd)
    if i == len(thresholds):
        return None
    return facts.anchor + dt.timedelta(days=thresholds[i] + facts.dpd_offset)


__all__ += [
    "CLOSED",
    "CURED",
    "CURRENT",
    "IN_ARRANGEMENT",
    "SETTLED",
    "WRITTEN_OFF",
    "next_threshold_date",
]
