"""What a field-visit contact is as to its notice: the notice being given now, or the
visit itself with the notice recorded by the action's dispatch through a channel
that delivered it; never a notice that is only claimed, nor a dispatch that
delivered none."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loancollect.builtin.visit_notice import VisitNotice, visit_notice
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import EventKind
from loancollect.testing import make_action, make_event

LDN = "Europe/London"
ACTION = make_action(channel="visit", template="visit_notice")
SENT = pendulum.datetime(2025, 3, 3, 10, tz=LDN)


def dispatched(at: dt.datetime | None = SENT, **fields: object):  # type: ignore[no-untyped-def]
    fields.setdefault("key", ACTION.idempotency_key)
    fields.setdefault("channel", "visit")
    fields.setdefault("notice", "visit_notice")  # the channel delivered the written notice
    return make_event(EventKind.ACTION_SENT, on=dt.date(2025, 3, 3), at=at, **fields)


def test_before_its_dispatch_a_visit_action_judged_at_the_notice_instant_is_the_notice() -> None:
    assert visit_notice(ACTION, SENT, SENT, (), LDN) == VisitNotice(gives=True)


def test_after_its_dispatch_it_is_the_visit_with_the_recorded_notice() -> None:
    later = SENT.add(days=3)
    assert visit_notice(ACTION, later, SENT, (dispatched(),), LDN) == VisitNotice(sent_at=SENT)
    assert visit_notice(ACTION, later, None, (dispatched(),), LDN) == VisitNotice(sent_at=SENT)
    # "notice now" after the dispatch is recorded is the visit, not a fresh notice
    assert visit_notice(ACTION, later, later, (dispatched(),), LDN) == VisitNotice(sent_at=later)


def test_a_claim_later_than_the_record_counts_an_earlier_one_does_not() -> None:
    later = SENT.add(days=4)
    one_day = SENT.add(days=1)
    assert visit_notice(ACTION, later, one_day, (dispatched(),), LDN).sent_at == one_day
    earlier = SENT.add(days=-9)
    assert visit_notice(ACTION, later, earlier, (dispatched(),), LDN).sent_at == SENT


def test_no_record_no_notice_whatever_the_caller_claims() -> None:
    later = SENT.add(days=5)
    for claim in (None, SENT, SENT.add(days=-30)):
        assert visit_notice(ACTION, later, claim, (), LDN) == VisitNotice()
    other_key = dispatched(key="L-1:other.visit:2025-03-03")
    other_channel = dispatched(channel="letter")
    assert visit_notice(ACTION, later, SENT, (other_key, other_channel), LDN) == VisitNotice()


def test_a_dispatch_through_a_channel_that_delivered_no_notice_is_no_notice() -> None:
    later = SENT.add(days=5)
    silent = dispatched(notice="")  # a channel without CAP_VISIT_NOTICE: only a request
    for claim in (None, SENT, later):
        assert visit_notice(ACTION, later, claim, (silent,), LDN) == VisitNotice()


def test_a_dispatch_recorded_after_the_instant_judged_is_no_notice_yet() -> None:
    assert visit_notice(ACTION, SENT.add(hours=-1), None, (dispatched(),), LDN) == VisitNotice()


def test_a_dispatch_recorded_without_an_instant_counts_from_the_end_of_its_day() -> None:
    found = visit_notice(ACTION, SENT.add(days=5), None, (dispatched(at=None),), LDN)
    assert found.sent_at == pendulum.datetime(2025, 3, 4, tz=LDN)


def test_a_naive_notice_instant_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="visit_notice_at"):
        visit_notice(ACTION, SENT, dt.datetime(2025, 3, 3, 10), (), LDN)


@given(
    days=st.floats(min_value=0, max_value=30, allow_nan=False),
    claim=st.one_of(st.none(), st.floats(min_value=-30, max_value=30, allow_nan=False)),
    recorded=st.booleans(),
)
def test_a_visit_never_counts_a_notice_earlier_than_its_recorded_dispatch(
    days: float, claim: float | None, recorded: bool
) -> None:
    at = SENT.add(days=days)
    claimed = None if claim is None else SENT.add(days=claim)
    found = visit_notice(ACTION, at, claimed, (dispatched(),) if recorded else (), LDN)
    if found.sent_at is not None:
        assert recorded
        assert SENT <= found.sent_at <= at
    if found.gives:
        assert not recorded
        assert claimed == at
