"""The stage policy's optional state (pauses, notices, campaign …) is kept with the case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pendulum
from loancollect_sqlalchemy import SqlStore
from loancollect_sqlalchemy import mapping as m

from loancollect.builtin.recording import RecordingChannel
from loancollect.domain.allocation import Component
from loancollect.domain.campaigns import CampaignState
from loancollect.domain.case import Case
from loancollect.domain.commands import PauseDelinquency, ResumeDelinquency
from loancollect.domain.delinquency import DelinquencyPause, LoanStatus
from loancollect.domain.dunning import CreditNote, DunningType, Notice, NoticeStatus
from loancollect.domain.events import EventKind
from loancollect.domain.money import Money
from loancollect.domain.policy import Condition, Stage, StagePolicy
from loancollect.domain.policy_state import FailedPayment, PolicyState
from loancollect.domain.strategy import Strategy
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.plugins import make_plugin_manager
from loancollect.testing import UNCHECKED_CONTACT, make_loan
from loancollect.testing.clock import FixedClock

D = dt.date(2025, 3, 1)
CNY = "CNY"


def test_a_full_policy_state_round_trips_through_the_work_document() -> None:
    state = PolicyState(
        pauses=(
            DelinquencyPause(start=D, end=D + dt.timedelta(days=9), reason="r", resumed_on=D),
            DelinquencyPause(start=D + dt.timedelta(days=20)),
        ),
        loan_status=LoanStatus.WRITTEN_OFF,
        ranges=((0, "31+"), (2, "1-30")),
        notices=(
            Notice(
                id="N-1",
                stage="reminder",
                dunning_type="First",
                issued_on=D,
                overdue=Money("100.00", CNY),
                interest=Money("1.23", CNY),
                fee=Money("39.06", CNY),
                language="zh",
                text="您的款项已逾期。",
                status=NoticeStatus.SENT,
                status_on=D,
                fee_source=Money("5.00", "EUR"),
                fee_rate=Decimal("7.8123"),
            ),
        ),
        credit_notes=(
            CreditNote(id="CN-1", amount=Money("10.00", CNY), on=D, component=Component.FEES),
        ),
        campaign=CampaignState(code="std", started_on=D, attempts=2, last_attempt_on=D),
        failed_payment=FailedPayment(response="CARD_EXPIRED", on=D),
        last_run=D,
    )
    case = Case(loan_id="L-1", policy_state=state)
    doc = m.work_to_json(case)
    assert doc is not None
    assert m.work_from_json(doc)["policy_state"] == state
    assert m.work_to_json(Case(loan_id="L-1")) is None  # nothing written when unused


def test_a_pause_through_the_intake_holds_the_stage_in_a_stored_review(tmp_path: Path) -> None:
    policy = StagePolicy(
        name="p",
        stages=(
            Stage(name="d1", rank=1, entry=Condition(min_dpd=1)),
            Stage(name="d30", rank=2, entry=Condition(min_dpd=30)),
        ),
        dunning_types=(DunningType(name="late", stage="d30", fee=Money("10.00", CNY)),),
    )
    store = SqlStore(f"sqlite:///{tmp_path}/policy.db")
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=False, config=UNCHECKED_CONTACT),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 3, 20, 10, tz="Asia/Shanghai")),
        channels={"email": RecordingChannel(name="email")},
        config=CycleConfig(policy=policy, strategy=Strategy(name="none")),
        validate_templates=False,
    )
    first_due = dt.date(2025, 2, 15)
    engine.add_loans([make_loan()], review_on=first_due + dt.timedelta(days=1))
    engine.review(first_due + dt.timedelta(days=1))
    engine.intake.apply("L-1", PauseDelinquency(start=first_due + dt.timedelta(days=5)), on=D)
    day_40 = first_due + dt.timedelta(days=40)
    engine.review(day_40)
    with store() as uow:
        case = uow.cases.get("L-1")
        kinds = [e.kind for e in uow.events.stream("L-1")]
    assert case is not None
    assert case.stage == "d1"  # paused from day 5: delinquency stays at 5
    assert case.policy_state.pauses == (DelinquencyPause(start=first_due + dt.timedelta(days=5)),)
    assert EventKind.DELINQUENCY_PAUSED in kinds
    assert EventKind.NOTICE_ISSUED not in kinds
    # resumed on day 40: 35 days off, so day 70 is delinquent day 35
    engine.intake.apply("L-1", ResumeDelinquency(reason="called"), on=day_40)
    engine.review(first_due + dt.timedelta(days=70))
    with store() as uow:
        case = uow.cases.get("L-1")
        kinds = [e.kind for e in uow.events.stream("L-1")]
    assert case is not None
    assert case.stage == "d30"
    assert EventKind.DELINQUENCY_RESUMED in kinds
    last_change = len(kinds) - 1 - kinds[::-1].index(EventKind.STAGE_CHANGED)
    assert kinds[last_change + 1] is EventKind.NOTICE_ISSUED  # on entering d30
    assert case.policy_state.notices[0].fee == Money("10.00", CNY)
    store.dispose()
