"""The ``sms`` channel: an HTTP gateway with a configurable request mapping."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from loancollect.domain.loans import ContactKind
from loancollect.domain.privacy import mask_phone
from loancollect.domain.strategy import PlannedAction
from loancollect.errors import ConfigurationError
from loancollect.ports import (
    CAP_IDEMPOTENT,
    DeliveryResult,
    DeliveryStatus,
    FinalResults,
    RenderedMessage,
)
from loancollect_sms.ratelimit import RateLimiter
from loancollect_sms.segments import count_segments

__all__ = [
    "CAPABILITIES",
    "SETTINGS",
    "GatewayMapping",
    "SmsChannel",
    "from_settings",
    "mask_numbers",
    "normalise_number",
]

_LOG = logging.getLogger("loancollect_sms")

CAPABILITIES: frozenset[str] = frozenset()
"""What every SMS channel declares. ``CAP_IDEMPOTENT`` is added only when the
operator says the gateway de-duplicates by the idempotency header it is sent
(setting ``deduplicates = "provider"``): the channel's own memory of keys ends with
the process, so without the provider's word a send after a restart may deliver
twice, and the engine records each send before the next one instead."""
"""What the SMS channel can do."""

SETTINGS: dict[str, str] = {
    "url": "required: the gateway's send URL",
    "method": "HTTP method; default POST",
    "body": "'json' (default) or 'form'",
    "auth_header": "name of the header carrying the credential, e.g. 'Authorization'",
    "auth_value": "the credential, e.g. 'Bearer <token>' (never logged)",
    "sender": "the sender id or number sent in field.sender (omitted when empty)",
    "field.to": "body field of the recipient number; default 'to'",
    "field.text": "body field of the text; default 'text'",
    "field.sender": "body field of the sender id; default 'from'",
    "field.reference": "body field of the idempotency key (the gateway echoes it in "
    "receipts); default 'reference'",
    "idempotency_header": "header carrying the idempotency key; default 'Idempotency-Key', "
    "empty to leave out",
    "deduplicates": "'provider' if the gateway answers a repeated idempotency header with "
    "its first result (then the channel declares it can de-duplicate); default: not declared",
    "response.id": "dotted path of the message id in the JSON answer; default 'id'",
    "rejected_statuses": "HTTP statuses meaning a policy refusal (REJECTED); default '403,451'",
    "timeout": "seconds for the request; default 10",
    "max_segments": "longest message in segments; longer ones fail permanently; default 6",
    "rate.per_number_seconds": "at least this long between two messages to one number; "
    "default 0 (off)",
    "rate.global_per_second": "global token bucket refill rate; default 0 (off)",
    "rate.burst": "global token bucket size; default 1",
    "rate.max_wait": "seconds a send may wait for a global token; default 1",
}
"""Every settings key the factory accepts (plus ``extra.<field>``: a constant body field)."""

_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def mask_numbers(text: str) -> str:
    """``text`` with every phone-number-like run of digits masked."""
    return _NUMBER.sub(lambda m: mask_phone(m.group(0)), text)


def normalise_number(value: str) -> str:
    """The number as the gateway gets it: ``+`` and digits only."""
    return "".join(c for c in value if c.isdigit() or c == "+")


@attrs.frozen(kw_only=True)
class GatewayMapping:
    """How a send becomes an HTTP request, and how the answer is read."""

    url: str
    method: str = "POST"
    body: str = "json"
    auth_header: str | None = None
    auth_value: str | None = attrs.field(default=None, repr=False)
    sender: str | None = None
    field_to: str = "to"
    field_text: str = "text"
    field_sender: str = "from"
    field_reference: str = "reference"
    idempotency_header: str | None = "Idempotency-Key"
    provider_deduplicates: bool = False
    response_id: str = "id"
    rejected_statuses: frozenset[int] = frozenset({403, 451})
    extra: tuple[tuple[str, str], ...] = ()

    def request(self, number: str, text: str, key: str) -> dict[str, Any]:
        """The keyword arguments of :meth:`httpx.Client.request` for one message."""
        fields: dict[str, str] = dict(self.extra)
        fields[self.field_to] = number
        fields[self.field_text] = text
        fields[self.field_reference] = key
        if self.sender:
            fields[self.field_sender] = self.sender
        headers: dict[str, str] = {}
        if self.auth_header and self.auth_value is not None:
            headers[self.auth_header] = self.auth_value
        if self.idempotency_header:
            headers[self.idempotency_header] = key
        kwargs: dict[str, Any] = {"method": self.method, "url": self.url, "headers": headers}
        kwargs["json" if self.body == "json" else "data"] = fields
        return kwargs

    def provider_id(self, response: httpx.Response) -> str | None:
        """The message id at ``response_id`` in the JSON answer (``None`` if absent)."""
        try:
            value: Any = response.json()
        except ValueError:
            return None
        for part in self.response_id.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return None if value is None else str(value)

    def classify(self, response: httpx.Response) -> DeliveryResult:
        """Classify the gateway's answer by HTTP status.

        2xx: sent; 408, 425, 429 and 5xx: retryable (``Retry-After`` is kept in the
        detail); ``rejected_statuses``: rejected; any other 4xx: permanent.
        """
        code = response.status_code
        if 200 <= code < 300:
            pid = self.provider_id(response)
            return DeliveryResult(
                status=DeliveryStatus.SENT,
                provider_id=pid,
                evidence=(("http_status", str(code)),),
            )
        body = mask_numbers(response.text[:200].strip())
        detail = f"gateway answered {code}" + (f": {body}" if body else "")
        retry_after = response.headers.get("Retry-After")
        if code in (408, 425, 429) or code >= 500:
            if retry_after:
                detail += f" (retry after {retry_after} s)"
            return DeliveryResult.failed_retryable(detail)
        if code in self.rejected_statuses:
            return DeliveryResult.rejected(detail)
        return DeliveryResult.failed_permanent(detail)


class SmsChannel:
    """The :class:`~loancollect.ports.Channel` for SMS through an HTTP gateway.

    Sends the rendered text to the action's phone number. The idempotency key goes
    to the gateway as a header and a body field (so a gateway that deduplicates does
    so, and its receipts name the key); a key already sent, failed permanently or
    rejected returns its first result without a request.

    :param client: the httpx client (the host may pass one with its own transport,
        proxies or certificates).
    """

    def __init__(
        self,
        mapping: GatewayMapping,
        *,
        name: str = "sms",
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        max_segments: int = 6,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.mapping = mapping
        self._name = name
        self.client = client or httpx.Client(timeout=timeout)
        self.max_segments = max_segments
        self.limiter = limiter or RateLimiter()
        self._results = FinalResults()

    @property
    def name(self) -> str:
        """The channel name (``"sms"``)."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """Idempotent only when the gateway de-duplicates by the header it is sent."""
        mapping = self.mapping
        if mapping.provider_deduplicates and mapping.idempotency_header:
            return CAPABILITIES | {CAP_IDEMPOTENT}
        return CAPABILITIES

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Send ``message.text`` to ``action.contact`` (a phone contact point)."""
        previous = self._results.get(idempotency_key)
        if previous is not None:
            return previous
        return self._results.remember(idempotency_key, self._send(action, message, idempotency_key))

    def _send(self, action: PlannedAction, message: RenderedMessage, key: str) -> DeliveryResult:
        contact = action.contact
        if contact is None or contact.kind is not ContactKind.PHONE:
            return DeliveryResult.failed_permanent("the action has no phone number")
        number = normalise_number(contact.value)
        segments = count_segments(message.text)
        if segments.segments > self.max_segments:
            return DeliveryResult.failed_permanent(
                f"message too long: {segments.segments} {segments.encoding} segments "
                f"(at most {self.max_segments})"
            )
        wait = self.limiter.acquire(number)
        if wait is not None:
            return DeliveryResult.failed_retryable(f"rate limited locally; retry in {wait:.1f} s")
        try:
            response = self.client.request(**self.mapping.request(number, message.text, key))
        except httpx.TimeoutException as exc:
            return DeliveryResult.failed_retryable(f"gateway timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            self.limiter.release(number)
            return DeliveryResult.failed_retryable(
                f"gateway unreachable: {type(exc).__name__}: {mask_numbers(str(exc))}"
            )
        result = self.mapping.classify(response)
        if result.ok:
            result = attrs.evolve(
                result,
                evidence=(
                    *result.evidence,
                    ("encoding", segments.encoding),
                    ("segments", str(segments.segments)),
                ),
            )
        _LOG.info("sms to %s: %s %s", mask_phone(number), result.status.value, result.detail)
        return result

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def __enter__(self) -> SmsChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SmsChannel(name={self._name!r}, url={self.mapping.url!r})"


def _number(settings: Mapping[str, str], key: str, default: float, *, minimum: float) -> float:
    raw = settings.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"sms setting {key!r}: {raw!r} is not a number") from None
    if value < minimum:
        raise ConfigurationError(f"sms setting {key!r}: {value} must be >= {minimum}")
    return value


