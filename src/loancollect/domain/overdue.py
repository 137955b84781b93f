"""Overdue assessment (逾期确认): what is owed, how late, and how bad, as of a date.

``assess(loan, payments, as_of)`` replays the loan from disbursement to
``as_of``: installments fall due, penalty interest (罚息) accrues on overdue
principal and compound interest (复利) on overdue interest, payments and
adjustments (waivers) arrive and are allocated by the waterfall. It is pure and
deterministic; all arithmetic is on integer minor units, so it is exact and fast.

Conventions (documented in docs/overdue.md):

- Days past due (DPD) count from the oldest due date whose scheduled amount
  (principal + interest + fees) is still outstanding above the tolerance; the
  due date itself is day 0. Penalty outstanding alone does not make a loan late.
- Penalty for an installment accrues over ``(due date, as_of]``: the day after
  the due date is the first day charged. A payment with value date *t* changes
  the base from day *t + 1*. Each payment date (and ``as_of``) closes a charge
  for every accruing installment, rounded once per component.
- Money left over after a payment is a credit balance that settles installments
  on their due dates (unless the waterfall names future installments).
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from decimal import Decimal
from heapq import heappop, heappush

import attrs

from loancollect.domain.allocation import (
    HORIZONTAL,
    AllocationLine,
    Axis,
    Component,
    DueState,
    Waterfall,
    plan_order,
)
from loancollect.domain.calendar import DayCount
from loancollect.domain.errors import ConfigurationError, CurrencyMismatchError, ValidationError
from loancollect.domain.loans import DateRange, Loan, Payment, check_payments
from loancollect.domain.lpr import CN_ONE_YEAR_LPR, LprTable
from loancollect.domain.money import Money, Rounding, round_div

__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_CONFIG",
    "DEFAULT_RISK_THRESHOLDS",
    "Adjustment",
    "AgingBuckets",
    "Assessment",
    "AssessmentConfig",
    "InstallmentState",
    "InstallmentStatus",
    "RiskClass",
    "RiskClassThresholds",
    "assess",
]

# Component indices in the integer arrays, in the default waterfall order.
_PEN, _COMP, _FEES, _INT, _PRIN = range(5)
_COMPONENTS = (
    Component.PENALTY,
    Component.COMPOUND,
    Component.FEES,
    Component.INTEREST,
    Component.PRINCIPAL,
)
_INDEX = {c: i for i, c in enumerate(_COMPONENTS)}


class InstallmentStatus(enum.Enum):
    """State of one installment on the assessment date."""

    PAID = "paid"
    PARTLY_PAID = "partly_paid"  # past due, something paid, more outstanding
    OVERDUE = "overdue"  # past due, nothing paid
    DUE_TODAY = "due_today"
    FUTURE = "future"


class RiskClass(enum.Enum):
    """The five-category loan classification (贷款五级分类)."""

    NORMAL = ("normal", "正常")
    SPECIAL_MENTION = ("special_mention", "关注")
    SUBSTANDARD = ("substandard", "次级")
    DOUBTFUL = ("doubtful", "可疑")
    LOSS = ("loss", "损失")

    @property
    def code(self) -> str:
        """English code, e.g. ``"special_mention"``."""
        return self.value[0]

    @property
    def label_zh(self) -> str:
        """Chinese label, e.g. ``"关注"``."""
        return self.value[1]

    @property
    def is_npl(self) -> bool:
        """Substandard, doubtful and loss are non-performing."""
        return self in (RiskClass.SUBSTANDARD, RiskClass.DOUBTFUL, RiskClass.LOSS)


@attrs.frozen
class RiskClassThresholds:
    """First DPD of each class (inclusive).

    Defaults are the DPD floors of the 2023 PRC measures for classifying
    financial assets: past due at all → 关注; more than 90 days → 次级; more than
    270 → 可疑; more than 360 → 损失. Real classification may be worse.
    """

    special_mention: int = 1
    substandard: int = 91
    doubtful: int = 271
    loss: int = 361

    def __attrs_post_init__(self) -> None:
        seq = (self.special_mention, self.substandard, self.doubtful, self.loss)
        if seq[0] < 1 or any(b <= a for a, b in itertools.pairwise(seq)):
            raise ConfigurationError(
                f"risk class thresholds must be increasing and >= 1, got {seq}"
            )

    def classify(self, dpd: int) -> RiskClass:
        """The class for ``dpd``."""
        if dpd >= self.loss:
            return RiskClass.LOSS
        if dpd >= self.doubtful:
            return RiskClass.DOUBTFUL
        if dpd >= self.substandard:
            return RiskClass.SUBSTANDARD
        if dpd >= self.special_mention:
            return RiskClass.SPECIAL_MENTION
        return RiskClass.NORMAL


@attrs.frozen
class AgingBuckets:
    """Aging buckets by DPD: ``labels[k]`` covers DPD up to ``upper_bounds[k]`` inclusive.

    The last label takes everything beyond the last bound. Default: M0 = 0,
    M1 = 1–30, M2 = 31–60 … M6 = 151–180, M7+ = over 180.
    """

    upper_bounds: tuple[int, ...] = (0, 30, 60, 90, 120, 150, 180)
    labels: tuple[str, ...] = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")

    def __attrs_post_init__(self) -> None:
        if len(self.labels) != len(self.upper_bounds) + 1:
            raise ConfigurationError("aging buckets need one label more than bounds")
        if list(self.upper_bounds) != sorted(set(self.upper_bounds)) or self.upper_bounds[0] < 0:
            raise ConfigurationError(f"aging bucket bounds must increase: {self.upper_bounds}")

    def bucket(self, dpd: int) -> str:
        """The label for ``dpd``."""
        # The first bound >= dpd names the bucket; past the last bound, the last label.
        return self.labels[bisect.bisect_left(self.upper_bounds, dpd)]


DEFAULT_BUCKETS = AgingBuckets()
DEFAULT_RISK_THRESHOLDS = RiskClassThresholds()


@attrs.frozen
class AssessmentConfig:
    """Portfolio-wide settings of the assessment.

    :param waterfall: allocation order of payments.
    :param lpr: one-year LPR table for the private-lending cap.
    :param private_lending_lpr_multiple: the cap multiple (4 under 法释〔2020〕17号).
    """

    waterfall: Waterfall = HORIZONTAL
    buckets: AgingBuckets = DEFAULT_BUCKETS
    risk_thresholds: RiskClassThresholds = DEFAULT_RISK_THRESHOLDS
    lpr: LprTable = CN_ONE_YEAR_LPR
    private_lending_lpr_multiple: Decimal = Decimal(4)


DEFAULT_CONFIG = AssessmentConfig()


@attrs.frozen
class Adjustment:
    """A non-cash reduction of what is owed: a waiver (减免) or a write-down.

    :param component: what is reduced (penalty, compound, fees, interest, principal).
    :param installment: the installment number, or ``None`` for oldest-first
        across installments that have fallen due by ``date``.
    :param amount: at most this much is reduced; never more than is outstanding.
    """

    date: dt.date
    component: Component
    amount: Money
    installment: int | None = None
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.amount.is_positive():
            raise ValidationError("adjustment.amount", self.amount, "must be positive")


@attrs.frozen
class InstallmentState:
    """One installment as of the assessment date (outstanding amounts)."""

    number: int
    due_date: dt.date
    status: InstallmentStatus
    principal: Money
    interest: Money
    fees: Money
    penalty: Money
    compound: Money
    paid: Money

    @property
    def is_overdue(self) -> bool:
        """Past due with a scheduled amount outstanding above the tolerance."""
        return self.status in (InstallmentStatus.OVERDUE, InstallmentStatus.PARTLY_PAID)

    @property
    def total(self) -> Money:
        """Everything outstanding on this installment."""
        return self.principal + self.interest + self.fees + self.penalty + self.compound


@attrs.frozen(repr=False)
class Assessment:
    """The overdue state of a loan on ``as_of``. Amounts are exposed as :class:`Money`."""

    loan_id: str
    as_of: dt.date
    currency: str
    dpd: int
    delinquent_days: int
    oldest_unpaid_due_date: dt.date | None
    bucket: str
    risk_class: RiskClass
    # integer minor units; use the Money properties below
    minor: tuple[int, ...]
    # per installment, column-wise: due ordinal, principal, interest, fees, penalty,
    # compound interest outstanding, and amount paid (built into rows on demand)
    columns: tuple[tuple[int, ...], ...]
    allocation_rows: tuple[tuple[int, int, int, int, int], ...]
    next_due_date: dt.date | None
    penalty_capped: bool
    tolerance_minor: int = 0

    @property
    def rows(self) -> tuple[tuple[int, int, int, int, int, int, int, int, int], ...]:
        """``(number, due ordinal, status index, principal, interest, fees, penalty,
        compound, paid)`` per installment, in minor units."""
        as_ord = self.as_of.toordinal()
        tol = self.tolerance_minor
        out = []
        for i, (due, p, it, f, pen, comp, paid) in enumerate(zip(*self.columns, strict=True)):
            sched = p + it + f
            if sched == 0 or (sched <= tol and due <= as_ord):
                status = _S_PAID
            elif due > as_ord:
                status = _S_FUTURE
            elif due == as_ord:
                status = _S_TODAY
            elif paid:
                status = _S_PARTLY
            else:
                status = _S_OVERDUE
            out.append((i + 1, due, status, p, it, f, pen, comp, paid))
        return tuple(out)

    def _m(self, i: int) -> Money:
        return Money.from_minor(self.minor[i], self.currency)

    @property
    def overdue_principal(self) -> Money:
        """Principal of installments past due."""
        return self._m(0)

    @property
    def overdue_interest(self) -> Money:
        """Contract interest of installments past due."""
        return self._m(1)

    @property
    def overdue_fees(self) -> Money:
        """Fees of installments past due."""
        return self._m(2)

    @property
    def penalty(self) -> Money:
        """Penalty interest (罚息) accrued and unpaid."""
        return self._m(3)

    @property
    def compound_interest(self) -> Money:
        """Compound interest (复利) accrued and unpaid."""
        return self._m(4)

    @property
    def overdue_amount(self) -> Money:
        """Principal + interest + fees past due (without penalty)."""
        return Money.from_minor(self.minor[0] + self.minor[1] + self.minor[2], self.currency)

    @property
    def amount_due(self) -> Money:
        """What brings the loan current today: overdue amount, due-today amount, penalty,
        compound interest, less any credit balance."""
        total = sum(self.minor[:5]) + self.minor[9] - self.minor[7]
        return Money.from_minor(max(total, 0), self.currency)

    @property
    def outstanding_principal(self) -> Money:
        """All principal not yet repaid, due or not."""
        return self._m(5)

    @property
    def payoff_amount(self) -> Money:
        """What settles the whole loan today: all principal, interest and fees due,
        penalty, compound interest and interest accrued in the current period,
        less any credit balance."""
        return self._m(6)

    @property
    def credit_balance(self) -> Money:
        """Money received but not yet applied (overpayment)."""
        return self._m(7)

    @property
    def total_paid(self) -> Money:
        """Sum of the payments up to ``as_of``."""
        return self._m(8)

    @property
    def due_today(self) -> Money:
        """Principal + interest + fees of an installment due on ``as_of``."""
        return self._m(9)

    @property
    def waived(self) -> Money:
        """Total reduced by adjustments (waivers) up to ``as_of``."""
        return self._m(10)

    @property
    def penalty_excess(self) -> Money:
        """Penalty the contract terms would charge above the legal cap (never demanded)."""
        return self._m(11)

    @property
    def is_overdue(self) -> bool:
        """True if DPD > 0."""
        return self.dpd > 0

    @property
    def is_npl(self) -> bool:
        """True if the five-category class is non-performing."""
        return self.risk_class.is_npl

    @property
    def is_paid_off(self) -> bool:
        """True if nothing at all is outstanding."""
        return self.minor[6] == 0 and self.minor[5] == 0

    @property
    def dpd_band(self) -> str:
        """``current``, ``1-30``, ``31-60``, ``61-90`` or ``90+``."""
        if self.dpd == 0:
            return "current"
        if self.dpd <= 30:
            return "1-30"
        if self.dpd <= 60:
            return "31-60"
        if self.dpd <= 90:
            return "61-90"
        return "90+"

    @property
    def installments(self) -> tuple[InstallmentState, ...]:
        """Per-installment state (built on demand)."""
        cur = self.currency
        m = Money.from_minor
        return tuple(
            InstallmentState(
                number=number,
                due_date=dt.date.fromordinal(due),
                status=_STATUSES[status],
                principal=m(p, cur),
                interest=m(i, cur),
                fees=m(f, cur),
                penalty=m(pen, cur),
                compound=m(comp, cur),
                paid=m(paid, cur),
            )
            for number, due, status, p, i, f, pen, comp, paid in self.rows
        )

    @property
    def allocations(self) -> tuple[tuple[int, AllocationLine], ...]:
        """``(payment index, line)`` for every amount a payment or credit settled.

        Payment index ``-1`` marks credit applied on a due date.
        """
        cur = self.currency
        out = []
        for pay_idx, number, comp, paid, remaining in self.allocation_rows:
            out.append(
                (
                    pay_idx,
                    AllocationLine(
                        number,
                        _COMPONENTS[comp],
                        Money.from_minor(paid, cur),
                        Money.from_minor(remaining, cur),
                    ),
                )
            )
        return tuple(out)

    def __repr__(self) -> str:
        return (
            f"Assessment(loan_id={self.loan_id!r}, as_of={self.as_of.isoformat()}, dpd={self.dpd}, "
            f"bucket={self.bucket!r}, risk_class={self.risk_class.code}, "
            f"overdue_amount={self.overdue_amount}, penalty={self.penalty}, "
            f"compound_interest={self.compound_interest}, payoff={self.payoff_amount})"
        )


_STATUSES = tuple(InstallmentStatus)
_HORIZONTAL_ORDER = [_INDEX[s.component] for s in HORIZONTAL.steps]
_S_PAID, _S_PARTLY, _S_OVERDUE, _S_TODAY, _S_FUTURE = range(5)


def assess(
    loan: Loan,
    payments: Sequence[Payment],
    as_of: dt.date,
    *,
    config: AssessmentConfig = DEFAULT_CONFIG,
    adjustments: Sequence[Adjustment] = (),
    pauses: Sequence[DateRange] = (),
    penalty_holds: Sequence[DateRange] = (),
) -> Assessment:
    """Assess ``loan`` as of ``as_of`` given the ``payments`` received so far.

    Payments and adjustments dated after ``as_of`` are ignored, so the same
    inputs give the same answer on any day.

    :param pauses: ranges that do not count towards delinquent days (disputes,
        breathing space); DPD is unaffected. A day inside the grace period is not
        delinquent anyway, so a pause takes it off only once; overlapping pauses
        count their common days once.
    :param penalty_holds: ranges in which no penalty or compound interest
        accrues (a grace period, a kept installment plan).
    :raises ValidationError: for a payment of another loan or dated before disbursement.
    :raises CurrencyMismatchError: for a payment or adjustment in another currency.
    """
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise ValidationError("as_of", as_of, "expected a date")
    if (
        loan.simple_penalty is not None
        and config.waterfall is HORIZONTAL
        and not adjustments
        and not pauses
        and not penalty_holds
    ):
        return _assess_lean(loan, payments, as_of, config, loan.simple_penalty)
    return _assess_general(loan, payments, as_of, config, adjustments, pauses, penalty_holds)


def _assess_general(
    loan: Loan,
    payments: Sequence[Payment],
    as_of: dt.date,
    config: AssessmentConfig,
    adjustments: Sequence[Adjustment],
    pauses: Sequence[DateRange],
    penalty_holds: Sequence[DateRange],
) -> Assessment:
    """:func:`assess` on the general path. A function of its own because its closures'
    cells would be created on every call of ``assess``, the lean path's too."""
    if payments:
        check_payments(loan, payments)
    cur = loan.currency
    dues, prin_col, int_col, fee_col = loan.columns
    n = len(dues)
    as_ord = as_of.toordinal()
    tol = loan.tolerance.minor_units if loan.tolerance is not None else 0
    terms = loan.penalty
    wf = config.waterfall

    # Outstanding per component, indexed like _COMPONENTS; lists mutated in place.
    pen_out = [0] * n
    comp_out = [0] * n
    fee_out = list(fee_col)
    int_out = list(int_col)
    prin_out = list(prin_col)
    out = [pen_out, comp_out, fee_out, int_out, prin_out]
    paid_total = [0] * n

    # Penalty rate as an exact fraction (cached on the loan); possibly capped.
    cap = terms.cap_rate
    if loan.private_lending and cap is None:
        cap = config.private_lending_lpr_multiple * config.lpr.rate_on(
            loan.contract_date or loan.disbursement_date
        )
    xnum, xden = loan.penalty_fraction
    if cap is None:
        capped, compound, num, den = False, terms.compound, xnum, xden
    else:
        capped = terms.penalty_rate(loan.annual_rate) > cap
        compound = False
        num, den = cap.as_integer_ratio() if capped else (xnum, xden)
    day_count = terms.day_count
    basis = day_count.basis
    rounding = terms.rounding
    thirty = day_count is DayCount.THIRTY_360
    holds = [(h.start.toordinal(), h.end.toordinal()) for h in penalty_holds]
    start_offset = loan.grace_days if terms.accrue_from_grace_end else 0
    accrued_to = [d + start_offset for d in dues] if start_offset else list(dues)
    excess = 0
    waived = 0
    allocation_rows: list[tuple[int, int, int, int, int]] = []
    pen_on = bool(num)
    half_up = rounding is Rounding.HALF_UP
    pen_den = den * basis
    agreed_den = xden * basis
    simple = half_up and not thirty and not holds and not capped

    def accrue(to_ord: int) -> None:
        """Materialise penalty and compound interest up to ``to_ord`` (one charge each)."""
        nonlocal excess
        for i in range(n):
            start = accrued_to[i]
            if start >= to_ord:
                break  # later installments fall due even later
            accrued_to[i] = to_ord
            p = prin_out[i]
            it = int_out[i] if compound else 0
            if not p and not it:
                continue
            if simple:
                # ``base × rate × days / basis`` rounded half up once: one charge per component.
                days = to_ord - start
                if p:
                    pen_out[i] += (2 * p * num * days + pen_den) // (2 * pen_den)
                if it:
                    comp_out[i] += (2 * it * num * days + pen_den) // (2 * pen_den)
                continue
            if thirty:
                days = day_count.days(dt.date.fromordinal(start), dt.date.fromordinal(to_ord))
            else:
                days = to_ord - start
            for h_start, h_end in holds:
                lo, hi = max(h_start, start + 1), min(h_end, to_ord)
                if hi >= lo:
                    days -= hi - lo + 1
            if days <= 0:
                continue
            if p:
                charged = round_div(p * num * days, pen_den, rounding)
                pen_out[i] += charged
                if capped:
                    excess += round_div(p * xnum * days, agreed_den, rounding) - charged
            if it:
                comp_out[i] += round_div(it * num * days, pen_den, rounding)

    if wf is HORIZONTAL:
        horizontal_fast, fast_order = True, _HORIZONTAL_ORDER
    else:
        horizontal_fast = (
            wf.axis is Axis.HORIZONTAL
            and not wf.pays_future
            and all(s.state is None for s in wf.steps)
        )
        fast_order = [_INDEX[s.component] for s in wf.steps] if horizontal_fast else []

    def apply(amount: int, t: int, pay_idx: int) -> int:
        """Allocate ``amount`` on day ``t``; return what is left."""
        if horizontal_fast:
            for i in range(n):
                if dues[i] > t:
                    break
                for c in fast_order:
                    col = out[c]
                    owed = col[i]
                    if owed:
                        take = owed if owed < amount else amount
                        col[i] = owed - take
                        paid_total[i] += take
                        amount -= take
                        allocation_rows.append((pay_idx, i + 1, c, take, owed - take))
                        if not amount:
                            return 0
            return amount
        items = []
        for i in range(n):
            due = dues[i]
            state = (
                DueState.PAST_DUE if due < t else (DueState.DUE if due == t else DueState.FUTURE)
            )
            for c in range(5):
                if out[c][i]:
                    items.append((i + 1, due, _COMPONENTS[c], state))
        for idx in plan_order(items, wf):
            number, _, comp, _ = items[idx]
            i, c = number - 1, _INDEX[comp]
            owed = out[c][i]
            take = owed if owed < amount else amount
            out[c][i] = owed - take
            paid_total[i] += take
            amount -= take
            allocation_rows.append((pay_idx, number, c, take, owed - take))
            if not amount:
                return 0
        return amount

    # Timeline: payments and adjustments, and the due dates after the first of them
    # (a credit balance can only settle installments falling due after money came in).
    events: list[tuple[int, int, int]] = []
    for k, adj in enumerate(adjustments):
        if adj.amount.currency != cur:
            raise CurrencyMismatchError("adjust", cur, adj.amount.currency)
        if adj.installment is not None and not (1 <= adj.installment <= n):
            raise ValidationError(
                "adjustment.installment", adj.installment, f"loan has {n} installments"
            )
        if adj.date <= as_of:
            events.append((adj.date.toordinal(), 1, k))
    same_day = False
    first_money: int | None = None
    for k, pay in enumerate(payments):
        if pay.value_date <= as_of:
            day = pay.value_date.toordinal()
            if first_money is None or day < first_money:
                first_money = day
            elif not same_day:
                same_day = any(e[0] == day and e[1] == 2 for e in events)
            events.append((day, 2, k))
    if first_money is not None:
        events.extend((d, 0, k) for k, d in enumerate(dues) if first_money < d <= as_ord)
    if same_day:
        events.sort(
            key=lambda e: (e[0], e[1], payments[e[2]].received_at if e[1] == 2 else 0, e[2])
        )
    elif len(events) > 1:
        events.sort()  # (day, kind, index) tuples; the key above reduces to this

    credit = 0
    received = 0
    for t, kind, k in events:
        if kind == 0:
            if credit:
                if pen_on:
                    accrue(t)
                credit = apply(credit, t, -1)
            continue
        if pen_on:
            accrue(t)
        if kind == 1:
            adj = adjustments[k]
            col = out[_INDEX[adj.component]]
            left = adj.amount.minor_units
            targets = [adj.installment - 1] if adj.installment is not None else range(n)
            for i in targets:
                if adj.installment is None and dues[i] > t:
                    break
                take = min(col[i], left)
                col[i] -= take
                left -= take
                waived += take
                if not left:
                    break
        else:
            amount = payments[k].minor
            received += amount
            credit += apply(amount, t, k)
    if pen_on:
        accrue(as_ord)

    return _finish(
        loan,
        as_of,
        as_ord,
        config,
        tol,
        rounding,
        pauses,
        (dues, prin_out, int_out, fee_out, pen_out, comp_out, paid_total),
        credit,
        received,
        waived,
        excess,
        capped,
        allocation_rows,
    )


