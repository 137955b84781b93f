"""The plug-in manager: built-ins, entry points, validation and tracing.

There is no global manager. A host builds one with :func:`make_plugin_manager`
and passes it to whatever needs hooks; tests build a fresh one per test. Nothing
is loaded at import time.

Loading order: the hook specs, the built-in plug-ins (:data:`DEFAULT_PLUGINS`,
registered exactly like third-party ones), installed plug-ins from the entry-point
group ``loancollect`` (only when asked), then the host's own plug-in objects.
Finally ``check_pending()`` makes an implementation of an unknown hook (a typo) a
:class:`pluggy.PluginValidationError` at start-up rather than a silent no-op.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import pluggy

from loancollect import hookspecs
from loancollect.domain.errors import ConfigurationError
from loancollect.registry import plugin_distribution

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "ENV_LOAD_PLUGINS",
    "HOOK_PREFIX",
    "LoanCollectPluginManager",
    "PluginInfo",
    "make_plugin_manager",
    "plugin_info",
]

ENTRY_POINT_GROUP = hookspecs.PROJECT
"""Entry-point group of installed plug-ins: ``[project.entry-points.loancollect]``."""

ENV_LOAD_PLUGINS = "LOANCOLLECT_LOAD_PLUGINS"
"""Environment variable: comma-separated entry-point names to load (an allow-list)."""

HOOK_PREFIX = "loancollect_"
"""Every hook name starts with this; other attributes of a plug-in are ignored."""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "loancollect.builtin.memory",
    "loancollect.builtin.recording",
    "loancollect.builtin.files",
    "loancollect.builtin.templates",
    "loancollect.builtin.compliance",
)
"""The in-tree plug-ins, registered under their module names like any other plug-in."""

_TRACE = logging.getLogger("loancollect.hooks")


def _core_version() -> str:
    try:
        return importlib.metadata.version("loancollect")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        return "0+unknown"


class LoanCollectPluginManager(pluggy.PluginManager):
    """A :class:`pluggy.PluginManager` for the ``loancollect`` project.

    Only attributes named ``loancollect_*`` are considered hook implementations
    (as pytest does with ``pytest_``). Such an attribute that is a function but
    is not marked with ``@hookimpl`` is refused with a
    :class:`pluggy.PluginValidationError`, so a forgotten decorator does not
    silently disable a hook.

    :ivar plugin_dists: ``{plug-in name: (distribution, version)}`` for plug-ins
        loaded from entry points and for the built-ins.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.plugin_dists: dict[str, tuple[str, str]] = {}

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        """Hook options of attribute ``name`` of ``plugin``, or ``None`` if it is no hook."""
        if not name.startswith(HOOK_PREFIX):
            return None
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None:
            method = getattr(plugin, name, None)
            if inspect.isroutine(method):
                raise pluggy.PluginValidationError(
                    plugin,
                    f"{name} in plug-in {plugin!r} looks like a hook implementation but is "
                    "not marked with @hookimpl (from loancollect import hookimpl)",
                )
        return opts


def _allow_list(
    load_entrypoints: bool | Iterable[str], environ: Mapping[str, str]
) -> set[str] | None:
    """The entry-point names to load (``None``: all); an empty set loads none."""
    if load_entrypoints is False:
        return set()
    if load_entrypoints is True:
        raw = environ.get(ENV_LOAD_PLUGINS)
        if raw is None:
            return None
        return {n.strip() for n in raw.split(",") if n.strip()}
    if isinstance(load_entrypoints, str):
        return {load_entrypoints}
    return set(load_entrypoints)


def _load_entrypoints(pm: LoanCollectPluginManager, allow: set[str] | None) -> None:
    found: set[str] = set()
    seen_dists: set[str] = set()
    for dist in importlib.metadata.distributions():
        dist_name = dist.metadata["Name"] or "?"
        if dist_name.lower() in seen_dists:
            continue  # the same distribution twice on the path: the first one wins
        seen_dists.add(dist_name.lower())
        for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            if allow is not None and ep.name not in allow:
                continue
            found.add(ep.name)
            if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ConfigurationError(
                    f"plug-in {ep.name!r} ({dist_name} {dist.version}) failed to load "
                    f"from {ep.value!r}: {type(exc).__name__}: {exc}"
                ) from exc
            pm.register(plugin, name=ep.name)
            pm.plugin_dists[ep.name] = (dist_name, dist.version)
    if allow:
        missing = sorted(allow - found)
        if missing:
            raise ConfigurationError(
                f"plug-ins {missing} are not installed (no entry point of group "
                f"{ENTRY_POINT_GROUP!r} with that name)"
            )


