"""The compliance guard remembers a case's facts only while its batch is judged.

The facts it derives for a loan, case and history (candidate zones, limitation) spare
the send-time judgement of the same objects; once a batch is sent the engine has the
guard forget them, so a cycle leaves no loans, cases or histories behind in it, and
forgetting never changes a verdict (the facts are derived again).
"""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import pendulum

from loancollect.builtin.compliance import ComplianceGuard, install
from loancollect.builtin.memory import MemoryStore
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.testing import make_action, make_case, make_loan
from loancollect.testing.clock import FixedClock

AS_OF = dt.date(2025, 10, 31)
AT = pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai")


def _guard() -> ComplianceGuard:
    guard = install(make_plugin_manager(load_entrypoints=True))
    assert guard is not None
    assert guard.packs_for("CN")
    return guard


def test_forgetting_the_remembered_facts_changes_no_verdict() -> None:
    guard = _guard()
    loan, case, action = make_loan(), make_case(), make_action(channel="sms")
    first = guard.verdict(action=action, loan=loan, case=case, as_of=AS_OF, at=AT, history=())
    again = guard.verdict(action=action, loan=loan, case=case, as_of=AS_OF, at=AT, history=())
    guard.forget()
    derived = guard.verdict(action=action, loan=loan, case=case, as_of=AS_OF, at=AT, history=())
    assert first == again == derived


def test_a_forgotten_case_is_no_longer_kept_alive_by_the_guard() -> None:
    guard = _guard()
    loan, case = make_loan(), make_case()
    guard.verdict(
        action=make_action(channel="sms"), loan=loan, case=case, as_of=AS_OF, at=AT, history=()
    )
    kept = weakref.ref(loan)
    del loan
    gc.collect()
    assert kept() is not None  # remembered for the send-time judgement
    guard.forget()
    gc.collect()
    assert kept() is None


def test_a_cycle_leaves_no_case_facts_in_the_guard() -> None:
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=True), storage=MemoryStore(), clock=FixedClock(AT)
    )
    engine.add_loans([make_loan(id="L-1"), make_loan(id="L-2")], review_on=AS_OF)
    judged: list[int] = []
    guard = engine.compliance
    assert guard is not None
    forget = guard.forget
    guard.forget = lambda: (judged.append(len(guard._facts)), forget())[1]  # type: ignore[method-assign]
    report = engine.run_cycle(AS_OF)
    assert report.summary.actions_planned > 0
    assert max(judged) > 0  # the batch's facts were remembered while it was judged and sent
    assert not guard._facts  # and none is left after the cycle
