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
    """

    def __init__(self, pm: pluggy.PluginManager, *, history_days: int) -> None:
        self._hook = pm.hook.loancollect_check_contact
        self._history = dt.timedelta(days=history_days)

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

        What the engine does at ``at`` is dispatch the action, and the dispatch of a
        field-visit action is the visit's notice (the visit is made later, and judged
        then by whoever makes it), so the rules are told the notice is given at ``at``
        (``visit_notice_at``); they ignore it for every other medium.
        """
        return [
            v
            for result in self._hook(
                action=action,
                loan=loan,
                case=case,
                as_of=as_of,
                at=at,
                history=history,
                visit_notice_at=at,
            )
            for v in (result or ())
        ]
