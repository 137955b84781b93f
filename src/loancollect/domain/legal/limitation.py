"""Limitation periods: when the right to sue on a debt expires, and why.

Pure: the caller passes the accrual date, the events that interrupt, restart or
suspend the period, and the business calendar; nothing here reads the clock.

A :class:`Regime` says how long the period is, how its last day is found, which
events restart it (and whether they must be in writing or may be data messages),
and whether an event after expiry revives the debt. :func:`assess` walks the events
in date order and returns a :class:`Limitation`: the last day to sue and the steps
that led to it, each with its citation.

Counting (PRC Civil Code arts. 200–204; the "corresponding date" rule in England and
Wales; the usual US rule): the day the period starts from is not counted, the period
ends on the corresponding day of the last month (the month's last day when there is
none: 29 February → 28 February), and a last day that is not a court working day
moves to the next working day where the regime says so (PRC art. 203).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs

from loancollect.domain.calendar import BusinessCalendar, RollConvention, add_months
from loancollect.domain.errors import ValidationError

__all__ = [
    "Citation",
    "Confidence",
    "Limitation",
    "LimitationEvent",
    "LimitationEventKind",
    "Regime",
    "Step",
    "Suspension",
    "assess",
    "period_end",
]


class Confidence(enum.Enum):
    """How sure the source of a rule is (the tags of the project's rules catalogue).

    - ``VERIFIED``: wording checked against the source text.
    - ``SECONDARY``: supported by secondary material.
    - ``KNOWN``: from prior knowledge of the instrument, not re-verified.
    - ``UNCERTAIN``: conflicting sources or an interpretive gap: make it policy.
    """

    VERIFIED = "V"
    SECONDARY = "S"
    KNOWN = "K"
    UNCERTAIN = "?"


@attrs.frozen(kw_only=True)
class Citation:
    """A legal source: ``"PRC Civil Code art. 188"`` and how sure we are of it."""

    source: str
    confidence: Confidence = Confidence.KNOWN

    def __str__(self) -> str:
        return f"{self.source} [{self.confidence.value}]"


class LimitationEventKind(enum.Enum):
    """What can happen to a running period."""

    DEMAND_DELIVERED = "demand_delivered"  # a demand for payment reached the debtor
    ACKNOWLEDGMENT = "acknowledgment"  # the debtor acknowledged the debt or agreed to pay
    PART_PAYMENT = "part_payment"  # the debtor paid part of the debt
    FILING = "filing"  # a suit, arbitration or payment order was filed


@attrs.frozen(kw_only=True)
class LimitationEvent:
    """One event that may interrupt (restart) the period.

    :param written: the event is in writing (a signed acknowledgment, a letter).
    :param data_message: the event is an electronic message (SMS, e-mail) whose
        delivery was reported by the provider.
    :param source: where the event comes from (an event key, a letter reference).
    """

    kind: LimitationEventKind
    on: dt.date
    written: bool = False
    data_message: bool = False
    source: str = ""


@attrs.frozen(kw_only=True)
class Suspension:
    """A cause that stops the period running (PRC art. 194: force majeure, no legal
    representative, the obligee controlled by the obligor …) over ``[start, end]``."""

    start: dt.date
    end: dt.date
    reason: str

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError("suspension.end", self.end.isoformat(), f"before {self.start}")


@attrs.frozen(kw_only=True)
class Regime:
    """The limitation rules of one legal system for one kind of debt.

    :param name: ``"CN"``, ``"GB-ENG"``, ``"US-NY"`` …
    :param years: the length of the period.
    :param period: the citation for the length.
    :param accrual: the citation for when the period starts.
    :param restarts: the events that restart the period while it runs, each with
        its citation.
    :param written_only: events of these kinds count only in writing.
    :param data_messages: a delivered electronic message counts as a written demand.
    :param revives: events that, after expiry, give back the right to sue (a new
        period from the event), each with its citation.
    :param suspension_window_months: suspension counts only when its cause falls in
        the last months of the period (PRC art. 194: six); 0: no suspension rule.
    :param roll_last_day: a last day that is not a working day moves to the next one.
    :param roll: the citation for the roll.
    :param counting: the citation for counting in years.
    :param extinguishes: expiry ends the debt itself, not only the remedy.
    """

    name: str
    years: int
    period: Citation
    accrual: Citation
    restarts: tuple[tuple[LimitationEventKind, Citation], ...] = ()
    written_only: frozenset[LimitationEventKind] = frozenset()
    data_messages: bool = False
    revives: tuple[tuple[LimitationEventKind, Citation], ...] = ()
    suspension_window_months: int = 0
    suspension: Citation | None = None
    roll_last_day: bool = False
    roll: Citation | None = None
    counting: Citation | None = None
    extinguishes: bool = False
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.years <= 0:
            raise ValidationError("regime.years", self.years, "must be positive")

    def restart_citation(self, event: LimitationEvent) -> Citation | None:
        """The citation under which ``event`` restarts a running period, or None."""
        return _counts(self, self.restarts, event)

    def revival_citation(self, event: LimitationEvent) -> Citation | None:
        """The citation under which ``event`` revives an expired debt, or None."""
        return _counts(self, self.revives, event)


def _counts(
    regime: Regime,
    table: tuple[tuple[LimitationEventKind, Citation], ...],
    event: LimitationEvent,
) -> Citation | None:
    writing = event.written or (event.data_message and regime.data_messages)
    if event.kind in regime.written_only and not writing:
        return None
    if event.data_message and not event.written and not regime.data_messages:
        return None
    for kind, citation in table:
        if kind is event.kind:
            return citation
    return None


@attrs.frozen(kw_only=True)
class Step:
    """One step of the computation: on ``on``, ``what`` happened; the last day is then
    ``last_day``, under ``citation``."""

    on: dt.date
    what: str
    last_day: dt.date
    citation: Citation


@attrs.frozen(kw_only=True)
class Limitation:
    """The result: the last day to sue and how it was reached.

    :param expires_on: the last day on which proceedings can be brought in time.
    :param pending: proceedings were filed in time; the period does not run out while
        they last.
    """

    regime: str
    accrued_on: dt.date
    expires_on: dt.date
    steps: tuple[Step, ...]
    pending: bool = False
    extinguishes: bool = False

    def barred_on(self, day: dt.date) -> bool:
        """True if on ``day`` the period has run out (the debt is time-barred)."""
        return not self.pending and day > self.expires_on

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The sources the result rests on, in the order they were applied."""
        seen: dict[str, Citation] = {}
        for step in self.steps:
            seen.setdefault(str(step.citation), step.citation)
        return tuple(seen.values())

    def explain(self) -> str:
        """The steps as text, one a line (for a case note or a report)."""
        return "\n".join(
            f"{s.on.isoformat()}: {s.what} -> last day {s.last_day.isoformat()} ({s.citation})"
            for s in self.steps
        )


def period_end(
    start: dt.date,
    years: int,
    calendar: BusinessCalendar | None = None,
) -> dt.date:
    """The last day of a period of ``years`` counted from ``start``.

    The start day is not counted (PRC Civil Code art. 201); the period ends on the
    corresponding day of the last month, or that month's last day when it has none
    (art. 202: 29 February 2020 + 3 years → 28 February 2023); with ``calendar``, a
    last day that is not a working day moves to the day after the holiday (art. 203).
    """
    last = add_months(start, 12 * years)
    if calendar is not None:
        last = calendar.roll(last, RollConvention.FOLLOWING)
    return last


def assess(
    regime: Regime,
    accrued_on: dt.date,
    events: Iterable[LimitationEvent] = (),
    *,
    suspensions: Iterable[Suspension] = (),
    calendar: BusinessCalendar | None = None,
    until: dt.date | None = None,
) -> Limitation:
    """The limitation period of a debt that accrued on ``accrued_on``.

    Events are applied in date order, up to ``until`` (later ones ignored: what was
    known on that day). An event within the period that the regime counts restarts it
    from the event's date; an event after expiry revives the debt only if the regime
    says so (England and Wales: never, s. 29(7)). A filing within the period leaves
    the period pending. A suspension whose cause falls in the regime's window before
    the last day ends the period no earlier than that many months after the cause ends.

    :param calendar: the court calendar for regimes that roll a last day off a holiday.
    """
    roll = calendar if regime.roll_last_day else None
    if regime.roll_last_day and calendar is None:
        raise ValidationError("calendar", None, f"regime {regime.name} needs a court calendar")
    last = period_end(accrued_on, regime.years, roll)
    steps = [
        Step(
            on=accrued_on,
            what=f"the right to sue accrued; {regime.years} years",
            last_day=last,
            citation=regime.period,
        )
    ]
    unrolled = add_months(accrued_on, 12 * regime.years)
    if last != unrolled:
        steps.append(
            Step(
                on=unrolled,
                what="the last day is not a working day",
                last_day=last,
                citation=regime.roll or regime.period,
            )
        )
    pending = False
    ordered = sorted(events, key=lambda e: (e.on, e.kind.value))
    pauses = sorted(suspensions, key=lambda s: s.start)
    for event in ordered:
        if until is not None and event.on > until:
            break
        last = _suspended(regime, last, pauses, event.on, steps, roll)
        if event.on < accrued_on:
            continue
        if event.on <= last:
            citation = regime.restart_citation(event)
            if citation is None:
                continue
            if event.kind is LimitationEventKind.FILING:
                pending = True
                steps.append(
                    Step(
                        on=event.on,
                        what="proceedings filed in time",
                        last_day=last,
                        citation=citation,
                    )
                )
                continue
            last = max(last, period_end(event.on, regime.years, roll))
            steps.append(
                Step(
                    on=event.on,
                    what=f"{_label(event)}: the period restarts",
                    last_day=last,
                    citation=citation,
                )
            )
        else:
            citation = regime.revival_citation(event)
            if citation is None:
                continue
            last = period_end(event.on, regime.years, roll)
            steps.append(
                Step(
                    on=event.on,
                    what=f"{_label(event)} after expiry: revived",
                    last_day=last,
                    citation=citation,
                )
            )
    end = until if until is not None else dt.date.max
    last = _suspended(regime, last, pauses, end, steps, roll)
    return Limitation(
        regime=regime.name,
        accrued_on=accrued_on,
        expires_on=last,
        steps=tuple(steps),
        pending=pending,
        extinguishes=regime.extinguishes,
    )


def _suspended(
    regime: Regime,
    last: dt.date,
    pauses: list[Suspension],
    upto: dt.date,
    steps: list[Step],
    roll: BusinessCalendar | None,
) -> dt.date:
    """Apply the suspensions that started by ``upto`` (consumed from ``pauses``)."""
    months = regime.suspension_window_months
    while pauses and pauses[0].start <= upto:
        pause = pauses.pop(0)
        if months <= 0 or regime.suspension is None:
            continue
        window_opens = add_months(last, -months)
        # The cause must be there in the last months of the period (it may have begun earlier).
        if pause.end < window_opens or pause.start > last:
            continue
        extended = add_months(pause.end, months)
        if roll is not None:
            extended = roll.roll(extended, RollConvention.FOLLOWING)
        if extended > last:
            last = extended
            steps.append(
                Step(
                    on=pause.start,
                    what=f"suspended ({pause.reason}) until {pause.end.isoformat()}",
                    last_day=last,
                    citation=regime.suspension,
                )
            )
    return last


def _label(event: LimitationEvent) -> str:
    how = " in writing" if event.written else (" by data message" if event.data_message else "")
    return f"{event.kind.value.replace('_', ' ')}{how}"
