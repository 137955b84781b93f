"""Scripts per stage, locale and jurisdiction; recording consent from the packs; call QA
on the text in Chinese and English; dispositions recorded as typed outcomes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loancollect_phone import (
    CallRecord,
    Disposition,
    StepKind,
    build_script,
    recording_policy,
    review_text,
)
from loancollect_phone.queue import CallTask
from phone_helpers import CN_LOAN, DAY, US_LOAN, Desk, at_local, call_action, make_desk

from loancollect.domain.arrangements import ArrangementKind
from loancollect.domain.case import CEASE_FLAG, HoldKind, OutcomeKind
from loancollect.domain.compliance.recording import RecordingConsent
from loancollect.domain.events import (
    CallReviewed,
    ContactOutcomeRecorded,
    EventKind,
    OfferMade,
    new_event,
)
from loancollect.domain.intake import Actor, PromiseTerms
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.errors import ConfigurationError, ValidationError

PACKS = make_desk().desk.packs


def _task(desk: Desk, loan_id: str) -> CallTask:
    locale = "zh_CN" if loan_id == CN_LOAN else "en_US"
    action = call_action(loan_id, locale=locale)
    return desk.desk.task_for(action, action.idempotency_key)


# -- recording and consent -------------------------------------------------------------


def test_california_needs_every_partys_consent_with_its_citation() -> None:
    policy = recording_policy(PACKS, "US-CA")
    assert policy.consent is RecordingConsent.ALL_PARTY
    assert policy.notice_first
    assert "US-REC-CA: Cal. Penal Code § 632" in policy.citations
    assert not policy.required
    assert policy.keep_until(dt.date(2025, 3, 3)) == dt.date(2028, 3, 3)  # US-34: 3 years


def test_elsewhere_in_the_us_one_party_records_without_a_notice() -> None:
    policy = recording_policy(PACKS, "US-NY")
    assert policy.consent is RecordingConsent.ONE_PARTY
    assert not policy.notice_first
    assert policy.citations == ("US-REC: 18 U.S.C. § 2511(2)(d)",)


def test_china_requires_recording_with_a_notice_and_keeps_it_two_years() -> None:
    policy = recording_policy(PACKS, "CN", language="zh_CN")
    assert policy.required
    assert policy.consent is RecordingConsent.NOTICE
    assert "录音" in policy.notice
    assert policy.keep_until(dt.date(2025, 3, 3)) == dt.date(2027, 3, 3)


def test_the_uk_records_with_a_notice() -> None:
    policy = recording_policy(PACKS, "GB")
    assert policy.consent is RecordingConsent.NOTICE
    assert not policy.required
    assert "recorded" in policy.notice


def test_no_pack_no_recording_policy() -> None:
    with pytest.raises(ConfigurationError, match="'BR'"):
        recording_policy(PACKS, "BR")


# -- scripts ----------------------------------------------------------------------------


def test_a_chinese_script_opens_with_the_notice_then_the_right_party_then_the_exact_amount(
    desk: Desk,
) -> None:
    task = _task(desk, CN_LOAN)
    with desk.store() as uow:
        offer = OfferMade(
            rule="early.plan",
            type=ArrangementKind.INSTALLMENT_PLAN,
            valid_until=dt.date(2025, 4, 30),
            amount_due=Decimal("8606.64"),
            currency="CNY",
        )
        uow.events.append([new_event(offer, loan_id=CN_LOAN, on=DAY)])
        uow.commit()
    script = desk.desk.script_for(task, at_local(CN_LOAN, 10, day=dt.date(2025, 4, 20)))
    kinds = script.kinds
    assert kinds[0] is StepKind.RECORDING_NOTICE
    assert kinds.index(StepKind.IDENTITY) < kinds.index(StepKind.PURPOSE)
    assert script.steps[kinds.index(StepKind.IDENTITY)].confirm
    purpose = script.steps[kinds.index(StepKind.PURPOSE)].text
    with desk.store() as uow:
        loan = uow.loans.get(CN_LOAN)
        assert loan is not None
        due = assess(loan, uow.loans.payments_for(CN_LOAN), dt.date(2025, 4, 20)).amount_due
    assert due.is_positive()
    assert f"{due.amount:,.2f} 元(CNY)" in purpose
    (offer_step,) = [s for s in script.steps if s.kind is StepKind.OFFER]
    assert "8,606.64 元(CNY)" in offer_step.text
    assert "分期" in offer_step.text
    expired = desk.desk.script_for(task, at_local(CN_LOAN, 10, day=dt.date(2025, 5, 1)))
    assert StepKind.OFFER not in expired.kinds  # the offer ran out on 30 April
    assert kinds[-2:] == (StepKind.PROMISE, StepKind.CLOSE)
    assert script.steps[kinds.index(StepKind.PROMISE)].fields == ("amount", "due")
    assert "CN-REC" in " ".join(script.citations)


def test_the_script_states_the_amount_due_to_the_cent(desk: Desk) -> None:
    task = _task(desk, US_LOAN)
    script = build_script(
        stage="early",
        locale="en_US",
        jurisdiction="US-CA",
        packs=PACKS,
        recording=recording_policy(PACKS, "US-CA"),
        lender="Example Lending",
        borrower="Jane Doe",
        amount_due=Money("1043.07", "USD"),
    )
    assert task.jurisdiction == "US-CA"
    assert "1,043.07 USD" in script.text()
    assert script.kinds[0] is StepKind.RECORDING_NOTICE
    assert script.steps[0].confirm  # every party consents: the answer is recorded
    disclosures = [s.text for s in script.steps if s.kind is StepKind.DISCLOSURE]
    assert "This communication is from a debt collector." in disclosures  # US-24
    assert script.kinds.index(StepKind.IDENTITY) < script.kinds.index(StepKind.DISCLOSURE)
    assert any(c.startswith("US-24: ") for c in script.citations)


def test_offers_the_engine_made_are_in_the_script() -> None:
    offers = [
        OfferMade(
            rule="r",
            type=ArrangementKind.SETTLEMENT,
            valid_until=DAY,
            amount_due=Decimal("500.00"),
            currency="USD",
        )
    ]
    script = build_script(
        stage="late",
        locale="en_US",
        jurisdiction="US",
        packs=PACKS,
        recording=recording_policy(PACKS, "US"),
        lender="Example Lending",
        borrower="Jane Doe",
        amount_due=Money("900.00", "USD"),
        offers=offers,
    )
    offer_steps = [s for s in script.steps if s.kind is StepKind.OFFER]
    assert [s.text for s in offer_steps] == ["We can settle the account for 500.00 USD."]


@settings(max_examples=25, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
    zh=st.booleans(),
    jurisdiction=st.sampled_from(["CN", "US", "US-CA", "GB"]),
)
def test_every_script_the_desk_builds_passes_its_own_qa(
    amount: Decimal, zh: bool, jurisdiction: str
) -> None:
    locale = "zh_CN" if zh else "en_GB"
    script = build_script(
        stage="early",
        locale=locale,
        jurisdiction=jurisdiction,
        packs=PACKS,
        recording=recording_policy(PACKS, jurisdiction, language=locale),
        lender="Example Lending",
        borrower="张伟" if zh else "Jane Doe",
        amount_due=Money(amount, "CNY"),
    )
    review = review_text(script.text(), PACKS, jurisdiction)
    assert review.findings == ()
    assert review.score == 100


# -- QA on the text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "jurisdiction", "tag"),
    [
        ("你再不还钱,就让你坐牢。", "CN", "threat"),
        ("我是公安局的,你涉嫌诈骗。", "CN", "impersonate_authority"),
        ("你这个老赖。", "CN", "insult"),
        ("If you don't pay, we will arrest you.", "US", "threat"),
        ("There is a warrant out for you.", "US", "false_legal_claim"),
        ("We will tell your employer about this.", "GB", "public_notice"),
        ("我们会通知你的家人和同事。", "CN", "disclose_private_info"),
    ],
)
def test_qa_finds_what_the_packs_forbid_on_the_text_itself(
    text: str, jurisdiction: str, tag: str
) -> None:
    review = review_text(text, PACKS, jurisdiction)
    assert tag in {f.tag for f in review.findings}
    assert all(f.rule_id and f.citation for f in review.findings)
    assert review.score < 100


def test_debt_details_told_to_a_third_party_are_a_disclosure() -> None:
    text = "Please tell him his loan is overdue."
    assert review_text(text, PACKS, "US").findings == ()
    review = review_text(text, PACKS, "US", third_party=True)
    (finding,) = review.findings
    assert finding.tag == "third_party_disclosure"
    assert review.score == 60


# -- dispositions through the intake -------------------------------------------------------


def test_a_promise_is_recorded_with_its_terms_the_collector_and_the_recording(desk: Desk) -> None:
    at = at_local(CN_LOAN, 10)
    recording = desk.desk.recording(CN_LOAN, "rec-0001", at)
    assert recording.keep_until == dt.date(2027, 3, 3)
    review = desk.desk.record(
        CallRecord(
            call="call-1",
            loan_id=CN_LOAN,
            disposition=Disposition.PROMISE,
            at=at,
            key="L-CN:early.call:2025-03-03",
            by=Actor(agent="c-zh", team="early"),
            duration=dt.timedelta(minutes=4),
            promise=PromiseTerms(amount=Money("3000.00", "CNY"), due=DAY + dt.timedelta(days=5)),
            recording=recording,
        ),
        transcript="我下周一还三千。",
    )
    assert review.score == 100
    (outcome,) = desk.events(CN_LOAN, EventKind.CONTACT_OUTCOME)
    recorded = ContactOutcomeRecorded.parse(outcome)
    assert recorded.outcome is OutcomeKind.PROMISE
    assert recorded.promise_amount == Decimal("3000.00")
    assert recorded.agent == "c-zh"
    assert recorded.duration_s == 240
    assert recorded.evidence == "rec-0001"
    assert "2027-03-03" in recorded.note
    assert len(desk.events(CN_LOAN, EventKind.PROMISE_MADE)) == 1
    (reviewed,) = desk.events(CN_LOAN, EventKind.CALL_REVIEWED)
    payload = CallReviewed.parse(reviewed)
    assert (payload.score, payload.recording, payload.keep_until) == (
        100,
        "rec-0001",
        dt.date(2027, 3, 3),
    )


def test_dispute_and_cease_request_put_their_hold_and_flag_on_the_case(desk: Desk) -> None:
    for n, disposition in enumerate((Disposition.DISPUTE, Disposition.CEASE_REQUEST)):
        desk.desk.record(
            CallRecord(
                call=f"c{n}", loan_id=US_LOAN, disposition=disposition, at=at_local(US_LOAN, 10)
            )
        )
    with desk.store() as uow:
        case = uow.cases.get(US_LOAN)
    assert case is not None
    assert any(h.kind is HoldKind.DISPUTE for h in case.holds)
    assert any(f.startswith(CEASE_FLAG) for f in case.flags)


def test_every_disposition_has_its_typed_outcome() -> None:
    assert {d.outcome for d in Disposition} >= {
        OutcomeKind.RIGHT_PARTY_CONTACT,
        OutcomeKind.THIRD_PARTY,
        OutcomeKind.NO_ANSWER,
        OutcomeKind.BUSY,
        OutcomeKind.VOICEMAIL,
        OutcomeKind.CALLBACK_REQUESTED,
        OutcomeKind.PROMISE,
        OutcomeKind.REFUSED,
        OutcomeKind.DISPUTE_RAISED,
        OutcomeKind.CEASE_REQUEST,
        OutcomeKind.WRONG_NUMBER,
    }


def test_a_threat_in_a_transcript_becomes_a_finding_in_the_calls_review(desk: Desk) -> None:
    review = desk.desk.record(
        CallRecord(
            call="c1",
            loan_id=CN_LOAN,
            disposition=Disposition.REFUSAL,
            at=at_local(CN_LOAN, 11),
        ),
        transcript="不还钱就让你坐牢",
    )
    (reviewed,) = desk.events(CN_LOAN, EventKind.CALL_REVIEWED)
    payload = CallReviewed.parse(reviewed)
    assert payload.score == review.score < 100
    assert "threat" in payload.findings


def test_a_callback_needs_its_time_and_a_promise_its_terms() -> None:
    at = at_local(CN_LOAN, 10)
    with pytest.raises(ValidationError, match="callback_at"):
        CallRecord(call="c", loan_id=CN_LOAN, disposition=Disposition.CALLBACK, at=at)
    call = CallRecord(call="c", loan_id=CN_LOAN, disposition=Disposition.PROMISE, at=at)
    with pytest.raises(ValidationError, match="promise"):
        call.outcome()
