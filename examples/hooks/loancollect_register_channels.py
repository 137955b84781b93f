from loancollect import hookimpl
from loancollect.builtin.recording import RecordingChannel
from loancollect.domain.compliance import Channel
from loancollect.domain.loans import ContactKind
from loancollect.registry import ChannelSpec


@hookimpl
def loancollect_register_channels():
    yield ChannelSpec(
        name="acme-sms",
        factory=lambda settings: RecordingChannel(name="acme-sms"),
        medium=Channel.SMS,  # what the rule packs judge it as; never guessed
        contact_kind=ContactKind.PHONE,
        capabilities={"idempotent"},
        description="Acme SMS gateway",
    )
