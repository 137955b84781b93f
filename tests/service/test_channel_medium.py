"""Channels declare their compliance medium; the rule packs judge every contact by it.

Through the real engine with the CN pack from its entry point: a plug-in channel
called ``wechat`` declaring an instant-message medium, and one called ``crm-notes``
declaring SMS, are held to the 08:00-22:00 Beijing window like the built-in SMS; a
channel that declares no medium is never used; a channel of medium ``none`` (a CRM
sync) contacts nobody and is not checked. Nothing is inferred from a name.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pendulum
import pytest

from loancollect import (
    Borrower,
    ChannelSpec,
    CollectionEngine,
    ContactKind,
    ContactPoint,
    CycleConfig,
    EventKind,
    Loan,
    Money,
    PartyKind,
    hookimpl,
    make_plugin_manager,
)
from loancollect.builtin.compliance import CORE_CHANNELS, UNDECLARED_MEDIUM, ComplianceGuard
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.events import ActionBlocked, ActionRescheduled, ActionSent
from loancollect.domain.strategy import ActionRule, Strategy
from loancollect.errors import ValidationError
from loancollect.ports import CAP_IDEMPOTENT
from loancollect.registry import TemplateSpec, channel_media, channel_specs
from loancollect.testing import FixedClock, MemoryStore, RecordingChannel

FIRST = dt.date(2025, 2, 20)  # 10 days past due: early collection
NEXT = FIRST + dt.timedelta(days=1)
BODY = "{{ borrower_name }}: {{ amount_due }} due {{ due_date }}. {{ how_to_pay }}"

# name -> the medium it declares (None: it declares none)
PLUGIN_CHANNELS: dict[str, Medium | None] = {
    "wechat": Medium.INSTANT_MESSAGE,
    "crm-notes": Medium.SMS,
    "crm": None,
    "crm-sync": Medium.NONE,
}


class VendorChannels:
    """A vendor's plug-in: four channels and a reminder template for each."""

    @hookimpl
    def loancollect_register_channels(self) -> list[ChannelSpec]:
        return [
            ChannelSpec(
                name=name,
                factory=lambda settings, name=name: RecordingChannel(name),
                medium=medium,
                contact_kind=ContactKind.PHONE if medium is not Medium.NONE else None,
                capabilities={CAP_IDEMPOTENT},
            )
            for name, medium in PLUGIN_CHANNELS.items()
        ]

    @hookimpl
    def loancollect_register_templates(self) -> list[TemplateSpec]:
        return [
            TemplateSpec(name="reminder", channel=name, locale=locale, source=BODY)
            for name in PLUGIN_CHANNELS
            for locale in ("zh_CN", "en_US")
        ]


def strategy() -> Strategy:
    return Strategy(
        name="vendor",
        actions=tuple(
            ActionRule(
                id=f"{name}.reminder", stage="early_collection", channel=name, template="reminder"
            )
            for name in PLUGIN_CHANNELS
        ),
    )


def borrower() -> Borrower:
    return Borrower(
        id="B-CN",
        kind=PartyKind.INDIVIDUAL,
        name="张伟",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
        contact_points=(ContactPoint(ContactKind.PHONE, "+86 138 0013 8000", label="mobile"),),
    )


def beijing(day: dt.date, hour: int, minute: int = 0) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz="Asia/Shanghai")


class World:
    """The engine with the CN pack, the vendor's channels and a clock at ``at``."""

    def __init__(self, at: dt.datetime, config: dict[str, object] | None = None) -> None:
        self.pm = make_plugin_manager(
            load_entrypoints=["rules-cn"], plugins=(VendorChannels(),), config=config
        )
        self.store = MemoryStore()
        self.clock = FixedClock(at)
        self.channels = {name: RecordingChannel(name) for name in PLUGIN_CHANNELS}
        self.engine = CollectionEngine(
            pm=self.pm,
            storage=self.store,
            clock=self.clock,
            channels=self.channels,
            config=CycleConfig(strategy=strategy()),
        )
        loan = Loan.create(
            id="L-CN",
            borrower=borrower(),
            principal=Money("12000", "CNY"),
            annual_rate=Decimal("0.12"),
            term=12,
            disbursement_date=dt.date(2025, 1, 10),
        )
        self.engine.add_loans([loan], review_on=FIRST)

    def events(self, kind: EventKind) -> list[object]:
        with self.store() as uow:
            return [e.payload for e in uow.events.stream("L-CN") if e.kind is kind]

    def sent(self, name: str) -> int:
        return len(self.channels[name].sent)


def test_registered_channels_declare_their_medium_and_deduplication() -> None:
    pm = make_plugin_manager(plugins=(VendorChannels(),))
    media = channel_media(pm)
    assert {name: media[name] for name in PLUGIN_CHANNELS} == PLUGIN_CHANNELS
    # The built-in recording and file channels contact nobody under their own names.
    assert media["recording"] is Medium.NONE
    assert media["file"] is Medium.NONE
    specs = channel_specs(pm)
    assert specs["wechat"].deduplicates  # from CAP_IDEMPOTENT: one source of truth
    assert not ChannelSpec(name="x", factory=RecordingChannel).deduplicates


