"""The Odoo adapter and the polling reconciler against a real local XML-RPC server."""

from __future__ import annotations

import pytest
from crm_helpers import DAY, expected_counts, make_engine
from loancollect_crm.adapters.base import Retry
from loancollect_crm.adapters.odoo import EXTERNAL_FIELD, OdooAdapter
from loancollect_crm.inbound import InboundApplier, Poller
from loancollect_crm.records import CrmError
from loancollect_crm.standins import Fault
from loancollect_crm.standins.odoo import OdooStandIn
from loancollect_crm.state import SyncState
from loancollect_crm.sync import CrmSync

from loancollect.domain.events import EventKind


def adapter(odoo: OdooStandIn, waits: list[float] | None = None, **kw: object) -> OdooAdapter:
    return OdooAdapter(
        url=odoo.url,
        db=odoo.db,
        login=odoo.login,
        password=str(kw.pop("password", odoo.password)),
        retry=Retry(sleep=(waits if waits is not None else []).append),
        batch_size=int(kw.pop("batch_size", 100)),  # type: ignore[call-overload]
    )


def counts(odoo: OdooStandIn) -> dict[str, int]:
    models = {
        "contact": "res.partner",
        "case": "crm.lead",
        "activity": "mail.message",
        "task": "mail.activity",
    }
    return {k: len(odoo.models.get(m, {})) for k, m in models.items()}


def test_a_backfill_over_xml_rpc_makes_one_record_per_entity_linked_by_odoo_ids(
    odoo: OdooStandIn, state: SyncState
) -> None:
    sync = CrmSync(adapter=adapter(odoo), state=state, storage=make_engine(6).storage)
    first = sync.run(as_of=DAY)
    assert counts(odoo) == expected_counts(6)
    assert first.created == sum(expected_counts(6).values())
    lead = odoo.find("crm.lead", EXTERNAL_FIELD, "L-000")[0]
    partner = odoo.find("res.partner", EXTERNAL_FIELD, "B-000")[0]
    assert lead["partner_id"] == partner["id"]
    task = odoo.find("mail.activity", "res_model", "crm.lead")[0]
    assert task["res_id"] == lead["id"]
    assert task["date_deadline"]
    assert sync.run(as_of=DAY).unchanged == first.created


def test_a_wrong_password_is_a_crm_error_naming_the_login_not_the_password(
    odoo: OdooStandIn, state: SyncState
) -> None:
    bad = adapter(odoo, password="nope-hunter2")
    with pytest.raises(CrmError, match="sync") as info:
        CrmSync(adapter=bad, state=state, storage=make_engine(2).storage).run(as_of=DAY)
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(bad)


def test_a_record_found_twice_is_a_duplicate_match_left_alone(
    odoo: OdooStandIn, state: SyncState
) -> None:
    for _ in range(2):
        odoo.create("res.partner", {EXTERNAL_FIELD: "B-000", "name": "old"})
    report = CrmSync(adapter=adapter(odoo), state=state, storage=make_engine(2).storage).run(
        as_of=DAY
    )
    assert report.duplicate == 1
    assert [p["name"] for p in odoo.find("res.partner", EXTERNAL_FIELD, "B-000")] == ["old", "old"]
    assert report.failed == sum(expected_counts(2).values()) - 1  # nothing can hang on it


def test_429_5xx_and_dropped_connections_are_retried_without_duplicates(
    odoo: OdooStandIn, state: SyncState
) -> None:
    waits: list[float] = []
    odoo.faults.add(Fault.RATE_LIMITED, Fault.UNAVAILABLE)
    sync = CrmSync(
        adapter=adapter(odoo, waits, batch_size=2), state=state, storage=make_engine(6).storage
    )
    # the create of the first contact batch is applied, then its answer is lost
    original = odoo.faults.next

    def drop_on_first_create() -> Fault | None:
        fault = original()
        if (
            fault is None
            and ("res.partner", "create") not in odoo.calls
            and ("res.partner", "search_read") in odoo.calls
        ):
            return Fault.DROP_AFTER
        return fault

    odoo.faults.next = drop_on_first_create  # type: ignore[method-assign]
    report = sync.run(as_of=DAY)
    assert waits == [0.0, 1.0, 0.5]  # Retry-After 0, then back-off; the drop: a new call
    assert counts(odoo) == expected_counts(6)
    assert report.failed == 0


