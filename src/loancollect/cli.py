"""The ``loancollect`` command: the demo, the daily run, imports, reports and checks.

Exit codes: 0 success, 1 a run finished with problems, 2 a usage or input error
(a message, never a traceback). Needs the ``cli`` extra (click, rich).
"""

from __future__ import annotations

import datetime as dt
import difflib
import importlib.metadata
import inspect
import json
import re
import shutil
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs

try:
    import click
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table as RichTable
    from rich.text import Text
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise SystemExit(
        f"the loancollect command needs the 'cli' extra: pip install 'loancollect[cli]' ({exc})"
    ) from None

from loancollect import registry
from loancollect.builtin.files import FileChannel
from loancollect.bundles import verify_bundle
from loancollect.channel_gaps import ChannelPlan, plan_channels, strategy_channels
from loancollect.demo_parts import DemoPart, DemoRun, DemoSetup
from loancollect.domain.errors import LoanCollectError
from loancollect.domain.loans import Loan
from loancollect.domain.money import Money
from loancollect.domain.overdue import assess
from loancollect.domain.policy_file import loads_policy
from loancollect.engine import CollectionEngine, CycleConfig
from loancollect.engine.startup import start_up_frozen
from loancollect.engine.workers import WorkerSpec, run_workers, shares_a_day
from loancollect.lenders import LenderBook, loads_lenders
from loancollect.plugins import make_plugin_manager, plugin_info
from loancollect.ports import (
    AUDIT_KEY_ENV,
    AUDIT_KEY_FILE_ENV,
    DEFAULT_TENANT,
    AuditedEvents,
    AuditKey,
    AuditTally,
    Channel,
    MigratingStorage,
    UnitOfWorkFactory,
)
from loancollect.registry import CycleSummary
from loancollect.reporting import SUMMARY_LABELS, Table, build_report, load_report_data, write_csv
from loancollect.templates import LenderInfo, TemplateCatalog

__all__ = ["main"]

console = Console()
err_console = Console(stderr=True)


class UserError(click.ClickException):
    """A problem with the user's input: printed as one line, exit code 2.

    Database passwords are hidden in the message (see :func:`hide_password`).
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(_scrub(message))


def _fail(message: str) -> NoReturn:
    raise UserError(message)


# -- passwords in storage URLs -------------------------------------------------------------
_SECRET_PARAMS = re.compile(r"(?i)([?&;](?:password|passwd|pwd|pass|secret)=)([^&;#]*)")
_SECRETS: set[str] = set()
"""Passwords seen in storage URLs in this process, hidden in every message."""


def hide_password(url: str) -> str:
    """``url`` with its password (``user:PASSWORD@host``, ``?password=``) shown as ``***``.

    >>> hide_password("postgresql+psycopg://app:s3cret@db.example/collect")
    'postgresql+psycopg://app:***@db.example/collect'
    """
    try:
        parts = urllib.parse.urlsplit(url)
        password = parts.password
    except ValueError:
        password = None
        parts = None
    hidden = url
    if parts is not None and password is not None:
        userinfo, _, host = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        _SECRETS.add(password)
        _SECRETS.add(urllib.parse.unquote(password))
        hidden = urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    for match in _SECRET_PARAMS.finditer(url):
        if match.group(2):
            _SECRETS.add(match.group(2))
            _SECRETS.add(urllib.parse.unquote(match.group(2)))
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + ("***" if m.group(2) else ""), hidden)


def _scrub(text: str) -> str:
    """``text`` with every known password replaced by ``***``."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if len(secret) >= 3 or f":{secret}@" in text:
            text = text.replace(f":{secret}@", ":***@")
            if len(secret) >= 3:
                text = text.replace(secret, "***")
    return text


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{name}: {value!r} is not a date (YYYY-MM-DD)")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _storage(pm: Any, url: str) -> UnitOfWorkFactory:
    shown = hide_password(url)  # also remembers the password, to hide it everywhere
    try:
        return registry.open_storage(pm, url)
    except LoanCollectError as exc:
        hint = ""
        if url.startswith(("sqlite", "postgresql")):
            hint = " (install the storage plug-in: pip install loancollect-sqlalchemy)"
        _fail(f"{exc}{hint}".replace(url, shown))
    except Exception as exc:  # the backend could not open the URL (no such directory …)
        _fail(f"cannot open {shown}: {type(exc).__name__}: {str(exc).replace(url, shown)}")


def _migrate(storage: UnitOfWorkFactory) -> str | None:
    """Run the backend's migrations; ``None`` when it has none (in memory)."""
    if isinstance(storage, MigratingStorage):
        return storage.migrate()
    return None


def _print_tables(tables: Sequence[Table]) -> None:
    for t in tables:
        console.print(_rich_table(t))


_KEY_WIDTH = 40
"""The widest first column kept on one line; a longer key wraps (never cut short)."""


