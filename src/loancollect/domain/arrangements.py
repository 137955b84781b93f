"""Repayment arrangements: the incentives of collection.

- :class:`PromiseToPay` — an amount by a date; kept if paid (within a tolerance)
  by the date, broken once the date plus the allowed missed days has passed.
- :class:`InstallmentPlan` (分期还款) — the overdue amount (or the whole balance)
  re-scheduled into a down payment and N installments; penalty is frozen while
  the plan is kept.
- :class:`Waiver` (减免) — a reduction of penalty, compound interest, interest or
  fees, within the approver's authority (:class:`ApprovalAuthority`).
- :class:`GracePeriod` (宽限期) — escalation (and optionally penalty) suspended
  until a date; kept if the loan is current by then.
- :class:`Settlement` — a discounted lump sum; paid in full by its date, the loan
  is settled and the rest is written off.

Status is a pure function of the arrangement, the payments and the date
(:func:`evaluate`); broken arrangements re-escalate the case.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from loancollect.domain.allocation import Component
from loancollect.domain.checks import check_bool, check_date, check_text, require_enum
from loancollect.domain.errors import ConfigurationError, CurrencyMismatchError, ValidationError
from loancollect.domain.loans import DateRange, Loan, Payment
from loancollect.domain.money import Money, Rounding, to_decimal
from loancollect.domain.overdue import Adjustment

__all__ = [
    "ApprovalAuthority",
    "ApprovalError",
    "Arrangement",
    "ArrangementKind",
    "ArrangementStatus",
    "Effects",
    "GracePeriod",
    "InstallmentPlan",
    "PromisePolicy",
    "PromiseToPay",
    "Settlement",
    "Waiver",
    "effects",
    "evaluate",
    "make_plan",
]


class ArrangementKind(enum.Enum):
    """The kinds of arrangement."""

    PROMISE = "promise"
    INSTALLMENT_PLAN = "installment_plan"
    WAIVER = "waiver"
    GRACE_PERIOD = "grace_period"
    SETTLEMENT = "settlement"


class ArrangementStatus(enum.Enum):
    """Life cycle: PENDING/ACTIVE are open; KEPT, COMPLETED, BROKEN, CANCELLED are final."""

    PENDING = "pending"
    ACTIVE = "active"
    KEPT = "kept"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """True while the arrangement still runs."""
        return self in (ArrangementStatus.PENDING, ArrangementStatus.ACTIVE)


def _positive(field: str, value: Money) -> None:
    if not isinstance(value, Money) or not value.is_positive():
        raise ValidationError(field, value, "must be positive Money")


def _common(arrangement: object, prefix: str, *dates: str, flags: tuple[str, ...] = ()) -> None:
    """The checks every arrangement shares: id, dates, status, missed days, flags."""
    check_text(f"{prefix}.id", getattr(arrangement, "id"), required=True)  # noqa: B009
    for name in ("made_on", *dates):
        check_date(f"{prefix}.{name}", getattr(arrangement, name))
    resolved = getattr(arrangement, "resolved_on")  # noqa: B009
    if resolved is not None:
        check_date(f"{prefix}.resolved_on", resolved)
    require_enum(ArrangementStatus, getattr(arrangement, "status"), f"{prefix}.status")  # noqa: B009
    missed = getattr(arrangement, "missed_days", 0)
    if isinstance(missed, bool) or not isinstance(missed, int) or not 0 <= missed <= 366:
        raise ValidationError(f"{prefix}.missed_days", missed, "must be an int from 0 to 366")
    for name in flags:
        check_bool(f"{prefix}.{name}", getattr(arrangement, name))


@attrs.frozen(kw_only=True)
class PromiseToPay:
    """A promise to pay ``amount`` by ``due`` (inclusive).

    :param missed_days: days after ``due`` before the promise counts as broken.
    """

    id: str
    made_on: dt.date
    amount: Money
    due: dt.date
    missed_days: int = 0
    status: ArrangementStatus = ArrangementStatus.PENDING
    resolved_on: dt.date | None = None

    kind = ArrangementKind.PROMISE

    def __attrs_post_init__(self) -> None:
        _common(self, "promise", "due")
        _positive("promise.amount", self.amount)
        if self.due < self.made_on:
            raise ValidationError(
                "promise.due", self.due.isoformat(), "before the promise was made"
            )

    @property
    def currency(self) -> str:
        """The promise's currency."""
        return self.amount.currency

    def review_dates(self) -> tuple[dt.date, ...]:
        """Dates on which the status may change."""
        return (self.due, self.due + dt.timedelta(days=self.missed_days + 1))