def _delinquent_days(oldest: int, as_ord: int, grace_days: int, pauses: Sequence[DateRange]) -> int:
    """Days in ``(oldest + grace_days, as_ord]`` (ordinals) that no pause covers.

    A day is either in the grace period, paused, or delinquent, and is taken off once:
    a pause inside the grace period takes nothing more off, and overlapping pauses
    count their common days once.
    """
    first = oldest + grace_days + 1
    if as_ord < first:
        return 0
    spans = sorted(
        (max(r.start.toordinal(), first), min(r.end.toordinal(), as_ord)) for r in pauses
    )
    paused = 0
    reached = first - 1  # the last day already counted as paused
    for lo, hi in spans:
        lo = max(lo, reached + 1)
        if hi >= lo:
            paused += hi - lo + 1
            reached = hi
    return as_ord - first + 1 - paused


def _finish(
    loan: Loan,
    as_of: dt.date,
    as_ord: int,
    config: AssessmentConfig,
    tol: int,
    rounding: Rounding,
    pauses: Sequence[DateRange],
    state: tuple[tuple[int, ...], list[int], list[int], list[int], list[int], list[int], list[int]],
    credit: int,
    received: int,
    waived: int,
    excess: int,
    capped: bool,
    allocation_rows: list[tuple[int, int, int, int, int]],
) -> Assessment:
    """Summarise the replayed state into an :class:`Assessment` (shared by both paths)."""
    dues, prin_out, int_out, fee_out, pen_out, comp_out, paid_total = state
    int_col = loan.columns[2]
    n = len(dues)
    cur = loan.currency
    # Summaries: installments [0, past) are past due, [past, upto) due today.
    past = bisect_left(dues, as_ord)
    upto = bisect_right(dues, as_ord, past)
    oldest: int | None = None
    for i in range(past):
        if prin_out[i] + int_out[i] + fee_out[i] > tol:
            oldest = dues[i]
            break
    if past:
        overdue_p = sum(prin_out[:past])
        overdue_i = sum(int_out[:past])
        overdue_f = sum(fee_out[:past])
    else:
        overdue_p = overdue_i = overdue_f = 0
    if upto > past:
        today_i = sum(int_out[past:upto])
        today_f = sum(fee_out[past:upto])
        due_today = sum(prin_out[past:upto]) + today_i + today_f
    else:
        today_i = today_f = due_today = 0
    outstanding_principal = sum(prin_out)
    next_due = dues[upto] if upto < n else None
    penalty = sum(pen_out)
    comp_total = sum(comp_out)

    # Interest accrued in the current (not yet due) period, pro rata by days.
    accrued_interest = 0
    if next_due is not None:
        period_start = dues[upto - 1] if upto else loan.disbursement_date.toordinal()
        length = next_due - period_start
        if length > 0 and as_ord > period_start:
            accrued_interest = min(
                int_out[upto],
                round_div(int_col[upto] * (as_ord - period_start), length, rounding),
            )
    payoff = max(
        0,
        outstanding_principal
        + overdue_i
        + overdue_f
        + today_i
        + today_f
        + penalty
        + comp_total
        + accrued_interest
        - credit,
    )

    dpd = as_ord - oldest if oldest is not None else 0
    delinquent = 0 if oldest is None else _delinquent_days(oldest, as_ord, loan.grace_days, pauses)
    # Positional, in field order: this runs once per assessment.
    return Assessment(
        loan.id,
        as_of,
        cur,
        dpd,
        delinquent,
        dt.date.fromordinal(oldest) if oldest is not None else None,
        config.buckets.bucket(dpd),
        config.risk_thresholds.classify(dpd),
        (
            overdue_p,
            overdue_i,
            overdue_f,
            penalty,
            comp_total,
            outstanding_principal,
            payoff,
            credit,
            received,
            due_today,
            waived,
            excess,
        ),
        (
            dues,
            tuple(prin_out),
            tuple(int_out),
            tuple(fee_out),
            tuple(pen_out),
            tuple(comp_out),
            tuple(paid_total),
        ),
        tuple(allocation_rows),
        dt.date.fromordinal(next_due) if next_due is not None else None,
        capped,
        tol,
    )


