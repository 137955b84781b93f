"""The CRM's part in ``loancollect demo``: a local stand-in CRM kept in step.

At the start the part runs a Salesforce-style stand-in CRM and the plug-in's
webhook endpoint (under uvicorn), both on 127.0.0.1. Every ``every`` simulated
days, and on the last, after the day's runs it syncs the week's record into the
CRM; then the stand-in's "collectors" reassign a few cases, write a note, record
an outcome and (once) edit a stage, each posted as a signed webhook, and the
part applies what came in — the stage edit is refused as a conflict and set back
by the next sync.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import secrets
from contextlib import ExitStack

import httpx
from standardwebhooks.webhooks import Webhook

from loancollect.demo_parts import DemoPart, DemoRun
from loancollect_crm.adapters.salesforce import SalesforceAdapter
from loancollect_crm.inbound import InboundApplier
from loancollect_crm.serving import Served, serve
from loancollect_crm.standins.salesforce import SalesforceStandIn
from loancollect_crm.state import SyncState
from loancollect_crm.sync import CrmSync, SyncReport
from loancollect_crm.webhooks import webhook_app

__all__ = ["CrmDemoPart", "demo_states"]

_STATES: list[SyncState] = []


def demo_states() -> tuple[SyncState, ...]:
    """The sync state of the demo last run in this process (for its report)."""
    return tuple(_STATES)


class CrmDemoPart(DemoPart):
    """Syncs the demo's record to a local stand-in CRM, and takes its collectors' changes."""

    name = "crm"

    def __init__(self, every: int = 7) -> None:
        self.every = every
        self.report = SyncReport()
        self.inbound = 0
        self.conflicts = 0
        self._stack = ExitStack()
        self._rng = random.Random(0)
        self._secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self._served: Served | None = None
        self._sync: CrmSync | None = None
        self._applier: InboundApplier | None = None
        self._state: SyncState | None = None
        self._sent = 0

    def start(self, run: DemoRun) -> None:
        """Start the stand-in CRM and the webhook endpoint; open the sync state."""
        folder = run.setup.out / self.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "crm-state.sqlite"
        for old in folder.glob("crm-state.sqlite*"):
            old.unlink()
        self._rng = random.Random(run.setup.seed)
        self._state = SyncState(path)
        _STATES[:] = [self._state]  # the report shows this run's state only
        crm = self._stack.enter_context(SalesforceStandIn(token=secrets.token_hex(8)))
        adapter = SalesforceAdapter(base_url=crm.url, token=crm.token)
        self._stack.callback(adapter.close)
        self._sync = CrmSync(adapter=adapter, state=self._state, storage=run.storage)
        app = webhook_app(state=self._state, secret=self._secret, crm=adapter.name)
        self._served = self._stack.enter_context(serve(app))
        self._applier = InboundApplier(engine=run.engine, state=self._state, crm=adapter.name)

    def after_cycle(self, run: DemoRun, day: dt.date) -> None:
        """Every ``every`` days and on the last: sync, then the collectors' changes come in."""
        last = run.setup.first + dt.timedelta(days=run.setup.days - 1)
        offset = (day - run.setup.first).days
        if (offset + 1) % self.every and day != last:
            return
        assert self._sync is not None
        assert self._applier is not None
        since = day - dt.timedelta(days=self.every - 1)
        self.report = self.report + self._sync.run(as_of=day, since=since)
        self._collectors_work(run, day)
        tally = self._applier.apply_pending()
        self.inbound += tally.applied
        self.conflicts += tally.conflicts

    def _collectors_work(self, run: DemoRun, day: dt.date) -> None:
        """What the stand-in's collectors do this week, posted as signed webhooks."""
        at = dt.datetime(day.year, day.month, day.day, 9, tzinfo=dt.UTC).isoformat()
        loans = [d.loan.id for d in run.portfolio]
        picks = self._rng.sample(loans, min(3, len(loans)))
        events: list[dict[str, str]] = []
        for n, loan_id in enumerate(picks):
            agent = self._rng.choice(["li.na", "chen.jie", "zhao.min"])
            events.append(
                {
                    "type": "case.assigned",
                    "loan_id": loan_id,
                    "at": at,
                    "agent": agent,
                    "team": "desk",
                }
            )
            if n == 0:
                events.append(
                    {
                        "type": "note.created",
                        "loan_id": loan_id,
                        "at": at,
                        "note_ref": f"note-{day}",
                    }
                )
        if day == run.setup.first + dt.timedelta(days=self.every - 1) and picks:
            events.append(
                {
                    "type": "case.updated",
                    "loan_id": picks[0],
                    "at": at,
                    "field": "stage",
                    "value": "closed",
                }
            )
        assert self._served is not None
        hook = Webhook(self._secret)
        with httpx.Client(timeout=10) as client:
            for body in events:
                self._sent += 1
                event_id = f"evt_{day.isoformat()}_{self._sent}"
                data = json.dumps(body)
                now = dt.datetime.now(dt.UTC)  # webhooks are signed in real time, not simulated
                client.post(
                    self._served.url + "/",
                    content=data,
                    headers={
                        "webhook-id": event_id,
                        "webhook-timestamp": str(int(now.timestamp())),
                        "webhook-signature": hook.sign(event_id, now, data),
                        "content-type": "application/json",
                    },
                ).raise_for_status()

    def finish(self, run: DemoRun) -> None:
        """Stop the stand-in CRM and the endpoint."""
        self._stack.close()

    def summary(self, run: DemoRun) -> str | None:
        """Records synced, inbound updates, conflicts."""
        r = self.report
        return (
            f"{r.created + r.updated} CRM records written "
            f"({r.created} created, {r.updated} updated, "
            f"{r.unchanged} unchanged, {r.conflicting} set back) in {r.requests} requests "
            f"({r.cpu_s:.1f} s CPU, {r.wall_s:.1f} s wall); "
            f"{self.inbound} inbound updates applied, {self.conflicts} refused as conflicts; "
            f"state in {run.setup.out / self.name}"
        )
