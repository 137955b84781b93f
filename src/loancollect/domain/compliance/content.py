"""Content rules: forbidden and required content, identity checks, limitation, rate caps.

Content is described by tags (see :class:`~loancollect.domain.compliance.model.Tag`).
The same rules check a proposed contact at run time and every template at
configuration time (:func:`lint_templates`), so that a template that breaks a pack
is refused before it is ever sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs
import pendulum

from loancollect.domain.compliance.base import Context, Finding, Rule, Template
from loancollect.domain.compliance.model import Channel, DebtFacts, Direction, Purpose, Tag
from loancollect.domain.errors import ConfigurationError

__all__ = [
    "ContentRule",
    "IdentityBeforeDetails",
    "RateCap",
    "TimeBarredDebt",
    "WorkflowGate",
    "lint_templates",
    "rate_cap_excess",
]


def _tags(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v) for v in value)


@attrs.frozen(kw_only=True)
class ContentRule(Rule):
    """Forbidden and required content on some channels and purposes.

    :param forbidden: tags that may never appear.
    :param required: tags that must all appear.
    :param allowed_only: if set, no tag outside it may appear (a whitelist, e.g. the
        US limited-content voicemail).
    :param channels: channels it applies to; empty means all.
    :param purposes: purposes it applies to; empty means all.
    :param unless_tags: templates carrying any of these are exempt (e.g. a
        limited-content message is exempt from the debt-collector disclosure).
    :param first_contact_only: required content applies only to the first outbound
        contact with the person (checked at run time, not by the lint).
    """

    forbidden: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    required: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    allowed_only: frozenset[str] | None = None
    channels: frozenset[Channel] = frozenset()
    purposes: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    unless_tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    first_contact_only: bool = False

    def _applies(self, channel: Channel, purpose: str, tags: frozenset[str]) -> bool:
        if self.channels and channel not in self.channels:
            return False
        if self.purposes and purpose not in self.purposes:
            return False
        return not (tags & self.unless_tags)

    def problems(self, tags: frozenset[str], *, check_required: bool = True) -> list[str]:
        """What is wrong with content carrying ``tags``."""
        out: list[str] = []
        bad = sorted(tags & self.forbidden)
        if bad:
            out.append(f"forbidden content {bad}")
        if self.allowed_only is not None:
            extra = sorted(tags - self.allowed_only)
            if extra:
                out.append(f"content {extra} not allowed here")
        if check_required:
            missing = sorted(self.required - tags)
            if missing:
                out.append(f"required content {missing} missing")
        return out

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a contact whose content breaks the rule."""
        p = ctx.proposed
        if not self._applies(p.channel, p.purpose, p.content_tags):
            return None
        check_required = True
        if self.first_contact_only:
            check_required = not any(
                e.direction is Direction.OUTBOUND and ctx.event_person(e) == ctx.person
                for e in ctx.before(at)
            )
        problems = self.problems(p.content_tags, check_required=check_required)
        return Finding.stop("; ".join(problems)) if problems else None

    def lint(self, template: Template) -> tuple[str, ...]:
        """Problems in ``template`` under this rule."""
        if not self._applies(template.channel, template.purpose, template.content_tags):
            return ()
        return tuple(
            self.problems(template.content_tags, check_required=not self.first_contact_only)
        )


@attrs.frozen(kw_only=True)
class IdentityBeforeDetails(Rule):
    """No debt details in a live contact before the person's identity is established.

    The notice of a field visit (``ProposedContact.gives_visit_notice``) is not live:
    it is the written notice sent ahead of the visit, like a letter. The visit itself
    is live, and is judged by this rule when it is made.
    """

    detail_tags: frozenset[str] = frozenset({Tag.DEBT_DETAILS, Tag.BALANCE})
    channels: frozenset[Channel] = frozenset({Channel.CALL, Channel.VISIT})

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop when debt details would be given to an unverified person."""
        p = ctx.proposed
        if p.channel not in self.channels or p.identity_verified or p.gives_visit_notice:
            return None
        if p.content_tags & self.detail_tags:
            return Finding.stop("identity not established before giving debt details")
        return None


@attrs.frozen(kw_only=True)
class TimeBarredDebt(Rule):
    """On a time-barred debt: no threat of suit, no suit, no claim it is enforceable."""

    forbidden: frozenset[str] = attrs.field(
        default=frozenset({Tag.THREAT_SUIT, Tag.LEGAL_ACTION, Tag.STATUTE_BARRED_ENFORCEABLE}),
        converter=_tags,
    )
    blocked_purposes: frozenset[str] = frozenset({Purpose.LEGAL_ACTION})
    stop_after_refusal: bool = False

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop legal threats and legal action on a time-barred debt.

        With ``stop_after_refusal``, stop demanding once the borrower has said the
        debt is time-barred and will not be paid (a recorded refusal).
        """
        if not ctx.debt.time_barred:
            return None
        p = ctx.proposed
        refused = ctx.borrower.flags.refusal_received_at
        if self.stop_after_refusal and refused is not None and refused <= at:
            return Finding.stop("time-barred debt and the borrower refused to pay")
        bad = sorted(p.content_tags & self.forbidden)
        if bad or p.purpose in self.blocked_purposes:
            return Finding.stop(f"time-barred debt: {bad or p.purpose}")
        return None


