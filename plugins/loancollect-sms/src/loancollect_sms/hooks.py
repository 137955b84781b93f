"""Hook implementations of loancollect-sms (registration only)."""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.loans import ContactKind
from loancollect.registry import ChannelSpec
from loancollect_sms.channel import CAPABILITIES, from_settings


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The ``sms`` channel (an HTTP SMS gateway)."""
    return [
        ChannelSpec(
            name="sms",
            factory=from_settings,
            medium=Medium.SMS,
            contact_kind=ContactKind.PHONE,
            capabilities=CAPABILITIES,
            description="SMS through an HTTP gateway (JSON or form, rate limited)",
        )
    ]