def _rich_table(t: Table) -> RichTable:
    """A table that stays readable at 80 columns and when piped.

    The first column (ids, names) is kept whole on one line up to :data:`_KEY_WIDTH`
    characters; the other columns wrap (``fold``) instead of being cut with an
    ellipsis, so no id or number is ever shown truncated.
    """
    table = RichTable(title=t.title, title_justify="left", show_lines=False)
    widest = max((len(row[0]) for row in t.rows if row), default=0)
    for n, column in enumerate(t.columns):
        if n == 0:
            table.add_column(
                column,
                justify="left",
                overflow="fold",
                min_width=min(max(widest, len(column)), _KEY_WIDTH),
            )
        else:
            table.add_column(column, justify="right", overflow="fold")
    for row in t.rows:
        table.add_row(*row)
    return table


def _print_summary(summary: CycleSummary, elapsed: float) -> None:
    table = RichTable(title=f"Cycle summary ({elapsed:.1f} s)", title_justify="left")
    table.add_column("measure")
    table.add_column("count", justify="right")
    # The report's activity table counts the same events under the same names.
    for name, label in SUMMARY_LABELS.items():
        table.add_row(label, f"{getattr(summary, name):,}")
    console.print(table)


@click.group()
@click.version_option(package_name="loancollect")
def main() -> None:
    """loancollect: loan collection, from overdue to lawful contact to recovery."""


# -- demo -------------------------------------------------------------------------
@main.command()
@click.option("--loans", "n_loans", default=500, show_default=True, help="Loans in the portfolio.")
@click.option("--days", default=180, show_default=True, help="Simulated days to run.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same run).")
@click.option("--db", default=None, help="Storage URL (default: sqlite in the output directory).")
@click.option(
    "--out",
    "out_dir",
    default="demo-output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where sent messages, letters and the report go.",
)
@click.option("--start", default="2025-01-01", show_default=True, help="First simulated day.")
def demo(n_loans: int, days: int, seed: int, db: str | None, out_dir: str, start: str) -> None:
    """Run a synthetic portfolio through the daily cycle and print the report."""
    from loancollect.demo import SimulatedClock, World, demo_strategy, generate_portfolio

    if n_loans < 1 or days < 1:
        _fail("--loans and --days must be at least 1")
    first = _date(start, "--start")
    out = Path(out_dir)
    if out.exists():
        # The demo is reproducible: start clean, but only over a previous demo's output.
        if not out.is_dir() or (any(out.iterdir()) and not (out / _DEMO_MARK).exists()):
            _fail(f"--out {out} exists and is not a demo output directory; choose another")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / _DEMO_MARK).write_text("written by loancollect demo\n", encoding="utf-8")
    pm = make_plugin_manager(load_entrypoints=True)
    url = db or _default_db(pm, out)
    storage = _storage(pm, url)
    _migrate(storage)
    with storage() as uow:
        if uow.loans.list_ids(limit=1):
            _fail(f"{hide_password(url)} already holds loans; the demo needs an empty database")
    clock = SimulatedClock(dt.datetime(first.year, first.month, first.day, 2, tzinfo=dt.UTC))
    parts = registry.demo_parts(pm)
    setup = DemoSetup(out=out, now=clock.now, pm=pm, seed=seed, first=first, days=days)
    channels = _demo_channels(pm, out, clock.now)
    for part in parts:
        channels.update(part.channels(setup))
    portfolio = generate_portfolio(n_loans, seed=seed, start=first)
    world = World(portfolio, seed=seed)
    for part in parts:
        world.skip_answers(part.answers)
    pm.register(world, name="demo-world")
    lender = LenderInfo(
        name="Demo Lending Co.",
        phone="400-800-1234",
        how_to_pay=(
            "Pay in the Demo Lending app, or transfer to account 6222 0000 1234 5678 "
            "quoting your loan number."
        ),
        address="1 Demo Road, Shanghai",
    )
    # One sender: local files gain nothing from threads, and their order stays reproducible.
    config = CycleConfig(strategy=demo_strategy(), lender=lender, dispatch_workers=1)
    for part in parts:
        config = part.configure(config, setup)
    engine = CollectionEngine(
        pm=pm,
        storage=storage,
        clock=clock,
        config=config,
        channels=channels,
        templates=TemplateCatalog.from_plugins(pm, fallback_locale="en_US"),
        locales=("zh_CN", "en_US"),
    )
    console.print(
        f"[bold]loancollect demo[/]: {n_loans:,} loans, {days} days from {first}, seed {seed}"
    )
    console.print(f"storage: {hide_password(url)}\noutput:  {out}/")
    if parts:
        console.print("demo parts: " + ", ".join(part.name for part in parts))
    engine.add_loans((d.loan for d in portfolio), review_on=first)
    run = DemoRun(
        setup=setup,
        engine=engine,
        storage=storage,
        clock=clock,
        world=world,
        portfolio=tuple(portfolio),
    )

    def due_today(loan: Loan, day: dt.date) -> Money:
        with storage() as uow:
            return assess(loan, uow.loans.payments_for(loan.id), day).amount_due

    # History before the first simulated day: the installments already paid.
    day = min(d.loan.disbursement_date for d in portfolio)
    while day < first:
        for payment in world.payments_on(day, due_today):
            engine.record_payment(payment)
        day += dt.timedelta(days=1)
    total = CycleSummary()
    problems = 0
    started = time.perf_counter()
    started_parts: list[DemoPart] = []
    try:
        for part in parts:
            part.start(run)
            started_parts.append(part)
        with start_up_frozen(), _progress() as progress:
            task = progress.add_task("simulating days", total=days)
            for offset in range(days):
                day = first + dt.timedelta(days=offset)
                # The borrowers' day: payments arrive, yesterday's calls are answered.
                clock.set(dt.datetime(day.year, day.month, day.day, 1, tzinfo=dt.UTC))
                for payment in world.payments_on(day, due_today):
                    engine.record_payment(payment)
                world.answer_calls(engine, day)
                for part in parts:
                    part.before_cycle(run, day)
                # The morning run (Asia), then a second dispatch for Europe and the Americas.
                clock.set(dt.datetime(day.year, day.month, day.day, 2, tzinfo=dt.UTC))
                report = engine.run_cycle(day)
                clock.set(dt.datetime(day.year, day.month, day.day, 15, tzinfo=dt.UTC))
                later = engine.dispatch(day)
                total = total + report.summary + later.summary
                problems += len(report.problems) + len(later.problems)
                for part in parts:
                    part.after_cycle(run, day)
                progress.advance(task)
    finally:
        for part in reversed(started_parts):
            part.finish(run)
    _print_summary(total, time.perf_counter() - started)
    last = first + dt.timedelta(days=days - 1)
    _report(storage, first, last, out / "report", pm=pm)
    console.print(f"\nSent messages: {out}/messages, e-mails: {out}/email, letters: {out}/letters")
    for part in parts:
        line = part.summary(run)
        if line:
            console.print(f"{part.name}: {line}")
    if problems:
        console.print(f"[yellow]{problems} problems were reported during the run[/]")


