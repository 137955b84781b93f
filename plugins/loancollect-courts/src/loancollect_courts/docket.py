"""The docket of a legal matter: a state machine per route, with deadlines on the
court's business calendar.

A :class:`Route` lists the steps (transitions) that move a matter from state to state
and the period that runs in a state (the debtor's time to object, the creditor's time
to apply for enforcement). A :class:`Docket` is the matter's position: it is rebuilt
from the case's ``LEGAL_MATTER_OPENED`` / ``LEGAL_MATTER_ADVANCED`` events
(:func:`replay`), so the intake's :class:`~loancollect.domain.commands.AdvanceLegalMatter`
stays the one way a step is recorded.

Deadlines: the day of the event is not counted and a last day that is not a court
working day moves to the next working day (PRC Civil Procedure Law (2023) art. 85;
CPR 2.8(5) in England and Wales; FRCP 6(a)(1)(C) and most state rules in the US).
A period that ends without the step it waits for moves the matter on by itself
(:meth:`Docket.lapse`): an unopposed payment order becomes effective; a creditor who
missed the enforcement period is out of time.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from loancollect.domain.calendar import BusinessCalendar, RollConvention, add_months
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import Event, EventKind, LegalMatterAdvanced, LegalMatterOpened
from loancollect.domain.legal import Citation, Confidence

__all__ = [
    "ROUTES",
    "Deadline",
    "Docket",
    "DocketEntry",
    "Party",
    "Period",
    "Route",
    "Transition",
    "deadline_after",
    "replay",
    "route",
]

K = Confidence.KNOWN
U = Confidence.UNCERTAIN


class Party(enum.Enum):
    """Whose period it is."""

    CREDITOR = "creditor"
    DEBTOR = "debtor"
    COURT = "court"


@attrs.frozen(kw_only=True)
class Period:
    """A period that starts when the matter enters a state.

    :param on_expiry: the state the matter moves to when the period ends without a
        step; ``None``: the period is a target (a court's time to decide), nothing moves.
    """

    what: str
    whose: Party
    citation: Citation
    days: int = 0
    months: int = 0
    years: int = 0
    on_expiry: str | None = None


@attrs.frozen(kw_only=True)
class Transition:
    """Step ``step`` moves a matter from any of ``sources`` to ``target``."""

    step: str
    sources: frozenset[str]
    target: str
    citation: Citation
    why: str = ""


@attrs.frozen(kw_only=True)
class Route:
    """The docket of one kind of proceedings in one jurisdiction."""

    name: str
    jurisdiction: str
    title: str
    transitions: tuple[Transition, ...]
    periods: Mapping[str, Period]
    terminal: frozenset[str]
    start: str = "opened"

    def steps_from(self, state: str) -> tuple[Transition, ...]:
        """The steps allowed in ``state``."""
        return tuple(t for t in self.transitions if state in t.sources)

    def transition(self, state: str, step: str) -> Transition | None:
        """The transition of ``step`` from ``state``, or None."""
        for t in self.transitions:
            if t.step == step and state in t.sources:
                return t
        return None

    def states(self) -> frozenset[str]:
        """Every state of the route."""
        out = {self.start}
        for t in self.transitions:
            out |= t.sources | {t.target}
        for p in self.periods.values():
            if p.on_expiry is not None:
                out.add(p.on_expiry)
        return frozenset(out)


@attrs.frozen(kw_only=True)
class Deadline:
    """The running period and its last day."""

    period: Period
    started: dt.date
    due: dt.date


@attrs.frozen(kw_only=True)
class DocketEntry:
    """One move of the docket: a step taken, or a period that ran out."""

    on: dt.date
    step: str
    state: str
    note: str = ""


def deadline_after(start: dt.date, period: Period, calendar: BusinessCalendar) -> dt.date:
    """The last day of ``period`` counted from ``start`` (not counted), rolled forward
    off a day the court is closed."""
    last = add_months(start, period.months + 12 * period.years) + dt.timedelta(days=period.days)
    return calendar.roll(last, RollConvention.FOLLOWING)


@attrs.frozen(kw_only=True)
class Docket:
    """Where a matter stands."""

    matter: str
    route: Route
    state: str
    since: dt.date
    deadline: Deadline | None
    log: tuple[DocketEntry, ...] = ()

    @classmethod
    def open(cls, matter: str, route: Route, on: dt.date, calendar: BusinessCalendar) -> Docket:
        """A matter opened on ``on``."""
        return cls(
            matter=matter,
            route=route,
            state=route.start,
            since=on,
            deadline=_deadline(route, route.start, on, calendar),
            log=(DocketEntry(on=on, step="opened", state=route.start),),
        )

    @property
    def closed(self) -> bool:
        """True once the matter reached a terminal state."""
        return self.state in self.route.terminal

    def allowed(self) -> tuple[str, ...]:
        """The steps that may be taken now."""
        return tuple(t.step for t in self.route.steps_from(self.state))

    def lapse(self, on: dt.date, calendar: BusinessCalendar) -> Docket:
        """The docket on ``on``: every period whose last day is before ``on`` and that
        moves the matter has moved it (one after another)."""
        docket = self
        for _ in range(len(self.route.periods) + 1):
            d = docket.deadline
            if d is None or d.due >= on or d.period.on_expiry is None:
                return docket
            target = d.period.on_expiry
            day = d.due + dt.timedelta(days=1)
            docket = attrs.evolve(
                docket,
                state=target,
                since=day,
                deadline=_deadline(self.route, target, day, calendar),
                log=(
                    *docket.log,
                    DocketEntry(
                        on=day, step="period_ended", state=target, note=f"{d.period.what} ended"
                    ),
                ),
            )
        return docket

    def advance(self, step: str, on: dt.date, calendar: BusinessCalendar, note: str = "") -> Docket:
        """The docket after ``step`` on ``on`` (periods that ran out before ``on`` first).

        :raises ValidationError: naming the step, if the route does not allow it in the
            matter's state on that day (a missed period included) or ``on`` is before
            the matter's last move.
        """
        if on < self.since:
            raise ValidationError(
                "docket.on", on.isoformat(), f"before {self.since} ({self.state})"
            )
        current = self.lapse(on, calendar)
        transition = self.route.transition(current.state, step)
        if transition is None:
            allowed = ", ".join(current.allowed()) or "none"
            missed = ""
            if current.state != self.state:
                missed = (
                    f" ({self.deadline.period.what} ended {self.deadline.due})"
                    if self.deadline
                    else ""
                )
            raise ValidationError(
                "docket.step",
                step,
                f"not allowed in state {current.state!r}{missed} of route {self.route.name}; "
                f"allowed: {allowed}",
            )
        return attrs.evolve(
            current,
            state=transition.target,
            since=on,
            deadline=_deadline(self.route, transition.target, on, calendar),
            log=(*current.log, DocketEntry(on=on, step=step, state=transition.target, note=note)),
        )


def _deadline(route: Route, state: str, on: dt.date, calendar: BusinessCalendar) -> Deadline | None:
    period = route.periods.get(state)
    if period is None:
        return None
    return Deadline(period=period, started=on, due=deadline_after(on, period, calendar))


def replay(
    events: Iterable[Event],
    calendar: BusinessCalendar,
    *,
    routes: Mapping[str, Route] | None = None,
) -> Docket | None:
    """The docket of the latest legal matter in a case's events, or None.

    :raises ValidationError: if a recorded step does not fit the route (a history
        written around the docket).
    """
    table = ROUTES if routes is None else routes
    docket: Docket | None = None
    for event in events:
        if event.kind is EventKind.LEGAL_MATTER_OPENED:
            opened = event.payload
            assert isinstance(opened, LegalMatterOpened)
            found = table.get(opened.route)
            docket = (
                None if found is None else Docket.open(opened.matter, found, event.on, calendar)
            )
        elif event.kind is EventKind.LEGAL_MATTER_ADVANCED and docket is not None:
            step = event.payload
            assert isinstance(step, LegalMatterAdvanced)
            if step.matter == docket.matter:
                docket = docket.advance(step.step, event.on, calendar, step.note)
    return docket


# -- routes ------------------------------------------------------------------------------

_CPL = "PRC Civil Procedure Law (2023)"


def _c(source: str, confidence: Confidence = K) -> Citation:
    return Citation(source=source, confidence=confidence)


def _t(step: str, sources: str, target: str, citation: Citation, why: str = "") -> Transition:
    return Transition(
        step=step, sources=frozenset(sources.split()), target=target, citation=citation, why=why
    )


_CLOSE = "closed_paid closed_withdrawn"
_ANY_OPEN_CN = (
    "opened demand_sent demand_unanswered po_filed po_issued po_effective po_objected "
    "filed judgment appeal arbitration judgment_effective enforcement restricted terminated"
)

_PRC_PERIODS: Mapping[str, Period] = MappingProxyType(
    {
        "demand_sent": Period(
            what="the term set in the lawyer's demand letter",
            whose=Party.DEBTOR,
            days=7,
            on_expiry="demand_unanswered",
            citation=_c("lender's policy (the letter states its term)", U),
        ),
        "po_filed": Period(
            what="the court's time to accept the application",
            whose=Party.COURT,
            days=5,
            citation=_c(f"{_CPL} art. 226"),
        ),
        "po_issued": Period(
            what="the debtor's time to pay or object to the payment order",
            whose=Party.DEBTOR,
            days=15,
            on_expiry="po_effective",
            citation=_c(f"{_CPL} art. 227"),
        ),
        "judgment": Period(
            what="the time to appeal the judgment",
            whose=Party.DEBTOR,
            days=15,
            on_expiry="judgment_effective",
            citation=_c(f"{_CPL} art. 171"),
        ),
        "po_effective": Period(
            what="the time to apply for enforcement",
            whose=Party.CREDITOR,
            years=2,
            on_expiry="enforcement_out_of_time",
            citation=_c(f"{_CPL} art. 250"),
        ),
        "judgment_effective": Period(
            what="the time to apply for enforcement",
            whose=Party.CREDITOR,
            years=2,
            on_expiry="enforcement_out_of_time",
            citation=_c(f"{_CPL} art. 250 (counted here from the day the judgment took effect)", U),
        ),
        "enforcement": Period(
            what="the court's time to conclude enforcement",
            whose=Party.COURT,
            months=6,
            citation=_c("SPC Provisions on Enforcement Work (Trial) art. 64", U),
        ),
    }
)

CN_LITIGATION = Route(
    name="cn_litigation",
    jurisdiction="CN",
    title="诉讼 / 支付令 / 仲裁 / 公证债权文书 → 执行",
    transitions=(
        _t("demand_letter_sent", "opened", "demand_sent", _c("lawyer's demand letter (律师函)")),
        _t(
            "payment_order_filed",
            "opened demand_sent demand_unanswered",
            "po_filed",
            _c(f"{_CPL} art. 225"),
        ),
        _t("po_issued", "po_filed", "po_issued", _c(f"{_CPL} art. 227")),
        _t("po_rejected", "po_filed", "demand_unanswered", _c(f"{_CPL} art. 226")),
        _t("objection_filed", "po_issued", "po_objected", _c(f"{_CPL} art. 228")),
        _t(
            "suit_filed",
            "opened demand_sent demand_unanswered po_objected",
            "filed",
            _c(f"{_CPL} arts. 122, 228 (ordinary or summary procedure)"),
        ),
        _t(
            "small_claim_filed",
            "opened demand_sent demand_unanswered po_objected",
            "filed",
            _c(f"{_CPL} art. 165"),
        ),
        _t(
            "arbitration_filed",
            "opened demand_sent demand_unanswered",
            "arbitration",
            _c("PRC Arbitration Law art. 21"),
        ),
        _t(
            "notarised_enforcement_filed",
            "opened demand_sent demand_unanswered",
            "enforcement",
            _c(f"{_CPL} art. 249 (notarised debt instrument with enforcement force)"),
        ),
        _t("judgment", "filed", "judgment", _c(f"{_CPL} art. 155")),
        _t("small_claim_judgment", "filed", "judgment_effective", _c(f"{_CPL} art. 165 (final)")),
        _t("mediated", "filed", "judgment_effective", _c(f"{_CPL} art. 100 (mediation statement)")),
        _t("appeal_filed", "judgment", "appeal", _c(f"{_CPL} art. 171")),
        _t("appeal_judgment", "appeal", "judgment_effective", _c(f"{_CPL} art. 182")),
        _t(
            "award",
            "arbitration",
            "judgment_effective",
            _c("PRC Arbitration Law art. 9 (final award)"),
        ),
        _t(
            "enforcement_applied",
            "po_effective judgment_effective",
            "enforcement",
            _c(f"{_CPL} arts. 247, 250"),
        ),
        _t(
            "dishonest_listed",
            "enforcement",
            "restricted",
            _c("SPC Provisions on Publishing the List of Dishonest Judgment Debtors (2017) art. 1"),
        ),
        _t(
            "consumption_restricted",
            "enforcement restricted",
            "restricted",
            _c("SPC Provisions on Restricting High Consumption of Judgment Debtors (2015) art. 1"),
        ),
        _t(
            "terminated_this_round",
            "enforcement restricted",
            "terminated",
            _c(
                "SPC Provisions on Terminating the Current Enforcement Procedure (2016) "
                "art. 1 (终本)"
            ),
        ),
        _t("enforcement_resumed", "terminated", "enforcement", _c("SPC 终本 Provisions art. 9")),
        _t("paid", _ANY_OPEN_CN, "closed_paid", _c("performance")),
        _t("withdrawn", _ANY_OPEN_CN, "closed_withdrawn", _c(f"{_CPL} art. 148")),
    ),
    periods=_PRC_PERIODS,
    terminal=frozenset([*_CLOSE.split(), "enforcement_out_of_time"]),
)

_PAP = "Pre-Action Protocol for Debt Claims"
_ANY_OPEN_GB = (
    "opened letter_sent response_period_over reply_received claim_issued default_available "
    "defended judgment ccj enforcement"
)

GB_DEBT_CLAIM = Route(
    name="gb_debt_claim",
    jurisdiction="GB-ENG",
    title="Letter of claim → claim → judgment → CCJ → enforcement",
    transitions=(
        _t(
            "letter_of_claim_sent",
            "opened",
            "letter_sent",
            _c(f"{_PAP} paras. 3.1-3.2 (letter with information sheet and reply form)"),
        ),
        _t("reply_received", "letter_sent", "reply_received", _c(f"{_PAP} para. 4.1")),
        _t(
            "claim_issued",
            "response_period_over reply_received",
            "claim_issued",
            _c(f"{_PAP} para. 6.1; CPR Part 7"),
            why="not before the 30-day response period ends",
        ),
        _t("defence_filed", "claim_issued", "defended", _c("CPR 15.4")),
        _t("judgment", "defended", "judgment", _c("CPR Part 26 onwards")),
        _t("default_judgment", "default_available", "judgment", _c("CPR 12.3(1)")),
        _t(
            "ccj_registered",
            "judgment",
            "ccj",
            _c("Register of Judgments, Orders and Fines Regulations 2005"),
        ),
        _t(
            "enforcement_applied",
            "ccj",
            "enforcement",
            _c(
                "CPR Parts 71-73, 83, 89 (warrant of control, charging order, "
                "attachment of earnings)"
            ),
        ),
        _t("paid", _ANY_OPEN_GB, "closed_paid", _c("payment")),
        _t("withdrawn", _ANY_OPEN_GB, "closed_withdrawn", _c("CPR Part 38 (discontinuance)")),
    ),
    periods=MappingProxyType(
        {
            "letter_sent": Period(
                what="the debtor's 30 days to reply",
                whose=Party.DEBTOR,
                days=30,
                on_expiry="response_period_over",
                citation=_c(f"{_PAP} para. 4.1"),
            ),
            "claim_issued": Period(
                what="the defendant's time to acknowledge or defend (14 days after deemed "
                "service, the second business day after posting, + 2)",
                whose=Party.DEBTOR,
                days=19,
                on_expiry="default_available",
                citation=_c("CPR 6.14, 10.3, 15.4", U),
            ),
            "ccj": Period(
                what="the month to pay in full and have the CCJ removed from the register",
                whose=Party.DEBTOR,
                months=1,
                citation=_c("Register of Judgments, Orders and Fines Regulations 2005 reg. 9"),
            ),
        }
    ),
    terminal=frozenset(_CLOSE.split()),
)

_ANY_OPEN_US = (
    "opened demand_sent disputed validation_over complaint_filed answer_period_over "
    "scra_checked contested judgment garnishment"
)

US_COLLECTION_SUIT = Route(
    name="us_collection_suit",
    jurisdiction="US",
    title="Demand → complaint → SCRA check → judgment → garnishment",
    transitions=(
        _t("demand_sent", "opened", "demand_sent", _c("12 CFR 1006.34 (validation notice)")),
        _t(
            "dispute_received",
            "demand_sent",
            "disputed",
            _c("12 CFR 1006.34(c)(3); 15 U.S.C. 1692g(b)"),
        ),
        _t("verification_sent", "disputed", "validation_over", _c("15 U.S.C. 1692g(b)")),
        _t(
            "complaint_filed",
            "validation_over",
            "complaint_filed",
            _c("state rules of civil procedure; 12 CFR 1006.26(b) (not on time-barred debt)"),
        ),
        _t("answer_filed", "complaint_filed", "contested", _c("state rules of civil procedure", U)),
        _t("judgment", "contested", "judgment", _c("state rules of civil procedure", U)),
        _t(
            "scra_checked",
            "answer_period_over",
            "scra_checked",
            _c("50 U.S.C. 3931(b)(1) (affidavit of military status before default judgment)"),
        ),
        _t("default_judgment", "scra_checked", "judgment", _c("50 U.S.C. 3931; FRCP 55(b)", K)),
        _t(
            "garnishment_filed",
            "judgment",
            "garnishment",
            _c("15 U.S.C. 1673 (garnishment limits); state law"),
        ),
        _t("paid", _ANY_OPEN_US, "closed_paid", _c("payment")),
        _t("withdrawn", _ANY_OPEN_US, "closed_withdrawn", _c("FRCP 41 / state equivalents", U)),
    ),
    periods=MappingProxyType(
        {
            "demand_sent": Period(
                what="the validation period (30 days after receipt, presumed 5 business days "
                "after sending)",
                whose=Party.DEBTOR,
                days=35,
                on_expiry="validation_over",
                citation=_c("12 CFR 1006.34(b)(5)", U),
            ),
            "complaint_filed": Period(
                what="the defendant's time to answer",
                whose=Party.DEBTOR,
                days=21,
                on_expiry="answer_period_over",
                citation=_c("FRCP 12(a)(1)(A)(i); state rules vary", U),
            ),
        }
    ),
    terminal=frozenset(_CLOSE.split()),
)

ROUTES: Mapping[str, Route] = MappingProxyType(
    {r.name: r for r in (CN_LITIGATION, GB_DEBT_CLAIM, US_COLLECTION_SUIT)}
)
"""Every route by name (the ``route`` of an ``OpenLegalMatter``)."""


def route(name: str) -> Route:
    """The route called ``name``.

    :raises ValidationError: naming the route, if there is none.
    """
    found = ROUTES.get(name)
    if found is None:
        raise ValidationError("matter.route", name, f"known routes: {', '.join(sorted(ROUTES))}")
    return found
