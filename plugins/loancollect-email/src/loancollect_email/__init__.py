"""loancollect-email: the ``email`` channel (SMTP or a file outbox)."""

from loancollect_email.channel import CAPABILITIES, SETTINGS, EmailChannel, from_settings
from loancollect_email.message import build_email, message_id
from loancollect_email.outbox import FileOutbox
from loancollect_email.smtp import SmtpConfig, SmtpTransport, classify_reply

__version__ = "0.1.0"

__all__ = [
    "CAPABILITIES",
    "SETTINGS",
    "EmailChannel",
    "FileOutbox",
    "SmtpConfig",
    "SmtpTransport",
    "build_email",
    "classify_reply",
    "from_settings",
    "message_id",
]
