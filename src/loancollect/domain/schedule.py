"""Repayment schedules: 等额本息, 等额本金, 先息后本 and 一次性还本付息.

Rounding follows common bank practice (and the project's golden vectors): the
annuity installment is rounded once; interest is computed per period on the
rounded remaining balance; the last installment takes the residue, so the
installments always sum exactly to the principal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from collections.abc import Sequence
from decimal import Decimal

from loancollect.domain.calendar import BusinessCalendar, DayCount, RollConvention, add_months
from loancollect.domain.checks import check_date, require_enum
from loancollect.domain.errors import ValidationError
from loancollect.domain.loans import MAX_ANNUAL_RATE, Frequency, Installment, RepaymentMethod
from loancollect.domain.money import CURRENCIES, Money, Rounding, round_div, to_decimal

__all__ = [
    "annuity_payment",
    "build_schedule",
    "due_dates",
    "installments_from_rows",
    "schedule_rows",
]

_HIGH_PRECISION = decimal.Context(prec=50)


def due_dates(
    start: dt.date,
    term: int,
    frequency: Frequency = Frequency.MONTHLY,
    *,
    first_due_date: dt.date | None = None,
) -> list[dt.date]:
    """Unadjusted due dates, each computed from the anchor, never from the previous one.

    Monthly: ``anchor + k months`` (clamped to month end). Weekly / bi-weekly:
    ``anchor + 7k / 14k days``. The anchor is ``start`` (k = 1..term), or
    ``first_due_date`` (k = 0..term-1) when given.
    """
    if first_due_date is not None:
        anchor, offset = first_due_date, 0
    else:
        anchor, offset = start, 1
    frequency = require_enum(Frequency, frequency, "frequency")
    check_date("start", start)
    if first_due_date is not None:
        check_date("first_due_date", first_due_date)
    if isinstance(term, bool) or not isinstance(term, int) or term < 1 or term > 1200:
        raise ValidationError("term", term, "must be an int from 1 to 1200")
    if frequency is Frequency.MONTHLY:
        return [add_months(anchor, k + offset) for k in range(term)]
    step = 7 if frequency is Frequency.WEEKLY else 14
    return [anchor + dt.timedelta(days=step * (k + offset)) for k in range(term)]


@functools.lru_cache(maxsize=4096)
def _growth(periodic_rate: str, term: int) -> Decimal:
    """``(1 + r)^n`` at 50 digits for the rate written ``periodic_rate``; cached (a
    portfolio has few distinct rates and terms, and the power is the slow part of an
    annuity)."""
    with decimal.localcontext(_HIGH_PRECISION):
        return (1 + Decimal(periodic_rate)) ** term


def annuity_payment(
    principal: Money, periodic_rate: Decimal, term: int, rounding: Rounding = Rounding.HALF_UP
) -> Money:
    """The equal installment ``P·r·(1+r)^n / ((1+r)^n − 1)``, rounded once.

    With a zero rate it is ``P / n``, rounded.
    """
    cur = principal.currency
    if periodic_rate == 0:
        raw = principal.amount / term
    else:
        # Keyed by the text: equal Decimals with other exponents must not share a result.
        growth = _growth(str(periodic_rate), term)
        with decimal.localcontext(_HIGH_PRECISION):
            raw = principal.amount * periodic_rate * growth / (growth - 1)
    return Money.rounded(raw, cur, rounding)


@functools.lru_cache(maxsize=4096)
def _checked_due_dates(
    start: dt.date, term: int, frequency: Frequency, first_due_date: dt.date | None
) -> tuple[dt.date, ...]:
    """:func:`due_dates`, each checked to be in range. Cached: a portfolio has few
    distinct (start, term) pairs next to its loans, and the dates are immutable. An
    error is raised afresh on every call (``lru_cache`` keeps only results)."""
    dates = due_dates(start, term, frequency, first_due_date=first_due_date)
    for k, due in enumerate(dates):
        try:
            check_date("due_date", due)
        except ValidationError as exc:
            raise ValidationError(
                "term",
                term,
                f"installment {k + 1} would fall due on {due.isoformat()}: {exc.reason}",
            ) from None
    return tuple(dates)


def schedule_rows(
    *,
    principal: Money,
    annual_rate: object,
    term: int,
    start: dt.date,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    frequency: Frequency = Frequency.MONTHLY,
    day_count: DayCount | None = None,
    first_due_date: dt.date | None = None,
    calendar: BusinessCalendar | None = None,
    roll: RollConvention = RollConvention.NONE,
    rounding: Rounding = Rounding.HALF_UP,
) -> list[tuple[int, dt.date, int, int, None, dt.date, int]]:
    """The schedule :func:`build_schedule` computes, as integer rows: ``(number,
    due_date, principal, interest, fees, accrual_start, accrual_days)`` with amounts
    in minor units of the principal's currency (``fees`` is ``None``).

    The shape :func:`loancollect.domain.loans.stored_loan` takes, so a loan can be
    built without a ``Money`` per amount (what an import of many loans needs). The
    arguments, checks and errors are those of :func:`build_schedule`.
    """
    method = require_enum(RepaymentMethod, method, "method")
    frequency = require_enum(Frequency, frequency, "frequency")
    day_count = None if day_count is None else require_enum(DayCount, day_count, "day_count")
    roll = require_enum(RollConvention, roll, "roll")
    rounding = require_enum(Rounding, rounding, "rounding")
    check_date("start", start)
    if first_due_date is not None:
        check_date("first_due_date", first_due_date)
    if calendar is not None and not isinstance(calendar, BusinessCalendar):
        raise ValidationError("calendar", calendar, "expected a BusinessCalendar or None")
    rate = to_decimal(annual_rate, "annual_rate")
    if not isinstance(principal, Money) or not principal.is_positive():
        raise ValidationError("principal", principal, "must be positive Money")
    if not (0 <= rate <= MAX_ANNUAL_RATE):
        raise ValidationError("annual_rate", rate, "must be a fraction between 0 and 1")
    if isinstance(term, bool) or not isinstance(term, int) or term < 1 or term > 1200:
        raise ValidationError("term", term, "must be an int from 1 to 1200")
    if first_due_date is not None and first_due_date <= start:
        raise ValidationError("first_due_date", first_due_date.isoformat(), "must be after start")
    if roll is not RollConvention.NONE and calendar is None:
        raise ValidationError("roll", roll.value, "rolling due dates needs a calendar")

    dates = _checked_due_dates(start, term, frequency, first_due_date)
    periods_per_year = frequency.periods_per_year
    num, den = rate.as_integer_ratio()
    balance = principal.minor_units

    def period_interest(bal: int, begin: dt.date, end: dt.date, periods: int = 1) -> int:
        if day_count is None:
            return round_div(bal * num * periods, den * periods_per_year, rounding)
        return round_div(bal * num * day_count.days(begin, end), den * day_count.basis, rounding)

    if (
        day_count is None
        and rounding is Rounding.HALF_UP
        and calendar is None
        and method is not RepaymentMethod.BULLET
    ):
        return _periodic_half_up(principal, rate, term, start, dates, method, periods_per_year)

    rows: list[tuple[dt.date, dt.date, int, int]] = []  # (due, accrual start, principal, interest)
    if method is RepaymentMethod.BULLET:
        interest = period_interest(balance, start, dates[-1], term)
        rows.append((dates[-1], start, balance, interest))
    else:
        if method is RepaymentMethod.EQUAL_INSTALLMENT:
            periodic = rate / periods_per_year
            installment = annuity_payment(principal, periodic, term, rounding).minor_units
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            part = round_div(balance, term, rounding)
        previous = start
        for k, due in enumerate(dates, start=1):
            interest = period_interest(balance, previous, due)
            if k == term:
                paid = balance
            elif method is RepaymentMethod.EQUAL_INSTALLMENT:
                paid = min(max(installment - interest, 0), balance)
            elif method is RepaymentMethod.EQUAL_PRINCIPAL:
                paid = min(part, balance)
            else:  # INTEREST_ONLY
                paid = 0
            rows.append((due, previous, paid, interest))
            balance -= paid
            previous = due

    out = []
    for number, (due, accrual_start, paid, interest) in enumerate(rows, start=1):
        adjusted = calendar.roll(due, roll) if calendar is not None else due
        days = (day_count or DayCount.ACT_360).days(accrual_start, due)
        out.append((number, adjusted, paid, interest, None, accrual_start, days))
    return out


def _periodic_half_up(
    principal: Money,
    rate: Decimal,
    term: int,
    start: dt.date,
    dates: tuple[dt.date, ...],
    method: RepaymentMethod,
    periods_per_year: int,
) -> list[tuple[int, dt.date, int, int, None, dt.date, int]]:
    """:func:`schedule_rows` for the common terms (periodic interest, half-up, no
    calendar, not a bullet) in one loop: the same arithmetic, with the half-up
    division of :func:`~loancollect.domain.money.round_div` written out (the balance
    and the rate are never negative). A test compares it with the general path."""
    num, den = rate.as_integer_ratio()
    per = den * periods_per_year
    twice = 2 * per
    balance = principal.minor_units
    installment = part = 0
    if method is RepaymentMethod.EQUAL_INSTALLMENT:
        periodic = rate / periods_per_year
        installment = annuity_payment(principal, periodic, term, Rounding.HALF_UP).minor_units
    elif method is RepaymentMethod.EQUAL_PRINCIPAL:
        part = round_div(balance, term, Rounding.HALF_UP)
    days = DayCount.ACT_360.days
    out = []
    previous = start
    for k, due in enumerate(dates, start=1):
        interest = (2 * balance * num + per) // twice
        if k == term:
            paid = balance
        elif method is RepaymentMethod.EQUAL_INSTALLMENT:
            paid = min(max(installment - interest, 0), balance)
        elif method is RepaymentMethod.EQUAL_PRINCIPAL:
            paid = min(part, balance)
        else:  # INTEREST_ONLY
            paid = 0
        out.append((k, due, paid, interest, None, previous, days(previous, due)))
        balance -= paid
        previous = due
    return out


def build_schedule(
    *,
    principal: Money,
    annual_rate: object,
    term: int,
    start: dt.date,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    frequency: Frequency = Frequency.MONTHLY,
    day_count: DayCount | None = None,
    first_due_date: dt.date | None = None,
    calendar: BusinessCalendar | None = None,
    roll: RollConvention = RollConvention.NONE,
    rounding: Rounding = Rounding.HALF_UP,
) -> tuple[Installment, ...]:
    """Compute a repayment schedule.

    :param principal: amount lent.
    :param annual_rate: contract rate as a fraction (``Decimal("0.06")``).
    :param term: number of periods (for ``BULLET``: the number of periods until
        the single due date).
    :param start: disbursement date, the anchor of the due dates.
    :param day_count: ``None`` for periodic interest (annual / 12 per month);
        a :class:`DayCount` for daily accrual over each period's actual dates.
    :param calendar: business calendar for rolling due dates (with ``roll``).
        Interest periods use the unadjusted dates, so rolling never changes the amounts.
    :param rounding: the named rounding for the installment and each interest amount.
    :returns: the installments, whose principal sums exactly to ``principal``.

    Enums must be members (``Frequency.MONTHLY``, not ``"monthly"``).

    :raises ValidationError: naming the argument for a bad value, including dates
        outside :data:`~loancollect.domain.checks.MIN_DATE` …
        :data:`~loancollect.domain.checks.MAX_DATE` (as start, first due date or
        any due date of the schedule).
    """
    rows = schedule_rows(
        principal=principal,
        annual_rate=annual_rate,
        term=term,
        start=start,
        method=method,
        frequency=frequency,
        day_count=day_count,
        first_due_date=first_due_date,
        calendar=calendar,
        roll=roll,
        rounding=rounding,
    )
    return installments_from_rows(rows, principal.currency)


def installments_from_rows(
    rows: Sequence[tuple[int, dt.date, int, int, None, dt.date, int]], currency: str
) -> tuple[Installment, ...]:
    """The :class:`Installment` records of :func:`schedule_rows`'s rows (amounts in
    minor units of ``currency``)."""
    quantum_scale = CURRENCIES[currency].minor_units
    return tuple(
        Installment(
            number=number,
            due_date=due,
            principal=Money(Decimal(paid).scaleb(-quantum_scale), currency),
            interest=Money(Decimal(interest).scaleb(-quantum_scale), currency),
            accrual_start=accrual_start,
            accrual_days=days,
        )
        for number, due, paid, interest, _, accrual_start, days in rows
    )
