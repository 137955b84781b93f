"""A synthetic lending portfolio and the world around it, for the demo and benchmarks.

:func:`generate_portfolio` makes individual and company borrowers in China, the
United States and Great Britain (their time zones, locales and currencies),
several products and repayment methods, and a payment behaviour for each loan.
:class:`World` plays the borrowers and the collection agents day by day: it
pays (on time, late, after a reminder, never), answers calls (right-party
contact, promises kept or broken, refusals, stated hardship) and accepts
installment plans when hardship cases are offered one. Everything is
deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TypeVar

import attrs
import pendulum

from loancollect.domain.arrangements import PromiseToPay, make_plan
from loancollect.domain.case import ContactOutcome, OutcomeKind
from loancollect.domain.defaults import DEFAULT_STRATEGY
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import ActionSent, Event, EventKind
from loancollect.domain.loans import (
    Borrower,
    ContactKind,
    ContactPoint,
    Loan,
    PartyKind,
    Payment,
    RepaymentMethod,
)
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.domain.strategy import Experiment, Variant
from loancollect.engine import CollectionEngine
from loancollect.hookspecs import hookimpl

__all__ = [
    "Behaviour",
    "DemoLoan",
    "SimulatedClock",
    "World",
    "demo_strategy",
    "generate_portfolio",
]

T = TypeVar("T")


class Behaviour(enum.Enum):
    """How a borrower pays."""

    ON_TIME = "on_time"
    FORGETFUL = "forgetful"  # pays a few days late, after a reminder
    HARDSHIP = "hardship"  # stops paying; accepts an installment plan and keeps it
    PROMISER = "promiser"  # promises when called; keeps some promises, breaks others
    WONT_PAY = "wont_pay"  # ignores everything, breaks promises: reaches the legal stage


_MIX = (
    (Behaviour.ON_TIME, 50),
    (Behaviour.FORGETFUL, 20),
    (Behaviour.HARDSHIP, 10),
    (Behaviour.PROMISER, 12),
    (Behaviour.WONT_PAY, 8),
)

_COUNTRIES = (
    # jurisdiction, currency, locale, zones, phone prefix, share
    ("CN", "CNY", "zh_CN", ("Asia/Shanghai",), "+86 138", 50),
    (
        "US",
        "USD",
        "en_US",
        ("America/New_York", "America/Chicago", "America/Los_Angeles"),
        "+1 212",
        30,
    ),
    ("GB", "GBP", "en_GB", ("Europe/London",), "+44 7700", 20),
)

_PRODUCTS = (
    # name, method, terms, principal range (major units), rate range (per mille)
    ("consumer", RepaymentMethod.EQUAL_INSTALLMENT, (6, 12), (2_000, 30_000), (80, 240)),
    ("auto", RepaymentMethod.EQUAL_PRINCIPAL, (12, 24), (20_000, 120_000), (40, 90)),
    ("business", RepaymentMethod.INTEREST_ONLY, (6, 12), (50_000, 300_000), (50, 120)),
    ("bridge", RepaymentMethod.BULLET, (3, 6), (10_000, 80_000), (60, 150)),
)

_NAMES = {
    "CN": ("王芳", "李伟", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽"),
    "US": ("Avery Johnson", "Jordan Smith", "Taylor Brown", "Morgan Davis", "Casey Miller"),
    "GB": ("Oliver Hughes", "Amelia Clarke", "Harry Walker", "Isla Wright", "George Evans"),
}
_COMPANIES = {
    "CN": ("华兴贸易有限公司", "宏达制造有限公司", "鑫源科技有限公司"),
    "US": ("Riverside Supply LLC", "Northwind Traders Inc", "Summit Logistics LLC"),
    "GB": ("Thames Joinery Ltd", "Pennine Foods Ltd", "Harbour Print Ltd"),
}


@attrs.frozen
class DemoLoan:
    """A generated loan and its borrower's behaviour."""

    loan: Loan
    behaviour: Behaviour
    # For late payers and hardship cases: the first installment they miss or pay late.
    trouble_from: int
    delay_days: int


