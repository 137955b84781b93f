"""The collection case: what loancollect remembers about one loan between runs.

The host platform owns loans and payments; the case is loancollect's own record:
current stage and since when, segment and strategy variant, promises and
arrangements, holds, flags, contact outcomes, when each action rule last fired,
and the next date the case needs a review.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import attrs

from loancollect.domain.arrangements import Arrangement, ArrangementStatus, PromiseToPay
from loancollect.domain.errors import ValidationError
from loancollect.domain.money import Money
from loancollect.domain.policy_state import PolicyState

__all__ = [
    "CEASE_FLAG",
    "Assignment",
    "Case",
    "ChargeOff",
    "ContactOutcome",
    "Hold",
    "HoldKind",
    "LegalMatter",
    "OutcomeKind",
    "Placement",
    "Sale",
]


class HoldKind(enum.Enum):
    """Why collection is held: escalation stops while a hold is active."""

    DISPUTE = "dispute"
    BANKRUPTCY = "bankruptcy"
    DECEASED = "deceased"
    BREATHING_SPACE = "breathing_space"
    LEGAL = "legal"  # a legal or regulatory hold (court order, complaint review)
    MANUAL = "manual"
    # Kill Bill's OVERDUE_ENFORCEMENT_OFF control tag: while set the case is kept in the
    # clear stage (``current``) rather than frozen where it was.
    ENFORCEMENT_OFF = "enforcement_off"


@attrs.frozen
class Hold:
    """A hold over ``[start, end]``; ``end=None`` means until released."""

    kind: HoldKind
    start: dt.date
    end: dt.date | None = None
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValidationError("hold.end", self.end.isoformat(), f"before start {self.start}")

    def active_on(self, day: dt.date) -> bool:
        """True if the hold covers ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


class OutcomeKind(enum.Enum):
    """The result of a contact attempt, as recorded by an agent or a dialer."""

    RIGHT_PARTY_CONTACT = "right_party_contact"
    PROMISE = "promise"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    NO_ANSWER = "no_answer"
    DISPUTE_RAISED = "dispute_raised"
    HARDSHIP_STATED = "hardship_stated"
    THIRD_PARTY = "third_party"
    BUSY = "busy"
    VOICEMAIL = "voicemail"  # a limited-content message left (Reg F § 1006.2(j))
    CALLBACK_REQUESTED = "callback_requested"
    CEASE_REQUEST = "cease_request"
    NOT_AT_HOME = "not_at_home"
    MOVED = "moved"
    DECEASED = "deceased"
    BANKRUPTCY = "bankruptcy"

    @property
    def is_conversation(self) -> bool:
        """True if someone on the debtor's side spoke with the collector.

        Rules that reset or count after a conversation (e.g. Reg F § 1006.14(b)'s
        seven-day clock) count these; an attempt that reached nobody, a machine, a
        wrong party or an empty house does not.
        """
        return self in _CONVERSATIONS


_CONVERSATIONS = frozenset(
    {
        OutcomeKind.RIGHT_PARTY_CONTACT,
        OutcomeKind.PROMISE,
        OutcomeKind.REFUSED,
        OutcomeKind.DISPUTE_RAISED,
        OutcomeKind.HARDSHIP_STATED,
        OutcomeKind.CALLBACK_REQUESTED,
        OutcomeKind.CEASE_REQUEST,
    }
)

CEASE_FLAG = "cease_communication"
"""Case flag: the borrower asked us to stop communicating (``cease_communication`` or
``cease_communication:YYYY-MM-DD`` with the date the notice was received)."""


@attrs.frozen
class ContactOutcome:
    """One recorded contact outcome."""

    on: dt.date
    channel: str
    outcome: OutcomeKind
    note: str = ""


@attrs.frozen(kw_only=True)
class Assignment:
    """Who works the case: a collector, a team, or both."""

    agent: str = ""
    team: str = ""
    since: dt.date


@attrs.frozen(kw_only=True)
class Placement:
    """The case is placed with an outside agency (or a law firm) under a placement."""

    agency: str
    placement: str
    since: dt.date
    tier: str = ""
    until: dt.date | None = None


@attrs.frozen(kw_only=True)
class LegalMatter:
    """The legal matter open on the case and the step it has reached."""

    matter: str
    route: str
    opened_on: dt.date
    step: str = "opened"


@attrs.frozen(kw_only=True)
class ChargeOff:
    """The debt is charged off (or written off) in the lender's books.

    Collection may go on (账销案存); recoveries are reported separately.
    """

    amount: Money
    reason: str
    on: dt.date
    written_off: bool = False


@attrs.frozen(kw_only=True)
class Sale:
    """The debt was sold (assigned) to ``buyer``; the lender no longer collects it."""

    buyer: str
    sale: str
    on: dt.date
    price: Money | None = None


def _arrangements(value: Iterable[Arrangement]) -> tuple[Arrangement, ...]:
    return tuple(value)


def _holds(value: Iterable[Hold]) -> tuple[Hold, ...]:
    return tuple(value)


