"""The ``loancollect`` command through click's runner, and once as a real process.

The demo runs a small portfolio on SQLite (``memory:`` would give every
invocation a new, empty store). User errors exit with 2 and one message, never a
traceback.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest
from click.testing import CliRunner, Result

import loancollect.cli as cli
from loancollect.cli import main
from loancollect.engine import CollectionEngine
from loancollect.plugins import make_plugin_manager
from loancollect.registry import open_storage
from loancollect.testing import FixedClock

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY = ROOT / "docs" / "examples" / "default_policy.toml"
DEMO = ("demo", "--loans", "30", "--days", "20", "--seed", "3")


def invoke(*args: str | Path) -> Result:
    """Run the command in-process with a wide terminal; never let exceptions escape."""
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=True)
    assert "Traceback" not in result.output
    return result


def user_error(result: Result) -> str:
    """The output of a run that must have failed as a user error."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.output


def sqlite(path: Path) -> str:
    """The storage URL of a SQLite file."""
    return f"sqlite:///{path.as_posix()}"


def migrated(path: Path) -> str:
    """The storage URL of a new SQLite database made by ``loancollect migrate`` (the only
    command that creates one)."""
    url = sqlite(path)
    result = invoke("migrate", "--db", url)
    assert result.exit_code == 0, result.output
    return url


def copy_db(source: Path, target: Path) -> Path:
    """Copy an SQLite database with its WAL files (the log holds the recent writes)."""
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{source}{suffix}")
        if part.exists():
            Path(f"{target}{suffix}").write_bytes(part.read_bytes())
    return target


def loan_ids(url: str) -> list[str]:
    """Every loan id stored at ``url``."""
    storage = open_storage(make_plugin_manager(load_entrypoints=True), url)
    with storage() as uow:
        return uow.loans.list_ids(limit=None)


# -- demo --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    """Two demo runs with the same seed into separate databases and directories."""
    base = tmp_path_factory.mktemp("demo")
    first = invoke(*DEMO, "--db", sqlite(base / "a.db"), "--out", base / "a")
    assert first.exit_code == 0, first.output
    second = invoke(*DEMO, "--db", sqlite(base / "b.db"), "--out", base / "b")
    assert second.exit_code == 0, second.output
    return base / "a", base / "b", first


def test_demo_prints_the_cycle_summary_and_the_report(
    demo_runs: tuple[Path, Path, Result],
) -> None:
    first, _, result = demo_runs
    out = result.output
    assert "30 loans, 20 days from 2025-01-01, seed 3" in out
    assert "Cycle summary" in out
    for title in ("Portfolio on 2025-01-20", "Roll rates", "Promises and contacts", "Vintage"):
        assert title in out
    assert "Champion vs challenger (2025-01-01 → 2025-01-20)" in out
    # the report's 14 tables, and those of installed plug-ins (loancollect_report_tables)
    written = re.search(r"CSV files: (\d+) in", out)
    assert written is not None
    assert int(written.group(1)) == len(list((first / "report").glob("*.csv"))) >= 14


def test_the_demos_summary_and_its_report_count_the_same_actions(
    demo_runs: tuple[Path, Path, Result],
) -> None:
    _, _, result = demo_runs

    def rows(title: str) -> dict[str, str]:
        lines = result.output.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith(title))
        found = {}
        for line in lines[start:]:
            if line.startswith("└"):
                break
            if line.startswith("│"):
                name, count = (cell.strip() for cell in line.strip("│").split("│"))
                found[name] = count
        return found

    summary, report = rows("Cycle summary"), rows("Collection activity")
    shared = set(summary) & set(report)
    assert {"stage changes", "actions planned", "actions sent", "actions blocked"} <= shared
    assert {n: summary[n] for n in shared} == {n: report[n] for n in shared}
    assert int(summary["actions sent"]) > 0


