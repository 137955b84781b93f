"""Filing documents as PDF, in Chinese and English (reportlab).

- :func:`demand_letter`: the lawyer's demand letter (律师函) / letter before action;
- :func:`payment_order_application`: the application for a payment order (支付令申请书,
  PRC Civil Procedure Law (2023) art. 225);
- :func:`element_complaint`: a complaint laid out after the Supreme People's Court's
  element-style template for financial loan contract disputes
  (金融借款合同纠纷要素式起诉状): each element a row of a table;
- :func:`letter_of_claim`: the Pre-Action Protocol for Debt Claims letter of claim,
  with Annex 1 (information sheet), Annex 2 (reply form) and Annex 3 (financial
  statement) as the protocol requires.

Chinese text is set in reportlab's STSong-Light CID font (named in the PDF; readers
supply it). The output is deterministic: reportlab's invariant mode, no dates but the
document's own.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

import attrs
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from loancollect.domain.loans import Loan, Payment
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.domain.privacy import mask_name

__all__ = [
    "MatterFacts",
    "Party",
    "demand_letter",
    "element_complaint",
    "letter_of_claim",
    "matter_facts",
    "payment_order_application",
]

CJK = "STSong-Light"


@attrs.frozen(kw_only=True)
class Party:
    """A party as a filing names it (full data: a filing identifies the parties)."""

    name: str
    address: str = ""
    id_number: str = ""
    representative: str = ""

    def __repr__(self) -> str:
        return f"Party(name={mask_name(self.name)!r})"


@attrs.frozen(kw_only=True)
class MatterFacts:
    """What the documents say about the loan and the claim, on ``on``."""

    on: dt.date
    creditor: Party
    debtor: Party
    court: str
    contract: str
    contract_date: dt.date
    principal: Money
    annual_rate: str
    term: int
    method: str
    first_due: dt.date
    last_due: dt.date
    outstanding_principal: Money
    interest: Money
    penalty: Money
    fees: Money
    total: Money
    overdue_since: dt.date | None
    payments: tuple[tuple[dt.date, Money], ...]
    lawyer: str = ""

    def __repr__(self) -> str:
        return f"MatterFacts(contract={self.contract!r}, on={self.on})"


def matter_facts(
    loan: Loan,
    payments: Sequence[Payment],
    on: dt.date,
    *,
    creditor: Party,
    court: str,
    lawyer: str = "",
) -> MatterFacts:
    """The facts of ``loan`` on ``on`` from the core's assessment."""
    a = assess(loan, payments, on)
    borrower = loan.borrower
    address = next((p.value for p in borrower.contact_points if p.kind.value == "address"), "")
    return MatterFacts(
        on=on,
        creditor=creditor,
        debtor=Party(name=borrower.name, address=address, id_number=borrower.national_id or ""),
        court=court,
        contract=loan.id,
        contract_date=loan.contract_date or loan.disbursement_date,
        principal=loan.principal,
        annual_rate=f"{loan.annual_rate * 100:.2f}%",
        term=len(loan.installments),
        method=loan.method.value,
        first_due=loan.installments[0].due_date,
        last_due=loan.installments[-1].due_date,
        outstanding_principal=a.outstanding_principal,
        interest=a.overdue_interest,
        penalty=a.penalty + a.compound_interest,
        fees=a.overdue_fees,
        total=a.payoff_amount,
        overdue_since=a.oldest_unpaid_due_date,
        payments=tuple((p.value_date, p.amount) for p in payments if p.value_date <= on),
        lawyer=lawyer,
    )


# -- layout ----------------------------------------------------------------------------


def _font(zh: bool) -> str:
    if zh:
        if CJK not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK))
        return CJK
    return "Helvetica"


def _styles(zh: bool) -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    font = _font(zh)
    body = ParagraphStyle(
        "body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK" if zh else None
    )
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=24, alignment=1, spaceAfter=8)
    head = ParagraphStyle("head", parent=body, fontSize=12, leading=18, spaceBefore=6)
    return title, head, body


