"""Helpers for multi-process tests and benchmarks (importable in spawned workers).

- :class:`Gateway`: a channel that accepts every message and keeps only counts, as
  a provider's gateway looks from the engine (benchmarks use it: a channel that
  keeps every message would measure its own memory);
- :class:`SendLog`: a channel that records every send in a database table
  ``lc_test_sends`` (no unique key, so a duplicate send across processes shows
  up as two rows) and answers a repeated key in the same process like an
  idempotent channel would;
- :class:`TextLog`: like :class:`SendLog`, but each row of ``lc_test_texts`` also
  keeps the message's text, so a test reads what each worker process sent;
- :func:`channels_from_env` / :func:`text_channels_from_env` / :func:`clock_from_env`:
  worker factories reading
  ``LOANCOLLECT_SENDS_URL``, ``LOANCOLLECT_SEND_DELAY`` (seconds a :class:`TextLog`
  send takes) and ``LOANCOLLECT_NOW`` (ISO instant); :func:`gateways`:
  one :class:`Gateway` per channel name, for benchmarks;
- :func:`ingest` / :func:`ingest_process`: what a host's ingestion does while the
  workers run (contact outcomes and payments through the engine's intake), in a
  process of its own.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing.connection
import os
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType

import sqlalchemy as sa

from loancollect.domain.case import ContactOutcome, OutcomeKind
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.loans import Payment
from loancollect.domain.money import Money
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import CAP_IDEMPOTENT, CAP_INLINE, AuditKey, DeliveryResult, RenderedMessage
from loancollect.testing.clock import FixedClock
from loancollect_sqlalchemy.repository import SqlStore, make_engine

__all__ = [
    "CHANNELS",
    "Gateway",
    "SendLog",
    "TextLog",
    "channels_from_env",
    "clock_from_env",
    "gateways",
    "ingest",
    "ingest_process",
    "sends_table",
    "text_channels_from_env",
    "texts_table",
]

CHANNELS: Mapping[str, Medium] = MappingProxyType(
    {
        "sms": Medium.SMS,
        "email": Medium.EMAIL,
        "phone": Medium.CALL,
        "letter": Medium.LETTER,
        "visit": Medium.VISIT,
    }
)
"""The channel names the default strategy uses, with the compliance medium each one
is. :class:`Gateway` and :class:`SendLog` stand in for them under these names, so
the rule packs judge them as these media (the core's ``CORE_CHANNELS``)."""

_meta = sa.MetaData()
sends_table = sa.Table(
    "lc_test_sends",
    _meta,
    sa.Column("key", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
)
"""Every send recorded by :class:`SendLog`."""
texts_table = sa.Table(
    "lc_test_texts",
    _meta,
    sa.Column("key", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)
"""Every send recorded by :class:`TextLog`, with the message's text."""


class Gateway:
    """A channel that accepts every message and keeps nothing but counts.

    Idempotent like a real provider within its process: a key sent before gets its
    first result again (only the keys are kept, not the messages).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._sent: dict[str, DeliveryResult] = {}
        self.accepted = 0
        self.characters = 0

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """Idempotent; sent inline (it does no I/O)."""
        return frozenset({CAP_IDEMPOTENT, CAP_INLINE})

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Accept the message; the same key gets the same result."""
        known = self._sent.get(idempotency_key)
        if known is not None:
            return known
        self.accepted += 1
        self.characters += len(message.text)
        result = DeliveryResult.sent(provider_id=f"{self._name}-{self.accepted}")
        self._sent[idempotency_key] = result
        return result

    def poll(self, idempotency_key: str) -> DeliveryResult | None:
        """The result for ``idempotency_key``, if it was sent here."""
        return self._sent.get(idempotency_key)


class SendLog:
    """A channel recording each send as a row of :data:`sends_table`."""

    def __init__(self, name: str, engine: sa.Engine) -> None:
        self._name = name
        self._engine = engine
        self._lock = threading.Lock()
        _meta.create_all(engine, checkfirst=True)

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """None beyond sending."""
        return frozenset()

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Record the send; report it sent."""
        with self._engine.begin() as conn:
            conn.execute(
                sends_table.insert(),
                {"key": idempotency_key, "channel": self._name, "pid": os.getpid()},
            )
        return DeliveryResult.sent(provider_id=idempotency_key)


class TextLog:
    """A channel recording each send, with its text, as a row of :data:`texts_table`.

    :param delay: seconds each send takes (a slow gateway), so that several workers
        share a small day instead of the first one to start doing it all.
    """

    def __init__(self, name: str, engine: sa.Engine, delay: float = 0.0) -> None:
        self._name = name
        self._engine = engine
        self._delay = delay
        _meta.create_all(engine, checkfirst=True)

    @property
    def name(self) -> str:
        """The channel name."""
        return self._name

    @property
    def capabilities(self) -> frozenset[str]:
        """None beyond sending."""
        return frozenset()

    def send(
        self, action: PlannedAction, message: RenderedMessage, idempotency_key: str
    ) -> DeliveryResult:
        """Record the send and its text; report it sent."""
        if self._delay:
            time.sleep(self._delay)
        with self._engine.begin() as conn:
            conn.execute(
                texts_table.insert(),
                {
                    "key": idempotency_key,
                    "channel": self._name,
                    "pid": os.getpid(),
                    "text": message.text,
                },
            )
        return DeliveryResult.sent(provider_id=idempotency_key)


def text_channels_from_env() -> dict[str, TextLog]:
    """One :class:`TextLog` per name in :data:`CHANNELS`, on ``$LOANCOLLECT_SENDS_URL``,
    each send taking ``$LOANCOLLECT_SEND_DELAY`` seconds (default 0)."""
    engine = make_engine(os.environ["LOANCOLLECT_SENDS_URL"], pool_size=8)
    delay = float(os.environ.get("LOANCOLLECT_SEND_DELAY", "0"))
    return {name: TextLog(name, engine, delay) for name in CHANNELS}


def channels_from_env() -> dict[str, SendLog]:
    """One :class:`SendLog` per name in :data:`CHANNELS`, on ``$LOANCOLLECT_SENDS_URL``."""
    engine = make_engine(os.environ["LOANCOLLECT_SENDS_URL"], pool_size=8)
    return {name: SendLog(name, engine) for name in CHANNELS}


def gateways() -> dict[str, Gateway]:
    """One :class:`Gateway` per name in :data:`CHANNELS` (a worker factory for benchmarks)."""
    return {name: Gateway(name) for name in CHANNELS}


def clock_from_env() -> FixedClock:
    """A clock fixed at ``$LOANCOLLECT_NOW`` (default 2025-10-31T10:00+08:00)."""
    now = os.environ.get("LOANCOLLECT_NOW", "2025-10-31T10:00:00+08:00")
    return FixedClock(dt.datetime.fromisoformat(now))


def ingest(
    url: str, loan_ids: Sequence[str], as_of: dt.date, *, payment_every: int = 3
) -> dict[str, float]:
    """Record a contact outcome (note ``"ingest <n>"``) on each loan of ``loan_ids``, and
    a payment of CNY 100.00 (id ``"IP<n>"``) on every ``payment_every``-th, each through
    the engine's intake in its own unit of work, as a host's ingestion would while the
    cycle runs. The audit key comes from the environment, like the workers'.

    :return: ``outcomes``, ``payments`` and ``seconds``.
    """
    from loancollect.engine import CollectionEngine
    from loancollect.plugins import make_plugin_manager

    store = SqlStore(url, migrate=False, audit_key=AuditKey.from_env())
    clock = clock_from_env()
    engine = CollectionEngine(
        pm=make_plugin_manager(load_entrypoints=False),
        storage=store,
        clock=clock,
        channels={name: Gateway(name) for name in CHANNELS},
        validate_templates=False,
    )
    started = time.perf_counter()
    payments = 0
    try:
        for n, loan_id in enumerate(loan_ids):
            outcome = ContactOutcome(as_of, "phone", OutcomeKind.NO_ANSWER, f"ingest {n}")
            engine.record_outcome(loan_id, outcome)
            if n % payment_every == 0:
                engine.record_payment(
                    Payment(
                        id=f"IP{n:07d}",
                        loan_id=loan_id,
                        amount=Money(Decimal("100.00"), "CNY"),
                        value_date=as_of,
                        received_at=clock.now(),
                        reference="ingest",
                    )
                )
                payments += 1
    finally:
        store.dispose()
    return {
        "outcomes": len(loan_ids),
        "payments": payments,
        "seconds": time.perf_counter() - started,
    }


def ingest_process(
    url: str,
    loan_ids: Sequence[str],
    as_of: dt.date,
    conn: multiprocessing.connection.Connection,
) -> None:
    """:func:`ingest` in a spawned process: sends its result, or the error's text."""
    try:
        conn.send(ingest(url, loan_ids, as_of))
    except BaseException as exc:  # reported to the parent, never lost
        conn.send(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}")
    finally:
        conn.close()
