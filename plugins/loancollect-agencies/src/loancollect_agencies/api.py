"""The agency API: an ASGI app through which an agency works the cases placed with it.

A host mounts :func:`agency_app` (Starlette) behind its TLS terminator. Every
credential (a bearer token, stored only as its SHA-256) is scoped to one agency
and one tenant; with it, the agency sees only the cases *currently* placed with
it in that tenant — never another agency's, never a recalled one, never another
tenant's — and each case only as its placement record
(:class:`~loancollect_agencies.files.PlacementRecord`: what the placement file
carries, nothing more). A case that is not the caller's is answered exactly as
a case that does not exist (404), so nothing is learnt by asking.

What the agency posts — contact outcomes, promises, payments collected — goes in
through the tenant's intake like any other outcome or payment: an agency's
contacts count toward the borrower's contact caps, its payments are payments
(and recoveries on a charged-off debt). Every call, allowed or refused, is
written to the audit trail.

Endpoints (JSON)::

    GET  /placements                        the caller's current placements
    GET  /placements/{loan_id}              one placement record
    POST /placements/{loan_id}/outcomes     {"kind", "at", "channel", "agent"?, "note"?,
                                             "duration_s"?}
    POST /placements/{loan_id}/promises     {"at", "amount", "due", "channel", "agent"?}
    POST /placements/{loan_id}/payments     {"payment_id", "amount", "value_date", "received_at"}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from loancollect.domain.case import Case, OutcomeKind
from loancollect.domain.errors import ValidationError
from loancollect.domain.intake import Actor, Outcome, PromiseTerms
from loancollect.domain.loans import Loan, Payment
from loancollect.domain.money import Money
from loancollect.domain.overdue import DEFAULT_CONFIG, AssessmentConfig, assess
from loancollect.engine import Intake
from loancollect.errors import LoanCollectError
from loancollect.ports import UnitOfWorkFactory
from loancollect_agencies.audit import AuditEntry, AuditTrail
from loancollect_agencies.files import PlacementRecord, placement_record

__all__ = [
    "AGENCY_CHANNELS",
    "Credential",
    "Tenant",
    "agency_app",
    "credential",
    "placement_of",
]

AGENCY_CHANNELS = frozenset({"phone", "sms", "email", "letter", "visit"})
"""The channels an agency reports contacts on (each is a contact the caps count)."""


@attrs.frozen(kw_only=True)
class Credential:
    """An agency's credential: the SHA-256 of its token, its agency and tenant."""

    agency: str
    tenant: str
    token_sha256: str = attrs.field(repr=False)


