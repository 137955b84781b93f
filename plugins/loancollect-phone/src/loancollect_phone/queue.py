"""The call queue collectors' desktops pull from.

Planned call actions become :class:`CallTask` records. :meth:`CallQueue.next`
offers a collector the most urgent task they may take *now*:

- by priority (higher first), then the earliest due, then the key;
- only when the rule packs allow the call at that instant (:mod:`loancollect_phone.gate`:
  inside the borrower's calling window, under every cap); a task that is not
  allowed waits until the earliest instant the rules name, a blocked one leaves;
- only to a collector with the task's skills (language, team, agency);
- not before the time the borrower asked to be called back;
- a call the jurisdiction says must be recorded only to a collector whose line
  records;
- to one collector at a time: a task is leased under a lock until the collector
  completes or releases it, or the lease runs out.

The queue lives in one process (a host with several desks behind one service);
its tasks come back from the outbox when it restarts.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import attrs

from loancollect.domain.strategy import PlannedAction
from loancollect.errors import ValidationError
from loancollect_phone.dispositions import Disposition
from loancollect_phone.gate import Gate, Permit

__all__ = ["CallQueue", "CallTask", "Collector", "Lease"]


def _aware(field: str, value: dt.datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValidationError(field, value.isoformat(), "naive datetime; give a time zone")


@attrs.frozen(kw_only=True)
class CallTask:
    """A call to make.

    :param key: the outbox entry's idempotency key (one task a key).
    :param priority: from the strategy and the score; higher is called first.
    :param skills: what the collector needs (``"lang:zh"``, ``"team:early"``, ``"agency:acme"``).
    :param not_before: not offered before this instant (a callback, a retry, the rules).
    :param must_record: the jurisdiction says the call must be recorded.
    :param attempts: calls made on the task so far.
    """

    key: str
    action: PlannedAction
    jurisdiction: str
    priority: int = 0
    skills: frozenset[str] = frozenset()
    not_before: dt.datetime | None = None
    must_record: bool = False
    attempts: int = 0

    def __attrs_post_init__(self) -> None:
        _aware("task.not_before", self.not_before)

    @property
    def loan_id(self) -> str:
        """The loan the call is about."""
        return self.action.loan_id


@attrs.frozen(kw_only=True)
class Collector:
    """A collector at a desk: their skills and whether their line records calls."""

    id: str
    skills: frozenset[str] = frozenset()
    records: bool = True
    team: str = ""
    agency: str = ""


@attrs.frozen(kw_only=True)
class Lease:
    """A task offered to one collector until ``until``, with the rules' permit."""

    task: CallTask
    collector: Collector
    at: dt.datetime
    until: dt.datetime
    permit: Permit


_RETRY = {
    Disposition.NO_ANSWER: dt.timedelta(hours=2),
    Disposition.BUSY: dt.timedelta(minutes=30),
}
"""Dispositions after which the task is tried again, and how much later."""


class CallQueue:
    """Call tasks offered to collectors under the rules, one collector a task.

    :param gate: asks the rules at the instant of each offer.
    :param lease: how long an offered task stays with its collector.
    :param max_attempts: calls on one task before it leaves the queue.
    """

    def __init__(
        self,
        gate: Gate,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=15),
        max_attempts: int = 6,
    ) -> None:
        self._gate = gate
        self._lease = lease
        self._max_attempts = max_attempts
        self._tasks: dict[str, CallTask] = {}
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self.dropped: dict[str, str] = {}
        """Tasks that left the queue without a call, with the reason (blocked by the rules)."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    def add(self, task: CallTask) -> bool:
        """Queue ``task``; a key already queued is left as it is (``False``)."""
        with self._lock:
            if task.key in self._tasks:
                return False
            self._tasks[task.key] = task
            return True

    def get(self, key: str) -> CallTask | None:
        """The queued task of ``key``."""
        with self._lock:
            return self._tasks.get(key)

    def callback(self, key: str, at: dt.datetime) -> None:
        """The borrower asked to be called at ``at``: the task waits until then."""
        _aware("callback.at", at)
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                raise ValidationError("task.key", key, "no such call task")
            self._tasks[key] = attrs.evolve(task, not_before=at)

    def next(self, collector: Collector, at: dt.datetime) -> Lease | None:
        """Lease the most urgent task ``collector`` may call at ``at`` (``None``: none).

        The rules are asked at ``at`` for each candidate in order; the first allowed
        is leased. Two collectors asking at once never get the same task.
        """
        _aware("at", at)
        with self._lock:
            for key, lease in list(self._leases.items()):
                if lease.until <= at:
                    del self._leases[key]
            candidates = sorted(
                (
                    t
                    for t in self._tasks.values()
                    if t.key not in self._leases
                    and (t.not_before is None or t.not_before <= at)
                    and t.skills <= collector.skills
                    and (collector.records or not t.must_record)
                ),
                key=_order,
            )
            for task in candidates:
                permit = self._gate.permit(task.action, at)
                if not permit.allowed:
                    if permit.earliest is None:
                        self.dropped[task.key] = "; ".join(permit.reasons) or "blocked"
                        del self._tasks[task.key]
                    else:
                        self._tasks[task.key] = attrs.evolve(task, not_before=permit.earliest)
                    continue
                lease = Lease(
                    task=task, collector=collector, at=at, until=at + self._lease, permit=permit
                )
                self._leases[task.key] = lease
                return lease
        return None

    def release(self, lease: Lease) -> None:
        """Give the task back unworked (the collector did not call)."""
        with self._lock:
            if self._leases.get(lease.task.key) == lease:
                del self._leases[lease.task.key]

    def complete(
        self, lease: Lease, disposition: Disposition, *, callback_at: dt.datetime | None = None
    ) -> None:
        """The leased call was made with ``disposition``.

        No answer and busy come back later (unless the task's attempts are used up); a
        callback comes back at the time asked; anything else ends the task.

        :raises ValidationError: when the lease is not the task's current lease.
        """
        key = lease.task.key
        with self._lock:
            if self._leases.get(key) != lease:
                raise ValidationError("lease", key, "not leased to this collector (expired?)")
            del self._leases[key]
            task = self._tasks.get(key)
            if task is None:
                return
            task = attrs.evolve(task, attempts=task.attempts + 1)
            if disposition is Disposition.CALLBACK and callback_at is not None:
                self._tasks[key] = attrs.evolve(task, not_before=callback_at)
            elif disposition in _RETRY and task.attempts < self._max_attempts:
                self._tasks[key] = attrs.evolve(task, not_before=lease.at + _RETRY[disposition])
            else:
                del self._tasks[key]

    def drain(self, keep: Callable[[CallTask], bool]) -> int:
        """Drop every task ``keep`` refuses (e.g. cases closed since); how many left."""
        with self._lock:
            gone = [k for k, t in self._tasks.items() if not keep(t)]
            for k in gone:
                del self._tasks[k]
                self._leases.pop(k, None)
        return len(gone)


def _order(task: CallTask) -> tuple[int, dt.datetime, str]:
    due = task.not_before or dt.datetime.min.replace(tzinfo=dt.UTC)
    return (-task.priority, due, task.key)
