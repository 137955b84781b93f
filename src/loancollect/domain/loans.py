"""Borrowers, loans, installments and payments: the records collection works on.

All are frozen, slotted attrs classes validated at construction; change them with
``attrs.evolve``. Personal data (names, phone numbers, e-mail addresses, ID
numbers, addresses) is masked in every ``repr``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from loancollect.domain.calendar import BusinessCalendar, DayCount, RollConvention
from loancollect.domain.checks import (
    check_bool,
    check_date,
    check_instant,
    check_text,
    enum_validator,
    optional_enum_validator,
    require_enum,
)
from loancollect.domain.errors import CurrencyMismatchError, UnknownCurrencyError, ValidationError
from loancollect.domain.money import CURRENCIES, Money, Rounding, to_decimal
from loancollect.domain.privacy import (
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)
from loancollect.domain.zones import check_zone

__all__ = [
    "Borrower",
    "ContactKind",
    "ContactPoint",
    "DateRange",
    "Frequency",
    "Installment",
    "Loan",
    "PartyKind",
    "Payment",
    "PenaltyTerms",
    "RepaymentMethod",
    "require_aware",
]

# Rates above this are almost always a percentage passed where a fraction was meant
# (6 instead of Decimal("0.06")); refuse them rather than collect 600 %.
MAX_ANNUAL_RATE = Decimal(1)

_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def _annual_rate(value: object) -> Decimal:
    return to_decimal(value, "loan.annual_rate")


def _markup(value: object) -> Decimal:
    return to_decimal(value, "penalty.markup")


def _optional_penalty_rate(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "penalty.rate")


def _optional_cap_rate(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value, "penalty.cap_rate")


def _sequence(field: str, value: object) -> tuple[Any, ...]:
    if value is None or isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(
            field, value, "expected a sequence (a list or tuple; pass () for none)"
        )
    return tuple(value)


def _contact_points(value: Iterable[ContactPoint]) -> tuple[ContactPoint, ...]:
    return _sequence("borrower.contact_points", value)


def _installments(value: Iterable[Installment]) -> tuple[Installment, ...]:
    return _sequence("loan.installments", value)


def _non_empty(
    field: str, mask: Callable[[str], str] | None = None
) -> Callable[[Any, Any, str], None]:
    def check(_: Any, __: Any, value: str) -> None:
        check_text(field, value, required=True, mask=mask)

    return check


def _text(field: str) -> Callable[[Any, Any, str], None]:
    def check(_: Any, __: Any, value: str) -> None:
        check_text(field, value)

    return check


def _flag(field: str) -> Callable[[Any, Any, bool], None]:
    def check(_: Any, __: Any, value: bool) -> None:
        check_bool(field, value)

    return check


def require_aware(field: str, value: dt.datetime) -> None:
    """Raise :class:`ValidationError` unless ``value`` is a time-zone-aware datetime
    within the supported years (:data:`~loancollect.domain.checks.MIN_DATE` to
    :data:`~loancollect.domain.checks.MAX_DATE`)."""
    check_instant(field, value)


def _is_date(field: str) -> Callable[[Any, Any, dt.date], None]:
    def check(_: Any, __: Any, value: dt.date) -> None:
        check_date(field, value)

    return check


def _optional_date(field: str) -> Callable[[Any, Any, dt.date | None], None]:
    def check(_: Any, __: Any, value: dt.date | None) -> None:
        if value is not None:
            check_date(field, value)

    return check


def _optional_money(field: str) -> Callable[[Any, Any, Money | None], None]:
    def check(_: Any, __: Any, value: Money | None) -> None:
        if value is not None and not isinstance(value, Money):
            raise ValidationError(field, value, "expected Money or None")

    return check


class PartyKind(enum.Enum):
    """Whether a borrower is a person or a company; strategy and law differ."""

    INDIVIDUAL = "individual"
    COMPANY = "company"


class ContactKind(enum.Enum):
    """The medium a contact point reaches."""

    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"


_MASKERS: dict[ContactKind, Callable[[str], str]] = {
    ContactKind.PHONE: mask_phone,
    ContactKind.EMAIL: mask_email,
    ContactKind.ADDRESS: mask_text,
}


@attrs.frozen(repr=False)
class ContactPoint:
    """One way to reach a borrower: a phone number, an e-mail or a postal address.

    :param label: free tag such as ``"mobile"``, ``"work"``, ``"home"``.
    :param time_zone: IANA zone of this contact point when it differs from the
        borrower's (an area code in another zone, a work address).
    """

    kind: ContactKind = attrs.field(validator=enum_validator(ContactKind, "contact_point.kind"))
    value: str = attrs.field(validator=_non_empty("contact_point.value", mask_text))
    label: str = attrs.field(default="", validator=_text("contact_point.label"))
    time_zone: str | None = None
    verified: bool = attrs.field(default=False, validator=_flag("contact_point.verified"))

    def __attrs_post_init__(self) -> None:
        if self.kind is ContactKind.EMAIL and "@" not in self.value:
            raise ValidationError("contact_point.value", self.masked, "not an e-mail address")
        if self.kind is ContactKind.PHONE and sum(c.isdigit() for c in self.value) < 5:
            raise ValidationError("contact_point.value", self.masked, "not a phone number")
        if self.time_zone is not None:
            _check_zone("contact_point.time_zone", self.time_zone)

    @property
    def masked(self) -> str:
        """The value with personal parts hidden."""
        return _MASKERS[self.kind](self.value)

    def __repr__(self) -> str:
        return f"ContactPoint({self.kind.value}, {self.masked!r}, label={self.label!r})"


def _check_zone(field: str, value: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(field, value, "expected an IANA time zone name")
    check_text(field, value, required=True)
    check_zone(field, value)


@attrs.frozen(repr=False)
class Borrower:
    """A person or company that owes money.

    :param jurisdiction: ISO 3166 country code, optionally with a subdivision
        (``"CN"``, ``"US-MA"``, ``"GB-ENG"``); selects the rule pack.
    :param time_zone: IANA zone of the borrower's residence, e.g. ``"Asia/Shanghai"``.
    :param locale: language of messages, e.g. ``"zh_CN"``, ``"en_US"``.
    :param monthly_income: optional ability-to-pay fact for segmentation.
    """

    id: str = attrs.field(validator=_non_empty("borrower.id"))
    kind: PartyKind = attrs.field(validator=enum_validator(PartyKind, "borrower.kind"))
    name: str = attrs.field(validator=_non_empty("borrower.name", mask_name))
    jurisdiction: str
    time_zone: str
    locale: str
    contact_points: tuple[ContactPoint, ...] = attrs.field(default=(), converter=_contact_points)
    national_id: str | None = None
    monthly_income: Money | None = attrs.field(
        default=None, validator=_optional_money("borrower.monthly_income")
    )
    monthly_debt_service: Money | None = attrs.field(
        default=None, validator=_optional_money("borrower.monthly_debt_service")
    )

    def __attrs_post_init__(self) -> None:
        if self.national_id is not None:
            check_text("borrower.national_id", self.national_id, mask=mask_id_number)
        if not isinstance(self.jurisdiction, str) or not _JURISDICTION.fullmatch(self.jurisdiction):
            raise ValidationError(
                "borrower.jurisdiction",
                self.jurisdiction,
                "expected ISO 3166 code like 'CN' or 'US-MA'",
            )
        _check_zone("borrower.time_zone", self.time_zone)
        if not isinstance(self.locale, str) or not _LOCALE.fullmatch(self.locale):
            raise ValidationError("borrower.locale", self.locale, "expected a locale like 'zh_CN'")
        for i, cp in enumerate(self.contact_points):
            if not isinstance(cp, ContactPoint):
                raise ValidationError(
                    f"borrower.contact_points[{i}]", cp, "expected a ContactPoint"
                )
        for field in ("monthly_income", "monthly_debt_service"):
            amount = getattr(self, field)
            if amount is not None and amount.is_negative():
                raise ValidationError(f"borrower.{field}", amount, "may not be negative")

    @property
    def country(self) -> str:
        """The ISO country part of the jurisdiction (``"US"`` for ``"US-MA"``)."""
        return self.jurisdiction.split("-", 1)[0]

    def contacts(self, kind: ContactKind) -> tuple[ContactPoint, ...]:
        """The contact points of one kind, in the order given."""
        return tuple(cp for cp in self.contact_points if cp.kind is kind)

    def __repr__(self) -> str:
        nid = mask_id_number(self.national_id) if self.national_id else None
        return (
            f"Borrower(id={self.id!r}, kind={self.kind.value}, name={mask_name(self.name)!r}, "
            f"jurisdiction={self.jurisdiction!r}, time_zone={self.time_zone!r}, "
            f"locale={self.locale!r}, contact_points={list(self.contact_points)!r}, "
            f"national_id={nid!r})"
        )


class RepaymentMethod(enum.Enum):
    """How principal and interest are repaid."""

    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息 (annuity)
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only_bullet"  # 先息后本
    BULLET = "bullet"  # 一次性还本付息


class Frequency(enum.Enum):
    """Installment frequency; monthly periods use annual/12."""

    MONTHLY = "monthly"
    BIWEEKLY = "biweekly"
    WEEKLY = "weekly"

    @property
    def periods_per_year(self) -> int:
        """12, 26 or 52."""
        return {"monthly": 12, "biweekly": 26, "weekly": 52}[self.value]


@attrs.frozen
class DateRange:
    """An inclusive range of dates ``[start, end]``."""

    start: dt.date = attrs.field(validator=_is_date("date_range.start"))
    end: dt.date = attrs.field(validator=_is_date("date_range.end"))

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                "date_range.end",
                self.end.isoformat(),
                f"ends before it starts ({self.start.isoformat()})",
            )

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def overlap_days(self, start: dt.date, end: dt.date) -> int:
        """Days of this range inside the half-open interval ``(start, end]``."""
        lo = max(self.start, start + dt.timedelta(days=1))
        hi = min(self.end, end)
        return max(0, (hi - lo).days + 1)


@attrs.frozen
class PenaltyTerms:
    """Penalty interest (罚息) and compound interest (复利) terms.

    :param markup: penalty rate = contract rate × (1 + markup); 0.3–0.5 in PRC bank practice.
    :param rate: an explicit annual penalty rate, overriding ``markup``.
    :param compound: charge compound interest on overdue interest at the penalty rate.
    :param day_count: convention for daily accrual of both charges.
    :param rounding: applied once per charge and component; a charge is what accrued
        between payment dates (see docs/overdue.md).
    :param accrue_from_grace_end: if true, nothing accrues during the grace days.
    :param cap_rate: annual cap on penalty + compound together, expressed on overdue
        principal; for private lending it defaults to 4 × the one-year LPR at contract date.
    """

    markup: Decimal = attrs.field(default=Decimal("0.5"), converter=_markup)
    rate: Decimal | None = attrs.field(default=None, converter=_optional_penalty_rate)
    compound: bool = attrs.field(default=True, validator=_flag("penalty.compound"))
    day_count: DayCount = attrs.field(
        default=DayCount.ACT_360, validator=enum_validator(DayCount, "penalty.day_count")
    )
    rounding: Rounding = attrs.field(
        default=Rounding.HALF_UP, validator=enum_validator(Rounding, "penalty.rounding")
    )
    accrue_from_grace_end: bool = attrs.field(
        default=False, validator=_flag("penalty.accrue_from_grace_end")
    )
    cap_rate: Decimal | None = attrs.field(default=None, converter=_optional_cap_rate)

    def __attrs_post_init__(self) -> None:
        if self.markup < 0 or self.markup > 10:
            raise ValidationError("penalty.markup", self.markup, "must be between 0 and 10")
        if self.rate is not None and not (0 <= self.rate <= MAX_ANNUAL_RATE):
            raise ValidationError("penalty.rate", self.rate, "must be a fraction between 0 and 1")
        if self.cap_rate is not None and not (0 <= self.cap_rate <= MAX_ANNUAL_RATE):
            raise ValidationError(
                "penalty.cap_rate", self.cap_rate, "must be a fraction between 0 and 1"
            )

    def penalty_rate(self, contract_rate: Decimal) -> Decimal:
        """The annual penalty rate for a contract rate."""
        return self.rate if self.rate is not None else contract_rate * (1 + self.markup)


NO_PENALTY = PenaltyTerms(markup=Decimal(0), compound=False)
DEFAULT_PENALTY = PenaltyTerms()


@attrs.frozen
class Installment:
    """One scheduled installment of a loan.

    :param number: 1-based position in the schedule.
    :param due_date: the (possibly business-day-rolled) date payment is due.
    :param accrual_start: start of the interest period (inclusive).
    :param accrual_days: days of interest in the period under the loan's day count.
    """

    number: int
    due_date: dt.date = attrs.field(validator=_is_date("installment.due_date"))
    principal: Money
    interest: Money
    fees: Money | None = None
    accrual_start: dt.date | None = attrs.field(
        default=None, validator=_optional_date("installment.accrual_start")
    )
    accrual_days: int | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise ValidationError("installment.number", self.number, "must be an int >= 1")
        if self.accrual_days is not None and (
            isinstance(self.accrual_days, bool)
            or not isinstance(self.accrual_days, int)
            or not 0 <= self.accrual_days <= 400_000
        ):
            raise ValidationError(
                f"installment[{self.number}].accrual_days",
                self.accrual_days,
                "must be None or a non-negative int",
            )
        for name in ("principal", "interest", "fees"):
            value = getattr(self, name)
            if value is None and name == "fees":
                continue
            if not isinstance(value, Money):
                raise ValidationError(f"installment[{self.number}].{name}", value, "expected Money")
            if value.is_negative():
                raise ValidationError(
                    f"installment[{self.number}].{name}", value, "may not be negative"
                )
        if self.interest.currency != self.principal.currency:
            raise CurrencyMismatchError("schedule", self.principal.currency, self.interest.currency)
        if self.fees is not None and self.fees.currency != self.principal.currency:
            raise CurrencyMismatchError("schedule", self.principal.currency, self.fees.currency)

    @property
    def fee_amount(self) -> Money:
        """Fees due with this installment (zero if none)."""
        return self.fees if self.fees is not None else Money.zero(self.principal.currency)

    @property
    def total(self) -> Money:
        """Principal + interest + fees."""
        return self.principal + self.interest + self.fee_amount


@attrs.frozen(repr=False)
class Loan:
    """A loan under collection.

    Build one with :meth:`Loan.create` (which computes the schedule) or pass
    ``installments`` you already have (the host platform's own schedule).

    :param annual_rate: contract rate as a fraction, ``Decimal("0.06")`` for 6 %.
    :param day_count: ``None`` means periodic interest at annual / periods-per-year
        (every month is 1/12 year); a :class:`DayCount` means daily accrual.
    :param grace_days: days after a due date before delinquency counts (宽限期).
    :param tolerance: outstanding amounts at or below this do not make an
        installment overdue (small-balance tolerance).
    :param private_lending: 民间借贷; caps overdue charges at 4 × LPR.
    """

    id: str = attrs.field(validator=_non_empty("loan.id"))
    borrower: Borrower
    principal: Money
    annual_rate: Decimal = attrs.field(converter=_annual_rate)
    disbursement_date: dt.date = attrs.field(validator=_is_date("loan.disbursement_date"))
    installments: tuple[Installment, ...] = attrs.field(converter=_installments)
    method: RepaymentMethod = attrs.field(
        default=RepaymentMethod.EQUAL_INSTALLMENT,
        validator=enum_validator(RepaymentMethod, "loan.method"),
    )
    frequency: Frequency = attrs.field(
        default=Frequency.MONTHLY, validator=enum_validator(Frequency, "loan.frequency")
    )
    day_count: DayCount | None = attrs.field(
        default=None, validator=optional_enum_validator(DayCount, "loan.day_count")
    )
    penalty: PenaltyTerms = DEFAULT_PENALTY
    grace_days: int = 0
    tolerance: Money | None = attrs.field(default=None, validator=_optional_money("loan.tolerance"))
    private_lending: bool = attrs.field(default=False, validator=_flag("loan.private_lending"))
    contract_date: dt.date | None = attrs.field(
        default=None, validator=_optional_date("loan.contract_date")
    )
    product: str = attrs.field(default="default", validator=_non_empty("loan.product"))
    # Integer view of the schedule for the hot path: (due ordinal, principal,
    # interest, fees) in minor units. Derived, so excluded from eq and repr.
    plan: tuple[tuple[int, int, int, int], ...] = attrs.field(init=False, eq=False, repr=False)
    # The same, column-wise, and the penalty rate as an exact fraction (numerator,
    # denominator): what ``assess`` reads on every call.
    columns: tuple[tuple[int, ...], ...] = attrs.field(init=False, eq=False, repr=False)
    penalty_fraction: tuple[int, int] = attrs.field(init=False, eq=False, repr=False)
    # (numerator, denominator × basis, compound?) when the penalty terms are the
    # common case (half-up, actual days, no cap, no private lending, accrual from the
    # due date); ``None`` otherwise. Lets ``assess`` take its lean path.
    simple_penalty: tuple[int, int, bool] | None = attrs.field(init=False, eq=False, repr=False)
    # A loan rebuilt by ``stored_loan`` leaves ``installments`` unset and keeps its
    # checked rows here instead; ``__getattr__`` builds the Installment objects on
    # first use (the review's hot path reads only the integer plan).
    _stored_rows: tuple[tuple[Any, ...], ...] | None = attrs.field(
        init=False, default=None, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        self._check_terms()
        self._derive(self._check_schedule())

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: for ``installments`` of a stored loan
        # that nobody has asked for yet.
        if name == "installments":
            rows = object.__getattribute__(self, "_stored_rows")
            if rows is not None:
                built = _built_installments(rows, self.principal.currency)
                object.__setattr__(self, "installments", built)
                return built
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        # A stored loan crosses to another process (the pipelined review's decide
        # processes) as its checked schedule rows: building its Installment objects
        # only to pickle them cost a quarter of the review's reading process.
        get = object.__getattribute__
        state: dict[str, Any] = {}
        for name in _LOAN_SLOTS:
            try:
                state[name] = get(self, name)
            except AttributeError:  # installments nobody has asked for yet
                continue
        if state.get("_stored_rows") is not None:
            state.pop("installments", None)  # built again from the rows when asked
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def _check_terms(self) -> None:
        """Check everything but the installments."""
        if not isinstance(self.borrower, Borrower):
            raise ValidationError("loan.borrower", self.borrower, "expected a Borrower")
        if not isinstance(self.principal, Money):
            raise ValidationError("loan.principal", self.principal, "expected Money")
        if not isinstance(self.penalty, PenaltyTerms):
            raise ValidationError("loan.penalty", self.penalty, "expected PenaltyTerms")
        if not self.principal.is_positive():
            raise ValidationError("loan.principal", self.principal, "must be positive")
        if not (0 <= self.annual_rate <= MAX_ANNUAL_RATE):
            raise ValidationError(
                "loan.annual_rate",
                self.annual_rate,
                "must be a fraction between 0 and 1 (Decimal('0.06') for 6 %)",
            )
        if (
            isinstance(self.grace_days, bool)
            or not isinstance(self.grace_days, int)
            or not (0 <= self.grace_days <= 366)
        ):
            raise ValidationError(
                "loan.grace_days", self.grace_days, "must be an int from 0 to 366"
            )
        cur = self.principal.currency
        if self.tolerance is not None:
            if self.tolerance.currency != cur:
                raise CurrencyMismatchError("compare tolerance with", cur, self.tolerance.currency)
            if self.tolerance.is_negative():
                raise ValidationError("loan.tolerance", self.tolerance, "may not be negative")

    def _check_schedule(self) -> list[tuple[int, int, int, int]]:
        """Check the installments as a whole; return the integer plan rows."""
        cur = self.principal.currency
        if not self.installments:
            raise ValidationError("loan.installments", (), "a loan needs at least one installment")
        previous = self.disbursement_date
        total_principal = 0
        rows = []
        scale = 10 ** CURRENCIES[cur].minor_units
        for i, inst in enumerate(self.installments):
            if not isinstance(inst, Installment):
                raise ValidationError(f"loan.installments[{i}]", inst, "expected an Installment")
            if inst.principal.currency != cur:
                raise CurrencyMismatchError("schedule", cur, inst.principal.currency)
            if inst.due_date <= previous:
                raise ValidationError(
                    f"loan.installments[{i}].due_date",
                    inst.due_date.isoformat(),
                    f"due dates must be strictly after the previous one ({previous.isoformat()})"
                    if i
                    else f"first due date must be after disbursement ({previous.isoformat()})",
                )
            previous = inst.due_date
            p = int(inst.principal.amount * scale)
            total_principal += p
            fees = int(inst.fees.amount * scale) if inst.fees is not None else 0
            rows.append((inst.due_date.toordinal(), p, int(inst.interest.amount * scale), fees))
        if total_principal != self.principal.minor_units:
            raise ValidationError(
                "loan.installments",
                f"{Money.from_minor(total_principal, cur)}",
                f"installment principal must sum to the loan principal {self.principal}",
            )
        return rows

    def _derive(self, rows: Sequence[tuple[int, int, int, int]]) -> None:
        """Set the derived fields from the integer plan rows."""
        object.__setattr__(self, "plan", tuple(rows))
        object.__setattr__(self, "columns", tuple(tuple(col) for col in zip(*rows, strict=True)))
        num, den = self.penalty.penalty_rate(self.annual_rate).as_integer_ratio()
        object.__setattr__(self, "penalty_fraction", (num, den))
        terms = self.penalty
        simple = (
            terms.rounding is Rounding.HALF_UP
            and terms.day_count is not DayCount.THIRTY_360
            and terms.cap_rate is None
            and not terms.accrue_from_grace_end
            and not self.private_lending
        )
        object.__setattr__(
            self,
            "simple_penalty",
            (num, den * terms.day_count.basis, terms.compound) if simple else None,
        )

    @classmethod
    def create(
        cls,
        *,
        id: str,
        borrower: Borrower,
        principal: Money,
        annual_rate: object,
        term: int,
        disbursement_date: dt.date,
        method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
        frequency: Frequency = Frequency.MONTHLY,
        day_count: DayCount | None = None,
        first_due_date: dt.date | None = None,
        calendar: BusinessCalendar | None = None,
        roll: RollConvention = RollConvention.NONE,
        rounding: Rounding = Rounding.HALF_UP,
        **terms: Any,
    ) -> Loan:
        """Originate a loan and compute its schedule with :func:`build_schedule`.

        Enums must be members (``Frequency.MONTHLY``, not ``"monthly"``).
        Extra keyword arguments (``penalty``, ``grace_days``, ``tolerance``,
        ``private_lending``, ``contract_date``, ``product``) are passed to the class.
        """
        from loancollect.domain.schedule import installments_from_rows, schedule_rows

        check_text("loan.id", id, required=True)
        if not isinstance(borrower, Borrower):
            raise ValidationError("loan.borrower", borrower, "expected a Borrower")
        if not isinstance(principal, Money):
            raise ValidationError("loan.principal", principal, "expected Money")
        check_date("loan.disbursement_date", disbursement_date)
        require_enum(RepaymentMethod, method, "loan.method")
        require_enum(Frequency, frequency, "loan.frequency")
        if day_count is not None:
            require_enum(DayCount, day_count, "loan.day_count")
        rate = to_decimal(annual_rate, "loan.annual_rate")
        rows = schedule_rows(
            principal=principal,
            annual_rate=rate,
            term=term,
            start=disbursement_date,
            method=method,
            frequency=frequency,
            day_count=day_count,
            first_due_date=first_due_date,
            calendar=calendar,
            roll=roll,
            rounding=rounding,
        )
        if terms.keys() <= _TERMS:
            # The loan over the integer rows (its installments built on first use):
            # the same loan, without a Money per amount.
            fields = {
                **_TERM_DEFAULTS,
                "id": id,
                "borrower": borrower,
                "principal": principal,
                "annual_rate": rate,
                "disbursement_date": disbursement_date,
                "method": method,
                "frequency": frequency,
                "day_count": day_count,
                **terms,
            }
            return _from_rows(fields, rows, principal.minor_units)
        # Terms the class does not know: its constructor names them in the error.
        installments = installments_from_rows(rows, principal.currency)
        return cls(
            id=id,
            borrower=borrower,
            principal=principal,
            annual_rate=rate,
            disbursement_date=disbursement_date,
            installments=installments,
            method=method,
            frequency=frequency,
            day_count=day_count,
            **terms,
        )

    def schedule_rows(self) -> tuple[tuple[Any, ...], ...]:
        """The schedule as ``(number, due_date, principal, interest, fees, accrual_start,
        accrual_days)`` rows, amounts in minor units (``fees`` may be ``None``): the
        shape :func:`stored_loan` takes, read without building Installment objects when
        the loan keeps its rows (one from :meth:`create` or :func:`stored_loan`)."""
        rows = self._stored_rows
        if rows is not None:
            return rows
        return tuple(
            (
                i.number,
                i.due_date,
                i.principal.minor_units,
                i.interest.minor_units,
                None if i.fees is None else i.fees.minor_units,
                i.accrual_start,
                i.accrual_days,
            )
            for i in self.installments
        )

    @property
    def currency(self) -> str:
        """The loan's currency code."""
        return self.principal.currency

    @property
    def maturity_date(self) -> dt.date:
        """The last due date."""
        return dt.date.fromordinal(self.plan[-1][0])

    def __repr__(self) -> str:
        return (
            f"Loan(id={self.id!r}, borrower={self.borrower.id!r}, principal={self.principal!r}, "
            f"annual_rate={self.annual_rate}, method={self.method.value}, "
            f"installments={len(self.plan)}, "
            f"disbursed={self.disbursement_date.isoformat()})"
        )


@attrs.frozen
class Payment:
    """Money received for a loan.

    :param value_date: the date the payment counts from (it changes the penalty
        base on that day).
    :param received_at: when it arrived, time-zone aware.
    """

    id: str = attrs.field(validator=_non_empty("payment.id"))
    loan_id: str = attrs.field(validator=_non_empty("payment.loan_id"))
    amount: Money
    value_date: dt.date = attrs.field(validator=_is_date("payment.value_date"))
    received_at: dt.datetime
    reference: str = attrs.field(default="", validator=_text("payment.reference"))
    # The amount in minor units, derived once (assessments read it on every call).
    minor: int = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.amount, Money):
            raise ValidationError("payment.amount", self.amount, "expected Money")
        if not self.amount.is_positive():
            raise ValidationError("payment.amount", self.amount, "must be positive")
        require_aware("payment.received_at", self.received_at)
        object.__setattr__(self, "minor", self.amount.minor_units)


