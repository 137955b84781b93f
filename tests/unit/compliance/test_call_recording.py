"""Call-recording rules: read by call desks, never a veto on a contact by themselves."""

from __future__ import annotations

from tests.unit.compliance.builders import at, borrower, call, debt

from loancollect.domain.compliance import Confidence, Outcome, RuleInfo, check
from loancollect.domain.compliance.recording import CallRecording, RecordingConsent

RULE = CallRecording(
    info=RuleInfo.of("XX-REC", "Example Act s. 1", Confidence.KNOWLEDGE, "recording"),
    consent=RecordingConsent.ALL_PARTY,
    jurisdictions=["US-CA"],
    notice=[("en", "This call is recorded."), ("zh", "本次通话将被录音。")],
)


def test_a_recording_rule_applies_only_to_the_jurisdictions_it_names() -> None:
    assert RULE.applies_to("US-CA")
    assert not RULE.applies_to("US-NY")
    assert CallRecording(info=RULE.info, consent=RecordingConsent.NOTICE).applies_to("US-NY")


def test_the_notice_is_said_in_the_borrowers_language_or_the_first_one_given() -> None:
    assert RULE.notice_in("zh_CN") == "本次通话将被录音。"
    assert RULE.notice_in("en_US") == "This call is recorded."
    assert RULE.notice_in("fr_FR") == "This call is recorded."


def test_consents_order_from_one_party_to_every_party() -> None:
    order = sorted(RecordingConsent, key=lambda c: c.strictness)
    assert order == [
        RecordingConsent.ONE_PARTY,
        RecordingConsent.NOTICE,
        RecordingConsent.ALL_PARTY,
    ]


def test_a_recording_rule_never_blocks_a_contact() -> None:
    when = at(2025, 3, 3, 10, tz="America/Los_Angeles")
    verdict = check(call(when), borrower("America/Los_Angeles"), debt(), (), [RULE])
    assert verdict.outcome is Outcome.ALLOWED
