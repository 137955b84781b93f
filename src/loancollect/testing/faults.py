"""Fault injectors and witnesses for crash-safety tests of hosts and plug-ins.

They are referenced by name from a :class:`~loancollect.engine.workers.WorkerSpec`
(``clock="loancollect.testing.faults:clock_killing_one_worker"``), because a spawned
worker builds its clock itself; the environment says where and when:

- ``LOANCOLLECT_FAULT_DIR``: a directory for the marker that picks the victim;
- ``LOANCOLLECT_NOW``: the instant the clock of the survivors shows (ISO 8601, aware).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
from pathlib import Path

from loancollect.domain.errors import ConfigurationError
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import CAP_IDEMPOTENT, DeliveryResult, RenderedMessage
from loancollect.testing.clock import FixedClock

__all__ = ["DEDUPLICATING", "clock_killing_one_worker", "log_channels"]


def clock_killing_one_worker() -> FixedClock:
    """A clock factory: the first worker to ask for a clock dies at once (``SIGKILL``).

    The first caller creates ``victim`` in ``LOANCOLLECT_FAULT_DIR`` atomically and
    kills its own process, with no chance to clean up or report; every later caller
    gets a :class:`FixedClock` at ``LOANCOLLECT_NOW``.
    """
    folder = os.environ.get("LOANCOLLECT_FAULT_DIR")
    now = os.environ.get("LOANCOLLECT_NOW")
    if not folder or not now:
        raise ConfigurationError("set LOANCOLLECT_FAULT_DIR and LOANCOLLECT_NOW for the fault")
    try:
        fd = os.open(Path(folder) / "victim", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return FixedClock(dt.datetime.fromisoformat(now))
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: the process was killed")  # pragma: no cover


class _LogChannel:
    """A provider that appends each delivery to ``<folder>/<name>.log`` and syncs it
    to disk before answering, so the log survives the process being killed."""

    def __init__(self, name: str, folder: Path, *, deduplicates: bool) -> None:
        self._name = name
        self.path = folder / f"{name}.log"
        self._deduplicates = deduplicates
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        if deduplicates and self.path.exists():
            self._keys = set(self.path.read_text(encoding="utf-8").split())

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """``CAP_IDEMPOTENT`` for the de-duplicating kind, nothing for the plain one."""
        return frozenset({CAP_IDEMPOTENT}) if self._deduplicates else frozenset()

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Deliver (append and sync the key), once per key for the de-duplicating kind."""
        with self._lock:
            if self._deduplicates and idempotency_key in self._keys:
                return DeliveryResult.sent(provider_id=idempotency_key)
            with self.path.open("a", encoding="utf-8") as log:
                log.write(idempotency_key + "\n")
                log.flush()
                os.fsync(log.fileno())
            self._keys.add(idempotency_key)
        return DeliveryResult.sent(provider_id=idempotency_key)


DEDUPLICATING = ("sms", "phone")
"""The channels :func:`log_channels` makes de-duplicating; the others are plain."""


def log_channels() -> dict[str, _LogChannel]:
    """Channels for crash tests, logging every delivery in ``LOANCOLLECT_FAULT_DIR``.

    ``sms`` and ``phone`` de-duplicate by key across restarts (the provider keeps the
    keys it has seen); ``email``, ``letter`` and ``visit`` deliver every call, like an
    SMTP server. A crash test counts the lines of each log.
    """
    folder = os.environ.get("LOANCOLLECT_FAULT_DIR")
    if not folder:
        raise ConfigurationError("set LOANCOLLECT_FAULT_DIR for the log channels")
    names = ("sms", "email", "letter", "phone", "visit")
    return {n: _LogChannel(n, Path(folder), deduplicates=n in DEDUPLICATING) for n in names}
