"""loancollect_check_contact: violations, every result collected."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum
import pytest

from loancollect.errors import ValidationError
from loancollect.registry import ContactViolation
from loancollect.testing import make_action

AT = pendulum.datetime(2025, 4, 20, 10, tz="Asia/Shanghai")


def test_the_example_blocks_visits_when_asked(plugin_manager, register, example, inputs):
    register(example("loancollect_check_contact"), "no-visits")
    case = attrs.evolve(inputs.case, flags={"no_visits"})
    hook = plugin_manager.hook.loancollect_check_contact
    visit = make_action(channel="visit", template="visit_notice")
    sms = make_action()
    common = {"loan": inputs.loan, "case": case, "as_of": inputs.as_of, "at": AT, "history": ()}
    (violations,) = hook(action=visit, **common)
    assert [v.rule_id for v in violations] == ["acme.no-visits"]
    assert violations[0].reschedule_at is None
    assert hook(action=sms, **common) == [[]]


def test_a_violation_needs_an_aware_reschedule_time():
    ContactViolation(rule_id="night", reschedule_at=AT)
    with pytest.raises(ValidationError, match="reschedule_at"):
        ContactViolation(rule_id="night", reschedule_at=dt.datetime(2025, 4, 20, 8))
