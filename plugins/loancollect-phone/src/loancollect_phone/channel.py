"""The ``phone`` channel: a planned call goes to a dialer or to the collectors' queue.

- **dialer** (progressive): :meth:`PhoneChannel.send` places the call through a
  :class:`~loancollect_phone.dialer.Dialer` (Twilio-compatible or ARI); a person who
  answers is put through to a collector, a machine gets the limited-content message.
- **queue** (preview): :meth:`PhoneChannel.send` puts a call task in the
  :class:`~loancollect_phone.queue.CallQueue`; collectors pull it when the rules allow.

Either way one outbox key is one call: a key already sent returns its first result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from loancollect.domain.loans import ContactKind
from loancollect.domain.strategy import PlannedAction
from loancollect.errors import ConfigurationError
from loancollect.ports import DeliveryResult, DeliveryStatus, FinalResults, RenderedMessage
from loancollect_phone.ari import AriDialer
from loancollect_phone.dialer import Dialer, DialRequest
from loancollect_phone.queue import CallQueue, CallTask
from loancollect_phone.twilio import TwilioDialer

__all__ = ["CAPABILITIES", "SETTINGS", "PhoneChannel", "from_settings"]

CAPABILITIES: frozenset[str] = frozenset()
"""What the phone channel declares: a dialer's memory of keys ends with the process,
so it does not claim idempotency across restarts (the engine records each send)."""

_DEFAULT_MACHINE = "Hello, please call us back at {number}. Thank you."

SETTINGS: dict[str, str] = {
    "dialer": "required: 'twilio' or 'ari'",
    "machine_message": "the limited-content message left on machines ({number} is replaced)",
    "callback_number": "the number the message asks to call back",
    "notice": "the recording notice said first to a person",
    "record": "'true' to record calls; default 'false'",
    "timeout": "seconds for each request; default 10",
    "twilio.base_url": "the API root; default https://api.twilio.com",
    "twilio.account_sid": "the account SID",
    "twilio.auth_token": "the auth token (never logged)",
    "twilio.from": "the caller id",
    "twilio.callback_url": "the public URL of the status callback receiver",
    "twilio.voice_url": "the public URL serving the call's TwiML",
    "twilio.machine_detection": "'Enable' or 'DetectMessageEnd' (default)",
    "ari.base_url": "the ARI root, e.g. http://pbx:8088/ari",
    "ari.username": "the ARI user",
    "ari.password": "the ARI password (never logged)",
    "ari.endpoint": "the endpoint template, e.g. PJSIP/{number}@trunk",
    "ari.app": "the Stasis application",
    "ari.caller_id": "the caller id",
    "ari.machine_media": "the media URI of the limited-content message; "
    "default sound:limited-content",
}
"""Every settings key :func:`from_settings` accepts."""


def _number(value: str) -> str:
    return "".join(c for c in value if c.isdigit() or c == "+")


class PhoneChannel:
    """The :class:`~loancollect.ports.Channel` of collection calls.

    Give either ``dialer`` (calls are placed at once) or ``queue`` with ``task_for``
    (calls wait for a collector; ``task_for`` builds the task, e.g.
    :meth:`~loancollect_phone.desk.PhoneDesk.task_for`).
    """

    def __init__(
        self,
        *,
        name: str = "phone",
        dialer: Dialer | None = None,
        queue: CallQueue | None = None,
        task_for: Callable[[PlannedAction, str], CallTask] | None = None,
        machine_message: Callable[[PlannedAction], str] | None = None,
        notice: str = "",
        record: bool = False,
    ) -> None:
        if (dialer is None) == (queue is None):
            raise ConfigurationError("phone channel: give a dialer or a queue (one of them)")
        if queue is not None and task_for is None:
            raise ConfigurationError("phone channel: a queue needs task_for")
        self._name = name
        self.dialer = dialer
        self.queue = queue
        self.task_for = task_for
        self.machine_message = machine_message or (lambda _a: _DEFAULT_MACHINE)
        self.notice = notice
        self.record = record
        self._results = FinalResults()

    @property
    def name(self) -> str:
        """The channel name (``"phone"``)."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """See :data:`CAPABILITIES`."""
        return CAPABILITIES

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Place or queue the call of ``action`` (once per key)."""
        previous = self._results.get(idempotency_key)
        if previous is not None:
            return previous
        return self._results.remember(idempotency_key, self._send(action, idempotency_key))

    def _send(self, action: PlannedAction, key: str) -> DeliveryResult:
        contact = action.contact
        if contact is None or contact.kind is not ContactKind.PHONE:
            return DeliveryResult.failed_permanent("the action has no phone number")
        if self.queue is not None:
            assert self.task_for is not None
            try:
                task = self.task_for(action, key)
            except ConfigurationError as exc:  # no rules for the borrower: never queued
                return DeliveryResult.rejected(f"not queued: {exc}")
            added = self.queue.add(task)
            return DeliveryResult(
                status=DeliveryStatus.SENT,
                provider_id=key,
                evidence=(("mode", "queue"), ("queued", "new" if added else "already")),
            )
        assert self.dialer is not None
        return self.dialer.dial(
            DialRequest(
                key=key,
                loan_id=action.loan_id,
                to=_number(contact.value),
                machine_message=self.machine_message(action),
                notice=self.notice,
                record=self.record,
            )
        )

    def close(self) -> None:
        """Close the dialer's connections."""
        if self.dialer is not None:
            self.dialer.close()

    def __repr__(self) -> str:
        mode = self.dialer.name if self.dialer is not None else "queue"
        return f"PhoneChannel(name={self._name!r}, mode={mode!r})"