def check_payments(loan: Loan, payments: Sequence[Payment]) -> None:
    """Validate payments against their loan: same loan, currency, not before disbursement."""
    for i, p in enumerate(payments):
        if p.loan_id != loan.id:
            raise ValidationError(
                f"payments[{i}].loan_id", p.loan_id, f"belongs to another loan than {loan.id!r}"
            )
        if p.amount.currency != loan.currency:
            raise CurrencyMismatchError(
                "apply a payment in", p.amount.currency, f"a {loan.currency} loan"
            )
        if p.value_date < loan.disbursement_date:
            raise ValidationError(
                f"payments[{i}].value_date",
                p.value_date.isoformat(),
                f"before the disbursement date {loan.disbursement_date.isoformat()}",
            )


__all__ += ["MAX_ANNUAL_RATE", "NO_PENALTY", "check_payments"]


def stored_installments(rows: Iterable[Sequence[Any]], currency: str) -> tuple[Installment, ...]:
    """Installments from compact rows a storage back-end wrote from validated ones.

    Each row is ``(number, due_date, principal, interest, fees, accrual_start,
    accrual_days)`` with amounts in minor units of ``currency`` (``fees`` may be
    ``None``) and dates as ``datetime.date`` or ISO text.

    Loading a loan is on the hot path of every review, so this builds the objects
    directly instead of through ``Installment(...)``. The cheap integer checks
    still run and a row that fails them goes through the full constructor, which
    raises the usual :class:`ValidationError`; :class:`Loan` then checks the
    schedule as a whole (order, currency, principal sum) as always.

    :raises UnknownCurrencyError: if ``currency`` is not a known ISO 4217 code.
    """
    if currency not in CURRENCIES:
        raise UnknownCurrencyError("currency", currency)
    money, new, put = Money.from_minor, object.__new__, object.__setattr__
    out: list[Installment] = []
    for row in rows:
        number, due, principal, interest, fees, start, days = parsed = _parsed_row(row)
        if not _plain_row(parsed):
            out.append(
                Installment(
                    number,
                    due,
                    Money.from_minor(principal, currency),
                    Money.from_minor(interest, currency),
                    None if fees is None else Money.from_minor(fees, currency),
                    start,
                    days,
                )
            )
            continue
        inst = new(Installment)
        put(inst, "number", number)
        put(inst, "due_date", due)
        put(inst, "principal", money(principal, currency))
        put(inst, "interest", money(interest, currency))
        put(inst, "fees", None if fees is None else money(fees, currency))
        put(inst, "accrual_start", start)
        put(inst, "accrual_days", days)
        out.append(inst)
    return tuple(out)


