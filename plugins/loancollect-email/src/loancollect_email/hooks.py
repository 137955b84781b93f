"""Hook implementations of loancollect-email (registration only)."""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.loans import ContactKind
from loancollect.registry import ChannelSpec
from loancollect_email.channel import CAPABILITIES, from_settings


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The ``email`` channel (SMTP, or a file outbox of .eml files)."""
    return [
        ChannelSpec(
            name="email",
            factory=from_settings,
            medium=Medium.EMAIL,
            contact_kind=ContactKind.EMAIL,
            capabilities=CAPABILITIES,
            description="e-mail through an SMTP server, or .eml files in a directory",
        )
    ]
