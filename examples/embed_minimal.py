"""A lending platform embeds loancollect: loans in, one day's cycle, actions out.

Run: python examples/embed_minimal.py
"""

import datetime as dt
from decimal import Decimal

import pendulum

from loancollect import (
    Borrower,
    CollectionEngine,
    ContactKind,
    ContactPoint,
    Loan,
    Money,
    PartyKind,
    make_plugin_manager,
)
from loancollect.registry import open_storage
from loancollect.testing import UNCHECKED_CONTACT, FixedClock, RecordingChannel

# Built-ins only: no rule pack, so the made-up borrower below may be contacted only
# because the configuration says so explicitly. A real deployment installs the pack of
# its borrowers' jurisdiction (loancollect-rules-cn here) and drops UNCHECKED_CONTACT.
pm = make_plugin_manager(config=UNCHECKED_CONTACT)
storage = open_storage(pm, "memory:")  # "sqlite:///collect.db" with loancollect-sqlalchemy
clock = FixedClock(pendulum.datetime(2025, 3, 20, 10, tz="Asia/Shanghai"))
channels = {name: RecordingChannel(name) for name in ("sms", "email", "letter", "phone", "visit")}
engine = CollectionEngine(pm=pm, storage=storage, clock=clock, channels=channels)

borrower = Borrower(
    id="C-88",
    kind=PartyKind.INDIVIDUAL,
    name="Liu Yang",
    jurisdiction="CN",
    time_zone="Asia/Shanghai",
    locale="en_US",
    contact_points=[ContactPoint(ContactKind.PHONE, "+86 139 1234 5678")],
)
loan = Loan.create(
    id="LN-2025-0001",
    borrower=borrower,
    principal=Money("6000.00", "CNY"),
    annual_rate=Decimal("0.15"),
    term=6,
    disbursement_date=dt.date(2025, 2, 10),
)
engine.add_loans([loan], review_on=dt.date(2025, 3, 20))  # first due 2025-03-10: unpaid

report = engine.run_cycle(dt.date(2025, 3, 20))
print(report.summary)
for name, channel in channels.items():
    for delivery in channel.deliveries:
        print(f"[{name}] {delivery.key}\n{delivery.message.text}\n")
assert report.summary.reviewed == 1
assert report.summary.sent >= 1
