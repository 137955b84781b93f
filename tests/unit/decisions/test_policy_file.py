"""Policy files (TOML): the default round-trips; errors carry the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.policy import CatchUp
from loancollect.domain.policy_file import PolicyFileError, loads_policy
from loancollect.domain.strategy import Experiment

DEFAULT_TOML = Path(__file__).parents[3] / "docs" / "examples" / "default_policy.toml"

MINIMAL = """\
[policy]
name = "mini"
catch_up = "step"

[[stages]]
name = "late"
rank = 1
[stages.entry]
min_dpd = 1

[[strategies]]
name = "a"
[[strategies.actions]]
id = "late.sms"
stage = "late"
channel = "sms"
template = "reminder"
every_days = 2
"""


def test_the_shipped_default_policy_file_equals_the_python_default() -> None:
    bundle = loads_policy(DEFAULT_TOML.read_text(encoding="utf-8"), "default_policy.toml")
    assert bundle.policy == DEFAULT_POLICY
    assert bundle.strategy == DEFAULT_STRATEGY


def test_a_minimal_policy_loads() -> None:
    bundle = loads_policy(MINIMAL)
    assert bundle.policy.catch_up is CatchUp.STEP
    assert [s.name for s in bundle.policy.stages] == ["late"]
    assert bundle.strategy == bundle.strategies[0]


def test_an_experiment_splits_strategies() -> None:
    text = (
        MINIMAL
        + """
[[strategies]]
name = "b"

[experiment]
name = "q3"
[[experiment.variants]]
name = "champion"
strategy = "a"
share = 90

[[experiment.variants]]
name = "challenger"
strategy = "b"
share = 10
"""
    )
    bundle = loads_policy(text)
    assert isinstance(bundle.strategy, Experiment)
    assert [v.share for v in bundle.strategy.variants] == [90, 10]


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"),
    [
        ("min_dpd = 1", 'min_dpd = "thirty"', 9, "stages[0].entry.min_dpd", "expected an integer"),
        ("min_dpd = 1", "min_dpd = 1\nmax_dpx = 3", 10, "stages[0].entry.max_dpx", "unknown key"),
        (
            "every_days = 2",
            "every_days = 2\nstage_x = 1",
            19,
            "strategies[0].actions[0].stage_x",
            "unknown key",
        ),
        (
            'stage = "late"',
            'stage = "nowhere"',
            15,
            "strategies[0].actions[0].stage",
            "unknown stage",
        ),
        ('catch_up = "step"', 'catch_up = "leap"', 3, "policy.catch_up", "unknown value"),
        ("rank = 1", "rank = 1.5", 7, "stages[0].rank", "expected an integer"),
        (
            "every_days = 2",
            "every_days = 2\non_dpd = 3",
            14,
            "strategies[0].actions[0].id",
            "choose one",
        ),
        (
            'name = "mini"',
            'name = "mini"\nsmall_balance = { CNY = 0.5 }',
            3,
            "policy.small_balance.CNY",
            "not floats",
        ),
        ('name = "late"', 'name = "cured"', 6, "stages[0].name", "reserved"),
    ],
)
def test_errors_name_the_line_and_the_key(
    old: str, new: str, line: int, key: str, message: str
) -> None:
    text = MINIMAL.replace(old, new, 1)
    with pytest.raises(PolicyFileError) as info:
        loads_policy(text, "p.toml")
    err = info.value
    assert (err.line, err.key) == (line, key), str(err)
    assert message in str(err)
    assert str(err).startswith(f"p.toml:{line}: {key}: ")


def test_a_syntax_error_reports_its_line() -> None:
    with pytest.raises(PolicyFileError) as info:
        loads_policy("[policy]\nname = \n", "bad.toml")
    assert info.value.line == 2


def test_strings_are_never_evaluated() -> None:
    text = MINIMAL.replace("min_dpd = 1", "min_dpd = \"__import__('os').system('false')\"")
    with pytest.raises(PolicyFileError, match="expected an integer"):
        loads_policy(text)
    risky = MINIMAL.replace("min_dpd = 1", 'min_risk = "1 + 1"')
    with pytest.raises(PolicyFileError, match="not a decimal"):
        loads_policy(risky)


def test_a_policy_needs_a_strategy() -> None:
    text = MINIMAL.split("[[strategies]]")[0]
    with pytest.raises(PolicyFileError, match="at least one"):
        loads_policy(text)
