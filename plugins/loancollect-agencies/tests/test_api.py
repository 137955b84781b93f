"""The agency API over HTTP (uvicorn on 127.0.0.1): each credential sees only the cases
placed with its agency in its tenant, and every call is audited."""

from __future__ import annotations

import httpx
import pytest
from agencies_helpers import NOW, PLACED_ON, Server
from loancollect_agencies.files import PLACEMENT_COLUMNS

from loancollect.builtin.compliance import contact_events
from loancollect.domain.events import ContactOutcomeRecorded, EventKind


def _get(server: Server, agency: str, tenant: str, path: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=server.headers(agency, tenant), timeout=10)


def _post(server: Server, agency: str, tenant: str, path: str, body: object) -> httpx.Response:
    return httpx.post(
        server.url + path, json=body, headers=server.headers(agency, tenant), timeout=10
    )


@pytest.mark.parametrize(
    ("agency", "tenant", "loans"),
    [
        ("agency-a", "t1", ["L-1"]),
        ("agency-b", "t1", ["L-2"]),
        ("agency-a", "t2", ["L-2"]),
        ("agency-b", "t2", ["L-1"]),
    ],
)
def test_an_agency_lists_only_the_cases_placed_with_it_in_its_tenant(
    server: Server, agency: str, tenant: str, loans: list[str]
) -> None:
    response = _get(server, agency, tenant, "/placements")
    assert response.status_code == 200
    records = response.json()["data"]
    assert [r["loan_id"] for r in records] == loans
    assert {r["agency"] for r in records} == {agency}
    assert records[0]["placement"] == f"{tenant}/{loans[0]}/P1"


def test_a_placement_record_carries_the_placement_file_s_fields_and_nothing_more(
    server: Server,
) -> None:
    record = _get(server, "agency-a", "t1", "/placements/L-1").json()["data"]
    assert tuple(record) == PLACEMENT_COLUMNS
    assert record["borrower_name"] == "张伟"
    assert record["phone"] == "+86 138 0013 8000"
    assert record["address"] == "上海市浦东新区示例路1号"
    assert record["since"] == PLACED_ON.isoformat()
    assert record["currency"] == "CNY"
    text = str(record)
    assert "110101199003071234" not in text, "never the national id"
    assert "zhang.wei@example.com" not in text, "never the e-mail address"


# (credential, loan) pairs that are not the credential's: another agency's case, a
# recalled case, a case that does not exist, the same loan id in the other tenant.
FOREIGN = [
    ("agency-a", "t1", "L-2", "agency-b's case"),
    ("agency-a", "t1", "L-3", "recalled from agency-a"),
    ("agency-a", "t1", "L-9", "no such loan"),
    ("agency-b", "t1", "L-1", "agency-a's case"),
    ("agency-a", "t2", "L-1", "agency-b's case in t2 (agency-a's in t1)"),
    ("agency-a", "t2", "L-3", "not placed"),
    ("agency-b", "t2", "L-2", "agency-a's case in t2 (agency-b's in t1)"),
]

WRITES = [
    ("/outcomes", {"kind": "no_answer", "at": NOW.isoformat(), "channel": "phone"}),
    (
        "/promises",
        {"at": NOW.isoformat(), "amount": "100.00", "due": "2025-06-09", "channel": "phone"},
    ),
    (
        "/payments",
        {
            "payment_id": "R-1",
            "amount": "100.00",
            "value_date": "2025-06-02",
            "received_at": NOW.isoformat(),
        },
    ),
]


def _state(server: Server) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    for tenant, store in server.stores.items():
        with store() as uow:
            for loan in ("L-1", "L-2", "L-3"):
                out[(tenant, loan)] = (
                    len(uow.events.stream(loan)),
                    len(uow.loans.payments_for(loan)),
                )
    return out


@pytest.mark.parametrize(("agency", "tenant", "loan", "why"), FOREIGN)
def test_every_attempt_on_a_case_that_is_not_the_caller_s_is_refused_and_audited(
    server: Server, agency: str, tenant: str, loan: str, why: str
) -> None:
    before = _state(server)
    answers = [_get(server, agency, tenant, f"/placements/{loan}")]
    answers += [_post(server, agency, tenant, f"/placements/{loan}{p}", b) for p, b in WRITES]
    assert [a.status_code for a in answers] == [404] * 4, why
    # indistinguishable from a loan that does not exist
    assert {a.text for a in answers} == {'{"error":"no such placement"}'}
    assert _state(server) == before, "nothing written anywhere"
    entries = server.audit.entries()
    assert len(entries) == 4
    assert all(not e.allowed and e.status == 404 for e in entries)
    assert {(e.agency, e.tenant, e.loan_id) for e in entries} == {(agency, tenant, loan)}
    assert [e.method for e in entries] == ["GET", "POST", "POST", "POST"]