_DEMO_MARK = ".loancollect-demo"
"""Marks a directory the demo wrote (and may therefore clear on the next run)."""


def _default_db(pm: Any, out: Path) -> str:
    schemes = {s for spec in registry.storage_specs(pm).values() for s in spec.schemes}
    if "sqlite" in schemes:
        return f"sqlite:///{(out / 'loancollect.db').as_posix()}"
    console.print("[yellow]loancollect-sqlalchemy is not installed: using in-memory storage[/]")
    return "memory:"


def _demo_channels(pm: Any, out: Path, now: Callable[[], dt.datetime]) -> dict[str, Channel]:
    """File-based channels: nothing leaves the machine, everything can be opened.

    E-mail goes to ``.eml`` files and letters to PDFs when those plug-ins are
    installed; SMS, call scripts and visit notices (and any missing plug-in's
    channel) are written as JSON lines. A channel factory that takes a ``now``
    clock (the e-mail Date header) gets the simulated one.
    """
    specs = registry.channel_specs(pm)
    channels: dict[str, Channel] = {
        name: FileChannel(name, out / "messages") for name in ("sms", "phone", "visit")
    }
    wanted = {
        "email": {
            "mode": "file",
            "dir": str(out / "email"),
            "from": "collections@demo-lending.example",
        },
        "letter": {"dir": str(out / "letters")},
    }
    for name, settings in wanted.items():
        spec = specs.get(name)
        factory: Any = spec.factory if spec is not None else None
        if factory is not None and "now" in inspect.signature(factory).parameters:
            channels[name] = factory(settings, now=now)
        elif spec is not None:
            channels[name] = registry.make_channel(pm, name, settings)
        else:
            console.print(f"[yellow]channel {name!r} is not installed: writing it as JSON lines[/]")
            channels[name] = FileChannel(name, out / "messages")
    return channels


# -- run --------------------------------------------------------------------------
@main.command()
@click.option("--db", required=True, help="Storage URL.")
@click.option("--as-of", "as_of", required=True, help="Business date to run (YYYY-MM-DD).")
@click.option("--workers", default=1, show_default=True, help="Worker processes (PostgreSQL).")
@click.option(
    "--policy",
    "policy_file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="A TOML policy file.",
)
@click.option(
    "--channels",
    "channels_file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="A TOML file of channel settings: one table per channel ([email] host = ...).",
)
@click.option("--no-dispatch", is_flag=True, help="Review and write the outbox only.")
@click.option(
    "--lender",
    "lender_file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="A TOML file of lender profiles ([[lender]] name, phone, how_to_pay, ...).",
)
@click.option(
    "--placeholder-lender",
    is_flag=True,
    help="Send with the placeholder lender ('Lender', 400-000-0000): a demo or a test only.",
)
def run(
    db: str,
    as_of: str,
    workers: int,
    policy_file: str | None,
    channels_file: str | None,
    no_dispatch: bool,
    lender_file: str | None,
    placeholder_lender: bool,
) -> None:
    """Run one day's collection cycle."""
    day = _date(as_of, "--as-of")
    if workers < 1:
        _fail("--workers must be at least 1")
    pm = make_plugin_manager(load_entrypoints=True)
    storage = _existing_storage(pm, db)
    lenders = _lenders(lender_file, DEFAULT_TENANT)
    if lenders is None and not no_dispatch and not placeholder_lender:
        _fail(
            "no lender profile: messages would be signed 'Lender', phone 400-000-0000, "
            '"Pay in the lender\'s app."; give --lender FILE (see docs/cli.md#lender-profiles), '
            "or --placeholder-lender for a demo or a test"
        )
    config = attrs.evolve(_config(policy_file), lenders=lenders)
    settings = _channel_settings(channels_file)
    channels, gaps = _usable_channels(pm, config, settings, build=not no_dispatch)
    if gaps.gaps:
        config = attrs.evolve(config, strategy=gaps.strategy)
        for gap in gaps.gaps:
            console.print(gap.describe(), style="yellow", markup=False, highlight=False)
    if workers > 1 and not shares_a_day(storage):
        _fail(
            f"--workers {workers}: this storage backend cannot share a day between "
            "workers (PostgreSQL can); use --workers 1"
        )
    started = time.perf_counter()
    try:
        with start_up_frozen():
            summary, problems = _run_day(
                pm, storage, config, channels, settings, day, db, policy_file, workers, no_dispatch
            )
    except LoanCollectError as exc:
        _fail(str(exc))
    _print_summary(summary, time.perf_counter() - started)
    for p in problems[:20]:
        err_console.print(f"[red]problem[/] {_scrub(p)}", markup=True, highlight=False)
    if problems:
        sys.exit(1)


