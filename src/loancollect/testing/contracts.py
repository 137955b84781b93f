"""Conformance suites: what every storage backend and every channel must do.

Subclass a contract in your plug-in's tests and provide the fixtures it asks
for; pytest collects the inherited tests. The in-memory backend and the
recording channel run exactly these suites in loancollect's own tests.

Storage::

    import pytest
    from loancollect.testing import StorageContract

    class TestSqliteStorage(StorageContract):
        @pytest.fixture
        def uow_factory(self, tmp_path):
            return open_my_backend(f"sqlite:///{tmp_path}/db.sqlite")

Channels::

    from loancollect.testing import ChannelContract, FailureMode

    class TestAcmeSms(ChannelContract):
        @pytest.fixture
        def channel(self, fake_gateway):
            return AcmeSms(url=fake_gateway.url)

        def fail_next(self, channel, mode):
            ...  # make the fake gateway answer the next request with 503 / 400 / 403

        def deliveries(self, channel):
            return len(fake_gateway.requests)

The actions carry the builder's mobile number; a channel that needs another
kind of contact point (an e-mail address, a postal address) overrides the
``contact`` fixture, and the ``message`` fixture for a message that suits it.
"""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from loancollect.builtin.recording import FailureMode
from loancollect.domain.errors import ValidationError
from loancollect.domain.events import GENESIS, EventKind
from loancollect.domain.loans import ContactPoint
from loancollect.domain.money import Money
from loancollect.ports import (
    CAP_POLL,
    Channel,
    DeliveryResult,
    DeliveryStatus,
    OutboxStatus,
    PollingChannel,
    RenderedMessage,
    UnitOfWork,
    UnitOfWorkFactory,
)
from loancollect.testing.builders import (
    make_action,
    make_case,
    make_event,
    make_loan,
    make_message,
    make_payment,
    make_rich_case,
)

__all__ = ["ChannelContract", "StorageContract"]

T0 = pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai")
DAY = dt.date(2025, 3, 1)


