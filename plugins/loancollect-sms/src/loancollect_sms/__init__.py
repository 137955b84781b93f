"""loancollect-sms: the ``sms`` channel (an HTTP gateway), receipts and opt-out replies."""

from loancollect_sms.channel import (
    CAPABILITIES,
    SETTINGS,
    GatewayMapping,
    SmsChannel,
    from_settings,
)
from loancollect_sms.inbound import (
    OPT_OUT_WORDS,
    DeliveryReceipt,
    InboundReply,
    feed_opt_out,
    feed_receipt,
    is_opt_out,
    parse_receipt,
    parse_reply,
)
from loancollect_sms.ratelimit import RateLimiter
from loancollect_sms.segments import Segments, count_segments

__version__ = "0.1.0"

__all__ = [
    "CAPABILITIES",
    "OPT_OUT_WORDS",
    "SETTINGS",
    "DeliveryReceipt",
    "GatewayMapping",
    "InboundReply",
    "RateLimiter",
    "Segments",
    "SmsChannel",
    "count_segments",
    "feed_opt_out",
    "feed_receipt",
    "from_settings",
    "is_opt_out",
    "parse_receipt",
    "parse_reply",
]