def stored_loan(
    *,
    id: str,
    borrower: Borrower,
    currency: str,
    principal_minor: int,
    annual_rate: Decimal,
    disbursement_date: dt.date,
    schedule: Sequence[Sequence[Any]],
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    frequency: Frequency = Frequency.MONTHLY,
    day_count: DayCount | None = None,
    penalty: PenaltyTerms = DEFAULT_PENALTY,
    grace_days: int = 0,
    tolerance_minor: int | None = None,
    private_lending: bool = False,
    contract_date: dt.date | None = None,
    product: str = "default",
) -> Loan:
    """A :class:`Loan` from what a storage back-end wrote: amounts in minor units and the
    schedule as :func:`stored_installments` rows.

    Every check of ``Loan(...)`` runs, but the schedule's order and principal sum are
    checked on the stored integers rather than through ``Decimal`` arithmetic per
    installment; if they fail, the loan goes through the full constructor, which raises
    the usual :class:`ValidationError`.
    """
    if currency not in CURRENCIES:
        raise UnknownCurrencyError("currency", currency)
    fields: dict[str, Any] = {
        "id": id,
        "borrower": borrower,
        "principal": Money.from_minor(principal_minor, currency),
        "annual_rate": to_decimal(annual_rate, "loan.annual_rate"),
        "disbursement_date": disbursement_date,
        "method": method,
        "frequency": frequency,
        "day_count": day_count,
        "penalty": penalty,
        "grace_days": grace_days,
        "tolerance": None
        if tolerance_minor is None
        else Money.from_minor(tolerance_minor, currency),
        "private_lending": private_lending,
        "contract_date": contract_date,
        "product": product,
    }
    return _from_rows(fields, schedule, principal_minor)


