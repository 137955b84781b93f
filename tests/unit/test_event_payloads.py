"""Event payloads: typed records stored byte for byte as the untyped details were.

Every event the engine wrote before the payload records existed was built from a
string-keyed dict of details. ``OLD_SHAPES`` copies each producer's dict (the
review's and the dispatch's, the intake's, ``decide``'s, the SMS plug-in's, the
case commands') with realistic values, builds the event the old way, and pairs it
with the payload record the converted producer builds. The stored pairs, and so
the hash chain, must be identical; parsing the old event and writing it again
must give the same bytes. The chain's hashes are pinned to values computed with
the code of that time.
"""

from __future__ import annotations

import datetime as dt
import enum
import typing
from collections.abc import Mapping
from decimal import Decimal

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loancollect.domain.arrangements import ArrangementKind, ArrangementStatus
from loancollect.domain.case import HoldKind, OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import (
    PAYLOADS,
    ActionBlocked,
    ActionFailed,
    ActionPlanned,
    ActionRescheduled,
    ActionSent,
    ArrangementBroken,
    ArrangementCompleted,
    ArrangementMade,
    CampaignAttempted,
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    CasePlaced,
    CaseRecalled,
    CaseSold,
    ChargedOff,
    ChargeOffReversed,
    ContactOutcomeRecorded,
    CreditNoteRecorded,
    DeliveryReceipt,
    Event,
    EventKind,
    FlagCleared,
    FlagSet,
    HoldPlaced,
    HoldReleased,
    InboundMessage,
    LegalMatterAdvanced,
    LegalMatterOpened,
    LitigationRecommended,
    MarkerRemoved,
    MarkerSet,
    NoticeIssued,
    OptedOut,
    Payload,
    PaymentFailed,
    PaymentReceived,
    PromiseBroken,
    PromiseKept,
    PromiseMade,
    RecoveryRecorded,
    SegmentAssigned,
    StageChanged,
    VariantAssigned,
    WrittenOff,
    chain,
    new_event,
    verify_chain,
)
from loancollect.domain.money import CURRENCIES, Money


def _old_text(value: object) -> str:
    """How the old ``make_event`` turned a detail into text (copied, unchanged)."""
    if type(value) is str:
        return value
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def old_event(
    kind: EventKind,
    on: dt.date,
    data: Mapping[str, object],
    at: dt.datetime | None = None,
) -> Event:
    """An event built the old way: sorted ``(key, text)`` pairs of a details dict."""
    pairs = tuple(sorted((str(k), _old_text(v)) for k, v in data.items()))
    return Event(kind=kind, loan_id="L-1", on=on, data=pairs, at=at)


DAY = dt.date(2025, 3, 3)
NOW = pendulum.datetime(2025, 3, 3, 2, 15, 30, 123456, tz="UTC")  # the engine's clock
LATER = pendulum.datetime(2025, 3, 4, 0, 0, tz="UTC")  # a verdict's earliest instant
RECEIVED = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
KEY = "L-1:early.sms:2025-03-03"
BASE = {"key": KEY, "channel": "sms", "rule": "early.sms"}
REASONS = "CN-01: outside the allowed hours in Asia/Shanghai"
CITATIONS = "GB/T 45251—2025 §5.3; CBA 2026 指引 ch. 3"

