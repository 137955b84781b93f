"""Local stand-in CRMs on 127.0.0.1: the documented subsets, with faults to inject.

Used by the tests, the benchmark and the demo; never by a production sync.
"""

from __future__ import annotations

import collections
import enum
import threading

__all__ = ["Fault", "Faults"]


class Fault(enum.Enum):
    """A fault the next request meets."""

    RATE_LIMITED = "429"  # 429 with Retry-After
    UNAVAILABLE = "503"  # a 5xx, nothing done
    DROP_BEFORE = "drop_before"  # the connection closes before the request is done
    DROP_AFTER = "drop_after"  # the request is done, then the connection closes unanswered


class Faults:
    """A thread-safe queue of faults, each met by one request."""

    def __init__(self) -> None:
        self._queue: collections.deque[Fault] = collections.deque()
        self._lock = threading.Lock()
        self.met: list[Fault] = []

    def add(self, *faults: Fault) -> None:
        """Queue faults for the next requests, in order."""
        with self._lock:
            self._queue.extend(faults)

    def next(self) -> Fault | None:
        """The fault the current request meets, if any."""
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue.popleft()
            self.met.append(fault)
            return fault
