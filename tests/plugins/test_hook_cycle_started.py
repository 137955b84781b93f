"""loancollect_cycle_started: observers run once per cycle."""

from __future__ import annotations

import datetime as dt
import logging


def test_the_example_logs_the_start(plugin_manager, register, example, caplog):
    register(example("loancollect_cycle_started"), "log")
    with caplog.at_level(logging.INFO, logger="acme"):
        result = plugin_manager.hook.loancollect_cycle_started(
            as_of=dt.date(2025, 4, 20), run_id="run-1"
        )
    assert result == []
    assert "run run-1 for 2025-04-20 started" in caplog.text