# (what produced it, the old event, the payload the converted producer builds, at)
OLD_SHAPES: list[tuple[str, Event, Payload, dt.datetime | None]] = [
    # decide (domain/decision.py)
    (
        "decide: promise kept",
        old_event(
            EventKind.PROMISE_KEPT,
            DAY,
            {"arrangement": "PTP-1", "type": "promise", "status": "kept", "resolved_on": DAY},
        ),
        PromiseKept(
            arrangement="PTP-1",
            type=ArrangementKind.PROMISE,
            status=ArrangementStatus.KEPT,
            resolved_on=DAY,
        ),
        None,
    ),
    (
        "decide: promise broken",
        old_event(
            EventKind.PROMISE_BROKEN,
            DAY,
            {"arrangement": "PTP-2", "type": "promise", "status": "broken", "resolved_on": DAY},
        ),
        PromiseBroken(arrangement="PTP-2", type="promise", status="broken", resolved_on=DAY),
        None,
    ),
    (
        "decide: plan broken",
        old_event(
            EventKind.ARRANGEMENT_BROKEN,
            DAY,
            {
                "arrangement": "PLAN-1",
                "type": "installment_plan",
                "status": "broken",
                "resolved_on": DAY,
            },
        ),
        ArrangementBroken(
            arrangement="PLAN-1",
            type=ArrangementKind.INSTALLMENT_PLAN,
            status=ArrangementStatus.BROKEN,
            resolved_on=DAY,
        ),
        None,
    ),
    (
        "decide: promise cancelled",
        old_event(
            EventKind.ARRANGEMENT_COMPLETED,
            DAY,
            {"arrangement": "PTP-3", "type": "promise", "status": "cancelled", "resolved_on": DAY},
        ),
        ArrangementCompleted(
            arrangement="PTP-3",
            type=ArrangementKind.PROMISE,
            status=ArrangementStatus.CANCELLED,
            resolved_on=DAY,
        ),
        None,
    ),
    (
        "decide: first segment",
        old_event(EventKind.SEGMENT_ASSIGNED, DAY, {"segment": "forgetful", "previous": ""}),
        SegmentAssigned(segment="forgetful"),
        None,
    ),
    (
        "decide: segment changed",
        old_event(
            EventKind.SEGMENT_ASSIGNED, DAY, {"segment": "strategic", "previous": "forgetful"}
        ),
        SegmentAssigned(segment="strategic", previous="forgetful"),
        None,
    ),
    (
        "decide: variant",
        old_event(
            EventKind.VARIANT_ASSIGNED, DAY, {"experiment": "2025-q1", "variant": "challenger"}
        ),
        VariantAssigned(experiment="2025-q1", variant="challenger"),
        None,
    ),
    (
        "decide: stage changed",
        old_event(
            EventKind.STAGE_CHANGED,
            DAY,
            {"previous": "early", "current": "legal", "reason": "dpd >= 91", "dpd": 91},
        ),
        StageChanged(previous="early", current="legal", reason="dpd >= 91", dpd=91),
        None,
    ),
    (
        "decide: litigation recommended",
        old_event(
            EventKind.LITIGATION_RECOMMENDED,
            DAY,
            {"dpd": 91, "amount": Money("123456.7", "CNY"), "reason": "dpd >= 91"},
        ),
        LitigationRecommended(
            dpd=91, amount=Decimal("123456.70"), currency="CNY", reason="dpd >= 91"
        ),
        None,
    ),
    (
        "decide: litigation recommended, yen",
        old_event(
            EventKind.LITIGATION_RECOMMENDED,
            DAY,
            {"dpd": 100, "amount": Money("1200000", "JPY"), "reason": "dpd >= 91"},
        ),
        LitigationRecommended(dpd=100, amount=Decimal(1200000), currency="JPY", reason="dpd >= 91"),
        None,
    ),
    (
        "decide: case closed",
        old_event(EventKind.CASE_CLOSED, DAY, {"outcome": "settled"}),
        CaseClosed(outcome="settled"),
        None,
    ),
    (
        "decide: action planned",
        old_event(
            EventKind.ACTION_PLANNED,
            DAY,
            {"rule": "early.sms", "channel": "sms", "key": KEY, "template": "reminder"},
        ),
        ActionPlanned(rule="early.sms", channel="sms", key=KEY, template="reminder"),
        None,
    ),
    # the review (cycle: override, guard)
    (
        "review: stage overridden by a plug-in",
        old_event(
            EventKind.STAGE_CHANGED,
            DAY,
            {"previous": "early", "current": "hardship", "reason": "override by plug-in"},
        ),
        StageChanged(previous="early", current="hardship", reason="override by plug-in"),
        None,
    ),
    (
        "review: rescheduled",
        old_event(
            EventKind.ACTION_RESCHEDULED,
            DAY,
            {
                "key": KEY,
                "channel": "sms",
                "not_before": LATER.isoformat(),
                "reasons": REASONS,
                "citations": CITATIONS,
            },
        ),
        ActionRescheduled(
            key=KEY, channel="sms", not_before=LATER, reasons=REASONS, citations=CITATIONS
        ),
        None,
    ),
    (
        "review: blocked",
        old_event(
            EventKind.ACTION_BLOCKED,
            DAY,
            {**BASE, "reasons": REASONS, "citations": ""},
        ),
        ActionBlocked(**BASE, reasons=REASONS, citations=""),
        None,
    ),
    # the dispatch (cycle._record)
    (
        "dispatch: rescheduled at send time",
        old_event(
            EventKind.ACTION_RESCHEDULED,
            DAY,
            {
                **BASE,
                "not_before": LATER.isoformat(),
                "reasons": REASONS,
                "citations": CITATIONS,
            },
            NOW,
        ),
        ActionRescheduled(**BASE, not_before=LATER, reasons=REASONS, citations=CITATIONS),
        NOW,
    ),
    (
        "dispatch: blocked at send time",
        old_event(EventKind.ACTION_BLOCKED, DAY, {**BASE, "reasons": REASONS}, NOW),
        ActionBlocked(**BASE, reasons=REASONS),
        NOW,
    ),
    (
        "dispatch: sent, with evidence",
        old_event(
            EventKind.ACTION_SENT,
            DAY,
            {
                **BASE,
                "provider_id": "gw-77",
                "attempts": 2,
                "contact": "+86*********00",
                "place": "mobile",
                **{f"evidence.{k}": v for k, v in (("http_status", "202"), ("batch", "b-9"))},
            },
            NOW,
        ),
        ActionSent(
            **BASE,
            provider_id="gw-77",
            attempts=2,
            contact="+86*********00",
            place="mobile",
            evidence=(("http_status", "202"), ("batch", "b-9")),
        ),
        NOW,
    ),
    (
        "dispatch: sent, no contact point, no provider id",
        old_event(
            EventKind.ACTION_SENT,
            DAY,
            {"key": KEY, "channel": "crm", "rule": "sync", "provider_id": "", "attempts": 1}
            | {"contact": "", "place": ""},
            NOW,
        ),
        ActionSent(key=KEY, channel="crm", rule="sync", attempts=1),
        NOW,
    ),
    (
        "dispatch: failed, retried later",
        old_event(
            EventKind.ACTION_FAILED,
            DAY,
            {
                **BASE,
                "status": "failed_retryable",
                "detail": "gateway timeout",
                "attempts": 1,
                "retry_at": NOW.add(minutes=10).isoformat(),
            },
            NOW,
        ),
        ActionFailed(
            **BASE,
            status="failed_retryable",
            detail="gateway timeout",
            attempts=1,
            retry_at=NOW.add(minutes=10),
        ),
        NOW,
    ),
    (
        "dispatch: failed for good",
        old_event(
            EventKind.ACTION_FAILED,
            DAY,
            {**BASE, "status": "rejected", "detail": "", "attempts": 4, "retry_at": ""},
            NOW,
        ),
        ActionFailed(**BASE, status="rejected", detail="", attempts=4),
        NOW,
    ),
    (
        "dispatch: fallback planned",
        old_event(
            EventKind.ACTION_PLANNED,
            DAY,
            {
                "rule": "early.sms",
                "channel": "email",
                "key": f"{KEY}>email",
                "template": "reminder",
                "fallback_of": KEY,
            },
        ),
        ActionPlanned(
            rule="early.sms",
            channel="email",
            key=f"{KEY}>email",
            template="reminder",
            fallback_of=KEY,
        ),
        None,
    ),
    # the intake (cycle's ingestion API)
    (
        "intake: payment",
        old_event(
            EventKind.PAYMENT_RECEIVED,
            DAY,
            {"payment": "P-1", "amount": Money("1050.7", "CNY").amount, "currency": "CNY"},
            RECEIVED,
        ),
        PaymentReceived(payment="P-1", amount=Decimal("1050.70"), currency="CNY"),
        RECEIVED,
    ),
    (
        "intake: contact outcome",
        old_event(
            EventKind.CONTACT_OUTCOME,
            DAY,
            {"channel": "phone", "outcome": OutcomeKind.PROMISE, "note": "pays on Friday"},
            RECEIVED,
        ),
        ContactOutcomeRecorded(channel="phone", outcome=OutcomeKind.PROMISE, note="pays on Friday"),
        RECEIVED,
    ),
    (
        "intake: contact outcome without a note or instant",
        old_event(
            EventKind.CONTACT_OUTCOME,
            DAY,
            {"channel": "visit", "outcome": OutcomeKind.NO_ANSWER, "note": ""},
        ),
        ContactOutcomeRecorded(channel="visit", outcome=OutcomeKind.NO_ANSWER),
        None,
    ),
    (
        "intake: promise made",
        old_event(
            EventKind.PROMISE_MADE,
            DAY,
            {"arrangement": "PTP-1", "type": "promise", "amount": str(Money("500", "CNY").amount)},
        ),
        PromiseMade(arrangement="PTP-1", amount=Decimal("500.00")),
        None,
    ),
    (
        "intake: arrangement made without an amount",
        old_event(EventKind.ARRANGEMENT_MADE, DAY, {"arrangement": "GR-1", "type": "grace_period"}),
        ArrangementMade(arrangement="GR-1", type=ArrangementKind.GRACE_PERIOD),
        None,
    ),
    (
        "intake: settlement made",
        old_event(
            EventKind.ARRANGEMENT_MADE,
            DAY,
            {"arrangement": "ST-1", "type": "settlement", "amount": "8000.00"},
        ),
        ArrangementMade(arrangement="ST-1", type="settlement", amount=Decimal("8000.00")),
        None,
    ),
    (
        "intake: opt-out",
        old_event(EventKind.OPT_OUT, DAY, {"channel": "sms"}, RECEIVED),
        OptedOut(channel="sms"),
        RECEIVED,
    ),
    (
        "intake: delivery receipt",
        old_event(
            EventKind.DELIVERY_RECEIPT,
            DAY,
            {"key": KEY, "channel": "sms", "status": "sent", "detail": "", "provider_id": ""},
        ),
        DeliveryReceipt(key=KEY, channel="sms", status="sent"),
        None,
    ),
    (
        "intake: hold placed",
        old_event(
            EventKind.HOLD_PLACED,
            DAY,
            {
                "hold": HoldKind.BREATHING_SPACE,
                "start": DAY,
                "reason": "DRS",
                "end": DAY.replace(month=5),
            },
        ),
        HoldPlaced(
            hold=HoldKind.BREATHING_SPACE, start=DAY, reason="DRS", end=DAY.replace(month=5)
        ),
        None,
    ),
    (
        "intake: open-ended hold",
        old_event(
            EventKind.HOLD_PLACED, DAY, {"hold": HoldKind.DISPUTE, "start": DAY, "reason": ""}
        ),
        HoldPlaced(hold=HoldKind.DISPUTE, start=DAY, reason=""),
        None,
    ),
    (
        "intake: hold released",
        old_event(EventKind.HOLD_RELEASED, DAY, {"hold": HoldKind.DISPUTE}),
        HoldReleased(hold=HoldKind.DISPUTE),
        None,
    ),
    # the SMS plug-in (loancollect_sms.inbound)
    (
        "sms: opt-out reply",
        old_event(EventKind.OPT_OUT, DAY, {"channel": "sms", "source": "sms reply"}, RECEIVED),
        OptedOut(channel="sms", source="sms reply"),
        RECEIVED,
    ),
    (
        "sms: delivery receipt",
        old_event(
            EventKind.DELIVERY_RECEIPT,
            DAY,
            {
                "key": KEY,
                "channel": "sms",
                "status": "failed_permanent",
                "detail": "UNDELIV 001",
                "provider_id": "m-1",
            },
            RECEIVED,
        ),
        DeliveryReceipt(
            key=KEY,
            channel="sms",
            status="failed_permanent",
            detail="UNDELIV 001",
            provider_id="m-1",
        ),
        RECEIVED,
    ),
    # the new intake's untyped drafts (contact details; case commands)
    (
        "intake: outcome with its details",
        old_event(
            EventKind.CONTACT_OUTCOME,
            DAY,
            {
                "channel": "visit",
                "outcome": OutcomeKind.PROMISE,
                "note": "",
                "key": KEY,
                "agent": "a-7",
                "agency": "acme",
                "duration_s": 540,
                "evidence": "sha256:" + "ab" * 32,
                "lat": Decimal("31.2304"),
                "lon": Decimal("121.4737"),
                "accuracy_m": Decimal("12.5"),
                "promise_amount": Decimal("500.00"),
                "promise_currency": "CNY",
                "promise_date": DAY.replace(day=7),
            },
            RECEIVED,
        ),
        ContactOutcomeRecorded(
            channel="visit",
            outcome=OutcomeKind.PROMISE,
            key=KEY,
            agent="a-7",
            agency="acme",
            duration_s=540,
            evidence="sha256:" + "ab" * 32,
            lat=Decimal("31.2304"),
            lon=Decimal("121.4737"),
            accuracy_m=Decimal("12.5"),
            promise_amount=Decimal("500.00"),
            promise_currency="CNY",
            promise_date=DAY.replace(day=7),
        ),
        RECEIVED,
    ),
    (
        "command: flag set",
        old_event(EventKind.FLAG_SET, DAY, {"flag": "time_barred", "reason": ""}),
        FlagSet(flag="time_barred"),
        None,
    ),
    (
        "command: flag cleared",
        old_event(EventKind.FLAG_CLEARED, DAY, {"flag": "time_barred", "reason": "review"}),
        FlagCleared(flag="time_barred", reason="review"),
        None,
    ),
    (
        "command: assigned",
        old_event(EventKind.CASE_ASSIGNED, DAY, {"agent": "", "team": "t-1", "reason": ""}),
        CaseAssigned(team="t-1"),
        None,
    ),
    (
        "command: placed",
        old_event(
            EventKind.CASE_PLACED,
            DAY,
            {
                "agency": "acme",
                "placement": "PL-1",
                "tier": "primary",
                "until": DAY.replace(month=6),
                "reason": "",
            },
        ),
        CasePlaced(agency="acme", placement="PL-1", tier="primary", until=DAY.replace(month=6)),
        None,
    ),
    (
        "command: recalled",
        old_event(
            EventKind.CASE_RECALLED, DAY, {"agency": "acme", "placement": "PL-1", "reason": "end"}
        ),
        CaseRecalled(agency="acme", placement="PL-1", reason="end"),
        None,
    ),
    (
        "command: legal matter opened",
        old_event(
            EventKind.LEGAL_MATTER_OPENED, DAY, {"matter": "M-1", "route": "支付令", "reason": ""}
        ),
        LegalMatterOpened(matter="M-1", route="支付令"),
        None,
    ),
    (
        "command: legal matter advanced",
        old_event(
            EventKind.LEGAL_MATTER_ADVANCED, DAY, {"matter": "M-1", "step": "filed", "note": ""}
        ),
        LegalMatterAdvanced(matter="M-1", step="filed"),
        None,
    ),
    (
        "command: charged off",
        old_event(
            EventKind.CHARGED_OFF,
            DAY,
            {"amount": Decimal("3000.00"), "currency": "CNY", "reason": "180 dpd"},
        ),
        ChargedOff(amount=Decimal("3000.00"), currency="CNY", reason="180 dpd"),
        None,
    ),
    (
        "command: charge-off reversed",
        old_event(EventKind.CHARGE_OFF_REVERSED, DAY, {"reason": "booked in error"}),
        ChargeOffReversed(reason="booked in error"),
        None,
    ),
    (
        "command: written off",
        old_event(
            EventKind.WRITTEN_OFF,
            DAY,
            {"amount": Decimal("90.00"), "currency": "USD", "reason": "x"},
        ),
        WrittenOff(amount=Decimal("90.00"), currency="USD", reason="x"),
        None,
    ),
    (
        "intake: recovery",
        old_event(
            EventKind.RECOVERY_RECORDED,
            DAY,
            {"payment": "P-9", "amount": Decimal("50.00"), "currency": "CNY"},
        ),
        RecoveryRecorded(payment="P-9", amount=Decimal("50.00"), currency="CNY"),
        None,
    ),
    (
        "command: sold without a price",
        old_event(EventKind.CASE_SOLD, DAY, {"buyer": "b-1", "sale": "S-1", "currency": ""}),
        CaseSold(buyer="b-1", sale="S-1"),
        None,
    ),
    (
        "command: sold",
        old_event(
            EventKind.CASE_SOLD,
            DAY,
            {"buyer": "b-1", "sale": "S-1", "price": Decimal("300.00"), "currency": "CNY"},
        ),
        CaseSold(buyer="b-1", sale="S-1", price=Decimal("300.00"), currency="CNY"),
        None,
    ),
    (
        "intake: inbound reply",
        old_event(
            EventKind.INBOUND_MESSAGE,
            DAY,
            {"channel": "sms", "kind": "reply", "key": "", "provider_id": "m-2", "detail": ""},
            RECEIVED,
        ),
        InboundMessage(channel="sms", kind="reply", provider_id="m-2"),
        RECEIVED,
    ),
]

