"""What a run does with the actions of channels it cannot use.

A policy may plan actions on a channel that no installed plug-in provides (the
default policy calls and visits borrowers; a bare installation has neither a
``phone`` nor a ``visit`` channel), or on one whose plug-in cannot be built with
the host's settings. Sending those would fail every day. :func:`plan_channels`
decides, once at start-up, what happens to each such rule and says so:

- the rule's first usable fallback channel (``ActionRule.fallbacks``, in order)
  takes over: the action goes through the configured fallback;
- with no usable fallback, the rule is held: it plans nothing until a plug-in
  provides the channel.

A rule moved onto a fallback channel is dropped when another rule of the same
strategy already plans the same template on that channel at the same stage, with
the same cadence: the borrower would otherwise get the same message twice on the
same day.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TypeVar

import attrs

from loancollect.domain.strategy import ActionRule, Experiment, Strategy

__all__ = ["ChannelGap", "ChannelPlan", "plan_channels", "strategy_channels"]

_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class ChannelGap:
    """A channel the strategy uses that the run cannot use, and what becomes of its rules.

    :param channel: the channel's name.
    :param why: why it cannot be used (no plug-in provides it, its settings are bad).
    :param moved: ``(rule id, fallback channel)`` for each rule that goes through a fallback.
    :param held: ids of the rules that plan nothing while the channel is unusable.
    :param merged: ids of the rules dropped because their fallback would repeat another
        rule's message on the same day.
    """

    channel: str
    why: str
    moved: tuple[tuple[str, str], ...] = ()
    held: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()

    def describe(self) -> str:
        """One sentence for the operator."""
        parts = []
        by_target: dict[str, list[str]] = {}
        for rule, target in self.moved:
            by_target.setdefault(target, []).append(rule)
        for target, rules in by_target.items():
            parts.append(f"{', '.join(rules)} go through {target!r} (configured fallback)")
        if self.merged:
            parts.append(
                f"{', '.join(self.merged)} dropped (their fallback would repeat another "
                "rule's message the same day)"
            )
        if self.held:
            parts.append(f"{', '.join(self.held)} held (no usable fallback: nothing is planned)")
        if not parts:
            parts.append("used only as a fallback: skipped")
        return f"channel {self.channel!r} {self.why}: " + "; ".join(parts)


@attrs.frozen(kw_only=True)
class ChannelPlan:
    """The strategy the run uses, and the gaps it works around."""

    strategy: Strategy | Experiment
    gaps: tuple[ChannelGap, ...] = ()


def _strategies(strategy: Strategy | Experiment) -> tuple[Strategy, ...]:
    if isinstance(strategy, Experiment):
        return tuple(v.strategy for v in strategy.variants)
    return (strategy,)


def strategy_channels(strategy: Strategy | Experiment) -> set[str]:
    """Every channel a strategy (or each variant of an experiment) may use, fallbacks included."""
    return {
        channel
        for s in _strategies(strategy)
        for rule in s.actions
        for channel in (rule.channel, *rule.fallbacks)
    }


def _same_message(a: ActionRule, b: ActionRule) -> bool:
    """Whether two rules would send the same message on the same days."""
    return (
        a.stage == b.stage
        and a.channel == b.channel
        and a.template == b.template
        and a.segments == b.segments
        and a.every_days == b.every_days
        and a.on_dpd == b.on_dpd
        and a.days_before_due == b.days_before_due
    )


def _replan(
    strategy: Strategy,
    unusable: Collection[str],
    has_template: Callable[[str, str], bool],
    record: Callable[[str, str, str], None],
) -> Strategy:
    kept: list[ActionRule] = []
    moved: list[ActionRule] = []
    for rule in strategy.actions:
        usable = [
            c
            for c in (rule.channel, *rule.fallbacks)
            if c not in unusable and (c == rule.channel or has_template(rule.template, c))
        ]
        if rule.channel not in unusable:
            kept.append(attrs.evolve(rule, fallbacks=tuple(usable[1:])))
        elif not usable:
            record(rule.channel, rule.id, "held")
        else:
            moved.append(attrs.evolve(rule, channel=usable[0], fallbacks=tuple(usable[1:])))
            record(rule.channel, rule.id, "moved:" + usable[0])
    original = {r.id: r.channel for r in strategy.actions}
    for rule in moved:
        if any(_same_message(rule, other) for other in kept):
            record(original[rule.id], rule.id, "merged")
        else:
            kept.append(rule)
    order = {r.id: n for n, r in enumerate(strategy.actions)}
    kept.sort(key=lambda r: order[r.id])
    return attrs.evolve(strategy, actions=tuple(kept))


def plan_channels(
    strategy: Strategy | Experiment,
    unusable: dict[str, str],
    has_template: Callable[[str, str], bool] = lambda template, channel: True,
) -> ChannelPlan:
    """The strategy with the rules of ``unusable`` channels moved to a fallback or held.

    :param unusable: channel name -> why it cannot be used (``"is not installed"``).
    :param has_template: whether a template (first argument) exists for a channel
        (second): a fallback without the rule's template cannot take its actions.
    """
    moved: dict[str, list[tuple[str, str]]] = {}
    held: dict[str, list[str]] = {}
    merged: dict[str, list[str]] = {}

    def record(channel: str, rule: str, what: str) -> None:
        if what == "held":
            _add(held, channel, rule)
        elif what == "merged":
            _add(merged, channel, rule)
            moved[channel] = [m for m in moved.get(channel, []) if m[0] != rule]
        else:
            _add(moved, channel, (rule, what.removeprefix("moved:")))

    if isinstance(strategy, Experiment):
        planned: Strategy | Experiment = attrs.evolve(
            strategy,
            variants=tuple(
                attrs.evolve(v, strategy=_replan(v.strategy, unusable, has_template, record))
                for v in strategy.variants
            ),
        )
    else:
        planned = _replan(strategy, unusable, has_template, record)
    gaps = tuple(
        ChannelGap(
            channel=channel,
            why=why,
            moved=tuple(_unique(moved.get(channel, ()))),
            held=tuple(_unique(held.get(channel, ()))),
            merged=tuple(_unique(merged.get(channel, ()))),
        )
        for channel, why in sorted(unusable.items())
        if channel in strategy_channels(strategy)
    )
    return ChannelPlan(strategy=planned, gaps=gaps)


def _add(book: dict[str, list[_T]], key: str, value: _T) -> None:
    book.setdefault(key, []).append(value)


def _unique(items: Iterable[_T]) -> list[_T]:
    seen: list[_T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
