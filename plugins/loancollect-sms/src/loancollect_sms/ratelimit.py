"""Rate limits for the SMS channel: one message per number per interval, and a global
token bucket. Time functions are injected, so tests need no sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Per-number spacing and a global token bucket.

    :param per_number_seconds: at least this long between two messages to one number
        (0: no limit).
    :param global_per_second: the bucket's refill rate (0: no limit).
    :param burst: the bucket's size (at least 1).
    :param max_wait: how long :meth:`acquire` may wait for a global token before it
        gives up.
    """

    def __init__(
        self,
        *,
        per_number_seconds: float = 0.0,
        global_per_second: float = 0.0,
        burst: int = 1,
        max_wait: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_number_seconds = per_number_seconds
        self.global_per_second = global_per_second
        self.burst = max(1, burst)
        self.max_wait = max_wait
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._stamp = monotonic()
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, number: str) -> float | None:
        """Take a slot to send to ``number`` (a normalised number).

        Returns ``None`` when the message may go now, or the seconds to wait before
        trying again (the number was messaged too recently, or the global bucket
        stays empty for longer than ``max_wait``). Waits of up to ``max_wait`` for the
        global bucket happen here, through the injected ``sleep``.
        """
        with self._lock:
            now = self._monotonic()
            if self.per_number_seconds > 0:
                last = self._last.get(number)
                if last is not None and now - last < self.per_number_seconds:
                    return self.per_number_seconds - (now - last)
            wait = self._take_token(now)
            if wait is not None and wait > self.max_wait:
                return wait
        if wait:
            self._sleep(wait)
        with self._lock:
            if self.per_number_seconds > 0:
                self._last[number] = self._monotonic()
        return None

    def _take_token(self, now: float) -> float | None:
        if self.global_per_second <= 0:
            return None
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.global_per_second)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        wait = (1 - self._tokens) / self.global_per_second
        if wait <= self.max_wait:
            self._tokens -= 1  # reserved: the caller sleeps until it is refilled
        return wait

    def release(self, number: str) -> None:
        """Forget the last send to ``number`` (the gateway did not take the message)."""
        with self._lock:
            self._last.pop(number, None)