IDS = [name for name, *_ in OLD_SHAPES]


@pytest.mark.parametrize(("name", "old", "payload", "at"), OLD_SHAPES, ids=IDS)
def test_the_typed_producer_stores_the_same_pairs(
    name: str, old: Event, payload: Payload, at: dt.datetime | None
) -> None:
    new = new_event(payload, loan_id="L-1", on=old.on, at=at)
    assert new == old


@pytest.mark.parametrize(("name", "old", "payload", "at"), OLD_SHAPES, ids=IDS)
def test_an_old_event_parses_and_is_written_back_byte_for_byte(
    name: str, old: Event, payload: Payload, at: dt.datetime | None
) -> None:
    parsed = old.payload
    assert parsed == payload
    assert type(parsed).parse(old) == payload
    assert parsed.pairs() == old.data


# The kinds that existed before the payload records (the others came with them).
EARLIER_KINDS = frozenset(EventKind) - {
    EventKind.FLAG_SET,
    EventKind.FLAG_CLEARED,
    EventKind.CASE_ASSIGNED,
    EventKind.LEGAL_MATTER_OPENED,
    EventKind.LEGAL_MATTER_ADVANCED,
    EventKind.CHARGED_OFF,
    EventKind.CHARGE_OFF_REVERSED,
    EventKind.WRITTEN_OFF,
    EventKind.RECOVERY_RECORDED,
    EventKind.CASE_SOLD,
    EventKind.INBOUND_MESSAGE,
}

