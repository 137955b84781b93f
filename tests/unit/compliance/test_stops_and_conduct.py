"""Event-based stops, opt-outs, third parties, visits, content rules, lint and rate caps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.unit.compliance.builders import at, borrower, call, debt, event, info

from loancollect.domain.compliance import (
    Attorney,
    AttorneyRepresentation,
    Bankruptcy,
    BankruptcyStay,
    CeaseCommunication,
    Channel,
    ChannelBan,
    ChannelOptOut,
    ContentRule,
    Deceased,
    DeceasedBorrower,
    Direction,
    Dispute,
    DisputeHold,
    Flags,
    IdentityBeforeDetails,
    InconvenientPlace,
    InconvenientPlaces,
    Moratorium,
    MoratoriumCharges,
    MoratoriumKind,
    MoratoriumStop,
    OptOut,
    Outcome,
    Purpose,
    RateCap,
    Tag,
    TargetKind,
    Template,
    ThirdPartyRule,
    TimeBarredDebt,
    VisitRule,
    WorkflowGate,
    WorkplaceRestriction,
    check,
    lint_templates,
    rate_cap_excess,
)
from loancollect.domain.money import Money
from loancollect.errors import ConfigurationError, ValidationError

NOW = at(2024, 6, 3, 12)


def flagged(**flags: object):  # type: ignore[no-untyped-def]
    return borrower(flags=Flags(**flags))  # type: ignore[arg-type]


def test_cease_notice_blocks_with_no_time_but_allows_termination_notice() -> None:
    rule = CeaseCommunication(info=info("CEASE"))
    b = flagged(cease_received_at=at(2024, 6, 1))
    v = check(call(NOW), b, debt(), [], rule)
    assert (v.outcome, v.earliest, v.rule_ids) == (Outcome.BLOCKED, None, ("CEASE",))
    assert check(call(NOW, purpose=Purpose.TERMINATION_NOTICE), b, debt(), [], rule).allowed
    assert check(call(at(2024, 5, 31)), b, debt(), [], rule).allowed


def test_refusal_to_pay_stops_like_a_cease_notice() -> None:
    rule = CeaseCommunication(info=info("CEASE"))
    assert not check(
        call(NOW), flagged(refusal_received_at=at(2024, 6, 1)), debt(), [], rule
    ).allowed


def test_bankruptcy_stay_blocks_from_filing() -> None:
    rule = BankruptcyStay(info=info("BK"))
    b = flagged(bankruptcy=Bankruptcy(filed_at=at(2024, 6, 1), chapter="7"))
    v = check(call(NOW), b, debt(), [], rule)
    assert v.outcome is Outcome.BLOCKED
    assert v.earliest is None


def test_written_dispute_in_validation_period_holds_until_verification() -> None:
    rule = DisputeHold(info=info("DSP"))
    b = flagged(dispute=Dispute(received_at=at(2024, 6, 1)))
    assert check(call(NOW), b, debt(), [], rule).outcome is Outcome.BLOCKED
    assert check(call(NOW, purpose=Purpose.VERIFICATION), b, debt(), [], rule).allowed
    oral = flagged(dispute=Dispute(received_at=at(2024, 6, 1), written=False))
    assert check(call(NOW), oral, debt(), [], rule).allowed
    any_dispute = DisputeHold(info=info("DSP"), written_in_period_only=False)
    assert not check(call(NOW), oral, debt(), [], any_dispute).allowed


def test_attorney_blocks_direct_contact_until_unanswered_for_a_reasonable_time() -> None:
    rule = AttorneyRepresentation(info=info("ATT"), reasonable_days=30)
    b = flagged(attorney=Attorney(known_at=at(2024, 5, 1)))
    assert check(call(NOW), b, debt(), [], rule).outcome is Outcome.BLOCKED
    to_attorney = call(NOW, target_kind=TargetKind.ATTORNEY, target_id="att")
    assert check(to_attorney, b, debt(), [], rule).allowed
    waiting = flagged(attorney=Attorney(known_at=at(2024, 5, 1), contacted_at=at(2024, 5, 20)))
    v = check(call(NOW), waiting, debt(), [], rule)
    assert v.outcome is Outcome.RESCHEDULED
    assert v.earliest == at(2024, 6, 19)


def test_deceased_borrower_only_the_representative_may_be_contacted() -> None:
    rule = DeceasedBorrower(info=info("DEC"))
    b = flagged(deceased=Deceased(date=dt.date(2024, 5, 1), representative_id="exec"))
    assert not check(call(NOW), b, debt(), [], rule).allowed
    assert check(
        call(NOW, target_id="exec", target_kind=TargetKind.THIRD_PARTY), b, debt(), [], rule
    ).allowed


def test_standard_breathing_space_reschedules_to_its_end_with_allowed_exceptions() -> None:
    rule = MoratoriumStop(info=info("BS"), standard_days=60)
    b = flagged(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(2024, 6, 1)))
    v = check(call(NOW), b, debt(), [], rule, horizon=dt.timedelta(days=90))
    assert v.outcome is Outcome.RESCHEDULED
    # Started on 1 June (London): day 60 is 30 July, so it ends at midnight BST on 31 July.
    assert v.earliest == at(2024, 7, 31, 0, tz="Europe/London")
    assert check(call(NOW, purpose=Purpose.DEBTOR_REQUEST), b, debt(), [], rule).allowed
    assert check(call(NOW), b, debt(id="other"), [], rule).outcome is not Outcome.ALLOWED
    scoped = flagged(
        moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(2024, 6, 1), debt_ids={"d9"})
    )
    assert check(call(NOW), scoped, debt(), [], rule).allowed


def test_breathing_space_beyond_the_horizon_is_blocked() -> None:
    rule = MoratoriumStop(info=info("BS"))
    b = flagged(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(2024, 6, 1)))
    v = check(call(NOW), b, debt(), [], rule)
    assert v.outcome is Outcome.BLOCKED
    assert v.rule_ids == ("BS", "ENGINE-HORIZON")


def test_mental_health_crisis_moratorium_without_end_blocks_with_no_time() -> None:
    rule = MoratoriumStop(info=info("MH"))
    b = flagged(
        moratorium=Moratorium(kind=MoratoriumKind.MENTAL_HEALTH_CRISIS, start=at(2024, 6, 1))
    )
    v = check(call(NOW), b, debt(), [], rule)
    assert (v.outcome, v.earliest) == (Outcome.BLOCKED, None)


def test_no_interest_or_fees_during_a_moratorium() -> None:
    rule = MoratoriumCharges(info=info("CH"))
    b = flagged(
        moratorium=Moratorium(kind=MoratoriumKind.MENTAL_HEALTH_CRISIS, start=at(2024, 6, 1))
    )
    assert not check(call(NOW, purpose=Purpose.APPLY_FEE), b, debt(), [], rule).allowed
    assert check(call(NOW), b, debt(), [], rule).allowed


LDN = "Europe/London"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # Autumn: BST to GMT on 27 Oct 2024; 60 x 24 h would end an hour early (23:00 GMT).
        (at(2024, 9, 1, 0, tz=LDN), at(2024, 10, 31, 0, tz=LDN)),
        (at(2024, 9, 1, 15, tz=LDN), at(2024, 10, 31, 0, tz=LDN)),
        # Spring: GMT to BST on 31 Mar 2024; 60 x 24 h would end an hour late (01:00 BST).
        (at(2024, 2, 1, 0, tz=LDN), at(2024, 4, 1, 0, tz=LDN)),
        (at(2024, 2, 1, 23, 30, tz=LDN), at(2024, 4, 1, 0, tz=LDN)),
        # No change of offset in between: still the start day's local midnight + 60 days.
        (at(2024, 6, 1, 9, tz=LDN), at(2024, 7, 31, 0, tz=LDN)),
    ],
)
def test_standard_breathing_space_ends_at_london_midnight_sixty_days_after_its_start_day(
    start: dt.datetime, end: dt.datetime
) -> None:
    # SI 2020/1311 reg. 26: 60 days from the day the moratorium starts, in England and
    # Wales: local calendar days, not 60 x 24 hours in UTC.
    rule = MoratoriumStop(info=info("UK-13"), standard_days=60)
    b = flagged(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=start))
    during = start + dt.timedelta(days=3)
    v = check(call(during), b, debt(), [], rule, horizon=dt.timedelta(days=90))
    assert (v.outcome, v.earliest) == (Outcome.RESCHEDULED, end)
    just_before = end - dt.timedelta(seconds=1)
    assert not check(call(just_before), b, debt(), [], rule, horizon=dt.timedelta(0)).allowed
    assert check(call(end), b, debt(), [], rule).allowed


def test_breathing_space_days_are_counted_in_the_rule_zone() -> None:
    # 23:30 in New York on 31 Aug is 1 Sep in London, which is the moratorium's day 1.
    start = at(2024, 8, 31, 23, 30)
    london = MoratoriumStop(info=info("UK-13"))
    new_york = MoratoriumStop(info=info("UK-13"), zone="America/New_York")
    b = flagged(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=start))
    horizon = dt.timedelta(days=90)
    v = check(call(at(2024, 9, 5)), b, debt(), [], london, horizon=horizon)
    assert v.earliest == at(2024, 10, 31, 0, tz=LDN)
    v = check(call(at(2024, 9, 5)), b, debt(), [], new_york, horizon=horizon)
    assert v.earliest == at(2024, 10, 30, 0)
    with pytest.raises(ValidationError, match=r"moratorium_rule\.zone"):
        MoratoriumStop(info=info("UK-13"), zone="Mars/Olympus")


@pytest.mark.parametrize("purpose", [Purpose.APPLY_FEE, Purpose.APPLY_INTEREST])
def test_a_charge_during_a_breathing_space_is_blocked_for_good_not_rescheduled(
    purpose: str,
) -> None:
    # SI 2020/1311 reg. 7: interest, fees, penalties or charges for the moratorium period
    # may never be required, so waiting for its end does not make the charge lawful.
    rule = MoratoriumCharges(info=info("UK-15"))
    b = flagged(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(2024, 6, 1)))
    horizon = dt.timedelta(days=90)
    v = check(call(NOW, purpose=purpose), b, debt(), [], rule, horizon=horizon)
    assert (v.outcome, v.earliest, v.rule_ids) == (Outcome.BLOCKED, None, ("UK-15",))
    tagged = call(NOW, channel=Channel.LETTER, content_tags={"apply_interest"})
    v = check(tagged, b, debt(), [], rule, horizon=horizon)
    assert (v.outcome, v.earliest) == (Outcome.BLOCKED, None)
    # After the moratorium, charges accruing then are not its business.
    assert check(call(at(2024, 8, 1), purpose=purpose), b, debt(), [], rule).allowed


def test_enforcement_during_a_breathing_space_waits_for_its_end() -> None:
    rule = MoratoriumCharges(info=info("UK-15"))
    b = flagged(moratorium=Moratorium(kind=MoratoriumKind.STANDARD, start=at(2024, 6, 1)))
    horizon = dt.timedelta(days=90)
    end = at(2024, 7, 31, 0, tz=LDN)
    for proposed in (
        call(NOW, purpose=Purpose.ENFORCEMENT),
        call(NOW, purpose=Purpose.LEGAL_ACTION),
        call(NOW, channel=Channel.LETTER, content_tags={Tag.LEGAL_ACTION}),
    ):
        v = check(proposed, b, debt(), [], rule, horizon=horizon)
        assert (v.outcome, v.earliest) == (Outcome.RESCHEDULED, end)
    crisis = flagged(
        moratorium=Moratorium(kind=MoratoriumKind.MENTAL_HEALTH_CRISIS, start=at(2024, 6, 1))
    )
    v = check(call(NOW, purpose=Purpose.ENFORCEMENT), crisis, debt(), [], rule)
    assert (v.outcome, v.earliest) == (Outcome.BLOCKED, None)


def test_opt_out_of_one_medium_only_blocks_that_medium() -> None:
    rule = ChannelOptOut(info=info("OPT"))
    history = [
        event(
            at(2024, 6, 1),
            direction=Direction.INBOUND,
            channel=Channel.SMS,
            opt_out=OptOut(channel=Channel.SMS),
        )
    ]
    assert not check(call(NOW, channel=Channel.SMS), borrower(), debt(), history, rule).allowed
    assert check(call(NOW, channel=Channel.EMAIL), borrower(), debt(), history, rule).allowed
    assert check(call(NOW), borrower(), debt(), history, rule).allowed


def test_opt_out_of_one_address_leaves_other_addresses_of_the_medium() -> None:
    rule = ChannelOptOut(info=info("OPT"))
    history = [
        event(
            at(2024, 6, 1),
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            opt_out=OptOut(channel=Channel.EMAIL, address="a@x.example"),
        )
    ]
    email = call(NOW, channel=Channel.EMAIL, address="b@x.example")
    assert check(email, borrower(), debt(), history, rule).allowed
    assert not check(
        call(NOW, channel=Channel.EMAIL, address="a@x.example"), borrower(), debt(), history, rule
    ).allowed


def test_one_opt_out_confirmation_is_allowed_and_only_once() -> None:
    rule = ChannelOptOut(info=info("OPT"), allow_reply_to_inbound=False)
    history = [
        event(
            at(2024, 6, 1),
            channel=Channel.SMS,
            direction=Direction.INBOUND,
            opt_out=OptOut(channel=Channel.SMS),
        )
    ]
    confirm = call(
        NOW,
        channel=Channel.SMS,
        purpose=Purpose.OPTOUT_CONFIRMATION,
        content_tags={Tag.OPTOUT_CONFIRMATION_ONLY},
    )
    assert check(confirm, borrower(), debt(), history, rule).allowed
    sent = [*history, event(at(2024, 6, 2), channel=Channel.SMS)]
    assert not check(confirm, borrower(), debt(), sent, rule).allowed
    chatty = call(
        NOW,
        channel=Channel.SMS,
        purpose=Purpose.OPTOUT_CONFIRMATION,
        content_tags={Tag.OPTOUT_CONFIRMATION_ONLY, Tag.BALANCE},
    )
    assert not check(chatty, borrower(), debt(), history, rule).allowed


def test_inconvenient_place_and_workplace_rules() -> None:
    places = InconvenientPlaces(info=info("PL"))
    b = borrower(stated_inconvenient_places=[InconvenientPlace(place="work")])
    assert not check(call(NOW, place="work"), b, debt(), [], places).allowed
    assert check(call(NOW, place="home"), b, debt(), [], places).allowed
    work = WorkplaceRestriction(info=info("WK"))
    assert not check(
        call(NOW, place="work"), flagged(employer_prohibits_contact=True), debt(), [], work
    ).allowed
    mail = call(NOW, channel=Channel.EMAIL, employer_provided=True, address="w@corp.example")
    assert not check(mail, borrower(), debt(), [], work).allowed
    wrote = [
        event(
            at(2024, 6, 1),
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            address="w@corp.example",
        )
    ]
    assert check(mail, borrower(), debt(), wrote, work).allowed


CN_THIRD = ThirdPartyRule(
    info=info("TP"),
    allowed_targets=frozenset({TargetKind.BORROWER, TargetKind.GUARANTOR}),
    require_unreachable=True,
    allowed_purposes=frozenset({Purpose.OBTAIN_CONTACT_INFO, Purpose.RELAY_MESSAGE}),
)


def _contact(**kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("purpose", Purpose.RELAY_MESSAGE)
    return call(NOW, target_id="mum", target_kind=TargetKind.EMERGENCY_CONTACT, **kw)  # type: ignore[arg-type]


def test_emergency_contact_only_when_debtor_unreachable_and_without_debt_details() -> None:
    assert not check(_contact(), borrower(), debt(), [], CN_THIRD).allowed
    lost = flagged(lost_contact=True)
    assert check(_contact(), lost, debt(), [], CN_THIRD).allowed
    assert not check(_contact(content_tags={Tag.DEBT_DETAILS}), lost, debt(), [], CN_THIRD).allowed
    assert not check(_contact(purpose=Purpose.COLLECTION), lost, debt(), [], CN_THIRD).allowed


def test_third_party_who_refused_is_never_contacted_again() -> None:
    history = [
        event(
            at(2024, 6, 1),
            target_id="mum",
            target_kind=TargetKind.EMERGENCY_CONTACT,
            refused_further_contact=True,
        )
    ]
    v = check(_contact(), flagged(lost_contact=True), debt(), history, CN_THIRD)
    assert v.outcome is Outcome.BLOCKED
    assert "refused" in v.reasons[0].detail


def test_visit_needs_notice_and_not_to_vulnerable_customers() -> None:
    rule = VisitRule(info=info("VIS"), notice=dt.timedelta(days=3))
    visit = call(NOW, channel=Channel.VISIT, place="home", visit_notice_sent_at=at(2024, 6, 1))
    v = check(visit, borrower(), debt(), [], rule)
    assert v.earliest == at(2024, 6, 4, 12)
    assert check(visit, flagged(vulnerable=True), debt(), [], rule).outcome is Outcome.BLOCKED
    assert not check(
        call(NOW, channel=Channel.VISIT, place="home"), borrower(), debt(), [], rule
    ).allowed
    assert not check(
        call(
            at(2024, 6, 9), channel=Channel.VISIT, place="work", visit_notice_sent_at=at(2024, 6, 1)
        ),
        borrower(),
        debt(),
        [],
        rule,
    ).allowed


def test_the_notice_of_a_visit_starts_its_notice_period_and_is_not_the_visit() -> None:
    rule = VisitRule(info=info("VIS"), notice=dt.timedelta(days=3))
    notice = call(NOW, channel=Channel.VISIT, place="home", gives_visit_notice=True)
    assert check(notice, borrower(), debt(), [], rule).allowed
    # The visit it announces could never be made: no notice of it either.
    assert check(notice, flagged(vulnerable=True), debt(), [], rule).outcome is Outcome.BLOCKED
    at_work = call(NOW, channel=Channel.VISIT, place="work", gives_visit_notice=True)
    assert check(at_work, borrower(), debt(), [], rule).outcome is Outcome.BLOCKED
    # The visit itself counts from the notice: three days, not two.
    visit = call(at(2024, 6, 5, 12), channel=Channel.VISIT, place="home", visit_notice_sent_at=NOW)
    v = check(visit, borrower(), debt(), [], rule)
    assert (v.outcome, v.earliest) == (Outcome.RESCHEDULED, at(2024, 6, 6, 12))
    later = call(at(2024, 6, 6, 12), channel=Channel.VISIT, place="home", visit_notice_sent_at=NOW)
    assert check(later, borrower(), debt(), [], rule).allowed


def test_only_a_visit_gives_notice_of_a_visit_and_the_notice_has_no_earlier_notice() -> None:
    with pytest.raises(ValidationError, match="gives_visit_notice"):
        call(NOW, channel=Channel.LETTER, gives_visit_notice=True)
    with pytest.raises(ValidationError, match="visit_notice_sent_at"):
        call(
            NOW,
            channel=Channel.VISIT,
            gives_visit_notice=True,
            visit_notice_sent_at=at(2024, 6, 1),
        )


def test_the_written_notice_of_a_visit_is_no_live_contact_but_the_visit_is() -> None:
    rule = IdentityBeforeDetails(info=info("ID"))
    tags = {Tag.DEBT_DETAILS}
    notice = call(NOW, channel=Channel.VISIT, content_tags=tags, gives_visit_notice=True)
    assert check(notice, borrower(), debt(), [], rule).allowed
    visit = call(NOW, channel=Channel.VISIT, content_tags=tags, visit_notice_sent_at=NOW)
    assert not check(visit, borrower(), debt(), [], rule).allowed
    verified = call(
        NOW,
        channel=Channel.VISIT,
        content_tags=tags,
        visit_notice_sent_at=NOW,
        identity_verified=True,
    )
    assert check(verified, borrower(), debt(), [], rule).allowed


def test_content_rule_forbidden_required_and_whitelist() -> None:
    rule = ContentRule(
        info=info("CT"),
        forbidden={Tag.THREAT},
        required={Tag.OPT_OUT_INSTRUCTIONS},
        channels=frozenset({Channel.SMS}),
    )
    ok = call(NOW, channel=Channel.SMS, content_tags={Tag.OPT_OUT_INSTRUCTIONS})
    assert check(ok, borrower(), debt(), [], rule).allowed
    missing = check(call(NOW, channel=Channel.SMS), borrower(), debt(), [], rule)
    assert missing.outcome is Outcome.BLOCKED
    assert "missing" in missing.reasons[0].detail
    threat = call(NOW, channel=Channel.SMS, content_tags={Tag.OPT_OUT_INSTRUCTIONS, Tag.THREAT})
    assert not check(threat, borrower(), debt(), [], rule).allowed
    lcm = ContentRule(info=info("LCM"), allowed_only=frozenset({"limited_content"}))
    assert not check(
        call(NOW, content_tags={"limited_content", "balance"}), borrower(), debt(), [], lcm
    ).allowed


def test_first_contact_only_requirement_applies_to_the_first_outbound_contact() -> None:
    rule = ContentRule(info=info("MM"), required={Tag.MINI_MIRANDA}, first_contact_only=True)
    assert not check(call(NOW), borrower(), debt(), [], rule).allowed
    assert check(call(NOW), borrower(), debt(), [event(at(2024, 6, 1))], rule).allowed


def test_identity_before_debt_details() -> None:
    rule = IdentityBeforeDetails(info=info("ID"))
    tags = {Tag.DEBT_DETAILS}
    assert not check(call(NOW, content_tags=tags), borrower(), debt(), [], rule).allowed
    assert check(
        call(NOW, content_tags=tags, identity_verified=True), borrower(), debt(), [], rule
    ).allowed


def test_time_barred_debt_no_threat_of_suit() -> None:
    rule = TimeBarredDebt(info=info("TB"), stop_after_refusal=True)
    threat = call(NOW, content_tags={Tag.THREAT_SUIT})
    assert not check(threat, borrower(), debt(time_barred=True), [], rule).allowed
    assert check(threat, borrower(), debt(), [], rule).allowed
    assert check(call(NOW), borrower(), debt(time_barred=True), [], rule).allowed
    refused = flagged(refusal_received_at=at(2024, 6, 1))
    assert not check(call(NOW), refused, debt(time_barred=True), [], rule).allowed


@pytest.mark.parametrize(
    ("rate", "lpr", "excess"),
    [("0.12", "0.03", "0"), ("0.1201", "0.03", "0.0001"), ("0.24", "0.0345", "0.1020")],
)
def test_rate_cap_excess_over_four_times_lpr(rate: str, lpr: str, excess: str) -> None:
    d = debt(private_lending=True, contract_rate=Decimal(rate), lpr_at_contract=Decimal(lpr))
    assert rate_cap_excess(d) == Decimal(excess)
    assert rate_cap_excess(debt(contract_rate=Decimal(rate), lpr_at_contract=Decimal(lpr))) == 0


def test_rate_over_cap_is_flagged_and_the_excess_never_demanded() -> None:
    rule = RateCap(info=info("CAP"))
    d = debt(
        private_lending=True,
        contract_rate="0.24",
        lpr_at_contract="0.0345",
        demandable=Money("1000.00", "CNY"),
    )
    v = check(call(NOW), borrower(), d, [], rule)
    assert v.allowed
    assert [n.rule_id for n in v.notes] == ["CAP"]
    over = call(NOW, demand=Money("1000.01", "CNY"))
    assert check(over, borrower(), d, [], rule).outcome is Outcome.BLOCKED
    assert check(call(NOW, demand=Money("1000.00", "CNY")), borrower(), d, [], rule).allowed
    tagged = call(NOW, content_tags={Tag.INTEREST_ABOVE_CAP})
    assert not check(tagged, borrower(), d, [], rule).allowed


def test_workflow_gate_requires_the_recorded_step() -> None:
    gate = WorkflowGate(
        info=info("FB"), purposes=frozenset({Purpose.ENFORCEMENT}), requires="forbearance_assessed"
    )
    assert not check(call(NOW, purpose=Purpose.ENFORCEMENT), borrower(), debt(), [], gate).allowed
    assert check(
        call(NOW, purpose=Purpose.ENFORCEMENT),
        borrower(),
        debt(forbearance_assessed=True),
        [],
        gate,
    ).allowed
    with pytest.raises(ConfigurationError, match="no_such_field"):
        WorkflowGate(info=info("X"), purposes=frozenset(), requires="no_such_field")


def test_template_lint_rejects_forbidden_missing_and_third_party_disclosure() -> None:
    rules = [
        ContentRule(
            info=info("SMS"), required={Tag.OPT_OUT_INSTRUCTIONS}, channels=frozenset({Channel.SMS})
        ),
        ContentRule(info=info("BAD"), forbidden={Tag.SUGGEST_BORROWING}),
        CN_THIRD,
        ChannelBan(info=info("BAN"), channels=frozenset({Channel.SOCIAL})),
        RateCap(info=info("CAP")),
    ]
    good = Template(name="ok", channel=Channel.SMS, content_tags={Tag.OPT_OUT_INSTRUCTIONS})
    lint_templates(rules, [good])
    bad = [
        Template(name="no-footer", channel=Channel.SMS, content_tags=set()),
        Template(name="borrow", channel=Channel.LETTER, content_tags={Tag.SUGGEST_BORROWING}),
        Template(
            name="tp", channel=Channel.CALL, content_tags={Tag.DEBT_DETAILS}, audience="third_party"
        ),
        Template(name="social", channel=Channel.SOCIAL, content_tags=set()),
        Template(name="usury", channel=Channel.LETTER, content_tags={Tag.INTEREST_ABOVE_CAP}),
    ]
    with pytest.raises(ConfigurationError) as err:
        lint_templates(rules, bad)
    for name in ("no-footer", "borrow", "tp", "social", "usury"):
        assert f"template {name!r}" in str(err.value)
