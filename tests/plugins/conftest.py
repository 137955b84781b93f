"""Fixtures for the plug-in system tests.

- ``plugin_manager``: a fresh manager with entry points disabled (built-ins only);
- ``register``: registers a temporary plug-in under an ``undo-*`` name and removes
  it after the test;
- ``example``: loads ``examples/hooks/<hook>.py`` as a fresh module;
- ``inputs``: realistic, frozen hook arguments (loan, case, assessment, decision).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pluggy
import pytest

from loancollect.domain.case import Case
from loancollect.domain.decision import Decision, decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.loans import Loan
from loancollect.domain.overdue import Assessment
from loancollect.plugins import make_plugin_manager
from loancollect.testing import make_case, make_loan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "hooks"


@pytest.fixture
def plugin_manager() -> pluggy.PluginManager:
    """A fresh manager: hook specs and built-ins, no installed plug-ins."""
    return make_plugin_manager(load_entrypoints=False)


@pytest.fixture
def register(plugin_manager: pluggy.PluginManager) -> Iterator[Callable[..., object]]:
    """``register(plugin, name="x")`` registers as ``undo-x``; all are removed afterwards."""
    names: list[str] = []

    def _register(plugin: object, name: str | None = None) -> object:
        full = f"undo-{name or getattr(plugin, '__name__', type(plugin).__name__)}"
        plugin_manager.register(plugin, name=full)
        plugin_manager.check_pending()
        names.append(full)
        return plugin

    yield _register
    for full in names:
        if plugin_manager.has_plugin(full):
            plugin_manager.unregister(name=full)


def load_example(hook: str) -> ModuleType:
    """Import ``examples/hooks/<hook>.py`` as a new module object."""
    path = EXAMPLES / f"{hook}.py"
    spec = importlib.util.spec_from_file_location(f"example_{hook}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example() -> Callable[[str], ModuleType]:
    """``example("loancollect_score")``: the example plug-in module of a hook."""
    return load_example


@attrs.frozen
class Inputs:
    """Hook arguments for one case on one day, from the pure core."""

    loan: Loan
    case: Case
    assessment: Assessment
    decision: Decision
    as_of: dt.date

    def for_hook(self, *names: str, **extra: Any) -> dict[str, Any]:
        """Keyword arguments ``names`` (and ``extra``) for a hook call."""
        values: dict[str, Any] = {
            "loan": self.loan,
            "case": self.case,
            "assessment": self.assessment,
            "decision": self.decision,
            "as_of": self.as_of,
        }
        return {**{n: values[n] for n in names}, **extra}


def make_inputs(as_of: dt.date = dt.date(2025, 4, 20), **decide_kwargs: Any) -> Inputs:
    """Decide ``make_loan()`` with no payments on ``as_of`` with the default policy."""
    loan = make_loan()
    case = make_case(stage="current", stage_since=None, next_review_date=as_of)
    decision = decide(
        loan=loan,
        payments=[],
        case=case,
        as_of=as_of,
        policy=DEFAULT_POLICY,
        strategy=DEFAULT_STRATEGY,
        **decide_kwargs,
    )
    return Inputs(loan, decision.case, decision.assessment, decision, as_of)


@pytest.fixture
def inputs() -> Inputs:
    """A loan 64 days past due, in further collection."""
    return make_inputs()


@pytest.fixture
def inputs_on() -> Callable[..., Inputs]:
    """``inputs_on(as_of, **decide_kwargs)``: hook arguments for another day or segment."""
    return make_inputs