def _run_day(
    pm: Any,
    storage: UnitOfWorkFactory,
    config: CycleConfig,
    channels: dict[str, Channel],
    settings: dict[str, dict[str, str]],
    day: dt.date,
    db: str,
    policy_file: str | None,
    workers: int,
    no_dispatch: bool,
) -> tuple[CycleSummary, list[str]]:
    """Review (and dispatch) one day, in this process or in ``workers`` processes."""
    if workers == 1:
        engine = CollectionEngine(
            pm=pm, storage=storage, config=config, channels=channels, channel_settings=settings
        )
        with _progress() as progress:
            task = progress.add_task("reviewing cases", total=None)
            review = engine.review(day, on_batch=lambda s: progress.advance(task, s.reviewed))
        summary = review.summary
        problems = [f"{p.loan_id}: {p.message}" for p in review.problems]
        if not no_dispatch:
            sent = engine.dispatch(day)
            summary = summary + sent.summary
            problems += [f"{p.loan_id}: {p.message}" for p in sent.problems]
    else:
        spec = WorkerSpec(
            url=db,
            as_of=day,
            policy_file=policy_file,
            channel_settings=settings,
            dispatch=not no_dispatch,
            lenders=config.lenders,  # the parsed profiles, the same in every worker
            strategy=config.strategy,  # as planned around the channels it cannot use
        )
        summary = CycleSummary()
        problems = []
        for result in run_workers(spec, workers):
            summary = summary + result.summary
            problems += [f"{p.loan_id}: {p.message}" for p in result.problems]
            if not result.ok:
                problems.append(f"worker {result.worker} (pid {result.pid}): {result.error}")
    return summary, problems


def _usable_channels(
    pm: Any, config: CycleConfig, settings: dict[str, dict[str, str]], *, build: bool = True
) -> tuple[dict[str, Channel], ChannelPlan]:
    """Build every channel the strategy uses; plan around those that cannot be used.

    A channel no plug-in provides, or (when this run sends: ``build``) one that cannot
    be built without settings the host did not give, is unusable: its rules go through
    their configured fallback or are held (see :mod:`loancollect.channel_gaps`). A
    channel the host did configure but whose settings are refused is a user error.
    """
    specs = registry.channel_specs(pm)
    built: dict[str, Channel] = {}
    unusable: dict[str, str] = {}
    for name in sorted(strategy_channels(config.strategy)):
        if name not in specs:
            unusable[name] = "is not provided by any installed plug-in"
            continue
        if not build:
            continue
        try:
            built[name] = registry.make_channel(pm, name, settings.get(name))
        except Exception as exc:
            if name in settings:
                _fail(f"channel {name!r}: its settings are refused: {exc}")
            unusable[name] = f"is not configured (no [{name}] settings: {exc})"
    return built, plan_channels(config.strategy, unusable, _template_check(pm))


def _template_check(pm: Any) -> Callable[[str, str], bool]:
    """Whether a template name exists for a channel (in some locale)."""
    pairs = {(spec.name, spec.channel) for spec in registry.template_specs(pm)}
    return lambda template, channel: (template, channel) in pairs


def _existing_storage(pm: Any, url: str) -> UnitOfWorkFactory:
    """Open ``url`` without creating anything: a missing SQLite file or folder is an error.

    Only ``migrate`` (and the demo, in its own directory) creates a database, so a
    mistyped path is reported instead of starting an empty one.
    """
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        shown = hide_password(url)
        if not path.parent.is_dir():
            _fail(f"{shown}: no such folder {path.parent}")
        _fail(
            f"{shown}: no such database file {path} "
            f"(create one with: loancollect migrate --db {shown})"
        )
    return _storage(pm, url)


