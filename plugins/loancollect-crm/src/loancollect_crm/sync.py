"""The outbound sync: the collection record into the CRM, by upsert, in batches.

For each page of loans it builds the CRM records (contact, case, activities,
tasks), leaves out those whose digest equals what was sent last (*unchanged*),
and upserts the rest kind by kind — parents first — in the adapter's batch size.
What the CRM took is remembered after each batch. A crash anywhere leaves at most
one batch the state does not know of; the re-run upserts it again by the same
external ids, so the CRM still holds exactly one record per entity.

Conflicts are resolved by the ownership map: an engine-owned field found changed
in the CRM is set back and counted *conflicting*; CRM-owned fields are never sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Mapping as CollectionsMapping
from decimal import Decimal
from typing import TypeVar

import attrs

from loancollect.domain.events import Event
from loancollect.domain.loans import Loan, Payment
from loancollect.ports import UnitOfWorkFactory
from loancollect_crm.adapters.base import CrmAdapter
from loancollect_crm.mapping import Mapping
from loancollect_crm.records import CrmRecord, RecordKind, UpsertStatus
from loancollect_crm.state import SyncState

__all__ = ["CrmSync", "SyncReport"]

T = TypeVar("T")
_LOG = logging.getLogger("loancollect_crm.sync")
_PARENT = {
    RecordKind.CASE: RecordKind.CONTACT,
    RecordKind.ACTIVITY: RecordKind.CASE,
    RecordKind.TASK: RecordKind.CASE,
}


@attrs.frozen(kw_only=True)
class SyncReport:
    """What one sync did, record by record.

    ``conflicting``: records the CRM held with an engine-owned field changed (set
    back); ``duplicate``: records the CRM holds more than once (left alone).
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicting: int = 0
    duplicate: int = 0
    failed: int = 0
    requests: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def records(self) -> int:
        """Records considered."""
        return (
            self.created
            + self.updated
            + self.unchanged
            + self.conflicting
            + self.duplicate
            + self.failed
        )

    def __add__(self, other: SyncReport) -> SyncReport:
        return SyncReport(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in attrs.fields(SyncReport)
            }
        )


@attrs.define
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicting: int = 0
    duplicate: int = 0
    failed: int = 0


