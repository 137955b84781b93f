"""Bad input at the edges: the importer, contact details, templates and the command line.

Each test names the rule; every refusal is a LoanCollectError naming the line, the
field and the value, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from loancollect.builtin.memory import MemoryStore
from loancollect.cli import hide_password, main
from loancollect.contacts import (
    check_jurisdiction,
    contact_point,
    normalize_email,
    normalize_phone,
    phone_time_zones,
)
from loancollect.domain.errors import ConfigurationError, LoanCollectError, ValidationError
from loancollect.domain.loans import ContactKind
from loancollect.importing import ImportRejectedError, ImportResult, import_files
from loancollect.registry import TemplateSpec
from loancollect.templates import TemplateCatalog

BORROWERS = (
    "id,kind,name,jurisdiction,time_zone,locale,phone,email\n"
    "B1,individual,Wang Fang,CN,Asia/Shanghai,zh_CN,+86 138 0013 8000,wang@example.com\n"
    "B2,company,Riverside Supply LLC,US-NY,America/New_York,en_US,+1 212 555 0100,\n"
)
LOANS = (
    "id,borrower_id,currency,principal,annual_rate,disbursement_date,term\n"
    "L1,B1,CNY,12000.00,0.12,2025-01-15,12\n"
    'L2,B2,USD,"50,000.00",0.08,2025-01-20,6\n'
)
PAYMENTS = (
    '{"id": "P1", "loan_id": "L1", "amount": "1066.19", "currency": "CNY", '
    '"value_date": "2025-02-15", "received_at": "2025-02-15T09:30:00+08:00"}\n'
)
REVIEW_ON = dt.date(2025, 3, 1)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run_import(
    store: MemoryStore, *paths: Path, skip_bad: bool = False, replace: bool = False
) -> ImportResult:
    return import_files(
        store,
        list(paths),
        skip_bad=skip_bad,
        review_on=REVIEW_ON,
        replace_loans_with_payments=replace,
    )


def refused(store: MemoryStore, *paths: Path) -> list[str]:
    with pytest.raises(ImportRejectedError) as info:
        run_import(store, *paths)
    assert isinstance(info.value, LoanCollectError)
    with store() as uow:
        assert uow.loans.list_ids() == [], "nothing may be written"
    return info.value.problems


def good_files(tmp_path: Path) -> list[Path]:
    return [
        write(tmp_path, "borrowers.csv", BORROWERS),
        write(tmp_path, "loans.csv", LOANS),
        write(tmp_path, "payments.jsonl", PAYMENTS),
    ]


# -- numbers --------------------------------------------------------------------------------
def test_correctly_grouped_thousands_are_accepted(tmp_path: Path) -> None:
    store = MemoryStore()
    result = run_import(store, *good_files(tmp_path))
    assert result.counts == {"borrowers": 2, "loans": 2, "payments": 1}
    with store() as uow:
        l2 = uow.loans.get("L2")
        assert l2 is not None
        assert str(l2.principal.amount) == "50000.00"


@pytest.mark.parametrize("amount", ["12.000,00", "12,50", "1,2000.00", "1e3", "１２"])
def test_an_ambiguous_amount_is_refused_naming_the_line_and_field(
    tmp_path: Path, amount: str
) -> None:
    loans = LOANS.replace("12000.00", f'"{amount}"')
    problems = refused(
        MemoryStore(), write(tmp_path, "b.csv", BORROWERS), write(tmp_path, "l.csv", loans)
    )
    assert problems == [
        f"l.csv:2: principal={amount!r}: not a plain decimal number: digits, '.' before the "
        "decimals, optionally ',' between groups of three digits (1234.56 or 1,234.56)"
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [("term", "1_2"), ("term", "１２"), ("disbursement_date", "20250115"), ("annual_rate", "12%")],
)
def test_integers_dates_and_rates_have_one_plain_form(
    tmp_path: Path, column: str, value: str
) -> None:
    good = {"term": "12", "disbursement_date": "2025-01-15", "annual_rate": "0.12"}[column]
    loans = LOANS.replace(f",{good},", f",{value},", 1).replace(f",{good}\n", f",{value}\n", 1)
    problems = refused(
        MemoryStore(), write(tmp_path, "b.csv", BORROWERS), write(tmp_path, "l.csv", loans)
    )
    assert problems[0].startswith(f"l.csv:2: {column}={value!r}")


def test_a_json_nan_is_not_a_number(tmp_path: Path) -> None:
    payments = PAYMENTS.replace('"1066.19"', "NaN")
    files = [*good_files(tmp_path)[:2], write(tmp_path, "p.jsonl", payments)]
    (problem,) = refused(MemoryStore(), *files)
    assert problem.startswith("p.jsonl:1: line=")
    assert "NaN is not a number" in problem


def test_a_json_object_where_text_is_expected_is_refused(tmp_path: Path) -> None:
    payments = PAYMENTS.replace('"P1"', '{"x": 1}')
    files = [*good_files(tmp_path)[:2], write(tmp_path, "p.jsonl", payments)]
    (problem,) = refused(MemoryStore(), *files)
    assert problem.startswith("p.jsonl:1: id='dict'")


# -- contact details and countries ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("email", "wang@example", "not a valid e-mail address"),
        ("email", "wang@@example.com", "not a valid e-mail address"),
        ("phone", "12345", "not a valid phone number in CN"),
        ("phone", "call me", "not a phone number"),
    ],
)
def test_contact_points_are_validated_at_the_import_edge(
    tmp_path: Path, column: str, value: str, text: str
) -> None:
    good = {"email": "wang@example.com", "phone": "+86 138 0013 8000"}[column]
    borrowers = BORROWERS.replace(good, value)
    problem, dependent = refused(
        MemoryStore(), write(tmp_path, "b.csv", borrowers), write(tmp_path, "l.csv", LOANS)
    )
    assert dependent == "l.csv:2: borrower_id='B1': its borrower's row is bad"
    assert problem.startswith(f"b.csv:2: {column}=")
    assert text in problem
    assert value not in problem or len(value) < 6  # personal values are masked


def test_a_phone_without_country_code_is_read_in_the_borrowers_country(tmp_path: Path) -> None:
    borrowers = BORROWERS.replace("+86 138 0013 8000", "138 0013 8000")
    store = MemoryStore()
    run_import(store, write(tmp_path, "b.csv", borrowers), write(tmp_path, "l.csv", LOANS))
    with store() as uow:
        l1 = uow.loans.get("L1")
        assert l1 is not None
        assert l1.borrower.contacts(ContactKind.PHONE)[0].value == "+8613800138000"


def test_an_unknown_country_code_is_refused_at_import(tmp_path: Path) -> None:
    borrowers = BORROWERS.replace(",CN,", ",UK,")
    problem, _ = refused(
        MemoryStore(), write(tmp_path, "b.csv", borrowers), write(tmp_path, "l.csv", LOANS)
    )
    assert problem.startswith("b.csv:2: jurisdiction='UK': not an ISO 3166-1 alpha-2 country")
    assert "GB" in problem


@pytest.mark.parametrize("code", ["GB", "US-NY", "GB-ENG", "CN", "US-MA"])
def test_iso_3166_countries_and_subdivisions_are_accepted(code: str) -> None:
    assert check_jurisdiction(code) == code


@pytest.mark.parametrize("code", ["UK", "gb", "US-XX", "XX", "GBR", "US-"])
def test_other_jurisdiction_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_jurisdiction(code, "borrower.jurisdiction")
    assert info.value.field == "borrower.jurisdiction"


def test_a_new_york_number_rings_in_new_york() -> None:
    assert phone_time_zones("+1 212 555 0100") == ("America/New_York",)
    assert phone_time_zones("138 0013 8000", "CN") == ("Asia/Shanghai",)
    assert "America/Los_Angeles" in phone_time_zones("+1 800 555 0199")


def test_a_number_whose_zone_cannot_be_told_gives_no_zone() -> None:
    assert phone_time_zones("not a number") == ()
    assert phone_time_zones("+999 1234") == ()


def test_edge_contact_helpers_normalise_and_name_the_field() -> None:
    assert normalize_phone("+86 138-0013-8000") == "+8613800138000"
    assert normalize_email("Wang@EXAMPLE.com") == "Wang@example.com"
    with pytest.raises(ValidationError) as info:
        contact_point("phone", "+86 1", field="borrower.phone")
    assert info.value.field == "borrower.phone"
    with pytest.raises(ValidationError) as info:
        contact_point("fax", "1234")
    assert info.value.field == "contact_point.kind"


# -- files --------------------------------------------------------------------------------------
def test_duplicate_ids_in_one_file_are_refused_naming_both_lines(tmp_path: Path) -> None:
    loans = LOANS + "L1,B1,CNY,500.00,0.12,2025-01-15,6\n"
    problems = refused(
        MemoryStore(), write(tmp_path, "b.csv", BORROWERS), write(tmp_path, "l.csv", loans)
    )
    assert "l.csv:2: id='L1': the same id is also on l.csv:4" in problems[0]
    assert "l.csv:4: id='L1': the same id is also on l.csv:2" in problems[1]


def test_duplicate_installments_of_a_schedule_are_refused(tmp_path: Path) -> None:
    schedules = (
        "loan_id,number,due_date,principal,interest\n"
        "L2,1,2025-02-20,0,333.33\nL2,1,2025-03-20,50000,333.33\n"
    )
    problems = refused(
        MemoryStore(),
        write(tmp_path, "b.csv", BORROWERS),
        write(tmp_path, "l.csv", LOANS),
        write(tmp_path, "s.csv", schedules),
    )
    assert problems[0].startswith("s.csv:2: number='1': the same installment of loan 'L2'")
    assert "also on s.csv:3" in problems[0]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    store = MemoryStore()
    result = run_import(
        store,
        write(tmp_path, "b.csv", b"\xef\xbb\xbf" + BORROWERS.encode()),
        write(tmp_path, "l.csv", b"\xef\xbb\xbf" + LOANS.encode()),
        write(tmp_path, "p.jsonl", b"\xef\xbb\xbf" + PAYMENTS.encode()),
    )
    assert result.counts == {"borrowers": 2, "loans": 2, "payments": 1}


def test_a_byte_that_is_not_utf8_is_named_by_line_with_the_fix(tmp_path: Path) -> None:
    latin1 = BORROWERS.replace("Wang Fang", "Müller").encode("latin-1")
    problem, *_ = refused(
        MemoryStore(), write(tmp_path, "b.csv", latin1), write(tmp_path, "l.csv", LOANS)
    )
    assert problem.startswith("b.csv:2: byte 16='0xfc': not UTF-8 text")
    assert "re-save the file as UTF-8" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BORROWERS.replace("Wang Fang", "Wang\x00Fang"),
            "b.csv:2: borrower.name='W*******': contains a NUL character",
        ),
        ('id,kind\n"B1,individual\n', "b.csv:2: line='': not readable as CSV"),
        (BORROWERS.replace("zh_CN,", "zh_CN,extra,"), "b.csv:2: cells=9: more cells than"),
        ("id,id,kind\n", "b.csv:1: column='id': appears twice in the header"),
    ],
)
def test_a_broken_csv_line_is_named(tmp_path: Path, text: str, expected: str) -> None:
    problems = refused(MemoryStore(), write(tmp_path, "b.csv", text))
    assert problems[0].startswith(expected)


def test_nul_bytes_in_json_text_are_refused(tmp_path: Path) -> None:
    payments = PAYMENTS.replace('"P1"', '"P\\u00001"')
    files = [*good_files(tmp_path)[:2], write(tmp_path, "p.jsonl", payments)]
    (problem,) = refused(MemoryStore(), *files)
    assert problem.startswith("p.jsonl:1: payment.id=")
    assert "NUL" in problem


def test_an_out_of_range_timestamp_is_refused(tmp_path: Path) -> None:
    payments = PAYMENTS.replace("2025-02-15T09:30:00+08:00", "9999-12-31T23:00:00-05:00")
    files = [*good_files(tmp_path)[:2], write(tmp_path, "p.jsonl", payments)]
    (problem,) = refused(MemoryStore(), *files)
    assert problem.startswith("p.jsonl:1: received_at=")
    assert "out of range" in problem


def test_a_date_in_year_9999_is_refused_at_import(tmp_path: Path) -> None:
    loans = LOANS.replace("2025-01-15", "9999-01-15")
    (problem,) = refused(
        MemoryStore(), write(tmp_path, "b.csv", BORROWERS), write(tmp_path, "l.csv", loans)
    )
    assert problem.startswith("l.csv:2: disbursement_date='9999-01-15': out of range")


# -- what is written and what is reported ---------------------------------------------------------
def test_a_borrower_without_a_loan_is_reported_not_written_and_not_counted(
    tmp_path: Path,
) -> None:
    borrowers = BORROWERS + "B3,individual,Li Lei,CN,Asia/Shanghai,zh_CN,,\n"
    store = MemoryStore()
    result = run_import(store, write(tmp_path, "b.csv", borrowers), write(tmp_path, "l.csv", LOANS))
    assert result.counts["borrowers"] == 2
    (note,) = result.not_written
    assert note.startswith("b.csv:4: borrower 'B3' has no loan in this import")


def test_loans_may_come_in_a_later_import_for_a_borrower_already_stored(tmp_path: Path) -> None:
    store = MemoryStore()
    run_import(store, write(tmp_path, "b.csv", BORROWERS), write(tmp_path, "l.csv", LOANS))
    # The same loan again, alone: its stored borrower is used.
    result = run_import(store, write(tmp_path, "l2.csv", LOANS))
    assert result.counts == {"borrowers": 0, "loans": 2, "payments": 0}


def test_a_payment_imported_twice_is_written_once(tmp_path: Path) -> None:
    store = MemoryStore()
    files = good_files(tmp_path)
    run_import(store, *files)
    again = run_import(store, files[2])
    assert again.counts["payments"] == 0
    assert again.not_written == ("payments.jsonl:1: payment 'P1' is already stored",)
    with store() as uow:
        assert len(uow.events.stream("L1")) == 1


def test_a_changed_loan_with_payments_is_not_replaced_without_the_flag(tmp_path: Path) -> None:
    store = MemoryStore()
    run_import(store, *good_files(tmp_path))
    changed = write(tmp_path, "changed.csv", LOANS.replace("0.12,", "0.10,"))
    borrowers = write(tmp_path, "b2.csv", BORROWERS)
    with pytest.raises(ImportRejectedError) as info:
        run_import(store, borrowers, changed)
    assert info.value.problems[0].startswith("changed.csv:2: id='L1': already stored with other")
    assert "--replace-loans-with-payments" in info.value.problems[0]
    with store() as uow:
        stored = uow.loans.get("L1")
        assert stored is not None
        assert str(stored.annual_rate) == "0.12"
    run_import(store, borrowers, changed, replace=True)
    with store() as uow:
        stored = uow.loans.get("L1")
        assert stored is not None
        assert str(stored.annual_rate) == "0.10"


def test_an_unchanged_loan_with_payments_may_be_imported_again(tmp_path: Path) -> None:
    store = MemoryStore()
    files = good_files(tmp_path)
    run_import(store, *files)
    assert run_import(store, files[0], files[1]).counts["loans"] == 2


# -- templates ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "tag"),
    [
        ('{% include "other.txt" %}', "include"),
        ('{% import "macros.txt" as m %}{{ amount_due }}', "import"),
        ('{% from "macros.txt" import x %}', "from ... import"),
        ('{% extends "base.txt" %}', "extends"),
    ],
)
def test_a_template_that_includes_imports_or_extends_is_refused_at_load(
    source: str, tag: str
) -> None:
    spec = TemplateSpec(name="t", channel="sms", locale="en_US", source="Hello\n" + source)
    with pytest.raises(ConfigurationError) as info:
        TemplateCatalog([spec])
    assert f"sms/t/en_US: {{% {tag} %}} on line 2 of the text part is not allowed" in str(
        info.value
    )


def test_an_html_part_that_includes_is_refused_at_load() -> None:
    spec = TemplateSpec(
        name="t", channel="email", locale="en_US", source="x", html='{% include "a" %}'
    )
    with pytest.raises(ConfigurationError, match="of the html part is not allowed"):
        TemplateCatalog([spec])


def test_a_template_error_at_render_is_a_configuration_error() -> None:
    spec = TemplateSpec(name="t", channel="sms", locale="en_US", source="{{ 1 // 0 }}")
    with pytest.raises(ConfigurationError, match="ZeroDivisionError"):
        TemplateCatalog([spec]).validate()


# -- the command line -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://app:s3cret@db.example/collect", "app:***@db.example"),
        ("postgresql://app:p%40ss@db:5432/x?sslmode=require", "app:***@db:5432"),
        ("postgresql://db/x?user=app&password=s3cret", "password=***"),
    ],
)
def test_urls_are_shown_with_the_password_hidden(url: str, shown: str) -> None:
    assert shown in hide_password(url)
    assert "s3cret" not in hide_password(url)
    assert "p%40ss" not in hide_password(url)


def test_the_cli_never_prints_a_database_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://app:s3cret-pw@127.0.0.1:1/nodb"
    runner = CliRunner()
    for args in (
        ("import", "--db", url, str(write(tmp_path, "b.csv", BORROWERS))),
        ("migrate", "--db", url),
        ("run", "--db", url, "--as-of", "2025-03-01"),
        ("report", "--db", url),
        ("import", "--db", url.replace("postgresql+psycopg", "nosuch"), str(tmp_path / "b.csv")),
    ):
        result = runner.invoke(main, list(args))
        assert result.exit_code != 0
        assert "s3cret-pw" not in result.output, result.output
        assert "***" in result.output or "nosuch" in result.output