def _weighted(rng: random.Random, table: tuple[tuple[T, int], ...]) -> T:
    total = sum(w for _, w in table)
    point = rng.randrange(total)
    for item, weight in table:
        if point < weight:
            return item
        point -= weight
    raise AssertionError("unreachable")  # pragma: no cover


def generate_portfolio(count: int, *, seed: int, start: dt.date) -> list[DemoLoan]:
    """``count`` loans disbursed over the 90 days before ``start``, deterministic for ``seed``."""
    rng = random.Random(seed)
    countries = tuple(((c[0], c[1], c[2], c[3], c[4]), c[5]) for c in _COUNTRIES)
    out = []
    for i in range(count):
        country, currency, locale, zones, prefix = _weighted(rng, countries)
        company = rng.random() < 0.2
        kind = PartyKind.COMPANY if company else PartyKind.INDIVIDUAL
        name = rng.choice(_COMPANIES[country] if company else _NAMES[country])
        points = [
            ContactPoint(
                ContactKind.PHONE, f"{prefix} {rng.randrange(1000, 9999)} {i % 10000:04d}", "mobile"
            )
        ]
        if rng.random() < 0.75:
            points.append(ContactPoint(ContactKind.EMAIL, f"customer{i}@example.com"))
        if rng.random() < 0.85:
            # An individual's postal address is their home: the packs allow a visit only
            # at a place they know (UK CONC 7.9: home, or elsewhere with consent).
            points.append(
                ContactPoint(
                    ContactKind.ADDRESS,
                    f"{rng.randrange(1, 300)} Demo Street, Unit {i}",
                    "" if company else "home",
                )
            )
        income = None
        if rng.random() < 0.6:
            income = Money(rng.randrange(3_000, 40_000) * (5 if company else 1), currency)
        borrower = Borrower(
            id=f"B{i:06d}",
            kind=kind,
            name=name,
            jurisdiction=country,
            time_zone=rng.choice(zones),
            locale=locale,
            contact_points=points,
            monthly_income=income,
            monthly_debt_service=income.multiply(Decimal(rng.randrange(10, 70)) / 100)
            if income
            else None,
        )
        product, method, terms, (lo, hi), (rlo, rhi) = rng.choice(
            _PRODUCTS if company else _PRODUCTS[:2]
        )
        loan = Loan.create(
            id=f"{country}-{product[:3].upper()}-{i:06d}",
            borrower=borrower,
            principal=Money(rng.randrange(lo, hi) // 100 * 100, currency),
            annual_rate=Decimal(rng.randrange(rlo, rhi)) / 1000,
            term=rng.choice(terms),
            disbursement_date=start - dt.timedelta(days=rng.randrange(0, 90)),
            method=method,
            product=product,
            tolerance=Money("1", currency),
        )
        behaviour = _weighted(rng, _MIX)
        out.append(
            DemoLoan(
                loan=loan,
                behaviour=behaviour,
                trouble_from=rng.randrange(1, min(len(loan.installments), 3) + 1),
                delay_days=rng.randrange(3, 12),
            )
        )
    return out


class World:
    """Plays the borrowers and agents of a demo portfolio against an engine, day by day.

    It is a plug-in too: it watches the engine's events (``loancollect_on_event``)
    to learn which borrowers were called, and answers through the engine's
    ingestion API the next day, like a host platform would.
    """

    def __init__(self, portfolio: list[DemoLoan], *, seed: int) -> None:
        self.portfolio = {d.loan.id: d for d in portfolio}
        self._rng = random.Random(seed + 1)
        self._plans: dict[str, list[tuple[dt.date, Money]]] = {}
        self._promises: dict[str, tuple[dt.date, Money, bool]] = {}
        self._paid_numbers: dict[str, set[int]] = {lid: set() for lid in self.portfolio}
        self._calls: dict[dt.date, list[str]] = {}
        self._answered = frozenset({"phone", "visit"})

    @hookimpl
    def loancollect_on_event(self, event: Event) -> None:
        """Note the calls and visits that went out (answered the next day)."""
        if event.kind is not EventKind.ACTION_SENT:
            return
        if ActionSent.parse(event).channel in self._answered:
            self._calls.setdefault(event.on, []).append(event.loan_id)

    def payments_on(
        self, day: dt.date, amount_due: Callable[[Loan, dt.date], Money] | None = None
    ) -> Iterator[Payment]:
        """The payments the borrowers make on ``day`` (regular, late, plan, promise).

        :param amount_due: what a loan's borrower is asked to pay on a day; a borrower
            paying an installment late pays that (penalty included) when it is more.
        """
        for lid, demo in self.portfolio.items():
            loan = demo.loan
            for inst in loan.installments:
                if inst.number in self._paid_numbers[lid]:
                    continue
                when = self._regular_payment_day(demo, inst.number, inst.due_date)
                if when == day:
                    self._paid_numbers[lid].add(inst.number)
                    amount = inst.total
                    if when > inst.due_date and amount_due is not None:
                        amount = max(amount, amount_due(loan, day))
                    yield self._payment(loan, day, amount, f"R{inst.number}")
            for plan_day, amount in self._plans.get(lid, ()):
                if plan_day == day:
                    yield self._payment(loan, day, amount, f"PL{plan_day:%Y%m%d}")
            promise = self._promises.get(lid)
            if promise is not None and promise[0] == day and promise[2]:
                yield self._payment(loan, day, promise[1], f"PTP{day:%Y%m%d}")

    def _regular_payment_day(self, demo: DemoLoan, number: int, due: dt.date) -> dt.date | None:
        b = demo.behaviour
        if b is Behaviour.ON_TIME or number < demo.trouble_from:
            return due
        if b is Behaviour.FORGETFUL:
            return due + dt.timedelta(days=demo.delay_days)
        if b is Behaviour.HARDSHIP:
            # While a plan runs, the regular installments are paid again.
            return due if self._plans.get(demo.loan.id) else None
        return None  # promisers pay through promises; won't-pays never

    def _payment(self, loan: Loan, day: dt.date, amount: Money, tag: str) -> Payment:
        return Payment(
            id=f"{loan.id}-{tag}",
            loan_id=loan.id,
            amount=amount,
            value_date=day,
            received_at=dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC),
        )

    def answer_calls(self, engine: CollectionEngine, day: dt.date) -> None:
        """Outcomes of yesterday's calls and visits: promises, refusals, plans.

        Sends on a channel a demo part answers itself (:meth:`skip_answers`) are
        left to that part.
        """
        yesterday = day - dt.timedelta(days=1)
        for lid in sorted(set(self._calls.pop(yesterday, ()))):
            if lid in self.portfolio:
                self.react(engine, lid, day)

    def skip_answers(self, channels: frozenset[str]) -> None:
        """Stop answering sends on ``channels`` (a demo part answers them)."""
        self._answered = self._answered - channels

    def behaviour(self, loan_id: str) -> Behaviour | None:
        """How the borrower of ``loan_id`` pays (``None`` for a loan not in the demo)."""
        demo = self.portfolio.get(loan_id)
        return None if demo is None else demo.behaviour

    def react(
        self, engine: CollectionEngine, loan_id: str, day: dt.date, *, channel: str = "phone"
    ) -> OutcomeKind:
        """The borrower of ``loan_id`` reacts to a contact on ``channel`` on ``day``.

        The reaction is recorded through the engine's intake (an outcome, and a
        promise or a plan with its down payment when the borrower makes one) and
        the world keeps the promises and plans it makes. Returns the outcome's kind.
        """
        demo = self.portfolio[loan_id]
        b = demo.behaviour
        roll = self._rng.random()
        if roll < 0.25:
            return self._outcome(engine, loan_id, day, channel, OutcomeKind.NO_ANSWER)
        if b is Behaviour.WONT_PAY:
            if roll < 0.6 and loan_id not in self._promises:
                return self._promise(engine, demo, day, keep=False, channel=channel)
            return self._outcome(engine, loan_id, day, channel, OutcomeKind.REFUSED)
        if b is Behaviour.PROMISER:
            if not self._promise_open(loan_id, day):
                return self._promise(
                    engine, demo, day, keep=self._rng.random() < 0.6, channel=channel
                )
            return OutcomeKind.RIGHT_PARTY_CONTACT  # reminded of the open promise
        if b is Behaviour.HARDSHIP and loan_id not in self._plans:
            self._outcome(
                engine, loan_id, day, channel, OutcomeKind.HARDSHIP_STATED, "income dropped"
            )
            self._offer_plan(engine, demo, day)
            return OutcomeKind.HARDSHIP_STATED
        return self._outcome(engine, loan_id, day, channel, OutcomeKind.RIGHT_PARTY_CONTACT)

    @staticmethod
    def _outcome(
        engine: CollectionEngine,
        loan_id: str,
        day: dt.date,
        channel: str,
        kind: OutcomeKind,
        note: str | None = None,
    ) -> OutcomeKind:
        if note is None:
            engine.record_outcome(loan_id, ContactOutcome(day, channel, kind))
        else:
            engine.record_outcome(loan_id, ContactOutcome(day, channel, kind, note))
        return kind

    def _promise_open(self, lid: str, day: dt.date) -> bool:
        promise = self._promises.get(lid)
        return promise is not None and promise[0] >= day

    def _amount_due(self, engine: CollectionEngine, loan: Loan, day: dt.date) -> Money:
        with engine.storage() as uow:
            payments = uow.loans.payments_for(loan.id)
        return assess(loan, payments, day).amount_due

    def _promise(
        self,
        engine: CollectionEngine,
        demo: DemoLoan,
        day: dt.date,
        *,
        keep: bool,
        channel: str = "phone",
    ) -> OutcomeKind:
        loan = demo.loan
        due = self._amount_due(engine, loan, day)
        if not due.is_positive():
            return OutcomeKind.RIGHT_PARTY_CONTACT  # nothing is due: nothing to promise
        when = day + dt.timedelta(days=self._rng.randrange(2, 7))
        self._promises[loan.id] = (when, due, keep)
        engine.record_outcome(loan.id, ContactOutcome(day, channel, OutcomeKind.PROMISE))
        engine.record_arrangement(
            loan.id,
            PromiseToPay(id=f"{loan.id}-PTP-{day:%Y%m%d}", made_on=day, amount=due, due=when),
        )
        return OutcomeKind.PROMISE

    def _offer_plan(self, engine: CollectionEngine, demo: DemoLoan, day: dt.date) -> None:
        loan = demo.loan
        due = self._amount_due(engine, loan, day)
        if not due.is_positive():
            return
        down = due.multiply(Decimal("0.1"))
        plan = make_plan(
            id=f"{loan.id}-PLAN", made_on=day, amount=due, installments=3, down_payment=down
        )
        self._plans[loan.id] = list(plan.schedule)
        engine.record_arrangement(loan.id, plan)
        engine.record_payment(self._payment(loan, day, down, "DOWN"))  # paid on the call