@attrs.frozen(kw_only=True)
class InstallmentPlan:
    """A re-scheduling of what is overdue (or of the whole balance).

    :param schedule: ``(date, amount)`` of each plan installment, after the down payment.
    :param covers_balance: true if the plan replaces the whole remaining schedule;
        false (the default) if regular installments falling due during the plan
        must still be paid on top of it.
    :param freeze_penalty: no penalty or compound interest while the plan is kept.
    """

    id: str
    made_on: dt.date
    down_payment: Money
    schedule: tuple[tuple[dt.date, Money], ...]
    covers_balance: bool = False
    freeze_penalty: bool = True
    missed_days: int = 5
    tolerance: Money | None = None
    status: ArrangementStatus = ArrangementStatus.ACTIVE
    resolved_on: dt.date | None = None

    kind = ArrangementKind.INSTALLMENT_PLAN

    def __attrs_post_init__(self) -> None:
        _common(self, "plan", flags=("covers_balance", "freeze_penalty"))
        if not isinstance(self.down_payment, Money):
            raise ValidationError("plan.down_payment", self.down_payment, "expected Money")
        if self.tolerance is not None and not isinstance(self.tolerance, Money):
            raise ValidationError("plan.tolerance", self.tolerance, "expected Money or None")
        if isinstance(self.schedule, str | bytes) or not isinstance(self.schedule, Sequence):
            raise ValidationError("plan.schedule", self.schedule, "expected (date, Money) pairs")
        if not self.schedule:
            raise ValidationError("plan.schedule", (), "a plan needs at least one installment")
        previous = self.made_on
        for i, item in enumerate(self.schedule):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise ValidationError(f"plan.schedule[{i}]", item, "expected a (date, Money) pair")
            day, amount = item
            check_date(f"plan.schedule[{i}].date", day)
            _positive(f"plan.schedule[{i}].amount", amount)
            if amount.currency != self.down_payment.currency:
                raise CurrencyMismatchError("plan", self.down_payment.currency, amount.currency)
            if day <= previous and not (i == 0 and day == previous):
                raise ValidationError(
                    f"plan.schedule[{i}].date", day.isoformat(), "plan dates must increase"
                )
            previous = day
        if self.down_payment.is_negative():
            raise ValidationError("plan.down_payment", self.down_payment, "may not be negative")

    @property
    def currency(self) -> str:
        """The plan's currency."""
        return self.down_payment.currency

    @property
    def total(self) -> Money:
        """Down payment plus every plan installment."""
        total = self.down_payment
        for _, amount in self.schedule:
            total = total + amount
        return total

    @property
    def end(self) -> dt.date:
        """Date of the last plan installment."""
        return self.schedule[-1][0]

    def review_dates(self) -> tuple[dt.date, ...]:
        """Dates on which the status may change."""
        gap = dt.timedelta(days=self.missed_days + 1)
        out = [self.made_on + gap]
        for day, _ in self.schedule:
            out.extend((day, day + gap))
        return tuple(out)


