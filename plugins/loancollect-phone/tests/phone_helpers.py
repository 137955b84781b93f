"""An engine with the rule packs, loans in China and California, and a desk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pendulum
from loancollect_phone import PhoneDesk, RulesGate

from loancollect import CollectionEngine, make_plugin_manager
from loancollect.domain.events import Event, EventKind
from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.domain.money import Money
from loancollect.domain.strategy import PlannedAction, Tone
from loancollect.registry import rule_packs
from loancollect.testing import FixedClock, MemoryStore, make_action, make_borrower, make_loan

DAY = dt.date(2025, 3, 3)  # a Monday
CN_LOAN = "L-CN"
US_LOAN = "L-US"
PACKS = ["rules-us", "rules-cn", "rules-uk", "phone"]


@attrs.define
class Desk:
    """What the tests work with."""

    engine: CollectionEngine
    store: MemoryStore
    desk: PhoneDesk
    gate: RulesGate

    def events(self, loan_id: str, kind: EventKind) -> list[Event]:
        """The stored events of ``kind`` of ``loan_id``."""
        with self.store() as uow:
            return [e for e in uow.events.stream(loan_id) if e.kind is kind]


def us_loan() -> object:
    """A loan of a borrower in Los Angeles (California: every party consents to recording)."""
    borrower = make_borrower(
        id="B-US",
        name="Jane Doe",
        jurisdiction="US-CA",
        time_zone="America/Los_Angeles",
        locale="en_US",
        contact_points=(ContactPoint(ContactKind.PHONE, "+1 213 555 0142", label="mobile"),),
    )
    return make_loan(
        id=US_LOAN,
        borrower=borrower,
        principal=Money("12000.00", "USD"),
        annual_rate=Decimal("0.08"),
    )


def make_desk() -> Desk:
    """The engine (memory storage, US/CN/UK packs), the two loans and a desk."""
    pm = make_plugin_manager(load_entrypoints=PACKS)
    store = MemoryStore()
    engine = CollectionEngine(
        pm=pm,
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 3, 3, 2, tz="UTC")),
        validate_templates=False,
    )
    engine.add_loans([make_loan(id=CN_LOAN), us_loan()], review_on=DAY)  # type: ignore[list-item]
    desk = PhoneDesk(
        sink=engine,
        storage=store,
        packs=tuple(rule_packs(pm).values()),
        business="Example Lending",
        callback_number="+1 800 555 0100",
    )
    return Desk(engine=engine, store=store, desk=desk, gate=RulesGate(pm, store))


def call_action(
    loan_id: str, *, locale: str = "zh_CN", rule_id: str = "early.call"
) -> PlannedAction:
    """A planned call for ``loan_id`` on :data:`DAY`."""
    number = "+86 138 0013 8000" if loan_id == CN_LOAN else "+1 213 555 0142"
    return make_action(
        loan_id=loan_id,
        rule_id=rule_id,
        channel="phone",
        template="reminder",
        tone=Tone.REMINDER,
        as_of=DAY,
        locale=locale,
        contact=ContactPoint(ContactKind.PHONE, number, label="mobile"),
    )


def at_local(loan_id: str, hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    """``hour:minute`` on ``day`` in the borrower's zone, as an aware instant."""
    zone = "Asia/Shanghai" if loan_id == CN_LOAN else "America/Los_Angeles"
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz=zone)