def _pdf(story: list[Flowable], title: str) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author="loancollect",
        invariant=1,
    )
    doc.build(story)
    return out.getvalue()


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _table(rows: Sequence[tuple[str, str]], style: ParagraphStyle) -> Table:
    data = [[_p(k, style), _p(v, style)] for k, v in rows]
    table = Table(data, colWidths=[45 * mm, 121 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _m(amount: Money) -> str:
    return f"{amount.currency} {amount.amount:,.2f}"


def _d(day: dt.date | None, zh: bool) -> str:
    if day is None:
        return "—"
    return f"{day.year}年{day.month}月{day.day}日" if zh else day.strftime("%d %B %Y")


# -- documents -------------------------------------------------------------------------


def demand_letter(facts: MatterFacts, *, locale: str = "zh_CN", days: int = 7) -> bytes:
    """The lawyer's demand letter (律师函): the debt, the demand to pay within ``days``
    days, and the legal steps that follow. A delivered demand interrupts the PRC
    limitation period (Civil Code art. 195(1))."""
    zh = locale.startswith("zh")
    title, _, body = _styles(zh)
    f = facts
    if zh:
        story: list[Flowable] = [
            _p("律师函", title),
            _p(f"致：{f.debtor.name}", body),
            _p(f"地址：{f.debtor.address}", body),
            Spacer(1, 6),
            _p(
                "".join(
                    (
                        f"{f.lawyer or '本律师'}受{f.creditor.name}委托，",
                        f"就贵方与委托人于{_d(f.contract_date, zh)}签订的借款合同",
                        f"（编号{f.contract}）项下欠款事宜，致函如下：",
                    )
                ),
                body,
            ),
            _p(
                f"截至{_d(f.on, zh)}，贵方尚欠本金{_m(f.outstanding_principal)}、"
                f"利息{_m(f.interest)}、"
                f"罚息及复利{_m(f.penalty)}、费用{_m(f.fees)}，合计{_m(f.total)}。"
                f"贵方自{_d(f.overdue_since, zh)}起逾期未还。",
                body,
            ),
            _p(
                f"请贵方于收到本函之日起{days}日内清偿上述款项。逾期未清偿的，委托人将依法申请支付令"
                "或提起诉讼，并申请强制执行，由此产生的诉讼费、律师费等费用依合同约定由贵方承担。",
                body,
            ),
            _p(
                "本函送达即构成委托人向贵方主张权利，诉讼时效自送达之日起重新计算（《民法典》第一百九十五条）。",
                body,
            ),
            Spacer(1, 12),
            _p(f"{f.lawyer}", body),
            _p(_d(f.on, zh), body),
        ]
        return _pdf(story, "律师函")
    story = [
        _p("Letter Before Action", title),
        _p(f"To: {f.debtor.name}", body),
        _p(f"Address: {f.debtor.address}", body),
        Spacer(1, 6),
        _p(
            f"We act for {f.creditor.name} in respect of loan agreement {f.contract} dated "
            f"{_d(f.contract_date, zh)}.",
            body,
        ),
        _p(
            f"As at {_d(f.on, zh)} you owe principal {_m(f.outstanding_principal)}, interest "
            f"{_m(f.interest)}, default interest {_m(f.penalty)} and charges {_m(f.fees)}: "
            f"{_m(f.total)} in total, overdue since {_d(f.overdue_since, zh)}.",
            body,
        ),
        _p(
            f"Please pay this sum within {days} days of receiving this letter. If you do not, our "
            "client intends to start court proceedings without further notice.",
            body,
        ),
        Spacer(1, 12),
        _p(f.lawyer, body),
        _p(_d(f.on, zh), body),
    ]
    return _pdf(story, "Letter Before Action")


def payment_order_application(facts: MatterFacts) -> bytes:
    """支付令申请书: the application for a payment order (Civil Procedure Law (2023)
    art. 225: a money debt, due, with no other dispute between the parties, and the
    order can be served on the debtor)."""
    title, head, body = _styles(True)
    f = facts
    story: list[Flowable] = [
        _p("支付令申请书", title),
        _p(
            f"申请人：{f.creditor.name}，住所地：{f.creditor.address}，法定代表人：{f.creditor.representative}",
            body,
        ),
        _p(
            f"被申请人：{f.debtor.name}，身份证号：{f.debtor.id_number}，住址：{f.debtor.address}",
            body,
        ),
        _p("请求事项", head),
        _p(
            f"请求贵院依法向被申请人发出支付令，督促被申请人向申请人给付借款本金{_m(f.outstanding_principal)}、"
            f"利息{_m(f.interest)}、罚息及复利{_m(f.penalty)}、费用{_m(f.fees)}，合计{_m(f.total)}；"
            "申请费由被申请人负担。",
            body,
        ),
        _p("事实与理由", head),
        _p(
            "".join(
                (
                    f"{_d(f.contract_date, zh=True)}，申请人与被申请人签订借款合同",
                    f"（编号{f.contract}），约定借款本金{_m(f.principal)}，",
                    f"年利率{f.annual_rate}，期限{f.term}期，",
                    f"自{_d(f.first_due, True)}至{_d(f.last_due, True)}按期还款。",
                    f"申请人依约发放贷款，被申请人自{_d(f.overdue_since, True)}起未按约还款。",
                    "申请人与被申请人之间没有其他债务纠纷，支付令能够送达被申请人。",
                    "根据《中华人民共和国民事诉讼法》第二百二十五条的规定，特向贵院申请支付令。",
                )
            ),
            body,
        ),
        Spacer(1, 10),
        _p("此致", body),
        _p(f.court, body),
        Spacer(1, 10),
        _p(f"申请人：{f.creditor.name}", body),
        _p(_d(f.on, True), body),
        _p("附：借款合同、借款借据、还款明细、催收及送达记录（证据包清单）", body),
    ]
    return _pdf(story, "支付令申请书")


def element_complaint(facts: MatterFacts) -> bytes:
    """民事起诉状（金融借款合同纠纷）after the SPC's element-style template: the
    parties, the claims and the facts, each element in a row."""
    title, head, body = _styles(True)
    f = facts
    paid = sum((m.amount for _, m in f.payments), start=0)
    story: list[Flowable] = [
        _p("民事起诉状", title),
        _p("（金融借款合同纠纷）", body),
        _p("当事人信息", head),
        _table(
            [
                (
                    "原告",
                    f"{f.creditor.name}；住所地：{f.creditor.address}；法定代表人：{f.creditor.representative}",
                ),
                (
                    "被告",
                    f"{f.debtor.name}；身份证号：{f.debtor.id_number}；住址：{f.debtor.address}",
                ),
                ("委托诉讼代理人", f.lawyer or "无"),
            ],
            body,
        ),
        _p("诉讼请求和依据", head),
        _table(
            [
                ("1. 本金", f"截至{_d(f.on, True)}尚欠本金{_m(f.outstanding_principal)}"),
                ("2. 利息", f"{_m(f.interest)}"),
                ("3. 罚息、复利", f"{_m(f.penalty)}"),
                ("4. 实现债权的费用", f"{_m(f.fees)}"),
                ("5. 诉讼费用", "由被告承担"),
                ("标的总额", _m(f.total)),
                (
                    "请求依据",
                    "合同约定：借款合同；法律规定：《民法典》第六百七十四条、第六百七十六条",
                ),
            ],
            body,
        ),
        _p("约定管辖和诉讼保全", head),
        _table([("约定管辖", "无"), ("诉讼保全", "否")], body),
        _p("事实与理由", head),
        _table(
            [
                ("1. 合同签订情况", f"{_d(f.contract_date, True)}签订借款合同，编号{f.contract}"),
                ("2. 签订主体", f"贷款人：{f.creditor.name}；借款人：{f.debtor.name}"),
                ("3. 借款金额", f"约定：{_m(f.principal)}；实际提供：{_m(f.principal)}"),
                ("4. 借款期限", f"{f.term}期，{_d(f.first_due, True)}至{_d(f.last_due, True)}"),
                ("5. 借款利率", f"年利率{f.annual_rate}"),
                ("6. 还款方式", f.method),
                ("7. 还款情况", f"已还款{len(f.payments)}笔，合计{paid:,.2f}"),
                ("8. 是否存在逾期还款", f"是，自{_d(f.overdue_since, True)}起逾期"),
                ("9. 是否签订物的担保合同", "否"),
                ("10. 担保人、担保物", "无"),
                ("11. 是否最高额担保", "否"),
                ("12. 是否签订保证合同", "否"),
                ("13. 其他需要说明的内容", "无"),
                ("14. 证据清单", "见证据包清单（manifest.json，附SHA-256摘要）"),
            ],
            body,
        ),
        Spacer(1, 10),
        _p("此致", body),
        _p(f.court, body),
        _p(f"具状人：{f.creditor.name}", body),
        _p(_d(f.on, True), body),
    ]
    return _pdf(story, "民事起诉状（金融借款合同纠纷）")


def letter_of_claim(facts: MatterFacts, *, reply_days: int = 30) -> bytes:
    """The letter of claim of the Pre-Action Protocol for Debt Claims (para. 3.1), with
    Annex 1 information sheet, Annex 2 reply form and Annex 3 financial statement."""
    title, _, body = _styles(False)
    f = facts
    story: list[Flowable] = [
        _p("Letter of Claim", title),
        _p(f"To: {f.debtor.name}, {f.debtor.address}", body),
        _p(f"From: {f.creditor.name}, {f.creditor.address}", body),
        _p(f"Date: {_d(f.on, False)}", body),
        _p(
            f"Agreement {f.contract} of {_d(f.contract_date, False)}: the amount of the debt is "
            f"{_m(f.total)} (principal {_m(f.outstanding_principal)}, interest {_m(f.interest)}, "
            f"default interest {_m(f.penalty)}, charges {_m(f.fees)}). "
            "Interest continues to accrue under the agreement.",
            body,
        ),
        _p(
            f"Please reply within {reply_days} days of the date of this letter using the enclosed "
            "Reply Form. If you do not reply, we may start court proceedings. You can get free "
            "independent debt advice (see the Information Sheet). If you tell us you are seeking "
            "advice, we will give you a reasonable time to obtain it before starting proceedings.",
            body,
        ),
        _p(
            "Enclosed: Annex 1 Information Sheet; Annex 2 Reply Form; Annex 3 Financial "
            "Statement; a copy of the agreement and statement of account on request.",
            body,
        ),
        PageBreak(),
        _p("Annex 1: Information Sheet", title),
        _p(
            "You have received a letter of claim because we say you owe a debt. You should read "
            "it carefully and reply within 30 days. Free debt advice is available from, for "
            "example, the Money Advice Service, Citizens Advice, National Debtline, StepChange "
            "Debt Charity and Business Debtline.",
            body,
        ),
        PageBreak(),
        _p("Annex 2: Reply Form", title),
        _table(
            [
                ("Section A", "I owe the debt / I owe part of the debt / I do not owe the debt"),
                ("Section B", "I have asked for debt advice / I will seek debt advice"),
                ("Section C", "I want to pay by instalments of ____ every ____"),
                ("Section D", "I dispute the debt because ____"),
                ("Section E", "I need these documents: ____"),
                ("Signature", "____________   Date ____________"),
            ],
            body,
        ),
        PageBreak(),
        _p("Annex 3: Financial Statement", title),
        _table(
            [
                ("Income", "wages, benefits, pensions, other income: ____"),
                ("Outgoings", "rent/mortgage, council tax, utilities, food, transport: ____"),
                ("Priority debts", "____"),
                ("Other debts", "____"),
                ("Offer", "____ per month"),
            ],
            body,
        ),
    ]
    return _pdf(story, "Letter of Claim")