def rate_cap_excess(debt: DebtFacts, multiple: Decimal | int = 4) -> Decimal:
    """The part of the contract rate above ``multiple`` × the LPR at contract (0 if none).

    Only private lending (民间借贷) is capped; missing rates give 0.
    """
    if not debt.private_lending or debt.contract_rate is None or debt.lpr_at_contract is None:
        return Decimal(0)
    cap = Decimal(multiple) * debt.lpr_at_contract
    excess: Decimal = max(Decimal(0), debt.contract_rate - cap)
    return excess


@attrs.frozen(kw_only=True)
class RateCap(Rule):
    """Private lending above ``multiple`` × LPR: flag it, and never demand the excess.

    A proposed contact fails if it carries ``interest_above_cap`` content, or demands
    more than ``DebtFacts.demandable`` (the assessed amount, which leaves the excess out).
    """

    multiple: Decimal = Decimal(4)

    def note(self, debt: DebtFacts) -> str | None:
        """A non-blocking note for the audit trail when the contract rate is over the cap."""
        excess = rate_cap_excess(debt, self.multiple)
        if excess <= 0:
            return None
        return (
            f"contract rate {debt.contract_rate} exceeds {self.multiple} x LPR "
            f"{debt.lpr_at_contract} by {excess}; the excess is not enforceable"
        )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a demand of the unenforceable excess."""
        p = ctx.proposed
        if Tag.INTEREST_ABOVE_CAP in p.content_tags:
            return Finding.stop("demands interest above the legal cap")
        limit = ctx.debt.demandable
        if p.demand is not None and limit is not None and p.demand > limit:
            return Finding.stop(f"demands {p.demand} but at most {limit} is enforceable")
        return None

    def lint(self, template: Template) -> tuple[str, ...]:
        """A template may not demand interest above the cap."""
        if Tag.INTEREST_ABOVE_CAP in template.content_tags:
            return ("template demands interest above the legal cap",)
        return ()


@attrs.frozen(kw_only=True)
class WorkflowGate(Rule):
    """Some purposes need a prior step recorded on the debt.

    :param purposes: the gated purposes (e.g. enforcement).
    :param requires: the ``DebtFacts`` attribute that must be true
        (``"forbearance_assessed"``, ``"debt_advice_referred"``).
    :param only_if_difficulty: gate only debts flagged ``financial_difficulty``.
    """

    purposes: frozenset[str]
    requires: str
    only_if_difficulty: bool = False

    def __attrs_post_init__(self) -> None:
        if self.requires not in {a.name for a in attrs.fields(DebtFacts)}:
            raise ConfigurationError(
                f"rule {self.info.id}: requires={self.requires!r} is not a DebtFacts field"
            )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a gated purpose until the step is recorded."""
        if ctx.proposed.purpose not in self.purposes:
            return None
        if self.only_if_difficulty and not ctx.debt.financial_difficulty:
            return None
        if getattr(ctx.debt, self.requires):
            return None
        return Finding.stop(f"{ctx.proposed.purpose!s} needs {self.requires} first")


def lint_templates(rules: Iterable[object], templates: Iterable[Template]) -> None:
    """Check templates against rules (or packs); raise on the first bad template set.

    :raises ConfigurationError: listing every problem of every template.
    """
    flat: list[Rule] = []
    for item in rules:
        inner = getattr(item, "rules", None)
        flat.extend(inner if inner is not None else [item])  # type: ignore[list-item]
    problems: list[str] = []
    for template in templates:
        for rule in flat:
            for problem in rule.lint(template):
                problems.append(f"template {template.name!r}: {rule.info.id}: {problem}")
    if problems:
        raise ConfigurationError("; ".join(problems))