def test_polling_brings_notes_and_reassignments_in_once(
    odoo: OdooStandIn, state: SyncState
) -> None:
    engine = make_engine(2)
    sync = CrmSync(adapter=adapter(odoo), state=state, storage=engine.storage)
    sync.run(as_of=DAY)
    lead = odoo.find("crm.lead", EXTERNAL_FIELD, "L-001")[0]
    odoo.create(
        "mail.message",
        {
            "model": "crm.lead",
            "res_id": lead["id"],
            "message_type": "comment",
            "date": "2025-03-01 03:00:00",
            "author_id": [3, "li"],
            "body": "rang twice",
        },
    )
    odoo.write("crm.lead", lead["id"], {"user_id": [3, "li"]})
    poller = Poller(adapter=adapter(odoo), state=state, crm="odoo")
    applier = InboundApplier(engine=engine, state=state, crm="odoo")
    assert poller.poll_once() > 0
    tally = applier.apply_pending()
    assert tally.conflicts == 0
    assert tally.rejected == 0
    with engine.storage() as uow:
        case = uow.cases.get("L-001")
        kinds = [e.kind for e in uow.events.stream("L-001")]
    assert case is not None
    assert case.assignment is not None
    assert case.assignment.agent == "li"
    assert kinds.count(EventKind.CASE_ASSIGNED) == 1
    assert kinds.count(EventKind.INBOUND_MESSAGE) == 1
    assert poller.poll_once() == 0
    assert applier.apply_pending().applied == 0


def test_a_stage_edited_in_odoo_is_a_conflict_the_next_sync_sets_back(
    odoo: OdooStandIn, state: SyncState
) -> None:
    engine = make_engine(2)
    sync = CrmSync(adapter=adapter(odoo), state=state, storage=engine.storage)
    sync.run(as_of=DAY)
    lead = odoo.find("crm.lead", EXTERNAL_FIELD, "L-000")[0]
    odoo.write("crm.lead", lead["id"], {"x_stage": "written_off"})
    Poller(adapter=adapter(odoo), state=state, crm="odoo").poll_once()
    tally = InboundApplier(engine=engine, state=state, crm="odoo").apply_pending()
    assert tally.conflicts == 1
    with engine.storage() as uow:
        case = uow.cases.get("L-000")
    assert case is not None
    assert case.stage == "current"
    report = sync.run(as_of=DAY)
    assert report.conflicting == 1
    assert odoo.find("crm.lead", EXTERNAL_FIELD, "L-000")[0]["x_stage"] == "current"


def test_a_logged_call_with_an_outcome_comes_back_as_a_typed_outcome_with_its_promise(
    odoo: OdooStandIn, state: SyncState
) -> None:
    engine = make_engine(2)
    CrmSync(adapter=adapter(odoo), state=state, storage=engine.storage).run(as_of=DAY)
    lead = odoo.find("crm.lead", EXTERNAL_FIELD, "L-001")[0]
    odoo.create(
        "mail.message",
        {
            "model": "crm.lead",
            "res_id": lead["id"],
            "message_type": "comment",
            "date": "2025-03-01 03:00:00",
            "author_id": [3, "li"],
            "x_outcome": "promise",
            "x_channel": "phone",
            "x_promise_amount": "800.00",
            "x_promise_due": "2025-03-08",
        },
    )
    Poller(adapter=adapter(odoo), state=state, crm="odoo").poll_once()
    assert InboundApplier(engine=engine, state=state, crm="odoo").apply_pending().applied >= 1
    with engine.storage() as uow:
        case = uow.cases.get("L-001")
    assert case is not None
    assert [(str(p.amount.amount), p.due.isoformat()) for p in case.promises] == [
        ("800.00", "2025-03-08")
    ]
    report = CrmSync(adapter=adapter(odoo), state=state, storage=engine.storage).run(as_of=DAY)
    assert report.created == 1  # the promise's task; the outcome itself is not sent back