# The keyword terms ``Loan.create`` passes on to the class, and their defaults.
_TERM_DEFAULTS: dict[str, Any] = {
    "penalty": DEFAULT_PENALTY,
    "grace_days": 0,
    "tolerance": None,
    "private_lending": False,
    "contract_date": None,
    "product": "default",
}
_TERMS = frozenset(_TERM_DEFAULTS)


def _from_rows(
    fields: dict[str, Any], schedule: Sequence[Sequence[Any]], principal_minor: int
) -> Loan:
    """A :class:`Loan` of ``fields`` (every field but the installments) over schedule rows
    in the :func:`stored_installments` shape, with every check of ``Loan(...)``: the rows
    are checked as integers and kept (the Installment objects are built on first use);
    a row that fails goes through the full constructor, which raises the usual error."""
    checked = _checked_rows(schedule, fields["disbursement_date"], principal_minor)
    principal = fields["principal"]
    if checked is None or not isinstance(principal, Money):
        currency = principal.currency if isinstance(principal, Money) else ""
        return Loan(**fields, installments=stored_installments(schedule, currency))
    loan: Loan = object.__new__(Loan)
    for name, value in fields.items():
        object.__setattr__(loan, name, value)
    object.__setattr__(loan, "_stored_rows", checked)
    attrs.validate(loan)
    loan._check_terms()
    loan._derive([(row[1].toordinal(), row[2], row[3], row[4] or 0) for row in checked])
    return loan


