"""Kill Bill overdue parity: unpaid-bill counts, control tags, failed-payment results,
stage markers for the host, and the replay catch-up (overdue.xml's terms)."""

from __future__ import annotations

import datetime as dt

from tests.unit.decisions.peers import FIRST_DUE, SECOND_DUE, command, day, kinds, pay, run, walk

from loancollect.domain.case import Case, Hold, HoldKind
from loancollect.domain.commands import RecordFailedPayment, SetFlag
from loancollect.domain.events import EventKind, MarkerRemoved, MarkerSet, StageChanged
from loancollect.domain.policy import CatchUp, Condition, Stage, StagePolicy
from loancollect.domain.strategy import ActionRule, Strategy

# overdue.xml: OD1 after 1 unpaid invoice, OD2 from 2 unpaid invoices (blockChanges),
# OD3 from 3 unpaid invoices (disableEntitlementAndChangesBlocked).
OVERDUE_XML = StagePolicy(
    name="killbill",
    stages=(
        Stage(name="OD1", rank=1, entry=Condition(min_unpaid_installments=1)),
        Stage(
            name="OD2",
            rank=2,
            entry=Condition(min_unpaid_installments=2),
            markers={"block_changes"},
        ),
        Stage(
            name="OD3",
            rank=3,
            entry=Condition(min_unpaid_installments=3),
            markers={"block_changes", "auto_invoicing_off"},
        ),
    ),
)


def test_number_of_unpaid_installments_equals_or_exceeds_is_inclusive() -> None:
    one_unpaid = run(OVERDUE_XML, Case(loan_id="L-1"), day(1))
    assert one_unpaid.stage == "OD1"
    # the day the second installment falls due it is not yet unpaid: still one
    assert run(OVERDUE_XML, one_unpaid.case, SECOND_DUE).stage == "OD1"
    assert run(OVERDUE_XML, one_unpaid.case, SECOND_DUE + dt.timedelta(days=1)).stage == "OD2"


def test_entering_a_stage_sets_its_markers_and_leaving_removes_them() -> None:
    case, events, _ = walk(OVERDUE_XML, [day(1), SECOND_DUE + dt.timedelta(days=1)])
    assert [MarkerSet.parse(e) for e in kinds(events, EventKind.MARKER_SET)] == [
        MarkerSet(marker="block_changes", stage="OD2")
    ]
    assert OVERDUE_XML.markers_of(case.stage) == {"block_changes"}
    # paying everything cures the case: the marker goes with the stage
    cured = run(OVERDUE_XML, case, day(30), payments=[pay("17300", day(30))])
    assert cured.stage == "cured"
    assert [MarkerRemoved.parse(e) for e in kinds(cured.events, EventKind.MARKER_REMOVED)] == [
        MarkerRemoved(marker="block_changes", stage="OD2")
    ]


def test_the_enforcement_off_tag_keeps_the_account_in_the_clear_state() -> None:
    first = run(OVERDUE_XML, Case(loan_id="L-1"), day(1))
    assert first.stage == "OD1"
    tagged = first.case.with_hold(Hold(HoldKind.ENFORCEMENT_OFF, day(2)))
    clear = run(OVERDUE_XML, tagged, day(40))
    # the clear state, not frozen in OD1 as a dispute would be
    assert clear.stage == "current"
    assert StageChanged.parse(clear.events[-1]).reason == "enforcement off"
    assert clear.actions == ()
    lifted = Hold(HoldKind.ENFORCEMENT_OFF, day(2), day(40))
    after = run(OVERDUE_XML, Case(loan_id="L-1", holds=(lifted,)), day(41))
    assert after.stage == "OD2"


def test_a_stage_on_the_last_failed_payments_response_until_a_payment_comes_in() -> None:
    policy = StagePolicy(
        name="kb",
        stages=(
            Stage(name="OD1", rank=1, entry=Condition(min_dpd=1)),
            Stage(
                name="card_problem",
                rank=2,
                entry=Condition(last_failed_payment={"CARD_EXPIRED", "DO_NOT_HONOR"}),
            ),
        ),
    )
    case = Case(loan_id="L-1")
    assert (
        run(
            policy,
            command(case, RecordFailedPayment(response="INSUFFICIENT_FUNDS"), day(0)),
            day(1),
        ).stage
        == "OD1"
    )
    expired = command(case, RecordFailedPayment(response="CARD_EXPIRED"), day(0))
    assert run(policy, expired, day(1)).stage == "card_problem"
    # a payment after the failure makes the failure stale (partial: still overdue)
    assert run(policy, expired, day(3), payments=[pay("100", day(2))]).stage == "OD1"


def test_replay_enters_every_skipped_stage_in_order_with_entry_actions_and_markers() -> None:
    policy = StagePolicy(name="kb", stages=OVERDUE_XML.stages, catch_up=CatchUp.REPLAY)
    strategy = Strategy(
        name="kb",
        actions=tuple(
            ActionRule(id=f"{s}.mail", stage=s, channel="email", template=f"{s}_notice")
            for s in ("OD1", "OD2", "OD3")
        ),
    )
    late = FIRST_DUE + dt.timedelta(days=70)  # three installments unpaid at the first look
    decision = run(policy, Case(loan_id="L-1"), late, strategy=strategy)
    assert decision.stage == "OD3"
    assert decision.passed == ("OD1", "OD2")
    path = [StageChanged.parse(e) for e in kinds(decision.events, EventKind.STAGE_CHANGED)]
    assert [(c.previous, c.current) for c in path] == [
        ("current", "OD1"),
        ("OD1", "OD2"),
        ("OD2", "OD3"),
    ]
    assert [a.rule_id for a in decision.actions] == ["OD1.mail", "OD2.mail", "OD3.mail"]
    markers = [
        (e.kind, e.payload.pairs())
        for e in decision.events
        if e.kind in (EventKind.MARKER_SET, EventKind.MARKER_REMOVED)
    ]
    assert markers == [
        (EventKind.MARKER_SET, (("marker", "block_changes"), ("stage", "OD2"))),
        (EventKind.MARKER_SET, (("marker", "auto_invoicing_off"), ("stage", "OD3"))),
    ]
    jump = run(
        StagePolicy(name="kb", stages=OVERDUE_XML.stages),
        Case(loan_id="L-1"),
        late,
        strategy=strategy,
    )
    assert [a.rule_id for a in jump.actions] == ["OD3.mail"]
    assert jump.passed == ()


def test_control_tag_inclusion_and_exclusion_are_case_flags() -> None:
    policy = StagePolicy(
        name="kb",
        stages=(
            Stage(name="OD1", rank=1, entry=Condition(min_dpd=1)),
            # controlTagInclusion TEST_TAG, controlTagExclusion AUTO_PAY_OFF
            Stage(
                name="OD2",
                rank=2,
                entry=Condition(min_dpd=1, flags_all={"TEST_TAG"}, flags_none={"AUTO_PAY_OFF"}),
            ),
        ),
    )
    case = Case(loan_id="L-1")
    tagged = command(case, SetFlag(flag="TEST_TAG"), day(0))
    assert run(policy, case, day(1)).stage == "OD1"
    assert run(policy, tagged, day(1)).stage == "OD2"
    excluded = command(tagged, SetFlag(flag="AUTO_PAY_OFF"), day(0))
    assert run(policy, excluded, day(1)).stage == "OD1"
