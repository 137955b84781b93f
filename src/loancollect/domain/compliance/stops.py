"""Event-based stops: facts after which collection must stop (no rescheduling).

Cease or refusal notices, bankruptcy, a dispute pending verification, attorney
representation, death of the borrower and moratoria. Each stop names the purposes
that remain allowed (e.g. a termination notice after a cease notice).
"""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum

from loancollect.domain.compliance.base import Context, Finding, Rule
from loancollect.domain.compliance.localtime import day_start, local_date
from loancollect.domain.compliance.model import MoratoriumKind, Purpose, TargetKind
from loancollect.domain.zones import check_zone

__all__ = [
    "AttorneyRepresentation",
    "BankruptcyStay",
    "CeaseCommunication",
    "DeceasedBorrower",
    "DisputeHold",
    "MoratoriumCharges",
    "MoratoriumStop",
]

_TO_BORROWER = frozenset({TargetKind.BORROWER, TargetKind.SPOUSE})


@attrs.frozen(kw_only=True)
class CeaseCommunication(Rule):
    """After a cease or refusal notice, no communication about the debt.

    :param include_refusal: a refusal to pay stops communication too.
    :param allowed_purposes: what may still be said (termination, remedy notices).
    """

    include_refusal: bool = True
    allowed_purposes: frozenset[str] = frozenset(
        {Purpose.TERMINATION_NOTICE, Purpose.REMEDY_NOTICE}
    )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop once the notice was received, except for the allowed purposes."""
        flags = ctx.borrower.flags
        if ctx.proposed.purpose in self.allowed_purposes:
            return None
        if flags.cease_received_at is not None and flags.cease_received_at <= at:
            return Finding.stop(f"cease notice received {flags.cease_received_at.isoformat()}")
        if (
            self.include_refusal
            and flags.refusal_received_at is not None
            and flags.refusal_received_at <= at
        ):
            return Finding.stop(f"refusal to pay received {flags.refusal_received_at.isoformat()}")
        return None


@attrs.frozen(kw_only=True)
class BankruptcyStay(Rule):
    """The automatic stay: no act to collect once a petition is filed."""

    allowed_purposes: frozenset[str] = frozenset()

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop from the filing until the stay is lifted."""
        b = ctx.borrower.flags.bankruptcy
        if b is None or b.filed_at > at or ctx.proposed.purpose in self.allowed_purposes:
            return None
        if b.stay_lifted_at is not None and at >= b.stay_lifted_at:
            return None
        return Finding.until(b.stay_lifted_at, f"bankruptcy petition filed {b.filed_at.date()}")


@attrs.frozen(kw_only=True)
class DisputeHold(Rule):
    """Stop collecting a disputed debt until the dispute is answered.

    :param written_in_period_only: only a written dispute within the validation period
        holds (US); otherwise any recorded dispute does (UK CONC 7.14).
    :param allowed_purposes: sending the verification itself stays allowed.
    """

    written_in_period_only: bool = True
    allowed_purposes: frozenset[str] = frozenset(
        {Purpose.VERIFICATION, Purpose.VALIDATION_NOTICE, Purpose.COMPLAINT_REPLY}
    )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop from receipt of the dispute until it is resolved."""
        d = ctx.borrower.flags.dispute
        if d is None or d.received_at > at or ctx.proposed.purpose in self.allowed_purposes:
            return None
        if self.written_in_period_only and not (d.written and d.within_validation_period):
            return None
        if d.resolved_at is not None and at >= d.resolved_at:
            return None
        return Finding.until(d.resolved_at, f"dispute received {d.received_at.date()} pending")


@attrs.frozen(kw_only=True)
class AttorneyRepresentation(Rule):
    """No direct contact with a borrower represented by an attorney for the debt.

    Direct contact resumes if the attorney consents, or if the attorney was contacted
    and has not answered within ``reasonable_days`` (a policy value).
    """

    reasonable_days: int = 30

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop contacts to the borrower; the attorney may always be contacted."""
        a = ctx.borrower.flags.attorney
        if a is None or a.known_at > at or ctx.proposed.target_kind not in _TO_BORROWER:
            return None
        if a.consents_to_direct_contact:
            return None
        if a.contacted_at is None or a.responded:
            return Finding.stop("the borrower is represented by an attorney; contact the attorney")
        resume = a.contacted_at + dt.timedelta(days=self.reasonable_days)
        if at >= resume:
            return None
        return Finding.until(resume, "the attorney has not yet had a reasonable time to answer")