class StorageContract:
    """The storage conformance suite. Provide a ``uow_factory`` fixture returning a
    fresh, empty storage's unit-of-work factory for each test."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        """Override: a factory of units of work over a fresh, empty storage."""
        raise NotImplementedError("subclass StorageContract and provide a uow_factory fixture")

    @pytest.fixture
    def seeded(self, uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
        """The storage with loans L-1, L-2, L-3 committed."""
        with uow_factory() as uow:
            for loan_id in ("L-2", "L-1", "L-3"):
                uow.loans.add(make_loan(id=loan_id))
            uow.commit()
        return uow_factory

    # -- loans and payments ---------------------------------------------------------

    def test_loan_round_trip(self, uow_factory: UnitOfWorkFactory) -> None:
        loan = make_loan()
        with uow_factory() as uow:
            uow.loans.add(loan)
            uow.commit()
        with uow_factory() as uow:
            assert uow.loans.get("L-1") == loan

    def test_unknown_loan_is_none(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.loans.get("nope") is None

    def test_adding_a_loan_again_replaces_it(self, seeded: UnitOfWorkFactory) -> None:
        changed = make_loan(id="L-1", grace_days=3)
        with seeded() as uow:
            uow.loans.add(changed)
            uow.commit()
        with seeded() as uow:
            stored = uow.loans.get("L-1")
            assert stored is not None
            assert stored.grace_days == 3

    def test_list_ids_is_ordered_and_paged(self, seeded: UnitOfWorkFactory) -> None:
        with seeded() as uow:
            assert uow.loans.list_ids() == ["L-1", "L-2", "L-3"]
            assert uow.loans.list_ids(limit=2) == ["L-1", "L-2"]
            assert uow.loans.list_ids(after="L-1") == ["L-2", "L-3"]
            assert uow.loans.list_ids(after="L-3") == []

    def test_payments_are_ordered_by_value_date_then_id(self, seeded: UnitOfWorkFactory) -> None:
        late = make_payment(id="P-2", value_date=dt.date(2025, 3, 5))
        early_b = make_payment(id="P-B", value_date=dt.date(2025, 3, 1))
        early_a = make_payment(id="P-A", value_date=dt.date(2025, 3, 1))
        other = make_payment(id="P-9", loan_id="L-2")
        with seeded() as uow:
            for p in (late, early_b, other, early_a):
                uow.loans.add_payment(p)
            uow.commit()
        with seeded() as uow:
            assert uow.loans.payments_for("L-1") == (early_a, early_b, late)
            assert uow.loans.payments_for("L-2") == (other,)
            assert uow.loans.payments_for("L-3") == ()

    def test_adding_the_same_payment_twice_is_a_no_op(self, seeded: UnitOfWorkFactory) -> None:
        with seeded() as uow:
            uow.loans.add_payment(make_payment())
            uow.commit()
        with seeded() as uow:
            uow.loans.add_payment(make_payment())
            uow.commit()
        with seeded() as uow:
            assert uow.loans.payments_for("L-1") == (make_payment(),)

    def test_a_different_payment_with_a_known_id_is_refused(
        self, seeded: UnitOfWorkFactory
    ) -> None:
        with seeded() as uow:
            uow.loans.add_payment(make_payment())
            uow.commit()
        with seeded() as uow, pytest.raises(ValidationError, match=r"payment\.id"):
            uow.loans.add_payment(make_payment(amount=Money("1.00", "CNY")))

    def test_a_payment_for_an_unknown_loan_is_refused(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow, pytest.raises(ValidationError, match=r"payment\.loan_id"):
            uow.loans.add_payment(make_payment(loan_id="L-404"))

    # -- cases --------------------------------------------------------------------

    def test_case_round_trip_keeps_every_field(self, seeded: UnitOfWorkFactory) -> None:
        case = make_rich_case()
        with seeded() as uow:
            uow.cases.save(case)
            uow.commit()
        with seeded() as uow:
            assert uow.cases.get("L-1") == case

    def test_saving_a_case_again_replaces_it(self, seeded: UnitOfWorkFactory) -> None:
        with seeded() as uow:
            uow.cases.save(make_case())
            uow.commit()
        with seeded() as uow:
            uow.cases.save(make_case(stage="late"))
            uow.commit()
        with seeded() as uow:
            stored = uow.cases.get("L-1")
            assert stored is not None
            assert stored.stage == "late"
            assert uow.cases.get("L-2") is None

    def test_due_for_review_selects_by_next_review_date(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        cases = [
            make_case(loan_id="A-past", next_review_date=DAY - dt.timedelta(days=3)),
            make_case(loan_id="B-today", next_review_date=DAY),
            make_case(loan_id="C-tomorrow", next_review_date=DAY + dt.timedelta(days=1)),
            make_case(loan_id="D-none", next_review_date=None),
            make_case(loan_id="E-closed", next_review_date=DAY, closed_on=DAY),
        ]
        with uow_factory() as uow:
            for case in cases:
                uow.cases.save(case)
            uow.commit()
        with uow_factory() as uow:
            due = uow.cases.due_for_review(DAY, limit=100)
        assert [c.loan_id for c in due] == ["A-past", "B-today"]

    def test_due_for_review_streams_in_batches_by_loan_id(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        ids = [f"L-{n:03d}" for n in (7, 3, 11, 1, 5, 9, 2)]
        with uow_factory() as uow:
            for loan_id in ids:
                uow.cases.save(make_case(loan_id=loan_id))
            uow.commit()
        seen: list[str] = []
        after: str | None = None
        batches = 0
        with uow_factory() as uow:
            while True:
                batch = uow.cases.due_for_review(DAY, limit=3, after_loan_id=after)
                if not batch:
                    break
                batches += 1
                assert len(batch) <= 3
                seen += [c.loan_id for c in batch]
                after = batch[-1].loan_id
        assert seen == sorted(ids)
        assert batches == 3

    # -- outbox -------------------------------------------------------------------

    def test_outbox_add_is_idempotent_by_key(self, uow_factory: UnitOfWorkFactory) -> None:
        action = make_action()
        with uow_factory() as uow:
            assert uow.outbox.add(action, created_on=DAY) is True
            assert uow.outbox.add(make_action(template="other"), created_on=DAY) is False
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.add(action, created_on=DAY) is False
            entry = uow.outbox.get(action.idempotency_key)
        assert entry is not None
        assert entry.action == action
        assert entry.status is OutboxStatus.PENDING
        assert entry.attempts == 0
        assert entry.created_on == DAY

    def test_outbox_unknown_key_is_none(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.outbox.get("nope") is None

    def test_pending_is_ordered_and_limited(self, uow_factory: UnitOfWorkFactory) -> None:
        day2 = DAY + dt.timedelta(days=1)
        with uow_factory() as uow:
            uow.outbox.add(make_action(rule_id="b", as_of=day2), created_on=day2)
            uow.outbox.add(make_action(rule_id="z"), created_on=DAY)
            uow.outbox.add(make_action(rule_id="a"), created_on=DAY)
            uow.commit()
        with uow_factory() as uow:
            keys = [e.key for e in uow.outbox.pending(limit=10)]
            assert keys == ["L-1:a:2025-03-01", "L-1:z:2025-03-01", "L-1:b:2025-03-02"]
            assert len(uow.outbox.pending(limit=2)) == 2

    def test_pending_waits_for_not_before(self, uow_factory: UnitOfWorkFactory) -> None:
        later = T0.add(hours=3)
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY, not_before=later)
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.pending(limit=10, now=T0) == []
            assert len(uow.outbox.pending(limit=10, now=later)) == 1
            assert len(uow.outbox.pending(limit=10)) == 1

    def test_mark_sent_records_the_result_once(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        first = DeliveryResult(
            status=DeliveryStatus.SENT, provider_id="m-1", evidence=[("code", "200")]
        )
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.mark_sent(key, first, at=T0)
            uow.commit()
        with uow_factory() as uow:
            again = uow.outbox.mark_sent(key, DeliveryResult.sent("m-2"), at=T0.add(hours=1))
            uow.commit()
            assert again.result == first
        with uow_factory() as uow:
            entry = uow.outbox.get(key)
            assert entry is not None
            assert entry.status is OutboxStatus.SENT
            assert entry.result == first
            assert entry.attempts == 1
            assert entry.sent_at == T0
            assert uow.outbox.pending(limit=10) == []

    def test_retryable_failure_comes_back_after_retry_at(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        key = make_action().idempotency_key
        retry_at = T0.add(minutes=30)
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            entry = uow.outbox.mark_failed(key, "timeout", retry_at=retry_at, attempts=1)
            uow.commit()
        assert entry.status is OutboxStatus.RETRY
        with uow_factory() as uow:
            assert uow.outbox.pending(limit=10, now=T0) == []
            (due,) = uow.outbox.pending(limit=10, now=retry_at)
            assert due.attempts == 1
            assert due.last_error == "timeout"
            assert due.next_attempt_at == retry_at

    def test_permanent_failure_is_never_pending(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        result = DeliveryResult.failed_permanent("invalid number")
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.mark_failed(key, "invalid number", retry_at=None, attempts=1, result=result)
            uow.commit()
        with uow_factory() as uow:
            entry = uow.outbox.get(key)
            assert entry is not None
            assert entry.status is OutboxStatus.FAILED
            assert entry.result == result
            assert uow.outbox.pending(limit=10) == []

    def test_marking_an_unknown_key_raises(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            with pytest.raises(ValidationError, match=r"outbox\.key"):
                uow.outbox.mark_sent("nope", DeliveryResult.sent(), at=T0)
            with pytest.raises(ValidationError, match=r"outbox\.key"):
                uow.outbox.mark_failed("nope", "x", retry_at=None, attempts=1)
            with pytest.raises(ValidationError, match=r"outbox\.key"):
                uow.outbox.cancel("nope", "x")

    def test_a_sent_entry_cannot_fail_or_be_cancelled(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.mark_sent(key, DeliveryResult.sent(), at=T0)
            with pytest.raises(ValidationError, match="sent"):
                uow.outbox.mark_failed(key, "late error", retry_at=None, attempts=2)
            with pytest.raises(ValidationError, match="sent"):
                uow.outbox.cancel(key, "paid")

    def test_cancel_withdraws_an_open_entry(self, uow_factory: UnitOfWorkFactory) -> None:
        key = make_action().idempotency_key
        with uow_factory() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.outbox.cancel(key, "paid in full")
            uow.commit()
        with uow_factory() as uow:
            entry = uow.outbox.cancel(key, "again")
            assert entry.status is OutboxStatus.CANCELLED
            assert entry.last_error == "paid in full"
            assert uow.outbox.pending(limit=10) == []
            with pytest.raises(ValidationError):
                uow.outbox.mark_sent(key, DeliveryResult.sent(), at=T0)

    # -- events -------------------------------------------------------------------

    def test_append_chains_each_loan_stream(self, uow_factory: UnitOfWorkFactory) -> None:
        events = [
            make_event(EventKind.CASE_OPENED, "L-1"),
            make_event(EventKind.CASE_OPENED, "L-2"),
            make_event(EventKind.STAGE_CHANGED, "L-1"),
        ]
        with uow_factory() as uow:
            stored = uow.events.append(events)
            uow.commit()
        assert [(e.loan_id, e.seq) for e in stored] == [("L-1", 0), ("L-2", 0), ("L-1", 1)]
        assert stored[0].prev_hash == GENESIS
        assert stored[2].prev_hash == stored[0].hash
        with uow_factory() as uow:
            assert uow.events.stream("L-1") == (stored[0], stored[2])
            assert uow.events.last("L-2") == stored[1]
            assert uow.events.verify("L-1") is None
            assert uow.events.verify("L-2") is None

    def test_append_continues_the_stream_in_a_later_unit_of_work(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            (first,) = uow.events.append([make_event(EventKind.CASE_OPENED)])
            uow.commit()
        with uow_factory() as uow:
            (second,) = uow.events.append([make_event(EventKind.STAGE_CHANGED)])
            uow.commit()
        assert second.seq == 1
        assert second.prev_hash == first.hash
        with uow_factory() as uow:
            assert uow.events.stream("L-1") == (first, second)
            assert uow.events.verify("L-1") is None

    def test_recent_returns_the_events_on_or_after_a_date(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        days = [dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)]
        with uow_factory() as uow:
            stored = uow.events.append(
                [make_event(EventKind.ACTION_SENT, "L-1", on=d) for d in days]
                + [make_event(EventKind.ACTION_SENT, "L-2", on=days[0])]
            )
            uow.commit()
        with uow_factory() as uow:
            assert uow.events.recent("L-1", dt.date(2025, 2, 1)) == stored[1:3]
            assert uow.events.recent("L-1", dt.date(2025, 3, 2)) == ()
            assert uow.events.recent("L-2", dt.date(2025, 1, 1)) == (stored[3],)
            assert uow.events.recent("L-9", dt.date(2025, 1, 1)) == ()
            # Events appended in the same unit of work are seen.
            (later,) = uow.events.append(
                [make_event(EventKind.ACTION_SENT, "L-1", on=dt.date(2025, 3, 5))]
            )
            assert uow.events.recent("L-1", dt.date(2025, 2, 1)) == (*stored[1:3], later)

    def test_an_empty_stream(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.events.stream("L-1") == ()
            assert uow.events.last("L-1") is None
            assert uow.events.verify("L-1") is None
            assert uow.events.append([]) == ()

    # -- unit of work -------------------------------------------------------------

    def test_uncommitted_writes_are_invisible_to_others(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as writer:
            writer.loans.add(make_loan())
            writer.cases.save(make_case())
            assert writer.loans.get("L-1") is not None  # reads see own writes
            assert writer.cases.get("L-1") is not None
            with uow_factory() as reader:
                assert reader.loans.get("L-1") is None
                assert reader.cases.get("L-1") is None
                assert reader.cases.due_for_review(DAY, limit=10) == []
            writer.commit()
        with uow_factory() as reader:
            assert reader.loans.get("L-1") is not None

    def test_leaving_without_commit_rolls_back_everything(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            self._write_everything(uow)
        self._assert_nothing_stored(uow_factory)

    def test_an_exception_rolls_back_and_propagates(self, uow_factory: UnitOfWorkFactory) -> None:
        def fail_midway() -> None:
            with uow_factory() as uow:
                self._write_everything(uow)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_midway()
        self._assert_nothing_stored(uow_factory)

    def test_rollback_discards_changes_since_the_last_commit(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            uow.loans.add(make_loan(id="L-1"))
            uow.commit()
            uow.loans.add(make_loan(id="L-2"))
            uow.cases.save(make_case(loan_id="L-2"))
            uow.rollback()
            assert uow.loans.get("L-2") is None
            uow.loans.add(make_loan(id="L-3"))
            uow.commit()
        with uow_factory() as uow:
            assert uow.loans.list_ids() == ["L-1", "L-3"]
            assert uow.cases.get("L-2") is None

    def test_a_failed_write_inside_does_not_leave_half_a_unit(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with uow_factory() as uow:
            uow.loans.add(make_loan())
            uow.commit()

        def fail_midway() -> None:
            with uow_factory() as uow:
                uow.cases.save(make_case())
                uow.outbox.add(make_action(), created_on=DAY)
                uow.loans.add_payment(make_payment(loan_id="L-404"))  # fails
                uow.commit()

        with pytest.raises(ValidationError):
            fail_midway()
        with uow_factory() as uow:
            assert uow.cases.get("L-1") is None
            assert uow.outbox.pending(limit=10) == []

    @staticmethod
    def _write_everything(uow: UnitOfWork) -> None:
        uow.loans.add(make_loan())
        uow.loans.add_payment(make_payment())
        uow.cases.save(make_case())
        uow.outbox.add(make_action(), created_on=DAY)
        uow.events.append([make_event(EventKind.CASE_OPENED)])

    @staticmethod
    def _assert_nothing_stored(uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            assert uow.loans.get("L-1") is None
            assert uow.loans.payments_for("L-1") == ()
            assert uow.cases.get("L-1") is None
            assert uow.outbox.get(make_action().idempotency_key) is None
            assert uow.events.stream("L-1") == ()


class ChannelContract:
    """The channel conformance suite.

    Provide a ``channel`` fixture, implement :meth:`fail_next` (make the next
    delivery fail in a given way, e.g. by programming a fake gateway), and
    optionally :meth:`deliveries` (how many deliveries reached the provider) so
    the suite can prove a repeated key is not delivered twice. List the failure
    modes your channel cannot simulate in ``unsupported_failures``.
    """

    unsupported_failures: frozenset[FailureMode] = frozenset()

    @pytest.fixture
    def channel(self) -> Channel:
        """Override: the channel under test, fresh for each test."""
        raise NotImplementedError("subclass ChannelContract and provide a channel fixture")

    def fail_next(self, channel: Channel, mode: FailureMode) -> None:
        """Override: make the next delivery of ``channel`` fail in ``mode``."""
        raise NotImplementedError("subclass ChannelContract and implement fail_next")

    def deliveries(self, channel: Channel) -> int | None:
        """Override: deliveries that reached the provider so far (``None``: unknown)."""
        return None

    @pytest.fixture
    def message(self) -> RenderedMessage:
        """The message sent in the tests (override to suit the channel)."""
        return make_message()

    @pytest.fixture
    def contact(self) -> ContactPoint | None:
        """The contact point of the actions sent in the tests (override to suit the
        channel: an e-mail address for e-mail, a postal address for letters)."""
        return make_action().contact

    def _arrange_failure(self, channel: Channel, mode: FailureMode) -> None:
        if mode in self.unsupported_failures:
            pytest.skip(f"channel cannot simulate {mode.value} failures")
        self.fail_next(channel, mode)

    def test_is_a_channel_with_name_and_capabilities(self, channel: Channel) -> None:
        assert isinstance(channel, Channel)
        assert isinstance(channel.name, str)
        assert channel.name
        assert isinstance(channel.capabilities, frozenset)
        assert all(isinstance(c, str) for c in channel.capabilities)

    def test_send_returns_a_classified_result(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        action = make_action(channel=channel.name, contact=contact)
        result = channel.send(action, message, action.idempotency_key)
        assert isinstance(result, DeliveryResult)
        assert result.status is DeliveryStatus.SENT

    def test_a_repeated_key_is_not_delivered_twice(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        action = make_action(channel=channel.name, contact=contact)
        first = channel.send(action, message, action.idempotency_key)
        before = self.deliveries(channel)
        second = channel.send(action, message, action.idempotency_key)
        assert second == first
        if before is not None:
            assert self.deliveries(channel) == before

    def test_distinct_keys_are_both_delivered(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        a = make_action(channel=channel.name, contact=contact, rule_id="a")
        b = make_action(channel=channel.name, contact=contact, rule_id="b")
        assert channel.send(a, message, a.idempotency_key).ok
        assert channel.send(b, message, b.idempotency_key).ok
        if self.deliveries(channel) is not None:
            assert self.deliveries(channel) == 2

    @pytest.mark.parametrize(
        ("mode", "status"),
        [
            (FailureMode.RETRYABLE, DeliveryStatus.FAILED_RETRYABLE),
            (FailureMode.PERMANENT, DeliveryStatus.FAILED_PERMANENT),
            (FailureMode.REJECTED, DeliveryStatus.REJECTED),
        ],
    )
    def test_failures_are_classified(
        self,
        channel: Channel,
        contact: ContactPoint | None,
        message: RenderedMessage,
        mode: FailureMode,
        status: DeliveryStatus,
    ) -> None:
        self._arrange_failure(channel, mode)
        action = make_action(channel=channel.name, contact=contact)
        result = channel.send(action, message, action.idempotency_key)
        assert result.status is status
        assert result.detail, "a failure must say what went wrong"

    def test_a_retryable_failure_may_be_retried_with_the_same_key(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        self._arrange_failure(channel, FailureMode.RETRYABLE)
        action = make_action(channel=channel.name, contact=contact)
        assert channel.send(action, message, action.idempotency_key).retryable
        assert channel.send(action, message, action.idempotency_key).ok

    def test_a_permanent_failure_is_final_for_its_key(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        self._arrange_failure(channel, FailureMode.PERMANENT)
        action = make_action(channel=channel.name, contact=contact)
        first = channel.send(action, message, action.idempotency_key)
        assert channel.send(action, message, action.idempotency_key) == first

    def test_poll_reports_the_status_when_supported(
        self, channel: Channel, message: RenderedMessage, contact: ContactPoint | None
    ) -> None:
        if CAP_POLL not in channel.capabilities:
            pytest.skip("channel does not poll")
        assert isinstance(channel, PollingChannel)
        action = make_action(channel=channel.name, contact=contact)
        assert channel.poll(action.idempotency_key) is None
        channel.send(action, message, action.idempotency_key)
        polled = channel.poll(action.idempotency_key)
        assert polled is not None
        assert polled.status is DeliveryStatus.SENT