def test_demo_writes_what_was_sent_and_the_report(demo_runs: tuple[Path, Path, Result]) -> None:
    out, _, _ = demo_runs
    sms = (out / "messages" / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert sms
    assert {"key", "loan_id", "text", "to"} <= set(json.loads(sms[0]))
    assert list((out / "email").glob("*.eml"))
    assert list((out / "letters").glob("*.pdf"))
    report = {p.name for p in (out / "report").glob("*.csv")}
    assert {"portfolio.csv", "roll_rates.csv", "vintages.csv", "variants.csv"} <= report


def test_demo_is_deterministic_for_a_seed(demo_runs: tuple[Path, Path, Result]) -> None:
    a, b, _ = demo_runs
    for sub in ("report", "messages", "letters"):
        names = sorted(p.name for p in (a / sub).iterdir())
        assert names == sorted(p.name for p in (b / sub).iterdir())
        for name in names:
            assert (a / sub / name).read_bytes() == (b / sub / name).read_bytes(), (sub, name)
    emails = sorted(p.name for p in (a / "email").iterdir())
    assert emails == sorted(p.name for p in (b / "email").iterdir())
    for name in emails:  # byte for byte: even the MIME boundary comes from the key
        assert (a / "email" / name).read_bytes() == (b / "email" / name).read_bytes(), name


def test_demo_refuses_a_database_that_holds_loans(
    demo_runs: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    a, _, _ = demo_runs
    db = sqlite(a.parent / "a.db")
    out = user_error(invoke(*DEMO, "--db", db, "--out", tmp_path / "again"))
    assert "already holds loans" in out


def test_demo_never_clears_a_directory_it_did_not_write(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete", encoding="utf-8")
    out = user_error(invoke(*DEMO, "--out", precious))
    assert "not a demo output directory" in out
    assert (precious / "thesis.txt").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--loans", "0"), "--loans and --days must be at least 1"),
        (("--start", "2025-02-30"), "--start: '2025-02-30' is not a date"),
        (("--db", "nosuch://x"), "nosuch"),
    ],
)
def test_demo_user_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    out = user_error(invoke("demo", "--out", tmp_path / "o", *args))
    assert message in out


# -- import --------------------------------------------------------------------------------
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
SCHEDULES = """\
loan_id,number,due_date,principal,interest
L2,1,2025-02-20,0,333.33
L2,2,2025-03-20,50000,333.33
"""
PAYMENTS = (
    '{"id": "P1", "loan_id": "L1", "amount": "1066.19", "currency": "CNY", '
    '"value_date": "2025-02-15", "received_at": "2025-02-15T09:30:00+08:00"}\n'
    '{"id": "P2", "loan_id": "L2", "amount": "333.33", "currency": "USD", '
    '"value_date": "2025-02-20", "received_at": "2025-02-20T10:00:00-05:00"}\n'
)
BAD_LOANS = """\
id,borrower_id,currency,principal,annual_rate,disbursement_date,term
L3,B1,CNY,abc,0.12,2025-01-15,12
L4,B1,CNY,1000,0.12,2025-13-01,12
L5,B9,CNY,1000,0.12,2025-01-01,12
L6,B1,XXX,1000,0.12,2025-01-15,12
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The import files, written to a temporary directory."""
    out = {}
    for name, text in (
        ("borrowers.csv", BORROWERS),
        ("loans.csv", LOANS),
        ("schedules.csv", SCHEDULES),
        ("payments.jsonl", PAYMENTS),
        ("bad_loans.csv", BAD_LOANS),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        out[name.split(".")[0]] = path
    return out


def test_import_good_files(files: dict[str, Path], tmp_path: Path) -> None:
    db = migrated(tmp_path / "i.db")
    result = invoke(
        "import",
        "--db",
        db,
        "--review-on",
        "2025-03-01",
        files["borrowers"],
        files["loans"],
        files["schedules"],
        files["payments"],
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 borrowers" in result.output
    assert "imported 2 loans" in result.output
    assert "imported 2 payments" in result.output
    assert loan_ids(db) == ["L1", "L2"]
    storage = open_storage(make_plugin_manager(load_entrypoints=True), db)
    with storage() as uow:
        l2 = uow.loans.get("L2")
        assert l2 is not None
        assert [str(i.due_date) for i in l2.installments] == ["2025-02-20", "2025-03-20"]
        assert [p.id for p in uow.loans.payments_for("L1")] == ["P1"]


def test_import_bad_row_imports_nothing_and_names_file_line_and_field(
    files: dict[str, Path], tmp_path: Path
) -> None:
    db = migrated(tmp_path / "i.db")
    out = user_error(invoke("import", "--db", db, files["borrowers"], files["bad_loans"]))
    assert "bad_loans.csv:2: principal='abc'" in out
    assert "bad_loans.csv:3: disbursement_date='2025-13-01'" in out
    assert "bad_loans.csv:4: borrower_id='B9'" in out
    assert "bad_loans.csv:5: currency='XXX'" in out
    assert "nothing imported: 4 bad row(s)" in out
    assert loan_ids(db) == []


def test_import_skip_bad_imports_the_good_rows_and_writes_rejects(
    files: dict[str, Path], tmp_path: Path
) -> None:
    db = migrated(tmp_path / "i.db")
    rejects = tmp_path / "rejects.jsonl"
    result = invoke(
        "import",
        "--db",
        db,
        "--skip-bad",
        "--rejects",
        rejects,
        files["borrowers"],
        files["loans"],
        files["bad_loans"],
        files["payments"],
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 loans" in result.output
    assert "4 bad row(s) written to" in result.output
    assert loan_ids(db) == ["L1", "L2"]
    lines = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert [x["problem"].split(":")[:2] for x in lines] == [
        ["bad_loans.csv", "2"],
        ["bad_loans.csv", "3"],
        ["bad_loans.csv", "4"],
        ["bad_loans.csv", "5"],
    ]
    assert lines[0]["row"]["id"] == "L3"


def test_import_payment_currency_is_checked_against_its_own_loan(
    files: dict[str, Path], tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(PAYMENTS.replace('"USD"', '"CNY"'), encoding="utf-8")
    out = user_error(
        invoke(
            "import", "--db", migrated(tmp_path / "i.db"), files["borrowers"], files["loans"], wrong
        )
    )
    assert "wrong.jsonl:2: currency='CNY': the loan is in USD" in out


def test_import_payments_alone_for_unknown_loans(tmp_path: Path) -> None:
    payments = tmp_path / "payments.jsonl"
    payments.write_text(PAYMENTS, encoding="utf-8")
    out = user_error(invoke("import", "--db", migrated(tmp_path / "i.db"), payments))
    assert "payments.jsonl:1: loan_id='L1': no such loan" in out


def test_import_file_of_unknown_columns(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("colour,size\nred,3\n", encoding="utf-8")
    out = user_error(invoke("import", "--db", migrated(tmp_path / "i.db"), odd))
    assert "odd.csv" in out
    assert "columns match no record kind" in out


def test_import_broken_json_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "P1"\n', encoding="utf-8")
    out = user_error(invoke("import", "--db", migrated(tmp_path / "i.db"), broken))
    assert "broken.jsonl:1" in out
    assert "not JSON" in out


def test_import_in_two_processes_stores_what_one_process_stores(
    files: dict[str, Path], tmp_path: Path
) -> None:
    stored = {}
    for processes in ("1", "2"):
        db = migrated(tmp_path / f"p{processes}.db")
        result = invoke(
            "import",
            "--db",
            db,
            "--review-on",
            "2025-03-01",
            "--processes",
            processes,
            files["borrowers"],
            files["loans"],
            files["schedules"],
        )
        assert result.exit_code == 0, result.output
        assert "imported 2 loans" in result.output
        storage = open_storage(make_plugin_manager(load_entrypoints=True), db)
        with storage() as uow:
            stored[processes] = [uow.loans.get(x) for x in ("L1", "L2")]
    assert stored["1"] == stored["2"]
    assert None not in stored["2"]


def test_import_refuses_fewer_than_one_process(files: dict[str, Path], tmp_path: Path) -> None:
    result = invoke(
        "import", "--db", migrated(tmp_path / "i.db"), "--processes", "0", files["borrowers"]
    )
    assert result.exit_code == 2
    assert "--processes" in result.output


# -- run -----------------------------------------------------------------------------------
def test_run_reviews_the_cases_of_an_imported_database(
    files: dict[str, Path], tmp_path: Path
) -> None:
    db = migrated(tmp_path / "i.db")
    args = ("import", "--db", db, "--review-on", "2025-03-01")
    assert invoke(*args, files["borrowers"], files["loans"]).exit_code == 0
    result = invoke("run", "--db", db, "--as-of", "2025-03-20", "--no-dispatch")
    assert result.exit_code == 0, result.output
    assert "Cycle summary" in result.output
    assert re.search(r"reviewed\s+│\s+2\b", result.output)
    assert re.search(r"actions planned\s+│\s+[1-9]", result.output)


@pytest.fixture
def office_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """``run`` reads the wall clock: pin it at 10:00 UTC, inside the calling hours of
    London and Shanghai, so whether the run's actions may be sent does not depend on
    the hour the tests run at (the cases due differ with the installed demo parts)."""
    at = pendulum.datetime(2025, 1, 21, 10, tz="UTC")
    monkeypatch.setattr(
        cli, "CollectionEngine", functools.partial(CollectionEngine, clock=FixedClock(at))
    )


@pytest.mark.usefixtures("office_hours")
def test_run_whose_sends_fail_reports_the_problems_with_exit_code_1(
    demo_runs: tuple[Path, Path, Result], tmp_path: Path, refusing_gateway: str
) -> None:
    a, _, _ = demo_runs
    db = copy_db(a.parent / "a.db", tmp_path / "copy.db")
    settings = tmp_path / "channels.toml"
    settings.write_text(f'[sms]\nurl = "{refusing_gateway}"\n', encoding="utf-8")
    # The first day after the demo with a text due: the gateway refuses it for good.
    for day in range(21, 32):
        result = invoke(
            "run",
            *("--db", sqlite(db), "--as-of", f"2025-01-{day}", "--channels", str(settings)),
            "--placeholder-lender",
        )
        assert "Traceback" not in result.output
        if result.exit_code != 0:
            break
    assert result.exit_code == 1, result.output
    assert "problem" in result.output
    assert "gateway answered 400" in result.output


@pytest.mark.usefixtures("office_hours")
def test_run_sends_through_channels_configured_in_a_settings_file(
    demo_runs: tuple[Path, Path, Result], tmp_path: Path
) -> None:
    a, _, _ = demo_runs
    db = copy_db(a.parent / "a.db", tmp_path / "copy.db")
    mail, letters = tmp_path / "mail", tmp_path / "letters"
    settings = tmp_path / "channels.toml"
    settings.write_text(
        f'[email]\nmode = "file"\ndir = "{mail.as_posix()}"\nfrom = "ops@lender.example"\n'
        f'[letter]\ndir = "{letters.as_posix()}"\n',
        encoding="utf-8",
    )
    # The first day after the demo that has an e-mail or a letter due (the demo's course
    # depends on the demo parts installed).
    for day in range(21, 32):
        as_of = f"2025-01-{day}"
        result = invoke(
            "run",
            *("--db", sqlite(db), "--as-of", as_of, "--channels", str(settings)),
            "--placeholder-lender",
        )
        assert "Traceback" not in result.output
        if day == 21:  # the demo left cases due for review
            assert re.search(r"reviewed\s+│\s+[1-9]", result.output)
        sent = list(mail.glob("*.eml")) + list(letters.glob("*.pdf"))
        if sent:
            break
    assert sent, result.output


def test_a_bad_channels_file_is_a_user_error(tmp_path: Path) -> None:
    settings = tmp_path / "channels.toml"
    settings.write_text("email = 3\n", encoding="utf-8")
    out = user_error(
        invoke(
            "run",
            "--placeholder-lender",
            "--db",
            migrated(tmp_path / "r.db"),
            "--as-of",
            "2025-01-21",
            "--channels",
            str(settings),
        )
    )
    assert "must be a table" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--as-of", "yesterday"), "--as-of: 'yesterday' is not a date"),
        (("--as-of", "2025-01-21", "--workers", "0"), "--workers must be at least 1"),
        (("--as-of", "2025-01-21", "--workers", "2"), "cannot share a day between workers"),
    ],
)
def test_run_user_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    out = user_error(
        invoke("run", "--db", migrated(tmp_path / "r.db"), "--placeholder-lender", *args)
    )
    assert message in out


def test_run_needs_db_and_as_of() -> None:
    result = invoke("run")
    assert result.exit_code == 2
    assert "Missing option '--db'" in result.output


def test_unknown_storage_scheme_is_a_user_error() -> None:
    out = user_error(
        invoke("run", "--db", "nosuch://x", "--as-of", "2025-01-01", "--placeholder-lender")
    )
    assert "nosuch" in out


def test_unopenable_database_is_a_user_error(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "no" / "such" / "dir" / "x.db")
    out = user_error(invoke("migrate", "--db", url))
    assert "cannot open" in out


# -- report --------------------------------------------------------------------------------
def test_report_writes_csv_and_explains_the_charts_extra(
    demo_runs: tuple[Path, Path, Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    a, _, _ = demo_runs
    out_dir = tmp_path / "rep"
    result = invoke(
        "report",
        "--db",
        sqlite(a.parent / "a.db"),
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-20",
        "--out",
        out_dir,
    )
    assert result.exit_code == 0, result.output
    assert "Portfolio on 2025-01-20" in result.output
    assert "pip install 'loancollect[charts]'" in result.output
    assert not list(out_dir.glob("*.png"))
    # The same window as the demo's own report: the same numbers.
    for path in sorted(out_dir.glob("*.csv")):
        assert path.read_bytes() == (a / "report" / path.name).read_bytes(), path.name
    with (out_dir / "portfolio.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["currency", "loans", "balance", "overdue", "loans past due", "NPL ratio"]
    assert sum(int(r[1]) for r in rows[1:]) == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-03-01", "--to", "2025-01-01"), "is after --to"),
        (("--to", "soon"), "--to: 'soon' is not a date"),
        ((), "the database holds no loans"),
    ],
)
def test_report_user_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    out = user_error(invoke("report", "--db", migrated(tmp_path / "empty.db"), *args))
    assert message in out


# -- plugins, check-policy, migrate ------------------------------------------------------------
def test_plugins_lists_built_ins_and_installed_plugins_with_versions() -> None:
    from importlib.metadata import version

    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "loancollect.builtin" in out
    assert "loancollect_register_storage" in out
    for dist in ("loancollect-sqlalchemy", "loancollect-email", "loancollect-letters"):
        line = next(x for x in out.splitlines() if dist in x)
        assert version(dist) in line


def test_check_policy_prints_stages_and_strategies() -> None:
    result = invoke("check-policy", DEFAULT_POLICY)
    assert result.exit_code == 0, result.output
    assert "Policy 'default'" in result.output
    assert "early_collection" in result.output
    assert "Strategy" in result.output
    assert "policy OK" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[policy]\nname = "x"\nbogus = 1\n', "bad.toml:3: policy.bogus: unknown key"),
        ('[policy\nname = "x"\n', "bad.toml:1: <syntax>"),
    ],
)
def test_check_policy_broken_file_names_line_and_key(
    text: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    out = user_error(invoke("check-policy", path))
    assert message in out


def test_check_policy_missing_file() -> None:
    result = invoke("check-policy", "no-such-policy.toml")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_check_policy_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    out = user_error(invoke("check-policy", path))
    assert "cannot read the policy" in out


def test_migrate_sqlite_reports_the_revision(tmp_path: Path) -> None:
    result = invoke("migrate", "--db", sqlite(tmp_path / "m.db"))
    assert result.exit_code == 0, result.output
    assert re.search(r"schema at revision \w+ \(newest: \w+\)", result.output)
    again = invoke("migrate", "--db", sqlite(tmp_path / "m.db"))
    assert again.output == result.output


def test_migrate_memory_has_no_migrations() -> None:
    result = invoke("migrate", "--db", "memory:")
    assert result.exit_code == 0
    assert "this storage backend has no migrations" in result.output


def test_version_and_help() -> None:
    assert invoke("--version").exit_code == 0
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("demo", "run", "import", "report", "plugins", "check-policy", "migrate"):
        assert command in result.output


# -- a real process --------------------------------------------------------------------------
def test_demo_as_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "loancollect",
            "demo",
            "--loans",
            "20",
            "--days",
            "10",
            "--db",
            sqlite(tmp_path / "p.db"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Cycle summary" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert (tmp_path / "out" / "report" / "portfolio.csv").exists()
