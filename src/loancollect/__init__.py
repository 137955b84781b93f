"""loancollect: an embeddable loan collection engine.

The public API. Domain types and functions come from the pure core
(:mod:`loancollect.domain`); errors from :mod:`loancollect.errors`.
"""

from loancollect.domain.allocation import (
    HORIZONTAL,
    PRINCIPAL_FIRST,
    VERTICAL,
    AllocationLine,
    AllocationResult,
    Component,
    DueItem,
    DueState,
    Waterfall,
    WaterfallStep,
    allocate,
    waterfall,
)
from loancollect.domain.calendar import (
    BusinessCalendar,
    DayCount,
    RollConvention,
    add_months,
    business_calendar,
)
from loancollect.domain.loans import (
    NO_PENALTY,
    Borrower,
    ContactKind,
    ContactPoint,
    DateRange,
    Frequency,
    Installment,
    Loan,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
)
from loancollect.domain.lpr import CN_ONE_YEAR_LPR, LprTable
from loancollect.domain.money import Money, Rounding
from loancollect.domain.overdue import (
    Adjustment,
    AgingBuckets,
    Assessment,
    AssessmentConfig,
    InstallmentState,
    InstallmentStatus,
    RiskClass,
    RiskClassThresholds,
    assess,
)
from loancollect.domain.schedule import annuity_payment, build_schedule, due_dates
from loancollect.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    LoanCollectError,
    UnknownCurrencyError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "CN_ONE_YEAR_LPR",
    "HORIZONTAL",
    "NO_PENALTY",
    "PRINCIPAL_FIRST",
    "VERTICAL",
    "Adjustment",
    "AgingBuckets",
    "AllocationLine",
    "AllocationResult",
    "Assessment",
    "AssessmentConfig",
    "Borrower",
    "BusinessCalendar",
    "Component",
    "ConfigurationError",
    "ContactKind",
    "ContactPoint",
    "CurrencyMismatchError",
    "DateRange",
    "DayCount",
    "DueItem",
    "DueState",
    "FloatNotAllowedError",
    "Frequency",
    "Installment",
    "InstallmentState",
    "InstallmentStatus",
    "Loan",
    "LoanCollectError",
    "LprTable",
    "Money",
    "PartyKind",
    "Payment",
    "PenaltyTerms",
    "RepaymentMethod",
    "RiskClass",
    "RiskClassThresholds",
    "RollConvention",
    "Rounding",
    "UnknownCurrencyError",
    "ValidationError",
    "Waterfall",
    "WaterfallStep",
    "__version__",
    "add_months",
    "allocate",
    "annuity_payment",
    "assess",
    "build_schedule",
    "business_calendar",
    "due_dates",
    "waterfall",
]
