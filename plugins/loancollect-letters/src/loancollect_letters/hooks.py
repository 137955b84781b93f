"""Hook implementations of loancollect-letters (registration only)."""

from __future__ import annotations

from loancollect import hookimpl
from loancollect.domain.compliance import Channel as Medium
from loancollect.domain.loans import ContactKind
from loancollect.registry import ChannelSpec
from loancollect_letters.channel import CAPABILITIES, from_settings


@hookimpl
def loancollect_register_channels() -> list[ChannelSpec]:
    """The ``letter`` channel (PDF letters with the statement of account)."""
    return [
        ChannelSpec(
            name="letter",
            factory=from_settings,
            medium=Medium.LETTER,
            contact_kind=ContactKind.ADDRESS,
            capabilities=CAPABILITIES,
            description="PDF letters (reminder, final notice, pre-litigation demand), zh/en",
        )
    ]
