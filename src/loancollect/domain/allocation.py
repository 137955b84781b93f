"""Payment allocation by named waterfalls.

A waterfall is an ordered list of steps, each a (due state, component) pair, and
an axis: *horizontal* settles one installment completely (oldest first) before
the next; *vertical* settles one step across every installment before the next
step. Whatever no step takes is returned as ``unapplied`` (it becomes the loan's
credit balance): money never vanishes.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence

import attrs

from loancollect.domain.errors import ConfigurationError, CurrencyMismatchError, ValidationError
from loancollect.domain.money import Money

__all__ = [
    "HORIZONTAL",
    "PRINCIPAL_FIRST",
    "VERTICAL",
    "WATERFALLS",
    "AllocationLine",
    "AllocationResult",
    "Component",
    "DueItem",
    "DueState",
    "Waterfall",
    "WaterfallStep",
    "allocate",
    "waterfall",
]


class Component(enum.Enum):
    """The parts an amount due is made of."""

    PENALTY = "penalty"  # 罚息
    COMPOUND = "compound"  # 复利
    FEES = "fees"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class DueState(enum.Enum):
    """Whether an item is past due, due today, or not yet due, on the payment date."""

    PAST_DUE = "past_due"
    DUE = "due"
    FUTURE = "future"


@attrs.frozen
class DueItem:
    """One component of one installment that a payment may settle."""

    installment: int
    due_date: dt.date
    component: Component
    amount: Money
    state: DueState = DueState.PAST_DUE


@attrs.frozen
class WaterfallStep:
    """Pay ``component`` of items in ``state``.

    ``state=None`` means "whatever has fallen due" (past due or due today). Items
    not yet due are paid only by a step that names ``DueState.FUTURE``; otherwise
    money left over becomes a credit that settles installments as they fall due.
    """

    component: Component
    state: DueState | None = None

    def matches(self, item: DueItem) -> bool:
        """True if this step may pay ``item``."""
        return self.accepts(item.component, item.state)

    def accepts(self, component: Component, state: DueState) -> bool:
        """True if this step pays ``component`` in ``state``."""
        if component is not self.component:
            return False
        if self.state is None:
            return state is not DueState.FUTURE
        return self.state is state


def _steps(value: Iterable[WaterfallStep]) -> tuple[WaterfallStep, ...]:
    return tuple(value)


class Axis(enum.Enum):
    """Horizontal: installment by installment. Vertical: step by step."""

    HORIZONTAL = "horizontal"
    VERTICAL = "vertical"


@attrs.frozen
class Waterfall:
    """A named allocation order; see the module docstring."""

    name: str
    steps: tuple[WaterfallStep, ...] = attrs.field(converter=_steps)
    axis: Axis = Axis.HORIZONTAL

    @property
    def pays_future(self) -> bool:
        """True if some step pays installments that are not yet due (prepayment)."""
        return any(step.state is DueState.FUTURE for step in self.steps)

    def __attrs_post_init__(self) -> None:
        if not self.steps:
            raise ConfigurationError(f"waterfall {self.name!r}: needs at least one step")
        seen: set[tuple[Component, DueState | None]] = set()
        for step in self.steps:
            key = (step.component, step.state)
            if key in seen:
                raise ConfigurationError(
                    f"waterfall {self.name!r}: step {step.component.value}/"
                    f"{step.state.value if step.state else 'any'} appears twice"
                )
            seen.add(key)

    @classmethod
    def from_rules(
        cls, name: str, rules: Iterable[tuple[str, str]], axis: str = "vertical"
    ) -> Waterfall:
        """Build from plain strings, e.g. ``[("past_due", "penalty"), ("any", "principal")]``.

        The shape of Fineract's advanced payment allocation: an ordered list of
        (due state × component) rules.
        """
        steps = []
        for i, (state, component) in enumerate(rules):
            try:
                comp = Component(component)
            except ValueError:
                raise ConfigurationError(
                    f"waterfall {name!r} rule {i}: component={component!r} is not one of "
                    f"{[c.value for c in Component]}"
                ) from None
            try:
                st = None if state in ("any", "*", None) else DueState(state)
            except ValueError:
                raise ConfigurationError(
                    f"waterfall {name!r} rule {i}: state={state!r} is not one of "
                    f"{[s.value for s in DueState] + ['any']}"
                ) from None
            steps.append(WaterfallStep(comp, st))
        try:
            ax = Axis(axis)
        except ValueError:
            raise ConfigurationError(
                f"waterfall {name!r}: axis={axis!r} is not horizontal/vertical"
            ) from None
        return cls(name, tuple(steps), ax)


_CIVIL_CODE_ORDER = (
    Component.PENALTY,
    Component.COMPOUND,
    Component.FEES,
    Component.INTEREST,
    Component.PRINCIPAL,
)

HORIZONTAL = Waterfall("horizontal", tuple(WaterfallStep(c) for c in _CIVIL_CODE_ORDER))
"""Default: oldest installment first; inside it penalty → compound → fees → interest → principal
(the order of PRC Civil Code art. 561: costs, then interest, then principal)."""

VERTICAL = Waterfall("vertical", tuple(WaterfallStep(c) for c in _CIVIL_CODE_ORDER), Axis.VERTICAL)
"""Each component across all installments (oldest first) before the next component."""

PRINCIPAL_FIRST = Waterfall(
    "principal_first", tuple(WaterfallStep(c) for c in reversed(_CIVIL_CODE_ORDER)), Axis.VERTICAL
)
"""All principal first (oldest first), then interest, fees, compound interest, penalty."""

WATERFALLS: dict[str, Waterfall] = {w.name: w for w in (HORIZONTAL, VERTICAL, PRINCIPAL_FIRST)}


def waterfall(name: str) -> Waterfall:
    """Look up a built-in waterfall by name."""
    try:
        return WATERFALLS[name]
    except KeyError:
        raise ConfigurationError(f"waterfall={name!r} is not one of {sorted(WATERFALLS)}") from None


@attrs.frozen
class AllocationLine:
    """How much of a payment went to one component of one installment."""

    installment: int
    component: Component
    paid: Money
    remaining: Money


@attrs.frozen
class AllocationResult:
    """The lines of an allocation and what was left over (the credit)."""

    lines: tuple[AllocationLine, ...]
    unapplied: Money

    @property
    def applied(self) -> Money:
        """Total applied to items."""
        total = Money.zero(self.unapplied.currency)
        for line in self.lines:
            total = total + line.paid
        return total


def plan_order(items: Sequence[tuple[int, int, Component, DueState]], wf: Waterfall) -> list[int]:
    """Indices of ``items`` (installment, due ordinal, component, state) in payment order.

    Shared by :func:`allocate` and the integer fast path of the assessment.
    """
    if wf.axis is Axis.HORIZONTAL:
        keyed = []
        for idx, (number, due, comp, state) in enumerate(items):
            for rank, step in enumerate(wf.steps):
                if step.accepts(comp, state):
                    keyed.append(((due, number, rank), idx))
                    break
        return [idx for _, idx in sorted(keyed)]
    order: list[int] = []
    taken: set[int] = set()
    for step in wf.steps:
        matching = sorted(
            (due, number, idx)
            for idx, (number, due, comp, state) in enumerate(items)
            if idx not in taken and step.accepts(comp, state)
        )
        for _, _, idx in matching:
            order.append(idx)
            taken.add(idx)
    return order


def allocate(
    payment: Money, items: Sequence[DueItem], wf: Waterfall = HORIZONTAL
) -> AllocationResult:
    """Allocate ``payment`` over ``items`` in the order of ``wf``.

    Conserves money exactly: ``sum(paid) + unapplied == payment``.

    :raises CurrencyMismatchError: if an item is in another currency.
    :raises ValidationError: for a negative payment or item amount.
    """
    if payment.is_negative():
        raise ValidationError("payment", payment, "may not be negative")
    for i, item in enumerate(items):
        if item.amount.currency != payment.currency:
            raise CurrencyMismatchError("allocate", payment.currency, item.amount.currency)
        if item.amount.is_negative():
            raise ValidationError(f"items[{i}].amount", item.amount, "may not be negative")
    order = plan_order(
        [(it.installment, it.due_date.toordinal(), it.component, it.state) for it in items], wf
    )
    left = payment.minor_units
    lines = []
    for idx in order:
        item = items[idx]
        due = item.amount.minor_units
        paid = min(left, due)
        left -= paid
        if paid or due:
            lines.append(
                AllocationLine(
                    item.installment,
                    item.component,
                    Money.from_minor(paid, payment.currency),
                    Money.from_minor(due - paid, payment.currency),
                )
            )
        if not left:
            break
    return AllocationResult(tuple(lines), Money.from_minor(left, payment.currency))
