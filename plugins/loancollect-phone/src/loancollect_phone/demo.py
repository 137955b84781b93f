"""The plug-in's part in ``loancollect demo``: simulated collectors work the call queue.

The demo's phone sends go to a :class:`~loancollect_phone.channel.PhoneChannel` in
queue mode. After each day's dispatch three simulated collectors (a Chinese
speaker, two English speakers; one line without recording) pull tasks hour by
hour, each hour asking the rules (the calling windows, the caps). Each call is
simulated as a dialer would see it: busy, or a machine that gets only the
limited-content message, or a person — then the borrower's reaction comes from
the demo's world (:meth:`~loancollect.demo.World.react`, which records it). Every
call is checked and reviewed (``CALL_REVIEWED``); now and then a simulated
collector says something they must not, which the QA finds.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Mapping

from loancollect.demo_parts import DemoPart, DemoRun, DemoSetup
from loancollect.domain.case import OutcomeKind
from loancollect.domain.intake import Actor
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import Channel
from loancollect.registry import rule_packs
from loancollect_phone.channel import PhoneChannel
from loancollect_phone.desk import PhoneDesk
from loancollect_phone.dispositions import CallRecord, Disposition
from loancollect_phone.gate import Permit, RulesGate
from loancollect_phone.queue import CallQueue, CallTask, Collector

__all__ = ["PhoneDemo"]

_DISPOSITIONS = {
    OutcomeKind.BUSY: Disposition.BUSY,
    OutcomeKind.VOICEMAIL: Disposition.VOICEMAIL,
    OutcomeKind.NO_ANSWER: Disposition.NO_ANSWER,
    OutcomeKind.PROMISE: Disposition.PROMISE,
    OutcomeKind.REFUSED: Disposition.REFUSAL,
    OutcomeKind.DISPUTE_RAISED: Disposition.DISPUTE,
}
_SLIPS = (
    "你再不还钱,就让你坐牢。",
    "If you don't pay we will tell your employer.",
    "你这个老赖。",
)
_CALLS_PER_HOUR = 6


class PhoneDemo(DemoPart):
    """Simulated collectors working the phone queue in the demo."""

    name = "phone"
    answers = frozenset({"phone"})

    def __init__(self) -> None:
        self.queue = CallQueue(self, max_attempts=3)
        self._gate: RulesGate | None = None
        self._desk: PhoneDesk | None = None
        self.tally: Counter[str] = Counter()
        self.collectors = (
            Collector(id="desk-zh-1", skills=frozenset({"lang:zh"}), team="early"),
            Collector(id="desk-en-1", skills=frozenset({"lang:en"}), team="early"),
            Collector(id="desk-en-2", skills=frozenset({"lang:en"}), records=False),
        )

    # the queue's gate, once the engine exists
    def permit(self, action: PlannedAction, at: dt.datetime) -> Permit:
        """The rules' permit (nothing is offered before the demo has started)."""
        if self._gate is None:
            return Permit(allowed=False, reasons=("the demo has not started",))
        return self._gate.permit(action, at)

    def _task_for(self, action: PlannedAction, key: str) -> CallTask:
        assert self._desk is not None, "the demo sends only after it started"
        return self._desk.task_for(action, key)

    def channels(self, setup: DemoSetup) -> Mapping[str, Channel]:
        """The phone channel, in queue mode."""
        self._rng = random.Random(setup.seed * 7919 + 17)
        return {"phone": PhoneChannel(queue=self.queue, task_for=self._task_for)}

    def start(self, run: DemoRun) -> None:
        """The gate and the desk over the demo's engine and storage."""
        pm = run.setup.pm
        self._gate = RulesGate(pm, run.storage, probe=1)
        self._desk = PhoneDesk(
            sink=run.engine,
            storage=run.storage,
            packs=tuple(rule_packs(pm).values()),
            business="Demo Lending",
            callback_number="+1 212 555 0100",
        )

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        """Work the queue through the day, hour by hour (UTC), as the rules allow."""
        desk = self._desk
        assert desk is not None
        self.queue.drain(lambda t: (day - t.action.as_of).days <= 3)
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
        for hour in range(24):
            if not len(self.queue):
                return
            at = start + dt.timedelta(hours=hour)
            for collector in self.collectors:
                for n in range(_CALLS_PER_HOUR):
                    lease = self.queue.next(collector, at + dt.timedelta(minutes=9 * n))
                    if lease is None:
                        break
                    kind = self._call(run, desk, lease.task, collector, lease.at, day)
                    self.queue.complete(lease, _DISPOSITIONS.get(kind, Disposition.RIGHT_PARTY))

    def _call(
        self,
        run: DemoRun,
        desk: PhoneDesk,
        task: CallTask,
        collector: Collector,
        at: dt.datetime,
        day: dt.date,
    ) -> OutcomeKind:
        """One simulated call: busy, a machine, or the borrower's reaction."""
        roll = self._rng.random()
        by = Actor(agent=collector.id, team=collector.team)
        call_id = f"demo-{task.key}-{task.attempts + 1}"
        recording = (
            desk.recording(task.loan_id, f"rec-{call_id}", at) if collector.records else None
        )
        if roll < 0.18:  # 8 % busy, 10 % a machine
            disposition = Disposition.BUSY if roll < 0.08 else Disposition.VOICEMAIL
            desk.record(
                CallRecord(
                    call=call_id,
                    loan_id=task.loan_id,
                    disposition=disposition,
                    at=at,
                    key=task.key,
                    by=by,
                    recording=recording if disposition is Disposition.VOICEMAIL else None,
                ),
                script=desk.machine_message(task.action.locale)
                if disposition is Disposition.VOICEMAIL
                else "",
            )
            self.tally[disposition.value] += 1
            return disposition.outcome
        kind = run.world.react(run.engine, task.loan_id, day, channel="phone")
        script = desk.script_for(task, at).text()
        slip = self._rng.choice(_SLIPS) if self._rng.random() < 0.02 else ""
        review = desk.review(
            call_id,
            task.loan_id,
            kind,
            at=at,
            key=task.key,
            by=by,
            recording=recording,
            text=f"{script}\n{slip}" if slip else script,
        )
        self.tally[kind.value] += 1
        self.tally["findings"] += len(review.findings)
        return kind

    def summary(self, run: DemoRun) -> str:
        """Calls made, by outcome, and what the QA found."""
        calls = sum(v for k, v in self.tally.items() if k != "findings")
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.tally.items()) if k != "findings")
        return (
            f"{calls} calls by {len(self.collectors)} simulated collectors ({parts}); "
            f"QA findings {self.tally['findings']}; {len(self.queue.dropped)} tasks dropped "
            "by the rules; table phone_rates_by_hour"
        )
