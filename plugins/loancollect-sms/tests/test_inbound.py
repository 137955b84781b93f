"""Delivery receipts and opt-out replies, parsed and fed to the engine."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from loancollect_sms import (
    feed_opt_out,
    feed_receipt,
    is_opt_out,
    parse_receipt,
    parse_reply,
)
from sms_helpers import NORMALISED

from loancollect import CollectionEngine, EventKind, make_plugin_manager
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryStatus
from loancollect.testing import FixedClock, MemoryStore, make_action, make_loan

DAY = dt.date(2025, 3, 1)


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOP please",
        "退订",
        "回复退订",
        "TD",
        "td",
        "T",
        "Unsubscribe",
        "ＴＤ",
    ],
)
def test_opt_out_replies(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text", ["", "OK", "我明天还款", "Thanks, I will pay tomorrow", "Tomorrow", "stopped paying?"]
)
def test_other_replies_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


def test_parse_reply_normalises_the_number_and_masks_it_in_the_repr() -> None:
    reply = parse_reply(
        {"from": "+86 138 0013 8000", "text": "退订", "received_at": "2025-03-01T09:30:00+08:00"}
    )
    assert reply.number == NORMALISED
    assert reply.opt_out
    assert reply.received_at == dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert NORMALISED not in repr(reply)
    assert "退订" not in repr(reply)


def test_parse_receipt_maps_status_words() -> None:
    receipt = parse_receipt(
        {"reference": "L-1:r:2025-03-01", "status": "undeliv", "id": "m-9", "error": "absent"}
    )
    assert receipt.status is DeliveryStatus.FAILED_PERMANENT
    assert receipt.provider_id == "m-9"
    assert receipt.detail == "UNDELIV absent"
    assert parse_receipt({"reference": "k", "status": "DELIVRD"}).status is DeliveryStatus.SENT


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "DELIVRD"}, "receipt.reference"),
        ({"reference": "k"}, "receipt.status"),
        ({"reference": "k", "status": "MAYBE"}, "receipt.status"),
        ({"reference": "k", "status": "DELIVRD", "done_at": "yesterday"}, "payload.done_at"),
    ],
)
def test_bad_receipts_name_the_field(payload: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        parse_receipt(payload)


def _engine() -> tuple[CollectionEngine, MemoryStore]:
    store = MemoryStore()
    engine = CollectionEngine(
        pm=make_plugin_manager(),
        storage=store,
        clock=FixedClock(pendulum.datetime(2025, 3, 1, 2, tz="UTC")),
        validate_templates=False,
    )
    engine.add_loans([make_loan()], review_on=DAY)
    return engine, store


def test_an_opt_out_reply_is_recorded_with_the_engine() -> None:
    engine, store = _engine()
    reply = parse_reply({"from": NORMALISED, "text": "退订"})
    assert feed_opt_out(engine.intake, reply, ["L-1"], DAY) == 1
    assert (
        feed_opt_out(engine.intake, parse_reply({"from": NORMALISED, "text": "好的"}), ["L-1"], DAY)
        == 0
    )
    with store() as uow:
        kinds = [(e.kind, dict(e.data).get("channel")) for e in uow.events.stream("L-1")]
    assert kinds == [(EventKind.OPT_OUT, "sms")]


def test_a_receipt_is_recorded_against_the_loan_of_its_key() -> None:
    engine, store = _engine()
    action = make_action()
    with store() as uow:
        uow.outbox.add(action, created_on=DAY)
        uow.commit()
    receipt = parse_receipt({"reference": action.idempotency_key, "status": "DELIVRD", "id": "m-1"})
    feed_receipt(engine.intake, receipt, DAY)
    with store() as uow:
        (event,) = uow.events.stream("L-1")
    assert event.kind is EventKind.DELIVERY_RECEIPT
    assert dict(event.data)["key"] == action.idempotency_key
    assert dict(event.data)["provider_id"] == "m-1"
    with pytest.raises(ValidationError, match=r"inbound\.key"):
        feed_receipt(engine.intake, parse_receipt({"reference": "nope", "status": "DELIVRD"}), DAY)
