"""The mapping: which fields go to the CRM, and who owns each field.

The engine owns a case's stage, its amounts and its compliance state (holds, a
cease request, opt-outs): the sync writes them and sets them back when someone
edits them in the CRM. The CRM owns notes and the assignment: the sync never
writes them, and what collectors change there comes back into the engine. A
conflict is resolved by this declaration, never by whoever wrote last.

Personal data is minimised: a contact carries only the borrower fields the
mapping names (by default the name, jurisdiction, locale and time zone; no
national id, no income, no contact points).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Iterator

import attrs

from loancollect.domain.arrangements import ArrangementStatus
from loancollect.domain.case import CEASE_FLAG, Case, OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import ActionSent, ContactOutcomeRecorded, Event, EventKind
from loancollect.domain.loans import Loan
from loancollect_crm.records import CrmRecord, RecordKind

__all__ = [
    "CRM_EVIDENCE_PREFIX",
    "DEFAULT_OWNERSHIP",
    "FieldRule",
    "Mapping",
    "Owner",
    "Ownership",
]

CRM_EVIDENCE_PREFIX = "crm:"
"""Outcomes recorded from the CRM carry ``crm:<event id>`` as evidence; they are not
sent back (the CRM made them)."""

# Contact points and identifiers are never sent unless a mapping names them.
_BORROWER_FIELDS = ("name", "kind", "jurisdiction", "locale", "time_zone")


class Owner(enum.Enum):
    """Who decides a field's value."""

    ENGINE = "engine"
    CRM = "crm"


@attrs.frozen(kw_only=True)
class FieldRule:
    """One case field, its owner and the concern it belongs to."""

    field: str
    owner: Owner
    concern: str


@attrs.frozen(kw_only=True)
class Ownership:
    """The declaration of who owns each case field."""

    rules: tuple[FieldRule, ...]

    def owner(self, field: str) -> Owner | None:
        """The owner of ``field`` (``None``: not a mapped field)."""
        for rule in self.rules:
            if rule.field == field:
                return rule.owner
        return None

    def engine_fields(self) -> tuple[str, ...]:
        """The fields the engine owns (sent, and set back when edited in the CRM)."""
        return tuple(r.field for r in self.rules if r.owner is Owner.ENGINE)


DEFAULT_OWNERSHIP = Ownership(
    rules=(
        FieldRule(field="stage", owner=Owner.ENGINE, concern="stage"),
        FieldRule(field="stage_since", owner=Owner.ENGINE, concern="stage"),
        FieldRule(field="status", owner=Owner.ENGINE, concern="stage"),
        FieldRule(field="principal", owner=Owner.ENGINE, concern="amounts"),
        FieldRule(field="currency", owner=Owner.ENGINE, concern="amounts"),
        FieldRule(field="paid", owner=Owner.ENGINE, concern="amounts"),
        FieldRule(field="on_hold", owner=Owner.ENGINE, concern="compliance"),
        FieldRule(field="do_not_contact", owner=Owner.ENGINE, concern="compliance"),
        FieldRule(field="owner", owner=Owner.CRM, concern="assignment"),
        FieldRule(field="team", owner=Owner.CRM, concern="assignment"),
        FieldRule(field="notes", owner=Owner.CRM, concern="notes"),
    )
)
"""Engine: stage, amounts, compliance. CRM: assignment and notes."""