def _assess_lean(
    loan: Loan,
    payments: Sequence[Payment],
    as_of: dt.date,
    config: AssessmentConfig,
    terms: tuple[int, int, bool],
) -> Assessment:
    """:func:`assess` for the common case, with the same results and less overhead.

    Taken when the loan's penalty terms are simple (see ``Loan.simple_penalty``),
    the waterfall is the default horizontal one and there are no adjustments,
    pauses or holds. A property test checks it against the general path.
    """
    num, pen_den, compound = terms
    den2 = 2 * pen_den
    dues, prin_col, int_col, fee_col = loan.columns
    n = len(dues)
    as_ord = as_of.toordinal()
    pen_out = [0] * n
    comp_out = [0] * n
    fee_out = list(fee_col)
    int_out = list(int_col)
    prin_out = list(prin_col)
    paid_total = [0] * n
    columns = ((pen_out, 0), (comp_out, 1), (fee_out, 2), (int_out, 3), (prin_out, 4))
    accrued_to = list(dues)
    allocation_rows: list[tuple[int, int, int, int, int]] = []
    credit = received = 0

    # Timeline as in ``assess``: payments in (value date, received at) order and a final
    # accrual to ``as_of``; due dates join (before payments of the same day) only once
    # a credit balance exists that could settle them.
    order = []
    loan_id, currency, disbursed = loan.id, loan.currency, loan.disbursement_date
    for k, pay in enumerate(payments):
        day = pay.value_date
        if pay.loan_id != loan_id or pay.amount.currency != currency or day < disbursed:
            check_payments(loan, payments)  # raises the precise error
        if day <= as_of:
            order.append(k)
    if len(order) > 1:
        order.sort(key=lambda k: (payments[k].value_date, payments[k].received_at, k))
    heap = [(payments[k].value_date.toordinal(), 2, r) for r, k in enumerate(order)]
    heap.append((as_ord, 3, 0))
    dues_queued = False

    while heap:
        t, kind, r = heappop(heap)
        if kind == 0 and not credit:
            continue
        if num:
            for i in range(n):
                start = accrued_to[i]
                if start >= t:
                    break
                accrued_to[i] = t
                p = prin_out[i]
                if p:
                    pen_out[i] += (2 * p * num * (t - start) + pen_den) // den2
                if compound:
                    it = int_out[i]
                    if it:
                        comp_out[i] += (2 * it * num * (t - start) + pen_den) // den2
        if kind == 3:
            break
        if kind == 2:
            k = order[r]
            amount = payments[k].minor
            received += amount
        else:
            amount, credit, k = credit, 0, -1
        for i in range(n):
            if dues[i] > t:
                break
            for col, c in columns:
                owed = col[i]
                if owed:
                    take = owed if owed < amount else amount
                    col[i] = owed - take
                    paid_total[i] += take
                    amount -= take
                    allocation_rows.append((k, i + 1, c, take, owed - take))
                    if not amount:
                        break
            if not amount:
                break
        credit += amount
        if credit and not dues_queued:
            dues_queued = True
            for j in range(bisect_right(dues, t), n):
                if dues[j] > as_ord:
                    break
                heappush(heap, (dues[j], 0, j))

    tol = loan.tolerance.minor_units if loan.tolerance is not None else 0
    return _finish(
        loan,
        as_of,
        as_ord,
        config,
        tol,
        Rounding.HALF_UP,
        (),
        (dues, prin_out, int_out, fee_out, pen_out, comp_out, paid_total),
        credit,
        received,
        0,
        0,
        False,
        allocation_rows,
    )
