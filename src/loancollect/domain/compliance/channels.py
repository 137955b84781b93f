"""Who may be contacted, where and through which medium.

Channel and medium opt-outs, stated inconvenient places, preferred channels,
workplace restrictions, banned channels, third parties and field visits.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum

from loancollect.domain.compliance.base import Context, Finding, Rule, Template
from loancollect.domain.compliance.model import (
    Channel,
    ConsentScope,
    Direction,
    Purpose,
    Tag,
    TargetKind,
)
from loancollect.domain.compliance.windows import active_consent, pending_inbound_reply

__all__ = [
    "ChannelBan",
    "ChannelOptOut",
    "InconvenientPlaces",
    "PreferredChannels",
    "ThirdPartyRule",
    "VisitRule",
    "WorkplaceRestriction",
]


@attrs.frozen(kw_only=True)
class ChannelOptOut(Rule):
    """Do not use a medium (or an address of it) the person asked us not to use.

    One confirmation of the opt-out (purpose ``optout_confirmation`` and nothing but
    the ``optout_confirmation_only`` tag) is allowed, as are contacts required by law
    and, if ``allow_reply_to_inbound``, one reply when the person writes to us through
    the opted-out medium.
    """

    allow_reply_to_inbound: bool = True
    allowed_purposes: frozenset[str] = frozenset({Purpose.REQUIRED_BY_LAW})

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop contacts through an opted-out medium or address."""
        p = ctx.proposed
        if p.purpose in self.allowed_purposes:
            return None
        opted_at: pendulum.DateTime | None = None
        for event in ctx.before(at):
            o = event.opt_out
            if (
                o is not None
                and o.channel is p.channel
                and ctx.event_person(event) == ctx.person
                and (o.address is None or o.address == p.address)
            ):
                opted_at = event.at
        if opted_at is None:
            return None
        if p.purpose == Purpose.OPTOUT_CONFIRMATION and p.content_tags <= {
            Tag.OPTOUT_CONFIRMATION_ONLY
        }:
            sent = any(
                e.direction is Direction.OUTBOUND
                and e.channel is p.channel
                and e.at >= opted_at
                and ctx.event_person(e) == ctx.person
                for e in ctx.before(at)
            )
            if not sent:
                return None
        if self.allow_reply_to_inbound and pending_inbound_reply(ctx, at, p.channel):
            return None
        return Finding.stop(f"opted out of {p.channel.value} on {opted_at.date().isoformat()}")


@attrs.frozen(kw_only=True)
class InconvenientPlaces(Rule):
    """No contact at a place, medium or address the person said is inconvenient."""

    allow_reply_to_inbound: bool = True

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a contact matching a stated inconvenient place."""
        p = ctx.proposed
        if p.target_kind is not TargetKind.BORROWER:
            return None
        places = ctx.borrower.stated_inconvenient_places
        if not any(s.matches(p.channel, p.address, p.place) for s in places):
            return None
        if active_consent(ctx, ConsentScope.MEDIUM, at, p.channel):
            return None
        if self.allow_reply_to_inbound and pending_inbound_reply(ctx, at, p.channel):
            return None
        return Finding.stop("the borrower said this place or medium is inconvenient")


@attrs.frozen(kw_only=True)
class PreferredChannels(Rule):
    """Honour the borrower's request about *how* to be contacted (UK CONC 7.9)."""

    allowed_purposes: frozenset[str] = frozenset(
        {Purpose.STATUTORY_NOTICE, Purpose.REQUIRED_BY_LAW}
    )

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a channel outside the stated preferences."""
        preferred = ctx.borrower.preferred_channels
        p = ctx.proposed
        if preferred is None or p.channel in preferred or p.purpose in self.allowed_purposes:
            return None
        if p.target_kind is not TargetKind.BORROWER:
            return None
        wanted = sorted(c.value for c in preferred)
        return Finding.stop(f"the borrower asked to be contacted only by {wanted}")


@attrs.frozen(kw_only=True)
class WorkplaceRestriction(Rule):
    """No contact at work where the employer prohibits it; no employer-provided e-mail.

    An employer-provided address may be used with ``MEDIUM`` consent or to answer a
    message the borrower sent from it.
    """

    work_place: str = "work"

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop workplace contacts the employer prohibits and employer e-mail."""
        p = ctx.proposed
        if ctx.borrower.flags.employer_prohibits_contact and p.place == self.work_place:
            return Finding.stop("the employer prohibits such communications at work")
        if p.employer_provided and p.channel is Channel.EMAIL:
            if active_consent(ctx, ConsentScope.MEDIUM, at, p.channel):
                return None
            if any(
                e.direction is Direction.INBOUND and e.address == p.address for e in ctx.before(at)
            ):
                return None
            return Finding.stop("employer-provided e-mail address without consent")
        return None


