"""Hook implementations (entry point ``loancollect: scoring``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

from loancollect import hookimpl
from loancollect.demo_parts import DemoPart
from loancollect.domain.case import Case
from loancollect.domain.loans import Loan
from loancollect.domain.overdue import Assessment
from loancollect.domain.scoring import ScoreContribution
from loancollect.ports import UnitOfWorkFactory
from loancollect.reporting import ReportData, Table
from loancollect_scoring.live import LiveScorer
from loancollect_scoring.showing import ScoringDemo, lift_tables

SCORER = LiveScorer()
"""The model in use in this process (configured from the ``scoring`` section)."""


@hookimpl
def loancollect_configure(config: Mapping[str, object]) -> None:
    """Load the model the ``scoring`` section names."""
    SCORER.configure(config)


@hookimpl
def loancollect_score(
    loan: Loan, case: Case, assessment: Assessment, as_of: dt.date
) -> ScoreContribution | None:
    """The trained model's risk, when a model is in use for this case."""
    return SCORER.score(loan, case, assessment, as_of)


@hookimpl
def loancollect_cycle_finished(as_of: dt.date, run_id: str) -> None:
    """Warn when the cycle's scores drifted from the training population."""
    SCORER.cycle_finished(as_of, run_id)


@hookimpl
def loancollect_register_demo_parts() -> list[DemoPart]:
    """Train on the demo's first months; score the challenger afterwards."""
    return [ScoringDemo(SCORER)]


@hookimpl
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> Iterator[Table]:
    """The trained score's lift over the heuristic."""
    return lift_tables(SCORER, data, storage)
