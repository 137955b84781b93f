"""What the sync sends to a CRM and what comes back from one: frozen records.

A :class:`CrmRecord` is one entity as the CRM should hold it — a contact, a case,
an activity or a task — named by a stable external id the engine derives (the
borrower's id, the loan's id, the action's idempotency key …), so that sending it
twice updates the one record instead of making a second. An :class:`InboundChange`
is what a collector did in the CRM (a note, a reassignment, an outcome, an edit of
a field), typed, with the CRM's event id that de-duplicates it.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal

import attrs

from loancollect.domain.case import OutcomeKind
from loancollect.domain.errors import LoanCollectError

__all__ = [
    "ChangeKind",
    "CrmError",
    "CrmRecord",
    "DuplicateMatchError",
    "InboundChange",
    "RecordKind",
    "UpsertResult",
    "UpsertStatus",
]


class CrmError(LoanCollectError):
    """A CRM refused a request, or could not be reached after the retries allowed."""


class DuplicateMatchError(CrmError):
    """The CRM holds more than one record under an external id (HTTP 300 and the like)."""

    def __init__(self, kind: RecordKind, external_id: str, matches: int) -> None:
        super().__init__(
            f"{kind.value} {external_id!r}: {matches} CRM records carry this external id;"
            " none was changed (merge them in the CRM)"
        )
        self.kind = kind
        self.external_id = external_id
        self.matches = matches


class RecordKind(enum.Enum):
    """The kinds of CRM record, in the order they are sent (parents first)."""

    CONTACT = "contact"  # a borrower (contact or account)
    CASE = "case"  # a loan's collection case (case, lead, deal)
    ACTIVITY = "activity"  # an action sent or an outcome recorded
    TASK = "task"  # a follow-up that needs a person, with a due date


def _sorted(fields: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(fields.items()))


@attrs.frozen(kw_only=True)
class CrmRecord:
    """One entity as the CRM should hold it.

    :param kind: what it is.
    :param external_id: the stable id the engine derives; the CRM's upsert key.
    :param fields: the mapped fields only (personal data minimised to what the
        mapping names), as text.
    :param parent: the external id of the record it hangs on (a case's contact, an
        activity's case), or empty.
    """

    kind: RecordKind
    external_id: str
    fields: Mapping[str, str] = attrs.field(converter=_sorted)
    parent: str = ""

    @property
    def digest(self) -> str:
        """SHA-256 of what is sent: unchanged records are not sent again."""
        body = json.dumps([self.kind.value, self.external_id, self.parent, self.fields])
        return hashlib.sha256(body.encode()).hexdigest()

    def __repr__(self) -> str:
        # field values may be personal data: a repr names the record, never its content
        return f"CrmRecord({self.kind.value} {self.external_id!r}, fields={sorted(self.fields)})"


class UpsertStatus(enum.Enum):
    """What the CRM did with one record."""

    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"  # several CRM records match its external id; nothing changed
    FAILED = "failed"  # refused (the detail says why)


@attrs.frozen(kw_only=True)
class UpsertResult:
    """The CRM's answer for one record.

    :param remote_id: the CRM's own id of the record (empty unless created or updated).
    :param before: the record's fields as the CRM held them before this upsert,
        for adapters that read them (``None``: not read); the sync compares the
        engine-owned ones with what it sent last to find edits made in the CRM.
    """

    external_id: str
    status: UpsertStatus
    remote_id: str = ""
    detail: str = ""
    before: Mapping[str, str] | None = None


class ChangeKind(enum.Enum):
    """What a collector did in the CRM."""

    NOTE = "note"  # wrote a note on a case
    ASSIGN = "assign"  # reassigned the case to a collector or a team
    OUTCOME = "outcome"  # recorded a contact's outcome
    FIELD = "field"  # edited another field of the case (e.g. the stage)


@attrs.frozen(kw_only=True)
class InboundChange:
    """One change a collector made in the CRM, typed.

    :param event_id: the CRM's id of the change (a webhook id, a message id); the
        same change delivered twice is applied once.
    :param loan_id: the loan whose case it concerns.
    :param at: when it was made (time-zone aware).
    :param agent: who made it (a note, an outcome) or who the case goes to (assign).
    :param team: the team the case goes to (assign).
    :param text: a note's CRM reference (the note itself stays in the CRM).
    :param outcome: an outcome's kind; with ``channel`` and ``key`` (the action it answers).
    :param promise_amount: a promise's amount (Decimal, in the loan's currency).
    :param promise_due: a promise's due date.
    :param field: the field edited (``FIELD`` changes) and ``value`` its new value.
    """

    event_id: str
    kind: ChangeKind
    loan_id: str
    at: dt.datetime
    agent: str = ""
    team: str = ""
    text: str = ""
    outcome: OutcomeKind | None = None
    channel: str = ""
    key: str = ""
    promise_amount: Decimal | None = None
    promise_due: dt.date | None = None
    field: str = ""
    value: str = ""

    def __repr__(self) -> str:
        return f"InboundChange({self.kind.value} {self.event_id!r} on {self.loan_id!r})"
