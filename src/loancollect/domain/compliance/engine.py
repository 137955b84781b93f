"""The compliance engine: one pure function, :func:`check`, returning a :class:`Verdict`.

Evaluation (RULES.md §0.6-0.7): every rule of every pack is evaluated at the
proposed instant and every failure is collected, in the catalog's order of
evaluation, for the audit trail. If any failure is a stop, the verdict is
``BLOCKED`` with no time. If only time-based rules fail, the engine searches
forward: each failing rule reports the earliest instant at which it alone could
pass; the latest of those is a lower bound for all rules together, so the engine
re-evaluates there and repeats. The first instant at which every rule passes is
the earliest allowed one (``RESCHEDULED``). Past the horizon the verdict is
``BLOCKED``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs
import pendulum

from loancollect.domain.compliance.base import (
    Confidence,
    Context,
    Finding,
    FindingKind,
    Rule,
)
from loancollect.domain.compliance.content import RateCap
from loancollect.domain.compliance.model import (
    BorrowerFacts,
    ContactEvent,
    DebtFacts,
    ProposedContact,
)
from loancollect.domain.compliance.pack import RulePack
from loancollect.domain.errors import ConfigurationError, ValidationError

__all__ = [
    "DEFAULT_HORIZON",
    "Outcome",
    "Reason",
    "Verdict",
    "check",
    "flatten_rules",
    "select_packs",
]

DEFAULT_HORIZON = dt.timedelta(days=30)
# Each search step moves strictly forward to a window opening or a counter expiry;
# this bounds the work even for a pathological rule set.
_MAX_STEPS = 2000

HORIZON_RULE_ID = "ENGINE-HORIZON"


class Outcome(enum.Enum):
    """The three verdicts."""

    ALLOWED = "allowed"
    BLOCKED = "blocked"
    RESCHEDULED = "rescheduled"


@attrs.frozen(kw_only=True)
class Reason:
    """Why a rule failed (or was overridden, or left a note), for the audit trail."""

    rule_id: str
    citation: str
    detail: str
    confidence: Confidence
    kind: FindingKind = FindingKind.STOP
    pack: str = ""


@attrs.frozen(kw_only=True)
class Verdict:
    """The engine's answer for one proposed contact.

    :param reasons: every rule that failed at the proposed instant.
    :param earliest: for ``RESCHEDULED``, the earliest instant (UTC) at which every
        rule passes; ``None`` otherwise.
    :param overridden: presumptions that failed but were rebutted by a recorded override.
    :param notes: non-blocking findings (e.g. a contract rate over the legal cap).
    """

    outcome: Outcome
    proposed_at: pendulum.DateTime
    reasons: tuple[Reason, ...] = ()
    earliest: pendulum.DateTime | None = None
    overridden: tuple[Reason, ...] = ()
    notes: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        """True for ``ALLOWED``."""
        return self.outcome is Outcome.ALLOWED

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Ids of the failing rules, in evaluation order."""
        return tuple(r.rule_id for r in self.reasons)


def flatten_rules(rules: RulePack | Rule | Iterable[RulePack | Rule]) -> list[tuple[str, Rule]]:
    """``(pack name, rule)`` pairs from packs and bare rules, in the order given."""
    items: Iterable[RulePack | Rule]
    items = [rules] if isinstance(rules, RulePack | Rule) else rules
    out: list[tuple[str, Rule]] = []
    for item in items:
        if isinstance(item, RulePack):
            out.extend((item.name, r) for r in item.rules)
        elif isinstance(item, Rule):
            out.append(("", item))
        else:
            raise ConfigurationError(f"expected a RulePack or Rule, got {item!r}")
    return out


def _reason(pack: str, rule: Rule, finding: Finding) -> Reason:
    return Reason(
        rule_id=rule.info.id,
        citation=rule.info.citation,
        detail=finding.detail,
        confidence=rule.info.confidence,
        kind=finding.kind,
        pack=pack,
    )


def _evaluate(
    ctx: Context, rules: list[tuple[str, Rule]], at: pendulum.DateTime
) -> tuple[list[tuple[Reason, Finding]], list[Reason]]:
    failed: list[tuple[Reason, Finding]] = []
    overridden: list[Reason] = []
    override = ctx.proposed.override
    for pack, rule in rules:
        finding = rule.evaluate(ctx, at)
        if finding is None:
            continue
        reason = _reason(pack, rule, finding)
        if (
            override is not None
            and rule.info.id in override.rule_ids
            and override.reason in rule.overridable_by
        ):
            overridden.append(
                attrs.evolve(reason, detail=f"{reason.detail}; overridden: {override.reason}")
            )
            continue
        failed.append((reason, finding))
    return failed, overridden