# The last hash of the chain of the old shapes of those kinds, computed with the event
# code of before the payload records.
PINNED_HEAD = "2aab3faceb7730547c190a21baf9fea6908ceaa073b23d3a1d1c3fa1df6107c1"


def test_the_hash_chain_of_the_old_shapes_is_unchanged() -> None:
    old = chain(e for _, e, _, _ in OLD_SHAPES)
    new = chain(new_event(p, loan_id="L-1", on=e.on, at=at) for _, e, p, at in OLD_SHAPES)
    assert [e.hash for e in new] == [e.hash for e in old]
    assert verify_chain(new) is None
    earlier = chain(
        new_event(p, loan_id="L-1", on=e.on, at=at)
        for _, e, p, at in OLD_SHAPES
        if e.kind in EARLIER_KINDS
    )
    assert earlier[-1].hash == PINNED_HEAD


def test_every_kind_has_one_payload_class_named_after_it() -> None:
    assert set(PAYLOADS) == set(EventKind)
    renamed = {EventKind.CONTACT_OUTCOME: "ContactOutcomeRecorded", EventKind.OPT_OUT: "OptedOut"}
    for kind, cls in PAYLOADS.items():
        camel = "".join(part.capitalize() for part in kind.value.split("_"))
        assert cls.__name__ == renamed.get(kind, camel)
        assert cls.kind is kind


