"""Fuzz: whatever goes into the public constructors and the importer, only a
LoanCollectError comes out, and a failed import leaves the database as it was.

Bounded (a few seconds each): the examples are few but nasty — NUL bytes, lone
surrogates, NaN, huge and tiny numbers, dates at the ends of the calendar, values of
the wrong type, random bytes as files and valid rows with one cell replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sqlite3
import string
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loancollect import (
    Borrower,
    ContactKind,
    ContactPoint,
    DayCount,
    Frequency,
    Installment,
    Loan,
    LoanCollectError,
    Money,
    PartyKind,
    Payment,
    PenaltyTerms,
    RepaymentMethod,
    Rounding,
)
from loancollect.builtin.memory import MemoryStore
from loancollect.contacts import check_jurisdiction, contact_point, phone_time_zones
from loancollect.domain.allocation import Component
from loancollect.domain.arrangements import (
    GracePeriod,
    InstallmentPlan,
    PromiseToPay,
    Settlement,
    Waiver,
)
from loancollect.importing import import_files
from loancollect.ports import UnitOfWorkFactory

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "NaN",
        "Infinity",
        "-0",
        "1e309",
        "1e-400",
        "9" * 40,
        "12.000,00",
        "12,50",
        "1,2000.00",
        "9999-12-31",
        "0001-01-01",
        "2025-02-30",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "١٢٣",
        "UK",
        "monthly",
        "+1 212 555 0100",
        "x@y",
        "\r\n",
        '"',
        "{}",
    ]
)
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=12), st.text(string.printable, max_size=8))
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e309"), Decimal("-1e-999"), Decimal("sNaN"), 2**63, -(2**63)]),
    st.floats(allow_nan=True),
)
DATES = st.one_of(
    st.dates(),
    st.sampled_from([dt.date.min, dt.date.max, dt.date(9999, 12, 1), dt.date(1, 1, 1)]),
)
INSTANTS = st.one_of(
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=14))])),
    st.datetimes(),
    st.sampled_from([dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-12)))]),
)
ENUMS = st.sampled_from(
    [
        *Frequency,
        *RepaymentMethod,
        *DayCount,
        *Rounding,
        *PartyKind,
        *ContactKind,
        "monthly",
        "phone",
        "individual",
    ]
)
ANYTHING: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    TEXT,
    NUMBERS,
    DATES,
    INSTANTS,
    ENUMS,
    st.lists(st.integers(), max_size=2),
    st.builds(object),
)


def good_or(value: Any) -> st.SearchStrategy[Any]:
    """Mostly a good value, sometimes anything: so that later checks are reached too."""
    return st.one_of(st.just(value), st.just(value), ANYTHING)


def only_loancollect_errors(build: Callable[[], object]) -> None:
    with contextlib.suppress(LoanCollectError):
        build()


AT = dt.datetime(2025, 2, 15, 9, 30, tzinfo=dt.UTC)
CNY = Money("100.00", "CNY")


def phone() -> ContactPoint:
    return ContactPoint(ContactKind.PHONE, "+86 138 0013 8000")


def good_borrower() -> Borrower:
    return Borrower(
        id="B1",
        kind=PartyKind.INDIVIDUAL,
        name="Wang Fang",
        jurisdiction="CN",
        time_zone="Asia/Shanghai",
        locale="zh_CN",
        contact_points=(phone(),),
    )


# -- constructors -------------------------------------------------------------------------------
@FUZZ
@given(amount=good_or("12.34"), currency=good_or("CNY"), other=good_or(Money("1.00", "CNY")))
def test_money_raises_only_loancollect_errors(amount: Any, currency: Any, other: Any) -> None:
    only_loancollect_errors(lambda: Money(amount, currency))
    only_loancollect_errors(lambda: Money.rounded(amount, currency))
    only_loancollect_errors(lambda: Money.from_minor(amount, currency))
    only_loancollect_errors(lambda: CNY + other)
    only_loancollect_errors(lambda: CNY - other)
    only_loancollect_errors(lambda: other > CNY)
    only_loancollect_errors(lambda: CNY.multiply(amount))
    only_loancollect_errors(lambda: CNY.allocate([amount, other]))


@FUZZ
@given(
    kind=good_or(ContactKind.PHONE),
    value=good_or("+86 138 0013 8000"),
    label=good_or("mobile"),
    zone=good_or(None),
    verified=good_or(False),
    region=good_or("CN"),
)
def test_contact_points_raise_only_loancollect_errors(
    kind: Any, value: Any, label: Any, zone: Any, verified: Any, region: Any
) -> None:
    only_loancollect_errors(lambda: ContactPoint(kind, value, label, zone, verified))
    only_loancollect_errors(lambda: contact_point(kind, value, region=region))
    only_loancollect_errors(lambda: check_jurisdiction(value))
    assert isinstance(phone_time_zones(value), tuple)


@FUZZ
@given(
    id=good_or("B1"),
    kind=good_or(PartyKind.INDIVIDUAL),
    name=good_or("Wang Fang"),
    jurisdiction=good_or("CN"),
    time_zone=good_or("Asia/Shanghai"),
    locale=good_or("zh_CN"),
    points=good_or((phone(),)),
    national_id=good_or(None),
    income=good_or(None),
)
def test_borrowers_raise_only_loancollect_errors(
    id: Any,
    kind: Any,
    name: Any,
    jurisdiction: Any,
    time_zone: Any,
    locale: Any,
    points: Any,
    national_id: Any,
    income: Any,
) -> None:
    only_loancollect_errors(
        lambda: Borrower(
            id=id,
            kind=kind,
            name=name,
            jurisdiction=jurisdiction,
            time_zone=time_zone,
            locale=locale,
            contact_points=points,
            national_id=national_id,
            monthly_income=income,
        )
    )


@FUZZ
@given(
    id=good_or("L1"),
    principal=good_or(Money("12000.00", "CNY")),
    rate=good_or("0.12"),
    term=good_or(12),
    disbursed=good_or(dt.date(2025, 1, 15)),
    method=good_or(RepaymentMethod.EQUAL_INSTALLMENT),
    frequency=good_or(Frequency.MONTHLY),
    day_count=good_or(None),
    first_due=good_or(None),
    grace=good_or(0),
    tolerance=good_or(None),
    product=good_or("default"),
    contract=good_or(None),
)
def test_loan_create_raises_only_loancollect_errors(
    id: Any,
    principal: Any,
    rate: Any,
    term: Any,
    disbursed: Any,
    method: Any,
    frequency: Any,
    day_count: Any,
    first_due: Any,
    grace: Any,
    tolerance: Any,
    product: Any,
    contract: Any,
) -> None:
    only_loancollect_errors(
        lambda: Loan.create(
            id=id,
            borrower=good_borrower(),
            principal=principal,
            annual_rate=rate,
            term=term,
            disbursement_date=disbursed,
            method=method,
            frequency=frequency,
            day_count=day_count,
            first_due_date=first_due,
            grace_days=grace,
            tolerance=tolerance,
            product=product,
            contract_date=contract,
        )
    )


@FUZZ
@given(
    number=good_or(1),
    due=good_or(dt.date(2025, 2, 15)),
    principal=good_or(CNY),
    interest=good_or(Money("0.00", "CNY")),
    fees=good_or(None),
    start=good_or(None),
    days=good_or(None),
    markup=good_or("0.5"),
    compound=good_or(True),
    rounding=good_or(Rounding.HALF_UP),
)
def test_installments_and_penalty_terms_raise_only_loancollect_errors(
    number: Any,
    due: Any,
    principal: Any,
    interest: Any,
    fees: Any,
    start: Any,
    days: Any,
    markup: Any,
    compound: Any,
    rounding: Any,
) -> None:
    only_loancollect_errors(
        lambda: Installment(number, due, principal, interest, fees, start, days)
    )
    only_loancollect_errors(
        lambda: PenaltyTerms(markup=markup, compound=compound, rounding=rounding)
    )


@FUZZ
@given(
    id=good_or("P1"),
    loan_id=good_or("L1"),
    amount=good_or(CNY),
    value_date=good_or(dt.date(2025, 2, 15)),
    received=good_or(AT),
    reference=good_or(""),
)
def test_payments_raise_only_loancollect_errors(
    id: Any, loan_id: Any, amount: Any, value_date: Any, received: Any, reference: Any
) -> None:
    only_loancollect_errors(lambda: Payment(id, loan_id, amount, value_date, received, reference))


@FUZZ
@given(
    id=good_or("A1"),
    made_on=good_or(dt.date(2025, 3, 1)),
    due=good_or(dt.date(2025, 3, 10)),
    amount=good_or(CNY),
    missed=good_or(0),
    schedule=good_or(((dt.date(2025, 4, 1), CNY),)),
    flag=good_or(False),
    component=good_or(Component.INTEREST),
    role=good_or("supervisor"),
)
def test_arrangements_raise_only_loancollect_errors(
    id: Any,
    made_on: Any,
    due: Any,
    amount: Any,
    missed: Any,
    schedule: Any,
    flag: Any,
    component: Any,
    role: Any,
) -> None:
    only_loancollect_errors(
        lambda: PromiseToPay(id=id, made_on=made_on, amount=amount, due=due, missed_days=missed)
    )
    only_loancollect_errors(
        lambda: Settlement(id=id, made_on=made_on, amount=amount, due=due, missed_days=missed)
    )
    only_loancollect_errors(
        lambda: GracePeriod(id=id, made_on=made_on, until=due, suspend_penalty=flag)
    )
    only_loancollect_errors(
        lambda: InstallmentPlan(
            id=id, made_on=made_on, down_payment=amount, schedule=schedule, covers_balance=flag
        )
    )
    only_loancollect_errors(
        lambda: Waiver(
            id=id,
            made_on=made_on,
            component=component,
            amount=amount,
            approved_by=role,
            role=role,
        )
    )


# -- the importer ----------------------------------------------------------------------------------
BORROWERS = (
    "id,kind,name,jurisdiction,time_zone,locale,phone,email,monthly_income,currency\n"
    "B1,individual,Wang Fang,CN,Asia/Shanghai,zh_CN,+86 138 0013 8000,wang@example.com,8000,CNY\n"
    "B2,company,Riverside Supply LLC,US-NY,America/New_York,en_US,+1 212 555 0100,,,\n"
)
LOANS = (
    "id,borrower_id,currency,principal,annual_rate,disbursement_date,term,method,frequency,"
    "day_count,first_due_date,grace_days,tolerance,contract_date\n"
    "L1,B1,CNY,12000.00,0.12,2025-01-15,12,equal_installment,monthly,,,3,1.00,2025-01-10\n"
    'L2,B2,USD,"50,000.00",0.08,2025-01-20,6,interest_only_bullet,weekly,ACT/365F,'
    "2025-01-27,0,,\n"
)
SCHEDULES = (
    "loan_id,number,due_date,principal,interest,fees\n"
    "L3,1,2025-02-20,0,10.00,\n"
    "L3,2,2025-03-20,1000.00,10.00,5.00\n"
)
LOANS_WITH_SCHEDULE = (
    "id,borrower_id,currency,principal,annual_rate,disbursement_date,term\n"
    "L3,B1,CNY,1000.00,0.12,2025-01-20,2\n"
)
PAYMENTS = (
    '{"id": "P1", "loan_id": "L1", "amount": "1066.19", "currency": "CNY", '
    '"value_date": "2025-02-15", "received_at": "2025-02-15T09:30:00+08:00"}\n'
    '{"id": "P2", "loan_id": "L2", "amount": 333.33, "currency": "USD", '
    '"value_date": "2025-02-20", "received_at": "2025-02-20T10:00:00-05:00", "reference": "x"}\n'
)
FILES = {
    "borrowers.csv": BORROWERS,
    "loans.csv": LOANS,
    "loans3.csv": LOANS_WITH_SCHEDULE,
    "schedules.csv": SCHEDULES,
    "payments.jsonl": PAYMENTS,
}
REVIEW_ON = dt.date(2025, 3, 1)


def dump(db: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(db) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        return [
            (t, sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)) for t in tables
        ]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database holding one good import (so a bad one has something to spoil)."""
    pytest.importorskip("loancollect_sqlalchemy")
    folder = tmp_path_factory.mktemp("fuzz")
    db = folder / "seed.db"
    storage = open_sqlite(db)
    paths = []
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    result = import_files(storage, paths, review_on=REVIEW_ON)
    assert result.counts == {"borrowers": 2, "loans": 3, "payments": 2}
    return db


