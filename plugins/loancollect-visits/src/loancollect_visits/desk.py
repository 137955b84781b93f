"""The field desk: what happens when an agent's phone checks in, checks out and
reports a visit's outcome (the logic behind the check-in app, :mod:`.app`).

- The device is authenticated (its token, compared in constant time) and must be
  the one of the agent the visit is planned for.
- At check-in the rule packs and the visit policies are asked again, at the instant
  of arrival: a visit they do not allow now is refused (nothing is recorded, the
  agent must not go in).
- The fix is geofenced against the visit's address: farther than ``radius_m`` (the
  fix's accuracy circle included) is flagged ``far``; a fix less accurate than
  ``max_accuracy_m`` is flagged ``inaccurate``; arriving after the planned time plus
  ``grace`` or outside the lawful window is flagged ``late`` (``early`` before it).
  Flagged check-ins are recorded with their flags for review, never silently.
- A repeated check-in or check-out (a phone retrying) returns the first one.
- The outcome goes through the engine's intake as a typed
  :class:`~loancollect.domain.intake.Outcome` (channel ``visit``, the agent, the
  fix, the visit's duration, evidence hashes, a promise's terms). Vulnerability
  indicators set the case's ``vulnerable`` flag (no further visits; the rule packs
  read it too) and, where the policy says so, place a hold.
- Lone-worker rule: an agent checked in for longer than ``lone_worker`` without
  checking out raises a :class:`LoneWorkerAlert` (:meth:`FieldDesk.sweep`).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import logging
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from loancollect.domain.case import Hold, HoldKind, OutcomeKind
from loancollect.domain.commands import CaseCommand, SetFlag
from loancollect.domain.errors import ValidationError
from loancollect.domain.intake import Actor, Outcome, PromiseTerms
from loancollect.domain.money import Money
from loancollect_visits.book import CheckIn, VisitBook
from loancollect_visits.geo import distance_m
from loancollect_visits.lawful import VULNERABLE_FLAG, VisitRules
from loancollect_visits.model import Agent, Stop
from loancollect_visits.positions import Position

__all__ = [
    "AuthError",
    "Desk",
    "FieldDesk",
    "LoneWorkerAlert",
    "Reply",
    "VisitIntake",
    "VisitResult",
    "token_digest",
]

_LOG = logging.getLogger("loancollect.visits")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class VisitResult(enum.Enum):
    """What the agent reports a visit came to."""

    MET_BORROWER = "met_borrower"
    THIRD_PARTY = "third_party"
    NOT_AT_HOME = "not_at_home"
    MOVED = "moved"
    REFUSED_ENTRY = "refused_entry"
    PROMISE = "promise"
    DISPUTE = "dispute"

    @property
    def outcome(self) -> OutcomeKind:
        """The contact outcome recorded for it."""
        return _OUTCOMES[self]


_OUTCOMES: Mapping[VisitResult, OutcomeKind] = {
    VisitResult.MET_BORROWER: OutcomeKind.RIGHT_PARTY_CONTACT,
    VisitResult.THIRD_PARTY: OutcomeKind.THIRD_PARTY,
    VisitResult.NOT_AT_HOME: OutcomeKind.NOT_AT_HOME,
    VisitResult.MOVED: OutcomeKind.MOVED,
    VisitResult.REFUSED_ENTRY: OutcomeKind.REFUSED,
    VisitResult.PROMISE: OutcomeKind.PROMISE,
    VisitResult.DISPUTE: OutcomeKind.DISPUTE_RAISED,
}


class VisitIntake(Protocol):
    """The part of the engine's intake the desk uses (``engine.intake``)."""

    def record_outcome(
        self, loan_id: str, outcome: Outcome, *, at: dt.datetime | None = None
    ) -> None:
        """Record a contact outcome."""
        ...

    def place_hold(self, loan_id: str, hold: Hold) -> None:
        """Hold escalation and contact."""
        ...

    def apply(self, loan_id: str, command: CaseCommand, *, on: dt.date) -> Any:
        """Apply a case command."""
        ...


