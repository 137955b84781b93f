"""loancollect_cycle_finished: observers get the run's summary."""

from __future__ import annotations

import datetime as dt

from loancollect.registry import CycleSummary


def test_the_example_records_the_totals(plugin_manager, register, example):
    module = register(example("loancollect_cycle_finished"), "totals")
    summary = CycleSummary(reviewed=10, sent=7, errors=1)
    plugin_manager.hook.loancollect_cycle_finished(
        as_of=dt.date(2025, 4, 20), run_id="run-1", summary=summary
    )
    assert module.TOTALS == {"run-1": (10, 7, 1)}


def test_summaries_of_batches_add_up():
    total = CycleSummary(reviewed=2, sent=1) + CycleSummary(reviewed=3, blocked=1)
    assert total == CycleSummary(reviewed=5, sent=1, blocked=1)
