"""loancollect-phone: collectors' call queues, call scripts, typed dispositions,
recording consent, call QA, and dialers (Twilio-compatible REST, Asterisk ARI)."""

from loancollect_phone.ari import AriDialer, AriEvents
from loancollect_phone.channel import PhoneChannel, from_settings
from loancollect_phone.consent import RecordingPolicy, recording_policy
from loancollect_phone.content import Finding, Review, review_text
from loancollect_phone.desk import PhoneDesk
from loancollect_phone.dialer import CallEvent, CallStatus, Dialer, DialRequest
from loancollect_phone.dispositions import CallRecord, Disposition, RecordingRef
from loancollect_phone.gate import Gate, Permit, RulesGate
from loancollect_phone.queue import CallQueue, CallTask, Collector, Lease
from loancollect_phone.scripts import CallScript, Step, StepKind, build_script
from loancollect_phone.twilio import TwilioCallbacks, TwilioDialer, voice_twiml

__version__ = "0.1.0"

__all__ = [
    "AriDialer",
    "AriEvents",
    "CallEvent",
    "CallQueue",
    "CallRecord",
    "CallScript",
    "CallStatus",
    "CallTask",
    "Collector",
    "DialRequest",
    "Dialer",
    "Disposition",
    "Finding",
    "Gate",
    "Lease",
    "Permit",
    "PhoneChannel",
    "PhoneDesk",
    "RecordingPolicy",
    "RecordingRef",
    "Review",
    "RulesGate",
    "Step",
    "StepKind",
    "TwilioCallbacks",
    "TwilioDialer",
    "build_script",
    "from_settings",
    "recording_policy",
    "review_text",
    "voice_twiml",
]