@attrs.frozen(kw_only=True)
class Waiver:
    """An approved reduction of one component (applied on ``made_on``)."""

    id: str
    made_on: dt.date
    component: Component
    amount: Money
    approved_by: str
    role: str
    reason: str = ""
    status: ArrangementStatus = ArrangementStatus.COMPLETED
    resolved_on: dt.date | None = None

    kind = ArrangementKind.WAIVER

    def __attrs_post_init__(self) -> None:
        _common(self, "waiver")
        require_enum(Component, self.component, "waiver.component")
        for name in ("approved_by", "role"):
            check_text(f"waiver.{name}", getattr(self, name), required=True)
        check_text("waiver.reason", self.reason)
        _positive("waiver.amount", self.amount)
        if self.component is Component.PRINCIPAL:
            raise ValidationError(
                "waiver.component", "principal", "principal is not waived; use a settlement"
            )

    @property
    def currency(self) -> str:
        """The waiver's currency."""
        return self.amount.currency

    def review_dates(self) -> tuple[dt.date, ...]:
        """A waiver takes effect at once; nothing to review."""
        return ()


@attrs.frozen(kw_only=True)
class GracePeriod:
    """Escalation suspended until ``until``; kept if the loan is current by then.

    :param suspend_penalty: also stop penalty and compound interest accruing.
    """

    id: str
    made_on: dt.date
    until: dt.date
    suspend_penalty: bool = False
    missed_days: int = 0
    status: ArrangementStatus = ArrangementStatus.ACTIVE
    resolved_on: dt.date | None = None

    kind = ArrangementKind.GRACE_PERIOD

    def __attrs_post_init__(self) -> None:
        _common(self, "grace", "until", flags=("suspend_penalty",))
        if self.until < self.made_on:
            raise ValidationError("grace.until", self.until.isoformat(), "before the grant date")

    def review_dates(self) -> tuple[dt.date, ...]:
        """Dates on which the status may change."""
        return (self.until + dt.timedelta(days=self.missed_days + 1),)


@attrs.frozen(kw_only=True)
class Settlement:
    """A discounted lump sum ``amount`` payable by ``due``; the rest is written off."""

    id: str
    made_on: dt.date
    amount: Money
    due: dt.date
    missed_days: int = 0
    status: ArrangementStatus = ArrangementStatus.PENDING
    resolved_on: dt.date | None = None

    kind = ArrangementKind.SETTLEMENT

    def __attrs_post_init__(self) -> None:
        _common(self, "settlement", "due")
        _positive("settlement.amount", self.amount)
        if self.due < self.made_on:
            raise ValidationError("settlement.due", self.due.isoformat(), "before it was agreed")

    @property
    def currency(self) -> str:
        """The settlement's currency."""
        return self.amount.currency

    def review_dates(self) -> tuple[dt.date, ...]:
        """Dates on which the status may change."""
        return (self.due, self.due + dt.timedelta(days=self.missed_days + 1))


Arrangement = PromiseToPay | InstallmentPlan | Waiver | GracePeriod | Settlement


def _paid_between(payments: Sequence[Payment], start: dt.date, end: dt.date) -> int:
    """Minor units paid with value dates in ``[start, end]``."""
    return sum(p.amount.minor_units for p in payments if start <= p.value_date <= end)