def _install_trace(pm: pluggy.PluginManager) -> None:
    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        if _TRACE.isEnabledFor(logging.DEBUG):
            args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            names = [impl.plugin_name for impl in impls]
            _TRACE.debug("call %s(%s) -> %s", hook_name, args, names)

    def after(
        outcome: pluggy.Result[Any],
        hook_name: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        if outcome.exception is not None:
            _TRACE.debug(
                "raise %s: %s: %s",
                hook_name,
                type(outcome.exception).__name__,
                outcome.exception,
            )
        elif _TRACE.isEnabledFor(logging.DEBUG):
            _TRACE.debug("return %s: %r", hook_name, outcome.get_result())

    pm.add_hookcall_monitoring(before, after)


def make_plugin_manager(
    *,
    load_entrypoints: bool | Iterable[str] = False,
    plugins: Iterable[object] = (),
    trace: bool = False,
    block: Iterable[str] = (),
    config: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoanCollectPluginManager:
    """Build a fresh, validated plug-in manager.

    :param load_entrypoints: ``False`` (default) loads no installed plug-in;
        ``True`` loads every entry point of group ``loancollect``, or only those
        named in the environment variable ``LOANCOLLECT_LOAD_PLUGINS`` when it is
        set; an iterable of names loads exactly those (a missing one is an error).
    :param plugins: extra plug-in objects (modules, classes, instances) to register.
    :param trace: log every hook call and result at DEBUG level to the logger
        ``"loancollect.hooks"``.
    :param block: plug-in names never to register, built-ins included
        (``"loancollect.builtin.templates"`` to bring your own templates).
    :param config: if given, ``loancollect_configure(config=...)`` is called
        (historic, so later registrations are configured too) with a read-only copy.
    :param environ: environment to read ``LOANCOLLECT_LOAD_PLUGINS`` from
        (default: the process environment).
    :raises pluggy.PluginValidationError: for an implementation of an unknown hook
        (a typo), an argument the spec does not have, or an unmarked
        ``loancollect_*`` function.
    :raises ConfigurationError: for an entry point that fails to import or an
        allow-listed plug-in that is not installed.
    """
    pm = LoanCollectPluginManager()
    pm.add_hookspecs(hookspecs)
    for name in block:
        pm.set_blocked(name)
    if trace:
        _install_trace(pm)
    version = _core_version()
    for module_name in DEFAULT_PLUGINS:
        if pm.is_blocked(module_name):
            continue
        pm.register(importlib.import_module(module_name), name=module_name)
        pm.plugin_dists[module_name] = ("loancollect", version)
    allow = _allow_list(load_entrypoints, os.environ if environ is None else environ)
    if allow is None or allow:
        _load_entrypoints(pm, allow)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    if config is not None:
        pm.hook.loancollect_configure.call_historic(
            kwargs={"config": MappingProxyType(dict(config))}
        )
    return pm


@attrs.frozen
class PluginInfo:
    """One registered plug-in, for listings (``loancollect plugins``).

    :param name: the name it is registered under.
    :param distribution: the distribution it came from (``None``: registered in code).
    :param version: that distribution's version.
    :param hooks: the hooks it implements, sorted.
    """

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


def plugin_info(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plug-in with its distribution, version and hooks, sorted by name."""
    out = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        dist = plugin_distribution(pm, plugin)
        callers = pm.get_hookcallers(plugin) or []
        out.append(
            PluginInfo(
                name=name,
                distribution=dist[0] if dist else None,
                version=dist[1] if dist else None,
                hooks=tuple(sorted(c.name for c in callers)),
            )
        )
    return sorted(out, key=lambda info: info.name)
