"""What an adapter is, and how every adapter retries.

An adapter speaks one CRM's protocol: it upserts batches of records of one kind by
their external ids and reports, per record, whether the CRM created or updated it,
found several matches, or refused it. An adapter that can list what changed in the
CRM (for CRMs that cannot send webhooks) also implements :class:`PollingAdapter`.

:class:`Retry` is the one retry loop: a 429 waits for the ``Retry-After`` the CRM
asked for, a 5xx or a dropped connection waits an exponential back-off; the call is
repeated whole, which is safe because every write is an upsert by external id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar, runtime_checkable

import attrs

from loancollect_crm.records import CrmError, CrmRecord, InboundChange, RecordKind, UpsertResult

__all__ = ["CrmAdapter", "PollingAdapter", "Retry", "RetryableError"]

_LOG = logging.getLogger("loancollect_crm")
T = TypeVar("T")


class RetryableError(CrmError):
    """A request that may succeed later: 429, 5xx, a dropped connection."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@attrs.frozen(kw_only=True)
class Retry:
    """Retries a request: ``Retry-After`` honoured, otherwise exponential back-off.

    :param attempts: tries in all, the first included.
    :param base_delay: the first back-off, in seconds (doubled each time).
    :param max_delay: no wait is longer (a ``Retry-After`` above it is capped).
    :param sleep: how to wait (tests pass a recorder).
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, what: str, request: Callable[[], T]) -> T:
        """``request()``, retried on :class:`RetryableError`; the last error is raised."""
        for attempt in range(1, self.attempts + 1):
            try:
                return request()
            except RetryableError as exc:
                if attempt == self.attempts:
                    raise CrmError(f"{what}: gave up after {attempt} attempts: {exc}") from exc
                wait = exc.retry_after
                if wait is None:
                    wait = self.base_delay * 2 ** (attempt - 1)
                wait = min(max(wait, 0.0), self.max_delay)
                _LOG.warning("%s: %s; retrying in %.2f s", what, exc, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds; a date is not trusted)."""
    if value is None:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        return None


@runtime_checkable
class CrmAdapter(Protocol):
    """One CRM's protocol, seen by the sync."""

    @property
    def name(self) -> str:
        """The CRM's name in the sync state (e.g. ``"odoo"``, ``"salesforce"``)."""
        ...

    @property
    def batch_size(self) -> int:
        """The most records of one kind one :meth:`upsert` should be given."""
        ...

    @property
    def requests(self) -> int:
        """Requests sent so far (retries included), for the figures."""
        ...

    def upsert(
        self, kind: RecordKind, records: Sequence[CrmRecord], parents: Mapping[str, str]
    ) -> list[UpsertResult]:
        """Create or update ``records`` by external id; one result per record, in order.

        :param parents: CRM ids of the parent records, by external id (a case's
            contact, an activity's case), for CRMs that link by their own ids.
        :raises CrmError: if the CRM could not be reached after the retries.
        """
        ...


@runtime_checkable
class PollingAdapter(Protocol):
    """A CRM whose changes are read by polling (no webhooks)."""

    def poll(self, cursor: str | None) -> tuple[list[InboundChange], str]:
        """The changes made in the CRM after ``cursor``, and the cursor after them."""
        ...