def _sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite[+driver]:///path`` URL (``None``: not SQLite, or in memory)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    location = rest.split("?", 1)[0]
    if not location.startswith("/"):
        return None
    location = location[1:]
    if location in ("", ":memory:") or location.startswith("file:"):
        return None
    return Path(urllib.parse.unquote(location))


def _lenders(path: str | None, tenant: str) -> LenderBook | None:
    """The lender profiles of ``tenant`` from a TOML file (``None`` without one)."""
    if path is None:
        return None
    try:
        return loads_lenders(Path(path).read_text(encoding="utf-8"), path).for_tenant(tenant)
    except LoanCollectError as exc:
        _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read the lender profiles: {exc}")


def _channel_settings(path: str | None) -> dict[str, dict[str, str]]:
    """Channel settings from a TOML file: ``[channel]`` tables of ``key = value``."""
    if path is None:
        return {}
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        _fail(f"{path}: {exc}")
    out: dict[str, dict[str, str]] = {}
    for channel, table in data.items():
        if not isinstance(table, dict):
            _fail(f"{path}: {channel!r} must be a table of settings ([{channel}])")
        out[channel] = {str(k): str(v) for k, v in table.items()}
    return out


def _config(policy_file: str | None) -> CycleConfig:
    if policy_file is None:
        return CycleConfig()
    bundle = _load_policy(policy_file)
    return CycleConfig(policy=bundle.policy, strategy=bundle.strategy)


def _load_policy(path: str) -> Any:
    try:
        return loads_policy(Path(path).read_text(encoding="utf-8"), path)
    except LoanCollectError as exc:
        _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read the policy: {exc}")


# -- import -----------------------------------------------------------------------
@main.command(name="import")
@click.option("--db", required=True, help="Storage URL.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--skip-bad", is_flag=True, help="Import the good rows; write the bad ones to a rejects file."
)
@click.option(
    "--rejects",
    default="rejects.jsonl",
    show_default=True,
    help="Where --skip-bad writes bad rows.",
)
@click.option("--review-on", default=None, help="First review date of new cases (default: today).")
@click.option(
    "--replace-loans-with-payments",
    is_flag=True,
    help="Allow replacing a stored loan that has payments by a changed one.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes that validate rows (SQL storage; 1: this one; more: worker "
    "processes while this one writes).",
)
def import_(
    db: str,
    files: tuple[str, ...],
    skip_bad: bool,
    rejects: str,
    review_on: str | None,
    replace_loans_with_payments: bool,
    processes: int,
) -> None:
    """Import borrowers, loans, schedules and payments from CSV or JSON Lines files.

    With storage that loads in bulk (the SQL plug-in), the files are streamed in
    batches of 5,000 rows, validated in worker processes (--processes) and each
    written all or nothing; otherwise the whole import is validated, then written
    in one unit of work (see docs/cli.md).
    """
    from loancollect.import_batches import import_in_batches
    from loancollect.importing import ImportRejectedError, import_files
    from loancollect.ports import BulkLoading

    pm = make_plugin_manager(load_entrypoints=True)
    storage = _existing_storage(pm, db)
    _migrate(storage)
    first_review = _date(review_on, "--review-on") if review_on else dt.date.today()
    paths = [Path(f) for f in files]
    in_batches = isinstance(storage, BulkLoading)
    options: dict[str, Any] = {"processes": processes} if in_batches else {}
    importer: Callable[..., Any] = import_in_batches if in_batches else import_files
    try:
        with Progress(
            TextColumn("[bold]reading rows"),
            TextColumn("{task.completed:,.0f} rows"),
            _RowsPerSecond(),
            BarColumn(),
            TextColumn("of about {task.total:,.0f}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rows", total=sum(_rows_in(p) for p in paths))
            result = importer(
                storage,
                paths,
                skip_bad=skip_bad,
                review_on=first_review,
                replace_loans_with_payments=replace_loans_with_payments,
                progress=lambda n: progress.advance(task, n),
                **options,
            )
    except ImportRejectedError as exc:
        for problem in exc.problems[:50]:
            err_console.print(_scrub(problem), style="red", markup=False, highlight=False)
        if len(exc.problems) > 50:
            err_console.print(f"… and {len(exc.problems) - 50} more")
        if exc.result is None:
            _fail(f"nothing imported: {len(exc.problems)} bad row(s); fix them or use --skip-bad")
        for refused in exc.refused[:50]:
            err_console.print(_scrub(refused), style="red", markup=False, highlight=False)
        if len(exc.refused) > 50:
            err_console.print(f"… and {len(exc.refused) - 50} more batches not imported")
        done = ", ".join(f"{n:,} {kind}" for kind, n in exc.result.counts.items())
        _fail(
            f"{len(exc.refused)} batch(es) not imported ({len(exc.problems)} problem(s)); "
            f"imported from the other batches: {done}. Fix the rows and import the files again "
            "(rows already stored are replaced, payments already stored are not repeated), "
            "or use --skip-bad"
        )
    except LoanCollectError as exc:
        _fail(f"nothing imported: {exc}" if not in_batches else f"import stopped: {exc}")
    for kind, count in result.counts.items():
        console.print(f"imported {count:,} {kind}")
    for note in result.not_written[:50]:
        console.print(f"not written: {note}", style="yellow", markup=False, highlight=False)
    if len(result.not_written) > 50:
        console.print(f"… and {len(result.not_written) - 50} more not written")
    if result.rejected:
        path = Path(rejects)
        with path.open("w", encoding="utf-8", errors="backslashreplace") as fh:
            for problem, row in result.rejected:
                fh.write(json.dumps({"problem": problem, "row": row}, ensure_ascii=False) + "\n")
        console.print(f"[yellow]{len(result.rejected)} bad row(s) written to {path}[/]")


class _RowsPerSecond(ProgressColumn):
    """The rows handled per second (over rich's recent window), once there is a measure."""

    def render(self, task: Task) -> Text:
        """``12,345 rows/s``, or nothing before the first measure."""
        speed = task.finished_speed or task.speed
        if speed is None and task.completed and task.elapsed:
            # One batch gives rich a single sample, too few for its own measure.
            speed = task.completed / task.elapsed
        return Text("" if speed is None else f"{speed:,.0f} rows/s")


def _rows_in(path: Path) -> int:
    """About how many rows ``path`` holds (its line ends, less a CSV header), counted
    in blocks so that memory does not grow with the file; for the progress bar."""
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    lines += last != b"\n"
    header = path.suffix.lower() not in (".jsonl", ".ndjson", ".json")
    return max(0, lines - header)


# -- report -----------------------------------------------------------------------
@main.command()
@click.option("--db", required=True, help="Storage URL.")
@click.option(
    "--from", "date_from", default=None, help="First day (default: earliest disbursement)."
)
@click.option("--to", "date_to", default=None, help="Last day (default: today).")
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Write CSV files (and PNG charts) here.",
)
def report(db: str, date_from: str | None, date_to: str | None, out_dir: str | None) -> None:
    """Print the collection KPIs; optionally write CSV files and charts."""
    pm = make_plugin_manager(load_entrypoints=True)
    storage = _existing_storage(pm, db)
    end = _date(date_to, "--to") if date_to else dt.date.today()
    start = _date(date_from, "--from") if date_from else _earliest(storage)
    if start > end:
        _fail(f"--from {start} is after --to {end}")
    _report(storage, start, end, Path(out_dir) if out_dir else None, pm=pm)


