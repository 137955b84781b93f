"""The public test kit for plug-in authors and host applications.

- fakes: :class:`FixedClock`, :class:`RecordingChannel` (with :class:`FailureMode`),
  :class:`MemoryStore` (the complete in-memory storage);
- :class:`HookRecorder`: which hooks fired, with what, in what order;
- conformance suites to subclass: :class:`StorageContract`, :class:`ChannelContract`;
- builders: ``make_borrower``, ``make_loan``, ``make_payment``, ``make_case``,
  ``make_rich_case``, ``make_action``, ``make_message``, ``make_event``, ``make_lender``.

The conformance suites need pytest.
"""

from loancollect.builtin.memory import MemoryStore
from loancollect.builtin.recording import Delivery, FailureMode, RecordingChannel
from loancollect.testing.builders import (
    make_action,
    make_borrower,
    make_case,
    make_event,
    make_lender,
    make_loan,
    make_message,
    make_payment,
    make_rich_case,
)
from loancollect.testing.clock import FixedClock
from loancollect.testing.contracts import ChannelContract, StorageContract
from loancollect.testing.hooks import HookCall, HookRecorder

__all__ = [
    "ChannelContract",
    "Delivery",
    "FailureMode",
    "FixedClock",
    "HookCall",
    "HookRecorder",
    "MemoryStore",
    "RecordingChannel",
    "StorageContract",
    "make_action",
    "make_borrower",
    "make_case",
    "make_event",
    "make_lender",
    "make_loan",
    "make_message",
    "make_payment",
    "make_rich_case",
]
