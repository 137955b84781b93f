"""Plug-ins add commands to ``loancollect`` through the entry-point group
``loancollect.commands``; a broken one is left out with a warning."""

from __future__ import annotations

import importlib.metadata
import sys
import types

import click
import pytest
from click.testing import CliRunner

import loancollect.cli as cli


@click.command()
@click.option("--seed", default=1)
def hello(seed: int) -> None:
    """Say hello."""
    click.echo(f"hello {seed}")


def _entry(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name, value, cli.COMMANDS_GROUP)


@pytest.fixture
def group(monkeypatch: pytest.MonkeyPatch) -> click.Group:
    module = types.ModuleType("acme_cli")
    module.hello = hello  # type: ignore[attr-defined]
    module.not_a_command = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "acme_cli", module)
    entries = [
        _entry("hello", "acme_cli:hello"),
        _entry("broken", "acme_missing_module:cmd"),
        _entry("odd", "acme_cli:not_a_command"),
        _entry("run", "acme_cli:hello"),
    ]
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda group: entries if group == cli.COMMANDS_GROUP else [],
    )

    @click.group()
    def root() -> None:
        """A command line with one command of its own."""

    @root.command()
    def run() -> None:
        """The core's own run."""
        click.echo("core run")

    return root


def test_a_plugin_command_is_added_and_runs(group: click.Group) -> None:
    assert cli.add_plugin_commands(group) == ["hello"]
    result = CliRunner().invoke(group, ["hello", "--seed", "3"])
    assert result.output == "hello 3\n"


def test_a_plugin_never_replaces_a_core_command(group: click.Group) -> None:
    cli.add_plugin_commands(group)
    assert CliRunner().invoke(group, ["run"]).output == "core run\n"


def test_broken_or_odd_plugin_commands_are_left_out_with_a_warning(
    group: click.Group, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.add_plugin_commands(group)
    assert sorted(group.commands) == ["hello", "run"]
    err = " ".join(capsys.readouterr().err.split())
    assert "broken = acme_missing_module:cmd failed to load" in err
    assert "odd = acme_cli:not_a_command is a object, not a click command" in err
    assert "run = acme_cli:hello: the name is taken" in err
