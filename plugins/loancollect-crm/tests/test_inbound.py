"""The inbox: applied once, in order; a busy database leaves a change pending."""

from __future__ import annotations

import pytest
from crm_helpers import NOW, make_engine
from loancollect_crm.inbound import InboundApplier
from loancollect_crm.records import ChangeKind, InboundChange
from loancollect_crm.state import SyncState

from loancollect.errors import StorageBusyError


def assign(event_id: str, agent: str) -> InboundChange:
    return InboundChange(
        event_id=event_id, kind=ChangeKind.ASSIGN, loan_id="L-001", at=NOW, agent=agent
    )


def test_a_busy_database_leaves_the_change_pending_for_the_next_round(
    state: SyncState, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(2)
    state.enqueue("crm", assign("a", "li"))
    state.enqueue("crm", assign("b", "wang"))
    real = engine.apply
    calls = []

    def busy_once(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 1:
            raise StorageBusyError("database is locked")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "apply", busy_once)
    applier = InboundApplier(engine=engine, state=state, crm="crm")
    assert applier.apply_pending().applied == 0
    assert [c.event_id for c in state.pending("crm")] == ["a", "b"]
    assert applier.apply_pending().applied == 2
    with engine.storage() as uow:
        case = uow.cases.get("L-001")
    assert case is not None
    assert case.assignment is not None
    assert case.assignment.agent == "wang"  # in the order they came


def test_an_event_id_is_kept_once_whatever_its_content(state: SyncState) -> None:
    assert state.enqueue("crm", assign("a", "li"))
    assert not state.enqueue("crm", assign("a", "someone else"))
    assert [c.agent for c in state.pending("crm")] == ["li"]


def test_an_assignment_the_case_has_already_records_nothing(state: SyncState) -> None:
    engine = make_engine(2)
    for n in range(2):
        state.enqueue("crm", assign(f"e{n}", "li"))
    InboundApplier(engine=engine, state=state, crm="crm").apply_pending()
    with engine.storage() as uow:
        kinds = [e.kind.value for e in uow.events.stream("L-001")]
    assert kinds.count("case_assigned") == 1
