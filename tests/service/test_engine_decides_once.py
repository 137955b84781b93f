"""The review decides and assesses each case once a day, however many hooks advise it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from loancollect import CycleConfig, Loan, Money, hookimpl, make_plugin_manager
from loancollect.domain import decision as decision_module
from loancollect.domain.scoring import ScoreContribution
from loancollect.engine import CollectionEngine
from loancollect.engine import deciding as deciding_module
from loancollect.engine import dispatch as dispatch_module
from loancollect.testing import (
    UNCHECKED_CONTACT,
    FixedClock,
    MemoryStore,
    RecordingChannel,
    make_borrower,
)

DAY = dt.date(2025, 4, 20)
CHANNELS = ("sms", "email", "letter", "phone", "visit")


class Advisors:
    """A score, a segment and a stage override: each used to cost a second decide."""

    @hookimpl
    def loancollect_score(self, loan: Loan) -> ScoreContribution:
        return ScoreContribution(source="test", risk=Decimal("0.7"), weight=Decimal(1))

    @hookimpl
    def loancollect_segment(self) -> str:
        return "custom"

    @hookimpl
    def loancollect_override_stage(self, proposed: str) -> str | None:
        return None


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, calls: Counter[str]) -> None:
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        loan = kwargs.get("loan", args[0] if args else None)
        calls[loan.id] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


def test_each_due_case_is_decided_once_and_assessed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    clock = FixedClock(pendulum.datetime(2025, 4, 20, 2, tz="UTC"))  # 10:00 in Beijing
    engine = CollectionEngine(
        pm=make_plugin_manager(plugins=(Advisors(),), config=UNCHECKED_CONTACT),
        storage=store,
        clock=clock,
        channels={name: RecordingChannel(name) for name in CHANNELS},
        config=CycleConfig(batch_size=7),
    )
    loans = [
        Loan.create(
            id=f"L-{i}",
            borrower=make_borrower(id=f"B-{i}"),
            principal=Money("6000.00", "CNY"),
            annual_rate=Decimal("0.15"),
            term=6,
            disbursement_date=DAY - dt.timedelta(days=40 + 9 * i),
        )
        for i in range(20)
    ]
    engine.add_loans(loans, review_on=DAY)
    decides: Counter[str] = Counter()
    assesses: Counter[str] = Counter()
    _counting(monkeypatch, deciding_module, "decide", decides)
    _counting(monkeypatch, decision_module, "assess", assesses)
    _counting(monkeypatch, dispatch_module, "assess", assesses)

    report = engine.run_cycle(DAY)

    assert report.summary.reviewed == len(loans)
    assert report.summary.sent > 0  # actions were sent, with the review's assessment
    assert decides == {loan.id: 1 for loan in loans}
    assert assesses == {loan.id: 1 for loan in loans}
    with store() as uow:
        assert {uow.cases.get(loan.id).segment for loan in loans} == {"custom"}  # type: ignore[union-attr]
