"""Whether a visit may be made, and when: the rule packs asked at every instant that
matters, plus the visit policies no pack states as a contact rule.

At planning, :meth:`VisitRules.window` asks ``loancollect_check_contact`` (every
registered rule pack, through the engine's compliance bridge, and any host plug-in)
at each step of the borrower's local day and keeps the longest run of allowed
instants; the visit must start and end inside it. At check-in,
:meth:`VisitRules.objections` asks again at the instant of arrival. A visit is
never planned, and a check-in is refused, when:

- a hold covers the day (dispute, bankruptcy, breathing space …), or the case is
  flagged ``vulnerable`` (CONC 7.9: no visit to a particularly vulnerable customer);
- the place is a workplace (or other place) without the borrower's express consent
  where the policy forbids it;
- the notice lead time has not passed (UK CONC 7: adequate notice before a visit;
  the notice is the visit action itself, dispatched through the channel): the
  policy's lead time here, and the packs' own notice period, to which the hook is
  told the notice's instant (``visit_notice_at``: the request's ``requested_at``;
  the engine's bridge counts it only as recorded, by the action's ``ACTION_SENT``
  marked as a delivered notice: the channel posted the notice letter);
- the borrower's zone cannot be found from the coordinates (fail closed);
- any rule pack objects (hours, caps, cease requests, opt-outs …).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from loancollect.domain.case import Case
from loancollect.domain.events import Event
from loancollect.domain.loans import ContactKind, ContactPoint, Loan
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import UnitOfWorkFactory
from loancollect_visits.geo import zone_at
from loancollect_visits.model import Unplanned, VisitRequest, Window

__all__ = [
    "DEFAULT_POLICIES",
    "DOOR_SCRIPT",
    "VULNERABLE_FLAG",
    "Facts",
    "VisitPolicy",
    "VisitRules",
]

VULNERABLE_FLAG = "vulnerable"
"""The case flag (read by the rule packs too) that stops every visit."""

DOOR_SCRIPT = "door_script"
"""The template of what the agent says at the door (shipped for channel ``visit``):
identity verified before any debt detail (UK CONC 7.9.10R), so the visit itself is
judged with that script's content, not with the notice letter's."""


@attrs.frozen(kw_only=True)
class VisitPolicy:
    """A jurisdiction's visit conditions that are not contact-instant rules.

    :param notice: the minimum time between the visit notice and the visit.
    :param two_person: visits need two collectors (CN: CBA 2026 指引, per RULES CN-08).
    :param per_borrower_per_day: the daily cap of visits per borrower.
    :param workplace: visits at a workplace (or other place) without express consent.
    :param hold_on_vulnerable: vulnerability indicators reported on a visit place a hold.
    """

    notice: dt.timedelta = dt.timedelta(0)
    two_person: bool = False
    per_borrower_per_day: int = 1
    workplace: bool = False
    hold_on_vulnerable: bool = False


DEFAULT_POLICIES: Mapping[str, VisitPolicy] = MappingProxyType(
    {
        "CN": VisitPolicy(two_person=True),
        # CONC 7.9 asks for adequate notice; three days, as the UK pack's VisitRule.
        "GB": VisitPolicy(notice=dt.timedelta(days=3), hold_on_vulnerable=True),
    }
)
"""Policies by ISO 3166 code (a country's covers its subdivisions); others get the default."""


@attrs.frozen(kw_only=True)
class Facts:
    """What the rules judge a visit with: the loan, its case, its recent events."""

    loan: Loan
    case: Case
    history: tuple[Event, ...]


class VisitRules:
    """Asks the rule packs and the visit policies whether a visit may be made.

    :param hook: ``pm.hook.loancollect_check_contact`` of the host's plug-in manager.
    :param storage: the tenant's storage (loans, cases, events are read).
    :param policies: visit policies by jurisdiction.
    :param history_days: how far back the packs see a loan's events.
    :param step: the spacing of the instants a day is judged at.
    :param day: the part of the local day considered for visits (start, end).
    """

    def __init__(
        self,
        *,
        hook: Callable[..., Any],
        storage: UnitOfWorkFactory,
        policies: Mapping[str, VisitPolicy] = DEFAULT_POLICIES,
        history_days: int = 90,
        step: dt.timedelta = dt.timedelta(minutes=30),
        day: tuple[dt.time, dt.time] = (dt.time(6), dt.time(23)),
    ) -> None:
        self._hook = hook
        self._storage = storage
        self._policies = policies
        self._history = dt.timedelta(days=history_days)
        self._step = step
        self._day = day

    def policy(self, jurisdiction: str) -> VisitPolicy:
        """The visit policy of ``jurisdiction`` (its own, else its country's, else default)."""
        code = jurisdiction.upper()
        found = self._policies.get(code) or self._policies.get(code.split("-")[0])
        return found or VisitPolicy()

    def facts(self, loan_id: str, as_of: dt.date) -> Facts | None:
        """The loan, case and recent events of ``loan_id`` (``None`` if unknown)."""
        with self._storage() as uow:
            loan = uow.loans.get(loan_id)
            case = uow.cases.get(loan_id)
            if loan is None or case is None:
                return None
            history = uow.events.recent(loan_id, as_of - self._history)
        return Facts(loan=loan, case=case, history=history)

    @staticmethod
    def zone(request: VisitRequest) -> str | None:
        """The borrower's zone at the visit's coordinates (``None``: unknown)."""
        return zone_at(request.site.point)

    def standing(self, request: VisitRequest, facts: Facts, day: dt.date) -> str | None:
        """Why no visit may be made on ``day`` whatever the hour (``None``: none)."""
        case = facts.case
        holds = case.active_holds(day)
        if holds:
            return f"hold: {', '.join(sorted(h.kind.value for h in holds))}"
        if VULNERABLE_FLAG in case.flags:
            return "vulnerable customer: no visits"
        site = request.site
        policy = self.policy(facts.loan.borrower.jurisdiction)
        if site.place != "home" and not site.consent and not policy.workplace:
            return f"no visit at a {site.place} without the borrower's express consent"
        return None

    def objections(
        self,
        request: VisitRequest,
        at: dt.datetime,
        facts: Facts,
        *,
        as_of: dt.date,
        action: PlannedAction | None = None,
    ) -> list[str]:
        """Every reason a visit for ``request`` may not happen at the instant ``at``
        (``action``: :meth:`action` of the request, when the caller has it)."""
        reason = self.standing(request, facts, as_of)
        if reason is not None:
            return [reason]
        policy = self.policy(facts.loan.borrower.jurisdiction)
        found = []
        if at < request.requested_at + policy.notice:
            found.append(f"notice: less than {policy.notice} since the visit notice")
        found += [
            f"{v.rule_id}: {v.detail}" if v.detail else v.rule_id
            for result in self._hook(
                action=action or self.action(request),
                loan=facts.loan,
                case=facts.case,
                as_of=as_of,
                at=at,
                history=facts.history,
                # The visit itself, after the notice its dispatch gave. Never the notice's
                # own instant: the bridge takes that as the notice being given now.
                visit_notice_at=request.requested_at if request.requested_at < at else None,
            )
            for v in (result or ())
        ]
        return found

    @staticmethod
    def action(request: VisitRequest) -> PlannedAction:
        """The visit itself as a planned action: the request's action (its key: its
        recorded dispatch is the notice) with the visit's place as its contact point
        and the door script (:data:`DOOR_SCRIPT`) as what is said."""
        contact = ContactPoint(
            ContactKind.ADDRESS, request.site.address or request.key, label=request.site.place
        )
        return attrs.evolve(request.action, contact=contact, template=DOOR_SCRIPT)

    def window(
        self, request: VisitRequest, day: dt.date, service: dt.timedelta
    ) -> Window | Unplanned:
        """The lawful window of the visit's start on ``day`` (the borrower's local day).

        Every instant from the window's start to its end plus ``service`` is one the
        rules allow at the sampled steps; the longest such run of the day is chosen.
        """
        zone = self.zone(request)
        if zone is None:
            return self._refused(request, "the borrower's time zone is unknown", retry=False)
        facts = self.facts(request.loan_id, day)
        if facts is None:
            return self._refused(request, "no such loan or case", retry=False)
        reason = self.standing(request, facts, day)
        if reason is not None:
            return self._refused(request, reason, retry=False)
        tz = zoneinfo.ZoneInfo(zone)
        first = dt.datetime.combine(day, self._day[0], tz).astimezone(dt.UTC)
        last = dt.datetime.combine(day, self._day[1], tz).astimezone(dt.UTC)
        best: tuple[dt.datetime, dt.datetime] | None = None
        run_start: dt.datetime | None = None
        at = first
        seen: list[str] = []
        action = self.action(request)
        while at <= last:
            found = self.objections(request, at, facts, as_of=day, action=action)
            if not found:
                run_start = at if run_start is None else run_start
                if best is None or at - run_start > best[1] - best[0]:
                    best = (run_start, at)
            else:
                run_start = None
                seen += [r for r in found if r not in seen]
            at += self._step
        if best is None or best[1] - best[0] < service:
            why = "; ".join(seen[:3]) if seen else "no lawful time long enough for the visit"
            return self._refused(request, why, retry=True)
        return Window(start=best[0], end=best[1] - service)

    @staticmethod
    def _refused(request: VisitRequest, reason: str, *, retry: bool) -> Unplanned:
        return Unplanned(key=request.key, loan_id=request.loan_id, reason=reason, retry=retry)