def test_parse_names_the_key_and_the_text_that_are_wrong() -> None:
    def pairs(**data: str) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(data.items()))

    event = Event(EventKind.STAGE_CHANGED, "L-1", DAY, pairs(previous="a", current="b"))
    with pytest.raises(ValidationError, match=r"stage_changed\.reason=None: missing"):
        _ = event.payload
    bad_dpd = pairs(previous="a", current="b", reason="r", dpd="ten")
    with pytest.raises(ValidationError, match=r"stage_changed\.dpd='ten': expected an int"):
        StageChanged.from_pairs(bad_dpd)
    extra = pairs(previous="a", current="b", reason="r", colour="red")
    with pytest.raises(ValidationError, match=r"stage_changed\.colour='red': unknown key"):
        StageChanged.from_pairs(extra)
    with pytest.raises(ValidationError, match="expected stage_changed"):
        StageChanged.parse(Event(EventKind.CASE_CLOSED, "L-1", DAY, pairs(outcome="settled")))
    naive = pairs(key="k", channel="c", rule="r", status="s", detail="", attempts="1")
    with pytest.raises(ValidationError, match=r"action_failed\.retry_at='2025-03-03T10:00'"):
        ActionFailed.from_pairs((*naive, ("retry_at", "2025-03-03T10:00")))
    with pytest.raises(ValidationError, match=r"litigation_recommended\.amount='1,000'"):
        LitigationRecommended.from_pairs(pairs(dpd="91", amount="1,000", reason="r"))
    with pytest.raises(ValidationError, match="hold"):
        HoldReleased.from_pairs(pairs(hold="vacation"))