def test_the_shipped_channels_declare_their_medium() -> None:
    pm = make_plugin_manager(load_entrypoints=["sms", "email", "letter"])
    media = channel_media(pm)
    assert (media["sms"], media["email"], media["letter"]) == (
        Medium.SMS,
        Medium.EMAIL,
        Medium.LETTER,
    )
    # SMS de-duplicates only on the operator's word that the gateway does (a setting),
    # so its registration does not claim it.
    assert not channel_specs(pm)["sms"].deduplicates


def test_a_medium_may_be_given_by_its_value_and_a_wrong_one_is_refused() -> None:
    assert ChannelSpec(name="x", factory=RecordingChannel, medium="instant_message").medium is (
        Medium.INSTANT_MESSAGE
    )
    with pytest.raises(ValidationError, match=r"channel\.medium"):
        ChannelSpec(name="x", factory=RecordingChannel, medium="pigeon")


def test_at_2330_beijing_the_declared_channels_wait_for_0800_and_crm_sync_is_not_checked() -> None:
    world = World(at=beijing(FIRST, 23, 30))

    report = world.engine.run_cycle(FIRST)

    assert (report.summary.rescheduled, report.summary.blocked, report.summary.sent) == (2, 1, 1)
    moved = {p.channel: p for p in world.events(EventKind.ACTION_RESCHEDULED)}
    assert set(moved) == {"wechat", "crm-notes"}
    for payload in moved.values():
        assert isinstance(payload, ActionRescheduled)
        assert payload.reasons.startswith("CN-01: outside the allowed hours in Asia/Shanghai")
        assert "GB/T 45251—2025" in payload.citations
        assert payload.not_before == beijing(NEXT, 8)
    assert world.sent("wechat") == world.sent("crm-notes") == 0
    # Medium "none" contacts nobody: sent at 23:30, no rule asked.
    assert world.sent("crm-sync") == 1
    (sync,) = world.events(EventKind.ACTION_SENT)
    assert isinstance(sync, ActionSent)
    assert sync.channel == "crm-sync"

    # The next morning the waiting messages go out; the undeclared channel never does.
    world.clock.set(beijing(NEXT, 8, 30))
    later = world.engine.dispatch(NEXT)
    assert later.summary.sent == 2
    assert (world.sent("wechat"), world.sent("crm-notes"), world.sent("crm")) == (1, 1, 0)


def test_a_channel_that_declares_no_medium_is_never_contacted() -> None:
    world = World(at=beijing(FIRST, 10))  # inside the window: only the medium is missing

    report = world.engine.run_cycle(FIRST)

    assert report.summary.blocked == 1
    (blocked,) = world.events(EventKind.ACTION_BLOCKED)
    assert isinstance(blocked, ActionBlocked)
    assert blocked.channel == "crm"
    assert blocked.reasons.startswith(f"{UNDECLARED_MEDIUM}: channel 'crm' declares no ")
    assert "ChannelSpec(medium=...)" in blocked.reasons
    assert "'compliance.channels'" in blocked.reasons
    with world.store() as uow:
        assert uow.outbox.get(blocked.key) is None  # never in the outbox
    assert world.sent("crm") == 0
    assert (world.sent("wechat"), world.sent("crm-notes"), world.sent("crm-sync")) == (1, 1, 1)


def test_the_configuration_gives_a_medium_and_overrides_a_declaration() -> None:
    config = {"compliance.channels": {"crm": "call", "crm-sync": "sms"}}
    world = World(at=beijing(FIRST, 23, 30), config=config)

    report = world.engine.run_cycle(FIRST)

    assert (report.summary.rescheduled, report.summary.blocked, report.summary.sent) == (4, 0, 0)
    guard = world.engine.compliance
    assert isinstance(guard, ComplianceGuard)
    assert guard.medium("crm") is Medium.CALL
    assert guard.medium("crm-sync") is Medium.SMS
    assert guard.medium("wechat") is Medium.INSTANT_MESSAGE


def test_no_medium_is_guessed_from_a_name() -> None:
    guard = ComplianceGuard([], media={"acme-sms": None, "sms": Medium.EMAIL})
    assert guard.medium("acme-sms") is None  # registered, declares none
    assert guard.medium("wechat-sms") is None  # not registered, not a core name
    assert guard.medium("sms") is Medium.EMAIL  # the registration wins over the core name
    assert guard.medium("phone") is CORE_CHANNELS["phone"]  # unregistered core name
    assert guard.undeclared("wechat-sms").detail.startswith(
        "channel 'wechat-sms' is not registered"
    )
