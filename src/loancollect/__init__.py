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
from loancollect.domain.arrangements import (
    ApprovalAuthority,
    ArrangementStatus,
    GracePeriod,
    InstallmentPlan,
    PromiseToPay,
    Settlement,
    Waiver,
    make_plan,
)
from loancollect.domain.calendar import (
    BusinessCalendar,
    DayCount,
    RollConvention,
    add_months,
    business_calendar,
)
from loancollect.domain.case import Case, ContactOutcome, Hold, HoldKind, OutcomeKind
from loancollect.domain.compliance import RulePack, Verdict
from loancollect.domain.decision import Decision, decide
from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.events import Event, EventKind
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
from loancollect.domain.policy import CatchUp, Condition, Stage, StagePolicy
from loancollect.domain.policy_file import PolicyBundle, PolicyFileError, loads_policy
from loancollect.domain.schedule import annuity_payment, build_schedule, due_dates
from loancollect.domain.strategy import (
    ActionRule,
    Experiment,
    Offer,
    OfferRule,
    PlannedAction,
    Strategy,
    Tone,
    Variant,
)
from loancollect.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    FloatNotAllowedError,
    LoanCollectError,
    UnknownCurrencyError,
    ValidationError,
)
from loancollect.hookspecs import hookimpl
from loancollect.plugins import make_plugin_manager, plugin_info
from loancollect.ports import DeliveryResult, DeliveryStatus, RenderedMessage
from loancollect.registry import (
    ChannelSpec,
    ContactViolation,
    CycleSummary,
    StorageBackendSpec,
    TemplateSpec,
)
from loancollect.templates import LenderInfo, TemplateCatalog

__version__ = "0.1.0"

__all__ = [
    "CN_ONE_YEAR_LPR",
    "DEFAULT_POLICY",
    "DEFAULT_STRATEGY",
    "HORIZONTAL",
    "NO_PENALTY",
    "PRINCIPAL_FIRST",
    "VERTICAL",
    "ActionRule",
    "Adjustment",
    "AgingBuckets",
    "AllocationLine",
    "AllocationResult",
    "ApprovalAuthority",
    "ArrangementStatus",
    "Assessment",
    "AssessmentConfig",
    "Borrower",
    "BusinessCalendar",
    "Case",
    "CatchUp",
    "ChannelSpec",
    "Component",
    "Condition",
    "ConfigurationError",
    "ContactKind",
    "ContactOutcome",
    "ContactPoint",
    "ContactViolation",
    "CurrencyMismatchError",
    "CycleSummary",
    "DateRange",
    "DayCount",
    "Decision",
    "DeliveryResult",
    "DeliveryStatus",
    "DueItem",
    "DueState",
    "Event",
    "EventKind",
    "Experiment",
    "FloatNotAllowedError",
    "Frequency",
    "GracePeriod",
    "Hold",
    "HoldKind",
    "Installment",
    "InstallmentPlan",
    "InstallmentState",
    "InstallmentStatus",
    "LenderInfo",
    "Loan",
    "LoanCollectError",
    "LprTable",
    "Money",
    "Offer",
    "OfferRule",
    "OutcomeKind",
    "PartyKind",
    "Payment",
    "PenaltyTerms",
    "PlannedAction",
    "PolicyBundle",
    "PolicyFileError",
    "PromiseToPay",
    "RenderedMessage",
    "RepaymentMethod",
    "RiskClass",
    "RiskClassThresholds",
    "RollConvention",
    "Rounding",
    "RulePack",
    "Settlement",
    "Stage",
    "StagePolicy",
    "StorageBackendSpec",
    "Strategy",
    "TemplateCatalog",
    "TemplateSpec",
    "Tone",
    "UnknownCurrencyError",
    "ValidationError",
    "Variant",
    "Verdict",
    "Waiver",
    "Waterfall",
    "WaterfallStep",
    "__version__",
    "add_months",
    "allocate",
    "annuity_payment",
    "assess",
    "build_schedule",
    "business_calendar",
    "decide",
    "due_dates",
    "hookimpl",
    "loads_policy",
    "make_plan",
    "make_plugin_manager",
    "plugin_info",
    "waterfall",
]
