"""loancollect_report_tables: a plug-in adds tables to the report."""

from __future__ import annotations

import datetime as dt

import pytest

from loancollect.domain.errors import ConfigurationError
from loancollect.domain.events import ActionSent, new_event
from loancollect.registry import report_tables
from loancollect.reporting import ReportData, Table


def _sent(loan_id: str, channel: str, seq: int):
    sent = ActionSent(key=f"{loan_id}-k{seq}", channel=channel, rule="r", attempts=1)
    return new_event(sent, loan_id=loan_id, on=dt.date(2025, 3, 1))


def test_the_example_counts_the_calls_placed(plugin_manager, register, example):
    register(example("loancollect_report_tables"), "calls")
    events = (_sent("L1", "phone", 1), _sent("L1", "sms", 2), _sent("L2", "phone", 1))
    data = ReportData((dt.date(2025, 3, 31),), {}, events, ("CNY",))
    tables = report_tables(plugin_manager, data, storage=None, taken=())  # type: ignore[arg-type]
    assert tables == (Table("acme_calls", "Calls placed", ("calls",), (("2",),)),)


def test_a_table_named_like_a_core_table_is_refused(plugin_manager, register, example):
    register(example("loancollect_report_tables"), "calls")
    data = ReportData((), {}, (), ())
    with pytest.raises(ConfigurationError, match="'acme_calls'"):
        report_tables(plugin_manager, data, storage=None, taken=("acme_calls",))  # type: ignore[arg-type]
