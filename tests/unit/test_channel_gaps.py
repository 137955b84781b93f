"""A run plans around the channels it cannot use: fallback, held, or merged."""

from __future__ import annotations

from loancollect.channel_gaps import plan_channels, strategy_channels
from loancollect.domain.strategy import ActionRule, Experiment, Strategy, Variant


def rule(id: str, channel: str, *fallbacks: str, template: str = "reminder") -> ActionRule:
    return ActionRule(
        id=id, stage="early", channel=channel, template=template, every_days=3, fallbacks=fallbacks
    )


def test_a_missing_channel_goes_to_its_first_usable_fallback() -> None:
    plan = plan_channels(
        Strategy(name="s", actions=(rule("call", "phone", "visit", "sms"),)),
        {"phone": "is not installed", "visit": "is not installed"},
    )
    assert isinstance(plan.strategy, Strategy)
    (moved,) = plan.strategy.actions
    assert (moved.channel, moved.fallbacks) == ("sms", ())
    by_channel = {g.channel: g for g in plan.gaps}
    assert by_channel["phone"].moved == (("call", "sms"),)
    assert "go through 'sms' (configured fallback)" in by_channel["phone"].describe()
    assert "used only as a fallback" in by_channel["visit"].describe()


def test_a_missing_channel_without_a_usable_fallback_is_held() -> None:
    plan = plan_channels(
        Strategy(name="s", actions=(rule("visit", "visit"), rule("sms", "sms"))),
        {"visit": "is not installed"},
    )
    assert isinstance(plan.strategy, Strategy)
    assert [r.id for r in plan.strategy.actions] == ["sms"]
    assert plan.gaps[0].held == ("visit",)
    assert "visit held" in plan.gaps[0].describe()


def test_a_fallback_without_the_rule_template_cannot_take_its_actions() -> None:
    plan = plan_channels(
        Strategy(name="s", actions=(rule("visit", "visit", "letter", template="visit_notice"),)),
        {"visit": "is not installed"},
        has_template=lambda template, channel: template != "visit_notice",
    )
    assert plan.gaps[0].held == ("visit",)


def test_a_fallback_that_repeats_a_planned_message_the_same_day_is_dropped() -> None:
    # Without the merge the borrower would get the same SMS twice every third day.
    plan = plan_channels(
        Strategy(name="s", actions=(rule("sms", "sms"), rule("call", "phone", "sms"))),
        {"phone": "is not installed"},
    )
    assert isinstance(plan.strategy, Strategy)
    assert [r.id for r in plan.strategy.actions] == ["sms"]
    assert plan.gaps[0].merged == ("call",)
    assert plan.gaps[0].moved == ()


def test_each_variant_of_an_experiment_is_planned() -> None:
    experiment = Experiment(
        name="e",
        variants=(
            Variant(
                name="champion",
                strategy=Strategy(name="a", actions=(rule("call", "phone", "sms"),)),
                share=50,
            ),
            Variant(
                name="challenger",
                strategy=Strategy(name="b", actions=(rule("letter", "letter"),)),
                share=50,
            ),
        ),
    )
    assert strategy_channels(experiment) == {"phone", "sms", "letter"}
    plan = plan_channels(experiment, {"phone": "is not installed"})
    assert isinstance(plan.strategy, Experiment)
    assert plan.strategy.variants[0].strategy.actions[0].channel == "sms"
    assert plan.strategy.variants[1].strategy.actions[0].channel == "letter"


def test_channels_the_strategy_does_not_use_are_not_reported() -> None:
    plan = plan_channels(
        Strategy(name="s", actions=(rule("sms", "sms"),)), {"visit": "is not installed"}
    )
    assert plan.gaps == ()
