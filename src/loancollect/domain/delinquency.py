"""Delinquency pauses, delinquency ranges and the loan status the host sets (Fineract's terms).

A :class:`DelinquencyPause` stops delinquency days from counting. The counting is
Fineract's (``DelinquencyEffectivePauseHelper.getPausedDaysBeforeDate``): a closed
pause takes ``end - start`` days off, a running one ``as_of - start``, so the days
that do not count are ``(start, end]``: on the pause's first day the loan's
delinquency still grows one last time, and on its last day (or the day it is
resumed) it does not; counting resumes the day after. Pauses may be open-ended
(``end=None``: until resumed), which Fineract does not allow.

A :class:`DelinquencyRange` classifies a number of delinquent days (Fineract's
delinquency bucket is the ordered set of ranges). :func:`classify` gives every
overdue installment its own range and the loan the range of its oldest.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Iterable, Sequence

import attrs

from loancollect.domain.errors import ConfigurationError, ValidationError
from loancollect.domain.loans import DateRange
from loancollect.domain.overdue import Assessment

__all__ = [
    "Classification",
    "DelinquencyPause",
    "DelinquencyRange",
    "LoanStatus",
    "classify",
    "not_counted",
    "paused_days",
]


class LoanStatus(enum.Enum):
    """The loan's status as the host (the loan system) sets it.

    ``closed``, ``overpaid`` and ``rescheduled`` close the case; ``written_off``
    moves it to the written-off outcome; ``active`` leaves the policy alone.
    """

    ACTIVE = "active"
    CLOSED = "closed"  # Fineract CLOSED_OBLIGATIONS_MET
    WRITTEN_OFF = "written_off"  # CLOSED_WRITTEN_OFF
    RESCHEDULED = "rescheduled"  # CLOSED_RESCHEDULE_OUTSTANDING_AMOUNT
    OVERPAID = "overpaid"

    @property
    def closes(self) -> bool:
        """True if the case closes (paid off, overpaid or replaced by a rescheduled loan)."""
        return self in (LoanStatus.CLOSED, LoanStatus.RESCHEDULED, LoanStatus.OVERPAID)


@attrs.frozen(kw_only=True)
class DelinquencyPause:
    """A delinquency pause from ``start`` to ``end`` (``None``: until resumed).

    :param resumed_on: the day the pause was resumed early (it then ends that day).
    """

    start: dt.date
    end: dt.date | None = None
    reason: str = ""
    resumed_on: dt.date | None = None

    def __attrs_post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValidationError(
                "pause.end", self.end.isoformat(), f"must be after the start {self.start}"
            )
        if self.resumed_on is not None and self.resumed_on < self.start:
            raise ValidationError(
                "pause.resumed_on", self.resumed_on.isoformat(), f"before the start {self.start}"
            )

    @property
    def effective_end(self) -> dt.date | None:
        """The last day of the pause: the resume date if resumed early, else ``end``."""
        if self.resumed_on is not None and (self.end is None or self.resumed_on < self.end):
            return self.resumed_on
        return self.end

    def active_on(self, day: dt.date) -> bool:
        """True if ``day`` is within ``[start, effective end]``."""
        end = self.effective_end
        return self.start <= day and (end is None or day <= end)

    def overlaps(self, other: DelinquencyPause) -> bool:
        """True if the two pauses share a day."""
        a_end, b_end = self.effective_end, other.effective_end
        return (a_end is None or other.start <= a_end) and (b_end is None or self.start <= b_end)


def not_counted(pauses: Iterable[DelinquencyPause], as_of: dt.date) -> tuple[DateRange, ...]:
    """The days the pauses take off delinquency up to ``as_of``: ``(start, end]`` each."""
    out = []
    for p in pauses:
        end = p.effective_end
        last = as_of if end is None else min(end, as_of)
        first = p.start + dt.timedelta(days=1)
        if first <= last:
            out.append(DateRange(first, last))
    return tuple(out)


def paused_days(pauses: Iterable[DelinquencyPause], since: dt.date | None, as_of: dt.date) -> int:
    """Days in ``(since, as_of]`` that the pauses take off (overlaps counted once)."""
    if since is None:
        return 0
    days: set[int] = set()
    lo = since.toordinal() + 1
    for r in not_counted(pauses, as_of):
        days.update(range(max(r.start.toordinal(), lo), r.end.toordinal() + 1))
    return len(days)


@attrs.frozen(kw_only=True)
class DelinquencyRange:
    """A named range of delinquent days, ``[min_days, max_days]`` (``None``: no upper bound)."""

    name: str
    min_days: int
    max_days: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ConfigurationError("delinquency range: name must not be empty")
        if self.min_days < 1:
            raise ConfigurationError(
                f"delinquency range {self.name!r}: min_days={self.min_days} must be >= 1"
            )
        if self.max_days is not None and self.max_days < self.min_days:
            raise ConfigurationError(
                f"delinquency range {self.name!r}: max_days={self.max_days} below min_days"
            )

    def holds(self, days: int) -> bool:
        """True if ``days`` is in the range."""
        return days >= self.min_days and (self.max_days is None or days <= self.max_days)


def _range_for(ranges: Sequence[DelinquencyRange], days: int) -> str:
    return next((r.name for r in ranges if r.holds(days)), "")


@attrs.frozen(kw_only=True)
class Classification:
    """The loan's delinquency range and each overdue installment's own.

    :param loan: the loan's range (``""``: none).
    :param installments: ``(installment number, delinquent days, range)`` for every
        overdue installment, oldest first.
    """

    loan: str
    loan_days: int
    installments: tuple[tuple[int, int, str], ...]

    def ranges(self) -> tuple[tuple[int, str], ...]:
        """``(number, range)`` of installments that are in a range, ``(0, loan range)`` first."""
        out = [(0, self.loan)] if self.loan else []
        out.extend((n, r) for n, _, r in self.installments if r)
        return tuple(out)


def classify(
    ranges: Sequence[DelinquencyRange],
    assessment: Assessment,
    pauses: Sequence[DelinquencyPause],
    loan_days: int,
) -> Classification:
    """Each overdue installment's range by its own delinquent days (days past its due
    date less paused days), and the loan's range by ``loan_days``."""
    as_of = assessment.as_of
    rows = []
    for inst in assessment.installments:
        if not inst.is_overdue:
            continue
        days = (as_of - inst.due_date).days - paused_days(pauses, inst.due_date, as_of)
        rows.append((inst.number, days, _range_for(ranges, days)))
    return Classification(
        loan=_range_for(ranges, loan_days) if loan_days > 0 else "",
        loan_days=loan_days,
        installments=tuple(rows),
    )


def check_ranges(ranges: Sequence[DelinquencyRange]) -> None:
    """Ranges must have unique names and must not overlap (Fineract's bucket rule)."""
    names = [r.name for r in ranges]
    if len(set(names)) != len(names):
        raise ConfigurationError("delinquency ranges: duplicate names")
    ordered = sorted(ranges, key=lambda r: r.min_days)
    for a, b in itertools.pairwise(ordered):
        if a.max_days is None or a.max_days >= b.min_days:
            raise ConfigurationError(f"delinquency ranges {a.name!r} and {b.name!r} overlap")


__all__ += ["check_ranges"]
