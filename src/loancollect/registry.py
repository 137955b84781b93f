"""Registry records and their collection from the registration hooks.

Registration hooks (``loancollect_register_*``) return frozen descriptor records
defined here (rule packs use :class:`~loancollect.domain.compliance.RulePack`).
:func:`collect` calls one registration hook, checks what each plug-in returned,
normalises names, and refuses duplicates with a :class:`ConfigurationError` that
names *every* plug-in providing the name and the distribution it came from.

The module also holds the small records decision and observer hooks exchange:
:class:`ContactViolation` and :class:`CycleSummary`.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Protocol, cast

import attrs
import pluggy

from loancollect.demo_parts import DemoPart
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.compliance import RulePack
from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.loans import ContactKind
from loancollect.domain.strategy import Tone
from loancollect.ports import (
    CAP_IDEMPOTENT,
    DEFAULT_TENANT,
    Channel,
    UnitOfWorkFactory,
    validate_tenant,
)
from loancollect.reporting import ReportData, Table

__all__ = [
    "ChannelSpec",
    "ContactViolation",
    "CycleSummary",
    "StorageBackendSpec",
    "TemplateSpec",
    "TenantStorageFactory",
    "channel_contact_kinds",
    "channel_media",
    "channel_specs",
    "collect",
    "demo_parts",
    "make_channel",
    "normalise_name",
    "open_storage",
    "plugin_distribution",
    "report_tables",
    "rule_packs",
    "storage_specs",
    "template_specs",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def normalise_name(value: object, field: str = "name") -> str:
    """A registry name: stripped and lower-cased; letters, digits and ``_ . + -``.

    :raises ValidationError: if ``value`` is not a string of that form.
    """
    if not isinstance(value, str):
        raise ValidationError(field, value, "expected a string")
    name = value.strip().lower()
    if not _NAME.match(name):
        raise ValidationError(
            field, value, "expected letters, digits and '_ . + -', starting with a letter or digit"
        )
    return name


def _frozen_strings(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _schemes(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    return tuple(normalise_name(s, "storage.schemes") for s in value)


def _medium(value: Medium | str | None) -> Medium | None:
    if value is None or isinstance(value, Medium):
        return value
    try:
        return Medium(value)
    except ValueError:
        raise ValidationError(
            "channel.medium", value, f"expected one of {sorted(m.value for m in Medium)}"
        ) from None


@attrs.frozen(kw_only=True)
class ChannelSpec:
    """A channel a plug-in offers (returned by ``loancollect_register_channels``).

    :param name: registry name, used by strategies (``ActionRule.channel``).
    :param factory: builds the channel from its string settings (credentials,
        URLs, sender ids) as the host configured them.
    :param medium: how the channel reaches a person, which is what the rule packs
        judge (:class:`loancollect.domain.compliance.Channel`, or its value):
        ``CALL``, ``SMS``, ``EMAIL``, ``LETTER``, ``VISIT``, ``INSTANT_MESSAGE`` …, or
        ``NONE`` for a channel that contacts nobody (a CRM sync), which is never
        checked. Nothing is inferred from the name: a channel that declares no
        medium is never used to contact anyone (its actions are blocked) unless the
        host maps it in the configuration ``compliance.channels``.
    :param contact_kind: the kind of contact point the channel needs (``PHONE``
        for SMS, ``None`` for a CRM sync that needs none).
    :param capabilities: what the built channels can do (see :mod:`loancollect.ports`).
    :param description: one line for listings.
    """

    name: str
    factory: Callable[[Mapping[str, str]], Channel]
    medium: Medium | None = attrs.field(default=None, converter=_medium)
    contact_kind: ContactKind | None = None
    capabilities: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strings)
    description: str = ""

    @property
    def deduplicates(self) -> bool:
        """True if the channel de-duplicates by idempotency key: a key it has seen gets
        its first result again, across restarts (the capability ``CAP_IDEMPOTENT``)."""
        return CAP_IDEMPOTENT in self.capabilities


class TenantStorageFactory(Protocol):
    """The factory of a backend that stores several tenants (``tenants=True``)."""

    def __call__(self, url: str, /, *, tenant: str) -> UnitOfWorkFactory:
        """Open the storage at ``url`` for ``tenant`` (a valid tenant id)."""
        ...


@attrs.frozen(kw_only=True)
class StorageBackendSpec:
    """A storage backend a plug-in offers (returned by ``loancollect_register_storage``).

    :param name: registry name (``"memory"``, ``"sqlalchemy"``).
    :param schemes: URL schemes it opens (``("sqlite", "postgresql")``); a URL
        ``postgresql+psycopg://...`` is matched on ``postgresql+psycopg`` first,
        then on ``postgresql``.
    :param factory: opens the storage at a URL and returns a factory of units of
        work. With ``tenants=True`` it is called as ``factory(url, tenant=...)`` and
        must scope every query and write of those units of work to that tenant;
        otherwise as ``factory(url)``.
    :param tenants: the backend keeps tenants apart (see
        :class:`loancollect.testing.TenantIsolationContract`). A backend that does
        not (the default, for plug-ins written before tenants existed) can only be
        opened for :data:`~loancollect.ports.DEFAULT_TENANT`; asking it for another
        tenant is a :class:`ConfigurationError`, never a silent mix.
    :param description: one line for listings.
    """

    name: str
    schemes: tuple[str, ...] = attrs.field(converter=_schemes)
    factory: Callable[[str], UnitOfWorkFactory] | TenantStorageFactory
    tenants: bool = False
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.schemes:
            raise ValidationError("storage.schemes", (), "a backend needs at least one scheme")


@attrs.frozen(kw_only=True)
class TemplateSpec:
    """A message template (returned by ``loancollect_register_templates``).

    Templates are Jinja2 source run in the sandbox. A template is looked up by
    ``(name, channel, locale)``; ``stage`` and ``tone``, when set, make a more
    specific variant that wins for actions of that stage or tone.

    :param name: template name, as in ``ActionRule.template`` (``"overdue_notice"``).
    :param channel: the channel it is written for (``"sms"``, ``"email"``).
    :param locale: ``"zh_CN"``, ``"en_US"``.
    :param source: the plain-text body.
    :param subject: subject line template, for e-mail and letters.
    :param html: HTML body template (autoescaped), for e-mail.
    :param stage: only for actions in this stage (``None``: any stage).
    :param tone: only for actions of this tone (``None``: any tone).
    """

    name: str
    channel: str
    locale: str
    source: str
    subject: str | None = None
    html: str | None = None
    stage: str | None = None
    tone: Tone | None = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.locale, str) or not _LOCALE.match(self.locale):
            raise ValidationError("template.locale", self.locale, "expected a locale like 'zh_CN'")
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValidationError("template.source", self.name, "a template needs a text body")

    @property
    def key(self) -> tuple[str, str, str, str | None, Tone | None]:
        """``(name, channel, locale, stage, tone)``: unique among registered templates."""
        return (self.name, self.channel, self.locale, self.stage, self.tone)


def _opt_aware(_: Any, attribute: attrs.Attribute[Any], value: dt.datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValidationError(f"violation.{attribute.name}", value, "naive datetime")


@attrs.frozen(kw_only=True)
class ContactViolation:
    """Why a proposed contact is not allowed (returned by ``loancollect_check_contact``).

    :param rule_id: the id of the rule that objects (``"cn.night-hours"``).
    :param citation: the law or policy it rests on (``"FDCPA §805(a)(1)"``).
    :param detail: a short explanation without personal data.
    :param reschedule_at: the earliest instant the contact would be allowed, if
        waiting helps; ``None`` means the contact must be dropped.
    """

    rule_id: str
    citation: str = ""
    detail: str = ""
    reschedule_at: dt.datetime | None = attrs.field(default=None, validator=_opt_aware)


@attrs.frozen(kw_only=True)
class CycleSummary:
    """What one collection cycle did, as counts (given to ``loancollect_cycle_finished``).

    Every count but ``reviewed`` and ``errors`` is a count of the events the cycle
    stored, so the report (:mod:`loancollect.reporting`, its *activity* table) finds
    the same numbers in storage:

    :param reviewed: cases reviewed (no event: the report cannot count them).
    :param stage_changes: ``STAGE_CHANGED`` events (every stage entered).
    :param actions_planned: ``ACTION_PLANNED`` events: actions the review planned,
        those the rules then blocked at once included, and fallbacks planned when a
        send failed for good.
    :param sent: ``ACTION_SENT`` events.
    :param failed: ``ACTION_FAILED`` events with no retry (failed for good).
    :param blocked: ``ACTION_BLOCKED`` events, at review or at the instant of sending.
    :param rescheduled: ``ACTION_RESCHEDULED`` events, at review or at the instant of
        sending.
    :param errors: cases whose review raised (no event).
    """

    reviewed: int = 0
    stage_changes: int = 0
    actions_planned: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    rescheduled: int = 0
    errors: int = 0

    def __add__(self, other: CycleSummary) -> CycleSummary:
        """Field-wise sum, for merging batches."""
        if not isinstance(other, CycleSummary):
            return NotImplemented
        return CycleSummary(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in attrs.fields(CycleSummary)
            }
        )


# -- provenance -----------------------------------------------------------------


def plugin_distribution(pm: pluggy.PluginManager, plugin: object) -> tuple[str, str] | None:
    """``(distribution name, version)`` a registered plug-in came from, if known.

    Looks at what :func:`loancollect.plugins.make_plugin_manager` recorded, at
    pluggy's entry-point bookkeeping, and finally at the installed distribution
    owning the plug-in's top-level module.
    """
    recorded: Mapping[str, tuple[str, str]] = getattr(pm, "plugin_dists", {})
    name = pm.get_name(plugin)
    if name is not None and name in recorded:
        return recorded[name]
    for candidate, dist in pm.list_plugin_distinfo():
        if candidate is plugin:
            return (str(dist.project_name), str(dist.version))
    module = getattr(plugin, "__module__", None)
    if not isinstance(module, str) or module == "builtins":
        module = getattr(plugin, "__name__", None)
    if isinstance(module, str):
        top = module.split(".", 1)[0]
        dists = importlib.metadata.packages_distributions().get(top, [])
        if dists:
            try:
                return (dists[0], importlib.metadata.version(dists[0]))
            except importlib.metadata.PackageNotFoundError:  # pragma: no cover
                return (dists[0], "")
    return None


def _provider(pm: pluggy.PluginManager, plugin: object) -> str:
    name = pm.get_name(plugin) or repr(plugin)
    dist = plugin_distribution(pm, plugin)
    where = f"{dist[0]} {dist[1]}".strip() if dist else "not from a distribution"
    return f"{name!r} ({where})"


# -- collection -----------------------------------------------------------------

_RECORDS: dict[str, type] = {
    "loancollect_register_channels": ChannelSpec,
    "loancollect_register_storage": StorageBackendSpec,
    "loancollect_register_rules": RulePack,
    "loancollect_register_templates": TemplateSpec,
    "loancollect_register_demo_parts": DemoPart,
}

_WHAT = {
    "loancollect_register_channels": "channel",
    "loancollect_register_storage": "storage backend",
    "loancollect_register_rules": "rule pack",
    "loancollect_register_templates": "template",
    "loancollect_register_demo_parts": "demo part",
}


def _gather(pm: pluggy.PluginManager, hook_name: str) -> list[tuple[Any, object]]:
    """``(record, providing plug-in)`` for every record, in hook-call order."""
    if hook_name not in _RECORDS:
        raise ConfigurationError(
            f"{hook_name!r} is not a registration hook; expected one of {sorted(_RECORDS)}"
        )
    caller = getattr(pm.hook, hook_name)
    plugins = pm.get_plugins()
    gathered: list[tuple[Any, object]] = []
    # Call the hook once per implementing plug-in (through pluggy, so tracing and
    # the plug-in's own wrappers apply) to know who returned what.
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        subset = pm.subset_hook_caller(hook_name, [p for p in plugins if p is not impl.plugin])
        for result in subset():
            if result is None:
                continue
            if isinstance(result, str | bytes) or not isinstance(result, Iterable):
                raise ConfigurationError(
                    f"{hook_name} of plug-in {_provider(pm, impl.plugin)} returned "
                    f"{type(result).__name__}; expected an iterable of "
                    f"{_RECORDS[hook_name].__name__}"
                )
            for item in result:
                gathered.append((item, impl.plugin))
    return gathered


def _normalised(item: Any, hook_name: str) -> Any:
    if isinstance(item, ChannelSpec):
        return attrs.evolve(item, name=normalise_name(item.name, "channel.name"))
    if isinstance(item, StorageBackendSpec):
        return attrs.evolve(item, name=normalise_name(item.name, "storage.name"))
    if isinstance(item, TemplateSpec):
        return attrs.evolve(
            item,
            name=normalise_name(item.name, "template.name"),
            channel=normalise_name(item.channel, "template.channel"),
            stage=None if item.stage is None else normalise_name(item.stage, "template.stage"),
        )
    if isinstance(item, DemoPart):
        normalise_name(item.name, "demo_part.name")  # refuses an empty or odd name
        return item
    return item  # RulePack validates its own lower-case name


def _keys(item: Any) -> list[tuple[str, Hashable]]:
    if isinstance(item, StorageBackendSpec):
        keys: list[tuple[str, Hashable]] = [("name", item.name)]
        return keys + [("scheme", s) for s in item.schemes]
    if isinstance(item, TemplateSpec):
        name, channel, locale, stage, tone = item.key
        label = f"{channel}/{name}/{locale}"
        if stage is not None:
            label += f" stage={stage}"
        if tone is not None:
            label += f" tone={tone.value}"
        return [("key", label)]
    return [("name", item.name)]


def collect(pm: pluggy.PluginManager, hook_name: str) -> tuple[Any, ...]:
    """Call registration hook ``hook_name`` and return its records, checked.

    Each record must be of the hook's record type; names are normalised with
    :func:`normalise_name`. If two records share a name (or, for storage, a
    scheme; for templates, a full key), a :class:`ConfigurationError` lists every
    plug-in that provides it, with its distribution and version.

    :raises ConfigurationError: for a wrong record type, a bad name or a duplicate.
    """
    expected = _RECORDS.get(hook_name)
    gathered = _gather(pm, hook_name)
    records: list[Any] = []
    providers: dict[tuple[str, Hashable], list[object]] = {}
    for item, plugin in gathered:
        if expected is None or not isinstance(item, expected):
            raise ConfigurationError(
                f"{hook_name} of plug-in {_provider(pm, plugin)} returned "
                f"{type(item).__name__}; expected {getattr(expected, '__name__', '?')}"
            )
        try:
            record = _normalised(item, hook_name)
        except ValidationError as exc:
            raise ConfigurationError(
                f"{hook_name} of plug-in {_provider(pm, plugin)}: {exc}"
            ) from exc
        records.append(record)
        for key in _keys(record):
            providers.setdefault(key, []).append(plugin)
    conflicts = [(key, found) for key, found in providers.items() if len(found) > 1]
    if conflicts:
        lines = [
            f"{_WHAT[hook_name]} {kind} {value!r} is provided by {len(found)} registrations: "
            + ", ".join(_provider(pm, p) for p in found)
            for (kind, value), found in conflicts
        ]
        raise ConfigurationError(
            f"conflicting {hook_name} results:\n  "
            + "\n  ".join(lines)
            + "\nUninstall or block one of them, or load an allow-list of plug-ins "
            "(make_plugin_manager(load_entrypoints=[...]) or LOANCOLLECT_LOAD_PLUGINS)."
        )
    return tuple(records)


def channel_specs(pm: pluggy.PluginManager) -> dict[str, ChannelSpec]:
    """Every registered channel, by name."""
    return {s.name: s for s in collect(pm, "loancollect_register_channels")}


def storage_specs(pm: pluggy.PluginManager) -> dict[str, StorageBackendSpec]:
    """Every registered storage backend, by URL scheme."""
    return {scheme: s for s in collect(pm, "loancollect_register_storage") for scheme in s.schemes}


def rule_packs(pm: pluggy.PluginManager) -> dict[str, RulePack]:
    """Every registered rule pack, by name."""
    return {p.name: p for p in collect(pm, "loancollect_register_rules")}


def template_specs(pm: pluggy.PluginManager) -> tuple[TemplateSpec, ...]:
    """Every registered template."""
    return collect(pm, "loancollect_register_templates")


def demo_parts(pm: pluggy.PluginManager) -> tuple[DemoPart, ...]:
    """The registered demo parts, sorted by name (the order the demo calls them)."""
    parts: tuple[DemoPart, ...] = collect(pm, "loancollect_register_demo_parts")
    return tuple(sorted(parts, key=lambda part: part.name))


def report_tables(
    pm: pluggy.PluginManager, data: ReportData, storage: UnitOfWorkFactory, taken: Iterable[str]
) -> tuple[Table, ...]:
    """The tables plug-ins add to a report (``loancollect_report_tables``).

    :param taken: the names of the tables already in the report.
    :raises ConfigurationError: when a plug-in returns something other than tables,
        or a table whose name is taken.
    """
    names = set(taken)
    tables: list[Table] = []
    for impl in reversed(pm.hook.loancollect_report_tables.get_hookimpls()):
        result = cast(
            "Iterable[object] | None",
            impl.function(
                **{a: v for a, v in (("data", data), ("storage", storage)) if a in impl.argnames}
            ),
        )
        for table in result or ():
            if not isinstance(table, Table):
                raise ConfigurationError(
                    f"loancollect_report_tables of plug-in {_provider(pm, impl.plugin)} "
                    f"returned {type(table).__name__}; expected loancollect.reporting.Table"
                )
            if table.name in names:
                raise ConfigurationError(
                    f"report table {table.name!r} of plug-in {_provider(pm, impl.plugin)} "
                    "is already in the report; give it a name of its own"
                )
            names.add(table.name)
            tables.append(table)
    return tuple(tables)


def channel_contact_kinds(pm: pluggy.PluginManager) -> dict[str, ContactKind | None]:
    """``{channel name: contact kind}``, the ``channels`` argument of strategy planning."""
    return {name: spec.contact_kind for name, spec in channel_specs(pm).items()}


def channel_media(pm: pluggy.PluginManager) -> dict[str, Medium | None]:
    """``{channel name: the medium it declares}`` (``None``: it declares none)."""
    return {name: spec.medium for name, spec in channel_specs(pm).items()}


def open_storage(
    pm: pluggy.PluginManager, url: str, *, tenant: str = DEFAULT_TENANT
) -> UnitOfWorkFactory:
    """Open the storage at ``url`` for ``tenant`` with the backend registered for its scheme.

    The units of work of the returned factory read and write ``tenant``'s records
    only. Open the same URL once per tenant to work for several.

    :raises ValidationError: if ``tenant`` is not a valid tenant id
        (:func:`~loancollect.ports.validate_tenant`).
    :raises ConfigurationError: if no backend handles the scheme, or ``tenant`` is
        not the default and the backend does not keep tenants apart.
    """
    validate_tenant(tenant)
    scheme, sep, _ = url.partition(":")
    if not sep or not scheme:
        raise ConfigurationError(f"storage url {url!r}: expected '<scheme>:...'")
    scheme = scheme.lower()
    backends = storage_specs(pm)
    spec = backends.get(scheme) or backends.get(scheme.split("+", 1)[0])
    if spec is None:
        raise ConfigurationError(
            f"storage url scheme {scheme!r}: no storage backend registered for it "
            f"(known schemes: {sorted(backends)})"
        )
    if spec.tenants:
        return cast(TenantStorageFactory, spec.factory)(url, tenant=tenant)
    if tenant != DEFAULT_TENANT:
        raise ConfigurationError(
            f"storage backend {spec.name!r} does not keep tenants apart "
            f"(its StorageBackendSpec has tenants=False), so it opens only the "
            f"{DEFAULT_TENANT!r} tenant, not {tenant!r}"
        )
    return cast(Callable[[str], UnitOfWorkFactory], spec.factory)(url)


def make_channel(
    pm: pluggy.PluginManager, name: str, settings: Mapping[str, str] | None = None
) -> Channel:
    """Build the registered channel ``name`` with ``settings``.

    :raises ConfigurationError: if no channel has that name, or the factory does
        not return a :class:`~loancollect.ports.Channel`.
    """
    specs = channel_specs(pm)
    key = normalise_name(name, "channel.name")
    spec = specs.get(key)
    if spec is None:
        raise ConfigurationError(
            f"channel {name!r}: no such channel registered (known: {sorted(specs)})"
        )
    channel = spec.factory(dict(settings or {}))
    if not isinstance(channel, Channel):
        raise ConfigurationError(
            f"channel {key!r}: factory returned {type(channel).__name__}, not a Channel"
        )
    return channel
