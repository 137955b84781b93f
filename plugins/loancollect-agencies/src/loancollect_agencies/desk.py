"""The placement desk: each day, recall what must come back, place what should go out,
and charge off what has reached the lender's threshold.

The desk applies the pure rules (:mod:`loancollect.domain.placement`,
:mod:`loancollect.domain.chargeoff`) to every open case and records each decision
as a case command through the engine's intake, so every placement, recall and
charge-off is a stored, typed event (``CASE_PLACED``, ``CASE_RECALLED``,
``CHARGED_OFF``, ``WRITTEN_OFF``). A host runs it before the day's cycle; a
placed case is then left alone by the engine's own contact strategy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import attrs

from loancollect.domain.case import Case
from loancollect.domain.chargeoff import ChargeOffPolicy, charge_off_for
from loancollect.domain.events import CasePlaced, EventKind
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.overdue import DEFAULT_CONFIG, Assessment, AssessmentConfig, assess
from loancollect.domain.placement import (
    TIERS,
    PlacementFacts,
    PlacementPolicy,
    placement_for,
    recall_reason,
)
from loancollect.engine import Intake
from loancollect.errors import LoanCollectError
from loancollect.ports import UnitOfWorkFactory

__all__ = ["DeskReport", "PlacementDesk"]


@attrs.frozen(kw_only=True)
class DeskReport:
    """What one run of the desk did (loan ids)."""

    placed: tuple[str, ...] = ()
    recalled: tuple[str, ...] = ()
    charged_off: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """Cases left alone because the command no longer fitted them (changed meanwhile)."""


class PlacementDesk:
    """Places, recalls and charges off cases of one tenant through its intake.

    :param placement: the placement rules (``None``: place nothing, recall nothing).
    :param charge_off: the charge-off rules (``None``: charge nothing off).
    :param page: how many loans are read at a time.
    """

    def __init__(
        self,
        *,
        intake: Intake,
        storage: UnitOfWorkFactory,
        placement: PlacementPolicy | None = None,
        charge_off: ChargeOffPolicy | None = None,
        assessment: AssessmentConfig = DEFAULT_CONFIG,
        page: int = 500,
    ) -> None:
        self._intake = intake
        self._storage = storage
        self._placement = placement
        self._charge_off = charge_off
        self._assessment = assessment
        self._page = page

    def recall_due(self, as_of: dt.date, *, loan_ids: Iterable[str] | None = None) -> DeskReport:
        """Recall every placed case whose placement must end on ``as_of``.

        :param loan_ids: the cases to look at (those the host knows are placed);
            every case when not given.
        """
        recalled = []
        if self._placement is None:
            return DeskReport()
        for case in self._only(loan_ids) if loan_ids is not None else self._all_cases():
            if case.placement is None:
                continue
            command = recall_reason(case, as_of, self._placement)
            if command is not None:
                self._intake.apply(case.loan_id, command, on=as_of)
                recalled.append(case.loan_id)
        return DeskReport(recalled=tuple(recalled))

    def run(self, as_of: dt.date) -> DeskReport:
        """Recall, charge off and place, for every case, on ``as_of`` (one pass)."""
        placed: list[str] = []
        recalled: list[str] = []
        charged: list[str] = []
        problems: list[str] = []
        for loan, case, payments in self._cases():
            try:
                self._one(loan, case, payments, as_of, placed, recalled, charged)
            except LoanCollectError as exc:  # the case changed since it was read: next run
                problems.append(f"{loan.id}: {exc}")
        return DeskReport(
            placed=tuple(placed),
            recalled=tuple(recalled),
            charged_off=tuple(charged),
            problems=tuple(problems),
        )

    def _one(
        self,
        loan: Loan,
        case: Case,
        payments: tuple[Payment, ...],
        as_of: dt.date,
        placed: list[str],
        recalled: list[str],
        charged: list[str],
    ) -> None:
        """Recall, charge off and place one case (appending to the lists)."""
        if case.placement is not None:
            recall = (
                recall_reason(case, as_of, self._placement) if self._placement is not None else None
            )
            if recall is not None:
                self._intake.apply(loan.id, recall, on=as_of)
                recalled.append(loan.id)
                case, _ = recall.apply(case, on=as_of, currency=loan.currency)
        if case.sale is not None:
            return
        if case.closed_on is not None and case.charge_off is None:
            return
        assessment = assess(loan, payments, as_of, config=self._assessment)
        if self._charge_off is not None:
            command = charge_off_for(
                case,
                dpd=assessment.dpd,
                balance=assessment.payoff_amount,
                policy=self._charge_off,
                on=as_of,
            )
            if command is not None:
                self._intake.apply(loan.id, command, on=as_of)
                charged.append(loan.id)
                case, _ = command.apply(case, on=as_of, currency=loan.currency)
        if case.placement is not None:  # charged off while placed: the agency goes on
            return
        if self._placement is not None and self._could_place(case, assessment):
            facts = PlacementFacts(
                stage=case.stage,
                segment=case.segment,
                dpd=assessment.dpd,
                balance=assessment.payoff_amount,
                previous_agencies=self._previous_agencies(loan.id),
            )
            place = placement_for(case, facts, self._placement, on=as_of)
            if place is not None:
                self._intake.apply(loan.id, place, on=as_of)
                placed.append(loan.id)

    def _could_place(self, case: Case, assessment: Assessment) -> bool:
        """A cheap first look (no event read): some rule could match, whatever the tier."""
        assert self._placement is not None
        for rule in self._placement.rules:
            any_tier = PlacementFacts(
                stage=case.stage,
                segment=case.segment,
                dpd=assessment.dpd,
                balance=assessment.payoff_amount,
                previous_agencies=("",) * TIERS.index(rule.tier),
            )
            if rule.matches(any_tier):
                return True
        return False

    def _previous_agencies(self, loan_id: str) -> tuple[str, ...]:
        with self._storage() as uow:
            stream = uow.events.stream(loan_id)
        out = []
        for event in stream:
            if event.kind is EventKind.CASE_PLACED:
                payload = event.payload
                assert isinstance(payload, CasePlaced)
                out.append(payload.agency)
        return tuple(out)

    def _all_cases(self) -> Iterator[Case]:
        for _, case, _ in self._cases(payments=False):
            yield case

    def _only(self, loan_ids: Iterable[str]) -> Iterator[Case]:
        wanted = sorted(set(loan_ids))
        with self._storage() as uow:
            found = [uow.cases.get(loan_id) for loan_id in wanted]
        yield from (case for case in found if case is not None)

    def _cases(self, *, payments: bool = True) -> Iterator[tuple[Loan, Case, tuple[Payment, ...]]]:
        after: str | None = None
        while True:
            with self._storage() as uow:
                ids = uow.loans.list_ids(after=after, limit=self._page)
                found = []
                for loan_id in ids:
                    loan = uow.loans.get(loan_id)
                    case = uow.cases.get(loan_id)
                    if loan is not None and case is not None:
                        paid = uow.loans.payments_for(loan_id) if payments else ()
                        found.append((loan, case, paid))
            yield from found
            if len(ids) < self._page:
                return
            after = ids[-1]
