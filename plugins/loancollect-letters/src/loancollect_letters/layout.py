"""The PDF of one letter, laid out with reportlab: title, reference and date, the
recipient's address, the rendered text, and the statement of account."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import importlib.resources
import io
from xml.sax.saxutils import escape

import attrs
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from loancollect.errors import ConfigurationError
from loancollect.ports import Statement
from loancollect.templates import format_date
from loancollect_letters.statement_table import Labels, StatementRows, StatementTable

__all__ = ["PAGE_SIZES", "FontSet", "LetterKind", "LetterSpec", "markup", "render_pdf"]

PAGE_SIZES: dict[str, tuple[float, float]] = {"a4": A4, "letter": LETTER}
"""Paper sizes by settings name."""

CJK_FONT = "WenQuanYiMicroHei"
"""The Chinese font: WenQuanYi Micro Hei (文泉驿微米黑, TrueType outlines, Apache 2.0 or
GPLv3 with the font exception), installed with the ``paperang-p2-fonts-cjk``
distribution and embedded in every PDF as a subset of the glyphs used, so a letter
looks the same on a reader without any Chinese font. ``font_file`` replaces it."""

CJK_FONT_PACKAGE = "paperang_p2_fonts_cjk"
CJK_FONT_FILE = "fonts/wqy-microhei.ttc"


class LetterKind(enum.Enum):
    """The three letters a collection process sends."""

    REMINDER = "reminder"
    FINAL_NOTICE = "final_notice"
    DEMAND = "demand"  # pre-litigation demand: interrupts the limitation period

    def title(self, locale: str) -> str:
        """The heading printed on the letter."""
        zh = locale.startswith("zh")
        return {
            LetterKind.REMINDER: ("还款提醒函", "Payment Reminder"),
            LetterKind.FINAL_NOTICE: ("最后还款通知书", "Final Notice"),
            LetterKind.DEMAND: ("诉前催告函", "Pre-Litigation Demand for Payment"),
        }[self][0 if zh else 1]


@attrs.frozen
class FontSet:
    """The fonts for a locale: a regular and a bold face (registered with reportlab)."""

    regular: str
    bold: str

    @classmethod
    def for_locale(cls, locale: str, font_file: str | None = None) -> FontSet:
        """Helvetica for Latin text, the embedded :data:`CJK_FONT` for Chinese, Japanese
        and Korean; ``font_file`` (a TrueType file) replaces both and is embedded.

        :raises ConfigurationError: if ``font_file`` cannot be loaded.
        """
        if font_file is not None:
            name = "LetterFont-" + hashlib.sha256(font_file.encode()).hexdigest()[:12]
            if name not in pdfmetrics.getRegisteredFontNames():
                try:
                    pdfmetrics.registerFont(TTFont(name, font_file))
                except Exception as exc:  # reportlab raises TTFError, IOError, ...
                    raise ConfigurationError(
                        f"letter setting 'font_file': cannot load {font_file!r}: {exc}"
                    ) from exc
            return cls(name, name)
        if locale.startswith(("zh", "ja", "ko")):
            return cls(_cjk(), _cjk())  # one face: bold is set by size and rules
        return cls("Helvetica", "Helvetica-Bold")


@attrs.frozen(kw_only=True)
class LetterSpec:
    """Everything printed on one letter."""

    kind: LetterKind
    locale: str
    reference: str
    date: dt.date
    recipient_address: str
    subject: str | None
    text: str
    statement: Statement | None
    lender_name: str = ""
    recipient_name: str = ""


_LABELS = {
    "reference": ("函件编号", "Letter reference"),
    "date": ("日期", "Date"),
    "loan": ("贷款编号", "Loan reference"),
    "to": ("收件地址", "To"),
    "statement": ("账户明细（截至{date}）", "Statement of account as of {date}"),
    "columns": (
        ("期数", "应还款日", "本金", "利息", "费用", "罚息及复利", "已还", "未还合计"),
        ("No.", "Due date", "Principal", "Interest", "Fees", "Penalty", "Paid", "Outstanding"),
    ),
    "none_overdue": ("无逾期期次。", "No installment is in arrears."),
    "overdue_amount": ("逾期本息及费用", "Overdue principal, interest and fees"),
    "penalty": ("罚息及复利", "Penalty and compound interest"),
    "amount_due": ("应还金额合计", "Total amount due"),
    "due_date": ("应还款日", "Due since"),
    "dpd": ("逾期天数", "Days past due"),
    "payoff": ("提前结清全部贷款所需金额", "Amount to repay the whole loan today"),
    "how_to_pay": ("还款方式", "How to pay"),
    "lender": ("出借人", "Lender"),
    "phone": ("电话", "Telephone"),
    "address": ("地址", "Address"),
    "page": ("第{n}页", "Page {n}"),
    "carried": ("转下页", "Carried forward"),
    "brought": ("承上页", "Brought forward"),
    "total": ("合计", "Total"),
}
_BRITISH = {"none_overdue": "No instalment is in arrears."}
"""Where British English words it otherwise (``en_GB``)."""


def _label(key: str, locale: str, **fmt: object) -> str:
    zh, en = _LABELS[key]
    text = zh if locale.startswith("zh") else en
    if locale.startswith("en_GB"):
        text = _BRITISH.get(key, text)
    return str(text).format(**fmt) if fmt else str(text)


def _columns(locale: str) -> tuple[str, ...]:
    zh, en = _LABELS["columns"]
    return tuple(zh if locale.startswith("zh") else en)


def _latin(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def markup(text: str, fonts: FontSet) -> str:
    """``text`` escaped for a Paragraph; in a Latin font, runs of characters the font
    lacks (a Chinese address in an English letter) are set in the CJK font."""
    if fonts.regular != "Helvetica":
        return escape(text)
    out: list[str] = []
    run: list[str] = []
    for char in text:
        if _latin(char):
            if run:
                out.append(f'<font name="{_cjk()}">{escape("".join(run))}</font>')
                run = []
            out.append(escape(char))
        else:
            run.append(char)
    if run:
        out.append(f'<font name="{_cjk()}">{escape("".join(run))}</font>')
    return "".join(out)


def _cjk() -> str:
    """The embedded Chinese font, registered with reportlab on first use."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        source = importlib.resources.files(CJK_FONT_PACKAGE) / CJK_FONT_FILE
        with importlib.resources.as_file(source) as path:
            # reportlab subsets a TrueType font: only the glyphs used are embedded.
            pdfmetrics.registerFont(TTFont(CJK_FONT, str(path), subfontIndex=0))
    return CJK_FONT


