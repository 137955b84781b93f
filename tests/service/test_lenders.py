"""Lender profiles: per product and language, chosen per message; ``run`` refuses the
placeholder profile unless told it is a demo or a test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from loancollect.cli import main
from loancollect.engine.clock import SystemClock
from loancollect.errors import ConfigurationError
from loancollect.lenders import loads_lenders

PROFILES = """\
[[lender]]
name = "Example Lending Ltd"
phone = "0800 123 4567"
address = "1 High Street, Leeds LS1 1AA"
licence = "Authorised and regulated by the FCA (FRN 123456)"
how_to_pay = "Pay online at example.co.uk/pay quoting your loan number."

[[lender]]
locale = "zh"
name = "示例消费金融有限公司"
phone = "400-800-1234"
how_to_pay = "请通过示例金融App还款。"

[[lender]]
locale = "zh_CN"
product = "auto"
name = "示例汽车金融"
phone = "400-800-9999"
how_to_pay = "请在汽车金融App还款。"

[[lender]]
tenant = "acme"
product = "consumer"
name = "Acme Consumer Credit"
phone = "0800 000 0001"
how_to_pay = "Pay at acme.example."
"""


def test_the_most_specific_profile_signs_each_message() -> None:
    book = loads_lenders(PROFILES).for_tenant("default")
    assert book.for_message("consumer", "en_GB").name == "Example Lending Ltd"
    assert book.for_message("consumer", "zh_CN").name == "示例消费金融有限公司"
    assert book.for_message("consumer", "zh_TW").name == "示例消费金融有限公司"
    assert book.for_message("auto", "zh_CN").name == "示例汽车金融"
    assert book.for_message("auto", "zh_TW").name == "示例消费金融有限公司"


def test_a_tenant_sees_its_own_profiles_and_the_shared_ones() -> None:
    book = loads_lenders(PROFILES)
    assert book.for_tenant("acme").for_message("consumer", "en_US").name == "Acme Consumer Credit"
    assert book.for_tenant("other").for_message("consumer", "en_US").name == "Example Lending Ltd"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[lender]]\nlocale = "zh"\nname = "x"\nphone = "1"\nhow_to_pay = "y"\n', "default"),
        ('[[lender]]\nname = "x"\nphone = "1"\n', "lender[0].how_to_pay: required"),
        ('[[lender]]\nname = "x"\nphone = 1\nhow_to_pay = "y"\n', "lender[0].phone: expected text"),
        ('[[lender]]\nname = "x"\nphone = "1"\nhow_to_pay = "y"\nfax = "2"\n', "unknown key"),
        ('[lender]\nname = "x"\n', "no [[lender]] profile"),
        ("[[lender]\n", "lenders.toml"),
    ],
)
def test_bad_profiles_are_refused_naming_the_profile_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[")):
        loads_lenders(text)


# -- the command ----------------------------------------------------------------------------
BORROWERS = """\
id,kind,name,jurisdiction,time_zone,locale,phone,email,address
B1,individual,Wang Fang,CN,Asia/Shanghai,zh_CN,+86 138 0013 8000,wang@example.com,1 Renmin Road
"""
LOANS = """\
id,borrower_id,currency,principal,annual_rate,disbursement_date,term,method,product
L1,B1,CNY,12000.00,0.12,2025-01-15,12,equal_installment,consumer
"""


def invoke(*args: str | Path) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return f"{result.exit_code}:{result.output}"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{(tmp_path / 'l.db').as_posix()}"
    assert invoke("migrate", "--db", url).startswith("0:")
    (tmp_path / "b.csv").write_text(BORROWERS, encoding="utf-8")
    (tmp_path / "l.csv").write_text(LOANS, encoding="utf-8")
    out = invoke(
        "import",
        "--db",
        url,
        "--review-on",
        "2025-03-01",
        *(tmp_path / n for n in ("b.csv", "l.csv")),
    )
    assert out.startswith("0:"), out
    return url


def test_run_refuses_to_send_with_the_placeholder_profile(db: str) -> None:
    out = invoke("run", "--db", db, "--as-of", "2025-03-20")
    assert out.startswith("2:")
    assert "no lender profile" in out
    assert "--placeholder-lender" in out
    # Reviewing only sends nothing, so needs no profile.
    assert invoke("run", "--db", db, "--as-of", "2025-03-20", "--no-dispatch").startswith("0:")


def test_run_signs_a_chinese_letter_with_the_chinese_profile(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run sends "now": 10:00 in Shanghai on the business day, inside the allowed hours.
    noon = dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC)
    monkeypatch.setattr(SystemClock, "now", lambda self: noon)
    (tmp_path / "lenders.toml").write_text(PROFILES, encoding="utf-8")
    letters = tmp_path / "letters"
    (tmp_path / "channels.toml").write_text(f'[letter]\ndir = "{letters.as_posix()}"\n')
    out = invoke(
        "run",
        *("--db", db, "--as-of", "2025-03-20", "--channels", tmp_path / "channels.toml"),
        *("--lender", tmp_path / "lenders.toml"),
    )
    assert out.startswith("0:"), out
    (pdf,) = letters.glob("*.pdf")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "示例消费金融有限公司" in text
    assert "400-800-1234" in text
    assert "请通过示例金融App还款。" in text
    assert "400-000-0000" not in text


def test_a_bad_profiles_file_is_a_user_error(db: str, tmp_path: Path) -> None:
    (tmp_path / "lenders.toml").write_text('[[lender]]\nname = "x"\n', encoding="utf-8")
    out = invoke("run", "--db", db, "--as-of", "2025-03-20", "--lender", tmp_path / "lenders.toml")
    assert out.startswith("2:")
    assert "lender[0].phone: required" in out
