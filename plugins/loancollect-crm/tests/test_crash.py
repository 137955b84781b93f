"""A crash at any point of a sync, then a re-run: exactly one CRM record per entity."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from crm_helpers import DAY, expected_counts, make_engine, salesforce_counts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loancollect_crm.adapters.base import Retry
from loancollect_crm.adapters.salesforce import SalesforceAdapter
from loancollect_crm.records import CrmRecord, RecordKind, UpsertResult
from loancollect_crm.standins import Fault
from loancollect_crm.standins.salesforce import SalesforceStandIn
from loancollect_crm.state import SyncState
from loancollect_crm.sync import CrmSync

ENGINE = make_engine(8)


class Crash(BaseException):
    """The process dies (not an error anything would catch)."""


class CrashingAdapter:
    """Dies at the ``at``-th upsert: before sending it, or after the CRM applied it."""

    def __init__(self, inner: SalesforceAdapter, at: int, after: bool) -> None:
        self.inner, self.at, self.after, self.calls = inner, at, after, 0
        self.name, self.batch_size = inner.name, inner.batch_size

    @property
    def requests(self) -> int:
        return self.inner.requests

    def upsert(
        self, kind: RecordKind, records: Sequence[CrmRecord], parents: Mapping[str, str]
    ) -> list[UpsertResult]:
        self.calls += 1
        if self.calls == self.at and not self.after:
            raise Crash
        results = self.inner.upsert(kind, records, parents)
        if self.calls == self.at:
            raise Crash  # the CRM has the records; the state never hears of them
        return results


class CrashingState(SyncState):
    """Dies while remembering the ``at``-th batch."""

    def __init__(self, path: Path, at: int) -> None:
        super().__init__(path)
        self.at, self.calls = at, 0

    def remember(self, *args: object, **kwargs: object) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise Crash
        super().remember(*args, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.integers(min_value=1, max_value=12),
    where=st.sampled_from(["before", "after", "state", "drop"]),
)
def test_a_crash_then_a_rerun_leaves_one_record_per_entity(at: int, where: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, SalesforceStandIn() as crm:
        path = Path(tmp) / "state.sqlite"
        plain = SalesforceAdapter(
            base_url=crm.url, token=crm.token, batch_size=3, retry=Retry(sleep=lambda _: None)
        )
        crashing: SalesforceAdapter | CrashingAdapter = plain
        state = SyncState(path)
        if where in ("before", "after"):
            crashing = CrashingAdapter(plain, at, after=where == "after")
        elif where == "state":
            state = CrashingState(path, at)
        else:  # the answer to the at-th request is lost, and so is the process
            crashing = CrashingAdapter(plain, at, after=True)
            crm.faults.add(Fault.DROP_AFTER)
        with contextlib.suppress(Crash):
            CrmSync(adapter=crashing, state=state, storage=ENGINE.storage).run(as_of=DAY)  # type: ignore[arg-type]
        rerun = CrmSync(adapter=plain, state=SyncState(path), storage=ENGINE.storage).run(as_of=DAY)
        assert salesforce_counts(crm) == expected_counts(8)
        assert rerun.failed == 0
        assert rerun.duplicate == 0
        for obj in ("Contact", "Case", "Task"):
            ids = [r["LoanCollect_Id__c"] for r in crm.records[obj]]
            assert len(ids) == len(set(ids))
