"""What the stage policy's optional capabilities remember on a case.

One record, :class:`PolicyState`, kept on :attr:`Case.policy_state`: delinquency
pauses, the loan status the host set, the last delinquency ranges, dunning
notices and credit notes, the running dunning campaign, the last failed payment
and the date of the last run. A case that uses none of them carries the empty
record, so nothing about it changes. :meth:`PolicyState.to_doc` and
:meth:`PolicyState.from_doc` give the plain JSON form storage keeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from loancollect.domain.allocation import Component
from loancollect.domain.campaigns import CampaignState
from loancollect.domain.delinquency import DelinquencyPause, LoanStatus
from loancollect.domain.dunning import CreditNote, Notice, NoticeStatus
from loancollect.domain.money import Money

__all__ = ["FailedPayment", "PolicyState"]


@attrs.frozen(kw_only=True)
class FailedPayment:
    """The result the payment system gave for the last failed payment (Kill Bill's
    ``responseForLastFailedPayment``: ``INSUFFICIENT_FUNDS``, ``CARD_EXPIRED`` …)."""

    response: str
    on: dt.date


def _t(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class PolicyState:
    """The case's state for the optional policy capabilities (see the module)."""

    pauses: tuple[DelinquencyPause, ...] = attrs.field(default=(), converter=_t)
    loan_status: LoanStatus = LoanStatus.ACTIVE
    ranges: tuple[tuple[int, str], ...] = attrs.field(default=(), converter=_t)
    notices: tuple[Notice, ...] = attrs.field(default=(), converter=_t)
    credit_notes: tuple[CreditNote, ...] = attrs.field(default=(), converter=_t)
    campaign: CampaignState | None = None
    failed_payment: FailedPayment | None = None
    last_run: dt.date | None = None

    @property
    def is_empty(self) -> bool:
        """True if nothing is recorded."""
        return self == _EMPTY

    def notice(self, notice_id: str) -> Notice | None:
        """The notice called ``notice_id``."""
        return next((n for n in self.notices if n.id == notice_id), None)

    def latest_notice(self, stage: str) -> Notice | None:
        """The last notice issued for ``stage``."""
        found = [n for n in self.notices if n.stage == stage]
        return found[-1] if found else None

    def with_notice(self, notice: Notice) -> PolicyState:
        """A copy with ``notice`` replacing the one of its id (or added)."""
        others = [n for n in self.notices if n.id != notice.id]
        if len(others) == len(self.notices):
            return attrs.evolve(self, notices=(*self.notices, notice))
        return attrs.evolve(
            self, notices=tuple(notice if n.id == notice.id else n for n in self.notices)
        )

    # -- stored form ---------------------------------------------------------------------
    def to_doc(self) -> dict[str, Any]:
        """The plain JSON form (only what is set)."""
        doc: dict[str, Any] = {}
        if self.pauses:
            doc["pauses"] = [
                [p.start.isoformat(), _iso(p.end), p.reason, _iso(p.resumed_on)]
                for p in self.pauses
            ]
        if self.loan_status is not LoanStatus.ACTIVE:
            doc["loan_status"] = self.loan_status.value
        if self.ranges:
            doc["ranges"] = [[n, r] for n, r in self.ranges]
        if self.notices:
            doc["notices"] = [_notice_doc(n) for n in self.notices]
        if self.credit_notes:
            doc["credit_notes"] = [
                [c.id, _money(c.amount), c.on.isoformat(), c.component.value, c.reason]
                for c in self.credit_notes
            ]
        if self.campaign is not None:
            c = self.campaign
            doc["campaign"] = [
                c.code,
                c.started_on.isoformat(),
                c.attempts,
                _iso(c.last_attempt_on),
                _iso(c.finished_on),
            ]
        if self.failed_payment is not None:
            doc["failed_payment"] = [
                self.failed_payment.response,
                self.failed_payment.on.isoformat(),
            ]
        if self.last_run is not None:
            doc["last_run"] = self.last_run.isoformat()
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> PolicyState:
        """The record of a stored form (the inverse of :meth:`to_doc`)."""
        if not doc:
            return _EMPTY
        campaign = doc.get("campaign")
        failed = doc.get("failed_payment")
        return cls(
            pauses=tuple(
                DelinquencyPause(
                    start=_date(s), end=_opt_date(e), reason=r, resumed_on=_opt_date(res)
                )
                for s, e, r, res in doc.get("pauses", ())
            ),
            loan_status=LoanStatus(doc.get("loan_status", "active")),
            ranges=tuple((int(n), str(r)) for n, r in doc.get("ranges", ())),
            notices=tuple(_notice_from(d) for d in doc.get("notices", ())),
            credit_notes=tuple(
                CreditNote(
                    id=i, amount=_money_from(a), on=_date(on), component=Component(c), reason=r
                )
                for i, a, on, c, r in doc.get("credit_notes", ())
            ),
            campaign=CampaignState(
                code=campaign[0],
                started_on=_date(campaign[1]),
                attempts=int(campaign[2]),
                last_attempt_on=_opt_date(campaign[3]),
                finished_on=_opt_date(campaign[4]),
            )
            if campaign
            else None,
            failed_payment=FailedPayment(response=failed[0], on=_date(failed[1]))
            if failed
            else None,
            last_run=_opt_date(doc.get("last_run")),
        )


_EMPTY = PolicyState()


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _opt_date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _money(m: Money) -> list[str]:
    return [m.currency, str(m.amount)]


def _money_from(doc: list[str]) -> Money:
    return Money(doc[1], doc[0])


def _notice_doc(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "stage": n.stage,
        "type": n.dunning_type,
        "issued_on": n.issued_on.isoformat(),
        "overdue": _money(n.overdue),
        "interest": _money(n.interest),
        "fee": _money(n.fee),
        "language": n.language,
        "text": n.text,
        "status": n.status.value,
        "status_on": _iso(n.status_on),
        "fee_source": None if n.fee_source is None else _money(n.fee_source),
        "fee_rate": None if n.fee_rate is None else str(n.fee_rate),
    }


def _notice_from(d: Mapping[str, Any]) -> Notice:
    return Notice(
        id=d["id"],
        stage=d["stage"],
        dunning_type=d["type"],
        issued_on=_date(d["issued_on"]),
        overdue=_money_from(d["overdue"]),
        interest=_money_from(d["interest"]),
        fee=_money_from(d["fee"]),
        language=d["language"],
        text=d["text"],
        status=NoticeStatus(d["status"]),
        status_on=_opt_date(d["status_on"]),
        fee_source=None if d["fee_source"] is None else _money_from(d["fee_source"]),
        fee_rate=None if d["fee_rate"] is None else Decimal(d["fee_rate"]),
    )