class AuthError(Exception):
    """The device is unknown, its token wrong, or the visit not its agent's."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@attrs.frozen(kw_only=True)
class Reply:
    """The desk's answer: an HTTP status and a JSON body."""

    status: int
    body: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class LoneWorkerAlert:
    """An agent checked in and not out within the lone-worker time: check on them."""

    visit_id: str
    agent: str
    device: str
    checked_in_at: dt.datetime
    overdue_at: dt.datetime


def token_digest(token: str) -> str:
    """The SHA-256 of a device token, as the desk keeps it (never the token)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Desk(Protocol):
    """What the check-in app asks of the desk."""

    def authenticate(self, device: str, token: str | None) -> Agent:
        """The agent of ``device``; :class:`AuthError` otherwise."""
        ...

    def position(self, position: Position, agent: Agent) -> Reply:
        """A check-in or check-out."""
        ...

    def report(self, visit_id: str, body: Mapping[str, Any], agent: Agent) -> Reply:
        """A visit's outcome."""
        ...

    def sweep(self) -> tuple[LoneWorkerAlert, ...]:
        """Raise the lone-worker alerts due now."""
        ...


class FieldDesk:
    """The desk of one tenant.

    :param book: planned stops, check-ins and outcomes.
    :param rules: the lawfulness checks (asked again at check-in).
    :param intake: the engine's intake (``engine.intake``).
    :param agents: the agents; each one's ``device`` identifies their phone.
    :param tokens: SHA-256 of each device's token (:func:`token_digest`), by device id.
    :param now: the clock (aware instants).
    :param radius_m: the geofence around the visit's address.
    :param max_accuracy_m: fixes less accurate than this are flagged.
    :param grace: how late after the planned time an arrival is still on time.
    :param lone_worker: the longest a visit may last before the alert.
    :param alert: called with each lone-worker alert (and logged).
    """

    def __init__(
        self,
        *,
        book: VisitBook,
        rules: VisitRules,
        intake: VisitIntake,
        agents: Sequence[Agent],
        tokens: Mapping[str, str],
        now: Callable[[], dt.datetime],
        radius_m: int = 150,
        max_accuracy_m: int = 100,
        grace: dt.timedelta = dt.timedelta(minutes=30),
        lone_worker: dt.timedelta = dt.timedelta(minutes=90),
        alert: Callable[[LoneWorkerAlert], None] = lambda _: None,
    ) -> None:
        self.book = book
        self.rules = rules
        self.intake = intake
        self._agents = {a.device: a for a in agents if a.device}
        self._tokens = dict(tokens)
        self.now = now
        self.radius_m = radius_m
        self.max_accuracy_m = max_accuracy_m
        self.grace = grace
        self.lone_worker = lone_worker
        self._alert = alert

    # -- who is posting ------------------------------------------------------------
    def authenticate(self, device: str, token: str | None) -> Agent:
        """The agent whose phone ``device`` is, if ``token`` is its token.

        :raises AuthError: 401 without a token, 403 for an unknown device or a wrong token.
        """
        if not token:
            raise AuthError(401, "device token missing (Authorization: Bearer <token>)")
        expected = self._tokens.get(device)
        agent = self._agents.get(device)
        if expected is None or agent is None:
            hmac.compare_digest(token_digest(token), "0" * 64)  # same work either way
            raise AuthError(403, "unknown device or wrong token")
        if not hmac.compare_digest(token_digest(token), expected):
            raise AuthError(403, "unknown device or wrong token")
        return agent

    def _stop(self, visit_id: str, agent: Agent) -> Stop | Reply:
        found = self.book.stop(visit_id)
        if found is None:
            return Reply(status=404, body={"error": "no such planned visit", "field": "visit"})
        stop, agent_id = found
        if agent_id != agent.id:
            raise AuthError(403, "this visit is planned for another agent")
        return stop

    # -- check-in and check-out ---------------------------------------------------
    def position(self, position: Position, agent: Agent) -> Reply:
        """Check in or out at a visit with the phone's fix."""
        self.sweep()
        stop = self._stop(position.visit, agent)
        if isinstance(stop, Reply):
            return stop
        if position.event == "checkin":
            return self._check_in(stop, position)
        return self._check_out(stop, position)

    def _check_in(self, stop: Stop, position: Position) -> Reply:
        first = self.book.arrival(stop.visit_id)
        if first is not None:
            return self._record_reply(first, duplicate=True)
        day = position.at.astimezone(zoneinfo.ZoneInfo(stop.zone)).date()
        facts = self.rules.facts(stop.request.loan_id, day)
        if facts is None:
            return Reply(status=404, body={"error": "the visit's loan is unknown"})
        reasons = self.rules.objections(stop.request, position.at, facts, as_of=day)
        if reasons:
            _LOG.warning("check-in at visit %s refused by the rules", stop.visit_id)
            return Reply(
                status=409,
                body={
                    "status": "refused",
                    "visit": stop.visit_id,
                    "reasons": reasons,
                    "detail": "the rules do not allow this visit now: do not go in",
                },
            )
        record = self._record(stop, position, arrival=True)
        return self._record_reply(self.book.check_in(record), duplicate=False)

    def _check_out(self, stop: Stop, position: Position) -> Reply:
        if self.book.arrival(stop.visit_id) is None:
            return Reply(
                status=409,
                body={"error": "check out before checking in", "field": "event"},
            )
        first = self.book.departure(stop.visit_id)
        if first is not None:
            return self._record_reply(first, duplicate=True)
        record = self._record(stop, position, arrival=False)
        return self._record_reply(self.book.check_out(record), duplicate=False)

    def _record(self, stop: Stop, position: Position, *, arrival: bool) -> CheckIn:
        point = position.point
        gap = distance_m(point, stop.request.site.point)
        accuracy = None if point.accuracy_m is None else int(point.accuracy_m)
        flags = []
        if gap - (accuracy or 0) > self.radius_m:
            flags.append("far")
        if accuracy is None or accuracy > self.max_accuracy_m:
            flags.append("inaccurate")
        if arrival:
            if position.at > stop.arrive + self.grace or position.at > stop.window.end:
                flags.append("late")
            elif position.at < stop.window.start:
                flags.append("early")
        if abs(self.now() - position.at) > dt.timedelta(minutes=15):
            flags.append("stale")  # the fix's time is far from the server's
        return CheckIn(
            visit_id=stop.visit_id,
            device=position.device,
            at=position.at,
            point=point,
            distance_m=round(gap),
            accuracy_m=accuracy,
            flags=tuple(flags),
        )

    @staticmethod
    def _record_reply(record: CheckIn, *, duplicate: bool) -> Reply:
        body = {
            "status": "flagged" if record.flags else "accepted",
            "visit": record.visit_id,
            "at": record.at.isoformat(),
            "distance_m": record.distance_m,
            "flags": list(record.flags),
            "duplicate": duplicate,
        }
        status = 200 if duplicate else (202 if record.flags else 201)
        return Reply(status=status, body=body)

    # -- the outcome ---------------------------------------------------------------
    def report(self, visit_id: str, body: Mapping[str, Any], agent: Agent) -> Reply:
        """Record the visit's outcome through the intake (once; a repeat is a duplicate).

        :raises ValidationError: naming the bad member of ``body``; nothing is recorded.
        """
        stop = self._stop(visit_id, agent)
        if isinstance(stop, Reply):
            return stop
        arrival = self.book.arrival(visit_id)
        if arrival is None:
            return Reply(status=409, body={"error": "report after checking in", "field": "visit"})
        result = _result(body.get("result"))
        at = arrival.at
        departure = self.book.departure(visit_id)
        end = departure.at if departure is not None else self.now()
        indicators = _strings(body.get("vulnerable", []), "vulnerable")
        evidence = _strings(body.get("evidence", []), "evidence")
        for digest in evidence:
            if not _SHA256.match(digest):
                raise ValidationError("evidence", digest[:16], "expected a SHA-256 in hex")
        note = str(body.get("note", ""))[:200]
        previous = self.book.outcome(visit_id)
        if previous is not None:
            same = previous == result.value
            return Reply(
                status=200 if same else 409,
                body={"status": "duplicate" if same else "conflict", "result": previous},
            )
        request = stop.request
        promise = _promise(body.get("promise")) if result is VisitResult.PROMISE else None
        if result is not VisitResult.PROMISE and body.get("promise") is not None:
            raise ValidationError("promise", result.value, "terms are given only with a promise")
        outcome = Outcome(
            kind=result.outcome,
            at=at,
            channel="visit",
            key=request.key,
            by=Actor(agent=agent.id),
            duration=max(end - at, dt.timedelta(0)),
            evidence=",".join(evidence),
            location=arrival.point,
            promise=promise,
            note=note or (result.value if result is VisitResult.REFUSED_ENTRY else ""),
        )
        if self.book.reported(visit_id, result.value) != result.value:
            return Reply(status=409, body={"status": "conflict"})
        self.intake.record_outcome(request.loan_id, outcome)
        held = False
        if indicators:
            day = at.astimezone(zoneinfo.ZoneInfo(stop.zone)).date()
            facts = self.rules.facts(request.loan_id, day)
            if facts is not None and VULNERABLE_FLAG not in facts.case.flags:
                reason = "vulnerability indicators reported on a visit"
                self.intake.apply(
                    request.loan_id, SetFlag(flag=VULNERABLE_FLAG, reason=reason), on=day
                )
            if (
                facts is not None
                and self.rules.policy(facts.loan.borrower.jurisdiction).hold_on_vulnerable
            ):
                self.intake.place_hold(
                    request.loan_id,
                    Hold(HoldKind.MANUAL, day, None, "vulnerable customer: visits stopped"),
                )
                held = True
        return Reply(
            status=201,
            body={
                "status": "recorded",
                "result": result.value,
                "outcome": result.outcome.value,
                "vulnerable": bool(indicators),
                "hold": held,
            },
        )

    # -- lone workers ----------------------------------------------------------------
    def sweep(self) -> tuple[LoneWorkerAlert, ...]:
        """Raise an alert for every agent checked in longer than ``lone_worker``."""
        now = self.now()
        alerts = []
        for record in self.book.overdue(now, self.lone_worker):
            found = self.book.stop(record.visit_id)
            agent = found[1] if found is not None else ""
            alert = LoneWorkerAlert(
                visit_id=record.visit_id,
                agent=agent,
                device=record.device,
                checked_in_at=record.at,
                overdue_at=record.at + self.lone_worker,
            )
            _LOG.warning(
                "lone-worker alert: agent %s not checked out of visit %s", agent, record.visit_id
            )
            self._alert(alert)
            alerts.append(alert)
        return tuple(alerts)


def _result(value: Any) -> VisitResult:
    try:
        return VisitResult(value)
    except ValueError:
        choices = sorted(r.value for r in VisitResult)
        raise ValidationError("result", str(value)[:40], f"expected one of {choices}") from None


def _strings(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(field, type(value).__name__, "expected a list of strings")
    return [v.strip().lower() if field == "evidence" else v.strip() for v in value]


def _promise(value: Any) -> PromiseTerms:
    if not isinstance(value, dict):
        raise ValidationError("promise", None, "a promise needs its terms (amount, currency, due)")
    amount = value.get("amount")
    if not isinstance(amount, str):
        raise ValidationError("promise.amount", amount, "expected a decimal string like '500.00'")
    currency = value.get("currency")
    if not isinstance(currency, str):
        raise ValidationError("promise.currency", currency, "expected an ISO 4217 code")
    try:
        due = dt.date.fromisoformat(str(value.get("due")))
    except ValueError:
        raise ValidationError("promise.due", value.get("due"), "expected YYYY-MM-DD") from None
    return PromiseTerms(amount=Money(amount, currency), due=due)
