"""A plug-in joins the demo (``loancollect_register_demo_parts``) and the report
(``loancollect_report_tables``) without touching the command line's code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import loancollect.cli as cli
from loancollect import hookimpl
from loancollect.builtin.recording import RecordingChannel
from loancollect.demo_parts import DemoPart, DemoRun, DemoSetup
from loancollect.domain.case import OutcomeKind
from loancollect.domain.errors import ConfigurationError
from loancollect.engine import CycleConfig
from loancollect.plugins import make_plugin_manager
from loancollect.ports import Channel
from loancollect.registry import demo_parts, report_tables
from loancollect.reporting import ReportData, Table

DAYS = 40


class Desk(DemoPart):
    """Works the phone queue itself: every call sent today is answered tonight."""

    name = "desk"
    answers = frozenset({"phone"})

    def __init__(self, *, fail_on: dt.date | None = None) -> None:
        self.steps: list[str] = []
        self.phone = RecordingChannel(name="phone")
        self.reactions: list[OutcomeKind] = []
        self.fail_on = fail_on

    def channels(self, setup: DemoSetup) -> Mapping[str, Channel]:
        self.steps.append("channels")
        return {"phone": self.phone}

    def configure(self, config: CycleConfig, setup: DemoSetup) -> CycleConfig:
        self.steps.append("configure")
        return config

    def start(self, run: DemoRun) -> None:
        self.steps.append("start")
        self.answered = 0

    def before_cycle(self, run: DemoRun, day: dt.date) -> None:
        self.steps.append("before")
        if day == self.fail_on:
            raise RuntimeError("the desk's stand-in server went away")

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        self.steps.append("after")
        new = self.phone.sent[self.answered :]
        self.answered = len(self.phone.sent)
        for loan_id in sorted({s.action.loan_id for s in new}):
            self.reactions.append(run.world.react(run.engine, loan_id, day, channel="phone"))

    def finish(self, run: DemoRun) -> None:
        self.steps.append("finish")

    def summary(self, run: DemoRun) -> str:
        return f"{len(self.reactions)} calls answered"


class Tables:
    @hookimpl
    def loancollect_report_tables(self, data: ReportData) -> Iterator[Table]:
        yield Table("desk_events", "Events in the period", ("events",), ((str(len(data.events)),),))


def _invoke_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *plugins: object) -> Result:
    real = make_plugin_manager

    def with_plugins(**kwargs: Any) -> Any:
        # these tests' parts alone take part (an installed plug-in's part, e.g. the phone
        # desk of loancollect-phone, would answer the demo's calls too)
        return real(**kwargs, plugins=plugins, block=("phone",))

    monkeypatch.setattr(cli, "make_plugin_manager", with_plugins)
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["demo", "--loans", "30", "--days", str(DAYS), "--seed", "3"]
    return runner.invoke(cli.main, [*args, "--out", str(tmp_path / "out")])


class _Parts:
    def __init__(self, *parts: DemoPart) -> None:
        self.parts = parts

    @hookimpl
    def loancollect_register_demo_parts(self) -> tuple[DemoPart, ...]:
        return self.parts


def test_a_demo_part_is_called_at_each_step_of_each_day_and_its_channel_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    desk = Desk()
    result = _invoke_demo(monkeypatch, tmp_path, _Parts(desk), Tables())
    assert result.exit_code in (0, 1), result.output
    assert desk.steps == ["channels", "configure", "start"] + ["before", "after"] * DAYS + [
        "finish"
    ]
    assert desk.phone.sent, "the demo's calls go through the part's channel"
    assert desk.reactions, "the part answers the calls"
    assert "desk: " in result.output
    assert "calls answered" in result.output


def test_a_report_table_from_a_plugin_is_printed_and_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _invoke_demo(monkeypatch, tmp_path, Tables())
    assert "Events in the period" in " ".join(result.output.split())  # the title may wrap
    assert (tmp_path / "out" / "report" / "desk_events.csv").exists()


def test_a_failing_part_is_still_finished(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    desk = Desk(fail_on=dt.date(2025, 1, 3))
    result = _invoke_demo(monkeypatch, tmp_path, _Parts(desk))
    assert isinstance(result.exception, RuntimeError)
    assert desk.steps[-1] == "finish"


def test_two_demo_parts_of_one_name_are_refused_naming_both_providers() -> None:
    pm = make_plugin_manager(plugins=[_Parts(Desk()), _Parts(Desk())])
    with pytest.raises(ConfigurationError, match="demo part name 'desk' is provided by 2"):
        demo_parts(pm)


def test_a_report_table_whose_name_is_taken_is_refused() -> None:
    pm = make_plugin_manager(plugins=[Tables()])
    data = ReportData((), {}, (), ())
    assert [t.name for t in report_tables(pm, data, lambda: None, ())] == ["desk_events"]  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError, match=r"'desk_events'.*already in the report"):
        report_tables(pm, data, lambda: None, ("desk_events",))  # type: ignore[arg-type,return-value]