@attrs.frozen(kw_only=True)
class ChannelBan(Rule):
    """Channels never to be used (or, with ``private_account_only``, not from private accounts).

    :param places: only contacts landing on these places are banned (e.g. ``"public"``
        for social media visible to the public); empty means every place.
    """

    channels: frozenset[Channel]
    places: frozenset[str] = frozenset()
    private_account_only: bool = False
    waived_by_consent: bool = False

    def _banned(self, channel: Channel, place: str | None, private: bool) -> bool:
        if channel not in self.channels:
            return False
        if self.places and place not in self.places:
            return False
        return not (self.private_account_only and not private)

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop a banned channel."""
        p = ctx.proposed
        if not self._banned(p.channel, p.place, p.agent_uses_private_account):
            return None
        if self.waived_by_consent and active_consent(ctx, ConsentScope.MEDIUM, at, p.channel):
            return None
        return Finding.stop(f"channel {p.channel.value} may not be used here")

    def lint(self, template: Template) -> tuple[str, ...]:
        """A template for a banned channel is a configuration error."""
        if self.private_account_only or self.places:
            return ()
        if template.channel in self.channels:
            return (f"channel {template.channel.value} is banned",)
        return ()


@attrs.frozen(kw_only=True)
class ThirdPartyRule(Rule):
    """Contacts with anyone but the debtor: who, why, what may be said, stop on refusal.

    :param allowed_targets: persons treated as the debtor (no restriction).
    :param require_unreachable: third parties only when the debtor is unreachable,
        dead or incapacitated (PRC).
    :param allowed_purposes: purposes a third-party contact may have.
    :param forbidden_tags: content that may not be told to a third party (the debt).
    :param consent_allows: the debtor's ``THIRD_PARTY`` consent lifts the purpose limit.
    """

    allowed_targets: frozenset[TargetKind]
    require_unreachable: bool = False
    allowed_purposes: frozenset[str] = frozenset({Purpose.LOCATION_INFO})
    forbidden_tags: frozenset[str] = frozenset({Tag.DEBT_DETAILS, Tag.BALANCE})
    consent_allows: bool = False

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop third-party contacts that fail any of the conditions."""
        p = ctx.proposed
        if p.target_kind in self.allowed_targets:
            return None
        person = ctx.person
        if any(e.refused_further_contact and ctx.event_person(e) == person for e in ctx.before(at)):
            return Finding.stop("this person refused further contact")
        flags = ctx.borrower.flags
        consented = self.consent_allows and any(
            e.consent is not None
            and e.consent.scope is ConsentScope.THIRD_PARTY
            and e.target_kind is TargetKind.BORROWER
            and e.consent.active(at, p.channel)
            for e in ctx.before(at)
        )
        if (
            self.require_unreachable
            and not consented
            and not (flags.lost_contact or flags.deceased is not None or flags.incapacitated)
        ):
            return Finding.stop("third parties only when the debtor cannot be reached")
        if not consented and p.purpose not in self.allowed_purposes:
            return Finding.stop(
                f"purpose {p.purpose!s} not allowed with a third party "
                f"(allowed: {sorted(self.allowed_purposes)})"
            )
        disclosed = sorted(p.content_tags & self.forbidden_tags)
        if disclosed:
            return Finding.stop(f"may not disclose {disclosed} to a third party")
        return None

    def lint(self, template: Template) -> tuple[str, ...]:
        """A third-party template may not carry debt content."""
        if template.audience != "third_party":
            return ()
        hit = sorted(template.content_tags & self.forbidden_tags)
        return (f"third-party template discloses {hit}",) if hit else ()


@attrs.frozen(kw_only=True)
class VisitRule(Rule):
    """Field visits: notice in advance, not to vulnerable customers, only at allowed places.

    A visit contact is one of two things. The *notice* of a visit
    (``ProposedContact.gives_visit_notice``: the dispatch of a visit action) is stopped
    when the visit it announces could never be made (a vulnerable customer, a place
    without consent); its notice period starts with it. The *visit itself* is allowed
    only from the recorded notice (``visit_notice_sent_at``) plus ``notice``; with no
    recorded notice it is stopped.

    :param notice: minimum time between the notice and the visit.
    :param allowed_places: places a visit may be made without ``VISIT_ENTRY`` consent.
    """

    notice: dt.timedelta = dt.timedelta(days=3)
    allowed_places: frozenset[str] = frozenset({"home"})
    block_vulnerable: bool = True

    def evaluate(self, ctx: Context, at: pendulum.DateTime) -> Finding | None:
        """Stop visits that break a condition; wait for the notice period."""
        p = ctx.proposed
        if p.channel is not Channel.VISIT:
            return None
        if self.block_vulnerable and ctx.borrower.flags.vulnerable:
            return Finding.stop("no visit to a customer known to be particularly vulnerable")
        if p.place not in self.allowed_places and not active_consent(
            ctx, ConsentScope.VISIT_ENTRY, at, p.channel
        ):
            return Finding.stop(f"no visit at place {p.place!r} without express consent")
        if p.gives_visit_notice:
            return None  # the notice itself: the visit it announces is judged when made
        if p.visit_notice_sent_at is None:
            return Finding.stop("no notice of the visit was given")
        ready = p.visit_notice_sent_at + self.notice
        if at < ready:
            return Finding.until(ready, f"visit notice given less than {self.notice} before")
        return None
