"""Deciding one case: ``decide`` with the decision hooks, then a verdict on every action.

This is the CPU part of a review and the one piece of it that touches no storage:
given what was read for a case (:class:`CaseInput`), :class:`Decider` runs
:func:`~loancollect.domain.decision.decide` once — the decision hooks as its
:class:`~loancollect.domain.decision.Advice`, the plan and offer hooks after it — and
has the :class:`~loancollect.engine.guard.Guard` judge every planned action at the
batch's instant. The single-process review and the pipelined review's decide
processes both call :meth:`Decider.decide_all`, so a case is decided the same way
wherever it runs. Its inputs and results are plain picklable records.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pluggy

from loancollect.domain.case import Case
from loancollect.domain.decision import Advice, Decision, decide
from loancollect.domain.events import Event
from loancollect.domain.loans import ContactKind, Loan, Payment
from loancollect.domain.overdue import Assessment
from loancollect.domain.scoring import ScoreContribution, Scores
from loancollect.domain.strategy import Experiment, PlannedAction, Strategy
from loancollect.engine.config import CycleConfig
from loancollect.engine.guard import Guard, Verdict

__all__ = ["CaseFailure", "CaseInput", "CaseOutcome", "Decider", "JudgedAction", "describe"]

_LOG = logging.getLogger("loancollect.engine.review")


@attrs.frozen(kw_only=True)
class CaseInput:
    """What the review read for one case: everything its decision depends on.

    :param history: the loan's recent events, as the contact rules see them.
    """

    case: Case
    loan: Loan
    payments: tuple[Payment, ...]
    history: tuple[Event, ...]


@attrs.frozen(kw_only=True)
class JudgedAction:
    """A planned action and the rules' verdict on it at the batch's instant."""

    action: PlannedAction
    verdict: Verdict


@attrs.frozen(kw_only=True)
class CaseOutcome:
    """A case decided and its actions judged, ready to be written."""

    input: CaseInput
    decision: Decision
    judged: tuple[JudgedAction, ...]


@attrs.frozen(kw_only=True)
class CaseFailure:
    """A case whose reading or deciding raised; it is reported and stays due.

    :param message: ``ExceptionType: text``.
    """

    loan_id: str
    message: str


def describe(exc: BaseException) -> str:
    """``ExceptionType: text``, as problems report an exception."""
    return f"{type(exc).__name__}: {exc}"


class Decider:
    """Decides cases with one plug-in manager's hooks and judges their actions.

    :param pm: the plug-in manager whose decision and contact hooks are asked.
    :param config: the cycle's policy, strategy, assessment settings and rates.
    :param guard: judges each planned action (the rule packs of ``pm``).
    :param contact_kinds: the contact kind each channel reaches, by channel name.
    """

    def __init__(
        self,
        *,
        pm: pluggy.PluginManager,
        config: CycleConfig,
        guard: Guard,
        contact_kinds: Mapping[str, ContactKind | None],
    ) -> None:
        self._hook = pm.hook
        self._config = config
        self._guard = guard
        self._contact_kinds = dict(contact_kinds)
        # Built once, not per case: decide would wrap a plain strategy the same way.
        strategy = config.strategy
        self._strategy: Strategy | Experiment = (
            strategy if isinstance(strategy, Experiment) else Experiment.single(strategy)
        )

    def decide_all(
        self, items: Sequence[CaseInput | CaseFailure], *, as_of: dt.date, at: dt.datetime
    ) -> list[CaseOutcome | CaseFailure]:
        """Every case decided and judged, in order; a case that raises fails alone."""
        out: list[CaseOutcome | CaseFailure] = []
        for item in items:
            if isinstance(item, CaseFailure):
                out.append(item)
                continue
            try:
                out.append(self.decide_one(item, as_of=as_of, at=at))
            except Exception as exc:  # one bad case never stops the others
                _LOG.warning("review of %s failed: %s", item.case.loan_id, describe(exc))
                out.append(CaseFailure(loan_id=item.case.loan_id, message=describe(exc)))
        return out

    def decide_one(self, item: CaseInput, *, as_of: dt.date, at: dt.datetime) -> CaseOutcome:
        """One case: its decision and the verdict on each of its actions at ``at``."""
        decision = self._decide(item.loan, item.payments, item.case, as_of)
        judged = tuple(
            JudgedAction(
                action=action,
                verdict=self._guard.judge(
                    action, item.loan, decision.case, as_of=as_of, at=at, history=item.history
                ),
            )
            for action in decision.actions
        )
        return CaseOutcome(input=item, decision=decision, judged=judged)

    def _decide(
        self, loan: Loan, payments: Sequence[Payment], case: Case, as_of: dt.date
    ) -> Decision:
        """One decision for the case, with the decision hooks as its advisors."""
        hook = self._hook
        cfg = self._config
        decision = decide(
            loan=loan,
            payments=payments,
            case=case,
            as_of=as_of,
            policy=cfg.policy,
            strategy=self._strategy,
            config=cfg.assessment,
            advice=self._advice(loan, as_of),
            channels=self._contact_kinds,
            rates=cfg.rates,
        )
        extra_actions = _collected(
            hook.loancollect_plan_actions,
            loan=loan,
            case=decision.case,
            decision=decision,
            as_of=as_of,
        )
        extra_offers = _collected(
            hook.loancollect_offer_arrangements,
            loan=loan,
            case=decision.case,
            decision=decision,
            as_of=as_of,
        )
        if extra_actions or extra_offers:
            decision = decision.with_extras(extra_actions, extra_offers)
        return decision

    def _advice(self, loan: Loan, as_of: dt.date) -> Advice | None:
        """The decision hooks that have implementations, as advisors for ``decide``.

        Hooks nobody implements are not called: a pluggy call costs more than the
        check, and a review asks several per case.
        """
        hook = self._hook
        scores = segment = stage = None
        if hook.loancollect_score.get_hookimpls():

            def scores(assessment: Assessment, case: Case) -> list[ScoreContribution]:
                found = hook.loancollect_score(
                    loan=loan, case=case, assessment=assessment, as_of=as_of
                )
                return [c for c in found if c is not None]

        if hook.loancollect_segment.get_hookimpls():

            def segment(assessment: Assessment, case: Case, combined: Scores) -> str | None:
                found: str | None = hook.loancollect_segment(
                    loan=loan, case=case, assessment=assessment, scores=combined, as_of=as_of
                )
                return found

        if hook.loancollect_override_stage.get_hookimpls():

            def stage(case: Case, proposed: str) -> str | None:
                found: str | None = hook.loancollect_override_stage(
                    loan=loan, case=case, proposed=proposed, as_of=as_of
                )
                return found

        if scores is None and segment is None and stage is None:
            return None
        return Advice(scores=scores, segment=segment, stage=stage)


def _collected(caller: pluggy.HookCaller, **kwargs: object) -> list[Any]:
    """Every implementation's items, flattened; no call when nobody implements it."""
    if not caller.get_hookimpls():
        return []
    return [item for result in caller(**kwargs) for item in (result or ())]