def test_payloads_refuse_wrong_values_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"payment_received\.amount"):
        PaymentReceived(payment="P", amount=1.5, currency="CNY")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"action_rescheduled\.not_before"):
        ActionRescheduled(
            key="k", channel="c", not_before=dt.datetime(2025, 3, 3), reasons="", citations=""
        )
    with pytest.raises(ValidationError, match=r"case_opened\.review_on"):
        CaseOpened(review_on=NOW)  # a datetime is not a date
    with pytest.raises(ValidationError, match=r"case_assigned\.agent"):
        CaseAssigned(reason="nobody")
    with pytest.raises(ValidationError, match=r"charged_off\.amount"):
        ChargedOff(amount=Decimal("1.001"), currency="CNY", reason="r")
    with pytest.raises(ValidationError, match=r"charged_off\.currency"):
        ChargedOff(amount=Decimal(1), currency="XXX", reason="r")
    with pytest.raises(ValidationError, match=r"case_sold\.currency"):
        CaseSold(buyer="b", sale="s", price=Decimal(1))
    with pytest.raises(ValidationError, match=r"contact_outcome\.lat"):
        ContactOutcomeRecorded(channel="visit", outcome="promise", lat=Decimal(1))
    with pytest.raises(ValidationError, match=r"contact_outcome\.promise_amount"):
        ContactOutcomeRecorded(channel="phone", outcome="promise", promise_amount=Decimal(5))
    with pytest.raises(ValidationError, match=r"inbound_message\.message_kind"):
        InboundMessage(channel="sms", kind="")
    with pytest.raises(ValidationError, match="outcome"):
        ContactOutcomeRecorded(channel="phone", outcome="shrugged")


