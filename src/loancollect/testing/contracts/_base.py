"""What the storage contracts share: the fixtures a subclass provides, and fixed instants."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from loancollect.ports import UnitOfWorkFactory
from loancollect.testing.builders import make_loan

__all__ = ["DAY", "T0", "StorageFixtures"]

T0 = pendulum.datetime(2025, 3, 1, 9, tz="Asia/Shanghai")
"""The instant the outbox tests send at."""
DAY = dt.date(2025, 3, 1)
"""The business day of the tests (the builders' actions are planned for it)."""


class StorageFixtures:
    """The ``uow_factory`` fixture every storage contract asks for, and ``seeded``."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        """Override: a factory of units of work over a fresh, empty storage."""
        raise NotImplementedError(
            f"{type(self).__name__}: subclass a storage contract and provide a uow_factory fixture"
        )

    @pytest.fixture
    def seeded(self, uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
        """The storage with loans L-1, L-2, L-3 committed."""
        with uow_factory() as uow:
            for loan_id in ("L-2", "L-1", "L-3"):
                uow.loans.add(make_loan(id=loan_id))
            uow.commit()
        return uow_factory
