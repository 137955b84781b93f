"""Learning the best time and channel to reach a segment, inside what the law allows.

A :class:`ContactTimeBandit` keeps, per segment, a Beta posterior of the
right-party-contact rate of each :class:`Slot` (a channel and a local hour) and
picks by Thompson sampling — but only among the slots a :data:`Judge` allows on
that day, so optimisation can never move a contact outside the rules: the judge
is the compliance engine (:func:`compliance_judge`), asked at the slot's instant
with the borrower's facts and contact history (caps included). Before a new
policy is switched on, :func:`replay_value` and :func:`ips_value` estimate it on
logged contacts.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence

import attrs
import pendulum

from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.compliance import RulePack
from loancollect.domain.compliance.engine import Outcome, check
from loancollect.domain.compliance.model import (
    BorrowerFacts,
    ContactEvent,
    DebtFacts,
    ProposedContact,
)
from loancollect.errors import ValidationError

__all__ = [
    "ContactTimeBandit",
    "Judge",
    "LoggedContact",
    "Slot",
    "compliance_judge",
    "ips_value",
    "lawful_slots",
    "replay_value",
]


@attrs.frozen(kw_only=True)
class Slot:
    """A channel at a local hour (the hour's first minute)."""

    channel: Medium
    hour: int = attrs.field()

    @hour.validator
    def _hour(self, _: object, value: int) -> None:
        if not isinstance(value, int) or not 0 <= value <= 23:
            raise ValidationError("slot.hour", value, "must be an hour 0..23")


def _order(slot: Slot) -> tuple[str, int]:
    return (slot.channel.value, slot.hour)


Judge = Callable[[dt.datetime, Medium], bool]
"""Whether a contact on a medium at an aware instant is allowed."""


def compliance_judge(
    borrower: BorrowerFacts,
    debt: DebtFacts,
    history: Iterable[ContactEvent],
    packs: Sequence[RulePack],
) -> Judge:
    """A judge that asks the compliance engine (every pack, caps over ``history``).

    Only an ``ALLOWED`` verdict allows; with no pack nothing is allowed.
    """
    past = tuple(history)

    def judge(at: dt.datetime, medium: Medium) -> bool:
        if not packs or at.tzinfo is None:
            return False  # when in doubt, do not contact
        proposed = ProposedContact(
            at=pendulum.instance(at), channel=medium, target_id=borrower.id, debt_ids={debt.id}
        )
        return check(proposed, borrower, debt, past, packs).outcome is Outcome.ALLOWED

    return judge


def lawful_slots(
    day: dt.date, zone: str, candidates: Iterable[Slot], judge: Judge
) -> tuple[Slot, ...]:
    """The candidate slots the judge allows on ``day`` in the borrower's ``zone``."""
    out = []
    for slot in sorted(set(candidates), key=_order):
        at = pendulum.datetime(day.year, day.month, day.day, slot.hour, tz=zone)
        if judge(at, slot.channel):
            out.append(slot)
    return tuple(out)


@attrs.define
class _Arm:
    reached: int = 0
    tried: int = 0


class ContactTimeBandit:
    """Thompson sampling over slots, per segment, with Beta(1 + reached, 1 + missed) posteriors.

    :param seed: the sampler's seed (same seed, same picks for the same history).
    """

    def __init__(self, *, seed: int) -> None:
        self._rng = random.Random(seed)
        self._arms: dict[tuple[str, Slot], _Arm] = {}

    def update(self, segment: str, slot: Slot, *, reached: bool) -> None:
        """Record one attempt in ``slot`` and whether it reached the right party."""
        arm = self._arms.setdefault((segment, slot), _Arm())
        arm.tried += 1
        arm.reached += int(reached)

    def rate(self, segment: str, slot: Slot) -> float:
        """The posterior mean right-party-contact rate of ``slot`` for ``segment``."""
        arm = self._arms.get((segment, slot), _Arm())
        return (1 + arm.reached) / (2 + arm.tried)

    def choose(self, segment: str, allowed: Sequence[Slot]) -> Slot | None:
        """A slot among ``allowed`` by Thompson sampling; ``None`` when none is allowed."""
        best: tuple[float, Slot] | None = None
        for slot in sorted(allowed, key=_order):
            arm = self._arms.get((segment, slot), _Arm())
            draw = self._rng.betavariate(1 + arm.reached, 1 + arm.tried - arm.reached)
            if best is None or draw > best[0]:
                best = (draw, slot)
        return None if best is None else best[1]

    def probabilities(
        self, segment: str, allowed: Sequence[Slot], draws: int = 2000
    ) -> dict[Slot, float]:
        """How often :meth:`choose` would pick each allowed slot (Monte Carlo, for IPS)."""
        counts = dict.fromkeys(allowed, 0)
        rng = random.Random(self._rng.random())
        for _ in range(draws):
            best = max(
                sorted(allowed, key=_order),
                key=lambda s: rng.betavariate(
                    1 + self._arms.get((segment, s), _Arm()).reached,
                    1
                    + self._arms.get((segment, s), _Arm()).tried
                    - self._arms.get((segment, s), _Arm()).reached,
                ),
            )
            counts[best] += 1
        return {s: c / draws for s, c in counts.items()}


@attrs.frozen(kw_only=True)
class LoggedContact:
    """A contact the current policy made: where, whether it reached the right party,
    the slots that were allowed then, and the probability the logging policy gave it."""

    segment: str
    slot: Slot
    reached: bool
    allowed: tuple[Slot, ...]
    propensity: float


def replay_value(bandit: ContactTimeBandit, log: Iterable[LoggedContact]) -> tuple[float, int]:
    """Replay evaluation: the reach rate over logged contacts where the new policy picks
    the logged slot (learning as it goes), and how many matched."""
    reached = matched = 0
    for contact in log:
        if bandit.choose(contact.segment, contact.allowed) == contact.slot:
            matched += 1
            reached += int(contact.reached)
            bandit.update(contact.segment, contact.slot, reached=contact.reached)
    return (reached / matched if matched else 0.0), matched


def ips_value(target: Callable[[LoggedContact], float], log: Sequence[LoggedContact]) -> float:
    """Inverse-propensity estimate of the new policy's reach rate.

    :param target: the new policy's probability of choosing the logged slot.
    :raises ValidationError: for a logged propensity outside (0, 1].
    """
    if not log:
        return 0.0
    total = 0.0
    for i, contact in enumerate(log):
        if not 0 < contact.propensity <= 1:
            raise ValidationError(f"log[{i}].propensity", contact.propensity, "must be in (0, 1]")
        total += target(contact) / contact.propensity * float(contact.reached)
    return total / len(log)
