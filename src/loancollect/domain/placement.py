"""Placement rules: which cases go to an outside agency, with which agency, until when.

A lender works a case with its own team first and places it outside when its own
collection has done what it can: by stage, days past due, balance and segment,
and by how many times the case was placed before (a first placement is
*primary*, a second *secondary*, a third *tertiary*). Among the agencies a rule
allows, one is drawn at random — seeded and deterministic, so a re-run places
the same case with the same agency, and the agencies receive comparable cases
(champion/challenger between agencies) whose results can be compared fairly.

A placement lasts a term; it is recalled at its end, or at once when the case
gets a dispute, a bankruptcy, a death, a hold of another kind, or a complaint.

Pure: the caller gives the case, its days past due and balance, and how many
times it was placed before; :func:`placement_for` and :func:`recall_reason` answer
with the command to apply (:class:`~loancollect.domain.commands.PlaceWithAgency`,
:class:`~loancollect.domain.commands.RecallFromAgency`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence

import attrs

from loancollect.domain.case import Case, HoldKind
from loancollect.domain.commands import PlaceWithAgency, RecallFromAgency
from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money

__all__ = [
    "COMPLAINT_FLAG",
    "TIERS",
    "PlacementFacts",
    "PlacementPolicy",
    "PlacementRule",
    "allocate",
    "placement_for",
    "recall_blocker",
    "recall_reason",
    "tier_for",
]

TIERS = ("primary", "secondary", "tertiary")
"""Placement tiers by how many times the case was placed before (0, 1, 2)."""

COMPLAINT_FLAG = "complaint"
"""Case flag: the borrower complained (``complaint`` or ``complaint:<reference>``);
a placed case is recalled while it stands."""

_RECALL_HOLDS = {
    HoldKind.DISPUTE: "dispute",
    HoldKind.BANKRUPTCY: "bankruptcy",
    HoldKind.DECEASED: "deceased",
    HoldKind.BREATHING_SPACE: "breathing space",
    HoldKind.LEGAL: "legal hold",
    HoldKind.MANUAL: "hold",
}


def tier_for(previous_placements: int) -> str:
    """The tier of a case placed ``previous_placements`` times before.

    :raises ValidationError: for a negative count or a fourth placement (no tier).
    """
    if previous_placements < 0:
        raise ValidationError("placement.previous", previous_placements, "must not be negative")
    if previous_placements >= len(TIERS):
        raise ValidationError(
            "placement.previous", previous_placements, f"at most {len(TIERS)} placements"
        )
    return TIERS[previous_placements]


def _agencies(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _stages(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen(kw_only=True)
class PlacementRule:
    """Cases this rule places, and the agencies it may place them with.

    A case matches when every condition set holds: its stage is one of
    ``stages`` (any when empty), its days past due and balance are within the
    bounds, its segment is one of ``segments`` (any when empty), and its tier
    (from its previous placements) is ``tier``.

    :param name: the rule's name (recorded as the placement's reason).
    :param agencies: the agencies drawn from; an agency that held the case before
        is left out (a second placement goes to someone new) unless none is left.
    :param term_days: how long the placement lasts.
    :param weights: optional relative weights per agency (same order), whole numbers.
    """

    name: str
    tier: str
    agencies: tuple[str, ...] = attrs.field(converter=_agencies)
    term_days: int
    stages: frozenset[str] = attrs.field(default=frozenset(), converter=_stages)
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_stages)
    min_dpd: int = 0
    max_dpd: int | None = None
    min_balance: Money | None = None
    max_balance: Money | None = None
    weights: tuple[int, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("placement_rule.name", self.name, "must not be empty")
        if self.tier not in TIERS:
            raise ValidationError("placement_rule.tier", self.tier, f"one of {', '.join(TIERS)}")
        if not self.agencies or any(not a.strip() for a in self.agencies):
            raise ValidationError("placement_rule.agencies", self.agencies, "name the agencies")
        if len(set(self.agencies)) != len(self.agencies):
            raise ValidationError("placement_rule.agencies", self.agencies, "named twice")
        if self.term_days <= 0:
            raise ValidationError("placement_rule.term_days", self.term_days, "must be positive")
        if self.max_dpd is not None and self.max_dpd < self.min_dpd:
            raise ValidationError("placement_rule.max_dpd", self.max_dpd, "below min_dpd")
        if self.weights and (
            len(self.weights) != len(self.agencies) or any(w <= 0 for w in self.weights)
        ):
            raise ValidationError(
                "placement_rule.weights", self.weights, "one positive weight per agency"
            )

    def matches(self, facts: PlacementFacts) -> bool:
        """True if the case described by ``facts`` falls under this rule."""
        if self.stages and facts.stage not in self.stages:
            return False
        if self.segments and (facts.segment or "") not in self.segments:
            return False
        if facts.dpd < self.min_dpd or (self.max_dpd is not None and facts.dpd > self.max_dpd):
            return False
        if self.min_balance is not None and facts.balance < self.min_balance:
            return False
        if self.max_balance is not None and facts.balance > self.max_balance:
            return False
        return len(facts.previous_agencies) < len(TIERS) and self.tier == tier_for(
            len(facts.previous_agencies)
        )


@attrs.frozen(kw_only=True)
class PlacementFacts:
    """What the placement rules look at, for one case on one day.

    :param balance: what the borrower owes (the outstanding balance), in the loan's currency.
    :param previous_agencies: the agencies the case was placed with before, oldest first.
    """

    stage: str
    segment: str | None
    dpd: int
    balance: Money
    previous_agencies: tuple[str, ...] = ()


def _rules(value: Iterable[PlacementRule]) -> tuple[PlacementRule, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class PlacementPolicy:
    """The lender's placement rules, tried in order (the first match places).

    :param seed: the allocation's seed: the same seed, case and day give the same agency.
    :param recall_on_complaint: recall a placed case when it has a complaint flag.
    """

    rules: tuple[PlacementRule, ...] = attrs.field(converter=_rules)
    seed: int = 0
    recall_on_complaint: bool = True

    def __attrs_post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValidationError("placement_policy.rules", names, "rule names must be unique")


def allocate(
    loan_id: str,
    agencies: Sequence[str],
    *,
    seed: int,
    salt: str = "",
    weights: Sequence[int] = (),
) -> str:
    """One of ``agencies``, drawn for ``loan_id`` — random across cases, fixed per case.

    The draw hashes (seed, salt, loan id) with SHA-256, so it does not depend on
    the order cases are seen in, on the process, or on Python's hash seed: the
    same inputs always give the same agency, and over many cases each agency
    receives its weight's share.

    :raises ValidationError: when no agency is given.
    """
    if not agencies:
        raise ValidationError("placement.agencies", (), "no agency to allocate to")
    shares = list(weights) if weights else [1] * len(agencies)
    digest = hashlib.sha256(f"{seed}\x1f{salt}\x1f{loan_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(shares)
    for agency, share in zip(agencies, shares, strict=True):
        if point < share:
            return agency
        point -= share
    raise AssertionError("unreachable: the point falls within the shares")


def placement_for(
    case: Case, facts: PlacementFacts, policy: PlacementPolicy, *, on: dt.date
) -> PlaceWithAgency | None:
    """The placement to make for ``case`` on ``on``, or ``None``.

    Nothing is placed for a case already placed, sold, closed, charged off and
    written off by the rules' choice elsewhere, or under a hold or complaint (it
    would be recalled at once).
    """
    if case.placement is not None or case.sale is not None or case.closed_on is not None:
        return None
    if recall_blocker(case, on, policy) is not None:
        return None
    for rule in policy.rules:
        if not rule.matches(facts):
            continue
        fresh = [a for a in rule.agencies if a not in facts.previous_agencies]
        pool = fresh or list(rule.agencies)
        weights = [rule.weights[rule.agencies.index(a)] for a in pool] if rule.weights else []
        agency = allocate(case.loan_id, pool, seed=policy.seed, salt=rule.tier, weights=weights)
        number = len(facts.previous_agencies) + 1
        return PlaceWithAgency(
            agency=agency,
            placement=f"{case.loan_id}/P{number}",
            tier=rule.tier,
            until=on + dt.timedelta(days=rule.term_days),
            reason=rule.name,
        )
    return None


def recall_blocker(case: Case, on: dt.date, policy: PlacementPolicy) -> str | None:
    """Why a case may not stay (or be) with an agency on ``on``: a hold or a complaint."""
    for hold in case.active_holds(on):
        return _RECALL_HOLDS[hold.kind]
    if policy.recall_on_complaint and any(
        f == COMPLAINT_FLAG or f.startswith(COMPLAINT_FLAG + ":") for f in case.flags
    ):
        return "complaint"
    return None


def recall_reason(case: Case, on: dt.date, policy: PlacementPolicy) -> RecallFromAgency | None:
    """The recall due for a placed case on ``on``, or ``None`` (it stays placed).

    Recalled on a dispute, bankruptcy, death or any other hold, on a complaint, when
    the case closed, and on the day after its term ends.
    """
    placed = case.placement
    if placed is None:
        return None
    reason = recall_blocker(case, on, policy)
    if reason is None and case.closed_on is not None:
        reason = "case closed"
    if reason is None and placed.until is not None and on > placed.until:
        reason = "end of term"
    if reason is None:
        return None
    return RecallFromAgency(agency=placed.agency, reason=reason)
