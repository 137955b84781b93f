"""Every hook spec has its own test module (datasette's test_plugin_hooks_have_tests)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from loancollect import hookspecs

HERE = Path(__file__).resolve().parent
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("loancollect_")
)


def test_there_are_hooks():
    assert len(HOOKS) >= 14


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test_module(hook):
    module = HERE / f"test_hook_{hook.removeprefix('loancollect_')}.py"
    assert module.exists(), f"no test module for {hook}: expected {module.name}"
    assert "def test_" in module.read_text(encoding="utf-8")


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_example_is_exercised(hook):
    module = HERE / f"test_hook_{hook.removeprefix('loancollect_')}.py"
    assert f'example("{hook}")' in module.read_text(encoding="utf-8"), (
        f"{module.name} does not run examples/hooks/{hook}.py"
    )


def test_every_spec_is_on_the_manager(plugin_manager):
    assert sorted(n for n in dir(plugin_manager.hook) if n.startswith("loancollect_")) == HOOKS