@attrs.frozen(kw_only=True)
class Mapping:
    """How the engine's records become CRM records.

    :param borrower_fields: the borrower fields a contact carries (a subset of
        name, kind, jurisdiction, locale, time_zone).
    :param callback_days: a requested callback's task falls due this many days on.
    :param dispute_days: a raised dispute's task (answer it) falls due this many days on.
    """

    ownership: Ownership = DEFAULT_OWNERSHIP
    borrower_fields: tuple[str, ...] = ("name", "jurisdiction", "locale", "time_zone")
    callback_days: int = 1
    dispute_days: int = 30

    def __attrs_post_init__(self) -> None:
        for name in self.borrower_fields:
            if name not in _BORROWER_FIELDS:
                raise ValidationError(
                    "mapping.borrower_fields", name, f"map only {', '.join(_BORROWER_FIELDS)}"
                )

    def contact(self, loan: Loan) -> CrmRecord:
        """The borrower as a CRM contact (the mapped fields only)."""
        b = loan.borrower
        values = {
            "name": b.name,
            "kind": b.kind.value,
            "jurisdiction": b.jurisdiction,
            "locale": b.locale,
            "time_zone": b.time_zone,
        }
        fields = {k: values[k] for k in self.borrower_fields}
        return CrmRecord(kind=RecordKind.CONTACT, external_id=b.id, fields=fields)

    def case(self, loan: Loan, case: Case, paid: str, today: dt.date) -> CrmRecord:
        """The loan's collection case: the engine-owned fields, never the CRM-owned ones."""
        cease = any(f == CEASE_FLAG or f.startswith(CEASE_FLAG + ":") for f in case.flags)
        opted = any(f.startswith("opt_out:") for f in case.flags)
        values = {
            "stage": case.stage,
            "stage_since": case.stage_since.isoformat() if case.stage_since else "",
            "status": "closed" if case.closed_on is not None else "open",
            "principal": str(loan.principal.amount),
            "currency": loan.currency,
            "paid": paid,
            "on_hold": "yes" if case.active_holds(today) else "no",
            "do_not_contact": "yes" if cease or opted else "no",
        }
        fields = {k: v for k, v in values.items() if self.ownership.owner(k) is Owner.ENGINE}
        return CrmRecord(
            kind=RecordKind.CASE, external_id=loan.id, fields=fields, parent=loan.borrower.id
        )

    def activities(self, loan_id: str, events: Iterable[Event]) -> Iterator[CrmRecord]:
        """Each action sent and each outcome recorded, keyed by its idempotency key."""
        for event in events:
            if event.kind is EventKind.ACTION_SENT:
                sent = event.payload
                assert isinstance(sent, ActionSent)
                yield CrmRecord(
                    kind=RecordKind.ACTIVITY,
                    external_id=f"action:{sent.key}",
                    parent=loan_id,
                    fields={
                        "type": sent.channel,
                        "subject": sent.rule,
                        "status": "sent",
                        "date": _when(event),
                    },
                )
            elif event.kind is EventKind.CONTACT_OUTCOME:
                got = event.payload
                assert isinstance(got, ContactOutcomeRecorded)
                if got.evidence.startswith(CRM_EVIDENCE_PREFIX):
                    continue  # made in the CRM: it is there already
                yield CrmRecord(
                    kind=RecordKind.ACTIVITY,
                    external_id=f"outcome:{loan_id}:{event.seq}",
                    parent=loan_id,
                    fields={
                        "type": got.channel,
                        "subject": got.outcome.value,
                        "status": "done",
                        "date": _when(event),
                        "answers": got.key,
                        "agent": got.agent,
                    },
                )

    def tasks(self, loan_id: str, case: Case, events: Iterable[Event]) -> Iterator[CrmRecord]:
        """Follow-ups that need a person: callbacks, promises falling due, disputes."""
        for event in events:
            if event.kind is not EventKind.CONTACT_OUTCOME:
                continue
            got = event.payload
            assert isinstance(got, ContactOutcomeRecorded)
            days = {
                OutcomeKind.CALLBACK_REQUESTED: self.callback_days,
                OutcomeKind.DISPUTE_RAISED: self.dispute_days,
            }.get(got.outcome)
            if days is None:
                continue
            yield _task(
                f"task:{loan_id}:{got.outcome.value}:{event.seq}",
                loan_id,
                "call back" if got.outcome is OutcomeKind.CALLBACK_REQUESTED else "answer dispute",
                event.on + dt.timedelta(days=days),
            )
        for promise in case.promises:
            if promise.status is ArrangementStatus.PENDING:
                yield _task(
                    f"task:{loan_id}:promise:{promise.id}",
                    loan_id,
                    "promise falls due",
                    promise.due,
                )


def _task(external_id: str, loan_id: str, subject: str, due: dt.date) -> CrmRecord:
    return CrmRecord(
        kind=RecordKind.TASK,
        external_id=external_id,
        parent=loan_id,
        fields={"subject": subject, "due": due.isoformat()},
    )


def _when(event: Event) -> str:
    return event.at.isoformat() if event.at is not None else event.on.isoformat()