def credential(agency: str, tenant: str, token: str) -> Credential:
    """The credential of ``token`` (only its digest is kept).

    :raises ValidationError: for an empty agency or tenant, or a token shorter than 32 characters.
    """
    if not agency.strip() or not tenant.strip():
        raise ValidationError("credential.agency", agency, "name the agency and the tenant")
    if len(token) < 32:
        raise ValidationError("credential.token", "***", "at least 32 characters")
    return Credential(agency=agency, tenant=tenant, token_sha256=_digest(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen(kw_only=True)
class Tenant:
    """A tenant's storage and intake, as the API reaches them."""

    storage: UnitOfWorkFactory
    intake: Intake
    assessment: AssessmentConfig = DEFAULT_CONFIG
    placed: Callable[[str], Iterable[str]] | None = None
    """The loan ids the host's index says are placed with an agency (each is checked
    against its case before anything is shown); ``None``: every case is looked at."""


class _RefusedError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_Handler = Callable[[Request, Credential, Tenant, dt.datetime], Awaitable[object]]


def placement_of(tenant: Tenant, agency: str, loan_id: str, on: dt.date) -> PlacementRecord:
    """The placement record of ``loan_id`` if it is placed with ``agency`` now.

    :raises LookupError: otherwise (whatever the reason: the caller learns nothing).
    """
    with tenant.storage() as uow:
        case = uow.cases.get(loan_id)
        loan = uow.loans.get(loan_id)
        if case is None or loan is None or not _placed_with(case, agency, on):
            raise LookupError(loan_id)
        payments = uow.loans.payments_for(loan_id)
    return placement_record(loan, case, assess(loan, payments, on, config=tenant.assessment))


def _placed_with(case: Case, agency: str, on: dt.date) -> bool:
    placed = case.placement
    return (
        placed is not None
        and placed.agency == agency
        and case.sale is None
        and placed.since <= on
        and (placed.until is None or on <= placed.until)
    )


def _placements(tenant: Tenant, agency: str, on: dt.date) -> list[PlacementRecord]:
    out: list[PlacementRecord] = []
    after: str | None = None
    indexed = sorted(set(tenant.placed(agency))) if tenant.placed is not None else None
    while True:
        with tenant.storage() as uow:
            ids = indexed if indexed is not None else uow.loans.list_ids(after=after, limit=500)
            mine: list[tuple[Loan, Case]] = []
            for loan_id in ids:
                case = uow.cases.get(loan_id)
                if case is not None and _placed_with(case, agency, on):
                    loan = uow.loans.get(loan_id)
                    if loan is not None:
                        mine.append((loan, case))
            found = [(loan, case, uow.loans.payments_for(loan.id)) for loan, case in mine]
        for loan, case, payments in found:
            out.append(
                placement_record(loan, case, assess(loan, payments, on, config=tenant.assessment))
            )
        if indexed is not None or len(ids) < 500:
            return out
        after = ids[-1]


def _text(body: Mapping[str, Any], field: str, *, required: bool = True) -> str:
    value = body.get(field, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(field, value, "a non-empty string is required")
    return value


def _instant(body: Mapping[str, Any], field: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(_text(body, field))
    except ValueError as exc:
        raise ValidationError(field, body.get(field), "an ISO 8601 instant") from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(field, body.get(field), "naive datetime; give a time zone")
    return at


def _date(body: Mapping[str, Any], field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(_text(body, field))
    except ValueError as exc:
        raise ValidationError(field, body.get(field), "an ISO 8601 date") from exc


def _money(body: Mapping[str, Any], field: str, currency: str) -> Money:
    raw = body.get(field)
    if not isinstance(raw, str):  # never a JSON number: it would pass through a float
        raise ValidationError(field, raw, "an amount as a decimal string")
    try:
        return Money(Decimal(raw), currency)
    except InvalidOperation as exc:
        raise ValidationError(field, raw, "an amount as a decimal string") from exc


def _channel(body: Mapping[str, Any]) -> str:
    channel = _text(body, "channel")
    if channel not in AGENCY_CHANNELS:
        raise ValidationError("channel", channel, f"one of {', '.join(sorted(AGENCY_CHANNELS))}")
    return channel


def _not_before(record: PlacementRecord, day: dt.date, field: str) -> None:
    if day < record.since:
        raise ValidationError(field, day.isoformat(), f"before the placement ({record.since})")


def agency_app(
    *,
    tenants: Mapping[str, Tenant],
    credentials: Iterable[Credential],
    audit: AuditTrail,
    now: Callable[[], dt.datetime],
) -> Starlette:
    """The agency API over ``tenants``, for holders of ``credentials``.

    :param now: the clock (time-zone aware): today's date decides what is placed.
    """
    known = tuple(credentials)
    for c in known:
        if c.tenant not in tenants:
            raise ValidationError("credential.tenant", c.tenant, "no such tenant")

    def who(request: Request) -> Credential:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _RefusedError(401, "no bearer token")
        digest = _digest(token.strip())
        for c in known:
            if hmac.compare_digest(c.token_sha256, digest):
                return c
        raise _RefusedError(401, "unknown token")

    def endpoint(handler: _Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def run(request: Request) -> JSONResponse:
            at = now()
            body: dict[str, object]
            loan_id = str(request.path_params.get("loan_id", ""))
            agency = tenant_name = ""
            try:
                cred = who(request)
                agency, tenant_name = cred.agency, cred.tenant
                result = await handler(request, cred, tenants[cred.tenant], at)
            except _RefusedError as exc:
                status, reason, body = exc.status, exc.reason, {"error": exc.reason}
            except LookupError:
                status, reason = 404, "not placed with the caller"
                body = {"error": "no such placement"}
            except LoanCollectError as exc:
                status, reason, body = 422, str(exc), {"error": str(exc)}
            else:
                status, reason, body = 200, "", {"data": result}
            audit.record(
                AuditEntry(
                    at=at,
                    tenant=tenant_name,
                    agency=agency,
                    method=request.method,
                    path=request.url.path,
                    loan_id=loan_id,
                    status=status,
                    allowed=status == 200,
                    reason=reason,
                )
            )
            return JSONResponse(body, status_code=status)

        return run

    async def body_of(request: Request) -> Mapping[str, Any]:
        try:
            data = json.loads(await request.body())
        except ValueError as exc:
            raise ValidationError("body", "", "not JSON") from exc
        if not isinstance(data, dict):
            raise ValidationError("body", type(data).__name__, "a JSON object")
        return data

    async def list_placements(
        request: Request, cred: Credential, tenant: Tenant, at: dt.datetime
    ) -> object:
        records = await run_in_threadpool(_placements, tenant, cred.agency, at.date())
        return [r.as_row() for r in records]

    async def one_placement(
        request: Request, cred: Credential, tenant: Tenant, at: dt.datetime
    ) -> object:
        loan_id = request.path_params["loan_id"]
        record = await run_in_threadpool(placement_of, tenant, cred.agency, loan_id, at.date())
        return record.as_row()

    async def post_outcome(
        request: Request, cred: Credential, tenant: Tenant, at: dt.datetime
    ) -> object:
        loan_id = request.path_params["loan_id"]
        body = await body_of(request)
        record = await run_in_threadpool(placement_of, tenant, cred.agency, loan_id, at.date())
        try:
            kind = OutcomeKind(_text(body, "kind"))
        except ValueError as exc:
            raise ValidationError("kind", body.get("kind"), "not an outcome kind") from exc
        if kind is OutcomeKind.PROMISE:
            raise ValidationError("kind", kind.value, "post promises to /promises")
        duration = body.get("duration_s")
        if duration is not None and (not isinstance(duration, int) or duration < 0):
            raise ValidationError("duration_s", duration, "a whole number of seconds")
        when = _instant(body, "at")
        _not_before(record, when.date(), "at")
        outcome = Outcome(
            kind=kind,
            at=when,
            channel=_channel(body),
            by=Actor(agent=_text(body, "agent", required=False), agency=cred.agency),
            duration=dt.timedelta(seconds=duration) if duration is not None else None,
            note=_text(body, "note", required=False),
        )
        await run_in_threadpool(tenant.intake.record_outcome, loan_id, outcome)
        return {"recorded": kind.value}

    async def post_promise(
        request: Request, cred: Credential, tenant: Tenant, at: dt.datetime
    ) -> object:
        loan_id = request.path_params["loan_id"]
        body = await body_of(request)
        record = await run_in_threadpool(placement_of, tenant, cred.agency, loan_id, at.date())
        when = _instant(body, "at")
        _not_before(record, when.date(), "at")
        terms = PromiseTerms(amount=_money(body, "amount", record.currency), due=_date(body, "due"))
        outcome = Outcome(
            kind=OutcomeKind.PROMISE,
            at=when,
            channel=_channel(body),
            by=Actor(agent=_text(body, "agent", required=False), agency=cred.agency),
            promise=terms,
        )
        await run_in_threadpool(tenant.intake.record_outcome, loan_id, outcome)
        return {"recorded": "promise"}

    async def post_payment(
        request: Request, cred: Credential, tenant: Tenant, at: dt.datetime
    ) -> object:
        loan_id = request.path_params["loan_id"]
        body = await body_of(request)
        record = await run_in_threadpool(placement_of, tenant, cred.agency, loan_id, at.date())
        reference = _text(body, "payment_id")
        value_date = _date(body, "value_date")
        _not_before(record, value_date, "value_date")
        payment = Payment(
            # the agency's own id, kept apart from every other source's ids
            id=f"agency:{cred.agency}:{reference}",
            loan_id=loan_id,
            amount=_money(body, "amount", record.currency),
            value_date=value_date,
            received_at=_instant(body, "received_at"),
            reference=reference,
        )
        await run_in_threadpool(_record_new_payment, tenant, payment)
        return {"recorded": payment.id}

    routes = [
        Route("/placements", endpoint(list_placements), methods=["GET"]),
        Route("/placements/{loan_id}", endpoint(one_placement), methods=["GET"]),
        Route("/placements/{loan_id}/outcomes", endpoint(post_outcome), methods=["POST"]),
        Route("/placements/{loan_id}/promises", endpoint(post_promise), methods=["POST"]),
        Route("/placements/{loan_id}/payments", endpoint(post_payment), methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _record_new_payment(tenant: Tenant, payment: Payment) -> None:
    with tenant.storage() as uow:
        known = {p.id for p in uow.loans.payments_for(payment.loan_id)}
    if payment.id in known:
        raise ValidationError("payment_id", payment.reference, "reported already")
    tenant.intake.record_payment(payment)
