"""loancollect_segment: the first non-None answer wins."""

from __future__ import annotations

import attrs

from loancollect.hookspecs import hookimpl


def _kwargs(inputs, loan=None):
    return {
        "loan": loan or inputs.loan,
        "case": inputs.case,
        "assessment": inputs.assessment,
        "scores": inputs.decision.scores,
        "as_of": inputs.as_of,
    }


def test_the_example_answers_for_student_loans_only(plugin_manager, register, example, inputs):
    register(example("loancollect_segment"), "student")
    student = attrs.evolve(inputs.loan, product="student")
    assert plugin_manager.hook.loancollect_segment(**_kwargs(inputs, student)) == "student"
    assert plugin_manager.hook.loancollect_segment(**_kwargs(inputs)) is None


def test_nobody_answering_gives_none(plugin_manager, inputs):
    assert plugin_manager.hook.loancollect_segment(**_kwargs(inputs)) is None


def test_first_non_none_wins_and_stops_the_call(plugin_manager, register, inputs):
    calls = []

    class Abstains:
        @hookimpl
        def loancollect_segment(self):
            calls.append("abstains")

    class First:
        @hookimpl
        def loancollect_segment(self):
            calls.append("first")
            return "vip"

    class NeverAsked:
        @hookimpl
        def loancollect_segment(self):
            calls.append("never")
            return "other"

    register(NeverAsked(), "never")  # registered first: called last
    register(First(), "first")
    register(Abstains(), "abstains")  # registered last: called first
    assert plugin_manager.hook.loancollect_segment(**_kwargs(inputs)) == "vip"
    assert calls == ["abstains", "first"]