def _paragraphs(text: str, style: ParagraphStyle, fonts: FontSet) -> list[Flowable]:
    out: list[Flowable] = []
    for block in text.strip().split("\n\n"):
        lines = [markup(line, fonts) for line in block.strip().splitlines()]
        if lines:
            out.append(Paragraph("<br/>".join(lines), style))
    return out


def _statement_flowables(
    statement: Statement, locale: str, fonts: FontSet, body: ParagraphStyle
) -> list[Flowable]:
    heading = ParagraphStyle("heading", parent=body, fontName=fonts.bold, fontSize=11)
    when = format_date(statement.as_of, locale)
    out: list[Flowable] = [
        Paragraph(escape(_label("statement", locale, date=when)), heading),
        Spacer(1, 2 * mm),
    ]
    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), fonts.regular, 8.5),
            ("FONT", (0, 0), (-1, 0), fonts.bold, 8.5),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    totals = [
        (_label("overdue_amount", locale), statement.overdue_amount),
        (_label("penalty", locale), statement.penalty),
        (_label("amount_due", locale), statement.amount_due),
        (_label("due_date", locale), format_date(statement.due_date, locale)),
        (_label("dpd", locale), str(statement.dpd)),
        (_label("payoff", locale), statement.payoff_amount),
    ]
    tail: list[Flowable] = [
        Spacer(1, 3 * mm),
        Table(
            totals,
            style=TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), fonts.regular, 9),
                    ("FONT", (0, 2), (-1, 2), fonts.bold, 9.5),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("LINEABOVE", (0, 2), (-1, 2), 0.6, colors.black),
                    ("LINEBELOW", (0, 2), (-1, 2), 0.6, colors.black),
                ]
            ),
            hAlign="LEFT",
        ),
    ]
    # The table and its totals stay on one page: moved whole to the next page when they
    # do not fit below the text. A statement longer than a page flows over pages with
    # the column headings repeated and the sums carried forward (StatementTable).
    table: Flowable
    if statement.lines:
        labels = Labels(
            columns=_columns(locale),
            carried=_label("carried", locale),
            brought=_label("brought", locale),
            total=_label("total", locale),
            bold=fonts.bold,
            size=8.5,
        )
        rows = StatementRows.of(statement, lambda day: format_date(day, locale))
        table = StatementTable(rows, labels, grid, head=out, tail=tail)
    else:
        out.append(Paragraph(escape(_label("none_overdue", locale)), body))
        table = KeepTogether(out + tail)
    return [
        Spacer(1, 5 * mm),
        table,
        Spacer(1, 3 * mm),
        Paragraph(
            f"<b>{escape(_label('how_to_pay', locale))}</b>: "
            + markup(statement.how_to_pay, fonts),
            body,
        ),
        Paragraph(
            markup(
                f"{_label('lender', locale)}: {statement.lender_name} | "
                f"{_label('address', locale)}: {statement.lender_address} | "
                f"{_label('phone', locale)}: {statement.lender_phone}",
                fonts,
            ),
            body,
        ),
    ]