def _earliest(storage: UnitOfWorkFactory) -> dt.date:
    with storage() as uow:
        ids = uow.loans.list_ids(limit=None)
        dates = [loan.disbursement_date for i in ids if (loan := uow.loans.get(i)) is not None]
    if not dates:
        _fail("the database holds no loans")
    return min(dates)


def _report(
    storage: UnitOfWorkFactory, start: dt.date, end: dt.date, out: Path | None, *, pm: Any
) -> None:
    with storage() as uow:
        total = len(uow.loans.list_ids(limit=None))
    with _progress() as progress:
        task = progress.add_task("building the report", total=total)
        data = load_report_data(
            storage, start=start, end=end, progress=lambda n: progress.advance(task, n)
        )
    tables = build_report(data)
    tables += registry.report_tables(pm, data, storage, (t.name for t in tables))
    _print_tables(tables)
    if out is not None:
        paths = write_csv(tables, out)
        console.print(f"\nCSV files: {len(paths)} in {out}/")
        _charts(tables, out)


def _charts(tables: Sequence[Table], out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        console.print("charts: matplotlib is not installed (pip install 'loancollect\\[charts]')")
        return
    by_name = {t.name: t for t in tables}
    vintages = by_name.get("vintages")
    if vintages is not None and vintages.rows:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for row in vintages.rows:
            points = [(i, float(v.rstrip("%"))) for i, v in enumerate(row[1:]) if v != "—"]
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=row[0])
        ax.set_xlabel("months on book")
        ax.set_ylabel("% of loans ever 30+ DPD")
        ax.set_title("Vintage curves")
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out / "vintages.png", dpi=120)
        plt.close(fig)
    stages = by_name.get("stages")
    if stages is not None and stages.rows:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.barh([r[0] for r in stages.rows], [int(r[1]) for r in stages.rows])
        ax.set_title("Cases by stage")
        fig.tight_layout()
        fig.savefig(out / "stages.png", dpi=120)
        plt.close(fig)
    console.print(f"charts: {out}/vintages.png, {out}/stages.png")


# -- plugins, check-policy, migrate ----------------------------------------------
@main.command()
def plugins() -> None:
    """List the installed plug-ins, their versions and the hooks each implements."""
    pm = make_plugin_manager(load_entrypoints=True)
    table = RichTable(title="Plug-ins", title_justify="left")
    for column in ("plug-in", "distribution", "version", "hooks"):
        table.add_column(column, overflow="fold")
    for info in plugin_info(pm):
        table.add_row(
            info.name, info.distribution or "(built in)", info.version or "", ", ".join(info.hooks)
        )
    console.print(table)