def evaluate(
    arrangement: Arrangement,
    loan: Loan,
    payments: Sequence[Payment],
    as_of: dt.date,
    *,
    dpd: int,
) -> Arrangement:
    """The arrangement with its status brought up to ``as_of``.

    Final statuses never change. ``dpd`` is the loan's days past due on ``as_of``
    (used by grace periods).
    """
    if not arrangement.status.is_open:
        return arrangement
    tol = loan.tolerance.minor_units if loan.tolerance is not None else 0
    if isinstance(arrangement, PromiseToPay | Settlement):
        paid = _paid_between(payments, arrangement.made_on, min(as_of, arrangement.due))
        if paid + tol >= arrangement.amount.minor_units:
            kept_on = _reached_on(
                payments, arrangement.made_on, arrangement.amount.minor_units - tol
            )
            final = (
                ArrangementStatus.KEPT
                if isinstance(arrangement, PromiseToPay)
                else ArrangementStatus.COMPLETED
            )
            return attrs.evolve(arrangement, status=final, resolved_on=kept_on)
        if as_of > arrangement.due + dt.timedelta(days=arrangement.missed_days):
            broken_on = arrangement.due + dt.timedelta(days=arrangement.missed_days + 1)
            return attrs.evolve(arrangement, status=ArrangementStatus.BROKEN, resolved_on=broken_on)
        return arrangement
    if isinstance(arrangement, InstallmentPlan):
        return _evaluate_plan(arrangement, loan, payments, as_of, tol)
    if isinstance(arrangement, GracePeriod):
        if dpd == 0 and as_of >= arrangement.made_on:
            return attrs.evolve(arrangement, status=ArrangementStatus.KEPT, resolved_on=as_of)
        if as_of > arrangement.until + dt.timedelta(days=arrangement.missed_days):
            broken_on = arrangement.until + dt.timedelta(days=arrangement.missed_days + 1)
            return attrs.evolve(arrangement, status=ArrangementStatus.BROKEN, resolved_on=broken_on)
        return arrangement
    return arrangement  # waivers are final when made


def _reached_on(payments: Sequence[Payment], start: dt.date, target: int) -> dt.date:
    total = 0
    for p in sorted(payments, key=lambda p: p.value_date):
        if p.value_date < start:
            continue
        total += p.amount.minor_units
        if total >= target:
            return p.value_date
    return start


def _evaluate_plan(
    plan: InstallmentPlan, loan: Loan, payments: Sequence[Payment], as_of: dt.date, tol: int
) -> InstallmentPlan:
    plan_tol = plan.tolerance.minor_units if plan.tolerance is not None else tol
    regular = []
    if not plan.covers_balance:
        # Regular installments that fall due during the plan are owed on top of it.
        regular = [
            (dt.date.fromordinal(row[0]), row[1] + row[2] + row[3])
            for row in loan.plan
            if dt.date.fromordinal(row[0]) > plan.made_on
        ]
    checkpoints = [(plan.made_on, plan.down_payment.minor_units)]
    checkpoints += [(day, amount.minor_units) for day, amount in plan.schedule]
    required = 0
    gap = dt.timedelta(days=plan.missed_days)
    for day, amount in checkpoints:
        required += amount
        owed = required + sum(a for d, a in regular if d <= day)
        if as_of > day + gap:
            paid = _paid_between(payments, plan.made_on, day + gap)
            if paid + plan_tol < owed:
                return attrs.evolve(
                    plan,
                    status=ArrangementStatus.BROKEN,
                    resolved_on=day + gap + dt.timedelta(days=1),
                )
    total_owed = plan.total.minor_units + sum(a for d, a in regular if d <= plan.end)
    if _paid_between(payments, plan.made_on, as_of) + plan_tol >= total_owed:
        return attrs.evolve(plan, status=ArrangementStatus.COMPLETED, resolved_on=as_of)
    return plan


@attrs.frozen
class Effects:
    """What arrangements change in the assessment and in escalation."""

    adjustments: tuple[Adjustment, ...] = ()
    penalty_holds: tuple[DateRange, ...] = ()
    pauses: tuple[DateRange, ...] = ()
    suspends_escalation: bool = False
    suppresses_contact: bool = False


