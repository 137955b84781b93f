"""The contract every compliance rule follows, and the context it is evaluated in.

A rule is a frozen record with a :class:`RuleInfo` (id, citation, confidence,
configuration) and an :meth:`Rule.evaluate` method: given the context and an
instant, it returns ``None`` (the contact passes) or a :class:`Finding`.

A finding is either a *stop* (no later time helps: a cease notice, forbidden
content) or *time-based*, in which case ``not_before`` is the earliest instant at
or after the one evaluated at which this rule alone could pass. The engine uses
those instants to search for the earliest time every rule passes.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator

import attrs
import pendulum

from loancollect.domain.compliance.localtime import local_date
from loancollect.domain.compliance.model import (
    BorrowerFacts,
    Channel,
    ContactEvent,
    DebtFacts,
    ProposedContact,
    TargetKind,
)
from loancollect.domain.errors import ValidationError

__all__ = [
    "Confidence",
    "Context",
    "Finding",
    "FindingKind",
    "Rule",
    "RuleInfo",
    "Template",
]


def _tags(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v) for v in value)


class Confidence(enum.Enum):
    """How sure the research is about a rule (RULES.md legend)."""

    VERIFIED = "V"
    SECONDARY = "S"
    KNOWLEDGE = "K"
    UNCERTAIN = "?"

    @property
    def label(self) -> str:
        """The tag as written in the catalog, e.g. ``[V]``."""
        return f"[{self.value}]"


@attrs.frozen(kw_only=True)
class RuleInfo:
    """Identity of a rule for verdicts, audit trail and documentation.

    :param id: stable id, e.g. ``"US-08"``; unique within a pack.
    :param citation: legal source, e.g. ``"12 CFR 1006.14(b)(2)(i)(A)"``.
    :param confidence: the research confidence tag.
    :param summary: one sentence stating the rule.
    :param configuration: how it is configured (option names, defaults).
    :param policy: True if this is a configurable policy rather than a settled legal fact.
    """

    id: str
    citation: str
    confidence: Confidence
    summary: str
    configuration: str = ""
    policy: bool = False

    @classmethod
    def of(
        cls,
        rule_id: str,
        citation: str,
        confidence: Confidence,
        summary: str,
        configuration: str = "",
        *,
        policy: bool = False,
    ) -> RuleInfo:
        """Positional shorthand used by the packs' rule tables."""
        return cls(
            id=rule_id,
            citation=citation,
            confidence=confidence,
            summary=summary,
            configuration=configuration,
            policy=policy,
        )

    def __attrs_post_init__(self) -> None:
        if not self.id or not isinstance(self.id, str):
            raise ValidationError("rule.id", self.id, "must be a non-empty string")
        if not isinstance(self.confidence, Confidence):
            raise ValidationError("rule.confidence", self.confidence, "expected a Confidence")


class FindingKind(enum.Enum):
    """Whether waiting can cure a failure."""

    STOP = "stop"
    TIME = "time"


@attrs.frozen(kw_only=True)
class Finding:
    """One failing rule at one instant.

    :param not_before: for ``TIME`` findings, the earliest instant (strictly after the
        one evaluated) at which this rule could pass; ``None`` for stops.
    """

    kind: FindingKind
    detail: str
    not_before: pendulum.DateTime | None = None

    @classmethod
    def stop(cls, detail: str) -> Finding:
        """A failure no later time cures."""
        return cls(kind=FindingKind.STOP, detail=detail)

    @classmethod
    def until(cls, not_before: pendulum.DateTime | None, detail: str) -> Finding:
        """A failure cured by waiting until ``not_before`` (``None``: no known end)."""
        if not_before is None:
            return cls(kind=FindingKind.STOP, detail=detail + " (no known end)")
        return cls(kind=FindingKind.TIME, detail=detail, not_before=not_before)


@attrs.frozen(kw_only=True)
class Template:
    """A message template as the lint sees it: its channel, purpose and content tags.

    :param name: template name for error messages.
    :param audience: ``"borrower"`` or ``"third_party"``.
    """

    name: str
    channel: Channel
    content_tags: frozenset[str] = attrs.field(converter=_tags)
    purpose: str = "collection"
    audience: str = "borrower"


@attrs.frozen(kw_only=True)
class Context:
    """What a rule sees: the proposed contact, the parties and the history.

    ``history`` is sorted by instant. ``zones`` are the candidate zones of the
    borrower (a rule that fixes its own zone, like Beijing time, ignores them).
    """

    proposed: ProposedContact
    borrower: BorrowerFacts
    debt: DebtFacts
    history: tuple[ContactEvent, ...]
    zones: tuple[str, ...]

    @property
    def person(self) -> str:
        """The key of the person the proposed contact targets."""
        return self.person_of(self.proposed.target_kind, self.proposed.target_id)

    def person_of(self, kind: TargetKind, target_id: str) -> str:
        """A stable key for a person: the borrower's id when the target is the borrower."""
        if kind is TargetKind.BORROWER and not target_id:
            return self.borrower.id
        return target_id or f"{kind.value}:?"

    def event_person(self, event: ContactEvent) -> str:
        """The person key of a recorded event."""
        return self.person_of(event.target_kind, event.target_id)

    @property
    def debt_keys(self) -> frozenset[str]:
        """Debt ids the proposed contact is about (this debt and its related ids)."""
        return self.debt.keys | self.proposed.debt_ids

    def about_debt(self, event: ContactEvent) -> bool:
        """True if the event concerns this debt (events without debts concern all)."""
        return not event.debt_ids or bool(event.debt_ids & self.debt.keys)

    def before(self, at: pendulum.DateTime) -> Iterator[ContactEvent]:
        """Events at or before ``at``."""
        for event in self.history:
            if event.at > at:
                return
            yield event

    def dates(self, events: Iterable[ContactEvent], zone: str) -> list[dt.date]:
        """Local dates of ``events`` in ``zone``."""
        return [local_date(e.at, zone) for e in events]


@attrs.frozen(kw_only=True)
class Rule:
    """Base class of compliance rules. Subclasses are frozen attrs classes.

    :param info: id, citation, confidence and configuration of the rule.
    :param overridable_by: rebuttal reasons that may override this rule when the
        proposed contact carries an :class:`~loancollect.domain.compliance.model.Override`
        naming it (presumptions only); empty means it cannot be overridden.
    """

    info: RuleInfo
    overridable_by: frozenset[str] = frozenset()

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """``None`` if the proposed contact passes this rule at ``at``, else a finding."""
        raise NotImplementedError

    def lint(self, template: Template) -> tuple[str, ...]:
        """Problems this rule finds in a template at configuration time (default none)."""
        return ()
