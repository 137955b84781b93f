"""The call queue offers a task only when the rules allow the call, to one collector."""

from __future__ import annotations

import datetime as dt
import threading

import attrs
import pytest
from loancollect_phone import CallQueue, CallRecord, Collector, Disposition
from phone_helpers import CN_LOAN, DAY, US_LOAN, Desk, at_local, call_action

from loancollect.domain.commands import PlaceWithAgency
from loancollect.errors import ValidationError

ZH = Collector(id="c-zh", skills=frozenset({"lang:zh"}))
EN = Collector(id="c-en", skills=frozenset({"lang:en"}))


def _queue(desk: Desk, loan_id: str = CN_LOAN) -> CallQueue:
    queue = CallQueue(desk.gate)
    locale = "zh_CN" if loan_id == CN_LOAN else "en_US"
    action = call_action(loan_id, locale=locale)
    queue.add(desk.desk.task_for(action, action.idempotency_key))
    return queue


def test_a_task_is_not_offered_outside_the_calling_window_and_waits_for_it(desk: Desk) -> None:
    queue = _queue(desk)
    assert queue.next(ZH, at_local(CN_LOAN, 3)) is None
    (task,) = [queue.get(k) for k in [call_action(CN_LOAN).idempotency_key]]
    assert task is not None
    assert task.not_before is not None
    assert at_local(CN_LOAN, 3) < task.not_before <= at_local(CN_LOAN, 9)
    lease = queue.next(ZH, at_local(CN_LOAN, 10))
    assert lease is not None
    assert lease.permit.allowed
    assert lease.permit.remaining is not None
    assert lease.permit.remaining >= 1


def test_every_attempt_counts_toward_the_caps_answered_or_not(desk: Desk) -> None:
    # Reg F's 7 calls in 7 days (US-08): seven unanswered calls use the week up.
    action = call_action(US_LOAN, locale="en_US")
    first = desk.gate.permit(action, at_local(US_LOAN, 9))
    assert first.allowed
    assert first.remaining == 3  # the probe's limit: at least three more today
    for n in range(7):
        at = at_local(US_LOAN, 9, 5 * n)
        disposition = Disposition.NO_ANSWER if n % 2 else Disposition.BUSY
        desk.desk.record(CallRecord(call=f"c{n}", loan_id=US_LOAN, disposition=disposition, at=at))
        if n == 4:
            assert desk.gate.permit(action, at_local(US_LOAN, 11)).remaining == 2
    blocked = desk.gate.permit(action, at_local(US_LOAN, 11))
    assert not blocked.allowed
    assert any(r.startswith("US-08") for r in blocked.reasons)
    assert blocked.earliest is not None
    assert blocked.earliest.date() >= DAY + dt.timedelta(days=6)


def test_two_collectors_asking_at_once_never_get_the_same_task(desk: Desk) -> None:
    queue = _queue(desk)
    at = at_local(CN_LOAN, 10)
    barrier = threading.Barrier(6)
    leases = []

    def ask(n: int) -> None:
        barrier.wait()
        leases.append(queue.next(Collector(id=f"c{n}", skills=ZH.skills), at))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [lease for lease in leases if lease is not None]
    assert len(got) == 1
    queue.release(got[0])
    again = queue.next(ZH, at)
    assert again is not None
    assert again.collector == ZH


def test_a_lease_that_ran_out_is_offered_again_and_its_old_holder_cannot_complete_it(
    desk: Desk,
) -> None:
    queue = CallQueue(desk.gate, lease=dt.timedelta(minutes=5))
    action = call_action(CN_LOAN)
    queue.add(desk.desk.task_for(action, action.idempotency_key))
    first = queue.next(ZH, at_local(CN_LOAN, 10))
    assert first is not None
    assert queue.next(ZH, at_local(CN_LOAN, 10, 2)) is None
    second = queue.next(ZH, at_local(CN_LOAN, 10, 6))
    assert second is not None
    with pytest.raises(ValidationError, match="lease"):
        queue.complete(first, Disposition.NO_ANSWER)