@attrs.frozen(kw_only=True)
class DeceasedBorrower(Rule):
    """After death only the estate's representative may be contacted."""

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop every contact that is not with the representative (or an attorney)."""
        d = ctx.borrower.flags.deceased
        if d is None:
            return None
        p = ctx.proposed
        if p.target_kind in (TargetKind.REPRESENTATIVE, TargetKind.ATTORNEY):
            return None
        if d.representative_id is not None and p.target_id == d.representative_id:
            return None
        return Finding.stop(f"the borrower died on {d.date.isoformat()}; contact the estate")


_LONDON = "Europe/London"


def _check_zone(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_zone(f"moratorium_rule.{attribute.name}", value)


@attrs.frozen(kw_only=True)
class MoratoriumStop(Rule):
    """No contact about a moratorium debt during a moratorium, except allowed purposes.

    :param standard_days: length of a standard breathing space when no end is recorded.
    :param zone: the zone whose calendar days the moratorium counts in (the Debt
        Respite Scheme: England and Wales, ``Europe/London``).
    :param allowed_purposes: contacts the regulations still allow.
    """

    standard_days: int = 60
    zone: str = attrs.field(default=_LONDON, validator=_check_zone)
    allowed_purposes: frozenset[str] = frozenset(
        {
            Purpose.ADVISER_CONTACT,
            Purpose.UNRELATED_LIABILITY,
            Purpose.DEBTOR_REQUEST,
            Purpose.COMPLAINT_REPLY,
            Purpose.PERMITTED_PROCEEDINGS,
            Purpose.STATUTORY_NOTICE,
            Purpose.REQUIRED_BY_LAW,
        }
    )

    def end_of(self, ctx: Context) -> pendulum.DateTime | None:
        """The end of the moratorium: the recorded end, or for a standard one without
        it the local midnight ``standard_days`` days after the day it started.

        A standard breathing space lasts 60 days counted from the day it starts (SI
        2020/1311 reg. 26, ``[S]``; day count ``[?]``): the start day is day 1, so it
        ends at the first midnight in :attr:`zone` after day 60, which is 60 calendar
        days after the start day, not 60 x 24 hours (one hour apart across a change
        between GMT and BST).
        """
        m = ctx.borrower.flags.moratorium
        if m is None:
            return None
        if m.end is not None:
            return m.end
        if m.kind is MoratoriumKind.STANDARD:
            first = local_date(m.start, self.zone)
            return day_start(first + dt.timedelta(days=self.standard_days), self.zone)
        return None

    def active(self, ctx: Context, at: pendulum.DateTime) -> bool:
        """True if a moratorium covering this debt is in force at ``at``."""
        m = ctx.borrower.flags.moratorium
        if m is None or at < m.start or not m.covers(ctx.debt_keys):
            return False
        end = self.end_of(ctx)
        return end is None or at < end

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Fail until the end of the moratorium (no time if its end is unknown)."""
        p = ctx.proposed
        if p.purpose in self.allowed_purposes or p.target_kind is TargetKind.REPRESENTATIVE:
            return None
        if not self.active(ctx, at):
            return None
        m = ctx.borrower.flags.moratorium
        assert m is not None
        return Finding.until(self.end_of(ctx), f"{m.kind.value} moratorium in force")


@attrs.frozen(kw_only=True)
class MoratoriumCharges(Rule):
    """During a moratorium: no interest, fees or charges, and no enforcement action.

    The two differ in what waiting can do (SI 2020/1311 reg. 7, ``[S]``):

    - interest, fees, penalties and charges that would accrue during the moratorium
      may never be required, so charging one is a **stop** (``charge_purposes``,
      ``charge_tags``): rescheduling it to after the moratorium would still charge
      for the moratorium period;
    - enforcement action is only paused, so it **waits** for the end of the
      moratorium (``enforcement_purposes``, ``enforcement_tags``; no time when the
      end is unknown, as for a mental health crisis moratorium).

    :param standard_days: and :param zone: as for :class:`MoratoriumStop`.
    """

    standard_days: int = 60
    zone: str = attrs.field(default=_LONDON, validator=_check_zone)
    charge_purposes: frozenset[str] = frozenset({Purpose.APPLY_FEE, Purpose.APPLY_INTEREST})
    charge_tags: frozenset[str] = frozenset({"apply_fee", "apply_interest"})
    enforcement_purposes: frozenset[str] = frozenset({Purpose.ENFORCEMENT, Purpose.LEGAL_ACTION})
    enforcement_tags: frozenset[str] = frozenset({"legal_action"})

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a charge made during the moratorium; hold enforcement until its end."""
        stop = MoratoriumStop(info=self.info, standard_days=self.standard_days, zone=self.zone)
        if not stop.active(ctx, at):
            return None
        p = ctx.proposed
        charges = sorted(p.content_tags & self.charge_tags)
        if p.purpose in self.charge_purposes or charges:
            what = charges or [str(p.purpose)]
            return Finding.stop(
                f"interest, fees or charges accruing during a moratorium may never be "
                f"required {what}"
            )
        enforcement = sorted(p.content_tags & self.enforcement_tags)
        if p.purpose in self.enforcement_purposes or enforcement:
            what = enforcement or [str(p.purpose)]
            return Finding.until(stop.end_of(ctx), f"no enforcement during a moratorium {what}")
        return None
