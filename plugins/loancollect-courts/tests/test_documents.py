"""The filing documents, checked by extracting their text from the PDF."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from loancollect_courts.documents import (
    MatterFacts,
    Party,
    demand_letter,
    element_complaint,
    letter_of_claim,
    matter_facts,
    payment_order_application,
)
from pypdf import PdfReader

from loancollect.testing.builders import make_borrower, make_loan

ON = dt.date(2026, 3, 2)


def text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def facts() -> MatterFacts:
    creditor = Party(
        name="示例银行股份有限公司", address="上海市黄浦区示例路8号", representative="李明"
    )
    return matter_facts(
        make_loan(), (), ON, creditor=creditor, court="上海市浦东新区人民法院", lawyer="王律师"
    )


def test_facts_come_from_the_assessment(facts: MatterFacts) -> None:
    assert facts.total.currency == "CNY"
    assert facts.total.is_positive()
    assert facts.overdue_since == dt.date(2025, 2, 15)
    assert facts.debtor.name not in repr(facts.debtor)


def test_demand_letter_in_chinese_names_the_debt_and_the_interruption(facts: MatterFacts) -> None:
    body = text(demand_letter(facts))
    assert "律师函" in body
    assert facts.debtor.name in body
    assert f"{facts.total.amount:,.2f}" in body
    assert "7日内" in body
    assert "第一百九十五条" in body


def test_demand_letter_in_english(facts: MatterFacts) -> None:
    body = text(demand_letter(facts, locale="en_GB", days=14))
    assert "LetterBeforeAction" in body
    assert "within14days" in body
    assert f"{facts.total.amount:,.2f}" in body


def test_payment_order_application_has_the_request_and_art_225(facts: MatterFacts) -> None:
    body = text(payment_order_application(facts))
    assert "支付令申请书" in body
    assert "督促被申请人" in body
    assert "第二百二十五条" in body
    assert facts.debtor.id_number in body
    assert "上海市浦东新区人民法院" in body


def test_element_complaint_has_every_element(facts: MatterFacts) -> None:
    body = text(element_complaint(facts))
    for element in (
        "金融借款合同纠纷",
        "诉讼请求和依据",
        "1.本金",
        "2.利息",
        "3.罚息、复利",
        "事实与理由",
        "1.合同签订情况",
        "5.借款利率",
        "8.是否存在逾期还款",
        "12.是否签订保证合同",
        "具状人",
    ):
        assert element in body, element
    assert f"{facts.outstanding_principal.amount:,.2f}" in body


def test_letter_of_claim_has_its_three_annexes(facts: MatterFacts) -> None:
    english = matter_facts(
        make_loan(
            borrower=make_borrower(
                name="Oliver Hughes", jurisdiction="GB", locale="en_GB", time_zone="Europe/London"
            )
        ),
        (),
        ON,
        creditor=Party(name="Example Bank plc", address="1 Example Street, London"),
        court="County Court Business Centre",
    )
    pdf = letter_of_claim(english)
    body = text(pdf)
    assert "LetterofClaim" in body
    assert "within30days" in body
    for annex in ("Annex1:InformationSheet", "Annex2:ReplyForm", "Annex3:FinancialStatement"):
        assert annex in body
    assert "OliverHughes" in body
    assert pages(pdf) == 4


def test_documents_are_deterministic(facts: MatterFacts) -> None:
    assert payment_order_application(facts) == payment_order_application(facts)
