"""loancollect_override_stage: the first non-None answer wins; None keeps the proposal."""

from __future__ import annotations

import attrs

from loancollect.hookspecs import hookimpl


def _kwargs(inputs, case=None, proposed="legal"):
    return {
        "loan": inputs.loan,
        "case": case or inputs.case,
        "proposed": proposed,
        "as_of": inputs.as_of,
    }


def test_the_example_holds_the_stage_under_a_legal_hold(plugin_manager, register, example, inputs):
    register(example("loancollect_override_stage"), "hold")
    held = attrs.evolve(inputs.case, flags={"legal_hold"})
    hook = plugin_manager.hook.loancollect_override_stage
    assert hook(**_kwargs(inputs, held)) == inputs.case.stage
    assert hook(**_kwargs(inputs)) is None
    assert hook(**_kwargs(inputs, held, proposed="further_collection")) is None


def test_first_non_none_wins(plugin_manager, register, inputs):
    class Bankruptcy:
        @hookimpl
        def loancollect_override_stage(self, proposed):
            return "bankruptcy_hold" if proposed == "legal" else None

    class Manual:
        @hookimpl
        def loancollect_override_stage(self):
            return "manual_review"

    register(Manual(), "manual")
    register(Bankruptcy(), "bankruptcy")
    hook = plugin_manager.hook.loancollect_override_stage
    assert hook(**_kwargs(inputs)) == "bankruptcy_hold"
    assert hook(**_kwargs(inputs, proposed="early_collection")) == "manual_review"


def test_nobody_answering_gives_none(plugin_manager, inputs):
    assert plugin_manager.hook.loancollect_override_stage(**_kwargs(inputs)) is None
