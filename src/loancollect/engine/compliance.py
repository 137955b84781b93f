"""The bridge between the cycle and the rule packs: facts, history and objections.

The rule packs answer ``loancollect_check_contact`` (the built-in bridge in
:mod:`loancollect.builtin.compliance` turns each planned action into the
compliance engine's proposed contact). This module gives every step of the cycle
the same view of a case's history (a window of recent events, so a review costs
the same however long a loan has been in collection) and the same way to ask.
"""

from __future__ import annotations

import datetime as dt

import pluggy

from loancollect.domain.case import Case
from loancollect.domain.events import Event
from loancollect.domain.loans import Loan
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import UnitOfWork
from loancollect.registry import ContactViolation

__all__ = ["ContactRules"]


class ContactRules:
    """Asks every plug-in whether a contact may be made, with the case's history.

    :param pm: the plug-in manager whose ``loancollect_check_contact`` answers.
    :param history_days: how far back the rules see a loan's events.
    :param notice_channels: the names of the channels that deliver a visit action's
        message as the visit's written notice (capability
        :data:`~loancollect.ports.CAP_VISIT_NOTICE`); the engine finds them among the
        channels it builds.
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        *,
        history_days: int,
        notice_channels: frozenset[str] = frozenset(),
    ) -> None:
        self._hook = pm.hook.loancollect_check_contact
        self._history = dt.timedelta(days=history_days)
        self.notice_channels = frozenset(notice_channels)

    def history(self, uow: UnitOfWork, loan_id: str, as_of: dt.date) -> tuple[Event, ...]:
        """The loan's events the rules see on ``as_of``: the recent window."""
        return uow.events.recent(loan_id, as_of - self._history)

    def violations(
        self,
        action: PlannedAction,
        loan: Loan,
        case: Case,
        *,
        as_of: dt.date,
        at: dt.datetime,
        history: tuple[Event, ...],
    ) -> list[ContactViolation]:
        """Every plug-in's objections to sending ``action`` at the instant ``at``.

        What the engine does at ``at`` is dispatch the action. Through a channel that
        delivers the visit's written notice (:attr:`notice_channels`), the dispatch of a
        field-visit action is that notice (the visit is made later, and judged then by
        whoever makes it), so the rules are told the notice is given at ``at``
        (``visit_notice_at``). Through any other channel no notice is given: nothing
        is said of one, and the dispatch is judged as the visit itself, which a pack
        requiring notice refuses (fail closed). Other media ignore it.
        """
        notice = at if action.channel in self.notice_channels else None
        return [
            v
            for result in self._hook(
                action=action,
                loan=loan,
                case=case,
                as_of=as_of,
                at=at,
                history=history,
                visit_notice_at=notice,
            )
            for v in (result or ())
        ]
