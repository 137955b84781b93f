"""Builders and PDF reading shared by the letter tests."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from loancollect.domain.loans import ContactKind, ContactPoint
from loancollect.domain.overdue import Assessment, assess
from loancollect.domain.strategy import PlannedAction
from loancollect.ports import RenderedMessage, Statement
from loancollect.templates import statement_of_account
from loancollect.testing import make_action, make_lender, make_loan, make_message

ADDRESS = "上海市浦东新区示例路1号 200120"
AS_OF = dt.date(2025, 4, 20)  # installments of 15 Feb, 15 Mar and 15 Apr unpaid


def address_contact(value: str = ADDRESS) -> ContactPoint:
    return ContactPoint(ContactKind.ADDRESS, value, label="home")


def letter_action(**overrides: Any) -> PlannedAction:
    fields: dict[str, Any] = {
        "channel": "letter",
        "template": "reminder",
        "contact": address_contact(),
        "as_of": AS_OF,
    }
    fields.update(overrides)
    return make_action(**fields)


def assessment(as_of: dt.date = AS_OF) -> Assessment:
    return assess(make_loan(), (), as_of)


def statement(as_of: dt.date = AS_OF, locale: str = "zh_CN") -> Statement:
    lender = make_lender(
        name="示例银行" if locale.startswith("zh") else "Sample Bank",
        address="上海市示例路1号" if locale.startswith("zh") else "1 Sample Road, Shanghai",
        how_to_pay="在示例银行App中还款" if locale.startswith("zh") else "Pay in the app.",
    )
    return statement_of_account(make_loan(), assessment(as_of), lender)


def letter_message(locale: str = "zh_CN", **overrides: Any) -> RenderedMessage:
    zh = locale.startswith("zh")
    fields: dict[str, Any] = {
        "channel": "letter",
        "template": "reminder",
        "locale": locale,
        "subject": "还款提醒函（贷款编号L-1）" if zh else "Payment reminder: loan L-1",
        "text": (
            "尊敬的张伟：\n\n根据我们的记录，您应于2025年2月15日偿还的款项尚未收到。"
            if zh
            else "Dear Zhang Wei,\n\nOur records show that the payment due on "
            "February 15, 2025 has not been received."
        ),
        "statement": statement(locale=locale),
    }
    fields.update(overrides)
    return make_message(**fields)


def pdf_text(path: Path) -> str:
    """All text of a PDF, whitespace collapsed."""
    reader = PdfReader(path)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def pdf_pages(path: Path) -> int:
    return len(PdfReader(path).pages)
