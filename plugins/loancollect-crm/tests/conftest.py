"""Fixtures: the engine's portfolio, the stand-in CRMs, a sync state file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from loancollect_crm.standins.odoo import OdooStandIn
from loancollect_crm.standins.salesforce import SalesforceStandIn
from loancollect_crm.state import SyncState


@pytest.fixture
def state(tmp_path: Path) -> SyncState:
    return SyncState(tmp_path / "crm-state.sqlite")


@pytest.fixture
def salesforce() -> Iterator[SalesforceStandIn]:
    with SalesforceStandIn(retry_after="2") as crm:
        yield crm


@pytest.fixture
def odoo() -> Iterator[OdooStandIn]:
    with OdooStandIn() as crm:
        yield crm