def test_new_optional_fields_are_written_only_when_set() -> None:
    plain = ContactOutcomeRecorded(channel="phone", outcome=OutcomeKind.REFUSED)
    assert [k for k, _ in plain.pairs()] == ["channel", "note", "outcome"]
    assert [k for k, _ in OptedOut(channel="sms").pairs()] == ["channel"]
    assert dict(CasePlaced(agency="a", placement="p").pairs()) == {
        "agency": "a",
        "placement": "p",
        "reason": "",
        "tier": "",
    }
    assert InboundMessage(channel="sms", kind="webhook").message_kind == "webhook"


# -- every payload survives its stored form (property) ---------------------------------

_TEXT = st.text(max_size=12)
_IDENT = st.text(min_size=1, max_size=12).filter(str.strip)
_INSTANT = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [
            dt.UTC,
            dt.timezone(dt.timedelta(hours=8)),
            dt.timezone(dt.timedelta(hours=-5, minutes=-30)),
        ]
    ),
)
_CURRENCY = st.sampled_from(sorted(CURRENCIES))


def _decimal(places: int = 4) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        allow_nan=False, allow_infinity=False, places=places, max_value=10**12, min_value=-(10**12)
    )


def _money(draw: st.DrawFn, *, positive: bool = True) -> tuple[Decimal, str]:
    code = draw(_CURRENCY)
    minor = draw(st.integers(min_value=1 if positive else -(10**12), max_value=10**12))
    return Decimal(minor).scaleb(-CURRENCIES[code].minor_units), code


def _by_type(hint: object) -> st.SearchStrategy[object]:
    optional = typing.get_origin(hint) is not None and type(None) in typing.get_args(hint)
    if optional:
        (inner,) = [t for t in typing.get_args(hint) if t is not type(None)]
        return st.none() | _by_type(inner)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    simple: dict[object, st.SearchStrategy[object]] = {
        str: _TEXT,
        int: st.integers(min_value=-(10**9), max_value=10**9),
        Decimal: _decimal(),
        dt.date: st.dates(),
        dt.datetime: _INSTANT,
    }
    if hint in simple:
        return simple[hint]
    return st.lists(st.tuples(_TEXT, _TEXT), max_size=4)  # ActionSent.evidence


