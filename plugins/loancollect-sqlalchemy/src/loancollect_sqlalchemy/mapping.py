"""Explicit translation between table rows and the domain's frozen values.

One pair of functions per record (``*_to_row`` / ``row_to_*``), and one pair per
nested JSON document. Nothing here touches a connection. The round trip
``row_to_x(x_to_row(v)) == v`` holds for every value the domain can build; the
tests check it with hypothesis.

JSON layouts (compact, versioned by the Alembic revision that introduced them):

- money: ``[minor_units, "CNY"]``;
- dates: ISO ``"2025-03-01"``; instants: ISO with offset;
- installments: ``[[number, due, principal_minor, interest_minor, fees_minor|null,
  accrual_start|null, accrual_days|null], ...]`` in the loan's currency;
- arrangements: objects with a ``"type"`` (the :class:`ArrangementKind` value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from loancollect.domain.allocation import Component
from loancollect.domain.arrangements import (
    Arrangement,
    ArrangementKind,
    ArrangementStatus,
    GracePeriod,
    InstallmentPlan,
    PromiseToPay,
    Settlement,
    Waiver,
)
from loancollect.domain.calendar import DayCount
from loancollect.domain.case import (
    Assignment,
    Case,
    ChargeOff,
    ContactOutcome,
    Hold,
    HoldKind,
    LegalMatter,
    OutcomeKind,
    Placement,
    Sale,
)
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import Event, EventKind
from loancollect.domain.loans import (
    Borrower,
    ContactKind,
    ContactPoint,
    Frequency,
    Installment,
    Loan,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
    stored_loan,
)
from loancollect.domain.money import Money, Rounding
from loancollect.domain.policy_state import PolicyState
from loancollect.domain.strategy import PlannedAction, Tone
from loancollect.ports import DeliveryResult, DeliveryStatus, OutboxEntry, OutboxStatus

__all__ = [
    "action_from_json",
    "action_to_json",
    "arrangement_from_json",
    "arrangement_to_json",
    "borrower_to_row",
    "case_to_row",
    "event_to_row",
    "installments_to_json",
    "loan_to_row",
    "money_from_json",
    "money_to_json",
    "payment_to_row",
    "penalty_from_json",
    "penalty_to_json",
    "result_from_json",
    "result_to_json",
    "row_to_borrower",
    "row_to_case",
    "row_to_event",
    "row_to_loan",
    "row_to_outbox",
    "row_to_payment",
    "work_from_json",
    "work_to_json",
]

Row = Mapping[Any, Any]

_DEFAULT_PENALTY = PenaltyTerms()


# -- small values --------------------------------------------------------------------


def money_to_json(value: Money | None) -> list[Any] | None:
    """``[minor_units, currency]`` (``None`` stays ``None``)."""
    return None if value is None else [value.minor_units, value.currency]


def money_from_json(value: Sequence[Any] | None) -> Money | None:
    """The inverse of :func:`money_to_json`."""
    return None if value is None else Money.from_minor(int(value[0]), str(value[1]))


def _money(value: Sequence[Any]) -> Money:
    return Money.from_minor(int(value[0]), str(value[1]))


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


# -- borrowers -------------------------------------------------------------------------


def contact_point_to_json(cp: ContactPoint) -> dict[str, Any]:
    """One contact point as a JSON object."""
    out: dict[str, Any] = {"kind": cp.kind.value, "value": cp.value}
    if cp.label:
        out["label"] = cp.label
    if cp.time_zone is not None:
        out["tz"] = cp.time_zone
    if cp.verified:
        out["verified"] = True
    return out


def contact_point_from_json(doc: Mapping[str, Any]) -> ContactPoint:
    """The inverse of :func:`contact_point_to_json`."""
    return ContactPoint(
        ContactKind(doc["kind"]),
        doc["value"],
        label=doc.get("label", ""),
        time_zone=doc.get("tz"),
        verified=bool(doc.get("verified", False)),
    )


def borrower_to_row(b: Borrower) -> dict[str, Any]:
    """A ``lc_borrowers`` row."""
    return {
        "id": b.id,
        "kind": b.kind.value,
        "name": b.name,
        "jurisdiction": b.jurisdiction,
        "time_zone": b.time_zone,
        "locale": b.locale,
        "contact_points": [contact_point_to_json(cp) for cp in b.contact_points],
        "national_id": b.national_id,
        "income_minor": b.monthly_income.minor_units if b.monthly_income else None,
        "income_currency": b.monthly_income.currency if b.monthly_income else None,
        "debt_service_minor": (
            b.monthly_debt_service.minor_units if b.monthly_debt_service else None
        ),
        "debt_service_currency": (
            b.monthly_debt_service.currency if b.monthly_debt_service else None
        ),
    }


def row_to_borrower(row: Row) -> Borrower:
    """A :class:`Borrower` from a ``lc_borrowers`` row."""
    income = row["income_minor"]
    debt = row["debt_service_minor"]
    return Borrower(
        id=row["id"],
        kind=PartyKind(row["kind"]),
        name=row["name"],
        jurisdiction=row["jurisdiction"],
        time_zone=row["time_zone"],
        locale=row["locale"],
        contact_points=tuple(contact_point_from_json(d) for d in row["contact_points"]),
        national_id=row["national_id"],
        monthly_income=(
            None if income is None else Money.from_minor(income, row["income_currency"])
        ),
        monthly_debt_service=(
            None if debt is None else Money.from_minor(debt, row["debt_service_currency"])
        ),
    )


# -- loans -----------------------------------------------------------------------------


def installments_to_json(items: Sequence[Installment]) -> list[list[Any]]:
    """The schedule as compact rows (amounts in minor units of the loan's currency).

    Read back with ``loancollect.domain.loans.stored_installments`` (``stored_loan``).
    """
    return [
        [
            i.number,
            i.due_date.isoformat(),
            i.principal.minor_units,
            i.interest.minor_units,
            None if i.fees is None else i.fees.minor_units,
            _iso(i.accrual_start),
            i.accrual_days,
        ]
        for i in items
    ]


def penalty_to_json(p: PenaltyTerms) -> dict[str, Any] | None:
    """Penalty terms as an object; ``None`` for the default terms."""
    if p == _DEFAULT_PENALTY:
        return None
    return {
        "markup": str(p.markup),
        "rate": _rate(p.rate),
        "compound": p.compound,
        "day_count": p.day_count.value,
        "rounding": p.rounding.name,
        "accrue_from_grace_end": p.accrue_from_grace_end,
        "cap_rate": _rate(p.cap_rate),
    }


def penalty_from_json(doc: Mapping[str, Any] | None) -> PenaltyTerms:
    """The inverse of :func:`penalty_to_json`."""
    if doc is None:
        return _DEFAULT_PENALTY
    return PenaltyTerms(
        markup=Decimal(doc["markup"]),
        rate=_decimal(doc["rate"]),
        compound=bool(doc["compound"]),
        day_count=DayCount(doc["day_count"]),
        rounding=Rounding[doc["rounding"]],
        accrue_from_grace_end=bool(doc["accrue_from_grace_end"]),
        cap_rate=_decimal(doc["cap_rate"]),
    )


def loan_to_row(loan: Loan) -> dict[str, Any]:
    """A ``lc_loans`` row (the borrower goes to :func:`borrower_to_row`)."""
    return {
        "id": loan.id,
        "borrower_id": loan.borrower.id,
        "currency": loan.currency,
        "principal_minor": loan.principal.minor_units,
        "annual_rate": str(loan.annual_rate),
        "disbursement_date": loan.disbursement_date,
        "installments": installments_to_json(loan.installments),
        "method": loan.method.value,
        "frequency": loan.frequency.value,
        "day_count": None if loan.day_count is None else loan.day_count.value,
        "penalty": penalty_to_json(loan.penalty),
        "grace_days": loan.grace_days,
        "tolerance_minor": None if loan.tolerance is None else loan.tolerance.minor_units,
        "private_lending": loan.private_lending,
        "contract_date": loan.contract_date,
        "product": loan.product,
    }


def row_to_loan(row: Row, borrower: Borrower) -> Loan:
    """A :class:`Loan` from a ``lc_loans`` row and its borrower."""
    day_count = row["day_count"]
    return stored_loan(
        id=row["id"],
        borrower=borrower,
        currency=row["currency"],
        principal_minor=row["principal_minor"],
        annual_rate=Decimal(row["annual_rate"]),
        disbursement_date=row["disbursement_date"],
        schedule=row["installments"],
        method=RepaymentMethod(row["method"]),
        frequency=Frequency(row["frequency"]),
        day_count=None if day_count is None else DayCount(day_count),
        penalty=penalty_from_json(row["penalty"]),
        grace_days=row["grace_days"],
        tolerance_minor=row["tolerance_minor"],
        private_lending=bool(row["private_lending"]),
        contract_date=row["contract_date"],
        product=row["product"],
    )


# -- payments --------------------------------------------------------------------------


def payment_to_row(p: Payment) -> dict[str, Any]:
    """A ``lc_payments`` row."""
    return {
        "id": p.id,
        "loan_id": p.loan_id,
        "amount_minor": p.amount.minor_units,
        "currency": p.amount.currency,
        "value_date": p.value_date,
        "received_at": p.received_at,
        "reference": p.reference,
    }


def row_to_payment(row: Row) -> Payment:
    """A :class:`Payment` from a ``lc_payments`` row."""
    return Payment(
        id=row["id"],
        loan_id=row["loan_id"],
        amount=Money.from_minor(row["amount_minor"], row["currency"]),
        value_date=row["value_date"],
        received_at=row["received_at"],
        reference=row["reference"],
    )


# -- cases -----------------------------------------------------------------------------


def arrangement_to_json(a: Arrangement) -> dict[str, Any]:
    """One arrangement as an object tagged with its ``"type"``."""
    base: dict[str, Any] = {
        "type": a.kind.value,
        "id": a.id,
        "made_on": a.made_on.isoformat(),
        "status": a.status.value,
        "resolved_on": _iso(a.resolved_on),
    }
    if isinstance(a, PromiseToPay | Settlement):
        base.update(amount=money_to_json(a.amount), due=a.due.isoformat())
        base["missed_days"] = a.missed_days
    elif isinstance(a, InstallmentPlan):
        base.update(
            down_payment=money_to_json(a.down_payment),
            schedule=[[d.isoformat(), money_to_json(m)] for d, m in a.schedule],
            covers_balance=a.covers_balance,
            freeze_penalty=a.freeze_penalty,
            missed_days=a.missed_days,
            tolerance=money_to_json(a.tolerance),
        )
    elif isinstance(a, Waiver):
        base.update(
            component=a.component.value,
            amount=money_to_json(a.amount),
            approved_by=a.approved_by,
            role=a.role,
            reason=a.reason,
        )
    elif isinstance(a, GracePeriod):
        base.update(
            until=a.until.isoformat(),
            suspend_penalty=a.suspend_penalty,
            missed_days=a.missed_days,
        )
    else:  # pragma: no cover - the union is closed
        raise ValidationError("case.arrangements", type(a).__name__, "unknown arrangement type")
    return base


def arrangement_from_json(doc: Mapping[str, Any]) -> Arrangement:
    """The inverse of :func:`arrangement_to_json`."""
    kind = ArrangementKind(doc["type"])
    common: dict[str, Any] = {
        "id": doc["id"],
        "made_on": dt.date.fromisoformat(doc["made_on"]),
        "status": ArrangementStatus(doc["status"]),
        "resolved_on": _date(doc["resolved_on"]),
    }
    if kind is ArrangementKind.PROMISE:
        return PromiseToPay(
            **common,
            amount=_money(doc["amount"]),
            due=dt.date.fromisoformat(doc["due"]),
            missed_days=doc["missed_days"],
        )
    if kind is ArrangementKind.SETTLEMENT:
        return Settlement(
            **common,
            amount=_money(doc["amount"]),
            due=dt.date.fromisoformat(doc["due"]),
            missed_days=doc["missed_days"],
        )
    if kind is ArrangementKind.INSTALLMENT_PLAN:
        return InstallmentPlan(
            **common,
            down_payment=_money(doc["down_payment"]),
            schedule=tuple((dt.date.fromisoformat(d), _money(m)) for d, m in doc["schedule"]),
            covers_balance=doc["covers_balance"],
            freeze_penalty=doc["freeze_penalty"],
            missed_days=doc["missed_days"],
            tolerance=money_from_json(doc["tolerance"]),
        )
    if kind is ArrangementKind.WAIVER:
        return Waiver(
            **common,
            component=Component(doc["component"]),
            amount=_money(doc["amount"]),
            approved_by=doc["approved_by"],
            role=doc["role"],
            reason=doc["reason"],
        )
    return GracePeriod(
        **common,
        until=dt.date.fromisoformat(doc["until"]),
        suspend_penalty=doc["suspend_penalty"],
        missed_days=doc["missed_days"],
    )


def case_to_row(c: Case) -> dict[str, Any]:
    """A ``lc_cases`` row."""
    return {
        "loan_id": c.loan_id,
        "stage": c.stage,
        "stage_since": c.stage_since,
        "segment": c.segment,
        "variant": c.variant,
        "arrangements": [arrangement_to_json(a) for a in c.arrangements],
        "holds": [[h.kind.value, h.start.isoformat(), _iso(h.end), h.reason] for h in c.holds],
        "contacts": [[o.on.isoformat(), o.channel, o.outcome.value, o.note] for o in c.contacts],
        "flags": sorted(c.flags),
        "last_actions": [[rule, day.isoformat()] for rule, day in c.last_actions],
        "next_review_date": c.next_review_date,
        "closed_on": c.closed_on,
        "work": work_to_json(c),
    }


def row_to_case(row: Row) -> Case:
    """A :class:`Case` from a ``lc_cases`` row."""
    return Case(
        loan_id=row["loan_id"],
        stage=row["stage"],
        stage_since=row["stage_since"],
        segment=row["segment"],
        variant=row["variant"],
        arrangements=tuple(arrangement_from_json(d) for d in row["arrangements"]),
        holds=tuple(
            Hold(HoldKind(k), dt.date.fromisoformat(s), _date(e), r) for k, s, e, r in row["holds"]
        ),
        contacts=tuple(
            ContactOutcome(dt.date.fromisoformat(on), ch, OutcomeKind(o), note)
            for on, ch, o, note in row["contacts"]
        ),
        flags=frozenset(row["flags"]),
        last_actions=tuple((rule, dt.date.fromisoformat(day)) for rule, day in row["last_actions"]),
        next_review_date=row["next_review_date"],
        closed_on=row["closed_on"],
        **work_from_json(row["work"]),
    )


def work_to_json(c: Case) -> dict[str, Any] | None:
    """The case's assignment, placement, legal matter, charge-off, sale and policy state
    (``None``: none)."""
    doc: dict[str, Any] = {}
    if c.assignment is not None:
        a = c.assignment
        doc["assignment"] = {"agent": a.agent, "team": a.team, "since": a.since.isoformat()}
    if c.placement is not None:
        p = c.placement
        doc["placement"] = {
            "agency": p.agency,
            "placement": p.placement,
            "since": p.since.isoformat(),
            "tier": p.tier,
            "until": _iso(p.until),
        }
    if c.legal_matter is not None:
        lm = c.legal_matter
        doc["legal_matter"] = {
            "matter": lm.matter,
            "route": lm.route,
            "opened_on": lm.opened_on.isoformat(),
            "step": lm.step,
        }
    if c.charge_off is not None:
        co = c.charge_off
        doc["charge_off"] = {
            "amount": money_to_json(co.amount),
            "reason": co.reason,
            "on": co.on.isoformat(),
            "written_off": co.written_off,
        }
    if c.sale is not None:
        sale = c.sale
        doc["sale"] = {
            "buyer": sale.buyer,
            "sale": sale.sale,
            "on": sale.on.isoformat(),
            "price": money_to_json(sale.price),
        }
    if not c.policy_state.is_empty:
        doc["policy"] = c.policy_state.to_doc()
    return doc or None


def work_from_json(doc: Mapping[str, Any] | None) -> dict[str, Any]:
    """The :class:`Case` fields of a stored ``work`` document (the inverse of
    :func:`work_to_json`)."""
    if not doc:
        return {}
    out: dict[str, Any] = {}
    if (a := doc.get("assignment")) is not None:
        out["assignment"] = Assignment(
            agent=a["agent"], team=a["team"], since=dt.date.fromisoformat(a["since"])
        )
    if (p := doc.get("placement")) is not None:
        out["placement"] = Placement(
            agency=p["agency"],
            placement=p["placement"],
            since=dt.date.fromisoformat(p["since"]),
            tier=p["tier"],
            until=_date(p["until"]),
        )
    if (lm := doc.get("legal_matter")) is not None:
        out["legal_matter"] = LegalMatter(
            matter=lm["matter"],
            route=lm["route"],
            opened_on=dt.date.fromisoformat(lm["opened_on"]),
            step=lm["step"],
        )
    if (co := doc.get("charge_off")) is not None:
        amount = money_from_json(co["amount"])
        assert amount is not None
        out["charge_off"] = ChargeOff(
            amount=amount,
            reason=co["reason"],
            on=dt.date.fromisoformat(co["on"]),
            written_off=co["written_off"],
        )
    if (sale := doc.get("sale")) is not None:
        out["sale"] = Sale(
            buyer=sale["buyer"],
            sale=sale["sale"],
            on=dt.date.fromisoformat(sale["on"]),
            price=money_from_json(sale["price"]),
        )
    if (policy := doc.get("policy")) is not None:
        out["policy_state"] = PolicyState.from_doc(policy)
    return out


# -- outbox ----------------------------------------------------------------------------


def action_to_json(a: PlannedAction) -> dict[str, Any]:
    """A planned action as an object (the contact point included)."""
    return {
        "loan_id": a.loan_id,
        "rule_id": a.rule_id,
        "stage": a.stage,
        "channel": a.channel,
        "template": a.template,
        "tone": a.tone.value,
        "as_of": a.as_of.isoformat(),
        "locale": a.locale,
        "idempotency_key": a.idempotency_key,
        "contact": None if a.contact is None else contact_point_to_json(a.contact),
        "fallbacks": list(a.fallbacks),
        "variant": a.variant,
        "segment": a.segment,
    }


def action_from_json(doc: Mapping[str, Any]) -> PlannedAction:
    """The inverse of :func:`action_to_json`."""
    contact = doc["contact"]
    return PlannedAction(
        loan_id=doc["loan_id"],
        rule_id=doc["rule_id"],
        stage=doc["stage"],
        channel=doc["channel"],
        template=doc["template"],
        tone=Tone(doc["tone"]),
        as_of=dt.date.fromisoformat(doc["as_of"]),
        locale=doc["locale"],
        idempotency_key=doc["idempotency_key"],
        contact=None if contact is None else contact_point_from_json(contact),
        fallbacks=tuple(doc["fallbacks"]),
        variant=doc["variant"],
        segment=doc["segment"],
    )


def result_to_json(r: DeliveryResult | None) -> dict[str, Any] | None:
    """A delivery result as an object."""
    if r is None:
        return None
    return {
        "status": r.status.value,
        "provider_id": r.provider_id,
        "detail": r.detail,
        "evidence": [list(pair) for pair in r.evidence],
    }


def result_from_json(doc: Mapping[str, Any] | None) -> DeliveryResult | None:
    """The inverse of :func:`result_to_json`."""
    if doc is None:
        return None
    return DeliveryResult(
        status=DeliveryStatus(doc["status"]),
        provider_id=doc["provider_id"],
        detail=doc["detail"],
        evidence=tuple((k, v) for k, v in doc["evidence"]),
    )


def row_to_outbox(row: Row) -> OutboxEntry:
    """An :class:`OutboxEntry` from a ``lc_outbox`` row."""
    return OutboxEntry(
        key=row["key"],
        action=action_from_json(row["action"]),
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"],
        created_on=row["created_on"],
        sent_at=row["sent_at"],
        result=result_from_json(row["result"]),
    )


# -- events ----------------------------------------------------------------------------


def event_to_row(e: Event) -> dict[str, Any]:
    """A ``lc_events`` row; ``at`` keeps its ISO text because the hash covers it."""
    return {
        "loan_id": e.loan_id,
        "seq": e.seq,
        "kind": e.kind.value,
        "on": e.on,
        "at": None if e.at is None else e.at.isoformat(),
        "at_utc": e.at,
        "data": [list(pair) for pair in e.data],
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def row_to_event(row: Row) -> Event:
    """An :class:`Event` from a ``lc_events`` row."""
    at = row["at"]
    return Event(
        kind=EventKind(row["kind"]),
        loan_id=row["loan_id"],
        on=row["on"],
        data=tuple((k, v) for k, v in row["data"]),
        at=None if at is None else dt.datetime.fromisoformat(at),
        seq=row["seq"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
