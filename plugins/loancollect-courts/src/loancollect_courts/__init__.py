"""loancollect-courts: legal matters (demand letters, payment orders, lawsuits,
enforcement) with their docket, court fees, cost ledger, filing documents and
evidence bundles."""

from loancollect_courts.docket import ROUTES, Docket, Route, replay, route
from loancollect_courts.fees import Procedure, enforcement_fee, filing_fee, preservation_fee
from loancollect_courts.ledger import CostEntry, CostKind, LawyerTariff, Ledger, ledger_for

__all__ = [
    "ROUTES",
    "CostEntry",
    "CostKind",
    "Docket",
    "LawyerTariff",
    "Ledger",
    "Procedure",
    "Route",
    "enforcement_fee",
    "filing_fee",
    "ledger_for",
    "preservation_fee",
    "replay",
    "route",
]
