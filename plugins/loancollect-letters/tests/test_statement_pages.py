"""A statement longer than a page flows over pages like a ledger, read back from the PDF.

Each page of the table repeats the column headings; each page but the last ends with
the sums of every row so far (*Carried forward*, 转下页), and the next page starts
with the same sums (*Brought forward*, 承上页); the last page ends with the *Total*
(合计) and the statement's totals. Checked by extracting the text of the generated
PDFs with pypdf, in en_US, en_GB and zh_CN.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import attrs
import pytest
from letters_helpers import letter_action, letter_message
from loancollect_letters import LetterChannel
from loancollect_letters.statement_table import parse_amount
from pypdf import PdfReader

from loancollect.domain.loans import Payment
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.errors import ValidationError
from loancollect.ports import DeliveryStatus, Statement
from loancollect.templates import statement_of_account
from loancollect.testing import make_lender, make_loan, make_payment

AS_OF = dt.date(2030, 6, 1)
"""After the last instalment of a five-year loan from January 2025: every one is due."""

LOCALES = {
    # locale: currency, the row's date, headings, carried, brought, total
    "en_US": (
        "USD",
        r"[A-Z][a-z]+ \d{1,2}, \d{4}",
        ("No.", "Due date", "Principal", "Interest", "Fees", "Penalty", "Paid", "Outstanding"),
        ("Carried forward", "Brought forward", "Total"),
    ),
    "en_GB": (
        "GBP",
        r"\d{1,2} [A-Z][a-z]+ \d{4}",
        ("No.", "Due date", "Principal", "Interest", "Fees", "Penalty", "Paid", "Outstanding"),
        ("Carried forward", "Brought forward", "Total"),
    ),
    "zh_CN": (
        "CNY",
        r"\d{4}年\d{1,2}月\d{1,2}日",
        ("期数", "应还款日", "本金", "利息", "费用", "罚息及复利", "已还", "未还合计"),
        ("转下页", "承上页", "合计"),
    ),
}
AMOUNT = r"-?[¥$£][\d,]+\.\d{2}"
SIX = " ".join([f"({AMOUNT})"] * 6)


@attrs.frozen
class Page:
    """What one page of the statement table says."""

    text: str
    rows: tuple[tuple[int, tuple[Money, ...]], ...]
    brought: tuple[Money, ...] | None
    carried: tuple[Money, ...] | None
    total: tuple[Money, ...] | None


def long_statement(currency: str, term: int = 60, payments: int = 8) -> Statement:
    """A ``term``-instalment loan with every instalment due and the first few partly paid."""
    loan = make_loan(term=term, principal=Money("180000.00", currency))
    paid: list[Payment] = [
        make_payment(
            id=f"P-{n}",
            amount=Money("700.00", currency),
            value_date=dt.date(2025, 2 + n, 20),
        )
        for n in range(payments)
    ]
    lender = make_lender(how_to_pay="Pay in the app.")
    return statement_of_account(loan, assess(loan, paid, AS_OF), lender)


def render(tmp_path: Path, locale: str, statement: Statement, paragraphs: int) -> list[str]:
    """The text of each page of the letter carrying ``statement``."""
    text = "\n\n".join(["Our records show that your loan is in arrears. " * 8] * paragraphs)
    action = letter_action(as_of=AS_OF, locale=locale)
    message = letter_message(locale, statement=statement, text=text)
    result = LetterChannel(tmp_path).send(action, message, action.idempotency_key)
    assert result.ok, result.detail
    reader = PdfReader(tmp_path / dict(result.evidence)["file"])
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def read(text: str, locale: str) -> Page:
    currency, date, _, (carried, brought, total) = LOCALES[locale]

    def sums(label: str) -> tuple[Money, ...] | None:
        found = re.findall(rf"(?<!\S){label} {SIX}", text)
        assert len(found) <= 1, (label, found)
        return tuple(parse_amount(a, currency) for a in found[0]) if found else None

    rows = tuple(
        (int(number), tuple(parse_amount(a, currency) for a in amounts))
        for number, *amounts in re.findall(rf"(?<!\S)(\d{{1,2}}) {date} {SIX}", text)
    )
    return Page(text, rows, sums(brought), sums(carried), sums(total))


def column_sums(rows: list[tuple[int, tuple[Money, ...]]], currency: str) -> tuple[Money, ...]:
    totals = [Money.zero(currency)] * 6
    for _, amounts in rows:
        totals = [t + a for t, a in zip(totals, amounts, strict=True)]
    return tuple(totals)


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_a_long_statement_repeats_its_headings_and_carries_its_sums_from_page_to_page(
    tmp_path: Path, locale: str
) -> None:
    currency, _, headings, _ = LOCALES[locale]
    statement = long_statement(currency)
    assert len(statement.lines) == 59  # the first instalment is paid in full
    pages = [read(text, locale) for text in render(tmp_path, locale, statement, paragraphs=4)]
    holding = [p for p in pages if p.rows]
    assert len(holding) >= 3  # so one page both brings sums forward and carries them on

    seen: list[tuple[int, tuple[Money, ...]]] = []
    for n, page in enumerate(holding):
        # The column headings, in order, on every page of the table.
        assert re.search(" ".join(re.escape(h) for h in headings), page.text), (n, page.text)
        if n == 0:
            assert page.brought is None
        else:  # the sums the previous page carried, brought forward
            assert page.brought == holding[n - 1].carried == column_sums(seen, currency)
        seen += page.rows
        if page is holding[-1]:
            assert page.carried is None
            assert page.total == column_sums(seen, currency)
        else:
            assert page.total is None
            assert page.carried == column_sums(seen, currency)  # every row so far
    # Every instalment once, in order: no row lost or printed twice at a page break.
    assert [number for number, _ in seen] == [line.number for line in statement.lines]
    for (_, amounts), line in zip(seen, statement.lines, strict=True):
        assert amounts[-1] == parse_amount(line.outstanding, currency)
    # The final total agrees with the statement's own totals, printed after it.
    total = holding[-1].total
    assert total is not None
    overdue = parse_amount(statement.overdue_amount, currency)
    penalty = parse_amount(statement.penalty, currency)
    assert total[3] == penalty  # the penalty column
    assert total[5] == overdue + penalty  # the outstanding column: everything owed
    # ... which follow it on the same page.
    closing = re.search(rf"(?<!\S){LOCALES[locale][3][2]} {SIX}", holding[-1].text)
    assert closing is not None
    assert statement.amount_due in holding[-1].text[closing.end() :]


@pytest.mark.parametrize("term", [36, 48])
def test_a_statement_of_36_or_48_instalments_below_a_short_letter(
    tmp_path: Path, term: int
) -> None:
    statement = long_statement("CNY", term=term, payments=0)
    assert len(statement.lines) == term
    pages = [read(text, "zh_CN") for text in render(tmp_path, "zh_CN", statement, paragraphs=1)]
    holding = [p for p in pages if p.rows]
    assert len(holding) >= 2
    rows = [row for page in holding for row in page.rows]
    assert [number for number, _ in rows] == list(range(1, term + 1))
    assert holding[0].carried == column_sums(list(holding[0].rows), "CNY")
    assert holding[-1].total == column_sums(rows, "CNY")


def test_a_statement_that_fits_on_a_page_has_a_total_and_nothing_carried(tmp_path: Path) -> None:
    statement = long_statement("USD", term=12, payments=0)
    statement = attrs.evolve(statement, lines=statement.lines[:3])
    pages = [read(text, "en_US") for text in render(tmp_path, "en_US", statement, paragraphs=1)]
    (page,) = [p for p in pages if p.rows]
    assert page.carried is None
    assert page.brought is None
    assert page.total == column_sums(list(page.rows), "USD")
    assert not any("Carried forward" in p.text or "Brought forward" in p.text for p in pages)


def test_a_british_statement_says_instalment(tmp_path: Path) -> None:
    statement = attrs.evolve(long_statement("GBP", term=12, payments=0), lines=())
    text = " ".join(render(tmp_path, "en_GB", statement, paragraphs=1))
    assert "No instalment is in arrears." in text


def test_amounts_are_read_back_exactly_with_symbol_or_code() -> None:
    assert parse_amount("¥1,234.56", "CNY") == Money("1234.56", "CNY")
    assert parse_amount("-$5.00", "USD") == Money("-5.00", "USD")
    assert parse_amount("GBP 12,000.10", "GBP") == Money("12000.10", "GBP")
    with pytest.raises(ValidationError, match=r"line 3\.paid.*'1\.234,56'"):
        parse_amount("1.234,56", "EUR", "statement line 3.paid")


def test_a_statement_whose_amounts_cannot_be_read_fails_the_letter_naming_the_field(
    tmp_path: Path,
) -> None:
    statement = long_statement("CNY", term=12, payments=0)
    bad = attrs.evolve(statement.lines[1], paid="about 5 yuan")
    statement = attrs.evolve(statement, lines=(statement.lines[0], bad, *statement.lines[2:]))
    action = letter_action(as_of=AS_OF)
    message = letter_message(statement=statement)
    result = LetterChannel(tmp_path).send(action, message, action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert f"statement line {bad.number}.paid" in result.detail
    assert "about 5 yuan" in result.detail
    assert not list(tmp_path.glob("*.pdf"))