class SimulatedClock:
    """The demo's clock: simulated time, set by the simulation (time-zone aware, UTC)."""

    def __init__(self, now: dt.datetime) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        """The simulated instant."""
        return self._now

    def today(self, tz: str) -> dt.date:
        """The simulated date in the IANA zone ``tz``."""
        return pendulum.instance(self._now).in_timezone(tz).date()

    def set(self, now: dt.datetime) -> None:
        """Move the simulated clock (to an aware instant)."""
        if now.tzinfo is None:
            raise ValidationError("clock.now", now, "naive datetime")
        self._now = now


def demo_strategy() -> Experiment:
    """Champion/challenger for the demo: the default strategy (80 %) against a gentler
    challenger (20 %) that texts less often in early collection and calls later."""
    gentle_actions = []
    for rule in DEFAULT_STRATEGY.actions:
        if rule.id == "early.sms":
            rule = attrs.evolve(rule, every_days=5)
        elif rule.id in ("early.call", "early.call.firm"):
            rule = attrs.evolve(rule, on_dpd=10)
        gentle_actions.append(rule)
    gentle = attrs.evolve(DEFAULT_STRATEGY, name="gentle", actions=tuple(gentle_actions))
    return Experiment(
        "demo-2025", (Variant("champion", DEFAULT_STRATEGY, 80), Variant("challenger", gentle, 20))
    )
