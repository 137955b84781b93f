"""The command line says what it does: missing channels, mistyped paths and names,
tables that stay readable, the report's charts.

Runs ``loancollect`` in-process through click's runner on SQLite files.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from loancollect.cli import _rich_table, main
from loancollect.reporting import Table

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "docs" / "examples" / "default_policy.toml"

BORROWERS = """\
id,kind,name,jurisdiction,time_zone,locale,phone,email,address
B1,individual,Wang Fang,CN,Asia/Shanghai,zh_CN,+86 138 0013 8000,wang@example.com,1 Renmin Road
B2,company,Riverside Supply LLC,US,America/New_York,en_US,+1 212 555 0100,,
"""
LOANS = """\
id,borrower_id,currency,principal,annual_rate,disbursement_date,term,method,product
L1,B1,CNY,12000.00,0.12,2025-01-15,12,equal_installment,consumer
L2,B2,USD,50000,0.08,2025-01-20,6,interest_only_bullet,business
"""


WITHOUT_PHONE_AND_VISITS = "email,letter,sms,sqlalchemy,rules-cn,rules-eu,rules-uk,rules-us"
"""Installed plug-ins but the phone and visit channels, which the default policy uses."""


def invoke(*args: str | Path, columns: int = 200, plugins: str | None = None) -> Result:
    """Run the command in-process; never let exceptions escape.

    :param plugins: load only these installed plug-ins (``LOANCOLLECT_LOAD_PLUGINS``).
    """
    env = {"COLUMNS": str(columns)}
    if plugins is not None:
        env["LOANCOLLECT_LOAD_PLUGINS"] = plugins
    runner = CliRunner(env=env)
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=True)
    assert "Traceback" not in result.output
    return result


def sqlite(path: Path) -> str:
    """The storage URL of a SQLite file."""
    return f"sqlite:///{path.as_posix()}"


@pytest.fixture
def imported(tmp_path: Path) -> str:
    """A database made by ``migrate`` holding two borrowers and their loans."""
    url = sqlite(tmp_path / "l.db")
    assert invoke("migrate", "--db", url).exit_code == 0
    (tmp_path / "borrowers.csv").write_text(BORROWERS, encoding="utf-8")
    (tmp_path / "loans.csv").write_text(LOANS, encoding="utf-8")
    result = invoke(
        "import",
        "--db",
        url,
        "--review-on",
        "2025-03-01",
        tmp_path / "borrowers.csv",
        tmp_path / "loans.csv",
    )
    assert result.exit_code == 0, result.output
    return url


def settings_file(tmp_path: Path) -> Path:
    """Channel settings: e-mail and letters to local files; no SMS gateway configured."""
    path = tmp_path / "channels.toml"
    path.write_text(
        f'[email]\nmode = "file"\ndir = "{(tmp_path / "mail").as_posix()}"\n'
        'from = "ops@lender.example"\n'
        f'[letter]\ndir = "{(tmp_path / "letters").as_posix()}"\n',
        encoding="utf-8",
    )
    return path


# -- missing channels -----------------------------------------------------------------------
def test_run_names_each_missing_channel_says_what_happens_and_exits_0(
    imported: str, tmp_path: Path
) -> None:
    result = invoke(
        "run",
        *("--db", imported, "--as-of", "2025-03-20", "--channels", settings_file(tmp_path)),
        "--placeholder-lender",
        plugins=WITHOUT_PHONE_AND_VISITS,
    )
    out = " ".join(result.output.split())
    assert "channel 'phone' is not provided by any installed plug-in" in out
    assert "channel 'visit' is not provided by any installed plug-in" in out
    assert "further.visit held" in out
    # SMS is installed but has no settings: its rules are held too, and said so.
    assert "channel 'sms' is not configured" in out
    assert re.search(r"failed\s+│\s+0\b", result.output), result.output
    assert result.exit_code == 0, result.output


def test_a_missing_channel_goes_through_its_configured_fallback(
    imported: str, tmp_path: Path
) -> None:
    # The first call rule (template "reminder", which letters have) falls back to a letter;
    # the visit's template has no letter version, so the visit is held.
    policy = DEFAULT_POLICY.read_text(encoding="utf-8")
    policy = policy.replace('channel = "phone"', 'channel = "phone"\nfallbacks = ["letter"]', 1)
    policy = policy.replace('channel = "visit"', 'channel = "visit"\nfallbacks = ["letter"]', 1)
    assert policy.count('fallbacks = ["letter"]') == 2
    path = tmp_path / "policy.toml"
    path.write_text(policy, encoding="utf-8")
    result = invoke(
        "run",
        "--placeholder-lender",
        "--db",
        imported,
        "--as-of",
        "2025-03-20",
        "--policy",
        path,
        "--channels",
        settings_file(tmp_path),
    )
    out = " ".join(result.output.split())
    assert "early.call go through 'letter' (configured fallback)" in out
    assert "further.visit held" in out
    assert result.exit_code == 0, result.output


# -- no database made by mistake ------------------------------------------------------------
@pytest.mark.parametrize("command", ["run", "report", "import"])
def test_a_mistyped_database_path_is_an_error_naming_the_missing_file(
    command: str, tmp_path: Path
) -> None:
    db = tmp_path / "typo.db"
    extra: tuple[str | Path, ...] = {
        "run": ("--as-of", "2025-03-20", "--placeholder-lender"),
        "report": (),
        "import": (DEFAULT_POLICY,),
    }[command]
    result = invoke(command, "--db", sqlite(db), *extra)
    assert result.exit_code == 2, result.output
    assert f"no such database file {db}" in " ".join(result.output.split())
    assert "loancollect migrate" in result.output
    assert not db.exists()


def test_a_mistyped_folder_is_named(tmp_path: Path) -> None:
    db = tmp_path / "no-such-folder" / "x.db"
    result = invoke("report", "--db", sqlite(db))
    assert result.exit_code == 2
    assert f"no such folder {db.parent}" in " ".join(result.output.split())
    assert not db.parent.exists()


def test_only_migrate_creates_a_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    assert invoke("migrate", "--db", sqlite(db)).exit_code == 0
    assert db.exists()


# -- check-policy ---------------------------------------------------------------------------
def _policy(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_check_policy_lists_the_allowed_values_of_a_mistyped_tone(tmp_path: Path) -> None:
    result = invoke("check-policy", _policy(tmp_path, 'tone = "firm"', 'tone = "frim"'))
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "unknown value 'frim'" in out
    assert "allowed: ['final_notice', 'firm', 'legal_warning', 'reminder']" in out
    assert "did you mean 'firm'?" in out


def test_check_policy_refuses_a_negative_day_count(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    number = re.search(r"min_dpd = (\d+)", text)
    assert number is not None
    result = invoke("check-policy", _policy(tmp_path, number.group(0), "min_dpd = -4"))
    assert result.exit_code == 2
    assert "min_dpd: -4 is out of range: must be 0 or more" in " ".join(result.output.split())


def test_check_policy_names_a_mistyped_channel_and_the_installed_ones(tmp_path: Path) -> None:
    result = invoke("check-policy", _policy(tmp_path, 'channel = "email"', 'channel = "emial"'))
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "unknown channel 'emial'" in out
    assert "did you mean 'email'?" in out
    assert "sms" in out.split("unknown channel 'emial'")[1]


def test_check_policy_names_a_template_missing_for_its_channel(tmp_path: Path) -> None:
    result = invoke(
        "check-policy",
        _policy(tmp_path, 'template = "final_notice"', 'template = "final_notise"'),
    )
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "no template 'final_notise' for channel" in out
    assert "did you mean 'final_notice'?" in out


def test_check_policy_says_what_a_run_does_with_a_channel_nobody_provides() -> None:
    result = invoke("check-policy", DEFAULT_POLICY, plugins=WITHOUT_PHONE_AND_VISITS)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "channel 'visit' is not provided by any installed plug-in" in out
    assert "policy OK" in out


# -- tables ---------------------------------------------------------------------------------
def test_tables_keep_ids_whole_at_80_columns_and_when_piped() -> None:
    ids = [f"LOAN-2025-{n:06d}-CONSUMER-SHANGHAI" for n in range(3)]
    table = Table(
        "wide",
        "A wide table",
        ("loan", "stage", "overdue", "penalty", "paid", "outstanding", "note"),
        tuple(
            (i, "late_collection", "¥123,456.78", "¥1,234.56", "¥0.00", "¥124,691.34", "x" * 30)
            for i in ids
        ),
    )
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(_rich_table(table))  # a file: as when piped
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    for loan in ids:
        assert loan in text
    assert "…" not in text


# -- charts ---------------------------------------------------------------------------------
def test_report_writes_png_charts_with_the_charts_extra(tmp_path: Path) -> None:
    import matplotlib  # the charts extra, installed by scripts/setup.sh: never skipped

    assert matplotlib.__version__
    demo = invoke(
        "demo", "--loans", "20", "--days", "10", "--seed", "5", "--out", tmp_path / "demo"
    )
    assert demo.exit_code == 0, demo.output
    for name in ("vintages.png", "stages.png"):
        png = tmp_path / "demo" / "report" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 1000


def test_an_empty_champion_challenger_table_says_why(imported: str, tmp_path: Path) -> None:
    assert invoke("run", "--db", imported, "--as-of", "2025-03-20", "--no-dispatch").exit_code == 0
    result = invoke(
        "report", "--db", imported, "--from", "2025-03-01", "--to", "2025-03-20", columns=300
    )
    assert result.exit_code == 0, result.output
    assert "no case had a strategy variant assigned on" in " ".join(result.output.split())


# -- import progress ------------------------------------------------------------------------
def test_import_shows_the_rows_read_and_the_rate(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "p.db")
    assert invoke("migrate", "--db", url).exit_code == 0
    borrowers = tmp_path / "borrowers.csv"
    lines = [BORROWERS.splitlines()[0]]
    lines += [
        f"B{n},individual,Name {n},CN,Asia/Shanghai,zh_CN,+86 138 0013 {n:04d},,"
        for n in range(2500)
    ]
    borrowers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke("import", "--db", url, "--review-on", "2025-03-01", borrowers)
    assert result.exit_code == 0, result.output
    assert re.search(r"reading rows\s+2,500 rows\s+[\d,]+ rows/s", result.output), result.output
