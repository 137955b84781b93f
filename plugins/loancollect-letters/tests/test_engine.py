"""The letter channel in the collection cycle: the engine attaches the statement of
account, and the dispatch's evidence lands in the audit trail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
from letters_helpers import pdf_text
from loancollect_letters import LetterChannel

from loancollect import EventKind, make_plugin_manager
from loancollect.domain.overdue import assess
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.testing import (
    UNCHECKED_CONTACT,
    FixedClock,
    MemoryStore,
    RecordingChannel,
    make_loan,
)


def test_a_cycle_writes_letters_with_the_statement_and_records_the_evidence(
    tmp_path: Path,
) -> None:
    pm = make_plugin_manager(load_entrypoints=["letter"], config=UNCHECKED_CONTACT)
    store = MemoryStore()
    clock = FixedClock(pendulum.datetime(2025, 2, 16, 2, tz="UTC"))
    others = {n: RecordingChannel(n) for n in ("sms", "email", "phone", "visit")}
    engine = CollectionEngine(
        pm=pm,
        storage=store,
        clock=clock,
        channels=others,
        channel_settings={"letter": {"dir": str(tmp_path)}},
        config=CycleConfig(dispatch_workers=1),
    )
    loan = make_loan()
    engine.add_loans([loan], review_on=dt.date(2025, 2, 16))
    day = dt.date(2025, 2, 16)
    sent_on: dt.date | None = None
    while day <= dt.date(2025, 4, 30) and sent_on is None:
        clock.set(pendulum.datetime(day.year, day.month, day.day, 2, tz="UTC"))
        engine.run_cycle(day)
        if list(tmp_path.glob("LTR-*.pdf")):
            sent_on = day
        day += dt.timedelta(days=1)
    assert sent_on is not None, "the default strategy sends a letter in early collection"
    channel = engine.channel("letter")
    assert isinstance(channel, LetterChannel)
    (pdf,) = tmp_path.glob("LTR-*.pdf")
    text = pdf_text(pdf)
    assessment = assess(loan, (), sent_on)
    assert "账户明细" in text  # the statement of account was attached by the engine
    assert assessment.amount_due.format() in text
    assert "2025年2月15日" in text
    with store() as uow:
        sent = [
            e
            for e in uow.events.stream(loan.id)
            if e.kind is EventKind.ACTION_SENT and dict(e.data)["channel"] == "letter"
        ]
    (event,) = sent
    data = dict(event.data)
    assert data["evidence.letter_reference"] == pdf.stem
    assert data["evidence.letter_date"] == sent_on.isoformat()
    assert data["evidence.letter_kind"] == "reminder"
    batch = channel.print_batch(sent_on)
    assert batch is not None
    assert pdf.stem in pdf_text(batch)
