"""Builders shared by the SMS tests."""

from __future__ import annotations

from typing import Any

from loancollect.domain.strategy import PlannedAction
from loancollect.ports import RenderedMessage
from loancollect.testing import make_action, make_message

NUMBER = "+86 138 0013 8000"
NORMALISED = "+8613800138000"
ZH_TEXT = "【示例银行】张伟您好，您的贷款（编号L-1）已逾期12天，应还金额¥1,234.56。"


def sms_action(**overrides: Any) -> PlannedAction:
    return make_action(**overrides)


def sms_message(**overrides: Any) -> RenderedMessage:
    fields: dict[str, Any] = {"locale": "zh_CN", "text": ZH_TEXT}
    fields.update(overrides)
    return make_message(**fields)


class FakeTime:
    """A monotonic clock the tests move by hand; ``sleep`` moves it too."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
