"""How the engine runs, and what a run reports.

:class:`CycleConfig` is the one place an operator tunes the cycle; a run returns a
:class:`CycleReport` with its :class:`~loancollect.registry.CycleSummary` and the
:class:`CycleProblem` records of the loans or actions that went wrong (the cycle
goes on past them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from loancollect.domain.defaults import DEFAULT_POLICY, DEFAULT_STRATEGY
from loancollect.domain.dunning import RateSource
from loancollect.domain.errors import ConfigurationError
from loancollect.domain.overdue import DEFAULT_CONFIG, AssessmentConfig
from loancollect.domain.policy import StagePolicy
from loancollect.domain.strategy import Experiment, Strategy
from loancollect.lenders import LenderBook
from loancollect.registry import CycleSummary
from loancollect.templates import LenderInfo

__all__ = ["DEFAULT_LENDER", "CycleConfig", "CycleProblem", "CycleReport", "Step"]

DEFAULT_LENDER = LenderInfo(
    name="Lender", phone="400-000-0000", how_to_pay="Pay in the lender's app.", address=""
)
"""Placeholder lender details; a real deployment passes its own."""


@attrs.frozen(kw_only=True)
class CycleConfig:
    """How the engine runs.

    :param batch_size: cases per unit of work.
    :param max_attempts: sends tried per action before it fails for good.
    :param retry_backoff: delay before the first retry; doubled each attempt.
    :param dispatch_workers: concurrent sends across channels.
    :param channel_concurrency: most concurrent sends per channel (default 4).
    :param channel_rate: most sends per second per channel (``None``: unlimited).
    :param send_timeout: seconds a send may take; past it the engine stops waiting and
        the send's outcome is unknown (retried only through a channel that de-duplicates
        by key or can be asked, never blindly).
    :param batch_timeout: seconds a dispatch batch may take; sends not started by then
        stay in the outbox for the next run.
    :param history_days: how far back the contact rules see a loan's events (frequency
        caps and cool-downs look back days or weeks; opt-outs are kept on the case, so
        they count whatever their age). Keeps the cost of a review independent of how
        long a loan has been in collection.
    :param rates: the host's exchange rates, for a dunning fee written in another
        currency than the loan's (the core never looks a rate up itself).
    :param lenders: lender profiles per product and language; when set, each message
        is signed by :meth:`LenderBook.for_message` instead of ``lender``.
    :param review_processes: processes that decide during a review while this one
        reads and writes (the pipelined review, byte-identical in what it writes).
        ``None`` (automatic): on two cores or more ``AUTOMATIC_PROCESSES`` of
        :mod:`loancollect.engine.review` (one, for now: see its note), started once
        a day's review has decided ``PIPELINE_THRESHOLD`` (5,000) cases in one
        process; ``1``: never; ``n``: ``n`` processes from the first batch. The
        review stays in one process, saying why once, when the plug-ins cannot be
        rebuilt in a fresh process (see :mod:`loancollect.engine.pipeline`), and on
        storage whose workers claim cases (each claiming worker decides its own).
    :param decide_timeout: seconds a decide process of the pipelined review may take
        to answer a batch; past it the process is stopped and replaced, and the batch
        fails (its cases stay due for the next run), as when the process dies.
    """

    policy: StagePolicy = DEFAULT_POLICY
    strategy: Strategy | Experiment = DEFAULT_STRATEGY
    assessment: AssessmentConfig = DEFAULT_CONFIG
    lender: LenderInfo = DEFAULT_LENDER
    lenders: LenderBook | None = None
    batch_size: int = 500
    max_attempts: int = 4
    retry_backoff: dt.timedelta = dt.timedelta(minutes=10)
    dispatch_workers: int = 8
    channel_concurrency: Mapping[str, int] = attrs.field(factory=dict)
    channel_rate: Mapping[str, float] = attrs.field(factory=dict)
    send_timeout: float = 30.0
    batch_timeout: float = 600.0
    history_days: int = 400
    rates: RateSource | None = None
    review_processes: int | None = None
    decide_timeout: float = 300.0

    def __attrs_post_init__(self) -> None:
        if self.review_processes is not None and self.review_processes < 1:
            raise ConfigurationError(
                f"cycle review_processes={self.review_processes} must be >= 1 (or None)"
            )
        for name in ("batch_size", "max_attempts", "history_days", "dispatch_workers"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigurationError(f"cycle {name}={value} must be >= 1")
        for name in ("send_timeout", "batch_timeout", "decide_timeout"):
            value = getattr(self, name)
            if not value > 0:
                raise ConfigurationError(f"cycle {name}={value} must be > 0 seconds")

    def lender_for(self, product: str, locale: str) -> LenderInfo:
        """Who signs a message about a loan of ``product`` in ``locale``."""
        if self.lenders is None:
            return self.lender
        return self.lenders.for_message(product, locale)


class Step:
    """Where a :class:`CycleProblem` happened (the step of the data's way)."""

    REVIEW = "review"
    DISPATCH = "dispatch"


@attrs.frozen
class CycleProblem:
    """Something that went wrong for one loan or action; the cycle went on.

    :param stage: the step it happened in, :attr:`Step.REVIEW` or :attr:`Step.DISPATCH`.
    """

    loan_id: str
    stage: str
    message: str


@attrs.frozen
class CycleReport:
    """The summary of a run, its id, and the problems met."""

    run_id: str
    as_of: dt.date
    summary: CycleSummary
    problems: tuple[CycleProblem, ...] = ()

    def __add__(self, other: CycleReport) -> CycleReport:
        """Both runs' counts and problems, under this run's id and date."""
        return CycleReport(
            self.run_id, self.as_of, self.summary + other.summary, self.problems + other.problems
        )
