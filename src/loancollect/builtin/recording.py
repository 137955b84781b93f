"""The recording channel: delivers nothing, remembers everything (channel ``recording``).

For tests, demos and embedding hosts that dispatch messages themselves: every
send is recorded with its action, rendered message, idempotency key and result.
It honours idempotency keys like a real provider should, and can be told to fail
so that retry, fallback and error handling can be tested.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping

import attrs

from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.strategy import PlannedAction
from loancollect.hookspecs import hookimpl
from loancollect.ports import (
    CAP_HTML,
    CAP_IDEMPOTENT,
    CAP_POLL,
    CAP_SUBJECT,
    Channel,
    DeliveryResult,
    RenderedMessage,
)
from loancollect.registry import ChannelSpec

__all__ = ["Delivery", "FailureMode", "RecordingChannel", "loancollect_register_channels"]


class FailureMode(enum.Enum):
    """How the recording channel fails when told to."""

    RETRYABLE = "retryable"  # returns FAILED_RETRYABLE
    PERMANENT = "permanent"  # returns FAILED_PERMANENT
    REJECTED = "rejected"  # returns REJECTED
    RAISE = "raise"  # raises ConnectionError (an unexpected transport error)


@attrs.frozen
class Delivery:
    """One call of :meth:`RecordingChannel.send` that reached the "provider"."""

    key: str
    action: PlannedAction
    message: RenderedMessage
    result: DeliveryResult | None  # None when the send raised


class RecordingChannel:
    """A :class:`~loancollect.ports.Channel` that records sends instead of delivering.

    Idempotency: a key whose earlier attempt was sent, failed permanently or
    was rejected returns that first result without a new delivery; a key whose
    earlier attempt failed retryably (or raised) is tried again.

    :param name: the channel name it reports (``"recording"``, or the name of
        the real channel it stands in for, e.g. ``"sms"``).
    """

    def __init__(
        self,
        name: str = "recording",
        capabilities: frozenset[str] = frozenset({CAP_IDEMPOTENT, CAP_POLL, CAP_HTML, CAP_SUBJECT}),
    ) -> None:
        self._name = name
        self._capabilities = frozenset(capabilities)
        self.deliveries: list[Delivery] = []
        self._results: dict[str, DeliveryResult] = {}
        self._failures: list[tuple[FailureMode, str]] = []
        self._always: tuple[FailureMode, str] | None = None
        self._ids = itertools.count(1)

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """Idempotent, pollable, HTML and subject capable."""
        return self._capabilities

    # -- failure injection --------------------------------------------------------

    def fail_next(
        self, mode: FailureMode | str = FailureMode.RETRYABLE, *, times: int = 1, detail: str = ""
    ) -> None:
        """Make the next ``times`` deliveries fail in ``mode``."""
        failure = FailureMode(mode)
        self._failures.extend([(failure, detail or f"told to fail ({failure.value})")] * times)

    def fail_always(self, mode: FailureMode | str | None = FailureMode.RETRYABLE) -> None:
        """Make every delivery fail in ``mode`` until called with ``None``."""
        if mode is None:
            self._always = None
        else:
            failure = FailureMode(mode)
            self._always = (failure, f"told to fail ({failure.value})")

    # -- the channel --------------------------------------------------------------

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Record the send and return its result (or the first result for a final key)."""
        previous = self._results.get(idempotency_key)
        if previous is not None and previous.status.is_final:
            return previous
        failure = self._failures.pop(0) if self._failures else self._always
        if failure is not None and failure[0] is FailureMode.RAISE:
            self.deliveries.append(Delivery(idempotency_key, action, message, None))
            raise ConnectionError(f"{self._name}: {failure[1]}")
        if failure is None:
            result = DeliveryResult.sent(provider_id=f"{self._name}-{next(self._ids)}")
        elif failure[0] is FailureMode.RETRYABLE:
            result = DeliveryResult.failed_retryable(failure[1])
        elif failure[0] is FailureMode.PERMANENT:
            result = DeliveryResult.failed_permanent(failure[1])
        else:
            result = DeliveryResult.rejected(failure[1])
        self._results[idempotency_key] = result
        self.deliveries.append(Delivery(idempotency_key, action, message, result))
        return result

    def poll(self, idempotency_key: str) -> DeliveryResult | None:
        """The last result for ``idempotency_key`` (``None`` if never sent)."""
        return self._results.get(idempotency_key)

    # -- inspection ---------------------------------------------------------------

    @property
    def sent(self) -> list[Delivery]:
        """Deliveries that succeeded, in order."""
        return [d for d in self.deliveries if d.result is not None and d.result.ok]

    @property
    def messages(self) -> list[RenderedMessage]:
        """Messages successfully sent, in order."""
        return [d.message for d in self.sent]

    def clear(self) -> None:
        """Forget every delivery, result and pending failure."""
        self.deliveries.clear()
        self._results.clear()
        self._failures.clear()
        self._always = None

    def __repr__(self) -> str:
        return f"RecordingChannel(name={self._name!r}, deliveries={len(self.deliveries)})"


def _make(settings: Mapping[str, str]) -> Channel:
    return RecordingChannel(name=settings.get("name", "recording"))


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The recording channel (needs no contact point).

    Under its own name it contacts nobody (medium ``NONE``). Standing in for a real
    channel, a :class:`RecordingChannel` is given to the engine under that channel's
    name (``channels={"sms": RecordingChannel("sms")}``), and the medium of that name
    applies: the recording channel for ``sms`` is checked as SMS.
    """
    return [
        ChannelSpec(
            name="recording",
            factory=_make,
            medium=Medium.NONE,
            contact_kind=None,
            capabilities=frozenset({CAP_IDEMPOTENT, CAP_POLL, CAP_HTML, CAP_SUBJECT}),
            description="records sends instead of delivering them (tests, embedding)",
        )
    ]