def effects(arrangements: Iterable[Arrangement], as_of: dt.date) -> Effects:
    """Adjustments, penalty holds and pauses implied by ``arrangements`` on ``as_of``.

    Holds and pauses start the day after the arrangement is made: the amount
    agreed on that day already includes that day's penalty.
    """
    adjustments: list[Adjustment] = []
    holds: list[DateRange] = []
    pauses: list[DateRange] = []
    suspends = suppresses = False
    one = dt.timedelta(days=1)
    for a in arrangements:
        if a.made_on > as_of:
            continue
        if isinstance(a, Waiver):
            adjustments.append(Adjustment(a.made_on, a.component, a.amount, None, f"waiver {a.id}"))
        elif isinstance(a, InstallmentPlan | GracePeriod):
            end = a.end if isinstance(a, InstallmentPlan) else a.until
            if a.status is ArrangementStatus.BROKEN and a.resolved_on is not None:
                end = min(end, a.resolved_on - one)
            elif a.status is ArrangementStatus.COMPLETED and a.resolved_on is not None:
                end = min(end, a.resolved_on)
            if end >= a.made_on + one:
                held = DateRange(a.made_on + one, end)
                if a.freeze_penalty if isinstance(a, InstallmentPlan) else a.suspend_penalty:
                    holds.append(held)
                pauses.append(held)
            suspends = suspends or a.status.is_open
        elif isinstance(a, PromiseToPay):
            suppresses = suppresses or a.status.is_open
        elif isinstance(a, Settlement):
            suspends = suspends or a.status.is_open
            suppresses = suppresses or a.status.is_open
    return Effects(tuple(adjustments), tuple(holds), tuple(pauses), suspends, suppresses)


@attrs.frozen
class ApprovalLimit:
    """``role`` may waive up to ``max_fraction`` of the outstanding ``component``."""

    role: str
    component: Component
    max_fraction: Decimal


class ApprovalError(ValidationError):
    """A waiver exceeds the approver's authority."""


@attrs.frozen
class ApprovalAuthority:
    """Who may waive how much (e.g. agent ≤ 10 % of interest, supervisor ≤ 50 %)."""

    limits: tuple[ApprovalLimit, ...]

    @classmethod
    def of(cls, table: Iterable[tuple[str, str, object]]) -> ApprovalAuthority:
        """Build from ``(role, component, max fraction)`` rows."""
        limits = []
        for i, (role, component, fraction) in enumerate(table):
            try:
                comp = Component(component)
            except ValueError:
                raise ConfigurationError(
                    f"approval limit {i}: component={component!r} unknown"
                ) from None
            frac = to_decimal(fraction, f"approval[{i}].max_fraction")
            if not (0 <= frac <= 1):
                raise ConfigurationError(f"approval limit {i}: max_fraction={frac} not in [0, 1]")
            limits.append(ApprovalLimit(role, comp, frac))
        return cls(tuple(limits))

    def limit(self, role: str, component: Component) -> Decimal:
        """The largest fraction ``role`` may waive of ``component`` (0 if none)."""
        for lim in self.limits:
            if lim.role == role and lim.component is component:
                return lim.max_fraction
        return Decimal(0)

    def approve(
        self,
        *,
        id: str,
        made_on: dt.date,
        component: Component,
        outstanding: Money,
        role: str,
        approved_by: str,
        amount: Money | None = None,
        fraction: object = None,
        reason: str = "",
    ) -> Waiver:
        """Grant a waiver of ``amount`` (or ``fraction`` of ``outstanding``) if ``role`` may.

        :raises ApprovalError: naming the role, the amount and the limit, if it exceeds authority.
        """
        if (amount is None) == (fraction is None):
            raise ValidationError("waiver", (amount, fraction), "give either amount or fraction")
        if amount is None:
            frac = to_decimal(fraction, "waiver.fraction")
            if not (0 < frac <= 1):
                raise ValidationError("waiver.fraction", frac, "must be in (0, 1]")
            amount = outstanding.multiply(frac, Rounding.DOWN)
        if amount.currency != outstanding.currency:
            raise CurrencyMismatchError("waive", outstanding.currency, amount.currency)
        if amount > outstanding:
            raise ValidationError("waiver.amount", amount, f"exceeds the outstanding {outstanding}")
        cap = outstanding.multiply(self.limit(role, component), Rounding.DOWN)
        if amount > cap:
            raise ApprovalError(
                "waiver.amount",
                str(amount),
                f"role {role!r} may waive at most {self.limit(role, component):%} of "
                f"{component.value} ({cap}) here",
            )
        return Waiver(
            id=id,
            made_on=made_on,
            component=component,
            amount=amount,
            approved_by=approved_by,
            role=role,
            reason=reason,
        )