@main.command(name="check-policy")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
def check_policy(file: str) -> None:
    """Validate a TOML policy file and print its stages and strategies."""
    bundle = _load_policy(file)
    policy = bundle.policy
    table = RichTable(
        title=f"Policy {policy.name!r} (catch-up: {policy.catch_up.value})", title_justify="left"
    )
    for column in ("rank", "stage", "label", "min stay", "entry"):
        table.add_column(column, overflow="fold")
    for s in policy.stages:
        table.add_row(
            str(s.rank), s.name, s.label_zh or s.label, str(s.min_stay_days), _condition(s.entry)
        )
    console.print(table)
    for strategy in bundle.strategies:
        t = RichTable(title=f"Strategy {strategy.name!r}", title_justify="left")
        for column in ("rule", "stage", "channel", "template", "tone", "cadence"):
            t.add_column(column, overflow="fold")
        for a in strategy.actions:
            cadence = (
                f"every {a.every_days} days"
                if a.every_days
                else f"on day {a.on_dpd}"
                if a.on_dpd
                else f"{a.days_before_due} days before due"
                if a.days_before_due
                else "on entry"
            )
            t.add_row(a.id, a.stage, a.channel, a.template, a.tone.value, cadence)
        console.print(t)
    problems, notes = _check_channels_and_templates(bundle)
    for note in notes:
        console.print(note, style="yellow", markup=False, highlight=False)
    if problems:
        for problem in problems:
            err_console.print(problem, style="red", markup=False, highlight=False)
        _fail(f"{file}: {len(problems)} problem(s) with channels or templates")
    console.print("[green]policy OK[/]")


