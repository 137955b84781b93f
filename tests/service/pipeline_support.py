"""Plug-ins and factories the pipelined-review tests hand to decide processes.

A decide process is spawned: it imports what it runs by module name, so these
live in a module of their own (on the test path, which a spawned process inherits).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pluggy

from loancollect import hookimpl, make_plugin_manager


def fault_file(host_pid: int) -> Path:
    """The file that arms a fault in the decide processes of the process ``host_pid``:
    ``<loan id> <die|raise|hang>``; the decide process that fails removes it (so it fails
    once). A file rather than the environment: a pool kept from an earlier test
    started with that test's environment."""
    return Path(tempfile.gettempdir()) / f"loancollect-decide-fault-{host_pid}"


class _Interrupted(BaseException):
    """Not an ``Exception``: it goes past the per-case handling, as a crash would."""


@hookimpl
def loancollect_score(loan: Any) -> None:
    """Fails the decide process at the armed loan: it exits at once (``die``), raises
    past the case (``raise``) or never answers (``hang``). Never in the main process:
    the fault is a decide process's."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    armed = fault_file(parent.pid)
    try:
        victim, kind = armed.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return
    if loan.id != victim:
        return
    armed.unlink()
    if kind == "raise":
        raise _Interrupted("the decide process is interrupted")
    if kind == "hang":
        time.sleep(3_600)  # the host stops the process long before
    os._exit(7)


class Reserved:
    """A decision plug-in a host registers in code: the loans it names get a segment."""

    @hookimpl
    def loancollect_segment(self, loan: Any) -> str | None:
        return "reserved" if loan.id.endswith("0") else None


def packs_and_reserved() -> pluggy.PluginManager:
    """The host's factory for its decide processes: the packs and :class:`Reserved`."""
    return make_plugin_manager(
        load_entrypoints=["rules-cn", "rules-us", "rules-uk"], plugins=[Reserved()]
    )


def packs_only() -> pluggy.PluginManager:
    """A factory that forgets the host's :class:`Reserved` (so it must not be used)."""
    return make_plugin_manager(load_entrypoints=["rules-cn", "rules-us", "rules-uk"])