DEFAULT_AUTHORITY = ApprovalAuthority.of(
    [
        ("agent", "interest", "0.10"),
        ("agent", "penalty", "0.30"),
        ("agent", "compound", "0.30"),
        ("supervisor", "interest", "0.50"),
        ("supervisor", "penalty", "1"),
        ("supervisor", "compound", "1"),
        ("supervisor", "fees", "1"),
        ("manager", "interest", "1"),
        ("manager", "penalty", "1"),
        ("manager", "compound", "1"),
        ("manager", "fees", "1"),
    ]
)


@attrs.frozen
class PromisePolicy:
    """Rules a promise must meet to be accepted.

    :param min_fraction: smallest acceptable share of the amount due.
    :param max_days_ahead: latest acceptable promise date, in days from today.
    :param max_open: most promises open at once.
    """

    min_fraction: Decimal = Decimal("0.2")
    max_days_ahead: int = 14
    max_open: int = 1
    missed_days: int = 0

    def promise(
        self,
        *,
        id: str,
        made_on: dt.date,
        amount: Money,
        due: dt.date,
        amount_due: Money,
        open_promises: int,
    ) -> PromiseToPay:
        """Accept a promise, or raise :class:`ValidationError` saying which rule it breaks."""
        if due > made_on + dt.timedelta(days=self.max_days_ahead):
            raise ValidationError(
                "promise.due", due.isoformat(), f"more than {self.max_days_ahead} days ahead"
            )
        if open_promises >= self.max_open:
            raise ValidationError(
                "promise", open_promises, f"at most {self.max_open} open promise(s)"
            )
        minimum = amount_due.multiply(self.min_fraction, Rounding.UP)
        if amount < minimum:
            raise ValidationError("promise.amount", str(amount), f"below the minimum {minimum}")
        return PromiseToPay(
            id=id, made_on=made_on, amount=amount, due=due, missed_days=self.missed_days
        )


def make_plan(
    *,
    id: str,
    made_on: dt.date,
    amount: Money,
    installments: int,
    down_payment: Money | None = None,
    interval_months: int = 1,
    first_date: dt.date | None = None,
    covers_balance: bool = False,
    missed_days: int = 5,
) -> InstallmentPlan:
    """An installment plan splitting ``amount`` (less the down payment) into equal parts.

    Plan dates are ``first_date + k months`` (default: one month after ``made_on``);
    parts differ by at most one minor unit and sum exactly to the amount.
    """
    from loancollect.domain.calendar import add_months

    if installments < 1 or installments > 120:
        raise ValidationError("plan.installments", installments, "must be from 1 to 120")
    down = down_payment if down_payment is not None else Money.zero(amount.currency)
    if down.currency != amount.currency:
        raise CurrencyMismatchError("plan", amount.currency, down.currency)
    rest = amount - down
    if not rest.is_positive():
        raise ValidationError(
            "plan.down_payment", str(down), f"must be less than the amount {amount}"
        )
    anchor = first_date or add_months(made_on, interval_months)
    parts = rest.split(installments)
    schedule = tuple(
        (add_months(anchor, k * interval_months), part) for k, part in enumerate(parts)
    )
    return InstallmentPlan(
        id=id,
        made_on=made_on,
        down_payment=down,
        schedule=schedule,
        covers_balance=covers_balance,
        missed_days=missed_days,
    )


__all__ += ["DEFAULT_AUTHORITY", "ApprovalLimit"]