def test_a_task_goes_only_to_a_collector_with_its_skills(desk: Desk) -> None:
    queue = _queue(desk)
    assert queue.next(EN, at_local(CN_LOAN, 10)) is None
    assert queue.next(ZH, at_local(CN_LOAN, 10)) is not None


def test_a_callback_is_not_offered_before_the_time_the_borrower_asked_for(desk: Desk) -> None:
    queue = _queue(desk)
    lease = queue.next(ZH, at_local(CN_LOAN, 10))
    assert lease is not None
    queue.complete(lease, Disposition.CALLBACK, callback_at=at_local(CN_LOAN, 16))
    assert queue.next(ZH, at_local(CN_LOAN, 15, 59)) is None
    assert queue.next(ZH, at_local(CN_LOAN, 16)) is not None


def test_no_answer_comes_back_later_and_a_promise_ends_the_task(desk: Desk) -> None:
    queue = _queue(desk)
    lease = queue.next(ZH, at_local(CN_LOAN, 10))
    assert lease is not None
    queue.complete(lease, Disposition.NO_ANSWER)
    assert queue.next(ZH, at_local(CN_LOAN, 11)) is None
    later = queue.next(ZH, at_local(CN_LOAN, 12, 1))
    assert later is not None
    assert later.task.attempts == 1
    queue.complete(later, Disposition.PROMISE)
    assert len(queue) == 0


def test_a_call_that_must_be_recorded_is_not_offered_on_a_line_that_does_not_record(
    desk: Desk,
) -> None:
    queue = _queue(desk)  # CN: collection calls are recorded (CN-REC)
    task = queue.get(call_action(CN_LOAN).idempotency_key)
    assert task is not None
    assert task.must_record
    unrecorded = Collector(id="c-zh-2", skills=ZH.skills, records=False)
    assert queue.next(unrecorded, at_local(CN_LOAN, 10)) is None
    assert queue.next(ZH, at_local(CN_LOAN, 10)) is not None


def test_higher_priority_is_offered_first(desk: Desk) -> None:
    queue = CallQueue(desk.gate)
    low = call_action(CN_LOAN, rule_id="a")
    high = call_action(CN_LOAN, rule_id="b")
    queue.add(desk.desk.task_for(low, low.idempotency_key))
    task = desk.desk.task_for(high, high.idempotency_key)
    queue.add(attrs.evolve(task, priority=9))
    lease = queue.next(ZH, at_local(CN_LOAN, 10))
    assert lease is not None
    assert lease.task.key == high.idempotency_key


def test_a_task_the_rules_block_for_good_leaves_the_queue_with_the_reason(desk: Desk) -> None:
    queue = _queue(desk, US_LOAN)
    desk.desk.record(
        CallRecord(
            call="c1",
            loan_id=US_LOAN,
            disposition=Disposition.CEASE_REQUEST,
            at=at_local(US_LOAN, 9),
        )
    )
    assert queue.next(EN, at_local(US_LOAN, 10)) is None
    assert len(queue) == 0
    (reason,) = queue.dropped.values()
    assert "cease" in reason.lower()


def test_a_case_placed_with_an_agency_goes_only_to_that_agencys_collectors(desk: Desk) -> None:
    desk.engine.apply(CN_LOAN, PlaceWithAgency(agency="acme", placement="PL-1"), on=DAY)
    queue = _queue(desk)
    task = queue.get(call_action(CN_LOAN).idempotency_key)
    assert task is not None
    assert task.skills == {"lang:zh", "agency:acme"}
    assert queue.next(ZH, at_local(CN_LOAN, 10)) is None
    acme = Collector(id="acme-1", skills=frozenset({"lang:zh", "agency:acme"}), agency="acme")
    assert queue.next(acme, at_local(CN_LOAN, 10)) is not None
