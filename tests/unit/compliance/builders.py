"""Builders for compliance tests: plain constructors with defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum

from loancollect.domain.compliance import (
    BorrowerFacts,
    Channel,
    Confidence,
    ContactEvent,
    DebtFacts,
    LocationCandidate,
    LocationSource,
    ProposedContact,
    RuleInfo,
)

NY = "America/New_York"
LA = "America/Los_Angeles"


def info(rule_id: str = "R") -> RuleInfo:
    return RuleInfo(id=rule_id, citation="test", confidence=Confidence.VERIFIED, summary="s")


def at(y: int, m: int, d: int, h: int = 12, mi: int = 0, tz: str = NY) -> pendulum.DateTime:
    return pendulum.datetime(y, m, d, h, mi, tz=tz)


def borrower(*zones: str, **kw: Any) -> BorrowerFacts:
    zs = zones or (NY,)
    cands = [LocationCandidate(z, LocationSource.ADDRESS) for z in zs]
    kw.setdefault("location_candidates", cands)
    return BorrowerFacts(id="b1", jurisdiction=kw.pop("jurisdiction", "US"), **kw)


def debt(**kw: Any) -> DebtFacts:
    return DebtFacts(id=kw.pop("id", "d1"), **kw)


def call(when: dt.datetime, **kw: Any) -> ProposedContact:
    kw.setdefault("channel", Channel.CALL)
    return ProposedContact(at=when, **kw)


def event(when: dt.datetime, **kw: Any) -> ContactEvent:
    kw.setdefault("channel", Channel.CALL)
    kw.setdefault("debt_ids", {"d1"})
    return ContactEvent(at=when, **kw)
