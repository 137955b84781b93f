"""Candidate zones: a borrower's zone, its contact points' and its numbers', never UTC."""

from __future__ import annotations

import pytest

from loancollect.domain.compliance import (
    BorrowerFacts,
    LocationCandidate,
    LocationSource,
    candidate_zones,
    is_placeholder_zone,
)
from loancollect.domain.loans import Borrower, ContactKind, ContactPoint, PartyKind
from loancollect.errors import ValidationError

NY, LA = "America/New_York", "America/Los_Angeles"


def person(zone: str, *points: ContactPoint, jurisdiction: str = "US-NY") -> Borrower:
    return Borrower(
        id="B-1",
        kind=PartyKind.INDIVIDUAL,
        name="Alex Doe",
        jurisdiction=jurisdiction,
        time_zone=zone,
        locale="en_US",
        contact_points=points,
    )


def phone(number: str, zone: str | None = None) -> ContactPoint:
    return ContactPoint(ContactKind.PHONE, number, "mobile", zone)


def new_york_numbers(point: ContactPoint) -> tuple[str, ...]:
    return (NY,) if point.value.startswith("+1 212") else ()


@pytest.mark.parametrize(
    "zone",
    ["UTC", "Etc/UTC", "Etc/GMT-8", "Etc/Unknown", "GMT", "Universal", "Zulu", "Factory"],
)
def test_utc_and_fixed_offsets_name_no_place(zone: str) -> None:
    assert is_placeholder_zone(zone)


@pytest.mark.parametrize("zone", [NY, "Europe/London", "Asia/Shanghai", "Atlantic/Reykjavik"])
def test_real_zones_name_a_place(zone: str) -> None:
    assert not is_placeholder_zone(zone)


def test_a_utc_borrower_takes_the_zones_of_its_numbers() -> None:
    b = person("UTC", phone("+1 212 555 0100"))
    assert candidate_zones(b, number_zones=new_york_numbers) == (
        LocationCandidate(NY, LocationSource.AREA_CODE),
    )


def test_a_number_in_another_zone_is_a_candidate_beside_the_address() -> None:
    b = person(LA, phone("+1 212 555 0100"))
    facts = BorrowerFacts.from_borrower(b, number_zones=new_york_numbers)
    assert facts.zones == (LA, NY)


def test_a_contact_point_zone_set_by_the_host_wins_over_its_number() -> None:
    b = person("UTC", phone("+1 212 555 0100", zone=LA))
    assert [c.time_zone for c in candidate_zones(b, number_zones=new_york_numbers)] == [LA]


def test_the_fallback_zones_count_only_when_nothing_else_gives_one() -> None:
    fallback = (NY, LA, "Pacific/Honolulu")
    known = person(NY, phone("+1 800 555 0100"))
    assert [c.time_zone for c in candidate_zones(known, fallback_zones=fallback)] == [NY]
    lost = person("UTC", phone("+1 800 555 0100"))
    found = candidate_zones(lost, number_zones=new_york_numbers, fallback_zones=fallback)
    assert [(c.time_zone, c.source) for c in found] == [(z, LocationSource.OTHER) for z in fallback]


def test_no_zone_at_all_leaves_no_candidate_and_no_facts() -> None:
    lost = person("UTC", phone("+1 800 555 0100", zone="Etc/UTC"))
    assert candidate_zones(lost, fallback_zones=("UTC",)) == ()
    with pytest.raises(ValidationError, match=r"borrower\.location_candidates"):
        BorrowerFacts.from_borrower(lost)