class CrmSync:
    """Sends the collection record to one CRM.

    :param adapter: the CRM's protocol.
    :param state: where external ids, digests and cursors are kept.
    :param storage: the engine's storage (read only).
    """

    def __init__(
        self,
        *,
        adapter: CrmAdapter,
        state: SyncState,
        storage: UnitOfWorkFactory,
        mapping: Mapping | None = None,
        page: int = 500,
    ) -> None:
        self.adapter = adapter
        self.state = state
        self.storage = storage
        self.mapping = mapping or Mapping()
        self.page = page

    def run(
        self, *, as_of: dt.date, since: dt.date | None = None, loan_ids: Iterable[str] | None = None
    ) -> SyncReport:
        """Backfill and reconcile every loan (or ``loan_ids``).

        :param as_of: the business date the cases are seen on (holds active that day).
        :param since: activities and tasks of events from this date on (all when ``None``);
            contacts and cases are always reconciled.
        """
        cpu, wall, before = time.process_time(), time.perf_counter(), self.adapter.requests
        tally = _Tally()
        pages = _chunks(loan_ids, self.page) if loan_ids is not None else self._pages()
        for ids in pages:
            records = self._records(ids, as_of=as_of, since=since)
            for kind in RecordKind:
                self._send(kind, records[kind], tally)
        return SyncReport(
            **attrs.asdict(tally),
            requests=self.adapter.requests - before,
            cpu_s=time.process_time() - cpu,
            wall_s=time.perf_counter() - wall,
        )

    def _pages(self) -> Iterator[list[str]]:
        after: str | None = None
        while True:
            with self.storage() as uow:
                ids = uow.loans.list_ids(after=after, limit=self.page)
            if not ids:
                return
            yield ids
            after = ids[-1]

    def _records(
        self, ids: Sequence[str], *, as_of: dt.date, since: dt.date | None
    ) -> dict[RecordKind, dict[str, CrmRecord]]:
        out: dict[RecordKind, dict[str, CrmRecord]] = {kind: {} for kind in RecordKind}
        with self.storage() as uow:
            for loan_id in ids:
                loan, case = uow.loans.get(loan_id), uow.cases.get(loan_id)
                if loan is None or case is None:
                    continue
                paid = _paid(loan, uow.loans.payments_for(loan_id))
                # the events of the period only: a weekly sync does not read whole histories
                events: tuple[Event, ...] = (
                    uow.events.stream(loan_id)
                    if since is None
                    else uow.events.recent(loan_id, since)
                )
                self._add(out, [self.mapping.contact(loan)])
                self._add(out, [self.mapping.case(loan, case, paid, as_of)])
                self._add(out, self.mapping.activities(loan_id, events))
                self._add(out, self.mapping.tasks(loan_id, case, events))
        return out

    @staticmethod
    def _add(out: dict[RecordKind, dict[str, CrmRecord]], records: Iterable[CrmRecord]) -> None:
        for record in records:
            out[record.kind][record.external_id] = record

    def _send(self, kind: RecordKind, records: dict[str, CrmRecord], tally: _Tally) -> None:
        crm = self.adapter.name
        known = self.state.known(crm, kind, records)
        todo = []
        for ext, record in records.items():
            seen = known.get(ext)
            if seen is not None and seen.digest == record.digest:
                tally.unchanged += 1
            else:
                todo.append(record)
        engine_fields = self.mapping.ownership.engine_fields()
        parent_kind = _PARENT.get(kind)
        for batch in _chunks(todo, self.adapter.batch_size):
            parents: dict[str, str] = {}
            if parent_kind is not None:
                found = self.state.known(crm, parent_kind, {r.parent for r in batch if r.parent})
                parents = {ext: k.remote_id for ext, k in found.items() if k.remote_id}
            results = self.adapter.upsert(kind, batch, parents)
            taken = []
            for record, result in zip(batch, results, strict=True):
                seen = known.get(record.external_id)
                if result.status in (UpsertStatus.CREATED, UpsertStatus.UPDATED):
                    remote = result.remote_id or (seen.remote_id if seen else "")
                    taken.append((record.external_id, remote, record.digest, record.fields))
                    edited = _edited(result.before, seen.sent if seen else None, engine_fields)
                    for field in edited:
                        self.state.conflict(
                            crm, kind, record.external_id, field, "crm edit set back"
                        )
                    # a digest forgotten by an inbound conflict: this send sets the CRM back
                    if edited or (seen is not None and seen.digest == ""):
                        tally.conflicting += 1
                    elif result.status is UpsertStatus.CREATED:
                        tally.created += 1
                    else:
                        tally.updated += 1
                elif result.status is UpsertStatus.DUPLICATE:
                    tally.duplicate += 1
                    _LOG.warning("%s %s: %s", kind.value, record.external_id, result.detail)
                else:
                    tally.failed += 1
                    _LOG.warning("%s %s refused: %s", kind.value, record.external_id, result.detail)
            self.state.remember(crm, kind, taken)


def _edited(
    before: CollectionsMapping[str, str] | None,
    sent: CollectionsMapping[str, str] | None,
    engine_fields: Sequence[str],
) -> list[str]:
    """Engine-owned fields the CRM held with another value than the one sent last."""
    if before is None or sent is None:
        return []
    return [f for f in engine_fields if f in sent and f in before and before[f] != sent[f]]


def _paid(loan: Loan, payments: Sequence[Payment]) -> str:
    total = Decimal(0)
    for payment in payments:
        total += payment.amount.amount
    return str(total)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
