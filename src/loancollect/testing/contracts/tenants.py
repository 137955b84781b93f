"""The conformance suite of tenant isolation: one tenant can neither read nor change
another's records, though both live in one storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from loancollect.domain.errors import ValidationError
from loancollect.domain.events import GENESIS, EventKind
from loancollect.domain.money import Money
from loancollect.ports import (
    BatchMarkingOutbox,
    ClaimingCases,
    ClaimingOutbox,
    DeliveryResult,
    OutboxStatus,
    UnitOfWorkFactory,
)
from loancollect.testing.builders import (
    make_action,
    make_case,
    make_event,
    make_loan,
    make_payment,
)
from loancollect.testing.contracts._base import DAY, T0

__all__ = ["OpenTenant", "TenantIsolationContract"]

OpenTenant = Callable[[str], UnitOfWorkFactory]
"""Opens one storage for a tenant: ``open_tenant("alpha")`` → that tenant's factory."""

ALPHA = "alpha"
BETA = "beta"


class TenantIsolationContract:
    """Two tenants of one storage are kept apart.

    Provide an ``open_tenant`` fixture: a function that opens *one* fresh, empty
    storage (the same for every call in a test) for the tenant it is given and
    returns that tenant's unit-of-work factory. The suite opens ``"alpha"`` and
    ``"beta"``, writes the same loan ids and idempotency keys in both, and checks
    that every read sees and every write changes its own tenant only. The claiming
    tests run when the backend offers the capability and are skipped otherwise.
    """

    @pytest.fixture
    def open_tenant(self) -> OpenTenant:
        """Override: open the same fresh, empty storage for a given tenant."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclass TenantIsolationContract and provide an "
            "open_tenant fixture"
        )

    @pytest.fixture
    def alpha(self, open_tenant: OpenTenant) -> UnitOfWorkFactory:
        """Tenant ``alpha`` of the storage."""
        return open_tenant(ALPHA)

    @pytest.fixture
    def beta(self, open_tenant: OpenTenant) -> UnitOfWorkFactory:
        """Tenant ``beta`` of the same storage."""
        return open_tenant(BETA)

    def test_a_bad_tenant_id_is_refused(self, open_tenant: OpenTenant) -> None:
        for bad in ("", " alpha", "a/b", "x" * 65):
            with pytest.raises(ValidationError, match="tenant"):
                open_tenant(bad)

    # -- loans and payments ---------------------------------------------------------

    def test_the_same_loan_id_lives_in_two_tenants_independently(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        a_loan, b_loan = make_loan(grace_days=1), make_loan(grace_days=5)
        a_pay, b_pay = make_payment(), make_payment(amount=Money("7.00", "CNY"))
        with alpha() as uow:
            uow.loans.add(a_loan)
            uow.loans.add_payment(a_pay)
            uow.commit()
        with beta() as uow:
            assert uow.loans.get("L-1") is None
            assert uow.loans.list_ids() == []
            assert uow.loans.payments_for("L-1") == ()
            uow.loans.add(b_loan)
            uow.loans.add_payment(b_pay)  # same payment id, other content: not a clash
            uow.commit()
        with alpha() as uow:
            assert uow.loans.get("L-1") == a_loan
            assert uow.loans.list_ids() == ["L-1"]
            assert uow.loans.payments_for("L-1") == (a_pay,)
        with beta() as uow:
            assert uow.loans.get("L-1") == b_loan
            assert uow.loans.payments_for("L-1") == (b_pay,)

    def test_a_payment_for_a_loan_of_the_other_tenant_is_refused(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        with alpha() as uow:
            uow.loans.add(make_loan())
            uow.commit()
        with beta() as uow, pytest.raises(ValidationError, match=r"payment\.loan_id"):
            uow.loans.add_payment(make_payment())
        with alpha() as uow:
            assert uow.loans.payments_for("L-1") == ()

    # -- cases ----------------------------------------------------------------------

    def test_cases_are_seen_by_their_tenant_only(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        with alpha() as uow:
            uow.cases.save(make_case(loan_id="L-1", stage="early"))
            uow.cases.save(make_case(loan_id="L-2"))
            uow.commit()
        with beta() as uow:
            assert uow.cases.get("L-1") is None
            assert uow.cases.due_for_review(DAY, limit=10) == []
            uow.cases.save(make_case(loan_id="L-1", stage="late"))
            uow.commit()
        with alpha() as uow:
            a_case = uow.cases.get("L-1")
            assert a_case is not None
            assert a_case.stage == "early"
            assert [c.loan_id for c in uow.cases.due_for_review(DAY, limit=10)] == ["L-1", "L-2"]
        with beta() as uow:
            due = uow.cases.due_for_review(DAY, limit=10)
            assert [(c.loan_id, c.stage) for c in due] == [("L-1", "late")]
            assert uow.cases.get("L-2") is None

    def test_saving_a_case_known_only_to_the_other_tenant_leaves_it_alone(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        original = make_case(loan_id="L-7", stage="early")
        with alpha() as uow:
            uow.cases.save(original)
            uow.commit()
        with beta() as uow:
            # ``save`` inserts or replaces: here it inserts beta's own case
            uow.cases.save(make_case(loan_id="L-7", stage="legal", closed_on=DAY))
            uow.commit()
        with alpha() as uow:
            assert uow.cases.get("L-7") == original

    # -- outbox ---------------------------------------------------------------------

    def test_the_same_key_is_an_entry_in_each_tenant(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        action = make_action()
        key = action.idempotency_key
        with alpha() as uow:
            assert uow.outbox.add(action, created_on=DAY) is True
            uow.outbox.mark_sent(key, DeliveryResult.sent("a-1"), at=T0)
            uow.commit()
        with beta() as uow:
            assert uow.outbox.get(key) is None
            assert uow.outbox.pending(limit=10) == []
            assert uow.outbox.add(action, created_on=DAY) is True
            uow.commit()
        with alpha() as uow:
            a_entry = uow.outbox.get(key)
            assert a_entry is not None
            assert a_entry.status is OutboxStatus.SENT
            assert uow.outbox.pending(limit=10) == []
        with beta() as uow:
            b_entry = uow.outbox.get(key)
            assert b_entry is not None
            assert b_entry.status is OutboxStatus.PENDING
            assert [e.key for e in uow.outbox.pending(limit=10)] == [key]

    def test_marking_a_key_of_the_other_tenant_fails_and_changes_nothing(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        key = make_action().idempotency_key
        with alpha() as uow:
            uow.outbox.add(make_action(), created_on=DAY)
            uow.commit()
        with alpha() as uow:
            before = uow.outbox.get(key)
        with beta() as uow:
            with pytest.raises(ValidationError, match="no such outbox entry"):
                uow.outbox.mark_sent(key, DeliveryResult.sent("b-1"), at=T0)
            with pytest.raises(ValidationError, match="no such outbox entry"):
                uow.outbox.mark_failed(key, "x", retry_at=None, attempts=1)
            with pytest.raises(ValidationError, match="no such outbox entry"):
                uow.outbox.cancel(key, "paid")
            if isinstance(uow.outbox, BatchMarkingOutbox):
                with pytest.raises(ValidationError, match="no such outbox entry"):
                    uow.outbox.mark_sent_many([(key, DeliveryResult.sent("b-1"))], at=T0)
            uow.commit()
        with alpha() as uow:
            assert uow.outbox.get(key) == before
            assert [e.key for e in uow.outbox.pending(limit=10)] == [key]

    # -- events ---------------------------------------------------------------------

    def test_event_streams_are_per_tenant(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        with alpha() as uow:
            a_events = uow.events.append(
                [make_event(EventKind.CASE_OPENED), make_event(EventKind.STAGE_CHANGED)]
            )
            uow.commit()
        with beta() as uow:
            assert uow.events.stream("L-1") == ()
            assert uow.events.last("L-1") is None
            assert uow.events.recent("L-1", dt.date(2025, 1, 1)) == ()
            (b_event,) = uow.events.append([make_event(EventKind.ACTION_SENT)])
            uow.commit()
        # beta's stream of L-1 starts its own chain
        assert (b_event.seq, b_event.prev_hash) == (0, GENESIS)
        with alpha() as uow:
            assert uow.events.stream("L-1") == a_events
            assert uow.events.last("L-1") == a_events[-1]
            assert uow.events.recent("L-1", DAY) == a_events
            assert uow.events.verify("L-1") is None
        with beta() as uow:
            assert uow.events.stream("L-1") == (b_event,)
            assert uow.events.recent("L-1", DAY) == (b_event,)
            assert uow.events.verify("L-1") is None

    # -- claiming (when offered) -------------------------------------------------------

    def test_claimed_cases_are_the_tenants_own(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        with alpha() as uow:
            if not isinstance(uow.cases, ClaimingCases):
                pytest.skip("the case repository does not claim (ClaimingCases)")
            for loan_id in ("L-1", "L-2", "L-3"):
                uow.cases.save(make_case(loan_id=loan_id, stage="early"))
            uow.commit()
        with beta() as uow:
            uow.cases.save(make_case(loan_id="L-1", stage="late"))
            uow.commit()
        with alpha() as a_uow, beta() as b_uow:
            assert isinstance(a_uow.cases, ClaimingCases)
            assert isinstance(b_uow.cases, ClaimingCases)
            claimed = a_uow.cases.claim_due(DAY, limit=10)
            assert [(c.loan_id, c.stage) for c in claimed] == [
                ("L-1", "early"),
                ("L-2", "early"),
                ("L-3", "early"),
            ]
            # alpha's claim on its L-1 does not hold beta's L-1
            others = b_uow.cases.claim_due(DAY, limit=10)
            assert [(c.loan_id, c.stage) for c in others] == [("L-1", "late")]

    def test_claimed_outbox_entries_are_the_tenants_own(
        self, alpha: UnitOfWorkFactory, beta: UnitOfWorkFactory
    ) -> None:
        action = make_action()
        with alpha() as uow:
            if not isinstance(uow.outbox, ClaimingOutbox):
                pytest.skip("the outbox does not claim (ClaimingOutbox)")
            uow.outbox.add(action, created_on=DAY)
            uow.outbox.add(make_action(rule_id="alpha-only"), created_on=DAY)
            uow.commit()
        with beta() as uow:
            uow.outbox.add(action, created_on=DAY)
            uow.commit()
        with alpha() as uow:
            assert isinstance(uow.outbox, ClaimingOutbox)
            claimed = uow.outbox.claim_pending(limit=10, now=T0)
            assert len(claimed) == 2
        # alpha's lease on the key does not lease beta's entry with the same key
        with beta() as uow:
            assert isinstance(uow.outbox, ClaimingOutbox)
            (entry,) = uow.outbox.claim_pending(limit=10, now=T0)
            assert entry.key == action.idempotency_key
        with alpha() as uow:
            assert isinstance(uow.outbox, ClaimingOutbox)
            assert uow.outbox.claim_pending(limit=10, now=T0) == []