def open_sqlite(db: Path) -> UnitOfWorkFactory:
    from loancollect.plugins import make_plugin_manager
    from loancollect.registry import open_storage

    return open_storage(make_plugin_manager(load_entrypoints=True), f"sqlite:///{db.as_posix()}")


@pytest.fixture(scope="module")
def database(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A copy of the seeded database, opened once for the module's examples."""
    db = tmp_path_factory.mktemp("fuzzdb") / "fuzz.db"
    shutil.copy(seeded, db)
    return db, open_sqlite(db)


def import_and_check(database: tuple[Path, Any], folder: Path, files: dict[str, bytes]) -> None:
    """Import ``files``: success, or a LoanCollectError with the database unchanged."""
    db, storage = database
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    before = dump(db)
    before_bytes = db.read_bytes()
    try:
        import_files(storage, paths, review_on=REVIEW_ON)
    except LoanCollectError:
        assert dump(db) == before, "a failed import changed the database"
        assert db.read_bytes() == before_bytes, "a failed import changed the database file"


CELLS = st.one_of(NASTY_TEXT, st.text(max_size=10), st.integers().map(str), st.just(""))


@st.composite
def mutated_files(draw: st.DrawFn) -> dict[str, bytes]:
    """The good files with one cell (CSV) or one value (JSON) replaced, or one line
    repeated, or one file's bytes cut or corrupted."""
    name = draw(st.sampled_from(sorted(FILES)))
    text = FILES[name]
    lines = text.splitlines()
    how = draw(st.sampled_from(["cell", "cell", "cell", "repeat", "bytes", "drop_column"]))
    if how == "repeat":
        i = draw(st.integers(1, len(lines) - 1))
        lines.insert(i, lines[i])
        new = "\n".join(lines) + "\n"
    elif how == "bytes":
        data = bytearray(text.encode())
        at = draw(st.integers(0, len(data) - 1))
        data[at : at + 1] = draw(st.binary(min_size=0, max_size=3))
        return {**{k: v.encode() for k, v in FILES.items()}, name: bytes(data)}
    elif name.endswith(".jsonl"):
        import json

        i = draw(st.integers(0, len(lines) - 1))
        row = json.loads(lines[i])
        key = draw(st.sampled_from(sorted(row)))
        row[key] = draw(st.one_of(CELLS, st.integers(), st.none(), st.booleans(), st.just([])))
        lines[i] = json.dumps(row, ensure_ascii=draw(st.booleans()))
        new = "\n".join(lines) + "\n"
    else:
        header = lines[0].split(",")
        column = draw(st.integers(0, len(header) - 1))
        if how == "drop_column":
            import csv
            import io

            rows = list(csv.reader(io.StringIO(text)))
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(
                [r[:column] + r[column + 1 :] for r in rows]
            )
            new = out.getvalue()
        else:
            import csv
            import io

            rows = list(csv.reader(io.StringIO(text)))
            i = draw(st.integers(1, len(rows) - 1))
            rows[i][column] = draw(CELLS)
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(rows)
            new = out.getvalue()
    try:
        encoded = new.encode()
    except UnicodeEncodeError:
        encoded = new.encode("utf-8", "surrogatepass")
    return {**{k: v.encode() for k, v in FILES.items()}, name: encoded}


@FUZZ
@given(files=mutated_files())
def test_a_mutated_import_fails_cleanly_or_succeeds(
    database: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    import_and_check(database, tmp_path_factory.mktemp("mut"), files)


@settings(FUZZ, max_examples=150)
@given(
    data=st.binary(max_size=200),
    suffix=st.sampled_from(["csv", "jsonl"]),
    header=st.sampled_from(["", BORROWERS.splitlines()[0] + "\n", LOANS.splitlines()[0] + "\n"]),
)
def test_random_bytes_as_a_file_fail_cleanly(
    database: tuple[Path, Any],
    tmp_path_factory: pytest.TempPathFactory,
    data: bytes,
    suffix: str,
    header: str,
) -> None:
    import_and_check(
        database,
        tmp_path_factory.mktemp("raw"),
        {"borrowers.csv": BORROWERS.encode(), f"random.{suffix}": header.encode() + data},
    )


@settings(FUZZ, max_examples=80)
@given(files=mutated_files())
def test_a_mutated_import_into_memory_raises_only_loancollect_errors(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    folder = tmp_path_factory.mktemp("mem")
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    store = MemoryStore()
    try:
        import_files(store, paths, review_on=REVIEW_ON, skip_bad=True)
    except LoanCollectError:
        with store() as uow:
            assert uow.loans.list_ids() == []
