"""The ``visit`` channel: a visit action the engine dispatches becomes a visit request.

The engine checks the action against the rule packs before it reaches the channel
(as for every channel); the channel finds the visit's coordinates from the host
(:data:`Locator`: the plug-in never geocodes) and keeps the request in the
:class:`~.book.VisitBook` for the planner. The instant it arrives is the visit
notice's (the action's template is the notice). A repeated key is not requested twice.
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
    DeliveryResult,
    DeliveryStatus,
    RenderedMessage,
)
from loancollect_visits.book import VisitBook
from loancollect_visits.model import Site, VisitRequest

__all__ = ["CAPABILITIES", "Locator", "SiteTable", "VisitChannel", "from_settings"]

CAPABILITIES = frozenset({CAP_IDEMPOTENT, CAP_STATEMENT})
"""Idempotent by key; wants the statement of account (printed on the route sheet)."""

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
    """

    def __init__(
        self,
        *,
        book: VisitBook,
        locate: Locator,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        name: str = "visit",
    ) -> None:
        self.book = book
        self._locate = locate
        self._now = now
        self._name = name

    @property
    def name(self) -> str:
        """The channel's name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """:data:`CAPABILITIES`."""
        return CAPABILITIES

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Keep the visit request (once per key); a visit with no coordinates fails."""
        if self.book.get(idempotency_key) is not None:
            return DeliveryResult(status=DeliveryStatus.SENT, provider_id=idempotency_key)
        site = self._locate(action)
        if site is None:
            return DeliveryResult(
                status=DeliveryStatus.FAILED_PERMANENT,
                detail="no coordinates for the visit address (the host supplies them)",
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
            status=DeliveryStatus.SENT, provider_id=idempotency_key, detail="visit requested"
        )


def from_settings(settings: Mapping[str, str]) -> VisitChannel:
    """The channel from its settings: ``sites`` (a CSV of the visit sites).

    :raises ConfigurationError: without ``sites``.
    """
    path = settings.get("sites")
    if not path:
        raise ConfigurationError(
            "visit channel setting 'sites': give a CSV of visit sites "
            "(loan_id,lat,lon,place,consent,address); addresses are never geocoded"
        )
    return VisitChannel(book=VisitBook(), locate=SiteTable.from_csv(Path(path)))