def _parsed_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A stored schedule row ``(number, due_date, principal, interest, fees,
    accrual_start, accrual_days)`` with its ISO dates parsed."""
    number, due, principal, interest, fees, start, days = row
    if isinstance(due, str):
        due = dt.date.fromisoformat(due)
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    return (number, due, principal, interest, fees, start, days)


def _plain_row(row: tuple[Any, ...]) -> bool:
    """True if a parsed row passes the checks the Installment constructor makes on its
    number, due date and amounts (whole non-negative minor units)."""
    number, due, principal, interest, fees = row[:5]
    return (
        type(number) is int
        and number >= 1
        and type(principal) is int
        and principal >= 0
        and type(interest) is int
        and interest >= 0
        and (fees is None or (type(fees) is int and fees >= 0))
        and type(due) is dt.date
    )


def _checked_rows(
    schedule: Sequence[Sequence[Any]], disbursement_date: dt.date, principal_minor: int
) -> tuple[tuple[Any, ...], ...] | None:
    """The stored schedule rows with their dates parsed, if they pass the checks the
    Installment and Loan constructors make (the same as :func:`stored_installments`'
    fast path, plus order and principal sum); ``None`` if any row fails one."""
    out = []
    previous = disbursement_date
    total = 0
    if type(previous) is not dt.date:
        return None
    for row in schedule:
        parsed = _parsed_row(row)
        due = parsed[1]
        if not _plain_row(parsed) or due <= previous:
            return None
        previous = due
        total += parsed[2]
        out.append(parsed)
    if not out or total != principal_minor:
        return None
    return tuple(out)


_LOAN_SLOTS = tuple(f.name for f in attrs.fields(Loan))
# What ``==`` compares on loans but the installments (equal stored rows give equal ones).
_LOAN_TERMS = tuple(f.name for f in attrs.fields(Loan) if f.eq and f.name != "installments")


def same_loan(a: Loan, b: Loan) -> bool:
    """``a == b``, without building the installments of two loans rebuilt from storage.

    Two stored loans with equal checked schedule rows have equal installments (they
    are built from the rows and the principal's currency), so only the other fields are
    compared; in any other case this is ``a == b``.

    >>> from loancollect.testing import make_loan
    >>> same_loan(make_loan(), make_loan())
    True
    """
    if a is b:
        return True
    rows = a._stored_rows
    if rows is None or rows != b._stored_rows:
        return a == b
    return all(getattr(a, name) == getattr(b, name) for name in _LOAN_TERMS)


def _built_installments(rows: Iterable[tuple[Any, ...]], currency: str) -> tuple[Installment, ...]:
    """Installment objects from rows :func:`_checked_rows` passed (no check repeated)."""
    money, new, put = Money.from_minor, object.__new__, object.__setattr__
    out: list[Installment] = []
    for number, due, principal, interest, fees, start, days in rows:
        inst = new(Installment)
        put(inst, "number", number)
        put(inst, "due_date", due)
        put(inst, "principal", money(principal, currency))
        put(inst, "interest", money(interest, currency))
        put(inst, "fees", None if fees is None else money(fees, currency))
        put(inst, "accrual_start", start)
        put(inst, "accrual_days", days)
        out.append(inst)
    return tuple(out)


__all__ += ["same_loan", "stored_installments", "stored_loan"]
