"""Fault injectors for crash-safety tests of hosts and plug-ins.

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
from pathlib import Path

from loancollect.domain.errors import ConfigurationError
from loancollect.testing.clock import FixedClock

__all__ = ["clock_killing_one_worker"]


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
