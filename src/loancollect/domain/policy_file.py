"""Loading a stage policy and its strategies from TOML (no ``eval`` of any string).

Errors name the key path and, where the text allows, the line:
``policy.toml:14: stages[2].entry.min_dpd: expected an integer, got 'thirty'``.
The format is documented in docs/policy.md; ``docs/examples/default_policy.toml``
is the default policy written this way. The caller reads the file; this module
only parses text.
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

import attrs

from loancollect.domain.arrangements import ArrangementKind
from loancollect.domain.campaigns import Campaign
from loancollect.domain.credit_control import ComputationMode, LevelDelay
from loancollect.domain.delinquency import DelinquencyRange
from loancollect.domain.dunning import DunningType, LetterText
from loancollect.domain.errors import ConfigurationError, LoanCollectError
from loancollect.domain.money import Money
from loancollect.domain.policy import CatchUp, Condition, Stage, StagePolicy
from loancollect.domain.strategy import ActionRule, Experiment, OfferRule, Strategy, Tone, Variant

__all__ = ["PolicyBundle", "PolicyFileError", "loads_policy"]

T = TypeVar("T")


class PolicyFileError(ConfigurationError):
    """A policy file is malformed; ``line`` is 1-based when known."""

    def __init__(self, source: str, line: int | None, key: str, message: str) -> None:
        self.source = source
        self.line = line
        self.key = key
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {key}: {message}")


@attrs.frozen
class PolicyBundle:
    """A policy and the strategy (or champion/challenger experiment) that goes with it."""

    policy: StagePolicy
    strategy: Strategy | Experiment
    strategies: tuple[Strategy, ...]


class _Locator:
    """Finds the line of a key path such as ``strategies[0].actions[2].every_days``."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _find(self, pattern: re.Pattern[str], start: int, nth: int = 0) -> int | None:
        count = -1
        for n in range(start, len(self.lines)):
            if pattern.match(self.lines[n]):
                count += 1
                if count == nth:
                    return n
        return None

    def line(self, path: str) -> int | None:
        segments = [seg for seg in path.split(".") if seg]
        if not segments:
            return None
        start, tables = 0, []
        for seg in segments[:-1]:
            m = re.fullmatch(r"([^\[\]]+)(?:\[(\d+)\])?", seg)
            if m is None:
                return None
            tables.append(m.group(1))
            header = re.escape(".".join(tables))
            pattern = re.compile(rf"^\s*\[\[?{header}\]\]?\s*$")
            found = self._find(pattern, start, int(m.group(2) or 0))
            if found is not None:
                start = found
            else:
                # An inline table: the key holding it is the best place to point at.
                key_line = self._find(re.compile(rf"^\s*{re.escape(tables[-1])}\s*="), start)
                return key_line + 1 if key_line is not None else start + 1
        key = re.sub(r"\[\d+\]$", "", segments[-1])
        found = self._find(re.compile(rf"^\s*{re.escape(key)}\s*="), start)
        if found is not None:
            return found + 1
        return start + 1 if len(segments) > 1 else None


