"""Hook implementations of loancollect-phone (registration only)."""

from __future__ import annotations

from collections.abc import Iterator

from loancollect import hookimpl
from loancollect.demo_parts import DemoPart
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.loans import ContactKind
from loancollect.ports import UnitOfWorkFactory
from loancollect.registry import ChannelSpec
from loancollect.reporting import ReportData, Table
from loancollect_phone.channel import CAPABILITIES, from_settings
from loancollect_phone.demo import PhoneDemo
from loancollect_phone.report import rates_by_hour


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The ``phone`` channel (a Twilio-compatible or ARI dialer)."""
    return [
        ChannelSpec(
            name="phone",
            factory=from_settings,
            medium=Medium.CALL,
            contact_kind=ContactKind.PHONE,
            capabilities=CAPABILITIES,
            description="collection calls through a dialer (Twilio-compatible REST or "
            "Asterisk ARI), or a collectors' call queue",
        )
    ]


@hookimpl
def loancollect_register_demo_parts() -> list[DemoPart]:
    """Simulated collectors working the call queue."""
    return [PhoneDemo()]


@hookimpl
def loancollect_report_tables(data: ReportData, storage: UnitOfWorkFactory) -> Iterator[Table]:
    """Contact, right-party-contact and promise rates by hour."""
    yield rates_by_hour(data.events, storage)
