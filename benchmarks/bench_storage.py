"""Benchmark of the SQL storage plug-in, each figure beside a floor measured in the same run.

1. import of N loans (12 installments, one borrower each, ~1.5 % with a payment) into
   SQLite through ``loancollect_sqlalchemy.bulk`` vs the same encoded rows written
   with plain ``sqlite3.executemany`` (goal <= 1.5x);
2. a daily cycle (review + dispatch to gateway channels that keep nothing, with the
   installed rule packs judging every contact) where ``--due-share`` need review, run
   in a fresh process: wall time (goal <= 15 s at 1M loans / 50k due) and CPU time per
   reviewed case of the whole process, every thread (goal <= 400 us), for the
   first-review day and for the day after (steady state). Beside it, the floor of the
   cycle's own writes: hash-chaining the day's events and writing them, the outbox rows
   and the cases with the raw driver, no engine around (goal: cycle <= 3x it). The
   cycle runs with the review in one process (``review_processes=1``) and again, on a
   copy of the same portfolio, pipelined (``review_processes=2``: this process reads
   and writes, two spawned processes decide; CPU counts every process);
3. the same due count on a portfolio of ``--small`` loans: the ratio of the two cycle
   times shows whether cost follows the work (goal <= 1.3);
4. peak RSS of each cycle (each runs in a fresh process);
5. on PostgreSQL (a throwaway cluster), cycle throughput with 1, 2 and 4 workers and
   the workers' CPU per case.

The load average before and after is printed: the machine may be shared, and CPU
time is the figure that stays comparable when it is.

Usage::

    python benchmarks/bench_storage.py [--loans 1000000] [--small 100000]
        [--due-share 0.05] [--pg-loans 40000] [--pg-due-share 0.25]
        [--workers 1,2,4] [--skip-pg] [--json]

A small run (a minute or two): ``--loans 40000 --small 10000 --pg-loans 8000``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

AS_OF = dt.date(2025, 10, 31)
CHUNK = 50_000
PIPELINE_PROCESSES = 2


def _import(path: Path, loans: int, due_share: float) -> dict[str, float]:
    from loancollect_sqlalchemy import SqlStore, bulk
    from loancollect_sqlalchemy.synthetic import Portfolio, portfolio

    spec = Portfolio(loans=loans, as_of=AS_OF, due_share=due_share)
    store = SqlStore(f"sqlite:///{path}")
    floor_path = path.with_suffix(".raw.db")
    floor_store = SqlStore(f"sqlite:///{floor_path}")
    floor_store.dispose()
    raw = sqlite3.connect(floor_path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    enc = bulk._Encoder("sqlite")
    importer = bulk.BulkImporter(store, batch_size=10_000)
    timed = floor = 0.0
    rows = portfolio(spec)
    while True:
        chunk = [r for _, r in zip(range(CHUNK * 2), rows, strict=False)]
        if not chunk:
            break
        started = time.perf_counter()
        importer.add_all(chunk)
        timed += time.perf_counter() - started
        tables: dict[str, list[tuple[Any, ...]]] = {"b": [], "l": [], "c": [], "p": []}
        for kind, row in chunk:
            if kind == "borrower":
                tables["b"].append(bulk._borrower(row, enc))
            elif kind == "loan":
                values, review = bulk._loan(row, enc)
                tables["l"].append(values)
                tables["c"].append(
                    (values[0], "current", *bulk._EMPTY_CASE, enc.date(review), enc.tenant)
                )
            else:
                tables["p"].append(bulk._payment(row, enc))
        started = time.perf_counter()
        raw.execute("BEGIN")
        for key, plan in (
            ("b", bulk._BORROWER),
            ("l", bulk._LOAN),
            ("c", bulk._CASE),
            ("p", bulk._PAYMENT),
        ):
            if tables[key]:
                cols = ", ".join(f'"{c}"' for c in plan.columns)
                marks = ", ".join("?" for _ in plan.columns)
                raw.executemany(
                    f"INSERT INTO {plan.table.name} ({cols}) VALUES ({marks})", tables[key]
                )
        raw.execute("COMMIT")
        floor += time.perf_counter() - started
    started = time.perf_counter()
    report = importer.finish()
    timed += time.perf_counter() - started
    assert report.ok, report.problems[:3]
    raw.close()
    store.dispose()
    floor_path.unlink()
    return {"import_s": timed, "floor_s": floor, "loans": report.loans}


def _peak_rss_mb() -> float:
    """This process's peak resident set size, in MB.

    On Linux from ``VmHWM``: ``ru_maxrss`` survives ``fork`` + ``exec``, so a spawned
    child would report the parent's peak (here: the importer's) if that was higher.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu_s() -> float:
    """CPU seconds of this process's live multiprocessing children (the pipelined
    review's decide processes), from ``/proc`` (Linux); 0 elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in multiprocessing.active_children():
        try:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _cycle_child(url: str, queue: Any, processes: int = 1) -> None:
    import pendulum
    from loancollect_sqlalchemy import SqlStore
    from loancollect_sqlalchemy.testkit import CHANNELS, Gateway

    from loancollect.engine import CollectionEngine, CycleConfig
    from loancollect.engine.startup import start_up_frozen
    from loancollect.plugins import make_plugin_manager
    from loancollect.testing.clock import FixedClock

    store = SqlStore(url, migrate=False)
    clock = FixedClock(pendulum.datetime(2025, 10, 31, 10, tz="Asia/Shanghai"))
    engine = CollectionEngine(
        # The installed rule packs judge every contact, as in production (with none
        # registered, nobody would be contacted: compliance fails closed).
        pm=make_plugin_manager(load_entrypoints=True),
        storage=store,
        clock=clock,
        # Channels that keep nothing, like a provider's gateway: the recording test
        # channel keeps every message, which would put its own memory (and the
        # collector's work on it) into the figures.
        channels={c: Gateway(c) for c in CHANNELS},
        # 1: the review in this process; 2: pipelined, two spawned decide processes
        config=CycleConfig(review_processes=processes),
    )
    # Day 1 is the first review of every due case; day 2 (the day after) is a
    # steady-state day: the cases reviewed yesterday that are due again today.
    # CPU time is the whole process's (every thread), so it stays comparable on a
    # busy machine where wall time does not.
    # As the command line and its workers do: what start-up built lives to the end,
    # so the collector's full walks skip it (see loancollect.engine.startup).
    with start_up_frozen():
        days = []
        for offset in (0, 1):
            as_of = AS_OF + dt.timedelta(days=offset)
            clock.set(pendulum.datetime(as_of.year, as_of.month, as_of.day, 10, tz="Asia/Shanghai"))
            # the decide processes' CPU counts too (they live on between the days)
            cpu, started = time.process_time() + _children_cpu_s(), time.perf_counter()
            report = engine.run_cycle(as_of)
            days.append(
                {
                    "cycle_s": time.perf_counter() - started,
                    "cpu_s": time.process_time() + _children_cpu_s() - cpu,
                    "reviewed": report.summary.reviewed,
                    "sent": report.summary.sent,
                }
            )
    rss = _peak_rss_mb()
    queue.put({**days[0], "rss_mb": rss, "next_day": days[1]})


def _read_floor(path: Path) -> float:
    """Read the due cases with their loans, borrowers and payments, raw, in batches."""
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    after = ""
    while True:
        cases = conn.execute(
            "SELECT * FROM lc_cases WHERE tenant_id = 'default' AND closed_on IS NULL "
            "AND next_review_date <= ? AND loan_id > ? ORDER BY loan_id LIMIT 500",
            (AS_OF.isoformat(), after),
        ).fetchall()
        if not cases:
            break
        ids = [c[0] for c in cases]
        marks = ",".join("?" * len(ids))
        conn.execute(
            "SELECT * FROM lc_loans JOIN lc_borrowers ON lc_borrowers.tenant_id = "
            "lc_loans.tenant_id AND lc_borrowers.id = lc_loans.borrower_id "
            f"WHERE lc_loans.tenant_id = 'default' AND lc_loans.id IN ({marks})",
            ids,
        ).fetchall()
        conn.execute(
            f"SELECT * FROM lc_payments WHERE tenant_id = 'default' AND loan_id IN ({marks})", ids
        ).fetchall()
        after = ids[-1]
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def _write_floor(path: Path) -> dict[str, float]:
    """Hash and write, raw, what the day's cycle wrote: its events, outbox rows and cases.

    The events are re-hashed as the chain does (SHA-256 over the previous hash and the
    canonical JSON) and inserted with plain ``sqlite3.executemany`` into an empty copy
    of the tables, with the outbox rows (inserted, then marked sent) and the case rows,
    500 cases per transaction like the cycle. This is what the cycle's own writing costs
    with no engine around it: a floor for the cycle that no tuning of the engine lowers.
    """
    src = sqlite3.connect(path)
    events = src.execute(
        'SELECT loan_id, seq, kind, "on", at, at_utc, data, prev_hash, hash, tenant_id '
        'FROM lc_events WHERE "on" = ? ORDER BY loan_id, seq',
        (AS_OF.isoformat(),),
    ).fetchall()
    found = src.execute(
        "SELECT * FROM lc_outbox WHERE created_on = ? ORDER BY loan_id", (AS_OF.isoformat(),)
    )
    tenant_column = [d[0] for d in found.description].index("tenant_id")
    outbox = found.fetchall()
    cases = src.execute(
        'SELECT * FROM lc_cases WHERE loan_id IN (SELECT loan_id FROM lc_events WHERE "on" = ?) '
        "ORDER BY loan_id",
        (AS_OF.isoformat(),),
    ).fetchall()
    schema = [
        r[0]
        for r in src.execute(
            # The tables and their indexes, which the cycle's writes maintain too.
            "SELECT sql FROM sqlite_master WHERE tbl_name IN ('lc_events', 'lc_outbox', "
            "'lc_cases') AND sql IS NOT NULL ORDER BY type DESC"
        )
    ]
    src.close()
    decoded = [(e, json.loads(e[6])) for e in events]
    floor_path = path.with_suffix(".writes.db")
    dst = sqlite3.connect(floor_path, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    for statement in schema:
        dst.execute(statement)
    by_loan: dict[str, list[Any]] = {}
    for item in decoded:
        by_loan.setdefault(item[0][0], []).append(item)
    out_by_loan: dict[str, list[Any]] = {}
    for row in outbox:
        out_by_loan.setdefault(row[1], []).append(row)
    loans = [c[0] for c in cases]
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    started = time.perf_counter()
    for start in range(0, len(loans), 500):
        part = loans[start : start + 500]
        rows = []
        for loan_id in part:
            for e, data in by_loan.get(loan_id, ()):
                body = encode(
                    {
                        "at": e[4],
                        "data": data,
                        "kind": e[2],
                        "loan_id": e[0],
                        "on": e[3],
                        "seq": e[1],
                    }
                )
                digest = hashlib.sha256((e[7] + body).encode("utf-8")).hexdigest()
                if digest != e[8]:  # the same hashing work as the chain, or the floor is wrong
                    raise AssertionError(f"event {e[0]}#{e[1]}: hash differs from the chain's")
                rows.append((*e[:8], digest, e[9]))
        new = [r for loan_id in part for r in out_by_loan.get(loan_id, ())]
        dst.execute("BEGIN")
        dst.executemany(
            f"INSERT INTO lc_cases VALUES ({','.join('?' * len(cases[0]))})",
            cases[start : start + 500],
        )
        dst.executemany(
            'INSERT INTO lc_events (loan_id, seq, kind, "on", at, at_utc, data, prev_hash, '
            "hash, tenant_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        if new:
            dst.executemany(f"INSERT INTO lc_outbox VALUES ({','.join('?' * len(new[0]))})", new)
        dst.execute("COMMIT")
        dst.execute("BEGIN")
        dst.executemany(
            # by the primary key (tenant, key), as the engine marks them
            "UPDATE lc_outbox SET status = 'sent', attempts = attempts + 1 "
            "WHERE tenant_id = ? AND key = ?",
            [(r[tenant_column], r[0]) for r in new],
        )
        dst.execute("COMMIT")
    seconds = time.perf_counter() - started
    dst.close()
    floor_path.unlink()
    return {"write_floor_s": seconds, "events": len(events), "outbox": len(outbox)}


def _cycle(path: Path, processes: int = 1) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_cycle_child, args=(f"sqlite:///{path}", queue, processes))
    proc.start()
    result: dict[str, float] = queue.get()
    proc.join()
    return result


def _postgres(loans: int, due_share: float, workers: list[int]) -> list[dict[str, float]]:
    from loancollect_sqlalchemy import SqlStore
    from loancollect_sqlalchemy.bulk import import_rows
    from loancollect_sqlalchemy.pgcluster import TemporaryPostgres
    from loancollect_sqlalchemy.synthetic import Portfolio, portfolio

    from loancollect.engine.workers import WorkerSpec, run_workers

    out = []
    with TemporaryPostgres() as pg:
        for n in workers:
            url = pg.create_database(f"bench_{n}")
            store = SqlStore(url)
            import_rows(store, portfolio(Portfolio(loans=loans, as_of=AS_OF, due_share=due_share)))
            store.dispose()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            results = run_workers(
                WorkerSpec(
                    url=url,
                    as_of=AS_OF,
                    # gateway channels, as on SQLite (the SendLog test channel commits a
                    # row per send: a test device for exactly-once, not a provider)
                    channels="loancollect_sqlalchemy.testkit:gateways",
                    clock="loancollect_sqlalchemy.testkit:clock_from_env",
                ),
                n,
            )
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # the worker processes' CPU (they are this process's children, reaped by
            # run_workers); the server's own CPU is not in it
            cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            reviewed = sum(r.summary.reviewed for r in results)
            out.append(
                {
                    "workers": n,
                    "wall_s": wall,
                    "reviewed": reviewed,
                    "per_s": reviewed / wall,
                    "worker_cpu_ms_per_case": cpu / max(reviewed, 1) * 1000,
                }
            )
    return out


def _per_case_us(cycle: dict[str, Any]) -> float | None:
    return cycle["cpu_s"] / cycle["reviewed"] * 1e6 if cycle["reviewed"] else None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--loans", type=int, default=1_000_000)
    p.add_argument("--small", type=int, default=100_000)
    p.add_argument("--due-share", type=float, default=0.05)
    p.add_argument("--pg-loans", type=int, default=40_000)
    p.add_argument("--pg-due-share", type=float, default=0.25)
    p.add_argument("--workers", default="1,2,4")
    p.add_argument("--skip-pg", action="store_true")
    p.add_argument("--dir", default=None, help="where the SQLite files go (default: a temp dir)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object on stdout (the readable lines go to stderr)",
    )
    args = p.parse_args(argv)
    out = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    due = int(args.loans * args.due_share)
    small_share = due / args.small
    load_before = os.getloadavg()
    figures: dict[str, Any] = {
        "loans": args.loans,
        "small": args.small,
        "due": due,
        "cpus": os.cpu_count(),
        "load_average_before": load_before[0],
    }
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        big, small = Path(tmp) / "big.db", Path(tmp) / "small.db"
        imp = _import(big, args.loans, args.due_share)
        import_ratio = imp["import_s"] / imp["floor_s"]
        say(
            f"import {args.loans:,} loans x12: {imp['import_s']:.1f} s vs raw executemany "
            f"{imp['floor_s']:.1f} s = {import_ratio:.2f}x (goal <= 1.5x)"
        )
        floor = _read_floor(big)  # before the cycle: afterwards the cases are no longer due
        piped_db = Path(tmp) / "big_pipelined.db"
        with sqlite3.connect(big) as src, sqlite3.connect(piped_db) as dst:
            src.backup(dst)  # the same portfolio, for the pipelined cycle
        big_cycle = _cycle(big)
        writes = _write_floor(big)
        nxt = big_cycle["next_day"]
        say(
            f"cycle, {args.loans:,} loans, {big_cycle['reviewed']:,} reviewed, "
            f"{big_cycle['sent']:,} sent: {big_cycle['cycle_s']:.1f} s wall (goal <= 15 s), "
            f"{big_cycle['cpu_s']:.1f} s CPU = {_per_case_us(big_cycle):.0f} us CPU per "
            f"reviewed case (goal <= 400); peak RSS {big_cycle['rss_mb']:.0f} MB"
        )
        if nxt["reviewed"]:
            say(
                f"  the day after (steady state), {nxt['reviewed']:,} reviewed, "
                f"{nxt['sent']:,} sent: {nxt['cycle_s']:.1f} s wall, {nxt['cpu_s']:.1f} s CPU "
                f"= {_per_case_us(nxt):.0f} us CPU per reviewed case (goal <= 400)"
            )
        say(
            f"  floor of the cycle's own writes (hash-chain {writes['events']:,} events, write "
            f"them, {writes['outbox']:,} outbox rows and the cases, raw): "
            f"{writes['write_floor_s']:.2f} s; cycle = "
            f"{big_cycle['cycle_s'] / writes['write_floor_s']:.1f}x it (goal <= 3x); "
            f"raw read of the due rows {floor:.2f} s"
        )
        piped = _cycle(piped_db, PIPELINE_PROCESSES)
        piped_db.unlink()
        say(
            f"  pipelined ({PIPELINE_PROCESSES} decide processes + this one reading and "
            f"writing): {piped['cycle_s']:.1f} s wall, {piped['cpu_s']:.1f} s CPU (all "
            f"processes) = {_per_case_us(piped):.0f} us CPU per reviewed case; the day after "
            f"{piped['next_day']['cycle_s']:.1f} s wall; peak RSS (main) {piped['rss_mb']:.0f} MB"
        )
        _import(small, args.small, small_share)
        small_cycle = _cycle(small)
        ratio = big_cycle["cycle_s"] / small_cycle["cycle_s"]
        cpu_ratio = big_cycle["cpu_s"] / small_cycle["cpu_s"]
        say(
            f"cycle, {args.small:,} loans, {small_cycle['reviewed']:,} reviewed: "
            f"{small_cycle['cycle_s']:.1f} s wall, {small_cycle['cpu_s']:.1f} s CPU; "
            f"{args.loans:,}/{args.small:,} ratio {ratio:.2f} wall, {cpu_ratio:.2f} CPU "
            f"(goal <= 1.3); peak RSS {small_cycle['rss_mb']:.0f} MB"
        )
        figures.update(
            cycle_cpu_us_per_case=_per_case_us(big_cycle),
            cycle_cpu_us_per_case_steady=_per_case_us(nxt),
            cycle_wall_s=big_cycle["cycle_s"],
            cycle_cpu_s=big_cycle["cpu_s"],
            write_floor_s=writes["write_floor_s"],
            write_floor_ratio=big_cycle["cycle_s"] / writes["write_floor_s"],
            read_floor_s=floor,
            small_ratio=ratio,
            small_cpu_ratio=cpu_ratio,
            import_ratio=import_ratio,
            import_s=imp["import_s"],
            import_floor_s=imp["floor_s"],
            peak_rss_mb=max(big_cycle["rss_mb"], small_cycle["rss_mb"]),
            peak_rss_mb_by_size={
                str(args.loans): big_cycle["rss_mb"],
                str(args.small): small_cycle["rss_mb"],
            },
            review_processes=PIPELINE_PROCESSES,
            cycle_wall_s_pipelined=piped["cycle_s"],
            cycle_cpu_s_pipelined=piped["cpu_s"],
            cycle_cpu_us_per_case_pipelined=_per_case_us(piped),
            cycle_wall_s_steady_pipelined=piped["next_day"]["cycle_s"],
            cycle_cpu_us_per_case_steady_pipelined=_per_case_us(piped["next_day"]),
            big_cycle=big_cycle,
            pipelined_cycle=piped,
            small_cycle=small_cycle,
            write_floor=writes,
        )
    if not args.skip_pg:
        workers = [int(w) for w in args.workers.split(",")]
        pg = _postgres(args.pg_loans, args.pg_due_share, workers)
        for row in pg:
            say(
                f"postgresql, {args.pg_loans:,} loans, {row['reviewed']:,} due, "
                f"{row['workers']} worker(s): {row['wall_s']:.1f} s, "
                f"{row['per_s']:.0f} cases/s; workers' CPU {row['worker_cpu_ms_per_case']:.2f} "
                "ms per case"
            )
        figures["pg_cases_per_s"] = {str(r["workers"]): r["per_s"] for r in pg}
        figures["pg_worker_cpu_ms_per_case"] = {
            str(r["workers"]): r["worker_cpu_ms_per_case"] for r in pg
        }
        figures["postgresql"] = pg
    figures["load_average_after"] = os.getloadavg()[0]
    say(
        f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, "
        f"{figures['load_average_after']:.1f} after (other users' work included)"
    )
    if args.json:
        print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