class _Reader:
    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.locator = _Locator(text)

    def fail(self, key: str, message: str) -> PolicyFileError:
        return PolicyFileError(self.source, self.locator.line(key), key, message)

    def table(
        self, data: Mapping[str, Any], key: str, path: str, required: bool = True
    ) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{path}{key}", "missing table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{path}{key}", f"expected a table, got {value!r}")
        return value

    def check_keys(self, data: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    f"{path}.{key}" if path else key, f"unknown key (allowed: {sorted(allowed)})"
                )

    def get(
        self, data: Mapping[str, Any], key: str, path: str, kind: type[T], default: T | None = None
    ) -> T:
        value = data.get(key, default)
        if value is None:
            raise self.fail(f"{path}.{key}", "missing required key")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(f"{path}.{key}", f"expected an integer, got {value!r}")
        if kind is str and not isinstance(value, str):
            raise self.fail(f"{path}.{key}", f"expected a string, got {value!r}")
        if kind is bool and not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", f"expected true or false, got {value!r}")
        return cast(T, value)

    def opt_int(self, data: Mapping[str, Any], key: str, path: str) -> int | None:
        if key not in data:
            return None
        value = self.get(data, key, path, int)
        if value < 0:  # every optional count in a policy is of days or events
            raise self.fail(f"{path}.{key}", f"{value} is out of range: must be 0 or more")
        return value

    def decimal(self, data: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, float):
            raise self.fail(f"{path}.{key}", f'write decimals as strings ("{value}"), not floats')
        try:
            return Decimal(str(value)) if isinstance(value, int | str) else Decimal("nan")
        except InvalidOperation:
            raise self.fail(f"{path}.{key}", f"not a decimal number: {value!r}") from None

    def money_map(self, value: Any, path: str) -> tuple[Money, ...]:
        if not isinstance(value, dict):
            raise self.fail(path, 'expected a table of currency = "amount"')
        out = []
        for code, amount in value.items():
            if isinstance(amount, float):
                raise self.fail(f"{path}.{code}", "write amounts as strings, not floats")
            try:
                out.append(Money(amount, code))
            except LoanCollectError as exc:
                raise self.fail(f"{path}.{code}", str(exc)) from None
        return tuple(out)

    def enum(
        self, data: Mapping[str, Any], key: str, path: str, parse: Callable[[str], T], default: str
    ) -> T:
        value = self.get(data, key, path, str, default)
        try:
            return parse(value)
        except ValueError:
            allowed = (
                sorted(str(m.value) for m in parse)
                if isinstance(parse, type) and issubclass(parse, enum.Enum)
                else []
            )
            hint = ""
            if allowed:
                close = difflib.get_close_matches(value, allowed, n=1)
                hint = f" (allowed: {allowed}" + (
                    f"; did you mean {close[0]!r}?)" if close else ")"
                )
            raise self.fail(f"{path}.{key}", f"unknown value {value!r}{hint}") from None

    def items(self, data: Mapping[str, Any], key: str, path: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"{path}{key}", "expected an array of tables")
        return value


_CONDITION_KEYS = {
    "min_dpd",
    "max_dpd",
    "min_overdue",
    "min_risk",
    "segments",
    "min_broken_promises",
    "flags_all",
    "flags_none",
    "due_within_days",
    "any_of",
    "min_unpaid_installments",
    "last_failed_payment",
}


def _condition(r: _Reader, data: Mapping[str, Any], path: str) -> Condition:
    r.check_keys(data, _CONDITION_KEYS, path)
    any_of = data.get("any_of", [])
    if not isinstance(any_of, list):
        raise r.fail(f"{path}.any_of", "expected an array of tables")
    return Condition(
        min_dpd=r.opt_int(data, "min_dpd", path),
        max_dpd=r.opt_int(data, "max_dpd", path),
        min_overdue=r.money_map(data["min_overdue"], f"{path}.min_overdue")
        if "min_overdue" in data
        else (),
        min_risk=r.decimal(data, "min_risk", path),
        segments=_strings(r, data, "segments", path),
        min_broken_promises=r.opt_int(data, "min_broken_promises", path),
        flags_all=_strings(r, data, "flags_all", path),
        flags_none=_strings(r, data, "flags_none", path),
        due_within_days=r.opt_int(data, "due_within_days", path),
        any_of=tuple(_condition(r, c, f"{path}.any_of[{i}]") for i, c in enumerate(any_of)),
        min_unpaid_installments=r.opt_int(data, "min_unpaid_installments", path),
        last_failed_payment=_strings(r, data, "last_failed_payment", path),
    )


