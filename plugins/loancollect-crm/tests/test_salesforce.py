"""The Salesforce-style adapter against a real local HTTP server."""

from __future__ import annotations

import pytest
from crm_helpers import DAY, expected_counts, make_engine, salesforce_counts
from loancollect_crm.adapters.base import Retry
from loancollect_crm.adapters.salesforce import SalesforceAdapter
from loancollect_crm.records import CrmError, CrmRecord, RecordKind, UpsertStatus
from loancollect_crm.standins import Fault
from loancollect_crm.standins.salesforce import SalesforceStandIn
from loancollect_crm.state import SyncState
from loancollect_crm.sync import CrmSync

EXT = "LoanCollect_Id__c"


def adapter(crm: SalesforceStandIn, waits: list[float], batch: int = 200) -> SalesforceAdapter:
    return SalesforceAdapter(
        base_url=crm.url, token=crm.token, batch_size=batch, retry=Retry(sleep=waits.append)
    )


def test_a_backfill_makes_one_record_per_entity_and_a_rerun_sends_nothing(
    salesforce: SalesforceStandIn, state: SyncState
) -> None:
    sync = CrmSync(adapter=adapter(salesforce, []), state=state, storage=make_engine(6).storage)
    first = sync.run(as_of=DAY)
    again = sync.run(as_of=DAY)
    assert salesforce_counts(salesforce) == expected_counts(6)
    assert first.created == sum(expected_counts(6).values())
    assert first.requests == 4
    assert again.unchanged == first.created
    assert again.requests == 0


def test_only_mapped_fields_leave_and_children_link_by_the_parents_external_id(
    salesforce: SalesforceStandIn, state: SyncState
) -> None:
    CrmSync(adapter=adapter(salesforce, []), state=state, storage=make_engine(2).storage).run(
        as_of=DAY
    )
    contact = salesforce.rows("Contact", EXT, "B-000")[0]
    assert set(contact) == {
        "Id",
        EXT,
        "LastName",
        "MailingCountryCode",
        "Locale__c",
        "Time_Zone__c",
    }
    case = salesforce.rows("Case", EXT, "L-000")[0]
    assert case["Contact"] == {EXT: "B-000"}
    assert "OwnerId" not in case


def test_a_changed_case_is_updated_not_duplicated(
    salesforce: SalesforceStandIn, state: SyncState
) -> None:
    engine = make_engine(2)
    sync = CrmSync(adapter=adapter(salesforce, []), state=state, storage=engine.storage)
    sync.run(as_of=DAY)
    with engine.storage() as uow:
        case = uow.cases.get("L-001")
        assert case is not None
        import attrs

        uow.cases.save(attrs.evolve(case, stage="late"))
        uow.commit()
    report = sync.run(as_of=DAY)
    assert report.updated == 1
    assert report.created == 0
    assert [r["Collection_Stage__c"] for r in salesforce.rows("Case", EXT, "L-001")] == ["late"]


def test_a_duplicate_match_300_changes_nothing_and_is_reported(
    salesforce: SalesforceStandIn, state: SyncState
) -> None:
    salesforce.add_duplicate("Contact", EXT, "B-000")
    sf = adapter(salesforce, [])
    record = CrmRecord(kind=RecordKind.CONTACT, external_id="B-000", fields={"name": "王"})
    [result] = sf.upsert(RecordKind.CONTACT, [record], {})
    assert result.status is UpsertStatus.DUPLICATE
    assert "2 records" in result.detail
    assert all("LastName" not in r for r in salesforce.rows("Contact", EXT, "B-000"))
    report = CrmSync(adapter=sf, state=state, storage=make_engine(2).storage).run(as_of=DAY)
    assert report.duplicate == 1  # in the collection request: DUPLICATE_EXTERNAL_ID


def test_429_waits_the_retry_after_asked_for(
    salesforce: SalesforceStandIn, state: SyncState
) -> None:
    waits: list[float] = []
    salesforce.faults.add(Fault.RATE_LIMITED, Fault.RATE_LIMITED)
    report = CrmSync(
        adapter=adapter(salesforce, waits), state=state, storage=make_engine(2).storage
    ).run(as_of=DAY)
    assert waits == [2.0, 2.0]
    assert report.failed == 0
    assert salesforce_counts(salesforce) == expected_counts(2)


def test_5xx_backs_off_and_gives_up_with_a_crm_error_after_the_attempts(
    salesforce: SalesforceStandIn,
) -> None:
    waits: list[float] = []
    salesforce.faults.add(*[Fault.UNAVAILABLE] * 5)
    record = CrmRecord(kind=RecordKind.CONTACT, external_id="B-9", fields={"name": "王"})
    with pytest.raises(CrmError, match="gave up after 5 attempts"):
        adapter(salesforce, waits).upsert(RecordKind.CONTACT, [record], {})
    assert waits == [0.5, 1.0, 2.0, 4.0]
    assert salesforce.rows("Contact", EXT, "B-9") == []


def test_a_connection_dropped_after_the_batch_was_applied_is_retried_without_duplicates(
    salesforce: SalesforceStandIn, state: SyncState
) -> None:
    salesforce.faults.add(Fault.DROP_AFTER, Fault.DROP_BEFORE)
    waits: list[float] = []
    report = CrmSync(
        adapter=adapter(salesforce, waits, batch=2), state=state, storage=make_engine(6).storage
    ).run(as_of=DAY)
    assert salesforce.faults.met == [Fault.DROP_AFTER, Fault.DROP_BEFORE]
    assert len(waits) == 2
    assert salesforce_counts(salesforce) == expected_counts(6)
    assert report.failed == 0


def test_the_token_is_never_in_the_adapters_repr(salesforce: SalesforceStandIn) -> None:
    assert salesforce.token not in repr(adapter(salesforce, []))


def test_a_records_repr_names_it_without_its_personal_data() -> None:
    record = CrmRecord(kind=RecordKind.CONTACT, external_id="B-1", fields={"name": "张伟"})
    assert "张伟" not in repr(record)
    assert "B-1" in repr(record)