@pytest.mark.parametrize(
    "header",
    [{}, {"Authorization": "Bearer " + "z" * 40}, {"Authorization": "Basic " + "a" * 40}],
)
def test_a_call_without_a_known_token_is_refused_and_audited(
    server: Server, header: dict[str, str]
) -> None:
    response = httpx.get(server.url + "/placements/L-1", headers=header, timeout=10)
    assert response.status_code == 401
    (entry,) = server.audit.entries()
    assert not entry.allowed
    assert (entry.agency, entry.tenant, entry.loan_id, entry.status) == ("", "", "L-1", 401)
    assert "a" * 40 not in entry.to_json()
    assert "z" * 40 not in entry.to_json()


def test_an_agency_s_outcome_promise_and_payment_go_through_the_intake_and_count_toward_caps(
    server: Server,
) -> None:
    path = "/placements/L-1"
    at = "2025-06-02T10:00:00+08:00"
    outcome = {"kind": "no_answer", "at": at, "channel": "phone", "agent": "a-7"}
    promise = {"at": at, "amount": "1200.00", "due": "2025-06-09", "channel": "phone"}
    payment = {
        "payment_id": "R-1",
        "amount": "300.50",
        "value_date": "2025-06-02",
        "received_at": at,
    }
    assert _post(server, "agency-a", "t1", f"{path}/outcomes", outcome).status_code == 200
    assert _post(server, "agency-a", "t1", f"{path}/promises", promise).status_code == 200
    assert _post(server, "agency-a", "t1", f"{path}/payments", payment).status_code == 200
    again = _post(server, "agency-a", "t1", f"{path}/payments", payment)
    assert again.status_code == 422
    assert "payment_id" in again.json()["error"]
    with server.stores["t1"]() as uow:
        events = uow.events.stream("L-1")
        (paid,) = uow.loans.payments_for("L-1")
    kinds = [e.kind for e in events]
    assert kinds[-4:] == [
        EventKind.CONTACT_OUTCOME,
        EventKind.CONTACT_OUTCOME,
        EventKind.PROMISE_MADE,
        EventKind.PAYMENT_RECEIVED,
    ]
    recorded = events[-4].payload
    assert isinstance(recorded, ContactOutcomeRecorded)
    assert (recorded.agency, recorded.agent, recorded.channel) == ("agency-a", "a-7", "phone")
    assert paid.id == "agency:agency-a:R-1"
    assert str(paid.amount.amount) == "300.50"
    # the rule packs see both calls as contacts with the borrower
    contacts = contact_events(events, "Asia/Shanghai")
    assert len(contacts) == 2
    with server.stores["t2"]() as uow:
        assert uow.loans.payments_for("L-1") == (), "the other tenant's L-1 is untouched"
    assert [e.allowed for e in server.audit.entries()] == [True, True, True, False]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/payments",
            {
                "payment_id": "R",
                "amount": 1.5,
                "value_date": "2025-06-02",
                "received_at": NOW.isoformat(),
            },
            "amount",
        ),
        (
            "/outcomes",
            {"kind": "no_answer", "at": "2025-05-01T10:00:00+08:00", "channel": "phone"},
            "at",
        ),
        ("/outcomes", {"kind": "no_answer", "at": "2025-06-02T10:00:00", "channel": "phone"}, "at"),
        ("/outcomes", {"kind": "no_answer", "at": NOW.isoformat(), "channel": "pigeon"}, "channel"),
        ("/outcomes", {"kind": "shouted", "at": NOW.isoformat(), "channel": "phone"}, "kind"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_audited(
    server: Server, path: str, body: dict[str, object], field: str
) -> None:
    response = _post(server, "agency-a", "t1", f"/placements/L-1{path}", body)
    assert response.status_code == 422
    assert response.json()["error"].startswith(f"{field}=")
    (entry,) = server.audit.entries()
    assert (entry.allowed, entry.status) == (False, 422)