@st.composite
def payloads(draw: st.DrawFn, cls: type[Payload]) -> Payload:
    hints = typing.get_type_hints(cls)
    fields = {a.alias: draw(_by_type(hints[a.name])) for a in attrs.fields(cls)}
    if cls in (ChargedOff, WrittenOff, RecoveryRecorded, LitigationRecommended):
        fields["amount"], fields["currency"] = _money(
            draw, positive=cls is not LitigationRecommended
        )
    if cls is CaseSold:
        price = draw(st.booleans())
        fields["price"], fields["currency"] = _money(draw) if price else (None, "")
    if cls is CaseAssigned:
        fields["agent"] = draw(_IDENT)
    if cls is ContactOutcomeRecorded:
        located = draw(st.booleans())
        fields["lat"] = (
            draw(st.decimals(min_value=-90, max_value=90, places=5)) if located else None
        )
        fields["lon"] = (
            draw(st.decimals(min_value=-180, max_value=180, places=5)) if located else None
        )
        fields["accuracy_m"] = (
            draw(st.none() | st.decimals(min_value=0, max_value=10**5, places=1))
            if located
            else None
        )
        fields["duration_s"] = draw(st.none() | st.integers(min_value=0, max_value=10**6))
        promised = draw(st.booleans())
        fields["promise_amount"], fields["promise_currency"] = (
            _money(draw) if promised else (None, "")
        )
    for name in (
        "flag",
        "agency",
        "placement",
        "matter",
        "route",
        "step",
        "buyer",
        "sale",
        "payment",
        "reason",
        "kind",
        "channel",
    ):
        if name in fields and cls in _NON_EMPTY and name in _NON_EMPTY[cls]:
            fields[name] = draw(_IDENT)
    _policy_payload_fields(draw, cls, fields)
    return cls(**fields)


def _policy_payload_fields(draw: st.DrawFn, cls: type[Payload], fields: dict[str, object]) -> None:
    """Valid values for the stage policy's optional-capability payloads."""
    if cls in (CampaignAttempted, CreditNoteRecorded):
        fields["amount"], fields["currency"] = _money(draw)
    for name in ("marker", "stage", "response", "notice"):
        if name in fields and cls in (MarkerSet, MarkerRemoved, PaymentFailed, NoticeIssued):
            fields[name] = draw(_IDENT)
    if cls is NoticeIssued:
        code = draw(_CURRENCY)
        places = CURRENCIES[code].minor_units
        fields["currency"] = code
        for name in ("overdue", "interest", "fee", "grand_total"):
            minor = draw(st.integers(min_value=0, max_value=10**12))
            fields[name] = Decimal(minor).scaleb(-places)


_NON_EMPTY: dict[type[Payload], set[str]] = {
    FlagSet: {"flag"},
    FlagCleared: {"flag"},
    CasePlaced: {"agency", "placement"},
    CaseRecalled: {"agency", "placement"},
    LegalMatterOpened: {"matter", "route"},
    LegalMatterAdvanced: {"matter", "step"},
    ChargedOff: {"reason"},
    ChargeOffReversed: {"reason"},
    WrittenOff: {"reason"},
    RecoveryRecorded: {"payment"},
    CaseSold: {"buyer", "sale"},
    InboundMessage: {"channel", "kind"},
}


@pytest.mark.parametrize(
    "cls", sorted(PAYLOADS.values(), key=lambda c: c.__name__), ids=lambda c: c.__name__
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_payload_round_trips_through_its_stored_pairs(
    cls: type[Payload], data: st.DataObject
) -> None:
    payload = data.draw(payloads(cls))
    stored = payload.pairs()
    assert list(stored) == sorted(stored)
    again = cls.from_pairs(stored)
    assert again == payload
    assert again.pairs() == stored
    event = new_event(payload, loan_id="L-1", on=DAY, at=NOW)
    assert event.payload == payload
    (chained,) = chain([event])
    assert verify_chain([chained]) is None
