"""The pipelined review's decide processes: one process reads and writes, N decide.

The review's main process reads each batch (cases, loans, payments, history) and
writes each batch's outcome (one unit of work, in batch order); spawned decide
processes run :meth:`~loancollect.engine.deciding.Decider.decide_all` on the
batches in between. Nothing but picklable records crosses: a :class:`DecideSetup`
when a process starts, then one :class:`DecideTask` and its answer per batch.

Every decide process rebuilds the plug-in manager from a recipe, installs the
compliance guard on it with the engine's templates, and answers first with the
:func:`fingerprint` of its decision hooks; the pool is used only if that equals
the fingerprint of the host's manager (never decide with other hooks than the
host's). The recipe is taken from the host's manager (:func:`recipe_of`: built-in
and entry-point plug-ins, importable plug-in modules, the configuration) or given
by the host as a picklable factory.

Each process has its own pipe and at most one batch at a time, so results are
taken in batch order and a process that dies is seen by its pipe closing: its
batch fails alone, the process is replaced, and the other batches go on.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import importlib
import logging
import multiprocessing
import multiprocessing.connection
import pickle
import sys
import threading
import traceback
import types
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pluggy

from loancollect.domain.decision import Decision
from loancollect.domain.errors import ConfigurationError
from loancollect.domain.loans import ContactKind
from loancollect.engine.config import CycleConfig
from loancollect.engine.deciding import (
    CaseFailure,
    CaseInput,
    CaseOutcome,
    Decider,
    JudgedAction,
)
from loancollect.registry import TemplateSpec
from loancollect.templates import TemplateCatalog

__all__ = [
    "DECIDE_HOOKS",
    "DecidePool",
    "DecideSetup",
    "DecideTask",
    "PluginRecipe",
    "TemplateRecipe",
    "fingerprint",
    "pool_for",
    "recipe_of",
]

_LOG = logging.getLogger("loancollect.engine.pipeline")

DECIDE_HOOKS: tuple[str, ...] = (
    "loancollect_register_channels",
    "loancollect_register_rules",
    "loancollect_register_templates",
    "loancollect_configure",
    "loancollect_score",
    "loancollect_segment",
    "loancollect_override_stage",
    "loancollect_plan_actions",
    "loancollect_offer_arrangements",
    "loancollect_check_contact",
)
"""The hooks a decide process asks, or that shape what it asks (the rule packs, the
channels' media, the templates and the configuration the compliance guard is built
from). A plug-in that implements none of them is not needed to decide."""


@attrs.frozen(kw_only=True)
class PluginRecipe:
    """How to build, in a fresh process, a plug-in manager with the host's plug-ins.

    :param entry_points: the entry-point plug-ins to load, by name.
    :param modules: plug-in modules to register, by importable module name.
    :param block: plug-in names not to register (built-ins the host left out).
    :param config: the configuration given to ``loancollect_configure``, if any.
    """

    entry_points: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    block: tuple[str, ...] = ()
    config: Mapping[str, object] | None = None

    def __call__(self) -> pluggy.PluginManager:
        """A fresh manager with these plug-ins."""
        from loancollect.plugins import make_plugin_manager

        return make_plugin_manager(
            load_entrypoints=list(self.entry_points),
            plugins=[importlib.import_module(name) for name in self.modules],
            block=self.block,
            config=None if self.config is None else dict(self.config),
        )


def recipe_of(pm: pluggy.PluginManager) -> PluginRecipe | str:
    """The recipe that rebuilds ``pm``'s decision hooks elsewhere, or why there is none.

    A plug-in that implements a hook of :data:`DECIDE_HOOKS` must be a built-in, an
    entry point, or a module importable by its name; an object registered in code
    (a class instance) cannot be rebuilt in another process.
    """
    from loancollect.builtin.compliance import GUARD_NAME
    from loancollect.plugins import DEFAULT_PLUGINS

    dists: Mapping[str, tuple[str, str]] = getattr(pm, "plugin_dists", {})
    entry_points: list[str] = []
    modules: list[str] = []
    present: set[str] = set()
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name == GUARD_NAME:  # installed by the engine, in each process
            continue
        present.add(name)
        if name in DEFAULT_PLUGINS:
            continue
        if name in dists:
            entry_points.append(name)
            continue
        callers = pm.get_hookcallers(plugin) or []
        if not any(c.name in DECIDE_HOOKS for c in callers):
            continue  # asked only by the main process (events, reports, ...)
        if isinstance(plugin, types.ModuleType) and sys.modules.get(plugin.__name__) is plugin:
            modules.append(plugin.__name__)
            continue
        return f"plug-in {name!r} ({type(plugin).__name__}) was registered in code"
    history: Any = getattr(pm.hook.loancollect_configure, "_call_history", None)
    config: Mapping[str, object] | None = None
    if history:
        if len(history) > 1:
            return "loancollect_configure was called more than once"
        config = dict(history[0][0]["config"])
    block = tuple(name for name in DEFAULT_PLUGINS if name not in present)
    recipe = PluginRecipe(
        entry_points=tuple(entry_points), modules=tuple(modules), block=block, config=config
    )
    try:
        pickle.dumps(recipe)
    except Exception as exc:
        return f"the plug-in configuration cannot be sent to another process ({exc})"
    return recipe


def fingerprint(pm: pluggy.PluginManager) -> tuple[tuple[str, str], ...]:
    """Who implements each of :data:`DECIDE_HOOKS`, in call order: (hook, function).

    The function is named by module and qualified name (a method by its class), not
    by the plug-in's registered name: an object registered without a name is named
    after its ``id``, which differs from process to process.
    """
    out: list[tuple[str, str]] = []
    for hook in DECIDE_HOOKS:
        caller = getattr(pm.hook, hook, None)
        if caller is None:
            continue
        for impl in caller.get_hookimpls():
            fn = impl.function
            out.append(
                (hook, f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}")
            )
    return tuple(out)


@attrs.frozen(kw_only=True)
class TemplateRecipe:
    """A :class:`~loancollect.templates.TemplateCatalog` as what it is built from
    (compiled templates do not cross to another process)."""

    specs: tuple[TemplateSpec, ...]
    fallback_locale: str | None
    jurisdictions: frozenset[str]

    @classmethod
    def of(cls, catalog: TemplateCatalog) -> TemplateRecipe:
        """The recipe of ``catalog``."""
        return cls(
            specs=catalog.specs,
            fallback_locale=catalog.fallback_locale,
            jurisdictions=catalog.jurisdictions,
        )

    def __call__(self) -> TemplateCatalog:
        """The catalog, compiled again."""
        return TemplateCatalog(
            self.specs, fallback_locale=self.fallback_locale, jurisdictions=self.jurisdictions
        )


@attrs.frozen(kw_only=True)
class DecideSetup:
    """What a decide process is built from (sent once, when it starts).

    :param plugins: builds the plug-in manager (a :class:`PluginRecipe` or the host's
        picklable factory).
    :param templates: the engine's templates (the compliance guard reads their tags).
    :param contact_kinds: the contact kind of each channel, by name.
    :param expected: the host manager's :func:`fingerprint`.
    """

    plugins: Callable[[], pluggy.PluginManager]
    config: CycleConfig
    templates: TemplateRecipe
    contact_kinds: Mapping[str, ContactKind | None]
    expected: tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class DecideTask:
    """One batch to decide, at the batch's instant ``at`` (the main process's clock)."""

    seq: int
    as_of: dt.date
    at: dt.datetime
    items: tuple[CaseInput | CaseFailure, ...]


@attrs.frozen(kw_only=True)
class _Hello:
    fingerprint: tuple[tuple[str, str], ...]
    error: str = ""


@attrs.frozen(kw_only=True)
class _Decided:
    """A :class:`CaseOutcome` without its input (the main process has it: not sent back)."""

    decision: Decision
    judged: tuple[JudgedAction, ...]


@attrs.frozen(kw_only=True)
class _Answer:
    seq: int
    outcomes: tuple[_Decided | CaseFailure, ...] = ()
    error: str = ""
    ending: bool = False  # the process stops after this answer


def _build(setup: DecideSetup) -> tuple[Decider, tuple[tuple[str, str], ...]]:
    from loancollect.builtin.compliance import install as install_compliance
    from loancollect.engine.compliance import ContactRules
    from loancollect.engine.guard import Guard

    pm = setup.plugins()
    install_compliance(pm, setup.templates(), lint=False)
    guard = Guard(ContactRules(pm, history_days=setup.config.history_days))
    decider = Decider(pm=pm, config=setup.config, guard=guard, contact_kinds=setup.contact_kinds)
    return decider, fingerprint(pm)


def _serve(setup: DecideSetup, conn: multiprocessing.connection.Connection) -> None:
    """A decide process: build, say hello, then answer one task at a time until told to stop."""
    try:
        decider, hooks = _build(setup)
    except BaseException as exc:  # reported, so the host reviews in one process
        conn.send(_Hello(fingerprint=(), error=f"{type(exc).__name__}: {exc}"))
        return
    conn.send(_Hello(fingerprint=hooks))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            outcomes = decider.decide_all(task.items, as_of=task.as_of, at=task.at)
            answer = _Answer(
                seq=task.seq,
                outcomes=tuple(
                    o
                    if isinstance(o, CaseFailure)
                    else _Decided(decision=o.decision, judged=o.judged)
                    for o in outcomes
                ),
            )
            conn.send(answer)
        except BaseException as exc:  # the batch fails; the process goes on if it can
            ending = not isinstance(exc, Exception)
            detail = traceback.format_exc(limit=3)
            error = f"{type(exc).__name__}: {exc}\n{detail}"
            conn.send(_Answer(seq=task.seq, error=error, ending=ending))
            if ending:
                return


class _Worker:
    def __init__(self, ctx: Any, setup: DecideSetup) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_serve, args=(setup, child), daemon=True)
        self.process.start()
        child.close()
        self.greeted = False
        self.busy: int | None = None


class DecideProcessError(Exception):
    """A decide process failed a batch (it raised, or died while deciding it)."""


class DecidePool:
    """``processes`` spawned decide processes, each deciding one batch at a time.

    :raises ConfigurationError: if a process cannot be built, or its decision hooks
        differ from the host's (:func:`fingerprint`); nothing is then decided by it.
    """

    def __init__(self, setup: DecideSetup, processes: int) -> None:
        if processes < 1:
            raise ConfigurationError(f"review processes={processes} must be >= 1")
        self._setup = setup
        self._ctx = multiprocessing.get_context("spawn")
        self._workers = [_Worker(self._ctx, setup) for _ in range(processes)]
        try:
            for worker in self._workers:
                self._greet(worker)
        except BaseException:
            self.close()
            raise

    @property
    def size(self) -> int:
        """How many decide processes the pool keeps."""
        return len(self._workers)

    def _greet(self, worker: _Worker) -> None:
        try:
            hello = worker.conn.recv()
        except (EOFError, OSError) as exc:
            raise ConfigurationError(
                f"a decide process died while starting (exit code {worker.process.exitcode})"
            ) from exc
        worker.greeted = True
        if hello.error:
            raise ConfigurationError(f"a decide process could not start: {hello.error}")
        if hello.fingerprint != self._setup.expected:
            ours, theirs = set(self._setup.expected), set(hello.fingerprint)
            raise ConfigurationError(
                "a decide process would decide with other hooks than the host: "
                f"missing {sorted(ours - theirs)}, extra {sorted(theirs - ours)}"
            )

    def free(self) -> int | None:
        """The index of a process with no batch, or ``None``."""
        for index, worker in enumerate(self._workers):
            if worker.busy is None:
                return index
        return None

    def idle(self) -> bool:
        """True if no process has a batch (the pool can serve another review)."""
        return bool(self._workers) and all(w.busy is None for w in self._workers)

    def submit(self, index: int, task: DecideTask) -> None:
        """Give ``task`` to process ``index`` (which has no batch)."""
        worker = self._workers[index]
        assert worker.busy is None
        worker.busy = task.seq
        with contextlib.suppress(OSError, ValueError):  # died: seen when its answer is taken
            worker.conn.send(task)

    def answer(
        self, index: int, task: DecideTask, *, timeout: float | None = None
    ) -> list[CaseOutcome | CaseFailure]:
        """The outcomes of ``task``, given to process ``index``, waiting for them at
        most ``timeout`` seconds (``None``: as long as it lives).

        :raises DecideProcessError: if the process raised, died or did not answer in
            time; a dead or silent one is replaced.
        """
        worker = self._workers[index]
        seq, worker.busy = worker.busy, None
        try:
            if not worker.greeted:
                self._greet(worker)
            if timeout is not None and not worker.conn.poll(timeout):
                # A process that hangs (a plug-in waiting forever) would hold the
                # review up for good: it is stopped, and only its batch fails.
                self._replace(index)
                raise DecideProcessError(
                    f"the decide process did not answer within {timeout:g} s; it was stopped"
                )
            answer = worker.conn.recv()
        except (EOFError, OSError, ConfigurationError) as exc:
            worker.process.join(5)
            code = worker.process.exitcode
            self._replace(index)
            raise DecideProcessError(f"the decide process died (exit code {code}): {exc}") from exc
        if answer.seq != seq:  # cannot happen: one batch per process at a time
            self._replace(index)
            raise DecideProcessError(f"the decide process answered batch {answer.seq}, not {seq}")
        if answer.error:
            if answer.ending or not worker.process.is_alive():
                self._replace(index)
            raise DecideProcessError(f"the decide process failed: {answer.error}")
        out: list[CaseOutcome | CaseFailure] = []
        for item, got in zip(task.items, answer.outcomes, strict=True):
            if isinstance(got, _Decided) and isinstance(item, CaseInput):
                out.append(CaseOutcome(input=item, decision=got.decision, judged=got.judged))
            elif isinstance(got, CaseFailure):
                out.append(got)
            else:  # cannot happen: a decided case was sent as read
                raise DecideProcessError(f"batch {task.seq}: answers out of step")
        return out

    def _replace(self, index: int) -> None:
        old = self._workers[index]
        _stop(old)
        self._workers[index] = _Worker(self._ctx, self._setup)
        _LOG.warning("a decide process was replaced (exit code %s)", old.process.exitcode)

    def close(self) -> None:
        """Stop every process."""
        for worker in self._workers:
            _stop(worker)
        self._workers = []


def _stop(worker: _Worker) -> None:
    try:
        if worker.process.is_alive():
            worker.conn.send(None)
    except (OSError, ValueError):
        pass
    worker.conn.close()
    worker.process.join(2)
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(2)


# One idle pool is kept for the next review with the same setup (start-up costs a
# second or two per process); a review with another setup replaces it.
_CACHE_LOCK = threading.Lock()
_CACHED: dict[bytes, DecidePool] = {}


def pool_for(setup: DecideSetup, processes: int) -> tuple[DecidePool, Callable[[], None]]:
    """A pool for ``setup`` (the idle one kept from an earlier review if it fits) and the
    function that hands it back when the review is over.

    :raises ConfigurationError: as :class:`DecidePool` does, or if ``setup`` cannot be
        sent to another process.
    """
    try:
        key = pickle.dumps((setup, processes))
    except Exception as exc:
        raise ConfigurationError(f"the review cannot be sent to another process: {exc}") from exc
    with _CACHE_LOCK:
        pool = _CACHED.pop(key, None)
        stale = list(_CACHED.values())
        _CACHED.clear()
    for old in stale:
        old.close()
    if pool is None:
        pool = DecidePool(setup, processes)

    def release() -> None:
        if not pool.idle():
            pool.close()  # a review that stopped half-way: answers are pending
            return
        with _CACHE_LOCK:
            previous = _CACHED.pop(key, None)
            _CACHED[key] = pool
        if previous is not None and previous is not pool:
            previous.close()

    return pool, release


@atexit.register
def _close_cached() -> None:
    with _CACHE_LOCK:
        pools = list(_CACHED.values())
        _CACHED.clear()
    for pool in pools:
        pool.close()
