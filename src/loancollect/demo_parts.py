"""How a plug-in takes part in ``loancollect demo``.

A plug-in that adds a channel, a desk of collectors, field agents, agencies or a
model shows itself in the demo by returning a :class:`DemoPart` from the hook
``loancollect_register_demo_parts``. The demo calls each part, in the order the
parts' names sort, at fixed points of the simulated day:

1. :meth:`DemoPart.channels` before the engine is built: channels the part
   provides for the demo (they replace the demo's JSON-lines stand-ins, e.g. for
   ``phone`` or ``visit``);
2. :meth:`DemoPart.configure`: the cycle configuration (e.g. to add a challenger
   strategy or placement rules);
3. :meth:`DemoPart.start` once the portfolio is loaded (start a local stand-in
   server, seed agents or agencies);
4. each simulated day, :meth:`DemoPart.before_cycle` after the borrowers' own
   day (payments, answers) and before the morning run, and
   :meth:`DemoPart.after_cycle` after the day's runs;
5. :meth:`DemoPart.finish` at the end, also when the run failed (stop servers).

The borrowers are played by :class:`~loancollect.demo.World`: a part that works
the sends of a channel itself (a call queue, a visit route) names the channel in
:attr:`DemoPart.answers` so that the world does not answer those sends a second
time, and asks the world how a borrower reacts with
:meth:`~loancollect.demo.World.react`.

The report (``loancollect report`` and the demo's) gains the tables a plug-in
returns from ``loancollect_report_tables``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from loancollect.demo import DemoLoan, SimulatedClock, World
    from loancollect.engine import CollectionEngine, CycleConfig
    from loancollect.ports import Channel, UnitOfWorkFactory

__all__ = ["DemoPart", "DemoRun", "DemoSetup"]


@attrs.frozen(kw_only=True)
class DemoSetup:
    """What a part knows before the engine exists."""

    out: Path
    """The demo's output directory; a part writes under ``out / <its name>``."""
    now: Callable[[], dt.datetime]
    """The simulated clock (aware UTC instants)."""
    pm: Any
    """The plug-in manager (``pluggy.PluginManager``)."""
    seed: int
    """The demo's random seed: a part's own randomness derives from it."""
    first: dt.date
    """The first simulated day."""
    days: int
    """How many days are simulated."""


@attrs.frozen(kw_only=True)
class DemoRun:
    """What a part works with once the portfolio is loaded."""

    setup: DemoSetup
    engine: CollectionEngine
    """The engine: a part records outcomes and commands through its intake."""
    storage: UnitOfWorkFactory
    clock: SimulatedClock
    """Set it only to move within the current day; the demo sets it each morning."""
    world: World
    """The simulated borrowers."""
    portfolio: tuple[DemoLoan, ...]


class DemoPart:
    """A plug-in's part in the demo: override the steps it needs (all do nothing).

    **Example**::

        from loancollect import hookimpl
        from loancollect.demo_parts import DemoPart


        class Desk(DemoPart):
            name = "desk"
            answers = frozenset({"phone"})

            def after_cycle(self, run, day):
                for loan_id in self.calls_made_today(run, day):
                    run.world.react(run.engine, loan_id, day, channel="phone")


        @hookimpl
        def loancollect_register_demo_parts():
            return [Desk()]
    """

    name: str = ""
    """Unique among the parts; names the part in the demo's output."""
    answers: frozenset[str] = frozenset()
    """Channels whose sends this part answers for the borrowers (the world does not)."""

    def channels(self, setup: DemoSetup) -> Mapping[str, Channel]:
        """Channels the part provides for the demo, by channel name."""
        return {}

    def configure(self, config: CycleConfig, setup: DemoSetup) -> CycleConfig:
        """The cycle configuration with the part's changes (default: unchanged)."""
        return config

    def start(self, run: DemoRun) -> None:
        """Called once the portfolio is loaded, before the first simulated day."""

    def before_cycle(self, run: DemoRun, day: dt.date) -> None:
        """Called each day after the borrowers' payments and answers, before the run."""

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        """Called each day after the morning run and the afternoon dispatch."""

    def finish(self, run: DemoRun) -> None:
        """Called once at the end, also after a failure: release what :meth:`start` took."""

    def summary(self, run: DemoRun) -> str | None:
        """One line the demo prints at the end (e.g. where the part's files are)."""
        return None