def from_settings(
    settings: Mapping[str, str], *, client: httpx.Client | None = None
) -> PhoneChannel:
    """Build a dialer-backed channel from its string settings (keys: :data:`SETTINGS`).

    :raises ConfigurationError: naming the key, for an unknown key, an unknown dialer
        or a missing required setting.
    """
    unknown = sorted(k for k in settings if k not in SETTINGS)
    if unknown:
        raise ConfigurationError(f"phone setting {unknown[0]!r} is not known")
    kind = settings.get("dialer", "")
    timeout = float(settings.get("timeout", "10"))

    def need(key: str) -> str:
        value = settings.get(key, "")
        if not value:
            raise ConfigurationError(f"phone setting {key!r} is required with dialer {kind!r}")
        return value

    dialer: Dialer
    if kind == "twilio":
        dialer = TwilioDialer(
            base_url=settings.get("twilio.base_url", "https://api.twilio.com"),
            account_sid=need("twilio.account_sid"),
            auth_token=need("twilio.auth_token"),
            from_number=need("twilio.from"),
            callback_url=need("twilio.callback_url"),
            voice_url=need("twilio.voice_url"),
            machine_detection=settings.get("twilio.machine_detection", "DetectMessageEnd"),
            timeout=timeout,
            client=client,
        )
    elif kind == "ari":
        dialer = AriDialer(
            base_url=need("ari.base_url"),
            username=need("ari.username"),
            password=need("ari.password"),
            endpoint=need("ari.endpoint"),
            app=need("ari.app"),
            caller_id=settings.get("ari.caller_id", ""),
            machine_media=settings.get("ari.machine_media", "sound:limited-content"),
            timeout=timeout,
            client=client,
        )
    else:
        raise ConfigurationError(f"phone setting 'dialer': {kind!r} is not 'twilio' or 'ari'")
    text = settings.get("machine_message", _DEFAULT_MACHINE)
    number = settings.get("callback_number", "")
    return PhoneChannel(
        dialer=dialer,
        machine_message=lambda _a: text.format(number=number),
        notice=settings.get("notice", ""),
        record=settings.get("record", "false") == "true",
    )
