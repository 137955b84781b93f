"""Verdicts: what the rule packs' objections mean for one action.

One place turns violations into allow, reschedule or block, and records the
reschedule or block as an event with its reasons and citations; the review (for
actions planned today) and the dispatch (for entries that waited: retries,
rescheduled actions, earlier days' plans) both go through it, so an action is
judged the same way whenever it is checked.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence

import attrs

from loancollect.domain.case import Case
from loancollect.domain.errors import ConfigurationError
from loancollect.domain.events import ActionBlocked, ActionRescheduled, Event, new_event
from loancollect.domain.loans import Loan
from loancollect.domain.strategy import PlannedAction
from loancollect.engine.compliance import ContactRules
from loancollect.registry import ContactViolation

__all__ = ["Guard", "Verdict", "VerdictKind"]


class VerdictKind(enum.Enum):
    """What happens to an action the rules have judged."""

    ALLOW = "allow"
    RESCHEDULE = "reschedule"  # every objection names a later instant: wait for the last
    BLOCK = "block"  # some objection has no later instant: never send


@attrs.frozen(kw_only=True)
class Verdict:
    """The rules' judgement on one action at one instant.

    :param not_before: for :attr:`VerdictKind.RESCHEDULE`, the earliest instant
        every objection allows.
    :param reasons: ``rule: detail`` of each objection, ``"; "``-joined.
    :param citations: the distinct legal sources cited, sorted, ``"; "``-joined.
    """

    kind: VerdictKind
    not_before: dt.datetime | None = None
    reasons: str = ""
    citations: str = ""

    @classmethod
    def of(cls, violations: Sequence[ContactViolation]) -> Verdict:
        """The verdict the ``violations`` add up to."""
        if not violations:
            return ALLOWED
        reasons = "; ".join(f"{v.rule_id}: {v.detail}" for v in violations)
        citations = "; ".join(sorted({v.citation for v in violations if v.citation}))
        later = [v.reschedule_at for v in violations]
        if all(when is not None for when in later):
            return cls(
                kind=VerdictKind.RESCHEDULE,
                not_before=max(when for when in later if when is not None),
                reasons=reasons,
                citations=citations,
            )
        return cls(kind=VerdictKind.BLOCK, reasons=reasons, citations=citations)

    @property
    def allowed(self) -> bool:
        """True if the action may be sent now."""
        return self.kind is VerdictKind.ALLOW

    def event(self, action: PlannedAction, on: dt.date, at: dt.datetime | None = None) -> Event:
        """The ``ACTION_RESCHEDULED`` or ``ACTION_BLOCKED`` event recording this verdict."""
        if self.kind is VerdictKind.RESCHEDULE:
            assert self.not_before is not None
            moved = ActionRescheduled(
                key=action.idempotency_key,
                channel=action.channel,
                rule=action.rule_id,
                not_before=self.not_before,
                reasons=self.reasons,
                citations=self.citations,
            )
            return new_event(moved, loan_id=action.loan_id, on=on, at=at)
        if self.kind is VerdictKind.BLOCK:
            blocked = ActionBlocked(
                key=action.idempotency_key,
                channel=action.channel,
                rule=action.rule_id,
                reasons=self.reasons,
                citations=self.citations,
            )
            return new_event(blocked, loan_id=action.loan_id, on=on, at=at)
        raise ValueError("an allowed action records no verdict event")


ALLOWED = Verdict(kind=VerdictKind.ALLOW)


class Guard:
    """Judges actions against the contact rules at the instant they would be made."""

    def __init__(self, rules: ContactRules) -> None:
        self.rules = rules

    def judge(
        self,
        action: PlannedAction,
        loan: Loan,
        case: Case,
        *,
        as_of: dt.date,
        at: dt.datetime,
        history: tuple[Event, ...],
    ) -> Verdict:
        """The verdict on sending ``action`` at ``at``.

        :raises ConfigurationError: if ``at`` is naive: local contact hours cannot be
            known, so nothing is contacted (the caller reports it and sends nothing).
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise ConfigurationError(
                f"the clock gave a naive instant {at.isoformat()}; contact rules need a "
                "time-zone-aware clock, so nothing is contacted"
            )
        return Verdict.of(
            self.rules.violations(action, loan, case, as_of=as_of, at=at, history=history)
        )
