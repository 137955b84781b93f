"""The conformance suite of :class:`loancollect.ports.AuditedEvents`: a tampered store
is caught, whoever tampered with it.

A backend's test subclasses :class:`AuditedEventsContract` and provides two fixtures:

- ``open_audited``: a function opening *the same* storage with a given
  :class:`~loancollect.ports.AuditKey` (or none), returning its unit-of-work factory,
  which must be :class:`~loancollect.ports.AuditedEvents`;
- ``tamper``: a :class:`Tamperer` that changes the stored records behind the
  repositories' back, as someone with write access to the database would (raw SQL
  for a SQL backend).

Every case is checked with the key (the first bad event is named) and, where the
result differs, without it (what is still caught, and what is not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

import attrs
import pendulum
import pytest

from loancollect.domain.errors import ConfigurationError
from loancollect.domain.events import Event, EventKind, StreamFault, StreamProblem, chain
from loancollect.ports import (
    AuditedEvents,
    AuditKey,
    AuditTally,
    TamperedStreamError,
    UnitOfWorkFactory,
)
from loancollect.testing.builders import make_event

__all__ = ["KEY", "AuditedEventsContract", "OpenAudited", "Tamperer"]

KEY = AuditKey(b"contract-audit-key-0123456789abcdef")
"""The key the suite signs with."""
OTHER_KEY = AuditKey(b"another-key-that-nobody-should-hold")

OpenAudited = Callable[[AuditKey | None], UnitOfWorkFactory]
"""Opens the storage under test with a key (or none); what ``open_audited`` returns."""

_T0 = pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai")


class Tamperer(Protocol):
    """Changes stored records behind the repositories' back (the storage's tenant)."""

    def delete_event(self, loan_id: str, seq: int) -> None:
        """Delete one event (its head stays)."""
        ...

    def delete_stream(self, loan_id: str) -> None:
        """Delete every event of the stream (its head stays)."""
        ...

    def delete_head(self, loan_id: str) -> None:
        """Delete the stream's head (its events stay)."""
        ...

    def set_head(self, loan_id: str, seq: int, digest: str) -> None:
        """Point the head at ``seq`` and ``digest``, keeping its signature as it is."""
        ...

    def edit_data(self, loan_id: str, seq: int, data: tuple[tuple[str, str], ...]) -> None:
        """Change an event's payload, leaving its hash."""
        ...

    def rewrite(self, events: Sequence[Event]) -> None:
        """Store ``events`` (chained by the tamperer) in place of the stored events with
        the same seq: content and hashes, signatures untouched."""
        ...

    def swap(self, loan_id: str, a: int, b: int) -> None:
        """Exchange the positions (seq) of two events."""
        ...

    def shift_at_utc(self, loan_id: str, seq: int, delta: dt.timedelta) -> bool:
        """Move the stored UTC copy of an event's instant; ``False`` if storage keeps
        none (the test is then skipped)."""
        ...

    def move_to_tenant(self, loan_id: str, tenant: str) -> None:
        """Move the stream and its head to another tenant."""
        ...


def _audited(storage: UnitOfWorkFactory) -> AuditedEvents:
    assert isinstance(storage, AuditedEvents), f"{type(storage).__name__} is not AuditedEvents"
    return storage


def _problems(storage: UnitOfWorkFactory, *, every_tenant: bool = False) -> list[StreamProblem]:
    return list(_audited(storage).verify_all(every_tenant=every_tenant))


def _one(storage: UnitOfWorkFactory, loan_id: str) -> StreamProblem:
    found = [p for p in _problems(storage) if p.loan_id == loan_id]
    assert len(found) == 1, found
    return found[0]