def _suggest(value: str, allowed: Sequence[str]) -> str:
    """`` (allowed: a, b; did you mean 'a'?)`` for a mistyped ``value``."""
    close = difflib.get_close_matches(value, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f" (allowed: {', '.join(allowed) or 'none'}{hint})"


def _check_channels_and_templates(bundle: Any) -> tuple[list[str], list[str]]:
    """The policy's channel and template names against the installed plug-ins.

    A channel name that is not installed but close to one that is, is a typo (a
    problem); one that no plug-in provides is a note saying what a run does with its
    actions. A template must exist for its channel in at least one locale.
    """
    pm = make_plugin_manager(load_entrypoints=True)
    installed = sorted(registry.channel_specs(pm))
    templated = {spec.channel for spec in registry.template_specs(pm)}
    templates: dict[str, set[str]] = {}
    for spec in registry.template_specs(pm):
        templates.setdefault(spec.channel, set()).add(spec.name)
    known = sorted(set(installed) | templated)
    problems: list[str] = []
    missing: dict[str, str] = {}
    for strategy in bundle.strategies:
        for rule in strategy.actions:
            for channel in (rule.channel, *rule.fallbacks):
                if channel in installed:
                    pass
                elif channel in templated or not difflib.get_close_matches(channel, known, n=1):
                    missing[channel] = "is not provided by any installed plug-in"
                else:
                    problems.append(
                        f"strategy {strategy.name!r}, action {rule.id!r}: unknown channel "
                        f"{channel!r}" + _suggest(channel, known)
                    )
                    continue
                names = sorted(templates.get(channel, ()))
                if rule.template not in names:
                    problems.append(
                        f"strategy {strategy.name!r}, action {rule.id!r}: no template "
                        f"{rule.template!r} for channel {channel!r}"
                        + _suggest(rule.template, names)
                    )
    plan = plan_channels(bundle.strategy, missing, _template_check(pm))
    notes = [gap.describe() for gap in plan.gaps]
    return problems, notes


def _condition(cond: Any) -> str:
    parts = []
    for name in ("min_dpd", "max_dpd", "min_risk", "min_broken_promises", "due_within_days"):
        value = getattr(cond, name)
        if value is not None:
            parts.append(f"{name}={value}")
    if cond.min_overdue:
        parts.append("min_overdue=" + "/".join(str(m) for m in cond.min_overdue))
    if cond.any_of:
        parts.append("any of (" + " | ".join(_condition(c) for c in cond.any_of) + ")")
    return ", ".join(parts) or "—"


@main.command()
@click.option("--db", required=True, help="Storage URL.")
def migrate(db: str) -> None:
    """Bring the database schema up to date."""
    pm = make_plugin_manager(load_entrypoints=True)
    storage = _storage(pm, db)
    result = _migrate(storage)
    shown = hide_password(db)
    if result is None:
        console.print(f"{shown}: this storage backend has no migrations")
    else:
        console.print(f"{shown}: schema {result}")


# -- verify -----------------------------------------------------------------------
@main.command()
@click.option("--db", default=None, help="Storage URL.")
@click.option("--tenant", default=None, help="Check this tenant only (default: every tenant).")
@click.option(
    "--key-file",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help=f"A file holding the audit key (default: ${AUDIT_KEY_ENV} or ${AUDIT_KEY_FILE_ENV}).",
)
@click.option(
    "--sign",
    is_flag=True,
    help="First sign the unsigned events and heads of the streams that verify (needs the key).",
)
@click.option(
    "--bundle",
    "bundles",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Check an evidence bundle (zip) instead: its SHA-256 manifest and hash chain.",
)
def verify(
    db: str | None, tenant: str | None, key_file: str | None, sign: bool, bundles: tuple[str, ...]
) -> None:
    """Check every event stream against its head and the audit key.

    Names the first bad event of each bad stream and why; exits with 1 if any stream
    is bad, 0 if all are intact. Without the key, signatures cannot be checked: a
    stream edited and re-hashed together with its head goes unnoticed.

    With ``--bundle``, checks evidence bundles instead (:mod:`loancollect.bundles`):
    every file against the manifest's SHA-256, and the events' hash chain.
    """
    if bundles:
        _verify_bundles(bundles)
        return
    if db is None:
        _fail("give --db (a storage URL) or --bundle (an evidence bundle)")
    try:
        key = AuditKey.from_file(key_file) if key_file else AuditKey.from_env()
    except LoanCollectError as exc:
        _fail(str(exc))
    pm = make_plugin_manager(load_entrypoints=True)
    where = hide_password(db)  # also remembers the password, to hide it everywhere
    if (path := _sqlite_path(db)) is not None and not path.exists():
        _fail(f"{where}: no such database file {path}")
    try:
        storage = registry.open_storage(pm, db, tenant=tenant or DEFAULT_TENANT)
    except LoanCollectError as exc:
        _fail(f"{where}: {exc}".replace(db, where))
    except Exception as exc:  # the backend could not open the URL (no such directory …)
        _fail(f"cannot open {where}: {type(exc).__name__}: {str(exc).replace(db, where)}")
    if not isinstance(storage, AuditedEvents):
        _fail(f"{where}: this storage backend does not anchor its event streams")
    every = tenant is None
    if sign:
        if key is None:
            _fail(
                "--sign needs the audit key "
                f"(--key-file, ${AUDIT_KEY_ENV} or ${AUDIT_KEY_FILE_ENV})"
            )
        signed = storage.sign_unsigned(key=key, every_tenant=every)
        console.print(f"signed {signed} stream(s)")
    tally = AuditTally()
    table = RichTable(title="Streams that do not verify", title_justify="left")
    for column in ("tenant", "loan", "first bad seq", "why", "detail"):
        table.add_column(column, overflow="fold")
    for problem in storage.verify_all(key=key, every_tenant=every, tally=tally):
        table.add_row(
            problem.tenant, problem.loan_id, str(problem.seq), problem.fault.value, problem.detail
        )
    scope = f"tenant {tenant!r}" if tenant else f"{tally.tenants} tenant(s)"
    console.print(
        f"{where}: {tally.streams} stream(s), {tally.events} event(s) in {scope}; "
        + (
            "signatures checked"
            if tally.signatures
            else "[yellow]no audit key: signatures not checked[/] (deleted, truncated, "
            "reordered or edited events and bad UTC copies are found; a stream re-hashed "
            "together with its head is not)"
        )
    )
    if tally.problems:
        console.print(table)
        console.print(f"[red]{tally.problems} stream(s) do not verify[/]")
        sys.exit(1)
    console.print("[green]every stream verifies[/]")


def _verify_bundles(paths: tuple[str, ...]) -> None:
    """``verify --bundle``: report each bundle; exit 1 if any does not verify."""
    bad = 0
    for path in paths:
        check = verify_bundle(Path(path))
        if check.ok:
            console.print(
                f"{path}: {check.files} file(s), {check.events} event(s): [green]verifies[/]"
            )
            continue
        bad += 1
        console.print(f"[red]{path}: does not verify[/]")
        for problem in check.problems:
            console.print(f"  {problem}", markup=False)
    if bad:
        sys.exit(1)


# -- commands from plug-ins --------------------------------------------------------
COMMANDS_GROUP = "loancollect.commands"
"""Entry-point group of the click commands plug-ins add (``loancollect train``, ``crm``)."""


def add_plugin_commands(group: click.Group = main) -> list[str]:
    """Add every command installed under the entry-point group :data:`COMMANDS_GROUP`.

    A plug-in declares ``[project.entry-points."loancollect.commands"] train =
    "pkg.cli:train"`` (a :class:`click.Command` or group; keep its module light and
    import heavy libraries inside the command). A command that fails to load, is not
    a click command, or takes a name already used is left out with a warning on
    stderr naming the plug-in: one broken plug-in never breaks the command line.
    Returns the names added.
    """
    added: list[str] = []
    for entry in sorted(
        importlib.metadata.entry_points(group=COMMANDS_GROUP), key=lambda e: e.name
    ):
        where = f"{entry.name} = {entry.value}"
        if entry.name in group.commands:
            err_console.print(f"[yellow]plug-in command {where}: the name is taken; left out[/]")
            continue
        try:
            command = entry.load()
        except Exception as exc:  # a broken plug-in must not break the command line
            err_console.print(f"[yellow]plug-in command {where} failed to load: {exc}[/]")
            continue
        if not isinstance(command, click.Command):
            err_console.print(
                f"[yellow]plug-in command {where} is a {type(command).__name__}, "
                "not a click command; left out[/]"
            )
            continue
        group.add_command(command, entry.name)
        added.append(entry.name)
    return added


add_plugin_commands()
