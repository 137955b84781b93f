"""The collectors' desk: tasks, scripts, recordings and dispositions for one tenant.

:class:`PhoneDesk` is what a host's collector desktop (or a dialer's callback
receiver) talks to. It builds the call task of a planned action (skills from the
borrower's language, recording required or not from the rule packs), the call's
script (exact amounts from the loan's assessment, the offers the engine made),
the limited-content message for machines, and records each finished call: the
disposition goes through the engine's intake as a typed outcome (the recording's
reference and retention date with it), and the call's script and transcript are
checked (:mod:`loancollect_phone.content`) into a ``CALL_REVIEWED`` event with the
QA score.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Protocol

from loancollect.domain.case import OutcomeKind
from loancollect.domain.compliance import RulePack
from loancollect.domain.events import CallReviewed, EventKind, OfferMade, new_event
from loancollect.domain.intake import Actor, Outcome
from loancollect.domain.loans import Loan
from loancollect.domain.overdue import assess
from loancollect.domain.strategy import PlannedAction
from loancollect.errors import ValidationError
from loancollect.ports import UnitOfWorkFactory
from loancollect_phone.consent import RecordingPolicy, recording_policy
from loancollect_phone.content import Review, review_text
from loancollect_phone.dialer import CallEvent
from loancollect_phone.dispositions import NOBODY, CallRecord, Disposition, RecordingRef
from loancollect_phone.queue import CallTask
from loancollect_phone.scripts import CallScript, build_script

__all__ = ["OutcomeSink", "PhoneDesk"]


class OutcomeSink(Protocol):
    """Where outcomes go: the engine (``CollectionEngine.record_outcome``) or its intake."""

    def record_outcome(self, loan_id: str, outcome: Outcome) -> None:
        """Record ``outcome`` for ``loan_id``."""
        ...


_MACHINE = {
    "en": "Hello, this is {agent} from {business}. Please call us back at {number}. Thank you.",
    "zh": "您好,我是{business}的{agent},请您回电{number}。谢谢。",
}


class PhoneDesk:
    """Tasks, scripts and dispositions of calls, for one tenant.

    :param sink: records outcomes (the engine).
    :param storage: the tenant's storage (loans, payments, events).
    :param packs: the registered rule packs.
    :param business: the name said to machines and third parties (never "debt").
    :param callback_number: the number a machine's message asks to call back.
    :param priority: a task's priority from its action (default: later stages first).
    """

    def __init__(
        self,
        *,
        sink: OutcomeSink,
        storage: UnitOfWorkFactory,
        packs: Sequence[RulePack],
        business: str,
        callback_number: str,
        agent: str = "the accounts team",
        priority: Callable[[PlannedAction], int] | None = None,
    ) -> None:
        self.sink = sink
        self.storage = storage
        self.packs = tuple(packs)
        self.business = business
        self.callback_number = callback_number
        self.agent = agent
        self.priority = priority or _stage_priority
        self.reviews: list[tuple[str, Review]] = []
        """Each call reviewed, by id, with its review (the host's QA view)."""

    def _loan(self, loan_id: str) -> Loan:
        with self.storage() as uow:
            loan = uow.loans.get(loan_id)
        if loan is None:
            raise ValidationError("loan_id", loan_id, "no such loan")
        return loan

    def policy(self, loan: Loan) -> RecordingPolicy:
        """The recording policy for ``loan``'s borrower."""
        borrower = loan.borrower
        return recording_policy(self.packs, borrower.jurisdiction, language=borrower.locale)

    def task_for(self, action: PlannedAction, key: str) -> CallTask:
        """The call task of a planned call: priority, skills, recording required.

        Skills: the borrower's language (``lang:zh``), the team the case is assigned
        to (``team:<team>``) and the agency it is placed with (``agency:<agency>``),
        so a placed case is called only by that agency's collectors.
        """
        loan = self._loan(action.loan_id)
        with self.storage() as uow:
            case = uow.cases.get(action.loan_id)
        skills = {f"lang:{action.locale[:2].lower()}"}
        if case is not None and case.assignment is not None and case.assignment.team:
            skills.add(f"team:{case.assignment.team}")
        if case is not None and case.placement is not None:
            skills.add(f"agency:{case.placement.agency}")
        return CallTask(
            key=key,
            action=action,
            jurisdiction=loan.borrower.jurisdiction,
            priority=self.priority(action),
            skills=frozenset(skills),
            must_record=self.policy(loan).required,
        )

    def machine_message(self, locale: str) -> str:
        """The limited-content message: the business, a name, a number to call back;
        nothing about a debt (Reg F § 1006.2(j))."""
        text = _MACHINE["zh" if locale.lower().startswith("zh") else "en"]
        return text.format(agent=self.agent, business=self.business, number=self.callback_number)

    def script_for(self, task: CallTask, at: dt.datetime) -> CallScript:
        """The script of ``task``'s call at ``at``: the amount due that day in the
        borrower's zone, the engine's offers still valid then."""
        loan = self._loan(task.loan_id)
        zone = loan.borrower.time_zone
        day = at.astimezone(zoneinfo.ZoneInfo(zone) if zone else dt.UTC).date()
        with self.storage() as uow:
            payments = uow.loans.payments_for(loan.id)
            events = uow.events.recent(loan.id, day - dt.timedelta(days=60))
        assessment = assess(loan, payments, day)
        offers = [
            e.payload
            for e in events
            if e.kind is EventKind.OFFER_MADE
            and isinstance(e.payload, OfferMade)
            and e.payload.valid_until >= day
        ]
        return build_script(
            stage=task.action.stage,
            locale=task.action.locale,
            jurisdiction=loan.borrower.jurisdiction,
            packs=self.packs,
            recording=self.policy(loan),
            lender=self.business,
            borrower=loan.borrower.name,
            amount_due=assessment.amount_due,
            offers=offers,
        )

    def recording(self, loan_id: str, reference: str, at: dt.datetime) -> RecordingRef:
        """The recording ``reference`` of a call at ``at``, kept as the packs say."""
        loan = self._loan(loan_id)
        zone = loan.borrower.time_zone
        day = at.astimezone(zoneinfo.ZoneInfo(zone) if zone else dt.UTC).date()
        return RecordingRef(reference=reference, keep_until=self.policy(loan).keep_until(day))

    def record(self, call: CallRecord, *, transcript: str = "", script: str = "") -> Review:
        """Record a finished call: its outcome through the intake, then its review.

        :param transcript: what was said, when the dialer or the host has it.
        :param script: the script the collector followed (checked too).
        """
        self._loan(call.loan_id)  # an unknown loan is refused before anything is written
        self.sink.record_outcome(call.loan_id, call.outcome())
        return self.review(
            call.call,
            call.loan_id,
            call.disposition.outcome,
            at=call.at,
            key=call.key,
            by=call.by,
            recording=call.recording,
            text="\n".join(t for t in (script, transcript) if t),
            third_party=call.disposition is Disposition.THIRD_PARTY,
        )

    def review(
        self,
        call: str,
        loan_id: str,
        outcome: OutcomeKind,
        *,
        at: dt.datetime,
        key: str | None = None,
        by: Actor = NOBODY,
        recording: RecordingRef | None = None,
        text: str = "",
        third_party: bool = False,
    ) -> Review:
        """Check a call's ``text`` (script and transcript) and store its
        ``CALL_REVIEWED`` event (for a call whose outcome is recorded elsewhere)."""
        loan = self._loan(loan_id)
        review = review_text(text, self.packs, loan.borrower.jurisdiction, third_party=third_party)
        zone = loan.borrower.time_zone
        day = at.astimezone(zoneinfo.ZoneInfo(zone) if zone else dt.UTC).date()
        payload = CallReviewed(
            call=call,
            key=key or "",
            outcome=outcome,
            score=review.score,
            findings=review.summary,
            recording=recording.reference if recording is not None else "",
            keep_until=recording.keep_until if recording is not None else None,
            agent=by.agent,
        )
        with self.storage() as uow:
            uow.events.append([new_event(payload, loan_id=loan_id, on=day, at=at)])
            uow.commit()
        self.reviews.append((call, review))
        return review

    def on_dialer_event(self, event: CallEvent, loan_id: str) -> Review | None:
        """Record what a dialer alone can tell (busy, no answer, wrong number, a
        limited-content message left); ``None`` for anything else."""
        if event.disposition is None:
            return None
        call = CallRecord(
            call=event.call,
            loan_id=loan_id,
            disposition=event.disposition,
            at=event.at,
            key=event.key,
            duration=event.duration,
            note=event.cause,
        )
        script = ""
        if event.disposition is Disposition.VOICEMAIL:  # what the machine was told
            script = self.machine_message(self._loan(loan_id).borrower.locale)
        return self.record(call, script=script)


def _stage_priority(action: PlannedAction) -> int:
    order = ("pre_delinquency", "early", "middle", "late", "pre_legal", "legal")
    return order.index(action.stage) if action.stage in order else 0
