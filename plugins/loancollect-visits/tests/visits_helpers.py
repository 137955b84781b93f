"""Builders shared by the visit tests: an engine with the Chinese and UK rule packs,
borrowers around Shanghai, agents, and visit requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pendulum
from loancollect_visits import Agent, Site, VisitRequest, VisitRules

from loancollect import make_plugin_manager
from loancollect.domain.intake import GeoPoint
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.testing import (
    FixedClock,
    MemoryStore,
    RecordingChannel,
    make_action,
    make_borrower,
    make_loan,
)

SHANGHAI = GeoPoint(lat=Decimal("31.2304"), lon=Decimal("121.4737"))
DAY = dt.date(2025, 3, 10)  # a Monday; the loans are well overdue by then
NOTICE_AT = dt.datetime(2025, 3, 9, 7, tzinfo=dt.UTC)  # the day before, 15:00 in Shanghai


def near(base: GeoPoint, dlat: str, dlon: str, accuracy: str | None = None) -> GeoPoint:
    return GeoPoint(
        lat=base.lat + Decimal(dlat),
        lon=base.lon + Decimal(dlon),
        accuracy_m=None if accuracy is None else Decimal(accuracy),
    )


def engine(loans: int = 6, *, packs: tuple[str, ...] = ("rules-cn",)) -> CollectionEngine:
    """An engine over memory storage with ``loans`` Chinese loans (``L-1`` …)."""
    pm = make_plugin_manager(load_entrypoints=list(packs))
    built = CollectionEngine(
        pm=pm,
        storage=MemoryStore(),
        clock=FixedClock(pendulum.datetime(2025, 3, 10, 2, tz="UTC")),
        channels={n: RecordingChannel(n) for n in ("sms", "email", "phone", "visit", "letter")},
        config=CycleConfig(dispatch_workers=1),
    )
    built.add_loans(
        [make_loan(id=f"L-{n}", borrower=make_borrower(id=f"B-{n}")) for n in range(1, loans + 1)],
        review_on=dt.date(2025, 1, 15),
    )
    return built


def rules(built: CollectionEngine, **kwargs: Any) -> VisitRules:
    return VisitRules(hook=built.pm.hook.loancollect_check_contact, storage=built.storage, **kwargs)


def request(
    n: int, *, site: Site | None = None, at: dt.datetime = NOTICE_AT, **more: Any
) -> VisitRequest:
    """A visit request for ``L-<n>``, a few km from the centre of Shanghai."""
    loan_id = more.pop("loan_id", f"L-{n}")
    action = make_action(
        loan_id=loan_id,
        channel="visit",
        rule_id="further.visit",
        template="visit_notice",
        stage="further",
        as_of=at.date(),
    )
    fields: dict[str, Any] = {
        "key": f"visit-{n}",
        "loan_id": loan_id,
        "requested_at": at,
        "locale": "zh_CN",
        "site": site
        or Site(
            point=near(SHANGHAI, f"{(n % 7 - 3) * 0.01:.2f}", f"{(n % 5 - 2) * 0.012:.3f}"),
            address=f"上海市示例路{n}号",
        ),
        "action": action,
    }
    fields.update(more)
    return VisitRequest(**fields)


def agent(n: int = 1, **more: Any) -> Agent:
    fields: dict[str, Any] = {
        "id": f"agent-{n}",
        "name": f"外访{n}组",
        "base": SHANGHAI,
        "zone": "Asia/Shanghai",
        "shift_start": dt.time(9),
        "shift_end": dt.time(18),
        "languages": frozenset({"zh"}),
        "team_size": 2,
        "max_visits": 6,
        "device": f"phone-{n}",
    }
    fields.update(more)
    return Agent(**fields)


def evolve(value: Any, **changes: Any) -> Any:
    return attrs.evolve(value, **changes)
