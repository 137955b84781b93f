"""HookRecorder: which hooks fired, with what, in what order."""

from __future__ import annotations

import datetime as dt

import pytest

from loancollect.registry import CycleSummary
from loancollect.testing import HookRecorder

DAY = dt.date(2025, 4, 20)


def _cycle(pm):
    pm.hook.loancollect_cycle_started(as_of=DAY, run_id="r")
    pm.hook.loancollect_cycle_finished(as_of=DAY, run_id="r", summary=CycleSummary())


def test_records_calls_in_order_with_their_arguments(plugin_manager):
    with HookRecorder(plugin_manager) as rec:
        _cycle(plugin_manager)
    rec.assert_fired(["loancollect_cycle_started", "loancollect_cycle_finished"])
    assert rec.calls_of("loancollect_cycle_started")[0]["run_id"] == "r"
    rec.assert_not_fired("loancollect_on_event")


def test_out_of_order_or_missing_hooks_fail(plugin_manager):
    with HookRecorder(plugin_manager) as rec:
        _cycle(plugin_manager)
    with pytest.raises(AssertionError, match="did not fire"):
        rec.assert_fired(["loancollect_cycle_finished", "loancollect_cycle_started"])
    with pytest.raises(AssertionError, match="fired 1 time"):
        rec.assert_not_fired("loancollect_cycle_started")


def test_can_filter_by_name_and_stops_recording(plugin_manager):
    rec = HookRecorder(plugin_manager, names=["loancollect_cycle_finished"])
    _cycle(plugin_manager)
    assert rec.names == ["loancollect_cycle_finished"]
    rec.stop()
    _cycle(plugin_manager)
    assert rec.names == ["loancollect_cycle_finished"]
    rec.clear()
    assert rec.calls == []
