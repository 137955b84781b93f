"""The legal desk: opens and advances matters through the engine's intake.

The docket is never stored apart from the case: :meth:`LegalDesk.docket` rebuilds it
from the case's events; :meth:`LegalDesk.advance` checks the step against the docket
(on the court's calendar, missed periods included) before the intake records it with
:class:`~loancollect.domain.commands.AdvanceLegalMatter`. A law firm's update comes
back the same way (``advance`` with the firm's step and note).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from loancollect.domain.calendar import BusinessCalendar
from loancollect.domain.commands import AdvanceLegalMatter, OpenLegalMatter
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import Event
from loancollect.domain.legal import court_calendar, loan_limitation
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.ports import UnitOfWorkFactory
from loancollect_courts.docket import Docket, replay, route
from loancollect_courts.ledger import LawyerTariff, Ledger, ledger_for

__all__ = ["Applier", "LegalDesk", "MatterView"]

Applier = Callable[..., Event]
"""``engine.apply`` (``(loan_id, command, *, on) -> Event``)."""


_ENGLAND_WALES = frozenset({"GB", "UK", "GB-ENG", "GB-WLS"})


def _covers(route_jurisdiction: str, borrower: str) -> bool:
    """True if a route of ``route_jurisdiction`` is for a borrower in ``borrower``
    (the England and Wales route: not Scotland or Northern Ireland)."""
    if route_jurisdiction == "GB-ENG":
        return borrower in _ENGLAND_WALES
    return borrower == route_jurisdiction or borrower.startswith(route_jurisdiction + "-")


class MatterView:
    """A matter with what it needs: the loan, its history, the court calendar."""

    def __init__(
        self, loan: Loan, history: tuple[Event, ...], payments: tuple[Payment, ...]
    ) -> None:
        self.loan = loan
        self.history = history
        self.payments = payments
        calendar = court_calendar(loan.borrower.jurisdiction)
        if calendar is None:
            raise ValidationError(
                "borrower.jurisdiction", loan.borrower.jurisdiction, "no court calendar known"
            )
        self.calendar: BusinessCalendar = calendar

    def __repr__(self) -> str:
        return f"MatterView(loan={self.loan.id!r}, events={len(self.history)})"


class LegalDesk:
    """Opens matters, takes their steps, and reads their docket and ledger."""

    def __init__(
        self,
        apply: Applier,
        storage: UnitOfWorkFactory,
        *,
        tariff: LawyerTariff | None = None,
    ) -> None:
        self._apply = apply
        self._storage = storage
        self.tariff = tariff

    def __repr__(self) -> str:
        return "LegalDesk()"

    def view(self, loan_id: str) -> MatterView:
        """The loan, its events and payments.

        :raises ValidationError: if there is no such loan.
        """
        with self._storage() as uow:
            loan = uow.loans.get(loan_id)
            if loan is None:
                raise ValidationError("loan_id", loan_id, "no such loan")
            return MatterView(loan, uow.events.stream(loan_id), uow.loans.payments_for(loan_id))

    def open(
        self,
        loan_id: str,
        route_name: str,
        on: dt.date,
        *,
        matter: str | None = None,
        reason: str = "",
        allow_time_barred: bool = False,
    ) -> Docket:
        """Open a matter on route ``route_name``.

        Refused on a time-barred debt (no suit on it: Reg F § 1006.26(b), CONC 7.15;
        a PRC court does not raise limitation by itself, Civil Code art. 193, so
        ``allow_time_barred`` lets a PRC lender go on knowingly) and where the route is
        not the borrower's jurisdiction's.

        :raises ValidationError: naming the field.
        """
        chosen = route(route_name)
        view = self.view(loan_id)
        jurisdiction = view.loan.borrower.jurisdiction.upper()
        if not _covers(chosen.jurisdiction, jurisdiction):
            raise ValidationError(
                "matter.route", route_name, f"the borrower's jurisdiction is {jurisdiction}"
            )
        limitation = loan_limitation(view.loan, view.history, as_of=on)
        knowingly = allow_time_barred and chosen.jurisdiction == "CN"
        if limitation is not None and limitation.barred_on(on) and not knowingly:
            raise ValidationError(
                "matter.route",
                route_name,
                f"the debt is time-barred since {limitation.expires_on} "
                f"({limitation.citations[0]})",
            )
        name = matter or f"{loan_id}-{route_name}-{on.isoformat()}"
        self._apply(loan_id, OpenLegalMatter(matter=name, route=route_name, reason=reason), on=on)
        return Docket.open(name, chosen, on, view.calendar)

    def docket(self, loan_id: str, on: dt.date | None = None) -> Docket | None:
        """The docket of the case's latest matter (with the periods that ended before
        ``on`` applied), or None."""
        view = self.view(loan_id)
        docket = replay(view.history, view.calendar)
        if docket is None or on is None:
            return docket
        return docket.lapse(on, view.calendar)

    def advance(self, loan_id: str, step: str, on: dt.date, note: str = "") -> Docket:
        """Take ``step`` on ``on``: checked against the docket, then recorded.

        :raises ValidationError: if there is no open matter or the step does not fit.
        """
        view = self.view(loan_id)
        docket = replay(view.history, view.calendar)
        if docket is None or docket.closed:
            raise ValidationError("docket.step", step, f"no open legal matter on loan {loan_id}")
        after = docket.advance(step, on, view.calendar, note)
        self._apply(loan_id, AdvanceLegalMatter(matter=docket.matter, step=step, note=note), on=on)
        return after

    def claim(self, loan_id: str, on: dt.date) -> Money:
        """The amount claimed: the whole balance (payoff amount) on ``on``."""
        view = self.view(loan_id)
        return assess(view.loan, view.payments, on).payoff_amount

    def ledger(self, loan_id: str) -> Ledger | None:
        """The cost ledger of the case's latest matter (fees on the claim at opening)."""
        view = self.view(loan_id)
        docket = replay(view.history, view.calendar)
        if docket is None:
            return None
        claim = assess(view.loan, view.payments, docket.log[0].on).payoff_amount
        return ledger_for(docket, claim, self.tariff)