def from_settings(
    settings: Mapping[str, str],
    *,
    client: httpx.Client | None = None,
    monotonic: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SmsChannel:
    """Build the channel from its string settings (every key: :data:`SETTINGS`).

    :raises ConfigurationError: naming the key, for an unknown key, a missing ``url``
        or a value of the wrong form.
    """
    unknown = sorted(k for k in settings if k not in SETTINGS and not k.startswith("extra."))
    if unknown:
        raise ConfigurationError(
            f"sms setting {unknown[0]!r} is not known; known settings: {', '.join(SETTINGS)}"
        )
    url = settings.get("url")
    if not url or not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"sms setting 'url' must be an http(s) URL, got {url!r}")
    body = settings.get("body", "json")
    if body not in ("json", "form"):
        raise ConfigurationError(f"sms setting 'body': {body!r} is not 'json' or 'form'")
    if ("auth_header" in settings) != ("auth_value" in settings):
        raise ConfigurationError(
            "sms setting 'auth_value' and 'auth_header' go together: set both or neither"
        )
    rejected: set[int] = set()
    for part in settings.get("rejected_statuses", "403,451").split(","):
        if part.strip():
            if not part.strip().isdigit():
                raise ConfigurationError(
                    f"sms setting 'rejected_statuses': {part.strip()!r} is not an HTTP status"
                )
            rejected.add(int(part))
    mapping = GatewayMapping(
        url=url,
        method=settings.get("method", "POST").upper(),
        body=body,
        auth_header=settings.get("auth_header"),
        auth_value=settings.get("auth_value"),
        sender=settings.get("sender") or None,
        field_to=settings.get("field.to", "to"),
        field_text=settings.get("field.text", "text"),
        field_sender=settings.get("field.sender", "from"),
        field_reference=settings.get("field.reference", "reference"),
        idempotency_header=settings.get("idempotency_header", "Idempotency-Key") or None,
        provider_deduplicates=_provider_deduplicates(settings.get("deduplicates", "")),
        response_id=settings.get("response.id", "id"),
        rejected_statuses=frozenset(rejected),
        extra=tuple(
            sorted(
                (k.removeprefix("extra."), v) for k, v in settings.items() if k.startswith("extra.")
            )
        ),
    )
    limiter = RateLimiter(
        per_number_seconds=_number(settings, "rate.per_number_seconds", 0.0, minimum=0),
        global_per_second=_number(settings, "rate.global_per_second", 0.0, minimum=0),
        burst=int(_number(settings, "rate.burst", 1, minimum=1)),
        max_wait=_number(settings, "rate.max_wait", 1.0, minimum=0),
        monotonic=monotonic or time.monotonic,
        sleep=sleep or time.sleep,
    )
    return SmsChannel(
        mapping,
        client=client,
        timeout=_number(settings, "timeout", 10.0, minimum=0.001),
        max_segments=int(_number(settings, "max_segments", 6, minimum=1)),
        limiter=limiter,
    )


def _provider_deduplicates(value: str) -> bool:
    if value not in ("", "provider"):
        raise ConfigurationError(
            f"sms setting 'deduplicates': {value!r}; allowed: 'provider' (the gateway "
            "de-duplicates by the idempotency header) or leave it out"
        )
    return value == "provider"
