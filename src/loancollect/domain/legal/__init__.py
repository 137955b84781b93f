"""Legal means in the core: limitation periods with their citations (pure)."""

from loancollect.domain.legal.evidence import (
    DATA_MESSAGE_CHANNELS,
    FILING_STEPS,
    LETTER_CHANNELS,
    limitation_events,
    loan_limitation,
)
from loancollect.domain.legal.limitation import (
    Citation,
    Confidence,
    Limitation,
    LimitationEvent,
    LimitationEventKind,
    Regime,
    Step,
    Suspension,
    assess,
    period_end,
)
from loancollect.domain.legal.regimes import (
    ENGLAND_WALES,
    NORTHERN_IRELAND,
    PRC,
    US_STATES,
    DebtType,
    UsStatute,
    court_calendar,
    regime_for,
)

__all__ = [
    "DATA_MESSAGE_CHANNELS",
    "ENGLAND_WALES",
    "FILING_STEPS",
    "LETTER_CHANNELS",
    "NORTHERN_IRELAND",
    "PRC",
    "US_STATES",
    "Citation",
    "Confidence",
    "DebtType",
    "Limitation",
    "LimitationEvent",
    "LimitationEventKind",
    "Regime",
    "Step",
    "Suspension",
    "UsStatute",
    "assess",
    "court_calendar",
    "limitation_events",
    "loan_limitation",
    "period_end",
    "regime_for",
]