class AuditedEventsContract:
    """Anchored, signed event streams (``verify_all``, ``sign_unsigned``, the checks
    on append). Provide ``open_audited`` and ``tamper`` fixtures."""

    @pytest.fixture
    def open_audited(self) -> OpenAudited:
        """Override: open the storage under test (fresh and empty) with a key."""
        raise NotImplementedError(f"{type(self).__name__}: provide an open_audited fixture")

    @pytest.fixture
    def tamper(self) -> Tamperer:
        """Override: change the stored records of the storage under test directly."""
        raise NotImplementedError(f"{type(self).__name__}: provide a tamper fixture")

    @pytest.fixture
    def streams(self, open_audited: OpenAudited) -> dict[str, tuple[Event, ...]]:
        """Three signed streams: L-1 (four events, appended in two units of work),
        L-2 (two), L-3 (one)."""
        storage = open_audited(KEY)
        first = [
            make_event(EventKind.CASE_OPENED, "L-1", at=_T0),
            make_event(EventKind.STAGE_CHANGED, "L-1", at=_T0.add(minutes=1)),
            make_event(EventKind.CASE_OPENED, "L-2", at=_T0),
            make_event(EventKind.CASE_OPENED, "L-3"),
        ]
        later = [
            make_event(EventKind.ACTION_SENT, "L-1", at=_T0.add(hours=1)),
            make_event(EventKind.PAYMENT_RECEIVED, "L-1", at=_T0.add(hours=2)),
            make_event(EventKind.STAGE_CHANGED, "L-2", at=_T0.add(hours=2)),
        ]
        with storage() as uow:
            uow.events.append(first)
            uow.commit()
        with storage() as uow:
            uow.events.append(later)
            uow.commit()
        with storage() as uow:
            return {loan: uow.events.stream(loan) for loan in ("L-1", "L-2", "L-3")}

    # -- intact ---------------------------------------------------------------------------
    def test_an_intact_store_verifies_with_and_without_the_key(
        self, open_audited: OpenAudited, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tally = AuditTally()
        assert list(_audited(open_audited(KEY)).verify_all(tally=tally)) == []
        assert (tally.streams, tally.events, tally.problems) == (3, 7, 0)
        assert tally.signatures
        assert tally.unsigned == 0
        assert _problems(open_audited(None)) == []
        with open_audited(KEY)() as uow:
            assert [uow.events.verify(loan) for loan in streams] == [None, None, None]

    def test_another_key_does_not_verify(
        self, open_audited: OpenAudited, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        found = list(_audited(open_audited(KEY)).verify_all(key=OTHER_KEY))
        assert {(p.loan_id, p.seq, p.fault) for p in found} == {
            (loan, 0, StreamFault.REHASHED) for loan in streams
        }

    # -- deletions ------------------------------------------------------------------------
    def test_deleting_the_last_event_is_truncation(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.delete_event("L-1", 3)  # the payment: caps would no longer count the send
        for key in (KEY, None):
            problem = _one(open_audited(key), "L-1")
            assert (problem.seq, problem.fault) == (3, StreamFault.TRUNCATED), problem
        with open_audited(KEY)() as uow:
            assert uow.events.verify("L-1") == 3

    def test_an_append_after_a_truncation_keeps_the_gap(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.delete_event("L-1", 3)
        storage = open_audited(KEY)
        with storage() as uow:
            (more,) = uow.events.append([make_event(EventKind.ACTION_SENT, "L-1")])
            uow.commit()
        assert (more.seq, more.prev_hash) == (4, streams["L-1"][3].hash)
        problem = _one(storage, "L-1")
        assert (problem.seq, problem.fault) == (3, StreamFault.MISSING), problem

    def test_deleting_a_whole_stream(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.delete_stream("L-2")
        for key in (KEY, None):
            problem = _one(open_audited(key), "L-2")
            assert (problem.seq, problem.fault) == (0, StreamFault.DELETED), problem

    def test_an_event_missing_in_the_middle(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.delete_event("L-1", 1)
        for key in (KEY, None):
            problem = _one(open_audited(key), "L-1")
            assert (problem.seq, problem.fault) == (1, StreamFault.MISSING), problem

    def test_a_stream_without_its_head_is_found_and_not_extended(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.delete_head("L-3")
        storage = open_audited(KEY)
        problem = _one(storage, "L-3")
        assert (problem.seq, problem.fault) == (0, StreamFault.UNANCHORED), problem
        with storage() as uow, pytest.raises(TamperedStreamError, match="L-3"):
            uow.events.append([make_event(EventKind.ACTION_SENT, "L-3")])

    def test_a_head_moved_back_without_the_key_is_caught_and_not_extended(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.delete_event("L-1", 3)
        tamper.set_head("L-1", 2, streams["L-1"][2].hash)  # as if the payment never was
        storage = open_audited(KEY)
        problem = _one(storage, "L-1")
        assert (problem.seq, problem.fault) == (2, StreamFault.REHASHED), problem
        with storage() as uow, pytest.raises(TamperedStreamError) as raised:
            uow.events.append([make_event(EventKind.ACTION_SENT, "L-1")])
        assert raised.value.problem.loan_id == "L-1"
        # without the key, a head rewritten to match is all there is to see
        assert [p for p in _problems(open_audited(None)) if p.loan_id == "L-1"] == []

    # -- edits ------------------------------------------------------------------------------
    def test_an_edited_event(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.edit_data("L-1", 2, (("channel", "sms"), ("key", "forged")))
        for key in (KEY, None):
            problem = _one(open_audited(key), "L-1")
            assert (problem.seq, problem.fault) == (2, StreamFault.EDITED), problem

    def _rehashed(self, stream: tuple[Event, ...], seq: int) -> tuple[Event, ...]:
        """``stream`` from ``seq`` on, with event ``seq`` edited, chained again with the
        public ``chain``: what someone without the key can produce."""
        edited = attrs.evolve(stream[seq], data=(("forged", "yes"),))
        return chain([edited, *stream[seq + 1 :]], prev_hash=stream[seq - 1].hash, start_seq=seq)

    def test_an_edit_rehashed_with_chain_and_its_head_rewritten_is_caught_by_the_key(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        forged = self._rehashed(streams["L-1"], 1)
        tamper.rewrite(forged)
        tamper.set_head("L-1", forged[-1].seq, forged[-1].hash)
        problem = _one(open_audited(KEY), "L-1")
        assert (problem.seq, problem.fault) == (1, StreamFault.REHASHED), problem
        # without the key nothing tells this stream from a genuine one (the limit)
        assert [p for p in _problems(open_audited(None)) if p.loan_id == "L-1"] == []

    def test_an_edit_rehashed_with_chain_is_caught_by_the_head_without_the_key(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.rewrite(self._rehashed(streams["L-1"], 1))
        problem = _one(open_audited(None), "L-1")
        assert (problem.seq, problem.fault) == (3, StreamFault.REHASHED), problem
        problem = _one(open_audited(KEY), "L-1")
        assert (problem.seq, problem.fault) == (1, StreamFault.REHASHED), problem

    def test_reordered_events(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.swap("L-1", 1, 2)
        for key in (KEY, None):
            problem = _one(open_audited(key), "L-1")
            assert (problem.seq, problem.fault) == (1, StreamFault.REORDERED), problem

    def test_a_stored_utc_instant_that_disagrees_with_the_hashed_one(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        if not tamper.shift_at_utc("L-2", 1, dt.timedelta(hours=-3)):
            pytest.skip("the storage keeps no separate copy of an event's instant")
        for key in (KEY, None):
            problem = _one(open_audited(key), "L-2")
            assert (problem.seq, problem.fault) == (1, StreamFault.BAD_AT_UTC), problem

    def test_a_stream_moved_to_another_tenant_is_caught_by_the_key(
        self, open_audited: OpenAudited, tamper: Tamperer, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        tamper.move_to_tenant("L-3", "intruder")
        storage = open_audited(KEY)
        assert _problems(storage) == []  # gone from its tenant, head and all
        found = [p for p in _problems(storage, every_tenant=True) if p.loan_id == "L-3"]
        assert [(p.tenant, p.seq, p.fault) for p in found] == [
            ("intruder", 0, StreamFault.REHASHED)
        ]

    # -- keys ------------------------------------------------------------------------------
    def test_unsigned_streams_are_found_with_the_key_and_signed_on_request(
        self, open_audited: OpenAudited
    ) -> None:
        plain = open_audited(None)
        with plain() as uow:
            uow.events.append([make_event(EventKind.CASE_OPENED, "L-9", at=_T0)])
            uow.commit()
        assert _problems(plain) == []
        keyed = open_audited(KEY)
        problem = _one(keyed, "L-9")
        assert (problem.seq, problem.fault) == (0, StreamFault.UNSIGNED), problem
        with keyed() as uow, pytest.raises(TamperedStreamError, match="unsigned"):
            uow.events.append([make_event(EventKind.STAGE_CHANGED, "L-9")])
        with pytest.raises(ConfigurationError):
            _audited(plain).sign_unsigned()
        assert _audited(keyed).sign_unsigned() == 1
        assert _audited(keyed).sign_unsigned() == 0
        assert _problems(keyed) == []
        with keyed() as uow:
            uow.events.append([make_event(EventKind.STAGE_CHANGED, "L-9")])
            uow.commit()
        assert _problems(keyed) == []

    def test_a_tampered_stream_is_not_signed(
        self, open_audited: OpenAudited, tamper: Tamperer
    ) -> None:
        plain = open_audited(None)
        with plain() as uow:
            uow.events.append(
                [
                    make_event(EventKind.CASE_OPENED, "L-8"),
                    make_event(EventKind.STAGE_CHANGED, "L-8"),
                ]
            )
            uow.commit()
        tamper.edit_data("L-8", 1, (("forged", "yes"),))
        keyed = open_audited(KEY)
        assert _audited(keyed).sign_unsigned() == 0
        problem = _one(keyed, "L-8")  # with the key, unsigned is the first thing wrong
        assert (problem.seq, problem.fault) == (0, StreamFault.UNSIGNED), problem
        problem = _one(plain, "L-8")
        assert (problem.seq, problem.fault) == (1, StreamFault.EDITED), problem

    def test_a_writer_without_the_key_does_not_extend_a_signed_stream(
        self, open_audited: OpenAudited, streams: dict[str, tuple[Event, ...]]
    ) -> None:
        with open_audited(None)() as uow, pytest.raises(ConfigurationError, match="audit key"):
            uow.events.append([make_event(EventKind.ACTION_SENT, "L-1")])

    def test_the_key_is_never_shown(self, open_audited: OpenAudited) -> None:
        storage = open_audited(KEY)
        secret = KEY.secret.decode()
        assert secret not in repr(KEY)
        assert secret not in str(KEY)
        assert secret not in repr(storage)