def render_pdf(
    letter: LetterSpec, *, page_size: tuple[float, float] = A4, font_file: str | None = None
) -> tuple[bytes, int]:
    """The PDF of ``letter`` and its page count. Output is byte-for-byte the same for
    the same letter (no creation time or random document id in the file)."""
    fonts = FontSet.for_locale(letter.locale, font_file)
    cjk = letter.locale.startswith(("zh", "ja", "ko"))
    body = ParagraphStyle(
        "body",
        fontName=fonts.regular,
        fontSize=10,
        leading=15,
        spaceAfter=6,
        wordWrap="CJK" if cjk else None,
    )
    title = ParagraphStyle(
        "title", parent=body, fontName=fonts.bold, fontSize=16, leading=22, alignment=1
    )
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=13, spaceAfter=2)
    buffer = io.BytesIO()
    footer = letter.reference
    pages = [0]

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        pages[0] = doc.page
        canvas.saveState()
        canvas.setFont(fonts.regular, 8)
        text = f"{footer} | {_label('page', letter.locale, n=doc.page)}"
        canvas.drawCentredString(page_size[0] / 2, 12 * mm, text)
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=page_size,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=letter.subject or letter.kind.title(letter.locale),
        author=letter.lender_name,
        subject=letter.reference,
        invariant=True,
        lang=letter.locale.replace("_", "-"),
    )
    story: list[Flowable] = [
        Paragraph(escape(letter.kind.title(letter.locale)), title),
        Spacer(1, 4 * mm),
        Paragraph(
            escape(
                f"{_label('reference', letter.locale)}: {letter.reference}    "
                f"{_label('date', letter.locale)}: {format_date(letter.date, letter.locale)}"
            ),
            small,
        ),
        Paragraph(
            f"{escape(_label('to', letter.locale))}: "
            + "<br/>".join(
                markup(p, fonts)
                for p in (letter.recipient_name, *letter.recipient_address.splitlines())
                if p.strip()
            ),
            small,
        ),
    ]
    if letter.subject:
        story.append(Paragraph(f"<b>{markup(letter.subject, fonts)}</b>", body))
    story.append(Spacer(1, 3 * mm))
    story += _paragraphs(letter.text, body, fonts)
    if letter.statement is not None:
        story += _statement_flowables(letter.statement, letter.locale, fonts, body)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue(), pages[0]
