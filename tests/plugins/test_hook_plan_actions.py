"""loancollect_plan_actions: extra actions, every result collected."""

from __future__ import annotations

import datetime as dt

from loancollect.domain.strategy import PlannedAction


def test_the_example_adds_a_crm_sync_in_further_collection(
    plugin_manager, register, example, inputs, inputs_on
):
    register(example("loancollect_plan_actions"), "crm")
    assert inputs.decision.stage == "further_collection"
    kwargs = inputs.for_hook("loan", "case", "decision", "as_of")
    results = plugin_manager.hook.loancollect_plan_actions(**kwargs)
    actions = [a for result in results for a in result]
    assert len(actions) == 1
    (action,) = actions
    assert isinstance(action, PlannedAction)
    assert action.idempotency_key == f"L-1:crm-sync:{inputs.as_of.isoformat()}"

    early = inputs_on(as_of=dt.date(2025, 3, 1))
    assert early.decision.stage != "further_collection"
    kwargs = early.for_hook("loan", "case", "decision", "as_of")
    assert [a for r in plugin_manager.hook.loancollect_plan_actions(**kwargs) for a in r] == []


def test_a_rerun_of_the_day_plans_the_same_keys(plugin_manager, register, example, inputs):
    register(example("loancollect_plan_actions"), "crm")
    kwargs = inputs.for_hook("loan", "case", "decision", "as_of")
    first = plugin_manager.hook.loancollect_plan_actions(**kwargs)
    second = plugin_manager.hook.loancollect_plan_actions(**kwargs)
    assert first == second