def check(
    proposed: ProposedContact,
    borrower: BorrowerFacts,
    debt: DebtFacts,
    history: Iterable[ContactEvent],
    rules: RulePack | Rule | Iterable[RulePack | Rule],
    *,
    horizon: dt.timedelta = DEFAULT_HORIZON,
) -> Verdict:
    """Decide whether ``proposed`` may be made, and if not now, when.

    :param proposed: the contact the strategy wants to make, at ``proposed.at``.
    :param borrower: what is known about the borrower (zones, requests, flags).
    :param debt: what is known about the debt.
    :param history: every recorded contact of the creditor and its agencies (any order).
    :param rules: one or more packs (a national pack plus overlays) or bare rules.
    :param horizon: how far ahead to search for an allowed instant.
    :returns: ``ALLOWED``; ``RESCHEDULED`` with the earliest allowed instant; or
        ``BLOCKED`` (event-based stop, or nothing allowed within the horizon).
    """
    if not isinstance(proposed, ProposedContact):
        raise ValidationError("proposed", proposed, "expected a ProposedContact")
    if not isinstance(borrower, BorrowerFacts):
        raise ValidationError("borrower", borrower, "expected BorrowerFacts")
    if not isinstance(debt, DebtFacts):
        raise ValidationError("debt", debt, "expected DebtFacts")
    given = tuple(history)
    for i, event in enumerate(given):
        if not isinstance(event, ContactEvent):
            raise ValidationError(f"history[{i}]", event, "expected a ContactEvent")
    events = tuple(sorted(given, key=lambda e: e.at))
    flat = flatten_rules(rules)
    ctx = Context(
        proposed=proposed, borrower=borrower, debt=debt, history=events, zones=borrower.zones
    )
    start = proposed.at
    notes = tuple(
        Reason(
            rule_id=rule.info.id,
            citation=rule.info.citation,
            detail=note,
            confidence=rule.info.confidence,
            pack=pack,
        )
        for pack, rule in flat
        if isinstance(rule, RateCap) and (note := rule.note(debt)) is not None
    )
    failed, overridden = _evaluate(ctx, flat, start)
    if not failed:
        return Verdict(
            outcome=Outcome.ALLOWED, proposed_at=start, overridden=tuple(overridden), notes=notes
        )
    reasons = tuple(r for r, _ in failed)
    blocked = Verdict(
        outcome=Outcome.BLOCKED,
        proposed_at=start,
        reasons=reasons,
        overridden=tuple(overridden),
        notes=notes,
    )
    if any(f.kind is FindingKind.STOP for _, f in failed):
        return blocked
    limit = start + horizon
    at = start
    for _ in range(_MAX_STEPS):
        bounds = [f.not_before for _, f in failed if f.not_before is not None]
        nxt = max(bounds)
        if nxt <= at:
            raise ConfigurationError(
                f"rules {[r.rule_id for r, _ in failed]} did not move the search past "
                f"{at.isoformat()}"
            )
        at = nxt
        if at > limit:
            break
        failed, _ = _evaluate(ctx, flat, at)
        if not failed:
            return Verdict(
                outcome=Outcome.RESCHEDULED,
                proposed_at=start,
                reasons=reasons,
                earliest=at,
                overridden=tuple(overridden),
                notes=notes,
            )
        if any(f.kind is FindingKind.STOP for _, f in failed):
            return attrs.evolve(blocked, reasons=reasons + tuple(r for r, _ in failed))
    horizon_reason = Reason(
        rule_id=HORIZON_RULE_ID,
        citation="engine convention: rescheduling horizon",
        detail=f"no instant within {horizon} of {start.isoformat()} passes every rule",
        confidence=Confidence.VERIFIED,
        kind=FindingKind.TIME,
    )
    return attrs.evolve(blocked, reasons=(*reasons, horizon_reason))


def select_packs(packs: Iterable[RulePack], jurisdiction: str) -> tuple[RulePack, ...]:
    """The packs covering ``jurisdiction`` (a national pack and any overlays), in order.

    :raises ConfigurationError: if no pack covers it (no contact without rules).
    """
    chosen = tuple(p for p in packs if p.covers(jurisdiction))
    if not chosen:
        raise ConfigurationError(f"no rule pack covers jurisdiction {jurisdiction!r}")
    return chosen
