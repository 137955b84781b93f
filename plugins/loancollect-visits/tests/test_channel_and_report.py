"""The visit channel posts the visit's notice through its notice channel, then keeps
one request per action (none when the notice is not sent); the report counts visits,
right-party contacts and promises from the stored outcomes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from loancollect_visits import Site, SiteTable, VisitBook, VisitChannel
from loancollect_visits.channel import from_settings
from loancollect_visits.report import visits_table
from visits_helpers import DAY, SHANGHAI, engine

from loancollect.domain.case import ContactOutcome, OutcomeKind
from loancollect.domain.errors import ConfigurationError
from loancollect.ports import CAP_IDEMPOTENT, CAP_VISIT_NOTICE, DeliveryStatus
from loancollect.testing import RecordingChannel, make_action, make_message

NOW = dt.datetime(2025, 3, 9, 15, tzinfo=dt.UTC)


def _channel(book: VisitBook, sites: dict[str, Site]) -> VisitChannel:
    return VisitChannel(book=book, locate=SiteTable(sites), now=lambda: NOW)


def test_a_visit_action_becomes_one_request_with_its_site_and_statement() -> None:
    book = VisitBook()
    channel = _channel(book, {"L-1": Site(point=SHANGHAI, address="上海市示例路1号")})
    action = make_action(channel="visit", template="visit_notice")
    message = make_message(channel="visit")
    first = channel.send(action, message, action.idempotency_key)
    again = channel.send(action, message, action.idempotency_key)
    assert first.status is DeliveryStatus.SENT
    assert again.status is DeliveryStatus.SENT
    (kept,) = book.open(before=NOW + dt.timedelta(seconds=1))
    assert kept.key == action.idempotency_key
    assert kept.requested_at == NOW
    assert kept.site.point == SHANGHAI
    assert book.open(before=NOW) == ()  # requested at NOW, not before


def test_a_visit_without_coordinates_fails_permanently_and_is_never_geocoded() -> None:
    book = VisitBook()
    action = make_action(channel="visit", template="visit_notice")
    result = _channel(book, {}).send(action, make_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert "coordinates" in result.detail
    assert book.open(before=NOW + dt.timedelta(days=1)) == ()


def test_sites_are_read_from_the_hosts_csv(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(
        "loan_id,lat,lon,place,consent,address\nL-1,31.2304,121.4737,workplace,yes,某公司\n",
        encoding="utf-8",
    )
    channel = from_settings({"sites": str(path)})
    site = SiteTable.from_csv(path)(make_action(loan_id="L-1"))
    assert site is not None
    assert site.place == "workplace"
    assert site.consent
    assert channel.name == "visit"
    path.write_text("loan_id,lat,lon\nL-2,north,121\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"sites.csv:2"):
        SiteTable.from_csv(path)


def test_the_channel_without_sites_is_a_configuration_error_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="'sites'"):
        from_settings({})


def test_only_a_channel_with_a_notice_channel_declares_that_it_gives_the_visit_notice() -> None:
    book = VisitBook()
    assert CAP_VISIT_NOTICE not in _channel(book, {}).capabilities
    post = RecordingChannel("letter", capabilities=frozenset({CAP_IDEMPOTENT}))
    noticed = VisitChannel(book=book, locate=SiteTable({}), notice=post)
    assert {CAP_VISIT_NOTICE, CAP_IDEMPOTENT} <= noticed.capabilities
    # A notice channel that does not de-duplicate could post a notice twice on a retry.
    once = VisitChannel(
        book=book, locate=SiteTable({}), notice=RecordingChannel("letter", frozenset())
    )
    assert CAP_VISIT_NOTICE in once.capabilities
    assert CAP_IDEMPOTENT not in once.capabilities


def test_the_notice_is_sent_first_under_its_own_key_and_once() -> None:
    book = VisitBook()
    post = RecordingChannel("letter", capabilities=frozenset({CAP_IDEMPOTENT}))
    channel = VisitChannel(
        book=book, locate=SiteTable({"L-1": Site(point=SHANGHAI)}), now=lambda: NOW, notice=post
    )
    action = make_action(channel="visit", template="visit_notice")
    message = make_message(channel="visit")
    first = channel.send(action, message, action.idempotency_key)
    channel.send(action, message, action.idempotency_key)
    assert first.ok
    (posted,) = post.deliveries
    assert posted.key == action.idempotency_key + ":notice"
    assert posted.message == message
    assert dict(first.evidence)["notice_channel"] == "letter"
    assert len(book.open(before=NOW + dt.timedelta(seconds=1))) == 1


def test_a_notice_that_fails_keeps_no_request_and_no_notice_goes_to_an_unknown_site() -> None:
    book = VisitBook()
    post = RecordingChannel("letter", capabilities=frozenset({CAP_IDEMPOTENT}))
    channel = VisitChannel(
        book=book, locate=SiteTable({"L-1": Site(point=SHANGHAI)}), now=lambda: NOW, notice=post
    )
    action = make_action(channel="visit", template="visit_notice")
    post.fail_next("rejected", detail="returned to sender")
    refused = channel.send(action, make_message(), action.idempotency_key)
    assert refused.status is DeliveryStatus.REJECTED
    assert "returned to sender" in refused.detail
    assert book.open(before=NOW + dt.timedelta(days=1)) == ()
    nowhere = make_action(loan_id="L-9", channel="visit", template="visit_notice")
    lost = channel.send(nowhere, make_message(), nowhere.idempotency_key)
    assert lost.status is DeliveryStatus.FAILED_PERMANENT
    assert [d.key for d in post.deliveries] == [action.idempotency_key + ":notice"]


def test_the_notice_channel_is_no_setting_a_factory_cannot_reach_other_channels() -> None:
    with pytest.raises(ConfigurationError, match="'notice_channel' is not available"):
        from_settings({"sites": "sites.csv", "notice_channel": "letter"})


def test_the_report_counts_visits_right_party_contacts_and_promises_from_visits_only() -> None:
    built = engine(loans=3)
    outcomes = [
        ("L-1", "visit", OutcomeKind.PROMISE),
        ("L-2", "visit", OutcomeKind.NOT_AT_HOME),
        ("L-3", "visit", OutcomeKind.RIGHT_PARTY_CONTACT),
        ("L-3", "phone", OutcomeKind.PROMISE),
    ]
    for loan_id, channel, kind in outcomes:
        built.record_outcome(loan_id, ContactOutcome(DAY, channel, kind))
    with built.storage() as uow:
        events = [e for n in (1, 2, 3) for e in uow.events.stream(f"L-{n}")]
    table = visits_table(events)
    assert table.name == "visits_outcomes"
    row = dict(zip(table.columns, table.rows[0], strict=True))
    assert row["visits"] == "3"
    assert row["right-party contacts"] == "2"
    assert row["promises"] == "1"
    assert row["not at home"] == "1"
    assert row["RPC rate"] == "66.7%"


def test_a_visit_requests_repr_shows_neither_the_address_nor_the_coordinates() -> None:
    site = Site(point=SHANGHAI, address="上海市示例路1号")
    text = repr(site)
    assert "示例路" not in text
    assert str(SHANGHAI.lat) not in text
    assert "home" in text
