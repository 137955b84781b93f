"""The compliance engine's answer for a call, exported for the queue.

A call task is offered only when the rule packs allow the call at that instant.
:class:`RulesGate` asks the engine's compliance guard (the one the engine installed
on the plug-in manager) about the task's planned action with the loan's stored
history, and exports what the queue needs: allowed now or not, the earliest
instant it would be (the next opening of the borrower's calling window, or the
end of a cap's period), and how many more attempts the caps leave today — found by
asking again with that many more attempts in the history, so every cap of every
pack counts, whatever its shape. Attempts count whether or not anyone answered:
each disposition is recorded as an outcome, and the history counts each one.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Protocol

import attrs
import pluggy

from loancollect.builtin.compliance import GUARD_NAME, ComplianceGuard
from loancollect.domain.compliance import Outcome as Verdicts
from loancollect.domain.events import ActionSent, Event, new_event
from loancollect.domain.strategy import PlannedAction
from loancollect.errors import ConfigurationError
from loancollect.ports import UnitOfWorkFactory

__all__ = ["Gate", "Permit", "RulesGate"]


@attrs.frozen(kw_only=True)
class Permit:
    """Whether a call may be made now.

    :param earliest: when it is not allowed now, the earliest instant it would be
        (``None``: blocked, no later time helps).
    :param remaining: attempts the caps still allow today, this one included, up to the
        probe's limit (``None`` when not allowed).
    :param reasons: the failing rules' ids and details.
    """

    allowed: bool
    earliest: dt.datetime | None = None
    remaining: int | None = None
    reasons: tuple[str, ...] = ()


class Gate(Protocol):
    """What the queue asks before it offers a call."""

    def permit(self, action: PlannedAction, at: dt.datetime) -> Permit:
        """May ``action`` be made at the instant ``at``."""
        ...


class RulesGate:
    """A :class:`Gate` over the engine's compliance guard and the loan's history.

    :param pm: the plug-in manager the engine installed its guard on.
    :param storage: the tenant's storage (the loan, its case and its events).
    :param history_days: how far back the rules see (the engine's setting).
    :param probe: how many further attempts :attr:`Permit.remaining` looks for.
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        storage: UnitOfWorkFactory,
        *,
        history_days: int = 400,
        probe: int = 3,
    ) -> None:
        self._pm = pm
        self._storage = storage
        self._history = dt.timedelta(days=history_days)
        self._probe = probe

    def _guard(self) -> ComplianceGuard:
        guard = self._pm.get_plugin(GUARD_NAME)
        if not isinstance(guard, ComplianceGuard):
            raise ConfigurationError(
                "no compliance guard on the plug-in manager: build the engine first "
                "(calls are not offered unchecked)"
            )
        return guard

    def permit(self, action: PlannedAction, at: dt.datetime) -> Permit:
        """Ask the rules about ``action`` at ``at``; fail closed when they cannot say."""
        if at.utcoffset() is None:
            return Permit(allowed=False, reasons=("naive instant: the local time is unknown",))
        with self._storage() as uow:
            loan = uow.loans.get(action.loan_id)
            case = uow.cases.get(action.loan_id)
            if loan is None or case is None:
                return Permit(allowed=False, reasons=(f"no loan or case {action.loan_id}",))
            zone = loan.borrower.time_zone
            as_of = at.astimezone(zoneinfo.ZoneInfo(zone) if zone else dt.UTC).date()
            history = uow.events.recent(action.loan_id, as_of - self._history)
        try:
            guard = self._guard()
            verdict = guard.verdict(
                action=action, loan=loan, case=case, as_of=as_of, at=at, history=history
            )
        except ConfigurationError as exc:
            return Permit(allowed=False, reasons=(str(exc),))
        if verdict is None:  # nothing to check: a channel that contacts nobody
            return Permit(allowed=True, remaining=None)
        reasons = tuple(f"{r.rule_id}: {r.detail}" for r in verdict.reasons)
        if not verdict.allowed:
            earliest = verdict.earliest if verdict.outcome is Verdicts.RESCHEDULED else None
            return Permit(allowed=False, earliest=earliest, reasons=reasons)
        remaining = 1
        extra: list[Event] = []
        for n in range(1, self._probe):
            point = action.contact
            sent = ActionSent(
                key=f"probe-{n}",
                channel=action.channel,
                rule=action.rule_id,
                attempts=1,
                contact=point.masked if point is not None else "",
                place=point.label if point is not None else "",
            )
            extra.append(new_event(sent, loan_id=action.loan_id, on=as_of, at=at))
            more = guard.verdict(
                action=action,
                loan=loan,
                case=case,
                as_of=as_of,
                at=at,
                history=(*history, *extra),
            )
            if more is not None and not more.allowed:
                break
            remaining += 1
        return Permit(allowed=True, remaining=remaining)