def _outcomes(value: Iterable[ContactOutcome]) -> tuple[ContactOutcome, ...]:
    return tuple(value)


def _flags(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _last_actions(value: Iterable[tuple[str, dt.date]]) -> tuple[tuple[str, dt.date], ...]:
    return tuple(sorted(value))


@attrs.frozen(kw_only=True)
class Case:
    """The collection state of one loan.

    :param stage: name of the current stage of the policy.
    :param stage_since: the date the case entered ``stage``.
    :param variant: the strategy variant (champion/challenger) assigned to the case.
    :param flags: free markers such as ``"litigation_recommended"`` or ``"time_barred"``.
    :param last_actions: ``(rule id, date)`` of the last time each action rule fired.
    :param next_review_date: the earliest date the case's decision can change.
    :param assignment: the collector or team working the case (a case command).
    :param placement: the agency the case is placed with, if any (a case command).
    :param legal_matter: the legal matter open on the case, if any (a case command).
    :param charge_off: the charge-off or write-off, if any (a case command).
    :param sale: the sale of the debt, if sold (a case command).
    :param policy_state: what the optional policy capabilities remember (delinquency
        pauses, loan status, ranges, notices, credit notes, campaign …); empty by default.
    """

    loan_id: str
    stage: str = "current"
    stage_since: dt.date | None = None
    segment: str | None = None
    variant: str | None = None
    arrangements: tuple[Arrangement, ...] = attrs.field(default=(), converter=_arrangements)
    holds: tuple[Hold, ...] = attrs.field(default=(), converter=_holds)
    contacts: tuple[ContactOutcome, ...] = attrs.field(default=(), converter=_outcomes)
    flags: frozenset[str] = attrs.field(default=frozenset(), converter=_flags)
    last_actions: tuple[tuple[str, dt.date], ...] = attrs.field(default=(), converter=_last_actions)
    next_review_date: dt.date | None = None
    closed_on: dt.date | None = None
    assignment: Assignment | None = None
    placement: Placement | None = None
    legal_matter: LegalMatter | None = None
    charge_off: ChargeOff | None = None
    sale: Sale | None = None
    policy_state: PolicyState = attrs.field(factory=PolicyState)

    @property
    def promises(self) -> tuple[PromiseToPay, ...]:
        """Every promise to pay, in the order made."""
        if not self.arrangements:
            return ()
        return tuple(a for a in self.arrangements if isinstance(a, PromiseToPay))

    @property
    def broken_promises(self) -> int:
        """How many promises were broken."""
        return sum(1 for p in self.promises if p.status is ArrangementStatus.BROKEN)

    @property
    def kept_promises(self) -> int:
        """How many promises were kept."""
        return sum(1 for p in self.promises if p.status is ArrangementStatus.KEPT)

    @property
    def broken_arrangements(self) -> int:
        """How many arrangements of any kind were broken."""
        return sum(1 for a in self.arrangements if a.status is ArrangementStatus.BROKEN)

    def active_arrangements(self) -> tuple[Arrangement, ...]:
        """Arrangements still running (pending or active)."""
        return tuple(a for a in self.arrangements if a.status.is_open)

    def active_holds(self, day: dt.date) -> tuple[Hold, ...]:
        """Holds that cover ``day``."""
        return tuple(h for h in self.holds if h.active_on(day))

    def last_action(self, rule_id: str) -> dt.date | None:
        """When action rule ``rule_id`` last fired."""
        for rid, day in self.last_actions:
            if rid == rule_id:
                return day
        return None

    def with_arrangement(self, arrangement: Arrangement) -> Case:
        """A copy with ``arrangement`` added and a review due on the day it was made."""
        return attrs.evolve(
            self,
            arrangements=(*self.arrangements, arrangement),
            next_review_date=_earliest(self.next_review_date, arrangement.made_on),
        )

    def with_contact(self, outcome: ContactOutcome) -> Case:
        """A copy with a contact outcome recorded and a review due that day."""
        return attrs.evolve(
            self,
            contacts=(*self.contacts, outcome),
            next_review_date=_earliest(self.next_review_date, outcome.on),
        )

    def with_hold(self, hold: Hold) -> Case:
        """A copy with ``hold`` added and a review due when it starts."""
        return attrs.evolve(
            self,
            holds=(*self.holds, hold),
            next_review_date=_earliest(self.next_review_date, hold.start),
        )

    def reviewed_by(self, day: dt.date) -> Case:
        """A copy whose next review is no later than ``day`` (e.g. after a payment)."""
        return attrs.evolve(self, next_review_date=_earliest(self.next_review_date, day))

    def with_action(self, rule_id: str, day: dt.date) -> Case:
        """A copy recording that ``rule_id`` fired on ``day``."""
        others = [(rid, d) for rid, d in self.last_actions if rid != rule_id]
        return attrs.evolve(self, last_actions=(*others, (rule_id, day)))


def _earliest(current: dt.date | None, day: dt.date) -> dt.date:
    return day if current is None or day < current else current
