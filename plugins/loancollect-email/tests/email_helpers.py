"""Builders shared by the e-mail tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import RenderedMessage
from loancollect.testing import make_action, make_message

ADDRESS = "zhang.wei@example.com"
SENDER = "Sample Bank <collections@bank.example>"
NOW = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)


def email_contact(address: str = ADDRESS) -> ContactPoint:
    return ContactPoint(ContactKind.EMAIL, address, label="home")


def email_action(**overrides: Any) -> PlannedAction:
    fields: dict[str, Any] = {"channel": "email", "contact": email_contact()}
    fields.update(overrides)
    return make_action(**fields)


def email_message(**overrides: Any) -> RenderedMessage:
    fields: dict[str, Any] = {
        "channel": "email",
        "locale": "zh_CN",
        "subject": "贷款L-1逾期提醒",
        "text": "张伟您好，应还金额¥1,234.56，应还款日2025年3月15日。",
        "html": "<p>张伟您好，应还金额<b>¥1,234.56</b>，应还款日2025年3月15日。</p>",
    }
    fields.update(overrides)
    return make_message(**fields)
