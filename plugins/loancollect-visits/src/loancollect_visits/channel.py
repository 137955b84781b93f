"""The ``visit`` channel: a visit action the engine dispatches becomes a visit request.

The engine checks the action against the rule packs before it reaches the channel
(as for every channel); the channel finds the visit's coordinates from the host
(:data:`Locator`: the plug-in never geocodes), delivers the action's rendered message
(its template is the notice of the visit) to the borrower as the written notice
through its ``notice`` channel (a letter channel: the action's contact point is the
visit's postal address), and only once that notice is sent keeps the request in the
:class:`~.book.VisitBook` for the planner. A channel with a notice channel declares
:data:`~loancollect.ports.CAP_VISIT_NOTICE`, so the engine judges and records its
dispatch as the visit's notice; without one it delivers no notice, declares nothing
of the kind, and a pack requiring notice (UK) refuses its visits (fail closed). A
repeated key is not requested (nor its notice sent) twice.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.intake import GeoPoint
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import (
    CAP_IDEMPOTENT,
    CAP_STATEMENT,
    CAP_VISIT_NOTICE,
    Channel,
    DeliveryResult,
    DeliveryStatus,
    RenderedMessage,
)
from loancollect_visits.book import VisitBook
from loancollect_visits.model import Site, VisitRequest

__all__ = ["CAPABILITIES", "NOTICE_SUFFIX", "Locator", "SiteTable", "VisitChannel", "from_settings"]

CAPABILITIES = frozenset({CAP_IDEMPOTENT, CAP_STATEMENT})
"""Idempotent by key; wants the statement of account (printed on the route sheet and
the notice letter). What the registered factory builds (no notice channel: see
:func:`from_settings`); a channel given a notice channel adds
:data:`~loancollect.ports.CAP_VISIT_NOTICE`."""

NOTICE_SUFFIX = ":notice"
"""Appended to the action's idempotency key for the send of its notice, so the notice
channel de-duplicates the notice as its own message."""

Locator = Callable[[PlannedAction], Site | None]
"""The host's coordinates for an action's visit address (``None``: not known)."""


class SiteTable:
    """Visit sites by loan id, e.g. read from a CSV file the host exports
    (``loan_id,lat,lon,place,consent,address``)."""

    def __init__(self, sites: Mapping[str, Site]) -> None:
        self._sites = dict(sites)

    def __call__(self, action: PlannedAction) -> Site | None:
        """The site of ``action``'s loan."""
        return self._sites.get(action.loan_id)

    @classmethod
    def from_csv(cls, path: Path) -> SiteTable:
        """Read ``path``.

        :raises ValidationError: naming the line and column of a bad value.
        """
        sites = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for n, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    point = GeoPoint(lat=Decimal(row["lat"]), lon=Decimal(row["lon"]))
                except (KeyError, InvalidOperation, TypeError):
                    raise ValidationError(
                        f"{path.name}:{n}.lat/lon", row.get("lat"), "expected decimal degrees"
                    ) from None
                sites[row["loan_id"]] = Site(
                    point=point,
                    place=row.get("place") or "home",
                    consent=(row.get("consent") or "").strip().lower() in ("1", "true", "yes"),
                    address=row.get("address") or "",
                )
        return cls(sites)


class VisitChannel:
    """Receives the engine's visit actions as requests for the planner.

    :param book: where the requests are kept.
    :param locate: the host's coordinates for an action's address.
    :param now: the clock (the instant the notice is given).
    :param notice: the channel that delivers the written notice of the visit (a letter
        channel, sent the action with its postal address and the rendered message);
        ``None``: no notice is delivered, so the channel does not declare
        :data:`~loancollect.ports.CAP_VISIT_NOTICE` and visits needing notice are
        refused. The channel is idempotent only if the notice channel is.
    """

    def __init__(
        self,
        *,
        book: VisitBook,
        locate: Locator,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        name: str = "visit",
        notice: Channel | None = None,
    ) -> None:
        self.book = book
        self._locate = locate
        self._now = now
        self._name = name
        self.notice = notice
        caps = set(CAPABILITIES)
        if notice is not None:
            caps.add(CAP_VISIT_NOTICE)
            if CAP_IDEMPOTENT not in notice.capabilities:
                # A retry after an unknown outcome could post the notice twice.
                caps.discard(CAP_IDEMPOTENT)
        self._capabilities = frozenset(caps)

    @property
    def name(self) -> str:
        """The channel's name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """:data:`CAPABILITIES`, and :data:`~loancollect.ports.CAP_VISIT_NOTICE` with a
        notice channel (without :data:`~loancollect.ports.CAP_IDEMPOTENT` when that
        channel does not de-duplicate)."""
        return self._capabilities

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Deliver the notice, then keep the visit request (once per key).

        A visit with no coordinates fails (no notice is sent for it). With a notice
        channel, a notice that is not sent fails the action with the notice's status
        (retryable, permanent, rejected, unknown) and records no request.
        """
        if self.book.get(idempotency_key) is not None:
            return DeliveryResult(status=DeliveryStatus.SENT, provider_id=idempotency_key)
        site = self._locate(action)
        if site is None:
            return DeliveryResult(
                status=DeliveryStatus.FAILED_PERMANENT,
                detail="no coordinates for the visit address (the host supplies them)",
            )
        evidence: tuple[tuple[str, str], ...] = ()
        if self.notice is not None:
            given = self.notice.send(action, message, idempotency_key + NOTICE_SUFFIX)
            if not given.ok:
                return DeliveryResult(
                    status=given.status,
                    detail=f"the visit notice was not sent ({self.notice.name}): {given.detail}",
                    evidence=given.evidence,
                )
            evidence = (
                ("notice_channel", self.notice.name),
                ("notice_id", given.provider_id or ""),
                *((f"notice_{k}", v) for k, v in given.evidence),
            )
        self.book.add(
            VisitRequest(
                key=idempotency_key,
                loan_id=action.loan_id,
                requested_at=self._now(),
                locale=action.locale,
                site=site,
                statement=message.statement,
                action=action,
            )
        )
        return DeliveryResult(
            status=DeliveryStatus.SENT,
            provider_id=idempotency_key,
            detail="visit notice sent, visit requested" if evidence else "visit requested",
            evidence=evidence,
        )


def from_settings(settings: Mapping[str, str]) -> VisitChannel:
    """The channel from its settings: ``sites`` (a CSV of the visit sites).

    A channel factory gets its own settings only and cannot reach the host's other
    channels, so the channel built here has no notice channel: it delivers no notice
    and visits needing notice (UK) are refused. A host that visits where notice is
    required builds ``VisitChannel(..., notice=<its letter channel>)`` in code and
    passes it to the engine (``CollectionEngine(channels={"visit": ...})``).

    :raises ConfigurationError: without ``sites``, or with ``notice_channel`` (not
        available as a setting: pass the notice channel in code).
    """
    if "notice_channel" in settings:
        raise ConfigurationError(
            "visit channel setting 'notice_channel' is not available: a channel factory "
            "cannot reach the other channels; build VisitChannel(..., notice=<letter "
            "channel>) in code and pass it to the engine"
        )
    path = settings.get("sites")
    if not path:
        raise ConfigurationError(
            "visit channel setting 'sites': give a CSV of visit sites "
            "(loan_id,lat,lon,place,consent,address); addresses are never geocoded"
        )
    return VisitChannel(book=VisitBook(), locate=SiteTable.from_csv(Path(path)))