def _strings(r: _Reader, data: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise r.fail(f"{path}.{key}", f"expected an array of strings, got {value!r}")
    return tuple(value)


def _level(r: _Reader, data: Mapping[str, Any], path: str) -> LevelDelay | None:
    if "level" not in data:
        return None
    level = data["level"]
    p = f"{path}.level"
    if not isinstance(level, dict):
        raise r.fail(p, 'expected a table such as { mode = "net_days", days = 30 }')
    r.check_keys(level, {"mode", "days"}, p)
    if "mode" not in level:
        raise r.fail(f"{p}.mode", f"missing (allowed: {sorted(m.value for m in ComputationMode)})")
    return LevelDelay(
        mode=r.enum(level, "mode", p, ComputationMode, "net_days"),
        days=r.get(level, "days", p, int),
    )


def _guard(r: _Reader, key: str, build: Callable[[], T]) -> T:
    """``build()``, its configuration errors reported at ``key``'s line."""
    try:
        return build()
    except ConfigurationError as exc:
        if isinstance(exc, PolicyFileError):
            raise
        raise r.fail(key, str(exc)) from None


def _ranges(r: _Reader, data: Mapping[str, Any]) -> tuple[DelinquencyRange, ...]:
    out = []
    for i, d in enumerate(r.items(data, "delinquency_ranges", "")):
        p = f"delinquency_ranges[{i}]"
        r.check_keys(d, {"name", "min_days", "max_days"}, p)
        out.append(
            _guard(
                r,
                f"{p}.min_days",
                functools.partial(
                    DelinquencyRange,
                    name=r.get(d, "name", p, str),
                    min_days=r.get(d, "min_days", p, int),
                    max_days=r.opt_int(d, "max_days", p),
                ),
            )
        )
    return tuple(out)


def _dunning_types(r: _Reader, data: Mapping[str, Any]) -> tuple[DunningType, ...]:
    out = []
    for i, d in enumerate(r.items(data, "dunning_types", "")):
        p = f"dunning_types[{i}]"
        r.check_keys(d, {"name", "stage", "fee", "rate_of_interest", "texts"}, p)
        fee = None
        if "fee" in d:
            fees = r.money_map(d["fee"], f"{p}.fee")
            if len(fees) != 1:
                raise r.fail(f"{p}.fee", 'expected one currency = "amount" pair')
            fee = fees[0]
        texts = []
        for j, t in enumerate(r.items(d, "texts", f"{p}.")):
            q = f"{p}.texts[{j}]"
            r.check_keys(t, {"language", "body", "closing"}, q)
            texts.append(
                LetterText(
                    language=r.get(t, "language", q, str),
                    body=r.get(t, "body", q, str),
                    closing=r.get(t, "closing", q, str, ""),
                )
            )
        rate = r.decimal(d, "rate_of_interest", p)
        out.append(
            _guard(
                r,
                f"{p}.name",
                functools.partial(
                    DunningType,
                    name=r.get(d, "name", p, str),
                    stage=r.get(d, "stage", p, str),
                    fee=fee,
                    rate_of_interest=rate if rate is not None else Decimal(0),
                    texts=tuple(texts),
                ),
            )
        )
    return tuple(out)


def _campaigns(r: _Reader, data: Mapping[str, Any]) -> tuple[Campaign, ...]:
    out = []
    for i, c in enumerate(r.items(data, "campaigns", "")):
        p = f"campaigns[{i}]"
        r.check_keys(
            c,
            {
                "code",
                "max_attempts",
                "days_between_attempts",
                "thresholds",
                "channel",
                "template",
                "stages",
            },
            p,
        )
        if "thresholds" not in c:
            raise r.fail(f"{p}.thresholds", 'missing: a table of currency = "amount"')
        thresholds = r.money_map(c["thresholds"], f"{p}.thresholds")
        out.append(
            _guard(
                r,
                f"{p}.code",
                functools.partial(
                    Campaign,
                    code=r.get(c, "code", p, str),
                    max_attempts=r.get(c, "max_attempts", p, int),
                    days_between_attempts=r.get(c, "days_between_attempts", p, int),
                    thresholds=thresholds,
                    channel=r.get(c, "channel", p, str, "email"),
                    template=r.get(c, "template", p, str, "dunning_reminder"),
                    stages=_strings(r, c, "stages", p),
                ),
            )
        )
    return tuple(out)


def _strategy(r: _Reader, data: Mapping[str, Any], path: str) -> Strategy:
    r.check_keys(data, {"name", "actions", "offers"}, path)
    actions = []
    for i, a in enumerate(r.items(data, "actions", f"{path}.")):
        p = f"{path}.actions[{i}]"
        r.check_keys(
            a,
            {
                "id",
                "stage",
                "channel",
                "template",
                "tone",
                "segments",
                "party",
                "every_days",
                "on_dpd",
                "days_before_due",
                "min_dpd",
                "max_dpd",
                "min_broken_promises",
                "fallbacks",
            },
            p,
        )
        try:
            actions.append(
                ActionRule(
                    id=r.get(a, "id", p, str),
                    stage=r.get(a, "stage", p, str),
                    channel=r.get(a, "channel", p, str),
                    template=r.get(a, "template", p, str),
                    tone=r.enum(a, "tone", p, Tone, "reminder"),
                    segments=_strings(r, a, "segments", p),
                    every_days=r.opt_int(a, "every_days", p),
                    on_dpd=r.opt_int(a, "on_dpd", p),
                    days_before_due=r.opt_int(a, "days_before_due", p),
                    min_dpd=r.opt_int(a, "min_dpd", p),
                    max_dpd=r.opt_int(a, "max_dpd", p),
                    min_broken_promises=r.opt_int(a, "min_broken_promises", p) or 0,
                    fallbacks=_strings(r, a, "fallbacks", p),
                )
            )
        except ConfigurationError as exc:
            if isinstance(exc, PolicyFileError):
                raise
            raise r.fail(f"{p}.id", str(exc)) from None
    offers = []
    for i, o in enumerate(r.items(data, "offers", f"{path}.")):
        p = f"{path}.offers[{i}]"
        r.check_keys(
            o,
            {
                "id",
                "stage",
                "kind",
                "segments",
                "max_installments",
                "min_down_fraction",
                "waiver_fraction",
                "settlement_fraction",
                "grace_days",
                "valid_days",
            },
            p,
        )
        offers.append(
            OfferRule(
                id=r.get(o, "id", p, str),
                stage=r.get(o, "stage", p, str),
                kind=r.enum(o, "kind", p, ArrangementKind, "promise"),
                segments=_strings(r, o, "segments", p),
                max_installments=r.opt_int(o, "max_installments", p),
                min_down_fraction=str(r.decimal(o, "min_down_fraction", p) or "0"),
                waiver_fraction=str(r.decimal(o, "waiver_fraction", p) or "0"),
                settlement_fraction=str(r.decimal(o, "settlement_fraction", p) or "1"),
                grace_days=r.opt_int(o, "grace_days", p),
                valid_days=r.opt_int(o, "valid_days", p) or 7,
            )
        )
    try:
        return Strategy(
            name=r.get(data, "name", path, str), actions=tuple(actions), offers=tuple(offers)
        )
    except ConfigurationError as exc:
        if isinstance(exc, PolicyFileError):
            raise
        raise r.fail(f"{path}.name", str(exc)) from None


def loads_policy(text: str, source: str = "<policy>") -> PolicyBundle:
    """Parse a policy (and its strategies) from TOML text.

    :raises PolicyFileError: with the line and key of the first problem.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise PolicyFileError(
            source, int(match.group(1)) if match else None, "<syntax>", str(exc)
        ) from None
    r = _Reader(source, text)
    r.check_keys(
        data,
        {
            "policy",
            "stages",
            "strategies",
            "experiment",
            "delinquency_ranges",
            "dunning_types",
            "campaigns",
        },
        "",
    )
    head = r.table(data, "policy", "")
    r.check_keys(
        head,
        {
            "name",
            "catch_up",
            "use_delinquent_days",
            "pre_delinquency_stage",
            "small_balance",
            "refuse_backdated_runs",
        },
        "policy",
    )
    stages = []
    for i, s in enumerate(r.items(data, "stages", "")):
        p = f"stages[{i}]"
        r.check_keys(
            s,
            {
                "name",
                "rank",
                "label",
                "label_zh",
                "min_stay_days",
                "contact",
                "entry",
                "markers",
                "level",
            },
            p,
        )
        entry = s.get("entry", {})
        if not isinstance(entry, dict):
            raise r.fail(f"{p}.entry", "expected a table")
        try:
            stages.append(
                Stage(
                    name=r.get(s, "name", p, str),
                    rank=r.get(s, "rank", p, int),
                    label=r.get(s, "label", p, str, ""),
                    label_zh=r.get(s, "label_zh", p, str, ""),
                    min_stay_days=r.get(s, "min_stay_days", p, int, 0),
                    contact=r.get(s, "contact", p, bool, True),
                    entry=_condition(r, entry, f"{p}.entry"),
                    markers=_strings(r, s, "markers", p),
                    level=_level(r, s, p),
                )
            )
        except ConfigurationError as exc:
            if isinstance(exc, PolicyFileError):
                raise
            raise r.fail(f"{p}.name", str(exc)) from None
    stage_names = sorted(s.name for s in stages)
    dunning_types = _dunning_types(r, data)
    for i, d in enumerate(dunning_types):
        if d.stage not in stage_names:
            raise r.fail(
                f"dunning_types[{i}].stage", f"unknown stage {d.stage!r} (allowed: {stage_names})"
            )
    campaigns = _campaigns(r, data)
    for i, c in enumerate(campaigns):
        unknown = sorted(c.stages - set(stage_names))
        if unknown:
            raise r.fail(
                f"campaigns[{i}].stages", f"unknown stages {unknown} (allowed: {stage_names})"
            )
    try:
        policy = StagePolicy(
            name=r.get(head, "name", "policy", str),
            stages=tuple(stages),
            catch_up=r.enum(head, "catch_up", "policy", CatchUp, "jump"),
            use_delinquent_days=r.get(head, "use_delinquent_days", "policy", bool, False),
            pre_delinquency_stage=head.get("pre_delinquency_stage"),
            small_balance=r.money_map(head.get("small_balance", {}), "policy.small_balance"),
            refuse_backdated_runs=r.get(head, "refuse_backdated_runs", "policy", bool, False),
            delinquency_ranges=_ranges(r, data),
            dunning_types=dunning_types,
            campaigns=campaigns,
        )
    except ConfigurationError as exc:
        if isinstance(exc, PolicyFileError):
            raise
        raise r.fail("policy.name", str(exc)) from None
    strategies = tuple(
        _strategy(r, s, f"strategies[{i}]") for i, s in enumerate(r.items(data, "strategies", ""))
    )
    if not strategies:
        raise r.fail("strategies", "at least one [[strategies]] table is needed")
    names = {s.name: s for s in strategies}
    known_stages = set(policy.names())
    for i, strat in enumerate(strategies):
        for j, a in enumerate(strat.actions):
            if a.stage not in known_stages:
                raise r.fail(f"strategies[{i}].actions[{j}].stage", f"unknown stage {a.stage!r}")
        for j, o in enumerate(strat.offers):
            if o.stage not in known_stages:
                raise r.fail(f"strategies[{i}].offers[{j}].stage", f"unknown stage {o.stage!r}")
    chosen: Strategy | Experiment = strategies[0]
    if "experiment" in data:
        exp = r.table(data, "experiment", "")
        r.check_keys(exp, {"name", "variants"}, "experiment")
        variants = []
        for i, v in enumerate(r.items(exp, "variants", "experiment.")):
            p = f"experiment.variants[{i}]"
            r.check_keys(v, {"name", "strategy", "share"}, p)
            strategy_name = r.get(v, "strategy", p, str)
            if strategy_name not in names:
                raise r.fail(f"{p}.strategy", f"no strategy named {strategy_name!r}")
            variants.append(
                Variant(r.get(v, "name", p, str), names[strategy_name], r.get(v, "share", p, int))
            )
        try:
            chosen = Experiment(r.get(exp, "name", "experiment", str), tuple(variants))
        except ConfigurationError as exc:
            raise r.fail("experiment.name", str(exc)) from None
    return PolicyBundle(policy, chosen, strategies)
