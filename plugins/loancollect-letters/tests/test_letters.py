"""Letters read back from the generated PDFs: amounts, dates, references, evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from letters_helpers import (
    ADDRESS,
    AS_OF,
    assessment,
    letter_action,
    letter_message,
    pdf_pages,
    pdf_text,
    statement,
)
from loancollect_letters import (
    SETTINGS,
    LetterChannel,
    LetterKind,
    build_print_batch,
    from_settings,
    letter_reference,
)

from loancollect.domain.strategy import Tone
from loancollect.errors import ConfigurationError
from loancollect.plugins import make_plugin_manager
from loancollect.ports import CAP_STATEMENT, DeliveryStatus
from loancollect.registry import channel_specs
from loancollect.testing import make_action


def send(channel: LetterChannel, locale: str = "zh_CN", **action: object) -> Path:
    act = letter_action(**action)
    result = channel.send(act, letter_message(locale), act.idempotency_key)
    assert result.ok, result.detail
    return channel.directory / dict(result.evidence)["file"]


def test_the_statement_matches_the_assessment() -> None:
    st = statement()
    a = assessment()
    assert [line.due_date.isoformat() for line in st.lines] == [
        "2025-02-15",
        "2025-03-15",
        "2025-04-15",
    ]
    assert st.amount_due == a.amount_due.format()
    assert st.overdue_amount == a.overdue_amount.format()
    assert st.penalty == (a.penalty + a.compound_interest).format()
    assert st.due_date.isoformat() == "2025-02-15"
    assert st.dpd == a.dpd == 64


def test_a_chinese_reminder_states_the_amounts_and_dates(tmp_path: Path) -> None:
    path = send(LetterChannel(tmp_path))
    text = pdf_text(path)
    st = statement()
    a = assessment()
    assert "还款提醒函" in text
    assert letter_reference(letter_action().idempotency_key) in text
    assert "日期: 2025年4月20日" in text
    assert ADDRESS in text
    assert "根据我们的记录" in text
    for due in ("2025年2月15日", "2025年3月15日", "2025年4月15日"):
        assert due in text
    for state in a.installments[0:3]:
        assert state.total.format() in text
        assert state.principal.format() in text
        assert state.interest.format() in text
    assert st.amount_due in text
    assert st.overdue_amount in text
    assert st.penalty in text
    assert st.payoff_amount in text
    assert "逾期天数 64" in text
    assert "在示例银行App中还款" in text
    assert "示例银行" in text


def test_an_english_demand_states_the_amounts_and_dates(tmp_path: Path) -> None:
    path = send(LetterChannel(tmp_path), "en_US", tone=Tone.LEGAL_WARNING, template="legal_warning")
    text = pdf_text(path)
    st = statement(locale="en_US")
    assert "Pre-Litigation Demand for Payment" in text
    assert "Date: April 20, 2025" in text
    assert "Statement of account as of April 20, 2025" in text
    for due in ("February 15, 2025", "March 15, 2025", "April 15, 2025"):
        assert due in text
    assert f"Total amount due {st.amount_due}" in text
    assert "Days past due 64" in text
    assert "Pay in the app." in text
    assert "1 Sample Road, Shanghai" in text


@pytest.mark.parametrize(
    ("tone", "template", "kind", "title"),
    [
        (Tone.REMINDER, "reminder", LetterKind.REMINDER, "还款提醒函"),
        (Tone.FINAL_NOTICE, "final_notice", LetterKind.FINAL_NOTICE, "最后还款通知书"),
        (Tone.LEGAL_WARNING, "legal_warning", LetterKind.DEMAND, "诉前催告函"),
    ],
)
def test_the_kind_follows_the_tone_and_is_evidence(
    tmp_path: Path, tone: Tone, template: str, kind: LetterKind, title: str
) -> None:
    channel = LetterChannel(tmp_path)
    action = letter_action(tone=tone, template=template)
    result = channel.send(action, letter_message(), action.idempotency_key)
    evidence = dict(result.evidence)
    assert evidence["letter_kind"] == kind.value
    assert evidence["letter_reference"] == result.provider_id
    assert evidence["letter_date"] == AS_OF.isoformat()
    assert title in pdf_text(tmp_path / evidence["file"])
    assert ("interrupts_limitation" in evidence) is (kind is LetterKind.DEMAND)


def test_the_manifest_and_file_digest_record_each_letter(tmp_path: Path) -> None:
    import hashlib

    channel = LetterChannel(tmp_path)
    path = send(channel)
    (line,) = (tmp_path / "manifest.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry["pages"] == pdf_pages(path)
    assert entry["statement"] is True
    assert ADDRESS not in line  # the manifest holds no contact details


def test_the_pdf_is_the_same_for_the_same_letter(tmp_path: Path) -> None:
    a = send(LetterChannel(tmp_path / "a"))
    b = send(LetterChannel(tmp_path / "b"))
    assert a.read_bytes() == b.read_bytes()


def test_a_key_written_by_an_earlier_process_is_not_written_again(tmp_path: Path) -> None:
    first = send(LetterChannel(tmp_path))
    before = first.stat().st_mtime_ns
    again = LetterChannel(tmp_path)
    action = letter_action()
    result = again.send(action, letter_message(), action.idempotency_key)
    assert result.ok
    assert first.stat().st_mtime_ns == before
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 1


def test_a_long_statement_runs_over_pages_with_the_reference_on_each(tmp_path: Path) -> None:
    late = statement(as_of=AS_OF.replace(year=2026))  # every installment in arrears
    channel = LetterChannel(tmp_path)
    action = letter_action(as_of=AS_OF.replace(year=2026))
    text_block = "\n\n".join(["根据我们的记录，您的贷款已逾期。" * 6] * 12)
    msg = letter_message(text=text_block, statement=late)
    result = channel.send(action, msg, action.idempotency_key)
    path = tmp_path / dict(result.evidence)["file"]
    pages = pdf_pages(path)
    assert pages >= 2
    text = pdf_text(path)
    assert text.count(str(result.provider_id)) >= pages + 1  # header and each footer
    assert late.amount_due in text
    assert "2025年12月15日" in text


def test_without_a_statement_the_letter_prints_the_text(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path)
    action = letter_action()
    result = channel.send(action, letter_message(statement=None), action.idempotency_key)
    text = pdf_text(tmp_path / dict(result.evidence)["file"])
    assert "根据我们的记录" in text
    assert "账户明细" not in text


def test_an_action_without_a_postal_address_fails_permanently(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path)
    action = make_action(channel="letter")  # carries a phone number
    result = channel.send(action, letter_message(), action.idempotency_key)
    assert result.status is DeliveryStatus.FAILED_PERMANENT
    assert channel.send(action, letter_message(), action.idempotency_key) == result
    assert list(tmp_path.glob("*.pdf")) == []


def test_the_batch_print_file_holds_the_days_letters_on_new_sheets(tmp_path: Path) -> None:
    channel = LetterChannel(tmp_path)
    files = [send(channel, rule_id=f"r{n}") for n in range(3)]
    send(channel, rule_id="other-day", as_of=AS_OF.replace(day=21))  # statement date rules
    batch = channel.print_batch(AS_OF)
    assert batch is not None
    assert batch.name == "batch-2025-04-20.pdf"
    sheets = sum(pdf_pages(f) + pdf_pages(f) % 2 for f in files)
    # the fourth letter carries the same statement (dated 20 April) too
    assert pdf_pages(batch) == sheets + pdf_pages(files[0]) + pdf_pages(files[0]) % 2
    text = pdf_text(batch)
    for f in files:
        assert f.stem in text
    simplex = build_print_batch(tmp_path, AS_OF, duplex=False)
    assert simplex is not None
    assert pdf_pages(simplex) == sum(pdf_pages(f) for f in files) + pdf_pages(files[0])
    assert build_print_batch(tmp_path, AS_OF.replace(year=2030)) is None


def test_the_entry_point_registers_the_letter_channel() -> None:
    spec = channel_specs(make_plugin_manager(load_entrypoints=["letter"]))["letter"]
    assert CAP_STATEMENT in spec.capabilities
    assert spec.contact_kind is not None
    assert spec.contact_kind.value == "address"


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({}, "'dir'"),
        ({"dir": "x", "paper": "a4"}, "'paper'"),
        ({"dir": "x", "page_size": "a5"}, "'page_size'"),
        ({"dir": "x", "duplex": "maybe"}, "'duplex'"),
        ({"dir": "x", "font_file": "/nonexistent/font.ttf"}, "'font_file'"),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        from_settings(settings)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for key in SETTINGS:
        assert f"`{key}`" in readme, key


# -- rendering the same everywhere: the embedded font, the address block, pages ---------------
def _fonts(path: Path) -> dict[str, dict[str, object]]:
    """Every font the PDF uses: base name -> whether its program is embedded."""
    from pypdf import PdfReader

    found: dict[str, dict[str, object]] = {}
    for page in PdfReader(path).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descriptor or descendant.get_object().get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            found[str(font["/BaseFont"])] = {"embedded": embedded, "subtype": font["/Subtype"]}
    return found


def test_a_chinese_letter_embeds_a_subset_of_its_cjk_font(tmp_path: Path) -> None:
    path = send(LetterChannel(tmp_path))
    fonts = _fonts(path)
    cjk = [name for name in fonts if "WenQuanYi" in name]
    assert cjk, fonts
    for name in cjk:
        assert fonts[name]["embedded"], name
        # A subset's name carries a six-letter tag: ABCDEF+WenQuanYiMicroHei.
        assert name.lstrip("/")[6] == "+", name
    # No font a reader would have to supply: every non-standard font is embedded.
    standard = {"/Helvetica", "/Helvetica-Bold"}
    assert all(f["embedded"] for n, f in fonts.items() if n not in standard), fonts
    assert "根据我们的记录" in pdf_text(path)


def test_the_subset_keeps_the_pdf_small(tmp_path: Path) -> None:
    path = send(LetterChannel(tmp_path))
    assert path.stat().st_size < 400_000  # the whole font file is over 5 MB


def test_the_address_block_names_the_addressee(tmp_path: Path) -> None:
    st = statement()
    assert st.borrower_name
    action = letter_action()
    channel = LetterChannel(tmp_path)
    result = channel.send(action, letter_message(statement=st), action.idempotency_key)
    text = pdf_text(tmp_path / dict(result.evidence)["file"])
    block = text.split("收件地址:")[1]
    assert block.lstrip().startswith(st.borrower_name)
    assert block.index(st.borrower_name) < block.index(ADDRESS)


def test_the_statement_table_and_its_total_are_on_one_page(tmp_path: Path) -> None:
    from pypdf import PdfReader

    moved = False
    # Letters of growing length: the statement starts ever lower on the first page,
    # until it no longer fits there and moves, whole, to the next.
    for paragraphs in range(5, 12):
        text_block = "\n\n".join(["根据我们的记录，您的贷款已逾期。" * 6] * paragraphs)
        channel = LetterChannel(tmp_path / str(paragraphs))
        action = letter_action()
        msg = letter_message(text=text_block, statement=statement())
        result = channel.send(action, msg, action.idempotency_key)
        path = channel.directory / dict(result.evidence)["file"]
        pages = [p.extract_text() for p in PdfReader(path).pages]
        holding_table = [n for n, p in enumerate(pages) if "应还款日" in p]
        holding_total = [n for n, p in enumerate(pages) if "应还金额合计" in p]
        assert len(holding_table) == 1, paragraphs
        assert holding_total == holding_table, paragraphs  # header and total together
        moved = moved or holding_table[0] > 0
    assert moved  # at least one letter pushed its statement to a later page


def test_a_british_letter_writes_every_date_one_way(tmp_path: Path) -> None:
    import re

    action = letter_action(locale="en_GB")
    message = letter_message(
        "en_GB",
        text="Dear Alex,\n\nThe payment due on 15 February 2025 has not been received.",
        statement=statement(locale="en_GB"),
    )
    result = LetterChannel(tmp_path).send(action, message, action.idempotency_key)
    text = pdf_text(tmp_path / dict(result.evidence)["file"])
    assert "Date: 20 April 2025" in text
    for due in ("15 February 2025", "15 March 2025", "15 April 2025"):
        assert due in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert not re.search(r"(January|February|March|April) \d{1,2}, \d{4}", text)
